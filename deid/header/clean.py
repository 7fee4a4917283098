"""The C (clean) action on free text: PS3.15 E.3.5 Clean Descriptors, E.3.4 Clean Structured Content,
E.3.3 Clean Graphics.

The text keeps its clinical meaning and loses what identifies: the instance's own identifying values
in every variant (:mod:`deid.textmatch`), identifiers found by form, and names of other people,
places and organisations (:mod:`deid.header.freetext`). A value that cannot be cleaned with
confidence is removed (default deny).
"""

from __future__ import annotations

from deid.header.freetext import MASK, Cleaned, FreeTextCleaner, Verdict, WordScorer
from deid.header.identifiers import Identifiers
from deid.header.profile import FreeTextPolicy

__all__ = ["MASK", "Cleaned", "TextCleaner", "Verdict"]


class TextCleaner:
    """Removes identifying content from free text; built once per instance."""

    def __init__(self, ids: Identifiers, scorer: WordScorer | None = None,
                 policy: FreeTextPolicy | None = None) -> None:
        policy = policy or FreeTextPolicy()
        self._cleaner = FreeTextCleaner(ids.needles(broad=True), scorer, policy.phi_threshold,
                                        policy.safe_threshold)

    def assess(self, text: str) -> Cleaned:
        return self._cleaner.clean(text)

    def clean(self, text: str, max_len: int | None = None) -> str:
        """The cleaned text; "" when the value is removed (default deny)."""
        out = self._cleaner.clean(text).text
        if max_len is not None and len(out) > max_len:
            out = out[:max_len].rstrip()
        return out
