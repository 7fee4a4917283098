"""The independent free-text set (scripts/freetext_independent.py) stays apart from the project's
training data and records its PHI spans exactly (issue 13, item 1).

The cleaner's word classifier is trained on ``freetext_data.make('train', n, n, seed)`` with n and seed
recorded in the shipped model's meta.json; no sentence of the independent set (either part) may occur
there, the two parts may share no template, locale or clinical term, and at least half of the planted
PHI must come from locales the project's generator never uses."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from deid.header.phi_text import MODEL_DIR

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
fi = pytest.importorskip("freetext_independent")
freetext_data = pytest.importorskip("freetext_data")

SEED, N = 424242, 300


def _training_sentences() -> set[str]:
    meta = json.loads((MODEL_DIR / "meta.json").read_text())
    args = meta.get("training_args") or {}
    n = int(args.get("n") or int(re.search(r"-n(\d+)", meta["version"]).group(1)) // 2)  # type: ignore[union-attr]
    return {s.text for s in freetext_data.make("train", n, n, seed=int(args.get("seed", 7)))}


@pytest.fixture(scope="module")
def parts() -> dict[str, list]:
    return {part: fi.make(part, N, N, N // 5, SEED) for part in ("dev", "test")}


def test_no_sentence_occurs_in_the_training_data(parts: dict[str, list]) -> None:
    train = _training_sentences()
    assert len(train) > 500
    for sentences in parts.values():
        texts = {s.text for s in sentences}
        assert len(texts) > 0.9 * len(sentences)  # varied, not one template repeated
        assert not texts & train


def test_no_dev_sentence_or_term_occurs_in_the_test_part(parts: dict[str, list]) -> None:
    dev, test = parts["dev"], parts["test"]
    assert len({s.text for s in dev} & {s.text for s in test}) == 0
    assert len({c.casefold() for s in dev for c in s.clinical} & {c.casefold() for s in test for c in s.clinical}) == 0


def test_the_wide_dev_templates_plant_addresses_ages_and_initials() -> None:
    sentences = fi.make("dev", 400, 0, 0, SEED)
    wide = [s for s in sentences if any(s.text.startswith(t.split("{")[0]) for t in fi.DEV_WIDE_PHI if t[0] != "{")]
    kinds = {span.kind for s in sentences for span in s.spans}
    assert wide and kinds >= {"address", "age", "initials"}
    assert {span.locale for s in sentences for span in s.spans} & set(fi.DEV_ADDRESS_LOCALES)


@pytest.mark.parametrize("part", ["dev", "test"])
def test_spans_are_exact_and_disjoint(parts: dict[str, list], part: str) -> None:
    kinds = set()
    for s in parts[part]:
        assert (s.category == "phi") == bool(s.spans)
        ends = 0
        for span in sorted(s.spans, key=lambda x: x.start):
            value = s.text[span.start:span.end]
            assert span.start >= ends and span.end <= len(s.text) and value == value.strip() and value
            ends = span.end
            kinds.add(span.kind)
        for term in s.clinical:
            assert term in s.text
    assert kinds >= {"name", "address", "date", "phone", "email", "url", "id", "age", "institution", "city"}


def test_parts_are_split_by_source() -> None:
    project = set(freetext_data.TRAIN_LOCALES) | set(freetext_data.EVAL_LOCALES)
    assert not (set(fi.DEV_NEW) | set(fi.TEST_NEW)) & project
    assert set(fi.DEV_SHARED) | set(fi.TEST_SHARED) <= project
    assert not set(fi.DEV_NEW + fi.DEV_SHARED) & set(fi.TEST_NEW + fi.TEST_SHARED)
    assert not set(fi.DEV_PHI + fi.DEV_CLIN + fi.DEV_EPONYM) & set(fi.TEST_PHI + fi.TEST_CLIN + fi.TEST_EPONYM)
    dev_terms, dev_epo = fi.vocabulary("dev")
    test_terms, test_epo = fi.vocabulary("test")
    assert min(len(dev_terms), len(test_terms)) > 500 and not set(dev_terms) & set(test_terms)
    assert not set(dev_epo) & set(test_epo)


@pytest.mark.parametrize("part", ["dev", "test"])
def test_most_phi_comes_from_new_locales(parts: dict[str, list], part: str) -> None:
    spans = [span for s in parts[part] for span in s.spans]
    assert sum(fi.new_locale(span.locale) for span in spans) >= 0.5 * len(spans)


@pytest.mark.parametrize(("cleaned", "left", "year_ok"), [
    ("Seen [X] on [X], GP Ana Norac.", [], False),  # the name outside the span does not count
    ("Seen Ana NORAC on [X], GP Ana Norac.", ["ana", "norac"], False),
    ("Seen [X] on 07/1934, GP Ana Norac.", ["07", "1934"], False),
    ("Seen [X] on [X] 1934, GP Ana Norac.", ["1934"], True),
])
def test_the_scorer_tells_removed_from_left(cleaned: str, left: list[str], year_ok: bool) -> None:
    ev = pytest.importorskip("eval_freetext_independent")
    text = "Seen Ana Norac on 07/1934, GP Ana Norac."
    name, when = fi.Span(5, 14, "name", "hr_HR"), fi.Span(18, 25, "date", "hr_HR")
    assert text[name.start:name.end] == "Ana Norac" and text[when.start:when.end] == "07/1934"
    survived = (ev.span_left(text, name, cleaned) or []) + (ev.span_left(text, when, cleaned) or [])
    assert survived == left
    assert ev.year_only("07/1934", ev.span_left(text, when, cleaned)) is year_ok
