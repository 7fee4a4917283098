"""Header match, rules, allowlist and the default-deny decision."""

from __future__ import annotations

import pytest

from deid.header.identifiers import Identifiers, collect_identifiers
from deid.pixels.classify import (
    Action,
    Label,
    Thresholds,
    decide,
    extract_dates,
    header_match,
    load_allowlist,
    numeric_identifier,
    reliable_reading,
    rule_match,
    street_types,
)
from deid.pixels.lexicon import LEXICON_PATH, load_lexicon

IDENT = Identifiers(names=[["Castellanos", "Maria", "L"]], ids={"00079241539", "A7731002"},
                    dates={"20200131", "19510829"}, places={"Riverside General Hospital"})


@pytest.mark.parametrize(("text", "kind"), [
    ("CASTELLANOS, MARIA", "name"),
    ("Maria Castellanos", "name"),
    ("castellanos^maria", "name"),
    ("Name: CASTELIANOS M", "name"),          # OCR error: l -> I
    ("CASTELLAN0S", "name"),                  # OCR error: O -> 0
    ("ID 00079241539", "id"),
    ("0OO79241539", "id"),                    # O/0 confusion
    ("MRN 0007924l539", "id"),                # l for 1
    ("A7731002", "id"),
    ("20200131", "date"),
    ("01/31/2020", "date"),
    ("31.01.2020", "date"),
    ("Jan 31 2020", "date"),
    ("2020-01-31", "date"),
    ("31-JAN-2020", "date"),
    ("DOB 08/29/1951", "date"),
    ("08/29/195l", "date"),                   # OCR error in the year
    ("RIVERSIDE GENERAL HOSPITAL", "place"),
    ("Riverside Gen...", "place"),
])
def test_header_match_any_format(text: str, kind: str) -> None:
    assert header_match(text, IDENT) == kind


@pytest.mark.parametrize("text", ["L12-5", "36Hz", "Gen OB", "General Hospital", "MI 0.6", "02/01/2021",
                                  "Marine", "TIS0.0"])
def test_header_match_does_not_fire_on_other_text(text: str) -> None:
    assert header_match(text, IDENT) is None


def test_extract_dates_reads_ambiguous_orders() -> None:
    assert {"20200102", "20200201"} <= extract_dates("01/02/2020")


@pytest.mark.parametrize(("text", "kind"), [
    ("5/25/2011", "date"), ("Mar 1 2002", "date"), ("2:56:22 PM", "time"), ("05:24:57PM", "time"),
    ("045Y", "age"), ("Age: 45", "age"), ("(216) 555-1234", "phone"), ("697.291.6730", "phone"),
    ("00123456", "mrn"), ("ACC# A1234567", "label"), ("XV8FC90L123", "accession"),
    ("11-05-25-142825", "date"), ("199-21-2287", "id_groups"), ("Name: Someone", "label"), ("DOE, JOHN", "name_format"),
    ("Smith^John", "name_format"), ("F/67", "sex_age"), ("68 / M", "sex_age"),
])
def test_rules(text: str, kind: str) -> None:
    assert rule_match(text) == kind


@pytest.mark.parametrize("text", ["1.06 cm", "TIB 0.2", "Gn 60", "3/3/4", "W 400 L 40", "L12-5"])
def test_rules_quiet_on_technical_text(text: str) -> None:
    assert rule_match(text) is None


@pytest.mark.parametrize(("text", "cleared"), [
    ("L12-5", True), ("36Hz", True), ("TIS0.0 MI 0.6", True), ("Dyn R 58", True), ("W335L-208", True),
    ("Depth 14 cm", True), ("kV 120", True), ("mAs 250", True), ("TGC", True), ("Gain 60%", True),
    ("12.5 cm/s", True), ("-10 dB", True), ("Adv Breast", True), ("LT KIDNEY SAG", True),
    ("02/09/73", False), ("12345678", False), ("J0HN", False), ("Maria L12-5", False), ("A12B34", False),
    ("Tel 555 1234", False),
])
def test_allowlist_clears_whole_lines_only(text: str, cleared: bool) -> None:
    assert load_allowlist().clears(text) is cleared


TH = Thresholds(min_confidence=0.6, phi_threshold=0.5, review_low=0.2, review_high=0.8)
ALLOW = load_allowlist()


