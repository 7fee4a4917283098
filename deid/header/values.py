"""Per-VR replacement values for the D (dummy) and Z (zero-length) actions of PS3.15 E.1."""

from __future__ import annotations

from typing import Any

TEXT_VRS = frozenset({"LO", "SH", "ST", "LT", "UT", "UC"})
BINARY_VRS = frozenset({"OB", "OW", "OF", "OD", "OL", "OV", "UN"})
NUMERIC_VRS = frozenset({"US", "SS", "UL", "SL", "UV", "SV", "FL", "FD", "AT"})
MAX_LEN = {"AE": 16, "CS": 16, "SH": 16, "LO": 64, "PN": 64, "ST": 1024, "LT": 10240, "UC": None,
           "UT": None, "DS": 16, "IS": 12, "AS": 4, "UI": 64}

# Attributes inside coded entries (PS3.3 8.8, Code Sequence Macro) and SR structure that carry
# vocabulary, not free text: kept when a D or C sequence is walked.
CODED_KEYWORDS = frozenset({
    "CodeValue", "CodingSchemeDesignator", "CodingSchemeVersion", "CodeMeaning", "LongCodeValue",
    "URNCodeValue", "MappingResource", "ContextIdentifier", "ContextGroupVersion", "ValueType",
    "RelationshipType", "ContinuityOfContent", "TemplateIdentifier", "MeasurementUnitsCodeSequence",
    "GraphicType", "GraphicAnnotationUnits", "BoundingBoxAnnotationUnits", "AnchorPointAnnotationUnits",
    "CompletionFlag", "VerificationFlag", "NumericValue",
    "FloatingPointValue", "RationalNumeratorValue", "RationalDenominatorValue",
    "ReferencedSOPClassUID", "SOPClassUID", "PresentationStateContentLabel",
})

_DUMMY: dict[str, Any] = {
    "PN": "ANONYMIZED", "LO": "ANONYMIZED", "SH": "ANONYMIZED", "ST": "ANONYMIZED",
    "LT": "ANONYMIZED", "UT": "ANONYMIZED", "UC": "ANONYMIZED", "CS": "ANONYMIZED",
    "AE": "ANONYMIZED", "DA": "19000101", "DT": "19000101000000", "TM": "000000", "AS": "000Y",
    "IS": "0", "DS": "0", "UR": "urn:anonymized", "US": 0, "SS": 0, "UL": 0, "SL": 0, "UV": 0, "SV": 0,
    "FL": 0.0, "FD": 0.0, "AT": 0,
}


def dummy_value(vr: str) -> Any:
    """A non-zero-length value consistent with the VR (action D)."""
    if vr in BINARY_VRS:
        return b"\x00\x00"
    return _DUMMY.get(vr, "ANONYMIZED")


def empty_value(vr: str) -> Any:
    """A zero-length value (action Z)."""
    if vr in BINARY_VRS:
        return b""
    if vr in NUMERIC_VRS:
        return None
    return ""


def fit(value: str, vr: str) -> str:
    limit = MAX_LEN.get(vr)
    return value if limit is None or len(value) <= limit else value[:limit]
