"""A standard attribute written with a VR other than its dictionary VR (review finding, sixth session).

PS3.5 6.2 gives each standard attribute its VR (PS3.6 Table 6-1); PS3.5 7.1.2 (explicit VR) lets a
file declare another one, which readers then trust. A text attribute declared OB, OW or FD is never
converted, so its bytes would be written back as read, whatever the profile says about the attribute
(PS3.15 E.1: the action belongs to the attribute, not to how the file spelled its VR). Here the
dictionary VR decides:

* a value that decodes as the dictionary VR is replaced by that decoding (written with the dictionary
  VR) and processed as such: a UI is remapped, text is cleaned, a sequence (parsed as implicit VR
  little endian, like UN, PS3.5 6.2.2, else in the dataset's own encoding) is walked item by item;
* a value that does not decode (control characters in text, a UI that is not a UID, bytes that are
  not a sequence) is removed (default deny);
* binary-binary mismatches (OB vs OW, US vs SS, FL vs FD) that real files have are left alone: a
  number is never text, and the pixel modules read those values by the file's VR.
"""

from __future__ import annotations

import re
from functools import lru_cache

from pydicom import config
from pydicom.datadict import dictionary_VR
from pydicom.dataelem import DataElement, RawDataElement, convert_raw_data_element
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.tag import BaseTag

_BINARY = frozenset({"OB", "OW", "OF", "OD", "OL", "OV", "UN", "US", "SS", "UL", "SL", "UV", "SV",
                     "FL", "FD", "AT"})
# PS3.5 6.1.3 / Table 6.2-1: control characters allowed in a value (LT, ST, UT, UC also CR LF FF TAB)
_BAD_CHARS = {vr: re.compile(r"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f\x7f\ufffd]") for vr in ("LT", "ST", "UT")}
_BAD_SHORT = re.compile(r"[\x00-\x1a\x1c-\x1f\x7f\ufffd]")
_UID = re.compile(r"^[0-9.]{0,64}$")


@lru_cache(maxsize=4096)
def declared_vr(tag: int) -> str | None:
    """The dictionary VR of a standard attribute whose VR is not binary; None for the others."""
    try:
        vr = str(dictionary_VR(tag))
    except KeyError:
        return None
    if any(v in _BINARY for v in vr.split(" or ")):
        return None
    return vr


def mismatched(tag: int, file_vr: str) -> str | None:
    """The dictionary VR when the file's VR differs from it and the value must be re-read as it."""
    want = declared_vr(tag)
    if want is None or want == file_vr:
        return None
    return want


def _value_bytes(ds: Dataset, tag: int) -> bytes | None:
    elem = ds.get_item(tag)
    value = getattr(elem, "value", None)
    if isinstance(value, (bytes, bytearray)) and getattr(elem, "length", 0) != 0xFFFFFFFF:
        return bytes(value)
    if isinstance(elem, DataElement) and isinstance(value, str):
        return value.encode("utf-8")  # converted text in another text VR: the same characters
    return None


def _decoded(ds: Dataset, tag: int, vr: str, data: bytes) -> DataElement | None:
    modes = [(True, True)]
    if vr == "SQ":
        modes.append((bool(ds.is_implicit_VR), bool(ds.is_little_endian)))
    for implicit, little in modes:
        raw = RawDataElement(BaseTag(tag), vr, len(data), data, 0, implicit, little)
        try:
            with config.strict_reading():
                elem = convert_raw_data_element(raw, encoding=ds._character_set, ds=ds)
        except Exception:  # noqa: BLE001 - hostile bytes raise anything; it is not that VR
            continue
        if _valid(elem):
            return elem
    return None


def _valid(elem: DataElement) -> bool:
    """Decoded text has no control characters (PS3.5 6.1.3); a UI is a UID's form."""
    if elem.VR == "SQ":
        return True
    values = elem.value if isinstance(elem.value, (list, MultiValue)) else [elem.value]
    for v in values:
        if v is None:
            continue
        text = str(v)
        if elem.VR == "UI" and not _UID.match(text.rstrip("\x00 ")):
            return False
        if _BAD_CHARS.get(elem.VR, _BAD_SHORT).search(text.rstrip("\x00 ")):
            return False
    return True


def retype(ds: Dataset, tag: int, vr: str) -> bool:
    """Replace the element by its value decoded as ``vr`` (True), or remove it (False)."""
    data = _value_bytes(ds, tag)
    elem = None if data is None else _decoded(ds, tag, vr, data)
    if elem is None:
        del ds[tag]
        return False
    ds[tag] = elem
    return True
