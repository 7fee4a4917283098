"""Fast paths of the free-text rules (issue #11) against the formulations they replace."""

from __future__ import annotations

import itertools

from deid.header import freetext


def _medical_form_reference(p: str) -> bool:
    """:func:`freetext._medical_form` as written before issue #11's change (one test per suffix)."""
    if not p.isalpha():
        return False
    forms = (p, p[:-1]) if p.endswith("s") and not p.endswith("ss") and len(p) > 5 else (p,)
    return any(any(q.endswith(suffix) and len(q) - len(suffix) >= 4 for suffix in freetext._MED_SUFFIXES)
               or any(q.endswith(stem) and len(q) - len(stem) >= 3 for stem in freetext._INN_STEMS)
               for q in forms)


def test_medical_form_as_before() -> None:
    endings = list(freetext._MED_SUFFIXES) + list(freetext._INN_STEMS)
    stems = ["", "a", "ab", "abc", "abcd", "abcde", "coxarthr", "rifa", "Cis"]
    words = {stem + end + plural for stem, end, plural in itertools.product(stems, endings, ("", "s", "ss"))}
    words |= set(itertools.islice(sorted(freetext._lexicon()), 0, None, 7))
    words |= {"", "s", "ss", "osis", "itis", "mab", "umab", "x1itis", "Rifamycins", "pathies"}
    assert all(e for e in endings)  # the fast path needs no empty ending
    differ = [w for w in words if freetext._medical_form(w) != _medical_form_reference(w)]
    assert not differ
    assert freetext._medical_form("coxarthrosis") and not freetext._medical_form("osis")


def test_spelling_targets_is_the_union() -> None:
    assert freetext._spelling_targets() == freetext._clinical_lower() | freetext._lexicon()
