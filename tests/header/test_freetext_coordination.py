"""Sentence-case terms that open with a capitalised word and "and"/"or" (issue 13, item 2; found on
fresh dev seeds 93-98, twelfth session): "Congestion and haemorrhage of ...", "Spikes and waves".
The capitalised word was read as a name or a place because only a clinical word right after it
opened a term. Now a clinical word after the link does too, unless the word is on a name list
("James and chest pain"), a person or place cue stands before, a people word follows ("Sandwich and
family") or a verb does ("Rose and informed ...")."""

from __future__ import annotations

import pytest
from freetext_stub import assert_removed, clean, words


@pytest.mark.parametrize("text", [
    "CT requested for Congestion and haemorrhage of bladder",
    "F/up Spikes and waves post therapy",
    "Background of Sprain and strain of wrist",
    "CT requested for Drowning and submersion while diving",
])
def test_coordinated_terms_are_no_names_to_the_rules(text: str) -> None:
    """The rules cut nothing; the scorer decides on the capitalised word (as on every sentence-case
    term's first word, :func:`deid.header.freetext._term_opens`)."""
    cleaned, _ = clean(text, False)
    assert words(cleaned) == words(text), cleaned


@pytest.mark.parametrize(("text", "phi"), [
    ("Patient from Sandwich and chest pain", ("Sandwich",)),  # a place cue before
    ("Seen with Sandwich and family", ("Sandwich",)),  # a people word after the link
    ("Dr Rose and chest pain", ("Rose",)),  # a person cue before
    ("Rose and informed of results", ("Rose",)),  # a verb after the link
    ("Rose and Smith reviewed", ("Rose", "Smith")),
    ("James and chest pain noted.", ("James",)),  # a word on a name list stays a name
    ("Rose and chest pain", ("Rose",)),
])
def test_names_before_and_stay_masked(text: str, phi: tuple[str, ...]) -> None:
    assert_removed(text, phi)
