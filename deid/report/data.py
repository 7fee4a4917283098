"""What the run report shows, read from the tables (aggregates and pseudonymous identifiers only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from deid import zones
from deid.pipeline.timing import read_timings
from deid.quality import store
from deid.quality.results import QUALITY_RESULTS
from deid.tables import METADATA, QUARANTINE, RUNS, Tables


@dataclass
class StageRow:
    stage: str
    status: str
    started_at: Any
    finished_at: Any
    n_inputs: int | None
    n_done: int | None  # ingested (ingest) or de-identified (deidentify)
    n_quarantined: int | None
    n_skipped: int | None

    @property
    def seconds(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return max(0.0, (self.finished_at - self.started_at).total_seconds())

    @property
    def files_per_second(self) -> float | None:
        s = self.seconds
        return (self.n_inputs or 0) / s if s else None


@dataclass
class Thumb:
    """One published instance to show: its new SOP Instance UID and output path (de-identified zone)."""

    sop_instance_uid: str
    output_path: str
    boxes: list[dict[str, Any]] = field(default_factory=list)  # frame 0 boxes: x, y, w, h, action, label
    source_digest: str = ""


@dataclass
class ReportData:
    run_id: str
    stages: list[StageRow]
    outcomes: dict[str, int]
    quarantine_reasons: dict[str, int]
    burned_in: dict[str, int]
    modalities: dict[str, int]
    quality: list[dict[str, Any]]
    gate: dict[str, Any] | None  # quality.json of the run
    thumbs: list[Thumb]
    review_location: str
    timings: dict[str, Any] | None = None  # timings.json of the run: seconds per stage, Spark event log


def _group_counts(df: Any, columns: tuple[str, ...]) -> list[dict[str, Any]]:
    """Row counts per combination of ``columns``: one Spark job for several :func:`_by` tallies."""
    return [r.asDict() for r in df.groupBy(*columns).count().collect()]


def _by(groups: list[dict[str, Any]], column: str) -> dict[str, int]:
    """Row counts per value of ``column`` from :func:`_group_counts` rows, in the column's order (nulls
    first, as Spark's ``orderBy``), keys as text."""
    out: dict[Any, int] = {}
    for g in groups:
        out[g[column]] = out.get(g[column], 0) + int(g["count"])
    return {str(k): out[k] for k in sorted(out, key=lambda k: (k is not None, k if k is not None else ""))}


def stage_rows(tables: Tables, zs: zones.Zones, run_id: str) -> list[StageRow]:
    runs = tables.read_arrow(zs.runs, RUNS).to_pylist()
    out = []
    for r in sorted((r for r in runs if r["run_id"] == run_id), key=lambda r: str(r["started_at"])):
        done = r["n_ingested"] if r["stage"] == "ingest" else r["n_deidentified"]
        out.append(StageRow(r["stage"], r["status"], r["started_at"], r["finished_at"], r["n_inputs"], done,
                            r["n_quarantined"], r["n_skipped"]))
    return out


def gather(tables: Tables, zs: zones.Zones, run_id: str, max_thumbs: int = 24) -> ReportData:
    """Everything the report needs for ``run_id``; quarantine rows only as counts by reason code."""
    from deid.spark_session import small_plans, sql_conf

    # the tallies' small shuffles without adaptive execution: one Spark job per action (issue #11)
    with sql_conf(tables.spark, small_plans(tables.spark, 0)):
        return _gather(tables, zs, run_id, max_thumbs)


def _gather(tables: Tables, zs: zones.Zones, run_id: str, max_thumbs: int) -> ReportData:
    from pyspark.sql import functions as F

    md = tables.read(zs.metadata, METADATA).where(F.col("run_id") == run_id)
    q = (tables.read(zs.quarantine, QUARANTINE).where(F.col("run_id") == run_id)
         .select("stage", "reason"))
    q_groups = _group_counts(q, ("stage", "reason"))  # one job for both tallies
    reasons, by_stage = _by(q_groups, "reason"), _by(q_groups, "stage")
    md_groups = _group_counts(md.fillna({"modality": "(none)"}), ("burned_in_status", "modality"))
    n_md = sum(int(g["count"]) for g in md_groups)
    outcomes = {"de-identified": n_md, **{f"quarantined at {k}": v for k, v in by_stage.items()}}
    quality: list[dict[str, Any]] = []
    qloc = zs.quality_results
    if tables.exists(qloc):
        quality = [r for r in tables.read_arrow(qloc, QUALITY_RESULTS).to_pylist() if r["run_id"] == run_id]
    gate = store.read_json(zones.join(zs.report_dir(run_id), store.GATE_JSON))
    sample = (md.where(F.col("frames").isNotNull() & (F.col("frames") > 0))
              .select("sop_instance_uid", "output_path", "source_digest")
              .orderBy("sop_instance_uid").limit(max_thumbs).collect())
    thumbs = [Thumb(str(r["sop_instance_uid"]), str(r["output_path"]), [], str(r["source_digest"] or ""))
              for r in sample]
    red = tables.read_any(zs.redactions)
    if red is not None and thumbs:
        uids = [t.sop_instance_uid for t in thumbs]
        boxes = (red.where(F.col("sop_instance_uid").isin(uids) & (F.col("frame") == 0))
                 .select("sop_instance_uid", "x", "y", "w", "h", "action", "label").collect())
        by_uid: dict[str, list[dict[str, Any]]] = {}
        for b in boxes:
            by_uid.setdefault(str(b["sop_instance_uid"]), []).append(b.asDict())
        for t in thumbs:
            t.boxes = by_uid.get(t.sop_instance_uid, [])
    review = zs.review
    return ReportData(run_id, stage_rows(tables, zs, run_id), outcomes, reasons, _by(md_groups, "burned_in_status"),
                      _by(md_groups, "modality"), quality, gate, thumbs, str(review),
                      read_timings(zs.report_dir(run_id)))
