"""Filling text boxes and writing Pixel Data (7FE0,0010) back validly (PS3.15 E.3.1, PS3.5 8, A.4).

Output transfer syntax per input transfer syntax (only when at least one box was filled; otherwise
the pixel data is left byte-for-byte as it was):

=========================================================  =============================================
Input                                                      Output
=========================================================  =============================================
Implicit VR Little Endian                                  Implicit VR Little Endian
Explicit VR Little Endian, Explicit VR Big Endian,         Explicit VR Little Endian
Deflated Explicit VR Little Endian, Encapsulated
Uncompressed
RLE Lossless                                               RLE Lossless
JPEG-LS Lossless                                           JPEG-LS Lossless
JPEG 2000 Lossless Only                                    JPEG 2000 Lossless Only
JPEG 2000 (.91) without Lossy Image Compression "01"       JPEG 2000 Lossless Only (.90)
JPEG Lossless (Process 14, SV1), HTJ2K lossless            ``lossless_fallback_syntax`` (default Explicit
                                                           VR Little Endian): no encoder exists
JPEG Baseline / Extended, JPEG-LS Near-Lossless, JPEG      ``lossy_output_syntax`` (default Explicit VR
2000 with "01", HTJ2K, MPEG (if decodable)                 Little Endian); Lossy Image Compression "01"
=========================================================  =============================================

Any encoder failure falls back to Explicit VR Little Endian. YBR_FULL_422 sources are decoded to
full-resolution YBR values and written as YBR_FULL; JPEG 2000 YBR_RCT/YBR_ICT decode to RGB and are
written as RGB (YBR_RCT again when re-encoded to JPEG 2000). Planar Configuration becomes 0.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np
from pydicom.dataset import Dataset
from pydicom.pixels import get_encoder, pack_bits
from pydicom.pixels.processing import apply_color_lut
from pydicom.sequence import Sequence
from pydicom.uid import (
    JPEG2000,
    UID,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGLSLossless,
    RLELossless,
)

from deid.errors import PixelError, Reason
from deid.header.profile import CLEAN_PIXEL_DATA_CODE
from deid.pixels.frames import LOSSY_SYNTAXES, Frames

Box = tuple[int, int, int, int]

REENCODE_SAME = frozenset({RLELossless, JPEGLSLossless, JPEG2000Lossless})
_LOSSY_METHOD = {
    "1.2.840.10008.1.2.4.50": "ISO_10918_1", "1.2.840.10008.1.2.4.51": "ISO_10918_1",
    "1.2.840.10008.1.2.4.81": "ISO_14495_1", "1.2.840.10008.1.2.4.91": "ISO_15444_1",
    "1.2.840.10008.1.2.4.203": "ISO_15444_15",
}


def stored_range(bits_stored: int, signed: bool) -> tuple[int, int]:
    """Smallest and largest stored value for Bits Stored (0028,0101) / Pixel Representation (0028,0103)."""
    if signed:
        return -(1 << (bits_stored - 1)), (1 << (bits_stored - 1)) - 1
    return 0, (1 << bits_stored) - 1


def darkest_palette_index(ds: Dataset, bits_stored: int) -> int:
    """Index whose PALETTE COLOR LUT entry (0028,1201-1203) has the lowest luminance."""
    n = 1 << min(bits_stored, 16)
    idx = np.arange(n, dtype=np.uint16 if n > 256 else np.uint8).reshape(1, -1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            rgb = np.asarray(apply_color_lut(idx, ds), dtype=np.float64)[0]
        except Exception:  # noqa: BLE001 - unusable LUT: index 0
            return 0
    lum = 0.299 * rgb[:, 0] + 0.587 * rgb[:, 1] + 0.114 * rgb[:, 2]
    return int(np.argmin(lum))


def fill_value(frames: Frames, ds: Dataset) -> np.ndarray:
    """The value that hides text for the decoded photometric interpretation (PS3.3 C.7.6.3.1.2).

    MONOCHROME1: largest stored value (displayed black); MONOCHROME2: smallest; RGB: black;
    YBR_FULL(_422): Y=0, Cb=Cr=mid; PALETTE COLOR: the darkest LUT entry's index.
    """
    pi = frames.photometric
    lo, hi = stored_range(frames.bits_stored, frames.signed)
    if pi == "MONOCHROME1":
        return np.array([hi])
    if pi == "MONOCHROME2":
        return np.array([lo])
    if pi == "PALETTE COLOR":
        return np.array([darkest_palette_index(ds, frames.bits_stored)])
    if pi.startswith("YBR_FULL"):
        mid = 1 << (frames.bits_stored - 1)
        return np.array([0, mid, mid])
    return np.zeros(frames.samples, dtype=np.int64)


def pad_box(box: Box, padding: int, rows: int, cols: int) -> Box:
    x, y, w, h = box
    x0, y0 = max(0, x - padding), max(0, y - padding)
    x1, y1 = min(cols, x + w + padding), min(rows, y + h + padding)
    return x0, y0, max(0, x1 - x0), max(0, y1 - y0)


def fill_boxes(frame: np.ndarray, boxes: Iterable[Box], value: np.ndarray) -> np.ndarray:
    """Copy of one frame with every (x, y, w, h) box set to ``value`` (already padded and clipped)."""
    out = frame.copy()
    v = value.astype(out.dtype) if out.ndim == 2 else value.astype(out.dtype).reshape(1, 1, -1)
    for x, y, w, h in boxes:
        if w > 0 and h > 0:
            out[y:y + h, x:x + w] = v if out.ndim == 3 else v[0]
    return out


def output_syntax(ds: Dataset, frames: Frames, lossless_fallback: UID = ExplicitVRLittleEndian,
                  lossy_output: UID = ExplicitVRLittleEndian) -> UID:
    """Transfer syntax for the redacted pixel data (table in the module docstring)."""
    src = frames.source_syntax
    if not src.is_compressed:
        return ImplicitVRLittleEndian if src == ImplicitVRLittleEndian else ExplicitVRLittleEndian
    if frames.lossy_source or str(src) in LOSSY_SYNTAXES:
        return lossy_output
    if src in REENCODE_SAME:
        return src
    if src == JPEG2000:  # .91 not marked lossy: pydicom only encodes .91 lossy, so write .90 (reversible)
        return JPEG2000Lossless
    return lossless_fallback


def _native_bytes(arr: np.ndarray, bits_allocated: int) -> bytes:
    if bits_allocated == 1:
        data = pack_bits(arr.astype(np.uint8).ravel())
    else:
        kind = "i" if arr.dtype.kind == "i" else "u"
        data = arr.astype(np.dtype(f"<{kind}{bits_allocated // 8}"), copy=False).tobytes()  # one copy, not two
    return data + b"\x00" if len(data) % 2 else data


def _set_native(target: Dataset, arr: np.ndarray, frames: Frames, syntax: UID) -> None:
    """Uncompressed Pixel Data with consistent Image Pixel module attributes (PS3.3 C.7.6.3)."""
    for tag in (0x7FE00001, 0x7FE00002):  # Extended Offset Table (Lengths) only exist when encapsulated
        if tag in target:
            del target[tag]
    target.PixelData = _native_bytes(arr, frames.bits_allocated)
    target["PixelData"].VR = "OW" if frames.bits_allocated > 8 else "OB"
    target["PixelData"].is_undefined_length = False
    target.file_meta.TransferSyntaxUID = syntax
    _little_endian_encoding(target, syntax)


def _little_endian_encoding(target: Dataset, syntax: UID) -> None:
    """A big endian source is written little endian: record that as the dataset's encoding (PS3.5 A.3)."""
    if target.original_encoding[1] is False:
        target.set_original_encoding(syntax.is_implicit_VR, True, target.original_character_set)


