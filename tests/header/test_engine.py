"""Engine behaviour beyond single rows: wildcard rows, private data, file meta, pseudonyms, dates,
cleaning, attestation."""

from __future__ import annotations

import numpy as np
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.pixels import pack_bits
from pydicom.sequence import Sequence
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian

from deid.crosswalk import CrosswalkKind, open_record
from deid.header.engine import HeaderEngine, PixelStatus
from deid.header.profile import (
    Action,
    ConditionalResolution,
    Profile,
    ProfileOption,
    SafePrivate,
    load_profile,
)
from deid.header.pseudonyms import shift_da
from deid.header.table import build_action_table
from deid.keys import KeyRing

STUDY = "1.2.826.0.1.3680043.8.498.1"
SOP = "1.2.826.0.1.3680043.8.498.1.1"


def make_ds() -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPInstanceUID = SOP
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = SOP
    ds.StudyInstanceUID = STUDY
    ds.SeriesInstanceUID = STUDY + ".2"
    ds.FrameOfReferenceUID = STUDY + ".3"
    ds.PatientName = "Smith^Anna^Marie"
    ds.PatientID = "MRN0012345"
    ds.PatientBirthDate = "19510829"
    ds.PatientSex = "F"
    ds.PatientAge = "094Y"
    ds.AccessionNumber = "ACC778899"
    ds.StudyDate = "20200131"
    ds.SeriesDate = "20200201"
    ds.StudyTime = "101500"
    ds.AcquisitionDateTime = "20200131103000.000000+0100"
    ds.StudyDescription = "CT CHEST for anna SMITH 01/31/2020"
    ds.InstitutionName = "Springfield General"
    ds.Manufacturer = "ACME"
    ref = Dataset()
    ref.ReferencedSOPClassUID = CTImageStorage
    ref.ReferencedSOPInstanceUID = STUDY + ".9"
    ds.ReferencedImageSequence = Sequence([ref])
    return ds


def test_patient_pseudonyms_are_keyed_and_recorded(basic_engine: HeaderEngine, keys: KeyRing) -> None:
    res = basic_engine.deidentify(make_ds())
    out = res.dataset
    assert str(out.PatientName).startswith("ANON^") and "Smith" not in str(out.PatientName)
    assert out.PatientID == res.patient_pseudonym != "MRN0012345"
    assert out.AccessionNumber and out.AccessionNumber != "ACC778899"
    kinds = {r.kind for r in res.crosswalk}
    assert {CrosswalkKind.PATIENT_ID.value, CrosswalkKind.PATIENT_NAME.value,
            CrosswalkKind.ACCESSION.value, CrosswalkKind.UID.value} <= kinds
    for rec in res.crosswalk:
        assert b"MRN0012345" not in rec.original_enc and b"Smith" not in rec.original_enc
    pid = next(r for r in res.crosswalk if r.kind == CrosswalkKind.PATIENT_ID.value)
    assert open_record(pid, keys) == "MRN0012345"


def test_uids_remapped_consistently_registry_untouched(basic_engine: HeaderEngine) -> None:
    out = basic_engine.deidentify(make_ds()).dataset
    assert out.SOPClassUID == CTImageStorage
    assert out.ReferencedImageSequence[0].ReferencedSOPClassUID == CTImageStorage
    for uid in (out.SOPInstanceUID, out.StudyInstanceUID, out.FrameOfReferenceUID,
                out.ReferencedImageSequence[0].ReferencedSOPInstanceUID):
        assert uid.startswith("2.25.") and len(uid) <= 64 and uid.is_valid
    assert out.file_meta.MediaStorageSOPInstanceUID == out.SOPInstanceUID
    again = basic_engine.deidentify(make_ds()).dataset
    assert again.StudyInstanceUID == out.StudyInstanceUID


def test_input_dataset_is_not_changed(basic_engine: HeaderEngine) -> None:
    ds = make_ds()
    basic_engine.deidentify(ds)
    assert ds.PatientName == "Smith^Anna^Marie" and ds.SOPInstanceUID == SOP


