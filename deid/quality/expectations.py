"""Running a suite with great-expectations (ephemeral context, Spark datasource) on a DataFrame.

Nothing is written by great-expectations itself: no project folder, no data docs, no stores. The
Spark datasource keeps the work on the cluster (staged runs can be large); only metric values come
back to the driver.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from typing import TYPE_CHECKING, Any

from deid.errors import ConfigError
from deid.quality.results import RESULT_FORMAT, ExpectationResult, from_ge
from deid.quality.suites import Suite, placeholders, resolve

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

log = logging.getLogger(__name__)
_NAME_KEY = "deid_name"


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
    """One ephemeral great-expectations context for the gate's suites."""

    def __init__(self) -> None:
        self._ctx = _context()
        self._source = self._ctx.data_sources.add_spark(name="deid_spark")

    def validate(self, suite: Suite, df: DataFrame, today: dt.date) -> list[ExpectationResult]:
        """Results of every expectation of ``suite`` on ``df``, reduced to value-free counts."""
        import great_expectations as gx

        expectations = build_expectations(suite, today)
        asset = self._source.add_dataframe_asset(name=f"{suite.table}_asset")
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
