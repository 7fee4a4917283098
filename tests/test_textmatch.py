"""The one tolerant matcher (deid.textmatch): variants found, non-identifying values never needles."""

from __future__ import annotations

import hashlib

import pytest

from deid.textmatch import (
    NeedleKind,
    PatternKind,
    find_needles,
    find_patterns,
    has_needle,
    is_non_identifying,
    needles,
    normalise,
    spans,
)


def _found(text: str, value: str, kind: NeedleKind, broad: bool = True) -> bool:
    return bool(find_needles(text, needles(value, kind, broad=broad)))


@pytest.mark.parametrize(("text", "expected"), [
    ("Müller-Lüdenscheidt^Anna", "muller ludenscheidt anna"),
    ("SMITH, ANNA", "smith anna"),
    ("MRN0012345", "mrn 0012345"),
    ("ＡＢＣ１２３", "abc 123"),  # full-width forms (NFKC)
    ("Straße", "strasse"),
    ("Ørsted Åse", "orsted ase"),
    ("山田^太郎", "山 田 太 郎"),
    ("e\u0301cole", "ecole"),  # a combining accent stays in its token
])
def test_normalise(text: str, expected: str) -> None:
    assert normalise(text) == expected


@pytest.mark.parametrize("text", [
    "seen SMITH^ANNA^MARIE today", "Anna Smith", "SMITH, ANNA", "smith", "Dr. Anna M. Smith",
    "A. Smith", "Smith A", "Marie Anna Smith", "ANNA SMITH", "Mrs Sm1th",  # OCR: 1 for i
])
def test_person_name_variants(text: str) -> None:
    assert _found(text, "Smith^Anna^Marie", NeedleKind.PERSON_NAME)
    assert _found(text, "Smith^Anna^Marie", NeedleKind.PERSON_NAME, broad=False)


@pytest.mark.parametrize("text", ["Anna had a fall", "marie"])
def test_given_name_alone_is_broad_only(text: str) -> None:
    assert _found(text, "Smith^Anna^Marie", NeedleKind.PERSON_NAME)
    assert not _found(text, "Smith^Anna^Marie", NeedleKind.PERSON_NAME, broad=False)


@pytest.mark.parametrize("text", ["No smithing here", "Smithson", "Annabel", "blacksmith"])
def test_person_name_is_token_exact(text: str) -> None:
    assert not _found(text, "Smith^Anna", NeedleKind.PERSON_NAME)


@pytest.mark.parametrize(("value", "text"), [
    ("山田^太郎=やまだ^たろう", "患者山田太郎さんの検査"),
    ("山田^太郎=やまだ^たろう", "やまだ たろう"),
    ("山田^太郎=やまだ^たろう", "山田 様"),
    ("홍^길동", "환자 홍길동 님"),
    ("Wang^Xiaoming=王^小明", "王小明"),
    ("Дмитриев^Иван", "пациент ДМИТРИЕВ иван"),
])
def test_names_in_other_scripts(value: str, text: str) -> None:
    assert _found(text, value, NeedleKind.PERSON_NAME)


@pytest.mark.parametrize("text", [
    "MRN0012345", "MRN 0012345", "mrn-0012345", "ID 12345 in chart", "XR0012345_2", "0012345",
    "00012345", "M R N 0 0 1 2 3 4 5", "MRN OO12345",  # OCR: O for 0
])
def test_id_variants(text: str) -> None:
    assert _found(text, "MRN0012345", NeedleKind.ID, broad=False)


@pytest.mark.parametrize("text", ["123456", "MRN 0012346", "1234"])
def test_id_no_false_match(text: str) -> None:
    assert not _found(text, "MRN0012345", NeedleKind.ID, broad=False)


@pytest.mark.parametrize("text", [
    "20240131", "2024-01-31", "2024/1/31", "31/01/2024", "01/31/2024", "31.01.2024", "1/31/24",
    "31 Jan 2024", "Jan 31, 2024", "January 31st, 2024", "31-JAN-2024", "31. Januar 2024",
    "31 janvier 2024", "31 de enero de 2024", "31st of January 2024",
])
def test_date_layouts(text: str) -> None:
    assert _found(f"seen on {text}.", "20240131", NeedleKind.DATE, broad=False), text


