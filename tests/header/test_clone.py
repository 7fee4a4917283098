"""The engine's copy of a dataset: elements not yet converted are shared as read, never converted by
the copy, and changing the copy never changes the original (no Spark)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydicom.data import get_testdata_file
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset

from deid.dicomio import blank_dataset, read_dicom, write_dicom
from deid.errors import InputError, Reason
from deid.header.engine import HeaderEngine, PixelStatus, _clone
from deid.header.profile import FreeTextDetector, load_profile
from deid.keys import KeyRing
from deid.samples import deid_data_files, pydicom_files, shared_files

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


def _engine(name: str, keys: KeyRing) -> HeaderEngine:
    profile = load_profile(name)
    rules = profile.free_text.model_copy(update={"detector": FreeTextDetector.RULES})
    return HeaderEngine(profile.model_copy(update={"free_text": rules}), keys)


def _written(engine: HeaderEngine, data: bytes) -> bytes | Reason:
    try:
        res = engine.deidentify(read_dicom(data))
        engine.finalize(res.dataset, PixelStatus.UNVERIFIED)
        return write_dicom(res.dataset)
    except InputError as err:
        return err.reason


def _with_private(paths: list[Path], n: int) -> list[Path]:
    """The first ``n`` files (under 1 MB, CI time) holding private elements."""
    out = []
    for p in paths:
        if p.stat().st_size < 1 << 20:
            try:
                ds = read_dicom(p.read_bytes())
            except InputError:
                continue
            if any((t >> 16) & 1 for t in ds.keys()):
                out.append(p)
        if len(out) == n:
            break
    return out


@pytest.mark.parametrize("profile", ["research", "hipaa-safe-harbor"])
def test_leaving_out_private_elements_the_profile_removes_changes_no_output(
        profile: str, test_keyring: KeyRing, monkeypatch: pytest.MonkeyPatch) -> None:
    """Real files with private elements: the same bytes whether the copy leaves out the private elements
    :meth:`HeaderEngine._private` removes whatever their value, or copies (and converts) them all."""
    files = _with_private(pydicom_files() + deid_data_files() + shared_files(), 12)
    if len(files) < 5:
        pytest.skip("not enough real files with private elements")
    engine = _engine(profile, test_keyring)
    fast = [_written(engine, f.read_bytes()) for f in files]
    monkeypatch.setattr(engine, "_may_keep_private", lambda tag: True)
    assert [_written(engine, f.read_bytes()) for f in files] == fast


def test_blank_datasets_are_datasets_as_made() -> None:
    assert blank_dataset().__dict__ == Dataset().__dict__
    a, b = blank_dataset(), blank_dataset()
    assert a._dict is not b._dict and a._private_blocks is not b._private_blocks  # nothing shared


def test_private_elements_removed_whatever_their_value_are_not_copied(test_keyring: KeyRing) -> None:
    """Research keeps Siemens (0019,xx0A) under Retain Safe Private (E.3.10): a copied candidate; an
    unlisted element of the same block is left out of the copy; hipaa-safe-harbor copies creators only."""
    ds = read_dicom(Path(str(get_testdata_file("CT_small.dcm"))).read_bytes())
    ds.private_block(0x0019, "SIEMENS MR HEADER", create=True).add_new(0x0A, "US", 4)
    ds.private_block(0x0019, "SIEMENS MR HEADER").add_new(0x99, "LO", "unlisted")
    block = ds.private_block(0x0019, "SIEMENS MR HEADER").block_start
    listed, unlisted, creator = block + 0x0A, block + 0x99, 0x00190000 | (block >> 8)
    copied = _clone(ds, _engine("research", test_keyring)._may_keep_private)
    assert (0x0019 << 16 | listed) in copied and (0x0019 << 16 | unlisted) not in copied
    assert creator in copied
    copied = _clone(ds, _engine("hipaa-safe-harbor", test_keyring)._may_keep_private)
    assert (0x0019 << 16 | listed) not in copied and creator in copied
    out = _engine("research", test_keyring).deidentify(ds).dataset
    assert out.get((0x0019 << 16) | listed) is not None and out.get((0x0019 << 16) | unlisted) is None

