"""Profiles: which PS3.15 Annex E options apply, how conditional codes resolve, per-tag overrides.

A profile is YAML (``conf/profiles/<name>.yaml``) validated into :class:`Profile`. Unknown keys and
bad values are a :class:`deid.errors.ConfigError` naming the key.
"""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from deid.config import conf_dir, load_model, read_yaml
from deid.errors import ConfigError


class Action(str, Enum):
    """PS3.15 E.1 action codes after conditional codes are resolved."""

    D = "D"  # replace with a non-zero-length dummy value consistent with the VR
    Z = "Z"  # replace with a zero-length value (or a dummy)
    X = "X"  # remove
    K = "K"  # keep
    C = "C"  # clean: replace identifying content with values of similar meaning
    U = "U"  # replace the UID with an internally consistent one


class ProfileOption(str, Enum):
    """The Annex E options (PS3.15 E.3.1-E.3.11) and their Table E.1-1 column names."""

    RETAIN_SAFE_PRIVATE = "retain_safe_private"
    RETAIN_UIDS = "retain_uids"
    RETAIN_DEVICE_IDENTITY = "retain_device_identity"
    RETAIN_INSTITUTION_IDENTITY = "retain_institution_identity"
    RETAIN_PATIENT_CHARACTERISTICS = "retain_patient_characteristics"
    RETAIN_LONGITUDINAL_FULL_DATES = "retain_longitudinal_full_dates"
    RETAIN_LONGITUDINAL_MODIFIED_DATES = "retain_longitudinal_modified_dates"
    CLEAN_DESCRIPTORS = "clean_descriptors"
    CLEAN_STRUCTURED_CONTENT = "clean_structured_content"
    CLEAN_GRAPHICS = "clean_graphics"

    @property
    def column(self) -> str:
        return _COLUMNS[self]

    @property
    def code(self) -> tuple[str, str]:
        """CID 7050 (De-identification Method) code value and meaning for this option."""
        return _CID7050[self]


_COLUMNS = {
    ProfileOption.RETAIN_SAFE_PRIVATE: "rtnSafePrivOpt",
    ProfileOption.RETAIN_UIDS: "rtnUIDsOpt",
    ProfileOption.RETAIN_DEVICE_IDENTITY: "rtnDevIdOpt",
    ProfileOption.RETAIN_INSTITUTION_IDENTITY: "rtnInstIdOpt",
    ProfileOption.RETAIN_PATIENT_CHARACTERISTICS: "rtnPatCharsOpt",
    ProfileOption.RETAIN_LONGITUDINAL_FULL_DATES: "rtnLongFullDatesOpt",
    ProfileOption.RETAIN_LONGITUDINAL_MODIFIED_DATES: "rtnLongModifDatesOpt",
    ProfileOption.CLEAN_DESCRIPTORS: "cleanDescOpt",
    ProfileOption.CLEAN_STRUCTURED_CONTENT: "cleanStructContOpt",
    ProfileOption.CLEAN_GRAPHICS: "cleanGraphOpt",
}

BASIC_PROFILE_CODE = ("113100", "Basic Application Confidentiality Profile")
CLEAN_PIXEL_DATA_CODE = ("113101", "Clean Pixel Data Option")
_CID7050 = {
    ProfileOption.CLEAN_GRAPHICS: ("113103", "Clean Graphics Option"),
    ProfileOption.CLEAN_STRUCTURED_CONTENT: ("113104", "Clean Structured Content Option"),
    ProfileOption.CLEAN_DESCRIPTORS: ("113105", "Clean Descriptors Option"),
    ProfileOption.RETAIN_LONGITUDINAL_FULL_DATES: (
        "113106", "Retain Longitudinal Temporal Information Full Dates Option"),
    ProfileOption.RETAIN_LONGITUDINAL_MODIFIED_DATES: (
        "113107", "Retain Longitudinal Temporal Information Modified Dates Option"),
    ProfileOption.RETAIN_PATIENT_CHARACTERISTICS: ("113108", "Retain Patient Characteristics Option"),
    ProfileOption.RETAIN_DEVICE_IDENTITY: ("113109", "Retain Device Identity Option"),
    ProfileOption.RETAIN_UIDS: ("113110", "Retain UIDs Option"),
    ProfileOption.RETAIN_SAFE_PRIVATE: ("113111", "Retain Safe Private Option"),
    ProfileOption.RETAIN_INSTITUTION_IDENTITY: ("113112", "Retain Institution Identity Option"),
}


