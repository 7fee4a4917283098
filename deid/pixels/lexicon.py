"""Clinical word lexicon: positive evidence that an OCR'd line is clinical/technical text (PS3.15 E.3.1).

``deid/pixels/models/clinical_lexicon.txt`` holds lower-case words of standard clinical and DICOM
vocabularies, written by ``scripts/phi_training_lines.py`` (``python scripts/phi_training_lines.py
lexicon``) from the classifier's TRAINING sources only: PS3.6 attribute names (pydicom's data
dictionary), the SR code meanings of SNOMED CT, MDC and UMLS written in lower case somewhere (so
eponyms and other capitalised-only words, e.g. "Addison", are left out) and UCUM unit names; minus
every first and last name of the training generator's faker locales. The evaluation's code systems
(DCM, LOINC, IBSI) are not read, so the evaluation measures generalisation.

Lines of the file starting with "=" are common English words (the MiniLM tokenizer's whole words minus
every faker name and address word of the non-evaluation locales), matched exactly only; lines starting
with "~" are the letter runs of UCUM unit codes ("Gy", "Bq", "mT"), case kept, accepted after a number.

A line is *explained* when every token is a known word (exact, or one edit away for clinical words of
6+ letters: OCR errors), a number of at most 4 integer digits, a counter ("12/48"), a unit after a
number or an allowlisted token, and at least one known word has 4+ letters. The last word, or the last word
before a value, may be cut at a column (a 5+ letter prefix of a known word). English dictionary words
(:func:`english_words`) count as common words.

OCR misreads (issue #12): a token none of the above explains may still be a clinical word as the
recognizer read it (:meth:`Lexicon.known_ocr`: one glyph confusion such as m/n, a/o, h/b, l/t, "rn" for m
- two in words of 8+ letters -, or capitalised words glued together, "UserAuthenticatian"), or a
lower-case word of 2-4 letters cut short before its value ("value ch 1/149"); units after a number are
also read with "rn" for m ("16crn"). Such a line is explained only when it holds more words read as
written than misread or cut, at least one of 4+ letters (two beside a cut word or a single letter),
and no institution word: a name one confusion from a clinical word ("Mose" for nose) never explains a
line by itself. :func:`deid.pixels.classify.decide` keeps an explained line
only when the PHI model also scores it below the review band's upper bound, unless the evidence is
strong (:func:`strong_evidence`: two vocabulary words, no institution word): the lexicon never
overrides header matches or rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path

LEXICON_PATH = Path(__file__).resolve().parent / "models" / "clinical_lexicon.txt"
_TOKEN = re.compile(r"[A-Za-z]+|\d+(?:[.,]\d+)?|[^\sA-Za-z\d]")
_NUMBER = re.compile(r"\d{1,4}(?:[.,]\d{1,4})?")
_SEX_AGE = re.compile(r"\d{1,3}[MFmf]|[MFmf]\d{1,3}")
# English function words of two letters (longer ones are in the vocabularies): "Method of disks"
FUNCTION_WORDS = frozenset({"of", "in", "on", "at", "to", "by", "or", "as", "vs", "is", "no", "an", "up"})
# three or more number groups holding 7+ digits ("0906 861 202", "(+57) 601 94 87 48"): a phone or an ID
_DIGIT_GROUPS = re.compile(r"(?<![\d.,])\d{1,4}(?:[\s\-.)(/]+\d{1,4}){2,}(?![\d.,])")
_COUNTER = re.compile(r"(\d{1,4})\s?/\s?(\d{1,4})")
_PUNCT = set(".,;:()[]{}/-+=%*^'\"<>|#~_&!?°µ×")
# Glyphs the recognizer confuses on overlay fonts, one class each ("Fromt" for front, "Dase" for dose,
# "Tahle" for table, "Diglizer" for digitizer); digits that stand for letters inside a word go with their
# letter. Folding a word maps every glyph to its class's first member.
_CONFUSION_CLASSES = ("mnr", "ao0", "ec", "hb", "ilt1|!", "uv", "gq9", "s5")
_CONFUSION_FOLD = str.maketrans({ch: cls[0] for cls in _CONFUSION_CLASSES for ch in cls})
# glyph pairs the recognizer reads as one glyph, or one glyph as two ("rn" for m, "wdeo" for video)
_CONFUSED_RUNS = (("rn", "m"), ("m", "rn"), ("vv", "w"), ("w", "vi"), ("cl", "d"), ("d", "cl"))
_CAMEL_CUT = re.compile(r"(?<=[a-z])(?=[A-Z])")
# the function words as the confusion classes fold them ("of" -> "af"): a misread connective
_FUNCTION_FOLDS = frozenset(w.translate(_CONFUSION_FOLD) for w in FUNCTION_WORDS)


@dataclass(frozen=True)
class Lexicon:
    words: frozenset[str]
    by_length: dict[int, frozenset[str]]
    prefixes: frozenset[str]
    exact: frozenset[str] = frozenset()
    units: frozenset[str] = frozenset()

    @cached_property
    def short_prefixes(self) -> frozenset[str]:
        """The first 2-4 letters of every clinical word of 5+ letters."""
        return frozenset(w[:k] for w in self.words if len(w) >= 5 and w.isalpha() for k in (2, 3, 4))

    @property
    def units_folded(self) -> frozenset[str]:
        return _folded(self.units)

    @cached_property
    def cut_prefixes(self) -> frozenset[str]:
        """The first 3+ letters (leaving 2+ off) of every clinical or common word of 6+ letters: a word
        cut at a column, accepted only beside two words read as written (:meth:`explains`)."""
        return frozenset(w[:k] for w in self.words | self.exact if len(w) >= 6 and w.isalpha()
                         for k in range(3, len(w) - 1))

    def known(self, word: str) -> bool:
        w = word.lower()
        if w in self.words or w in self.exact:
            return True
        if len(w) < 6:
            return False
        if self.compound(w):
            return True
        return any(_one_edit(w, c) for n in (len(w) - 1, len(w), len(w) + 1) for c in self.by_length.get(n, ()))

    def compound(self, word: str) -> bool:
        """A clinical word of 5+ letters after a Greek or Latin combining prefix of English word formation
        (:data:`COMBINING_PREFIXES`): "reinjection", "radiofrequency", "intraoperative", "non-contrast"."""
        w = word.lower()
        return any(w.startswith(p) and len(w) - len(p) >= 5 and w[len(p):].lstrip("-") in self.words
                   for p in COMBINING_PREFIXES)

    def _unit(self, t: str) -> bool:
        return t in self.units or len(t) <= 3 and t.lower() in self.units_folded

    def known_exact(self, word: str) -> bool:
        """A known word as written (no OCR tolerance), or a function word."""
        w = word.lower()
        return w in self.words or w in self.exact or w in FUNCTION_WORDS

    @cached_property
    def _confusion_index(self) -> tuple[dict[str, frozenset[str]], frozenset[str]]:
        """Every clinical word of 4+ letters by its confusion fold, and the folds of the words of 7+
        letters, whole and with one glyph deleted (one OCR insertion, deletion or substitution beside the
        confusions). The common English words are left out: names lie too close to them."""
        folds: dict[str, set[str]] = {}
        for w in self.words:
            if len(w) >= 4 and w.isalpha():
                folds.setdefault(w.translate(_CONFUSION_FOLD), set()).add(w)
        deleted = {f[:i] + f[i + 1:] for f in folds if len(f) >= 8 for i in range(len(f))} | \
            {f for f in folds if len(f) >= 8}
        return {k: frozenset(v) for k, v in folds.items()}, frozenset(deleted)

    def known_ocr(self, word: str) -> bool:
        """A clinical word as the recognizer misreads it (not :meth:`known` as written): equal
        to one of 4+ letters glyph by glyph up to one confusion of :data:`_CONFUSION_CLASSES` or
        :data:`_CONFUSED_RUNS` ("Dase", "Fromt", "Tahle", "wdeo"; two in words of 8+ letters); a reading of
        8+ letters also with one more glyph inserted, deleted or replaced against a word of 8+ letters. Only :meth:`explains` uses it, under its line conditions; the rules' word tests
        (:meth:`known`, :meth:`known_exact`) keep their own tolerance."""
        w = word.lower()
        if len(w) < 4 or not w.isalnum() or not any(c.isalpha() for c in w):
            return False
        folds, deleted = self._confusion_index
        for v, runs in ((w, 0), *((w.replace(a, b), 1) for a, b in _CONFUSED_RUNS if a in w)):
            f = v.translate(_CONFUSION_FOLD)
            allowed = (1 if len(v) <= 7 else 2) - runs
            if any(sum(x != y for x, y in zip(v, cand, strict=True)) <= allowed for cand in folds.get(f, ())):
                return True
            if not runs and len(f) >= 8 and ({f} | {f[:i] + f[i + 1:] for i in range(len(f))}) & deleted:
                return True
        return False

    def _camel_parts(self, token: str) -> list[str] | None:
        """A token OCR glued from capitalised words ("UserAuthenticatian"): its parts, when each is a
        known word of 3+ letters (exactly, or as :meth:`known_ocr` reads it); else None."""
        parts = _CAMEL_CUT.split(token)
        if len(parts) < 2 or any(len(p) < 3 for p in parts):
            return None
        return parts if all(self.known(p) or self.known_ocr(p) for p in parts) else None

    def _misread_function_word(self, toks: list[str], i: int) -> bool:
        """Token ``i`` is a two-letter lower-case reading one glyph confusion (:data:`_CONFUSION_CLASSES`)
        from an English function word ("af" for of, "ta" for to), standing between two words of 4+
        letters known as written: the connective of a clinical label ("Representative af Ethics
        Committee", issue #12). Counted as a misread word by :meth:`explains` (more words read as
        written than misread); a name particle ("Erik af Klint") stands between words no vocabulary
        holds."""
        t = toks[i]
        if len(t) != 2 or not t.isalpha() or not t.islower() or t in FUNCTION_WORDS:
            return False
        if t.translate(_CONFUSION_FOLD) not in _FUNCTION_FOLDS:
            return False
        before, after = toks[i - 1] if i > 0 else "", toks[i + 1] if i + 1 < len(toks) else ""
        return all(len(w) >= 4 and w.isalpha() and self.known_exact(w) for w in (before, after))

    def explains(self, text: str, extra: frozenset[str] = frozenset()) -> bool:
        """True when every token of the line is accounted for (see the module docstring)."""
        toks = _TOKEN.findall(text)
        if not toks or any(_SEX_AGE.fullmatch(w) for w in text.split()) or digit_groups(text):
            return False  # "13F", "M45": compact sex/age forms; "0906 861 202": a phone number in groups
        alpha = [i for i, t in enumerate(toks) if t[0].isalpha()]
        strong = 0
        letters = 0
        misread = 0
        fragments = 0
        acronyms = 0
        number_seen = False
        for i, t in enumerate(toks):
            if t in _PUNCT or _NUMBER.fullmatch(t):
                number_seen = number_seen or t[0].isdigit()
                continue
            if t[0].isdigit():
                return False  # 5+ digit runs: IDs
            if number_seen and (self._unit(t) or self._unit(t.replace("rn", "m"))):
                continue  # "244.8 Bq/ml", "25Hz": a unit after a number (short ones in any case: "6.03 uv";
                # "16crn": OCR read m as rn)
            if t.upper() in extra or (len(t) >= 3 and self.known(t)) or t.lower() in FUNCTION_WORDS:
                strong += len(t) >= 4
                continue
            if len(t) == 1:
                letters += 1  # an axis or view letter ("Z Position", "D 25.0"): needs two known words
                continue
            if 3 <= len(t) <= 5 and t.isupper() and t.lower() not in name_words():
                acronyms += 1  # "MLC Position Interlock", "Moment of GLCM": needs two known words
                continue
            if (i == alpha[-1] or _before_value(toks, i)) and len(t) >= 5 and t.lower() in self.prefixes:
                continue  # the last word, or the label's last word before its value, cut at a column
            parts = None if self.known_ocr(t) else self._camel_parts(t)
            if parts is not None or self.known_ocr(t):
                misread += 1  # a known word misread by OCR: counts only beside a word read as written
                strong += sum(len(p) >= 4 and self.known(p) for p in parts or ())
                continue
            if self._misread_function_word(toks, i):
                misread += 1  # "Representative af Ethics Committee": "of" read "af", between two known words
                continue
            if 2 <= len(t) <= 4 and t.islower() and _before_value(toks, i) and t in self.short_prefixes:
                fragments += 1  # "Most recent value ch 1/149": a lower-case word cut short before its value
                continue
            if ((i == alpha[-1] or _before_value(toks, i)) and len(t) >= 3 and t.lower() in self.cut_prefixes
                    and t.lower() not in name_words()):
                fragments += 1  # "Small Distance Empha 11/241", "Inverse Difference Mom 132": a label cut at
                continue        # a column, its first letters no name word; needs two words read as written
            return False
        if acronyms and (strong < max(2, acronyms + 1) or {t.lower() for t in toks} & INSTITUTION_WORDS):
            return False  # "ACME Hospital", "Report ANKE" (a name word: no acronym), "MRI CT" (no known word)
        if misread or fragments:  # more words read as written than misread, no institution word ("Canalete
            # Medical Health" is a place): "Dose Cortes" is no misread line
            return (strong > misread and strong >= (2 if letters or fragments else 1)
                    and not {t.lower() for t in toks} & INSTITUTION_WORDS)
        if strong >= (2 if letters else 1):
            return True
        # no long known word: a counter line ("40/228") or short known labels with a counter ("Im: 12/240")
        return counters_only(text) if not alpha else not letters and _counters_ok(text)


# prefixes of English word formation (the combining forms a dictionary lists as prefixes, not a clinical list)
COMBINING_PREFIXES = ("anti", "auto", "bi", "co", "contra", "counter", "de", "dis", "endo", "epi", "extra", "hemi",
                      "hyper", "hypo", "infra", "inter", "intra", "macro", "micro", "mid", "multi", "neo", "non",
                      "over", "para", "peri", "poly", "post", "pre", "pseudo", "radio", "re", "retro", "semi",
                      "sub", "super", "supra", "trans", "tri", "ultra", "un", "under", "uni")

# words that name institutions: a line holding one may be a place ("Mercy Heart Institute"), never
# cleared by vocabulary evidence alone against a confident model
INSTITUTION_WORDS = frozenset({
    "hospital", "hospitals", "clinic", "clinics", "center", "centre", "centers", "centres", "medical",
    "health", "healthcare", "university", "institute", "infirmary", "foundation", "college", "school",
    "saint", "memorial", "regional", "community", "associates", "practice", "hospice", "sanatorium"})


@lru_cache(maxsize=4)
def _folded(units: frozenset[str]) -> frozenset[str]:
    return frozenset(u.lower() for u in units)


def _before_value(toks: list[str], i: int) -> bool:
    """Token ``i`` is followed by a number: the last word of a label before its value ("Table
    Horizontal Rotat 296.5 mm3", a label cut at a column and its value written after it)."""
    return i + 1 < len(toks) and toks[i + 1][0].isdigit()


def strong_evidence(lexicon: Lexicon, text: str) -> bool:
    """Two or more distinct words of 4+ letters from the clinical/DICOM vocabularies (not the common
    English list) and no institution word: with :meth:`Lexicon.explains`, enough to keep a line the
    model scores high ("Thoracic Imaging Specialty" 0.91, "Planning Imaging Note" 0.80)."""
    words = {t.lower() for t in _TOKEN.findall(text) if t[0].isalpha()}
    return not words & INSTITUTION_WORDS and sum(len(w) >= 4 and w in lexicon.words for w in words) >= 2


def digit_groups(text: str) -> bool:
    """Three or more number groups holding 7+ digits together: a phone number or an ID in groups."""
    return any(sum(c.isdigit() for c in m.group(0)) >= 7 for m in _DIGIT_GROUPS.finditer(text))


def _counters_ok(text: str) -> bool:
    found = list(_COUNTER.finditer(text))
    return bool(found) and all(_counter(m) for m in found)


def _counter(m: re.Match[str]) -> bool:
    a, b = int(m.group(1)), int(m.group(2))
    return b >= 32 and a <= b and not 1900 <= b <= 2099


def counters_only(text: str) -> bool:
    """A line of image/slice counters only ("40/228", "12 / 240"): each counter's total at least 32 and
    not a year, its index no larger than the total, so no day/month or month/year pair is taken."""
    return not _COUNTER.sub("", text).strip(" .,:;#()[]") and _counters_ok(text)


def _one_edit(a: str, b: str) -> bool:
    if a == b:
        return True
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    if len(a) > len(b):
        a, b = b, a
    if len(b) - len(a) != 1:
        return False
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1:]