def _photometric_out(frames: Frames) -> str:
    return "YBR_FULL" if frames.photometric == "YBR_FULL_422" else frames.photometric


# PS3.3 C.7.6.1.1.3: Derivation Code Sequence (0008,9215) draws on CID 7203 Image Derivation, which is
# extensible and has no code for removed text; DCM 113101 "Clean Pixel Data Option" (PS3.16 CID 7050,
# the code PS3.15 E.3.1 names) says what was done. The text says it in words (ST, 1024 characters).
DERIVATION_TEXT = "Burned-in text removed from the pixel data (PS3.15 E.3.1 Clean Pixel Data Option)"
_ST_MAX = 1024


def record_derivation(target: Dataset) -> None:
    """Derivation Description (0008,2111) and Derivation Code Sequence (0008,9215) say that the pixel
    data were modified (PS3.3 C.7.6.1.1.3); what they said before (the header engine's cleaned copy)
    is kept in front, and a second redaction of the same dataset adds nothing."""
    value, meaning = CLEAN_PIXEL_DATA_CODE
    before = str(target.get("DerivationDescription", "") or "").strip()
    if DERIVATION_TEXT not in before:
        text = f"{before}; {DERIVATION_TEXT}" if before else DERIVATION_TEXT
        target.DerivationDescription = text if len(text) <= _ST_MAX else DERIVATION_TEXT
    seq = target.get("DerivationCodeSequence") or Sequence()
    if not any(str(i.get("CodeValue", "")) == value and str(i.get("CodingSchemeDesignator", "")) == "DCM"
               for i in seq):
        item = Dataset()
        item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, "DCM", meaning
        seq.append(item)
    target.DerivationCodeSequence = seq


