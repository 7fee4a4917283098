"""Filling text boxes and writing Pixel Data (7FE0,0010) back validly (PS3.15 E.3.1, PS3.5 8, A.4).

Output transfer syntax per input transfer syntax (only when at least one box was filled; otherwise
the pixel data is left byte-for-byte as it was unless it holds a hidden channel, :func:`clean_kept`):

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

Memory: the redaction is done frame by frame (:class:`RedactedFrames`; a frame is copied only when it
has a box), so the source Pixel Data, a redacted copy and its bytes are never held together. Native
output is a :class:`NativeFrameStream` that pydicom writes in chunks, each frame decoded, filled and
encoded as it is written. Encapsulated output is encoded frame by frame into one fragment per frame
with a Basic Offset Table (an Extended Offset Table past 2^32 - 1 bytes, PS3.5 A.4), handed to the
writer as a :class:`deid.dicomio.ConcatReader` over the frames; a lossless source re-encoded in its own syntax keeps the
original codestream of every frame without a box, cleaned of what no decoder reads
(:func:`deid.pixels.codestream.clean_codestream`: marker segments, bytes inside the coded data after
what the decoder reads, RLE bits above Bits Stored; a codestream that cannot be proven clean is
encoded again from its decoded frame).

Any encoder failure falls back to Explicit VR Little Endian. YBR_FULL_422 sources are decoded to
full-resolution YBR values and written as YBR_FULL; JPEG 2000 YBR_RCT/YBR_ICT decode to RGB and are
written as RGB (YBR_RCT again when re-encoded to JPEG 2000). Planar Configuration becomes 0.
"""

from __future__ import annotations

import struct
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from pydicom.dataset import Dataset
from pydicom.encaps import generate_frames
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

from deid.dicomio import ConcatReader, SeekableReader, iter_datasets
from deid.errors import PixelError, Reason
from deid.header.profile import CLEAN_PIXEL_DATA_CODE
from deid.pixels.codestream import Geometry, clean_codestream, is_clean, native_hidden
from deid.pixels.frames import LOSSY_SYNTAXES, Frames, open_frames

Box = tuple[int, int, int, int]
# Redacted Pixel Data of at least this many bytes is handed to the writer as a buffer that produces it
# frame by frame (NativeFrameStream, pydicom's EncapsulatedBuffer); smaller values are plain bytes.
STREAM_MIN = 1 << 20
BOT_MAX = 2**32 - 1  # the largest offset a Basic Offset Table can hold (32-bit, PS3.5 A.4)

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


@dataclass(frozen=True)
class DecidedBox:
    """One OCR box of a frame and its decision, as the fill geometry needs it. ``text`` is PHI: it is
    compared here and never leaves the pixel stage. ``firm``: redacted by a header match or a rule (a
    finding about the box's own text), not by the model, low confidence or the review band.
    ``vouched``: kept on positive evidence (the allowlist or the clinical lexicon), not by the model
    alone: only such a line may be cut out of a larger fill. ``region``: redacted because its reading is
    far too short for its box (classify's ``short_reading``: one stroke read off a patch of anatomy, "一"
    in a 275x501 box), a region rather than a text line."""

    box: Box
    redact: bool
    text: str
    firm: bool = False
    vouched: bool = False
    region: bool = False


def _inside(inner: Box, outer: Box) -> float:
    """Share of ``inner``'s area that lies inside ``outer``."""
    x0, y0 = max(inner[0], outer[0]), max(inner[1], outer[1])
    x1, y1 = min(inner[0] + inner[2], outer[0] + outer[2]), min(inner[1] + inner[3], outer[1] + outer[3])
    area = inner[2] * inner[3]
    return max(0, x1 - x0) * max(0, y1 - y0) / area if area > 0 else 0.0


