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
from deid.textmatch import NeedleKind, keys_of, needles, spans, vocabulary

DIGEST_BYTES = 16
_CLASS_UID = re.compile(r"(ClassUID|TransferSyntaxUID|CodingSchemeUID|ImplementationClassUID)$")
_BY_KEYWORD: dict[str, NeedleKind] = {
    **{k: NeedleKind.ID for k in (
        "PatientID", "OtherPatientIDs", "AccessionNumber", "StudyID", "IssuerOfPatientID", "AdmissionID",
        "ServiceEpisodeID", "MedicalRecordLocator", "RequestedProcedureID", "ScheduledProcedureStepID",
        "PerformedProcedureStepID", "FillerOrderNumberImagingServiceRequest",
        "PlacerOrderNumberImagingServiceRequest", "DeviceSerialNumber", "PatientInsurancePlanCodeSequence",
        "InsurancePlanIdentification", "OtherPatientIDsSequence", "ClinicalTrialSubjectID",
        "ClinicalTrialSubjectReadingID", "DetectorID", "GantryID")},
    **{k: NeedleKind.INSTITUTION for k in (
        "InstitutionName", "InstitutionalDepartmentName", "ResponsibleOrganization", "IssuerOfAdmissionID",
        "ClinicalTrialSponsorName", "ClinicalTrialSiteName")},
    **{k: NeedleKind.ADDRESS for k in ("InstitutionAddress", "PatientAddress", "RegionOfResidence")},
    **{k: NeedleKind.PHONE for k in ("PatientTelephoneNumbers", "PersonTelephoneNumbers")},
    "StationName": NeedleKind.OTHER,
}
_TEXT = {"AE", "CS", "LO", "LT", "SH", "ST", "UC", "UT"}
_KEPT_VRS = _TEXT | {"UR", "UI"}
# code values and scheme designators (PS3.3 Table 8.8-1): vocabulary, kept at every depth
_CODE_KEYWORDS = frozenset({"CodeValue", "CodingSchemeDesignator", "CodingSchemeVersion", "LongCodeValue",
                            "URNCodeValue", "MappingResource", "ContextIdentifier"})
_DOTTED = re.compile(r"\d+(?:\.\d+)+")
KEPT = "kept"  # a span of a value the profile keeps as it is: never a needle, run-wide
OCR_SUFFIX = "~ocr"  # a needle key that only an OCR-folded spelling gives: compared with OCR text only
OWN_DATE = "date~own"  # a date of one input, keyed with its bronze key: compared with that input's DA/DT values


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

    def kept(self, tag: int, vr: str, top: bool) -> bool:
        """Whether the profile keeps this non-identifying text as it is: a top-level (or file meta)
        attribute with action K or unlisted, or code vocabulary at any depth."""
        if vr not in _KEPT_VRS or self.kind(tag, vr) is not None:
            return False
        if (keyword_for_tag(tag) or "") in _CODE_KEYWORDS:
            return True
        return top and self.table.action_for(tag) in (Action.K, None)


