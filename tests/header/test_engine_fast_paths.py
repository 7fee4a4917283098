"""Look-up shortcuts of the header engine (issue #11) against the pydicom calls they stand for."""

from __future__ import annotations

import pytest
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.valuerep import VR

from deid.header import engine, kept
from tests.header.test_engine import make_ds


def test_plain_vrs_are_no_sequence_un_or_ambiguous() -> None:
    every = {str(v) for v in VR}
    plain = {v for v in every if v not in ("SQ", "UN") and " or " not in v}
    assert plain == engine._PLAIN_VRS  # every other VR is asked of _not_sequence as before


def _patient_ids_by_keyword(ds: Dataset) -> tuple[str, ...]:
    """kept.patient_ids as written before issue #11's change (``ds.get`` per keyword)."""
    out: list[str] = []
    for keyword in kept.PATIENT_ID_KEYWORDS:
        value = ds.get(keyword)
        values = value if isinstance(value, (list, MultiValue)) else [value]
        out.extend(str(v).strip() for v in values if v is not None and str(v).strip())
    return tuple(out)


@pytest.mark.parametrize("extra", [{}, {"OtherPatientIDs": ["A1", " B2 "], "AdmissionID": "ADM 7"},
                                   {"AccessionNumber": "", "RequestedProcedureID": "RP1"}])
def test_patient_ids_as_by_keyword(extra: dict[str, object]) -> None:
    ds = make_ds()
    for keyword, value in extra.items():
        setattr(ds, keyword, value)
    assert kept.patient_ids(ds) == _patient_ids_by_keyword(ds)
    assert len(kept._PATIENT_ID_TAGS) == len(kept.PATIENT_ID_KEYWORDS)
