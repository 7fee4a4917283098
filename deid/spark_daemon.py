"""A warm Python daemon for the pipeline's Spark sessions (opt-in: ``spark.python.daemon.module``).

Spark starts one daemon per executor and forks a Python worker from it for every task that needs
one (a worker idle for a minute is stopped, so a run forks several). With PySpark's own daemon each
worker imports pandas, pyarrow, pydicom, the pipeline's modules and the header engine's libraries,
and builds the engine's word tables, again: seconds per worker on a small machine (issue #11, "where a
small run's fixed cost goes"). This daemon does that once, before it serves the first fork, so every
worker starts with them (copy-on-write), then runs PySpark's own daemon loop unchanged.

What is done before the fork creates no thread that could hold a lock in the child: imports and
pure-Python tables only. torch and transformers are not imported by default (seconds of CPU and
hundreds of MB per daemon, for runs whose free text the rules settle alone and that classify no
pixel frame: a worker imports them when a value or a frame needs them; ``DEID_DAEMON_ENCODER=1``
imports them here too), and the free-text encoder is never loaded here (building it runs torch ops,
which start the OpenMP pool). Anything that fails here is left to the workers, as without this
daemon. Nothing is written to stdout (the daemon's stdout carries its port to the JVM) and no
data is read: the tables are the packaged vocabulary and lexicons.

Works with the daemon loop of PySpark 3.5 and 4.x (``pyspark.daemon.manager``).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time

MODULE = "deid.spark_daemon"
_MODULES = ("numpy", "pandas", "pyarrow", "pyarrow.parquet", "pydicom", "deid.pipeline.process",
            "deid.pipeline.ingest", "deid.pipeline.executor", "deid.quality.verify")
_ENCODER_MODULES = ("torch", "transformers", "safetensors.torch")


def warm(encoder: bool = False) -> list[str]:
    """Import the workers' modules and build the packaged word tables; the names of the steps that
    failed (their errors are left to the workers, which meet them as without this daemon)."""
    import importlib

    failed: list[str] = []
    for name in _MODULES + (_ENCODER_MODULES if encoder else ()):
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - an optional warm-up; the worker imports it again
            failed.append(name)
    try:
        from deid.header.freetext import FreeTextCleaner
        from deid.textmatch import vocabulary

        vocabulary()
        # every rule table of the cleaner, without a scorer (no encoder, no torch op): a fixed text
        FreeTextCleaner(frozenset()).clean("Chest PA and lateral, Dr Smith, follow-up in 3 months")
    except Exception:  # noqa: BLE001 - as above
        failed.append("tables")
    return failed


def main() -> None:
    """Warm up (stdout sent to stderr meanwhile), then PySpark's daemon loop."""
    started = time.perf_counter()
    with contextlib.redirect_stdout(sys.stderr):
        failed = warm(encoder=os.environ.get("DEID_DAEMON_ENCODER", "0") == "1")
    if os.environ.get("DEID_DAEMON_VERBOSE"):
        print(f"deid daemon: warm in {time.perf_counter() - started:.1f} s"
              + (f"; not warmed: {', '.join(failed)}" if failed else ""), file=sys.stderr)
    from pyspark.daemon import manager

    manager()


if __name__ == "__main__":
    main()
