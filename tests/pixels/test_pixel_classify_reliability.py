"""Issue #12 classification checks. The clinical lexicon clears a line only on a reading that can stand for the text (issue #12): a
doubtful reading (confidence under 0.8, or a tiny box under 0.95) is vocabulary evidence only when a
word of it is read as written (:func:`deid.pixels.classify.anchored`), as on the allowlist path; an operator's
initials after the operator label are redacted before the allowlist."""

from __future__ import annotations

import pytest

from deid.header.identifiers import Identifiers
from deid.pixels.classify import Action, Thresholds, anchored, decide, load_allowlist
from deid.pixels.lexicon import load_lexicon

# every word one OCR edit from a clinical word ("Positlon" for Position): the lexicon explains the line,
# but no word is read as written
MISREAD = "Acquisitlon Protocal"


@pytest.fixture(scope="module")
def lex():  # type: ignore[no-untyped-def]
    lexicon = load_lexicon()
    if lexicon is None:
        pytest.skip("no clinical lexicon")
    return lexicon


def test_the_lexicon_explains_the_misread_line_without_an_anchor(lex) -> None:  # type: ignore[no-untyped-def]
    assert lex.explains(MISREAD, load_allowlist().words) and not anchored(MISREAD, lex)


@pytest.mark.parametrize(("confidence", "box"), [(0.67, (160, 20)), (0.9, (160, 10))])
def test_a_doubtful_unanchored_reading_is_not_cleared_by_the_lexicon(lex, confidence: float,  # type: ignore[no-untyped-def]
                                                                    box: tuple[int, int]) -> None:
    d = decide(MISREAD, confidence, Identifiers(), load_allowlist(), 0.05, Thresholds(), lex, box)
    assert d.action is Action.REDACT and d.reason == "unreliable_reading"


def test_a_reliable_or_anchored_reading_is_still_cleared(lex) -> None:  # type: ignore[no-untyped-def]
    allow, th = load_allowlist(), Thresholds()
    assert decide(MISREAD, 0.9, Identifiers(), allow, 0.05, th, lex, (160, 20)).reason == "lexicon"
    # one word read as written anchors the doubtful reading
    d = decide("Gantry Positlon Rotatlon", 0.67, Identifiers(), allow, 0.3, th, lex, (190, 20))
    assert d.action is Action.KEEP and d.reason == "lexicon"


@pytest.mark.parametrize(("text", "phi"), [
    ("0p JA0", True),     # "Op JAO" with O read as zero: two codes to the allowlist (dev seed 934)
    ("Op: KL", True), ("OP MK", True), ("Sono AB", True),
    ("Op 12", False),     # no letter: a number, not initials
    ("TOP MK", False), ("Opacity 12", False),
])
def test_operator_initials_are_redacted_before_the_allowlist(lex, text: str, phi: bool) -> None:  # type: ignore[no-untyped-def]
    d = decide(text, 0.99, Identifiers(), load_allowlist(), 0.05, Thresholds(), lex, None)
    assert (d.reason == "rule_label") is phi
