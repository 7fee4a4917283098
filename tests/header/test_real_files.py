"""Real public files through the header engine: every file is de-identified or refused with a typed
reason, and no original identifying value survives anywhere in the written bytes."""

from __future__ import annotations

import warnings
from pathlib import Path

import pydicom
import pytest

from deid.dicomio import read_dicom, write_dicom
from deid.errors import InputError, Reason
from deid.header.engine import HeaderEngine, PixelStatus
from deid.header.table import build_action_table
from deid.samples import SHARED_DATA, deid_data_files, pydicom_files, shared_files

FILES = pydicom_files() + deid_data_files() + shared_files()
# Files whose refusal is the right outcome, with the reason (real broken or partial data).
EXPECTED_REFUSALS = {
    "no_meta.dcm": {Reason.NOT_DICOM},
    "2026-05-06-Deeply-Nested-Sequence.dcm": {Reason.TOO_DEEP},
    "MR_truncated.dcm": {Reason.TRUNCATED},
    "rtplan_truncated.dcm": {Reason.TRUNCATED},
}
IDENTIFYING_VRS = ("PN", "LO", "SH", "DA")
_DUMMIES = {"ANONYMIZED", "ANONYMOUS", "ANON", "19000101"}


def _ids(path: Path) -> str:
    parts = path.parts
    return "/".join(parts[-2:])


def _identifying_values(ds: pydicom.Dataset, engine: HeaderEngine) -> set[str]:
    """Original PN/LO/SH/DA values of attributes the profile does not keep, less the values that
    kept attributes carry too (a Manufacturer equal to the InstitutionName, a procedure name that is
    also a code meaning)."""
    table = engine.table
    values: set[str] = set()
    kept: set[str] = set()
    stack = [ds]
    while stack:
        cur = stack.pop()
        for elem in cur:
            if elem.VR == "SQ":
                stack.extend(elem.value)
                continue
            if elem.VR not in IDENTIFYING_VRS and elem.VR not in ("LT", "ST", "UT", "CS") \
                    or elem.tag.group & 1:
                continue
            action = table.action_for(int(elem.tag))
            if action is None or action.value in ("K", "C") and elem.VR not in ("PN", "DA") \
                    or elem.VR not in IDENTIFYING_VRS:
                kept.update(str(v).strip() for v in (elem.value if elem.VM > 1 else [elem.value]))
                continue
            vals = elem.value if elem.VM > 1 else [elem.value]
            for v in vals:
                text = str(v).strip()
                if text.upper() in _DUMMIES or text.upper().startswith("ANON"):
                    continue  # already anonymised upstream: indistinguishable from our dummies
                if len(text) >= 4 and not text.isdigit() or (elem.VR == "DA" and len(text) == 8):
                    values.add(text)
    return {v for v in values if not any(v in k for k in kept)}


def test_corpus_is_present() -> None:
    assert len(pydicom_files()) > 50
    assert len(deid_data_files()) >= 5


def test_most_real_files_are_accepted() -> None:
    refused = []
    for path in FILES:
        try:
            read_dicom(path.read_bytes(), stop_before_pixels=True)
        except InputError as exc:
            refused.append((path.name, exc.reason))
    # pydicom ships a few partial datasets (no SOP Instance UID: not storable instances)
    assert len(refused) <= 12, refused
    assert {r for _, r in refused} <= {Reason.MISSING_UID, Reason.NOT_DICOM, Reason.TOO_DEEP,
                                       Reason.TRUNCATED}


