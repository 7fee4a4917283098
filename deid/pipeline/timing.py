"""Per-stage wall-clock timers of one run, kept in the run report (``timings.json``).

Stages are timed on the driver around the Spark actions they trigger (Spark is lazy: the executors'
work of a stage is inside the action that writes its output). Names are fixed words, values seconds;
no data values or input locations are recorded. While a stage runs, its name is the Spark job
description (``spark.job.description``), so the event log and Spark's UI attribute every job to its
stage. The Spark event log of the run, when
``spark.eventLog.enabled`` is set (``spark.conf`` in the configuration), is recorded by location so a
user can open it in Spark's history server.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from deid import zones

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

TIMINGS_JSON = "timings.json"
_DESCRIPTION = "spark.job.description"


def _active_context() -> Any:
    """The driver's running SparkContext, or None (no pyspark imported, none started, Spark Connect)."""
    pyspark = sys.modules.get("pyspark")
    if pyspark is None:
        return None
    return getattr(pyspark.SparkContext, "_active_spark_context", None)


@dataclass
class StageTimes:
    """Seconds per stage, in the order first seen; a stage timed twice adds up."""

    seconds: dict[str, float] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        sc = _active_context()
        before = sc.getLocalProperty(_DESCRIPTION) if sc is not None else None
        if sc is not None:
            sc.setLocalProperty(_DESCRIPTION, f"deid: {name}")
        try:
            yield
        finally:
            if sc is not None:
                sc.setLocalProperty(_DESCRIPTION, before)  # type: ignore[arg-type] # None unsets it
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - t0

    def total(self) -> float:
        return time.perf_counter() - self.started


def event_log_location(spark: SparkSession) -> str | None:
    """Where Spark writes this application's event log; None when event logging is off."""
    conf = spark.sparkContext.getConf()
    if conf.get("spark.eventLog.enabled", "false").lower() != "true":
        return None
    folder = conf.get("spark.eventLog.dir", "file:/tmp/spark-events") or ""
    # Spark 4 rolls event logs by default (a folder eventlog_v2_<app id>); Spark 3.5 writes one file
    rolling = conf.get("spark.eventLog.rolling.enabled", str(spark.version >= "4").lower()).lower() == "true"
    name = ("eventlog_v2_" if rolling else "") + str(spark.sparkContext.applicationId)
    return f"{folder.rstrip('/')}/{name}"


def write_timings(location: str, times: StageTimes, *, n_inputs: int, event_log: str | None) -> None:
    """``timings.json`` in the run's report folder (de-identified zone: stage names and seconds)."""
    doc = {"stages": {k: round(v, 4) for k, v in times.seconds.items()}, "total_s": round(times.total(), 4),
           "n_inputs": n_inputs, "spark_event_log": event_log}
    zones.write_bytes(zones.join(location, TIMINGS_JSON), json.dumps(doc, indent=1).encode("utf-8"))


def read_timings(location: str) -> dict[str, object] | None:
    loc = zones.join(location, TIMINGS_JSON)
    if not zones.is_file(loc):
        return None
    doc = json.loads(zones.read_bytes(loc))
    return doc if isinstance(doc, dict) else None
