"""The C (clean) action on free text: PS3.15 E.3.5 Clean Descriptors, E.3.4 Clean Structured Content,
E.3.3 Clean Graphics.

The text keeps its clinical meaning and loses what identifies: the instance's own identifying values
(names in any order and case, IDs, dates in any format, places) and pattern-like identifiers (dates,
phone numbers, e-mail addresses, MRN-like tokens).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from deid.header.identifiers import Identifiers

MASK = "[X]"

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DATE_PATTERNS = [
    r"\b\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\b",
    r"\b\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}\b",
    r"\b(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\b",
    r"\b\d{1,2}[ -]?(?:" + "|".join(_MONTHS) + r")[a-z]*\.?[ -,]*\d{2,4}\b",
    r"\b(?:" + "|".join(_MONTHS) + r")[a-z]*\.?[ -]?\d{1,2}(?:st|nd|rd|th)?,?[ -]\d{2,4}\b",
]
_PATTERNS = [re.compile(p, re.IGNORECASE) for p in _DATE_PATTERNS] + [
    re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"),  # e-mail
    re.compile(r"\b[A-Za-z][A-Za-z'-]*\^[A-Za-z'^ -]*[A-Za-z]"),  # a DICOM PN (Family^Given) in text
    re.compile(r"(?:\+?\d{1,3}[\s.-]?)?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}\b"),  # phone
    re.compile(r"\b(?=[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]{4,}\d\b", re.IGNORECASE),  # MRN/accession-like
    re.compile(r"\b(?:MRN|ID|DOB|NAME|PATIENT|ACC(?:ESSION)?)\s*[:#]\s*\S+(?:\s+\S+)?", re.IGNORECASE),
]
# Technique tokens that look like identifiers but are not (kept): e.g. "T1-MPRAGE", "3D", "2.5MM".
_CLINICAL_TOKEN = re.compile(r"^(?:\d+(?:\.\d+)?(?:MM|CM|KV|MAS|MS|HZ|DB|S|T|MHZ|X)|T[12]\w*)$", re.I)


def date_variants(da: str) -> set[str]:
    """Spellings of a YYYYMMDD date seen in text: 20200131, 2020-01-31, 01/31/2020, 31.01.2020,
    31/01/2020, 1/31/20, Jan 31 2020, 31 Jan 2020, January 31, 2020."""
    try:
        d = dt.datetime.strptime(da[:8], "%Y%m%d").date()
    except ValueError:
        return {da} if da else set()
    y, m, dd = d.year, d.month, d.day
    mon = d.strftime("%b")
    month = d.strftime("%B")
    out = {
        f"{y:04d}{m:02d}{dd:02d}", f"{y:04d}-{m:02d}-{dd:02d}", f"{y:04d}/{m:02d}/{dd:02d}",
        f"{y:04d}.{m:02d}.{dd:02d}", f"{m:02d}/{dd:02d}/{y:04d}", f"{dd:02d}/{m:02d}/{y:04d}",
        f"{dd:02d}.{m:02d}.{y:04d}", f"{m}/{dd}/{y:04d}", f"{m}/{dd}/{y % 100:02d}",
        f"{m:02d}/{dd:02d}/{y % 100:02d}", f"{dd:02d}-{m:02d}-{y:04d}", f"{m:02d}-{dd:02d}-{y:04d}",
        f"{mon} {dd} {y}", f"{mon} {dd}, {y}", f"{dd} {mon} {y}", f"{dd}-{mon}-{y}",
        f"{month} {dd}, {y}", f"{month} {dd} {y}", f"{dd} {month} {y}",
    }
    return out


def _literal_pattern(ids: Identifiers, extra: Iterable[str] = ()) -> re.Pattern[str] | None:
    """One alternation of every identifying literal, longest first, matched as whole words."""
    literals: set[str] = set(x for x in extra if x)
    literals.update(ids.name_tokens(min_len=2))
    literals.update(i for i in ids.ids if len(i) >= 2)
    literals.update(p for p in ids.places if len(p) >= 3)
    for d in ids.dates:
        literals.update(date_variants(d))
    if not literals:
        return None
    ordered = sorted(literals, key=len, reverse=True)
    return re.compile(r"(?<![\w])(?:" + "|".join(re.escape(x) for x in ordered) + r")(?![\w])", re.IGNORECASE)


class TextCleaner:
    """Removes identifying content from free text; built once per instance."""

    def __init__(self, ids: Identifiers, extra_literals: Iterable[str] = ()) -> None:
        self._literals = _literal_pattern(ids, extra_literals)

    def clean(self, text: str, max_len: int | None = None) -> str:
        out = text
        if self._literals is not None:
            out = self._literals.sub(MASK, out)
        for pat in _PATTERNS:
            out = pat.sub(_mask_unless_clinical, out)
        out = re.sub(r"(?:\[X\][\s^,;]*){2,}", MASK + " ", out).strip()
        if max_len is not None and len(out) > max_len:
            out = out[:max_len].rstrip()
        return out


def _mask_unless_clinical(m: re.Match[str]) -> str:
    return m.group(0) if _CLINICAL_TOKEN.match(m.group(0)) else MASK
