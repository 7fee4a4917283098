"""Fill geometry of the decided boxes of one frame (:func:`deid.pixels.redact.redaction_fills`): the text a
box carries is filled, not the clinical lines around it; what is unread stays filled (default deny).
Boxes are the OCR geometry of dev seeds 602/707 (eval_0003), where a frame-sized "G" and a 163x185 "0"
blacked out four and three kept lines."""

from __future__ import annotations

import numpy as np
import pytest

from deid.pixels.redact import DecidedBox, redaction_fills


def _mask(fills: list[tuple[int, int, int, int]], rows: int = 256, cols: int = 256) -> np.ndarray:
    m = np.zeros((rows, cols), bool)
    for x, y, w, h in fills:
        m[y:y + h, x:x + w] = True
    return m


def _cover(m: np.ndarray, box: tuple[int, int, int, int]) -> float:
    x, y, w, h = box
    return float(m[y:y + h, x:x + w].mean())


KEPT = [((165, 219, 82, 13), "Right To Left"), ((131, 239, 82, 13), "Visual Alignment"),
        ((82, 105, 169, 15), "Waveform Acquired 49 mm")]
PHI = [((35, 32, 47, 11), "PH850637"), ((84, 142, 82, 12), "21.05.2014"), ((31, 237, 72, 9), "A2ACC1010497")]


def test_frame_sized_box_keeps_the_kept_lines_it_holds_and_fills_the_rest() -> None:
    boxes = ([DecidedBox((0, 0, 255, 255), True, "G")]
             + [DecidedBox(b, False, t, vouched=True) for b, t in KEPT] + [DecidedBox(b, True, t, True) for b, t in PHI])
    m = _mask(redaction_fills(boxes, 2, 256, 256))
    assert all(_cover(m, b) == 0.0 for b, _ in KEPT)
    assert all(_cover(m, b) == 1.0 for b, _ in PHI)
    assert _cover(m, (0, 60, 80, 40)) == 1.0  # no line detected there: the region stays filled
    # a redacted line overlapping a kept one is filled whole: the redacted line wins
    over = boxes + [DecidedBox((160, 215, 40, 12), True, "DOE", True)]
    assert _cover(_mask(redaction_fills(over, 2, 256, 256)), (160, 215, 40, 12)) == 1.0


@pytest.mark.parametrize(("inner", "text", "kept"), [
    ((194, 35, 20, 19), "m", False),        # a letter of the line read again: no other line
    ((120, 30, 60, 8), "Galtosal", False),  # the reading is part of the container's own reading
    ((120, 30, 60, 8), "ab", False),        # under 3 letters: no line
    ((120, 30, 60, 8), "Valve close", True),
])
def test_only_other_shorter_lines_are_cut_out(inner: tuple[int, int, int, int], text: str, kept: bool) -> None:
    container = DecidedBox((23, 24, 391, 33), True, "breast - left mr Galtosal")
    below = DecidedBox((300, 44, 60, 8), True, "PH850637", True)  # a second line under it
    m = _mask(redaction_fills([container, DecidedBox(inner, False, text, vouched=True), below], 2, 512, 512), 512, 512)
    assert (_cover(m, inner) == 0.0) is kept
    alone = _mask(redaction_fills([container, DecidedBox(inner, False, text, vouched=True)], 2, 512, 512), 512, 512)
    assert _cover(alone, inner) == 1.0  # one line inside a tall box: a fragment, no multi-line region


def test_a_piece_of_a_kept_line_is_not_filled_unless_firm() -> None:
    line = DecidedBox((75, 466, 199, 35), False, "Valve close", vouched=True)
    piece = DecidedBox((217, 480, 10, 14), True, "\u9e21")  # an unreadable mark inside the kept line
    n = DecidedBox((180, 470, 22, 20), True, "lv")            # letters of the line's reading
    assert redaction_fills([line, piece, n], 2, 512, 512) == []
    firm = DecidedBox((180, 470, 22, 20), True, "lv", firm=True)  # a header match / rule: always filled
    assert redaction_fills([line, firm], 2, 512, 512) == [(178, 468, 26, 24)]
    other = DecidedBox((180, 470, 22, 20), True, "XQ")        # not part of the line's reading
    assert redaction_fills([line, other], 2, 512, 512) == [(178, 468, 26, 24)]
    tiny = DecidedBox((180, 470, 10, 8), True, "lv")          # under 0.4 of the line's height: its own text
    assert redaction_fills([line, tiny], 2, 512, 512) == [(178, 468, 14, 12)]


def test_a_line_the_model_alone_cleared_stays_under_a_larger_fill() -> None:
    """A PHI line the model misjudged ("Castel Dell'Alpi Hospital", model 0.0x) under a frame-sized stray
    box stays filled: only lines kept on positive evidence (allowlist, lexicon) are cut out."""
    boxes = ([DecidedBox((0, 0, 255, 255), True, "G"), DecidedBox((20, 60, 150, 10), False, "Castel Dell'Alpi")]
             + [DecidedBox(b, False, t, vouched=True) for b, t in KEPT])
    m = _mask(redaction_fills(boxes, 2, 256, 256))
    assert _cover(m, (20, 60, 150, 10)) == 1.0 and all(_cover(m, b) == 0.0 for b, _ in KEPT)
    line = DecidedBox((75, 466, 199, 35), False, "Valve close")  # model-cleared: its pieces are filled
    assert redaction_fills([line, DecidedBox((180, 470, 22, 20), True, "lv")], 2, 512, 512) == [(178, 468, 26, 24)]


