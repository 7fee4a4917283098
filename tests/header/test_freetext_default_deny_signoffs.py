"""Initials and addresses the cleaner left on dev seeds 100-104 and on the initials probe (seeds 7 and
11), thirteenth session (issue 13, item 1). Every rule is about shape or context, never a listed name;
where the letters could also be a technique word or a unit, a lone sign-off is masked (default deny:
one lost token against a leaked person):

* two capitals, two or three lower-case letters, or dotted capitals standing alone after the value's
  last sentence or dash ("Stable. EP", "Stable. AN", "... - nc", "... . L.T.");
* "per" that opens the value or its sentence and letters that end it ("per mm", "Stable. per sk");
  "per" and capitals before a colon ("per LA: ...");
* dotted capitals after a cue whatever they spell ("Verified C.M. - ...");
* capitals after a verb of telling with "of" after them ("Informed IV of result");
* "<verb of checking> <Surname> <initial>," ("Checked Lewis K, ...");
* two letters after "<verb of reading> by" joined by "and" to initials ("by me and W.W.");
* "N°" and a house number with the street's words before it, any case ("AV. G. BROWN N° 344"), a
  unit after it ("..., Local 43"), a slashed unit number before a masked one ("977/, 038/845 ...").

The clinical rows next to them must stay whole."""

from __future__ import annotations

import pytest
from freetext_stub import assert_kept_whole, assert_removed


@pytest.mark.parametrize(("text", "phi"), [
    ("Appearances unchanged. EP", ("EP",)),
    ("Small effusion. AN", ("AN",)),
    ("No new lesion. ML", ("ML",)),
    ("Stable appearances. fs", ("fs",)),
    ("Patient moved - nc", ("nc",)),
    ("No fracture seen. R.T.", ("R", "T")),
    ("per mm", ("mm",)),
    ("per kg", ("kg",)),  # the whole value: a sign-off whatever the letters spell
    ("Stable appearances. per sk", ("sk",)),
    ("Small effusion. per yrs", ("yrs",)),
    ("per LA: no change", ("LA",)),
    ("per AV: stable", ("AV",)),
    ("Verified C.M. - small effusion", ("C", "M")),
    ("Informed IV of result.", ("IV",)),
    ("Informed CT of delay", ("CT",)),  # told of something: a person, whatever the letters spell
    ("Checked Lewis K, stable", ("Lewis", "K")),
    ("Scan checked by me and W.W.", ("me", "W")),
    ("Scan checked by on and DG", ("on", "DG")),
    ("c/o son, AV. G. BROWN N° 344", ("AV", "BROWN", "344")),
    ("Send letter to Diag. Posadas N° 6922, Local 43", ("Posadas", "6922", "Local", "43")),
    ("c/o daughter, 977/, 038/845 Mejia Key", ("977", "038", "845", "Mejia")),
])
def test_signoffs_and_addresses_removed(text: str, phi: tuple[str, ...]) -> None:
    assert_removed(text, phi)


@pytest.mark.parametrize("text", [
    "Chest pain. ECG",
    "no change - ok.",
    "Dose 5 mg per kg",
    "Given per os",
    "reviewed with CT and MR",
    "Seen by me and the registrar.",
    "lesion 3/4, 12 mm",
    "Informed of result.",
])
def test_clinical_kept(text: str) -> None:
    assert_kept_whole(text)
