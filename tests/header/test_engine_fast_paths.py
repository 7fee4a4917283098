"""Look-up shortcuts of the header engine (issue #11) against the pydicom calls they stand for."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydicom.data import get_testdata_file
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.tag import BaseTag
from pydicom.valuerep import VR

from deid.dicomio import read_dicom
from deid.errors import InputError
from deid.header import dates, engine, kept
from deid.header.engine import HeaderEngine
from deid.header.profile import load_profile
from deid.keys import KeyRing
from tests.header.test_engine import make_ds


def test_plain_vrs_are_no_sequence_un_or_ambiguous() -> None:
    every = {str(v) for v in VR}
    plain = {v for v in every if v not in ("SQ", "UN") and " or " not in v}
    assert plain == engine._PLAIN_VRS  # every other VR is asked of _not_sequence as before


def _patient_ids_by_keyword(ds: Dataset) -> tuple[str, ...]:
    """kept.patient_ids as written before issue #11's change (``ds.get`` per keyword)."""
    out: list[str] = []
    for keyword in kept.PATIENT_ID_KEYWORDS:
        value = ds.get(keyword)
        values = value if isinstance(value, (list, MultiValue)) else [value]
        out.extend(str(v).strip() for v in values if v is not None and str(v).strip())
    return tuple(out)


@pytest.mark.parametrize("extra", [{}, {"OtherPatientIDs": ["A1", " B2 "], "AdmissionID": "ADM 7"},
                                   {"AccessionNumber": "", "RequestedProcedureID": "RP1"}])
def test_patient_ids_as_by_keyword(extra: dict[str, object]) -> None:
    ds = make_ds()
    for keyword, value in extra.items():
        setattr(ds, keyword, value)
    assert kept.patient_ids(ds) == _patient_ids_by_keyword(ds)
    assert len(kept._PATIENT_ID_TAGS) == len(kept.PATIENT_ID_KEYWORDS)


def test_blank_file_meta_is_as_made() -> None:
    from pydicom.dataset import FileMetaDataset

    from deid.dicomio import blank_file_meta

    a, b = blank_file_meta(), blank_file_meta()
    assert type(a) is FileMetaDataset and a.__dict__ == FileMetaDataset().__dict__
    assert a._dict is not b._dict and a._private_blocks is not b._private_blocks


def test_copied_meta_as_pydicom_copies_it() -> None:
    import copy

    from deid.dicomio import read_dicom, write_dicom

    ds = read_dicom(write_dicom(make_ds()))
    ds.file_meta.TransferSyntaxUID  # noqa: B018 - converted, the others left as read
    out = engine._copy_meta(ds.file_meta)
    assert list(out.keys()) == list(ds.file_meta.keys())
    for tag in ds.file_meta.keys():
        original = ds.file_meta.get_item(tag)
        theirs, ours = copy.copy(original), out.get_item(tag)
        assert type(ours) is type(theirs)
        if isinstance(original, DataElement):
            assert ours is not original and ours.__dict__ == theirs.__dict__
        else:
            assert ours == theirs
        assert out[tag].value == ds.file_meta[tag].value and out[tag].VR == ds.file_meta[tag].VR
    assert out._is_little_endian == ds.file_meta._is_little_endian


def test_remembered_pseudonyms_are_the_keyed_ones(research_engine: engine.HeaderEngine) -> None:
    from deid.header.pseudonyms import pseudo_id, pseudo_name

    keys = research_engine.keys
    for _ in range(2):  # made, then remembered
        assert research_engine._pseudo_id("patient_id", "MRN0012345") == pseudo_id(keys, "patient_id", "MRN0012345", 16)
        assert research_engine._pseudo_id("other_id", "MRN0012345") == pseudo_id(keys, "other_id", "MRN0012345", 16)
        assert research_engine._pseudo_name("MRN0012345") == pseudo_name(keys, "MRN0012345")
        assert research_engine._pseudo_name("Doe^Anna") == pseudo_name(keys, "Doe^Anna")


def test_date_offsets_remembered_per_patient_are_the_keyed_ones(test_keyring: KeyRing,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """dates.shift_for with the engine's memo: the same offsets as computed anew, one keyed HMAC per
    patient key (issue #11)."""
    profile = load_profile("research")
    patients = []
    for pid, name in (("P1", "Doe^Jane"), ("P2", "Roe^Rick"), ("", "Poe^Edgar")):
        ds = make_ds()
        ds.PatientID, ds.PatientName = pid, name
        patients.append(ds)
    expected = [dates.shift_for(test_keyring, profile, ds) for ds in patients]
    assert len(set(expected)) > 1
    calls: list[str] = []
    real = dates.date_shift_days

    def counted(keys: KeyRing, key: str, lo: int, hi: int) -> int:
        calls.append(key)
        return real(keys, key, lo, hi)

    monkeypatch.setattr(dates, "date_shift_days", counted)
    memo: dict[str, int] = {}
    for _ in range(3):
        assert [dates.shift_for(test_keyring, profile, ds, memo) for ds in patients] == expected
    assert len(calls) == 3 and len(memo) == 3  # one HMAC per patient, whatever the instances
    assert dates.shift_for(test_keyring, load_profile("hipaa-safe-harbor"), patients[0], memo) is None


def test_top_level_class_uids_as_read_are_kept_unconverted_and_others_still_checked(test_keyring: KeyRing) -> None:
    """The file-meta check leaves a SOP Class UID still as read (registry UIDs) unconverted; one that
    is not a registry UID still refuses the instance (PS3.10 7.1)."""
    data = Path(str(get_testdata_file("CT_small.dcm"))).read_bytes()
    eng = HeaderEngine(load_profile("research"), test_keyring)
    out = eng.deidentify(read_dicom(data)).dataset
    assert type(out._dict[BaseTag(0x00080016)]) is RawDataElement
    assert str(out.SOPClassUID) == str(read_dicom(data).SOPClassUID)
    bad = data.replace(b"1.2.840.10008.5.1.4.1.1.2\x00", b"1.2.840.99999.5.1.4.1.1.2")
    assert bad != data
    with pytest.raises(InputError):
        eng.deidentify(read_dicom(bad))
