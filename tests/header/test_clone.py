"""The engine's copy of a dataset: elements not yet converted are shared as read, never converted by
the copy, and changing the copy never changes the original (no Spark)."""

from __future__ import annotations

from pathlib import Path

from pydicom.data import get_testdata_file
from pydicom.dataelem import RawDataElement

from deid.dicomio import read_dicom
from deid.header.engine import HeaderEngine
from deid.header.profile import load_profile
from deid.keys import KeyRing

KVP, SLICE_THICKNESS = 0x00180060, 0x00180050


def test_kept_raw_elements_are_shared_unconverted_and_the_original_stays(test_keyring: KeyRing) -> None:
    original = read_dicom(Path(str(get_testdata_file("CT_small.dcm"))).read_bytes())
    kvp, thickness = original.get_item(KVP), original.get_item(SLICE_THICKNESS)
    assert isinstance(kvp, RawDataElement) and isinstance(thickness, RawDataElement)
    out = HeaderEngine(load_profile("research"), test_keyring).deidentify(original).dataset
    assert out.get_item(KVP) is kvp  # kept as read: the same bytes, not converted
    out.KVP = "1"
    out[SLICE_THICKNESS].value = "9"  # converted in the copy only
    assert original.get_item(KVP) is kvp and original.get_item(SLICE_THICKNESS) is thickness
    assert str(original.KVP) != "1" and str(original.SliceThickness) != "9"
