"""Default deny for what Table E.1-1 does not list (issue 14 item 3): every side door gets a planted
canary, and no canary may be in the written file."""

from __future__ import annotations

import random

import pytest
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.tag import Tag
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian

from deid.dicomio import read_dicom, write_dicom
from deid.errors import InputError, Reason
from deid.header import deny
from deid.header.engine import HeaderEngine, PixelStatus
from deid.header.profile import FreeTextPolicy, Profile, ProfileOption, SafePrivate, load_profile
from deid.keys import KeyRing

CANARY = "Quxworthy"  # a surname no vocabulary has
SOP = "1.2.826.0.1.3680043.8.498.77.1"


@pytest.fixture(scope="module")
def engine(keys: KeyRing) -> HeaderEngine:
    profile = load_profile("research").model_copy(update={"free_text": FreeTextPolicy(detector="rules")})
    return HeaderEngine(profile, keys)


def _ds() -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = SOP
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = SOP
    ds.StudyInstanceUID = SOP + ".1"
    ds.SeriesInstanceUID = SOP + ".2"
    ds.PatientName = "Doe^Jane"
    ds.PatientID = "PID0042"
    return ds


def _out(engine: HeaderEngine, ds: Dataset) -> tuple[Dataset, bytes]:
    res = engine.deidentify(ds)
    engine.finalize(res.dataset, PixelStatus.NO_PIXEL_DATA)
    data = write_dicom(res.dataset)
    return read_dicom(data), data


def test_preamble_is_zeroed(engine: HeaderEngine) -> None:
    ds = _ds()
    ds.preamble = (CANARY.encode() * 20)[:128]
    back, data = _out(engine, ds)
    assert data[:128] == b"\x00" * 128 and CANARY.encode() not in data


def test_file_meta_keeps_only_ps310_elements(engine: HeaderEngine) -> None:
    ds = _ds()
    ds.file_meta.FileMetaInformationVersion = CANARY.encode()
    ds.file_meta.SourceApplicationEntityTitle = CANARY[:16]
    ds.file_meta.PrivateInformationCreatorUID = "1.2.3.4"
    ds.file_meta.add_new(0x00020102, "OB", CANARY.encode() * 2)
    ds.file_meta.add_new(0x00020026, "UR", f"http://{CANARY}.example")
    res = engine.deidentify(ds)
    meta = res.dataset.file_meta
    assert meta.FileMetaInformationVersion == b"\x00\x01"
    assert {int(t) for t in meta.keys()} <= {0x00020000, 0x00020001, 0x00020002, 0x00020003, 0x00020010,
                                             0x00020012, 0x00020013}
    assert CANARY.encode() not in write_dicom(res.dataset)


@pytest.mark.parametrize("tag", [0x00001000, 0x00000902, 0x00010010, 0x00030020, 0x00050010, 0x00071000,
                                 0x00020100])
@pytest.mark.parametrize("nested", [False, True])
def test_illegal_groups_are_dropped(engine: HeaderEngine, tag: int, nested: bool) -> None:
    ds = _ds()
    holder = ds
    if nested:
        holder = Dataset()
        ds.ReferencedImageSequence = Sequence([holder])
    holder.add_new(tag, "LO", CANARY)
    out, data = _out(engine, ds)
    assert CANARY.encode() not in data


def _siemens(ds: Dataset, element: int, vr: str, value: object) -> None:
    block = ds.private_block(0x0019, "SIEMENS MR HEADER", create=True)
    if vr in ("IS", "DS") and isinstance(value, str):  # as read from a hostile file: raw bytes
        raw = value.encode().ljust(len(value) + len(value) % 2)
        ds[block.get_tag(element)] = RawDataElement(Tag(block.get_tag(element)), vr, len(raw), raw, 0, False, True)
        return
    block.add_new(element, vr, value)


@pytest.mark.parametrize(("element", "vr", "value", "kept"), [
    (0x0C, "IS", "1000", True),  # B_value: a number, kept
    (0x0C, "LO", f"{CANARY} 1000", False),  # spoofed text at a listed element
    (0x0C, "IS", CANARY[:12], False),  # text where a number belongs
    (0x0D, "CS", "DIRECTIONAL", True),  # a listed code
    (0x0D, "CS", CANARY.upper()[:16], False),  # a code that is not listed
    (0x0E, "FD", [0.1, 0.2, 0.97], True),  # three numbers
    (0x0E, "FD", [0.1], False),  # wrong number of values
    (0x0E, "OB", CANARY.encode().ljust(24, b"\x00"), False),  # bytes of another VR
    (0x10, "IS", "7", False),  # not a listed element
])
def test_safe_private_needs_creator_element_and_form(keys: KeyRing, element: int, vr: str, value: object,
                                                     kept: bool) -> None:
    engine = HeaderEngine(load_profile("research"), keys)
    ds = _ds()
    _siemens(ds, element, vr, value)
    out, data = _out(engine, ds)
    present = any(t.group == 0x0019 and t.element & 0xFF == element and t.element > 0xFF for t in out.keys())
    assert present is kept
    assert CANARY.encode() not in data and CANARY.upper().encode()[:9] not in data