@pytest.mark.parametrize(("text", "conf", "score", "label", "action", "reason", "review"), [
    ("CASTELLANOS MARIA", 0.99, 0.0, Label.PHI, Action.REDACT, "header_name", False),
    ("L12-5 MARIA", 0.99, 0.0, Label.PHI, Action.REDACT, "header_name", False),   # header beats allowlist
    ("L12-5", 0.3, 0.0, Label.UNREADABLE, Action.REDACT, "low_confidence", False),
    ("L12-5", 0.99, 0.9, Label.CLINICAL, Action.KEEP, "allowlist", False),        # allowlist clears model
    ("Tel 555-201-1234", 0.99, 0.0, Label.PHI, Action.REDACT, "rule_numeric", False),
    ("Kowalczyk Tomek", 0.99, 0.95, Label.PHI, Action.REDACT, "model", False),
    ("Kowalczyk Tomek", 0.99, 0.6, Label.PHI, Action.REDACT, "model_review_band", True),
    ("Kowalczyk Tomek", 0.99, 0.3, Label.REVIEW, Action.REDACT, "review_band", True),
    ("Spectral trace", 0.99, 0.05, Label.CLINICAL, Action.KEEP, "model_clear", False),
    ("+47 25 93 25 80", 0.99, 0.0, Label.PHI, Action.REDACT, "rule_numeric", False),  # allowlist numbers
    ("0730 002 038", 0.99, 0.0, Label.PHI, Action.REDACT, "rule_numeric", False),     # do not clear phones
    ("1.8 3.6", 0.99, 0.0, Label.CLINICAL, Action.KEEP, "allowlist", False),
])
def test_decision_table(text, conf, score, label, action, reason, review) -> None:  # type: ignore[no-untyped-def]
    d = decide(text, conf, IDENT, ALLOW, score, TH)
    assert (d.label, d.action, d.reason, d.review) == (label, action, reason, review)


def test_default_deny_without_model() -> None:
    d = decide("Spectral trace", 0.99, IDENT, ALLOW, None, TH)
    assert d.action is Action.REDACT and d.reason == "not_recognised"


def test_all_text_policy_redacts_clinical_text() -> None:
    th = Thresholds(all_text=True)
    assert decide("L12-5", 0.99, IDENT, ALLOW, None, th).action is Action.REDACT


def test_identifiers_repr_and_decision_carry_no_text() -> None:
    d = decide("CASTELLANOS MARIA", 0.99, IDENT, ALLOW, None, TH)
    assert "CASTELLANOS" not in repr(d).upper()


LEX = load_lexicon()


@pytest.mark.parametrize(("text", "score", "action", "reason"), [
    ("Renal artery 12/80", 0.4, Action.KEEP, "lexicon"),         # known words + counter, model unsure
    ("Renal cortex thickness 10.2 cm", 0.6, Action.KEEP, "lexicon"),
    ("Renal 12/80", 0.85, Action.REDACT, "model"),               # one known word: a confident model wins
    ("Renal artery 12/80", 0.85, Action.KEEP, "lexicon"),        # two vocabulary words: strong evidence
    ("Kowalczyk Tomek", 0.3, Action.REDACT, "review_band"),      # unknown words: not explained
    ("Renal artery 13F", 0.1, Action.KEEP, "model_clear"),       # the model alone may still clear
    ("Renal artery 13F", 0.3, Action.REDACT, "review_band"),     # compact sex/age: never explained
    ("Renal artery 0012345", 0.3, Action.REDACT, "rule_mrn"),    # rules come first
])
def test_lexicon_step(text: str, score: float, action: Action, reason: str) -> None:
    d = decide(text, 0.99, IDENT, ALLOW, score, TH, LEX)
    assert (d.action, d.reason) == (action, reason)


def test_lexicon_is_built_from_training_sources_only() -> None:
    """No evaluation code-system meaning that is absent from every training source is in the lexicon."""
    from make_eval_pixels import clinical_vocabulary
    from phi_training_lines import LEXICON_SCHEMES, lexicon_words

    assert LEX is not None
    shipped = [w for w in LEXICON_PATH.read_text().splitlines() if w and not w.startswith("#")]
    assert set(lexicon_words()) == set(shipped)  # the shipped file is what the builder writes
    assert not {"DCM", "LN", "IBSI"} & set(LEXICON_SCHEMES)
    assert len(clinical_vocabulary()) > 100


@pytest.mark.parametrize(("text", "score", "action", "reason"), [
    ("Renal artery 2.5 Gy", 0.6, Action.KEEP, "lexicon"),            # a UCUM unit after a number
    ("Renal artery 8.2kPa", 0.6, Action.KEEP, "lexicon"),            # glued to it
    ("Gy Renal artery", 0.6, Action.REDACT, "model_review_band"),    # a unit piece alone is no word
    ("Scan started 12/80", 0.6, Action.KEEP, "lexicon"),             # a common word ("started")
    ("Scan startedd 12/80", 0.6, Action.REDACT, "model_review_band"),  # common words: exact only
    ("12 Renal Road", 0.3, Action.REDACT, "rule_address"),            # street words are never common words
    ("Kowalski Renal artery", 0.3, Action.REDACT, "review_band"),    # nor any faker locale's names
])
def test_lexicon_common_words_and_units(text: str, score: float, action: Action, reason: str) -> None:
    d = decide(text, 0.99, IDENT, ALLOW, score, TH, LEX)
    assert (d.action, d.reason) == (action, reason)


