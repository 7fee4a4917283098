"""The verification pass on single files: header walk at every depth, OCR of frames (no Spark)."""

from __future__ import annotations

import numpy as np
import pytest
from fixture_key import TEST_KEY
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage

from deid.config import OcrCheckConfig, VerificationConfig
from deid.crosswalk import lookup_hash
from deid.keys import KeyRing
from deid.quality.verify import (
    VerifyParams,
    candidates,
    check_header,
    check_pixels,
    frame_indices,
    sampled,
    verify_instance,
)

KEYS = KeyRing(bytes.fromhex(TEST_KEY))
ORIGINALS = {"patient_id": "MRN7731904", "patient_name": "QUILLFEATHER^ODALYS", "accession_number": "ACC55120",
             "other_id": "OTH-8812", "uid": "1.2.826.0.1.3680043.99.12345"}
HASHES = frozenset(lookup_hash(KEYS, k, v) for k, v in ORIGINALS.items())


def _params(**ocr: object) -> VerifyParams:
    return VerifyParams(KEYS, HASHES, "/nonexistent", VerificationConfig(ocr=OcrCheckConfig(**ocr)))


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
    ds.InstanceNumber = 1
    return ds


def _private_item(value: str) -> Dataset:
    item = Dataset()
    item.add_new(0x00110010, "LO", "SOME CREATOR")
    item.add_new(0x00111001, "LO", value)
    return item


@pytest.mark.parametrize("plant,where,kind", [
    (lambda ds: setattr(ds, "OtherPatientIDs", ["X1", "MRN7731904"]), "(0010,1000)", "patient_id"),
    (lambda ds: setattr(ds, "ImageComments", "seen QUILLFEATHER^ODALYS today"), "(0020,4000)", "patient_name"),
    (lambda ds: setattr(ds, "ReferringPhysicianName", "QUILLFEATHER^ODALYS"), "(0008,0090)", "patient_name"),
    (lambda ds: setattr(ds, "RequestAttributesSequence", Sequence([_nested("ACC55120")])),
     "(0040,0275)[0](0040,A730)[0](0008,0050)", "accession_number"),
    (lambda ds: ds.add_new(0x00110010, "LO", "ACME") or ds.add_new(0x00111001, "LO", "OTH-8812"),
     "(0011,1001)", "other_id"),
    (lambda ds: ds.add_new(0x00110010, "LO", "ACME") or ds.add_new(0x00111002, "SQ", Sequence(
        [_private_item("MRN7731904")])), "(0011,1002)[0](0011,1001)", "patient_id"),
    (lambda ds: ds.add_new(0x00191001, "UN", b"\x01\x02MRN7731904\x00\x00"), "(0019,1001)", "patient_id"),
    (lambda ds: setattr(ds, "ReferencedSOPInstanceUID", "1.2.826.0.1.3680043.99.12345"), "(0008,1155)", "uid"),
    (lambda ds: setattr(ds.file_meta, "MediaStorageSOPInstanceUID", "1.2.826.0.1.3680043.99.12345"),
     "(0002,0003)", "uid"),
])
def test_planted_original_is_found_by_tag_never_by_value(plant, where: str, kind: str) -> None:  # type: ignore[no-untyped-def]
    ds = _clean()
    plant(ds)
    findings, n = check_header(ds, _params())
    assert (where, kind) in findings and n > 5
    text = repr(findings)
    assert not any(v in text or v.split("^")[0] in text for v in ORIGINALS.values())


def _nested(value: str) -> Dataset:
    inner = Dataset()
    inner.AccessionNumber = value
    outer = Dataset()
    outer.ContentSequence = Sequence([inner])
    return outer


def test_clean_dataset_has_no_findings() -> None:
    findings, n = check_header(_clean(), _params())
    assert findings == [] and n >= 7


def test_short_values_are_not_compared() -> None:
    keys_short = frozenset({lookup_hash(KEYS, "other_id", "1")})
    params = VerifyParams(KEYS, keys_short, "/x", VerificationConfig())
    assert check_header(_clean(), params)[0] == []  # InstanceNumber "1" is below min_length


@pytest.mark.parametrize("value,expected", [
    ("DOE^JOHN", {"DOE^JOHN", "DOE", "JOHN"}),
    ("  ID 12345 ", {"ID 12345", "12345"}),
    ("seen DOE^JOHN.", {"seen DOE^JOHN.", "seen DOE", "JOHN.", "seen", "DOE", "JOHN", "DOE^JOHN"}),
    ("A^B=C^D", {"A^B=C^D", "A^B", "C^D"}),
    ("x", set()),
])
def test_candidates(value: str, expected: set[str]) -> None:
    assert candidates(value, 3) == expected


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
def test_ocr_finds_text_left_in_pixels_by_rule_and_hash() -> None:
    findings, lines = check_pixels(_image_with("DOB 03/14/1962"), _params())
    assert lines >= 1 and any(k == "rule_date" and w.startswith("frame 0 box") for w, k in findings)
    findings, _ = check_pixels(_image_with("MRN7731904"), _params(rules=()))
    assert any(k == "patient_id" for _, k in findings)
    findings, lines = check_pixels(_image_with(None), _params())
    assert findings == [] and lines == 0


def test_unreadable_staged_file_is_a_finding(tmp_path) -> None:  # type: ignore[no-untyped-def]
    params = VerifyParams(KEYS, HASHES, str(tmp_path), VerificationConfig())
    rows = verify_instance("2.25.9", "missing.dcm", params)
    assert rows == [{"sop_instance_uid": "2.25.9", "check": "unreadable", "location": "file",
                     "kind": "FileNotFoundError", "n_values": 0, "n_lines": 0}]


@pytest.mark.parametrize(("keyword", "kind", "found"), [
    ("CodeValue", "other_id", False),  # vocabulary code equal to some input's ID: coincidence
    ("CodeMeaning", "other_id", True),  # free text: still checked
    ("CodeValue", "patient_id", True),  # a patient ID is never excused
])
def test_code_vocabulary_is_excused_for_other_ids_only(keyword: str, kind: str, found: bool) -> None:
    ds = _clean()
    item = Dataset()
    setattr(item, keyword, ORIGINALS[kind])
    ds.ConceptNameCodeSequence = Sequence([item])
    findings, _ = check_header(ds, _params())
    assert bool([k for _, k in findings if k == kind]) is found
