"""Configuration of the pixel stage (``pixels:`` in the pipeline config): OCR, classifier, redaction.

PS3.15 E.3.1 Clean Pixel Data Option: which renders are OCR'd, how boxes are classified and which
transfer syntax a redacted image is written in (see :mod:`deid.pixels.stage`).
"""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydicom.uid import UID, ExplicitVRLittleEndian, JPEG2000Lossless, JPEGLSLossless, RLELossless


class Render(str, Enum):
    """How a frame is turned into an 8-bit image for OCR."""

    VOI = "voi"          # modality LUT + VOI LUT / window (PS3.3 C.11.2) or min-max, as a viewer shows it
    EXTREME = "extreme"  # the brightest displayed value white, everything else black (text at max value)
    # The detection set of deid.pixels.renderings (derived from the frame's own values):
    FULL = "full"            # min-max of the Modality-LUT values (colour: the decoded RGB)
    WINDOW = "window"        # windows spread over the value histogram (grey, > 8 bits stored)
    INVERTED = "inverted"    # the full range negated (> 8 bits stored)
    CLAHE = "clahe"          # contrast-limited adaptive histogram equalisation of the full range
    CHANNEL = "channel"      # each colour channel alone (colour frames with coloured pixels)


class RedactPolicy(str, Enum):
    PHI = "phi"
    ALL_TEXT = "all_text"


class EngineName(str, Enum):
    RAPIDOCR = "rapidocr"
    EASYOCR = "easyocr"


class ExtremeRender(str, Enum):
    AUTO = "auto"      # not added: the histogram windows of deid.pixels.renderings cover text at the maximum
    ALWAYS = "always"
    NEVER = "never"


class OutputSyntax(str, Enum):
    EXPLICIT_VR_LITTLE_ENDIAN = "explicit_vr_little_endian"
    RLE_LOSSLESS = "rle_lossless"
    JPEG_LS_LOSSLESS = "jpeg_ls_lossless"
    JPEG_2000_LOSSLESS = "jpeg_2000_lossless"

    @property
    def uid(self) -> UID:
        return {"explicit_vr_little_endian": ExplicitVRLittleEndian, "rle_lossless": RLELossless,
                "jpeg_ls_lossless": JPEGLSLossless, "jpeg_2000_lossless": JPEG2000Lossless}[self.value]


class OcrConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    engine: EngineName = EngineName.RAPIDOCR
    batch_size: int = Field(default=8, ge=1, le=256)
    threads: int = Field(default=0, ge=0)
    use_gpu: bool | None = None  # None: CUDA when the onnxruntime-gpu provider is present
    easyocr_model_dir: str | None = None
    det_limit_side_len: int = Field(default=736, ge=32, le=4096)
    tile_size: int = Field(default=768, ge=256, le=8192)  # larger frames are detected in tiles, never shrunk
    tile_overlap: int = Field(default=64, ge=0, le=1024)
    det_min_scale: float = Field(default=1.0, ge=1.0, le=4.0)  # optional enlargement of every detector input
    # deid.pixels.ocr small-text pass: weak detector responses looked at again at this scale (0: off)
    small_text_scale: float = Field(default=2.0, ge=0.0, le=4.0)
    # deid.pixels.ocr.faint_responses: seeds of that pass found in the pixels (faint 6-9 px text the
    # detector's map does not mark at 1x, e.g. on 14-bit mammograms)
    faint_seeds: bool = True

    @field_validator("small_text_scale")
    @classmethod
    def _small_text_scale(cls, value: float) -> float:
        """0 turns the small-text pass off; any other scale enlarges the weak regions, so it is >= 1 (a
        scale under 1 would shrink the text it is there to make readable)."""
        if 0.0 < value < 1.0:
            raise ValueError("must be 0 (off) or at least 1 (the enlargement of weak text regions, e.g. 2)")
        return value


class ClassifierConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool = True
    model_dir: str | None = None        # None: the shipped delta over all-MiniLM-L6-v2
    phi_labels: list[str] | None = None  # labels of config.id2label that mean PHI (own models)
    batch_size: int = Field(default=64, ge=1)
    threads: int = Field(default=0, ge=0)
    device: str = "cpu"


class PixelConfig(BaseModel):
    """Configuration of the pixel stage (embedded in the pipeline config as ``pixels:``)."""

    model_config = ConfigDict(extra="forbid")
    enabled: bool = True
    redact: RedactPolicy = RedactPolicy.PHI
    phi_threshold: float = Field(default=0.5, ge=0, le=1)
    review_band: tuple[float, float] = (0.2, 0.8)  # scores in [low, high) are redacted and reviewed
    min_ocr_confidence: float = Field(default=0.6, ge=0, le=1)
    padding: int = Field(default=2, ge=0, le=64)
    # Review threshold only (no exemption): detections taller than this are still header-matched and
    # classified, redacted under default-deny, and also listed in the review table as possible structure.
    max_text_height: int = Field(default=96, ge=8)
    # deid.pixels.renderings (the reduced set full/clahe/channel is faster on > 8-bit frames but lost a
    # PHI line on the evaluation set: see the module docstring). On > 8-bit grey frames ``window`` and
    # ``inverted`` are made only where the frame's noise says they can add a line (the noise rule).
    renders: list[Render] = Field(default_factory=lambda: [Render.FULL, Render.WINDOW, Render.INVERTED,
                                                            Render.CLAHE, Render.CHANNEL])
    extreme_render: ExtremeRender = ExtremeRender.AUTO  # always: add the max-value mask; auto/never: not
    ocr_us_data_regions: bool = False
    ocr_every_frame: bool = False
    frame_diff_delta: float = Field(default=24.0, ge=0)  # 8-bit units
    frame_diff_min_pixels: int = Field(default=12, ge=1)
    allowlist_path: str | None = None
    trust_burned_in_no: list[str] = Field(default_factory=list)  # modalities, e.g. ["CT", "MR"]
    lossless_fallback_syntax: OutputSyntax = OutputSyntax.EXPLICIT_VR_LITTLE_ENDIAN
    lossy_output_syntax: OutputSyntax = OutputSyntax.EXPLICIT_VR_LITTLE_ENDIAN
    ocr: OcrConfig = Field(default_factory=OcrConfig)
    classifier: ClassifierConfig = Field(default_factory=ClassifierConfig)

    @model_validator(mode="after")
    def _band(self) -> PixelConfig:
        low, high = self.review_band
        if not 0 <= low <= self.phi_threshold <= high <= 1:
            raise ValueError("review_band must satisfy 0 <= low <= phi_threshold <= high <= 1")
        return self
