"""Free-text cleaning for the C action: PS3.15 E.3.5 Clean Descriptors, E.3.4 Clean Structured Content.

A free-text value keeps its clinical words and loses what identifies anyone, in four layers:

1. the instance's own identifying values in every variant (:mod:`deid.textmatch` needles);
2. identifiers found by form (street addresses, phone/fax, e-mail, URLs, SSN-/MRN-like numbers,
   ages over 89, dates, UIDs: :func:`deid.textmatch.find_patterns`);
3. rules for names of other people, places and organisations: an honorific or a relation word
   followed by a name, an organisation word (Hospital, Clinic, GmbH ...) with its capitalised run,
   a capitalised word inside a sentence that is not DICOM vocabulary;
4. a learned word classifier (:mod:`deid.header.phi_text`, MiniLM encoder + a head trained on
   synthetic sentences) that scores every word.

Default deny: a word that none of the layers can call safe (not vocabulary, not technique, not
scored clearly non-identifying) makes the whole value *removed*, never kept. The profile's
``free_text`` section says which detector runs and that uncertain values are removed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from importlib import resources
from typing import Protocol

from deid.textmatch import (
    STREET_WORDS,
    PatternKind,
    concept_meanings,
    find_needles,
    find_patterns,
    merge,
    normalise,
    sentence_case_first,
    vocabulary,
)

MASK = "[X]"


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


class Verdict(str, Enum):
    KEPT = "kept"  # nothing identifying found
    CLEANED = "cleaned"  # identifying words replaced by the mask
    REMOVED = "removed"  # default deny: some word could not be called safe


@dataclass(frozen=True)
class Cleaned:
    """The cleaned text ("" when removed) and what happened; carries no original value."""

    text: str
    verdict: Verdict
    masked: int


class WordScorer(Protocol):
    """PHI probability per whitespace word (``str.split`` words) for each text."""

    version: str

    def word_probs(self, texts: list[str]) -> list[list[float]]: ...


# Technique words of descriptions and protocol names (PS3.3 C.8.3.1 Scanning Sequence, vendor
# protocol vocabulary) that are not in the SR/dictionary vocabulary: never identifying.
_TECHNIQUE = _set("""
mprage flair dwi adc swi tse fse gre haste stir tof fiesta vibe bravo spgr loc locs scout scouts sag cor ax
tra trans abd ap pa lat obl rt lt bilat bil wo w wwo contr iv po cta mra mrv mrcp ctpa pet spect nm us cr dx
mg xa rf ct mr ot sr ko pr doc seg rtstruct rtplan rtdose recon mip minip vr std hr hrct lowdose ld kv kvp
mas ma ms mm cm sec min hu fov mat thk dfov se ir gr ep rm sk mtc ss tr te ti fa nex etl bw pd pdw t1w t2w
t2star fs fatsat fat sat dixon flash fisp trufi truefisp ssfp bssfp cine perf dce dsc asl fmri bold resting
pre post gad gd mpr mprs thin thk3 hires lores ima img imgs ser series scan scans rpt repeat qa qc phantom
cal calib topo topogram scanogram surview pilot planning plan plans ref refs std soft sft lung bone brain
angio venous arterial delayed portal nc ce w/ w/o wo/w cxr kub ivp ugi ercp eus tee tte echo doppler
duplex vasc carotid renal hepatic abdo abdom pelv pelvic thor thorax thx csp tsp lsp cspine tspine lspine
c-spine l-spine t-spine lumbar cervical thoracic sacral sacrum coccyx skull facial sinus sinuses orbit orbits
iac iacs tmj neck chest abdomen pelvis extremity ext le ue hip knee ankle foot hand wrist elbow shoulder
lvot rvot la ra lv rv mv tv av pv svc ivc aorta aortic coronary cabg pci stent nodule nodules mass lesion
hx hist hx/o r/o ro eval f/u fu fup s/p sp dx ddx sx tx rx pt pts yo yrs wk wks mo mos hr hrs ml mg kg
avf avl avr dyn seq bh mip wb ctac nac ac dataset datasets investigational
irreversible reversible lossy lossless
""")
# Head nouns of Latin anatomical names (Terminologia Anatomica, FIPAT 2019): "Musculus biceps brachii",
# "Nervus facialis", "Ramus profundus". Written capitalised first in a term, never a name.
_LATIN_HEADS = _set("""
musculus musculi nervus nervi ramus rami arteria arteriae vena venae plexus ganglion ganglia ligamentum
ligamenta radix radices caput capita venter ventres tendo fascia fasciae bursa bursae glandula glandulae
nucleus nuclei tractus lobus lobi gyrus gyri sulcus sulci fossa fossae foramen foramina canalis ductus
truncus trunci corpus corpora cornu processus tuberculum tuberositas condylus epicondylus articulatio
articulationes regio pars partes facies margo angulus collum cavitas recessus septum valva valvula ostium
lamina membrana capsula cartilago discus meniscus retinaculum vagina os ossa vas vasa
""")
_TECHNIQUE = _TECHNIQUE | _LATIN_HEADS
# Clinical abbreviations written capitalised first in a sentence ("Hx of", "Dx:", "Pt"): an explicit
# list, since short technique words are surnames too ("Le", "Ma", "Mo").
_SENTENCE_ABBREVIATIONS = _set("hx dx ddx tx rx sx fx pt pts yo")
_UCUM_WORDS = _set("ms s sec min h hr hrs d wk wks mo y yr yrs mm cm m km ml l dl mg g kg ug mcg ng mmol mol "
                   "hz khz mhz kv ma mas mgy gy msv sv bpm mmhg deg degrees percent weeks days months years hours minutes")
_HONORIFICS = _set("dr doctor mr mrs ms miss mx prof professor sir dame herr frau fr hr mme mlle m "
                        "sr sra srta dott dott.ssa sig sig.ra pan pani nurse sister rev")
_PERSON_CUES = _set(
    "by husband wife son daughter mother father brother sister partner friend neighbour neighbor carer "
    "caregiver guardian gp physician surgeon radiologist consultant registrar resident technologist "
    "radiographer sonographer nurse attending referrer colleague patient pt mrs mr ms named called "
    "contact cc dictated signed reported reviewed verified transcribed approved call notify inform page "
    "paged ask with kin nok tech techs technician operator initials attn fao")
# Words that address a message to a person ("attn. JOHN JONES", "FAO Dr X"): abbreviations, no sentence end.
_ADDRESSING = _set("attn fao")
# Relation words and honorifics: a title-case run that opens with one is a person, not a term ("Daughter Natal").
_RELATIONS = _set("husband wife son daughter mother father brother sister partner friend neighbour neighbor carer "
                  "caregiver guardian kin nok")
_PLACE_CUES = _set("at from in to near of lives living resides moved transferred born")
_ORG_WORDS = _set(
    "hospital hospitals clinic clinics infirmary hospice sanatorium klinik klinikum krankenhaus hopital "
    "ospedale ospitale clinica policlinico poliklinik institute institut instituto istituto university "
    "universitat universite universidad universita universiteit college centrum zentrum praxis gmbh inc llc "
    "ltd plc hb oy sarl ohg gbr llp pty pvt ltda scom spj spk stiftung foundation")
# Organisation words that are clinical words too: an organisation only next to an unknown word.
_WEAK_ORG_WORDS = _set("centre center practice surgery trust health healthcare medical imaging "
                            "radiology group partners associates")
# A labelled identifier: everything after the label up to the end of the clause (default deny).
_LABELLED = re.compile(
    r"\b(?:home\s+|postal\s+|e-?)?(?:address|addr|tel|telephone|phone|fax|mobile|e-?mail|mail|contact|name|"
    r"dob|born|next\s+of\s+kin|nok|mrn|ssn|insurance(?:\s+no)?|correspondence|care\s+of)(?:\s+[^\W\d]+){0,2}"
    r"\s*[:=#]\s*([^;\n]+)"
    # an address named as one needs no separator: "Home address Apt 29, 4913-I Bryan Street"
    r"|\b(?:home|postal|mailing|current|previous|new|residential|street)\s+address(?:\s+is)?\s+([^;\n]+)",
    re.I)
# Ages over 89 (HIPAA 164.514(b)(2)(i)(C); PS3.15 E.3.5 Clean Descriptors) in the layouts clinicians
# write that deid.textmatch's pattern leaves: a unit letter glued or after a space ("92y", "93 y.o."),
# a sex letter before or after ("F 92", "92M"), a number in brackets or after an age cue ("elderly
# (92)", "pt is 92"), and the decades ("in her nineties", "nonagenarian", "centenarian"). Only the
# number (or the decade word) is masked.
_AGE_NUMBER = r"(?:9\d|1[0-4]\d)"
_AGE_OVER_89 = re.compile(
    rf"\b({_AGE_NUMBER})\s?(?:y|yr|yrs|yo|y/o|y\.o|years?|year-old|yr-old|-yr-old|-y-o|-y/o|ans|anos|años|jahre)(?:\.|\b)"
    rf"|\b[MFmf]\s?/?\s?({_AGE_NUMBER})\b(?![.,]\d|\s?(?:%|mm|cm|ml|mg|kg|kv|ma|ms|s|sec|deg|bpm|hu)\b)"
    rf"|\b({_AGE_NUMBER})\s?/?\s?[MFmf]\b(?![.,]\d)"
    rf"|\b(?:elderly|aged?|age:|pt\s+is|patient\s+is|is\s+now|turned|old)\s*[:(]?\s*({_AGE_NUMBER})\b(?![.,]\d)"
    r"|\b(nineties|nonagenarian|centenarian|hundreds)\b", re.I)


def _ages_over_89(text: str) -> list[tuple[int, int]]:
    """The number (or decade word) of every age over 89 in :data:`_AGE_OVER_89`'s layouts."""
    out = []
    for m in _AGE_OVER_89.finditer(text):
        k = next(i for i in range(1, 6) if m.group(i) is not None)
        if k == 5 and m.group(5).lower() == "hundreds" and not re.search(r"\b(?:in\s+(?:his|her|their)\s+)$",
                                                                          text[:m.start()], re.I):
            continue  # "hundreds" is an age only as "in her hundreds"
        if k == 5 and m.group(5).lower() == "nineties" and re.search(r"\b(?:the|early|late|mid)\s*-?$",
                                                                      text[:m.start()], re.I):
            continue  # "the nineties" is a decade of years, not an age
        out.append((m.start(k), m.end(k)))
    return out


_CAP_WORD = re.compile(r"^[^\W\d_][^\W\d_'’.-]*(?:[-'’][^\W\d_]+)*\.?$")
_WORD = re.compile(r"\S+")
_STRIP = ".,;:!?()[]{}\"'“”‘’«»<>"
_DOTTED_ABBR = re.compile(r"^(?:[^\W\d_]{1,3}\.)+[^\W\d_]{1,3}$")  # "H.No", "e.g", "S.A": no sentence end


@dataclass
class _Word:
    start: int
    end: int
    text: str  # punctuation stripped
    initial: bool  # first word of a sentence or of a PN component
    stop: bool = False  # ends a clause (";", ".", ":", "!", "?")
    abbreviation: bool = False  # up to four letters and a full stop ("Nr.", "Bl.", "Sc.", "Ap.")
    spaced: bool = False  # only spaces between it and the word before (no comma, bracket, full stop)
    bracket: bool = False  # opens a bracket: "(Leeds)"
    closes: bool = False  # closes a bracket
    tail: str = ""  # the punctuation right after it (",", ".", ":" ...), "" when none
    term: bool = False  # in a title-case clinical term ("Wandering Sinus Pacemaker"): no name
    formed: bool = False  # a term by medical word formation or binomial nomenclature (see _mark_formed)


@lru_cache(maxsize=1)
def _clinical() -> frozenset[str]:
    """DICOM vocabulary (:func:`deid.textmatch.vocabulary`), eponyms of PS3.16 meanings ("Raynaud's
    disease") and technique words."""
    return vocabulary() | _capitalised_terms() | _TECHNIQUE


@lru_cache(maxsize=1)
def _capitalised_terms() -> frozenset[str]:
    """Words PS3.16 meanings only write capitalised: eponyms ("Raynaud's disease") and first words of
    sentence-case meanings ("Urostomy bag"). Clinical, but a mid-sentence capitalised one may be a
    name ("Wright"), so the capitalised-word rule does not trust them alone (see :func:`_term_start`)."""
    return _eponyms() | _sentence_first()


@lru_cache(maxsize=1)
def _eponyms() -> frozenset[str]:
    """Names of PS3.16 meanings written as a possessive ("Raynaud's disease"): clinical only next to
    their term; alone they are names. Only the schemes the product reads
    (:data:`deid.textmatch.VOCABULARY_SCHEMES`)."""
    out: set[str] = set()
    for _scheme, _code, meaning in concept_meanings():
        out.update(m.lower() for m in re.findall(r"\b([A-Z][a-z]{2,})'s\b", meaning))
    return frozenset(out)


@lru_cache(maxsize=1)
def _sentence_first() -> frozenset[str]:
    """First words of sentence-case PS3.16 meanings ("Urostomy bag", "Supraventricular tachycardia"),
    possessive eponyms aside, of the schemes the product reads (:data:`deid.textmatch.VOCABULARY_SCHEMES`)."""
    out: set[str] = set()
    for _scheme, _code, meaning in concept_meanings():
        out.update(sentence_case_first(meaning))
    return frozenset(out - _eponyms())


@lru_cache(maxsize=1)
def _clinical_lower() -> frozenset[str]:
    """What a capitalised word inside a sentence may be without being masked: DICOM vocabulary and
    technique words (not the common words: a capitalised common word there is often a name), less the
    proper nouns PS3.16 never writes in lower case ("Caldwell projection", "Brittany spaniel"): alone
    and capitalised inside a sentence such a word is a name as often as a term."""
    return (vocabulary() - _proper_nouns()) | _TECHNIQUE | _FUNCTION


def _ps316_pairs(lows: list[str]) -> bool:
    """Every two neighbouring words of ``lows`` occur so in a PS3.16 code meaning ("frank lead")."""
    return len(lows) >= 2 and all((a, b) in _proper_pairs() for a, b in zip(lows, lows[1:], strict=False))


@lru_cache(maxsize=1)
def _proper_pairs() -> frozenset[tuple[str, str]]:
    """Neighbouring word pairs of PS3.16 meanings (of the schemes the product reads), lower case, one
    of them capitalised there."""
    out: set[tuple[str, str]] = set()
    for _scheme, _code, meaning in concept_meanings():
        toks = re.findall(r"[^\W\d_]+", meaning)
        out.update((a.lower(), b.lower()) for a, b in zip(toks, toks[1:], strict=False)
                   if a[:1].isupper() or b[:1].isupper())
    return frozenset(out)


@lru_cache(maxsize=1)
def _allow_initial() -> frozenset[str]:
    """What a capitalised first word of a sentence may be without being masked: any known word but the
    proper nouns of PS3.16 ("Pearson to review" is a person; "Pearson projection" goes on as a term)."""
    return _allow() - _proper_nouns()


@lru_cache(maxsize=1)
def _proper_nouns() -> frozenset[str]:
    """Words PS3.16 code meanings only ever write capitalised in sentence-case meanings, never in lower
    case nor in a title-case meaning: eponyms ("Caldwell projection"), breeds, places (schemes the
    product reads, :data:`deid.textmatch.VOCABULARY_SCHEMES`)."""
    lower: set[str] = set()
    capital: set[str] = set()
    titled: set[str] = set()  # words of title-case meanings ("Key Image", "Isocenter Position"): capitalised by style
    for _scheme, _code, meaning in concept_meanings():
        toks = re.findall(r"[^\W\d_]+", meaning)
        spaced = meaning.split()
        if len(spaced) > 1 and all(t[:1].isupper() for t in spaced if len(t) > 3):
            titled.update(t.lower() for t in toks)
            continue
        for tok in toks:
            if tok.islower():
                lower.add(tok)
            elif tok[:1].isupper() and tok[1:].islower():
                capital.add(tok.lower())
    capital -= titled
    # a technique word ("Echo") or a dictionary word ("Recurrent") is capitalised by position, not as a name
    return frozenset(w for w in capital - lower - _common() - _lexicon() - _TECHNIQUE if not _MEDICAL_SUFFIX.search(w))


# Endings of clinical words (diagnoses, procedures, drugs, adjectives): a capitalised word with one is
# a term, not a name ("Eczema", "Thalamus" stay; "Caldwell", "Pearson" do not).
_MEDICAL_SUFFIX = re.compile(r"(?:itis|omas?|osis|ectomy|otomy|ostomy|graphy|scopy|logy|ic|ical|al|ous|ary|ine|ide|"
                             r"ate|mab|ase|ism|i?a|emia|pathy|plasty|gram|ogen|cyte|ar|ive|ed|ing|ions?|ity|ment|ness|"
                             r"us|um|ae|is|es|ics|oid|ule|ol|il|in|one)$")


@lru_cache(maxsize=1)
def _lower_words() -> frozenset[str]:
    """Words written in lower case: the DICOM vocabulary, common words and technique words."""
    return _allow() - (_capitalised_terms() - vocabulary())


