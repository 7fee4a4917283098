"""Ingest: DICOM binaries of an export -> bronze table (PHI zone); unreadable inputs -> quarantine.

The export is read with Spark's ``binaryFile`` source. Each file is hashed (sha256) and its file is
parsed (the whole file, to catch truncation) for a few routing fields. Files already ingested or quarantined (same
sha256) are skipped; empty, non-DICOM, truncated and over-size files go to quarantine with a reason
code. Over-size files are never loaded: ``binaryFile`` prunes their content and they are hashed by
streaming.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa

from deid import zones
from deid.config import IngestConfig
from deid.dicomio import has_pixel_data, read_dicom
from deid.errors import ConfigError, Reason
from deid.pipeline.executor import Failed, each_input
from deid.tables import BRONZE, QUARANTINE, Tables, TableSpec

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

Progress = Callable[[str, int, int], None]

STAGE = "ingest"
PARSED = TableSpec("ingest-parsed", pa.schema(
    list(BRONZE.schema) + [pa.field("reason", pa.string()), pa.field("message", pa.string())]))
_HASH_CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True)
class IngestResult:
    run_id: str
    n_listed: int
    n_ingested: int
    n_quarantined: int
    n_skipped: int


def to_frame(rows: list[dict[str, object]], spec: TableSpec) -> pd.DataFrame:
    """Rows -> a pandas frame with exactly the spec's Arrow types (missing keys become nulls)."""
    return pa.Table.from_pylist(rows, schema=spec.schema).to_pandas()


def _routing(data: bytes) -> dict[str, object]:
    ds = read_dicom(data)  # whole file: truncation inside the pixel data is detected there

    def text(keyword: str) -> str | None:
        value = ds.get(keyword)
        return str(value) if value not in (None, "") else None

    return {
        "sop_class_uid": text("SOPClassUID"), "sop_instance_uid": text("SOPInstanceUID"),
        "study_uid": text("StudyInstanceUID"), "series_uid": text("SeriesInstanceUID"),
        "modality": text("Modality"), "transfer_syntax_uid": str(ds.file_meta.TransferSyntaxUID),
        "has_pixel_data": has_pixel_data(ds),
    }


def _error_row(failed: Failed) -> dict[str, object]:
    return {"reason": failed.reason.value, "message": failed.message}


def parse_batches(batches: Iterator[pd.DataFrame], run_id: str) -> Iterator[pd.DataFrame]:
    """mapInPandas: ``binaryFile`` rows -> bronze rows, or quarantine rows (reason, message)."""
    for batch in batches:
        out = []
        now = pd.Timestamp(dt.datetime.now(dt.timezone.utc))
        for path, length, mtime, content in zip(batch["path"], batch["length"],
                                                batch["modificationTime"], batch["content"], strict=True):
            data = bytes(content) if content is not None else b""
            row: dict[str, object] = {"sha256": hashlib.sha256(data).hexdigest(), "path": path,
                                      "size": int(length), "modification_time": mtime,
                                      "run_id": run_id, "ingested_at": now}
            routing = each_input(partial(_routing, data))
            row.update(_error_row(routing) if isinstance(routing, Failed) else {**routing, "content": data})
            out.append(row)
        yield to_frame(out, PARSED)


def _store_blob(blobs: str, sha: str, data: bytes) -> str:
    """Copy a large input into the PHI zone's blob folder (idempotent: named by content hash)."""
    location = zones.join(blobs, f"{sha}.dcm")
    if not zones.is_file(location):
        zones.write_bytes(location, data)
    return location


def _parse_large(row: dict[str, object], path: str, blobs: str) -> None:
    data = zones.read_bytes(path)
    row["sha256"] = sha = hashlib.sha256(data).hexdigest()
    row.update(_routing(data))
    row["blob_path"] = _store_blob(blobs, sha, data)


def parse_large_batches(batches: Iterator[pd.DataFrame], run_id: str, blobs: str) -> Iterator[pd.DataFrame]:
    """mapInPandas over path-only rows: large files are read here (never as Spark rows), parsed,
    and stored as blobs in the PHI zone; bronze keeps the reference."""
    for batch in batches:
        now = pd.Timestamp(dt.datetime.now(dt.timezone.utc))
        for path, length, mtime in zip(batch["path"], batch["length"], batch["modificationTime"],
                                       strict=True):
            row: dict[str, object] = {"path": path, "size": int(length), "modification_time": mtime,
                                      "run_id": run_id, "ingested_at": now}
            parsed = each_input(partial(_parse_large, row, path, blobs))
            if isinstance(parsed, Failed):
                row.update(_error_row(parsed))
            row.setdefault("sha256", hashlib.sha256(b"unreadable:" + str(path).encode()).hexdigest())
            yield to_frame([row], PARSED)  # one large file per Arrow batch


def _hash_into(digest: hashlib._Hash, path: str) -> None:
    for chunk in zones.read_chunks(path, _HASH_CHUNK):
        digest.update(chunk)


