"""The shipped PHI token classifier and replacement by any local HF token-classification model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from deid.errors import ConfigError
from deid.pixels.phi_model import SHIPPED_DIR, TokenPhiModel, base_encoder_dir, get_phi_model


def test_shipped_delta_is_small_and_described() -> None:
    size = sum(p.stat().st_size for p in SHIPPED_DIR.iterdir())
    assert size <= 10 * 1024 * 1024
    meta = json.loads((SHIPPED_DIR / "meta.json").read_text())
    assert meta["labels"] == ["O", "PHI"] and meta["data"]["generator"] == "scripts/phi_training_lines.py"
    # held out BY SOURCE (other faker locales, other SR code systems), at the 0.5 threshold
    assert meta["held_out_by_source"]["line_recall"] >= 0.95 and meta["held_out_by_source"]["line_fpr"] <= 0.15


def test_shipped_model_separates_phi_from_technical_text() -> None:
    m = get_phi_model()
    phi, tech = m.score(["Whitfield, Amara", "Kowalski Tomasz", "St Kilda Medical Centre"]), m.score(
        ["Depth 14 cm", "TIS0.4 MI 1.1", "C5-1 Gen OB"])
    assert min(phi) >= 0.8 and max(tech) < 0.8  # technical lines at worst land in the review band
    assert m is get_phi_model()


def test_replacement_hf_model_with_mapped_labels(tmp_path: Path) -> None:
    from transformers import AutoModelForTokenClassification

    labels = ["O", "B-PER", "I-PER", "B-LOC"]
    model = AutoModelForTokenClassification.from_pretrained(
        str(base_encoder_dir()), num_labels=4, id2label=dict(enumerate(labels)),
        label2id={lab: i for i, lab in enumerate(labels)}, local_files_only=True)
    model.save_pretrained(tmp_path)
    for f in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        shutil.copy(base_encoder_dir() / f, tmp_path / f)
    m = TokenPhiModel(tmp_path, phi_labels=["B-PER", "I-PER"])
    scores = m.score(["John Smith", "Depth 14 cm"])
    assert len(scores) == 2 and all(0.0 <= s <= 1.0 for s in scores)
    assert m.version == f"hf:{tmp_path.name}"
    with pytest.raises(ConfigError):
        TokenPhiModel(tmp_path, phi_labels=["B-NAME"])
    with pytest.raises(ConfigError):
        TokenPhiModel(tmp_path, phi_labels=None)


LINES = ["Whitfield, Amara", "Kowalski Tomasz", "St Kilda Medical Centre", "Depth 14 cm", "TIS0.4 MI 1.1",
         "C5-1 Gen OB", "", "DOB 03/04/1961  MRN 00412345", "Dr. Ngô Thị Hương — Hôpital Saint-Louis",
         " ".join(["lesion"] * 80)]  # beyond 64 word pieces: truncated, the last words score 0


def test_numpy_delta_gives_the_torch_figures() -> None:
    """The shipped delta over the numpy encoder (deid.header.encoder, issue #11: no torch in the
    worker) against transformers + torch, in one padded batch and one line at a time."""
    fast, ref = TokenPhiModel(backend="numpy"), TokenPhiModel(backend="torch")
    assert fast._numpy is not None and ref._numpy is None
    assert fast.version == ref.version
    for got, want in [(fast.word_probs(LINES), ref.word_probs(LINES)),
                      ([fast.word_probs([t])[0] for t in LINES], [ref.word_probs([t])[0] for t in LINES])]:
        for g, w in zip(got, want, strict=True):
            assert len(g) == len(w)
            assert max((abs(a - b) for a, b in zip(g, w, strict=True)), default=0.0) < 1e-5
