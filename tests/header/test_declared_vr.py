"""deid.header.declared_vr: a standard attribute whose file VR differs from its dictionary VR is
processed as the dictionary VR (PS3.5 6.2, PS3.15 E.1) or removed."""

from __future__ import annotations

import io

import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from deid.dicomio import read_dicom, write_dicom
from deid.header.engine import HeaderEngine, PixelStatus
from deid.header.profile import load_profile
from deid.keys import KeyRing


def _deid(tag: int, vr: str, value: object, keys: KeyRing) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID, ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid(), generate_uid()
    ds.Modality = "OT"
    ds.add_new(tag, vr, value)
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    engine = HeaderEngine(load_profile("basic"), keys)
    res = engine.deidentify(read_dicom(buf.getvalue()))
    engine.finalize(res.dataset, PixelStatus.UNVERIFIED)
    return read_dicom(write_dicom(res.dataset))


def test_uid_written_as_ob_is_remapped(test_keyring: KeyRing) -> None:
    uid = "1.2.3.4.5.6.7.8.9"
    out = _deid(0x00081155, "OB", uid.encode() + b"\x00", test_keyring)  # Referenced SOP Instance UID
    assert out[0x00081155].VR == "UI"
    assert out[0x00081155].value not in ("", uid)


@pytest.mark.parametrize(("tag", "vr", "value"), [
    (0x00080070, "OB", b"\x01\x02binary\xff\xfe"),  # Manufacturer: not text
    (0x00081155, "OB", b"not a uid"),  # Referenced SOP Instance UID: not a UID
    (0x00189346, "OB", b"\x01\x02\x03\x04"),  # CTDI Phantom Type Code Sequence: not a sequence
])
def test_value_not_of_the_dictionary_vr_is_removed(tag: int, vr: str, value: bytes, test_keyring: KeyRing) -> None:
    assert tag not in _deid(tag, vr, value, test_keyring)


def test_binary_binary_mismatch_is_untouched(test_keyring: KeyRing) -> None:
    out = _deid(0x00280106, "SS", -5, test_keyring)  # Smallest Image Pixel Value: US or SS
    assert out[0x00280106].VR == "SS" and out[0x00280106].value == -5
    out = _deid(0x00189305, "FL", 1.5, test_keyring)  # Revolution Time (FD) written as FL
    assert out[0x00189305].VR == "FL" and out[0x00189305].value == 1.5
