"""Synthetic free-text sentences for the free-text PHI detector: training and evaluation kept apart.

Each sentence is what a Clean Descriptors attribute holds (Additional Patient History, Image / Study
Comments, Study / Series Description, Reason for Requested Procedure): clinical words, and in PHI
sentences names of people, places, organisations, dates, phone numbers, e-mail addresses made by
Faker. The two splits share nothing but the generator code:

* templates: ``TRAIN_TEMPLATES`` and ``EVAL_TEMPLATES`` are different sentences;
* clinical words: PS3.16 code meanings from pydicom's SR dictionaries, split by a hash of the meaning
  (even -> training, odd -> evaluation);
* locales: ``TRAIN_LOCALES`` and ``EVAL_LOCALES`` overlap in none (evaluation adds scripts and
  countries the training never saw);
* seeds differ.

Spans are character offsets of each inserted PHI value; ``clinical`` lists the clinical terms
inserted (they must survive cleaning).
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass, field
from functools import lru_cache

from faker import Faker

TRAIN_LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pt_BR", "pl_PL", "sv_SE")
EVAL_LOCALES = ("en_AU", "en_IE", "de_AT", "fr_CA", "es_MX", "pt_PT", "da_DK", "fi_FI", "cs_CZ", "tr_TR",
                "hu_HU", "ro_RO", "no_NO", "en_IN", "ja_JP", "zh_CN", "ko_KR", "ru_RU")

TRAIN_TEMPLATES = (
    "Referred by Dr {doctor} for {term}.",
    "Patient seen with husband {person} regarding {term}",
    "{term} after a fall at {street}",
    "History of {term}; GP {doctor} at {org}",
    "Transferred from {org} on {date} with {term}",
    "Lives in {city}, known {term}",
    "Contact daughter {person} on {phone} re {term}",
    "Prior imaging at {org}, {city}: {term}",
    "Comparison with study of {date}. {term} unchanged",
    "Report sent to {email}",
    "{term}, please call {doctor} on {phone}",
    "Seen by {person} in clinic, suspected {term}",
    "Pt {person} c/o {term}",
    "{term} - see letter from {org}",
    "Wife {person} present. {term}",
    "Address on file: {street}, {city}",
    "Requested by {doctor} ({org})",
    "{term}. Follow up at {org} in {city}",
    "Mother {person} reports {term} since {date}",
    "Result discussed with {doctor} by phone on {date}",
    "{term}",
    "Query {term}",
    "{term} and {term2}",
    "Known {term}. No change since prior.",
    "Follow-up of {term}",
    "Evaluate for {term}; history of {term2}",
    "r/o {term}",
)
EVAL_TEMPLATES = (
    "Sent in by {doctor} because of {term}",
    "{person} was accompanied by her son; complaint: {term}",
    "Slipped on stairs at {street}; now {term}",
    "Known {term}, managed by Dr. {doctor} of {org}",
    "Admitted via {org} {date}, {term}",
    "Resident of {city}. {term} noted",
    "Next of kin {person}, tel {phone}",
    "Outside films from {org} ({city}) show {term}",
    "Compared to exam dated {date}: {term} stable",
    "Copy to {email} please",
    "{term}; results to {doctor}, phone {phone}",
    "Clinic review by {person} - {term} suspected",
    "{person} presents with {term}",
    "{term} per referral letter of {org}",
    "Partner {person} consented. {term}",
    "Home address: {street} {city}",
    "Ordered by {doctor}, {org}",
    "{term}; repeat at {org}, {city}",
    "Father {person} states {term} began {date}",
    "Findings phoned to {doctor} on {date}",
    "Assess {term}",
    "{term}, {term2}",
    "Suspected {term} - please compare",
    "Clinical details: {term}",
    "History: {term} with {term2}",
    "{term} ?progression",
)


@dataclass
class Sentence:
    text: str
    spans: list[tuple[int, int]] = field(default_factory=list)  # PHI character ranges
    clinical: list[str] = field(default_factory=list)  # clinical terms inserted


@lru_cache(maxsize=1)
def clinical_terms() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """PS3.16 code meanings (SCT, DCM, RADLEX, LN) of 1-4 words as PS3.16 writes them (sentence case,
    title case: "Volume of Interest"), split into (training, evaluation). Left out: meanings with a
    capitalised word that Faker ships as a name or place in any locale (eponyms, breeds, places: the
    word is a name there) and breeds; a sentence-case meaning starting with such a word ("Brown fat")
    or a one-word meaning is kept in lower case only."""
    from pydicom.sr._concepts_dict import concepts

    names = _name_words()
    terms: set[str] = set()
    for scheme in ("SCT", "DCM", "RADLEX", "LN"):
        for codes in concepts.get(scheme, {}).values():
            for meaning, _cids in codes.values():  # type: ignore[attr-defined]
                m = meaning.strip()
                words = m.split()
                if not (1 <= len(words) <= 4 and re.fullmatch(r"[A-Za-z][A-Za-z \-/']*[a-z]", m)) \
                        or "breed" in m.lower() or "'s" in m:
                    continue
                caps = [w for w in words if w[:1].isupper() and not w.isupper()]
                if any(w.lower() in names for w in caps[1:]):
                    continue  # a title-case meaning holding a name ("Frank Lead M")
                if caps[:1] == words[:1] and (words[0].lower() in names or len(words) == 1 and m[1:2].islower()):
                    m = m[0].lower() + m[1:]  # a name, or one capitalised word that may be one ("Penner")
                terms.add(m)
    train, evl = [], []
    for t in sorted(terms):
        (train if hashlib.sha256(t.casefold().encode()).digest()[0] % 2 == 0 else evl).append(t)
    return tuple(train), tuple(evl)


@lru_cache(maxsize=1)
def _name_words() -> frozenset[str]:
    """Every first name, last name and place word Faker ships (scripts/build_common_words.py)."""
    from build_common_words import faker_names

    return frozenset(faker_names())


def _as_written(term: str) -> str:
    """A sentence-case term half the time as PS3.16 writes it ("Cardioversion spike": a term keeps its
    capital inside a sentence), else in lower case; a title-case term as written."""
    words = term.split()
    title = any(w[:1].isupper() and not w.isupper() for w in words[1:])
    if title or not term[1:2].islower() or random.random() < 0.5:
        return term
    return term[0].lower() + term[1:]


_SLOT = re.compile(r"\{(\w+)\}")


def _value(slot: str, fk: Faker) -> str:
    if slot == "doctor":
        return fk.last_name() if random.random() < 0.5 else f"{fk.first_name()} {fk.last_name()}"
    if slot == "person":
        return fk.name()
    if slot == "street":
        return fk.street_address()
    if slot == "city":
        return fk.city()
    if slot == "org":
        return fk.company() if random.random() < 0.4 else f"{fk.city()} {random.choice(_ORGS)}"
    if slot == "date":
        d = fk.date_between("-30y", "today")
        return d.strftime(random.choice(("%d/%m/%Y", "%Y-%m-%d", "%d %b %Y", "%B %d, %Y", "%m/%d/%y", "%d.%m.%Y")))
    if slot == "phone":
        return fk.phone_number()
    if slot == "email":
        return fk.email()
    raise KeyError(slot)


_ORGS = ("General Hospital", "Clinic", "Medical Centre", "University Hospital", "Radiology",
         "Health Centre", "Imaging Center", "Infirmary")


def make(split: str, n_phi: int, n_clinical: int, seed: int) -> list[Sentence]:
    """``n_phi`` sentences with PHI and ``n_clinical`` without, for ``split`` 'train' or 'eval'."""
    random.seed(seed)
    templates = TRAIN_TEMPLATES if split == "train" else EVAL_TEMPLATES
    locales = TRAIN_LOCALES if split == "train" else EVAL_LOCALES
    terms = clinical_terms()[0 if split == "train" else 1]
    fakers = {loc: Faker(loc) for loc in locales}
    for i, fk in enumerate(fakers.values()):
        fk.seed_instance(seed + i)
    phi_t = [t for t in templates if set(_SLOT.findall(t)) - {"term", "term2"}]
    clin_t = [t for t in templates if not set(_SLOT.findall(t)) - {"term", "term2"}]
    out = []
    for i in range(n_phi + n_clinical):
        template = random.choice(phi_t if i < n_phi else clin_t)
        fk = fakers[random.choice(locales)]
        out.append(_fill(template, fk, terms))
    return out


def _fill(template: str, fk: Faker, terms: tuple[str, ...]) -> Sentence:
    s = Sentence("")
    pos = 0
    parts: list[str] = []
    for m in _SLOT.finditer(template):
        parts.append(template[pos:m.start()])
        slot = m.group(1)
        start = sum(len(p) for p in parts)
        if slot in ("term", "term2"):
            value = _as_written(random.choice(terms))
            s.clinical.append(value)
        else:
            value = _value(slot, fk).replace("\n", ", ")
            s.spans.append((start, start + len(value)))
        parts.append(value)
        pos = m.end()
    parts.append(template[pos:])
    text = "".join(parts)
    if random.random() < 0.2:
        text = text.upper()  # many descriptions are written in capitals
        s.clinical = [c.upper() for c in s.clinical]
    s.text = text
    return s
