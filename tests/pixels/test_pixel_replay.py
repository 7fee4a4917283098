"""The replay of pixel decisions (scripts/replay_pixels.py ocr) decides as the stage does (issue #12):
its OCR cache keeps each line's column parts (:attr:`TextBox.parts`), so a line with a clinical column
beside an identifying one is split in a replay exactly as in :meth:`PixelStage.process`."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from deid.header.identifiers import collect_identifiers
from deid.pipeline.hooks import PixelItem
from deid.pixels.ocr import TextBox, TextPart
from deid.pixels.stage import PixelConfig, PixelStage

from .conftest import ScriptedEngine, bundled

NO_MODEL = {"classifier": {"enabled": False}}


def _line(name: str) -> TextBox:
    parts = (TextPart(2, 40, "L12-5", 0.99), TextPart(42, 60, name, 0.99))
    return TextBox(2, 2, 100, 10, f"L12-5 {name}", 0.99, parts)


def test_the_cache_keeps_column_parts() -> None:
    from replay_pixels import dump_found, load_found

    box = _line("Smith")
    data = json.loads(json.dumps(dump_found({0: [box]}, {0: range(0, 3)}, 64, 128)))
    assert load_found(data) == {0: [box]}
    assert data["spans"] == {"0": [0, 1, 2]} and (data["rows"], data["cols"]) == (64, 128)


def test_a_cache_without_parts_reads_as_lines_without_columns() -> None:
    from replay_pixels import load_found

    old = {"found": {"0": [[2, 2, 100, 10, "L12-5 Smith", 0.99]]}, "spans": {"0": [0]}, "rows": 64, "cols": 128}
    assert load_found(old) == {0: [TextBox(2, 2, 100, 10, "L12-5 Smith", 0.99)]}


def test_replayed_decisions_equal_the_stage_records() -> None:
    from replay_pixels import dump_found, stage_decisions

    ds = bundled("CT_small.dcm")
    name = str(ds.PatientName).split("^")[0]
    line = _line(name)
    stage = PixelStage(PixelConfig(**NO_MODEL), engine=ScriptedEngine(lambda img: [line]))
    ident = collect_identifiers(ds)
    (out,) = stage.process([PixelItem("c", ds, copy.deepcopy(ds), ident, "CT")])
    real = [(b.x, b.w, b.action, b.reason) for b in out.boxes]
    assert real == [(2, 40, "KEEP", "allowlist"), (42, 60, "REDACT", "header_name")]  # the column split

    cache = json.loads(json.dumps(dump_found({0: [line]}, {0: range(1)}, int(ds.Rows), int(ds.Columns))))
    replay = stage_decisions(PixelStage(PixelConfig(**NO_MODEL)), Path(ds.filename), ident, cache)
    assert [(b.x, b.w, d.action.value, d.reason) for b, d in replay[0]] == real
