"""Classes of PHI and clinical words in free text (issue 13, item 1), eighth session: found on the
independent set's dev part (seeds 56-59, 61-63, Faker and census names; never the test part).
Initials that sign a report off, a house number with an empty unit part, a region's code in brackets,
a name after "attn." or a relation word in title case; sentence-case terms that end in an eponym
before its head noun, drug names by their INN stem, eponyms before a disease word of medical word
formation. Each clinical row has PHI rows that the same rule must still mask."""

from __future__ import annotations

import pytest
from freetext_stub import clean, words

from deid.header.freetext import Verdict


@pytest.mark.parametrize(("text", "phi"), [
    ("Verbal report mm.", ("mm",)),  # a unit where a reporter signs off
    ("Verbal report ro.", ("ro",)),  # a technique word
    ("Verbal report MM.", ("MM",)),
    ("per RM", ("RM",)),  # a modality in another language
    ("per PR", ("PR",)),
    ("per AN", ("AN",)),  # a function word in capitals: the rule before this one still applies
    ("Suite 453 771 Davis Rosebowl, 429/", ("429",)),  # a house number with an empty unit part
    ("c/o daughter, chemin Fabienne Charpié, Vonlanthen (GR)", ("GR",)),  # a canton's code spelling a technique word
    ("Fax report to 330532847707 attn. JOHN JONES, Centre hospitalier", ("JOHN", "JONES")),
    ("Daughter Natal (tel 0123456789) requests copy of images on CD.", ("Natal",)),  # relation word in title case
    ("Wife Iris informed", ("Iris",)),
])
def test_identifiers_in_new_layouts_are_masked(text: str, phi: tuple[str, ...]) -> None:
    cleaned, _ = clean(text)
    assert not set(phi) & set(words(cleaned)), cleaned


@pytest.mark.parametrize("text", [
    "given per os", "dosed per kg", "Fracture confirmed by CT.", "Increased by 5 mm.", "Follow-up per protocol",
])
def test_routes_units_and_techniques_after_a_cue_stay(text: str) -> None:
    cleaned, verdict = clean(text)
    assert cleaned == text and verdict is Verdict.KEPT, cleaned


@pytest.mark.parametrize("text", [
    "Hx of Dementia in Alzheimer disease with late onset.",  # a term after a place cue ends in an eponym
    "Likely Dementia in Parkinson disease",
    "Pt with Other Vincent infections on meds",
    "Previous dx of Diseases of Bartholin gland",
    "Hx of Adult-onset Still disease.",
    "Pt with Pituitary-dependent Cushing disease on meds",
    "Hx of Rifamycins. No prior imaging.",  # drug names by their INN stem
    "Pt c/o pain x3 days, ?Sulfonamides.",
    "Known Pembrolizumab, on treatment",
    "Brucella spondylitis, stable",  # a capitalised word before a disease of medical word formation
    "Waldenström macroglobulinaemia, follow-up in 6 months",
    "Haematemesis suspected, please evaluate",
    "Pulseless electrical activity suspected",  # "-less" of a known word
])
def test_sentence_case_terms_stay(text: str) -> None:
    cleaned, verdict = clean(text)
    assert verdict is Verdict.KEPT and cleaned == text, cleaned


@pytest.mark.parametrize(("text", "phi"), [
    ("Lives at Rose Parkinson disease", ("Rose",)),  # a name list's word before the eponym
    ("wife Mary Crohn disease", ("Mary",)),
    ("Nervus facialis palsy transferred from Leeds General", ("Leeds", "General")),  # no head noun after
    ("Pt Kowalski nephropathy", ("Kowalski",)),  # after "pt" a disease word is no eponym's head
    ("Referred by Dr Sartan for review", ("Sartan",)),  # an INN stem is no stem of four letters or less
])
def test_names_next_to_the_new_terms_are_masked(text: str, phi: tuple[str, ...]) -> None:
    cleaned, _ = clean(text)
    assert not set(phi) & set(words(cleaned)), cleaned


@pytest.mark.parametrize("text", [
    "Portable AP, pt supine. atypical anorexia nervosa",  # a Latin word after its term's head
    "Known otitis externa, left",
    "Hx of arthritis mutilans",
    "Previous septo-optic dysplasia.",  # a combining form before a hyphen
    "renal tubulo-interstitial disorders in neoplastic diseases",
    "F/up acute monoblastic/monocytic leukaemia post therapy",  # words joined by a slash
    "s/p CABG 2 yrs ago; now COVID-19, virus not identified",  # an acronym and its number
    "Background of Injury of heart with haemopericardium",  # a formed word after "with"
])
def test_lower_case_clinical_words_by_their_form_stay(text: str) -> None:
    cleaned, verdict = clean(text)
    assert verdict is Verdict.KEPT and cleaned == text, cleaned


@pytest.mark.parametrize(("text", "phi"), [
    ("seen with kowalska today", ("kowalska",)),  # a Slavic surname ending is no Latin word
    ("Discussed with Anna Nervosa", ("Anna", "Nervosa")),  # capitalised after a person cue
    ("Ref ABCDE-123456", ("123456",)),  # an identifier is no numbered acronym
])
def test_names_and_ids_near_the_new_forms_are_masked(text: str, phi: tuple[str, ...]) -> None:
    cleaned, _ = clean(text)
    assert not set(phi) & set(words(cleaned)), cleaned
