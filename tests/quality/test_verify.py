"""The verification pass on single files: the run's originals as keyed needles of the one tolerant
matcher, the header walk at every depth, metadata rows, OCR of frames (no Spark)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from fixture_key import TEST_KEY
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage

from deid.config import OcrCheckConfig, VerificationConfig
from deid.header.profile import load_profile
from deid.keys import KeyRing
from deid.pipeline.process import dicom_json
from deid.quality.originals import KeyedHasher, NeedleRules, needle_hashes
from deid.quality.verify import (
    VerifyParams,
    check_header,
    check_metadata_row,
    check_pixels,
    frame_indices,
    pattern_rule,
    sampled,
    verify_instance,
)

KEYS = KeyRing(bytes.fromhex(TEST_KEY))
UID = "1.2.826.0.1.3680043.99.12345"
VALUES = ("SMITH^ANNA^MARIE", "0012345", "ACC55120", "19620314", "Riverside General Hospital",
          "12 Quillfeather Lane^Springfield", UID, "STN-99812")


def _original() -> Dataset:
    """The run's original (what bronze holds): its identifying values become needles."""
    ds = Dataset()
    ds.PatientName, ds.PatientID, ds.AccessionNumber, ds.PatientBirthDate = VALUES[:4]
    ds.InstitutionName, ds.PatientAddress, ds.SOPInstanceUID = VALUES[4:7]
    ds.OtherPatientIDs = VALUES[7]
    ds.StationName = "CTAWP73"  # kept under Retain Device Identity (E.3.7): not a needle
    other = Dataset()  # a second original whose Accession Number identifies no one
    other.AccessionNumber, other.PatientName, other.PatientID = "NONE", "ANONYMOUS", "N/A"
    ds.ReferencedPatientSequence = Sequence([other])
    return ds


def _needles(original: Dataset | None = None) -> dict[bytes, str]:
    kinds = frozenset(VerificationConfig().kinds)
    return needle_hashes(original or _original(), NeedleRules.of(load_profile("research")), KeyedHasher(KEYS),
                         kinds)


NEEDLES = _needles()


def _params(**ocr: object) -> VerifyParams:
    return VerifyParams(KEYS, NEEDLES, "/nonexistent", VerificationConfig(ocr=OcrCheckConfig(**ocr)))


def _clean() -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPInstanceUID = "2.25.1234"
    ds.SOPClassUID = SecondaryCaptureImageStorage
    ds.SOPInstanceUID = "2.25.1234"
    ds.PatientName = "ANON^ABCDEFGHIJ"
    ds.PatientID = "ABCDEFGHIJKLMNOP"
    ds.StudyDescription = "CT HEAD"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.StationName = "CTAWP73"
    ds.InstanceNumber = 1
    return ds


def _private_item(value: str) -> Dataset:
    item = Dataset()
    item.add_new(0x00110010, "LO", "SOME CREATOR")
    item.add_new(0x00111001, "LO", value)
    return item


def _nested(value: str) -> Dataset:
    inner = Dataset()
    inner.AccessionNumber = value
    outer = Dataset()
    outer.ContentSequence = Sequence([inner])
    return outer


def _comment(text: str):  # type: ignore[no-untyped-def]
    return lambda ds: setattr(ds, "ImageComments", text)


