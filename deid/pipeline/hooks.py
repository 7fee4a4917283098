"""Injection points of the per-partition processor: the pixel stage and the release gate.

The pixel stage (``deid.pixels``) plugs in through :class:`PixelHook`: it gets the whole batch of a
partition at once so OCR can batch frames across instances. Until one is given, :class:`HeaderOnly`
reports ``NO_PIXEL_DATA`` or ``UNVERIFIED`` (so Patient Identity Removed stays NO for images).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from pydicom.dataset import Dataset

from deid.errors import InputError
from deid.header.attest import PixelStatus
from deid.header.identifiers import Identifiers


@dataclass
class PixelItem:
    """One instance for the pixel stage. ``original`` and ``identifiers`` are PHI (memory only)."""

    key: str  # input sha256
    original: Dataset  # as read (pixel data untouched)
    target: Dataset  # de-identified dataset; the pixel stage may replace its PixelData in place
    identifiers: Identifiers
    modality: str


@dataclass
class PixelResult:
    status: PixelStatus
    redacted_regions: int = 0
    error: InputError | None = None  # set: the instance is quarantined with error.reason
    boxes: list[Any] = field(default_factory=list)  # deid.pixels.stage.BoxRecord (no text)
    review: list[Any] = field(default_factory=list)  # deid.pixels.stage.ReviewRecord (no text)


class PixelHook(Protocol):
    """Anything with a batch method; must be picklable (it travels to the executors)."""

    def process_batch(self, items: list[PixelItem]) -> list[PixelResult]: ...


def has_pixels(ds: Dataset) -> bool:
    return any(k in ds for k in ("PixelData", "FloatPixelData", "DoubleFloatPixelData"))


class HeaderOnly:
    """No pixel checking: images are UNVERIFIED, everything else NO_PIXEL_DATA."""

    def process_batch(self, items: list[PixelItem]) -> list[PixelResult]:
        return [PixelResult(PixelStatus.UNVERIFIED if has_pixels(i.target) else PixelStatus.NO_PIXEL_DATA)
                for i in items]