def _subtract(a: Box, b: Box) -> list[Box]:
    """Rectangle ``a`` minus rectangle ``b`` as up to four rectangles (above, below, left, right)."""
    ax1, ay1, bx1, by1 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    if b[0] >= ax1 or bx1 <= a[0] or b[1] >= ay1 or by1 <= a[1]:
        return [a]
    top, bottom = max(a[1], b[1]), min(ay1, by1)
    parts = [(a[0], a[1], a[2], top - a[1]), (a[0], bottom, a[2], ay1 - bottom),
             (a[0], top, max(0, b[0] - a[0]), bottom - top), (bx1, top, max(0, ax1 - bx1), bottom - top)]
    return [p for p in parts if p[2] > 0 and p[3] > 0]


def _alnum(text: str) -> str:
    return "".join(c for c in text.upper() if c.isascii() and c.isalnum())


def _piece_of_kept_line(d: DecidedBox, kept: list[DecidedBox]) -> bool:
    """A box read inside a kept line, of that line's height or less, whose letters and digits are part
    of the line's own reading ("n" inside "whole body pt w rnc iv", an unreadable mark inside
    "Valve close"): the same pixels, read whole and recognised as clinical. Never a box a header match
    or rule redacted."""
    return not d.firm and any(_inside(d.box, k.box) >= 0.9 and 0.4 * k.box[3] <= d.box[3] <= 1.25 * k.box[3]
                              and len(_alnum(k.text)) >= 3 and _alnum(d.text) in _alnum(k.text) for k in kept)


def _other_line(inner: DecidedBox, outer: DecidedBox, least_inside: float = 0.8) -> bool:
    """``inner`` is another text line inside ``outer``: >= 80 % of it inside (``least_inside``; 0: any
    part of it), at most half its height, and a reading (3+ letters or digits) that is not part of
    ``outer``'s own reading (a character read again inside its own line, "m" inside "breast - left mr",
    is no other line)."""
    own = _alnum(inner.text)
    inside = _inside(inner.box, outer.box)
    return (inside > 0 and inside >= least_inside and inner.box[3] <= 0.5 * outer.box[3] and len(own) >= 3
            and own not in _alnum(outer.text))


def redaction_fills(boxes: list[DecidedBox], padding: int, rows: int, cols: int) -> list[Box]:
    """The rectangles to fill for the decided boxes of one frame: the text a box carries, not more.

    - a redacted box is filled with ``padding`` around it;
    - a redacted box that holds two or more other, shorter text lines one above the other
      (:func:`_spans_lines`: a detection spanning several lines, e.g. one character read off a
      frame-sized region) is filled except over the vouched kept lines it holds or crosses (allowlist,
      lexicon: a line half inside a 193x278 "2" read at 0.46 over a bright patch, dev seed 922), which
      were read and decided on their own; the rest of it (undetected text, structure) stays filled
      under default deny;
    - a redacted region (:attr:`DecidedBox.region`, not firm) is filled except over the vouched kept lines
      it holds or crosses that are at most a third of its height (:func:`_line_in_region`): one line
      read and decided on its own inside a stroke read off the anatomy (issue #12, dev seeds 931/932:
      "Processing type" under a 346x379 "一"); a tall line with a fragment read inside it is no region;
    - a redacted box that is a piece of a vouched kept line (:func:`_piece_of_kept_line`) is not filled;
    - every other redacted box is filled whole, over kept boxes too: a redacted line's fill always wins;
    - a kept stub of four letters or digits at most, on the same line as a redacted text line (not a
      region) and at most a line's height from it (:func:`_stub_beside`: "09" beside "pril 2021" when OCR
      split one date line in two), is filled as well under default deny: a piece of an identifying line,
      not a line of its own; a vouched stub only when it is one or two digits.
    """
    kept = [d for d in boxes if not d.redact and d.vouched]  # a line the model alone cleared is no
    # reason to leave pixels unfilled: a stray fill over it may be all that hides a misjudged PHI line
    fills: list[Box] = []
    for d in boxes:
        if not d.redact or _piece_of_kept_line(d, kept):
            continue
        pieces = [pad_box(d.box, padding, rows, cols)]
        spans = _spans_lines(d, boxes)
        for k in kept:
            if (_other_line(k, d, least_inside=0.0) if spans else _line_in_region(k, d)):
                hole = pad_box(k.box, padding, rows, cols)
                pieces = [p for q in pieces for p in _subtract(q, hole)]
        fills.extend(pieces)
    lines = [d for d in boxes if d.redact and not d.region]
    fills.extend(pad_box(k.box, padding, rows, cols) for k in boxes if not k.redact and _stub_beside(k, lines))
    return fills