def hash_oversize_batches(batches: Iterator[pd.DataFrame], run_id: str, limit: int) -> Iterator[pd.DataFrame]:
    """mapInPandas: over-size files are hashed by streaming (never loaded) and quarantined."""
    for batch in batches:
        out = []
        now = pd.Timestamp(dt.datetime.now(dt.timezone.utc))
        for path, length, mtime in zip(batch["path"], batch["length"], batch["modificationTime"],
                                       strict=True):
            digest = hashlib.sha256()
            hashed = each_input(partial(_hash_into, digest, path))
            failed = hashed if isinstance(hashed, Failed) else Failed(
                Reason.OVERSIZE, f"the file is larger than max_file_bytes={limit}")
            out.append({"sha256": digest.hexdigest(), "path": path, "size": int(length),
                        "modification_time": mtime, "run_id": run_id, "ingested_at": now,
                        **_error_row(failed)})
        yield to_frame(out, PARSED)


def list_export(spark: SparkSession, input_location: str, cfg: IngestConfig) -> DataFrame:
    """The export as Spark's ``binaryFile`` source (path, modificationTime, length, content)."""
    if not zones.exists(input_location):
        raise ConfigError("the input (export) location does not exist")
    return (spark.read.format("binaryFile")
            .option("recursiveFileLookup", str(cfg.recursive).lower())
            .option("pathGlobFilter", cfg.path_glob)
            .load(zones.spark_uri(input_location)))


def known_sha256(tables: Tables, zs: zones.Zones) -> DataFrame:
    """sha256 of every input already in bronze or quarantined at ingest."""
    from pyspark.sql import functions as F

    bronze = tables.read(zs.bronze, BRONZE).select("sha256")
    quarantined = (tables.read(zs.quarantine, QUARANTINE).where(F.col("stage") == STAGE)
                   .select("sha256"))
    return bronze.unionByName(quarantined).distinct()


def ingest(spark: SparkSession, tables: Tables, zs: zones.Zones, input_location: str, cfg: IngestConfig,
           run_id: str, progress: Progress | None = None) -> IngestResult:
    """Ingest new files of the export; commits bronze and quarantine rows (idempotent per run)."""
    from pyspark.sql import functions as F

    listing = list_export(spark, input_location, cfg)
    meta = listing.select("path", "length", "modificationTime")
    n_scanned = meta.count()
    all_files = listing.inputFiles()
    n_listed = max(len(all_files), n_scanned)
    if progress:
        progress(STAGE, 0, n_listed)
    known_oversize = (tables.read(zs.quarantine, QUARANTINE)
                      .where((F.col("stage") == STAGE) & (F.col("reason") == Reason.OVERSIZE.value))
                      .select(F.col("path"), F.col("size").alias("length")).distinct())
    small = listing.where(F.col("length") <= min(cfg.inline_max_bytes, cfg.max_file_bytes))
    large = meta.where((F.col("length") > cfg.inline_max_bytes) & (F.col("length") <= cfg.max_file_bytes))
    big = (meta.where(F.col("length") > cfg.max_file_bytes)
           .join(known_oversize, ["path", "length"], "left_anti"))
    schema = PARSED.spark_schema()
    blobs = zs.blobs
    parsed = (small.mapInPandas(lambda it: parse_batches(it, run_id), schema)
              .unionByName(large.mapInPandas(lambda it: parse_large_batches(it, run_id, blobs), schema))
              .unionByName(big.mapInPandas(lambda it: hash_oversize_batches(it, run_id, cfg.max_file_bytes),
                                           schema)))
    if len(all_files) > n_scanned:  # Spark's scan drops zero-length files: find them on the driver
        rows = _empty_file_rows(all_files, meta, run_id)
        if rows:
            parsed = parsed.unionByName(spark.createDataFrame(to_frame(rows, PARSED), schema))
    new = parsed.join(known_sha256(tables, zs), "sha256", "left_anti").dropDuplicates(["sha256"])

    staged = zones.join(zs.staging(run_id), "ingest")
    new.write.mode("overwrite").parquet(zones.spark_uri(staged))
    result = spark.read.schema(schema).parquet(zones.spark_uri(staged))
    good = result.where(F.col("reason").isNull())
    bad = result.where(F.col("reason").isNotNull())
    now = F.current_timestamp()
    quarantine_rows = (bad.withColumn("stage", F.lit(STAGE)).withColumn("profile", F.lit(None))
                       .withColumn("key_version", F.lit(None)).withColumn("quarantined_at", now))
    app_id = f"deid-{STAGE}-{run_id}"
    tables.append(good, zs.bronze, BRONZE, app_id=app_id, version=0)
    tables.append(quarantine_rows, zs.quarantine, QUARANTINE, app_id=app_id, version=0)
    n_good, n_bad = good.count(), bad.count()
    zones.remove_tree(staged)
    if progress:
        progress(STAGE, n_listed, n_listed)
    return IngestResult(run_id, n_listed, n_good, n_bad, n_listed - n_good - n_bad)


def _empty_file_rows(all_files: list[str], meta: DataFrame, run_id: str) -> list[dict[str, object]]:
    seen = {zones.deltars_uri(r["path"]) for r in meta.select("path").toLocalIterator()}
    now = dt.datetime.now(dt.timezone.utc)
    rows: list[dict[str, object]] = []
    for uri in all_files:
        if zones.deltars_uri(uri) in seen:
            continue
        size, mtime_ns = zones.file_stat(uri)
        if size != 0:
            continue
        mtime = dt.datetime.fromtimestamp(mtime_ns / 1e9, dt.timezone.utc)
        rows.append({"sha256": hashlib.sha256(b"").hexdigest(), "path": uri, "size": 0,
                     "modification_time": mtime, "run_id": run_id, "ingested_at": now,
                     "reason": Reason.EMPTY_FILE.value, "message": "the file has zero bytes"})
    return rows
