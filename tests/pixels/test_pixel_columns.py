"""Lines read as one box that hold separate columns (issue #12 item 2): deid.pixels.ocr.column_parts
splits them by the recognizer's character columns, deid.pixels.classify.split_decisions decides them."""

from __future__ import annotations

import copy
import io

import numpy as np
import pydicom

from deid.header.identifiers import collect_identifiers
from deid.pipeline.hooks import PixelItem
from deid.pixels.classify import Action, Decision, Label, split_decisions
from deid.pixels.ocr import TextBox, TextPart, column_parts
from deid.pixels.stage import PixelConfig, PixelStage

from .conftest import ScriptedEngine, bundled

NO_MODEL = {"classifier": {"enabled": False}}


def _cols(text: str, step: int, gap_after: int | None = None, gap: int = 0) -> list[int]:
    """Decoder columns of the non-space characters of ``text``: ``step`` apart, ``gap`` more after the
    ``gap_after``-th non-space character."""
    out, col, k = [], 0, 0
    for ch in text:
        if ch.isspace():
            col += step
            continue
        out.append(col)
        col += step + (gap if k == gap_after else 0)
        k += 1
    return out


def test_a_wide_blank_splits_a_line_into_columns_that_tile_its_box() -> None:
    text = "CHEST PA Kowalczyk"
    cols = _cols(text, 3, gap_after=6, gap=12)  # after "CHESTPA": 12 columns (2 heights) more
    n = cols[-1] + 3
    parts = column_parts(text, cols, [0.99] * len(text), n, 100, n * 16 // 6, 16)  # a column: 1/6 height
    assert [p.text for p in parts] == ["CHEST PA", "Kowalczyk"]
    assert parts[0].x == 100 and parts[0].x + parts[0].w == parts[1].x
    assert parts[1].x + parts[1].w == 100 + n * 16 // 6
    assert "Kowalczyk" not in repr(parts)


def test_word_spaces_and_mismatched_columns_do_not_split() -> None:
    text = "CHEST PA Kowalczyk"
    cols = _cols(text, 3)  # a letter every half height, a space half a height more
    n = cols[-1] + 3
    assert column_parts(text, cols, [], n, 0, n * 16 // 6, 16) == ()  # word spaces: one column
    assert column_parts(text, cols[:-1], [], n, 0, n * 16 // 6, 16) == ()  # columns do not match the reading
    assert column_parts("A", [0], [], 2, 0, 20, 16) == ()


def _d(action: Action, reason: str) -> Decision:
    label = Label.CLINICAL if action is Action.KEEP else Label.PHI
    return Decision(label, action, 0.0 if action is Action.KEEP else 1.0, reason)


def test_split_keeps_a_vouched_column_only_beside_a_redacted_one() -> None:
    line = _d(Action.REDACT, "model")
    label, name = _d(Action.KEEP, "allowlist"), _d(Action.REDACT, "model")
    assert split_decisions(line, [label, name]) == [label, name]
    cleared = _d(Action.KEEP, "model_clear")  # the model alone: no evidence, the line's redaction stands
    assert split_decisions(line, [cleared, name]) is None
    # nothing redacted on its own: the identifying text cannot be attributed, the line stays whole
    assert split_decisions(line, [label, _d(Action.KEEP, "lexicon")]) is None
    # an unattributed column keeps the line's redaction
    assert split_decisions(line, [label, cleared, name]) == [label, line, name]


def test_split_redacts_a_firm_column_of_a_kept_line() -> None:
    line = _d(Action.KEEP, "model_clear")
    phone = _d(Action.REDACT, "rule_numeric")
    assert split_decisions(line, [_d(Action.KEEP, "allowlist"), phone]) == [line, phone]
    assert split_decisions(line, [_d(Action.REDACT, "model"), line]) is None  # the model: not firm
    assert split_decisions(line, [line]) is None


def test_stage_keeps_the_clinical_column_and_fills_the_identifying_one() -> None:
    ds = bundled("CT_small.dcm")
    name = str(ds.PatientName).split("^")[0]
    parts = (TextPart(2, 40, "L12-5", 0.99), TextPart(42, 60, name, 0.99))
    eng = ScriptedEngine(lambda img: [TextBox(2, 2, 100, 10, f"L12-5 {name}", 0.99, parts)])
    job = PixelItem("c", ds, copy.deepcopy(ds), collect_identifiers(ds), "CT")
    before = ds.pixel_array.copy()
    (out,) = PixelStage(PixelConfig(**NO_MODEL), engine=eng).process([job])
    by_x = {b.x: b for b in out.boxes}
    assert by_x[2].action == "KEEP" and by_x[2].reason == "allowlist"
    assert by_x[42].action == "REDACT" and by_x[42].reason.startswith("header_")
    buf = io.BytesIO()
    job.target.save_as(buf, enforce_file_format=True)
    after = pydicom.dcmread(io.BytesIO(buf.getvalue())).pixel_array
    assert np.array_equal(after[2:12, 2:38], before[2:12, 2:38])  # the label's pixels are untouched
    assert not np.array_equal(after[2:12, 44:100], before[2:12, 44:100])
