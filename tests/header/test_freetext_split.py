"""The free-text evaluation set stays apart from the word classifier's training data (issue 13).

``scripts/eval_freetext.py`` measures the cleaner on ``freetext_data.make('eval', ...)`` (held-out seed
20261202); ``scripts/train_freetext_phi.py`` trains on ``make('train', ...)`` with the size and seed
recorded in the model's ``meta.json``. No evaluation sentence, template, locale or clinical term may
occur in the training data."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from deid.header.phi_text import MODEL_DIR

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
freetext_data = pytest.importorskip("freetext_data")

EVAL_SEED, EVAL_N = 20261202, 500


def _training_args() -> tuple[int, int]:
    """(n, seed) the shipped head was trained with: recorded in meta.json ("n2000" = 1000 + 1000)."""
    meta = json.loads((MODEL_DIR / "meta.json").read_text())
    args = meta.get("training_args") or {}
    n = int(args.get("n") or int(re.search(r"-n(\d+)", meta["version"]).group(1)) // 2)  # type: ignore[union-attr]
    return n, int(args.get("seed", 7))


def _skeleton(template: str) -> str:
    return re.sub(r"\{\w+\}", "{}", template).lower()


def test_templates_locales_and_terms_are_disjoint() -> None:
    train_t = {_skeleton(t) for t in freetext_data.TRAIN_TEMPLATES}
    assert not train_t & {_skeleton(t) for t in freetext_data.EVAL_TEMPLATES}
    assert not set(freetext_data.TRAIN_LOCALES) & set(freetext_data.EVAL_LOCALES)
    train_terms, eval_terms = freetext_data.clinical_terms()
    assert train_terms and eval_terms and not set(train_terms) & set(eval_terms)


def test_no_evaluation_sentence_occurs_in_the_training_data() -> None:
    n, seed = _training_args()
    assert seed != EVAL_SEED
    train = freetext_data.make("train", n, n, seed=seed)
    evaluation = freetext_data.make("eval", EVAL_N, EVAL_N, seed=EVAL_SEED)
    train_text = {s.text.casefold() for s in train}
    shared = [s.text for s in evaluation if s.text.casefold() in train_text]
    assert not shared, f"{len(shared)} evaluation sentences occur in the training data"
    # and no clinical term of an evaluation sentence was inserted into a training sentence
    train_terms = {c.casefold() for s in train for c in s.clinical}
    assert not {c.casefold() for s in evaluation for c in s.clinical} & train_terms