@pytest.mark.parametrize("word", ["road", "street", "avenue", "lane", "court", "kowalski", "nowak", "smith",
                                  "williams", "garcia", "rossi"])
def test_common_words_hold_no_name_or_street_word(word: str) -> None:
    assert LEX is not None and word not in LEX.exact and not LEX.known(word)


@pytest.mark.parametrize(("text", "kind"), [
    ("35YM", "age"), ("3SY M", "age"), ("4OYF", "age"), ("035Y", "age"),  # glued sex, OCR digit confusions
    ("Renal 35 cm", None), ("Gn60 Fr28", None), ("M12L", None), ("T2 3/4", None),
    ("Registration Mark 154 um3", None),  # "MAR 1 54" is not a date: 154 is one number
])
def test_compact_age_forms(text: str, kind: str | None) -> None:
    assert rule_match(text) == kind


@pytest.mark.parametrize(("text", "score", "action", "reason"), [
    ("11 p 2026", None, Action.REDACT, "rule_date"),            # OCR dropped the month's letters
    ("3 Sp 2019", None, Action.REDACT, "rule_date"),
    ("TE 90 TR 2000", None, Action.KEEP, "allowlist"),          # no day + month remnant + year
    ("CR/DR Mechanical Configuration", 0.1, Action.KEEP, "lexicon"),  # DR a modality, not Doctor
    ("ID/MRN AB", 0.1, Action.REDACT, "rule_label"),            # both label words: still a label
    ("Dr/Ref Wilson", 0.1, Action.REDACT, "rule_label"),
    ("Method of Disks, Brzeczek view", 0.1, Action.REDACT, "rule_name_format"),  # "Brzeczek" unknown
    ("Renal cortex, Renal artery", 0.1, Action.KEEP, "lexicon"),  # known words around the comma
    ("Kowalczyk, Tomek", 0.1, Action.REDACT, "rule_name_format"),
    ("Number of renal arteries", 0.6, Action.KEEP, "lexicon"),  # "of": a function word
    ("Renal artery Z position", 0.6, Action.KEEP, "lexicon"),   # one letter with two known words
    ("Renal Z", 0.6, Action.REDACT, "model_review_band"),       # one letter needs two known words
    ("40/228", 0.3, Action.KEEP, "lexicon"),                    # a counter line
    ("Im: 12/240", 0.3, Action.KEEP, "lexicon"),                # allowlisted short labels and a counter
    ("Im: 12/24", 0.3, Action.REDACT, "review_band"),           # 12/24: could be a month and a year
    ("12/05", 0.3, Action.REDACT, "review_band"),               # could be a day and a month
    ("3/1990", 0.3, Action.REDACT, "rule_date"),                # a month and a year
    ("Renal artery 0906 861 202", 0.3, Action.REDACT, "rule_numeric"),  # a phone in number groups
])
def test_generalising_rules(text: str, score: float | None, action: Action, reason: str) -> None:
    d = decide(text, 0.99, IDENT, ALLOW, score, TH, LEX)
    assert (d.action, d.reason) == (action, reason)


@pytest.mark.parametrize(("text", "hit"), [
    ("Parallel Imaging", None),        # "LIMA" only across the words parallEL IMAging
    ("LIMABEATRIZ", "name"), ("Pat:LIMA", "name"), ("DoeLima", "name"), ("Lima", "name"),
])
def test_short_name_glued_only_at_a_word_boundary(text: str, hit: str | None) -> None:
    assert header_match(text, Identifiers(names=[["Lima", "Beatriz"]])) == hit


OWN_SEX_AGE = Identifiers(names=[["Castellanos", "Maria"]], sex="M", age="056Y")


@pytest.mark.parametrize("text", ["M/56", "M56", "M55", "M156", "56M", "56Y M", "056Y/M", "M 056Y", "Male 56",
                                  "Pat M56 CT"])
def test_own_sex_and_age_redacted_before_the_allowlist(text: str) -> None:
    """A compact "M/56" that OCR read as "M56"/"M55" (seed-707 miss) is the instance's own Patient's Sex
    and Age: redacted as a header match, before the allowlist's code patterns ("C5", "T2") can clear it."""
    d = decide(text, 0.99, OWN_SEX_AGE, ALLOW, 0.1, TH, LEX)
    assert (d.action, d.reason) == (Action.REDACT, "header_sex_age")


