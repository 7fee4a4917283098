"""Values kept as read without cleaning, checked for the instance's own identifiers (review finding 2).

PS3.15 E.1 keeps attributes Table E.1-1 does not list, and a coded string (CS, PS3.5 6.2) of valid
form is kept as read (:func:`deid.header.deny.standard_value_fits`). Its form does not make it safe:
DICOMDIR's Referenced File ID (0004,1500) names directories after the patient's ID, and Body Part
Examined, Image Type or a Graphic Layer can hold a name or an ID typed by hand. The tolerant matcher
the cleaner uses (:mod:`deid.textmatch`, every spelling of every identifier of the instance) runs on
each such value; a value that holds one is emptied (PS3.15 E.3: never kept). Defined terms of the
standard do not hold the instance's identifiers, so they stay untouched.
"""

from __future__ import annotations

from pydicom.datadict import tag_for_keyword
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

from deid.header.identifiers import Identifiers, value_needles
from deid.textmatch import NeedleKind, has_needle, vocabulary

# VRs whose kept values are written as read, never cleaned: codes, AE titles, numbers as text, and
# text on the profile's keep-list.
CHECKED_VRS = frozenset({"CS", "AE", "IS", "DS", "SH", "LO", "ST", "LT", "UT", "UC"})


# The patient's and the visit's own identifiers (PS3.15 E.1-1 rows for them); device and site values
# (Station Name, Device Serial Number) are not searched for: profiles that retain them keep them as read.
PATIENT_ID_KEYWORDS = ("PatientID", "OtherPatientIDs", "AccessionNumber", "AdmissionID", "MedicalRecordLocator",
                       "ServiceEpisodeID", "RequestedProcedureID", "ScheduledProcedureStepID",
                       "PerformedProcedureStepID", "FillerOrderNumberImagingServiceRequest",
                       "PlacerOrderNumberImagingServiceRequest")


_PATIENT_ID_TAGS = tuple((keyword, tag_for_keyword(keyword)) for keyword in PATIENT_ID_KEYWORDS)


def patient_ids(ds: Dataset) -> tuple[str, ...]:
    """The top-level patient and visit IDs of the original dataset (read before the walk changes them)."""
    out: list[str] = []
    held = ds._dict
    for keyword, tag in _PATIENT_ID_TAGS:
        if tag not in held:
            continue  # absent: what ds.get answers without its keyword look-up (issue #11)
        try:
            value = ds.get(keyword)
        except (ValueError, TypeError, KeyError, UnicodeError):
            continue
        values = value if isinstance(value, (list, MultiValue)) else [value]
        out.extend(str(v).strip() for v in values if v is not None and str(v).strip())
    return tuple(out)


def patient_needles(ids: Identifiers, patient_id_values: tuple[str, ...]) -> frozenset[str]:
    """Keys of the spellings that identify on their own (``broad=False``, as verification uses) of
    every person name of the instance and of the patient's IDs, less words of the standard's
    vocabulary (a PN "Enter text" must not empty a Value Type TEXT)."""
    out: set[str] = set()
    for kind, value in ids.values:
        if kind is NeedleKind.PERSON_NAME:
            out |= value_needles(value, kind, False)
    for value in patient_id_values:
        out |= value_needles(value, NeedleKind.ID, False)
    return frozenset(out - vocabulary())


def _text(raw: object) -> str:
    value = getattr(raw, "value", raw)
    if value is None:
        return ""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("latin-1")  # byte-faithful: matching only, the value is not converted
    if isinstance(value, (list, tuple, MultiValue)):
        return "\\".join(str(v) for v in value)
    return str(value)


# Values longer than this are not remembered by :func:`holds_identifier` (long numeric lists are rarely
# repeated and would fill the memo); its memo holds at most _MEMO_VALUES answers per needle set.
_MEMO_LEN = 4096
_MEMO_VALUES = 20_000


def holds_identifier(raw: object, needles: frozenset[str], memo: dict[str, bool] | None = None) -> bool:
    """Whether the element's value (raw bytes or converted) contains one of the ``needles`` keys.

    ``memo`` (text -> answer, for this one needle set) remembers the answer of
    :func:`deid.textmatch.has_needle`, a pure function of the text and the needles: a study's instances
    repeat their kept values (Image Type, Body Part Examined) and their patient's needles."""
    if not needles:
        return False
    text = _text(raw)
    if memo is None:
        return bool(text.strip(" \x00")) and has_needle(text, needles)
    found = memo.get(text)
    if found is None:
        found = bool(text.strip(" \x00")) and has_needle(text, needles)
        if len(text) <= _MEMO_LEN:
            if len(memo) >= _MEMO_VALUES:
                memo.clear()
            memo[text] = found
    return found