class ConditionalResolution(str, Enum):
    """How the conditional codes of Table E.1-1 (X/Z, X/D, X/Z/D, Z/D, X/Z/U*) are resolved.

    Table E.1-1 picks between its codes by the attribute's Type in the IOD: remove (X) where the IOD
    allows, else zero-length (Z, Type 2), else a dummy (D, Type 1). Per-IOD type tables are not part of
    the profile, so the choice is made per profile:

    * ``keep_valid`` (default): the attribute stays present with non-identifying content, so every
      IOD remains valid: X/Z -> Z, X/D -> D, X/Z/D -> Z (D for UI, SQ and dates), Z/D -> Z
      (D for UI and SQ), X/Z/U* -> U* (the sequence is kept and every UID inside it is remapped).
    * ``strict``: the first (most removing) code: X/Z, X/D, X/Z/D, X/Z/U* -> X; Z/D -> Z.
    """

    KEEP_VALID = "keep_valid"
    STRICT = "strict"


class DateTransform(str, Enum):
    """What the C (clean) action does to DA/DT values under the Modified Dates option (E.3.6)."""

    SHIFT = "shift"  # one keyed offset in days per patient; intervals survive
    YEAR_ONLY = "year_only"  # HIPAA Safe Harbor: keep the year, 1 January