def test_spoofed_ge_creator_text_removed(keys: KeyRing) -> None:
    engine = HeaderEngine(Profile(name="s", options=frozenset({ProfileOption.RETAIN_SAFE_PRIVATE}),
                                  safe_private=(SafePrivate(creator="GEMS_PARM_01", group=0x43, element=0x39,
                                                            vr="IS", vm=4),)), keys)
    ds = _ds()
    ds.private_block(0x0043, "GEMS_PARM_01", create=True).add_new(0x39, "LO", f"{CANARY}\\1\\2\\3")
    out, data = _out(engine, ds)
    assert CANARY.encode() not in data


def test_own_sop_class_must_be_registered(engine: HeaderEngine) -> None:
    ds = _ds()
    ds.SOPClassUID = f"{CANARY} class"
    with pytest.raises(InputError) as err:
        engine.deidentify(ds)
    assert err.value.reason is Reason.INVALID_VALUE and CANARY not in str(err.value)


@pytest.mark.parametrize("keyword", ["ReferencedSOPClassUID", "CodingSchemeUID"])
def test_nested_class_uid_text_is_removed(engine: HeaderEngine, keyword: str) -> None:
    ds = _ds()
    item = Dataset()
    setattr(item, keyword, f"{CANARY} was here")
    ds.ReferencedImageSequence = Sequence([item])
    out, data = _out(engine, ds)
    assert CANARY.encode() not in data


def test_registered_class_uids_are_kept(engine: HeaderEngine) -> None:
    ds = _ds()
    item = Dataset()
    item.ReferencedSOPClassUID = CTImageStorage
    item.ReferencedSOPInstanceUID = SOP + ".9"
    ds.ReferencedImageSequence = Sequence([item])
    out, _ = _out(engine, ds)
    assert out.ReferencedImageSequence[0].ReferencedSOPClassUID == CTImageStorage
    assert out.SOPClassUID == CTImageStorage


def _real_world_value_mapping(text: str) -> Dataset:
    units = Dataset()
    units.CodeValue = "mm"
    units.CodingSchemeDesignator = "UCUM"
    units.CodeMeaning = "mm"
    units.TextValue = text
    rwvm = Dataset()
    rwvm.LUTExplanation = text
    rwvm.LUTLabel = text[:16]
    rwvm.MeasurementUnitsCodeSequence = Sequence([units])
    return rwvm


@pytest.mark.parametrize("where", ["ContentDescription", "DocumentTitle", "ImageComments", "rwvm", "un",
                                   "ur", "even-unknown", "kanji"])
def test_unlisted_text_is_cleaned_at_every_depth(engine: HeaderEngine, where: str) -> None:
    ds = _ds()
    text = f"Seen by Dr {CANARY} at 12 Elm Street"
    if where == "rwvm":
        ds.RealWorldValueMappingSequence = Sequence([_real_world_value_mapping(text)])
    elif where == "un":
        ds.add_new(0x00409FF0, "UN", text.encode())  # (0040,9FF0): an even tag no dictionary has
    elif where == "ur":
        ds.RetrieveURL = f"https://pacs.example/{CANARY}"
    elif where == "even-unknown":
        ds.add_new(0x00100FFE, "LO", text[:64])
    elif where == "kanji":
        ds.SpecificCharacterSet = "ISO_IR 192"
        ds.PatientName = "Yamada^Tarou=山田^太郎"
        ds.ContentDescription = "患者山田太郎さん"
        text = "山田"
    else:
        setattr(ds, where, text[:64])
    out, data = _out(engine, ds)
    for canary in (CANARY, "Elm Street", "山田"):
        assert canary.encode("utf-8") not in data
    assert text.encode("utf-8") not in data