def test_basic_profile_removes_dates_and_descriptions(basic_engine: HeaderEngine) -> None:
    out = basic_engine.deidentify(make_ds()).dataset
    assert out.StudyDate == ""  # Z
    assert "StudyDescription" not in out  # X
    assert "PatientAge" not in out
    assert "InstitutionName" in out and out.InstitutionName != "Springfield General"


def test_modified_dates_shift_every_date_by_one_offset(research_engine: HeaderEngine) -> None:
    res = research_engine.deidentify(make_ds())
    out, days = res.dataset, res.date_shift_days
    assert days is not None and -3650 <= days <= -1
    assert out.StudyDate == shift_da("20200131", days)
    assert out.SeriesDate == shift_da("20200201", days)
    assert out.AcquisitionDateTime.startswith(shift_da("20200131", days))
    assert out.AcquisitionDateTime.endswith("103000.000000+0100")
    assert out.StudyTime == "101500"
    same_patient = make_ds()
    same_patient.StudyDate = "20210615"
    assert research_engine.deidentify(same_patient).date_shift_days == days


def test_clean_descriptors_keep_meaning(research_engine: HeaderEngine) -> None:
    out = research_engine.deidentify(make_ds()).dataset
    desc = out.StudyDescription
    assert desc.startswith("CT CHEST")
    for phi in ("anna", "SMITH", "01/31/2020"):
        assert phi.lower() not in desc.lower()


def test_patient_characteristics_and_hipaa_age(keys: KeyRing) -> None:
    hipaa = HeaderEngine(Profile(name="h", options=frozenset({ProfileOption.RETAIN_PATIENT_CHARACTERISTICS}),
                                 aggregate_age_over=89), keys)
    out = hipaa.deidentify(make_ds()).dataset
    assert out.PatientAge == "090Y" and out.PatientSex == "F"


def test_private_elements_removed_or_safe_kept(keys: KeyRing, basic_engine: HeaderEngine) -> None:
    ds = make_ds()
    block = ds.private_block(0x0019, "SIEMENS MR HEADER", create=True)
    block.add_new(0x0C, "IS", "1000")  # B_value: safe
    block.add_new(0x10, "LO", "Smith^Anna")  # not safe
    other = ds.private_block(0x0029, "ACME PHI", create=True)
    inner = Dataset()
    inner.PatientName = "Smith^Anna"
    other.add_new(0x01, "SQ", Sequence([inner]))
    nested = Dataset()
    nested.add_new(0x00191010, "LO", "SIEMENS MR HEADER")
    nested.add_new(0x00191011, "LO", "secret")
    ds.ReferencedImageSequence[0].update(nested)

    out = basic_engine.deidentify(ds).dataset
    assert not any(t.group & 1 for t in out.keys())
    assert not any(t.group & 1 for t in out.ReferencedImageSequence[0].keys())

    safe = HeaderEngine(Profile(name="s", options=frozenset({ProfileOption.RETAIN_SAFE_PRIVATE}),
                                safe_private=(SafePrivate(creator="SIEMENS MR HEADER", group=0x19,
                                                          element=0x0C, vr="IS", vm=1),)), keys)
    out = safe.deidentify(ds).dataset
    kept = out.private_block(0x0019, "SIEMENS MR HEADER")
    assert kept[0x0C].value == "1000"
    assert 0x10 not in [t.element & 0xFF for t in out.keys() if t.group == 0x19 and t.element > 0xFF]
    assert not any(t.group == 0x0029 for t in out.keys())