def _values(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return [str(v) for v in value if v is not None]  # type: ignore[attr-defined]
    return [str(value)]


def identifying_values(ds: Dataset, rules: NeedleRules) -> Iterator[tuple[NeedleKind | None, str]]:
    """(kind, value) of every identifying value at every depth (iterative walk), file meta included,
    and (None, value) for every value the profile keeps as it is (:meth:`NeedleRules.kept`)."""
    stack: list[tuple[Dataset, bool]] = [(ds, True)]
    meta = getattr(ds, "file_meta", None)
    if meta is not None:
        stack.append((meta, True))
    while stack:
        current, top = stack.pop()
        for elem in current:
            vr = str(elem.VR)
            if vr == "SQ":
                stack.extend((item, False) for item in elem.value or [])
                continue
            tag = int(elem.tag)
            if (tag >> 16) & 1 and vr not in ("PN", "UI"):
                continue
            kind = rules.kind(tag, vr)
            if kind is None and not rules.kept(tag, vr, top):
                continue
            for v in _values(elem.value):
                v = v.strip().strip("\x00").strip()
                if not v:
                    continue
                if kind is NeedleKind.ID and _DOTTED.fullmatch(v):
                    kind = NeedleKind.UID  # a UID held in an ID attribute: its digit runs are no ID
                if kind is NeedleKind.UID and is_registry_uid(v):
                    continue
                yield kind, v


def _fold(key: str) -> str:
    """The OCR-folded form of a compact key, as the matcher writes it (:func:`deid.textmatch.keys_of`)."""
    return next(iter(keys_of([key]) - {key}), key)


def needle_keys(value: str, kind: NeedleKind) -> tuple[frozenset[str], frozenset[str]]:
    """(keys typed text can hold, keys only an OCR misreading gives) of one identifying value.

    An OCR-only key is the folded form of another key ("mllvue" of "milvue") that no spelling
    writes as it is; typed header text is compared without them (their coincidences are many)."""
    keys = name_needles(value) if kind is NeedleKind.PERSON_NAME else needles(value, kind, broad=False)
    folds = {_fold(k) for k in keys if " " not in k and _fold(k) != k}
    written = {k.replace(" ", "") for k in keys if " " in k}
    ocr_only = frozenset((folds & keys) - written)
    return keys - ocr_only, ocr_only


def date_parts(value: str) -> list[str]:
    """The YYYYMMDD dates a DA value, a DA range ``A-B`` or a DT value (date part) holds."""
    return [p[:8] for p in (part.strip() for part in value.split("-")) if len(p) >= 8 and p[:8].isdigit()]


def own_date_key(scope: str, date: str) -> str:
    """The needle key of one YYYYMMDD date of the input whose bronze key is ``scope``.

    Dates in DA/DT attributes are compared with the dates of their own input only: every output date
    is made from its own input, and a date shifted by its patient's keyed offset (PS3.15 E.3.6) lands,
    in a large export, on some other input's original date by coincidence, which is no leak. Dates in
    text (free text, OCR) stay run-wide needles: a text may quote another study's date."""
    return f"\x01own-date\x00{scope}\x00{date}"


def needle_hashes(ds: Dataset, rules: NeedleRules, hasher: KeyedHasher,
                  kinds: frozenset[str], scope: str | None = None) -> dict[bytes, str]:
    """Keyed hash of every needle of the dataset -> the needle kind (``broad=False``: every needle
    found blocks a release, so only spellings that identify on their own; names: :func:`name_needles`),
    with :data:`OCR_SUFFIX` for keys only an OCR misreading gives, and the kind ``kept`` for every
    span of a value the profile keeps as it is (the caller drops needles equal to kept spans).
    With ``scope`` (the input's bronze key), each date is also an :data:`OWN_DATE` needle
    (:func:`own_date_key`)."""
    out: dict[bytes, str] = {}
    kept: set[bytes] = set()
    seen: set[tuple[NeedleKind | None, str]] = set()
    for kind, value in identifying_values(ds, rules):
        if (kind, value) in seen:
            continue
        seen.add((kind, value))
        if kind is None:
            kept.update(hasher(s.key) for s in spans(value))
            continue
        if kind.value not in kinds:
            continue
        typed, ocr_only = needle_keys(value, kind)
        for key in typed:
            out[hasher(key)] = kind.value
        for key in ocr_only:
            out.setdefault(hasher(key), kind.value + OCR_SUFFIX)
        if kind is NeedleKind.DATE and scope is not None:
            out.update((hasher(own_date_key(scope, d)), OWN_DATE) for d in date_parts(value))
    out.update(dict.fromkeys(kept, KEPT))
    return out


def name_needles(value: str) -> frozenset[str]:
    """A name's needles: the narrow spellings (full name in any order, surname) plus each single
    given or middle name as the cleaner removes it (``broad``), unless that word is DICOM vocabulary
    or a common word ("Anna" alone is a finding; "Phantom" of "Water^Phantom" is not)."""
    narrow = needles(value, NeedleKind.PERSON_NAME, broad=False)
    extra = needles(value, NeedleKind.PERSON_NAME, broad=True) - narrow
    vocab = vocabulary()
    common = {k for k in extra if k in vocab} | {_fold(k) for k in extra if k in vocab}  # "field", "fleld"
    return narrow | {k for k in extra if " " not in k and k not in common and not k.isdigit()}
