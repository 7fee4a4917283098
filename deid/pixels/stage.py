"""The pixel stage the pipeline calls: OCR, classify and redact burned-in text (PS3.15 E.3.1).

    stage = PixelStage(PixelConfig(**cfg["pixels"]))      # once per Python worker
    outcomes = stage.process([PixelJob(key, original, target, identifiers, modality), ...])

``process`` batches OCR across the frames of all jobs in the list. Each :class:`PixelOutcome` says
what happened; box text never leaves this module (records carry geometry, label, score and a reason
code). Statuses: CLEANED (pixels checked, text found; REDACT boxes filled in ``target``),
NO_TEXT (pixels checked, no text), NO_PIXEL_DATA, TRUSTED_NO_BURN_IN (modality listed in
``trust_burned_in_no`` and Burned In Annotation (0028,0301) = NO: not OCR'd), FAILED (``error`` set;
the pipeline quarantines the instance).

Output transfer syntax per input syntax (only when a box was filled):

- Implicit VR Little Endian -> Implicit VR Little Endian
- Explicit VR Little/Big Endian, Deflated, Encapsulated Uncompressed -> Explicit VR Little Endian
- RLE Lossless -> RLE Lossless; JPEG-LS Lossless -> JPEG-LS Lossless;
  JPEG 2000 Lossless -> JPEG 2000 Lossless; JPEG 2000 (.91) not marked lossy -> JPEG 2000 Lossless
- JPEG Lossless (Process 14 / SV1), HTJ2K Lossless -> ``lossless_fallback_syntax`` (Explicit VR LE)
- JPEG Baseline/Extended, JPEG-LS Near-Lossless, lossy JPEG 2000/HTJ2K -> ``lossy_output_syntax``
  (Explicit VR LE), Lossy Image Compression (0028,2110) "01"
- any encoder failure -> Explicit VR Little Endian; YBR_FULL_422 is written as YBR_FULL.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydicom.dataset import Dataset
from pydicom.uid import UID, ExplicitVRLittleEndian, JPEG2000Lossless, JPEGLSLossless, RLELossless

from deid.errors import PixelError, Reason
from deid.header.identifiers import Identifiers
from deid.pixels.classify import Action, Decision, Thresholds, decide, load_allowlist
from deid.pixels.frames import Frames, Render, decode_frames, has_pixel_data
from deid.pixels.multiframe import frame_spans, mask_render, region_mask, select_ocr_frames, us_data_regions
from deid.pixels.ocr import OcrEngine, TextBox, get_engine
from deid.pixels.redact import fill_boxes, fill_value, pad_box, write_pixels
from deid.pixels.renderings import DEFAULT_SET, renderings

Status = Literal["CLEANED", "NO_TEXT", "NO_PIXEL_DATA", "TRUSTED_NO_BURN_IN", "FAILED"]


class RedactPolicy(str, Enum):
    PHI = "phi"
    ALL_TEXT = "all_text"


class EngineName(str, Enum):
    RAPIDOCR = "rapidocr"
    EASYOCR = "easyocr"


class ExtremeRender(str, Enum):
    AUTO = "auto"      # also OCR a max-value-to-white render when Bits Stored > 8
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
    renders: list[Render] = Field(default_factory=lambda: list(DEFAULT_SET))  # deid.pixels.renderings
    extreme_render: ExtremeRender = ExtremeRender.AUTO
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


@dataclass
class PixelJob:
    key: str
    original: Dataset   # as read: used for decoding
    target: Dataset     # header-de-identified copy: Pixel Data replaced in place
    identifiers: Identifiers
    modality: str


@dataclass(frozen=True)
class BoxRecord:
    """One text line found on OCR'd frame ``frame``; it applies up to the next OCR'd frame."""

    frame: int
    x: int
    y: int
    w: int
    h: int
    label: str
    score: float
    action: str
    reason: str
    engine: str
    engine_version: str
    model_version: str


@dataclass(frozen=True)
class ReviewRecord:
    key: str
    frame: int
    x: int
    y: int
    w: int
    h: int
    label: str
    score: float
    model_score: float | None
    reason: str


@dataclass
class PixelOutcome:
    key: str
    status: Status
    boxes: list[BoxRecord] = field(default_factory=list)
    review: list[ReviewRecord] = field(default_factory=list)
    error: PixelError | None = None
    output_syntax: str | None = None  # set when Pixel Data was rewritten


@dataclass
class _Prepared:
    job: PixelJob
    frames: Frames
    spans: dict[int, range]
    found: dict[int, list[TextBox]] = field(default_factory=dict)


def _iou(a: TextBox, b: TextBox) -> float:
    x0, y0 = max(a.x, b.x), max(a.y, b.y)
    x1, y1 = min(a.x + a.w, b.x + b.w), min(a.y + a.h, b.y + b.h)
    inter = max(0, x1 - x0) * max(0, y1 - y0)
    union = a.w * a.h + b.w * b.h - inter
    return inter / union if union else 0.0


def merge_boxes(existing: list[TextBox], new: list[TextBox], iou: float = 0.6) -> list[TextBox]:
    """Union of the lines found on several renders of one frame, near-duplicates dropped."""
    out = list(existing)
    for b in new:
        if all(_iou(b, e) < iou for e in out):
            out.append(b)
    return out


class PixelStage:
    """Create once per Python worker; call :meth:`process` per batch of instances."""

    def __init__(self, config: PixelConfig | None = None, engine: OcrEngine | None = None,
                 classifier: object | None = None) -> None:
        self.config = config or PixelConfig()
        self._engine = engine
        self._classifier = classifier
        self._allow = load_allowlist(self.config.allowlist_path)
        low, high = self.config.review_band
        self._th = Thresholds(min_confidence=self.config.min_ocr_confidence,
                              phi_threshold=self.config.phi_threshold, review_low=low, review_high=high,
                              all_text=self.config.redact is RedactPolicy.ALL_TEXT)

    @property
    def engine(self) -> OcrEngine:
        if self._engine is None:
            o = self.config.ocr
            self._engine = get_engine(o.engine.value, o.batch_size, o.threads, o.use_gpu, o.easyocr_model_dir,
                                      o.det_limit_side_len, o.tile_size, o.tile_overlap, o.det_min_scale)
        return self._engine

    @property
    def classifier(self):  # type: ignore[no-untyped-def]
        if self._classifier is None and self.config.classifier.enabled:
            from deid.pixels.phi_model import get_phi_model

            c = self.config.classifier
            self._classifier = get_phi_model(c.model_dir, c.phi_labels, c.batch_size, c.threads, c.device)
        return self._classifier

    # ------------------------------------------------------------------ orchestration
    def process(self, jobs: list[PixelJob]) -> list[PixelOutcome]:
        outcomes: dict[str, PixelOutcome] = {}
        prepared: list[_Prepared] = []
        queue: list[tuple[int, int, list[np.ndarray]]] = []
        for job in jobs:
            early = self._early_outcome(job)
            if early is not None:
                outcomes[job.key] = early
                continue
            try:
                prep, images = self._prepare(job)
            except PixelError as err:
                outcomes[job.key] = PixelOutcome(job.key, "FAILED", error=err)
                continue
            prepared.append(prep)
            queue.extend((len(prepared) - 1, f, img) for f, img in images)
        failed = self._run_ocr(prepared, queue)
        for idx, prep in enumerate(prepared):
            key = prep.job.key
            if idx in failed:
                outcomes[key] = PixelOutcome(key, "FAILED", error=failed[idx])
                continue
            try:
                outcomes[key] = self._finish(prep)
            except PixelError as err:
                outcomes[key] = PixelOutcome(key, "FAILED", error=err)
        return [outcomes[j.key] for j in jobs]

    def _early_outcome(self, job: PixelJob) -> PixelOutcome | None:
        if not has_pixel_data(job.original):
            return PixelOutcome(job.key, "NO_PIXEL_DATA")
        trusted = {m.upper() for m in self.config.trust_burned_in_no}
        bia = str(job.original.get("BurnedInAnnotation", "")).strip().upper()
        if job.modality.upper() in trusted and bia == "NO":
            return PixelOutcome(job.key, "TRUSTED_NO_BURN_IN")
        if not self.config.enabled:
            return PixelOutcome(job.key, "FAILED", error=PixelError(
                Reason.PIXELS_UNVERIFIED, "the pixel stage is disabled; burned-in text was not checked"))
        return None

    def _renders(self) -> tuple[Render, ...]:
        """The configured rendering set (deid.pixels.renderings); ``extreme_render: always`` adds the
        max-value mask (``auto`` no longer adds it: the histogram windows cover text at the maximum)."""
        modes = list(dict.fromkeys(self.config.renders))
        if Render.EXTREME not in modes and self.config.extreme_render is ExtremeRender.ALWAYS:
            modes.append(Render.EXTREME)
        return tuple(modes)

    def _prepare(self, job: PixelJob) -> tuple[_Prepared, list[tuple[int, list[np.ndarray]]]]:
        frames = decode_frames(job.original)
        regions = [] if self.config.ocr_us_data_regions else us_data_regions(job.original, frames.rows,
                                                                              frames.columns)
        mask = region_mask(frames.rows, frames.columns, regions)
        selected = select_ocr_frames(frames.pixels, mask, frames.bits_stored, self.config.frame_diff_delta,
                                     self.config.frame_diff_min_pixels, self.config.ocr_every_frame)
        images: list[tuple[int, list[np.ndarray]]] = []
        modes = self._renders()
        try:
            for f in selected:
                images.append((f, [mask_render(r, mask) for r in renderings(frames, f, job.original, modes)]))
        except (ValueError, TypeError, IndexError) as exc:
            raise PixelError(Reason.PIXEL_DECODE_FAILED,
                             f"a frame cannot be rendered for OCR ({exc.__class__.__name__})") from None
        return _Prepared(job, frames, frame_spans(selected, frames.count)), images

    def _run_ocr(self, prepared: list[_Prepared],
                 queue: list[tuple[int, int, list[np.ndarray]]]) -> dict[int, PixelError]:
        """Engines with ``read_groups`` merge the renderings of a frame themselves (one recognition
        per line); others read every rendering and their lines are merged here."""
        failed: dict[int, PixelError] = {}
        size = self.config.ocr.batch_size
        grouped = hasattr(self.engine, "read_groups")
        for start in range(0, len(queue), size):
            chunk = queue[start:start + size]
            try:
                if grouped:
                    results = self.engine.read_groups([imgs for _, _, imgs in chunk])  # type: ignore[attr-defined]
                    pairs = [(p, f, boxes) for (p, f, _), boxes in zip(chunk, results, strict=True)]
                else:
                    flat = [(p, f, img) for p, f, imgs in chunk for img in imgs]
                    results = self.engine.read([img for _, _, img in flat])
                    pairs = [(p, f, boxes) for (p, f, _), boxes in zip(flat, results, strict=True)]
            except PixelError as err:
                for p, _, _ in chunk:
                    failed[p] = err
                continue
            for p, f, boxes in pairs:
                found = prepared[p].found
                found[f] = merge_boxes(found.get(f, []), boxes)
        return failed

    # ------------------------------------------------------------------ per instance
    def _decide_all(self, prep: _Prepared) -> dict[int, list[tuple[TextBox, Decision]]]:
        job, th = prep.job, self._th
        pending: list[tuple[int, int, TextBox]] = []
        decided: dict[int, list[tuple[TextBox, Decision]]] = {}
        for f, boxes in prep.found.items():
            decided[f] = []
            for box in boxes:  # no size exemption: every detection is matched and classified
                d = decide(box.text, box.confidence, job.identifiers, self._allow, None, th)
                if d.reason == "not_recognised" and self.classifier is not None:
                    pending.append((f, len(decided[f]), box))
                decided[f].append((box, d))
        if pending:
            scores = self.classifier.score([b.text for _, _, b in pending])  # type: ignore[union-attr]
            for (f, i, box), s in zip(pending, scores, strict=False):
                decided[f][i] = (box, decide(box.text, box.confidence, job.identifiers, self._allow, float(s), th))
        tall = self.config.max_text_height
        return {f: [(b, replace(d, review=True) if b.h > tall else d) for b, d in pairs]
                for f, pairs in decided.items()}

    def _finish(self, prep: _Prepared) -> PixelOutcome:
        job, frames = prep.job, prep.frames
        if not any(prep.found.values()):
            return PixelOutcome(job.key, "NO_TEXT")
        decided = self._decide_all(prep)
        model_version = getattr(self._classifier, "version", "none") if self._classifier is not None else "none"
        eng = self.engine
        records: list[BoxRecord] = []
        review: list[ReviewRecord] = []
        fills: dict[int, list[tuple[int, int, int, int]]] = {}
        for f in sorted(decided):
            for box, d in decided[f]:
                records.append(BoxRecord(f, box.x, box.y, box.w, box.h, d.label.value, round(d.score, 4),
                                         d.action.value, d.reason, eng.name, eng.version, model_version))
                if d.review:
                    review.append(ReviewRecord(job.key, f, box.x, box.y, box.w, box.h, d.label.value,
                                               round(d.score, 4), d.model_score, d.reason))
                if d.action is Action.REDACT:
                    padded = pad_box((box.x, box.y, box.w, box.h), self.config.padding, frames.rows,
                                     frames.columns)
                    for g in prep.spans[f]:
                        fills.setdefault(g, []).append(padded)
        syntax: str | None = None
        if fills:
            value = fill_value(frames, job.original)
            pixels = frames.pixels.copy()
            for g, boxes in fills.items():
                pixels[g] = fill_boxes(frames.pixels[g], boxes, value)
            syntax = str(write_pixels(job.target, job.original, frames, pixels,
                                      self.config.lossless_fallback_syntax.uid,
                                      self.config.lossy_output_syntax.uid))
        return PixelOutcome(job.key, "CLEANED", records, review, None, syntax)
