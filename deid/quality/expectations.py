"""Running a suite with great-expectations (ephemeral context) on a DataFrame.

Nothing is written by great-expectations itself: no project folder, no data docs, no stores. A frame
of at most :data:`LOCAL_ROWS` rows (the usual staged run's metadata, quarantine and crosswalk rows,
which hold no content) is collected once (:func:`local_frame`, one Spark job) and validated by the
pandas datasource on the driver: on Spark every expectation's metrics are Spark jobs of their own
(dozens per run, seconds of fixed cost). A larger frame stays on the cluster (Spark datasource; only
metric values come back to the driver). Both run the same expectations with the same result format.

``import great_expectations`` takes seconds: :func:`prewarm` starts it in a background thread while
the run's Spark work goes on (the gate asks for it when it is built).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
from typing import TYPE_CHECKING, Any

import pandas as pd

from deid.errors import ConfigError
from deid.quality.results import RESULT_FORMAT, ExpectationResult, from_ge
from deid.quality.suites import Suite, placeholders, resolve

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

log = logging.getLogger(__name__)
_NAME_KEY = "deid_name"
LOCAL_ROWS = 200_000  # frames up to this many rows are validated on the driver (pandas datasource)
_PREWARM: list[threading.Thread] = []


def _import_ge() -> None:
    try:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        import great_expectations  # noqa: F401
        from great_expectations.expectations.expectation_configuration import (  # noqa: F401
            ExpectationConfiguration,
        )
    except Exception:  # noqa: BLE001 - the gate imports it again (and reports a failure) when it runs
        log.debug("great-expectations could not be imported in advance")


def prewarm() -> None:
    """Import great-expectations in a background daemon thread (once per process), so that the gate
    does not wait for it after the run's Spark work."""
    if not _PREWARM:
        thread = threading.Thread(target=_import_ge, name="deid-gx-import", daemon=True)
        _PREWARM.append(thread)
        thread.start()


def local_frame(df: DataFrame, max_rows: int = LOCAL_ROWS) -> pd.DataFrame | None:
    """``df`` on the driver as pandas (exact Arrow types: dates stay dates, timestamps UTC) when it has
    at most ``max_rows`` rows, else None; one Spark job that never collects more than ``max_rows + 1``."""
    from deid.tables import collect_arrow

    table = collect_arrow(df.limit(max_rows + 1))
    if table.num_rows > max_rows:
        return None
    return table.to_pandas()


def local_frames(frames: list[DataFrame], max_rows: int = LOCAL_ROWS) -> list[pd.DataFrame | None]:
    """:func:`local_frame` of each frame, all in one Spark job (:func:`deid.tables.collect_arrow_many`)."""
    from deid.tables import collect_arrow_many

    tables = collect_arrow_many([df.limit(max_rows + 1) for df in frames])
    return [None if t.num_rows > max_rows else t.to_pandas() for t in tables]


def _context() -> Any:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    for name in ("great_expectations", "great_expectations.core"):
        logging.getLogger(name).setLevel(logging.ERROR)
    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    return ctx


def build_expectations(suite: Suite, today: dt.date) -> list[Any]:
    """GE expectation objects of a suite; an unknown type or bad kwargs is a ConfigError."""
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    values = placeholders(today)
    out = []
    for spec in suite.expectations:
        try:
            cfg = ExpectationConfiguration(type=spec.type, kwargs=resolve(spec.kwargs, values),
                                           meta={_NAME_KEY: spec.name, "severity": spec.severity.value})
            out.append(cfg.to_domain_obj())
        except ConfigError:
            raise
        except Exception as exc:  # noqa: BLE001 - GE raises many kinds for a bad type or kwargs
            raise ConfigError(f"suite {suite.table}: expectation {spec.name!r} is invalid "
                              f"({exc.__class__.__name__})") from None
    return out


def _raised(info: Any) -> bool:
    """GE reports exceptions flat or per metric; either way only the flag is read (messages may hold values)."""
    if not isinstance(info, dict):
        return False
    if "raised_exception" in info:
        return bool(info["raised_exception"])
    return any(isinstance(v, dict) and bool(v.get("raised_exception")) for v in info.values())


class SuiteRunner:
    """One ephemeral great-expectations context for the gate's suites (a Spark and a pandas
    datasource, each added when first used)."""

    def __init__(self) -> None:
        self._ctx = _context()
        self._sources: dict[str, Any] = {}

    def _source(self, local: bool) -> Any:
        kind = "pandas" if local else "spark"
        if kind not in self._sources:
            add = self._ctx.data_sources.add_pandas if local else self._ctx.data_sources.add_spark
            self._sources[kind] = add(name=f"deid_{kind}")
        return self._sources[kind]

    def validate(self, suite: Suite, df: DataFrame | pd.DataFrame, today: dt.date) -> list[ExpectationResult]:
        """Results of every expectation of ``suite`` on ``df`` (a Spark DataFrame, or a pandas frame
        from :func:`local_frame`), reduced to value-free counts."""
        import great_expectations as gx

        expectations = build_expectations(suite, today)
        source = self._source(isinstance(df, pd.DataFrame))
        asset = source.add_dataframe_asset(name=f"{suite.table}_{len(source.assets)}_asset")
        batch = asset.add_batch_definition_whole_dataframe(f"{suite.table}_all").get_batch(
            batch_parameters={"dataframe": df})
        gx_suite = gx.ExpectationSuite(name=f"deid_{suite.table}", expectations=expectations)
        res = batch.validate(gx_suite, result_format=RESULT_FORMAT)
        by_name = {s.name: s for s in suite.expectations}
        out: list[ExpectationResult] = []
        for r in res.results:
            name = str(r.expectation_config.meta.get(_NAME_KEY))
            spec = by_name[name]
            raised = _raised(r.exception_info)
            out.append(from_ge(suite.table, name, spec.type, spec.severity.value, bool(r.success),
                               dict(r.result or {}), raised))
        order = {s.name: i for i, s in enumerate(suite.expectations)}
        return sorted(out, key=lambda x: order[x.expectation])
