"""Values read from raw elements without pydicom's conversion machinery are pydicom's own (issue #11:
the header engine's speed work must not change one output byte)."""

from __future__ import annotations

import base64
import random
import warnings
from pathlib import Path

import pydicom
import pydicom.data
import pytest
from pydicom.data import get_testdata_file
from pydicom.dataelem import RawDataElement, convert_raw_data_element
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag

from deid import dicomio
from deid.dicomio import element_vr, quiet_values, raw_uid_values, raw_vr
from deid.header import pseudonyms
from deid.keys import KeyRing, Purpose


def _raw(tag: int, vr: str | None, value: bytes, implicit: bool = False) -> RawDataElement:
    return RawDataElement(BaseTag(tag), vr, len(value), value, 0, implicit, True)


_UI_VALUES = [b"1.2.840.10008.5.1.4.1.1.2\x00", b"1.2.3", b"1.2.3 ", b" 1.2.3\x00\x00", b"1.2.3\\4.5.6\x00",
              b"1.2.3\\\\4.5", b"\x00\x00", b"  ", b"1.2.3\\ 4.5 \\6\x00", b"1.2.\xe93"]


@pytest.mark.parametrize("value", _UI_VALUES)
@pytest.mark.parametrize("vr", ["UI", None])
def test_raw_uid_values_are_pydicoms(value: bytes, vr: str | None) -> None:
    ds = Dataset()
    raw = _raw(0x00081155, vr, value, implicit=vr is None)
    ds._dict[raw.tag] = raw
    got = raw_uid_values(ds, raw.tag)
    with quiet_values():
        elem = convert_raw_data_element(raw, encoding="iso8859", ds=ds)
    expected = [str(v) for v in elem.value] if elem.VM > 1 else [str(elem.value)]
    assert got == expected
    assert type(ds._dict[raw.tag]) is RawDataElement  # read, never converted


def test_raw_uid_values_leave_other_elements_to_pydicom() -> None:
    ds = Dataset()
    ds._dict[BaseTag(0x00081150)] = _raw(0x00081150, "UN", b"1.2.3\x00")
    ds._dict[BaseTag(0x00081155)] = _raw(0x00081155, "UI", b"")
    ds.SOPInstanceUID = "1.2.3"  # converted already
    for tag in (0x00081150, 0x00081155, 0x00080018):
        assert raw_uid_values(ds, BaseTag(tag)) is None


def _elements_of(path: str) -> list[tuple[Dataset, BaseTag]]:
    ds = pydicom.dcmread(path, force=True)
    out = []
    stack = [ds]
    while stack:
        current = stack.pop()
        for tag in list(current._dict):
            if (tag >> 16) & 1 or int(tag) in (0x00080005, 0x7FE00010):
                continue
            out.append((current, tag))
            if raw_vr(current, tag) == "SQ":
                stack.extend(current[tag].value)
    return out


@pytest.mark.parametrize("name", ["CT_small.dcm", "MR_small.dcm", "rtplan.dcm", "rtstruct.dcm",
                                  "JPEG2000.dcm", "image_dfl.dcm", "MR_small_bigendian.dcm",
                                  "MR_small_implicit.dcm", "charset:chrH31.dcm", "charset:chrJapMulti.dcm",
                                  "charset:chrSQEncoding.dcm", "charset:chrGreek.dcm"])