@pytest.mark.parametrize("plant,where,kind", [
    (_comment("seen SMITH^ANNA^MARIE today"), "(0020,4000)", "person_name"),
    (_comment("SMITH^ANNA^MARIE"), "(0020,4000)", "person_name"),
    (_comment("Anna Smith"), "(0020,4000)", "person_name"),
    (_comment("SMITH, ANNA"), "(0020,4000)", "person_name"),
    (_comment("smith anna marie"), "(0020,4000)", "person_name"),
    (_comment("Smith"), "(0020,4000)", "person_name"),
    (_comment("ANNA"), "(0020,4000)", "person_name"),
    (_comment("MRN 0012345"), "(0020,4000)", "id"),
    (_comment("MRN12345"), "(0020,4000)", "id"),
    (_comment("ref X0012345Z"), "(0020,4000)", "id"),  # inside a longer token
    (_comment("born 14/03/1962"), "(0020,4000)", "date"),
    (_comment("March 14th, 1962"), "(0020,4000)", "date"),
    (_comment("1962-03-14"), "(0020,4000)", "date"),
    (_comment("at Riverside General Hospital"), "(0020,4000)", "institution"),
    (_comment("RIVERSIDE GENERAL HOSP."), "(0020,4000)", "institution"),
    (_comment("fell at 12 Quillfeather Lane"), "(0020,4000)", "address"),
    (_comment("see https://pacs.example.org/studies/" + UID + "/series"), "(0020,4000)", "uid"),
    (lambda ds: setattr(ds, "OtherPatientIDs", ["X1", "0012345"]), "(0010,1000)", "id"),
    (lambda ds: setattr(ds, "ReferringPhysicianName", "Smith^Anna"), "(0008,0090)", "person_name"),
    (lambda ds: setattr(ds, "RequestAttributesSequence", Sequence([_nested("ACC55120")])),
     "(0040,0275)[0](0040,A730)[0](0008,0050)", "id"),
    (lambda ds: ds.add_new(0x00110010, "LO", "ACME") or ds.add_new(0x00111001, "LO", "STN-99812"),
     "(0011,1001)", "id"),
    (lambda ds: ds.add_new(0x00110010, "LO", "ACME") or ds.add_new(0x00111002, "SQ", Sequence(
        [_private_item("0012345")])), "(0011,1002)[0](0011,1001)", "id"),
    (lambda ds: ds.add_new(0x00191001, "UN", b"\x01\x02MRN0012345\x00\x00"), "(0019,1001)", "id"),
    (lambda ds: setattr(ds, "ReferencedSOPInstanceUID", UID), "(0008,1155)", "uid"),
    (lambda ds: setattr(ds.file_meta, "MediaStorageSOPInstanceUID", UID), "(0002,0003)", "uid"),
])
def test_planted_original_is_found_by_tag_never_by_value(plant, where: str, kind: str) -> None:  # type: ignore[no-untyped-def]
    ds = _clean()
    plant(ds)
    findings, n = check_header(ds, _params())
    assert (where, kind) in findings and n > 5, findings
    text = repr(findings)
    assert not any(v in text or v.split("^")[0] in text for v in VALUES)


def test_kanji_name_component_is_found() -> None:
    original = Dataset()
    original.PatientName = "Yamada^Tarou=山田^太郎=やまだ^たろう"
    params = VerifyParams(KEYS, _needles(original), "/x", VerificationConfig())
    ds = _clean()
    ds.ImageComments = "患者 山田太郎 様"
    assert ("(0020,4000)", "person_name") in check_header(ds, params)[0]
    ds.ImageComments = "YAMADA tarou"
    assert ("(0020,4000)", "person_name") in check_header(ds, params)[0]


@pytest.mark.parametrize("value", ["NONE", "= NONE =", "UNKNOWN", "N/A", "ANONYMOUS", "", "A", "mm",
                                   "HEAD", "ORIGINAL", "GE MEDICAL SYSTEMS"])
def test_values_that_identify_no_one_are_never_findings(value: str) -> None:
    """An Accession Number NONE (or a name ANONYMOUS) of one input never makes NONE elsewhere a leak."""
    ds = _clean()
    ds.Grid = ds.FilterType = value
    ds.add_new(0x00181508, "CS", value)  # Positioner Type
    ds.ImageComments = value
    assert check_header(ds, _params())[0] == []


def test_clean_dataset_has_no_findings() -> None:
    findings, n = check_header(_clean(), _params())
    assert findings == [] and n >= 7