@lru_cache(maxsize=1)
def _common() -> frozenset[str]:
    """Common words that are no Faker name or place (scripts/build_common_words.py)."""
    return frozenset(resources.files("deid.header").joinpath("data/common_words.txt").read_text("utf-8").split())


@lru_cache(maxsize=1)
def _lexicon() -> frozenset[str]:
    """Lower-case English dictionary words that are no Faker name or place (SCOWL's Hunspell en_US,
    scripts/build_lexicon_words.py; licence in data/lexicon_words_NOTICE.txt): many clinical words
    the DICOM vocabulary lacks ("dialysis", "goiter"). Trusted in lower case only."""
    return frozenset(resources.files("deid.header").joinpath("data/lexicon_words.txt").read_text("utf-8").split())


@lru_cache(maxsize=1)
def _names() -> frozenset[str]:
    """Every name and place word Faker ships, lower case (scripts/build_lexicon_words.py): a
    capitalised vocabulary word inside a sentence that is also a name ("Iris", "Carina", "White") is
    a name unless its term goes on after it."""
    return frozenset(resources.files("deid.header").joinpath("data/name_words.txt").read_text("utf-8").split())


@lru_cache(maxsize=1)
def _lexicon_names() -> frozenset[str]:
    """Dictionary words that are also names or places ("sharp", "grey", "born"): never known, but in
    lower case no reason to remove a whole value (a person cue before one still masks it)."""
    return frozenset(resources.files("deid.header").joinpath("data/lexicon_names.txt").read_text("utf-8").split())


@lru_cache(maxsize=1)
def _allow() -> frozenset[str]:
    """Clinical words, common words and the English lexicon."""
    return _clinical() | _common() | _lexicon()


@lru_cache(maxsize=1)
def _spelling_targets() -> frozenset[str]:
    """What a British spelling folded to the American one may be: clinical and lexicon words."""
    return _clinical_lower() | _lexicon()


@lru_cache(maxsize=1)
def _lexicon_vocabulary() -> frozenset[str]:
    """Dictionary words and DICOM vocabulary (built once: the union of two large sets per call cost
    ~10 ms, issue #11)."""
    return _lexicon() | vocabulary()


@lru_cache(maxsize=1)
def _lower_vocabulary() -> frozenset[str]:
    """DICOM vocabulary and technique words: what PS3.16 writes in lower case (built once, issue #11)."""
    return vocabulary() | _TECHNIQUE


def load_word_lists() -> None:
    """Build every word list the free-text rules read (each cached once per process) now rather than
    on the first text: a worker that loads them before :func:`gc.freeze` (the engine does, with the
    scorer) keeps their ~800k words out of every full garbage collection, which otherwise walked
    them all (~0.25 s each, issue #11). The lists and the rules' answers are the same either way."""
    for build in (vocabulary, _clinical, _capitalised_terms, _eponyms, _sentence_first, _clinical_lower,
                  _proper_pairs, _allow_initial, _proper_nouns, _lower_words, _common, _lexicon, _names,
                  _lexicon_names, _allow, _spelling_targets, _lexicon_vocabulary, _lower_vocabulary):
        build()




def _words(text: str) -> list[_Word]:
    out: list[_Word] = []
    initial = True
    clean_end = False  # the word before ended its raw token (nothing stripped after it)
    for m in _WORD.finditer(text):
        raw = m.group(0)
        core = raw.strip(_STRIP)
        if not any(c.isalnum() for c in core):
            initial = initial or raw[-1:] in ".!?:;"
            clean_end = False
            continue
        start = m.start() + raw.index(core)
        out.append(_Word(start, start + len(core), core, initial,
                         raw[-1:] in ";:!?" or raw[-1:] == "." and len(core) > 3 and "." not in core
                         and normalise(core) not in _HONORIFICS | _ADDRESSING,  # "Prof.", "attn." end no sentence
                         raw[-1:] == "." and (core.isalpha() and len(core) <= 4 or _DOTTED_ABBR.match(core) is not None),
                         clean_end and start == m.start(), raw[:1] in "([", raw[-1:] in ")]",
                         raw[raw.index(core) + len(core):][:1]))
        initial = raw[-1:] in ".!?:;\n" or raw.endswith("^")
        clean_end = raw.endswith(core)
    return out


_PREFIXES = _set(
    "peri endo atlanto atlantal trans intra inter sub supra pre post para retro hyper hypo anti non semi multi "
    "bi tri uni neo hemi extra infra juxta ortho pseudo re co de dys epi meta micro macro mid mono poly mini "
    "auto cardio gastro naso oro fronto occipito parieto temporo spheno ethmo sacro ilio lumbo thoraco "
    "cervico vesico uretero pyelo hepato spleno pancreatico entero colo recto ano")
_GLUED_PREFIXES = _PREFIXES - _set("de re co bi") | _set("dis")  # short ones start too many names
_UNIT_CHARS = str.maketrans("", "", "µμ°±")
_ORDINAL = re.compile(r"^\d{1,3}(?:st|nd|rd|th)$", re.I)
_ROMAN = re.compile(r"^(?:I{1,3}|IV|VI{0,3}|IX|XI{0,3})$")


def is_known(word: str, acronyms: bool = True) -> bool:
    """Vocabulary (DICOM names, PS3.16 code meanings, units), common words, technique words, numbers,
    short acronyms. A word with non-ASCII letters is known only as written in the vocabulary: an
    accent makes "Germán" a name, not the English "german"."""
    return _known(word, _allow(), acronyms)


def is_clinical(word: str) -> bool:
    """DICOM vocabulary, eponyms of PS3.16 meanings and technique words (not the common words)."""
    return _known(word, _clinical())


def _known(word: str, allow: frozenset[str], acronyms: bool = True) -> bool:
    core = word.translate(_UNIT_CHARS)
    if core.endswith(("'s", "’s")) and core[:-2].lower() in _capitalised_terms():
        return True  # an eponym of a PS3.16 meaning: "Hodgkin's"
    if any(c.isalpha() and not c.isascii() for c in core):
        return False
    norm = normalise(core)
    if not norm or _ORDINAL.match(core):
        return True  # "7th", "2nd"
    if acronyms and core.isupper() and (len(core.replace("-", "")) <= 4 or _ROMAN.match(core)) and "-" not in core[:1]:
        return all(len(p) <= 4 for p in norm.split())  # an acronym (MI, PI-RADS parts, II)
    if acronyms and (_MIXED_ACRONYM.match(core) or _CODE.match(core) or _LOWER_FIRST_ACRONYM.match(core)):
        return True  # an acronym with a lower-case letter ("QTc", "POz")
    if acronyms and core.isupper() and 5 <= len(core) <= 7 and core.isalpha() and not _VOWELS & set(core.lower()):
        return True  # an acronym without a vowel ("NGTDM", "GLRLM"): no name is written so
    if acronyms and _ACRONYM_LIKE.match(core):
        return True  # "QRS-like", "T1-weighted"
    if acronyms and _NUMBERED_ACRONYM.match(core):
        return True  # an acronym and its number after a hyphen: "COVID-19", "SARS-2"
    parts = norm.split()
    if "_" in core and " " not in core.strip():
        # a protocol or series name ("t1_vibe_fs_tra_bh_dyn"): short parts are abbreviations
        return all(_word_known(p, allow) or p.isdigit() or len(p) <= 3 for p in parts)
    if len(parts) > 1 and (core[:1].islower() or core.isupper()) and parts[-1] in allow and all(
            p in _PREFIXES or p in allow for p in parts[:-1]):
        return True  # "peri-procedural", "atlanto-occipital": prefixes of a known word
    if len(parts) == 1 and _derived(parts[0], allow):
        return True
    return all(_word_known(p, allow) or p.isdigit() or len(p) == 1 for p in parts)


_LOWER_FIRST_ACRONYM = re.compile(r"^[a-z][A-Z]{1,3}$")  # an acronym whose first letter lost its capital: "pQ", "eMG"
_CODE = re.compile(r"^[A-Za-z]{1,3}\d{1,2}[A-Za-z]?$")  # "Er5", "Fp1", "V8R": electrode and lead names
_VOWELS = frozenset("aeiouy")
_NUMBERED_ACRONYM = re.compile(r"^[A-Z]{2,6}-\d{1,2}$")
_ACRONYM_LIKE = re.compile(r"^[A-Z][A-Z0-9]{0,4}-(?:like|weighted|based|guided|derived|related|induced|type|wave|waves)$")


def _derived(p: str, allow: frozenset[str]) -> bool:
    """A word built from a known word: a prefix glued to it ("antibradycardia", "nonuniformity",
    "disproportion", the rest of five letters or more, so that "co" + "hen" is no word) or a noun in
    "-ness" of a known adjective ("coarseness")."""
    for k in range(2, min(len(p) - 4, 7)):
        if p[:k] in _GLUED_PREFIXES and _word_known(p[k:], allow):
            return True
    stem = p[:-4]
    return p.endswith(("ness", "less")) and len(stem) >= 4 and (
        stem in allow or stem.endswith("i") and stem[:-1] + "y" in allow)  # "coarseness", "pulseless"


def _word_known(p: str, allow: frozenset[str]) -> bool:
    """In the list, a plural of a word in it ("templates", "nodules"), its American spelling
    ("haemorrhage", "oedema", "tumour", "centre") or a medical word by its form (:func:`_medical_form`)."""
    if _listed(p, allow) or _medical_form(p):
        return True
    us = _american(p)  # against the clinical words only: "Michael" is no "michel"
    return us != p and len(us) >= 5 and (_listed(us, _spelling_targets()) or _medical_form(us))


def _listed(p: str, allow: frozenset[str]) -> bool:
    return p in allow or len(p) > 3 and p.endswith("s") and (p[:-1] in allow or p.endswith("es") and p[:-2] in allow)


_BRITISH = ((re.compile(r"(?<=[a-z])ae(?=[a-z])"), "e"), (re.compile(r"(?<=[a-z])oe(?=[a-z])"), "e"),
            (re.compile(r"^ae"), "e"), (re.compile(r"^oe"), "e"), (re.compile(r"our(?=s?$)"), "or"),
            (re.compile(r"tre(?=s?$)"), "ter"), (re.compile(r"is(?=(?:ation|ed|es|ing|e)s?$)"), "iz"),
            (re.compile(r"(?<=[a-z][aeiou])ll(?=(?:ing|ed|or|ors)$)"), "l"))


def _american(p: str) -> str:
    """The American spelling of a British medical spelling: ae/oe -> e ("haemorrhage", "oesophagus",
    "anaesthesia"), -our -> -or ("tumour"), -tre -> -ter ("centre"), -ise -> -ize."""
    for pattern, repl in _BRITISH:
        p = pattern.sub(repl, p)
    return p


# Suffixes of medical word formation (Greek and Latin combining forms): a word of at least four
# letters before one of them is a clinical word whatever its stem ("coxarthrosis", "psychotherapy",
# "chromomycosis", "arthropathies"). No name is written so (names ending in "-ia", "-ine", "-ic" are
# common: those suffixes are left out).
_MED_SUFFIXES = tuple(sorted(_set("""
itis itides osis oses ectomy ectomies otomy otomies ostomy ostomies plasty plasties pathy pathies algia
emia emias uria omas omata oma scopy scopic scopies graphy graphic graphies megaly plasia plasias plastic
trophy trophic rrhage rrhages rrhagic rrhea rrheic cele celes lysis lytic genic genesis cyte cytes cytic
philia phobia plegia plegic emesis paresis ptosis sclerosis stenosis therapy therapies therapeutic logy logic
logical logist iasis esthesia kinesia kinetic pexy rrhaphy centesis mycosis mycoses myelitis tomy stomy
ectasia ectasis malacia penia penias poiesis ptysis spasm spasms tripsy sarcoma sarcomas blastoma
"""), key=len, reverse=True))


# Stems of International Nonproprietary Names (WHO, "The use of stems in the selection of INN"): the
# ending of a drug's name says its class ("rifamycin", "methicillin", "cisplatin", "pembrolizumab",
# "omeprazole", "sulfonamide"). Only stems long or odd enough that no given name or surname ends so.
_INN_STEMS = tuple(sorted(_set("""
mab ximab zumab umab tinib ciclib parib rafenib lisib cillin cycline mycin micin oxacin floxacin conazole
azole prazole tidine dipine pril sartan olol alol statin gliptin gliflozin glitazone eparin aparin xaban gatran
platin rubicin taxel ovir navir tegravir buvir previr asvir profen coxib fenac azepam azolam barbital
curium curonium dronate lukast semide thiazide triptan setron terol sonide olone asone relin pressin
vaptan afil lutamide amide amides trexate fungin cept kinra plase teplase oxetine apine peridol triptyline
pramine zosin azosin vudine citabine fovir mustine limus stim grastim kinase kinases
"""), key=len, reverse=True))


def _medical_form(p: str) -> bool:
    """A word built by medical word formation: a stem of four letters or more and a suffix of
    :data:`_MED_SUFFIXES` ("coxarthrosis", "chromomycosis", "psychotherapy"), or a stem of three
    letters or more and an INN stem of :data:`_INN_STEMS` ("rifamycins", "cisplatin"); plurals too."""
    if not p.isalpha():
        return False
    forms = (p, p[:-1]) if p.endswith("s") and not p.endswith("ss") and len(p) > 5 else (p,)
    # q ends with a suffix at least 4 letters after its start exactly when q[4:] ends with it (no
    # suffix is empty): one C-level endswith over the tuple instead of one Python test per suffix
    return any(q[4:].endswith(_MED_SUFFIXES) or q[3:].endswith(_INN_STEMS) for q in forms)


# Endings of English derivation and of Latin and Greek word formation: a lower-case word of seven
# letters or more with one reads as an ordinary or medical word ("isoelectric", "epileptiform",
# "hordeolum", "influenzae", "spirochaetal"), not as an identifier.
_SHAPE_ENDINGS = tuple(sorted(_set("""
al ial ical ic ics ous ary ory ia ae ii is us um oid ism ist ists ive ives ion ions ity ities ment ments able
ible ant ants ent ents form forms phase ular ate ates ated ine ines ide ides ose ase ema oma ica ata atum atus
alis aris ensis cele tic tics ing ed er ers ure ures ence ance ency osis itis
"""), key=len, reverse=True))
# Combining forms glued before a word ("quasiperiodic", "photodriving", "megaloureter").
_COMBINING = _PREFIXES | _set("""
quasi photo deoxy oxy hydroxy megalo megal herpes carpo iso di pro neuro electro myelo osteo chondro angio
arterio veno lympho adeno cyto histo immuno hemo haemo hemato haemato thrombo cerebro cranio encephalo spondylo
arthro dermato derma nephro uro cysto hystero colpo oophoro salpingo mammo masto pneumo broncho tracheo laryngo
pharyngo rhino oto ophthalmo blepharo kerato retino chorio amnio feto neo peri ecto endo meso tele radio sono
levo laevo dextro sensori
tomo chemo pharmaco toxo bacterio viro myco parasito patho physio psycho socio bio glyco lipo proto
""")
_SLAVIC_ENDING = re.compile(r"(?:vic|cic|zic|jic|sic|wicz|ski|sky|ska|ova|eva)$")


def _plausible(word: str, names: bool = True) -> bool:
    """A lower-case word no list holds that reads as English or medical word formation: every part
    (split at hyphens) known, a dictionary word that is also a name ("sharp"), a word of seven letters
    or more with an ending of :data:`_SHAPE_ENDINGS`, or a combining form glued to such a word
    ("quasiperiodic"). Parts split at hyphens and slashes ("monoblastic/monocytic"); a part in "-o"
    of four letters or more before a hyphen is a combining form ("septo-optic", "tubulo-interstitial").
    With ``names`` (mixed-case text) a Latin word of five letters or more ("externa", "nervosa",
    "mutilans": a post-positive adjective of a term) reads as one too. A name of the name list or with
    a Slavic surname ending is none; ``names`` False: no dictionary word that is also a name either."""
    if not word.isascii() or not word[:1].islower() or any(c.isupper() or c.isdigit() for c in word):
        return False
    parts = [x for x in re.split(r"[-'’/]", word) if x]
    linked = [k < len(parts) - 1 and len(x) >= 4 and x.isalpha() and x.endswith("o") and "-" in word
              for k, x in enumerate(parts)]
    return bool(parts) and all(link or _plausible_part(x, names) for x, link in zip(parts, linked, strict=True))


# Endings of Latin adjectives and nouns written after a term's head ("otitis externa", "anorexia
# nervosa", "arthritis mutilans", "osteitis deformans", "triceps surae", "induratio penis").
_LATIN_POSTPOSITIVE = re.compile(r"(?:osa|osum|osus|ans|ens|ntis|alis|aris|ae|ata|atum|atus|ica|icum|icus|"
                                 r"iva|ivum|ivus|rna|rnum|rnus|ior|ius|ium|orum|arum|atio|itio|ma)$")


