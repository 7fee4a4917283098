"""The run's originals as keyed needles, for the verification pass (PS3.15 E.1: what identifies).

Each original input of the run (its bronze row) is read again and every identifying value, at every
depth, becomes the needles of :func:`deid.textmatch.needles` (the one tolerant matcher the cleaner
and the pixel stage use): person names in any order and case, IDs with or without separators and
leading zeros, dates in every common layout, institutions and their abbreviations, address
components, phone numbers and UIDs. Needles are hashed at once with the run's key
(:class:`KeyedHasher`), so no original value leaves the task in clear.

Which values are identifying: every PN (Table E.1-1 lists every PN it knows; an unlisted PN is
still a name), every non-registry UID (0008,0018 ... 0008,1155 at any depth), DA/DT values, and the
ID, place and contact attributes named below. A value the profile keeps as it is (action K, e.g.
Station Name under Retain Device Identity E.3.7, full dates under E.3.6) is not a needle: it is
meant to be in the output. Values that identify no one (``NONE``, ``UNKNOWN``, single characters,
DICOM vocabulary ...) never become needles (:func:`deid.textmatch.is_non_identifying`).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterator
from dataclasses import dataclass

from pydicom.datadict import keyword_for_tag
from pydicom.dataset import Dataset

from deid.header.profile import Action, DateTransform, Profile, ProfileOption
from deid.header.pseudonyms import is_registry_uid
from deid.header.table import ActionTable, build_action_table
from deid.keys import KeyRing, Purpose
from deid.textmatch import NeedleKind, needles, vocabulary

DIGEST_BYTES = 16
_CLASS_UID = re.compile(r"(ClassUID|TransferSyntaxUID|CodingSchemeUID|ImplementationClassUID)$")
_BY_KEYWORD: dict[str, NeedleKind] = {
    **{k: NeedleKind.ID for k in (
        "PatientID", "OtherPatientIDs", "AccessionNumber", "StudyID", "IssuerOfPatientID", "AdmissionID",
        "ServiceEpisodeID", "MedicalRecordLocator", "RequestedProcedureID", "ScheduledProcedureStepID",
        "PerformedProcedureStepID", "FillerOrderNumberImagingServiceRequest",
        "PlacerOrderNumberImagingServiceRequest", "DeviceSerialNumber", "PatientInsurancePlanCodeSequence",
        "InsurancePlanIdentification", "OtherPatientIDsSequence", "ClinicalTrialSubjectID",
        "ClinicalTrialSubjectReadingID", "DetectorID", "GantryID", "PerformedStationAETitle")},
    **{k: NeedleKind.INSTITUTION for k in (
        "InstitutionName", "InstitutionalDepartmentName", "ResponsibleOrganization", "IssuerOfAdmissionID",
        "ClinicalTrialSponsorName", "ClinicalTrialSiteName")},
    **{k: NeedleKind.ADDRESS for k in ("InstitutionAddress", "PatientAddress", "RegionOfResidence")},
    **{k: NeedleKind.PHONE for k in ("PatientTelephoneNumbers", "PersonTelephoneNumbers")},
    "StationName": NeedleKind.OTHER,
}
_TEXT = {"AE", "CS", "LO", "LT", "SH", "ST", "UC", "UT"}


class KeyedHasher:
    """HMAC-SHA256 of needle and span keys under the run's key, truncated to 16 bytes."""

    def __init__(self, keyring: KeyRing) -> None:
        self._base = hmac.new(keyring.derive(Purpose.CROSSWALK_HASH), b"needle\x00", hashlib.sha256)

    def __call__(self, key: str) -> bytes:
        h = self._base.copy()
        h.update(key.encode("utf-8", "surrogatepass"))
        return h.digest()[:DIGEST_BYTES]


@dataclass(frozen=True)
class NeedleRules:
    """What the profile keeps as it is (those values are not needles)."""

    table: ActionTable
    retain_uids: bool
    dates_changed: bool

    @classmethod
    def of(cls, profile: Profile) -> NeedleRules:
        opts = profile.options
        dates = (ProfileOption.RETAIN_LONGITUDINAL_MODIFIED_DATES in opts
                 or profile.date_transform is DateTransform.YEAR_ONLY)
        return cls(build_action_table(profile), ProfileOption.RETAIN_UIDS in opts, dates)

    def kind(self, tag: int, vr: str) -> NeedleKind | None:
        """The needle kind of an original element, or None when it is not identifying or is kept."""
        action = self.table.action_for(tag)
        if action is Action.K:
            return None
        keyword = keyword_for_tag(tag) or ""
        if vr == "PN":
            return NeedleKind.PERSON_NAME
        if vr == "UI":
            if self.retain_uids or _CLASS_UID.search(keyword):
                return None
            return NeedleKind.UID
        if vr in ("DA", "DT"):
            return NeedleKind.DATE if action is not None or self.dates_changed else None
        kind = _BY_KEYWORD.get(keyword)
        return kind if kind is not None and vr in _TEXT else None


def _values(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return [str(v) for v in value if v is not None]  # type: ignore[attr-defined]
    return [str(value)]


def identifying_values(ds: Dataset, rules: NeedleRules) -> Iterator[tuple[NeedleKind, str]]:
    """(kind, value) of every identifying value at every depth (iterative walk), file meta included."""
    stack: list[Dataset] = [ds]
    meta = getattr(ds, "file_meta", None)
    if meta is not None:
        stack.append(meta)
    while stack:
        current = stack.pop()
        for elem in current:
            vr = str(elem.VR)
            if vr == "SQ":
                stack.extend(elem.value or [])
                continue
            tag = int(elem.tag)
            private = bool((tag >> 16) & 1)
            if private and vr not in ("PN", "UI"):
                continue
            kind = rules.kind(tag, vr)
            if kind is None:
                continue
            for v in _values(elem.value):
                v = v.strip().strip("\x00").strip()
                if kind is NeedleKind.UID and (not v or is_registry_uid(v)):
                    continue
                if v:
                    yield kind, v


def needle_hashes(ds: Dataset, rules: NeedleRules, hasher: KeyedHasher,
                  kinds: frozenset[str]) -> dict[bytes, str]:
    """Keyed hash of every needle of the dataset -> the needle kind (``broad=False``: every needle
    found blocks a release, so only spellings that identify on their own; names: :func:`name_needles`)."""
    out: dict[bytes, str] = {}
    seen: set[tuple[NeedleKind, str]] = set()
    for kind, value in identifying_values(ds, rules):
        if kind.value not in kinds or (kind, value) in seen:
            continue
        seen.add((kind, value))
        for key in name_needles(value) if kind is NeedleKind.PERSON_NAME else needles(value, kind, broad=False):
            out.setdefault(hasher(key), kind.value)
    return out


def name_needles(value: str) -> frozenset[str]:
    """A name's needles: the narrow spellings (full name in any order, surname) plus each single
    given or middle name as the cleaner removes it (``broad``), unless that word is DICOM vocabulary
    or a common word ("Anna" alone is a finding; "Phantom" of "Water^Phantom" is not)."""
    narrow = needles(value, NeedleKind.PERSON_NAME, broad=False)
    extra = needles(value, NeedleKind.PERSON_NAME, broad=True) - narrow
    vocab = vocabulary()
    return narrow | {k for k in extra if " " not in k and k not in vocab and not k.isdigit()}