def test_retained_device_identity_is_not_a_needle() -> None:
    assert check_header(_clean(), _params())[0] == []  # Station Name CTAWP73 is in both, kept by the profile
    basic = needle_hashes(_original(), NeedleRules.of(load_profile("basic")), KeyedHasher(KEYS),
                          frozenset(VerificationConfig().kinds))
    params = VerifyParams(KEYS, basic, "/x", VerificationConfig())
    assert ("(0008,1010)", "other") in check_header(_clean(), params)[0]  # basic removes it: a leak


def test_metadata_row_and_its_dicom_json_are_checked() -> None:
    ds = _clean()
    ds.ImageComments = "Anna Smith"
    ds.ContentSequence = Sequence([_nested("acc55120")])
    row = {"sop_instance_uid": "2.25.1", "sha256": "f" * 64, "study_description": "CT HEAD",
           "series_description": "follow-up 14.03.1962", "dicom_json": dicom_json(ds)}
    findings, n = check_metadata_row(row, _params())
    assert ("series_description", "date") in findings
    assert ("dicom_json(0020,4000)", "person_name") in findings
    assert ("dicom_json(0040,A730)[0](0040,A730)[0](0008,0050)", "id") in findings
    assert n >= 8 and "Smith" not in json.dumps(findings)
    row["dicom_json"] = dicom_json(_clean())
    row["series_description"] = "NONE"
    assert check_metadata_row(row, _params())[0] == []


@pytest.mark.parametrize("count,limit,expected", [(1, 8, [0]), (3, 8, [0, 1, 2]), (10, 1, [0]),
                                                  (10, 3, [0, 4, 9]), (100, 2, [0, 99])])
def test_frame_indices(count: int, limit: int, expected: list[int]) -> None:
    assert frame_indices(count, limit) == expected


def test_sample_is_deterministic_and_proportional() -> None:
    uids = [f"2.25.{i}" for i in range(2000)]
    picked = [u for u in uids if sampled(u, 0.25)]
    assert picked == [u for u in uids if sampled(u, 0.25)]
    assert 350 < len(picked) < 650
    assert all(sampled(u, 1.0) for u in uids[:10]) and not any(sampled(u, 0.0) for u in uids[:10])


def _image_with(text: str | None) -> Dataset:
    from PIL import Image, ImageDraw, ImageFont

    img = Image.new("L", (512, 256), 0)
    if text:
        try:
            font = ImageFont.load_default(size=28)
        except TypeError:  # Pillow < 10.1
            font = ImageFont.load_default()
        ImageDraw.Draw(img).text((20, 100), text, fill=255, font=font)
    ds = _clean()
    ds.Rows, ds.Columns = 256, 512
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PixelData = np.asarray(img, dtype=np.uint8).tobytes()
    return ds


@pytest.mark.slow
def test_ocr_finds_text_left_in_pixels_by_rule_and_needle() -> None:
    findings, lines = check_pixels(_image_with("DOB 03/14/1962"), _params())
    assert lines >= 1 and any(k == "rule_date" and w.startswith("frame 0 box") for w, k in findings)
    findings, _ = check_pixels(_image_with("MRN 0012345"), _params(rules=()))
    assert any(k == "id" for _, k in findings)
    findings, _ = check_pixels(_image_with("Smith, Anna"), _params(rules=()))
    assert any(k == "person_name" for _, k in findings)
    findings, lines = check_pixels(_image_with(None), _params())
    assert findings == [] and lines == 0


@pytest.mark.slow
@pytest.mark.parametrize(("status", "ocr_d"), [("cleaned", True), (None, True), ("unverified", False)])
def test_pixels_left_unverified_by_the_run_are_not_ocrd_again(tmp_path, status: str | None,  # type: ignore[no-untyped-def]
                                                              ocr_d: bool) -> None:
    (tmp_path / "dicom").mkdir()
    _image_with("DOB 03/14/1962").save_as(tmp_path / "dicom" / "x.dcm", enforce_file_format=True)
    params = VerifyParams(KEYS, NEEDLES, str(tmp_path), VerificationConfig())
    rows = verify_instance("2.25.9", "a" * 64, "x.dcm", params, status)
    summary = [r for r in rows if r["check"] == "summary"]
    assert len(summary) == 1
    assert (summary[0]["n_lines"] >= 1) is ocr_d  # -1: not OCR'd
    assert any(r["check"] == "ocr_rule" for r in rows) is ocr_d