def _plausible_part(p: str, names: bool) -> bool:
    if not p.isalpha():
        return False
    if _word_known(p, _allow()) or names and p in _lexicon_names() or p in _FUNCTION:
        return True
    if p in _names() or _SLAVIC_ENDING.search(p):
        return False
    if names and len(p) >= 5 and _LATIN_POSTPOSITIVE.search(p):
        return True
    if len(p) < 7:
        return False
    for q in dict.fromkeys((p, _american(p))):
        if q.endswith(_SHAPE_ENDINGS):
            return True
        for k in range(2, min(len(q) - 3, 9)):
            rest = q[k:]
            if q[:k] in _COMBINING and (_word_known(rest, _allow()) or len(rest) >= 6 and rest.endswith(_SHAPE_ENDINGS)
                                        or k >= 5 and len(rest) >= 4):  # "haematometra", "cardiomegal"
                return True
    return False


def _lenient(w: _Word, all_caps: bool, mixed: bool) -> bool:
    """An unknown word that does not make its value uncertain: a lower-case word of :func:`_plausible`
    (the rules and the scorer still mask it where a name stands); a dictionary word that is also a
    name ("sharp") only in text with capitals (where a lower-case name is no writing habit)."""
    return not all_caps and _plausible(w.text, mixed)


def _mixed(text: str) -> bool:
    return any(c.isupper() for c in text) and any(c.islower() for c in text)


def _is_capitalised(word: str) -> bool:
    return bool(_CAP_WORD.match(word)) and word[:1].isupper() and not word.isupper()


class FreeTextCleaner:
    """Cleans free-text values of one instance; build once per instance (needles are its values)."""

    def __init__(self, needle_set: frozenset[str], scorer: WordScorer | None = None,
                 phi_threshold: float = 0.5, safe_threshold: float = 0.0) -> None:
        self._needles = needle_set
        self._scorer = scorer
        self._phi = phi_threshold
        self._safe = safe_threshold

    def clean(self, text: str) -> Cleaned:
        if not text.strip():
            return Cleaned(text, Verdict.KEPT, 0)
        ranges = list(find_needles(text, self._needles))
        patterns = find_patterns(text)
        ranges += [(m.start, m.end) for m in patterns]
        words = _words(text)
        all_caps = _all_caps(words)
        _mark_terms(words, all_caps)
        ranges += _rule_ranges(words, all_caps, self._scorer is not None)
        ranges += [m.span(1) if m.group(1) is not None else m.span(2) for m in _LABELLED.finditer(text)]
        ranges += _ages_over_89(text)
        ranges += _initials_ranges(words, text)
        ranges += _number_sign_streets(words)
        ranges += [(w.start, w.end) for w in words if _COMPONENTS.search(w.text)]
        masked = merge(ranges)
        for _ in range(3):  # a number masked as an address may let a designator before it go on ("Calle 6 N° 464")
            grown = _address_numbers(words, _extend(words, masked, all_caps))
            if grown == masked:
                break
            masked = grown
        masked = _contact_names(words, masked, [m.start for m in patterns if m.kind in _CONTACT], all_caps)
        probs = self._probs_if_needed(text, words, masked, all_caps)
        if probs is None:  # default deny without a model call: nobody can call this word safe
            return Cleaned("", Verdict.REMOVED, len(words))
        uncertain = False
        rules_masked = masked
        mixed = _mixed(text)
        for k, (w, p) in enumerate(zip(words, probs, strict=True)):
            if _covered(w, rules_masked):
                continue
            if p is not None and p >= self._phi and _alpha(w.text) and not (
                    w.text.islower() and (is_known(w.text) or mixed and _plausible(w.text) and not _by_name(words, k, rules_masked))) \
                    and not _code(words, k, all_caps):  # numbers: the patterns decide
                masked = merge([*masked, (w.start, w.end)])
            # an unknown word the rules did not place stays uncertain even when the classifier masks
            # it: the value may hold more of the same name in words the classifier missed
            if not is_known(w.text, not all_caps) and _alpha(w.text) and not w.term and not _lenient(w, all_caps, mixed) and (
                    p is None or p >= self._safe):
                uncertain = True  # default deny: nobody can call this word safe
        if uncertain:
            return Cleaned("", Verdict.REMOVED, len(words))
        if masked != rules_masked:  # a name the classifier found goes on in the words next to it ("Thor Olsen")
            masked = _address_numbers(words, _extend(words, masked, all_caps))
        if not masked:
            return Cleaned(text, Verdict.KEPT, 0)
        return Cleaned(_apply(text, masked), Verdict.CLEANED, len(masked))

    def _probs_if_needed(self, text: str, words: list[_Word], masked: list[tuple[int, int]],
                         all_caps: bool) -> list[float | None] | None:
        """The scorer's word probabilities, or None when the value is removed whatever they say.

        With ``safe_threshold`` 0 (every shipped profile) an unknown word the rules did not place
        makes the value uncertain whatever its score, and only a word that is not a known lower-case
        word can be masked by a score: the encoder (most of the header engine's time) runs only when
        its answer can change the outcome. Same result as scoring every value."""
        if self._safe > 0:
            return self._probs(text, words)
        open_words = [w for w in words if not _covered(w, masked) and _alpha(w.text)]
        if any(not is_known(w.text, not all_caps) and not w.term and not _lenient(w, all_caps, _mixed(text))
               for w in open_words):
            return None
        if not any(not (w.text.islower() and is_known(w.text)) for w in open_words):
            return [None] * len(words)
        return self._probs(text, words)

    def _probs(self, text: str, words: list[_Word]) -> list[float | None]:
        if self._scorer is None or not words or all(
                is_clinical(w.text) and not _is_capitalised(w.text) or not _alpha(w.text) for w in words):
            return [None] * len(words)  # nothing a name could hide in: no model call
        raw = self._scorer.word_probs([text])[0]
        # the scorer's words are str.split() words; map each cleaned word to the one holding it
        spans = [(m.start(), m.end()) for m in _WORD.finditer(text)]
        out: list[float | None] = []
        for w in words:
            idx = next((i for i, (s, e) in enumerate(spans) if s <= w.start < e), None)
            out.append(raw[idx] if idx is not None and idx < len(raw) else None)
        return out


def _by_name(words: list[_Word], k: int, masked: list[tuple[int, int]]) -> bool:
    """A neighbour in the same clause that the rules masked or a capitalised word no list knows: a
    lower-case word there may be part of a name ("Klinička bolnica Korčula", "Perivoj biskupa
    Stjepana"), so the scorer's word on it counts."""
    for j in (k - 1, k + 1):
        if not 0 <= j < len(words) or words[min(j, k)].stop:
            continue
        x = words[j]
        if _covered(x, masked) and _alpha(x.text) or _is_capitalised(x.text) and not x.term and not is_known(x.text):
            return True
    return False


def _code(words: list[_Word], k: int, all_caps: bool) -> bool:
    """A word no name is written as, whatever the classifier says: letters and up to four digits ("T2",
    "V5R", "FC3"), a Roman numeral or a technique acronym in capitals inside mixed-case text ("XII", "CABG",
    "AV"), a word of a Latin anatomical name (marked by :func:`_mark_latin`), a single capital before a lower-case clinical
    word ("P wave")."""
    w = words[k].text
    if words[k].term:
        return True
    if 0 < sum(c.isdigit() for c in w) < 5 or _MIXED_ACRONYM.match(w):
        return True
    if not all_caps and w.isupper() and (_ROMAN.match(w) or normalise(w) in _TECHNIQUE):
        return True
    if _LETTER_WORD.match(w) and is_known(w.split("-", 1)[1]):
        return True  # a letter glued to a word: "B-cell", "T-wave"
    if w[1:].islower() and normalise(w) in _SENTENCE_ABBREVIATIONS:
        return True  # a clinical abbreviation first in a sentence: "Hx of", "Dx:", "Pt" (never "Le", "Ma")
    nxt = words[k + 1] if k + 1 < len(words) else None
    return (len(w) == 1 and w.isupper() and nxt is not None and nxt.spaced and nxt.text.islower()
            and is_clinical(nxt.text))


_LETTER_WORD = re.compile(r"^[A-Z]{1,2}-[a-z]{3,}$")


def _alpha(word: str) -> bool:
    return any(c.isalpha() for c in word)


def _all_caps(words: list[_Word]) -> bool:
    letters = [w.text for w in words if _alpha(w.text)]
    return bool(letters) and all(not any(c.islower() for c in w) for w in letters)


def _covered(w: _Word, ranges: Iterable[tuple[int, int]]) -> bool:
    return any(s <= w.start and w.end <= e for s, e in ranges)


def _name_like(w: _Word, all_caps: bool) -> bool:
    """Could be a name: capitalised (or any case in all-caps text) and not a lower-case vocabulary word."""
    if not _alpha(w.text):
        return False
    if all_caps or w.text.isupper():
        return normalise(w.text) not in _TECHNIQUE
    return _is_capitalised(w.text) or not is_known(w.text)


_PRONOUNS = _set("me us him her it them you we he she they")
# A word that holds DICOM component separators (PS3.5 6.2: PN and address values written as stored):
# "^^" anywhere, a caret between letters, or a caret before a postcode ("Common^St.", "James^^2611",
# "Lane^2611"); an exponent stays ("10^9/L", "mm^2", "m^-1"). Issue 13, item 1.
_COMPONENTS = re.compile(r"\^\^|[^\W\d_]\.?\^[^\W\d_]|[^\W\d_]\^\d{3,}")
_PN = re.compile(r"^[^\W\d_][^\W\d_'’.-]*(?:\^+[^\W\d_][^\W\d_'’.-]*)+\^*$")
_INITIALS = re.compile(r"^(?:[^\W\d_]{2,3}|(?:[^\W\d_]\.){1,2}[^\W\d_])$")


def _initials(w: _Word, labelled: bool, last: bool) -> bool:
    """Initials after a person cue, ending the clause ("Tech: JK.", "transcribed ab", "checked with
    bp."): two or three letters all in one case. After a label ("Tech:") whatever they spell; else
    not a common word nor (in capitals) a technique or vocabulary word ("compare with CT.")."""
    if not _INITIALS.match(w.text) or not (w.text.isupper() or w.text.islower()):
        return False
    if not (last or w.tail in (".", ",", ";", ")") or w.stop):
        return False
    if labelled:
        return True
    low = normalise(w.text).replace(" ", "")
    if w.text.islower():
        return low not in _common() and low not in _FUNCTION and low not in _PRONOUNS  # "checked with rv."
    return low not in _TECHNIQUE and low not in vocabulary()


# Words after which two or three letters (or dotted letters) are a person's initials: who read,
# reported, typed, checked or was told ("per JS", "Reporter: td", "checked by MSL and G.P.K.").
_INITIAL_CUES = _set("by per cc attn reporter reader read report reported reporting tech techs technician "
                     "technologist radiographer sonographer dictated typed transcribed verified reviewed checked "
                     "signed initials protocolled protocoled operator authorised authorized approved")
_INITIAL_ENDS = _set("today yesterday tonight now and am pm")
_DOTTED = re.compile(r"^(?:[^\W\d_]\.){1,3}[^\W\d_]?\.?$")


def _dotted_initials(text: str) -> bool:
    """Dotted capitals of any script: "J.S.", "G.P.K.", "R.Ü.S."."""
    return bool(_DOTTED.match(text)) and text.replace(".", "").isupper()

# Dictation marks: the author's initials in capitals, a slash, the typist's in lower case ("JS/ab").
_DICTATION = re.compile(r"^[A-Z]{2,3}/[a-z]{2,3}$|^[a-z]{2,3}/[a-z]{2,3}$")
_DICTATION_VERBS = _set("dictated typed transcribed dict dictation typing")


def _initials_token(w: _Word) -> bool:
    """Two or three letters in one case ("JS", "ab") or dotted capitals ("J.S.", "G.P.K."), no
    technique or unit word ("CT", "US", "ms"), no function word or pronoun."""
    core = w.text.rstrip(".")
    if _dotted_initials(w.text) and len(core) >= 2:
        return True  # "C.M.", "L.T.": no unit or technique word is written with a full stop after each letter
    if _LOWER_FIRST_ACRONYM.match(core) and len(core) <= 3:
        return True  # initials whose first letter lost its capital: "jK"
    if not (core.isalpha() and 2 <= len(core) <= 3 and (core.isupper() or core.islower())):
        return False
    low = core.lower()
    return not (low in _TECHNIQUE or low in _UCUM_WORDS or low in _FUNCTION or low in _PRONOUNS
                or low in _set("id is as be do go me my no ok so up us we yes per via not old new"))


def _letters(w: _Word) -> bool:
    """Two or three letters in one case: "SR", "ag"."""
    core = w.text.rstrip(".")
    return core.isalpha() and 2 <= len(core) <= 3 and (core.isupper() or core.islower()) and \
        core.lower() not in _FUNCTION and core.lower() not in _PRONOUNS


def _closing_letters(words: list[_Word], j: int, text: str) -> bool:
    """Right after an initials cue, two or three letters that end the value or come before a dash are
    initials whatever they spell ("Seen by MM", "Protocolled by as - ..."), no pronoun ("by me -")
    nor, in lower case, a unit ("by mm"). After "per" or "report" (a reporter's sign-off: "Verbal
    report mm.", "per RM") letters that end the value, a full stop after them or not, are initials even
    when they spell a unit or a technique word: nothing is measured or imaged there."""
    x = words[j]
    core = x.text.rstrip(".")
    if not (core.isalpha() and 2 <= len(core) <= 3 and (core.isupper() or core.islower())):
        return False
    low = core.lower()
    after = words[j + 1] if j + 1 < len(words) else None
    cue = normalise(words[j - 1].text)
    if after is None and x.tail in ("", ".") and cue in _SIGN_OFF_CUES and not words[j - 1].tail \
            and low not in _PRONOUNS and low not in _FUNCTION and not (
                cue == "per" and core.islower() and low in _TECHNIQUE | _UCUM_WORDS | _ROUTES):
        return True  # "given per os", "dosed per kg": a route or a unit in lower case after "per" goes on below
    opens = j == 1 or words[j - 2].stop or words[j - 2].tail in (".", ";")  # "per" opens the value or its sentence
    if after is None and x.tail in ("", ".") and cue == "per" and opens and low not in _ROUTES:
        return True  # a sign-off sentence ("per mm", "Stable. per sk", "... . per yrs"): nothing is given or measured there
    if cue == "per" and x.tail == ":" and core.isupper() and not words[j - 1].tail:
        return True  # "per LA: ...", "per AV: ...": capitals before a colon after "per" name who said it
    if low in _PRONOUNS or low in _TECHNIQUE - _UCUM_WORDS or core.islower() and low in _UCUM_WORDS:
        return False
    return after is None and not x.tail or after is not None and "-" in text[x.end: after.start] and not x.tail


_SIGN_OFF_CUES = _set("per report")
# Honorifics that only a person's name follows: two or three letters after one are initials even when
# they spell a pronoun ("Dr. me aware"); "ms", "hr", "m", "sister" are units, hours or words too.
_PERSON_HONORIFICS = _set("dr doctor prof professor mr mrs miss mx mme mlle dott herr frau")
# Teams and places one discusses a case with ("discussed with ICU today"): no person's initials.
_TEAMS = _set("icu ed er ent mdt gp ccu hdu nicu picu ot or ae mau amu")
_ROUTES = _set("os")  # "per os": by mouth


# Where only a person stands: a role noun ("Tech mm,", "Reporter ME") or "by" after a verb of reading,
# reporting or checking ("Read by RA", "Protocolled by pr -", "Seen by kg"): the letters there are
# initials whatever they spell ("tests by CT" and "confirmed by US" keep their technique words).
_ROLE_CUES = _set("tech techs technician technologist radiographer sonographer reporter reader operator initials")
_PERSON_VERBS = _set("read reported seen checked protocolled protocoled dictated typed transcribed verified reviewed "
                     "signed approved authorised authorized performed scanned examined")


def _person_letters(x: _Word, first: bool, label: bool, last: bool, role: bool = False) -> bool:
    """Two or three letters in one case (or dotted capitals) where only a person stands (see
    :data:`_ROLE_CUES`): initials whatever they spell, a unit or a technique word too; a lower-case
    pronoun or function word right after the cue is none ("seen by me"), unless it ends the value
    after "and" ("checked by O.W. and he") or in capitals after a label ("Reporter: ME") or after a role
    noun (``role``) before punctuation or the end ("Tech OR, ...")."""
    core = x.text.rstrip(".")
    if _dotted_initials(x.text) and len(core) >= 2 or _LOWER_FIRST_ACRONYM.match(core) and len(core) <= 3:
        return True  # "J.K.", "jK"
    if not (core.isalpha() and 2 <= len(core) <= 3 and (core.isupper() or core.islower())):
        return False
    low = core.lower()
    if low in _PRONOUNS or low in _FUNCTION:  # in capitals after a role noun: "Tech OR," "Radiographer AN."
        return not first and last or core.isupper() and (label or role and (last or bool(x.tail)))
    return True


