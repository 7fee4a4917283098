"""deid.filewrite: the bytes of pydicom's ``dcmwrite(enforce_file_format=True)``, on real files and a
synthetic export, as read and after the header engine (two profiles), and on hostile shapes."""

from __future__ import annotations

import importlib.util
import io
import sys
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset

from deid import filewrite
from deid.dicomio import read_dicom, write_dicom
from deid.errors import InputError, Reason
from deid.header.engine import HeaderEngine, PixelStatus
from deid.header.profile import FreeTextDetector, Profile, load_profile
from deid.keys import KeyRing
from deid.samples import deid_data_files, pydicom_files, shared_files

ROOT = Path(__file__).resolve().parents[1]
# Real files under 1 MB (larger ones add pixel bytes, which both writers copy alike; kept out for CI time)
FILES = [f for f in pydicom_files() + deid_data_files() + shared_files() if f.stat().st_size < 1 << 20]


@pytest.fixture(scope="module")
def small_export(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """A small export of ``scripts/make_export.py`` (real headers in new studies, burned-in synthetic
    instances, several transfer syntaxes); seed 7301 is used by this test only."""
    spec = importlib.util.spec_from_file_location("make_export", ROOT / "scripts" / "make_export.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["make_export"] = mod
    spec.loader.exec_module(mod)
    out = tmp_path_factory.mktemp("export")
    mod.make_export(out, 24, seed=7301, n_burned_templates=3)
    return sorted(out.rglob("*.dcm"))


def _engine(name: str, keys: KeyRing) -> HeaderEngine:
    """The profile with the rules detector: the writer sees the same kinds of changed values (the
    learned scorer's equality is tests/header/test_scoring.py's)."""
    profile: Profile = load_profile(name)
    rules = profile.free_text.model_copy(update={"detector": FreeTextDetector.RULES})
    return HeaderEngine(profile.model_copy(update={"free_text": rules}), keys)


def _both(data: bytes, engine: HeaderEngine | None) -> tuple[bytes | Reason, bytes | Reason]:
    """One input read, de-identified (with an engine), then written by this writer and by pydicom's
    (in that order: this writer changes nothing pydicom's would not change itself before writing)."""
    try:
        ds = read_dicom(data)
        if engine is not None:
            res = engine.deidentify(ds, in_place=True)
            engine.finalize(res.dataset, PixelStatus.UNVERIFIED)
            ds = res.dataset
    except InputError as err:
        return err.reason, err.reason
    out: list[bytes | Reason] = []
    for reference in (False, True):
        try:
            out.append(write_dicom(ds, reference=reference))
        except InputError as err:
            out.append(err.reason)
    return out[0], out[1]


def _differing(paths: list[Path], engine: HeaderEngine | None) -> tuple[list[str], int]:
    """Names of the inputs whose two outputs differ, and how many outputs were written."""
    differ, written = [], 0
    for p in paths:
        fast, ref = _both(p.read_bytes(), engine)
        written += isinstance(ref, bytes)
        if fast != ref:
            differ.append(p.name)
    return differ, written


@pytest.mark.parametrize("profile", ["basic", "research", None])
def test_real_files_are_written_with_pydicoms_bytes(profile: str | None, test_keyring: KeyRing) -> None:
    if not FILES:
        pytest.skip("no real files")
    differ, written = _differing(FILES, _engine(profile, test_keyring) if profile else None)
    assert differ == []
    assert written >= 50


@pytest.mark.parametrize("profile", ["basic", "research"])
def test_an_export_is_written_with_pydicoms_bytes(profile: str, small_export: list[Path], test_keyring: KeyRing) -> None:
    differ, written = _differing(small_export, _engine(profile, test_keyring))
    assert differ == []
    assert written == len(small_export) == 24


def test_a_wrong_header_is_caught_by_the_comparison(test_keyring: KeyRing, monkeypatch: pytest.MonkeyPatch) -> None:
    """The equality above fails when the fast path writes different bytes: here every length field it
    writes is off by two (undefined lengths excepted)."""
    if not FILES:
        pytest.skip("no real files")
    pack = filewrite._PACK[True]
    monkeypatch.setitem(filewrite._PACK, True, (
        lambda g, e, vr, n: pack[0](g, e, vr, n + 2), lambda g, e, vr, z, n: pack[1](g, e, vr, z, _off(n)),
        lambda g, e, n: pack[2](g, e, _off(n))))
    differ, _ = _differing(FILES[:20], _engine("basic", test_keyring))
    assert len(differ) >= 10


def _off(n: int) -> int:
    return n if n == 0xFFFFFFFF else n + 2


def _edited(mutate: str) -> Dataset:
    ds = read_dicom((Path(pydicom.data.get_testdata_file("CT_small.dcm"))).read_bytes())  # type: ignore[arg-type]
    if mutate == "long text":  # a value too long for a 16-bit length: pydicom writes it as UN (PS3.5 6.2.2)
        ds.ImageComments = "x" * 70000
    elif mutate == "in memory":  # an element and a sequence made from scratch, among raw ones
        item = Dataset()
        item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = "113100", "DCM", "Basic Profile"
        ds.DeidentificationMethodCodeSequence = [item]
        ds.PatientComments = "abc"
    elif mutate == "undefined lengths":
        ds.DeidentificationMethodCodeSequence = [Dataset()]
        ds["DeidentificationMethodCodeSequence"].is_undefined_length = True
        ds.DeidentificationMethodCodeSequence[0].is_undefined_length_sequence_item = True
        ds.DeidentificationMethodCodeSequence[0].CodeValue = "113100"
    elif mutate == "charset":  # a new Specific Character Set: pydicom re-encodes the whole data set
        ds.SpecificCharacterSet = "ISO_IR 192"
        ds.PatientName = "Müller^Jürgen"
    return ds


@pytest.mark.parametrize("mutate", ["long text", "in memory", "undefined lengths", "charset"])
def test_edited_datasets_are_written_with_pydicoms_bytes(mutate: str) -> None:
    out = io.BytesIO()
    filewrite.save(_edited(mutate), out)
    ref = io.BytesIO()
    _edited(mutate).save_as(ref, enforce_file_format=True)
    assert out.getvalue() == ref.getvalue()


@pytest.mark.parametrize("name", ["CT_small.dcm", "JPEG2000.dcm", "MR_small_bigendian.dcm", "SC_rgb_rle.dcm"])
def test_pixel_data_shared_with_the_input_is_written_with_pydicoms_bytes(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pixel Data (7FE0,0010) written straight from its value: a memoryview shared with the input (as
    for inputs over ``SHARE_MIN``), native or encapsulated, little or big endian; and an odd length,
    which pydicom pads with one zero byte."""
    from deid import dicomio

    data = Path(str(pydicom.data.get_testdata_file(name))).read_bytes()
    monkeypatch.setattr(dicomio, "SHARE_MIN", 1)
    ds = read_dicom(data)
    elem = ds["PixelData"]
    assert isinstance(elem.value, memoryview) == (not elem.is_undefined_length)  # encapsulated: read as bytes
    assert write_dicom(ds) == write_dicom(read_dicom(data), reference=True)
    odd_fast, odd_ref = read_dicom(data), read_dicom(data)
    for ds_ in (odd_fast, odd_ref):
        if not ds_["PixelData"].is_undefined_length:
            ds_.PixelData = bytes(ds_.PixelData)[:-1]
    assert write_dicom(odd_fast) == write_dicom(odd_ref, reference=True)


def _numbers_and_text(name: str) -> Dataset:
    ds = read_dicom(Path(str(pydicom.data.get_testdata_file(name))).read_bytes())
    ds.Rows, ds.Columns = int(ds.Rows), 513  # converted numbers: their bytes follow the byte order
    ds.StudyDescription, ds.SeriesInstanceUID = "SAME TEXT", "1.2.3.4"  # odd lengths: padded
    return ds


def test_remembered_value_bytes_follow_the_byte_order() -> None:
    """The value bytes the writer remembers (``filewrite._ENCODED``) from a little endian data set
    are not reused in a big endian one, nor the reverse."""
    filewrite._ENCODED.clear()
    for name in ("CT_small.dcm", "MR_small_bigendian.dcm", "CT_small.dcm", "MR_small_bigendian.dcm"):
        out, ref = io.BytesIO(), io.BytesIO()
        filewrite.save(_numbers_and_text(name), out)
        _numbers_and_text(name).save_as(ref, enforce_file_format=True)
        assert out.getvalue() == ref.getvalue()
    assert filewrite._ENCODED