@pytest.mark.parametrize(("tag", "vr", "value", "kept"), [
    (0x00189004, "UN", f"{CANARY} UN value ".encode(), False),  # Content Qualification (CS) written as UN
    (0x00189004, "CS", "PRODUCT", True),
    (0x00080008, "CS", ["ORIGINAL", "PRIMARY", f"{CANARY} text"], False),  # Image Type
    (0x00080008, "CS", ["ORIGINAL", "PRIMARY", "AXIAL"], True),
    (0x00180050, "UN", f"{CANARY} ".encode(), False),  # Slice Thickness (DS)
    (0x00180050, "DS", "1.25", True),
    (0x00200012, "UN", b"12 Elm St ", False),  # Acquisition Number (IS)
    (0x00200012, "IS", "12", True),
])
@pytest.mark.parametrize("nested", [False, True])
def test_fixed_form_vrs_keep_only_their_form(engine: HeaderEngine, tag: int, vr: str, value: object,
                                             kept: bool, nested: bool) -> None:
    ds = _ds()
    holder = Dataset() if nested else ds
    if vr == "UN":  # as a file that wrote it UN is read: raw, converted only on access
        assert isinstance(value, bytes)
        holder[tag] = RawDataElement(Tag(tag), "UN", len(value), value, 0, False, True)
    else:
        holder.add_new(tag, vr, value)
    if nested:
        ds.RealWorldValueMappingSequence = Sequence([holder])
    out, data = _out(engine, ds)
    out_holder = out.RealWorldValueMappingSequence[0] if nested else out
    assert (tag in out_holder) is kept
    assert CANARY.encode() not in data and b"Elm St" not in data


def test_keep_list_attributes_stay(engine: HeaderEngine) -> None:
    ds = _ds()
    ds.Manufacturer = "SIEMENS"
    ds.ConvolutionKernel = "B30f"
    ds.SequenceName = "*tfl3d1_16ns"
    out, _ = _out(engine, ds)
    assert (out.Manufacturer, out.ConvolutionKernel, out.SequenceName) == ("SIEMENS", "B30f", "*tfl3d1_16ns")


def test_code_meaning_comes_from_the_standard(engine: HeaderEngine) -> None:
    ds = _ds()
    known = Dataset()
    known.CodeValue = "113100"
    known.CodingSchemeDesignator = "DCM"
    known.CodeMeaning = f"Basic profile by {CANARY}"
    unknown = Dataset()
    unknown.CodeValue = "X1"
    unknown.CodingSchemeDesignator = "99LOCAL"
    unknown.CodeMeaning = f"Referred by Dr {CANARY}"
    ds.ConceptNameCodeSequence = Sequence([known, unknown])
    out, data = _out(engine, ds)
    assert out.ConceptNameCodeSequence[0].CodeMeaning == "Basic Application Confidentiality Profile"
    assert CANARY.encode() not in data


def test_real_corpus_keeps_clinical_code_meanings(engine: HeaderEngine) -> None:
    ds = _ds()
    item = Dataset()
    item.CodeValue = "T-D4000"
    item.CodingSchemeDesignator = "SRT"
    item.CodeMeaning = "Abdomen"
    ds.AnatomicRegionSequence = Sequence([item])
    out, _ = _out(engine, ds)
    assert out.AnatomicRegionSequence[0].CodeMeaning == "Abdomen"


def _each_value_fits(text: str, vr: str) -> bool:
    """PS3.5 6.2 per value, as :func:`deny.standard_value_fits` checks a text its one-match path refuses."""
    form = deny._FORMED[vr]
    return all(form.match(item.rstrip("\x00")) for item in text.rstrip(" \x00").split("\\"))


@pytest.mark.parametrize("vr", ["IS", "DS"])
def test_multi_valued_numbers_are_judged_as_value_by_value(vr: str) -> None:
    """The one-match path for long IS/DS lists (contour data, grid offsets) accepts exactly what the
    value-by-value check accepts: 4,000 seeded texts of number characters, spaces, NULs, newlines,
    backslashes and letters, as bytes and as text."""
    rng = random.Random(9311)
    alphabet = "0123456789" * 3 + "..++--eE    \\\\\\\x00\nx٣"
    texts = ["", " ", "\\", "1\\", "1\\\\2", "1e5", ".5", "5.", "+-1", "1 2", "1\n", "1\n\\2", "1" * 13]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 24))) for _ in range(4000)]
    for text in texts:
        expected = _each_value_fits(text, vr)
        assert deny.standard_value_fits(text, vr) is expected, repr(text)
        if text.isascii():
            assert deny.standard_value_fits(text.encode(), vr) is expected, repr(text)