def _talk_capitals(words: list[_Word], j: int, person_only: bool = False) -> bool:
    """Right after "<talk verb> with" (:data:`_TALK_VERBS`), two or three capitals that end the value or
    come before "today", "now" ... are the initials of the person talked to, a technique word too
    ("Images reviewed with MV today", "discussed with EP."); a team is no person ("discussed with ICU
    today", :data:`_TEAMS`). After a cue that only a person or a team follows (``person_only``: "d/w",
    "discussed with", "spoke to"; not "reviewed with", which a modality follows) also before "and" or
    a comma ("d/w KV and MS.", "discussed with MV, ..."). Issue 13, item 1."""
    x = words[j]
    core = x.text.rstrip(".")
    if not (core.isalpha() and core.isupper() and 2 <= len(core) <= 3) or core.lower() in _TEAMS:
        return False
    after = words[j + 1] if j + 1 < len(words) else None
    if after is None:
        return x.tail in ("", ".")
    if person_only and (x.tail in (",", ";") or not x.tail and normalise(after.text) in ("and", "&")):
        return True
    return not x.tail and after.spaced and normalise(after.text) in _INITIAL_ENDS - _set("and am pm")


def _stranded_function_word(words: list[_Word], j: int) -> bool:
    """Right after "<talk verb> with" or "<verb of reading> by", a lower-case function word of two or
    three letters that ends the value or its clause ("checked with at.", "Read by on"): no preposition
    or article ends a clause there, so these are lower-case initials that spell one; pronouns stay
    ("checked with me."). Issue 13, item 1."""
    x = words[j]
    core = x.text.rstrip(".")
    if not (core.isalpha() and core.islower() and 2 <= len(core) <= 3) or core not in _FUNCTION:
        return False
    return j + 1 == len(words) and x.tail in ("", ".") or x.tail in (".", ";") and x.stop


def _pronoun_letters(x: _Word) -> bool:
    """Two letters in one case that spell a pronoun ("me", "US"), right after an honorific of
    :data:`_PERSON_HONORIFICS`: a person's initials, no pronoun ("Dr. me aware"). Issue 13, item 1."""
    core = x.text.rstrip(".")
    return core.isalpha() and (core.isupper() or core.islower()) and core.lower() in _PRONOUNS and len(core) <= 3


# "d/w": discussed with. Verbs of speaking that take their person after "to" ("Spoke to JK").
_TALK_ABBREVIATIONS = frozenset({"d/w"})
_SPEAK_VERBS = _set("spoke spoken speak speaking talked talk explained")
# Verbs whose object is a person told something ("Informed JK of result") and the words that follow a
# person told ("JK aware"): two or three capitals there are initials, not a technique word.
_TELL_VERBS = _set("informed told notified paged phoned rang contacted emailed messaged updated")
_TOLD = _set("aware informed notified updated")


def _talk_cue(words: list[_Word], i: int) -> bool:
    """``words[i]`` is "with" after a talk verb ("discussed with"), "to" after a verb of speaking
    ("spoke to"), or "d/w": the person talked to follows. Issue 13, item 1."""
    low = normalise(words[i].text)
    prev = normalise(words[i - 1].text) if i > 0 and not words[i - 1].stop else ""
    return words[i].text.lower() in _TALK_ABBREVIATIONS or low == "with" and prev in _TALK_VERBS \
        or low == "to" and prev in _SPEAK_VERBS


_PERSON_TALK_VERBS = _set("discussed spoke spoken talked liaised conferred")


def _person_talk(words: list[_Word], i: int) -> bool:
    """``words[i]`` is a talk cue (:func:`_talk_cue`) that only a person or a team follows: "d/w",
    "discussed with", "spoke to" (not "reviewed with", "checked with": a modality may follow)."""
    prev = normalise(words[i - 1].text) if i > 0 else ""
    return words[i].text.lower() in _TALK_ABBREVIATIONS or prev in _PERSON_TALK_VERBS | _SPEAK_VERBS


def _object_initials(words: list[_Word], j: int) -> bool:
    """Two or three capitals right after a verb of telling ("Informed PJB of result", "paged JK") or
    right before "aware" ("BL aware, ...", "MS aware"): a person's initials, no team ("ICU aware"); after
    the verb no technique word ("Informed CT"). Issue 13, item 1."""
    x = words[j]
    core = x.text.rstrip(".")
    if not (core.isalpha() and core.isupper() and 2 <= len(core) <= 3) or core.lower() in _TEAMS | _PRONOUNS:
        return False
    after = words[j + 1] if j + 1 < len(words) else None
    if after is not None and not x.tail and normalise(after.text) in _TOLD:
        return True  # whatever they spell: no modality is "aware" ("MS aware")
    prev = words[j - 1] if j > 0 else None
    of = after is not None and not x.tail and normalise(after.text) == "of"  # "Informed IV of result": told of something
    return prev is not None and normalise(prev.text) in _TELL_VERBS and not prev.stop and not prev.tail \
        and (of or _initials_token(x))


_SIGN_MARKS = "/-–"
# Short lower-case words that may end a note after a dash or a full stop ("No change - ok.").
_CLAUSE_END_WORDS = _set("ok yes no nil nad neg pos see etc tbc all few low new old now due off out ago too far "
                         "bad dry wet wnl fine done")


def _signature(words: list[_Word], text: str) -> list[tuple[int, int]]:
    """The value's last word as a sign-off: two or three letters in one case or dotted capitals that
    stand alone after the last sentence ("No change. JK", "Stable. J.K.", "stable - ak") or are glued
    to a slash or a dash after a space ("Stable /JSR", "Stable -JK"). No technique word, unit,
    function word or pronoun ("... . CT"), no DICOM acronym of three capitals ("... . ECG"); in lower case
    no word that ends a note (:data:`_CLAUSE_END_WORDS`: "... - ok"). Issue 13, item 1."""
    if len(words) < 2 or text[words[-1].end:].strip() not in ("", "."):
        return []
    w, prev = words[-1], words[-2]
    core = w.text.lstrip(_SIGN_MARKS)
    glued = core != w.text and w.spaced and len(w.text) - len(core) == 1
    gap = text[prev.end: w.start]
    alone = glued or prev.tail in (".", ";") and w.initial or any(d in gap.split() for d in _SIGN_MARKS)
    if not alone or not core:
        return []
    token = _Word(w.end - len(core), w.end, core, True, False, False, True, False, False, "")
    low = core.lower()
    if glued and core.isupper() and 2 <= len(core) <= 3 and core.isalpha():
        return [(token.start, token.end)]  # "-PR", "/MM": a mark glued to capitals signs, whatever they spell
    if _lone_sign_off(core):
        return [(token.start, token.end)]
    if not _initials_token(token) or core.islower() and low in _CLAUSE_END_WORDS \
            or core.isupper() and len(core) == 3 and low in vocabulary():
        return []  # "... - ok", "Chest pain. ECG"
    return [(token.start, token.end)]


def _surname_initial(words: list[_Word], k: int) -> bool:
    """Right after a verb of checking or reading ("Checked Lewis K, ..."), a capitalised word and a
    single capital that ends the clause: a surname-first name and its initial. Issue 13, item 1."""
    if k + 1 >= len(words) or words[k - 1].stop or words[k - 1].tail:
        return False
    name, letter = words[k], words[k + 1]
    return _is_capitalised(name.text) and not name.tail and not name.stop and letter.spaced \
        and len(letter.text) == 1 and letter.text.isupper() and letter.text.isalpha() \
        and (k + 2 == len(words) or letter.tail in (",", ".", ";") or letter.stop)


def _paired_letters(words: list[_Word], j: int) -> bool:
    """Two or three letters in one case right after "<verb of reading> by", joined by "and" to initials
    ("checked by me and W.W.", "Checked by on and DG"): a pair of readers, so the first letters are
    initials too, a pronoun or function word as well. Issue 13, item 1."""
    x = words[j]
    core = x.text.rstrip(".")
    if not (core.isalpha() and 2 <= len(core) <= 3 and (core.isupper() or core.islower())) or x.tail:
        return False
    if j + 2 >= len(words) or normalise(words[j + 1].text) not in ("and", "&"):
        return False
    other = words[j + 2]
    return _dotted_initials(other.text) or _initials_token(other) and (j + 3 == len(words) or bool(other.tail))


def _lone_sign_off(core: str) -> bool:
    """Letters that stand alone after the value's last sentence or dash (see :func:`_signature`) and
    sign it whatever they spell (default deny: one lost token against a leaked person): dotted
    capitals ("L.T."), two capitals ("... . EP", "... . AN", "... . ML"), two or three lower-case
    letters but a word that ends a note ("... . fs", "... - nc"; "... - ok" stays). Three capitals
    stay when they spell a DICOM or technique acronym ("Chest pain. ECG"). Issue 13, item 1."""
    if _dotted_initials(core) and len(core.replace(".", "")) >= 2:
        return True
    letters = core.rstrip(".")
    if not (letters.isalpha() and 2 <= len(letters) <= 3 and (letters.isupper() or letters.islower())):
        return False
    low = letters.lower()
    if letters.isupper():
        return len(letters) == 2 or low not in vocabulary() and low not in _TECHNIQUE
    return low not in _CLAUSE_END_WORDS


def _initials_ranges(words: list[_Word], text: str) -> list[tuple[int, int]]:
    """Initials after a cue of :data:`_INITIAL_CUES` (the cue may end in ":") where the clause ends
    after them or a dash, "and", "today" follows; more initials after "and", "&" or "/"; dictation
    marks ("JS/ab", "ab/cd dictated"); a sign-off at the value's end (:func:`_signature`)."""
    out: list[tuple[int, int]] = _signature(words, text)
    for i, w in enumerate(words):
        nxt = words[i + 1] if i + 1 < len(words) else None
        dictated = nxt is not None and normalise(nxt.text) in _DICTATION_VERBS  # "mm/ab dictated": whatever they spell
        if _DICTATION.match(w.text) and (dictated or not any(p in _TECHNIQUE for p in w.text.lower().split("/")) and (
                w.text[0].isupper())):
            out.append((w.start, w.end))
            continue
        low = normalise(w.text).replace(" ", "")
        talk = _talk_cue(words, i)
        if _object_initials(words, i):
            out.append((w.start, w.end))
        if low in _PERSON_VERBS and _surname_initial(words, i + 1):
            out.append((words[i + 1].start, words[i + 2].end))
        if nxt is None or w.stop and w.tail != ":" or not (low in _INITIAL_CUES or low in _HONORIFICS or talk):
            continue
        j = i + 1
        strong = low in _HONORIFICS or w.tail == ":"  # "Dr SR", "Reporter: MM": whatever they spell
        person = low in _ROLE_CUES or low == "by" and i > 0 and normalise(words[i - 1].text) in _PERSON_VERBS
        while j < len(words) and (_initials_token(words[j]) or strong and j == i + 1 and _letters(words[j])
                                  or j == i + 1 and _closing_letters(words, j, text)
                                  or person and _person_letters(words[j], j == i + 1, strong, j + 1 == len(words),
                                                                low in _ROLE_CUES)
                                  or person and j == i + 1 and _paired_letters(words, j)
                                  or talk and words[j].text.islower() and _person_letters(words[j], True, False, False)
                                  or talk and _talk_capitals(words, j, _person_talk(words, i))
                                  or (talk or person and low == "by") and j == i + 1
                                  and _stranded_function_word(words, j)
                                  or low in _PERSON_HONORIFICS and j == i + 1 and _pronoun_letters(words[j])):
            x = words[j]
            after = words[j + 1] if j + 1 < len(words) else None
            gap = text[x.end: after.start] if after is not None else ""
            ends = after is None or x.stop or x.tail in (".", ",", ";", ")", ":") or "-" in gap or "/" in gap \
                or normalise(after.text) in _INITIAL_ENDS or low in _HONORIFICS
            if not ends:
                break
            out.append((x.start, x.end))
            if after is None or normalise(after.text) not in ("and", "&") and "/" not in gap and x.tail != ",":
                break
            j += 2 if normalise(after.text) in ("and", "&") else 1
    return out


def _mark_terms(words: list[_Word], all_caps: bool) -> None:
    """Clinical terms in mixed-case text, which no rule nor the classifier takes for a name:

    * title case: a run of two or more capitalised words (linked by spaces, "of", "and" and acronyms:
      "First Degree SA Block"), all known, with a DICOM vocabulary word and a common word that is no
      name ("Wandering Sinus Pacemaker", "Medical Physicist"), or of three or more with two vocabulary
      words that PS3.16 never writes capitalised ("Polymorphic Ventricular Tachycardia");
    * sentence case: a capitalised common word that is no name before a lower-case known word or a
      code ("Burst suppression", "Lead V9R").

    A name is no such run ("Mark White", "Rose Brown Green", "Grace reviewed"), nor are two words
    one of which PS3.16 only writes as a proper noun or a Latin head noun without its Latin words
    ("Vena Kowalski"), unless PS3.16 writes them so ("Frank Lead", "Left Superior Vena Cava")."""
    if all_caps:
        return
    vocab, common, capitalised = vocabulary(), _common(), _capitalised_terms()
    _mark_latin(words)
    _mark_eponyms(words)
    _mark_formed(words)
    i = 0
    while i < len(words):
        if not _is_capitalised(words[i].text):
            i += 1
            continue
        if _after_house_number(words, i):
            i = max(_term_end(words, i), i + 1)  # "998 White Crest", "347 Michael Route": a street's name
            continue
        if normalise(words[i].text).replace(" ", "") in _RELATIONS | _HONORIFICS:
            i += 1  # "Daughter Natal", "Dr Iris": a person's name follows, no term
            continue
        j = _named_part_end(words, i, _term_end(words, i))
        caps = [words[k] for k in range(i, j) if _is_capitalised(words[k].text)]
        lows = [x for x in (normalise(w.text) for w in caps) if x not in _PARTICLES and len(x) > 2]
        known = all(is_known(w.text) or w.formed for w in caps) and normalise(words[i].text) not in _PARTICLES
        in_vocab = sum(x in vocab for x in lows)
        plain = sum(x in vocab and x not in capitalised for x in lows)  # never a PS3.16 eponym nor first word
        proper = not _ps316_pairs(lows) and (
            len(caps) < 3 and any(x in _proper_nouns() for x in lows)
            or any(normalise(w.text) in _LATIN_HEADS and not w.term for w in caps))  # "Vena Kowalski"
        if known and not proper and in_vocab >= 1 and (len(caps) >= 2 and any(x in common for x in lows)
                                                       or len(caps) >= 3 and plain >= 2):
            for k in range(i, j):
                words[k].term = True
            if j < len(words) and words[j].spaced and not words[j - 1].stop and not words[j - 1].tail \
                    and _code_word(words[j].text):
                words[j].term = True  # the term's code after it: "Frank Lead M", "Derived Lead V2"
        elif known and len(caps) == 1 and lows and lows[0] in common and lows[0] not in _CUES and i + 1 < len(words) \
                and not words[i].stop and not words[i].tail and words[i + 1].spaced and not _after_person_cue(words, i) \
                and not _after_name_particle(words, i):
            nxt = words[i + 1]
            if nxt.text.islower() and is_known(nxt.text) and normalise(nxt.text) not in _NAME_VERBS \
                    or _code_word(nxt.text):
                words[i].term = True
                nxt.term = nxt.term or _code_word(nxt.text)
        i = max(j, i + 1)
    _mark_title_runs(words)


def _after_name_particle(words: list[_Word], i: int) -> bool:
    """A capitalised word after a lower-case particle of :data:`_PARTICLES` that follows another
    capitalised word, only spaces between: the last part of one name ("Mar del Plata 7600", "Rio de
    Janeiro"), no sentence-case term. Issue 13, item 1."""
    if i < 2 or not words[i].spaced or not words[i - 1].spaced:
        return False
    part, head = words[i - 1], words[i - 2]
    return (part.text.islower() and part.text in _PARTICLES and not head.stop and not head.tail
            and _is_capitalised(head.text))


def _named_part_end(words: list[_Word], i: int, j: int) -> int:
    """The end of the title-case run ``words[i:j]`` once a part of it joined by "and" that is a name is
    cut off: a part whose capitalised words are all on the name lists (none marked a term already)
    is weighed alone, so that another part's common words do not make it a term ("Please assess Mark
    White and Eye Movement": "Mark White" is masked, "Eye Movement" kept; issue 13, found by the
    eleventh session's title-case helper). A run without "and" is returned whole."""
    links = [k for k in range(i + 1, j - 1) if normalise(words[k].text) == "and"]
    if not links:
        return j
    starts, ends = [i] + [k + 1 for k in links], links + [j]
    for n, (a, b) in enumerate(zip(starts, ends, strict=True)):
        caps = [w for w in words[a:b] if _is_capitalised(w.text)]
        if caps and all(normalise(w.text) in _names() and not w.term for w in caps):
            return b if n == 0 else links[n - 1]  # the name alone first; else the run ends before its "and"
    return j


_LATERALITY = _set("left right bilateral")


