"""Attestation of what was done: PS3.15 E.1.1 (Patient Identity Removed, De-identification Method and
its code sequence from CID 7050), Longitudinal Temporal Information Modified (0028,0303) and
Burned In Annotation (0028,0301)."""

from __future__ import annotations

from enum import Enum
from typing import Any, cast

from pydicom import config
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from deid import __version__
from deid.dicomio import blank_dataset, copied_element
from deid.header.profile import (
    BASIC_PROFILE_CODE,
    CLEAN_PIXEL_DATA_CODE,
    DateTransform,
    Profile,
    ProfileOption,
)


class PixelStatus(str, Enum):
    """What is known about burned-in identifying text in the pixel data."""

    NO_PIXEL_DATA = "no_pixel_data"
    CLEANED = "cleaned"  # the pixel stage checked every frame and redacted what it found
    DECLARED_NONE = "declared_none"  # BurnedInAnnotation NO, trusted for this modality by config
    UNVERIFIED = "unverified"  # pixels present and not checked: identity not known to be removed


CLEAN_STATUSES = frozenset({PixelStatus.NO_PIXEL_DATA, PixelStatus.CLEANED, PixelStatus.DECLARED_NONE})


def method_codes(profile: Profile, pixels_cleaned: bool) -> list[tuple[str, str]]:
    codes = [BASIC_PROFILE_CODE]
    if pixels_cleaned:
        codes.append(CLEAN_PIXEL_DATA_CODE)
    codes += sorted((o.code for o in profile.options), key=lambda c: c[0])
    return codes


def attest(ds: Dataset, profile: Profile, pixel_status: PixelStatus) -> bool:
    """Write the attestation attributes; return whether Patient Identity Removed is YES.

    YES only when the pixel data are known clean (no pixel data, cleaned by the pixel stage, or a
    trusted BurnedInAnnotation NO); otherwise NO, and the caller decides whether to release.
    """
    removed = pixel_status in CLEAN_STATUSES
    _put(ds, "PatientIdentityRemoved", "YES" if removed else "NO")
    cleaned = pixel_status is PixelStatus.CLEANED
    codes = method_codes(profile, cleaned)
    _put(ds, "DeidentificationMethod", [f"deid-pipeline {__version__}"[:64], f"profile {profile.name}"[:64]])
    seq = Sequence()
    for value, meaning in codes:
        seq.append(_code_item(value, meaning))
    ds.DeidentificationMethodCodeSequence = seq
    opts = profile.options
    if ProfileOption.RETAIN_LONGITUDINAL_FULL_DATES in opts:
        _put(ds, "LongitudinalTemporalInformationModified", "UNMODIFIED")
    elif ProfileOption.RETAIN_LONGITUDINAL_MODIFIED_DATES in opts or \
            profile.date_transform is DateTransform.YEAR_ONLY:
        _put(ds, "LongitudinalTemporalInformationModified", "MODIFIED")
    else:
        _put(ds, "LongitudinalTemporalInformationModified", "REMOVED")
    if cleaned or pixel_status is PixelStatus.DECLARED_NONE:
        _put(ds, "BurnedInAnnotation", "NO")
    return removed


def _put(ds: Dataset, keyword: str, value: Any) -> None:
    """``setattr(ds, keyword, value)`` for this module's own constant values: a new element is made
    without pydicom's value validation (the values are known valid) and without its keyword look-ups;
    an element already there is changed by pydicom as before."""
    tag = _TAGS.get(keyword) or tag_for_keyword(keyword)
    if tag is None or tag in ds._dict:
        setattr(ds, keyword, value)
        return
    elem = DataElement(tag, dictionary_VR(tag), value, validation_mode=config.IGNORE)
    ds._dict[elem.tag] = elem


def _code_item(value: str, meaning: str) -> Dataset:
    """A new item of De-identification Method Code Sequence (0012,0064) (PS3.15 E.1.1, CID 7050):
    Code Value, Coding Scheme Designator "DCM" and Code Meaning, each a new element copied from one
    made by :func:`_put` on first use (issue #11: ~20 of pydicom's ``DataElement.__init__`` per
    instance were ~5 % of the engine's CPU time; the values are immutable strings, the elements new)."""
    template = _ITEMS.get((value, meaning))
    if template is None:
        template = blank_dataset()
        _put(template, "CodeValue", value)
        _put(template, "CodingSchemeDesignator", "DCM")
        _put(template, "CodeMeaning", meaning)
        if len(_ITEMS) < 256:
            _ITEMS[(value, meaning)] = template
    item = blank_dataset()
    held = item._dict
    for tag, elem in template._dict.items():
        held[tag] = copied_element(cast(DataElement, elem))  # made by _put: never raw
    return item


# (code value, code meaning) -> an item whose elements are copied into each new item; never handed out
_ITEMS: dict[tuple[str, str], Dataset] = {}


_TAGS = {k: tag_for_keyword(k) for k in ("PatientIdentityRemoved", "DeidentificationMethod", "CodeValue",
                                         "CodingSchemeDesignator", "CodeMeaning",
                                         "LongitudinalTemporalInformationModified", "BurnedInAnnotation")}


def aggregate_age(ds: Dataset, over: int) -> None:
    """HIPAA Safe Harbor: ages over ``over`` years become one category, ``(over+1)`` years (AS)."""
    value = str(ds.get("PatientAge", "") or "")
    if len(value) == 4 and value[:3].isdigit() and value[3] == "Y" and int(value[:3]) > over:
        ds.PatientAge = f"{over + 1:03d}Y"