@pytest.mark.parametrize("text", ["2024-01-30", "30/01/2024", "Feb 31 2024", "2024"])
def test_other_dates_not_matched(text: str) -> None:
    assert not _found(text, "20240131", NeedleKind.DATE)


@pytest.mark.parametrize(("text", "date"), [
    ("10 rows of (128,128,255), 10 rows of (0,0,0)", "20100525"),  # "255" "10": not 25/5/10
    ("lot 15124 used", "20240115"),  # 15/1/24 run together is any number's digits
    ("series 93024", "20240930"),  # 9/30/24
])
def test_loose_numeric_dates_need_their_separators(text: str, date: str) -> None:
    assert not _found(text, date, NeedleKind.DATE, broad=False), text
    assert not _found(text, date, NeedleKind.DATE), text


@pytest.mark.parametrize("text", ["25/5/10", "25.5.2010", "5/25/10", "2010-5-25", "250510", "25052010"])
def test_unpadded_dates_with_separators_still_match(text: str) -> None:
    assert _found(f"seen {text}", "20100525", NeedleKind.DATE, broad=False), text


def test_loose_numeric_time_needs_its_separator() -> None:
    assert not _found("lot 930 used", "093000", NeedleKind.TIME)
    assert _found("at 9:30", "093000", NeedleKind.TIME)


@pytest.mark.parametrize("text", ["at 14:30", "1430h", "2:30 pm", "14.30.05"])
def test_time_layouts(text: str) -> None:
    assert _found(text, "143005.000", NeedleKind.TIME)


@pytest.mark.parametrize("text", [
    "fall at 14 Elm Lane", "14 ELM LN", "lives on Elm Lane", "from Springfield", "SPRINGFIELD",
])
def test_address_components(text: str) -> None:
    assert _found(text, "14 Elm Lane^Springfield^IL 62704", NeedleKind.ADDRESS)


def test_address_suffix_alone_is_not_a_needle() -> None:
    assert not _found("the lane was wet", "14 Elm Lane^Springfield", NeedleKind.ADDRESS)


@pytest.mark.parametrize("text", ["St Mary's Hospital", "SAINT MARYS HOSPITAL", "from SMH", "st. mary's hosp"])
def test_institution_variants(text: str) -> None:
    assert _found(text, "St Mary's Hospital", NeedleKind.INSTITUTION)


@pytest.mark.parametrize("text", ["Riverside Gen Hosp", "RIVERSIDE GEN. HOSPITAL", "Riverside General Hosp.",
                                  "riverside general hospital", "from RGH"])
def test_institution_abbreviations_general_and_hospital(text: str) -> None:
    assert _found(text, "Riverside General Hospital", NeedleKind.INSTITUTION)
    assert _found(text, "Riverside Gen Hosp", NeedleKind.INSTITUTION)  # written abbreviated at the source


def test_institution_of_common_words_only_is_not_a_needle() -> None:
    assert needles("General Hospital", NeedleKind.INSTITUTION) == frozenset()


def test_uid_inside_url() -> None:
    uid = "1.2.840.113619.2.55.3.604688119.969.1268071029.320"
    assert _found(f"https://pacs.example/wado?studyUID={uid}&x=1", uid, NeedleKind.UID)
    assert not _found(f"{uid}.5", uid, NeedleKind.UID)


@pytest.mark.parametrize(("value", "kind", "text"), [
    ("+1 (555) 123-4567", NeedleKind.PHONE, "call 555.123.4567"),
    ("anna.smith@example.org", NeedleKind.EMAIL, "mail ANNA.SMITH@EXAMPLE.ORG please"),
])
def test_contact_variants(value: str, kind: NeedleKind, text: str) -> None:
    assert _found(text, value, kind)


@pytest.mark.parametrize("value", [
    "NONE", "= NONE =", "none", "UNKNOWN", "N/A", "n.a.", "ANONYMOUS", "Anonymized", "", "  ", "^^^",
    "A", "X", "0", "0000", "-", "xxxx", "GRID", "FILTER", "mm", "cm", "kg", "Positioner Type",
    "Head First-Supine", "MONOCHROME2", "Not Applicable", "19000101",
])
def test_non_identifying(value: str) -> None:
    assert is_non_identifying(value)
    for kind in set(NeedleKind) - {NeedleKind.PERSON_NAME}:
        assert needles(value, kind, broad=False) == frozenset()


