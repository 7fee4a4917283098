"""One pipeline run: ingest and/or de-identify, the runs table row per stage.

Used through :mod:`deid.entry` by ``jobs/ingest.py``, ``jobs/deidentify.py`` (spark-submit) and
``deid run`` (local Spark). The zones are resolved once, by the caller, and passed in.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pyarrow as pa

from deid import __version__, zones
from deid.config import DeidConfig
from deid.errors import ConfigError
from deid.header.profile import Profile, load_profile
from deid.keys import KeyRing, keyring_for
from deid.pipeline import faults
from deid.pipeline.deidentify import DeidentifyResult, deidentify
from deid.pipeline.grants import apply_grants
from deid.pipeline.hooks import Gate, PixelHook, prepare_gate
from deid.pipeline.ingest import IngestResult, ingest
from deid.pipeline.runlock import RunGuard
from deid.pipeline.timing import StageTimes, event_log_location, write_timings
from deid.tables import RUNS, Tables
from deid.zones import Zones

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

Progress = Callable[[str, int, int], None]


def new_run_id() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:8]


@dataclass
class RunSummary:
    run_id: str
    status: str = "RUNNING"
    ingest: IngestResult | None = None
    deid: DeidentifyResult | None = None
    messages: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "SUCCEEDED"


@dataclass
class PipelineRun:
    """Everything one run needs; hooks (pixel stage, gate) are injected here."""

    spark: SparkSession
    cfg: DeidConfig
    zones: Zones | None = None  # resolved from cfg (once) when not given
    keyring: KeyRing | None = None
    profile: Profile | None = None
    pixel_hook: PixelHook | None = None
    gate: Gate | None = None
    progress: Progress | None = None
    run_id: str = field(default_factory=new_run_id)
    times: StageTimes = field(default_factory=StageTimes)  # per-stage seconds (the report's timings.json)

    def __post_init__(self) -> None:
        if self.zones is None:
            self.zones = zones.resolve(self.cfg.zones, need_input=False)
        self.tables = Tables(self.spark, self.cfg.spark.backend)
        if self.pixel_hook is None:
            from deid.pixels.stage import pixel_hook

            self.pixel_hook = pixel_hook(self.cfg.pixels)

    def _runs_row(self, stage: str, started: dt.datetime, status: str, counts: dict[str, int | None]) -> None:
        with self.times.stage("runs table"):
            self._append_runs_row(stage, started, status, counts)

    def _append_runs_row(self, stage: str, started: dt.datetime, status: str,
                         counts: dict[str, int | None]) -> None:
        row = {
            "run_id": [self.run_id], "stage": [stage], "started_at": [started],
            "finished_at": [dt.datetime.now(dt.timezone.utc)], "status": [status],
            "n_inputs": [counts.get("n_inputs")], "n_ingested": [counts.get("n_ingested")],
            "n_deidentified": [counts.get("n_deidentified")], "n_quarantined": [counts.get("n_quarantined")],
            "n_skipped": [counts.get("n_skipped")], "config_hash": [self.cfg.config_hash()],
            "code_version": [__version__], "profile": [self.profile.name if self.profile else None],
            "key_version": [self.keyring.version if self.keyring else None],
        }
        assert self.zones is not None
        self.tables.append_arrow(pa.table(row), self.zones.runs, RUNS, app_id=f"deid-runs-{self.run_id}-{stage}",
                                 version=0)

    def _gate(self, zs: Zones) -> Gate | None:
        """The injected gate, else the quality gate (``quality.enabled``), else the release's CountsGate."""
        if self.gate is None and self.cfg.quality.enabled:
            from deid.quality.gate import QualityGate

            assert self.keyring is not None
            self.gate = QualityGate(self.tables, zs, self.keyring, self.cfg.quality, profile=self.profile)
        return self.gate

    def run(self, *, do_ingest: bool, do_deidentify: bool) -> RunSummary:
        """Run the stages asked for under the output's run lock (:class:`RunGuard`: one run at a time,
        one key per output, closed PHI zones); a stage failure is recorded and re-raised."""
        zs = self.zones
        assert zs is not None
        export = zs.input
        if do_ingest and not export:
            raise ConfigError("zone locations missing: zones.input")
        if do_deidentify:
            if self.keyring is None:
                self.keyring = keyring_for(self.cfg.keys)  # fail fast, before any Spark work
            if self.profile is None:
                self.profile = load_profile(self.cfg.profile)
        key_version = self.keyring.version if do_deidentify and self.keyring else None
        with RunGuard(zs, self.run_id, key_version=key_version):
            summary = self._run_stages(zs, do_ingest=do_ingest, do_deidentify=do_deidentify)
        self._write_timings(zs, summary)
        return summary

    def _write_timings(self, zs: Zones, summary: RunSummary) -> None:
        """The run's per-stage seconds and Spark event log location, beside its report."""
        n = summary.ingest.n_listed if summary.ingest else (summary.deid.n_inputs if summary.deid else 0)
        write_timings(zs.report_dir(self.run_id), self.times, n_inputs=n,
                      event_log=event_log_location(self.spark))

    def _run_stages(self, zs: Zones, *, do_ingest: bool, do_deidentify: bool) -> RunSummary:
        summary = RunSummary(self.run_id)
        fault = faults.from_env()
        export = zs.input
        if do_deidentify:  # the gate's libraries load in the background from the start (the driver waits)
            prepare_gate(self._gate(zs))
        if do_ingest:
            started = dt.datetime.now(dt.timezone.utc)
            try:
                assert export is not None
                res = ingest(self.spark, self.tables, zs, export, self.cfg.ingest,
                             self.run_id, self.progress, self.times)
            except BaseException:
                self._runs_row("ingest", started, "FAILED", {})
                raise
            summary.ingest = res
            self._runs_row("ingest", started, "SUCCEEDED", {
                "n_inputs": res.n_listed, "n_ingested": res.n_ingested, "n_quarantined": res.n_quarantined,
                "n_skipped": res.n_skipped, "n_deidentified": 0})
        if do_deidentify:
            assert self.keyring is not None and self.profile is not None
            zones.make_private_dir(zs.crosswalk)
            started = dt.datetime.now(dt.timezone.utc)
            try:
                dres = deidentify(self.spark, self.tables, zs, self.profile, self.keyring, self.run_id,
                                  pixel_hook=self.pixel_hook, gate=self._gate(zs), fault=fault,
                                  progress=self.progress, times=self.times)
            except BaseException:
                self._runs_row("deidentify", started, "FAILED", {})
                raise
            summary.deid = dres
            status = "SUCCEEDED" if dres.released else "GATE_FAILED"
            self._runs_row("deidentify", started, status, {
                "n_inputs": dres.n_inputs, "n_deidentified": dres.n_deidentified if dres.released else 0,
                "n_quarantined": dres.n_quarantined,  # recorded even when the gate holds the run
                "n_skipped": 0 if dres.released else dres.n_deidentified})  # held: pending for the next run
            summary.messages += list(dres.gate_failures)
            with self.times.stage("grants"):
                summary.messages += apply_grants(self.spark, self.cfg.crosswalk.grants,
                                                 self.tables.uses_spark_delta)
            if not dres.released:
                summary.status = "GATE_FAILED"
                return summary
        summary.status = "SUCCEEDED"
        return summary