def test_wildcard_rows_curves_overlays(basic_engine: HeaderEngine, engine_with) -> None:  # type: ignore[no-untyped-def]
    ds = make_ds()
    ds.add_new(0x50000010, "US", 2)
    ds.add_new(0x50003000, "OW", b"\x01\x02")
    ds.add_new(0x60000010, "US", 8)
    ds.add_new(0x60000011, "US", 8)
    ds.add_new(0x60003000, "OW", b"\xff" * 8)
    ds.add_new(0x60004000, "LT", "Smith overlay")
    icon = Dataset()
    icon.Rows = 8
    ds.IconImageSequence = Sequence([icon])
    out = basic_engine.deidentify(ds).dataset
    assert not any(t.group in (0x5000, 0x6000) for t in out.keys())
    assert "IconImageSequence" not in out
    graphics = engine_with(ProfileOption.CLEAN_GRAPHICS).deidentify(ds).dataset
    # a bitmap cannot be cleaned: Overlay Data and Curve Data go (PS3.15 E.3.3), with the overlay group
    assert 0x60003000 not in graphics and 0x50003000 not in graphics
    assert "Smith" not in str(graphics.get(0x60004000, ""))


def _overlay_ds() -> Dataset:
    ds = make_ds()
    bitmap = np.zeros((16, 16), np.uint8)
    bitmap[4:9, 2:14] = 1  # stands for a burned-in name
    ds.add_new(0x60020010, "US", 16)
    ds.add_new(0x60020011, "US", 16)
    ds.add_new(0x60020040, "CS", "G")
    ds.add_new(0x60020050, "SS", [1, 1])
    ds.add_new(0x60020100, "US", 1)
    ds.add_new(0x60020102, "US", 0)
    ds.add_new(0x60023000, "OW", pack_bits(bitmap.ravel()))
    ds.add_new(0x50003000, "OB", b"NAME" * 4)  # Curve Data
    ds.add_new(0x5000200C, "OB", b"AUDIO" * 2 + b"\x00\x00")  # Audio Sample Data
    return ds


@pytest.mark.parametrize("profile", ["basic", "research", "hipaa-safe-harbor"])
def test_overlay_and_curve_data_removed_under_every_shipped_profile(profile: str, keys: KeyRing) -> None:
    """Overlay Data (60xx,3000) holds a bitmap the engine cannot clean: removed under every profile,
    Clean Graphics (hipaa-safe-harbor) included (PS3.15 E.3.3); so are Curve and Audio Sample Data."""
    out = HeaderEngine(load_profile(profile), keys).deidentify(_overlay_ds()).dataset
    assert not any(t.group in (0x5000, 0x6002) for t in out.keys())


@pytest.mark.parametrize(("option", "tag"), [
    (ProfileOption.CLEAN_GRAPHICS, 0x60003000), (ProfileOption.CLEAN_GRAPHICS, 0x50003000),
    (ProfileOption.CLEAN_GRAPHICS, 0x501E200C), (ProfileOption.CLEAN_DESCRIPTORS, 0x0016002B),
    (ProfileOption.CLEAN_DESCRIPTORS, 0x0016004B), (ProfileOption.RETAIN_LONGITUDINAL_MODIFIED_DATES, 0x04000310),
    (ProfileOption.RETAIN_LONGITUDINAL_MODIFIED_DATES, 0x00340007),
])
def test_clean_on_a_binary_value_is_removal(option: ProfileOption, tag: int) -> None:
    table = build_action_table(Profile(name="t", options=frozenset({option})))
    assert table.action_for(tag) is Action.X
    assert build_action_table(Profile(name="t")).action_for(tag) is not Action.C


def test_sr_content_cleaned_or_dummied(engine_with) -> None:  # type: ignore[no-untyped-def]
    ds = make_ds()
    item = Dataset()
    item.ValueType = "TEXT"
    item.TextValue = "Anna Smith, MRN0012345, seen 2020-01-31: nodule 4 mm"
    item.RelationshipType = "CONTAINS"
    ds.ContentSequence = Sequence([item])
    basic = engine_with().deidentify(ds).dataset
    assert basic.ContentSequence[0].TextValue == "ANONYMIZED"
    assert basic.ContentSequence[0].ValueType == "TEXT"
    clean = engine_with(ProfileOption.CLEAN_STRUCTURED_CONTENT).deidentify(ds).dataset
    text = clean.ContentSequence[0].TextValue
    assert "nodule 4 mm" in text
    for phi in ("Anna", "Smith", "MRN0012345", "2020-01-31"):
        assert phi not in text