def _title_word(w: _Word) -> bool:
    """A capitalised word of a title-case clinical term: no name or place of the name lists, no proper
    noun of PS3.16, no cue nor organisation word, and a known word or one of medical word formation
    ("Myotonic", "Desaturation", "Antibradycardia": :func:`_plausible` in lower case)."""
    low = normalise(w.text)
    if w.term:
        return True
    if not _is_capitalised(w.text) or not w.text.isascii() or low in _names() or low in _proper_nouns() \
            or low in _CUES or low in _RELATIONS or low in _ROLE_CUES:
        return False
    return is_known(w.text) or w.formed or _medically_formed(w.text) or _plausible(low, False)


def _named_inside(caps: list[_Word], named: list[int]) -> bool:
    """One word of a title-case run that a name list holds, also a dictionary or vocabulary word
    ("Pace", "Delta"), inside the run right after a prefixed clinical word
    (a prefix glued to a known word: "Antibradycardia", "Antitachycardia") and before a known word:
    "Ventricular Antibradycardia Pace Spike". Never first ("Grace Head Scan" may be a person), nor
    after a department's name or an adjective ("Radiology Grace Head aware", "Ventricular Grace Head")."""
    if len(named) != 1 or named[0] == 0 or named[0] == len(caps) - 1:
        return False
    k = named[0]
    x, before, after = (normalise(caps[k].text), caps[k - 1], caps[k + 1])
    low_before = normalise(before.text)
    clinical_before = low_before.isalpha() and _derived(low_before, _spelling_targets())  # the same union, built once
    return (x in _lexicon_names() or x in vocabulary()) and caps[k].text.isascii() and clinical_before \
        and not before.initial and is_known(after.text)


def _mark_title_runs(words: list[_Word]) -> None:
    """Title-case clinical terms the rules of :func:`_mark_terms` leave: a run of two or more
    capitalised words (linked by "of", "and" and acronyms) of :func:`_title_word` each, with a DICOM
    vocabulary word or a word of medical word formation ("Myotonic Discharge", "Eye Blinks",
    "Ventricular Antibradycardia"), not within two words after a person cue ("seen by Eye Blinks"),
    not after a house number, not ending in a street type unless a word of it is medically formed
    ("Oak Lane" stays a place); and a laterality after a term and a comma ("Musculus trapezius, Left").
    Title-case vocabularies (IBSI, NCIt) write their terms so. Issue 13 (title case)."""
    vocab = vocabulary()
    i = 0
    while i < len(words):
        w = words[i]
        if normalise(w.text) in _LATERALITY and _is_capitalised(w.text) and i > 0 and words[i - 1].term \
                and words[i - 1].tail == ",":
            w.term = True
        if not _is_capitalised(w.text) or _after_house_number(words, i) or _near_person_cue(words, i):
            i += 1
            continue
        j = _unknown_part_end(words, i, _term_end(words, i, _TITLE_LINKS))
        caps = [words[k] for k in range(i, j) if _is_capitalised(words[k].text)]
        lows = [normalise(x.text) for x in caps]
        formed = [x.formed or _medically_formed(x.text) for x in caps]
        named = [k for k, x in enumerate(caps) if not _title_word(x)]
        if len(caps) >= 2 and not all(x.term for x in caps) and (not named or _named_inside(caps, named)) \
                and any(low in vocab or f for low, f in zip(lows, formed, strict=True)) \
                and (lows[-1] not in STREET_WORDS or any(formed)):
            for k in range(i, j):
                words[k].term = True
        i = max(j, i + 1)


def _unknown_part_end(words: list[_Word], i: int, j: int) -> int:
    """The end of the title-case run ``words[i:j]`` once a part of it between its lower-case links
    ("with", "of", "and" ...) that holds no known, medically formed or term word is cut off: such a
    part is a name or a place no list holds, whatever term it is linked to ("90yo from Kawamata with
    Ulcerative blepharitis" kept the town: a fresh census test seed, eleventh session; issue 13,
    default deny). The run is then that part alone (weighed on its own, it is no term) or ends
    before the part's link."""
    start = i
    for k in range(i, j + 1):
        if k < j and _is_capitalised(words[k].text):
            continue
        part = [w for w in words[start:k] if _is_capitalised(w.text)]
        if part and not any(w.term or w.formed or is_known(w.text) or _medically_formed(w.text) for w in part):
            return k if start == i else start - 1
        start = k + 1
    return j


def _mark_formed(words: list[_Word]) -> None:
    """Capitalised words that medical word formation builds ("Haemopericardium", "Otorrhoea",
    "Nonorganic", "Sensorineural": :func:`_medically_formed`) and a genus before its Latin species
    epithet ("Haemophilus influenzae", "Escherichia coli": binomial nomenclature), not right after an
    honorific or a person cue: clinical terms, not names."""
    for i, w in enumerate(words):
        if w.term or not _is_capitalised(w.text) or _after_person_cue(words, i):
            continue
        if _medically_formed(w.text) and not _next_to_name(words, i):
            w.term = w.formed = True
            continue
        nxt = words[i + 1] if i + 1 < len(words) else None
        low = normalise(w.text)
        if nxt is not None and nxt.spaced and not w.stop and not w.tail and low not in _names() \
                and _GENUS.match(w.text) and _species(nxt.text):
            w.term = nxt.term = w.formed = nxt.formed = True


def _next_to_name(words: list[_Word], i: int) -> bool:
    """A capitalised neighbour in the same clause that a name list holds or no list knows ("Maria
    Singletary", "Singletary, Maria"): the word may be a surname."""
    for k in (i - 1, i + 1):
        if not 0 <= k < len(words) or words[min(i, k)].stop:
            continue
        x = words[k]
        if _is_capitalised(x.text) and not x.term and (normalise(x.text) in _names() or not is_known(x.text)):
            return True
    return False


# A genus as binomial nomenclature writes it: one capitalised Latin word ("Haemophilus", "Escherichia").
_GENUS = re.compile(r"^[A-Z][a-z]{4,}(?:us|um|a|is|es|ax|ix)$")


def _species(text: str) -> bool:
    """A Latin species epithet: lower case, a Latin ending, no English word ("influenzae",
    "coli", "jirovecii"; not "area", "data", "via")."""
    low = text.lower()
    return len(low) >= 4 and _latin_word(text) and low not in _common() and low not in _lexicon()


# Endings a long capitalised word built by medical word formation has ("Sensorineural", "Choroidal",
# "Haemophilus"); -ia, -is, -ion, -ica are left out (given names and places: "Anastasia", "Francis",
# "Marion", "Splavnica").
_FORMED_ENDINGS = tuple(sorted(_set("al ial ical ic ous ary oid ism ae ii us um itis osis oma ema alis aris "
                                    "ensis tic ive ity"), key=len, reverse=True))  # no -ica: "Splavnica" is a place
_NAME_ENDINGS = ("thal", "stein", "mann", "berg", "burg", "baum", "haus", "aitis", "nitis", "field", "ing")


def _medically_formed(word: str) -> bool:
    """A word (any case) of medical word formation that no name list holds: a combining form and a
    known word ("Haemopericardium", "Nonorganic") or a suffix of :data:`_MED_SUFFIXES` ("Otorrhoea"),
    a stem and such a suffix, or a word of nine letters or more with an ending of
    :data:`_FORMED_ENDINGS` ("Sensorineural"). A name of the name list or with a Slavic or a German
    surname ending is none."""
    low = word.lower()
    if not (low.isascii() and low.isalpha()) or low in _names() or _SLAVIC_ENDING.search(low) \
            or low.endswith(_NAME_ENDINGS):
        return False
    for q in dict.fromkeys((low, _american(low))):
        if _medical_form(q) or len(q) >= 9 and q.endswith(_FORMED_ENDINGS):
            return True
        for k in range(2, min(len(q) - 3, 9)):
            rest = q[k:]
            if k >= 3 and q[:k] in _COMBINING and (len(rest) >= 5 and _word_known(rest, _spelling_targets())
                                        or rest in _MED_SUFFIXES):
                return True
    return False


def _after_person_cue(words: list[_Word], i: int) -> bool:
    """Right after an honorific or a person cue (not "with", "pt", "patient"), only a space between:
    a name may stand there ("wife Wynn is NOK")."""
    if i == 0 or words[i - 1].stop or words[i - 1].tail or not words[i].spaced:
        return False
    low = normalise(words[i - 1].text).replace(" ", "")
    return low in _HONORIFICS or low in _PERSON_CUES - _EPONYM_CUES


def _after_house_number(words: list[_Word], i: int) -> bool:
    """Right after a house number of two to five digits (a letter may follow) that opens a clause or
    follows a place cue, only a space between, not before a unit or a duration: the capitalised words
    there name a street ("daughter, 998 White Crest"; "Grade 12 Wandering Sinus Pacemaker" stays a term)."""
    if i == 0 or not words[i].spaced or words[i - 1].stop or words[i - 1].tail:
        return False
    num = words[i - 1].text
    opens = i == 1 or words[i - 2].stop or words[i - 2].tail == "," or normalise(words[i - 2].text) in _PLACE_CUES
    return opens and bool(_HOUSE_NUMBER.match(num)) and sum(c.isdigit() for c in num) >= 2 and (
        normalise(words[i].text) not in _DURATION | _UCUM_WORDS | _TECHNIQUE or _street_type_follows(words, i))


def _street_type_follows(words: list[_Word], i: int) -> bool:
    """From ``words[i]`` on, one to three capitalised words of one clause and then a street type written
    as a word ("Corner", "Rd"; not "CT"): the words name a street even when one of them is a unit or a
    technique ("51 Dixon Corner", "at 12 Echo Lane"). Issue 13, item 1."""
    for k in range(i, min(i + 4, len(words))):
        w = words[k]
        core = w.text.rstrip(".,;:")
        if k > i and (not w.spaced or not _is_capitalised(core)):
            return False
        if k > i and not core.isupper() and normalise(core) in STREET_WORDS:
            return True
        if w.stop or w.tail:
            return False  # the clause ends before a street type
    return False


# Head nouns of eponymous terms ("Parkinson disease", "Bell palsy", "Colles fracture", "Apgar score"):
# a capitalised word right before one names a disease, sign, test or structure, not a person.
_EPONYM_HEADS = _set("""
disease diseases syndrome syndromes palsy fracture fractures sign signs test tests procedure procedures
score scores scale scales classification criteria grade grading stage staging index sarcoma lymphoma tumour
tumor tumours tumors carcinoma cyst cysts gland glands duct ducts node nodes nodule nodules space canal
triangle line lines ligament fascia pouch diverticulum body bodies cell cells phenomenon reflex reflexes
manoeuvre maneuver operation repair technique method position view projection anomaly malformation
deformity ulcer ulcers disorder neuralgia dystrophy myopathy anaemia anemia ataxia chorea encephalopathy
encephalitis arthritis fever infection infections aneurysm hernia angle law effect murmur rhythm block
paralysis neuropathy lesion lesions sclerosis thyroiditis ophthalmopathy granulomatosis angina
""")


def _mark_eponyms(words: list[_Word]) -> None:
    """An eponym: one capitalised word (hyphenated or a possessive: "Guillain-Barré", "Hodgkin's")
    right before a head noun of :data:`_EPONYM_HEADS`, only a space between ("Crohn disease", "Bell
    palsy", "Colles fracture"). A clinical term, not a name, unless a name may stand there: after an
    honorific or a person cue ("Dr Bell test", "by Fisher test"; "with" aside: "pt with Crohn
    disease") or after another capitalised word ("John Smith disease")."""
    for j in range(1, len(words)):
        head, w = words[j], words[j - 1]
        # a lower-case disease or procedure word of medical word formation is a head too ("Brucella
        # spondylitis", "Waldenström macroglobulinaemia"), not after "pt" or "patient" ("Pt Kowalski nephropathy")
        formed = head.text.islower() and _medical_form(normalise(head.text)) and not (
            j >= 2 and normalise(words[j - 2].text) in _EPONYM_CUES - {"with"}) \
            and normalise(w.text) not in _names()  # "Smith arthritis" is a person's
        if normalise(head.text).replace(" ", "") not in _EPONYM_HEADS and not formed or not head.spaced \
                or w.stop or w.tail:
            continue
        if not (_is_capitalised(w.text) or _POSSESSIVE.match(w.text)) or normalise(w.text) in _FUNCTION:
            continue
        if j >= 2 and not words[j - 2].stop and not words[j - 2].tail:
            before = normalise(words[j - 2].text).replace(" ", "")
            plain_word = before not in _names() and all(p in _allow() for p in before.split() if p) \
                or "-" in words[j - 2].text and is_known(words[j - 2].text)  # "Other Vincent", "Adult-onset Still"
            if before in _HONORIFICS or before in _PERSON_CUES - _EPONYM_CUES or (
                    _is_capitalised(words[j - 2].text) and not words[j - 2].initial and not words[j - 2].term
                    and not plain_word):
                continue
        w.term = head.term = True


_EPONYM_CUES = _set("with pt patient")
_POSSESSIVE = re.compile(r"^[A-Z][^\W\d_]+(?:-[A-Z][^\W\d_]+)*['’]s?$")


def _mark_latin(words: list[_Word]) -> None:
    """A Latin anatomical name: a capitalised head noun and the lower-case Latin words after it
    ("Musculus pterygoideus lateralis", "Vena cava"; Terminologia Anatomica writes the adjectives after
    the head). A head noun with no Latin word after it is no term ("Patient Vena Kowalski"), and the
    term ends at the first word that is not Latin-looking ("Vena cava filter placed by ...")."""
    for i, w in enumerate(words):
        if not ((_is_capitalised(w.text) or w.text.islower()) and normalise(w.text) in _LATIN_HEADS
                and len(w.text) >= 4):  # "musculus", not "os"
            continue
        titled = not _near_person_cue(words, i)  # "Dr Vena Rossi": a name, whatever its endings
        k = i
        while not words[k].stop and not words[k].tail and k + 1 < len(words) and words[k + 1].spaced \
                and (_latin_word(words[k + 1].text) or k == i and _LATIN_CAPITAL.match(words[k + 1].text)
                     or titled and _latin_title_word(words[k + 1].text, named=k > i and _named_latin(words, k + 1))):
            k += 1
        if k > i:
            for x in words[i: k + 1]:
                x.term = True


# Endings of Latin nouns and adjectives in anatomical names ("brachii", "interna", "profundus",
# "lateralis", "anterius", "biceps", "magnum", "sacrales").
_LATIN_ENDING = re.compile(r"^[a-z]{2,}(?:us|um|a|ae|i|is|es|ium|orum|arum|ior|ens|ans|ex|ix|ps|or|os|er|ale|are|ile|as)"
                           r"(?:que)?$")  # "sphincter", "laterale", "alaeque" (the enclitic "-que": "and")


# A capitalised Latin adjective right after the head ("Musculus Pterygoideus lateralis"): long, with
# an ending names rarely have.
_LATIN_CAPITAL = re.compile(r"^[A-Z][a-z]{5,}(?:eus|ius|ium|um|ae|ii|orum|alis|aris|ensis)$")
_NOT_LATIN = _set("this his thus plus via area idea data extra also various previous serious obvious")


def _named_latin(words: list[_Word], k: int) -> bool:
    """A name-list word may go on a title-case Latin name only as a DICOM vocabulary word ("Teres
    Minor", "Zygomaticus Major") or before another Latin word that is no name ("Extensor Carpi
    Radialis"); "Musculus Teres Maria reviewed" ends before "Maria"."""
    low = normalise(words[k].text)
    if low not in _names() or low in vocabulary():
        return True
    nxt = words[k + 1] if k + 1 < len(words) else None
    return nxt is not None and nxt.spaced and not words[k].stop and not words[k].tail \
        and _latin_title_word(nxt.text)


def _latin_title_word(text: str, named: bool = False) -> bool:
    """A Latin word of an anatomical name written in title case after its head noun ("Musculus
    Extensor Carpi Radialis", "Nervus Cutaneus Antebrachii", "Venter Posterior"; title-case
    vocabularies capitalise every word): capitalised, four letters or more, a Latin ending, and no
    name ("Maria", "Rossi") nor a Slavic surname ending ("Kowalski"). ``named`` (not right after the
    head: "Musculus Teres Minor", "Extensor Carpi Radialis"): a name-list word too, the term having
    begun with a Latin word. Issue 13 (title case)."""
    low = normalise(text)
    return (_is_capitalised(text) and text.isascii() and len(low) >= 4 and bool(_LATIN_ENDING.match(low))
            and (named or low not in _names()) and not _SLAVIC_ENDING.search(low) and low not in _CUES
            and low not in _NOT_LATIN)


# Words before a name: honorifics, person cues, relations, addressing, roles and verbs of reading
# and reporting ("Dr", "by", "wife", "attn", "tech", "seen"), whatever the punctuation after them.
_NAME_BEFORE = _HONORIFICS | _PERSON_CUES | _RELATIONS | _ADDRESSING | _ROLE_CUES | _PERSON_VERBS


def _near_person_cue(words: list[_Word], i: int) -> bool:
    """One of the two words before ``words[i]`` is a person cue of :data:`_NAME_BEFORE` ("Dr Vena
    Rossi", "seen by: Delta Wave"): a name may stand there, so no title-case rule reads it as a term."""
    for k in range(i - 1, max(-1, i - 3), -1):
        if words[k].stop:
            return False  # the clause ends before the word: "pt supine. Musculus ..."
        if normalise(words[k].text).replace(" ", "") in _NAME_BEFORE:
            return True
    return False


