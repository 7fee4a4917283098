"""Which frames to OCR, and which frames each OCR result covers.

Ultrasound data regions (0018,6011 Sequence of Ultrasound Regions, PS3.3 C.8.5.5) are excluded from
OCR by default: they hold the image, not the overlay. A multi-frame instance is OCR'd on its first
frame and on every frame whose pixels outside the data regions differ from the last OCR'd frame; the
boxes found on an OCR'd frame apply to it and to every following frame up to the next OCR'd frame.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from pydicom.dataset import Dataset
from pydicom.uid import UID

from deid.pixels.frames import Frames

Box = tuple[int, int, int, int]


def us_data_regions(ds: Dataset, rows: int, cols: int) -> list[Box]:
    """(x, y, w, h) of each region from Region Location Min/Max X0/Y0/X1/Y1 (0018,6018-601E)."""
    out: list[Box] = []
    for item in ds.get("SequenceOfUltrasoundRegions", []) or []:
        try:
            x0, y0 = int(item.RegionLocationMinX0), int(item.RegionLocationMinY0)
            x1, y1 = int(item.RegionLocationMaxX1), int(item.RegionLocationMaxY1)
        except (AttributeError, TypeError, ValueError):
            continue
        x0, y0 = max(0, min(x0, cols)), max(0, min(y0, rows))
        x1, y1 = max(0, min(x1 + 1, cols)), max(0, min(y1 + 1, rows))
        if x1 > x0 and y1 > y0:
            out.append((x0, y0, x1 - x0, y1 - y0))
    return out


def region_mask(rows: int, cols: int, regions: list[Box]) -> np.ndarray:
    """Boolean (rows, columns): True outside every data region (where overlay text is looked for)."""
    mask = np.ones((rows, cols), dtype=bool)
    for x, y, w, h in regions:
        mask[y:y + h, x:x + w] = False
    return mask


def mask_render(img: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The render with data regions blacked out (coordinates unchanged)."""
    if mask.all():
        return img
    out = img.copy()
    out[~mask] = 0
    return out


def changed_pixels(a: np.ndarray, b: np.ndarray, mask: np.ndarray, bits_stored: int, delta: float) -> int:
    """Pixels outside the data regions whose value moved by more than ``delta`` (8-bit units)."""
    fa, fb = a.astype(np.float32), b.astype(np.float32)
    diff = np.abs(fa - fb)
    if diff.ndim == 3:
        diff = diff.max(axis=2)
    if bits_stored > 8:
        diff *= 256.0 / float(1 << bits_stored)
    return int(np.count_nonzero((diff > delta) & mask))


def select_ocr_frames(pixels: np.ndarray | Frames, mask: np.ndarray, bits_stored: int, delta: float,
                      min_pixels: int, every_frame: bool = False) -> list[int]:
    """Frame 0 and every frame that differs (outside data regions) from the last selected frame.

    ``pixels`` is an array of frames or :class:`Frames` (read one frame at a time, in order, so that
    lazily decoded frames are never all held at once)."""
    return list(iter_ocr_frames(pixels, mask, bits_stored, delta, min_pixels, every_frame))


def iter_ocr_frames(pixels: np.ndarray | Frames, mask: np.ndarray, bits_stored: int, delta: float,
                    min_pixels: int, every_frame: bool = False) -> Iterator[int]:
    """:func:`select_ocr_frames` one index at a time, yielded as soon as the frame is chosen: it is
    then the frame just read, which a lazy loader still holds, so rendering it at once does not decode
    it a second time."""
    if isinstance(pixels, Frames):
        frames = pixels
    else:
        frames = Frames(pixels, "MONOCHROME2", 8, bits_stored, False, UID("1.2.840.10008.1.2.1"), False)
    n, get = frames.count, frames.frame
    if every_frame or n <= 1:
        yield from range(n)
        return
    yield 0
    last = get(0)
    for i in range(1, n):
        current = get(i)
        if changed_pixels(current, last, mask, bits_stored, delta) >= min_pixels:
            last = current
            yield i


def frame_spans(selected: list[int], n: int) -> dict[int, range]:
    """Each OCR'd frame -> the frames its boxes apply to (itself up to the next OCR'd frame)."""
    bounds = [*selected, n]
    return {s: range(s, bounds[k + 1]) for k, s in enumerate(selected)}