def test_unreadable_staged_file_is_a_finding_named_by_bronze_key(tmp_path) -> None:  # type: ignore[no-untyped-def]
    params = VerifyParams(KEYS, NEEDLES, str(tmp_path), VerificationConfig())
    rows = verify_instance("2.25.9", "a" * 64, "missing.dcm", params)
    assert rows == [{"sop_instance_uid": "2.25.9", "sha256": "a" * 64, "check": "unreadable", "location": "file",
                     "kind": "FileNotFoundError", "n_values": 0, "n_lines": 0}]


@pytest.mark.parametrize(("keyword", "value", "found"), [
    ("CodeValue", "0012345", False),  # vocabulary code equal to some input's ID: coincidence
    ("CodeMeaning", "0012345", True),  # free text: still checked
    ("CodeValue", "Anna Smith", True),  # a name is never excused
])
def test_code_vocabulary_is_excused_for_ids_only(keyword: str, value: str, found: bool) -> None:
    ds = _clean()
    item = Dataset()
    setattr(item, keyword, value)
    ds.ConceptNameCodeSequence = Sequence([item])
    assert bool(check_header(ds, _params())[0]) is found


def _run_needles(*originals: Dataset) -> dict[bytes, str]:
    from deid.quality.verify import merge_needles

    rows: list[tuple[bytes, str]] = []
    for o in originals:
        rows += list(_needles(o).items())
    return merge_needles(rows)


def test_a_value_the_profile_keeps_is_no_needle_in_any_instance() -> None:
    """A product that is also a patient's name (Milvue) or a vendor that is also an institution is kept."""
    a, b = Dataset(), Dataset()
    a.PatientName, a.Manufacturer = "Milvue", "Milvue"
    b.InstitutionName = "GE MEDICAL SYSTEMS"
    c = Dataset()
    c.Manufacturer = "GE Medical Systems"
    params = VerifyParams(KEYS, _run_needles(a, b, c), "/x", VerificationConfig())
    ds = _clean()
    ds.Manufacturer, ds.ManufacturerModelName = "GE MEDICAL SYSTEMS", "MILVUE_ABNORMAL"
    assert check_header(ds, params)[0] == []
    ds.ImageComments = "Smith"  # still a needle of another original
    assert check_header(ds, VerifyParams(KEYS, _run_needles(_original(), c), "/x", VerificationConfig()))[0]


def test_ocr_only_spellings_count_in_ocr_text_only() -> None:
    from deid.quality.verify import span_hits

    original = Dataset()
    original.PatientName = "Milvue^Anna"
    params = VerifyParams(KEYS, _needles(original), "/x", VerificationConfig())
    assert span_hits(["Milvue"], params) == {"person_name"}
    assert span_hits(["MLLVUE"], params) == set()  # typed text: no OCR confusion
    assert span_hits(["MLLVUE"], params, ocr=True) == {"person_name"}


def test_a_uid_held_in_an_id_attribute_is_a_uid_needle() -> None:
    original = Dataset()
    original.StudyID = "1.2.826.0.1.3680043.8.498.5549034"
    params = VerifyParams(KEYS, _needles(original), "/x", VerificationConfig())
    ds = _clean()
    ds.file_meta.ImplementationClassUID = "1.2.826.0.1.3680043.8.498.1"  # same root: digit runs alone no ID
    assert check_header(ds, params)[0] == []
    ds.ImageComments = "1.2.826.0.1.3680043.8.498.5549034"
    assert ("(0020,4000)", "uid") in check_header(ds, params)[0]


