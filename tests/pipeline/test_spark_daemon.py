"""The pipeline's Python daemon (deid.spark_daemon): local sessions use it, and its warm-up finds every
module and table it names (a renamed module would silently leave the workers cold)."""

from __future__ import annotations

from deid import spark_daemon
from deid.config import SparkConfig
from deid.spark_session import DAEMON_MODULE, session_conf


def test_local_sessions_fork_their_workers_from_the_warm_daemon() -> None:
    assert session_conf(SparkConfig())["spark.python.daemon.module"] == DAEMON_MODULE == spark_daemon.MODULE
    conf = session_conf(SparkConfig(conf={"spark.python.daemon.module": "pyspark.daemon"}))
    assert conf["spark.python.daemon.module"] == "pyspark.daemon"  # a user's setting wins


def test_the_warm_up_imports_every_module_and_builds_the_tables() -> None:
    assert spark_daemon.warm(encoder=False) == []
