"""The contracts between the pipeline and what it injects: the pixel stage and the release gate.

Pixel stage (PS3.15 E.3.1 Clean Pixel Data): anything with ``process(items) -> results`` (a
:class:`PixelHook`); :class:`deid.pixels.stage.PixelStage` is the real one, :class:`HeaderOnly` the one
used when ``pixels.enabled`` is false. It gets the whole batch of a partition at once, so OCR can
batch frames across instances, and answers one :class:`PixelResult` per :class:`PixelItem`, in order.
Box records carry geometry, label, score and a reason code, never text; their fields define the
``redactions`` and ``review`` tables (:mod:`deid.tables`).

Release gate: ``gate(run_id, staged) -> bool`` over a :class:`StagedRun`.

This module sits below the pixel stage, the tables and the quality gate in the layer order (see
``deid/__init__.py``): they import it, it imports none of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Protocol

from pydicom.dataset import Dataset

from deid.dicomio import has_pixel_data
from deid.errors import InputError
from deid.header.attest import PixelStatus
from deid.header.identifiers import Identifiers

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

__all__ = ["Box", "BoxRecord", "Gate", "HeaderOnly", "PixelHook", "PixelItem", "PixelResult", "PixelStatus",
           "ReviewRecord", "StagedRun", "gate_needle_kinds", "keep_instance_uid", "prepare_gate", "record_fields"]

REDACT = "REDACT"  # BoxRecord.action of a box filled in the pixels (deid.pixels.classify.Action.REDACT)


@dataclass(frozen=True)
class Box:
    """Where a text line was found (frame, pixel box) and what it was judged to be; never its text."""

    frame: int  # an OCR'd frame; the box applies up to the next OCR'd frame
    x: int
    y: int
    w: int
    h: int
    label: str
    score: float


@dataclass(frozen=True)
class BoxRecord(Box):
    """A row of the ``redactions`` table (de-identified zone), with the run id and SOP Instance UID."""

    action: str
    reason: str
    engine: str
    engine_version: str
    model_version: str


@dataclass(frozen=True)
class ReviewRecord(Box):
    """A box scored inside the review band: redacted anyway, listed (PHI zone) for a person to check."""

    model_score: float | None
    reason: str
    key: str  # the input's sha256 (the ``sha256`` column of the review table)


def record_fields(record: type) -> list[tuple[str, str]]:
    """(name, type as written) of a record's fields: the columns it contributes to a table.

    ``ReviewRecord.key`` is the input's sha256, stored as the ``sha256`` column, so it is left out.
    """
    return [(f.name, str(f.type)) for f in fields(record) if f.name != "key"]


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
    """What the pixel stage did to one instance. ``error`` set: it is quarantined with its reason."""

    status: PixelStatus
    boxes: list[BoxRecord] = field(default_factory=list)
    review: list[ReviewRecord] = field(default_factory=list)
    error: InputError | None = None
    output_syntax: str | None = None  # set when Pixel Data was rewritten

    @property
    def redacted_regions(self) -> int:
        return sum(1 for b in self.boxes if b.action == REDACT)


def keep_instance_uid(target: Dataset, uid: str) -> None:
    """A redacted image keeps its keyed SOP Instance UID (0008,0018) and (0002,0003).

    The de-identified instance is already a new instance; De-identification Method Code Sequence
    (0012,0064) code 113101 (Clean Pixel Data) says its pixels were changed. One UID per original
    keeps every reference to it (Referenced/Source Image Sequence, SR, KOS, presentation states)
    resolvable, so an encoder that generated a new UID (pydicom's ``compress``/``decompress`` default)
    is undone here.
    """
    if uid and str(target.get("SOPInstanceUID", "") or "") != uid:
        target.SOPInstanceUID = uid
    meta = getattr(target, "file_meta", None)
    if uid and meta is not None and str(meta.get("MediaStorageSOPInstanceUID", "") or "") != uid:
        meta.MediaStorageSOPInstanceUID = uid


class PixelHook(Protocol):
    """A pixel stage: picklable (it travels to the executors); one result per item, in order."""

    def process(self, items: list[PixelItem]) -> list[PixelResult]: ...


class HeaderOnly:
    """No pixel checking: images are UNVERIFIED (Patient Identity Removed stays NO), others NO_PIXEL_DATA."""

    def process(self, items: list[PixelItem]) -> list[PixelResult]:
        return [PixelResult(PixelStatus.UNVERIFIED if has_pixel_data(i.target) else PixelStatus.NO_PIXEL_DATA)
                for i in items]


@dataclass
class StagedRun:
    """One run's staged, uncommitted output. DataFrames have the target tables' columns."""

    run_id: str
    staging: str  # staging folder (PHI zone); DICOM files at deid.zones.staged_file(staging, staged_name)
    n_inputs: int
    metadata: DataFrame  # METADATA columns + staged_name
    quarantine: DataFrame
    crosswalk: DataFrame
    counts: dict[str, int] = field(default_factory=dict)  # n_deidentified, n_quarantined
    redactions: DataFrame | None = None  # REDACTIONS columns (de-identified zone)
    review: DataFrame | None = None  # REVIEW columns (PHI zone)
    # (needle binary, kind string): keyed needles of every original of the run that could be read, made
    # by the de-identify task for the gate that asked (``needle_kinds``); None: the gate reads them again
    needles: DataFrame | None = None


Gate = Callable[[str, StagedRun], bool]
# A gate may also have ``prepare()``: called when the run starts (the driver waits on the executors
# most of the run), e.g. to import its libraries; see :func:`prepare_gate`. And
# ``needle_kinds(profile, keyring) -> tuple[str, ...] | None``: the needle kinds of the originals the
# de-identify task should stage for it (:attr:`StagedRun.needles`); see :func:`gate_needle_kinds`.


def gate_needle_kinds(gate: object, profile: object, keyring: object) -> tuple[str, ...] | None:
    """The needle kinds the gate wants staged by the de-identify task for this profile and key (its
    optional ``needle_kinds(profile, keyring)``; see :attr:`StagedRun.needles`), or None."""
    kinds = getattr(gate, "needle_kinds", None)
    return kinds(profile, keyring) if callable(kinds) else None


def prepare_gate(gate: object) -> None:
    """Call the gate's optional ``prepare()``."""
    prepare = getattr(gate, "prepare", None)
    if callable(prepare):
        prepare()
