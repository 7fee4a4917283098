"""``dicomio.replace_raw_value`` makes the element pydicom makes by converting a raw element and then
assigning the new value (issue #11: the header engine empties action-Z text elements without
converting the dropped value; not one output byte may change)."""

from __future__ import annotations

import io
from pathlib import Path

import pydicom
import pydicom.data
import pytest
from pydicom.data import get_testdata_file
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag

from deid.dicomio import (
    _DECODED_VRS,
    element,
    element_vr,
    quiet_values,
    read_dicom,
    replace_raw_value,
    write_dicom,
)
from deid.errors import InputError
from deid.header.values import empty_value


def _raw(tag: int, vr: str | None, value: bytes | None, length: int | None = None) -> RawDataElement:
    size = len(value or b"") if length is None else length
    return RawDataElement(BaseTag(tag), vr, size, value, 0, vr is None, True)


def _targets(ds: Dataset) -> list[tuple[Dataset, BaseTag, str]]:
    """Every public raw element at every depth whose VR is one replace_raw_value may handle."""
    out = []
    stack = [ds]
    while stack:
        current = stack.pop()
        for tag in list(current._dict):
            vr = element_vr(current, tag)
            if vr == "SQ":
                stack.extend(element(current, tag).value)
            elif vr in _DECODED_VRS and not (tag >> 16) & 1 and type(current._dict[tag]) is RawDataElement:
                out.append((current, tag, vr))
    return out


def _path(name: str) -> str:
    if name.startswith("charset:"):
        return str(Path(pydicom.data.__file__).parent / "charset_files" / name.split(":", 1)[1])
    return str(get_testdata_file(name))


@pytest.mark.parametrize("name", ["CT_small.dcm", "MR_small.dcm", "rtplan.dcm", "rtstruct.dcm", "image_dfl.dcm",
                                  "MR_small_bigendian.dcm", "MR_small_implicit.dcm", "charset:chrH31.dcm",
                                  "charset:chrJapMulti.dcm", "charset:chrSQEncoding.dcm", "charset:chrGreek.dcm"])
@pytest.mark.parametrize("new", ["empty", "X"])
def test_replacing_as_read_writes_what_converting_then_assigning_writes(name: str, new: str) -> None:
    """pydicom's test files (explicit and implicit VR, big endian, deflated, sequences, other character
    sets): every element replaced either way, the files written are the same bytes."""
    data = Path(_path(name)).read_bytes()

    def read() -> Dataset:
        try:
            return read_dicom(data)
        except InputError:  # e.g. no SOP Instance UID: pydicom's own reading
            return pydicom.dcmread(io.BytesIO(data), force=True)

    with quiet_values():
        _targets(read())  # element_vr remembers dictionary VRs: both reads then look alike
        fast, slow = read(), read()
        targets = _targets(fast)
        assert targets
        replaced = 0
        for (ds, tag, vr), (ds2, _, _) in zip(targets, _targets(slow), strict=True):
            value = empty_value(vr) if new == "empty" else "X"
            if replace_raw_value(ds, tag, vr, value):
                replaced += 1
                assert type(ds._dict[tag]) is DataElement
            else:
                element(ds, tag).value = value
            element(ds2, tag).value = value
            mine, theirs = ds._dict[tag], ds2._dict[tag]
            assert (mine.tag, mine.VR, mine.value, mine.is_undefined_length) == \
                   (theirs.tag, theirs.VR, theirs.value, theirs.is_undefined_length)
        assert replaced
        if "SOPInstanceUID" in slow:
            assert write_dicom(fast) == write_dicom(slow)
        buf_fast, buf_slow = io.BytesIO(), io.BytesIO()
        fast.save_as(buf_fast)
        slow.save_as(buf_slow)
        assert buf_fast.getvalue() == buf_slow.getvalue()


