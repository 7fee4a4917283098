"""Default deny for what Table E.1-1 does not list (issue 14 item 3).

* PS3.10 7.1: the 128-byte preamble is zeroed; the file meta keeps only the elements PS3.10 defines
  and the writer sets (no AE titles, presentation addresses or private information), and File Meta
  Information Version (0002,0001) is reset to 00H 01H.
* PS3.5 7.1: group 0000 (command) elements, group 0002 inside the data set, and the illegal odd groups
  0001, 0003, 0005, 0007 and FFFF are removed.
* PS3.15 E.3.10: a Retain Safe Private element is kept only when creator, element, VR and value form
  all match the profile's entry (numbers stay numbers, codes stay listed codes).
* Class / registry UID attributes (SOP Class UID, Transfer Syntax UID, Referenced SOP Class UID,
  Coding Scheme UID ...) must hold a UID of the registry (PS3.6 Annex A, pydicom's ``UID_dictionary``):
  the SOP class and transfer syntax of the instance itself are refused (quarantine), nested ones lose
  their value.
* Standard attributes Table E.1-1 does not list whose VR has a fixed form (PS3.5 Table 6.2-1: CS, AS,
  DA, TM, DT, IS, DS) keep their value only when it has that form. A value of another form is text
  in disguise (e.g. free text written as UN for Content Qualification (0018,9004), a CS): removed.
* SR Code Meaning (0008,0104): for a code the standard knows (PS3.16, pydicom's SR concept
  dictionaries), the standard's meaning replaces whatever the file wrote.
"""

from __future__ import annotations

import re
from functools import lru_cache

from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.uid import UID_dictionary

from deid.dicomio import element, raw_text_value
from deid.errors import InputError, Reason

PREAMBLE = b"\x00" * 128
META_VERSION = b"\x00\x01"
# PS3.10 Table 7.1-1 elements the writer keeps (deid.dicomio.write_dicom sets the same set).
META_KEEP = frozenset({0x00020000, 0x00020001, 0x00020002, 0x00020003, 0x00020010, 0x00020012, 0x00020013})
_ILLEGAL_ODD = frozenset({0x0001, 0x0003, 0x0005, 0x0007, 0xFFFF})
CLASS_UID_KEYWORD = re.compile(r"(SOPClassUID|SOPClassUIDInFile|SOPClassesSupported|TransferSyntaxUID|"
                               r"TransferSyntaxUIDInFile|CodingSchemeUID)$")
# The instance's own class and encoding: without a registered value it cannot be released at all.
ESSENTIAL_CLASS_UIDS = frozenset({"SOPClassUID", "MediaStorageSOPClassUID", "TransferSyntaxUID"})
_NUMERIC_STRING = {"IS": re.compile(r"^\s*[+-]?\d{1,12}\s*$"),
                   "DS": re.compile(r"^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$")}
# PS3.5 Table 6.2-1 forms, per value (after trailing padding is stripped). DA also accepts the
# ACR-NEMA "YYYY.MM.DD" form still found in real files.
_FORMED = {
    "CS": re.compile(r"^[A-Z0-9 _]{0,16}$"),
    "AS": re.compile(r"^(?:\d{3}[DWMY])?$"),
    "DA": re.compile(r"^(?:\d{8}|\d{4}\.\d{2}\.\d{2})?$"),
    "TM": re.compile(r"^(?:\d{2}(?::?\d{2}(?::?\d{2}(?:\.\d{1,6})?)?)?)?$"),
    "DT": re.compile(r"^(?:\d{4}(?:\d{2}(?:\d{2}(?:\d{2}(?:\d{2}(?:\d{2}(?:\.\d{1,6})?)?)?)?)?)?"
                     r"(?:[+-]\d{4})?)?$"),
    "IS": re.compile(r"^(?:\s*[+-]?\d{1,12}\s*)?$"),
    "DS": re.compile(r"^(?:\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*)?$"),
}
FORMED_VRS = frozenset(_FORMED)
# Whole multi-valued IS/DS texts (thousands of contour or grid numbers) accepted in one match: every
# value of such a text also matches its form above (a stricter form, unambiguous so that a failing
# match backtracks in linear time); a text it does not accept is checked value by value.
_NUMBER = {"IS": r" *[+-]?\d{1,12} *", "DS": r" *[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)? *"}
_NUMBER_LIST = {vr: re.compile(rf"{p}(?:\\{p})*") for vr, p in _NUMBER.items()}
_BINARY_WIDTH = {"US": 2, "SS": 2, "UL": 4, "SL": 4, "FL": 4, "FD": 8, "UV": 8, "SV": 8}


def clean_file_meta(ds: Dataset) -> None:
    """Zero the preamble; keep only :data:`META_KEEP` in the file meta; reset (0002,0001)."""
    ds.preamble = PREAMBLE
    meta = getattr(ds, "file_meta", None)
    if meta is None:
        return
    for tag in list(meta.keys()):
        if int(tag) not in META_KEEP:
            del meta[tag]
    meta.FileMetaInformationVersion = META_VERSION


