"""Decoding Pixel Data (7FE0,0010) into frames and rendering them the way a viewer shows text.

Decoding keeps the pixel data's own representation (``as_rgb=False``): the redaction fill and the
re-encoding work on those values, so untouched pixels of lossless sources stay bit-identical. Renders
for OCR are separate 8-bit RGB images with exactly the frame's rows and columns, so box coordinates
found on a render are frame coordinates.

Supported: every transfer syntax with a pydicom decoder plugin installed (native, Deflated, RLE,
JPEG baseline/extended/lossless, JPEG-LS, JPEG 2000, HTJ2K via pylibjpeg / pyjpegls / gdcm),
single and multi-frame, MONOCHROME1/2, RGB, YBR_FULL, YBR_FULL_422, YBR_RCT, YBR_ICT,
PALETTE COLOR, 1/8/16/32-bit allocation, signed data and any Bits Stored (PS3.5 8.1.1, PS3.3 C.7.6.3).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from pydicom.dataset import Dataset
from pydicom.pixels import get_decoder
from pydicom.pixels.processing import (
    apply_color_lut,
    apply_modality_lut,
    apply_voi_lut,
    convert_color_space,
)
from pydicom.uid import UID

from deid.config.pixels import Render
from deid.dicomio import value_length
from deid.errors import PixelError, Reason

# Transfer syntaxes whose compression discards information (PS3.5 Section 8 and 10).
LOSSY_SYNTAXES = frozenset({
    "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.81",
    "1.2.840.10008.1.2.4.203", "1.2.840.10008.1.2.4.100", "1.2.840.10008.1.2.4.101",
    "1.2.840.10008.1.2.4.102", "1.2.840.10008.1.2.4.103", "1.2.840.10008.1.2.4.104",
    "1.2.840.10008.1.2.4.105", "1.2.840.10008.1.2.4.106", "1.2.840.10008.1.2.4.107",
    "1.2.840.10008.1.2.4.108",
})
# Syntaxes that may be lossy or lossless: lossy when LossyImageCompression (0028,2110) says "01".
MAYBE_LOSSY_SYNTAXES = frozenset({"1.2.840.10008.1.2.4.91", "1.2.840.10008.1.2.4.93",
                                  "1.2.840.10008.1.2.4.202"})


@dataclass
class Frames:
    """Decoded pixel data in its own representation.

    ``pixels`` is (frames, rows, columns) or (frames, rows, columns, samples), native byte order.
    ``photometric`` is the interpretation of those values after decoding (a JPEG 2000 YBR_RCT source
    decodes to RGB, for instance).

    Frames opened lazily (:func:`open_frames`) have a ``loader`` that decodes one frame at a time and
    an empty ``pixels`` (0, rows, columns[, samples]) that only carries the frame shape and dtype:
    read frames with :meth:`frame`, which works for both.
    """

    pixels: np.ndarray
    photometric: str
    bits_allocated: int
    bits_stored: int
    signed: bool
    source_syntax: UID
    lossy_source: bool
    loader: Callable[[int], np.ndarray] | None = None
    frame_count: int = 0

    @property
    def count(self) -> int:
        return self.frame_count if self.loader is not None else int(self.pixels.shape[0])

    def frame(self, index: int) -> np.ndarray:
        """One frame (rows, columns[, samples]); may be read-only (copy before changing values)."""
        if self.loader is None:
            return self.pixels[index]
        if not 0 <= index < self.frame_count:
            raise IndexError(f"frame {index} of {self.frame_count}")
        return self.loader(index)

    @property
    def rows(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def columns(self) -> int:
        return int(self.pixels.shape[2])

    @property
    def samples(self) -> int:
        return 1 if self.pixels.ndim == 3 else int(self.pixels.shape[3])


def has_pixel_data(ds: Dataset) -> bool:
    """True when the dataset has (7FE0,0010) Pixel Data (float/double pixel data are not images)."""
    return "PixelData" in ds and ds["PixelData"].value is not None and value_length(ds.PixelData) > 0


def is_lossy_source(ds: Dataset) -> bool:
    """Lossy syntax, or Lossy Image Compression (0028,2110) = "01" (PS3.3 C.7.6.1.1.5)."""
    ts = str(ds.file_meta.get("TransferSyntaxUID", ""))
    return ts in LOSSY_SYNTAXES or str(ds.get("LossyImageCompression", "")).strip() == "01"


def _can_view(ds: Dataset, ts: UID) -> bool:
    """Native little endian data that needs no processing (8/16/32-bit, Bits Stored (0028,0101) =
    Bits Allocated (0028,0100), not YBR_FULL_422) is decoded as a read-only view on the dataset's own
    Pixel Data bytes instead of a copy: a large multi-frame instance is then held once, not twice."""
    if ts.is_encapsulated or not ts.is_little_endian or ts == "1.2.840.10008.1.2.1.99":
        return False
    allocated, stored = ds.get("BitsAllocated"), ds.get("BitsStored")
    return (allocated in (8, 16, 32) and stored == allocated
            and str(ds.get("PhotometricInterpretation", "")).strip() != "YBR_FULL_422")


def _syntax(ds: Dataset) -> UID:
    meta = getattr(ds, "file_meta", None)
    return UID(str(meta.get("TransferSyntaxUID", "1.2.840.10008.1.2"))) if meta is not None else UID(
        "1.2.840.10008.1.2")


def _decoder(ts: UID):  # type: ignore[no-untyped-def]
    try:
        decoder = get_decoder(ts)
    except (NotImplementedError, ValueError):
        raise PixelError(Reason.PIXEL_DECODE_FAILED, f"no pixel decoder exists for transfer syntax {ts}") from None
    if not decoder.is_available:
        raise PixelError(Reason.PIXEL_DECODE_FAILED,
                         f"no decoder plugin is installed for transfer syntax {ts}")
    return decoder


def _as_array(ds: Dataset, ts: UID, index: int | None, view: bool = False) -> tuple[np.ndarray, dict]:
    """pydicom's decoder on all frames (``index`` None) or one; little endian; PHI-free failures."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            arr, info = _decoder(ts).as_array(ds, as_rgb=False, index=index,  # type: ignore[arg-type]
                                              view_only=view)  # type: ignore[arg-type]
        except PixelError:
            raise
        except Exception as exc:  # noqa: BLE001 - plugins raise anything; the message must stay PHI-free
            raise PixelError(Reason.PIXEL_DECODE_FAILED,
                             f"pixel data cannot be decoded with {ts} ({exc.__class__.__name__})") from None
    arr = np.asarray(arr)
    if arr.dtype.byteorder == ">" or (arr.dtype.byteorder == "=" and not np.little_endian):
        arr = arr.astype(arr.dtype.newbyteorder("<"))
    return arr, dict(info)


