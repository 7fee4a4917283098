"""One pipeline run: zone checks, key, ingest and/or de-identify, the runs table row per stage.

Used by ``jobs/ingest.py``, ``jobs/deidentify.py`` (spark-submit) and ``deid run`` (local Spark).
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
from deid.keys import KeyRing
from deid.pipeline import faults
from deid.pipeline.deidentify import DeidentifyResult, deidentify
from deid.pipeline.grants import apply_grants
from deid.pipeline.hooks import PixelHook
from deid.pipeline.ingest import IngestResult, ingest
from deid.pipeline.release import Gate
from deid.pipeline.runlock import RunGuard
from deid.tables import RUNS, Tables

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

Progress = Callable[[str, int, int], None]


def new_run_id() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:8]


def resolve_zones(cfg: DeidConfig, *, need_input: bool) -> zones.Zones:
    z = cfg.zones
    missing = [n for n, v in (("output", z.output), ("raw", z.raw), ("crosswalk", z.crosswalk)) if not v]
    if need_input and not z.input:
        missing.insert(0, "input")
    if missing:
        raise ConfigError("zone locations missing: " + ", ".join(f"zones.{m}" for m in missing))
    assert z.output and z.raw and z.crosswalk
    zs = zones.Zones(raw=z.raw, crosswalk=z.crosswalk, output=z.output)
    zs.check(input=z.input)
    return zs


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
    keyring: KeyRing | None = None
    profile: Profile | None = None
    pixel_hook: PixelHook | None = None
    gate: Gate | None = None
    progress: Progress | None = None
    run_id: str = field(default_factory=new_run_id)

    def __post_init__(self) -> None:
        self.tables = Tables(self.spark, self.cfg.spark.backend)
        if self.pixel_hook is None:
            from deid.pixels.hook import PixelStageHook

            self.pixel_hook = PixelStageHook(self.cfg.pixels)

    def _runs_row(self, stage: str, started: dt.datetime, status: str, counts: dict[str, int | None]) -> None:
        zs = resolve_zones(self.cfg, need_input=False)
        row = {
            "run_id": [self.run_id], "stage": [stage], "started_at": [started],
            "finished_at": [dt.datetime.now(dt.timezone.utc)], "status": [status],
            "n_inputs": [counts.get("n_inputs")], "n_ingested": [counts.get("n_ingested")],
            "n_deidentified": [counts.get("n_deidentified")], "n_quarantined": [counts.get("n_quarantined")],
            "n_skipped": [counts.get("n_skipped")], "config_hash": [self.cfg.config_hash()],
            "code_version": [__version__], "profile": [self.profile.name if self.profile else None],
            "key_version": [self.keyring.version if self.keyring else None],
        }
        self.tables.append_arrow(pa.table(row), zs.runs, RUNS, app_id=f"deid-runs-{self.run_id}-{stage}",
                                 version=0)

    def _gate(self, zs: zones.Zones) -> Gate | None:
        """The injected gate, else the quality gate (``quality.enabled``), else the release's CountsGate."""
        if self.gate is None and self.cfg.quality.enabled:
            from deid.quality.gate import QualityGate

            assert self.keyring is not None
            self.gate = QualityGate(self.tables, zs, self.keyring, self.cfg.quality)
        return self.gate

    def run(self, *, do_ingest: bool, do_deidentify: bool) -> RunSummary:
        """Run the stages asked for under the output's run lock (:class:`RunGuard`: one run at a time,
        one key per output, closed PHI zones); a stage failure is recorded and re-raised."""
        zs = resolve_zones(self.cfg, need_input=do_ingest)
        if do_deidentify:
            if self.keyring is None:
                self.keyring = self.cfg.load_keyring()  # fail fast, before any Spark work
            if self.profile is None:
                self.profile = load_profile(self.cfg.profile)
        key_version = self.keyring.version if do_deidentify and self.keyring else None
        with RunGuard(zs, self.run_id, key_version=key_version):
            return self._run_stages(zs, do_ingest=do_ingest, do_deidentify=do_deidentify)

    def _run_stages(self, zs: zones.Zones, *, do_ingest: bool, do_deidentify: bool) -> RunSummary:
        summary = RunSummary(self.run_id)
        fault = faults.from_env()
        if do_ingest:
            started = dt.datetime.now(dt.timezone.utc)
            try:
                assert self.cfg.zones.input is not None
                res = ingest(self.spark, self.tables, zs, self.cfg.zones.input, self.cfg.ingest,
                             self.run_id, self.progress)
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
                                  progress=self.progress)
            except BaseException:
                self._runs_row("deidentify", started, "FAILED", {})
                raise
            summary.deid = dres
            status = "SUCCEEDED" if dres.released else "GATE_FAILED"
            self._runs_row("deidentify", started, status, {
                "n_inputs": dres.n_inputs, "n_deidentified": dres.n_deidentified if dres.released else 0,
                "n_quarantined": dres.n_quarantined if dres.released else 0,
                "n_skipped": 0 if dres.released else dres.n_inputs})
            summary.messages += list(dres.gate_failures)
            summary.messages += apply_grants(self.spark, self.cfg.crosswalk.grants, self.tables.uses_spark_delta)
            if not dres.released:
                summary.status = "GATE_FAILED"
                return summary
        summary.status = "SUCCEEDED"
        return summary