def _coil(name: str, comment: str | None = None) -> Dataset:
    """Shared Functional Groups > MR Receive Coil > Multi-Coil Definition > Multi-Coil Element Name
    (0018,9047), an attribute Table E.1-1 does not list (Issue22-NoPixelData of orthanc-tests has "12345")."""
    element = Dataset()
    element.MultiCoilElementName = name
    if comment is not None:
        element.ImageComments = comment
    coil = Dataset()
    coil.MultiCoilDefinitionSequence = Sequence([element])
    group = Dataset()
    group.MRReceiveCoilSequence = Sequence([coil])
    ds = _clean()
    ds.SharedFunctionalGroupsSequence = Sequence([group])
    return ds


COIL = "(5200,9229)[0](0018,9042)[0](0018,9045)[0](0018,9047)"


@pytest.mark.parametrize("original_name,staged_name,own_id,excused", [
    ("12345", "12345", None, True),  # its own coil name, equal to another input's ID without zeros
    ("HEAD 1", "12345", None, False),  # not what the original held there: planted
    ("12345", "12345", "12345", False),  # the input's own ID: a leak, whatever the attribute
    ("12345", "MRN 0012345", None, False),
])
def test_an_inputs_own_unlisted_value_is_not_a_leak(original_name: str, staged_name: str,
                                                    own_id: str | None, excused: bool) -> None:
    from deid.quality.verify import own_keys, own_value

    rules = NeedleRules.of(load_profile("research"))
    params = VerifyParams(KEYS, _run_needles(_original(), _coil(original_name)), "/x", VerificationConfig())
    original, staged = _coil(original_name), _coil(staged_name)
    if own_id is not None:
        original.PatientID = own_id
    findings = check_header(staged, params)[0]
    assert (COIL, "id") in findings  # the matcher sees it; only the own-value rule excuses it
    mine = own_keys(original, rules)
    assert own_value(original, staged, COIL, rules, mine) is excused
    assert own_value(original, staged, "metadata.dicom_json" + COIL, rules, mine) is excused


def test_free_text_holding_another_inputs_id_is_never_excused() -> None:
    """Image Comments (Table E.1-1: X) with another patient's MRN stays a finding even when unchanged."""
    from deid.quality.verify import own_keys, own_value

    rules = NeedleRules.of(load_profile("research"))
    original = _coil("HEAD", comment="compare MRN 0012345")
    staged = _coil("HEAD", comment="compare MRN 0012345")
    where = COIL.replace("(0018,9047)", "(0020,4000)")
    params = VerifyParams(KEYS, _run_needles(_original()), "/x", VerificationConfig())
    assert (where, "id") in check_header(staged, params)[0]
    assert not own_value(original, staged, where, rules, own_keys(original, rules))
    assert not own_value(original, staged, "metadata.study_description", rules, own_keys(original, rules))


@pytest.mark.parametrize(("line", "rule"), [
    ("20dB / DR", None),  # "DR60" (dynamic range) cut by a redaction next to it: no doctor
    ("NAME:", None), ("PATIENT ID:", None), ("TECH", None),  # labels whose values were redacted
    ("DR QUXWORTHY", "label"), ("NAME: QUXWORTHY ID:", "label"), ("PATIENT ID: 4471", "label"),
    ("DOB: 02/03/1951", "date"),  # the other rules still run on a line with a bare label
])
def test_a_bare_label_in_re_ocr_text_is_no_finding(line: str, rule: str | None) -> None:
    assert pattern_rule(line) == rule


A_KEY, B_KEY = "a" * 64, "b" * 64  # bronze keys of two inputs


def _dated(pid: str, study: str, birth: str | None = None) -> Dataset:
    ds = Dataset()
    ds.PatientID, ds.StudyDate = pid, study
    if birth is not None:
        ds.PatientBirthDate = birth
    return ds


def _scoped_run(*inputs: tuple[Dataset, str]) -> VerifyParams:
    """One run's needles (:func:`deid.quality.verify.merge_needles`), each input's dates keyed with its
    bronze key as the de-identify task and the gate's bronze pass make them."""
    from deid.quality.verify import merge_needles

    kinds = frozenset(VerificationConfig().kinds)
    rules = NeedleRules.of(load_profile("research"))
    rows = [r for ds, sha in inputs for r in needle_hashes(ds, rules, KeyedHasher(KEYS), kinds, sha).items()]
    return VerifyParams(KEYS, merge_needles(rows), "/nonexistent", VerificationConfig())