@pytest.mark.parametrize("profile", ["basic", "research"])
@pytest.mark.parametrize("path", FILES, ids=[_ids(p) for p in FILES])
def test_real_file_deidentifies(path: Path, profile: str, basic_engine: HeaderEngine,
                                research_engine: HeaderEngine) -> None:
    engine = basic_engine if profile == "basic" else research_engine
    data = path.read_bytes()
    try:
        ds = read_dicom(data)
    except InputError as exc:
        # every refusal is typed, with a reason code and a message that carries no value
        assert exc.reason in EXPECTED_REFUSALS.get(path.name, {Reason.MISSING_UID})
        assert str(exc).startswith(exc.reason.value)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        originals = _identifying_values(ds, engine)
        # research runs in place, as the pipeline does (kept values stay raw until written)
        res = engine.deidentify(ds, in_place=profile == "research")
        engine.finalize(res.dataset, PixelStatus.UNVERIFIED)
        out = write_dicom(res.dataset)
        back = read_dicom(out)
        if "PixelData" in res.dataset:
            del res.dataset.PixelData  # compressed pixel bytes may hold any 4-byte run by chance
            out = write_dicom(res.dataset)
    assert back.SOPInstanceUID.startswith("2.25.")
    assert back.file_meta.MediaStorageSOPInstanceUID == back.SOPInstanceUID
    for value in originals:
        for encoded in {value.encode("utf-8", "ignore"), value.encode("latin-1", "ignore")}:
            if len(encoded) >= 4:
                assert encoded not in out, f"an original {len(value)}-character value survived"


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="../shared/data not present")
def test_rt_structure_set_references_stay_consistent(basic_engine: HeaderEngine) -> None:
    ct = read_dicom((SHARED_DATA / "orthanc-tests/HierarchicalAnonymization__RTH__CT01.dcm").read_bytes())
    rt = read_dicom((SHARED_DATA / "orthanc-tests/HierarchicalAnonymization__RTH__RT.dcm").read_bytes())
    ct_out = basic_engine.deidentify(ct).dataset
    rt_out = basic_engine.deidentify(rt).dataset
    referenced = {str(e.value) for e in rt_out.iterall() if e.keyword == "ReferencedSOPInstanceUID"}
    assert ct_out.SOPInstanceUID in referenced
    assert ct_out.FrameOfReferenceUID == rt_out.ReferencedFrameOfReferenceSequence[0].FrameOfReferenceUID
    assert ct_out.StudyInstanceUID == rt_out.StudyInstanceUID


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="../shared/data not present")
@pytest.mark.parametrize("name", ["orthanc-tests/MarekLatin2.dcm", "pydicom-wheel/charset_files/chrH31.dcm",
                                  "pydicom-wheel/charset_files/chrX2.dcm",
                                  "orthanc-tests/Encodings__ISO_IR13.dcm"])
def test_character_sets_round_trip(name: str, research_engine: HeaderEngine) -> None:
    ds = read_dicom((SHARED_DATA / name).read_bytes())
    res = research_engine.deidentify(ds)
    out = read_dicom(write_dicom(res.dataset))
    assert out.get("SpecificCharacterSet") == ds.get("SpecificCharacterSet")
    for elem in out:
        if elem.VR in ("LO", "SH", "ST", "LT") and isinstance(elem.value, str):
            assert "\ufffd" not in elem.value  # decoded and re-encoded without loss


def test_same_patient_two_studies_same_pseudonym(research_engine: HeaderEngine) -> None:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data not present")
    a = read_dicom((SHARED_DATA / "orthanc-tests/PatientWith2studies__TEST_1_study_1234.dcm").read_bytes())
    b = read_dicom((SHARED_DATA / "orthanc-tests/PatientWith2studies__TEST_1_study_2345.dcm").read_bytes())
    ra, rb = research_engine.deidentify(a), research_engine.deidentify(b)
    assert ra.patient_pseudonym == rb.patient_pseudonym
    assert ra.date_shift_days == rb.date_shift_days
    assert ra.dataset.StudyInstanceUID != rb.dataset.StudyInstanceUID


def test_action_table_builds_for_every_profile(keys) -> None:  # type: ignore[no-untyped-def]
    from deid.header.profile import conf_dir, load_profile

    for path in (conf_dir() / "profiles").glob("*.yaml"):
        table = build_action_table(load_profile(path))
        assert len(table.by_tag) > 600
