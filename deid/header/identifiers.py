"""The instance's own identifying values, collected before scrubbing.

They drive Clean Descriptors / Clean Structured Content (PS3.15 E.3.5, E.3.4) and the header-value
match of the pixel stage. They are PHI: they live in memory only and are never logged or persisted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from pydicom.datadict import tag_for_keyword
from pydicom.dataset import Dataset

from deid.dicomio import element, element_vr, raw_uid_values
from deid.textmatch import NeedleKind, needles

# Attributes whose values identify the patient, the visit or the site (PS3.15 Table E.1-1 rows that
# carry names, IDs, dates, places and contact details).
ID_KEYWORDS = (
    "PatientID", "OtherPatientIDs", "AccessionNumber", "StudyID", "IssuerOfPatientID",
    "AdmissionID", "ServiceEpisodeID", "PatientInsurancePlanCodeSequence", "MedicalRecordLocator",
    "RequestedProcedureID", "ScheduledProcedureStepID", "PerformedProcedureStepID",
    "FillerOrderNumberImagingServiceRequest", "PlacerOrderNumberImagingServiceRequest",
    "DeviceSerialNumber", "PatientTelephoneNumbers", "MilitaryRank", "BranchOfService",
)
PLACE_KEYWORDS = (
    "InstitutionName", "InstitutionAddress", "InstitutionalDepartmentName", "StationName",
    "PatientAddress", "RegionOfResidence", "CountryOfResidence", "PatientBirthName",
    "PatientMotherBirthName", "ResponsibleOrganization", "PatientInsurancePlanCodeSequence",
)
# How a value of each attribute is written in text (deid.textmatch needles); others: ID or name.
_KIND_BY_KEYWORD = {
    "PatientTelephoneNumbers": NeedleKind.PHONE, "InstitutionAddress": NeedleKind.ADDRESS,
    "PatientAddress": NeedleKind.ADDRESS, "RegionOfResidence": NeedleKind.ADDRESS,
    "CountryOfResidence": NeedleKind.ADDRESS, "InstitutionName": NeedleKind.INSTITUTION,
    "InstitutionalDepartmentName": NeedleKind.INSTITUTION, "ResponsibleOrganization": NeedleKind.INSTITUTION,
    "StationName": NeedleKind.ID, "MilitaryRank": NeedleKind.OTHER, "BranchOfService": NeedleKind.OTHER,
}
# Instance UIDs (not registry UIDs) quoted in text, e.g. a Study Instance UID inside a URL.
UID_KEYWORDS = ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "FrameOfReferenceUID",
                "ReferencedSOPInstanceUID", "MediaStorageSOPInstanceUID")


# The tags of the keywords above (none is a repeating group's): membership without a keyword look-up
_WANTED_TAGS = frozenset(t for t in map(tag_for_keyword, {*ID_KEYWORDS, *PLACE_KEYWORDS, *UID_KEYWORDS})
                         if t is not None)
_UID_TAGS = frozenset(t for t in map(tag_for_keyword, UID_KEYWORDS) if t is not None)


@dataclass
class Identifiers:
    """Identifying values of one instance. ``repr`` is deliberately uninformative."""

    names: list[list[str]] = field(default_factory=list)  # each PN split into name tokens
    ids: set[str] = field(default_factory=set)
    dates: set[str] = field(default_factory=set)  # DA values (YYYYMMDD) and DT date parts
    places: set[str] = field(default_factory=set)
    values: set[tuple[NeedleKind, str]] = field(default_factory=set)  # every value with its kind
    sex: str = ""  # Patient's Sex (0010,0040), "M"/"F"/"O"; with the age, matched in burned-in text only
    age: str = ""  # Patient's Age (0010,1010), AS "056Y"
    _needle_cache: dict[bool, frozenset[str]] = field(default_factory=dict, repr=False, compare=False)

    def __repr__(self) -> str:  # never print PHI
        return (f"Identifiers(names={len(self.names)}, ids={len(self.ids)}, dates={len(self.dates)}, "
                f"places={len(self.places)})")

    __str__ = __repr__

    def name_tokens(self, min_len: int = 2) -> set[str]:
        return {t for name in self.names for t in name if len(t) >= min_len}

    def is_empty(self) -> bool:
        return not (self.names or self.ids or self.dates or self.places or self.values)

    def needles(self, broad: bool = True) -> frozenset[str]:
        """Keys of every variant of every value (deid.textmatch), for the cleaner and the pixel match."""
        if broad not in self._needle_cache:
            out: set[str] = set()
            for kind, value in self.values:
                out |= value_needles(value, kind, broad)
            self._needle_cache[broad] = frozenset(out)
        return self._needle_cache[broad]


@lru_cache(maxsize=4096)
def value_needles(value: str, kind: NeedleKind, broad: bool) -> frozenset[str]:
    """:func:`deid.textmatch.needles` of one value, remembered in this process (memory only): the
    instances of a study repeat their patient's, visit's and site's values, and the spellings of a
    value are the same every time."""
    return needles(value, kind, broad=broad)


_TOKEN_SPLIT = re.compile(r"[\^=,\s.]+")


def split_name(value: str) -> list[str]:
    """PN components and words ("Doe^John^A^Dr" -> ["Doe", "John", "A", "Dr"])."""
    return [t for t in _TOKEN_SPLIT.split(value) if t]


def collect_identifiers(ds: Dataset) -> Identifiers:
    """Walk every element at every depth (iteratively) and gather identifying values.

    PN values anywhere (0010,0010 Patient's Name, 0008,0090 Referring Physician's Name, ...), the IDs
    above, every DA and the date part of every DT, and site names and addresses; Patient's Sex
    (0010,0040) and Patient's Age (0010,1010) of the top level (for compact "M/56" lines in pixels).
    """
    out = Identifiers(sex=_plain(ds, "PatientSex"), age=_plain(ds, "PatientAge"))
    id_tags = set(ID_KEYWORDS)
    place_tags = set(PLACE_KEYWORDS)
    stack: list[Dataset] = [ds]
    while stack:
        current = stack.pop()
        for tag in list(current._dict):
            vr = element_vr(current, tag)
            if vr not in ("SQ", "PN", "DA", "DT") and tag not in _WANTED_TAGS \
                    or vr == "UI" and tag not in _UID_TAGS:
                continue  # not identifying: left unconverted
            if vr == "UI":
                uids = raw_uid_values(current, tag)  # read from the bytes, left unconverted (issue #11)
                if uids is not None:
                    _add(out, vr, "", uids, id_tags, place_tags)
                    continue
            elem = element(current, tag)
            if vr == "SQ":
                stack.extend(elem.value)
                continue
            if elem.value is None or elem.value == "":
                continue
            values = elem.value if elem.VM > 1 else [elem.value]
            _add(out, elem.VR, elem.keyword or "", [str(v) for v in values], id_tags, place_tags)
    return out


def _plain(ds: Dataset, keyword: str) -> str:
    """A top-level CS/AS value as stripped upper-case text ("" when absent, multi-valued or unreadable)."""
    try:
        value = ds.get(keyword)
    except (ValueError, TypeError, KeyError, UnicodeError):
        return ""
    return value.strip().upper() if isinstance(value, str) else ""


def _add(out: Identifiers, vr: str, keyword: str, values: list[str], id_tags: set[str],
         place_tags: set[str]) -> None:
    kind = _KIND_BY_KEYWORD.get(keyword)
    if vr == "PN":
        for v in values:
            tokens = split_name(v)
            if tokens:
                out.names.append(tokens)
                out.values.add((NeedleKind.PERSON_NAME, v))
    elif vr in ("DA", "DT"):
        dates = {v[:8] for v in values if len(v) >= 8}
        out.dates.update(dates)
        out.values.update((NeedleKind.DATE, d) for d in dates)
    elif vr == "UI":
        out.values.update((NeedleKind.UID, v.strip().rstrip("\x00")) for v in values if v.strip())
    elif keyword in id_tags and vr in ("LO", "SH", "CS", "LT", "ST", "UC"):
        ids = {v.strip() for v in values if v.strip()}
        out.ids.update(ids)
        out.values.update((kind or NeedleKind.ID, v) for v in ids)
    elif keyword in place_tags and vr in ("LO", "SH", "ST", "LT", "UC", "UT"):
        places = {v.strip() for v in values if v.strip()}
        out.places.update(places)
        out.values.update((kind or NeedleKind.INSTITUTION, v) for v in places)
