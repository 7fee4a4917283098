"""scripts/probe_lower_names.py and scripts/eval_freetext_sources.py (issue 13, item 1): the probe's
surnames are fixed by seed, distinct, lower case and no DICOM vocabulary word (so that a cleaner change
cannot change the probe set); the source sweep reads the dev part only and puts each term in its
sentence, in title case with ``title``."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
pytest.importorskip("faker")
probe = pytest.importorskip("probe_lower_names")
sweep = pytest.importorskip("eval_freetext_sources")

from deid.textmatch import normalise, vocabulary  # noqa: E402


@pytest.mark.parametrize("source", ["faker", "census"])
def test_probe_surnames_are_fixed_distinct_lower_case_and_no_vocabulary(source: str) -> None:
    if source == "census":
        pytest.importorskip("names")
    a, b = probe.surnames(source, 50, 0), probe.surnames(source, 50, 0)
    assert a == b and len(set(a)) == 50
    assert all(n == n.lower() and n.isalpha() and len(n) >= 3 and normalise(n) not in vocabulary() for n in a)
    assert probe.surnames(source, 50, 1) != a


def test_probe_templates_hold_no_person_cue() -> None:
    from deid.header.freetext import _HONORIFICS, _PERSON_CUES

    for t in probe.TEMPLATES:
        cues = {normalise(w.strip(".,")) for w in t.replace("{name}", "").split()} & (_HONORIFICS | _PERSON_CUES)
        assert not cues, (t, cues)


@pytest.mark.parametrize(("term", "title"), [
    ("Infant of mother with gestational diabetes", "Infant of Mother with Gestational Diabetes"),
    ("QTc interval per lead", "QTc Interval per Lead"),
    ("musculus biceps femoris", "Musculus Biceps Femoris"),
])
def test_title_case(term: str, title: str) -> None:
    assert sweep.title_case(term) == title


@pytest.mark.parametrize("title", [False, True])
def test_the_sweep_reads_dev_sources_only_and_plants_each_term(title: bool) -> None:
    rows = sweep.sentences(81, 5, title)
    sources = {s for s, _, _ in rows}
    assert sources <= set(sweep.DEV_SOURCES) and "ICD-10" in sources
    assert all(term in text for _, term, text in rows)
    assert sweep.sentences(81, 5, title) == rows