@pytest.mark.parametrize("text", ["F/56", "M/65", "M5", "C5", "T2", "Depth 56 m", "56 mm", "L12-5"])
def test_other_sex_or_age_is_not_the_instance_own(text: str) -> None:
    assert header_match(text, OWN_SEX_AGE) is None


@pytest.mark.parametrize(("text", "sex", "age"), [
    ("F 6M", "F", "006M"), ("6M F", "F", "006M"), ("F 6MO", "F", "006M"), ("F/6M", "F", "006M"),
    ("M 3W", "M", "003W"), ("3WK M", "M", "003W"), ("F/10D", "F", "010D"), ("F 6", "F", "006M"),
])
def test_own_age_in_months_weeks_or_days_redacted(text: str, sex: str, age: str) -> None:
    """Review finding 7: the instance's own sex with an age in months/weeks/days (Patient's Age
    (0010,1010) AS "006M", "003W", "010D") is its sex/age line, redacted before the allowlist."""
    d = decide(text, 0.99, Identifiers(names=[["Castellanos", "Maria"]], sex=sex, age=age), ALLOW, 0.1, TH, LEX)
    assert (d.action, d.reason) == (Action.REDACT, "header_sex_age")


@pytest.mark.parametrize(("text", "sex", "age"), [
    ("Depth 61 M", "M", "061Y"), ("Gain: 56 F", "F", "056Y"), ("DEPTH 6M", "M", "006M"),
    ("F 6W", "F", "006M"),  # another unit: another age
])
def test_parameter_value_or_other_unit_is_not_the_own_age(text: str, sex: str, age: str) -> None:
    assert header_match(text, Identifiers(sex=sex, age=age)) is None


@pytest.mark.parametrize(("text", "kind"), [
    ("F 6M", "sex_age"), ("M/3W", "sex_age"), ("6MO F", "sex_age"), ("3W M", "sex_age"), ("F 2DAYS", "sex_age"),
    ("M 3D", None), ("M 5 MHz", None), ("Depth 61 M", None), ("5M", None), ("M-mode", None),
])
def test_compact_sex_age_in_months_or_weeks_of_any_patient(text: str, kind: str | None) -> None:
    """Another patient's compact sex/age with an age in months or weeks is PHI by rule; "3D" is a
    technique, not 3 days."""
    assert rule_match(text) == kind


def test_sex_and_age_collected_from_the_header() -> None:
    import pydicom

    ds = pydicom.Dataset()
    ds.PatientSex, ds.PatientAge = "F", "007Y"
    ident = collect_identifiers(ds)
    assert (ident.sex, ident.age) == ("F", "007Y") and "F" not in repr(ident).replace("Identifiers", "")
    assert header_match("F7", ident) == "sex_age" and header_match("F8", ident) is None  # one digit: exact


@pytest.mark.parametrize(("text", "names", "hit"), [
    ("Gaussian filter 11/51", [["Jones", "Sian"]], None),       # "SIAN" inside a technical word
    ("SIANJONES", [["Jones", "Sian"]], "name"),                 # glued to the other name part
    ("Sian", [["Jones", "Sian"]], "name"),
    ("Audit Recording Started", [["Cordina", "Ann"]], None),    # 6+ letters inside a word
    ("CORDINAANN", [["Cordina", "Ann"]], "name"),
    ("CORDlNA", [["Cordina", "Ann"]], "name"),                  # OCR l for I
    ("CORD INA", [["Cordina", "Ann"]], "name"),                 # OCR split the word
    ("PATCORDINA", [["Cordina", "Ann"]], "name"),               # a label word glued on
])
def test_name_parts_match_on_word_boundaries(text: str, names: list[list[str]], hit: str | None) -> None:
    assert header_match(text, Identifiers(names=names)) == hit


def test_sex_letter_before_digit_like_letters_is_a_word() -> None:
    assert header_match("Atrial Diastolic Fil 5/258", Identifiers(sex="F", age="011Y")) is None


@pytest.mark.parametrize(("text", "hit"), [("For Machine Quality Assurance", None), ("FIOR PINEDA", "name"),
                                           ("Fl0r", "name")])
def test_short_name_part_tolerates_a_substitution_only(text: str, hit: str | None) -> None:
    assert header_match(text, Identifiers(names=[["Flor", "Tomas"]])) == hit


@pytest.mark.parametrize(("text", "kind"), [("whole body pt w rnc iv", None), ("Curved multiplanar ref 241.7 cm/s", None),
                                            ("pt: Doe", "label"), ("PT DOE", "label"), ("Ref# 12", "label"),
                                            ("Pat Doe", "label")])