def test_a_shifted_date_equal_to_another_patients_original_date_is_no_finding() -> None:
    """Found at 1,000 instances (seventh session): patient A's Study Date moved back by A's keyed offset
    (2,294 days) is patient B's original Study Date; B's date is no needle of A's DA values."""
    params = _scoped_run((_dated("PATIENT-A-0001", "20030805"), A_KEY), (_dated("PATIENT-B-0002", "19970424"), B_KEY))
    out = _clean()
    out.StudyDate = "19970424"
    assert check_header(out, params, A_KEY)[0] == []
    assert check_header(out, params, B_KEY)[0] == [("(0008,0020)", "date")]  # B's own date left as it was
    assert check_header(out, params)[0] == [("(0008,0020)", "date")]  # no bronze key: run-wide, as before
    out.ImageComments = "prior exam 24/04/1997"  # text quoting another input's date stays a finding
    assert ("(0020,4000)", "date") in check_header(out, params, A_KEY)[0]


DA, DT = "(0008,0022)", "(0008,002A)"


@pytest.mark.parametrize(("da", "dt", "expected"), [
    ("20030805", "20030805101500.000000-0500", [DA, DT]),  # A's own date, in a DA and in a DT
    ("20030805-20031231", "20031231", [DA]),  # a DA range holding it
    ("19990101-20030805", "19970424101500", [DA]),
    ("19970424", "19970424101500.5", []),  # B's original date: A's shifted date, no finding in A
])
def test_an_inputs_own_date_left_in_a_date_attribute_is_a_finding(da: str, dt: str, expected: list[str]) -> None:
    params = _scoped_run((_dated("PATIENT-A-0001", "20030805"), A_KEY), (_dated("PATIENT-B-0002", "19970424"), B_KEY))
    out = _clean()
    out.AcquisitionDate, out.AcquisitionDateTime = da, dt
    assert check_header(out, params, A_KEY)[0] == [(w, "date") for w in expected]
    row = {"sop_instance_uid": "2.25.1", "sha256": A_KEY, "dicom_json": dicom_json(out)}
    assert check_metadata_row(row, params)[0] == [(f"dicom_json{w}", "date") for w in expected]


def test_an_own_date_in_a_staged_file_is_found_by_its_bronze_key(tmp_path) -> None:  # type: ignore[no-untyped-def]
    params = _scoped_run((_dated("PATIENT-A-0001", "20030805"), A_KEY), (_dated("PATIENT-B-0002", "19970424"), B_KEY))
    (tmp_path / "dicom").mkdir()
    out = _clean()
    out.StudyDate = "20030805"
    out.save_as(tmp_path / "dicom" / "x.dcm", enforce_file_format=True)
    staged = VerifyParams(KEYS, params.needles, str(tmp_path), VerificationConfig(ocr=OcrCheckConfig(enabled=False)))
    rows = verify_instance("2.25.9", A_KEY, "x.dcm", staged)
    assert [(r["location"], r["kind"]) for r in rows if r["check"] == "header"] == [("(0008,0020)", "date")]
    assert [r for r in verify_instance("2.25.9", B_KEY, "x.dcm", staged) if r["check"] == "header"] == []


