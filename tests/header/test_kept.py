"""deid.header.kept: a value kept as read (CS, AE, IS, DS, keep-list text) that holds the patient's
name or ID is emptied; defined terms stay."""

from __future__ import annotations

import io

import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from deid.dicomio import read_dicom, write_dicom
from deid.header.engine import HeaderEngine, PixelStatus
from deid.header.profile import load_profile
from deid.keys import KeyRing


def _out(keyword: str, value: object, keys: KeyRing) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID, ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid(), generate_uid()
    ds.Modality = "OT"
    ds.PatientName, ds.PatientID = "Doe^Jane", "A7765403"
    setattr(ds, keyword, value)
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    engine = HeaderEngine(load_profile("basic"), keys)
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
