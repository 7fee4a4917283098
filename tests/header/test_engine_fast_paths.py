"""Look-up shortcuts of the header engine (issue #11) against the pydicom calls they stand for."""

from __future__ import annotations

import pytest
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.valuerep import VR

from deid.header import engine, kept
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