@pytest.mark.parametrize("profile_name", ["research", "hipaa-safe-harbor"])
def test_a_date_transformed_onto_another_date_of_its_own_input_is_excused(profile_name: str) -> None:
    """A shifted (or year-only) Study Date that lands on the same input's Patient's Birth Date is the
    profile's transform of the original at that path (:func:`deid.quality.verify.transformed_date`);
    the original date itself, or a date from another attribute, stays a finding."""
    from deid.header.dates import shift_for, transform_date
    from deid.quality.verify import transformed_date

    profile = load_profile(profile_name)
    original = _dated("CHILD-0001", "20150610")
    shift = shift_for(KEYS, profile, original)
    moved = transform_date(profile, shift, "20150610", "DA")
    original.PatientBirthDate = moved  # the child was born on the day the study date is moved to
    staged = _clean()
    for value, excused in ((moved, True), ("20150610", False), ("20150611", False)):
        staged.StudyDate = value
        assert transformed_date(original, staged, "(0008,0020)", KEYS, profile) is excused
        assert transformed_date(original, staged, "metadata.dicom_json(0008,0020)", KEYS, profile) is excused
    staged.PatientBirthDate = moved  # not what the original's birth date becomes
    assert not transformed_date(original, staged, "(0010,0030)", KEYS, profile)


@pytest.mark.parametrize(("profile_name", "excused"), [("hipaa-safe-harbor", True), ("research", False)])
def test_a_year_only_date_of_1_january_is_its_own_transform(profile_name: str, excused: bool) -> None:
    """Safe Harbor keeps the year: a study on 1 January is written as it was, and is no leak; under a
    shift (never 0 days) the same value is the original left in place."""
    from deid.quality.verify import transformed_date

    original = _dated("PATIENT-0001", "20150101")
    staged = _clean()
    staged.StudyDate = "20150101"
    assert transformed_date(original, staged, "(0008,0020)", KEYS, load_profile(profile_name)) is excused




def _pseudonym_with_run(min_len: int) -> tuple[str, str, str]:
    """(original Patient ID, its keyed pseudonym, a letter run of the pseudonym that is no common word)."""
    from deid.header.pseudonyms import pseudo_id
    from deid.textmatch import tokens, vocabulary

    for i in range(10_000):
        pid = f"PATIENT-{i:05d}"
        token = pseudo_id(KEYS, "patient_id", pid, 16)
        runs = [t.norm for t in tokens(token) if t.norm.isalpha() and len(t.norm) >= min_len]
        runs = [r for r in runs if r not in vocabulary()]
        if runs:
            return pid, token, runs[0]
    raise AssertionError("no pseudonym with a letter run")


def test_a_keyed_pseudonym_holding_another_inputs_surname_is_excused() -> None:
    """At 5,000 instances a Patient ID pseudonym (base32, keyed) held "BMC"-like letter runs equal to
    another input's institution acronym: the engine's keyed replacement of this input's own value is no
    leak (:func:`deid.quality.verify.keyed_replacement`); a planted surname in the same place is."""
    from deid.quality.verify import keyed_replacement, own_pseudonyms

    pid, token, run = _pseudonym_with_run(4)
    a, b = Dataset(), Dataset()
    a.PatientID = pid
    b.PatientName = f"{run.upper()}^Anna"  # another input whose surname is a run of a's pseudonym
    params = _scoped_run((a, A_KEY), (b, B_KEY))
    profile = load_profile("research")
    staged = _clean()
    staged.PatientID = token
    assert ("(0010,0020)", "person_name") in check_header(staged, params, A_KEY)[0]
    made = own_pseudonyms(a, KEYS)
    assert keyed_replacement(a, staged, "(0010,0020)", "person_name", KEYS, profile, made)
    assert keyed_replacement(a, staged, "metadata.patient_pseudonym", "person_name", KEYS, profile, made)
    assert keyed_replacement(a, staged, "metadata.dicom_json(0010,0020)", "person_name", KEYS, profile, made)
    staged.PatientID = f"{run.upper()}X"  # not a keyed value of a: a finding that stays
    assert not keyed_replacement(a, staged, "(0010,0020)", "person_name", KEYS, profile, made)
    staged.PatientID = token
    other = Dataset()
    other.PatientID = "PATIENT-OTHER"  # the same pseudonym is not a keyed value of another input
    assert not keyed_replacement(other, staged, "(0010,0020)", "person_name", KEYS, profile,
                                 own_pseudonyms(other, KEYS))
