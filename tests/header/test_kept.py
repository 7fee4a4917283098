"""deid.header.kept: a value kept as read (CS, AE, IS, DS, keep-list text) that holds the patient's
name or ID is emptied; defined terms stay."""

from __future__ import annotations

import io

import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from deid.dicomio import read_dicom, write_dicom
from deid.header import kept
from deid.header.engine import HeaderEngine, PixelStatus
from deid.header.profile import load_profile
from deid.keys import KeyRing


def _out(keyword: str, value: object, keys: KeyRing, engine: HeaderEngine | None = None,
         patient: tuple[str, str] = ("Doe^Jane", "A7765403")) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID, ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid(), generate_uid()
    ds.Modality = "OT"
    ds.PatientName, ds.PatientID = patient
    setattr(ds, keyword, value)
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    engine = engine or HeaderEngine(load_profile("basic"), keys)
    res = engine.deidentify(read_dicom(buf.getvalue()))
    engine.finalize(res.dataset, PixelStatus.UNVERIFIED)
    return read_dicom(write_dicom(res.dataset))


@pytest.mark.parametrize(("keyword", "value"), [
    ("BodyPartExamined", "DOE JANE"), ("ImageType", ["ORIGINAL", "PRIMARY", "A7765403"]),
    ("ScanOptions", ["HELICAL", "JANE DOE"]), ("GraphicLayer", "A7765403")])
def test_kept_value_holding_the_patient_is_emptied(keyword: str, value: object, test_keyring: KeyRing) -> None:
    out = _out(keyword, value, test_keyring)
    assert keyword not in out or not out[keyword].value


@pytest.mark.parametrize(("keyword", "value"), [
    ("BodyPartExamined", "CHEST"), ("ImageType", ["ORIGINAL", "PRIMARY", "AXIAL"]), ("ScanOptions", "HELICAL")])
def test_defined_terms_stay(keyword: str, value: object, test_keyring: KeyRing) -> None:
    assert _out(keyword, value, test_keyring)[keyword].value == value


def test_remembered_answers_belong_to_their_patient(test_keyring: KeyRing) -> None:
    """One engine, two patients: a kept value that names the second patient is emptied for the second
    one even though the same text was kept (and its answer remembered) for the first."""
    engine = HeaderEngine(load_profile("basic"), test_keyring)
    first = _out("BodyPartExamined", "ROE RICHARD", test_keyring, engine)
    assert first.BodyPartExamined == "ROE RICHARD"
    second = _out("BodyPartExamined", "ROE RICHARD", test_keyring, engine, ("Roe^Richard", "B1"))
    assert "BodyPartExamined" not in second or not second.BodyPartExamined
    again = _out("BodyPartExamined", "ROE RICHARD", test_keyring, engine)
    assert again.BodyPartExamined == "ROE RICHARD"
    assert len(engine.kept_memos) == 2


def test_memo_gives_the_answers_without_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kept, "_MEMO_VALUES", 3)
    needles = frozenset({"doe jane", "doejane", "a7765403"})
    memo: dict[str, bool] = {}
    texts = [b"DOE JANE", "ORIGINAL", ["A", "A7765403"], "x" * (kept._MEMO_LEN + 1), b" \x00", "CHEST", "Jane-Doe"]
    for _ in range(2):
        for text in texts:
            assert kept.holds_identifier(text, needles, memo) == kept.holds_identifier(text, needles)
        assert len(memo) <= 3