def _frames(arr: np.ndarray, info: dict, ds: Dataset, ts: UID, nframes: int) -> Frames:
    """Check the decoded shape against Samples per Pixel (0028,0002) and the frame count."""
    samples = int(info.get("samples_per_pixel", 1))
    expected_ndim = 3 if samples == 1 else 4
    if arr.ndim == expected_ndim - 1:
        arr = arr[np.newaxis, ...]
    if arr.ndim != expected_ndim or arr.shape[0] != nframes:
        raise PixelError(Reason.PIXEL_DECODE_FAILED,
                         f"decoded pixel array has an unexpected shape {arr.shape} for {nframes} frame(s)")
    return Frames(
        pixels=arr,
        photometric=str(info.get("photometric_interpretation", ds.get("PhotometricInterpretation", ""))),
        bits_allocated=int(info.get("bits_allocated", ds.get("BitsAllocated", 8))),
        bits_stored=int(info.get("bits_stored", ds.get("BitsStored", 8))),
        signed=int(info.get("pixel_representation", 0)) == 1,
        source_syntax=ts,
        lossy_source=is_lossy_source(ds),
    )


def decode_frames(ds: Dataset) -> Frames:
    """Decode all frames of (7FE0,0010) Pixel Data; any failure is PIXEL_DECODE_FAILED (no PHI).

    ``pixels`` may be a read-only view (:func:`_can_view`): callers copy before they change values.
    """
    ts = _syntax(ds)
    arr, info = _as_array(ds, ts, None, _can_view(ds, ts))
    return _frames(arr, info, ds, ts, int(info.get("number_of_frames", 1) or 1))


def _declared_frames(ds: Dataset) -> int:
    """Number of Frames (0028,0008); 1 when absent, empty or not a positive number."""
    try:
        n = int(ds.get("NumberOfFrames", 1) or 1)
    except (TypeError, ValueError):
        return 1
    return max(n, 1)


class _FrameLoader:
    """Decodes frame ``i`` of a dataset on demand (pydicom's ``index=``), keeping the last two."""

    def __init__(self, ds: Dataset, ts: UID, shape: tuple[int, ...], dtype: np.dtype) -> None:
        self.ds, self.ts, self.shape, self.dtype = ds, ts, shape, dtype
        self._cache: dict[int, np.ndarray] = {}

    def __call__(self, index: int) -> np.ndarray:
        hit = self._cache.get(index)
        if hit is not None:
            return hit
        arr, _ = _as_array(self.ds, self.ts, index)
        if arr.shape != self.shape or arr.dtype != self.dtype:
            raise PixelError(Reason.PIXEL_DECODE_FAILED,
                             f"frame {index} decodes to shape {arr.shape}, not {self.shape} like frame 0")
        if len(self._cache) >= 2:
            self._cache.pop(next(iter(self._cache)))
        self._cache[index] = arr
        return arr