@pytest.mark.parametrize("value", [b"", b"AB", b"A\\B ", b"\xe9t\xe9 ", b"  ", b"X\x00", b"1\\2\\3 "])
@pytest.mark.parametrize(("tag", "vr"), [(0x00081030, "LO"), (0x00081030, None), (0x00080050, "SH"),
                                          (0x00081040, "LO"), (0x00104000, "LT"), (0x00080060, "CS"),
                                          (0x00101010, "AS"), (0x00080020, "DA"), (0x00080030, "TM"),
                                          (0x0008002A, "DT"), (0x00081190, "UR")])
def test_single_elements_multi_valued_and_empty(value: bytes, tag: int, vr: str | None) -> None:
    ds, ds2 = Dataset(), Dataset()
    ds._dict[BaseTag(tag)] = _raw(tag, vr, value)
    ds2._dict[BaseTag(tag)] = _raw(tag, vr, value)
    as_vr = element_vr(ds, BaseTag(tag))
    with quiet_values():
        done = replace_raw_value(ds, BaseTag(tag), as_vr, empty_value(as_vr))
        element(ds2, BaseTag(tag)).value = empty_value(as_vr)
    assert done
    mine, theirs = ds[tag], ds2[tag]
    assert (mine.VR, mine.value, mine.VM) == (theirs.VR, theirs.value, theirs.VM)
    assert _written(ds) == _written(ds2)


def _written(ds: Dataset) -> bytes:
    buf = io.BytesIO()
    with quiet_values():
        ds.save_as(buf, implicit_vr=False, little_endian=True)
    return buf.getvalue()


def test_other_elements_are_left_to_pydicom() -> None:
    ds = Dataset()
    cases = {
        0x00080005: _raw(0x00080005, "CS", b"ISO_IR 100"),  # Specific Character Set: pydicom's steps
        0x00081030: _raw(0x00081030, "UN", b"ABC "),  # read as UN
        0x00081040: _raw(0x00081040, "LO", None, 4),  # a deferred value
        0x00104000: _raw(0x00104000, "LT", b"", 0xFFFFFFFF),  # undefined length
        0x00201041: _raw(0x00201041, "DS", b"1.5 "),  # numbers: their conversion may fail
        0x00091010: _raw(0x00091010, "LO", b"ABC "),  # private
    }
    for tag, raw in cases.items():
        ds._dict[BaseTag(tag)] = raw
    ds.StudyDescription = "converted"  # (0008,1030): no longer as read
    for tag, raw in cases.items():
        vr = raw.VR if raw.VR != "UN" else "LO"
        assert not replace_raw_value(ds, BaseTag(tag), vr, "")
    assert not replace_raw_value(ds, BaseTag(0x00081030), "LO", "")
    implicit = Dataset()
    implicit._dict[BaseTag(0x00280106)] = _raw(0x00280106, None, b"\x00\x00")  # "US or SS": no dictionary VR
    assert not replace_raw_value(implicit, BaseTag(0x00280106), "US", None)
    mismatch = Dataset()
    mismatch._dict[BaseTag(0x00081030)] = _raw(0x00081030, "SH", b"ABC ")
    assert not replace_raw_value(mismatch, BaseTag(0x00081030), "LO", "")  # read as another VR


def test_a_hosts_converter_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydicom import values
    from pydicom.valuerep import VR

    seen = []

    def convert(*args: object, **kwargs: object) -> str:
        seen.append(1)
        return "host"

    monkeypatch.setitem(values.converters, VR.LO, convert)
    ds = Dataset()
    ds._dict[BaseTag(0x00081030)] = _raw(0x00081030, "LO", b"ABC ")
    assert not replace_raw_value(ds, BaseTag(0x00081030), "LO", "")
    monkeypatch.setattr(pydicom.config, "datetime_conversion", True)
    ds._dict[BaseTag(0x00080020)] = _raw(0x00080020, "DA", b"20200101")
    assert not replace_raw_value(ds, BaseTag(0x00080020), "DA", "")