def test_conversion_without_hook_dispatch_is_pydicoms(name: str) -> None:
    """``dicomio._converted`` makes the element ``convert_raw_data_element`` makes, for every public
    raw element of pydicom's test files (explicit, implicit, big endian, other character sets)."""
    if name.startswith("charset:"):  # pydicom's character set files
        path = str(Path(pydicom.data.__file__).parent / "charset_files" / name.split(":", 1)[1])
    else:
        path = get_testdata_file(name)
    assert path is not None
    seen = 0
    with quiet_values(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for ds, tag in _elements_of(str(path)):
            raw = ds._dict[tag]
            if type(raw) is not RawDataElement or raw.value is None:
                continue
            encoding = ds.original_character_set or ds._character_set
            ours = dicomio._converted(raw, encoding, ds)
            theirs = convert_raw_data_element(raw, encoding=encoding, ds=ds)
            assert (ours.tag, ours.VR, ours.file_tell, ours.is_undefined_length) == \
                (theirs.tag, theirs.VR, theirs.file_tell, theirs.is_undefined_length)
            assert type(ours.value) is type(theirs.value)
            if ours.VR != "SQ":
                assert ours.value == theirs.value
            seen += 1
    assert seen >= 4


def test_element_vr_of_implicit_elements_is_raw_vrs() -> None:
    path = get_testdata_file("MR_small_implicit.dcm")
    assert path is not None
    for ds, tag in _elements_of(str(path)):
        assert element_vr(ds, tag) == raw_vr(ds, tag)
        assert element_vr(ds, tag) == raw_vr(ds, tag)  # remembered: the same answer


def test_short_tokens_are_the_full_encodings_prefix() -> None:
    """``pseudonyms._token`` encodes only the digest bytes its characters come from."""
    keys = KeyRing(bytes(range(32)))
    rng = random.Random(11)
    for _ in range(300):
        original = "".join(rng.choice("ABCDEFGHIJ0123456789^ ") for _ in range(rng.randint(0, 20)))
        digest = keys.mac(Purpose.PSEUDONYM, f"id\x00{original}".encode())
        full = base64.b32encode(digest).decode("ascii").rstrip("=")
        for length in (1, 8, 10, 15, 16, 20, 60):
            assert pseudonyms._token(keys, "id", original, length) == full[:length]


def test_pseudonyms_unchanged() -> None:
    keys = KeyRing(bytes(range(32)))
    assert pseudonyms.pseudo_id(keys, "id", "12345") == \
        base64.b32encode(keys.mac(Purpose.PSEUDONYM, b"id\x0012345")).decode("ascii")[:16]


_TEXT_VALUES = [b"T-D1100 ", b"SRT", b"SRT ", b"99SDM\x00", b"AB  ", b" AB ", b"", b"A\\B ", b"A~B ", b"\xe9AB ",
                b"121311", b"12131 ", b"  ", b"a b c ", b"X\x00"]


def _written(ds: Dataset) -> bytes:
    import io

    buf = io.BytesIO()
    with quiet_values():
        ds.save_as(buf, implicit_vr=False, little_endian=True)
    return buf.getvalue()


@pytest.mark.parametrize("value", _TEXT_VALUES)
@pytest.mark.parametrize(("tag", "vr"), [(0x00080100, "SH"), (0x00080100, None), (0x00080102, "SH"),
                                          (0x00081030, "LO"), (0x00080100, "LO")])
def test_raw_text_value_is_pydicoms_and_writes_as_read(value: bytes, tag: int, vr: str | None) -> None:
    ds = Dataset()
    raw = _raw(tag, vr, value, implicit=vr is None)
    ds._dict[raw.tag] = raw
    got = dicomio.raw_text_value(ds, tag)  # a plain int tag, as the engine asks
    assert type(ds._dict[raw.tag]) is RawDataElement  # read, never converted
    with quiet_values():
        elem = convert_raw_data_element(raw, encoding="iso8859", ds=ds)
    if got is None:
        assert value in (b"SRT", b"99SDM\x00", b"AB  ", b"A\\B ", b"A~B ", b"\xe9AB ", b"  ", b"X\x00")
        return
    assert got == (elem.value if elem.value is not None else "")
    as_read = Dataset()
    as_read._dict[raw.tag] = raw
    converted = Dataset()
    converted[raw.tag] = elem
    assert _written(as_read) == _written(converted)  # left as read, the same bytes are written


def test_raw_text_value_leaves_other_elements_to_pydicom() -> None:
    ds = Dataset()
    ds._dict[BaseTag(0x00080100)] = _raw(0x00080100, "UN", b"ABC ")
    ds._dict[BaseTag(0x00080104)] = _raw(0x00080104, "LT", b"ABC ")  # not SH/LO
    ds.CodingSchemeDesignator = "DCM"  # converted already
    for tag in (0x00080100, 0x00080104, 0x00080102):
        assert dicomio.raw_text_value(ds, tag) is None