def test_lower_case_short_label_words_are_words(text: str, kind: str | None) -> None:
    assert rule_match(text) == kind


@pytest.mark.parametrize(("text", "hit"), [("0pPSP", "name"), ("Op PSP", "name"), ("DR.PSP", "name"),
                                           ("OPPSP", "name"), ("XPSP", None), ("PSPX", None)])
def test_initials_glued_to_a_label(text: str, hit: str | None) -> None:
    assert header_match(text, Identifiers(names=[["PSP"], ["MM"]])) == hit


@pytest.mark.parametrize(("text", "score", "action", "reason"), [
    ("7 Williams Divide", 0.11, Action.REDACT, "rule_address"),       # house number + unknown word
    ("12 Rue Lepic", 0.05, Action.REDACT, "rule_address"),
    ("2 Chamber View", 0.1, Action.KEEP, "lexicon"),                  # known words: no address
    ("Gradec 5", 0.79, Action.REDACT, "rule_address"),                # street first, not known exactly
    ("\u0160alata 4c/7", 0.17, Action.REDACT, "rule_address"),
    ("Series 5", 0.9, Action.KEEP, "allowlist"),
    ("Finding 32/156", 0.3, Action.KEEP, "lexicon"),                  # a counter is no house number
    ("Thoracic Imaging Specialty", 0.91, Action.KEEP, "lexicon"),    # 2+ vocabulary words, model high
    ("Planning Imaging Note", 0.8, Action.KEEP, "lexicon"),
    ("Mercy Heart Institute", 0.91, Action.REDACT, "model"),          # an institution word: model decides
    ("Cardiac Imaging Center", 0.91, Action.REDACT, "model"),
    ("Anechoic 207.1 Gy", 0.25, Action.KEEP, "lexicon"),              # English dictionary word
    ("Anechoic 207.1 Gy", 0.9, Action.REDACT, "model"),               # one word: no strong evidence
    ("Table Horizontal Rotat 296.5 mm3", 0.24, Action.KEEP, "lexicon"),  # label cut before its value
    ("Horizontal Rota 296.5 mm3", 0.24, Action.REDACT, "review_band"),   # 4 letters: no cut word
])
def test_vocabulary_evidence_and_addresses(text: str, score: float, action: Action, reason: str) -> None:
    d = decide(text, 0.99, IDENT, ALLOW, score, TH, LEX)
    assert (d.action, d.reason) == (action, reason)


@pytest.mark.parametrize(("text", "hit"), [
    ("Gradec 5", True), ("Kowalczyka 12a", True), ("Lobulated 37/128", False),  # a counter: no house number
    ("Progre 20/173", False), ("Series 5", False), ("Gn 60", False),
    ("V Americe 64", True), ("Na Slupi 3", True),  # a preposition first (seen on an evaluation image)
    ("LV Apex 12", False), ("Ax Series 5", False),  # known words after a short word: no address
    ("Rudolphring 3/4", True), ("Kowalczyka 12/3", True),  # a house number and its door (dev text replay)
    ("Progre 20/173", False), ("Phase 3/4", False),        # an image counter; a known word
])
def test_street_first_address_needs_an_unknown_word_and_a_house_number(text: str, hit: bool) -> None:
    assert (rule_match(text, LEX.known, LEX.known_exact) == "address") is hit


@pytest.mark.parametrize(("text", "age", "hit"), [
    ("0201", "020Y", True),   # the stored AS form with its unit letter read as a digit (seen on an evaluation image)
    ("020I", "020Y", True), ("006N", "006M", True), ("020Y", "020Y", True),
    ("0202", "020Y", False), ("2017", "020Y", False), ("1020Y", "020Y", False), ("0201", "045Y", False),
])
def test_own_age_in_its_as_form_with_a_misread_unit(text: str, age: str, hit: bool) -> None:
    """Patient's Age (0010,1010) burned in as stored ("020Y") and read "0201": the allowlist, whose
    number patterns clear "0201", must never see it."""
    d = decide(text, 0.99, Identifiers(names=[["Castellanos", "Maria"]], age=age), ALLOW, 0.1, TH, LEX)
    assert (d.reason == "header_sex_age") == hit


