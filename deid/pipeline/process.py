"""The per-partition processor (runs on the executors inside ``mapInPandas``).

Each bronze row is read, de-identified by the header engine, passed (as a batch) to the pixel hook,
attested, written as a DICOM file into this run's staging folder (PHI zone) through ``pyarrow.fs``,
and described by one result row: a metadata row or a quarantine row, plus its crosswalk records.

The only broad ``except`` is the per-input boundary: an unexpected error becomes an INTERNAL_ERROR
quarantine row whose message is the exception class name (never its text, which could carry PHI).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pyarrow as pa
from pydicom.dataset import Dataset

from deid import zones
from deid.dicomio import read_dicom, write_dicom
from deid.errors import InputError, Reason
from deid.header.engine import DeidResult, HeaderEngine
from deid.header.profile import Profile
from deid.keys import KeyRing, Purpose
from deid.pipeline import faults
from deid.pipeline.hooks import HeaderOnly, PixelHook, PixelItem, PixelResult
from deid.tables import CROSSWALK, METADATA, REDACTIONS, REVIEW, TableSpec

_XW_STRUCT = pa.struct([CROSSWALK.schema.field(n) for n in
                        ("kind", "pseudonym", "original_hash", "original_enc", "key_version")])
_BOX_FIELDS = ("frame", "x", "y", "w", "h", "label", "score", "action", "reason", "engine",
               "engine_version", "model_version")
_REVIEW_FIELDS = ("frame", "x", "y", "w", "h", "label", "score", "model_score", "reason")
_BOX_STRUCT = pa.struct([REDACTIONS.schema.field(n) for n in _BOX_FIELDS])
_REVIEW_STRUCT = pa.struct([REVIEW.schema.field(n) for n in _REVIEW_FIELDS])
RESULT = TableSpec("deid-result", pa.schema(
    [pa.field("outcome", pa.string()), pa.field("sha256", pa.string()), pa.field("reason", pa.string()),
     pa.field("message", pa.string())]
    + [f for f in METADATA.schema if f.name != "processed_at"]
    + [pa.field("crosswalk", pa.list_(_XW_STRUCT)), pa.field("staged_name", pa.string()),
       pa.field("redactions", pa.list_(_BOX_STRUCT)), pa.field("review", pa.list_(_REVIEW_STRUCT))]))
OK, QUARANTINED = "ok", "quarantine"
_BULK_TAGS = (0x7FE00010, 0x7FE00008, 0x7FE00009, 0x00420011, 0x54000100, 0x56000020)


@dataclass(frozen=True)
class ProcessParams:
    """Everything the tasks need; pickled into the task closure."""

    run_id: str
    profile: Profile
    keyring: KeyRing = field(repr=False)
    staging: str  # this run's staging folder (PHI zone)
    pixel_hook: PixelHook | None = None
    fault: str | None = None


_ENGINES: dict[tuple[str, str], HeaderEngine] = {}


def _engine(params: ProcessParams) -> HeaderEngine:
    key = (params.profile.model_dump_json(), params.keyring.version)
    if key not in _ENGINES:
        _ENGINES[key] = HeaderEngine(params.profile, params.keyring)
    return _ENGINES[key]


def source_digest(keyring: KeyRing, sha256: str) -> str:
    """Keyed digest of an input's sha256: marks it done in the metadata without revealing it."""
    return keyring.mac(Purpose.CROSSWALK_HASH, b"source\x00" + sha256.encode()).hex()


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


def _int(ds: Dataset, keyword: str) -> int | None:
    try:
        value = ds.get(keyword)
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _float(ds: Dataset, keyword: str) -> float | None:
    try:
        value = ds.get(keyword)
        return float(value) if value not in (None, "") else None
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
        "model": _text(ds, "ManufacturerModelName"), "rows": _int(ds, "Rows"),
        "columns": _int(ds, "Columns"), "frames": _int(ds, "NumberOfFrames") or (1 if "PixelData" in ds else None),
        "pixel_spacing": _spacing(ds), "slice_thickness": _float(ds, "SliceThickness"),
        "study_description": _text(ds, "StudyDescription"),
        "series_description": _text(ds, "SeriesDescription"),
        "dicom_json": dicom_json(ds),
    }


def _quarantine(sha: str, reason: Reason, message: str) -> dict[str, object]:
    return {"outcome": QUARANTINED, "sha256": sha, "reason": reason.value, "message": message}


def _message(err: InputError) -> str:
    prefix = f"{err.reason.value}: "
    return err.message[len(prefix):] if err.message.startswith(prefix) else err.message


def _write(location: str, data: bytes) -> None:
    fs, path = zones.arrow_fs(location)
    fs.create_dir(path.rsplit("/", 1)[0], recursive=True)
    with fs.open_output_stream(path) as fh:
        fh.write(data)


def _finish(params: ProcessParams, engine: HeaderEngine, sha: str, res: DeidResult,
            pixel: PixelResult) -> dict[str, object]:
    if pixel.error is not None:
        raise pixel.error
    ds = res.dataset
    removed = engine.finalize(ds, pixel.status)
    rel = output_path(ds)
    staged_name = staged_file_name(sha)
    _write(zones.join(params.staging, "dicom", staged_name), write_dicom(ds))
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
        "redactions": [{f: getattr(b, f) for f in _BOX_FIELDS} for b in pixel.boxes],
        "review": [{f: getattr(r, f) for f in _REVIEW_FIELDS} for r in pixel.review],
    })
    return row


def process_rows(params: ProcessParams, rows: list[tuple[str, bytes]]) -> list[dict[str, object]]:
    """De-identify ``(sha256, content)`` rows; one result row each, in order."""
    engine = _engine(params)
    hook = params.pixel_hook or HeaderOnly()
    out: list[dict[str, object] | None] = [None] * len(rows)
    pending: list[tuple[int, str, DeidResult, PixelItem]] = []
    for i, (sha, content) in enumerate(rows):
        faults.maybe_fail(params.fault, "udf", sha)
        try:
            original = read_dicom(content)
            res = engine.deidentify(original)
            item = PixelItem(key=sha, original=original, target=res.dataset, identifiers=res.identifiers,
                             modality=str(original.get("Modality", "") or ""))
            pending.append((i, sha, res, item))
        except InputError as err:
            out[i] = _quarantine(sha, err.reason, _message(err))
        except Exception as exc:  # noqa: BLE001 - per-input boundary
            out[i] = _quarantine(sha, Reason.INTERNAL_ERROR, exc.__class__.__name__)
    try:
        pixel_results = hook.process_batch([p[3] for p in pending])
    except Exception as exc:  # noqa: BLE001 - per-input boundary (the whole batch failed)
        for i, sha, _, _ in pending:
            out[i] = _quarantine(sha, Reason.INTERNAL_ERROR, exc.__class__.__name__)
        pending = []
        pixel_results = []
    for (i, sha, res, _), pixel in zip(pending, pixel_results, strict=True):
        try:
            out[i] = _finish(params, engine, sha, res, pixel)
        except InputError as err:
            out[i] = _quarantine(sha, err.reason, _message(err))
        except Exception as exc:  # noqa: BLE001 - per-input boundary
            out[i] = _quarantine(sha, Reason.INTERNAL_ERROR, exc.__class__.__name__)
    return [r for r in out if r is not None]


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
                try:
                    out = process_rows(params, [(str(s), zones.read_bytes(b))])
                except OSError as exc:
                    out = [_quarantine(str(s), Reason.INTERNAL_ERROR, exc.__class__.__name__)]
                yield pa.Table.from_pylist(out, schema=RESULT.schema).to_pandas()