def illegal_group(tag: int) -> bool:
    """Group 0000 (command), 0002 (file meta, not allowed in the data set), odd 0001-0007 and FFFF."""
    group = tag >> 16
    return group in (0x0000, 0x0002) or group in _ILLEGAL_ODD


def is_class_uid(keyword: str) -> bool:
    return bool(CLASS_UID_KEYWORD.search(keyword))


def check_class_uid(elem: DataElement, top_level: bool) -> None:
    """A class/registry UID attribute holding anything but registry UIDs: the instance is refused
    (its own SOP class or transfer syntax) or the value is removed (nested references, schemes)."""
    values = [str(v).strip().rstrip("\x00") for v in (elem.value if elem.VM > 1 else [elem.value])]
    if all(not v or v in UID_dictionary for v in values):
        return
    keyword = elem.keyword or ""
    if top_level and keyword in ESSENTIAL_CLASS_UIDS:
        raise InputError(Reason.INVALID_VALUE,
                         f"{keyword} {_tag(int(elem.tag))} does not hold a UID of the DICOM registry")
    elem.value = ""


def _tag(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def private_value_fits(elem: DataElement, vr: str, vm: int | None, values: tuple[str, ...]) -> bool:
    """The element has the listed VR and its value has that VR's form: numbers parse as numbers,
    binary numbers have the right width and count, codes are among the listed values."""
    raw = elem.value
    if elem.VR not in (vr, "UN"):
        return False
    if vr in _BINARY_WIDTH:
        data = raw if isinstance(raw, (bytes, bytearray)) else None
        if data is None:
            items = list(raw) if isinstance(raw, (list, tuple, MultiValue)) else [raw]
            return all(isinstance(x, (int, float)) for x in items) and (vm is None or len(items) == vm)
        width = _BINARY_WIDTH[vr]
        return len(data) % width == 0 and (vm is None or len(data) == width * vm)
    text = raw.decode("ascii", "replace") if isinstance(raw, (bytes, bytearray)) else raw
    items = [str(x) for x in (text if isinstance(text, (list, tuple, MultiValue))
                              else str(text or "").split("\\"))]
    if vm is not None and len(items) != vm:
        return False
    if vr in _NUMERIC_STRING:
        return all(_NUMERIC_STRING[vr].match(x) for x in items)
    if values:
        return all(x.strip().rstrip("\x00") in values for x in items)
    return False  # text of any other form is never retained


def standard_value_fits(raw: object, vr: str) -> bool:
    """Whether every value of a fixed-form VR (:data:`FORMED_VRS`) has that VR's form (PS3.5 6.2).

    ``raw`` is the element as read (raw bytes are checked without converting the element, so a kept
    element is still written back byte for byte) or a converted value."""
    form = _FORMED.get(vr)
    if form is None:
        return True
    value = getattr(raw, "value", raw)
    if value is None:
        return True
    if isinstance(value, (bytes, bytearray)):
        try:
            text = bytes(value).decode("ascii")
        except UnicodeDecodeError:
            return False
    elif isinstance(value, (list, tuple, MultiValue)):
        text = None
    else:
        text = str(value)
    if text is None:
        items = [str(x) for x in value]  # type: ignore[attr-defined]
    else:
        text = text.rstrip(" \x00")
        fast = _NUMBER_LIST.get(vr)
        if fast is not None and fast.fullmatch(text):
            return True
        items = text.split("\\")
    return all(form.match(item.strip(" \x00") if vr not in ("IS", "DS") else item.rstrip("\x00"))
               for item in items)


@lru_cache(maxsize=1)
def _meanings() -> dict[tuple[str, str], str]:
    """(coding scheme designator, code value) -> meaning, from PS3.16 via pydicom."""
    from pydicom.sr._concepts_dict import concepts

    out: dict[tuple[str, str], str] = {}
    for scheme, by_keyword in concepts.items():
        for codes in by_keyword.values():
            for code, (meaning, _cids) in codes.items():  # type: ignore[attr-defined]
                out[(scheme, code)] = meaning
    return out


_CODE_VALUE = 0x00080100  # (0008,0100) Code Value
_CODING_SCHEME_DESIGNATOR = 0x00080102  # (0008,0102) Coding Scheme Designator


def _held_value(item: Dataset, tag: int) -> object:
    """``item.get(keyword, "")`` by tag: the element's value, or "" when the item does not hold it; a
    plain text value still as read is read from its bytes and left unconverted (it is written back
    byte for byte: :func:`deid.dicomio.raw_text_value`, issue #11)."""
    if tag not in item._dict:
        return ""
    text = raw_text_value(item, tag)
    return text if text is not None else element(item, tag).value


def standard_meaning(item: Dataset) -> str | None:
    """The standard's meaning of the item's code, or None when the standard does not know the code."""
    scheme = str(_held_value(item, _CODING_SCHEME_DESIGNATOR) or "").strip()
    code = str(_held_value(item, _CODE_VALUE) or "").strip()
    if not scheme or not code:
        return None
    return _meanings().get((scheme, code))