_STUB_CHARS = 4


def _stub_beside(k: DecidedBox, lines: list[DecidedBox]) -> bool:
    """``k`` (kept) reads four letters or digits at most and sits on the line of a redacted box: heights
    within 1.6x of each other, at least 60 % of the lower one shared vertically, and a horizontal gap of
    at most the taller height. Such a stub is most likely a piece the detector split off the redacted line
    (issue #12, default deny: "pie" of "Piedimonte D'Alife Hopital", "09" of "09 April 2021" on dev seed
    931), rarely a clinical line of its own. A stub kept on positive evidence (:attr:`DecidedBox.vouched`:
    the allowlist, the lexicon) stays unless it is one or two digits (a day, an hour): a probe name "L12-5"
    beside the patient's name on an ultrasound's top row is a column of its own (``split_decisions``)."""
    own = _alnum(k.text)
    if not own or len(own) > _STUB_CHARS or k.vouched and not (own.isdigit() and len(own) <= 2):
        return False
    kx, ky, kw, kh = k.box
    for d in lines:
        dx, dy, dw, dh = d.box
        lo, hi = min(kh, dh), max(kh, dh)
        if lo <= 0 or hi > 1.6 * lo:
            continue
        shared = min(ky + kh, dy + dh) - max(ky, dy)
        gap = max(dx - (kx + kw), kx - (dx + dw))
        if shared >= 0.6 * lo and gap <= hi:
            return True
    return False


def _line_in_region(k: DecidedBox, d: DecidedBox) -> bool:
    """``k`` is another text line (:func:`_other_line`, any part of it inside) in the redacted region ``d``
    (not firm), at most a third of the region's height: not a fragment of a line the region would be."""
    return d.region and not d.firm and 3 * k.box[3] <= d.box[3] and _other_line(k, d, least_inside=0.0)


def _spans_lines(d: DecidedBox, boxes: list[DecidedBox]) -> bool:
    """``d`` holds two or more other text lines (:func:`_other_line`, at least a quarter of each inside,
    whatever their decision) one above the other: a detection spanning several lines, not one tall line
    with a fragment read inside it."""
    inner = [b.box for b in boxes if b is not d and _other_line(b, d, least_inside=0.25)]
    return any(a[1] + a[3] <= b[1] or b[1] + b[3] <= a[1] for i, a in enumerate(inner) for b in inner[i + 1:])


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


def _native_bytes(arr: np.ndarray, bits_allocated: int, pad: bool = True) -> bytes:
    if bits_allocated == 1:
        data = pack_bits(arr.astype(np.uint8).ravel())
    else:
        kind = "i" if arr.dtype.kind == "i" else "u"
        data = arr.astype(np.dtype(f"<{kind}{bits_allocated // 8}"), copy=False).tobytes()  # one copy, not two
    return data + b"\x00" if pad and len(data) % 2 else data


def _clear_offset_tables(target: Dataset) -> None:
    for tag in (0x7FE00001, 0x7FE00002):  # Extended Offset Table (Lengths) (PS3.3 C.7.6.3.1.8)
        if tag in target:
            del target[tag]


