"""Classes of PHI and clinical words in free text (issue 13, item 1), found on the independent set's
wide dev templates (scripts/freetext_independent.py ``DEV_WIDE_*``, probe seeds 41-46; never the test
part): ages over 89 in many layouts, initials in many layouts, house numbers, postcodes and unit
designators of addresses, eponyms without a possessive, British spellings and medical word forms.
Rules only (a scorer that calls no word PHI), so each row shows what the rules do."""

from __future__ import annotations

import re

import pytest

from deid.header.freetext import FreeTextCleaner, Verdict


class _NoPhi:
    """A classifier that calls no word PHI: the rules' own part shows."""

    version = "test"

    def word_probs(self, texts: list[str]) -> list[list[float]]:
        return [[0.0 for _w in t.split()] for t in texts]


def _clean(text: str) -> tuple[str, Verdict]:
    res = FreeTextCleaner(frozenset(), _NoPhi()).clean(text)
    return res.text, res.verdict


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", text)


@pytest.mark.parametrize(("text", "age"), [
    ("92y female, ?pneumonia", "92"),
    ("93 y.o. male - fall", "93"),
    ("F 92, chest pain", "92"),
    ("92M with chest pain", "92"),
    ("elderly (108) pt, fall", "108"),
    ("Pt is 96, lives alone", "96"),
    ("104-yr-old, r/o fracture", "104"),
    ("lady in her nineties, fall", "nineties"),
])
def test_ages_over_89_are_masked(text: str, age: str) -> None:
    cleaned, _ = _clean(text)
    assert age not in _words(cleaned), cleaned


@pytest.mark.parametrize("text", [
    "kVp 120, 250 mAs", "HR 92 bpm", "M 90 mm lesion", "F 95.5 kg", "arterial phase 120 s",
    "92 ml contrast", "T2 FLAIR 95 slices",
])
def test_numbers_that_are_no_age_stay(text: str) -> None:
    cleaned, verdict = _clean(text)
    assert cleaned == text and verdict is Verdict.KEPT, cleaned


@pytest.mark.parametrize(("text", "initials"), [
    ("Protocolled by SMG - fracture", ("SMG",)),
    ("JS/ab dictated", ("JS",)),
    ("Seen by sb", ("sb",)),
    ("Scan checked by MSL and G.P.K.", ("MSL", "G", "P", "K")),
    ("per AVG", ("AVG",)),
    ("Reporter: td", ("td",)),
    ("Tech ks, chest pain", ("ks",)),
    ("Images reviewed with NJ today", ("NJ",)),
    ("Dr. ag aware", ("ag",)),
    ("Discussed with Dr SR, fracture", ("SR",)),
    ("Verbal report LND.", ("LND",)),
])
def test_initials_are_masked(text: str, initials: tuple[str, ...]) -> None:
    cleaned, _ = _clean(text)
    for letters in initials:
        assert letters not in _words(cleaned), cleaned


@pytest.mark.parametrize("text", [
    "Confirmed by CT.", "measured by US.", "given per os", "compare with CT.", "AP/PA views",
    "r/o PE, s/p CABG", "Discussed with the patient today",
])
def test_clinical_abbreviations_after_a_cue_stay(text: str) -> None:
    cleaned, verdict = _clean(text)
    assert cleaned == text and verdict is Verdict.KEPT, cleaned


@pytest.mark.parametrize(("text", "phi"), [
    ("c/o daughter, Petrova 8c/9, Vrlika, 33922", ("8c", "9", "33922")),
    ("c/o daughter, 0740 James Land, Lake Bethanytown", ("0740",)),
    ("c/o daughter, Na Příčné Mezi 23, 206 18 Chrast", ("23", "206", "18")),
    ("c/o daughter, pl. Jadwigi 03/61, 64-759 Kluczbork", ("pl", "03", "61", "64", "759")),
    ("Home address Apt 67, Naomiweg 86", ("67", "86")),
    ("al. Słoneczna 66/35 Apt 49", ("66", "35", "49")),
    ("c/o daughter, 20, rue Alexandre", ("20", "rue")),
    ("Home address Block 03 Lot 70 Dunn Drive, Small Village, Shannon Ville, 8433", ("03", "70", "8433")),
    ("4541 Powers Plain, North Zachary, PE E9R 7H8", ("PE", "E9R", "7H8")),
    ("Level 3 6 Price Copse, Melissafurt, NT, 2747", ("NT", "2747")),
])
def test_address_numbers_postcodes_and_units_are_masked(text: str, phi: tuple[str, ...]) -> None:
    cleaned, _ = _clean(text)
    for word in phi:
        assert word not in _words(cleaned), cleaned


@pytest.mark.parametrize(("text", "kept"), [
    ("Referred by Dr Smith 2 weeks ago", ("2", "weeks")),
    ("Seen by Dr Smith, 3 lesions", ("3", "lesions")),
    ("arterial phase 2, Smith", ("phase", "2")),
])
def test_numbers_after_a_name_that_are_no_address_stay(text: str, kept: tuple[str, ...]) -> None:
    cleaned, _ = _clean(text)
    assert "Smith" not in cleaned, cleaned
    for word in kept:
        assert word in _words(cleaned), cleaned


@pytest.mark.parametrize("text", [
    "Known Crohn disease, review", "Hx of Parkinson disease.", "?Bell palsy", "Colles fracture left wrist",
    "Pt with Guillain-Barré syndrome on meds", "Likely Kaposi sarcoma of palate",
    "Dementia in Alzheimer disease with late onset", "Hodgkin's Lymphoma, stage II",
])
def test_eponyms_without_a_possessive_stay(text: str) -> None:
    cleaned, verdict = _clean(text)
    assert cleaned == text and verdict is Verdict.KEPT, cleaned


@pytest.mark.parametrize(("text", "name"), [
    ("Dr Bell test today", "Bell"),  # an honorific: a person
    ("Seen by John Smith disease clinic", "Smith"),  # a name before it: a person
    ("Daughter Anna Crohn disease?", "Crohn"),
])
def test_a_name_before_a_head_noun_after_a_person_stays_masked(text: str, name: str) -> None:
    cleaned, _ = _clean(text)
    assert name not in _words(cleaned), cleaned


@pytest.mark.parametrize("text", [
    "First degree haemorrhoids - progression?", "Other forms of chronic ischaemic heart disease",
    "Pt c/o pain x3 days, ?oedema of larynx.", "Psychotherapy (known), now worse",
    "Idiopathic osteoporosis with pathological fracture", "Hx of coxarthrosis, no prior imaging",
    "Known acute amoebic dysentery", "Known goitre; dialysis",
])
def test_british_spellings_and_medical_words_stay(text: str) -> None:
    cleaned, verdict = _clean(text)
    assert cleaned == text and verdict is Verdict.KEPT, cleaned


@pytest.mark.parametrize("text", ["Seen by Paloma today", "Referred by Dr Michael Boehm", "Michael reviewed it"])
def test_names_are_no_medical_words(text: str) -> None:
    cleaned, _ = _clean(text)
    assert not {"Paloma", "Michael", "Boehm"} & set(_words(cleaned)), cleaned