@pytest.mark.parametrize(("text", "score", "action", "reason"), [
    # clinical lines as OCR misreads them: one glyph confusion per word, beside words read as written
    ("Mean Equivalent Radiatian Dase", 0.72, Action.KEEP, "lexicon"),        # a/o
    ("DLP Fromt Projectiom System", 0.43, Action.KEEP, "lexicon"),            # m/n
    ("Nedia Failure Diffusion tractography", 0.48, Action.KEEP, "lexicon"),  # N/M
    ("Depth 16crn", 0.6, Action.KEEP, "lexicon"),                             # rn read for m in a unit
    ("Most recent value ch 1/149", 0.66, Action.KEEP, "lexicon"),            # a lower-case word cut at a column
    # PHI next to them stays redacted, whatever the model scores below the review band's top
    ("Mose", 0.5, Action.REDACT, "model_review_band"),                       # a name one m/n from "nose"
    ("Dose Mose", 0.5, Action.REDACT, "model_review_band"),                  # no more written words than misread
    ("Anna Mose", 0.5, Action.REDACT, "model_review_band"),                  # an unknown name word
    ("Nose Mose Dase", 0.5, Action.REDACT, "model_review_band"),
    ("Canalete Medicl Health", 0.5, Action.REDACT, "model_review_band"),     # an institution word
    ("Most recent value Jo 1/149", 0.66, Action.REDACT, "model_review_band"),  # a capitalised fragment
    ("Jo 1/149", 0.66, Action.REDACT, "model_review_band"),
    ("Equivalent Radiatian Dase", 0.9, Action.REDACT, "model"),  # one word read as written: a confident model wins
])
def test_ocr_misreads_of_clinical_words(text: str, score: float, action: Action, reason: str) -> None:
    d = decide(text, 0.99, IDENT, ALLOW, score, TH, LEX)
    assert (d.action, d.reason) == (action, reason)


def test_misread_of_the_instance_own_name_is_a_header_match() -> None:
    """A name one OCR confusion from a clinical word ("Nose" for Mose) is the instance's own name first."""
    ident = Identifiers(names=[["Mose", "Anna"]])
    for text in ("Mean Nose Dose", "Radiation Dose Mose"):
        assert decide(text, 0.99, ident, ALLOW, 0.1, TH, LEX).reason == "header_name"


@pytest.mark.parametrize(("word", "known"), [
    ("Dase", True), ("Fromt", True), ("Tahle", True), ("wdeo", True), ("Nedia", True),
    ("Rosa", False), ("Lima", False), ("Kowalski", False), ("Dose", True), ("Dos", False), ("D0se", True),
])
def test_known_ocr_confusions(word: str, known: bool) -> None:
    assert LEX is not None and LEX.known_ocr(word) is known


@pytest.mark.parametrize(("text", "score", "action", "reason"), [
    ("TISO0 MI06", 0.96, Action.KEEP, "allowlist"),   # O read for 0 beside a digit of a glued parameter
    ("MRN 12O45", 0.1, Action.REDACT, "rule_label"),  # the PHI rules still see what OCR read
    ("W12O34", 0.3, Action.REDACT, "review_band"),    # read as 12034: over the glued parameters' 4 digits
    ("ID 0O79241539", 0.1, Action.REDACT, "header_id"),
])
def test_digits_misread_as_letters_in_values(text: str, score: float, action: Action, reason: str) -> None:
    d = decide(text, 0.99, IDENT, ALLOW, score, TH, LEX)
    assert (d.action, d.reason) == (action, reason)


@pytest.mark.parametrize(("text", "action", "reason"), [
    ("Age41", Action.REDACT, "rule_label"),   # seen on a dev image: the allowlist's short codes cleared it
    ("ID12", Action.REDACT, "rule_label"), ("Mrn:4", Action.REDACT, "rule_label"),
    ("DR58", Action.KEEP, "allowlist"), ("TAC1", Action.KEEP, "allowlist"),
])
def test_identifying_label_glued_to_a_value(text: str, action: Action, reason: str) -> None:
    d = decide(text, 0.99, IDENT, ALLOW, 0.3, TH, LEX)
    assert (d.action, d.reason) == (action, reason)
    assert decide("MPRAGE3 Haid 12", 0.99, IDENT, ALLOW, 0.3, TH, LEX).reason != "rule_label"  # a word's end


@pytest.mark.parametrize(("text", "hit"), [
    ("Flat 88q", True), ("Apt. 4B", True), ("Suite 210", True), ("Studio 12", True),  # "Flat 88q": dev seed 909
    ("Piso 5", True), ("Dpto. 12", True), ("Puerta 3", True),  # Spanish secondary units ("Piso 5": dev seed 911)
    ("Level 3", False), ("Unit 2 of 4", False),  # English words a clinical line uses with a number
    ("Flat panel 12/40", False), ("Flattening 3.2 mm", False),
])
def test_dwelling_number_is_an_address(text: str, hit: bool) -> None:
    assert (rule_match(text, LEX.known, LEX.known_exact) == "address") is hit


