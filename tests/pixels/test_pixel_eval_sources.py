"""The independent evaluation generator and the classifier's training data are kept apart."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pydicom
import pytest

from deid.pixels.frames import decode_frames
from deid.pixels.phi_model import SHIPPED_DIR

ANNOTATED = Path(__file__).resolve().parents[1] / "data" / "pixels"


def _norm(text: str) -> str:
    return " ".join(text.upper().split())


@pytest.fixture(scope="module")
def eval_set(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    from make_eval_pixels import generate

    return generate(tmp_path_factory.mktemp("eval"), 6, 101)


def test_generator_sources_are_disjoint() -> None:
    import make_eval_pixels as ev
    import phi_training_lines as tr

    assert not set(ev.EVAL_LOCALES) & (set(tr.TRAIN_LOCALES) | set(tr.HELDOUT_LOCALES))
    assert not set(tr.TRAIN_LOCALES) & set(tr.HELDOUT_LOCALES)
    assert not set(tr.FOCUS_LOCALES) & (set(ev.EVAL_LOCALES) | set(tr.HELDOUT_LOCALES))
    assert not set(ev.EVAL_CLINICAL_SCHEMES) & (set(tr.TRAIN_SCHEMES) | set(tr.HELDOUT_SCHEMES))
    assert not {m.upper() for m in tr.vocabulary(tr.TRAIN_SCHEMES)} & {m.upper() for m in ev.clinical_vocabulary()}


def test_no_evaluation_line_occurs_in_training_data(eval_set: list[Path]) -> None:
    """Every line of the shipped model's training data, regenerated from meta.json, against the lines
    of the evaluation set, the classifier's evaluation-source pool and the annotated real files."""
    from make_eval_pixels import text_pool
    from phi_training_lines import (
        attribute_lines,
        focus_lines,
        lines,
        parameter_lines,
        technical_lines,
        word_lines,
    )

    data = json.loads((SHIPPED_DIR / "meta.json").read_text())["data"]
    train: set[str] = set()
    stage = data
    while stage:  # the delta's own data, then that of the delta it was initialised from
        train |= {_norm(" ".join(words)) for words, _ in lines("train", stage["train_lines"], stage["seed"])}
        if stage.get("technical_lines"):
            train |= {_norm(" ".join(w)) for w, _ in technical_lines(stage["technical_lines"], stage["technical_seed"])}
        if stage.get("focus_lines"):
            train |= {_norm(" ".join(w)) for w, _ in focus_lines(stage["focus_lines"], stage["focus_seed"])}
        if stage.get("parameter_lines"):
            train |= {_norm(" ".join(w)) for w, _ in parameter_lines(stage["parameter_lines"], stage["parameter_seed"])}
        stage = stage.get("initialised_from", {}).get("data")
    head = data.get("head")  # scripts/train_phi_head.py: the head's own training lines
    if head:
        if (head["train_lines"], head["seed"]) != (data["train_lines"], data["seed"]):
            train |= {_norm(" ".join(w)) for w, _ in lines("train", head["train_lines"], head["seed"])}
        train |= {_norm(" ".join(w)) for w, _ in attribute_lines(head["attribute_lines"], head["attribute_seed"])}
        if head.get("word_lines"):
            train |= {_norm(" ".join(w)) for w, _ in word_lines(head["word_lines"], head["word_seed"])}
    assert len(train) > 1000
    evaluation = {_norm(t) for t, _ in text_pool(150, 202)}
    for p in eval_set:
        evaluation |= {_norm(ln["text"]) for ln in json.loads(p.with_suffix(".json").read_text())["lines"]}
    for ann in ANNOTATED.glob("*.json"):
        evaluation |= {_norm(ln["text"]) for ln in json.loads(ann.read_text())["lines"]}
    shared = evaluation & train
    assert not shared, f"{len(shared)} evaluation lines occur in the training data"


def test_evaluation_instances_decode_and_carry_their_lines(eval_set: list[Path]) -> None:
    seen = set()
    for p in eval_set:
        ds = pydicom.dcmread(p)
        truth = json.loads(p.with_suffix(".json").read_text())
        frames = decode_frames(ds)
        assert (frames.count, frames.rows, frames.columns) == (truth["frames"], truth["rows"], truth["cols"])
        assert any(ln["phi"] for ln in truth["lines"]) and any(not ln["phi"] for ln in truth["lines"])
        for ln in truth["lines"]:
            assert 6 <= ln["h"] <= 48 and ln["x"] + ln["w"] <= frames.columns and ln["y"] + ln["h"] <= frames.rows
            seen.add(ln["grey"])
    assert {"max", "mid", "dark"} <= seen


def test_annotated_real_files_are_well_formed() -> None:
    files = sorted(ANNOTATED.glob("*.json"))
    assert len(files) >= 4
    for ann in files:
        truth = json.loads(ann.read_text())
        assert truth["source"] and truth["how"] and truth["lines"]
        for ln in truth["lines"]:
            assert {"x", "y", "w", "h", "text", "phi"} <= set(ln) and ln["w"] > 0 and ln["h"] > 0
    assert sum(ln["phi"] for f in files for ln in json.loads(f.read_text())["lines"]) >= 10


def test_evaluation_set_does_not_depend_on_the_clock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Same seed, same lines on any day: faker's "now"-relative dates once made the set (and the figures
    measured on it) change from run to run."""
    import faker.providers.date_time as fdt
    from make_eval_pixels import generate
    from phi_training_lines import lines

    def texts() -> list[str]:
        (p,) = generate(tmp_path / str(len(list(tmp_path.iterdir()))), 0, 505, indices=[0])
        return [ln["text"] for ln in json.loads(p.with_suffix(".json").read_text())["lines"]] + \
            [" ".join(w) for w, _ in lines("train", 200, 13)]

    before = texts()

    class Later(fdt.datetime):  # type: ignore[misc,name-defined]
        @classmethod
        def now(cls, tz=None):  # type: ignore[no-untyped-def]
            return super().now(tz) + timedelta(days=400, seconds=7)

    monkeypatch.setattr(fdt, "datetime", Later)
    assert texts() == before


def test_eval_set_never_reuses_another_seeds_images(tmp_path: Path) -> None:
    """`eval_pixels.py independent --seed S` scores set S even when the folder holds another seed's set."""
    from make_eval_pixels import eval_set

    first = eval_set(tmp_path, 1, 101)
    lines_101 = json.loads(first[0].with_suffix(".json").read_text())["lines"]
    again = eval_set(tmp_path, 1, 101)  # same seed: reused, not written again
    assert again == first and json.loads(again[0].with_suffix(".json").read_text())["lines"] == lines_101
    other = eval_set(tmp_path, 1, 102)
    assert json.loads(other[0].with_suffix(".json").read_text())["lines"] != lines_101
    assert json.loads((tmp_path / "set.json").read_text())["seed"] == 102