@lru_cache(maxsize=1)
def name_words() -> frozenset[str]:
    """Every Faker first name, last name and place word, lower case, 3+ letters
    (``deid/header/data/name_words.txt``, built by ``scripts/build_lexicon_words.py``): a capitalised
    token of 3-5 letters that is one ("ANNA", "LEE") is never taken for an acronym."""
    return frozenset(resources.files("deid.header").joinpath("data/name_words.txt").read_text("utf-8").split())


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """A spelling dictionary's lower-case English words minus every Faker first name, last name, city,
    street name and state (``deid/header/data/lexicon_words.txt``, SCOWL's Hunspell en_US, built by
    ``scripts/build_lexicon_words.py``; the free-text stage reads the same file): common and clinical
    words the DICOM vocabularies lack ("workflow", "anechoic", "preamplifier"), matched exactly. Neither
    a training nor an evaluation source of the pixel classifier."""
    return frozenset(resources.files("deid.header").joinpath("data/lexicon_words.txt").read_text("utf-8").split())


@lru_cache(maxsize=2)
def load_lexicon(path: str | None = None) -> Lexicon | None:
    """The shipped lexicon (None when the file is absent: the step is then skipped, default-deny)."""
    p = Path(path) if path else LEXICON_PATH
    if not p.is_file():
        return None
    entries = [w.strip() for w in p.read_text().splitlines() if w.strip() and not w.startswith("#")]
    words = frozenset(w.lower() for w in entries if w[0] not in "=~")
    exact = frozenset(w[1:].lower() for w in entries if w[0] == "=") | english_words()
    units = frozenset(w[1:] for w in entries if w[0] == "~")
    by_length: dict[int, set[str]] = {}
    for w in words:
        if len(w) >= 5:
            by_length.setdefault(len(w), set()).add(w)
    prefixes = frozenset(w[:k] for w in words if len(w) >= 6 for k in range(5, len(w)))
    return Lexicon(words, {k: frozenset(v) for k, v in by_length.items()}, prefixes, exact, units)
