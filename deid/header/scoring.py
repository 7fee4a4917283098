"""The header engine's free-text scores, batched across instances (PS3.15 E.3.5 Clean Descriptors).

The learned word scorer (:mod:`deid.header.phi_text`) costs far more per call than per text: one
encoder pass for one short value is mostly fixed cost. The engine therefore defers a value whose
scorer text was never seen: the value is removed for the time being (default deny), the text is
noted, and :meth:`FreeTextBatch.finish` scores the texts of every deferred value of a whole batch of
instances in a few batched encoder passes, then cleans those values again with the scores known.

Decisions are those of one text per pass: a batched figure agrees with the one-text figure to float
rounding (padding-free batches: under 1e-10 measured with torch, under 1e-5 with the numpy encoder
of :mod:`deid.header.encoder`), and a text with a word whose batched figure
lies within :data:`MARGIN` of a threshold the cleaner compares it with is scored again alone, so
the cleaner never sees a figure on the other side of a threshold than the one-text pass gives.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from deid.header.freetext import WordScorer

MARGIN = 1e-3  # a batched figure this close to a threshold is re-scored alone (measured drift: < 1e-5)
STORE_TEXTS = 65536  # batched texts the engine keeps (least recently used first out)


class EngineScores:
    """One engine's view of its scorer: the scorer's one-text figures (its cache) and the figures of
    batched passes, checked against the engine's thresholds. Thread-safe.

    With a ``loader`` instead of a scorer, the scorer (torch, transformers and the encoder: seconds
    per Python worker) is loaded on the first text that needs an encoder pass, never for a batch of
    instances whose free text the rules settle alone (issue #11, worker warm-up)."""

    def __init__(self, scorer: WordScorer | None, thresholds: tuple[float, ...], *,
                 loader: Callable[[], WordScorer] | None = None) -> None:
        if scorer is None and loader is None:
            raise ValueError("a scorer or a loader")
        self._scorer = scorer
        self._loader = loader
        self._thresholds = thresholds
        self._store: OrderedDict[str, list[float]] = OrderedDict()
        self._lock = threading.Lock()
        self._load_lock = threading.Lock()

    @property
    def scorer(self) -> WordScorer:
        """The scorer, loaded now if it was not yet."""
        if self._scorer is None:
            with self._load_lock:
                if self._scorer is None and self._loader is not None:
                    self._scorer = self._loader()
        assert self._scorer is not None
        return self._scorer

    @property
    def loaded(self) -> bool:
        return self._scorer is not None

    @property
    def version(self) -> str:
        return self.scorer.version

    def lookup(self, text: str) -> list[float] | None:
        """Figures known without an encoder pass, or None (a scorer not loaded yet knows none)."""
        with self._lock:
            probs = self._store.get(text)
            if probs is not None:
                self._store.move_to_end(text)
                return list(probs)
        if self._scorer is None:
            return None
        cached = getattr(self._scorer, "cached", None)
        return cached(text) if cached is not None else None

    def single(self, text: str) -> list[float]:
        """One text, one encoder pass (the scorer's own path and cache)."""
        return self.scorer.word_probs([text])[0]

    def fill(self, texts: list[str]) -> None:
        """Score the texts not known yet, batched when the scorer can batch."""
        todo = [t for t in dict.fromkeys(texts) if self.lookup(t) is None]
        if not todo:
            return
        batch = getattr(self.scorer, "score_batch", None)
        if batch is None:
            for t in todo:
                self.single(t)
            return
        for text, probs in zip(todo, batch(todo), strict=True):
            if self._near(probs):
                probs = self.single(text)  # the exact one-text figures decide
            with self._lock:
                self._store[text] = probs
                while len(self._store) > STORE_TEXTS:
                    self._store.popitem(last=False)

    def _near(self, probs: list[float]) -> bool:
        return any(abs(p - t) <= MARGIN for p in probs for t in self._thresholds)


class ScorerView:
    """The :class:`WordScorer` one instance's cleaner calls. While ``collecting``, a text without
    known figures is noted in ``missing`` and answered with placeholder figures (the value is
    cleaned again once the batch is scored); otherwise it is scored alone."""

    def __init__(self, scores: EngineScores, collecting: bool) -> None:
        self.collecting = collecting
        self.missing: list[str] = []
        self._scores = scores

    @property
    def version(self) -> str:
        """The scorer's version (loads it: read only where a figure is needed anyway)."""
        return self._scores.version

    @version.setter
    def version(self, value: str) -> None:  # WordScorer declares a plain attribute
        raise AttributeError("the scorer's version is read-only")

    def word_probs(self, texts: list[str]) -> list[list[float]]:
        out = []
        for text in texts:
            probs = self._scores.lookup(text)
            if probs is None and self.collecting:
                self.missing.append(text)
                probs = [0.0] * max(1, len(text.split()))
            out.append(probs if probs is not None else self._scores.single(text))
        return out


@dataclass
class Deferred:
    """One instance's deferred values: finished once :meth:`FreeTextBatch.finish` ran; ``error`` is what
    completing them raised (the instance fails as it would have without batching)."""

    done: bool = False
    error: Exception | None = None
    values: int = 0  # elements deferred


class FreeTextBatch:
    """Values of many instances waiting for their scorer texts; :meth:`finish` scores them together."""

    def __init__(self, scores: EngineScores | None) -> None:
        self._scores = scores
        self._texts: dict[str, None] = {}
        self._items: list[tuple[Callable[[], None], Deferred]] = []
        self._states: list[Deferred] = []

    def track(self, state: Deferred) -> None:
        """An instance de-identified with this batch: done only when the batch is finished."""
        self._states.append(state)

    def add(self, texts: list[str], complete: Callable[[], None], state: Deferred) -> None:
        self._texts.update(dict.fromkeys(texts))
        self._items.append((complete, state))
        state.values += 1

    def __len__(self) -> int:
        return len(self._texts)

    def finish(self, convert: Callable[[Exception], Exception] | None = None) -> None:
        """Score every noted text (batched), then complete each deferred value; an instance whose
        completion raises gets the error (``convert``-ed) in its :class:`Deferred`."""
        try:
            if self._scores is not None and self._texts:
                self._scores.fill(list(self._texts))
        except Exception as exc:  # noqa: BLE001 - every waiting instance fails as it would alone
            for _, state in self._items:
                state.error = state.error or _convert(exc, convert)
        for complete, state in self._items:
            if state.error is None:
                try:
                    complete()
                except Exception as exc:  # noqa: BLE001 - the instance fails, the batch goes on
                    state.error = _convert(exc, convert)
        for state in self._states:
            state.done = True
        self._texts.clear()
        self._items.clear()
        self._states.clear()


def _convert(exc: Exception, convert: Callable[[Exception], Exception] | None) -> Exception:
    return convert(exc) if convert is not None else exc


def scorer_thresholds(phi_threshold: float, safe_threshold: float) -> tuple[float, ...]:
    """The thresholds the cleaner compares a figure with (``safe_threshold`` 0 compares nothing:
    every figure is at or above 0)."""
    return (phi_threshold, safe_threshold) if safe_threshold > 0 else (phi_threshold,)

