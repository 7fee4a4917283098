"""PHI classification of OCR'd text lines (PS3.15 E.3.1 Clean Pixel Data), default-deny.

Per box, in order:

1. header match against the instance's ORIGINAL identifying values (:class:`Identifiers`): names in
   any order/case/format, IDs, dates in any format, institution/places, tolerant to OCR errors (edit
   distance), the 3-letter initials of a 3-part person name (:func:`own_initials`) -> always redacted;
2. rules: dates, times, ages, an operator's initials after "Op" ("0p JA0"), compact sex/age forms (years, months, weeks), phone numbers, street
   addresses (house number + an unknown capitalised word, a dwelling number "Flat 88q", "Piso 5", a
   street name on its own line "Holly Greens", :func:`street_name`), MRN- and
   accession-like tokens, NAME:/DOB:/ID: labels;
   (lines of digits and separators with 7+ digits, dates with a misread month, identifying labels
   glued to a value, "Age41", and compact ages with digits read as letters, "0B1Y", are redacted before
   the allowlist is consulted);
3. the allowlist of clinical/technical text (``conf/pixels/allowlist.yaml``): clears (2) and (4)
   only when every token of the line is explained by it, and only when the reading is long enough
   for its box (:func:`reading_explains_box`; a partial reading is redacted as unreadable); letters OCR
   read for digits beside a digit are read as digits for its number patterns (:func:`ocr_digits`); an
   unreliable reading (:func:`reliable_reading`: confidence under 0.8, or under 0.95 in a box under
   12 px) is cleared
   only when a word of 4+ letters is read as written (:func:`anchored`);
4. the clinical lexicon (:mod:`deid.pixels.lexicon`): a line whose every token is a known clinical,
   DICOM or English word, number, counter or unit is kept when the classifier scores it below the
   review band's upper bound, or whatever it scores when two or more of its words come from the
   clinical/DICOM vocabularies and none names an institution (:func:`strong_evidence`); a doubtful
   reading (:func:`reliable_reading`) only when anchored (:func:`anchored`), as on the allowlist path;
5. the token classifier's PHI probability; below the review band it clears a reliable reading, or an
   unreliable one with a word read as written (else ``unreliable_reading``: misread PHI, "Pga B3" for
   "Age 53", scores low as easily as clinical text).

A box is kept only when positively recognised as clinical/technical (allowlist, lexicon plus a
model score below the review band's top, or a classifier score below the review band). Unreadable text (low confidence) is redacted. Scores in the review band are
redacted and returned for review. The text itself never leaves this module's callers.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import Enum
from functools import lru_cache
from pathlib import Path

import yaml

from deid.config import conf_dir
from deid.errors import ConfigError
from deid.header.identifiers import Identifiers
from deid.pixels.lexicon import Lexicon, digit_groups, strong_evidence


class Label(str, Enum):
    PHI = "PHI"
    CLINICAL = "CLINICAL"
    UNREADABLE = "UNREADABLE"
    REVIEW = "REVIEW"
    TEXT = "TEXT"          # redact: all_text policy
    NOT_TEXT = "NOT_TEXT"  # region far larger than any overlay text line


class Action(str, Enum):
    REDACT = "REDACT"
    KEEP = "KEEP"


@dataclass(frozen=True)
class Decision:
    label: Label
    action: Action
    score: float        # PHI score in [0, 1]
    reason: str         # closed vocabulary, never text
    review: bool = False
    model_score: float | None = None

    @property
    def firm(self) -> bool:
        """Redacted by what the text itself says (a header match, a rule, the all-text policy), not by
        the model, low confidence or the review band."""
        return self.action is Action.REDACT and self.reason.startswith(("header_", "rule_", "policy_"))

    @property
    def vouched(self) -> bool:
        """Kept on positive evidence (the allowlist or the clinical lexicon), not by the model alone."""
        return self.action is Action.KEEP and self.reason in ("allowlist", "lexicon")


# --------------------------------------------------------------------------- normalisation
_DIGIT_LIKE = str.maketrans({"O": "0", "o": "0", "Q": "0", "D": "0", "I": "1", "l": "1", "|": "1", "i": "1",
                             "S": "5", "s": "5", "B": "8", "Z": "2", "z": "2", "G": "6", "T": "7"})
_NON_ALNUM = re.compile(r"[^A-Z0-9]+")
_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*")


def alnum(text: str) -> str:
    return _NON_ALNUM.sub("", text.upper())


_FOLD = str.maketrans({"Ø": "O", "ø": "o", "Æ": "AE", "æ": "ae", "ß": "ss", "Ł": "L", "ł": "l", "Đ": "D",
                       "đ": "d", "Þ": "TH", "þ": "th", "Œ": "OE", "œ": "oe", "ı": "i"})


def fold(text: str) -> str:
    """Accents stripped and letters without a decomposition folded ("MØM" -> "MOM", "Müller" ->
    "Muller"), case kept: a name part keeps all its letters before :func:`alnum` drops the others."""
    if text.isascii():
        return text
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).translate(_FOLD)


def digits_view(text: str) -> str:
    """OCR letters that look like digits turned into digits, then digits only."""
    return re.sub(r"\D", "", text.translate(_DIGIT_LIKE))


def levenshtein(a: str, b: str, limit: int = 99) -> int:
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def fuzzy_contains(hay: str, needle: str, max_edits: int) -> bool:
    """True when some substring of ``hay`` is within ``max_edits`` of ``needle`` (Sellers' algorithm)."""
    if not needle:
        return False
    if max_edits == 0:
        return needle in hay
    prev = [0] * (len(hay) + 1)
    for i, cn in enumerate(needle, 1):
        cur = [i] + [0] * len(hay)
        for j, ch in enumerate(hay, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (cn != ch))
        prev = cur
    return min(prev) <= max_edits


def _tolerance(n: int) -> int:
    return 0 if n <= 3 else 1 if n <= 7 else 2


# --------------------------------------------------------------------------- dates
_MONTHS = {m: i for i, m in enumerate(["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT",
                                       "NOV", "DEC"], 1)}
_MON = r"(JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)[A-Z]*\.?"
_DATE_PATTERNS = [
    (re.compile(r"(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)"), "ymd"),
    (re.compile(r"(?<!\d)(\d{1,2})[-/.](\d{1,2})[-/.](\d{4}|\d{2})(?!\d)"), "xxy"),
    (re.compile(r"(?<!\d)(\d{4})(\d{2})(\d{2})(?!\d)"), "ymd"),
    (re.compile(rf"{_MON}\s*(\d{{1,2}})(?!\d)(?:ST|ND|RD|TH)?,?\s*(\d{{4}}|\d{{2}})(?!\d)"), "mdy_name"),
    (re.compile(rf"(?<!\d)(\d{{1,2}})[\s-]*{_MON}[\s-]*(\d{{4}}|\d{{2}})"), "dmy_name"),
]


def _valid(y: int, m: int, d: int) -> str | None:
    if y < 100:
        y += 1900 if y > 30 else 2000
    try:
        return date(y, m, d).strftime("%Y%m%d")
    except ValueError:
        return None


def extract_dates(text: str) -> set[str]:
    """Every reading of every date-like run as YYYYMMDD (01/02/2020 gives Jan 2 and Feb 1)."""
    up = text.upper()
    out: set[str] = set()
    for rx, kind in _DATE_PATTERNS:
        for m in rx.finditer(up):
            g = m.groups()
            cands: list[str | None] = []
            if kind == "ymd":
                cands.append(_valid(int(g[0]), int(g[1]), int(g[2])))
            elif kind == "xxy":
                a, b, y = int(g[0]), int(g[1]), int(g[2])
                cands += [_valid(y, a, b), _valid(y, b, a)]
            elif kind == "mdy_name":
                cands.append(_valid(int(g[2]), _MONTHS[g[0][:3]], int(g[1])))
            else:
                cands.append(_valid(int(g[2]), _MONTHS[g[1][:3]], int(g[0])))
            out.update(c for c in cands if c)
    return out


def _date_digit_forms(iso: str) -> set[str]:
    y, m, d = iso[:4], iso[4:6], iso[6:8]
    return {y + m + d, m + d + y, d + m + y, m + d + y[2:], d + m + y[2:]}


# --------------------------------------------------------------------------- 1. header match
_GENERIC_PLACE = {"HOSPITAL", "CLINIC", "CENTER", "CENTRE", "MEDICAL", "HEALTH", "HEALTHCARE", "IMAGING",
                  "RADIOLOGY", "UNIVERSITY", "GENERAL", "REGIONAL", "DEPARTMENT", "DEPT", "STREET", "ROAD",
                  "AVENUE", "SAINT", "THE", "AND", "OF", "MED", "CTR", "INC", "LLC", "SUITE", "FLOOR"}


def _boundaries(text: str) -> tuple[str, set[int]]:
    """The text's letters and digits upper-cased, and the positions in that string where a word starts
    or ends in the text: around spaces and punctuation, letter/digit changes, a lower-case letter
    followed by a capital ("DoeJohn")."""
    flat: list[str] = []
    cuts: set[int] = {0}
    prev = ""
    for ch in text:
        if not ch.isalnum():
            cuts.add(len(flat))
            prev = ""
            continue
        if prev and (prev.isdigit() != ch.isdigit() or (prev.islower() and ch.isupper())):
            cuts.add(len(flat))
        flat.append(ch.upper())
        prev = ch
    cuts.add(len(flat))
    return "".join(flat), cuts


_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def _runs(text: str) -> list[str]:
    """The text's words upper-cased: runs of letters and digits between spaces and punctuation, a
    lower-case letter followed by a capital also ending one ("DoeJohn" -> DOE, JOHN)."""
    return [w for chunk in re.split(r"[^0-9A-Za-z]+", text) for part in _CAMEL.split(chunk) if (w := alnum(part))]


def _explained(piece: str, units: frozenset[str]) -> bool:
    """What is left of a word around a name part is empty, one letter (an initial), digits, or made of
    the instance's other name parts and label words ("LIMA" + "BEATRIZ", "PAT" + "LIMA")."""
    if len(piece) <= 1 or piece.isdigit():
        return True
    ok = [True] + [False] * len(piece)
    for end in range(1, len(piece) + 1):
        ok[end] = any(ok[start] and (piece[start:end] in units or piece[start:end].isdigit())
                      for start in range(max(0, end - 30), end))
    return ok[-1]


def _glued(run: str, token: str, tol: int, units: frozenset[str]) -> bool:
    """``token`` (within ``tol`` edits) inside ``run`` with the rest of the run explained by the other
    name parts (:func:`_explained`): "LIMABEATRIZ" and "PATLIMA" hold "LIMA", "GAUSSIAN" does not hold
    "SIAN" and "PARALLELIMAGING" does not hold "LIMA" (PS3.15 E.3.1: the instance's own name, not a
    substring of a technical word)."""
    if not fuzzy_contains(run, token, tol):
        return False
    n = len(token)
    for start in range(len(run)):
        for size in range(max(1, n - tol), n + tol + 1):
            mid = run[start:start + size]
            if len(mid) < size or (tol == 0 and mid != token) or levenshtein(mid, token, tol) > tol:
                continue
            if _explained(run[:start], units) and _explained(run[start + size:], units):
                return True
    return False


def _label_glued(run: str, token: str) -> bool:
    """Initials glued to a field label by OCR ("0pPSP" for "Op PSP", "DRJK"): the rest of the word is
    one label word (0 read for O), never digits or letters alone ("MM2" is no "MM")."""
    if len(run) <= len(token):
        return False
    rest = run[:-len(token)] if run.endswith(token) else run[len(token):] if run.startswith(token) else ""
    return rest.replace("0", "O") in _GLUE_LABELS


def _name_units(ident: Identifiers) -> frozenset[str]:
    return frozenset({alnum(fold(t)) for name in ident.names for t in name if len(alnum(fold(t))) >= 2}
                     | _LABEL_WORDS)


def _word_hit(token: str, words: list[str], runs: list[str], units: frozenset[str]) -> bool:
    """A name or place part in the text as a word (within its OCR tolerance), glued to the instance's
    other parts, split in two by OCR ("CASTEL LANOS"), or truncated ("CLEVELAN...")."""
    tol = _tolerance(len(token))
    slack = tol if len(token) >= 6 else 0  # 4-5 letters: a substitution only ("FLOR" is not "FOR")
    if any(levenshtein(w, token, tol) <= tol for w in words if abs(len(w) - len(token)) <= slack):
        return True
    if any(len(w) >= 5 and token.startswith(w) for w in words):
        return True
    if len(token) >= 4 and any(a + b == token for a, b in zip(words, words[1:], strict=False)):
        return True  # split in two by OCR ("LO PEZ", "LIM A")
    if len(token) == 5 and any(len(w) == 4 and levenshtein(w, token, 1) <= 1 for w in words):
        return True  # one letter OCR dropped, four left ("BRNS" for BURNS, "LOPZ")
    glued = runs + [a + b for a, b in zip(runs, runs[1:], strict=False)] if len(token) >= 6 else runs
    return any(_glued(r, token, tol if len(token) >= 6 else 0, units) for r in glued if len(r) > len(token) - tol)


_AGE_UNITS = {"Y": ("Y", "YR", "YRS", "YO", "Y/O"), "M": ("M", "MO", "MOS", "MTH", "MTHS"),
              "W": ("W", "WK", "WKS"), "D": ("D", "DY", "DYS", "D/O")}
_UNIT = "|".join(sorted({u for units in _AGE_UNITS.values() for u in units}, key=len, reverse=True))
_SEX_FIRST = re.compile(r"(?<![A-Za-z0-9])(MALE|FEMALE|[MF])[\s/\\|,;:.\-]{0,3}([0-9OoIl|]{1,4})"
                        rf"\s?({_UNIT})?(?![A-Za-z0-9])", re.I)
_AGE_FIRST = re.compile(r"(?<![A-Za-z0-9.,])([0-9OoIl|]{1,4})\s?(" + _UNIT + r")?[\s/\\|,;:.\-]{0,3}"
                        r"(MALE|FEMALE|[MF])(?![A-Za-z0-9])", re.I)
# Acquisition/display parameter names: a number right after one is that parameter's value ("Depth 61 M",
# "Gain 56 F"), never the patient's age (review finding 7)
_PARAMETER_WORDS = frozenset({
    "DEPTH", "GAIN", "DIST", "DISTANCE", "FREQ", "FR", "FOV", "ZOOM", "POWER", "PWR", "DR", "DYN", "RANGE",
    "WIDTH", "LENGTH", "LEN", "AREA", "VOL", "VOLUME", "DIAM", "HEIGHT", "THK", "THICKNESS", "SLICE", "SL",
    "MAG", "SCALE", "SPEED", "LEVEL", "SIZE", "WL", "WW", "W", "L", "C", "KV", "KVP", "MA", "MAS", "TR", "TE",
    "TI", "PRF", "WF", "SV", "GN", "MI", "TIS", "TIB", "TIC", "ANGLE", "VEL", "RATE", "HR", "TIME", "DOSE",
    "SPACING", "POS", "POSITION", "LOC", "FRAME", "IMAGE", "IM", "IMG", "SERIES", "SE", "NO", "NUM", "ACQ",
    "PROBE", "FOCUS", "TEMP", "PERSIST", "COMP", "MAP", "FILTER", "ECHO", "TABLE", "PITCH", "ROT", "CTDI",
    "DLP", "SNR", "MEAN", "AVG", "MAX", "MIN", "SD", "STD"})


def _age_reading(age: str) -> tuple[int, str] | None:
    """The number and unit of a Patient's Age (0010,1010) AS value ("056Y" -> (56, "Y"), "006M" ->
    (6, "M"): months; W weeks, D days); no unit reads as years."""
    m = re.fullmatch(r"0*(\d{1,3})([YMWD]?)", age.strip().upper())
    return (int(m.group(1)), m.group(2) or "Y") if m else None


def _unit_fits(written: str | None, unit: str) -> bool:
    """A unit OCR read after the number is the header age's unit (months "6M"/"6MO", weeks "3W",
    days "10D"), or none was written (a bare "F 6" is the number alone)."""
    return written is None or written.upper() in _AGE_UNITS[unit]


def _after_parameter(text: str, start: int) -> bool:
    """The number at ``start`` follows a parameter name ("Depth 61 M", "Gain: 56 F"): its value."""
    m = re.search(r"([A-Za-z]+)[\s:=]*$", text[:start])
    return m is not None and m.group(1).upper() in _PARAMETER_WORDS


def _near_age(read: str, age: int, slash_misread: bool) -> bool:
    """OCR digits ``read`` are the age: equal, or one digit off at the same length for ages of two or
    more digits ("55" for 56), or the age after a slash OCR read as 1/I/l or 7 ("M156" for "M/56", "M70"
    for "M/0": dev seed 938, issue #12)."""
    digits = read.translate(_DIGIT_LIKE)
    if not digits.isdigit() or not any(c.isdigit() for c in read):  # "Fil" is no "F11"
        return False
    candidates = [digits.lstrip("0") or "0"]
    if slash_misread and len(digits) >= 2 and digits[0] in "17":
        candidates.append(digits[1:].lstrip("0") or "0")
    target = str(age)
    for c in candidates:
        if c == target or (len(target) >= 2 and len(c) == len(target)
                           and sum(x != y for x, y in zip(c, target, strict=True)) == 1):
            return True
    return False


def sex_age_match(text: str, sex: str, age: str) -> bool:
    """The instance's own Patient's Sex (0010,0040) and Age (0010,1010) written together in any compact
    layout OCR may leave ("M/56", "M56", "M55", "56M", "F/056Y", "56Y F", "Male 56"), ages in months,
    weeks or days too ("F 6M", "6MO F", "M 3W" for 006M/003W): checked before the allowlist, whose code
    patterns ("C5", "T2") and parameter names would otherwise clear it. A sex letter must be a capital
    (a lower-case "m" after a number is a metre); words may be any case. A number after a parameter
    name is that parameter's value ("Depth 61 M"), and a unit other than the header age's ("F 6W" for
    006M) is another age."""
    reading = _age_reading(age)
    if reading is None or sex not in ("M", "F"):
        return False
    number, unit = reading
    word = "MALE" if sex == "M" else "FEMALE"
    for m in _SEX_FIRST.finditer(text):
        s, digits = m.group(1), m.group(2)
        if (s == sex or s.upper() == word) and _unit_fits(m.group(3), unit) and _near_age(digits, number, True):
            return True
    for m in _AGE_FIRST.finditer(text):
        digits, s = m.group(1), m.group(3)
        if (s == sex or s.upper() == word) and _unit_fits(m.group(2), unit) and _near_age(digits, number, False) \
                and not _after_parameter(text, m.start()):
            return True
    return False


#: Characters OCR reads for each AS unit letter of a Patient's Age written as stored ("020Y" read "0201").
_AS_UNIT_MISREADS = {"Y": "Y1IL|7VT", "M": "MNH", "W": "WVU", "D": "D0O"}


def as_age_match(text: str, age: str) -> bool:
    """The instance's own Patient's Age (0010,1010) written in its AS form, three digits and a unit
    ("020Y"), with the unit letter misread by OCR ("0201", "020I"): checked before the allowlist, whose
    number patterns would otherwise clear it."""
    value = age.strip().upper()
    if not re.fullmatch(r"\d{3}[YMWD]", value):
        return False
    misreads = _AS_UNIT_MISREADS[value[3]]
    return any(len(tok) == 4 and tok[:3] == value[:3] and tok[3] in misreads
               for tok in re.split(r"[^A-Z0-9|]+", text.upper()))


def own_initials(text: str, ident: Identifiers) -> bool:
    """A capitalised token of three letters that is the initials of one of the instance's person names
    of three or more parts (PN family^given^middle), in the stored order or given-middle-family ("CML",
    "MLC" for Castellanos^Maria^L): an operator's or physician's initials beside clinical words. Two
    letters are never taken ("CM" is a unit)."""
    forms = set()
    for name in ident.names:
        first = [alnum(fold(t))[:1] for t in name if alnum(fold(t))]
        if len(first) >= 3:
            forms.update({"".join(first[:3]), "".join(first[1:3]) + first[0]})
    return bool(forms) and any(t in forms for t in re.findall(r"(?<![A-Za-z])[A-Z]{3}(?![A-Za-z])", fold(text)))


def header_match(text: str, ident: Identifiers) -> str | None:
    """Kind of the first original identifying value found in the text ("sex_age", "name", "id", "date",
    "place"). Name and place parts match whole words, words OCR split or glued to the instance's other
    parts (:func:`_word_hit`), never letters inside another word ("SIAN" in "Gaussian")."""
    text = fold(text)
    up = text.upper()
    flat = alnum(text)
    words = [w.upper() for w in _WORD.findall(text)] + [t for t in re.split(r"[^A-Z0-9]+", up) if t]
    runs = _runs(text)
    units = _name_units(ident)
    if sex_age_match(text, ident.sex, ident.age) or as_age_match(text, ident.age):
        return "sex_age"
    for name in ident.names:
        for token in name:
            t = alnum(fold(token))
            if len(t) < 2:
                continue
            if len(t) <= 3:
                if t in words or t in runs or any(_label_glued(r, t) for r in runs):
                    return "name"
                continue
            if _word_hit(t, words, runs, units):
                return "name"
    if own_initials(text, ident):
        return "name"
    dview = digits_view(text)
    for value in ident.ids:
        v = alnum(fold(value))
        if len(v) < 3:
            continue
        if len(v) <= 4:
            if v in [alnum(w) for w in up.split()]:
                return "id"
            continue
        if v.isalpha():  # a word-like ID (issuer, rank, station): whole words, as names
            if _word_hit(v, words, runs, units):
                return "id"
            continue
        if fuzzy_contains(flat, v, _tolerance(len(v))):
            return "id"
        dv = re.sub(r"\D", "", v)
        if len(dv) >= 5 and len(dv) >= len(v) - 2 and fuzzy_contains(dview, dv, _tolerance(len(dv))):
            return "id"
    if ident.dates:
        if extract_dates(text) & ident.dates:
            return "date"
        for iso in ident.dates:
            if any(len(f) >= 6 and fuzzy_contains(dview, f, 1 if len(f) >= 8 else 0)
                   for f in _date_digit_forms(iso)):
                return "date"
    for place in ident.places:
        p = alnum(fold(place))
        if len(p) >= 10 and fuzzy_contains(flat, p, _tolerance(len(p))) \
                or 6 <= len(p) < 10 and _word_hit(p, words, runs, units):
            return "place"
        tokens = [alnum(t) for t in re.split(r"\s+", fold(place).upper())]
        for t in tokens:
            if len(t) < 4 or t in _GENERIC_PLACE:
                continue
            tol = _tolerance(len(t))
            if any(levenshtein(w, t, tol) <= tol for w in words if abs(len(w) - len(t)) <= tol):
                return "place"
            if any(len(w) >= 5 and t.startswith(w) for w in words):
                return "place"
    return None


# --------------------------------------------------------------------------- 2. rules
_RULES: list[tuple[str, re.Pattern[str]]] = [
    ("label", re.compile(r"\b(NAME|PATIENT|PAT|PT|DOB|D\.O\.B|BIRTH|BORN|MRN|MR#|ID|PID|ACC|ACCESSION|SSN|"
                         r"ADDRESS|ADDR|PHONE|TEL|REF|REFERRING|PHYSICIAN|DOCTOR|DR|HOSPITAL|INSTITUTION|"
                         r"OPERATOR|SONOGRAPHER|TECH)\b\.?\s*[:#.]?", re.I)),
    ("time", re.compile(r"(?<!\d)([01]?\d|2[0-3]):[0-5]\d(:[0-5]\d)?\s*(AM|PM)?(?!\d)", re.I)),
    ("age", re.compile(r"(?<!\d)(\d{3}[YMWD]|\d{1,3}\s?(Y|YR|YRS|YO|Y/O|YEARS?|-YEAR-OLD)[MF]?)\b|\bAGE\b", re.I)),
    ("sex_age", re.compile(r"(?<![\w/])([MF]\s?/\s?\d{1,3}|\d{1,3}\s?/\s?[MF]|[MF]\s\d{1,3}\s?[Yy]"
                           r"|[MF]\s?/?\s?\d{1,3}\s?(MOS?|MTHS?|M|WKS?|W|DYS?|DAYS?)"  # "F 6M", "M/3W": months,
                           r"|\d{1,3}\s?(MOS?|MTHS?|M|WKS?|W)\s?/?\s?[MF])(?![\w/])")),  # weeks, days
    ("phone", re.compile(r"(\+?\d{1,2}[\s.-])?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]\d{4}(?!\d)")),
    ("mrn", re.compile(r"(?<![\d.])\d{5,}(?![\d.])")),
    ("accession", re.compile(r"\b(?=[A-Z0-9-]*\d[A-Z0-9-]*\d[A-Z0-9-]*\d[A-Z0-9-]*\d)(?=[A-Z0-9-]*[A-Z])"
                             r"[A-Z0-9]{2,}(-?[A-Z0-9]+)*\b", re.I)),
    ("id_groups", re.compile(r"(?<!\d)\d{2,4}(-\d{2,6}){2,}(?!\d)")),
    ("name_format", re.compile(r"[A-Za-z]{2,}\s?\^\s?[A-Za-z]{2,}|\b[A-Z][A-Za-z'\-]{1,},\s?[A-Z][A-Za-z'\-]{1,}")),
]



def rule_pattern(kind: str) -> re.Pattern[str]:
    """The regular expression of one rule of :func:`rule_match` ("label", "time", "age", ...), for
    callers that need the rule's match positions (the verification pass blanks bare labels)."""
    return dict(_RULES)[kind]

_NUMERIC_LINE = re.compile(r"[\d\s+\-./()#]+")


def numeric_identifier(text: str) -> bool:
    """A line of digits and separators only holding 7 or more digits: a phone number or an ID in any
    grouping ("+47 25 93 25 80", "0730 002 038"), whatever the allowlist's number patterns say; a token of
    a digit and letters OCR reads for digits is read as digits (:func:`digit_like_groups`: "043 0DB 214")."""
    t = digit_like_groups(text.strip())
    return bool(t) and _NUMERIC_LINE.fullmatch(t) is not None and sum(c.isdigit() for c in t) >= 7


_DIGIT_LIKE_TOKEN = re.compile(r"(?<!\S)(?=\S*\d)[\dOoQDIl|iSsBZzGT]{2,4}(?!\S)")


def digit_like_groups(text: str) -> str:
    """Tokens of 2-4 characters holding a digit and otherwise only letters OCR reads for digits turned
    into digits ("0DB" -> "008": a phone number's group with 0 and 8 read as D and B, dev seed 938,
    issue #12), so that a line of number groups is seen as such. Used only to redact
    (:func:`numeric_identifier`): a word with a letter no digit looks like is left as read."""
    return _DIGIT_LIKE_TOKEN.sub(lambda m: m.group(0).translate(_DIGIT_LIKE), text)


# an identifying field's label glued to its value by OCR ("Age41", "ID12", "DOB:3"); DR and PT are left
# out: "DR58" is a dynamic range
_GLUED_FIELD = re.compile(r"(?<![A-Za-z])(AGE|DOB|ID|MRN|PID|ACC|SSN|TEL)[:#=.]?\d", re.I)


# an operator's initials after the operator label ("Op JAO", read "0p JA0": O read as zero): two or three
# capitals, one a letter at least; before the allowlist, whose code patterns clear "0p" and "JA0" (issue #12)
_OPERATOR_INITIALS = re.compile(r"(?<![A-Za-z0-9])(?:[O0][pP]|[O0]per|[O0]perator|Sono|Sonographer|Tech|TECH)"
                                r"[:.]?\s*(?=[A-Z0-9]{0,2}[A-Z])[A-Z0-9]{2,3}(?![A-Za-z0-9])")


_MON3 = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAY_X_YEAR = re.compile(r"(?<![\d.,])(\d{1,2})\s*([A-Za-z]{0,3})[\s.,/-]*((?:19|20)\d{2})(?![\d.,])")


def _month_remnant(token: str) -> bool:
    """Letters that OCR left of a month abbreviation: empty, or a subsequence of one ("p" of "Apr")."""
    t = token.upper()
    return not t or any(_subsequence(t, m) for m in _MON3)


def _subsequence(a: str, b: str) -> bool:
    it = iter(b)
    return all(c in it for c in a)


def date_fragment(text: str) -> bool:
    """A day (1-31), what OCR left of a month name, and a year 1900-2099 ("11 p 2026", "3 2019"):
    a date with its month misread. Checked before the allowlist, whose number patterns would clear it."""
    return any(1 <= int(m.group(1)) <= 31 and _month_remnant(m.group(2)) for m in _DAY_X_YEAR.finditer(text))


_AGE_TOKEN = re.compile(r"\d{1,3}Y[MF]?")


def ocr_age(text: str) -> bool:
    """A compact age token whose digits OCR read as letters ("3SY", "4OYM"): digit-like letters before
    the final Y (and sex letter) turned into digits, at least one real digit kept."""
    for tok in text.upper().split():
        tok = tok.strip(".,;:()")
        if not 2 <= len(tok) <= 5 or not any(c.isdigit() for c in tok):
            continue
        cut = len(tok) - (2 if tok[-1] in "MF" and len(tok) >= 3 and tok[-2] == "Y" else 1)
        if _AGE_TOKEN.fullmatch(tok[:cut].translate(_DIGIT_LIKE) + tok[cut:]):
            return True
    return False


_LABEL_WORDS = frozenset({"NAME", "PATIENT", "PAT", "PT", "DOB", "BIRTH", "BORN", "MRN", "ID", "PID", "ACC",
                          "ACCESSION", "SSN", "ADDRESS", "ADDR", "PHONE", "TEL", "REF", "REFERRING", "PHYSICIAN",
                          "DOCTOR", "DR", "HOSPITAL", "INSTITUTION", "OPERATOR", "SONOGRAPHER", "TECH"})
_SLASHED = re.compile(r"(?<![\w/])([A-Za-z]{2,4})/([A-Za-z]{2,4})(?![\w/])")


def _code_pairs(text: str) -> str:
    """The text with slashed code pairs ("CR/DR", "PT/CT", "PET/CT") blanked when only one side is a label
    word: there "DR" and "PT" are modality codes, not the Doctor and Patient labels ("ID/MRN" stays)."""
    def blank(m: re.Match[str]) -> str:
        a, b = m.group(1).upper(), m.group(2).upper()
        return " " * len(m.group(0)) if (a in _LABEL_WORDS) != (b in _LABEL_WORDS) else m.group(0)
    return _SLASHED.sub(blank, text)


_GLUE_LABELS = _LABEL_WORDS | {"OP", "OPER", "SONO", "RAD", "MD", "REFPHYS", "PHYS"}
_SHORT_LABELS = frozenset({"PT", "PAT", "REF", "DR", "ID", "TEL", "ACC", "TECH", "PID"})


def _lower_abbreviation(m: re.Match[str]) -> bool:
    """A short label word in lower case without a ":" or "#" after it ("whole body pt w", "multiplanar ref
    241"): a word of the line (PET, reference), not a field label ("Pt:", "PT", "Ref#" still fire)."""
    word = m.group(1)
    return word.upper() in _SHORT_LABELS and word.islower() and not re.search(r"[:#]", m.group(0))


# a dwelling's number, the first line of a UK or US address ("Flat 88q", "Apt. 4B", "Suite 210")
# (and the secondary-unit words of Spanish, Italian and Portuguese addresses: "Piso 5", "Dpto. 12",
# "Puerta 3", "Interno 4"; no English word that a clinical line uses with a number, "Level 3", "Unit 2")
_DWELLING = re.compile(r"\b(FLAT|APT|APARTMENT|SUITE|STUDIO|PISO|PUERTA|DTO|DPTO|DEPTO|APTO|APARTAMENTO"
                       r"|APPARTAMENTO|INTERNO|OFICINA|ANDAR)\.?\s*#?\s*\d{1,4}[A-Z]?\b", re.I)
_HOUSE_NUMBER_LINE = re.compile(r"\s*\d{1,5}[A-Za-z]?,?\s+((?:[A-Z][a-z'\-]+\.?\s*){1,4})")
# a street name may open with a short preposition or article ("V Americe 64", "Na Slupi 3", "U Lipy 7")
_STREET_FIRST_LINE = re.compile(r"\s*(?:[A-Za-z]{1,3}\.?\s+)?((?:[A-Z][a-z'\-]{2,}\.?\s+){1,3})(\d{1,4})(?:[A-Za-z]?/(\d{1,4})[A-Za-z]?"
                                r"|[A-Za-z])?\s*")


# the second line of a two-line address: one to three capitalised words and a street type ("Holly Greens",
# "Kowalski Hollow", "MAPLE CREST"), no house number
_STREET_NAME_LINE = re.compile(r"\s*((?:[A-Z][A-Za-z'\-]+\.?\s+){1,3})([A-Z][A-Za-z]+)\.?\s*")
STREET_TYPES_PATH = Path(__file__).resolve().parent / "models" / "street_types.txt"


@lru_cache(maxsize=1)
def street_types() -> frozenset[str]:
    """Street-type words (``models/street_types.txt``: USPS Publication 28 C1 suffixes and the UK,
    Australian, Canadian and New Zealand ones, lower case)."""
    return frozenset(w.strip() for w in STREET_TYPES_PATH.read_text(encoding="utf-8").splitlines()
                     if w.strip() and not w.startswith("#"))


def street_name(text: str, known: Callable[[str], bool] | None, exact: Callable[[str], bool] | None) -> bool:
    """A street's name on a line of its own (PS3.15 E.1 address; the second line of "Flat 88q / Holly
    Greens"): one to three capitalised words, none a known clinical or English word (as written or
    within the lexicon's OCR tolerance, no hyphenated part of one or two letters or known), then a
    street type. "Apical View", "Aortic Arch", "Bundle Branch", "Flow Volume Loop", "Intra-Arterial
    Route" and "AV Block" are clinical: a first word is known or short. Needs the word tests. Over
    pydicom's 18,495 SR code meanings (as written and title-cased) it fires on 0.1 % ("Fontan Pathway",
    "Indocyanine Green": unknown words redacted under default deny)."""
    if known is None or exact is None:
        return False
    m = _STREET_NAME_LINE.fullmatch(text)
    if m is None or m.group(2).lower() not in street_types():
        return False
    words = re.findall(r"[A-Za-z][A-Za-z'\-]*", m.group(1))
    return not any(w.upper() in _LABEL_WORDS or any(len(p) <= 2 or known(p) or exact(p) for p in w.split("-"))
                   for w in words)  # a part of one or two letters, or a known part: "C-Arm", "Intra-Arterial"


def _image_counter(index: int, total: int) -> bool:
    """``index/total`` reads as an image or slice counter (as :func:`deid.pixels.lexicon.counters_only`):
    a total of 32 or more that is no year, the index no larger ("Progre 20/173", not "3/4")."""
    return total >= 32 and index <= total and not 1900 <= total <= 2099


def street_address(text: str, known: Callable[[str], bool] | None = None,
                   exact: Callable[[str], bool] | None = None) -> bool:
    """A street address (PHI, PS3.15 E.1 address), whatever the model says: a house number and one to
    four capitalised words, one of them no known word ("7 Williams Divide", "12 Rue Lepic"), or one to
    three capitalised words (after an optional short preposition, "V Americe 64") and a house number (with
    its door, "Rudolphring 3/4", unless it reads as an image counter), one word not known exactly
    ("Gradec 5", "Salata 4c/7":
    OCR tolerance would take "Gradec" for "grades"; a counter "Progre 20/173" is no house number), or a
    street's name alone (:func:`street_name`). "2 Chamber View" and "Series 5" are no address."""
    text = fold(text)
    if _DWELLING.search(text):
        return True
    m = _HOUSE_NUMBER_LINE.fullmatch(text)
    if m is not None and (known is None or not all(known(w) for w in re.findall(r"[A-Za-z]+", m.group(1)))):
        return True
    m = _STREET_FIRST_LINE.fullmatch(text)  # needs the word test: "Gn 60" is a parameter
    if (m is not None and exact is not None and not all(exact(w) for w in re.findall(r"[A-Za-z]+", m.group(1)))
            and not (m.group(3) and _image_counter(int(m.group(2)), int(m.group(3))))):
        return True  # a house number and its door ("Salata 4c/7", "Rudolphring 3/4"), not a counter
    return street_name(text, known, exact)


def rule_match(text: str, known: Callable[[str], bool] | None = None,
               exact: Callable[[str], bool] | None = None) -> str | None:
    """Kind of the first rule that fires, or None. ``known`` (the clinical lexicon's word test) lets the
    name layout "Word, Word" pass when both words are known clinical words ("Disks, Biplane");
    ``exact`` (its test without OCR tolerance) is the street-name test of :func:`street_address`."""
    if extract_dates(text):
        return "date"
    if ocr_age(text):
        return "age"
    if street_address(text, known, exact):
        return "address"
    for kind, rx in _RULES:
        subject = _code_pairs(text) if kind == "label" else text
        for m in rx.finditer(subject):
            if kind == "accession" and sum(c.isdigit() for c in m.group(0)) < 5:
                continue
            if kind == "label" and _lower_abbreviation(m):
                continue
            if kind == "name_format" and known is not None and all(
                    known(w) for w in re.findall(r"[A-Za-z][A-Za-z'\-]+", m.group(0))):
                continue
            return kind
    return None


# --------------------------------------------------------------------------- 3. allowlist
_DIGIT_NEIGHBOUR = re.compile(r"(?<=\d)[OoQD]|[OoQD](?=\d)|(?<=\d)[lI|]|[lI|](?=\d)")


def ocr_digits(token: str) -> str:
    """Letters OCR reads for digits where a digit stands beside them turned into digits ("TISO0" ->
    "TIS00", "MIO.6" -> "MI0.6", "1l.5" -> "11.5"): the allowlist's number patterns and glued parameters
    then see the value as written. Used for clearing only: a value so read still fails the patterns'
    digit limits, and the PHI rules before the allowlist see the text as OCR read it."""
    return _DIGIT_NEIGHBOUR.sub(lambda m: m.group(0).translate(_DIGIT_LIKE), token)
_PIECES = re.compile(r"[A-Za-z]+|[+-]?\d+(?:[.,]\d+)?|%")


@dataclass(frozen=True)
class Allowlist:
    words: frozenset[str]
    patterns: tuple[re.Pattern[str], ...]
    param_words: frozenset[str] = frozenset()

    def clears(self, text: str) -> bool:
        """True when every whitespace token (trailing punctuation aside) is allowed."""
        tokens = [t.strip(".,;:()[]{}'\"…⁻⁺¹²³·•▲▼►◄") for t in text.split()]
        tokens = [t for t in tokens if t]
        if not tokens:
            return False
        return all(self._ok(t) for t in tokens)

    def _ok(self, token: str) -> bool:
        if token.upper() in self.words:
            return True
        if any(p.fullmatch(token) for p in self.patterns):
            return True
        if self._glued_params(token):
            return True
        fixed = ocr_digits(token)
        return fixed != token and (any(p.fullmatch(fixed) for p in self.patterns) or self._glued_params(fixed))

    def _glued_params(self, token: str) -> bool:
        """Parameter names glued to numbers ("W335L-208"): every piece a parameter name or a short number."""
        pieces = _PIECES.findall(token)
        if len(pieces) < 2 or "".join(pieces) != token:
            return False
        for piece in pieces:
            if piece[0].isalpha():
                if piece.upper() not in self.param_words:
                    return False
            elif piece != "%" and len(re.sub(r"\D", "", piece.split(".")[0].split(",")[0])) > 4:
                return False
        return any(p[0].isalpha() for p in pieces)


@lru_cache(maxsize=8)
def load_allowlist(path: str | None = None) -> Allowlist:
    """Read the allowlist YAML (default: conf/pixels/allowlist.yaml, or the copy packaged in the wheel)."""
    p = Path(path) if path else conf_dir() / "pixels" / "allowlist.yaml"
    try:
        data = yaml.safe_load(p.read_text())
        words = frozenset(str(w).upper() for w in data.get("words", []))
        patterns = tuple(re.compile(str(x), re.I) for x in data.get("patterns", []))
        params = frozenset(str(w).upper() for w in data.get("param_words", []))
    except (OSError, yaml.YAMLError, re.error, AttributeError) as exc:
        raise ConfigError(f"pixels.allowlist_path cannot be read as an allowlist ({exc.__class__.__name__})") from None
    return Allowlist(words, patterns, params)


# --------------------------------------------------------------------------- decision
@dataclass(frozen=True)
class Thresholds:
    min_confidence: float = 0.6
    phi_threshold: float = 0.5
    review_low: float = 0.2
    review_high: float = 0.8
    all_text: bool = False
    model_can_clear: bool = True
    max_text_height: int = 96
    reliable_confidence: float = 0.8  # see reliable_reading
    reliable_height: int = 12
    small_text_confidence: float = 0.95


#: Least characters per box-height of width for a reading to explain its box. A glyph is at most ~0.75
#: of a text box's height wide (box heights include ascenders and descenders), so a complete reading
#: has >= ~1.3 characters per box height; single characters and CJK glyphs still reach ~0.9.
MIN_READING_FILL = 0.8


def reading_explains_box(text: str, w: int, h: int) -> bool:
    """False when the reading is too short for its box: the OCR read part of what is there ("1204" for a
    49-px wide date line, "6" for a 255-px box holding an ID), so nothing is positively recognised and
    the box is redacted (PS3.15 E.3.1, default deny)."""
    if w <= 0 or h <= 0:
        return True
    return len(text.strip()) / (w / h) >= MIN_READING_FILL


def reliable_reading(confidence: float, box: tuple[int, int] | None, th: Thresholds) -> bool:
    """The recognizer's reading can stand for the text: its confidence is at least
    ``th.reliable_confidence`` (0.8), and at least ``th.small_text_confidence`` (0.95) when the box is
    under ``th.reliable_height`` (12) source pixels tall (text under 8 px). Tiny or doubtful readings are
    often wrong ("Pga B3" for "Age 53" at 0.85 in a 10-px box, "4617" for "M 61y" at 0.71), and a model
    score or an allowlist number pattern of a wrong reading says nothing about the text that is there.
    (Real ultrasound overlays read at 0.83-0.89 in 22-26 px boxes, "TISO0 MI06", stay reliable.)"""
    least = th.small_text_confidence if box is not None and box[1] < th.reliable_height else th.reliable_confidence
    return confidence >= least


def anchored(text: str, lexicon: Lexicon | None) -> bool:
    """A word of 4+ letters of the reading is a known clinical or English word as written: the reading
    holds text positively recognised (not a misread name, date or age: "Pga B3", "43YMmcc")."""
    return lexicon is not None and any(
        len(w) >= 4 and lexicon.known_exact(w) for w in re.findall(r"[A-Za-z]+", text))


def decide(text: str, confidence: float, ident: Identifiers, allow: Allowlist, model_score: float | None,
           th: Thresholds, lexicon: Lexicon | None = None, box: tuple[int, int] | None = None) -> Decision:
    """The decision for one text line (see the module docstring for the order); ``box`` is the line's
    (width, height) in pixels, when known."""
    if th.all_text:
        return Decision(Label.TEXT, Action.REDACT, 1.0, "policy_all_text", model_score=model_score)
    hit = header_match(text, ident)
    if hit:
        return Decision(Label.PHI, Action.REDACT, 1.0, f"header_{hit}", model_score=model_score)
    if not text.strip() or confidence < th.min_confidence:
        return Decision(Label.UNREADABLE, Action.REDACT, 1.0 - confidence, "low_confidence",
                        model_score=model_score)
    if box is not None and (box[1] > th.max_text_height or not reading_explains_box(text, *box)):
        return Decision(Label.UNREADABLE, Action.REDACT, 1.0, "short_reading", model_score=model_score)
    if numeric_identifier(text) or digit_groups(text):  # before the allowlist: its number patterns must
        # not clear phones/IDs, alone or after allowed words ("Renal artery 0906 861 202")
        return Decision(Label.PHI, Action.REDACT, 1.0, "rule_numeric", model_score=model_score)
    if date_fragment(text):  # before the allowlist too: "11 p 2026" is numbers and a letter
        return Decision(Label.PHI, Action.REDACT, 1.0, "rule_date", model_score=model_score)
    if _GLUED_FIELD.search(text):  # before the allowlist: its short codes ("TAC1") would clear "Age41"
        return Decision(Label.PHI, Action.REDACT, 1.0, "rule_label", model_score=model_score)
    if _OPERATOR_INITIALS.search(text):  # before the allowlist: "0p JA0" is two codes to it
        return Decision(Label.PHI, Action.REDACT, 1.0, "rule_label", model_score=model_score)
    if ocr_age(text):  # before the allowlist too: its codes would clear "0B1Y" (081Y with 8 read as B)
        return Decision(Label.PHI, Action.REDACT, 1.0, "rule_age", model_score=model_score)
    if allow.clears(text) and (reliable_reading(confidence, box, th) or anchored(text, lexicon)):
        # a doubtful or tiny reading of numbers and codes ("4617" for "M 61y", "O0 LA" for "Op LPA") is no
        # recognition: it goes on to the rules and the model, which do not clear it either
        return Decision(Label.CLINICAL, Action.KEEP, model_score or 0.0, "allowlist", model_score=model_score)
    rule = rule_match(text, lexicon.known if lexicon is not None else None,
                      lexicon.known_exact if lexicon is not None else None)
    if rule:
        return Decision(Label.PHI, Action.REDACT, 1.0, f"rule_{rule}", model_score=model_score)
    if model_score is None:
        return Decision(Label.UNREADABLE, Action.REDACT, 1.0, "not_recognised")
    if (lexicon is not None and th.model_can_clear and lexicon.explains(text, allow.words)
            and (model_score < th.review_high or strong_evidence(lexicon, text))
            and (reliable_reading(confidence, box, th) or anchored(text, lexicon))):
        # a doubtful reading is vocabulary evidence only when anchored: a misread name can be one OCR
        # confusion from a clinical word (issue #12: a 0.67-confidence reading was kept here)
        return Decision(Label.CLINICAL, Action.KEEP, model_score, "lexicon", model_score=model_score)
    if model_score >= th.review_high:
        return Decision(Label.PHI, Action.REDACT, model_score, "model", model_score=model_score)
    if model_score >= th.phi_threshold:
        return Decision(Label.PHI, Action.REDACT, model_score, "model_review_band", review=True,
                        model_score=model_score)
    if model_score >= th.review_low or not th.model_can_clear:
        return Decision(Label.REVIEW, Action.REDACT, model_score, "review_band", review=True,
                        model_score=model_score)
    if not reliable_reading(confidence, box, th) and not anchored(text, lexicon):
        # default deny: the model alone never clears a reading that may not be the text (PS3.15 E.3.1)
        return Decision(Label.UNREADABLE, Action.REDACT, model_score, "unreliable_reading",
                        model_score=model_score)
    return Decision(Label.CLINICAL, Action.KEEP, model_score, "model_clear", model_score=model_score)


def split_decisions(line: Decision, parts: list[Decision]) -> list[Decision] | None:
    """The decisions of a line's columns (:func:`deid.pixels.ocr.column_parts`) when the line is not to
    be decided whole, else None.

    - A redacted line keeps a column only on positive evidence (:attr:`Decision.vouched`: the
      allowlist or the clinical lexicon, on its own reading) and only when another column is redacted
      on its own (the identifying text is attributed to that column): a clinical label beside a name
      or an ID stays legible. Every other column stays redacted (its own redaction, or the line's:
      a column that cannot be attributed is redacted, PS3.15 E.3.1 default deny).
    - A kept line has a column redacted when that column alone is firmly identifying (a header match
      or a rule, :attr:`Decision.firm`): the line's context never clears identifying text.
    """
    if len(parts) < 2:
        return None
    if line.action is Action.REDACT:
        keep = [p.vouched and any(q.action is Action.REDACT for j, q in enumerate(parts) if j != k)
                for k, p in enumerate(parts)]
        if not any(keep):
            return None
        return [p if keep[k] or p.action is Action.REDACT else line for k, p in enumerate(parts)]
    if not any(p.firm for p in parts):
        return None
    return [p if p.firm else line for p in parts]