def test_a_multi_line_region_leaves_a_kept_line_it_only_crosses() -> None:
    """Dev seed 922 eval_0007: a 193x278 region read "2" at 0.46 over a bright patch holds two lines (PHI,
    redacted on their own) and crosses a kept clinical line half outside it: the kept line is not filled."""
    region = DecidedBox((259, 170, 193, 278), True, "2")
    phi = [DecidedBox((198, 203, 78, 14), True, "A#ACC3070258", True), DecidedBox((304, 265, 38, 15), True, "F 26y", True)]
    crossing = DecidedBox((184, 312, 137, 14), False, "Stenosis Peak Velocity", vouched=True)
    m = _mask(redaction_fills([region, *phi, crossing], 2, 512, 512), 512, 512)
    assert _cover(m, crossing.box) == 0.0
    assert all(_cover(m, p.box) == 1.0 for p in phi)
    assert _cover(m, (350, 350, 90, 40)) == 1.0  # the rest of the region stays filled
    cleared = DecidedBox((184, 312, 137, 14), False, "Stenosis Peak Velocity")  # the model alone: no hole
    assert _cover(_mask(redaction_fills([region, *phi, cleared], 2, 512, 512), 512, 512), (262, 312, 59, 14)) == 1.0


def test_a_region_read_as_one_stroke_keeps_the_vouched_line_inside_it() -> None:
    """Issue #12 (dev seed 931 eval_0006): a 346x379 "一" read off the anatomy (a region: its reading is
    far too short for its box) held the 30-px line "Processing type", kept by the lexicon; the line stays
    legible, the rest of the region stays filled."""
    region = DecidedBox((415, 483, 346, 379), True, "\u4e00", region=True)
    line = DecidedBox((512, 696, 155, 30), False, "Processing type", vouched=True)
    m = _mask(redaction_fills([region, line], 2, 1024, 1024), 1024, 1024)
    assert _cover(m, line.box) == 0.0
    assert _cover(m, (415, 483, 346, 200)) == 1.0 and _cover(m, (415, 740, 346, 120)) == 1.0
    # a region crossing the line's end (dev seed 932 eval_0006): the line is not filled either
    edge = DecidedBox((357, 444, 114, 150), True, "\u4e00", region=True)
    crossed = DecidedBox((389, 501, 448, 41), False, "Nomenclature 5.11 Hz", vouched=True)
    assert _cover(_mask(redaction_fills([edge, crossed], 2, 1024, 1024), 1024, 1024), crossed.box) == 0.0


@pytest.mark.parametrize("case", ["line_box", "firm", "tall_line", "model_cleared"])
def test_a_region_is_filled_over_what_was_not_read_and_vouched(case: str) -> None:
    line = DecidedBox((512, 696, 155, 30), False, "Processing type", vouched=True)
    region = DecidedBox((415, 483, 346, 379), True, "\u4e00", region=True)
    if case == "line_box":  # a text line (its reading explains its box) with a line inside: no region
        region = DecidedBox((415, 483, 346, 379), True, "\u4e00")
    elif case == "firm":  # a header match or a rule is always filled
        region = DecidedBox((415, 483, 346, 379), True, "\u4e00", firm=True, region=True)
    elif case == "tall_line":  # more than a third of the region's height: a fragment of what it holds
        line = DecidedBox((512, 600, 155, 130), False, "Processing type", vouched=True)
    else:  # kept by the model alone: no reason to leave pixels unfilled
        line = DecidedBox((512, 696, 155, 30), False, "Processing type")
    m = _mask(redaction_fills([region, line], 2, 1024, 1024), 1024, 1024)
    assert _cover(m, line.box) == 1.0


DATE_LINE = DecidedBox((60, 100, 70, 12), True, "ay 1998", firm=True)  # "16 May 1998" read as two boxes


@pytest.mark.parametrize(("stub", "filled"), [
    (DecidedBox((40, 100, 16, 12), False, "16", vouched=True), True),     # split off the date line, left of it
    (DecidedBox((134, 101, 12, 11), False, "PM"), True),                   # right of it, model-cleared
    (DecidedBox((40, 100, 16, 12), False, "Axial", vouched=True), False),  # five letters: a line of its own
    (DecidedBox((40, 100, 16, 12), False, "L12-5", vouched=True), False),  # a vouched label: its own column
    (DecidedBox((40, 100, 16, 12), False, "L12-5"), True),                 # the model alone cleared it
    (DecidedBox((40, 100, 16, 12), False, "123", vouched=True), False),    # three vouched digits: a value
    (DecidedBox((10, 100, 16, 12), False, "16", vouched=True), False),     # 34 px away: another column
    (DecidedBox((40, 118, 16, 12), False, "16", vouched=True), False),     # the line below
    (DecidedBox((40, 96, 16, 24), False, "16", vouched=True), False),      # twice the height: other text
])
def test_a_short_kept_stub_beside_a_redacted_line_is_filled(stub: DecidedBox, filled: bool) -> None:
    m = _mask(redaction_fills([DATE_LINE, stub], 2, 256, 256))
    assert _cover(m, DATE_LINE.box) == 1.0
    assert (_cover(m, stub.box) == 1.0) is filled


def test_a_stub_beside_a_region_is_left_alone() -> None:
    """A region (a stroke read off anatomy, :attr:`DecidedBox.region`) is no text line: a short clinical
    label beside it stays; beside a line the model redacted, the same label is filled (default deny)."""
    region = DecidedBox((60, 100, 70, 12), True, "G", region=True)
    stub = DecidedBox((40, 100, 16, 12), False, "L")
    assert _cover(_mask(redaction_fills([region, stub], 2, 256, 256)), stub.box) == 0.0
    model_line = DecidedBox((60, 100, 70, 12), True, "pril 2021")
    assert _cover(_mask(redaction_fills([model_line, stub], 2, 256, 256)), stub.box) == 1.0
