"""Adversarial free-text cases from the fifth session's independent review (issue 13 item 1, Clean (C)
of PS3.15 E.3.5/E.3.6 Clean Descriptors): exemptions for clinical vocabulary must never carry a person's
or a place's name through. Every name and place here is synthetic; none is in the instance's header, so
only the cleaner's own rules and scorer stand between them and the output."""

from __future__ import annotations

import re

import pytest

from deid.header.freetext import FreeTextCleaner
from deid.header.phi_text import load_scorer


@pytest.fixture(scope="module")
def cleaner() -> FreeTextCleaner:
    return FreeTextCleaner(frozenset(), load_scorer())


def _left(out: str, phi: str) -> list[str]:
    words = set(re.findall(r"\w+", out))
    return [t for t in re.findall(r"\w+", phi) if len(t) > 1 and t in words]


# A Latin anatomical name opens the clause; the person or place after it is not part of the term.
LATIN = ["Musculus biceps brachii tear", "Vena cava filter placed", "Arteria carotis stenosis",
         "Nervus facialis palsy", "Ligamentum cruciatum anterius rupture"]
AFTER = [("seen by {p} today", "Anna Kowalska"), ("referred by {p}", "Jan Nowak"),
         ("discussed with {p}", "Ingrid Lindqvist"), ("transferred from {p}", "Leeds General"),
         ("after fall at {p}", "27 Birchwood Crescent")]


@pytest.mark.parametrize("latin", LATIN)
@pytest.mark.parametrize(("cue", "phi"), AFTER)
def test_latin_term_does_not_carry_the_rest_of_the_clause(cleaner: FreeTextCleaner, latin: str, cue: str,
                                                          phi: str) -> None:
    out = cleaner.clean(f"{latin} {cue.format(p=phi)}.").text
    assert not _left(out, phi)


@pytest.mark.parametrize("text", ["Patient Margo Rabiej fell at home.", "Patient Vena Kowalski fell at home.",
                                  "Patient Pars Lindgren fell at home."])
def test_latin_head_noun_that_is_a_name(cleaner: FreeTextCleaner, text: str) -> None:
    phi = text.split(" ", 1)[1].rsplit(" fell", 1)[0]
    assert not _left(cleaner.clean(text).text, phi)


# Surnames and given names that are also first words of sentence-case PS3.16 code meanings.
NAMES = ["Caldwell", "Brittany", "Pearson", "Lawrence", "Connor", "Taylor", "Miller", "Chang"]
SENTENCES = ["Per {n}, no prior imaging.", "Knee pain, {n} aware.", "CT head; {n} to review later.",
             "Chest pain; discussed with {n}.", "Images copied for {n} on request."]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("sentence", SENTENCES)
def test_sentence_first_word_exemption_keeps_no_name(cleaner: FreeTextCleaner, name: str, sentence: str) -> None:
    assert name not in re.findall(r"\w+", cleaner.clean(sentence.format(n=name)).text)


@pytest.mark.parametrize("text", ["Knee pain. Le to call back.", "Knee pain. Ma to call back.",
                                  "Fall. Mo aware of results."])
def test_short_surname_at_sentence_start(cleaner: FreeTextCleaner, text: str) -> None:
    name = text.split(". ")[1].split()[0]
    assert name not in re.findall(r"\w+", cleaner.clean(text).text)


@pytest.mark.parametrize(("text", "term"), [
    ("Musculus biceps brachii tear on MRI.", "Musculus biceps brachii"),
    ("Arteria carotis interna stenosis, moderate.", "Arteria carotis interna"),
    ("Hx of Supraventricular escape beat.", "Supraventricular escape beat"),
    ("Dx: Sx improving.", "Sx improving"),
])
def test_clinical_terms_still_kept(cleaner: FreeTextCleaner, text: str, term: str) -> None:
    assert term in cleaner.clean(text).text


# Sixth session: clinical-vocabulary words that are also names, alone inside a sentence (the class the
# fifth session's review left open), and what the cleaner now keeps instead of removing whole.
VOCAB_NAMES = ["Iris", "Carina", "Rose", "White", "Major", "Gross"]
ALONE = ["Fall at home, {n} informed.", "CT head; {n} to review later.", "Knee pain, {n} aware.",
         "Images copied for {n} on request."]


@pytest.mark.parametrize("name", VOCAB_NAMES)
@pytest.mark.parametrize("sentence", ALONE)
def test_vocabulary_word_that_is_a_name_alone(cleaner: FreeTextCleaner, name: str, sentence: str) -> None:
    assert name not in re.findall(r"\w+", cleaner.clean(sentence.format(n=name)).text)


@pytest.mark.parametrize(("text", "term"), [
    ("Known Iris coloboma; follow-up.", "Iris coloboma"),
    ("White matter lesions, stable.", "White matter lesions"),
    ("Chest pain; Major trauma protocol.", "Major trauma protocol"),
    ("Known Rheumatoid vasculitis, stable.", "Rheumatoid vasculitis"),
    ("Please assess Sequelae of injury of cranial nerves.", "Sequelae of injury of cranial nerves"),
    ("Sedation not required. herpesviral keratitis and keratoconjunctivitis.", "herpesviral keratitis"),
    ("Indication isoelectric point or segment.", "isoelectric point"),
    ("Hx of Dementia in Alzheimer disease with late onset.", "Dementia in Alzheimer disease"),
    ("Known Pembrolizumab, on treatment.", "Pembrolizumab"),
    ("Brucella spondylitis, stable.", "Brucella spondylitis"),
])
def test_sentence_case_terms_and_medical_words_kept(cleaner: FreeTextCleaner, text: str, term: str) -> None:
    assert term in cleaner.clean(text).text


@pytest.mark.parametrize(("text", "phi"), [
    ("Pt seen; Zbyszko aware.", "Zbyszko"),  # a capitalised word no list holds: default deny
    ("Discussed with anna today.", "anna"),  # a lower-case name after a person cue
    ("Per kowalczyk, no change.", "kowalczyk"),
    ("mm/ab dictated", "mm"),  # dictation marks before a dictation verb, whatever they spell
    ("Multiple dislocations of fingers. Seen by MM", "MM"),  # initials closing the value
    ("Protocolled by as - Other prophylactic surgery", "as"),
    ("Daughter Natal (tel 0123456789) requests copy of images on CD.", "Natal"),  # no title-case term after a relation word
    ("Verbal report nm.", "nm"),  # a reporter's sign-off, whatever the letters spell
])
def test_names_and_initials_still_masked(cleaner: FreeTextCleaner, text: str, phi: str) -> None:
    assert phi not in re.findall(r"\w+", cleaner.clean(text).text)