class DateShift(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min_days: int = -3650
    max_days: int = -1

    @model_validator(mode="after")
    def _check(self) -> DateShift:
        if self.min_days > self.max_days:
            raise ValueError("date_shift.min_days must be <= date_shift.max_days")
        if self.min_days <= 0 <= self.max_days:
            raise ValueError("date_shift range must exclude 0 so every date is actually moved")
        return self


class FreeTextDetector(str, Enum):
    """Which detector finds names of other people, places and organisations in free text."""

    MODEL = "model"  # rules + the learned word classifier (deid/header/models/freetext_phi)
    RULES = "rules"  # rules only (honorifics, relation words, organisations, capitalised words)


class OnUncertain(str, Enum):
    """What happens to a free-text value with a word no layer can call safe. Only one answer."""

    REMOVE = "remove"  # default deny: the whole value is removed (zero-length)


class FreeTextPolicy(BaseModel):
    """Clean (C) of free text (PS3.15 E.3.5, E.3.4): see :mod:`deid.header.freetext`."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    detector: FreeTextDetector = FreeTextDetector.MODEL
    on_uncertain: OnUncertain = OnUncertain.REMOVE
    phi_threshold: float = Field(default=0.5, gt=0, lt=1)
    # An unknown word (not vocabulary) is vouched for by the classifier only below this score;
    # 0 (default): never, every unknown word makes the value removed.
    safe_threshold: float = Field(default=0.0, ge=0, lt=1)


class SafePrivate(BaseModel):
    """One private attribute known safe (PS3.15 E.3.10, Table E.3.10-1): creator, element byte, and the
    form of its value: the VR, optionally the number of values, and for a code (CS) its allowed
    values. An element that does not have this form under this creator is removed."""

    model_config = ConfigDict(extra="forbid")
    creator: str
    group: int
    element: int = Field(ge=0, le=0xFF)
    vr: str = Field(pattern=r"^(US|SS|UL|SL|FL|FD|UV|SV|IS|DS|CS)$")
    vm: int | None = Field(default=None, ge=1)
    values: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _codes_listed(self) -> SafePrivate:
        if self.vr == "CS" and not self.values:
            raise ValueError("a CS safe private entry must list its allowed values")
        return self

    @field_validator("group", mode="before")
    @classmethod
    def _hex_group(cls, v: Any) -> Any:
        return int(v, 16) if isinstance(v, str) else v

    @field_validator("element", mode="before")
    @classmethod
    def _hex_element(cls, v: Any) -> Any:
        return int(v, 16) if isinstance(v, str) else v


_TAG_RE = re.compile(r"^\(?([0-9A-Fa-f]{4}),?([0-9A-Fa-f]{4})\)?$")


def parse_tag(text: str) -> int:
    """``"(0010,0010)"``, ``"00100010"`` or a keyword (``"PatientName"``) -> integer tag."""
    from pydicom.datadict import tag_for_keyword

    m = _TAG_RE.match(text.strip())
    if m:
        return (int(m.group(1), 16) << 16) | int(m.group(2), 16)
    tag = tag_for_keyword(text.strip())
    if tag is None:
        raise ValueError(f"'{text}' is neither a tag like (0010,0010) nor a DICOM keyword")
    return int(tag)


DEFAULT_PSEUDONYMIZE = ("PatientID", "PatientName", "AccessionNumber", "OtherPatientIDs",
                        "StudyID", "IssuerOfPatientID")


class Profile(BaseModel):
    """A named de-identification profile (Basic Application Level Confidentiality Profile + options)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str = ""
    options: frozenset[ProfileOption] = frozenset()
    conditional: ConditionalResolution = ConditionalResolution.KEEP_VALID
    date_shift: DateShift = DateShift()
    date_transform: DateTransform = DateTransform.SHIFT
    aggregate_age_over: int | None = Field(default=None, ge=1, le=150)
    overrides: dict[int, Action] = Field(default_factory=dict)
    safe_private: tuple[SafePrivate, ...] = ()
    pseudonymize: frozenset[int] = Field(
        default_factory=lambda: frozenset(parse_tag(k) for k in DEFAULT_PSEUDONYMIZE))
    trust_burned_in_no_for: frozenset[str] = frozenset()
    free_text: FreeTextPolicy = FreeTextPolicy()
    # Attributes outside Table E.1-1 whose text is kept as written ("default": conf/keep_text.yaml).
    keep_text: frozenset[int] = Field(default_factory=lambda: default_keep_text())

    @field_validator("keep_text", mode="before")
    @classmethod
    def _parse_keep_text(cls, v: Any) -> Any:
        if v == "default":
            return default_keep_text()
        if isinstance(v, (list, tuple)):
            out: set[int] = set()
            for k in v:
                out |= default_keep_text() if k == "default" else {parse_tag(str(k))}
            return frozenset(out)
        return v

    @field_validator("overrides", mode="before")
    @classmethod
    def _parse_overrides(cls, v: Any) -> Any:
        if not isinstance(v, dict):
            return v
        return {parse_tag(str(k)) if not isinstance(k, int) else k: a for k, a in v.items()}

    @field_validator("pseudonymize", mode="before")
    @classmethod
    def _parse_pseudonymize(cls, v: Any) -> Any:
        if isinstance(v, (list, tuple, set, frozenset)):
            return frozenset(parse_tag(str(k)) if not isinstance(k, int) else k for k in v)
        return v

    @model_validator(mode="after")
    def _exclusive(self) -> Profile:
        both = {ProfileOption.RETAIN_LONGITUDINAL_FULL_DATES,
                ProfileOption.RETAIN_LONGITUDINAL_MODIFIED_DATES}
        if both <= self.options:
            raise ValueError("options retain_longitudinal_full_dates and "
                             "retain_longitudinal_modified_dates exclude each other")
        return self


def default_keep_text() -> frozenset[int]:
    """The reviewed keep-list shipped with the profiles (``conf/keep_text.yaml``)."""
    return load_keep_text(conf_dir() / "keep_text.yaml")


def load_keep_text(path: Path) -> frozenset[int]:
    """The reviewed keep-list: attributes outside Table E.1-1 whose text is kept as written."""
    entries = read_yaml(path, "keep-list").get("keep")
    if not isinstance(entries, list):
        raise ConfigError(f"keep-list {path.name}: expected a 'keep' list of keywords or tags")
    out = set()
    for k in entries:
        try:
            out.add(parse_tag(str(k)))
        except ValueError:
            raise ConfigError(f"keep-list {path.name}: '{k}' is neither a tag nor a DICOM keyword") from None
    return frozenset(out)


def profile_from_mapping(data: dict[str, Any], source: str) -> Profile:
    return load_model(Profile, data, name=f"profile {source}")


def load_profile(name_or_path: str | Path) -> Profile:
    """Load a profile by name (``conf/profiles/<name>.yaml``) or by path."""
    path = Path(name_or_path)
    if not path.suffix:
        path = conf_dir() / "profiles" / f"{name_or_path}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in (conf_dir() / "profiles").glob("*.yaml"))
        raise ConfigError(f"profile '{name_or_path}' not found; known profiles: {', '.join(known)}")
    return load_model(Profile, path, name=f"profile {path.name}", what="profile")
