"""Initials and address labels the cleaner left on fresh dev seeds 93-98 and on the ftdev initials
probe (Faker names, many locales; issue 13, item 1), twelfth session. Each rule is about shape or
context, never a listed name:

* "d/w" (discussed with) and "spoke to" are talk cues; after a cue only a person follows ("d/w",
  "discussed with") capitals before "and" or a comma are initials whatever they spell ("d/w KV and MS.");
* capitals right after a verb of telling ("Informed PJB of result") or right before "aware";
* a sign-off at the value's end: letters standing alone after the last sentence, after a spaced dash,
  or glued to a slash or dash ("Stable. JK", "stable - ak", "Stable /JSR");
* a single capital right after a masked surname ("Steuer H.", surname first);
* a lone "per" and two letters that spell a unit written with a capital ("per ma", mA);
* in mixed case, two words in capitals after a house number ("from 2706 SUPA EXTENSION").

The clinical rows next to them must stay whole."""

from __future__ import annotations

import pytest
from freetext_stub import assert_kept_whole, assert_removed


@pytest.mark.parametrize(("text", "phi"), [
    ("Findings as above, d/w KV and MS.", ("KV", "MS")),
    ("d/w TB, patient repositioned.", ("TB",)),
    ("Mild cardiomegaly; d/w RLW", ("RLW",)),
    ("Discussed with MV, stable.", ("MV",)),
    ("Spoke to TKM, stable appearances.", ("TKM",)),
    ("Informed PJB of result.", ("PJB",)),
    ("BL aware, mild cardiomegaly.", ("BL",)),
    ("MS aware, stable appearances.", ("MS",)),
    ("Mild cardiomegaly. CD", ("CD",)),
    ("Small pleural effusion. L.H.", ("L", "H")),
    ("Stable appearances /JSR", ("JSR",)),
    ("Query fracture of distal radius -PR", ("PR",)),
    ("stable appearances - ak", ("ak",)),
    ("Mild cardiomegaly. Steuer H.", ("Steuer", "H")),
    ("d/w Rodriguez T, patient repositioned", ("Rodriguez", "T")),
    ("per ma", ("ma",)),
    ("Patient from 4182 MOLA EXTENSION, chronic cough", ("MOLA", "EXTENSION", "4182")),
])
def test_initials_and_labels_are_removed(text: str, phi: tuple[str, ...]) -> None:
    assert_removed(text, phi)


@pytest.mark.parametrize("text", [
    "Images reviewed with CT and MR today",
    # "Informed CT of delay", "per kg", "per ml" (a whole value) are masked now (default deny, thirteenth
    # session): see test_freetext_default_deny_signoffs.py
    "ICU aware",
    "Chest pain. ECG",
    "follow-up in 6 months. MRI",
    "no change - ok",
    "Vitamin D deficiency",
    "Lead I",
])
def test_clinical_rows_next_to_them_stay(text: str) -> None:
    assert_kept_whole(text)
