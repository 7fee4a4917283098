"""A street named by a unit or a technique word (issue 13, item 1), tenth session: "51 Dixon Corner" was
kept whole because "Dixon" is an MR technique (a number and a technique read as a measurement) and
"Corner" was no street type (found on free-text dev seeds 81-85). A house number, capitalised words and
a street type written as a word name a street whatever the words are; a number and its unit or
technique stay a measurement when no street type follows."""

from __future__ import annotations

import pytest
from freetext_stub import assert_removed, clean, words


@pytest.mark.parametrize(("text", "phi"), [
    ("Lives at 51 Dixon Corner.", ("Dixon",)),
    ("Patient from 51 Dixon Corner, East Lisamouth.", ("Dixon", "Lisamouth")),
    ("daughter, 51 Dixon Corner", ("Dixon",)),
    ("Lives at 12 Echo Lane.", ("Echo",)),
    ("Bolus at 20 Ms Street", ("Ms",)),
    ("Home 87 Flair Spin Road, Leeds", ("Flair", "Spin")),
])
def test_a_street_type_after_technique_words_makes_an_address(text: str, phi: tuple[str, ...]) -> None:
    assert_removed(text, phi)


@pytest.mark.parametrize("text", [
    "at 40 ms into ST segment",
    "Grade 12 Wandering Sinus Pacemaker",
    "at 12 Dixon images",
    "acquired at 3 Dixon echoes",
])
def test_a_number_and_its_technique_stay_without_a_street_type(text: str) -> None:
    cleaned, _ = clean(text)
    assert words(cleaned) == words(text), cleaned