def write_pixels(target: Dataset, original: Dataset, frames: Frames, pixels: np.ndarray,
                 lossless_fallback: UID = ExplicitVRLittleEndian,
                 lossy_output: UID = ExplicitVRLittleEndian) -> UID:
    """Replace the target's Pixel Data with ``pixels`` (same shape as ``frames.pixels``) and record the
    derivation (:func:`record_derivation`); returns the syntax."""
    syntax = output_syntax(original, frames, lossless_fallback, lossy_output)
    record_derivation(target)
    target.PhotometricInterpretation = _photometric_out(frames)
    target.SamplesPerPixel = frames.samples
    target.Rows, target.Columns = frames.rows, frames.columns
    target.BitsAllocated, target.BitsStored = frames.bits_allocated, frames.bits_stored
    target.HighBit = frames.bits_stored - 1
    target.PixelRepresentation = 1 if frames.signed else 0
    if frames.samples > 1:
        target.PlanarConfiguration = 0
    elif "PlanarConfiguration" in target:
        del target.PlanarConfiguration
    if "NumberOfFrames" in original or frames.count > 1:
        target.NumberOfFrames = frames.count
    arr = pixels if frames.count > 1 else pixels[0]
    if frames.lossy_source:
        target.LossyImageCompression = "01"
        method = _LOSSY_METHOD.get(str(frames.source_syntax))
        if method and "LossyImageCompressionMethod" not in target:
            target.LossyImageCompressionMethod = method
    if syntax.is_compressed:
        try:
            _compress(target, original, frames, arr, syntax)
            return syntax
        except Exception:  # noqa: BLE001 - any encoder failure: fall back to uncompressed
            target.PhotometricInterpretation = _photometric_out(frames)
            syntax = ExplicitVRLittleEndian
    try:
        _set_native(target, arr, frames, syntax)
    except (ValueError, TypeError, OverflowError) as exc:
        raise PixelError(Reason.PIXEL_ENCODE_FAILED,
                         f"redacted pixel data cannot be written ({exc.__class__.__name__})") from None
    return syntax


def _plugin_choice(available: tuple[str, ...]) -> dict[str, Any]:
    """Never GDCM when another encoder exists: its RLE codec throws a C++ exception on some frame sizes
    (``image_len % MaxNumSegments``) that aborts the whole Python worker instead of raising."""
    others = [name for name in available if name != "gdcm"]
    return {"encoding_plugin": others[0]} if others and "gdcm" in available else {}


def _compress(target: Dataset, original: Dataset, frames: Frames, arr: np.ndarray, syntax: UID) -> None:
    encoder = get_encoder(syntax)
    if not encoder.is_available:
        raise RuntimeError("no encoder plugin")
    if syntax in (JPEG2000Lossless, JPEG2000) and str(original.get("PhotometricInterpretation", "")) == "YBR_RCT":
        target.PhotometricInterpretation = "YBR_RCT"
    for tag in (0x7FE00001, 0x7FE00002):
        if tag in target:
            del target[tag]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        target.compress(syntax, arr, generate_instance_uid=False,  # reversible unless j2k_cr/psnr given
                        **_plugin_choice(encoder.available_plugins))
    _little_endian_encoding(target, syntax)
