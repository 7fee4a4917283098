"""deid.pipeline.timing: per-stage seconds add up and travel in the run report's timings.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deid.pipeline.timing import TIMINGS_JSON, StageTimes, read_timings, write_timings


def test_a_stage_timed_twice_adds_up_and_order_is_kept() -> None:
    t = StageTimes()
    for name in ("list", "parse", "list"):
        with t.stage(name):
            pass
    assert list(t.seconds) == ["list", "parse"] and all(v >= 0 for v in t.seconds.values())


def test_a_failing_stage_is_still_timed() -> None:
    t = StageTimes()
    with pytest.raises(ValueError), t.stage("gate"):
        raise ValueError
    assert "gate" in t.seconds


@pytest.mark.parametrize("event_log", [None, "file:/raw/reports/spark-events/eventlog_v2_local-1"])
def test_timings_round_trip(tmp_path: Path, event_log: str | None) -> None:
    t = StageTimes()
    with t.stage("bronze write"):
        pass
    write_timings(str(tmp_path), t, n_inputs=7, event_log=event_log)
    doc = read_timings(str(tmp_path))
    assert doc is not None and doc["n_inputs"] == 7 and doc["spark_event_log"] == event_log
    assert set(json.loads((tmp_path / TIMINGS_JSON).read_text())["stages"]) == {"bronze write"}
    assert read_timings(str(tmp_path / "absent")) is None
