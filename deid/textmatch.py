"""The one tolerant text matcher: cleaning (PS3.15 E.3.5 Clean Descriptors, E.3.4 Clean Structured
Content), burned-in text (E.3.1 Clean Pixel Data) and the verification pass use it alike.

An identifying value (a PN, an ID, a date, an address, an institution, a UID ...) becomes a set of
*needles*: normalised keys of every common way it is written. A text becomes *spans*: the keys of
its token n-grams. A span whose key is a needle is that value, whatever its case, accents, order of
name components, separators, leading zeros, date layout or a few OCR confusions (O/0, l/1/I, S/5,
B/8). Keys are plain strings, so both sides can be tested in clear (the cleaner) or as keyed hashes
(verification hashes needles and spans with the run's key and never holds a value in clear).

Three keys are made for each token sequence: ``spaced`` (tokens joined by one space), ``compact``
(tokens concatenated: separators do not matter) and ``ocr`` (compact with OCR-confusable characters
folded). Tokens are maximal runs of letters or of digits (a letter/digit boundary splits, so an ID
inside a longer token is found); every ideographic, kana or hangul character is a token of its own
(names in those scripts are written without spaces).

Values that identify no one (``NONE``, ``UNKNOWN``, ``N/A``, single characters, DICOM vocabulary,
units, common words: :func:`is_non_identifying`) never become needles. The vocabulary is derived from
pydicom's data dictionary (PS3.6 attribute names), its SR concept dictionaries (PS3.16 code
meanings, UCUM units) and its UID registry names, plus a short list of placeholders and function
words.

Only the standard library and pydicom are imported: no Spark, no model.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import NamedTuple

MAX_NGRAM = 8  # longest token run a needle can have (an e-mail, a 4-character Kanji name, a date)


class NeedleKind(str, Enum):
    """What an identifying value is; decides which variants are written for it."""

    PERSON_NAME = "person_name"
    ID = "id"
    DATE = "date"
    TIME = "time"
    ADDRESS = "address"
    INSTITUTION = "institution"
    UID = "uid"
    PHONE = "phone"
    EMAIL = "email"
    OTHER = "other"


class PatternKind(str, Enum):
    """Identifiers found by their form alone (HIPAA Safe Harbor 164.514(b)(2) categories)."""

    STREET_ADDRESS = "street_address"
    PHONE = "phone"
    EMAIL = "email"
    URL = "url"
    SSN = "ssn"
    MRN = "mrn"
    AGE_OVER_89 = "age_over_89"
    DATE = "date"
    TIME = "time"
    UID = "uid"


@dataclass(frozen=True)
class Match:
    """A pattern found in a text: ``text[start:end]`` (offsets into the original string)."""

    start: int
    end: int
    kind: PatternKind


class Span(NamedTuple):
    """A candidate n-gram of a text: ``text[start:end]`` and one of its normalised keys."""

    start: int
    end: int
    key: str


class _Token(NamedTuple):
    start: int
    end: int
    norm: str


# ---------------------------------------------------------------------------------- normalisation
_LETTER_FOLD = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "đ": "d", "ð": "d", "ł": "l", "þ": "th",
                              "ı": "i", "ħ": "h", "ŀ": "l"})
_OCR_FOLD = str.maketrans({"0": "o", "1": "l", "i": "l", "j": "l", "|": "l", "5": "s", "8": "b",
                           "2": "z", "6": "g"})
_WIDE = ((0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0xAC00, 0xD7AF),
         (0x20000, 0x2FFFF), (0x31F0, 0x31FF))


def _is_wide(ch: str) -> bool:
    """Ideographic, kana or hangul: a token of its own (PS3.5 6.2 PN ideographic/phonetic groups)."""
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in _WIDE)


@lru_cache(maxsize=8192)
def _norm_char(ch: str) -> str:
    """NFKC, casefold, accents stripped, a few letters without decomposition folded."""
    text = unicodedata.normalize("NFKC", ch).casefold()
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", text).translate(_LETTER_FOLD)


def _class(text: str) -> str:
    """'w' wide, 'a' letters, 'd' digits, '' separator."""
    if not text:
        return ""
    if all(_is_wide(c) for c in text):
        return "w"
    if text.isdigit() and text.isascii():
        return "d"
    if all(c.isalpha() for c in text):
        return "a"
    if all(c.isalnum() for c in text):
        return "d" if all(c.isdigit() for c in text) else "a"
    return ""


_ASCII_TOKEN = re.compile(r"[A-Za-z]+|[0-9]+")


def tokens(text: str) -> list[_Token]:
    """Tokens of ``text`` with their offsets into the original string."""
    if text.isascii():  # fast path, same result: NFKC and accents change nothing in ASCII
        return [_Token(m.start(), m.end(), m.group(0).lower()) for m in _ASCII_TOKEN.finditer(text)]
    out: list[_Token] = []
    cur_start, cur_cls = -1, ""
    buf: list[str] = []
    for i, ch in enumerate(text):
        if unicodedata.combining(ch):
            continue  # a combining accent stays inside the token it follows
        norm = _norm_char(ch)
        cls = _class(norm)
        if cls == "w" or cls != cur_cls:
            if buf:
                out.append(_Token(cur_start, i, "".join(buf)))
            buf, cur_cls, cur_start = [], "", -1
        if not cls:
            continue
        if cls == "w":
            out.append(_Token(i, i + 1, norm))
            continue
        if not buf:
            cur_start, cur_cls = i, cls
        buf.append(norm)
    if buf:
        out.append(_Token(cur_start, len(text), "".join(buf)))
    return out


def normalise(text: str) -> str:
    """The spaced key of a text: NFKC, casefold, accents stripped, every run of separators one space,
    letters and digits apart ("Müller-Lüdenscheidt^Anna" -> "muller ludenscheidt anna")."""
    return " ".join(t.norm for t in tokens(text))


def keys_of(norms: list[str]) -> set[str]:
    """The spaced, compact and OCR-folded keys of one token sequence."""
    if not norms:
        return set()
    compact = "".join(norms)
    return {" ".join(norms), compact, compact.translate(_OCR_FOLD)}


def _keys(text: str) -> set[str]:
    return keys_of([t.norm for t in tokens(text)])


# ---------------------------------------------------------------------------------- spans
_DOTTED = re.compile(r"(?<![\d.])\d+(?:\.\d+){2,}(?![\d])")


def spans(text: str, max_n: int = MAX_NGRAM) -> Iterator[Span]:
    """Every token n-gram (n <= ``max_n``) of ``text`` with each of its keys, plus dotted-number runs
    (UIDs, PS3.5 9.1) as written, and digit tokens without their leading zeros."""
    toks = tokens(text)
    for i, first in enumerate(toks):
        norms: list[str] = []
        for j in range(i, min(i + max_n, len(toks))):
            norms.append(toks[j].norm)
            for key in keys_of(norms):
                yield Span(first.start, toks[j].end, key)
        if first.norm.isdigit() and first.norm.startswith("0") and first.norm.strip("0"):
            yield Span(first.start, first.end, first.norm.lstrip("0"))
    for m in _DOTTED.finditer(text):
        yield Span(m.start(), m.end(), m.group(0))


def find_needles(text: str, needle_set: frozenset[str] | set[str]) -> list[tuple[int, int]]:
    """Offsets of every span of ``text`` whose key is in ``needle_set`` (clear-text matching)."""
    if not needle_set:
        return []
    return sorted({(s.start, s.end) for s in spans(text) if s.key in needle_set})


class _NeedleIndex(NamedTuple):
    prefixes: frozenset[str]  # every non-empty prefix of every needle
    numbers: bool  # a needle is a number without leading zeros (:func:`spans` strips them)
    dotted: bool  # a needle has the form of a dotted-number run (:data:`_DOTTED`)
    numeric: tuple[str, ...]  # the needles a span of a numeric text (:data:`_NUMERIC_TEXT`) can equal


# A text of numbers only (IS/DS values and lists, PS3.5 6.2): its tokens are digit runs and "e" runs
# (exponents), so the key of any of its spans is made of the characters of :data:`_NUMERIC_KEY_CHARS`
# (digits, "e", the spaced key's blanks, the dotted run's dots, and the OCR fold of digits and "e").
_NUMERIC_TEXT = re.compile(r"[0-9.+\-eE\\ \x00]*")
_NUMERIC_KEY_CHARS = frozenset("0123456789e .") | frozenset("0123456789e".translate(_OCR_FOLD))
_NUMERIC_SEPARATORS = str.maketrans("", "", ".+-\\ \x00")


_NUMERIC_MIN = 64  # texts longer than this are first asked :func:`_numeric_without`
_DOTTED_FORM = re.compile(r"\d+(?:\.\d+){2,}")
_ZERO_LED = re.compile(r"(?<![0-9])0[0-9]*")


@lru_cache(maxsize=64)
def _index(needle_set: frozenset[str]) -> _NeedleIndex:
    """What :func:`has_needle` asks of a needle set, built once (a set is reused for a study's instances)."""
    return _NeedleIndex(frozenset(n[:i] for n in needle_set for i in range(1, len(n) + 1)),
                        any(n.isdigit() and not n.startswith("0") for n in needle_set),
                        any(_DOTTED_FORM.fullmatch(n) for n in needle_set),
                        tuple(sorted(n for n in needle_set if n and set(n) <= _NUMERIC_KEY_CHARS)))


def _numeric_without(text: str, numeric: tuple[str, ...]) -> bool:
    """True when ``text`` is numbers only and no span of it can be a needle: a necessary condition of
    every match fails. The keys of a numeric text's spans are its tokens joined (compact: a substring
    of ``joined``, all its tokens run together; spaced: the same without its blanks), the OCR fold of
    the compact key (a substring of ``joined``'s fold: the fold maps one character to one), a digit
    token without its leading zeros (a substring of ``joined``) and dotted runs (substrings of the
    text). ``numeric``: the needles made of characters such keys hold (other needles never match)."""
    if not _NUMERIC_TEXT.fullmatch(text):
        return False
    if not numeric:
        return True
    joined = text.lower().translate(_NUMERIC_SEPARATORS)
    folded = joined.translate(_OCR_FOLD)
    return not any(n.replace(" ", "") in joined or n in folded or n in text for n in numeric)


def has_needle(text: str, needle_set: frozenset[str] | set[str]) -> bool:
    """``bool(find_needles(text, needle_set))``, without walking n-grams no needle can start with.

    The three keys of a token run are prefixes of the keys of every longer run from the same token
    (:func:`keys_of`: joined tokens, the OCR fold maps one character to one), so once none of them is a
    prefix of a needle, no longer run from that token is a needle: a long numeric value (a DS list of
    thousands of numbers) is then read in one pass instead of as every n-gram's three keys. Distinct
    tokens are asked once; the leading-zero and dotted-number spans are looked for only when the set
    holds a needle of that form."""
    if not needle_set:
        return False
    index = _index(needle_set if isinstance(needle_set, frozenset) else frozenset(needle_set))
    if len(text) > _NUMERIC_MIN and _numeric_without(text, index.numeric):
        return False  # a long IS/DS list (RT contour data) none of whose spans can be a needle
    prefixes = index.prefixes
    # the norms of tokens(text): lower-casing ASCII keeps every character's class and offset
    norms = _ASCII_TOKEN.findall(text.lower()) if text.isascii() else [t.norm for t in tokens(text)]
    count = len(norms)
    distinct = set(norms)  # a long value repeats its tokens: each is asked once
    if index.numbers:  # a number without its leading zeros (ASCII: digit tokens are maximal digit runs)
        zeros = set(_ZERO_LED.findall(text)) if text.isascii() else {n for n in distinct if n.startswith("0")}
        if any(n.isdigit() and n.strip("0") and n.lstrip("0") in needle_set for n in zeros):
            return True
    # runs can match only from a token whose keys (one token: two) start a needle
    live = {n for n in distinct if n in prefixes or n.translate(_OCR_FOLD) in prefixes}
    for i, norm in enumerate(norms if live else ()):
        if norm not in live:
            continue
        ocr = norm.translate(_OCR_FOLD)
        spaced = compact = norm
        for j in range(i, min(i + MAX_NGRAM, count)):
            if j > i:
                nxt = norms[j]
                spaced = f"{spaced} {nxt}"
                compact += nxt
                ocr += nxt.translate(_OCR_FOLD)
            if spaced in needle_set or compact in needle_set or ocr in needle_set:
                return True
            if spaced not in prefixes and compact not in prefixes and ocr not in prefixes:
                break
    return index.dotted and any(m.group(0) in needle_set for m in _DOTTED.finditer(text))


# ---------------------------------------------------------------------------------- vocabulary
_PLACEHOLDERS = frozenset({
    "none", "unknown", "unk", "n a", "na", "nk", "n k", "nil", "null", "void", "anonymous", "anonymized",
    "anonymised", "anon", "anonymous patient", "removed", "redacted", "deidentified", "de identified",
    "not applicable", "not available", "not known", "not given", "not specified", "unspecified",
    "blank", "empty", "default", "other", "test", "tests", "xxx", "xx", "tbd", "no name", "noname",
    "unnamed", "patient", "no", "yes", "none given", "no id", "no data", "19000101", "urn anonymized",
})
_FUNCTION_WORDS = frozenset(
    ["a", "an", "the", "of", "and", "or", "in", "on", "at", "to", "for", "from", "by", "with", "without", "within", "into", "onto", "over", "under", "per", "via", "is", "are", "was", "were", "be", "been", "am", "this", "that", "these", "those", "it", "its", "as", "than", "then", "so", "no", "not", "yes", "if", "but", "de", "la", "le", "les", "du", "des", "der", "die", "das", "den", "und", "von", "van", "zu", "el", "los", "las", "y", "e", "di", "da", "do", "dos", "del", "et", "il", "lo", "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st"])


# The coding schemes of pydicom's SR concept dictionaries (PS3.16 code meanings) whose words the
# product reads as vocabulary, declared positively: SNOMED CT, DICOM (DCM), LOINC, UCUM and RadLex,
# the schemes PS3.16's context groups mostly use. Every other scheme there (MDC, NCIt, FMA, UMLS, IBSI,
# NEU ...) is never read: the free-text evaluation may draw its clinical terms from them
# (scripts/freetext_independent.py declares its own sources; tests/header/test_freetext_sources.py
# checks that the two never overlap).
VOCABULARY_SCHEMES = frozenset({"SCT", "DCM", "LN", "UCUM", "RADLEX"})


def concept_meanings() -> Iterator[tuple[str, str, str]]:
    """(scheme, code, meaning) of every PS3.16 concept in pydicom's SR dictionaries whose scheme is in
    :data:`VOCABULARY_SCHEMES`: the only code meanings the product reads."""
    from pydicom.sr._concepts_dict import concepts

    for scheme in sorted(VOCABULARY_SCHEMES & set(concepts)):
        for codes in concepts[scheme].values():
            for code, (meaning, _cids) in codes.items():  # type: ignore[attr-defined]
                yield scheme, code, meaning


@lru_cache(maxsize=1)
def vocabulary() -> frozenset[str]:
    """Words and phrases of the DICOM standard that identify no one (derived, cached).

    PS3.6 attribute names (pydicom's data dictionary), PS3.16 code meanings written in lower case
    somewhere (pydicom's SR concept dictionaries, schemes of :data:`VOCABULARY_SCHEMES` only: capitalised-only words such as eponyms are left
    out, so a surname like "Addison" stays a needle), UCUM units, UID registry names (PS3.6 A).
    """
    from pydicom.datadict import DicomDictionary
    from pydicom.pixels.common import PhotometricInterpretation
    from pydicom.uid import UID_dictionary

    words: set[str] = set(_FUNCTION_WORDS) | set(_PLACEHOLDERS)
    words.update(normalise(p.value) for p in PhotometricInterpretation)  # PS3.3 C.7.6.3.1.2
    for entry in DicomDictionary.values():
        words.update(normalise(entry[2]).split())
    for uid_entry in UID_dictionary.values():
        words.update(normalise(uid_entry[0]).split())
    for scheme, code, meaning in concept_meanings():
        if scheme == "UCUM":
            words.add(normalise(code))
            words.update(normalise(meaning).split())
            continue
        words.add(normalise(meaning))
        words.update(normalise(w) for w in re.findall(r"\b[a-z][a-z]+\b", meaning))
    return frozenset(w for w in words if w)


def sentence_case_first(meaning: str) -> list[str]:
    """The first word of a sentence-case meaning ("Urostomy bag" -> "urostomy"); not an eponym
    ("Addison's disease") nor a name among other capitalised words ("Gromark Sheep Breed")."""
    words = meaning.split()
    first = words[0] if words else ""
    if not re.fullmatch(r"[A-Z][a-z]{2,}", first) or "breed" in meaning.lower():
        return []
    if any(w[:1].isupper() and not w.isupper() for w in words[1:]):
        return []
    return [first.lower()]


def _trivial(norm: str) -> bool:
    compact = norm.replace(" ", "")
    if len(compact) <= 1:
        return True
    if len(set(compact)) == 1:
        return True  # "0000", "xxxx", "----"
    return norm in _PLACEHOLDERS


def is_non_identifying(value: str, kind: NeedleKind | None = None) -> bool:
    """True for values that identify no one and are never needles: empty-like values, single
    characters, placeholders (NONE, UNKNOWN, N/A, ANONYMOUS ...), repeated characters, and DICOM
    vocabulary, units and common words (a whole value, or for non-name kinds a value made only of
    such words). PS3.15 E.1: only what identifies is removed; this keeps "NONE" in Grid from
    counting as a leak of an Accession Number "NONE"."""
    norm = normalise(value)
    if _trivial(norm):
        return True
    vocab = vocabulary()
    if norm in vocab:
        return True
    if kind is NeedleKind.PERSON_NAME:
        return False  # "Brown^White" is a name even though both are common words
    # word by word as written: "CT 1" and "NONE / N/A" identify no one, but a glued token such as
    # "1CT1" is an ID even though its letter and digit runs are each vocabulary
    tokens = [normalise(t) for t in re.split(r"[\s,;/^|-]+", value) if normalise(t)]
    return bool(tokens) and all(t in vocab or t.isdigit() and len(t) <= 2 for t in tokens)


# ---------------------------------------------------------------------------------- needles
def needles(value: str, kind: NeedleKind, *, broad: bool = True) -> frozenset[str]:
    """The keys of every common spelling of one identifying value.

    ``broad`` (cleaning) adds single given names and distinctive single words of places; without
    it (verification: every needle found blocks a release) only spellings that identify on their own
    are kept: full names in any order, a surname that is not a common word, whole IDs, dates ...
    """
    value = str(value or "").strip().strip("\x00")
    if not value or is_non_identifying(value, kind):
        return frozenset()
    variants = _VARIANTS[kind](value, broad)
    out: set[str] = set()
    for v in variants:
        if isinstance(v, _Raw):
            out.add(v)
            continue
        norm = normalise(v)
        if not norm or _too_weak(norm, kind, broad):
            continue
        parts = norm.split()
        # initials ("A Smith", "A M Smith") only as separate tokens: glued, "a"+"m"+"dr" would be any
        # run of short tokens ("20dB/DR60" holds "dbdr")
        initials = kind is NeedleKind.PERSON_NAME and len(parts) > 1 and any(len(p) == 1 for p in parts)
        out.update({norm} if initials or _loose_numeric(parts, kind) else keys_of(parts))
    return frozenset(k for k in out if len(k.replace(" ", "")) >= 2)


class _Raw(str):
    """A key used as is (a UID): not tokenised."""


def _loose_numeric(parts: list[str], kind: NeedleKind) -> bool:
    """A date or time spelled in numbers with a part of neither two nor four digits ("25 5 10" of
    2010-05-25, "9 30"): matched only with its separators. Run together ("25510", "930") it is no
    layout anyone writes and is any number's digits: "(128,128,255), 10" holds "255" "10"."""
    return kind in (NeedleKind.DATE, NeedleKind.TIME) and len(parts) > 1 and all(p.isdigit() for p in parts) \
        and any(len(p) not in (2, 4) for p in parts)


def _too_weak(norm: str, kind: NeedleKind, broad: bool) -> bool:
    """A variant that would match by coincidence: a placeholder, too short, or one common word."""
    if _trivial(norm):
        return True
    compact = norm.replace(" ", "")
    wide = all(_is_wide(c) for c in compact)
    if wide:
        return len(compact) < 2
    if kind not in (NeedleKind.DATE, NeedleKind.TIME):
        if compact.isdigit() and len(compact) < 4:
            return True
        if len(compact) < 3:
            return True
    if " " not in norm and norm in vocabulary():
        return not broad or kind is not NeedleKind.PERSON_NAME or len(norm) < 4
    return False


def _pn_groups(value: str) -> list[list[str]]:
    """PS3.5 6.2: up to three component groups (alphabetic=ideographic=phonetic) of five components
    (family^given^middle^prefix^suffix); each group's name parts (family, given, middle)."""
    out = []
    for group in value.split("="):
        comps = [c.strip() for c in group.split("^")]
        parts = [c for c in comps[:3] if c]
        if not parts and group.strip():
            parts = [group.strip()]
        if len(parts) == 1 and "^" not in group:
            words = [w for w in re.split(r"[\s,]+", parts[0]) if w]
            named = [w for w in words if normalise(w) not in _NAME_TITLES]
            if named and len(named) < len(words):
                words = named  # "Dr. Anna Smith": the title is no part of the name (PS3.5 6.2 prefix)
                parts = [" ".join(words)]
            if 1 < len(words) <= 4:
                parts = words  # a name written as "Anna Smith" or "SMITH, ANNA"
        if parts:
            out.append(parts)
    return out


# Name prefixes and suffixes written inside a free-form name (PS3.5 6.2 components 4 and 5)
_NAME_TITLES = frozenset({"dr", "mr", "mrs", "ms", "miss", "mx", "prof", "professor", "doctor", "sir",
                          "dame", "rev", "jr", "sr", "md", "phd", "herr", "frau", "mme", "mlle"})


def _person_variants(value: str, broad: bool) -> list[str]:
    out: list[str] = [value]
    for parts in _pn_groups(value):
        for r in range(2, len(parts) + 1):
            for combo in itertools.permutations(parts, r):
                out.append(" ".join(combo))
        family, given = parts[0], parts[1:]
        out.append(family)
        if given:
            initials = " ".join(g[0] for g in given)
            out += [f"{given[0][0]} {family}", f"{family} {given[0][0]}", f"{initials} {family}",
                    f"{family} {initials}", "".join(parts)]
            if broad:
                out += given
        words = [w for p in parts for w in re.split(r"[\s\-']+", p) if w]
        if broad and len(words) > len(parts):
            out += words  # "van der Berg", "Garcia-Lopez": each distinctive word
    return out


_STREET_ABBR = {
    "street": "st", "lane": "ln", "road": "rd", "avenue": "ave", "drive": "dr", "court": "ct",
    "boulevard": "blvd", "place": "pl", "square": "sq", "terrace": "ter", "crescent": "cres",
    "highway": "hwy", "parkway": "pkwy", "mount": "mt", "north": "n", "south": "s", "east": "e",
    "west": "w", "strasse": "str", "straße": "str", "apartment": "apt", "suite": "ste",
}
_ABBR_BACK = {v: k for k, v in _STREET_ABBR.items()}


def _address_variants(value: str, broad: bool) -> list[str]:
    out = [value]
    for comp in re.split(r"[\^,;\n\r]+", value):
        comp = comp.strip()
        if not comp:
            continue
        out.append(comp)
        words = normalise(comp).split()
        swapped = [_STREET_ABBR.get(w, _ABBR_BACK.get(w, w)) for w in words]
        out.append(" ".join(swapped))
        named = [w for w in words if not w.isdigit()]
        if named and len(named) < len(words):
            out.append(" ".join(named))  # the street without its number
            out.append(" ".join(_STREET_ABBR.get(w, _ABBR_BACK.get(w, w)) for w in named))
        if broad:
            out += [w for w in named if len(w) >= 4 and w not in _STREET_WORDS]
    return out


_STREET_WORDS = frozenset(_STREET_ABBR) | frozenset(_ABBR_BACK) | frozenset(
    ["close", "corner", "crescent", "circle", "trail", "row", "walk", "alley", "mews", "grove", "gardens", "hill", "park", "plaza", "path", "pike", "track", "loop", "view", "wharf", "quay", "green", "way", "rue", "via", "calle", "avenida", "weg", "gasse", "platz", "allee", "laan", "straat"])
STREET_WORDS = _STREET_WORDS  # street types and their abbreviations ("lane", "ln", "rue", "weg"), for the cleaner
_INSTITUTION_WORDS = {"saint": "st", "st": "saint", "hospital": "hosp", "university": "univ",
                      "center": "centre", "centre": "center", "medical": "med", "general": "gen",
                      "gen": "general", "hosp": "hospital", "univ": "university", "med": "medical"}


def _institution_variants(value: str, broad: bool) -> list[str]:
    out = [value]
    words = normalise(value).split()
    out.append(" ".join(_INSTITUTION_WORDS.get(w, w) for w in words))
    for i, w in enumerate(words):  # one abbreviation at a time: "Saint Mary's Hospital"
        if w in _INSTITUTION_WORDS:
            out.append(" ".join(words[:i] + [_INSTITUTION_WORDS[w]] + words[i + 1:]))
    significant = [w for w in words if w not in _FUNCTION_WORDS and not w.isdigit() and len(w) > 1]
    if len(significant) >= 2:
        out.append("".join(w[0] for w in significant))  # "St Mary's Hospital" -> "smh"
        out.append("".join(w[0] for w in words if len(w) > 1 and not w.isdigit()))
    vocab = vocabulary()
    distinctive = [w for w in significant if w not in vocab and len(w) >= 4]
    if broad or len(distinctive) >= 2:
        out += distinctive if broad else [" ".join(distinctive)]
    out += _address_variants(value, broad)[1:] if "^" in value or "," in value else []
    return out


def _id_variants(value: str, broad: bool) -> list[str]:
    norm = normalise(value)
    parts = norm.split()
    out = [value, "".join(parts)]
    stripped = [p.lstrip("0") or "0" if p.isdigit() else p for p in parts]
    out += [" ".join(stripped), "".join(stripped)]
    digits = [p for p in parts if p.isdigit()]
    for d in digits:
        if len(d.lstrip("0")) >= 5:
            out += [d, d.lstrip("0")]  # the number inside "MRN-0012345"
    return out


_MONTHS = {
    "en": ("january february march april may june july august september october november december",
           "jan feb mar apr may jun jul aug sep oct nov dec"),
    "fr": ("janvier fevrier mars avril mai juin juillet aout septembre octobre novembre decembre", ""),
    "de": ("januar februar marz april mai juni juli august september oktober november dezember",
           "jan feb mar apr mai jun jul aug sep okt nov dez"),
    "es": ("enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
           "ene feb mar abr may jun jul ago sep oct nov dic"),
    "it": ("gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre",
           "gen feb mar apr mag giu lug ago set ott nov dic"),
    "nl": ("januari februari maart april mei juni juli augustus september oktober november december",
           "jan feb mrt apr mei jun jul aug sep okt nov dec"),
    "pt": ("janeiro fevereiro marco abril maio junho julho agosto setembro outubro novembro dezembro", ""),
}


def _month_names(month: int) -> set[str]:
    names = set()
    for full, abbr in _MONTHS.values():
        names.add(full.split()[month - 1])
        if abbr:
            names.add(abbr.split()[month - 1])
    return names


def parse_date(value: str) -> dt.date | None:
    """A DA (YYYYMMDD), the date part of a DT, or an ISO date; None when it is not a date."""
    digits = re.sub(r"[^0-9]", "", value.strip())
    try:
        return dt.datetime.strptime(digits[:8], "%Y%m%d").date() if len(digits) >= 8 else None
    except ValueError:
        return None


def _date_variants(value: str, broad: bool) -> list[str]:
    d = parse_date(value)
    if d is None:
        return [value]
    y, m, dd = d.year, d.month, d.day
    yy = f"{y % 100:02d}"
    out = [value]
    for Y in (f"{y:04d}", yy):
        for M in (f"{m:02d}", str(m)):
            for D in (f"{dd:02d}", str(dd)):
                out += [f"{Y} {M} {D}", f"{D} {M} {Y}", f"{M} {D} {Y}"]
    out += [f"{y:04d}{m:02d}{dd:02d}", f"{dd:02d}{m:02d}{y:04d}", f"{m:02d}{dd:02d}{y:04d}"]
    ordinal = {1: "st", 2: "nd", 3: "rd", 21: "st", 22: "nd", 23: "rd", 31: "st"}.get(dd, "th")
    for name in _month_names(m):
        for D in (str(dd), f"{dd:02d}", f"{dd} {ordinal}"):
            out += [f"{D} {name} {y}", f"{name} {D} {y}", f"{D} {name} {yy}", f"{y} {name} {D}",
                    f"{D} of {name} {y}", f"{D} de {name} {y}", f"{D} de {name} de {y}"]
    return out


def _time_variants(value: str, broad: bool) -> list[str]:
    digits = re.sub(r"[^0-9]", "", value.split(".")[0])
    if len(digits) < 4:
        return []
    h, mi = int(digits[:2]), digits[2:4]
    out = [f"{h:02d} {mi}", f"{h} {mi}", f"{h:02d}{mi}"]
    if len(digits) >= 6:
        out += [f"{h:02d} {mi} {digits[4:6]}", f"{h:02d}{mi}{digits[4:6]}"]
    if h % 12 > 0:
        out += [f"{h % 12} {mi} {'pm' if h >= 12 else 'am'}"]
    return out


def _uid_variants(value: str, broad: bool) -> list[str]:
    uid = value.strip().rstrip("\x00")
    if not re.fullmatch(r"\d+(?:\.\d+)+", uid):
        return [uid]
    return [_Raw(uid)]


def _phone_variants(value: str, broad: bool) -> list[str]:
    out = [value]
    digits = re.sub(r"\D", "", value)
    if len(digits) >= 7:
        out += [digits, digits[-10:], digits[-7:]]
    return out


def _email_variants(value: str, broad: bool) -> list[str]:
    out = [value]
    local = value.split("@")[0]
    if broad and len(local) >= 4:
        out.append(local)
    return out


def _other_variants(value: str, broad: bool) -> list[str]:
    return [value]


_VARIANTS = {
    NeedleKind.PERSON_NAME: _person_variants, NeedleKind.ID: _id_variants,
    NeedleKind.DATE: _date_variants, NeedleKind.TIME: _time_variants,
    NeedleKind.ADDRESS: _address_variants, NeedleKind.INSTITUTION: _institution_variants,
    NeedleKind.UID: _uid_variants, NeedleKind.PHONE: _phone_variants,
    NeedleKind.EMAIL: _email_variants, NeedleKind.OTHER: _other_variants,
}


# ---------------------------------------------------------------------------------- patterns
_SUFFIXES = (
    "street|st|lane|ln|road|rd|avenue|ave|av|drive|dr|court|ct|boulevard|blvd|place|pl|square|sq|"
    "terrace|way|close|crescent|highway|hwy|parkway|pkwy|circle|cir|trail|row|walk|alley|mews|grove|"
    "gardens|hill|park|plaza|path|pike|track|loop|run|view|wharf|quay|green"
)
_PREFIXES = ("rue|avenue|boulevard|via|viale|piazza|calle|avenida|carrer|rua|travessa|praça|plaza|"
             "chemin|allee|allée|impasse|quai|place|ulica|ul|корпус|улица")
_NAMEWORD = r"[A-Za-zÀ-ÿ][\w'À-ÿ.-]*"
# Month names and abbreviations of the languages in _MONTHS (their first three letters)
_MONTH_STEMS = "|".join(sorted({w[:3] for full, abbr in _MONTHS.values() for w in (full + " " + abbr).split()}))
# Units after a decimal number: "12.45 mm" is a measurement, not a time
_UNITS_AFTER = r"\s?(?:%|°|µ|μ|(?:mm|cm|m|ml|l|mg|g|kg|s|ms|sec|min|hu|suv|x|mmol|kv|kvp|ma|mas|cc|t|hz|db|mmhg|bpm)\b)"
# Units and durations after a number: "40 ms into ST segment", "3 weeks" are no house number
_UNIT_WORDS = r"(?:ms|s|sec|min|h|hrs?|mm|cm|m|ml|mg|kg|g|kv|ma|mas|hz|yrs?|years?|weeks?|wks?|days?|months?|x)"
_PATTERNS: tuple[tuple[PatternKind, re.Pattern[str]], ...] = (
    (PatternKind.EMAIL, re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),
    (PatternKind.URL, re.compile(r"\b(?:https?|ftp|dicomweb|file)://\S+|\bwww\.[\w-]+\.\S+", re.I)),
    (PatternKind.SSN, re.compile(r"\b\d{3}[- .]\d{2}[- .]\d{4}\b")),
    (PatternKind.PHONE, re.compile(
        r"(?:(?:\b(?:tel|phone|fax|ph|mob|mobile|cell)\b\.?:?\s*)|(?<![\w.]))"
        r"(?:\+\d{1,3}[\s.-]?)?(?:\(\+?\d{1,5}\)[\s./-]?)?\d{1,12}(?:(?:[./-]\s?|\s)\d{1,12}){0,5}"
        r"(?:\s*(?:x|ext\.?)\s*\d{1,6})?(?!\w|\.\d)", re.I)),  # a full stop after it ends the sentence
    (PatternKind.STREET_ADDRESS, re.compile(
        rf"\b(?:\d{{1,5}}[/-])?\d{{1,5}}[A-Za-z]?,?\s+(?!{_UNIT_WORDS}\b)(?:{_NAMEWORD}\s+){{0,3}}(?:{_SUFFIXES})\b\.?"
        r"(?:,?\s+(?:apt|apartment|suite|ste|unit|flat|floor|fl|room|#)\.?\s*[\w-]+)?", re.I)),
    (PatternKind.STREET_ADDRESS, re.compile(
        rf"\b(?i:{_PREFIXES})\s+(?:(?i:de|du|des|del|della|di|da|do|la|le|los|las)\s+){{0,2}}"
        rf"[A-ZÀ-Þ][\w'À-ÿ.-]*(?:\s+{_NAMEWORD})?(?:,?\s+(?:(?i:n[°º]|no\.?|nr\.?)\s*)?\d{{1,5}}[a-z]?(?:[/-]\d{{1,5}}[a-z]?)?)?")),
    (PatternKind.STREET_ADDRESS, re.compile(
        r"\b[\wÀ-ÿ]{2,}(?:stra(?:ss|ß)e|str\.|gasse|weg|platz|allee|laan|straat|gracht|vej|gatan|gata|veien)"
        r"(?![\w])(?:\s+\d{1,5}[a-z]?)?", re.I)),
    (PatternKind.AGE_OVER_89, re.compile(
        r"\b(?:9\d|1[0-4]\d)\s*(?:-|\s)?(?:years?|yrs?|yo|y/o|y\.o\.|-year-old|year-old|jahre?|ans|años|anni)\b"
        r"|\b(?:age[d]?|âgée?|alter)\s*:?\s*(?:9\d|1[0-4]\d)\b|\b(?:09\d|1[0-4]\d)Y\b", re.I)),
    (PatternKind.MRN, re.compile(
        r"\b(?:MRN|MR|ID|PID|NHS|ACC|ACCESSION|CHART|RECORD|PATIENT)\s*(?:NO\.?|NUMBER|#)?\s*[:#]?\s*"
        r"[A-Z]{0,3}\d[\d-]{3,}\b|\b(?=[A-Z-]*\d)(?=\d*[A-Z])[A-Z]{1,4}-?\d{5,}\b"
        r"|\b\d{6,}\b", re.I)),
    (PatternKind.DATE, re.compile(
        r"\b\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\b|\b\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}\b"
        r"|\b(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\b"
        r"|\b\d{1,2}(?:st|nd|rd|th)?\.?\s?(?:of\s)?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)"
        r"[a-z]*\.?,?\s?\d{2,4}\b"
        r"|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s\d{1,2}(?:st|nd|rd|th)?,?\s\d{2,4}\b",
        re.I)),
    (PatternKind.DATE, re.compile(  # a month and year: "03/2019", "Mar '19", "Oktober 2019"
        r"\b(?:0?[1-9]|1[0-2])[/.](?:1[89]|20)\d{2}\b(?![/.-]\d)"
        rf"|\b(?:{_MONTH_STEMS})[^\W\d_]*\.?\s?(?:['’]\d{{2}}|(?:1[89]|20)\d{{2}})\b"
        rf"|\b\d{{1,2}}[-/](?:{_MONTH_STEMS})[^\W\d_]*[-/]\d{{2,4}}\b", re.I)),  # "10-JUL-1944"
    (PatternKind.DATE, re.compile(  # a day, a month in any language and a year: "30. Mei 1990", "3 de mayo de 2020"
        r"\b(?:0?[1-9]|[12]\d|3[01])\.?\s+(?:de\s+)?[^\W\d_]{3,12}\.?,?\s+(?:de\s+)?(?:1[89]|20)\d{2}\b")),
    (PatternKind.TIME, re.compile(  # HIPAA 164.514(b)(2)(i)(C): times are elements of dates
        r"\b(?:[01]?\d|2[0-3])(?::[0-5]\d(?::[0-5]\d)?(?!\d)(?:\s?[ap]\.?m\b\.?)?|h[0-5]\d\b)"
        r"|\b(?:1[0-2]|0?[1-9])\s?[ap]\.?m\b\.?"
        r"|\b(?:[01]\d|2[0-3])[0-5]\d\s?(?:h|hrs?|hours|uhr)\b"
        rf"|(?<![\d.,=<>±~])\b(?:[01]\d|2[0-3])\.[0-5]\d(?![\d°%]|[.,]\d|{_UNITS_AFTER})",
        re.I)),
    (PatternKind.UID, re.compile(r"(?<![\d.])\d+(?:\.\d+){3,}(?![\d])")),
)


def find_patterns(text: str, kinds: Iterable[PatternKind] | None = None) -> list[Match]:
    """Identifiers found by form alone: street addresses, phone/fax numbers, e-mail addresses, URLs,
    SSN-like and MRN-like numbers (letters + 5 or more digits, or 6 or more digits), ages over 89
    (HIPAA 164.514(b)(2)(i)(C)), dates in common layouts and dotted UIDs. Sorted, possibly
    overlapping."""
    wanted = set(kinds) if kinds is not None else set(PatternKind)
    out = [Match(m.start(), m.end(), kind) for kind, pat in _PATTERNS if kind in wanted
           for m in pat.finditer(text) if (kind is not PatternKind.PHONE or _phone_like(m.group(0)))
           and (kind is not PatternKind.TIME or _time_like(text, m.start(), m.group(0)))]
    return sorted(out, key=lambda m: (m.start, -m.end))


_DATE_ONLY = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}")


def _time_like(text: str, start: int, found: str) -> bool:
    """A time with a full stop ("18.38") is no measurement after a label in capitals ("SUV 10.30")."""
    if "." not in found or ":" in found:
        return True
    return re.search(r"\b[A-Z]{2,6}\s*[:=]?\s*$", text[:start]) is None


def _phone_like(text: str) -> bool:
    """7 to 15 digits (ITU-T E.164) with an extension, and not a date written with separators."""
    digits = sum(c.isdigit() for c in text)
    return 7 <= digits <= 18 and not _DATE_ONLY.fullmatch(text.strip())


def merge(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping or touching ranges joined."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out