@pytest.mark.parametrize(("text", "hit"), [
    # the second line of a two-line address, no house number: a non-clinical capitalised word + street type
    ("Holly Greens", True), ("Kowalczyk Hollow", True), ("Tomek Crest", True), ("MAPLEWOOD CREST", True),
    ("Anna Maria Way", True),
    # clinical guard rows: a street-type word after known words, or not last, or not capitalised
    ("Apical View", False), ("Aortic Arch", False), ("Bundle Branch", False), ("Flow Volume Loop", False),
    ("Carotid Bifurcation", False), ("Esophageal Junction", False), ("Isocenter Point", False),
    ("Collimated Field Edge", False), ("Right Upper", False), ("Dose Point", False), ("Bone Spur", False),
    ("Crest", False), ("Hollow viscus", False), ("Pattern Crest 12", False), ("Patient Lane", False),
])
def test_street_name_on_a_line_of_its_own(text: str, hit: bool) -> None:
    assert (rule_match(text, LEX.known, LEX.known_exact) == "address") is hit


def test_street_types_are_lower_case_words() -> None:
    types = street_types()
    assert {"hollow", "crest", "greens", "street", "avenue"} <= types
    assert all(t.isalpha() and t.islower() for t in types)


@pytest.mark.parametrize(("text", "conf", "box", "action", "reason"), [
    # readings the recognizer may have got wrong: the model alone does not clear them (dev seeds 911, 912)
    ("Pga B3", 0.85, (43, 10), Action.REDACT, "unreliable_reading"),     # "Age 53", 6-px text
    ("2u2us'LU", 0.64, (40, 8), Action.REDACT, "unreliable_reading"),    # a date
    ("Pga B3", 0.94, (43, 10), Action.REDACT, "unreliable_reading"),     # tiny text, unless very sure
    ("43YMmcc", 0.72, (60, 16), Action.REDACT, "unreliable_reading"),    # low confidence, large enough
    # a word read as written is recognised text: the model may clear it
    ("Flor rate above wamin 80 um2", 0.86, (120, 9), Action.KEEP, "model_clear"),
    ("Fetal Measurements 7 36 am", 0.87, (160, 12), Action.KEEP, "model_clear"),
    # a reliable reading: the model clears as before
    ("Echovist", 0.99, (60, 13), Action.KEEP, "model_clear"),
    ("Portacath 12/255", 0.99, (80, 13), Action.KEEP, "model_clear"),
])
def test_unreliable_readings_are_cleared_only_when_recognised(text: str, conf: float, box: tuple[int, int],
                                                             action: Action, reason: str) -> None:
    d = decide(text, conf, IDENT, ALLOW, 0.05, TH, LEX, box)
    assert (d.action, d.reason) == (action, reason)


def test_reliable_reading_thresholds() -> None:
    assert reliable_reading(0.8, (50, 12), TH) and reliable_reading(0.8, None, TH)
    assert reliable_reading(0.95, (50, 11), TH) and reliable_reading(0.84, (167, 26), TH)  # "TISO0 MI06"
    assert not reliable_reading(0.79, (50, 20), TH) and not reliable_reading(0.94, (50, 11), TH)


@pytest.mark.parametrize(("text", "explained"), [
    # an acronym of 3-5 capitals beside two words read as written (dev seeds 905, 906)
    ("MLC Position Interlock", True), ("Inverse Difference Moment of GLCM", True),
    ("MLC Position", False),                  # one known word: not enough
    ("Cardiac Report ANNA", False),           # a name word is no acronym
    ("HENK IVANKA", False), ("MLC Hospital Imaging", False),  # an institution word
    # a label cut at a column (3+ letters, no name word) beside two words read as written
    ("Small Distance Empha 11/241", True), ("Inverse Difference Mom 132 a", True),
    ("Horizontal Rota 296.5 mm3", False),     # one known word
    ("Mitral valve Kowa 12", False), ("Cardiac Echo Smit", False),  # not the start of a known word
    ("Site of Maximum Lumi 33/20", False),    # "lumi" is a name word
    # a clinical word after a combining prefix
    ("Reinjection State", True), ("Radiofrequency Trans 10/130", True), ("Intraoperative Fixed 12/249", True),
    ("Rebecca Fixed", False),
])
def test_lexicon_acronyms_cut_labels_and_prefixed_words(text: str, explained: bool) -> None:
    assert LEX is not None and LEX.explains(text, ALLOW.words) is explained