@pytest.mark.parametrize(("status", "removed"), [
    (PixelStatus.NO_PIXEL_DATA, True), (PixelStatus.CLEANED, True),
    (PixelStatus.DECLARED_NONE, True), (PixelStatus.UNVERIFIED, False)])
def test_attestation(research_engine: HeaderEngine, status: PixelStatus, removed: bool) -> None:
    out = research_engine.deidentify(make_ds()).dataset
    assert research_engine.finalize(out, status) is removed
    assert out.PatientIdentityRemoved == ("YES" if removed else "NO")
    codes = [i.CodeValue for i in out.DeidentificationMethodCodeSequence]
    assert codes[0] == "113100"
    assert ("113101" in codes) is (status is PixelStatus.CLEANED)
    for expected in ("113107", "113108", "113109", "113105", "113111"):
        assert expected in codes
    assert out.LongitudinalTemporalInformationModified == "MODIFIED"
    if status is PixelStatus.CLEANED:
        assert out.BurnedInAnnotation == "NO"


def test_strict_conditional_resolution_removes(keys: KeyRing) -> None:
    strict = HeaderEngine(Profile(name="s", conditional=ConditionalResolution.STRICT), keys)
    out = strict.deidentify(make_ds()).dataset
    assert "InstitutionName" not in out  # X/Z/D -> X
    assert "ReferencedImageSequence" not in out  # X/Z/U* -> X


def test_overrides_win(keys: KeyRing) -> None:
    p = Profile(name="o", overrides={"Manufacturer": Action.X, "(0010,0040)": "K"})
    out = HeaderEngine(p, keys).deidentify(make_ds()).dataset
    assert "Manufacturer" not in out and out.PatientSex == "F"


def test_different_key_different_pseudonyms(keys: KeyRing) -> None:
    other = KeyRing(bytes(range(32)))
    a = HeaderEngine(Profile(name="a"), keys).deidentify(make_ds()).dataset
    b = HeaderEngine(Profile(name="a"), other).deidentify(make_ds()).dataset
    assert a.StudyInstanceUID != b.StudyInstanceUID and a.PatientName != b.PatientName


def test_result_repr_has_no_phi(basic_engine: HeaderEngine) -> None:
    res = basic_engine.deidentify(make_ds())
    text = repr(res) + repr(res.identifiers) + repr(res.crosswalk)
    for phi in ("Smith", "MRN0012345", "20200131", "ACC778899", "Springfield"):
        assert phi not in text


def test_heap_frozen_once_per_scorer(monkeypatch: pytest.MonkeyPatch) -> None:
    """gc.freeze after a scorer loads, once per scorer (a worker building engines again pays nothing)."""
    import gc

    from deid.header import engine as engine_module

    calls: list[str] = []
    monkeypatch.setattr(engine_module, "_FROZEN", set())
    monkeypatch.setattr(gc, "collect", lambda *a: calls.append("collect") or 0)
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    scorer, other = object(), object()
    engine_module._freeze_heap(scorer)
    engine_module._freeze_heap(scorer)
    assert calls == ["collect", "freeze"]
    engine_module._freeze_heap(other)
    assert calls == ["collect", "freeze"] * 2


def test_deidentify_leaves_the_garbage_collector_as_it_was(basic_engine: HeaderEngine) -> None:
    """deid.dicomio.gc_paused around each instance: collection is on again after it, also when the
    instance is refused (a SOP class outside the registry), and the output does not depend on it."""
    import gc

    from deid.dicomio import write_dicom
    from deid.errors import InputError

    assert gc.isenabled()
    first = write_dicom(basic_engine.deidentify(make_ds()).dataset)
    assert gc.isenabled()
    bad = make_ds()
    bad.SOPClassUID = "1.2.3.4.5"
    with pytest.raises(InputError):
        basic_engine.deidentify(bad)
    assert gc.isenabled()
    gc.disable()
    try:
        again = write_dicom(basic_engine.deidentify(make_ds()).dataset)
        assert not gc.isenabled()
    finally:
        gc.enable()
    assert again == first
