"""Deterministic keyed replacements: UIDs, identifiers, names and the per-patient date shift.

All are HMAC-SHA256 under keys derived from the master key (:mod:`deid.keys`), so the same original
gives the same result on every run and machine, and nothing can be reversed without the key.
"""

from __future__ import annotations

import base64
import datetime as dt

from pydicom.uid import UID_dictionary

from deid.keys import KeyRing, Purpose

UID_ROOT = "2.25"
_MAX_UID = 64


def is_registry_uid(value: str) -> bool:
    """SOP classes, transfer syntaxes, coding schemes, ...: anything in pydicom's UID dictionary."""
    return value in UID_dictionary


def remap_uid(keys: KeyRing, uid: str) -> str:
    """PS3.15 E.1 action U: ``2.25.<integer>`` (PS3.5 B.2), at most 44 characters, valid UI."""
    uid = uid.strip().rstrip("\x00")
    if not uid or is_registry_uid(uid):
        return uid
    digest = keys.mac(Purpose.UID, uid.encode("ascii", "replace"))
    value = int.from_bytes(digest[:16], "big")  # 128 bits -> at most 39 digits
    out = f"{UID_ROOT}.{value}"
    assert len(out) <= _MAX_UID
    return out


def _token(keys: KeyRing, kind: str, original: str, length: int) -> str:
    """The first ``length`` base32 characters of the keyed digest. Base32 writes 8 characters per 5
    bytes, so up to 16 characters come from the digest's first 10 bytes alone: only those are
    encoded (the same characters, less than half the work of encoding all 32: issue #11)."""
    digest = keys.mac(Purpose.PSEUDONYM, f"{kind}\x00{original}".encode())
    if length <= 16:
        return base64.b32encode(digest[:10]).decode("ascii")[:length]
    return base64.b32encode(digest).decode("ascii").rstrip("=")[:length]


def pseudo_id(keys: KeyRing, kind: str, original: str, max_len: int = 16) -> str:
    """An identifier pseudonym (LO/SH safe: upper-case letters and digits, <= max_len)."""
    return _token(keys, kind, original.strip(), min(max_len, 16))


def pseudo_name(keys: KeyRing, original: str) -> str:
    """A PN pseudonym ``ANON^<token>``; names that differ only in case/spacing map together."""
    normal = "^".join(p.strip().upper() for p in original.split("^")).rstrip("^")
    return f"ANON^{_token(keys, 'name', normal, 10)}"


def date_shift_days(keys: KeyRing, patient_key: str, min_days: int, max_days: int) -> int:
    """One keyed offset per patient in [min_days, max_days] (PS3.15 E.3.6 Modified Dates)."""
    digest = keys.mac(Purpose.DATE_SHIFT, patient_key.encode("utf-8"))
    span = max_days - min_days + 1
    return min_days + int.from_bytes(digest[:8], "big") % span


def shift_da(value: str, days: int) -> str:
    """Shift a DA value (YYYYMMDD, or a DA range 'A-B'); unparsable values become empty."""
    if "-" in value:
        return "-".join(shift_da(p, days) if p else "" for p in value.split("-"))
    v = value.strip()
    try:
        d = dt.datetime.strptime(v[:8], "%Y%m%d").date()
    except ValueError:
        return ""
    return (d + dt.timedelta(days=days)).strftime("%Y%m%d")


def shift_dt(value: str, days: int) -> str:
    """Shift the date part of a DT value, keeping time and UTC offset (intervals survive)."""
    v = value.strip()
    if len(v) < 8:
        return ""
    shifted = shift_da(v[:8], days)
    return shifted + v[8:] if shifted else ""


def year_only_da(value: str) -> str:
    v = value.strip()
    return f"{v[:4]}0101" if len(v) >= 4 and v[:4].isdigit() else ""


def year_only_dt(value: str) -> str:
    v = value.strip()
    return f"{v[:4]}0101" if len(v) >= 4 and v[:4].isdigit() else ""
