"""Clinical words the en_US dictionary lacks made a whole value REMOVED (default deny: an unknown
lower-case word of under seven letters nobody could call safe): "folate", "trisomy", "tachypnoea",
"klebsiella". The lexicon now also holds the entries of the en_GB dictionary (names left out,
scripts/build_lexicon_words.py), so these values stay whole; a lower-case name en_GB also writes
("simon") is still no known word. Issue 13, item 1 (thirteenth session)."""

from __future__ import annotations

import pytest
from freetext_stub import assert_kept_whole, assert_removed

from deid.header.freetext import is_known


@pytest.mark.parametrize("text", [
    "history of folate deficiency",
    "known trisomy 21, follow-up",
    "transient tachypnoea, improving",
    "klebsiella in sputum, improving",
])
def test_british_dictionary_words_keep_the_value(text: str) -> None:
    assert_kept_whole(text)


def test_names_of_the_british_dictionary_stay_unknown() -> None:
    assert not is_known("simon") and not is_known("peggy")


def test_a_british_adjective_that_is_also_a_name() -> None:
    """en_GB compares "grey" (greyer, greyest): like en_US's "gray" a word first, so a lower-case
    "grey" no longer removes its value; after a person cue it is still a name."""
    assert_kept_whole("known grey patches, stable")
    assert_removed("seen by grey", ("grey",))
