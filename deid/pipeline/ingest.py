"""Ingest: DICOM binaries of an export -> bronze table (PHI zone); unreadable inputs -> quarantine.

The export is listed literally and totally by :mod:`deid.pipeline.listing` (never as a Spark glob);
executors read each listed file by its location. Each file is hashed (sha256) and parsed (the whole
file, to catch truncation) for a few routing fields. Files already ingested or quarantined (same
sha256) are skipped; empty, non-DICOM, truncated, over-size and unreadable files and entries that are
not plain files (FIFOs, dangling or outside links, undecodable names) go to quarantine with a reason
code. Over-size files are never loaded: they are hashed by streaming.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa

from deid import zones
from deid.config import IngestConfig
from deid.dicomio import has_pixel_data, quietly, read_dicom
from deid.errors import Reason
from deid.pipeline.executor import Failed, each_input
from deid.pipeline.listing import EntryReader, Listing, list_input
from deid.pipeline.timing import StageTimes
from deid.spark_session import pandas_frame, small_plans, sql_conf
from deid.tables import BRONZE, QUARANTINE, Tables, TableSpec

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

log = logging.getLogger(__name__)
Progress = Callable[[str, int, int], None]

STAGE = "ingest"
PARSED = TableSpec("ingest-parsed", pa.schema(
    list(BRONZE.schema) + [pa.field("reason", pa.string()), pa.field("message", pa.string())]))
_HASH_CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True)
class IngestResult:
    """Counts of one ingest, each counted on its own rows (none is a remainder of another).

    ``n_listed``: entries the listing saw; ``n_ingested``: new bronze rows; ``n_quarantined``: new
    quarantine rows; ``n_skipped``: entries already known (their content is in bronze or quarantined at
    ingest, or another entry of this run has the same content); ``reasons`` counts the quarantined
    entries by reason code. The run reconciles when the four add up.
    """

    run_id: str
    n_listed: int
    n_ingested: int
    n_quarantined: int
    n_skipped: int
    n_excluded: int = 0  # not matching ingest.path_glob / below the top level when not recursive
    reasons: tuple[tuple[str, int], ...] = ()

    def summary_lines(self) -> list[str]:
        """The run summary: every count, every quarantine reason (no paths, no values)."""
        lines = [f"ingest: {self.n_listed} entries, {self.n_ingested} new, {self.n_quarantined} quarantined, "
                 f"{self.n_skipped} already known, {self.n_excluded} excluded by ingest.path_glob/recursive"]
        lines += [f"  quarantined {reason}: {n}" for reason, n in self.reasons]
        return lines

    @property
    def n_known(self) -> int:
        return self.n_skipped

    @property
    def n_unaccounted(self) -> int:
        """Listed entries with no outcome (0 when the run reconciles; negative when counted twice)."""
        return self.n_listed - self.n_ingested - self.n_quarantined - self.n_skipped

    @property
    def reconciles(self) -> bool:
        return self.n_unaccounted == 0


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


@quietly
def parse_batches(batches: Iterator[pd.DataFrame], run_id: str, reader: EntryReader,
                  budget: int = 64 * 1024 * 1024) -> Iterator[pd.DataFrame]:
    """mapInPandas: listed files (path, length, modificationTime) -> bronze rows, or quarantine rows
    (reason, message). Files are read here by their literal location; output batches hold at most
    about ``budget`` bytes of content."""
    out: list[dict[str, object]] = []
    held = 0
    for batch in batches:
        now = pd.Timestamp(dt.datetime.now(dt.timezone.utc))
        for path, length, mtime in zip(batch["path"], batch["length"], batch["modificationTime"], strict=True):
            row: dict[str, object] = {"path": path, "size": int(length), "modification_time": mtime,
                                      "run_id": run_id, "ingested_at": now}
            data = each_input(partial(reader.read, path))
            if isinstance(data, Failed):  # unreadable: keyed by its location, quarantined
                row["sha256"] = hashlib.sha256(b"unreadable:" + str(path).encode()).hexdigest()
                row.update(_error_row(data))
                out.append(row)
                continue
            row["sha256"], row["size"] = hashlib.sha256(data).hexdigest(), len(data)
            routing = each_input(partial(_routing, data))
            if isinstance(routing, Failed):
                row.update(_error_row(routing))
            else:
                row.update({**routing, "content": data})
                held += len(data)
            out.append(row)
            if held >= budget:
                yield to_frame(out, PARSED)
                out, held = [], 0
    if out:
        yield to_frame(out, PARSED)


def _store_blob(blobs: str, sha: str, data: bytes) -> str:
    """Copy a large input into the PHI zone's blob folder (idempotent: named by content hash)."""
    location = zones.join(blobs, f"{sha}.dcm")
    if not zones.is_file(location):
        zones.write_bytes(location, data)
    return location


