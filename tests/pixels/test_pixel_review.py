"""Header matching of short name parts in OCR text (PS3.15 E.3.1 Clean Pixel Data: the instance's own
Patient's Name in burned-in text), found by the fifth session's review: a 4-5 letter part split in two
by OCR or missing one letter must still match. Synthetic names only."""

from __future__ import annotations

import pytest
from pydicom.dataset import Dataset

from deid.header.identifiers import collect_identifiers
from deid.pixels.classify import header_match


@pytest.mark.parametrize(("surname", "line"), [
    ("BURNS", "BRNS"), ("LOPEZ", "LOPZ"), ("LOPEZ", "LO PEZ"), ("LIMA", "LIM A"), ("ROSS", "ROS S"),
    ("BURNS", "Name: BRNS ANNA"), ("NOWAK", "NOW AK"), ("SILVA", "SILA"),
])
def test_short_name_with_one_ocr_split_or_deletion_matches(surname: str, line: str) -> None:
    ds = Dataset()
    ds.PatientName = f"{surname}^QUILLA"
    ds.PatientSex = "F"
    ds.PatientAge = "050Y"
    assert header_match(line, collect_identifiers(ds)) == "name"


@pytest.mark.parametrize("line", ["Gaussian filter", "FOR REVIEW", "BURN CARE UNIT 4"])
def test_no_match_inside_other_words(line: str) -> None:
    ds = Dataset()
    ds.PatientName = "SIAN^FLOR"
    assert header_match(line, collect_identifiers(ds)) is None