def open_frames(ds: Dataset) -> Frames:
    """Pixel Data (7FE0,0010) ready to be read frame by frame, holding at most a frame or two decoded.

    Native data a view can serve (:func:`_can_view`) and single frames are decoded at once (a view
    costs nothing); other multi-frame data (encapsulated, Bits Stored < Bits Allocated, big endian,
    YBR_FULL_422) get a loader that decodes each frame when it is read (frame 0 now, to learn the
    decoded shape, dtype and photometric interpretation). Failures are PIXEL_DECODE_FAILED (no PHI).
    """
    ts = _syntax(ds)
    nframes = _declared_frames(ds)
    if nframes == 1 or _can_view(ds, ts):
        return decode_frames(ds)
    first, info = _as_array(ds, ts, 0)
    frames = _frames(first, info, ds, ts, 1)
    loader = _FrameLoader(ds, ts, first.shape, first.dtype)
    loader._cache[0] = first
    frames.pixels = np.empty((0, *first.shape), dtype=first.dtype)
    frames.loader, frames.frame_count = loader, nframes
    return frames


def _to_uint8(arr: np.ndarray, lo: float | None = None, hi: float | None = None) -> np.ndarray:
    """Linear scaling of a float/int array to 0..255 between lo and hi (default: the array's range)."""
    a = arr.astype(np.float64)
    lo = float(a.min()) if lo is None else lo
    hi = float(a.max()) if hi is None else hi
    if hi <= lo:
        return np.zeros(a.shape, dtype=np.uint8) if hi <= 0 else np.full(a.shape, 255, dtype=np.uint8)
    return np.clip((a - lo) * (255.0 / (hi - lo)), 0, 255).round().astype(np.uint8)


def _has_voi(ds: Dataset) -> bool:
    return "WindowCenter" in ds and "WindowWidth" in ds or "VOILUTSequence" in ds


def _grey_display(frame: np.ndarray, ds: Dataset) -> np.ndarray:
    """Modality LUT (0028,1052-1053 / 0028,3000) then VOI (0028,1050-1051 / 0028,3010), as float."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            out = np.asarray(apply_modality_lut(frame, ds), dtype=np.float64)
        except Exception:  # noqa: BLE001 - a broken LUT falls back to stored values
            out = frame.astype(np.float64)
        if _has_voi(ds):
            try:
                windowed = np.asarray(apply_voi_lut(out, ds), dtype=np.float64)
                if float(windowed.max()) > float(windowed.min()):
                    return windowed
            except Exception:  # noqa: BLE001 - a broken window falls back to min-max
                pass
    return out


def render_frame(frames: Frames, index: int, ds: Dataset, mode: Render = Render.VOI) -> np.ndarray:
    """8-bit RGB (rows, columns, 3) image of one frame, text bright on dark where the viewer shows it.

    MONOCHROME1 is inverted (PS3.3 C.7.6.3.1.2); YBR is converted to RGB; PALETTE COLOR goes through
    its LUT (0028,1201-1203). ``Render.EXTREME`` maps the brightest displayed value to white.
    """
    frame = frames.frame(index)
    pi = frames.photometric
    if pi in ("MONOCHROME1", "MONOCHROME2"):
        disp = _grey_display(frame, ds)
        if pi == "MONOCHROME1":
            disp = -disp
        grey = _extreme(disp) if mode is Render.EXTREME else _to_uint8(disp)
        return np.repeat(grey[..., np.newaxis], 3, axis=2)
    if pi == "PALETTE COLOR":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                rgb = np.asarray(apply_color_lut(frame, ds))
            except Exception:  # noqa: BLE001 - no usable LUT: render the indices as grey
                rgb = np.repeat(frame[..., np.newaxis], 3, axis=2)
        rgb8 = _to_uint8(rgb, 0, float(2 ** (8 * rgb.dtype.itemsize) - 1)) if rgb.dtype != np.uint8 else rgb
    elif pi.startswith("YBR") and pi not in ("YBR_RCT", "YBR_ICT"):
        rgb = convert_color_space(frame, pi, "RGB")
        rgb8 = rgb if rgb.dtype == np.uint8 else _to_uint8(rgb, 0, float(2 ** frames.bits_stored - 1))
    else:  # RGB, and YBR_RCT/ICT which decoders already return as RGB
        rgb8 = frame if frame.dtype == np.uint8 else _to_uint8(frame, 0, float(2 ** frames.bits_stored - 1))
    if mode is Render.EXTREME:
        grey = _extreme(rgb8.max(axis=2).astype(np.float64))
        return np.repeat(grey[..., np.newaxis], 3, axis=2)
    return np.ascontiguousarray(rgb8)


def _extreme(disp: np.ndarray, tolerance: float = 0.02) -> np.ndarray:
    """White where the displayed value is within ``tolerance`` of the frame's maximum, else black."""
    lo, hi = float(disp.min()), float(disp.max())
    if hi <= lo:
        return np.zeros(disp.shape, dtype=np.uint8)
    return np.where(disp >= hi - tolerance * (hi - lo), 255, 0).astype(np.uint8)
