"""The quality gate the release asks before publishing a staged run (``Gate`` of
:mod:`deid.pipeline.release`): great-expectations suites per table plus the verification pass.

    gate = QualityGate(tables, zones, keyring, cfg.quality)   # the pipeline config's ``quality:``
    PipelineRun(spark, cfg, gate=gate).run(...)

Critical failures return False (the run is not released; ``gate.failures`` says why, value-free);
warnings are reported. Every run's results are appended to ``<output>/tables/quality_results`` and
written to ``<output>/reports/<run_id>/quality.json`` and ``quality.html``, pass or fail.
"""

from __future__ import annotations

import datetime as dt
import logging
from functools import partial
from typing import TYPE_CHECKING, Any

from deid import zones
from deid.config import QualityConfig
from deid.errors import ConfigError, QualityGateError
from deid.header.profile import Profile
from deid.keys import KeyRing
from deid.quality import store
from deid.quality.originals import KEPT
from deid.quality.results import QUALITY_RESULTS, ExpectationResult, GateReport, results_table
from deid.quality.suites import Severity, Suite, load_suite
from deid.quality.verify import (
    _METADATA_TEXT,
    HEADER,
    METADATA,
    NEEDLE_SCHEMA,
    OCR,
    OCR_RULE,
    SPARK_SCHEMA,
    SUMMARY,
    UNREADABLE,
    VerificationSummary,
    VerifyParams,
    excused_batches,
    needle_batches,
    verify_batches,
    verify_metadata_batches,
)
from deid.tables import BRONZE, CROSSWALK, RUNS, Tables, parquet_rows

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from deid.pipeline.hooks import StagedRun

log = logging.getLogger(__name__)
_MAX_MESSAGES = 10
_METADATA_COLUMNS = ("sop_instance_uid", "study_uid", "series_uid", "patient_pseudonym", "sop_class_uid",
                     "modality", "study_date", "burned_in_status", "patient_identity_removed", "profile",
                     "key_version", "output_path", "source_digest")


def _per_check(found: DataFrame) -> dict[str, Any]:
    """One aggregation of the verification rows: the summary rows' sums and the findings' count per
    check (``n``; ``v`` values, ``o`` OCR'd instances, ``lines`` OCR lines)."""
    from pyspark.sql import functions as F

    return {r["check"]: r for r in found.groupBy("check").agg(
        F.count("*").alias("n"), F.sum("n_values").alias("v"),
        F.sum(F.when(F.col("n_lines") >= 0, 1).otherwise(0)).alias("o"),
        F.sum(F.greatest(F.col("n_lines"), F.lit(0))).alias("lines")).collect()}