def _set_native(target: Dataset, redacted: RedactedFrames, frames: Frames, syntax: UID) -> None:
    """Uncompressed Pixel Data with consistent Image Pixel module attributes (PS3.3 C.7.6.3).

    Large values are a :class:`NativeFrameStream`: each frame is produced (decoded, filled, encoded
    little endian) while the file is written, so no whole copy of the redacted pixel data is held.
    """
    _clear_offset_tables(target)
    if frames.bits_allocated == 1:  # bit-packed frames need not end on a byte: pack them together
        data: bytes | NativeFrameStream = _native_bytes(
            np.stack([redacted.frame(i) for i in range(frames.count)]), 1)
    else:
        stream = NativeFrameStream(redacted, frames)
        data = stream if stream.length >= STREAM_MIN else stream.read()
    target.PixelData = data
    target["PixelData"].VR = "OW" if frames.bits_allocated > 8 else "OB"
    target["PixelData"].is_undefined_length = False
    target.file_meta.TransferSyntaxUID = syntax
    _little_endian_encoding(target, syntax)


_WORD_WIDTH = {"OW": 2, "OL": 4, "OF": 4, "OD": 8, "OV": 8}


def _little_endian_encoding(target: Dataset, syntax: UID) -> None:
    """A big endian source is written little endian: record that as the dataset's encoding (PS3.5 A.3)."""
    if target.original_encoding[1] is False:
        # raw (unconverted) values hold big endian bytes: convert every one at every depth first, so
        # the writer encodes the values, not the source's bytes, little endian (PS3.5 7.3)
        for current in iter_datasets(target):
            for elem in current:  # iterating converts raw elements
                if elem.VR in _WORD_WIDTH and elem.tag != 0x7FE00010 and isinstance(elem.value, bytes):
                    # pydicom keeps OW/OL/OF/OD/OV as the file's bytes: swap them to little endian
                    width = _WORD_WIDTH[elem.VR]
                    arr = np.frombuffer(elem.value[:len(elem.value) // width * width], dtype=f">u{width}")
                    elem.value = arr.astype(f"<u{width}").tobytes() + elem.value[len(arr) * width:]
            if current is not target and current.original_encoding[1] is False:
                current.set_original_encoding(syntax.is_implicit_VR, True, current.original_character_set)
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


def _image_attributes(target: Dataset, original: Dataset, frames: Frames, record: bool = True) -> None:
    """Image Pixel module attributes (PS3.3 C.7.6.3) of the redacted pixel data; Lossy Image
    Compression (0028,2110) "01" and its method (0028,2114) when the source was lossy; the
    derivation (:func:`record_derivation`) when ``record``."""
    if record:
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
    if frames.lossy_source:
        target.LossyImageCompression = "01"
        method = _LOSSY_METHOD.get(str(frames.source_syntax))
        if method and "LossyImageCompressionMethod" not in target:
            target.LossyImageCompressionMethod = method


def write_pixels(target: Dataset, original: Dataset, frames: Frames, pixels: np.ndarray,
                 lossless_fallback: UID = ExplicitVRLittleEndian,
                 lossy_output: UID = ExplicitVRLittleEndian) -> UID:
    """Replace the target's Pixel Data with ``pixels`` (same shape as ``frames.pixels``, every frame
    re-encoded) and record the derivation (:func:`record_derivation`); returns the syntax."""
    whole = replace(frames, pixels=pixels, loader=None, frame_count=0)
    return write_redacted(target, original, whole, None, None, lossless_fallback, lossy_output)


def write_redacted(target: Dataset, original: Dataset, frames: Frames, fills: dict[int, list[Box]] | None,
                   value: np.ndarray | None, lossless_fallback: UID = ExplicitVRLittleEndian,
                   lossy_output: UID = ExplicitVRLittleEndian, record: bool = True) -> UID:
    """Write ``frames`` with the ``fills`` (frame -> boxes, already padded) set to ``value`` into the
    target's Pixel Data, one frame at a time (:class:`RedactedFrames`), and record the derivation;
    returns the transfer syntax (module docstring). ``fills`` None: every frame as it is, re-encoded.

    Encapsulated output (PS3.5 A.4) is encoded frame by frame; a lossless source written in its own
    syntax keeps the codestreams of frames without a box. Native output is streamed (:func:`_set_native`).
    """
    syntax = output_syntax(original, frames, lossless_fallback, lossy_output)
    _image_attributes(target, original, frames, record)
    redacted = RedactedFrames(frames, fills or {}, value)
    if syntax.is_compressed:
        try:
            _encapsulate(target, original, redacted, syntax, reuse=fills is not None)
            return syntax
        except PixelError:
            raise
        except Exception:  # noqa: BLE001 - any encoder failure: fall back to uncompressed
            target.PhotometricInterpretation = _photometric_out(frames)
            syntax = ExplicitVRLittleEndian
    try:
        _set_native(target, redacted, frames, syntax)
    except (ValueError, TypeError, OverflowError) as exc:
        raise PixelError(Reason.PIXEL_ENCODE_FAILED,
                         f"redacted pixel data cannot be written ({exc.__class__.__name__})") from None
    return syntax


def _plugin_choice(available: tuple[str, ...]) -> dict[str, Any]:
    """Never GDCM when another encoder exists: its RLE codec throws a C++ exception on some frame sizes
    (``image_len % MaxNumSegments``) that aborts the whole Python worker instead of raising."""
    others = [name for name in available if name != "gdcm"]
    return {"encoding_plugin": others[0]} if others and "gdcm" in available else {}


def _encoding_options(target: Dataset, frames: Frames) -> dict[str, Any]:
    """pydicom encoder options for one frame, from the target's Image Pixel module (PS3.3 C.7.6.3)."""
    return {"rows": frames.rows, "columns": frames.columns, "samples_per_pixel": frames.samples,
            "bits_allocated": frames.bits_allocated, "bits_stored": frames.bits_stored,
            "pixel_representation": 1 if frames.signed else 0, "number_of_frames": 1,
            "photometric_interpretation": str(target.PhotometricInterpretation), "planar_configuration": 0}


def _source_codestreams(original: Dataset, count: int) -> Iterator[bytes]:
    """The original frames' codestreams in order (PS3.5 A.4: Basic or Extended Offset Table, or one
    fragment per frame), each a frame's fragments joined."""
    eot = None
    if "ExtendedOffsetTable" in original and "ExtendedOffsetTableLengths" in original:
        eot = (original.ExtendedOffsetTable, original.ExtendedOffsetTableLengths)
    return generate_frames(original.PixelData, number_of_frames=count, extended_offsets=eot)


def _encapsulate(target: Dataset, original: Dataset, redacted: RedactedFrames, syntax: UID,
                 reuse: bool) -> None:
    """Encode frame by frame and encapsulate (PS3.5 A.4): one fragment per frame, a Basic Offset
    Table, or an Extended Offset Table (7FE0,0001/0002) when offsets pass 2^32 - 1.

    ``reuse``: frames without a box keep their original codestream when the source is already in
    ``syntax`` with the same photometric interpretation (no second encoding, same pixels), with only
    allowed marker segments and nothing after its end (:func:`deid.pixels.codestream.clean_codestream`:
    comments, application segments and trailing bytes are hidden text); a codestream that cannot be
    cleaned is encoded again from its decoded frame."""
    frames = redacted.frames
    encoder = get_encoder(syntax)
    if not encoder.is_available:
        raise RuntimeError("no encoder plugin")
    if syntax in (JPEG2000Lossless, JPEG2000) and str(original.get("PhotometricInterpretation", "")) == "YBR_RCT":
        target.PhotometricInterpretation = "YBR_RCT"
    reuse = (reuse and frames.source_syntax == syntax and not frames.lossy_source
             and str(original.get("PhotometricInterpretation", "")) == str(target.PhotometricInterpretation))
    source = _source_codestreams(original, frames.count) if reuse else None
    opts = {**_encoding_options(target, frames), **_plugin_choice(encoder.available_plugins)}
    encoded: list[bytes] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(frames.count):
            kept = next(source) if source is not None else None  # StopIteration: too few frames
            if kept is not None and i not in redacted.fills:
                kept = clean_codestream(kept, str(syntax), _geometry(frames), (frames.bits_stored, frames.signed))
            if kept is not None and i not in redacted.fills:
                encoded.append(kept)
            else:
                encoded.append(encoder.encode(np.ascontiguousarray(redacted.frame(i)), **opts))
    _set_encapsulated(target, encoded, syntax)


def _stored(ds: Dataset) -> tuple[int, bool]:
    """Bits Stored (0028,0101) and whether Pixel Representation (0028,0103) says signed."""
    return int(ds.get("BitsStored", ds.BitsAllocated) or ds.BitsAllocated), int(ds.get("PixelRepresentation", 0) or 0) == 1


def _geometry(frames: Frames) -> Geometry:
    return frames.rows, frames.columns, frames.samples, frames.bits_allocated


def _declared(original: Dataset) -> int:
    try:
        return max(int(original.get("NumberOfFrames", 1) or 1), 1)
    except (TypeError, ValueError):
        return 1


def _fragments(buffer: bytes) -> tuple[bytes, list[int]] | None:
    """The Basic Offset Table value and the lengths of the fragments after it (PS3.5 A.4)."""
    pos, n, lengths, bot = 0, len(buffer), [], b""
    while pos + 8 <= n:
        group, elem, length = struct.unpack_from("<HHL", buffer, pos)
        if (group, elem) == (0xFFFE, 0xE0DD):
            break
        if (group, elem) != (0xFFFE, 0xE000) or pos + 8 + length > n:
            return None
        if pos == 0:
            bot = buffer[8:8 + length]
        else:
            lengths.append(length)
        pos += 8 + length
    return (bot, lengths) if pos else None


def _offsets_exact(original: Dataset, bot: bytes, lengths: list[int], count: int) -> bool:
    """The Basic Offset Table and the Extended Offset Table (Lengths) (7FE0,0001/0002) hold nothing but
    the offsets (and lengths) of the frames' first fragments (PS3.5 A.4, PS3.3 C.7.6.3.1.8): empty, or
    one increasing entry a frame from 0, each a fragment's start (an EOT length: its fragment's, less
    at most its padding byte). Any other value is a free channel."""
    starts, position = {}, 0
    for i, length in enumerate(lengths):
        starts[position] = i
        position += 8 + length

    def exact(values: tuple[int, ...]) -> bool:
        return (len(values) == count and values[0] == 0 and all(v in starts for v in values)
                and all(a < b for a, b in zip(values, values[1:], strict=False)))

    if bot and (len(bot) != 4 * count or not exact(struct.unpack(f"<{count}L", bot))):
        return False
    has_eot, has_lengths = "ExtendedOffsetTable" in original, "ExtendedOffsetTableLengths" in original
    if not has_eot and not has_lengths:
        return True
    eot, eot_lengths = bytes(original.get("ExtendedOffsetTable", b"") or b""), bytes(
        original.get("ExtendedOffsetTableLengths", b"") or b"")
    if bot or len(eot) != 8 * count or len(eot_lengths) != 8 * count:
        return False
    values, sizes = struct.unpack(f"<{count}Q", eot), struct.unpack(f"<{count}Q", eot_lengths)
    return exact(values) and all(lengths[starts[v]] - 1 <= size <= lengths[starts[v]]
                                 for v, size in zip(values, sizes, strict=True))


def _cleaned_codestreams(original: Dataset, syntax: UID, count: int, geometry: Geometry,
                         stored: tuple[int, bool]) -> tuple[list[bytes], bool] | None:
    """The declared frames' codestreams, cleaned, and whether the value held anything else: segments
    stripped, bytes after a frame's end, fragments past Number of Frames (0028,0008), bytes outside an
    Extended Offset Table's ranges, an offset table that is not exactly the frames' offsets
    (:func:`_offsets_exact`). None: one cannot be cleaned."""
    parts = _fragments(bytes(original.PixelData))
    if parts is None:
        return None
    kept: list[bytes] = []
    seen, total, changed = 0, 0, not _offsets_exact(original, parts[0], parts[1], count)
    try:
        for stream in _source_codestreams(original, count):  # one frame at a time, originals not held
            seen, total = seen + 1, total + len(stream)
            if seen > count:
                changed = True  # fragments past Number of Frames (no offset table): dropped
                continue
            cleaned = clean_codestream(stream, str(syntax), geometry, stored)
            if cleaned is None:
                return None
            changed = changed or not is_clean(stream, cleaned)
            kept.append(cleaned)
    except Exception:  # noqa: BLE001 - a broken offset table: rewrite from the decoded frames
        return None
    if seen < count:
        return None
    return kept, changed or total != sum(parts[1])


def clean_kept(target: Dataset, original: Dataset, frames: Frames | None,
               lossless_fallback: UID = ExplicitVRLittleEndian,
               lossy_output: UID = ExplicitVRLittleEndian) -> UID | None:
    """Pixel Data released without a box (no text found, or not checked: Burned In Annotation NO)
    holds nothing its decoded frames do not show (:mod:`deid.pixels.codestream`): native data with
    bits above High Bit (0028,0102), a pad byte that is not 00, unused bits in its last bit-packed
    byte, bytes past Number of Frames or an offset table is written again from its decoded frames
    (those bits cleared, PS3.5 8.1.1); encapsulated frames with comment or application segments, bytes
    a decoder never reads (after the coded data, or inside it after its last MCU / packet / sample),
    undeclared fragments or offset tables that are not exactly the frames' offsets keep their cleaned
    codestreams in their own syntax, or are written like a redacted image (:func:`write_redacted`, no
    derivation recorded) when one cannot be proven clean (default deny; the syntax returned records
    it). Returns the syntax when the value was rewritten, None when it is kept byte for byte."""
    syntax = UID(str(original.file_meta.get("TransferSyntaxUID", ImplicitVRLittleEndian)))
    count = _declared(original)
    if not syntax.is_encapsulated:
        _check_high_bit(original)
        offset_tables = "ExtendedOffsetTable" in original or "ExtendedOffsetTableLengths" in original
        if not offset_tables and not native_hidden(original, count, syntax.is_little_endian or syntax.is_deflated):
            return None  # (an offset table on native data offsets nothing: free bytes, dropped)
    else:
        found = _cleaned_codestreams(original, syntax, count, _geometry(frames) if frames is not None else (
            int(original.Rows), int(original.Columns), int(original.get("SamplesPerPixel", 1) or 1),
            int(original.BitsAllocated)), _stored(original))
        if found is not None and not found[1]:
            return None
        if found is not None:
            _set_encapsulated(target, found[0], syntax)
            return syntax
    frames = frames if frames is not None else open_frames(original)
    if frames.count > count:  # pydicom decodes native bytes past Number of Frames as frames: not released
        frames = replace(frames, frame_count=count) if frames.loader is not None else replace(
            frames, pixels=frames.pixels[:count])
    return write_redacted(target, original, frames, {}, None, lossless_fallback, lossy_output, record=False)


def _check_high_bit(ds: Dataset) -> None:
    """High Bit (0028,0102) must be Bits Stored - 1 when Bits Stored < Bits Allocated: elsewhere the
    decoder would show other bits than the stored values (PS3.5 8.1.1): quarantined, not guessed."""
    stored, allocated, high = ds.get("BitsStored"), ds.get("BitsAllocated"), ds.get("HighBit")
    if stored is not None and allocated is not None and high is not None and int(stored) < int(allocated) \
            and int(high) != int(stored) - 1:
        raise PixelError(Reason.PIXELS_UNVERIFIED,
                         "High Bit (0028,0102) is not Bits Stored (0028,0101) - 1: the stored values "
                         "are not where the decoder reads them")


def _item(length: int) -> bytes:
    return struct.pack("<HHL", 0xFFFE, 0xE000, length)  # Item (FFFE,E000) tag and length (PS3.5 A.4)


def encapsulated_parts(encoded: list[bytes]) -> tuple[list[bytes], bytes | None, bytes | None]:
    """The pieces of an encapsulated Pixel Data value (PS3.5 A.4), one fragment per frame, in order
    (none copied), and the Extended Offset Table (7FE0,0001) and its Lengths (7FE0,0002) values when
    the frames pass 2^32 - 1 bytes (the Basic Offset Table is then empty), else None, None."""
    offsets, position = [], 0
    for frame in encoded:
        offsets.append(position)
        position += 8 + len(frame) + (len(frame) & 1)
    parts: list[bytes] = []
    extended = position > BOT_MAX
    if extended:
        parts.append(_item(0))
        eot = struct.pack(f"<{len(offsets)}Q", *offsets)
        lengths = struct.pack(f"<{len(encoded)}Q", *(len(f) for f in encoded))
    else:
        parts += [_item(4 * len(offsets)), struct.pack(f"<{len(offsets)}L", *offsets)]
    for frame in encoded:
        parts += [_item(len(frame) + (len(frame) & 1)), frame, b"\x00" if len(frame) & 1 else b""]
    return (parts, eot, lengths) if extended else (parts, None, None)


def _set_encapsulated(target: Dataset, encoded: list[bytes], syntax: UID) -> None:
    _clear_offset_tables(target)
    parts, eot, lengths = encapsulated_parts(encoded)
    reader = ConcatReader(parts)  # frames are shared, not joined into one more copy
    target.PixelData = reader if reader.length >= STREAM_MIN else reader.read()
    if eot is not None:
        target.ExtendedOffsetTable, target.ExtendedOffsetTableLengths = eot, lengths
    elem = target["PixelData"]
    elem.VR, elem.is_undefined_length = "OB", True
    target.file_meta.TransferSyntaxUID = syntax
    _little_endian_encoding(target, syntax)


class RedactedFrames:
    """The frames of ``frames`` with the boxes of ``fills`` (frame -> boxes) set to ``value``; each
    frame is produced when it is asked for (a copy only when it has boxes; the source stays as is)."""

    def __init__(self, frames: Frames, fills: dict[int, list[Box]], value: np.ndarray | None) -> None:
        self.frames, self.fills = frames, fills
        self.value = value if value is not None else np.zeros(frames.samples, dtype=np.int64)

    def frame(self, index: int) -> np.ndarray:
        boxes = self.fills.get(index)
        src = self.frames.frame(index)
        return fill_boxes(src, boxes, self.value) if boxes else src


class NativeFrameStream(SeekableReader):
    """Native (uncompressed) Pixel Data bytes made one frame at a time as they are read: a readable,
    seekable buffer that pydicom writes in chunks (a buffered element value, pydicom >= 3.0)."""

    def __init__(self, redacted: RedactedFrames, frames: Frames) -> None:
        super().__init__()
        self._redacted, self._count = redacted, frames.count
        self._bits = frames.bits_allocated
        self._frame_len = frames.rows * frames.columns * frames.samples * (frames.bits_allocated // 8)
        data_len = self._count * self._frame_len
        self.length = data_len + (data_len & 1)  # an odd length gets a trailing zero byte (PS3.5 7.1.1)
        self._pos = 0
        self._current: tuple[int, memoryview] = (-1, memoryview(b""))

    def _frame_bytes(self, index: int) -> memoryview:
        if self._current[0] != index:
            data = _native_bytes(self._redacted.frame(index), self._bits, pad=False)
            if len(data) != self._frame_len:
                raise ValueError("a redacted frame has the wrong length")
            self._current = (index, memoryview(data))
        return self._current[1]

    def read(self, size: int | None = -1) -> bytes:
        end = self._end(size)
        parts: list[bytes] = []
        while self._pos < end:
            index, offset = divmod(self._pos, self._frame_len)
            if index >= self._count:  # the padding byte
                parts.append(b"\x00")
                self._pos += 1
                continue
            chunk = self._frame_bytes(index)[offset:offset + end - self._pos]
            parts.append(bytes(chunk))
            self._pos += len(chunk)
        return b"".join(parts) if len(parts) != 1 else parts[0]

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(memoryview(buffer).cast("B")))
        memoryview(buffer).cast("B")[:len(data)] = data
        return len(data)
