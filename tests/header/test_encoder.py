"""The numpy encoder (deid.header.encoder, issue #11 worker warm-up) gives the free-text scorer the
figures of the transformers/torch model, and a worker scoring with it never imports torch."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from deid.header.encoder import load_encoder
from deid.header.phi_text import FreeTextPhiModel, load_scorer
from deid.header.scoring import MARGIN

ROOT = Path(__file__).resolve().parents[2]
TOLERANCE = 1e-5  # float32 rounding of two implementations of one network

TEXTS = [
    "Result discussed with Wright by phone",
    "nodule in right upper lobe",
    "Reviewed with Dr Quentin Albright at Northgate General Hospital on 12/03/2019",
    "CT CHEST W/O CONTRAST",
    "Liver Segmentation",
    "None",
    "",
    "x",
    "Pt. O'Brien-Smythe (MRN 00412345) transferred from St. Mary's, Cork; follow-up w/ Dr. Ngô",
    "Überweisung von Frau Müller an die Radiologie, Ärztin Dr. Åsa Ødegård",
    "患者 张伟 北京协和医院",
    "antidisestablishmentarianism " * 3 + "supercalifragilisticexpialidocious",
    " ".join(["word"] * 140),  # beyond 128 word pieces: truncated, the last words get zero vectors
    "Images sent to Harper for review.",
    "Tech: JD, RT(R)(CT) - images reviewed by A.B.C. at 0930",
]


@pytest.fixture(scope="module")
def scorers() -> tuple[FreeTextPhiModel, FreeTextPhiModel]:
    return FreeTextPhiModel(backend="numpy"), FreeTextPhiModel(backend="torch")


@pytest.mark.parametrize("text", TEXTS)
def test_numpy_word_probabilities_are_the_torch_ones(scorers: tuple[FreeTextPhiModel, FreeTextPhiModel],
                                                     text: str) -> None:
    fast, ref = scorers
    fast.clear_cache()
    ref.clear_cache()
    got, want = fast.word_probs([text])[0], ref.word_probs([text])[0]
    assert len(got) == len(want) == max(1, len(text.split()))
    assert np.max(np.abs(np.asarray(got) - np.asarray(want))) < TOLERANCE


def test_padded_and_batched_numpy_figures_are_the_one_text_figures(
        scorers: tuple[FreeTextPhiModel, FreeTextPhiModel]) -> None:
    """Padding (several texts in one word_probs pass) and score_batch stay far inside the engine's
    re-scoring margin, and agree with torch's batched figures too."""
    fast, ref = scorers
    fast.clear_cache()
    ref.clear_cache()
    single = [fast.word_probs([t])[0] for t in TEXTS]
    fast.clear_cache()
    padded = fast.word_probs(TEXTS)
    batched = fast.score_batch(TEXTS + TEXTS[:3])
    ref_batched = ref.score_batch(TEXTS)
    for one, pad, bat, tb in zip(single, padded, batched, ref_batched, strict=False):
        assert np.max(np.abs(np.asarray(one) - np.asarray(pad))) < TOLERANCE
        assert np.max(np.abs(np.asarray(one) - np.asarray(bat))) < MARGIN / 100
        assert np.max(np.abs(np.asarray(bat) - np.asarray(tb))) < TOLERANCE
    assert batched[len(TEXTS):] == batched[:3]


def test_numpy_hidden_states_are_the_transformers_ones() -> None:
    """The encoder alone, padded batch: hidden states and word ids as transformers gives them."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    from deid.header.encoder import base_encoder_dir

    words = [t.split() or [""] for t in TEXTS]
    base = str(base_encoder_dir())
    tok = AutoTokenizer.from_pretrained(base, local_files_only=True)
    model = AutoModel.from_pretrained(base, local_files_only=True).eval()
    enc = tok(words, is_split_into_words=True, truncation=True, max_length=128, padding=True, return_tensors="pt")
    with torch.inference_mode():
        want = model(**enc).last_hidden_state.numpy()
    got = load_encoder().encode(words)
    assert got.hidden.shape == want.shape
    for row, n in enumerate(got.lengths):
        assert got.word_ids[row] == enc.word_ids(row)
        assert np.max(np.abs(got.hidden[row, :n] - want[row, :n])) < 5e-5


def test_no_text_is_no_figure(scorers: tuple[FreeTextPhiModel, FreeTextPhiModel]) -> None:
    assert load_encoder().encode([]).hidden.shape == (0, 0, 384)
    assert scorers[0].word_probs([]) == scorers[0].score_batch([]) == []


def test_the_default_scorer_is_the_numpy_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEID_ENCODER", raising=False)
    assert load_scorer().backend == "numpy"
    monkeypatch.setenv("DEID_ENCODER", "torch")
    assert load_scorer().backend == "torch"


WORKER = """
import sys
from deid.header.engine import HeaderEngine
from deid.header.profile import load_profile
from deid.keys import KeyRing
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

engine = HeaderEngine(load_profile("research"), KeyRing(bytes(32)))
ds = Dataset()
ds.file_meta = FileMetaDataset()
ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
ds.SOPInstanceUID = generate_uid()
ds.PatientName = "Roe^Ann"
ds.ImageComments = "Reviewed with Dr Quentin Albright at Northgate"
batch = engine.free_text_batch()
res = engine.deidentify(ds, batch=batch)
engine.finish(batch)
res.check()
assert engine.scores().loaded, "the text needed an encoder pass"
assert "Albright" not in str(res.dataset.ImageComments)
print(sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "transformers")))
"""


def test_a_worker_scoring_free_text_with_numpy_never_imports_torch() -> None:
    env = {k: v for k, v in os.environ.items() if k != "DEID_ENCODER"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    out = subprocess.run([sys.executable, "-c", WORKER], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=300, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
