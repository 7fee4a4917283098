"""Spark and py4j failures -> one PHI-free :class:`deid.errors.SparkFailure` line.

Java exception messages and stack traces can carry input paths (an export path can carry a name) and
Python worker tracebacks can carry values, so the console gets the error class or Spark's error
condition only. Spark's own console logging (task failures are logged with their stack traces at
WARN/ERROR) is set to ``DEID_SPARK_LOG_LEVEL`` (default ``FATAL`` for the ``deid`` command; set it to
``WARN`` to debug, knowing the output can carry paths).
"""

from __future__ import annotations

import os
import re

from deid.errors import DeidError, SparkFailure

_SPARK_CLASSES = frozenset({"Py4JJavaError", "Py4JError", "Py4JNetworkError", "PySparkException",
                            "CapturedException", "AnalysisException", "ParseException",
                            "PythonException", "StreamingQueryException", "IllegalArgumentException",
                            "SparkRuntimeException", "SparkUpgradeException", "UnknownException",
                            "QueryExecutionException", "ArithmeticException", "NumberFormatException",
                            "DateTimeException", "SparkConnectGrpcException"})
_CONDITION = re.compile(r"^[A-Z][A-Z0-9_.]{2,80}$")
LOG_LEVEL_ENV = "DEID_SPARK_LOG_LEVEL"
CLI_LOG_LEVEL = "FATAL"


def is_spark_error(exc: BaseException) -> bool:
    return any(c.__name__ in _SPARK_CLASSES for c in type(exc).__mro__) or \
        type(exc).__module__.startswith(("py4j", "pyspark"))


def condition(exc: BaseException) -> str:
    """Spark's error condition (e.g. ``TABLE_OR_VIEW_NOT_FOUND``) when it has one, else the class."""
    for getter in ("getCondition", "getErrorClass"):
        fn = getattr(exc, getter, None)
        if callable(fn):
            try:
                value = fn()
            except Exception:  # noqa: BLE001 - py4j may fail on a dead gateway
                value = None
            if isinstance(value, str) and _CONDITION.match(value):
                return value
    return exc.__class__.__name__


def as_deid_error(exc: BaseException, *, context: str = "Spark") -> DeidError | None:
    """The PHI-free error for a Spark/py4j failure; None for anything else."""
    if isinstance(exc, DeidError):
        return exc
    if not is_spark_error(exc):
        return None
    return SparkFailure(f"{context} failed ({condition(exc)}); Spark's message is not shown because it can "
                        f"carry input paths (set {LOG_LEVEL_ENV}=WARN to see Spark's logs)")


def console_log_level() -> str:
    """The log4j level for Spark's console output (``DEID_SPARK_LOG_LEVEL``, default WARN)."""
    level = os.environ.get(LOG_LEVEL_ENV, "WARN").upper()
    return level if level in {"ALL", "DEBUG", "ERROR", "FATAL", "INFO", "OFF", "TRACE", "WARN"} else "WARN"
