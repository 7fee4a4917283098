"""The free-text cleaner with a stub classifier that calls every word PHI or none, so that a test sees
the rules' own part (shared by the free-text rule tests under ``tests/header``)."""

from __future__ import annotations

import re

from deid.header.freetext import FreeTextCleaner, Verdict


class RuleScorer:
    """A classifier that calls every word PHI (``phi``) or none."""

    version = "test"

    def __init__(self, phi: bool) -> None:
        self._p = 1.0 if phi else 0.0

    def word_probs(self, texts: list[str]) -> list[list[float]]:
        return [[self._p for _w in t.split()] for t in texts]


def clean(text: str, phi: bool = False) -> tuple[str, Verdict]:
    """The cleaned text and verdict of ``text`` by the rules and a scorer that says ``phi`` for every word."""
    res = FreeTextCleaner(frozenset(), RuleScorer(phi)).clean(text)
    return res.text, res.verdict


def words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", text)


def assert_removed(text: str, phi: tuple[str, ...]) -> None:
    """None of the words ``phi`` is left in ``text`` cleaned, whatever the classifier says (every word
    PHI or none): the rules alone remove them."""
    for scorer_says_phi in (False, True):
        cleaned, _ = clean(text, scorer_says_phi)
        assert not set(phi) & set(words(cleaned)), cleaned


def assert_kept_whole(text: str) -> None:
    """Every word of ``text`` stays, whatever the classifier says: the rules alone keep it."""
    for scorer_says_phi in (False, True):
        cleaned, _ = clean(text, scorer_says_phi)
        assert words(cleaned) == words(text), cleaned