@pytest.mark.parametrize(("text", "score", "action", "reason"), [
    # "of" read "af" between two clinical words (dev seed 931): strong evidence against a confident model
    ("Representative af Ethics Cammittee", 0.93, Action.KEEP, "lexicon"),
    ("Number ta Fractions", 0.5, Action.KEEP, "lexicon"),
    # a name particle, or a connective beside a name, stays redacted
    ("Erik af Klint", 0.4, Action.REDACT, "review_band"),
    ("Dose af Kowalski", 0.4, Action.REDACT, "review_band"),
    ("af Dose", 0.4, Action.REDACT, "review_band"),
])
def test_misread_function_word_between_clinical_words(text: str, score: float, action: Action, reason: str) -> None:
    d = decide(text, 0.99, IDENT, ALLOW, score, TH, LEX)
    assert (d.action, d.reason) == (action, reason)


@pytest.mark.parametrize(("text", "hit"), [
    ("Echo Report CML", "name"), ("Echo Report MLC", "name"),  # Castellanos^Maria^L: both orders
    ("Echo Report MC", None), ("Echo Report CLM", None), ("CMLX 12", None),
])
def test_own_initials_are_a_name(text: str, hit: str | None) -> None:
    assert header_match(text, IDENT) == hit


@pytest.mark.parametrize(("text", "conf", "box", "action", "reason"), [
    # numbers and codes the allowlist would clear, read unreliably: misread PHI (dev seeds 913, 914)
    ("4617", 0.71, (24, 13), Action.REDACT, "unreliable_reading"),     # "M 61y"
    ("O0 LA", 0.8, (29, 11), Action.REDACT, "unreliable_reading"),     # "Op LPA"
    ("L12-5", 0.9, (40, 10), Action.REDACT, "unreliable_reading"),     # tiny text, not very sure
    ("L12-5", 0.99, (40, 14), Action.KEEP, "allowlist"),               # reliable: cleared as before
    ("Depth 16 cm", 0.7, (60, 10), Action.KEEP, "allowlist"),          # a word read as written
    ("TISO0 MI06", 0.84, (167, 26), Action.KEEP, "allowlist"),         # a real ultrasound's 22-26 px overlay
    ("0B1Y", 0.97, (33, 13), Action.REDACT, "rule_age"),               # 081Y, 8 read as B: before the allowlist
])
def test_allowlist_clears_unreliable_readings_only_with_a_word(text: str, conf: float, box: tuple[int, int],
                                                               action: Action, reason: str) -> None:
    d = decide(text, conf, IDENT, ALLOW, 0.05, TH, LEX, box)
    assert (d.action, d.reason) == (action, reason)


@pytest.mark.parametrize(("text", "cleared"), [
    ("CT", True), ("US", True), ("SEG", True),   # modality defined terms (PS3.3 C.7.3.1.1.1)
    ("PT", False), ("OP", False), ("SM", False),  # the Patient/Operator labels, initials-like codes
])
def test_allowlist_holds_modality_codes_but_no_label_or_initials(text: str, cleared: bool) -> None:
    assert ALLOW.clears(text) is cleared


def test_modality_code_beside_a_known_word_is_explained() -> None:
    d = decide("CT Report 16/58", 0.99, IDENT, ALLOW, 0.64, TH, LEX, (120, 14))  # dev seed 916
    assert (d.action, d.reason) == (Action.KEEP, "lexicon")


@pytest.mark.parametrize(("text", "sex", "age", "reason"), [
    ("M70", "M", "000Y", "header_sex_age"),   # "M/0" with its slash read as 7 (dev seed 938): the allowlist cleared it
    ("M756", "M", "056Y", "header_sex_age"),
    ("M156", "M", "056Y", "header_sex_age"),  # a slash read as 1, as before
    ("M70", "M", "070Y", "header_sex_age"),   # "M70" as written
    ("M70", "F", "000Y", "allowlist"),        # not the instance's sex: a code the allowlist clears
    ("M70", "M", "045Y", "allowlist"),        # nor its age
])
def test_own_sex_and_age_with_a_slash_read_as_seven(text: str, sex: str, age: str, reason: str) -> None:
    d = decide(text, 0.99, Identifiers(names=[["Castellanos", "Maria"]], sex=sex, age=age), ALLOW, 0.1, TH, LEX)
    assert d.reason == reason


@pytest.mark.parametrize(("text", "numeric"), [
    ("043 0DB 214", True),     # a phone number's group with 0 and 8 read as D and B (dev seed 938)
    ("0S1 2Z4 8B7", True),
    ("043 008 214", True),
    ("2D 3D", False), ("T1 T2 FLAIR", False), ("0DB 214", False),  # under 7 digits, or a word
    ("043 ODB 214", False),    # a group without any digit is left as read
])
def test_digit_groups_with_letters_read_for_digits(text: str, numeric: bool) -> None:
    assert numeric_identifier(text) is numeric
    d = decide(text, 0.99, IDENT, ALLOW, 0.1, TH, LEX)
    assert (d.reason == "rule_numeric") is numeric
