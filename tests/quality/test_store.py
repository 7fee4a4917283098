"""Where the gate's value-free results are stored: JSON documents under the run's report folder."""

from __future__ import annotations

from pathlib import Path

from deid import zones
from deid.quality import store


def test_json_round_trip_and_absent_documents(tmp_path: Path) -> None:
    zs = zones.Zones(raw=str(tmp_path / "raw"), crosswalk=str(tmp_path / "xw"), output=str(tmp_path / "out"))
    loc = zones.join(zs.report_dir("20260101T000000Z-abcd1234"), store.GATE_JSON)
    assert store.read_json(loc) is None
    doc = {"run_id": "20260101T000000Z-abcd1234", "passed": False, "failures": ["runs.counts failed (2)"]}
    store.write_json(loc, doc)
    assert store.read_json(loc) == doc
    assert Path(loc).is_relative_to(tmp_path / "out" / "reports")
    zones.write_bytes(loc, b"[1, 2]")
    assert store.read_json(loc) is None, "only a JSON object is a gate document"
