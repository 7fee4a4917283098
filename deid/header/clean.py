"""The C (clean) action on free text: PS3.15 E.3.5 Clean Descriptors, E.3.4 Clean Structured Content,
E.3.3 Clean Graphics.

The text keeps its clinical meaning and loses what identifies: the instance's own identifying values
in every variant (:mod:`deid.textmatch`), identifiers found by form, and names of other people,
places and organisations (:mod:`deid.header.freetext`). A value that cannot be cleaned with
confidence is removed (default deny).

The instances of a study repeat their descriptions (Study Description, Series Description, Image
Comments, Code Meanings): :class:`CleanCache` remembers each cleaned text with the answers its
cleaning got from the instance's identifying values, and gives the result again only to an instance
whose identifying values answer every one of those questions the same way (the cleaner is a
function of the text, those answers, the scorer's figures and the thresholds, all fixed per engine).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import cast

from deid.header.freetext import MASK, Cleaned, FreeTextCleaner, Verdict, WordScorer
from deid.header.identifiers import Identifiers
from deid.header.profile import FreeTextPolicy

__all__ = ["MASK", "CleanCache", "Cleaned", "TextCleaner", "Verdict"]

CACHE_TEXTS = 32768  # distinct texts one engine remembers (then it starts again, empty)
_PER_TEXT = 8  # results kept per text (instances whose values answer differently)
_EMPTY = "\x00empty"  # the answer key of "is the needle set empty" (no needle key holds a NUL)


class _Unsupported(Exception):
    """The cleaner used the needle set in a way :class:`_Probe` does not record."""


class _Probe:
    """An instance's needle set that records each membership question and its answer; anything
    else it cannot record makes the result uncacheable (iteration, size) or unusable (other uses)."""

    __slots__ = ("_needles", "asked", "opaque")

    def __init__(self, needles: frozenset[str]) -> None:
        self._needles = needles
        self.asked: dict[str, bool] = {}
        self.opaque = False

    def __contains__(self, key: object) -> bool:
        found = key in self._needles
        if isinstance(key, str):
            self.asked[key] = found
        else:
            self.opaque = True
        return found

    def __bool__(self) -> bool:
        found = bool(self._needles)
        self.asked[_EMPTY] = not found  # no needle key holds a NUL
        return found

    def __len__(self) -> int:
        self.opaque = True
        return len(self._needles)

    def __iter__(self) -> Iterator[str]:
        self.opaque = True
        return iter(self._needles)

    def __getattr__(self, name: str) -> object:
        raise _Unsupported(name)


class CleanCache:
    """Cleaned texts of one engine, each with the needle answers it depends on. Memory only (PHI);
    thread-safe."""

    def __init__(self, limit: int = CACHE_TEXTS) -> None:
        self._limit = limit
        # text -> (keys answered present, keys answered absent, the emptiness answer or None, result)
        self._entries: dict[str, list[tuple[frozenset[str], frozenset[str], bool | None, Cleaned]]] = {}
        self._lock = threading.Lock()

    def lookup(self, text: str, needles: frozenset[str]) -> Cleaned | None:
        """A result whose every recorded answer the needle set gives again: each key answered
        present is in it, each answered absent is not, and its emptiness is as answered (set
        operations instead of one membership test per answer: issue #11)."""
        for present, absent, empty, result in self._entries.get(text, ()):
            if (empty is None or empty == (not needles)) and present <= needles and absent.isdisjoint(needles):
                return result
        return None

    def store(self, text: str, answers: tuple[tuple[str, bool], ...], result: Cleaned) -> None:
        """Remember ``result`` for ``text`` with the answers (key, found) its cleaning got; the key
        ``_EMPTY`` answers whether the needle set was empty (:class:`_Probe`)."""
        present = frozenset(k for k, a in answers if a and k != _EMPTY)
        absent = frozenset(k for k, a in answers if not a and k != _EMPTY)
        empty = dict(answers).get(_EMPTY)
        with self._lock:
            if len(self._entries) >= self._limit:
                self._entries.clear()
            held = self._entries.setdefault(text, [])
            if len(held) < _PER_TEXT:
                held.append((present, absent, empty, result))

    def __len__(self) -> int:
        return len(self._entries)


class TextCleaner:
    """Removes identifying content from free text; built once per instance."""

    def __init__(self, ids: Identifiers, scorer: WordScorer | None = None,
                 policy: FreeTextPolicy | None = None, cache: CleanCache | None = None) -> None:
        policy = policy or FreeTextPolicy()
        self._needles = ids.needles(broad=True)
        self._scorer = scorer
        self._policy = policy
        self._cache = cache
        self._cleaner = FreeTextCleaner(self._needles, scorer, policy.phi_threshold, policy.safe_threshold)

    def assess(self, text: str) -> Cleaned:
        return self._cleaner.clean(text)

    def clean(self, text: str, max_len: int | None = None) -> str:
        """The cleaned text; "" when the value is removed (default deny)."""
        out = self._cached(text).text
        if max_len is not None and len(out) > max_len:
            out = out[:max_len].rstrip()
        return out

    def _cached(self, text: str) -> Cleaned:
        """:meth:`assess` through the engine's :class:`CleanCache`: a text cleaned with placeholder
        figures (a batch still collecting, :mod:`deid.header.scoring`) is never remembered."""
        cache = self._cache
        if cache is None:
            return self._cleaner.clean(text)
        hit = cache.lookup(text, self._needles)
        if hit is not None:
            return hit
        missing = getattr(self._scorer, "missing", None)
        before = len(missing) if missing is not None else 0
        probe = _Probe(self._needles)
        try:
            result = FreeTextCleaner(cast(frozenset[str], probe), self._scorer, self._policy.phi_threshold,
                                     self._policy.safe_threshold).clean(text)
        except (_Unsupported, TypeError):
            return self._cleaner.clean(text)  # a use the probe cannot follow: uncached
        if not probe.opaque and (missing is None or len(missing) == before):
            cache.store(text, tuple(probe.asked.items()), result)
        return result
