"""One test per Table E.1-1 row (and per option column that changes it), generated from the table.

A PHI-looking value is put in the attribute at top level and inside a sequence item; the engine's
result must show the action the table (resolved for the profile) calls for.
"""

from __future__ import annotations

import pytest
from pydicom.datadict import dictionary_VR, keyword_for_tag
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian

from deid.header.profile import Action, ConditionalResolution, ProfileOption
from deid.header.table import binary_clean_removed, load_table, resolve_code

PSEUDONYMIZED = {"PatientID", "PatientName", "AccessionNumber"}
CONTAINER = 0x00082218  # Anatomic Region Sequence: not in Table E.1-1, so kept and walked
PHI_TEXT = "DOE^JOHN 19700101 MRN9876543"
PHI_UID = "1.2.826.0.1.3680043.2.1125.999.123456789"


def _vr(tag: int) -> str | None:
    try:
        return str(dictionary_VR(tag)).split(" or ")[0]
    except KeyError:
        return None


def _phi_value(vr: str):  # type: ignore[no-untyped-def]
    return {
        "PN": "DOE^JOHN", "DA": "19700101", "DT": "19700101120000", "TM": "120000",
        "UI": PHI_UID, "AS": "095Y", "CS": "DOEJOHN", "AE": "DOESTATION", "IS": "12345",
        "DS": "12345.5", "US": 4242, "SS": 4242, "UL": 4242, "SL": 4242, "FL": 42.5, "FD": 42.5,
        "UV": 4242, "SV": 4242, "AT": 0x00100010, "SH": "MRN9876543", "UR": "http://doe.example/j",
    }.get(vr, PHI_TEXT if vr not in ("OB", "OW", "OF", "OD", "OL", "OV", "UN") else b"DOEJOHN\x00")


def _base() -> Dataset:
    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = "1.2.3.4.5.6.7.8"
    ds.PatientName = "DOE^JOHN"
    ds.PatientID = "MRN9876543"
    ds.file_meta = Dataset()  # type: ignore[assignment]
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    return ds


def _sequence_item(vr_expect: Action) -> Dataset:
    item = Dataset()
    item.TextValue = "Seen by DOE JOHN on 01/31/2020"  # (0040,A160), not in the table
    item.ReferencedSOPInstanceUID = PHI_UID
    item.CodeValue = "T-D4000"
    item.CodeMeaning = "Abdomen"
    return item


def _cases() -> list[tuple[int, str, ProfileOption | None]]:
    cases = []
    for row in load_table():
        tag = row.tag_int
        if tag is None or tag >> 16 == 0x0002 or _vr(tag) is None or keyword_for_tag(tag) == "":
            continue
        cases.append((tag, row.basic, None))
        for opt in ProfileOption:
            if opt.column in row.options:
                cases.append((tag, row.options[opt.column], opt))
    return cases


CASES = _cases()


def test_table_has_all_rows() -> None:
    assert len(load_table()) == 621
    assert len({c[0] for c in CASES}) > 560  # nearly every row has a tag pydicom can build


@pytest.mark.parametrize(("tag", "code", "option"), CASES,
                         ids=[f"{t:08X}-{o.value if o else 'basic'}" for t, _, o in CASES])
@pytest.mark.parametrize("nested", [False, True], ids=["top", "nested"])
def test_row_action(tag: int, code: str, option: ProfileOption | None, nested: bool,
                    engine_with) -> None:  # type: ignore[no-untyped-def]
    vr = _vr(tag)
    assert vr is not None
    # a C on a binary value (Maker Note, Certified Timestamp ...) is removal (deid.header.table, step 4)
    expected = binary_clean_removed(resolve_code(code, ConditionalResolution.KEEP_VALID, vr), vr)
    engine = engine_with(option) if option else engine_with()
    keyword = keyword_for_tag(tag)
    ds = _base()
    holder = ds
    if nested:
        item = Dataset()
        ds.add_new(CONTAINER, "SQ", Sequence([item]))
        holder = item
    original = Sequence([_sequence_item(expected)]) if vr == "SQ" else _phi_value(vr)
    holder.add_new(tag, vr, original)

    out = engine.deidentify(ds).dataset
    target = out[CONTAINER].value[0] if nested else out
    if keyword in ("SOPInstanceUID", "SOPClassUID") and not nested:
        return  # replaced by the base dataset's own values; covered by UID tests
    if expected is Action.X or tag >> 16 in (0x0000, 0x0002):
        assert tag not in target  # group 0000 and 0002 never stay in a data set (issue 14 item 3)
        return
    assert tag in target, "attribute removed although the table does not say X"
    value = target[tag].value
    if vr == "SQ":
        _check_sequence(expected, value, option is ProfileOption.RETAIN_UIDS)
    elif expected is Action.K:
        assert value == original
    elif expected is Action.Z:
        if keyword in PSEUDONYMIZED:
            assert value and str(value) != str(original)
        else:
            assert value in ("", None, b"") or value == []
    elif expected is Action.U:
        assert str(value).startswith("2.25.") and str(value) != PHI_UID
    elif expected is Action.D:
        assert value not in ("", None, b""), "D needs a non-zero-length value"
        assert value != original or vr in ("US", "SS", "UL", "SL", "FL", "FD", "UV", "SV", "AT", "IS", "DS")
        if vr in ("PN", "LO", "SH", "ST", "LT", "UT", "UC", "DA", "DT", "UI"):
            assert str(value) != str(original)
    elif expected is Action.C and vr in ("PN", "LO", "SH", "ST", "LT", "UT", "UC", "DA", "DT"):
        assert "DOE" not in str(value).upper() and "19700101" not in str(value)


def _check_sequence(expected: Action, value: Sequence, uids_kept: bool) -> None:
    if expected is Action.Z:
        assert len(value) == 0
        return
    assert len(value) == 1
    item = value[0]
    if expected is Action.K:
        # Text Value is not in the table: cleaned at every depth, even in a kept sequence (default deny)
        assert "DOE" not in item.TextValue.upper() and "01/31/2020" not in item.TextValue
        # UIDs are remapped at every depth unless Retain UIDs is on
        assert (item.ReferencedSOPInstanceUID == PHI_UID) is uids_kept
        return
    assert item.ReferencedSOPInstanceUID != PHI_UID
    assert item.CodeMeaning == "Abdomen"  # coded vocabulary survives
    if expected in (Action.D, Action.C):
        assert "DOE" not in item.TextValue.upper() and "01/31/2020" not in item.TextValue
