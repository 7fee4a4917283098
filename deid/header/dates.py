"""What the C (clean) action does to a DA/DT value under the profile (PS3.15 E.3.6 Retain Longitudinal
Temporal Information with Modified Dates; HIPAA Safe Harbor's year only), in one place.

The header engine applies it to every date it cleans; the verification pass uses it to tell a correctly
transformed date from an original one (:func:`deid.quality.verify.own_value`): a date shifted by its own
patient's keyed offset may, by coincidence, be the original date of another attribute of the same input.
"""

from __future__ import annotations

from pydicom.dataset import Dataset

from deid.header.profile import DateTransform, Profile, ProfileOption
from deid.header.pseudonyms import date_shift_days, shift_da, shift_dt, year_only_da, year_only_dt
from deid.header.values import dummy_value
from deid.keys import KeyRing


def patient_key(ds: Dataset) -> str:
    """What identifies the patient for per-patient values: Patient ID (0010,0020), else Patient's Name
    (0010,0010), else Study Instance UID (0020,000D)."""
    for kw in ("PatientID", "PatientName", "StudyInstanceUID"):
        value = str(ds.get(kw, "") or "").strip()
        if value:
            return f"{kw}:{value}"
    return "unknown-patient"


def dates_modified(profile: Profile) -> bool:
    """Whether the profile keeps dates as modified dates (E.3.6) rather than replacing them with dummies."""
    return ProfileOption.RETAIN_LONGITUDINAL_MODIFIED_DATES in profile.options


def shift_for(keys: KeyRing, profile: Profile, ds: Dataset, memo: dict[str, int] | None = None) -> int | None:
    """The keyed offset in days of the patient of ``ds`` (one per patient, E.3.6), or None when the
    profile does not shift dates. ``memo`` (patient key -> offset, for this one key ring and profile)
    remembers offsets: a study's instances share their patient's (one keyed HMAC each, issue #11);
    PHI in memory only, the caller bounds it."""
    if not dates_modified(profile) or profile.date_transform is not DateTransform.SHIFT:
        return None
    key = patient_key(ds)
    if memo is not None and key in memo:
        return memo[key]
    shift = date_shift_days(keys, key, profile.date_shift.min_days, profile.date_shift.max_days)
    if memo is not None:
        memo[key] = shift
    return shift


def transform_date(profile: Profile, shift: int | None, value: str, vr: str) -> str:
    """The cleaned form of one DA or DT value: year only, shifted by ``shift`` days, or the VR's dummy
    value when the profile does not keep modified dates (or no offset is known)."""
    if not value.strip():
        return value
    if profile.date_transform is DateTransform.YEAR_ONLY:
        return year_only_da(value) if vr == "DA" else year_only_dt(value)
    if not dates_modified(profile) or shift is None:
        return dummy_value(vr)
    return shift_da(value, shift) if vr == "DA" else shift_dt(value, shift)