def _parse_large(row: dict[str, object], path: str, blobs: str, reader: EntryReader) -> None:
    data = reader.read(path)
    row["sha256"] = sha = hashlib.sha256(data).hexdigest()
    row.update(_routing(data))
    row["blob_path"] = _store_blob(blobs, sha, data)


@quietly
def parse_large_batches(batches: Iterator[pd.DataFrame], run_id: str, blobs: str,
                        reader: EntryReader) -> Iterator[pd.DataFrame]:
    """mapInPandas over path-only rows: large files are read here (never as Spark rows), parsed,
    and stored as blobs in the PHI zone; bronze keeps the reference."""
    for batch in batches:
        now = pd.Timestamp(dt.datetime.now(dt.timezone.utc))
        for path, length, mtime in zip(batch["path"], batch["length"], batch["modificationTime"],
                                       strict=True):
            row: dict[str, object] = {"path": path, "size": int(length), "modification_time": mtime,
                                      "run_id": run_id, "ingested_at": now}
            parsed = each_input(partial(_parse_large, row, path, blobs, reader))
            if isinstance(parsed, Failed):
                row.update(_error_row(parsed))
            row.setdefault("sha256", hashlib.sha256(b"unreadable:" + str(path).encode()).hexdigest())
            yield to_frame([row], PARSED)  # one large file per Arrow batch


def _hash_into(digest: hashlib._Hash, path: str, reader: EntryReader) -> None:
    for chunk in reader.iter_chunks(path, _HASH_CHUNK):
        digest.update(chunk)


def hash_oversize_batches(batches: Iterator[pd.DataFrame], run_id: str, limit: int,
                          reader: EntryReader) -> Iterator[pd.DataFrame]:
    """mapInPandas: over-size files are hashed by streaming (never loaded) and quarantined."""
    for batch in batches:
        out = []
        now = pd.Timestamp(dt.datetime.now(dt.timezone.utc))
        for path, length, mtime in zip(batch["path"], batch["length"], batch["modificationTime"],
                                       strict=True):
            digest = hashlib.sha256()
            hashed = each_input(partial(_hash_into, digest, path, reader))
            failed = hashed if isinstance(hashed, Failed) else Failed(
                Reason.OVERSIZE, f"the file is larger than max_file_bytes={limit}")
            if isinstance(hashed, Failed):
                digest = hashlib.sha256(b"unreadable:" + str(path).encode())
            out.append({"sha256": digest.hexdigest(), "path": path, "size": int(length),
                        "modification_time": mtime, "run_id": run_id, "ingested_at": now,
                        **_error_row(failed)})
        yield to_frame(out, PARSED)


def list_export(input_location: str, cfg: IngestConfig) -> Listing:
    """The export, listed literally and totally (see :mod:`deid.pipeline.listing`)."""
    return list_input(input_location, recursive=cfg.recursive, path_glob=cfg.path_glob,
                      follow_outside_links=cfg.follow_outside_links)


def byte_bins(sizes: list[int], n_bins: int) -> list[int]:
    """Each file's bin (0..n_bins-1), largest files first into the least-loaded bin (LPT), so that
    every bin holds about the same bytes."""
    load = [0] * max(1, n_bins)
    out = [0] * len(sizes)
    for i in sorted(range(len(sizes)), key=lambda i: -sizes[i]):
        b = min(range(len(load)), key=load.__getitem__)
        out[i], load[b] = b, load[b] + max(1, sizes[i])
    return out


