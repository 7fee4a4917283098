"""The instance's own identifying values, collected before scrubbing.

They drive Clean Descriptors / Clean Structured Content (PS3.15 E.3.5, E.3.4) and the header-value
match of the pixel stage. They are PHI: they live in memory only and are never logged or persisted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pydicom.datadict import keyword_for_tag
from pydicom.dataset import Dataset

from deid.dicomio import raw_vr

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


@dataclass
class Identifiers:
    """Identifying values of one instance. ``repr`` is deliberately uninformative."""

    names: list[list[str]] = field(default_factory=list)  # each PN split into name tokens
    ids: set[str] = field(default_factory=set)
    dates: set[str] = field(default_factory=set)  # DA values (YYYYMMDD) and DT date parts
    places: set[str] = field(default_factory=set)

    def __repr__(self) -> str:  # never print PHI
        return (f"Identifiers(names={len(self.names)}, ids={len(self.ids)}, dates={len(self.dates)}, "
                f"places={len(self.places)})")

    __str__ = __repr__

    def name_tokens(self, min_len: int = 2) -> set[str]:
        return {t for name in self.names for t in name if len(t) >= min_len}

    def is_empty(self) -> bool:
        return not (self.names or self.ids or self.dates or self.places)


_TOKEN_SPLIT = re.compile(r"[\^=,\s.]+")


def split_name(value: str) -> list[str]:
    """PN components and words ("Doe^John^A^Dr" -> ["Doe", "John", "A", "Dr"])."""
    return [t for t in _TOKEN_SPLIT.split(value) if t]


def collect_identifiers(ds: Dataset) -> Identifiers:
    """Walk every element at every depth (iteratively) and gather identifying values.

    PN values anywhere (0010,0010 Patient's Name, 0008,0090 Referring Physician's Name, ...), the IDs
    above, every DA and the date part of every DT, and site names and addresses.
    """
    out = Identifiers()
    id_tags = set(ID_KEYWORDS)
    place_tags = set(PLACE_KEYWORDS)
    wanted = id_tags | place_tags
    stack: list[Dataset] = [ds]
    while stack:
        current = stack.pop()
        for tag in list(current.keys()):
            vr = raw_vr(current, tag)
            if vr not in ("SQ", "PN", "DA", "DT") and keyword_for_tag(tag) not in wanted:
                continue  # not identifying: left unconverted
            elem = current[tag]
            if vr == "SQ":
                stack.extend(elem.value)
                continue
            if elem.value is None or elem.value == "":
                continue
            values = elem.value if elem.VM > 1 else [elem.value]
            if elem.VR == "PN":
                for v in values:
                    tokens = split_name(str(v))
                    if tokens:
                        out.names.append(tokens)
            elif elem.VR == "DA" or elem.VR == "DT":
                out.dates.update(str(v)[:8] for v in values if len(str(v)) >= 8)
            elif elem.keyword in id_tags and elem.VR in ("LO", "SH", "CS", "LT", "ST", "UC"):
                out.ids.update(str(v).strip() for v in values if str(v).strip())
            elif elem.keyword in place_tags and elem.VR in ("LO", "SH", "ST", "LT", "UC", "UT"):
                out.places.update(str(v).strip() for v in values if str(v).strip())
    return out