def _latin_word(text: str) -> bool:
    """A lower-case word that looks Latin and is no cue or function word ("via", "for", "this"); a
    person's or a place's name, capitalised, ends the term."""
    low = normalise(text)
    return bool(_LATIN_ENDING.match(text)) and low not in _CUES and low not in _NOT_LATIN


# Lower-case words that title case writes between the capitalised words of one term ("Fracture of
# Femur with Displacement", "Neoplasm without Metastasis"): links of a title-case run
# (:func:`_mark_title_runs`); "by", "at" and "from" are no links (person and place cues).
_TITLE_LINKS = ("of", "and", "or", "in", "with", "without", "to", "the", "for", "on", "due")


def _term_end(words: list[_Word], i: int, links: tuple[str, ...] = ("of", "and")) -> int:
    """The end of a run of capitalised words from ``i`` linked by spaces, ``links`` ("of", "and") and
    acronyms."""
    j = i + 1
    while j < len(words) and not words[j - 1].stop and not words[j - 1].tail and words[j].spaced:
        w = words[j]
        link = normalise(w.text) in links or _code_word(w.text) and w.text.isupper()
        if not _is_capitalised(w.text) and not (link and j + 1 < len(words) and words[j + 1].spaced
                                                and _is_capitalised(words[j + 1].text)
                                                and (j - i > 1 or not words[i].initial)):
            break
        j += 1
    return j


_MIXED_ACRONYM = re.compile(r"^[A-Z]{2,4}[a-z]?\d{0,2}$")  # "QTc", "POz", "CPz", "FC3"


def _code_word(w: str) -> bool:
    """A code: an acronym of up to four capitals ("SA", "VF"), with a lower-case letter or digits
    ("QTc", "POz", "V9R", "T2"), or one capital ("Lead Y")."""
    return bool(_MIXED_ACRONYM.match(w) or len(w) == 1 and w.isupper()
                or 0 < sum(c.isdigit() for c in w) < 5 and w.isalnum() and len(w) <= 6)


def _clinical_head(run: list[_Word], nxt: list[_Word]) -> bool:
    """After a cue that is not an honorific, a capitalised word that starts a clinical term: in a
    title-case term, a Latin head noun, or one DICOM vocabulary word before lower-case words
    ("compare with Time skew", "with Musculus gracilis"): no name."""
    first = normalise(run[0].text)
    if run[0].term:
        return True
    after = nxt[1] if len(nxt) > 1 else None
    return (len(run) == 1 and first in vocabulary() and after is not None and after.spaced
            and (after.text.islower() and is_known(after.text) or after.text.isdigit()))


def _measurement(run: list[_Word]) -> bool:
    """A number and its unit after "at": "at 40 ms into ST segment" is no house number."""
    return len(run) > 1 and run[0].text.replace(".", "").isdigit() and (
        normalise(run[1].text) in _TECHNIQUE or normalise(run[1].text) in _UCUM_WORDS) \
        and not _street_type_follows(run, 1)


def _surname_comma_given(run: list[_Word]) -> bool:
    """"DROZ, Vanessa": a surname in capitals, a comma and an unknown capitalised given name."""
    return (len(run) > 1 and run[0].text.isupper() and run[0].tail == "," and _is_capitalised(run[1].text)
            and not is_known(run[1].text))


def _initial_then_name(run: list[_Word]) -> bool:
    """A given-name initial and a capitalised word: "C. Brown" (the surname may be a common word)."""
    return len(run) > 1 and len(run[0].text) == 1 and run[0].text.isupper() and _is_capitalised(run[1].text)


# Verbs of talking to someone: the initials after "<verb> with" are a person's ("checked with ab.").
_TALK_VERBS = _set("checked discussed confirmed agreed spoke spoken talked liaised consulted conferred "
                   "reviewed verified")


def _caps_name(run: list[_Word], all_caps: bool) -> bool:
    """In mixed case after a person cue, two or more words in capitals with one that is not known:
    a name written in capitals ("by KRIS DIALLO"; "KRIS" alone reads as an acronym)."""
    caps = [w for w in run if w.text.isupper() and _alpha(w.text)]
    return not all_caps and len(caps) >= 2 and caps[0] is run[0] and (any(
        not is_known(w.text) and normalise(w.text) not in _TECHNIQUE for w in caps) or all(
        len(w.text) >= 3 and normalise(w.text) not in _TECHNIQUE for w in caps) and any(
        normalise(w.text) not in vocabulary() for w in caps))  # "Pt TONY MILLER": words, no technique word


def _home_number(words: list[_Word], i: int, run: list[_Word]) -> bool:
    """After "lives at" (a residence word up to three words before the place cue), a street name and
    a house number in either order: "lives alone at Male 29" (the street a common word)."""
    if not any(normalise(x.text) in _RESIDENCE for x in words[max(0, i - 3): i]):
        return False
    numbers = [k for k, x in enumerate(run) if _HOUSE_NUMBER.match(x.text.rstrip(",")) and k > 0]
    return bool(numbers) and all(_alpha(x.text) for x in run[:numbers[0]])


def _clinical_run(run: list[_Word]) -> bool:
    """After "with", capitalised words that are all clinical vocabulary, with one that is no common word
    ("Sinus Bradycardia", "Compactness", "Eye-related"), or a Latin or title-case term: a term more
    often than a person; the learned scorer decides ("Mark White" are common words: the rule stays)."""
    if run[0].term:
        return True
    caps = [w for w in run if _is_capitalised(w.text)]
    vocab = _lower_vocabulary()  # written in lower case in PS3.16: no eponym, no name's first word
    return bool(caps) and all(_known(w.text, vocab) or _derived(normalise(w.text), _allow()) for w in run) and any(
        normalise(w.text) not in _common() and len(w.text) >= 6 for w in caps)


def _term_start(words: list[_Word], i: int) -> bool:
    """A capitalised word that PS3.16 writes first in a sentence-case meaning ("Supraventricular
    tachycardia") and that the term goes on after: a lower-case clinical word follows in the same
    clause ("now Supraventricular escape beat"). Some are names too ("Frank lead system"), so inside a
    sentence the learned scorer, not the capital, decides; alone ("Per Caldwell,", "Brittany aware")
    the capitalised-word rule masks it."""
    w = words[i]
    if len(w.text) < 4 or normalise(w.text) not in _sentence_first() or w.stop or w.tail:
        return False
    nxt = words[i + 1] if i + 1 < len(words) else None
    return (nxt is not None and nxt.spaced and nxt.text.islower() and is_clinical(nxt.text)
            and normalise(nxt.text) not in _CUES and normalise(nxt.text) not in _PRONOUNS)


def _capital_name(words: list[_Word], i: int, scored: bool) -> bool:
    """A capitalised word (mixed-case text, no term) that the rules take for a name: first in a sentence,
    one that is no known word; inside a sentence, one that is no DICOM vocabulary or technique word,
    or that is one but also a name ("Iris", "Carina", "White", "Major"), unless (with a scorer) a
    clinical term starts there: the term goes on in lower-case clinical words after it ("Iris
    coloboma", "Rheumatoid vasculitis", "Sequelae of injury")."""
    w = words[i]
    low = normalise(w.text)
    if low in _LATIN_HEADS:
        return True
    if w.initial:  # a name that is only a vocabulary word ("Iris", "Carina"), not a common one ("White")
        nxt = words[i + 1] if i + 1 < len(words) else None
        odd_name = low in _names() and (low not in _lexicon_names() or nxt is not None and not w.stop and (
            normalise(nxt.text) in _NAME_VERBS or normalise(nxt.text).endswith("ed")))  # "Rose to review", "Iris informed"
        return (odd_name or not _known(w.text, _allow_initial())) and not (scored and _term_opens(words, i, strict=True))
    if _known(w.text, _clinical_lower()) and low not in _names():
        return False
    if low in _names():  # "Iris coloboma" goes on as a term; "Iris informed" is a person
        return not (scored and _term_opens(words, i))
    return not (scored and (_term_start(words, i) or _term_opens(words, i)))


_TERM_LINKS = _set("of in and or due with without to")
# Words that follow a person's name more often than a term's head noun ("Iris aware", "Rose says").
_NAME_VERBS = _set("aware says said says asks asked wants will would may can to is was has had and or also notes "
                   "agrees agreed happy unable present absent away here there today tomorrow yesterday")


def _term_opens(words: list[_Word], i: int, strict: bool = False) -> bool:
    """Inside a sentence, a capitalised word that opens a sentence-case clinical term: a dictionary,
    vocabulary or medical-looking word (not a name, unless the DICOM vocabulary has it) right before
    a lower-case clinical word, or before "of", "in", "and" ... and one ("Sequelae of injury",
    "Dementia in Alzheimer disease"). ``strict`` (first in a sentence, after a place cue): only a
    clinical word after it, no other known word ("from Sandwich village")."""
    w = words[i]
    low = normalise(w.text).replace(" ", "")
    if len(low) < 4 or w.stop or w.tail or not w.text.isascii() or low in _CUES or low in _proper_nouns():
        return False
    named = low in _names()
    if named and not _known(w.text, _clinical_lower()):
        return False
    plain = not named and not _word_known(low, _lexicon_vocabulary())  # a common word only ("Loop")
    if plain and not _word_known(low, _common()):
        return False  # a capitalised word no list holds stays a name (default deny)
    strict = strict or plain
    k = i + 1
    if k + 1 < len(words) and words[k].spaced and not words[k].stop and not words[k].tail and not named \
            and normalise(words[k].text) in _TERM_LINKS and words[k + 1].spaced and words[k + 1].term \
            and _is_capitalised(words[k + 1].text):
        return True  # a link and an eponym before its head noun: "Dementia in Alzheimer disease"
    coordinated = False
    if k < len(words) and words[k].spaced and not words[k].stop and not words[k].tail \
            and normalise(words[k].text) in _TERM_LINKS:
        if not named and not strict:
            k += 1
        elif not named and _coordinated_term(words, i):  # "James and chest pain": a name stays a name
            k += 1
            coordinated = True
    nxt = words[k] if k < len(words) else None
    if nxt is None or not nxt.spaced or not nxt.text.islower() or normalise(nxt.text) in _CUES | _PRONOUNS:
        return False
    after = normalise(nxt.text)
    if _medical_form(after):
        return True
    if named or strict:  # "Iris informed", "in Sharpness with": a verb or a common word goes with a name
        if coordinated:  # "Unknown and unspecified causes", not "Rose and informed of ...": a word in
            # -ed or -ing is an adjective of the term only before a clinical noun
            if after.endswith(("ed", "ing")):
                noun = words[k + 1] if k + 1 < len(words) and not nxt.stop and not nxt.tail else None
                if noun is None or not noun.spaced or not noun.text.islower() or not is_clinical(noun.text) \
                        or normalise(noun.text) in _CUES | _TERM_LINKS:
                    return False
            return (is_clinical(nxt.text) or _word_known(after, _lexicon_vocabulary())) and after not in _NAME_VERBS
        return is_clinical(nxt.text) and not after.endswith(("ed", "ing")) and after not in _NAME_VERBS
    return is_known(nxt.text) or _plausible(nxt.text)


# Words after "<capitalised word> and" that make it a person ("Rose and family"), not a term.
_PEOPLE_WORDS = _RELATIONS | _set("family families children child parents parent relatives staff team colleagues")


def _coordinated_term(words: list[_Word], i: int) -> bool:
    """``words[i]`` (a known capitalised word on no name list) and "and"/"or" open a coordinated
    sentence-case term ("Drowning and submersion", "Spikes and waves"): a clinical word
    in lower case follows the link (the caller checks it), none of the people words of
    :data:`_PEOPLE_WORDS` ("Rose and family"), and no person cue nor place cue stands before
    ("from Reading and ...", "Dr Rose and ..."), except "of" after a finding word ("Background of
    Neglect and ..."). Issue 13, item 2."""
    link, nxt = words[i + 1], words[i + 2] if i + 2 < len(words) else None
    if normalise(link.text) not in ("and", "or") or nxt is None or normalise(nxt.text) in _PEOPLE_WORDS:
        return False
    if _near_person_cue(words, i):
        return False
    prev = normalise(words[i - 1].text) if i > 0 and not words[i - 1].stop and not words[i].initial else ""
    if prev == "of":
        before = normalise(words[i - 2].text) if i > 1 else ""
        return before in _FINDING_WORDS or is_clinical(words[i - 2].text) and i > 1 and not words[i - 2].stop
    return prev not in _PLACE_CUES


def _rule_ranges(words: list[_Word], all_caps: bool, scored: bool = False) -> list[tuple[int, int]]:
    """Names after honorifics and relation words, organisations, places, capitalised unknown words.
    ``scored``: a learned scorer looks at the words the rules leave (see :func:`_term_start`)."""
    out: list[tuple[int, int]] = []
    for i, w in enumerate(words):
        low = normalise(w.text).replace(" ", "")
        nxt = words[i + 1: i + 4]
        if all_caps and low in _RESIDENCE and nxt and normalise(nxt[0].text) in _PLACE_CUES:
            run = _clause(words[i + 2: i + 6])  # in capitals a town of common words ("BAD HALL") has no signal
            if run:
                out.append((run[0].start, run[-1].end))
        elif low in _HONORIFICS or low in _PERSON_CUES:
            talk = low == "with" and i > 0 and normalise(words[i - 1].text) in _TALK_VERBS and bool(nxt) \
                and normalise(nxt[0].text) not in _PRONOUNS | _FUNCTION | _PERSON_CUES
            if nxt and _initials(nxt[0], w.tail == ":" or talk, i + 2 == len(words)):
                out.append((nxt[0].start, nxt[0].end))
                continue
            run = _run(nxt, all_caps)
            if run and low not in _HONORIFICS and (_clinical_head(run, nxt) or _eponym_term_run(run, words)):
                continue
            if run and low == "with" and not talk and scored and not all_caps and _clinical_run(run):
                continue  # "compare with Sinus Bradycardia on prior": the scorer decides
            if all_caps and low != "with":
                run = _caps_name_run(nxt)
            if run and (low in _HONORIFICS or not is_known(run[0].text) or _is_capitalised(run[0].text)
                        or all_caps and low != "with" or _initial_then_name(run) or _surname_comma_given(run)
                        or _caps_name(run, all_caps)):
                out.append((run[0].start, run[-1].end))
        elif low in _PLACE_CUES:
            run = _place_run(words[i + 1: i + 9], all_caps)
            if run and _home_number(words, i, run):
                out.append((run[0].start, run[-1].end))
                continue
            if run and (_measurement(run) or not _street(run, all_caps) and all(x.term for x in run if _alpha(x.text))
                        and (_vocabulary_term(run, words) or any(x.formed for x in run) or _finding_of(words, i, run))):
                continue
            if scored and len(run) == 1 and _is_capitalised(run[0].text) and _term_opens(words, i + 1, strict=True):
                continue  # "Hx of Haemophilus meningitis": a sentence-case term, not a place
            if run and not _street(run, all_caps) and _eponym_term_run(run, words):
                continue  # "Hx of Dementia in Alzheimer disease"
            if run and (_street(run, all_caps) or not all(is_clinical(x.text) for x in run if _alpha(x.text))):
                out.append((run[0].start, run[-1].end))
        weak = low in _WEAK_ORG_WORDS and i > 0 and not is_known(words[i - 1].text, False)
        if (low in _ORG_WORDS or weak) and (_is_capitalised(w.text) or w.text.isupper()):
            start = i
            while start > 0 and i - start < 4 and not words[start - 1].stop and (
                    _is_capitalised(words[start - 1].text) or
                    all_caps and normalise(words[start - 1].text) not in _FUNCTION or
                                 normalise(words[start - 1].text) in ("of", "de", "du", "des", "di")):
                start -= 1
            end = i
            while end + 1 < len(words) and not words[end].stop and (
                    _is_capitalised(words[end + 1].text) or
                    normalise(words[end + 1].text) in _ORG_WORDS | _WEAK_ORG_WORDS or
                    all_caps and not is_known(words[end + 1].text) or
                                            normalise(words[end + 1].text) in ("of", "de", "di")):
                end += 1
            if start < i or end > i:
                out.append((words[start].start, words[end].end))
        if low in _ID_LABELS and i > 0 and (w.bracket or words[i - 1].tail == ","):
            out += _name_before_label(words, i)  # "Host (DOB 1939-05-01)", "E. Glass, MRN 123"
        if len(w.text) == 1 and w.text.isupper() and w.abbreviation and i + 1 < len(words) and not w.tail.strip("."):
            nxt1 = words[i + 1]
            if _is_capitalised(nxt1.text) and not nxt1.term and (
                    normalise(nxt1.text) in _names() or not is_known(nxt1.text)):
                out.append((w.start, nxt1.end))  # a given-name initial and a surname: "E. Glass"
        if _PN.match(w.text) and sum(_is_capitalised(c) or c.isupper() for c in w.text.split("^") if c) >= 2:
            out.append((w.start, w.end))  # a person name in DICOM PN form (PS3.5 6.2): "Smith^Frank^^Mrs"
        if not all_caps and _is_capitalised(w.text) and not w.term and _capital_name(words, i, scored):
            out.append((w.start, w.end))  # a capitalised word that is not a lower-case word: a name
    return out


