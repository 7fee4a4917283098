"""benchmarks/bench_spark.py: the fitted cost, the ratios and the Scale section (no Spark started)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("bench_spark", ROOT / "benchmarks" / "bench_spark.py")
assert _spec and _spec.loader
bench = importlib.util.module_from_spec(_spec)
sys.modules["bench_spark"] = bench
_spec.loader.exec_module(bench)


@pytest.mark.parametrize(("fixed", "per"), [(30.0, 0.05), (5.0, 0.5), (0.0, 0.01)])
def test_fit_recovers_fixed_and_per_instance_cost(fixed: float, per: float) -> None:
    f = bench.fit([(n, fixed + per * n) for n in (100, 1000, 5000)])
    assert f is not None
    assert f["fixed_s"] == pytest.approx(fixed) and f["per_instance_ms"] == pytest.approx(per * 1000)
    assert f["asymptotic_instances_per_s"] == pytest.approx(1 / per)


def test_one_size_fits_nothing() -> None:
    assert bench.fit([(100, 3.0), (100, 4.0)]) is None


def _run(code: str, master: str, n: int, rate: float) -> dict:
    return {"code": code, "master": master, "instances": n, "instances_per_s": rate, "seconds": n / rate,
            "deidentified": n, "quarantined_at_ingest": 0, "quarantined": 0,
            "stages": {"list": 0.1, "gate": 2.0}}


def test_ratios_and_markdown_side_by_side() -> None:
    runs = [_run("before", "local[1]", 100, 1.0), _run("after", "local[1]", 100, 3.0),
            _run("before", "local[2]", 100, 1.5), _run("after", "local[2]", 100, 5.4)]
    r = bench.ratios(runs, engine=10.0)
    assert r["after n=100 local[2]/local[1]"] == pytest.approx(1.8)
    assert r["n=100 local[1] after/before"] == pytest.approx(3.0)
    assert r["after n=100 local[1] / engine alone"] == pytest.approx(0.3)
    doc = {"command": "x", "when": "now", "machine": "2 cores", "engine_files": 100, "engine_files_per_s": 10.0,
           "runs": runs, "fits": {}, "ratios": r}
    md = bench.markdown(doc)
    assert md.startswith("## Scale") and "| gate | 2.0 | 2.0 | 2.0 | 2.0 |" in md


def test_spark_jobs_are_counted_from_the_event_log(tmp_path: Path) -> None:
    folder = tmp_path / "eventlog_v2_local-1"
    folder.mkdir()
    lines = ['{"Event":"SparkListenerJobStart","Job ID":' + str(i) + '}' for i in range(3)]
    (folder / "events_1_local-1").write_text("\n".join([*lines, '{"Event":"SparkListenerJobEnd"}']) + "\n")
    (folder / "events_2_local-1").write_text(lines[0] + "\n")
    (folder / "appstatus_local-1").write_text(lines[0] + "\n")  # the status marker is no log
    assert bench.spark_jobs(tmp_path) == 4


@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="reads Linux /proc")
def test_cpu_of_the_process_tree_grows_with_work_and_is_the_drivers_without_spark() -> None:
    before, workers, kinds = bench.tree_cpu()
    sum(i * i for i in range(2_000_000))  # some CPU in this (driver) process
    after, _, kinds_after = bench.tree_cpu()
    assert after > before and workers == 0 and set(kinds_after) == {"driver"}
    assert bench.jvm_threads() == {}  # no JVM child here


def test_cpu_columns_and_the_cpu_stage_table() -> None:
    runs = [{**_run(code, "local[1]", 30, 0.5), "cpu_s": {"spark start": 10.0, "run+report": 40.0},
             "jvm_threads_cpu_s": {"C CompilerThre": 3.0}, "spark_start_s": 20.0, "deidentify_tasks": 1,
             "stage_cpu_s": {"list": 0.0, "gate": 6.5}} for code in ("before", "after")]
    doc = {"command": "x", "when": "now", "machine": "2 cores", "engine_files": 10, "engine_files_per_s": 1.0,
           "runs": runs, "fits": {}, "ratios": {}}
    md = bench.markdown(doc)
    assert "| before | local[1] | 30 | 30 | 0 | 20.0 | 60.0 | 0.50 | 50% | 10.0 | 40.0 | 3.0 | ? | 1 |" in md
    assert "CPU seconds per stage" in md and "| gate | 6.5 | 6.5 |" in md