@pytest.mark.parametrize("value", ["Smith", "MRN0012345", "Addison", "Springfield", "山田", "1CT1", "CT1MR2"])
def test_identifying(value: str) -> None:
    """A glued ID is identifying even when its letter and digit runs are each vocabulary (CT, 1)."""
    assert not is_non_identifying(value)
    assert not is_non_identifying(value, NeedleKind.ID)


def test_accession_none_never_matches_other_none() -> None:
    acc = needles("NONE", NeedleKind.ID, broad=False)
    for text in ("NONE", "= NONE =", "Filter Type NONE"):
        assert not find_needles(text, acc)


def test_spans_can_be_keyed() -> None:
    """Verification hashes both sides with the run's key: membership survives hashing."""
    def h(x: str) -> str:
        return hashlib.blake2b(x.encode(), key=b"run-key").hexdigest()

    hashed = {h(k) for k in needles("Smith^Anna", NeedleKind.PERSON_NAME, broad=False)}
    text = "report for ANNA SMITH, see prior"
    hits = {(s.start, s.end) for s in spans(text) if h(s.key) in hashed}
    assert (11, 21) in hits


@pytest.mark.parametrize(("text", "kind"), [
    ("Referred after a fall at 27 Meadow Lane", PatternKind.STREET_ADDRESS),
    ("lives at 4 rue de la Paix, Paris", PatternKind.STREET_ADDRESS),
    ("wohnt in der Hauptstraße 12", PatternKind.STREET_ADDRESS),
    ("tel: 555-123-4567", PatternKind.PHONE),
    ("Fax +44 20 7946 0958", PatternKind.PHONE),
    ("mail to a.b@c.org", PatternKind.EMAIL),
    ("see https://intranet.example/report?id=7", PatternKind.URL),
    ("SSN 123-45-6789", PatternKind.SSN),
    ("MRN: 12345678", PatternKind.MRN),
    ("ID AB1234567", PatternKind.MRN),
    ("a 93 year-old woman", PatternKind.AGE_OVER_89),
    ("aged 101", PatternKind.AGE_OVER_89),
    ("seen 2024-01-31", PatternKind.DATE),
    ("seen on March 3, 2021", PatternKind.DATE),
    ("symptoms since 03/2019", PatternKind.DATE),
    ("prior study Mar '19", PatternKind.DATE),
    ("seen 17 Zembrius 1979 in clinic", PatternKind.DATE),
    ("seen 10-JUL-1944", PatternKind.DATE),
    ("given at 14:35", PatternKind.TIME),
    ("given at 2:15 pm", PatternKind.TIME),
    ("given at 1430h", PatternKind.TIME),
    ("given at 9h30", PatternKind.TIME),
    ("given at 18.38, report given", PatternKind.TIME),
    ("call back 095 5366 316.", PatternKind.PHONE),
])
def test_patterns_found(text: str, kind: PatternKind) -> None:
    assert kind in {m.kind for m in find_patterns(text)}


@pytest.mark.parametrize("text", [
    "T1 3D 2.5mm C5-C6", "kVp 120 mAs 250", "BP 120/80", "slices 10 20 30", "a 45 year-old man",
    "Lung nodule 8 mm right upper lobe", "Head First-Supine", "series 3 of 12",
    "lesion 12.45 mm", "SUV 10.30", "ratio 1.25", "amplitude at 40 ms into ST segment",
])
def test_clinical_text_has_no_patterns(text: str) -> None:
    assert find_patterns(text) == []


@pytest.mark.parametrize("value,text,found", [
    ("Dr. dry breeze", "20dB/DR60", False),  # initials glued to a title: any run of short tokens
    ("Dr. dry breeze", "seen by B. Dry", True),
    ("Dr. Anna Smith", "ANNA SMITH", True),
    ("SMITH^ANNA^MARIE", "A.M. Smith", True),
    ("SMITH^ANNA^MARIE", "ref AMSMITH", False),  # initials glued: no longer a spelling of the name
])
def test_titles_and_initials_of_names(value: str, text: str, found: bool) -> None:
    assert bool(find_needles(text, needles(value, NeedleKind.PERSON_NAME, broad=False))) is found


