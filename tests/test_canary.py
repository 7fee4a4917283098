"""Canary test: unique strings planted in every kind of identifying place of a small export (headers at
every depth, private tags and sequences, SR text, file and folder names, burned-in pixel text) must
not appear anywhere under the de-identified output after a full run through the quality gate and
the run report: not in DICOM files, Parquet (decoded), JSON, HTML, nor in the run's captured logs."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

pytestmark = pytest.mark.slow
NAME = ("CANARYQZXA", "CANARYQZXB")
PID, OTHER, OTHER2, ACC = "CANARYQZXC", "CANARYQZXD", "CANARYQZXE", "CANARYQZXF"
INSTITUTION, REFERRING = "CANARYQZXG Hospital", "CANARYQZXH^CANARYQZXI"
DATES = ("19310217", "19870911")
SC, BASIC_TEXT_SR = "1.2.840.10008.5.1.4.1.1.7", "1.2.840.10008.5.1.4.1.1.88.11"


def _pixels(lines: list[str]) -> np.ndarray:
    from PIL import Image, ImageDraw, ImageFont

    img = Image.new("L", (640, 480), 20)
    draw = ImageDraw.Draw(img)
    draw.ellipse((200, 120, 440, 360), fill=110)
    try:
        font = ImageFont.load_default(size=22)
    except TypeError:  # Pillow < 10.1
        font = ImageFont.load_default()
    for i, line in enumerate(lines):
        draw.text((12, 10 + 30 * i), line, fill=255, font=font)
    return np.asarray(img, dtype=np.uint8)


def _base(sop_class: str, modality: str) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, generate_uid()
    ds.file_meta.MediaStorageSOPClassUID, ds.file_meta.MediaStorageSOPInstanceUID = sop_class, ds.SOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality = modality
    ds.PatientName = "^".join(NAME)
    ds.PatientID, ds.OtherPatientIDs, ds.AccessionNumber = PID, OTHER, ACC
    ds.PatientBirthDate, ds.StudyDate = DATES
    ds.InstitutionName, ds.ReferringPhysicianName = INSTITUTION, REFERRING
    ds.StudyDescription = f"CT head for {NAME[1]} {PID}"
    ds.SeriesDescription = f"series of {NAME[0]}"
    ds.ImageComments = f"{NAME[0]} {NAME[1]} seen at {INSTITUTION}, acc {ACC}"
    other = Dataset()
    other.PatientID = OTHER2
    other.IssuerOfPatientID = INSTITUTION
    ds.OtherPatientIDsSequence = Sequence([other])
    inner = Dataset()
    inner.AccessionNumber = ACC
    inner.ReferringPhysicianName = REFERRING
    request = Dataset()
    request.RequestedProcedureID = OTHER
    request.RequestedProcedureDescription = f"for {NAME[1]}"
    request.ReferencedStudySequence = Sequence([inner])
    ds.RequestAttributesSequence = Sequence([request])
    ds.add_new(0x00110010, "LO", "CANARY PRIVATE")
    ds.add_new(0x00111001, "LO", PID)
    item = Dataset()
    item.add_new(0x00110010, "LO", "CANARY PRIVATE")
    item.add_new(0x00111001, "PN", "^".join(NAME))
    item.add_new(0x00111002, "LO", ACC)
    ds.add_new(0x00111010, "SQ", Sequence([item]))
    return ds


def _image() -> Dataset:
    ds = _base(SC, "OT")
    arr = _pixels([f"Name: {NAME[1]}, {NAME[0]}", f"ID: {PID}", f"Acc {ACC}", "DOB 02/17/1931"])
    ds.Rows, ds.Columns = arr.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.BurnedInAnnotation = "YES"
    ds.PixelData = arr.tobytes()
    return ds


def _sr() -> Dataset:
    ds = _base(BASIC_TEXT_SR, "SR")
    text = Dataset()
    text.RelationshipType, text.ValueType = "CONTAINS", "TEXT"
    text.TextValue = f"Patient {NAME[1]}^{NAME[0]} (MRN {PID}) referred by {REFERRING}"
    person = Dataset()
    person.RelationshipType, person.ValueType = "HAS OBS CONTEXT", "PNAME"
    person.PersonName = REFERRING
    ds.ValueType, ds.ContentSequence = "CONTAINER", Sequence([text, person])
    return ds


def _export(root: Path) -> None:
    folder = root / f"{NAME[0]}_{PID}" / f"{ACC} study"
    folder.mkdir(parents=True)
    _image().save_as(folder / f"{NAME[1]}_{OTHER}.dcm", enforce_file_format=True)
    _sr().save_as(folder / f"{NAME[1]}_report_{OTHER2}", enforce_file_format=True)


def _needles() -> set[bytes]:
    words = {*NAME, PID, OTHER, OTHER2, ACC, "CANARYQZX", "CANARYQZXG", "CANARYQZXH", "CANARYQZXI"}
    dates = {*DATES, "1931-02-17", "1987-09-11", "02/17/1931"}
    return {w.encode() for w in words | dates} | {w.lower().encode() for w in words}


def _haystack(root: Path) -> list[tuple[str, bytes]]:
    out: list[tuple[str, bytes]] = []
    for f in root.rglob("*"):
        out.append((f"name:{f}", str(f.relative_to(root)).encode()))
        if not f.is_file():
            continue
        data = f.read_bytes()
        out.append((str(f), data))
        if f.suffix == ".parquet":
            out.append((f"decoded:{f}", pq.read_table(f).to_pandas().to_csv().encode()))
    return out


def test_no_canary_anywhere_in_the_output(spark, tmp_path: Path, deid_key: str,  # type: ignore[no-untyped-def]
                                          capfd: pytest.CaptureFixture[str],
                                          caplog: pytest.LogCaptureFixture) -> None:
    from deid.config import DeidConfig, ZonesConfig
    from deid.keys import keyring_for
    from deid.pipeline.runner import PipelineRun
    from deid.quality.gate import QualityGate
    from deid.report import build_report
    from deid.tables import Tables
    from deid.zones import resolve

    export = tmp_path / "export"
    _export(export)
    out = tmp_path / "out"
    cfg = DeidConfig(profile="research", zones=ZonesConfig(
        input=str(export), output=str(out), raw=str(tmp_path / "raw"), crosswalk=str(tmp_path / "xw")))
    zs = resolve(cfg.zones, need_input=True)
    keyring = keyring_for(cfg.keys)
    gate = QualityGate(Tables(spark), zs, keyring)
    caplog.set_level(logging.INFO)
    summary = PipelineRun(spark, cfg, zs, keyring=keyring, gate=gate).run(do_ingest=True, do_deidentify=True)
    assert summary.ok and summary.deid is not None, gate.failures
    assert summary.deid.n_deidentified == 2 and summary.deid.n_quarantined == 0
    report = Path(build_report(spark, zs, summary.run_id, keyring=keyring))
    assert report.is_file() and "data:image/png" in report.read_text()
    assert gate.report is not None and gate.report.verification is not None
    assert gate.report.verification.n_ocr_instances == 1

    captured = capfd.readouterr()
    hay = _haystack(out) + [("stdout", captured.out.encode()), ("stderr", captured.err.encode()),
                            ("log", caplog.text.encode()), ("messages", "\n".join(summary.messages).encode())]
    assert any(name.endswith(".dcm") for name, _ in hay) and any(".parquet" in name for name, _ in hay)
    assert any(name.endswith("quality.json") for name, _ in hay)
    hits = [(n.decode(), name) for name, data in hay for n in _needles() if n in data]
    assert hits == [], hits
    # the scan itself works: the PHI zone (bronze) does hold the canaries
    assert any(n in data for _, data in _haystack(tmp_path / "raw") for n in _needles())
    # burned-in canaries: readable by OCR on the input, gone from the output frames
    before = _ocr_text(next(export.rglob("*.dcm")))
    assert "CANARYQZX" in before.replace(" ", "")
    outputs = [p for p in (out / "dicom").rglob("*.dcm") if "PixelData" in _read(p)]
    assert len(outputs) == 1
    after = _ocr_text(outputs[0]).replace(" ", "")
    assert "CANARY" not in after and "QZX" not in after


def _read(path: Path) -> Dataset:
    import pydicom

    return pydicom.dcmread(path)


def _ocr_text(path: Path) -> str:
    from deid.pixels.frames import Render, decode_frames, render_frame
    from deid.pixels.ocr import get_engine

    ds = _read(path)
    image = render_frame(decode_frames(ds), 0, ds, Render.VOI)
    return " ".join(b.text.upper() for b in get_engine("rapidocr").read([image])[0])