def _eponym_term_run(run: list[_Word], words: list[_Word]) -> bool:
    """After a cue, a sentence-case term that ends in an eponym before its head noun (marked by
    :func:`_mark_eponyms`): "of Dementia in Alzheimer disease", "with Other Vincent infections", "of
    Abscess of Bartholin gland". Every other word is a term word, a lower-case link ("in", "of") or a
    capitalised known word that no name list holds and no cue is ("Rose Parkinson disease" stays a
    name)."""
    alpha = [x for x in run if _alpha(x.text)]
    if len(alpha) < 2 or not alpha[-1].term or not _is_capitalised(alpha[-1].text):
        return False
    end = next(k for k, x in enumerate(words) if x is run[-1])
    head = words[end + 1] if end + 1 < len(words) else None
    if head is None or not head.term or not head.text.islower() or alpha[-1] is not run[-1]:
        return False  # the eponym's head noun follows the run: "... Alzheimer disease"
    for x in alpha[:-1]:
        low = normalise(x.text).replace(" ", "")
        if x.term or x.text.islower() and low in _TERM_LINKS:
            continue
        if not (_is_capitalised(x.text) and is_known(x.text) and low not in _names() and low not in _CUES
                and not any(p in _names() for p in low.split())):
            return False
    return True


_ID_LABELS = _set("dob mrn nhs urn")


def _name_before_label(words: list[_Word], i: int) -> list[tuple[int, int]]:
    """The person's name right before a bracketed or comma-separated date of birth or record number
    label: up to three capitalised words or initials in the same sentence ("Host (DOB ...)",
    "E. Glass (DOB ...)"); technique words and terms end it."""
    k = i - 1
    while k >= 0 and i - 1 - k < 3:
        x = words[k]
        low = normalise(x.text).replace(" ", "")
        shaped = _is_capitalised(x.text) or len(x.text) == 1 and x.text.isupper() or x.text.isupper() and x.text.isalpha()
        if not shaped or x.term or low in _TECHNIQUE or low in _CUES or (k < i - 1 and x.stop and not x.abbreviation):
            break
        k -= 1
    return [(words[k + 1].start, words[i - 1].end)] if k < i - 1 else []


_STREET_PREFIXES = _set("rue via viale piazza calle avenida paseo carrer rua travessa praca plaza chemin "
                             "allee impasse quai place ul al pl os ulica aleja rynek")
# Company forms, family-business words and post-nominal titles that follow a name.
_SUFFIX_TOKENS = _set("ab bv nv sp spj spk z o oo zoo scoop scom sc ei me mba phd md msc bsc ing fils sons son syn "
                      "hijos figli sohne sohn co kg gmbh ag ltd inc llc plc sa sas srl spa oy hb asa as aps "
                      "bt kft zrt nyrt kkt sro vos pfa snc oyj ky tmi ans lda sti cv sapi ohg kg eg "
                      "asociados associates partners group groep gruppe grupa i et and y e und &")
_FUNCTION = _set("at from by of in to for with and or the a an on")
_PARTICLES = _set("de da di do dos das del della la le les du van von der den & y e am im an sur "
                  "og och ja és ve și и")  # "and" inside a firm's name: "Jensen og Sønner", "Kaya ve Oğulları"
# Unit designators of an address (building, floor, apartment, in the languages of the templates and
# beyond): the number after one belongs to the address it follows ("Calle X 14, Edif. 2, Depto. 9").
_UNIT_WORDS = _set("apt apartment suite ste unit flat floor fl room rm bldg building blk block edif edificio "
                   "depto dpto departamento apto apartamento piso int interior bloco bloque lote casa torre "
                   "esc escalera puerta pta porta etage etg batiment bat whg wohnung stiege tur lgh lejl "
                   "leil asunto as kat daire blok ap app appt appartement scala interno ul lok")


# A number sign before a house number: "N° 12", "Nº 3", "No. 7", "Nr 4", "#"
_NUMBER_SIGN = re.compile(r"^(?:[Nn][°º]|N[Oo]\.?|[Nn][Rr]\.?|#)$")
# A house number as written before a street: "12", "12a", "12-14", "262/287" (unit/house), "1/3"
_HOUSE_NUMBER = re.compile(r"^\d{1,5}[A-Za-z]?(?:[/-]\d{1,5}[A-Za-z]?|-[A-Z])?/?$")  # "4913-I", "429/" (an empty unit part)


# Words before "of" that introduce a finding, not a place ("Hx of", "history of", "background of").
_FINDING_WORDS = _set("hx history background evidence signs sign features feature symptoms symptom suspicion "
                      "diagnosis dx ddx episode episodes findings finding degree known presence")


def _finding_of(words: list[_Word], i: int, run: list[_Word]) -> bool:
    """"of" (``words[i]``) right after a word of :data:`_FINDING_WORDS` in the same clause: what follows
    is a finding, not a place ("Hx of Heat Lamp", "Background of Corticospinal Tract"), when the run
    after it is a term as a whole (:func:`_mark_terms`, checked by the caller) and none of its words
    is a name or a place of the name list ("Background of Leeds General" stays a place; the common
    words hold towns). Issue 13, item 1."""
    if i == 0 or normalise(words[i].text) != "of" or words[i - 1].stop or words[i - 1].tail:
        return False
    if any(p in _names() for x in run if _alpha(x.text) for p in normalise(x.text).split()):
        return False
    return normalise(words[i - 1].text).replace(" ", "") in _FINDING_WORDS


def _vocabulary_term(run: list[_Word], words: list[_Word]) -> bool:
    """After a place cue, a term only of DICOM vocabulary, technique words and codes, or as PS3.16 writes
    it: the common-word list holds towns ("from Leeds General" is a place)."""
    alpha = [x for x in run if _alpha(x.text)]
    end = next((k for k, x in enumerate(words) if x is run[-1]), len(words) - 1)
    after = words[end: end + 2]
    if sum(_is_capitalised(x.text) for x in alpha) >= 3 or any(
            normalise(x.text).replace(" ", "") in _EPONYM_HEADS for x in [*alpha, *after]):
        return True  # "of Wandering Sinus Pacemaker", "of Parkinson disease" (see _mark_eponyms)
    lows = [normalise(x.text) for x in alpha]
    return _ps316_pairs(lows) or all(x in vocabulary() or x in _TECHNIQUE or x in _FUNCTION or _code_word(w.text)
                                     for x, w in zip(lows, [x for x in run if _alpha(x.text)], strict=True))


def _street(run: list[_Word], all_caps: bool) -> bool:
    """A place run that is a street address whatever its words: a house number and a capitalised word
    after it ("at 262/287 Woods Access": street names are often common words), or in capitals a
    number that only an address has ("12/3", "12-14", "12a"; "AT 3 WEEKS" stays clinical)."""
    if len(run) >= 3 and _designator(run, 0):
        return True  # "Unit 88 50 Frank Corner", "H.No. 797, Nigam Chowk"
    if len(run) < 2 or not _HOUSE_NUMBER.match(run[0].text):
        return False
    if all_caps:  # or a street word after the number: "AT 3375 RUE GUY"
        return _alpha(run[1].text) and (not run[0].text.isdigit() or any(
            normalise(x.text) in _STREET_PREFIXES or normalise(x.text) in STREET_WORDS for x in run[1:]))
    return _is_capitalised(run[1].text) or _capitals_street(run)


def _capitals_street(run: list[_Word]) -> bool:
    """In mixed case, a house number of two or more digits and two or more words in capitals of one
    clause after it, one of them a street word or no known word: a street written as an address label
    ("from 2706 SUPA EXTENSION, ..."); "at 12 CT SCANS" has no such word. Issue 13, item 1."""
    if sum(c.isdigit() for c in run[0].text) < 2:
        return False
    caps: list[_Word] = []
    for x in run[1:]:
        if not (x.text.isupper() and x.text.isalpha() and len(x.text) >= 3):
            break
        caps.append(x)
        if x.stop or x.tail:
            break
    return len(caps) >= 2 and any(not is_known(x.text, False) or normalise(x.text) in STREET_WORDS | _STREET_PREFIXES
                                  for x in caps)


def _place_run(words: list[_Word], all_caps: bool) -> list[_Word]:
    """A place after "at", "from", "in" ...: a unit designator and its number ("Unit 88", "H.No. 797"),
    house numbers, street words and capitalised words (in capitals: words that are not known) up to a
    clause end, across short lower-case words inside the name ("Eje vial Campeche")."""
    run: list[_Word] = []
    for k, w in enumerate(words):
        low = w.text.lower().rstrip(".")
        particle = low in _PARTICLES and bool(run)
        digits = any(c.isdigit() for c in w.text)
        if all_caps:  # a known word with a house number after it ends the street's name ("TIE 967")
            name = not is_known(w.text, False) or low in _STREET_PREFIXES or bool(run) and not w.stop and (
                k + 1 < len(words) and _HOUSE_NUMBER.match(words[k + 1].text.rstrip(",")) is not None)
        else:
            name = _is_capitalised(w.text) or w.text.isupper() or low in _STREET_PREFIXES
            particle = particle or bool(run) and _link(words, k)
        if not (particle or name or digits or not run and _designator(words, k)):
            break
        run.append(w)
        if w.stop:
            break
    first = 2 if run and _designator(run, 0) else 0  # the house number after "Unit 88"
    if len(run) > first and _HOUSE_NUMBER.match(run[first].text):  # the street's words follow, whatever they are
        for w in words[len(run): len(run) + 3]:
            if normalise(w.text) in _FUNCTION or run[-1].stop:
                break
            run.append(w)
    while run and run[-1].text.lower() in _PARTICLES:
        run.pop()
    return run if any(_alpha(x.text) for x in run) else []


def _designator(words: list[_Word], k: int) -> bool:
    """A unit or house designator ("Unit", "Apt", "Flat", or an abbreviation: "H.No.", "Nr.") followed
    by a number."""
    w = words[k]
    return k + 1 < len(words) and not w.stop and (
        normalise(w.text).replace(" ", "") in _UNIT_WORDS or w.abbreviation) and _HOUSE_NUMBER.match(
        words[k + 1].text.rstrip(",")) is not None


def _link(words: list[_Word], k: int) -> bool:
    """A lower-case word of up to four letters between capitalised words of one name, with only
    spaces around it ("Eje vial Campeche", "Poienile de sub Munte", "Stratford upon Avon")."""
    w = words[k]
    nxt = words[k + 1] if k + 1 < len(words) else None
    if not (w.spaced and w.text.islower() and w.text.isalpha() and len(w.text) <= 4 and not w.stop and not w.tail
            and nxt is not None and nxt.spaced):
        return False
    if k > 0 and _is_capitalised(words[k - 1].text) and normalise(w.text) not in _FUNCTION | _DURATION | _UCUM_WORDS \
            and _HOUSE_NUMBER.match(nxt.text.rstrip(",")) and any(c.isdigit() for c in nxt.text):
        return True  # a street type written in lower case before the house number: "Klesarski put 2b/0"
    return _is_capitalised(nxt.text)


def _extend(words: list[_Word], masked: list[tuple[int, int]], all_caps: bool) -> list[tuple[int, int]]:
    """A name or place goes on in the capitalised (or unknown) words next to it, across particles
    ("van den", "de la") and into company forms and titles after it (AB, Sp. z o.o., MBA, and Sons)."""
    changed = True
    while changed:
        changed = False
        for i, w in enumerate(words):
            if not _covered(w, masked) and _unit_number(words, i, masked):
                masked = merge([*masked, (w.start, w.end)])
                changed = True
                continue
            if _covered(w, masked) or not _alpha(w.text):
                continue
            low = normalise(w.text).replace(" ", "")
            prev_in = i > 0 and _covered(words[i - 1], masked) and not words[i - 1].stop
            next_in = i + 1 < len(words) and _covered(words[i + 1], masked) and not w.stop
            nxt = next((x for x in words[i + 1:] if x.text.lower() not in _PARTICLES), None)
            nxt_in = nxt is not None and _covered(nxt, masked)
            firm = low in _SUFFIX_TOKENS and prev_in and _alpha(words[i - 1].text)  # not after a date
            if firm or (w.text.lower() in _PARTICLES and (prev_in or nxt_in) and (
                    nxt_in or nxt is not None and _is_capitalised(nxt.text))):
                masked = merge([*masked, (w.start, w.end)])
                changed = True
                continue
            if _bracketed_after(words, i, masked, all_caps):
                masked = merge([*masked, (w.start, w.end)])
                changed = True
                continue
            if w.abbreviation and prev_in and i + 1 < len(words) and _covered(words[i + 1], masked):
                # a title between parts of a name ("Ing. arch. Vendula"): its full stop ends no sentence
                masked = merge([*masked, (w.start, w.end)])
                changed = True
                continue
            if w.spaced and prev_in and _firm_form_or_link(words, i, masked, all_caps):
                masked = merge([*masked, (w.start, w.end)])  # the next linking word follows in the loop
                changed = True
                continue
            if not all_caps and _caps_surname(words, i, masked):
                masked = merge([*masked, (w.start, w.end)])
                changed = True
                continue
            if not all_caps and _caps_address_part(words, i, masked):
                masked = merge([*masked, (w.start, w.end)])
                changed = True
                continue
            if all_caps and _sandwiched(words, i, masked):
                masked = merge([*masked, (w.start, w.end)])
                changed = True
                continue
            if _initial_after_name(words, i, masked):
                masked = merge([*masked, (w.start, w.end)])
                changed = True
                continue
            after_initial = prev_in and len(words[i - 1].text) == 1 and words[i - 1].text.isupper()
            if w.initial and is_known(w.text) and not after_initial and not _given_name(words, i, masked, all_caps):
                continue
            if not (all_caps and not is_known(w.text) or _is_capitalised(w.text)):
                continue
            # from a masked name, not from a masked number ("given 14:35, Musculus ..."), not into a term
            if w.term:
                continue
            if prev_in and not next_in and words[i - 1].tail == "," and _letters(words[i - 1]) and is_known(w.text):
                continue  # masked initials and a comma: the next known word starts the text ("Tech mm, Dislocation")
            if prev_in and _alpha(words[i - 1].text) or next_in and _alpha(words[i + 1].text):
                masked = merge([*masked, (w.start, w.end)])
                changed = True
    return masked


def _initial_after_name(words: list[_Word], i: int, masked: list[tuple[int, int]]) -> bool:
    """A single capital (a full stop after it or not) right after a masked word of a name, only a space
    between: the given name's initial of a surname-first name ("Steuer H.", "d/w Rodriguez T,").
    Issue 13, item 1."""
    w = words[i]
    if i == 0 or len(w.text) != 1 or not w.text.isupper() or not w.spaced:
        return False
    prev = words[i - 1]
    return _covered(prev, masked) and len(prev.text) > 1 and _alpha(prev.text) and not prev.stop and not prev.tail


# A postcode as written after or before a town: "12-191", "206 18" (two tokens), "G8H2J1", "P8A 4J9",
# "SS 37858"; house numbers: see _HOUSE_NUMBER.
_POSTCODE = re.compile(r"^(?:\d{2,3}-\d{3,4}|[A-Z]\d[A-Z]\s?\d[A-Z]\d|\d[A-Z]\d|[A-Z]{1,2}\d[A-Z\d]?|\d{2,6})$")
_DURATION = _set("day days week weeks wk wks month months mo year years yr yrs hour hours min mins minutes "
                 "times x ago later old")


