"""The pixel stage as the pipeline's pixel hook (``deid.pipeline.hooks.PixelHook``).

The hook itself only carries configuration (it is pickled into Spark tasks); the
:class:`deid.pixels.stage.PixelStage` - OCR engine and classifier - is built once per Python
worker and reused by every batch (iterator ``mapInPandas``).
"""

from __future__ import annotations

from pydicom.dataset import Dataset

from deid.header.attest import PixelStatus
from deid.pipeline.hooks import HeaderOnly, PixelItem, PixelResult
from deid.pixels.classify import Action
from deid.pixels.stage import PixelConfig, PixelJob, PixelOutcome, PixelStage

_STAGES: dict[str, PixelStage] = {}

_STATUS = {
    "CLEANED": PixelStatus.CLEANED,
    "NO_TEXT": PixelStatus.CLEANED,  # every frame checked and nothing to redact: the pixels are clean
    "NO_PIXEL_DATA": PixelStatus.NO_PIXEL_DATA,
    "TRUSTED_NO_BURN_IN": PixelStatus.DECLARED_NONE,
}


def worker_stage(config: PixelConfig) -> PixelStage:
    key = config.model_dump_json()
    if key not in _STAGES:
        _STAGES[key] = PixelStage(config)
    return _STAGES[key]


def to_result(outcome: PixelOutcome) -> PixelResult:
    if outcome.status == "FAILED" or outcome.error is not None:
        return PixelResult(PixelStatus.UNVERIFIED, error=outcome.error)
    redacted = [b for b in outcome.boxes if b.action == Action.REDACT.value]
    return PixelResult(_STATUS[outcome.status], redacted_regions=len(redacted),
                       boxes=list(outcome.boxes), review=list(outcome.review))


class PixelStageHook:
    """OCR, classify and redact burned-in text for a batch of instances (PS3.15 E.3.1)."""

    def __init__(self, config: PixelConfig) -> None:
        self.config = config

    def process_batch(self, items: list[PixelItem]) -> list[PixelResult]:
        if not self.config.enabled:
            return HeaderOnly().process_batch(items)
        stage = worker_stage(self.config)
        jobs = [PixelJob(i.key, i.original, i.target, i.identifiers, i.modality) for i in items]
        uids = [str(i.target.get("SOPInstanceUID", "") or "") for i in items]
        outcomes = stage.process(jobs)
        for item, uid in zip(items, uids, strict=True):
            keep_instance_uid(item.target, uid)
        return [to_result(o) for o in outcomes]


def keep_instance_uid(target: Dataset, uid: str) -> None:
    """A redacted image keeps its keyed SOP Instance UID (0008,0018) and (0002,0003).

    The de-identified instance is already a new instance; De-identification Method Code Sequence
    (0012,0064) code 113101 (Clean Pixel Data) says its pixels were changed. One UID per original
    keeps every reference to it (Referenced/Source Image Sequence, SR, KOS, presentation states)
    resolvable, so an encoder that generates a new UID is undone here.
    """
    if uid and str(target.get("SOPInstanceUID", "") or "") != uid:
        target.SOPInstanceUID = uid
    meta = getattr(target, "file_meta", None)
    if uid and meta is not None and str(meta.get("MediaStorageSOPInstanceUID", "") or "") != uid:
        meta.MediaStorageSOPInstanceUID = uid