def test_a_title_is_no_part_of_a_name() -> None:
    keys = needles("Dr. Anna Smith", NeedleKind.PERSON_NAME, broad=False)
    assert {"anna smith", "smith anna"} <= keys
    assert not [k for k in keys if "dr" in k.split() and k != "dr anna smith"]  # only the value as written


def _mixed_texts(seed: int, count: int) -> list[str]:
    import random

    rng = random.Random(seed)
    parts = ["Doe", "JANE", "jane", "A7765403", "a776", "5403", "0012345", "12345", "1.2.840.10008.1",
             "1.2.3", "Müller", "Lüdenscheidt", "山田", "太郎", "O0l1", "5S8B", "^", "\\", " ", "-", ".",
             "0", "00", "7", "DOE^JANE", "HELICAL", "ORIGINAL", "-12.5", "3.25e-4", "J", "D"]
    return ["".join(rng.choice(parts) for _ in range(rng.randint(0, 24))) for _ in range(count)]


@pytest.mark.parametrize("seed", range(3))
def test_has_needle_is_find_needles(seed: int) -> None:
    """The pruned walk answers what the full n-gram enumeration answers, on texts built from needle
    pieces (prefixes, OCR look-alikes, leading zeros, dotted numbers, wide characters)."""
    sets = [needles("Doe^Jane", NeedleKind.PERSON_NAME, broad=False) | needles("A7765403", NeedleKind.ID, broad=False),
            needles("Müller-Lüdenscheidt^Anna", NeedleKind.PERSON_NAME, broad=True),
            needles("山田^太郎", NeedleKind.PERSON_NAME, broad=True),
            needles("0012345", NeedleKind.ID, broad=True) | frozenset({"1.2.840.10008.1", "12345"}),
            frozenset({"o0l1", "jane doe 5403"}), frozenset({"ooll", "ssbb"})]
    hits = 0
    for text in _mixed_texts(seed, 150):
        for needle_set in sets:
            expected = bool(find_needles(text, needle_set))
            assert has_needle(text, needle_set) is expected
            assert has_needle(text, set(needle_set)) is expected
            hits += expected
    assert hits  # the texts do hold needles


def test_has_needle_long_numeric_value() -> None:
    """A DS list of thousands of numbers: found at its end, and not found when absent."""
    ids = needles("A7765403", NeedleKind.ID, broad=False)
    text = "\\".join(f"{i * 0.37:.2f}" for i in range(5000))
    assert not has_needle(text, ids) and not find_needles(text, ids)
    assert has_needle(text + "\\A7765403", ids)


@pytest.mark.parametrize("seed", range(4))
def test_has_needle_is_find_needles_on_numeric_texts(seed: int) -> None:
    """Long numbers-only texts (IS/DS lists) take the necessary-condition check first: it answers
    what the full n-gram enumeration answers, for numeric IDs, their OCR look-alikes, leading zeros,
    spaced keys, exponents and dotted runs."""
    import random

    rng = random.Random(seed)
    sets = [needles("A7765403", NeedleKind.ID, broad=False), needles("0012345", NeedleKind.ID, broad=True),
            needles("87654321", NeedleKind.ID, broad=False) | frozenset({"1.2.840", "12 5 e 3"}),
            frozenset({"lzs", "oo7", "5e3", "e", "1 2"}), frozenset({"doe jane", "doejane"})]
    parts = ["0", "1", "2", "5", "8", "12", "345", "0012345", "87654321", "7654", "1.2.840", "e", "E", "-",
             "+", ".", "\\", " ", "\x00", "3.25e-4", "-12.5"]
    hits = 0
    for _ in range(300):
        text = "".join(rng.choice(parts) for _ in range(rng.randint(20, 60)))
        for needle_set in sets:
            expected = bool(find_needles(text, needle_set))
            assert has_needle(text, needle_set) is expected, (text, sorted(needle_set))
            hits += expected
    assert hits