def n_partitions(sizes: list[int], cores: int, target_bytes: int) -> int:
    """Partitions of the listed files: about ``target_bytes`` each, at least two per core (so that the
    cores stay busy to the end), never more than the files."""
    total = sum(max(0, s) for s in sizes)
    return max(1, min(len(sizes), max(2 * cores, -(-total // max(1, target_bytes)))))


def _listed_frame(spark: SparkSession, listing: Listing, run_id: str,
                  target_bytes: int = 64 * 1024 * 1024) -> tuple[DataFrame, DataFrame]:
    """(files to read: path, length, modificationTime, in partitions of about equal bytes; PARSED
    rows of entries rejected at listing)."""
    from pyspark.sql import functions as F

    ts = pa.timestamp("us", tz="UTC")
    files = listing.files
    sizes = [e.size for e in files]
    n_parts = n_partitions(sizes, spark.sparkContext.defaultParallelism, target_bytes)
    meta = pa.table({"path": pa.array([e.location for e in files], pa.string()),
                     "length": pa.array(sizes, pa.int64()),
                     "modificationTime": pa.array([e.mtime_ns // 1000 for e in files], pa.int64()).cast(ts),
                     "_bin": pa.array(byte_bins(sizes, n_parts), pa.int32())})
    listed = pandas_frame(spark, meta.to_pandas(), "path string, length long, modificationTime timestamp, _bin int")
    # one row per bin, then a round-robin from one partition: exactly one bin per partition
    meta_df = (listed.groupBy("_bin").agg(F.collect_list(F.struct("path", "length", "modificationTime")).alias("f"))
               .coalesce(1).repartition(n_parts).select(F.explode("f").alias("x")).select("x.*"))
    now = dt.datetime.now(dt.timezone.utc)
    rows: list[dict[str, object]] = [
        {"sha256": e.pseudo_sha256, "path": e.location, "size": e.size,
         "modification_time": dt.datetime.fromtimestamp(e.mtime_ns / 1e9, dt.timezone.utc),
         "run_id": run_id, "ingested_at": now, "reason": e.reason.value if e.reason else None,
         "message": e.message} for e in listing.rejected]
    rejected = pandas_frame(spark, to_frame(rows, PARSED), PARSED.spark_schema())
    return meta_df, rejected


def known_sha256(tables: Tables, zs: zones.Zones) -> DataFrame:
    """sha256 of every input already in bronze or quarantined at ingest."""
    from pyspark.sql import functions as F

    bronze = tables.read(zs.bronze, BRONZE).select("sha256")
    quarantined = (tables.read(zs.quarantine, QUARANTINE).where(F.col("stage") == STAGE)
                   .select("sha256"))
    return bronze.unionByName(quarantined).distinct()


def _parsed(tables: Tables, zs: zones.Zones, listing: Listing, meta: DataFrame, rejected: DataFrame,
            cfg: IngestConfig, run_id: str, reader: EntryReader) -> tuple[DataFrame, list[str]]:
    """(PARSED rows of every listed entry but over-size files quarantined before; their paths).

    The driver knows every listed size: a branch (inline, large, over-size) is planned only when some
    file falls in it, and the quarantine table is read only when some file is over the limit."""
    from pyspark.sql import functions as F

    sizes = [e.size for e in listing.files]
    limit, inline = cfg.max_file_bytes, min(cfg.inline_max_bytes, cfg.max_file_bytes)
    schema = PARSED.spark_schema()
    blobs, budget = zs.blobs, cfg.inline_max_bytes
    parsed = rejected
    if any(s <= inline for s in sizes):
        small = meta.where(F.col("length") <= inline)
        parsed = parsed.unionByName(small.mapInPandas(lambda it: parse_batches(it, run_id, reader, budget), schema))
    if any(cfg.inline_max_bytes < s <= limit for s in sizes):
        large = meta.where((F.col("length") > cfg.inline_max_bytes) & (F.col("length") <= limit))
        parsed = parsed.unionByName(large.mapInPandas(lambda it: parse_large_batches(it, run_id, blobs, reader),
                                                      schema))
    known_big: list[str] = []
    if any(s > limit for s in sizes):
        known_oversize = (tables.read(zs.quarantine, QUARANTINE)
                          .where((F.col("stage") == STAGE) & (F.col("reason") == Reason.OVERSIZE.value))
                          .select(F.col("path"), F.col("size").alias("length")).distinct())
        all_big = meta.where(F.col("length") > limit)
        big = all_big.join(known_oversize, ["path", "length"], "left_anti")  # not hashed again
        known_big = [r["path"] for r in all_big.join(known_oversize, ["path", "length"], "left_semi").collect()]
        parsed = parsed.unionByName(big.mapInPandas(lambda it: hash_oversize_batches(it, run_id, limit, reader),
                                                    schema))
    return parsed, known_big


def ingest(spark: SparkSession, tables: Tables, zs: zones.Zones, input_location: str, cfg: IngestConfig,
           run_id: str, progress: Progress | None = None, times: StageTimes | None = None) -> IngestResult:
    """Ingest new files of the export; commits bronze and quarantine rows (idempotent per run)."""

    t = times or StageTimes()
    with t.stage("list"):
        listing = list_export(input_location, cfg)
    reader = EntryReader(listing.root)
    n_listed = len(listing.entries)
    if progress:
        progress(STAGE, 0, n_listed)
    meta, rejected = _listed_frame(spark, listing, run_id)
    parsed, known_big = _parsed(tables, zs, listing, meta, rejected, cfg, run_id, reader)
    schema = PARSED.spark_schema()
    staged = zones.join(zs.staging(run_id), "ingest")
    # the listing's small shuffles (files into byte bins) and the keys' join without adaptive execution,
    # which makes every shuffle stage a Spark job of its own (issue #11: 3 jobs each, now 1)
    plans = small_plans(spark, n_listed)
    with t.stage("ingest parse"), sql_conf(spark, plans):  # no join here: the content is written once
        parsed.write.mode("overwrite").parquet(zones.spark_uri(staged))
    result = spark.read.schema(schema).parquet(zones.spark_read_uri(staged))
    with t.stage("ingest reconcile"), sql_conf(spark, plans):  # one action: staged keys, flagged when known
        keys = _staged_keys(tables, zs, result)
    lost = unscanned_rows(listing, {k.path for k in keys} | set(known_big), run_id)
    if lost:  # listed, but no row came back for it: a quarantine row, never a silent loss
        keys += _lost_keys(tables, zs, lost)
    chosen = choose_new(keys)
    by_reason = Counter(k.reason for k in chosen)
    n_good = by_reason.pop(None, 0)
    reasons = tuple(sorted((str(r), n) for r, n in by_reason.items()))
    n_bad = sum(by_reason.values())
    # already known: an over-size file quarantined before (same path and size), content in bronze or
    # quarantine before, or a second entry with the same content in this run
    n_known = len(known_big) + len(keys) - n_good - n_bad
    with t.stage("bronze write"):
        _commit_new(spark, tables, zs, result, chosen, run_id)
    zones.remove_tree(staged)
    if progress:
        progress(STAGE, n_listed, n_listed)
    res = IngestResult(run_id, n_listed, n_good, n_bad, n_known, n_excluded=listing.n_excluded, reasons=reasons)
    if not res.reconciles:
        log.warning("ingest %s does not reconcile: %d listed, %d ingested, %d quarantined, %d already known",
                    run_id, n_listed, n_good, n_bad, n_known)
    return res


@dataclass(frozen=True)
class StagedKey:
    """One staged (or lost) row on the driver, without content: what the counts and the quarantine
    rows need. ``mtime_us``: the modification time in microseconds since the epoch (UTC)."""

    sha256: str
    path: str
    reason: str | None
    message: str | None
    size: int | None
    mtime_us: int | None
    known: bool


def _staged_keys(tables: Tables, zs: zones.Zones, result: DataFrame) -> list[StagedKey]:
    """Every staged row's keys (no content), flagged ``known`` when its content is in bronze or was
    quarantined at ingest before: one Spark action. One row per listed entry, like the listing the
    driver holds already."""
    from pyspark.sql import functions as F

    known = known_sha256(tables, zs).withColumn("_known", F.lit(True))
    rows = (result.select("sha256", "path", "reason", "message", "size",
                          F.unix_micros("modification_time").alias("mtime_us"))
            .join(known, "sha256", "left").collect())
    return [StagedKey(r["sha256"], r["path"], r["reason"], r["message"], r["size"], r["mtime_us"],
                      bool(r["_known"])) for r in rows]


def _lost_keys(tables: Tables, zs: zones.Zones, lost: list[dict[str, object]]) -> list[StagedKey]:
    """The NOT_READ rows of entries no executor returned (rare), flagged when quarantined before."""
    from pyspark.sql import functions as F

    shas = [str(r["sha256"]) for r in lost]
    seen = {r["sha256"] for r in known_sha256(tables, zs).where(F.col("sha256").isin(shas)).collect()}
    return [StagedKey(str(r["sha256"]), str(r["path"]), str(r["reason"]), str(r["message"]),
                      int(r["size"]),  # type: ignore[call-overload]
                      _micros(r["modification_time"]), r["sha256"] in seen) for r in lost]


def _micros(when: object) -> int | None:
    if not isinstance(when, dt.datetime):
        return None
    return (when - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)) // dt.timedelta(microseconds=1)


def choose_new(keys: list[StagedKey]) -> list[StagedKey]:
    """One row per new sha256 (not ``known``): its least path (then: readable first, then the least
    reason), whatever order the rows came in."""
    best: dict[str, StagedKey] = {}
    for k in keys:
        if k.known:
            continue
        held = best.get(k.sha256)
        if held is None or _order(k) < _order(held):
            best[k.sha256] = k
    return sorted(best.values(), key=_order)


def _order(k: StagedKey) -> tuple[str, bool, str]:
    return (k.path, k.reason is not None, k.reason or "")


def _commit_new(spark: SparkSession, tables: Tables, zs: zones.Zones, result: DataFrame,
                chosen: list[StagedKey], run_id: str) -> None:
    """Bronze rows (new and readable: the staged rows, the chosen keys broadcast to them, so the
    content is not shuffled) and quarantine rows (new and not: from the driver, no content), one
    commit each."""
    from pyspark.sql import functions as F

    app_id = f"deid-{STAGE}-{run_id}"
    good = [k for k in chosen if k.reason is None]
    if good:
        keys = pandas_frame(spark, pd.DataFrame({"sha256": [k.sha256 for k in good],
                                                   "path": [k.path for k in good]}), "sha256 string, path string")
        r, c = result.alias("r"), F.broadcast(keys).alias("c")
        match = (F.col("r.sha256") == F.col("c.sha256")) & (F.col("r.path") == F.col("c.path"))
        tables.append(r.join(c, match, "left_semi"), zs.bronze, BRONZE, app_id=app_id, version=0)
    bad = [k for k in chosen if k.reason is not None]
    if bad:
        tables.append_arrow(quarantine_table(bad, run_id), zs.quarantine, QUARANTINE, app_id=app_id, version=0)


def quarantine_table(bad: list[StagedKey], run_id: str) -> pa.Table:
    """The ingest's quarantine rows (value-free: reason codes and messages, no content)."""
    now = dt.datetime.now(dt.timezone.utc)
    return pa.table({
        "sha256": [k.sha256 for k in bad], "path": [k.path for k in bad], "size": [k.size for k in bad],
        "modification_time": pa.array([k.mtime_us for k in bad], pa.int64()).cast(pa.timestamp("us", tz="UTC")),
        "stage": [STAGE] * len(bad), "reason": [k.reason for k in bad], "message": [k.message for k in bad],
        "profile": pa.nulls(len(bad), pa.string()), "key_version": pa.nulls(len(bad), pa.string()),
        "run_id": [run_id] * len(bad), "quarantined_at": pa.array([now] * len(bad), pa.timestamp("us", tz="UTC")),
    })


def unscanned_rows(listing: Listing, scanned: set[str], run_id: str) -> list[dict[str, object]]:
    """One ``NOT_READ`` quarantine row per listed entry that no executor returned a row for."""
    now = dt.datetime.now(dt.timezone.utc)
    return [{"sha256": hashlib.sha256(b"deid-unscanned\0" + e.rel).hexdigest(), "path": e.location,
             "size": e.size, "modification_time": dt.datetime.fromtimestamp(e.mtime_ns / 1e9, dt.timezone.utc),
             "run_id": run_id, "ingested_at": now, "reason": Reason.NOT_READ.value,
             "message": "the entry was listed but no content came back for it"}
            for e in listing.entries if e.location not in scanned]
