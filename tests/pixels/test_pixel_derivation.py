"""A redacted image says that its pixel data were modified: Derivation Description (0008,2111) and
Derivation Code Sequence (0008,9215) with DCM 113101 Clean Pixel Data Option (PS3.3 C.7.6.1.1.3,
PS3.15 E.3.1, PS3.16 CID 7050); an image whose pixels were not touched says nothing of the kind."""

from __future__ import annotations

import copy
import io

import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from deid.header.identifiers import Identifiers, collect_identifiers
from deid.pipeline.hooks import PixelItem
from deid.pixels.ocr import TextBox
from deid.pixels.redact import DERIVATION_TEXT, record_derivation
from deid.pixels.stage import PixelConfig, PixelStage

from .conftest import ScriptedEngine, bundled


def _codes(ds: Dataset) -> list[tuple[str, str]]:
    return [(str(i.CodeValue), str(i.CodingSchemeDesignator)) for i in ds.get("DerivationCodeSequence") or []]


def _stage(text: str) -> tuple[pydicom.Dataset, int]:
    ds = bundled("CT_small.dcm")
    eng = ScriptedEngine(lambda img: [TextBox(1, 1, 40, 8, text, 0.99)])
    stage = PixelStage(PixelConfig(classifier={"enabled": False}), engine=eng)
    item = PixelItem("k", ds, copy.deepcopy(ds), Identifiers(names=[["Doe", "John"]]) if "DOE" in text
                     else collect_identifiers(ds), "CT")
    (out,) = stage.process([item])
    buf = io.BytesIO()
    item.target.save_as(buf, enforce_file_format=True)
    return pydicom.dcmread(io.BytesIO(buf.getvalue())), out.redacted_regions


@pytest.mark.parametrize("text,redacted", [("DOE JOHN", True), ("AXIAL", False)])
def test_redacted_image_records_its_derivation(text: str, redacted: bool) -> None:
    back, n = _stage(text)
    assert (n > 0) is redacted
    assert (("113101", "DCM") in _codes(back)) is redacted
    assert (DERIVATION_TEXT in str(back.get("DerivationDescription", ""))) is redacted


def test_earlier_derivation_is_kept_and_a_second_redaction_adds_nothing() -> None:
    ds = Dataset()
    ds.DerivationDescription = "Lossy compression"
    lossy = Dataset()
    lossy.CodeValue, lossy.CodingSchemeDesignator, lossy.CodeMeaning = "113040", "DCM", "Lossy Compression"
    ds.DerivationCodeSequence = Sequence([lossy])
    record_derivation(ds)
    record_derivation(ds)
    assert _codes(ds) == [("113040", "DCM"), ("113101", "DCM")]
    assert ds.DerivationDescription == f"Lossy compression; {DERIVATION_TEXT}"
    assert ds.DerivationCodeSequence[1].CodeMeaning == "Clean Pixel Data Option"