def _per_check_files(where: str) -> dict[str, dict[str, Any]]:
    """:func:`_per_check` of the verification rows written at ``where``, read on the driver from three
    small columns of their Parquet files (no Spark job, issue #11): per check the rows (``n``), the sum of
    ``n_values`` (``v``, None when all are null), the rows with ``n_lines >= 0`` (``o``) and the sum of
    the non-negative ``n_lines`` (``lines``)."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    out: dict[str, dict[str, Any]] = {}
    if parquet_rows(where) == 0:  # no rows (an empty write may leave no data file to read columns from)
        return out
    fs, path = zones.arrow_fs(where)
    table = pq.read_table(path, filesystem=fs, columns=["check", "n_values", "n_lines"])
    for check in pc.unique(table.column("check")).to_pylist():
        part = table.filter(pc.equal(table.column("check"), check)) if check is not None else \
            table.filter(pc.is_null(table.column("check")))
        lines = part.column("n_lines")
        known = pc.fill_null(pc.greater_equal(lines, 0), False)
        out[check] = {"check": check, "n": part.num_rows, "v": pc.sum(part.column("n_values")).as_py(),
                      "o": int(pc.sum(pc.cast(known, "int64")).as_py() or 0),
                      "lines": int(pc.sum(pc.max_element_wise(pc.fill_null(lines, 0), 0)).as_py() or 0)}
    return out


def _message(r: ExpectationResult) -> str:
    return f"{r.table_name}.{r.expectation} failed" + (f" ({r.observed})" if r.observed else "")


def _finding_message(f: dict[str, str], *, public: bool = False) -> str:
    """What to act on: the input by its bronze key (sha256; the new SOP Instance UID in copies stored in
    the de-identified zone), the attribute path, and the matcher. Never a value."""
    who = f"instance {f['sop_instance_uid']}" if public else f"input {f.get('sha256') or '?'}"
    if f["check"] == "unreadable":
        return f"{who}: staged file cannot be re-read ({f['kind']})"
    if f["kind"].startswith(("rule_", "ocr_failed")):
        return f"{who}: {f['location']} matches {f['kind']}"
    return f"{who}: {f['location']} matches an original {f['kind']} (tolerant matcher)"


class QualityGate:
    """Callable gate: ``gate(run_id, staged) -> bool``; ``failures``/``warnings``/``report`` after a call."""

    def __init__(self, tables: Tables, zs: zones.Zones, keyring: KeyRing, config: QualityConfig | None = None,
                 *, today: dt.date | None = None, profile: Profile | None = None) -> None:
        self.profile = profile  # None: the profile named in the staged metadata rows
        self.tables = tables
        self.zones = zs
        self.keyring = keyring
        self.config = config or QualityConfig()
        self.today = today
        self.failures: list[str] = []
        self.warnings: list[str] = []
        self.report: GateReport | None = None
        self.suites: list[Suite] = [load_suite(s, self.config.suite_dir) for s in self.config.suites]

    def prepare(self) -> None:
        """Import great-expectations in the background while the de-identification job runs (the
        driver only waits then; earlier, the import would hold the driver's interpreter while it plans)."""
        from deid.quality.expectations import prewarm

        prewarm()

    def needle_kinds(self, profile: Profile, keyring: KeyRing) -> tuple[str, ...] | None:
        """The needle kinds the de-identify task stages for this gate (:attr:`StagedRun.needles`), when
        the verification pass runs and the task's profile and key are the ones it would use; else None
        (the gate reads the originals again)."""
        cfg = self.config.verification
        same_profile = self.profile is None or self.profile.model_dump_json() == profile.model_dump_json()
        if not cfg.enabled or not same_profile or keyring.version != self.keyring.version:
            return None
        return tuple(cfg.kinds)

    # ------------------------------------------------------------------ the gate
    def __call__(self, run_id: str, staged: StagedRun) -> bool:
        from deid.spark_session import small_plans, sql_conf

        now = dt.datetime.now(dt.timezone.utc)
        today = self.today or now.date()
        with sql_conf(self.tables.spark, small_plans(self.tables.spark, staged.n_inputs)):  # one job per plan
            results = self._suite_results(run_id, staged, today)
            summary = self.verify(staged) if self.config.verification.enabled else None
        if summary is not None:
            results += self._verification_results(summary)
        failures, warnings, public_failures, public_warnings = self._messages(results, summary)
        self.report = GateReport(run_id, not failures, now.isoformat(), results, summary, failures, warnings,
                                 public_failures, public_warnings)
        self.failures, self.warnings = failures, warnings
        self.store(self.report, now)
        return self.report.passed

    def _suite_results(self, run_id: str, staged: StagedRun, today: dt.date) -> list[ExpectationResult]:
        """Every suite's results; each frame is validated on the driver when it is small
        (:func:`deid.quality.expectations.local_frames`: the suites' frames in one Spark job instead
        of one per metric, or one per frame), else cached and validated on Spark."""
        from deid.quality.expectations import local_frames

        frames = self.frames(run_id, staged)
        cached: list[DataFrame] = []
        results: list[ExpectationResult] = []
        try:
            from deid.quality.expectations import SuiteRunner

            names = list(dict.fromkeys(suite.table for suite in self.suites))
            local = dict(zip(names, local_frames([frames[n] for n in names]), strict=True))
            runner = SuiteRunner()
            for suite in self.suites:
                df = frames[suite.table]
                small = local[suite.table]
                if small is None:
                    cached.append(df.cache())
                results += runner.validate(suite, small if small is not None else df, today)
        except ConfigError:
            raise
        except Exception as exc:  # noqa: BLE001 - fail closed; GE messages may quote values
            raise QualityGateError(f"the expectation suites could not be run ({exc.__class__.__name__}); "
                                   "the run is not released") from None
        finally:
            for df in cached:
                df.unpersist()
        return results

    def _messages(self, results: list[ExpectationResult], summary: VerificationSummary | None
                  ) -> tuple[list[str], list[str], list[str], list[str]]:
        """(failures, warnings) naming inputs by bronze key, and the same for the de-identified zone."""
        out: list[list[str]] = []
        for public in (False, True):
            failures = [_message(r) for r in results if r.critical_failure]
            advisory: list[str] = []
            if summary is not None and summary.findings:
                rules_block = self.config.verification.ocr.rules_block
                blocking = [f for f in summary.findings if rules_block or f["check"] != "ocr_rule"]
                advisory = [_finding_message(f, public=public) for f in summary.findings if f not in blocking]
                n_blocking = summary.n_findings - (0 if rules_block else summary.n_rule_findings)
                if failures or blocking:
                    failures += [_finding_message(f, public=public) for f in blocking[:_MAX_MESSAGES]]
                    if n_blocking > _MAX_MESSAGES:
                        failures.append(f"... and {n_blocking - _MAX_MESSAGES} more verification findings")
            warnings = [_message(r) for r in results if not r.success and r.severity == Severity.WARNING.value]
            out += [failures, warnings + advisory[:_MAX_MESSAGES]]
        return out[0], out[1], out[2], out[3]

    def ensure_passed(self) -> None:
        """Raise :class:`QualityGateError` when the last call failed (for jobs that stop on failure)."""
        if self.report is None or not self.report.passed:
            raise QualityGateError("; ".join(self.failures) or "the quality gate has not passed")

    # ------------------------------------------------------------------ inputs of the suites
    def frames(self, run_id: str, staged: StagedRun) -> dict[str, DataFrame]:
        """The DataFrame each suite validates (not cached: see :meth:`_suite_results`)."""
        import pandas as pd
        from pyspark.sql import functions as F

        from deid.spark_session import pandas_frame

        spark = self.tables.spark
        md = staged.metadata.select(*_METADATA_COLUMNS)
        run_hashes = (staged.metadata.select(F.explode("crosswalk").alias("x"))
                      .select("x.kind", "x.original_hash").distinct())
        committed = self.tables.read_any(self.zones.crosswalk_table, CROSSWALK)
        base = committed if committed is not None else staged.crosswalk
        crosswalk = base.join(run_hashes, ["kind", "original_hash"], "left_semi")
        quarantine = staged.quarantine.select("sha256", "reason", "stage")
        ingest = (self.tables.read(self.zones.runs, RUNS)
                  .where((F.col("run_id") == run_id) & (F.col("stage") == "ingest"))
                  .select("stage", F.col("n_inputs"),
                          (F.coalesce("n_ingested", F.lit(0)) + F.coalesce("n_quarantined", F.lit(0))
                           + F.coalesce("n_skipped", F.lit(0))).alias("n_accounted")))
        counts = staged.counts
        # through Arrow: a list of tuples is a pickled RDD, run by Python workers of their own (issue #11)
        pending = pandas_frame(spark, pd.DataFrame(
            {"stage": ["deidentify"], "n_inputs": [int(staged.n_inputs)],
             "n_accounted": [int(counts["n_deidentified"]) + int(counts["n_quarantined"])]}),
            "stage string, n_inputs long, n_accounted long")
        runs = ingest.unionByName(pending)
        return {"metadata": md, "crosswalk": crosswalk, "quarantine": quarantine, "runs": runs}

    # ------------------------------------------------------------------ verification pass
    def needles(self, staged: StagedRun) -> tuple[str, int]:
        """Keyed needles of every original of this run (bronze rows of its released and quarantined
        inputs: those the de-identify task made, :attr:`StagedRun.needles`, else read again on the
        executors) written beside the staged run (PHI zone,
        ``<staging>/needles``: ``needle, kinds``): their location and the number of run-wide needles
        (:func:`deid.quality.verify.merge_needles`: a needle some original keeps is none). The needles
        grow with the export: they never reach the driver nor the tasks' closures; each Python
        worker of the verification pass reads them once (:func:`deid.quality.verify.load_needles`)."""
        from pyspark.sql import functions as F

        cfg = self.config.verification
        where = zones.join(staged.staging, "needles")
        if staged.needles is not None:  # made by the de-identify task from the originals it read
            rows = staged.needles
        else:
            profile = self.profile or self._staged_profile(staged)
            inputs = staged.metadata.select("sha256").unionByName(staged.quarantine.select("sha256")).distinct()
            # no dropDuplicates here: it would shuffle the content; a repeated row only repeats needles
            bronze = (self.tables.read(self.zones.bronze, BRONZE).select("sha256", "content", "blob_path")
                      .join(F.broadcast(inputs), "sha256", "left_semi"))
            rows = bronze.mapInPandas(partial(needle_batches, keyring=self.keyring, profile=profile,
                                              kinds=cfg.kinds), NEEDLE_SCHEMA)
        # a needle some original keeps is no needle (merge_needles): it is not written, so the needles'
        # count is their files' footers (no second job over them, issue #11)
        (rows.groupBy("needle").agg(F.collect_set("kind").alias("kinds"))
         .where(~F.array_contains("kinds", KEPT))
         .write.mode("overwrite").parquet(zones.spark_uri(where)))
        return where, parquet_rows(where)

    @staticmethod
    def _staged_profile(staged: StagedRun) -> Profile:
        from deid.header.profile import load_profile

        first = staged.metadata.select("profile").where("profile is not null").limit(1).collect()
        return load_profile(str(first[0]["profile"]) if first else "research")

    def verify(self, staged: StagedRun) -> VerificationSummary:
        """Run the verification pass over every staged file and metadata row (mapInPandas), results via
        staging Parquet."""
        from pyspark.sql import functions as F

        from deid.spark_session import default_cores

        cfg = self.config.verification
        needles_at, n_needles = self.needles(staged)
        params = VerifyParams(self.keyring, {}, staged.staging, cfg, needles_at=needles_at if n_needles else None)
        where = zones.join(staged.staging, "verification")
        loc = zones.spark_uri(where)
        md_cols = [c for c in ("sop_instance_uid", "sha256", "dicom_json", *_METADATA_TEXT)
                   if c in staged.metadata.columns]
        file_cols = [c for c in ("sop_instance_uid", "sha256", "staged_name", "burned_in_status")
                     if c in staged.metadata.columns]
        # a few small staged Parquet files are read as one partition: spread the (small) rows over the
        # cores so the second OCR of every image and the metadata rows' check run on all of them, not
        # on one (both passes in one job)
        cores = default_cores(self.tables.spark)
        (staged.metadata.select(*file_cols).repartition(cores)
         .mapInPandas(partial(verify_batches, params=params), SPARK_SCHEMA)
         .unionByName(staged.metadata.select(*dict.fromkeys(md_cols)).repartition(cores)
                      .mapInPandas(partial(verify_metadata_batches, params=params), SPARK_SCHEMA))
         .write.mode("overwrite").parquet(loc))
        found = self.tables.spark.read.schema(SPARK_SCHEMA).parquet(zones.spark_read_uri(where))
        per_check = _per_check_files(where)
        n_own = 0
        if any(c in per_check for c in (HEADER, METADATA)):  # only these findings can be an input's own values
            found, n_own = self._without_own_values(found, staged, params)
            if n_own:
                per_check = _per_check(found)
        agg = per_check.pop(SUMMARY, {"n": 0, "v": 0, "o": 0, "lines": 0})
        by_check = {check: int(r["n"]) for check, r in per_check.items()}
        findings = found.where(F.col("check") != SUMMARY)
        kept = [{k: str(r[k]) for k in ("sop_instance_uid", "sha256", "check", "location", "kind")}
                for r in findings.orderBy("sha256", "location", "kind").limit(cfg.max_findings).collect()
                ] if by_check else []  # a clean run: no job for the findings
        return VerificationSummary(
            n_instances=int(agg["n"] or 0), n_values=int(agg["v"] or 0), n_ocr_instances=int(agg["o"] or 0),
            n_ocr_lines=int(agg["lines"] or 0), n_findings=sum(by_check.values()), findings=kept,
            n_header_findings=sum(by_check.get(c, 0) for c in (HEADER, METADATA, UNREADABLE)),
            n_needles=n_needles, n_ocr_findings=by_check.get(OCR, 0), n_rule_findings=by_check.get(OCR_RULE, 0),
            n_own_values=n_own)

    def _without_own_values(self, found: DataFrame, staged: StagedRun, params: VerifyParams
                            ) -> tuple[DataFrame, int]:
        """The findings less those that are the input's own non-identifying values
        (:func:`deid.quality.verify.own_value`): only inputs with header or metadata findings have their
        original read again (bronze semi-join), so a clean run costs one small aggregation."""
        from pyspark.sql import functions as F

        profile = self.profile or self._staged_profile(staged)
        suspects = (found.where(F.col("check").isin(HEADER, METADATA))
                    .groupBy("sha256").agg(F.to_json(F.collect_list(F.struct(
                        "sop_instance_uid", "check", "location", "kind"))).alias("findings"))
                    .join(staged.metadata.select("sha256", "staged_name"), "sha256").cache())
        if suspects.limit(1).count() == 0:
            suspects.unpersist()
            return found, 0
        excused = (self.tables.read(self.zones.bronze, BRONZE).select("sha256", "content", "blob_path")
                   .join(F.broadcast(suspects), "sha256")
                   .mapInPandas(partial(excused_batches, params=params, profile=profile), SPARK_SCHEMA)
                   .select("sha256", "check", "location", "kind").distinct().cache())
        n_own = excused.count()
        kept = found.join(F.broadcast(excused), ["sha256", "check", "location", "kind"], "left_anti")
        suspects.unpersist()
        return kept, n_own

    def _verification_results(self, s: VerificationSummary) -> list[ExpectationResult]:
        header, pixels = s.n_header_findings, s.n_ocr_findings
        ocr = self.config.verification.ocr
        rules = s.n_rule_findings
        return [
            ExpectationResult("dicom", "no_pattern_text_in_pixels", "deid_verification_ocr_rules",
                              (Severity.CRITICAL if ocr.rules_block else Severity.WARNING).value, rules == 0,
                              s.n_ocr_lines, rules, f"{rules} date/ID-like lines in {s.n_ocr_instances} "
                              "OCR'd instances (no keyed match)"),
            ExpectationResult("dicom", "no_original_values_in_headers", "deid_verification_header",
                              Severity.CRITICAL.value, header == 0, s.n_values, header,
                              f"{header} findings in {s.n_instances} instances"),
            ExpectationResult("dicom", "no_identifying_text_in_pixels", "deid_verification_ocr",
                              Severity.CRITICAL.value, pixels == 0, s.n_ocr_lines, pixels,
                              f"{pixels} findings in {s.n_ocr_instances} OCR'd instances"
                              + ("" if ocr.enabled else " (OCR check disabled)")),
        ]

    # ------------------------------------------------------------------ storing
    def store(self, report: GateReport, now: dt.datetime) -> None:
        from deid.quality.docs import render_quality_html

        data = results_table(report.run_id, report.results, now)
        self.tables.append_arrow(data, self.zones.quality_results, QUALITY_RESULTS,
                                 app_id=f"deid-quality-{report.run_id}", version=0)
        folder = self.zones.report_dir(report.run_id)
        store.write_json(zones.join(folder, store.GATE_JSON), report.as_dict())
        zones.write_bytes(zones.join(folder, store.GATE_HTML), render_quality_html(self.suites, report).encode("utf-8"))
        # the same with inputs named by their bronze key, next to bronze (PHI zone): what to act on
        store.write_json(zones.join(self.zones.report_dir(report.run_id, phi=True), store.GATE_JSON),
                         report.as_dict(public=False))
