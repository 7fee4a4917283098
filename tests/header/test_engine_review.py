"""Review probes (sixth session) on the header engine and the byte-exact writer: a text attribute whose
file declares a binary VR (explicit VR: OB, OW, FD) is never converted, so its original bytes are
written back as read (deid/filewrite.py copies them; pydicom's writer does the same): the engine
must judge such a value by what the attribute is (its dictionary VR) or remove it (default deny)."""

from __future__ import annotations

import io
import struct

import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from deid.dicomio import read_dicom, write_dicom
from deid.header.engine import HeaderEngine, PixelStatus
from deid.header.profile import FreeTextDetector, load_profile
from deid.keys import KeyRing

MARK = b"ZZLEAK"


def _engine(name: str, keys: KeyRing) -> HeaderEngine:
    profile = load_profile(name)
    rules = profile.free_text.model_copy(update={"detector": FreeTextDetector.RULES})
    return HeaderEngine(profile.model_copy(update={"free_text": rules}), keys)


def _item_bytes(**values: str) -> bytes:
    item = Dataset()
    for k, v in values.items():
        setattr(item, k, v)
    fp = DicomBytesIO()
    fp.is_little_endian, fp.is_implicit_VR = True, True
    write_dataset(fp, item)
    body = fp.getvalue()
    return struct.pack("<HHL", 0xFFFE, 0xE000, len(body)) + body


def _file(tag: int, vr: str, value: object) -> bytes:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = generate_uid()
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality = "OT"
    ds.PatientName, ds.PatientID = "Doe^Jane", "PID42"
    ds.add_new(tag, vr, value)
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


CASES = {
    "Manufacturer (0008,0070) as OB": (0x00080070, "OB", MARK + b" General Hospital "),
    "Image Comments (0020,4000) as OW": (0x00204000, "OW", MARK + b" seen by Dr X"),
    "Series Description (0008,103E) as FD": (0x0008103E, "FD",
                                             list(struct.unpack("<3d", (MARK + b" description!!!!!!")[:24]))),
    "CTDI Phantom Type Code Sequence (0018,9346) as OB": (0x00189346, "OB",
                                                          _item_bytes(PatientName="ZZLEAK^Nested")),
}


@pytest.mark.parametrize(("case", "profile"), [
    ("Manufacturer (0008,0070) as OB", "basic"), ("Manufacturer (0008,0070) as OB", "research"),
    ("Image Comments (0020,4000) as OW", "research"),  # Basic removes it (X); research cleans (C)
    ("Series Description (0008,103E) as FD", "research"),
    ("CTDI Phantom Type Code Sequence (0018,9346) as OB", "basic"),
    ("CTDI Phantom Type Code Sequence (0018,9346) as OB", "research")])
def test_text_attribute_with_a_binary_vr_is_not_released(case: str, profile: str, test_keyring: KeyRing) -> None:
    tag, vr, value = CASES[case]
    engine = _engine(profile, test_keyring)
    res = engine.deidentify(read_dicom(_file(tag, vr, value)))
    engine.finalize(res.dataset, PixelStatus.UNVERIFIED)
    assert MARK not in write_dicom(res.dataset)


def test_patient_id_in_a_coded_string_is_not_released(test_keyring: KeyRing) -> None:
    """DICOMDIR records name each file by its path (0004,1500), whose directories are often the
    patient's ID; a CS value fits its form (PS3.5 6.2), so the unlisted attribute is kept."""
    record = Dataset()
    record.DirectoryRecordType = "IMAGE"
    record.ReferencedFileID = ["77654033", "CT2", "17196"]
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = generate_uid()
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality = "OT"
    ds.PatientName, ds.PatientID = "Doe^Jane", "77654033"
    ds.DirectoryRecordSequence = [record]
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    engine = _engine("basic", test_keyring)
    res = engine.deidentify(read_dicom(buf.getvalue()))
    engine.finalize(res.dataset, PixelStatus.UNVERIFIED)
    assert b"77654033" not in write_dicom(res.dataset)