def _address_numbers(words: list[_Word], masked: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """House numbers and postcodes next to a masked name or place belong to the address: a number
    right after a masked word (a space or a comma between, no sentence end, no unit or duration
    after it: "Okrová 553", "Vrlika, 33922"), right before a masked capitalised word ("0740 James
    Land", "09829 Buje"), or after such a number ("206 18", "P8A 4J9"); and a street prefix right
    before a masked street ("pl. Jadwigi")."""
    changed = True
    while changed:
        changed = False
        for i, w in enumerate(words):
            if _covered(w, masked):
                continue
            prev = words[i - 1] if i > 0 else None
            nxt = words[i + 1] if i + 1 < len(words) else None
            prev_in = prev is not None and _covered(prev, masked) and not prev.stop and prev.tail in ("", ",")
            next_in = nxt is not None and _covered(nxt, masked) and not w.stop and w.tail in ("", ",")
            low = normalise(w.text).replace(" ", "")
            if low in _UNIT_WORDS | _LOT_WORDS and nxt is not None and _covered(nxt, masked) \
                    and any(c.isdigit() for c in nxt.text) and not w.stop:
                chain = i - 2 if i >= 2 and any(c.isdigit() for c in words[i - 1].text) and normalise(
                    words[i - 2].text).replace(" ", "") in _UNIT_WORDS | _LOT_WORDS else i
                named = i + 2 < len(words) and _covered(words[i + 2], masked) and not nxt.stop \
                    and _alpha(words[i + 2].text)  # "Room 429 Warren Residences": a masked name after the number
                if prev_in or chain < i or named:
                    masked = merge([*masked, (words[chain].start, w.end)])  # "Block 04 Lot 50 Pao Avenue"
                    changed = True
                    continue
            if _street_before_number_sign(words, i, masked):  # "Boulevard 5 N° 6351": the street's name
                masked = merge([*masked, (w.start, words[i + 3].end if _degree_sign_address(words, i) else w.end)])
                changed = True
                continue
            if w.text.isupper() and w.text.isalpha() and 2 <= len(w.text) <= 3 and prev_in and prev is not None \
                    and prev.tail == "," and nxt is not None and (_POSTCODE.match(nxt.text) or _covered(nxt, masked)) \
                    and any(c.isdigit() for c in nxt.text):
                masked = merge([*masked, (w.start, w.end)])  # a state or province before a postcode: "NT, 2747"
                changed = True
                continue
            if low in _STREET_PREFIXES and w.text[:1].islower() and nxt is not None \
                    and _covered(nxt, masked) and w.tail in ("", ".") and _is_capitalised(nxt.text):
                masked = merge([*masked, (w.start, w.end)])
                changed = True
                continue
            if _ORDINAL.match(w.text) and next_in and nxt is not None and w.tail in ("", ",") and (
                    normalise(nxt.text) in _UNIT_WORDS or normalise(nxt.text) in STREET_WORDS):
                masked = merge([*masked, (w.start, w.end)])  # "5th Floor", "7th Road", "74th Street"
                changed = True
                continue
            if w.text.islower() and w.text.isalpha() and len(w.text) <= 4 and prev_in and prev is not None \
                    and _is_capitalised(prev.text) and nxt is not None and not w.tail and nxt.spaced \
                    and _HOUSE_NUMBER.match(nxt.text.rstrip(",")) and any(c.isdigit() for c in nxt.text) \
                    and (nxt.tail == "," or i + 2 == len(words)) and normalise(w.text) not in _FUNCTION | _DURATION:
                masked = merge([*masked, (w.start, w.end)])  # a street type in lower case: "Krvavi most 8a,"
                changed = True
                continue
            if not any(c.isdigit() for c in w.text) or not (_HOUSE_NUMBER.match(w.text) or _POSTCODE.match(w.text)):
                continue
            unit = nxt is not None and not w.stop and not w.tail and (
                normalise(nxt.text) in _DURATION or normalise(nxt.text) in _UCUM_WORDS
                or normalise(nxt.text) in _TECHNIQUE or nxt.text.islower() and sum(c.isdigit() for c in w.text) < 4)
            # "Smith, 3 lesions"; four digits after a masked town are its postcode: "Besse 5339 last month"
            before_place = next_in and nxt is not None and w.tail in ("", ",") and (
                _is_capitalised(nxt.text) or not nxt.text.isascii() or normalise(nxt.text) in _STREET_PREFIXES
                or _ORDINAL.match(nxt.text) is not None) \
                and (w.tail == "" or normalise(nxt.text) in _STREET_PREFIXES)  # "20, rue Alexandre"
            # a unit number written with a slash before a masked house number: "977/, 038/845 Mejia Key"
            before_place = before_place or next_in and nxt is not None and "/" in w.text and w.tail in ("", ",") \
                and any(c.isdigit() for c in nxt.text)
            if (prev_in and not unit) or before_place:
                masked = merge([*masked, (w.start, w.end)])
                changed = True
                continue
            designator = prev is not None and normalise(prev.text).replace(" ", "") in _UNIT_WORDS | _LOT_WORDS \
                and not prev.stop and not _covered(prev, masked)
            if designator and prev is not None and (next_in or i > 1 and _covered(words[i - 2], masked)
                                                    and not words[i - 2].stop):
                masked = merge([*masked, (prev.start, w.end)])  # "Apt 67, Naomiweg 86", "Słoneczna 66/35 Apt 49"
                changed = True
    return masked


_LOT_WORDS = _set("lot sector purok barangay brgy")


def _street_before_number_sign(words: list[_Word], i: int, masked: list[tuple[int, int]]) -> bool:
    """A capitalised word right before a masked number that a number sign follows names the street
    whatever it spells: "Boulevard 5 N° 6351", "Diagonal 9 N° 394" (a numbered street and its house
    number, as Argentine addresses write them); the number sign rules out a count or a grade. Issue 13,
    item 1."""
    if i + 2 >= len(words):
        return False
    w, num, sign = words[i], words[i + 1], words[i + 2]
    return (_is_capitalised(w.text) and _alpha(w.text) and not w.stop and not w.tail and num.spaced
            and num.text.isdigit() and len(num.text) <= 4 and not num.tail and sign.spaced
            and _NUMBER_SIGN.match(sign.text) is not None and (_covered(num, masked) or _degree_sign_address(words, i)))


_DEGREE_SIGN = re.compile(r"^[Nn][°º]$")


def _degree_sign_address(words: list[_Word], i: int) -> bool:
    """"<Capitalised> <number> N° <house number>" ("Calle 3 N° 4296", "Diagonal 9 N° 394"): an address
    whatever the words, with or without the classifier; "N°" (not "No.") is written only there."""
    if i + 3 >= len(words):
        return False
    sign, house = words[i + 2], words[i + 3]
    return (_DEGREE_SIGN.match(sign.text) is not None and not sign.tail and house.spaced
            and _HOUSE_NUMBER.match(house.text) is not None and any(c.isdigit() for c in house.text))


def _number_sign_streets(words: list[_Word]) -> list[tuple[int, int]]:
    """"N°" and a house number with the street's words before it, whatever they spell and in any case
    ("AV. G. BROWN N° 344", "Diag. Posadas N° 6922"): "N°" (not "No.") is written only in addresses
    (see :func:`_degree_sign_address`). The words back to a comma, a clause end or a lower-case word
    are the street; a capitalised word and a number after a comma that end the value are its unit
    ("..., Local 43"). Issue 13, item 1."""
    out: list[tuple[int, int]] = []
    for k, sign in enumerate(words):
        if k == 0 or k + 1 >= len(words) or not _DEGREE_SIGN.match(sign.text) or sign.tail:
            continue
        house = words[k + 1]
        if not (house.spaced and _HOUSE_NUMBER.match(house.text) and any(c.isdigit() for c in house.text)):
            continue
        j = k - 1
        while j >= 0 and words[j].text[:1].isupper() and not words[j].stop \
                and (words[j].tail == "" or words[j].tail == "." and words[j].abbreviation):
            j -= 1
        if j == k - 1:
            continue
        end = house.end
        if house.tail == "," and k + 4 == len(words):
            unit, num = words[k + 2], words[k + 3]
            if _is_capitalised(unit.text) and _alpha(unit.text) and not unit.tail and num.spaced \
                    and _HOUSE_NUMBER.match(num.text) and any(c.isdigit() for c in num.text):
                end = num.end
        out.append((words[j + 1].start, end))
    return out


def _firm_form_or_link(words: list[_Word], i: int, masked: list[tuple[int, int]], all_caps: bool) -> bool:
    """Right after a masked name with only a space between: a word in capitals of 2-4 letters that is
    no technique word is the firm's legal form in a language not listed ("URL", "KFT", "ZRT"; in
    all-capitals text only at the end of a clause and when it is not a common word); in mixed case a
    lower-case word of up to four letters with a masked word right after it links the parts of one
    name ("Poienile de sub Munte", "Stratford upon Avon")."""
    w, prev = words[i], words[i - 1]
    if w.text.isupper() and w.text.isalpha() and 2 <= len(w.text) <= 4:
        if normalise(w.text) in _TECHNIQUE or not (_is_capitalised(prev.text) or prev.text.isupper()):
            return False
        return not all_caps or (w.stop or i + 1 == len(words)) and normalise(w.text) not in _common() | _FUNCTION
    if all_caps:
        return False
    for j in range(i, min(i + 2, len(words))):  # one or two short lower-case words, then the name goes on
        x = words[j]
        if not (x.spaced and x.text.islower() and x.text.isalpha() and len(x.text) <= 4) or x.stop:
            return False
        after = words[j + 1] if j + 1 < len(words) else None
        if after is not None and after.spaced and _covered(after, masked) and _is_capitalised(after.text):
            return True
    return False


def _bracketed_after(words: list[_Word], i: int, masked: list[tuple[int, int]], all_caps: bool) -> bool:
    """A word in brackets right after a masked name is a place or another name of it ("Mercy
    Hospital (Leeds)", "SMITH AND JONES (PARENT)"), technique words aside; in mixed case only a
    capitalised word. The bracket's next words follow from this one."""
    w = words[i]
    code = w.text.isupper() and w.text.isalpha() and len(w.text) == 2 and w.bracket and w.closes
    if i == 0 or not _alpha(w.text) or normalise(w.text) in _TECHNIQUE and not code:
        return False  # a region's code alone in brackets is one even when it spells a technique word: "(GR)"
    if not (all_caps or _is_capitalised(w.text) or w.text.isupper() and w.text.isalpha() and len(w.text) == 2
            and w.bracket):  # a region's code: "Aeby (GE)"
        return False
    opener = next((j for j in range(i, max(i - 3, 0) - 1, -1) if words[j].bracket), None)
    if opener is None or opener == 0 or words[opener - 1].stop or not _covered(words[opener - 1], masked):
        return False
    return all(_covered(words[j], masked) and not words[j].closes for j in range(opener, i))


def _caps_surname(words: list[_Word], i: int, masked: list[tuple[int, int]]) -> bool:
    """In mixed case, a word in capitals, a comma and a masked capitalised given name: "BRACKE, Simon"
    (PS3.5 6.2 order written out); technique words stay ("CT, Brain")."""
    w = words[i]
    if not (w.text.isupper() and w.text.isalpha() and len(w.text) >= 2 and w.tail == "," and i + 1 < len(words)):
        return False
    nxt = words[i + 1]
    return (_covered(nxt, masked) and _is_capitalised(nxt.text) and normalise(w.text) not in _TECHNIQUE
            and not _ROMAN.match(w.text))


def _caps_address_part(words: list[_Word], i: int, masked: list[tuple[int, int]]) -> bool:
    """In mixed case, a word in capitals right after a masked address written in capitals (a house or
    lot number among its masked words, every masked word in capitals), with a space or a comma
    between: the next part of that address, a subdivision or a town ("BLOCK 08 LOT 05 MORGAN SERVICE
    ROAD, AQUAMARINE HOMES 2"); technique words stay ("..., CT"). Issue 13, item 1."""
    w = words[i]
    if i == 0 or not (w.text.isupper() and w.text.isalpha() and len(w.text) >= 3) or normalise(w.text) in _TECHNIQUE:
        return False
    prev = words[i - 1]
    if not _covered(prev, masked) or prev.stop or prev.tail not in ("", ",") or not (w.spaced or prev.tail == ","):
        return False
    run: list[_Word] = []
    k = i - 1
    while k >= 0 and _covered(words[k], masked) and (k == i - 1 or not words[k].stop):
        run.append(words[k])
        k -= 1
    alpha = [x for x in run if _alpha(x.text)]
    return len(alpha) >= 2 and all(x.text.isupper() for x in alpha) and any(
        any(c.isdigit() for c in x.text) for x in run)


def _sandwiched(words: list[_Word], i: int, masked: list[tuple[int, int]]) -> bool:
    """In capitals, a word with only spaces between it and masked words on both sides is part of
    that name ("VIEJA MADAGASCAR RADIOLOGY"); technique words stay."""
    w = words[i]
    return (0 < i < len(words) - 1 and w.spaced and words[i + 1].spaced and not words[i - 1].stop and not w.stop
            and _covered(words[i - 1], masked) and _covered(words[i + 1], masked)
            and normalise(w.text) not in _TECHNIQUE)


_CONTACT = (PatternKind.PHONE, PatternKind.EMAIL)
_CONTACT_LABELS = _set("tel telephone phone ph fax mobile mob cell email e-mail mail on at via")
_RESIDENCE = _set("resident residents resides reside residing lives living lived moved relocated")


def _clause(words: list[_Word]) -> list[_Word]:
    """The words up to a clause end or a function word."""
    run: list[_Word] = []
    for w in words:
        if normalise(w.text) in _FUNCTION:
            break
        run.append(w)
        if w.stop:
            break
    return run


def _contact_names(words: list[_Word], masked: list[tuple[int, int]], contacts: list[int],
                   all_caps: bool) -> list[tuple[int, int]]:
    """The words between a person or place cue and a phone number or e-mail address are the contact's
    name ("RESULTS TO HORN, PHONE ...", "call Per Smith on ..."): in capitals a surname that is also a
    word ("HORN", "PINTO") has no other signal. Lower-case known words in mixed case stay."""
    for start in contacts:
        j = next((k for k, w in enumerate(words) if w.end > start), len(words)) - 1
        while j >= 0 and normalise(words[j].text) in _CONTACT_LABELS and not words[j].stop:
            j -= 1
        name: list[_Word] = []
        while j >= 0 and len(name) < 4 and not words[j].stop and _alpha(words[j].text):
            low = normalise(words[j].text).replace(" ", "")
            if low in _HONORIFICS or low in _PERSON_CUES or low in _PLACE_CUES or low in _FUNCTION:
                break
            name.append(words[j])
            j -= 1
        cue = j >= 0 and normalise(words[j].text).replace(" ", "") in _PERSON_CUES | _PLACE_CUES | _HONORIFICS
        if cue and name:
            masked = merge([*masked, *((w.start, w.end) for w in name
                                       if all_caps or not (w.text.islower() and is_known(w.text)))])
    return masked


_CUES = _HONORIFICS | _PERSON_CUES | _PLACE_CUES | _FUNCTION | _ORG_WORDS | _WEAK_ORG_WORDS


def _given_name(words: list[_Word], i: int, masked: list[tuple[int, int]], all_caps: bool) -> bool:
    """A capitalised common word first in its sentence, right before a masked capitalised word of the
    same clause, is that name's given name ("Per Mikkelsen", "Will Jones", "Grace Kelly presents"):
    a sentence does not start with a word glued to a name unless it is a cue ("Dr", "Wife", "From")."""
    w = words[i]
    if all_caps or w.stop or i + 1 >= len(words) or not _is_capitalised(w.text):
        return False
    nxt = words[i + 1]
    starts_mask = any(s == nxt.start and nxt.end <= e for s, e in masked)
    return starts_mask and _is_capitalised(nxt.text) and normalise(w.text).replace(" ", "") not in _CUES


def _unit_number(words: list[_Word], i: int, masked: list[tuple[int, int]]) -> bool:
    """A unit designator right after a masked address (across a comma, not a sentence end) and
    followed by a number, or that number after a masked designator, or a number right after a masked
    street and house number: part of the address."""
    def unit(j: int) -> bool:  # a designator of the list, or any short abbreviation ("Nr.", "Bl.", "Sc.")
        return 0 <= j < len(words) and (normalise(words[j].text).replace(" ", "") in _UNIT_WORDS
                                         or words[j].abbreviation or _NUMBER_SIGN.match(words[j].text) is not None)

    def numbered(j: int) -> bool:
        return 0 <= j < len(words) and any(c.isdigit() for c in words[j].text) and len(words[j].text) <= 8

    w = words[i]
    if numbered(i) and unit(i - 1) and _covered(words[i - 1], masked):
        return True
    if numbered(i) and i > 1 and numbered(i - 1) and not words[i - 1].stop and _alpha(words[i - 2].text) \
            and _covered(words[i - 1], masked) and _covered(words[i - 2], masked):
        return True  # the next number of a masked street and house number: a door, a floor, a block
    return unit(i) and numbered(i + 1) and i > 0 and _covered(words[i - 1], masked) and (
        not words[i - 1].stop or unit(i - 2) or normalise(words[i - 1].text).isdigit()) and not w.initial


def _caps_name_run(words: list[_Word]) -> list[_Word]:
    """In capitals a name has no capital to show: after a person cue, the words that are neither
    technique nor a common word the DICOM vocabulary also has (MARK and GORDON are names here)."""
    run: list[_Word] = []
    common = _common()
    for w in words:
        low = normalise(w.text)
        if low in _TECHNIQUE or low in _FUNCTION or (low in vocabulary() and low in common) \
                or not _alpha(w.text):
            break
        run.append(w)
        if w.stop:
            break
    return run


def _run(words: list[_Word], all_caps: bool) -> list[_Word]:
    """The leading name-like words (a name of up to three words)."""
    run: list[_Word] = []
    for w in words:
        if _name_like(w, all_caps) and not (w.text.islower() and (is_known(w.text) or _medically_formed(w.text))):
            run.append(w)
            if w.stop:
                break
        else:
            break
    return run


def _apply(text: str, ranges: list[tuple[int, int]]) -> str:
    out, pos = [], 0
    for start, end in ranges:
        out.append(text[pos:start])
        out.append(MASK)
        pos = end
    out.append(text[pos:])
    joined = "".join(out)
    return re.sub(r"(?:\[X\][\s^,;.]*){2,}", MASK + " ", joined).strip()
