"""The per-partition processor (runs on the executors inside ``mapInPandas``).

Each bronze row is read, de-identified by the header engine, passed (as a batch) to the pixel stage,
attested, written as a DICOM file into this run's staging folder (PHI zone, :func:`deid.zones.staged_file`)
and described by one result row: a metadata row or a quarantine row, plus its crosswalk records.
Errors are caught only by the per-input boundary (:func:`deid.pipeline.executor.each_input`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any

import pandas as pd
import pyarrow as pa
from pydicom.dataset import Dataset

from deid import zones
from deid.dicomio import read_dicom, write_dicom_to
from deid.errors import InputError, Reason
from deid.header.engine import DeidResult, HeaderEngine
from deid.header.profile import Profile
from deid.header.scoring import FreeTextBatch
from deid.keys import KeyRing
from deid.pipeline import faults
from deid.pipeline.executor import Failed, each_input, per_worker, source_digest
from deid.pipeline.hooks import (
    BoxRecord,
    HeaderOnly,
    PixelHook,
    PixelItem,
    PixelResult,
    ReviewRecord,
    keep_instance_uid,
    record_fields,
)
from deid.tables import CROSSWALK, METADATA, REDACTIONS, REVIEW, TableSpec

_XW_STRUCT = pa.struct([CROSSWALK.schema.field(n) for n in
                        ("kind", "pseudonym", "original_hash", "original_enc", "key_version")])
_BOX_STRUCT = pa.struct([REDACTIONS.schema.field(n) for n, _ in record_fields(BoxRecord)])
_NEEDLE_STRUCT = pa.struct([pa.field("needle", pa.binary()), pa.field("kind", pa.string())])
_REVIEW_STRUCT = pa.struct([REVIEW.schema.field(n) for n, _ in record_fields(ReviewRecord)])
RESULT = TableSpec("deid-result", pa.schema(
    [pa.field("outcome", pa.string()), pa.field("sha256", pa.string()), pa.field("reason", pa.string()),
     pa.field("message", pa.string())]
    + [f for f in METADATA.schema if f.name != "processed_at"]
    + [pa.field("crosswalk", pa.list_(_XW_STRUCT)), pa.field("staged_name", pa.string()),
       pa.field("redactions", pa.list_(_BOX_STRUCT)), pa.field("review", pa.list_(_REVIEW_STRUCT)),
       pa.field("needles", pa.list_(_NEEDLE_STRUCT))]))
OK, QUARANTINED = "ok", "quarantine"
_BULK_TAGS = (0x7FE00010, 0x7FE00008, 0x7FE00009, 0x00420011, 0x54000100, 0x56000020)


@dataclass(frozen=True)
class ProcessParams:
    """Everything the tasks need; pickled into the task closure."""

    run_id: str
    profile: Profile
    keyring: KeyRing = field(repr=False)
    staging: str  # this run's staging folder (PHI zone)
    pixel_hook: PixelHook = field(default_factory=HeaderOnly)
    fault: str | None = None
    # the gate's needle kinds (:func:`deid.pipeline.hooks.gate_needle_kinds`): each original's keyed
    # needles go in its result row, so the gate does not read the originals again; None: no needles
    needle_kinds: tuple[str, ...] | None = None


def _engine(params: ProcessParams) -> HeaderEngine:
    key = ("header-engine", params.profile.model_dump_json(), params.keyring.version)
    return per_worker(key, lambda: HeaderEngine(params.profile, params.keyring))


def staged_file_name(sha256: str) -> str:
    """Staged files are named by input (two inputs with one SOP Instance UID never collide there)."""
    return f"{sha256}.dcm"


def output_path(ds: Dataset) -> str:
    """``dicom/<StudyUID>/<SeriesUID>/<SOPInstanceUID>.dcm`` from the de-identified UIDs."""
    parts = [str(ds.get(k, "") or "").strip() for k in ("StudyInstanceUID", "SeriesInstanceUID",
                                                          "SOPInstanceUID")]
    for p in parts:
        if not p or not all(c in "0123456789." for c in p):
            raise InputError(Reason.MISSING_UID, "Study/Series/SOP Instance UID missing or not a UID")
    return f"dicom/{parts[0]}/{parts[1]}/{parts[2]}.dcm"


def _text(ds: Dataset, keyword: str) -> str | None:
    value = ds.get(keyword)
    if value is None or value == "":
        return None
    return str(value)


def _number(ds: Dataset, keyword: str, kind: type[int] | type[float]) -> int | float | None:
    """An IS/DS/US value as ``kind``; None when absent, empty or not a number."""
    try:
        value = ds.get(keyword)  # converting a malformed raw value may raise here already
        return kind(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _date(ds: Dataset, keyword: str) -> dt.date | None:
    value = str(ds.get(keyword, "") or "")
    try:
        return dt.datetime.strptime(value[:8], "%Y%m%d").date() if len(value) >= 8 else None
    except ValueError:
        return None


def _spacing(ds: Dataset) -> list[float] | None:
    value = ds.get("PixelSpacing")
    if value is None or value == "":
        return None
    try:
        return [float(v) for v in (value if isinstance(value, (list, tuple)) else list(value))]
    except (TypeError, ValueError):
        return None


def dicom_json(ds: Dataset) -> str:
    """PS3.18 F JSON of the header with bulk data (pixels, waveforms, large binaries) left out."""
    shallow = Dataset()
    for elem in ds:
        if elem.tag not in _BULK_TAGS and not (0x60000000 <= elem.tag < 0x61000000 and elem.tag & 0xFFFF == 0x3000):
            shallow.add(elem)
    data = shallow.to_json_dict(bulk_data_threshold=4096, bulk_data_element_handler=_no_bulk)
    return json.dumps(_drop_bulk(data), separators=(",", ":"), sort_keys=True)


def _no_bulk(elem: Any) -> str:
    return ""


def _drop_bulk(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _drop_bulk(v) for k, v in node.items()
                if not (isinstance(v, dict) and "BulkDataURI" in v and not v["BulkDataURI"])}
    if isinstance(node, list):
        return [_drop_bulk(v) for v in node]
    return node


def metadata_fields(ds: Dataset) -> dict[str, object]:
    """Cleaned values of the de-identified dataset for the metadata table."""
    return {
        "sop_instance_uid": _text(ds, "SOPInstanceUID"), "study_uid": _text(ds, "StudyInstanceUID"),
        "series_uid": _text(ds, "SeriesInstanceUID"), "sop_class_uid": _text(ds, "SOPClassUID"),
        "modality": _text(ds, "Modality"), "body_part": _text(ds, "BodyPartExamined"),
        "study_date": _date(ds, "StudyDate"), "manufacturer": _text(ds, "Manufacturer"),
        "model": _text(ds, "ManufacturerModelName"), "rows": _number(ds, "Rows", int),
        "columns": _number(ds, "Columns", int),
        "frames": _number(ds, "NumberOfFrames", int) or (1 if "PixelData" in ds else None),
        "pixel_spacing": _spacing(ds), "slice_thickness": _number(ds, "SliceThickness", float),
        "study_description": _text(ds, "StudyDescription"),
        "series_description": _text(ds, "SeriesDescription"),
        "dicom_json": dicom_json(ds),
    }


def _quarantine(sha: str, failed: Failed) -> dict[str, object]:
    return {"outcome": QUARANTINED, "sha256": sha, "reason": failed.reason.value, "message": failed.message}


def _finish(params: ProcessParams, engine: HeaderEngine, sha: str, res: DeidResult,
            pixel: PixelResult) -> dict[str, object]:
    if pixel.error is not None:
        raise pixel.error
    res.check()  # its free text, scored with the batch's (engine.finish), completed without error
    ds = res.dataset
    removed = engine.finalize(ds, pixel.status)
    rel = output_path(ds)
    staged_name = staged_file_name(sha)
    zones.write_with(zones.staged_file(params.staging, staged_name), partial(write_dicom_to, ds))
    row: dict[str, object] = {"outcome": OK, "sha256": sha, **metadata_fields(ds)}
    row.update({
        "run_id": params.run_id, "patient_pseudonym": res.patient_pseudonym,
        "burned_in_status": pixel.status.value, "redacted_regions": pixel.redacted_regions,
        "patient_identity_removed": removed, "profile": params.profile.name,
        "key_version": params.keyring.version, "output_path": rel,
        "source_digest": source_digest(params.keyring, sha), "staged_name": staged_name,
        "crosswalk": [{"kind": r.kind, "pseudonym": r.pseudonym, "original_hash": r.original_hash,
                       "original_enc": r.original_enc, "key_version": r.key_version}
                      for r in res.crosswalk],
        "redactions": [asdict(b) for b in pixel.boxes],
        "review": [{k: v for k, v in asdict(r).items() if k != "key"} for r in pixel.review],
    })
    return row


def _deidentify(engine: HeaderEngine, sha: str, original: Dataset, texts: FreeTextBatch
                ) -> tuple[DeidResult, PixelItem]:
    res = engine.deidentify(original, batch=texts)
    return res, PixelItem(key=sha, original=original, target=res.dataset, identifiers=res.identifiers,
                          modality=str(original.get("Modality", "") or ""))


def _needles(params: ProcessParams, original: Dataset, sha: str) -> list[dict[str, object]]:
    """The original's keyed needles for the gate (value-free: HMACs under the run's key), computed
    once the engine and the pixel stage are done with it (they change copies only)."""
    if params.needle_kinds is None:
        return []
    from deid.quality.verify import original_needles

    return [{"needle": n, "kind": k}
            for n, k in original_needles(original, params.keyring, params.profile, params.needle_kinds, sha)]


def process_rows(params: ProcessParams, rows: list[tuple[str, bytes]]) -> list[dict[str, object]]:
    """De-identify ``(sha256, content)`` rows; one result row each, in order.

    Each row's content is dropped from ``rows`` once it is parsed (the dataset holds its own values),
    so a large input is not held twice while its pixels are processed.
    """
    engine = _engine(params)
    out: list[dict[str, object]] = [{} for _ in rows]
    pending: list[tuple[int, str, DeidResult, PixelItem]] = []
    originals: list[Dataset | None] = [None] * len(rows)  # for the gate's needles, at the end
    texts = engine.free_text_batch()
    for i, (sha, content) in enumerate(rows):
        faults.maybe_fail(params.fault, "udf", sha)
        original = each_input(partial(read_dicom, content))
        rows[i] = (sha, b"")
        del content
        read = original if isinstance(original, Failed) else each_input(
            partial(_deidentify, engine, sha, original, texts))
        if isinstance(original, Dataset):
            originals[i] = original
        if isinstance(read, Failed):
            out[i] = _quarantine(sha, read)
        else:
            pending.append((i, sha, *read))
    engine.finish(texts)  # the rows' new free-text values scored in a few batched passes (issue #11)
    items = [p[3] for p in pending]
    uids = [str(item.target.get("SOPInstanceUID", "") or "") for item in items]
    batch = each_input(partial(params.pixel_hook.process, items))  # the whole batch fails together
    for item, uid in zip(items, uids, strict=True):
        keep_instance_uid(item.target, uid)  # one keyed UID per original, redacted or not
    results: list[PixelResult | Failed] = [batch] * len(items) if isinstance(batch, Failed) else list(batch)
    for (i, sha, res, _), pixel in zip(pending, results, strict=True):
        row = pixel if isinstance(pixel, Failed) else each_input(partial(_finish, params, engine, sha, res, pixel))
        out[i] = _quarantine(sha, row) if isinstance(row, Failed) else row
    for i, kept in enumerate(originals):  # inputs read but quarantined give their needles too
        if kept is not None:
            out[i]["needles"] = _needles(params, kept, rows[i][0])
    return out


def deidentify_batches(batches: Iterator[pd.DataFrame], params: ProcessParams) -> Iterator[pd.DataFrame]:
    """mapInPandas: bronze ``(sha256, content)`` -> RESULT rows."""
    for batch in batches:
        blobs = batch["blob_path"] if "blob_path" in batch else [None] * len(batch)
        small = [(str(s), bytes(c)) for s, c, b in zip(batch["sha256"], batch["content"], blobs, strict=True)
                 if b is None or not isinstance(b, str)]
        if small:
            yield pa.Table.from_pylist(process_rows(params, small), schema=RESULT.schema).to_pandas()
        for s, b in zip(batch["sha256"], blobs, strict=True):
            if isinstance(b, str):  # a large input stored in the PHI zone: one at a time
                out = _process_blob(params, str(s), b)
                yield pa.Table.from_pylist(out, schema=RESULT.schema).to_pandas()


def _process_blob(params: ProcessParams, sha: str, location: str) -> list[dict[str, object]]:
    """One large input read from its blob in the PHI zone; its bytes are held once (see process_rows)."""
    content = each_input(partial(zones.read_bytes, location))
    if isinstance(content, Failed):
        return [_quarantine(sha, content)]
    rows = [(sha, content)]
    del content
    return process_rows(params, rows)
