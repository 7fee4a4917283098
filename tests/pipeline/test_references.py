"""Referential integrity (PS3.15 E.3.9 / Annex E "U"): one keyed UID per original UID, in this run and
later runs, redacted images included, so every UID reference of the output resolves to a released
instance.

The study is built here: a localizer and a CT series (Referenced Image Sequence and Source Image
Sequence point at the localizer), a Comprehensive SR and a Key Object Selection referencing images
(evidence and content), and a Grayscale Softcopy Presentation State. Patient text is burned into the
localizer and one CT image, so the pixel stage redacts them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pydicom
import pytest
from deltalake import DeltaTable
from PIL import Image, ImageDraw, ImageFont
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from deid.config import DeidConfig, ZonesConfig
from deid.pipeline.runner import PipelineRun

pytestmark = pytest.mark.slow

CT = "1.2.840.10008.5.1.4.1.1.2"
COMPREHENSIVE_SR = "1.2.840.10008.5.1.4.1.1.88.33"
KOS = "1.2.840.10008.5.1.4.1.1.88.59"
GSPS = "1.2.840.10008.5.1.4.1.1.11.1"
NAME, PID, ACC = "REFTEST^ANNA^MARIE", "REF0012345", "ACC7720431"
BURNED = "REFTEST ANNA  ID REF0012345"


def _ref(sop_class: str, uid: str) -> Dataset:
    item = Dataset()
    item.ReferencedSOPClassUID = sop_class
    item.ReferencedSOPInstanceUID = uid
    return item


def _base(sop_class: str, study: str, series: str, modality: str, number: int) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
    ds.PatientName, ds.PatientID, ds.AccessionNumber = NAME, PID, ACC
    ds.PatientBirthDate, ds.StudyDate, ds.SeriesDate = "19610304", "20240117", "20240117"
    ds.StudyTime, ds.StudyID, ds.ReferringPhysicianName = "101500", "S1", ""
    ds.Modality, ds.SeriesNumber, ds.InstanceNumber = modality, number, 1
    ds.Manufacturer = "ACME"
    return ds


def _image(study: str, series: str, number: int, text: str | None, localizer: bool = False) -> Dataset:
    ds = _base(CT, study, series, "CT", number)
    ds.ImageType = ["ORIGINAL", "PRIMARY", "LOCALIZER" if localizer else "AXIAL"]
    rows = cols = 256
    yy, xx = np.mgrid[0:rows, 0:cols]
    img = (60 + 40 * np.exp(-((yy - 128) ** 2 + (xx - 128) ** 2) / 3000.0)).astype(np.float64)
    if text:
        mask = Image.new("L", (cols, rows), 0)
        ImageDraw.Draw(mask).text((8, 8), text, fill=255, font=ImageFont.load_default(size=16))
        m = np.asarray(mask, dtype=np.float64) / 255.0
        img = img * (1 - m) + 250 * m
    ds.Rows, ds.Columns, ds.SamplesPerPixel, ds.PhotometricInterpretation = rows, cols, 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.BurnedInAnnotation = "YES" if text else "NO"
    ds.PixelData = np.clip(img, 0, 255).astype(np.uint8).tobytes()
    return ds


def _evidence(study: str, by_series: dict[str, list[tuple[str, str]]]) -> Sequence:
    item = Dataset()
    item.StudyInstanceUID = study
    series_items = []
    for series, refs in by_series.items():
        s = Dataset()
        s.SeriesInstanceUID = series
        s.ReferencedSOPSequence = Sequence([_ref(c, u) for c, u in refs])
        series_items.append(s)
    item.ReferencedSeriesSequence = Sequence(series_items)
    return Sequence([item])


def _image_item(sop_class: str, uid: str) -> Dataset:
    item = Dataset()
    item.RelationshipType, item.ValueType = "CONTAINS", "IMAGE"
    item.ReferencedSOPSequence = Sequence([_ref(sop_class, uid)])
    return item


def _container(code: str, meaning: str, children: list[Dataset]) -> Dataset:
    ds = Dataset()
    concept = Dataset()
    concept.CodeValue, concept.CodingSchemeDesignator, concept.CodeMeaning = code, "DCM", meaning
    ds.ValueType, ds.ContinuityOfContent = "CONTAINER", "SEPARATE"
    ds.ConceptNameCodeSequence = Sequence([concept])
    ds.ContentSequence = Sequence(children)
    return ds


def build_study(dest: Path) -> dict[str, Dataset]:
    """The reference study (file name -> dataset, saved under ``dest``)."""
    study = generate_uid()
    loc_series, ct_series, frame_of_reference = generate_uid(), generate_uid(), generate_uid()
    files: dict[str, Dataset] = {"localizer.dcm": _image(study, loc_series, 1, BURNED, localizer=True)}
    loc = files["localizer.dcm"]
    for i in range(3):
        ds = _image(study, ct_series, 2, BURNED if i == 0 else None)
        ds.InstanceNumber = i + 1
        ds.ReferencedImageSequence = Sequence([_ref(CT, loc.SOPInstanceUID)])
        ds.SourceImageSequence = Sequence([_ref(CT, loc.SOPInstanceUID)])
        ds.FrameOfReferenceUID = frame_of_reference
        files[f"ct{i}.dcm"] = ds
    cts = [files[f"ct{i}.dcm"] for i in range(3)]
    loc.FrameOfReferenceUID = frame_of_reference

    sr = _base(COMPREHENSIVE_SR, study, generate_uid(), "SR", 3)
    sr.CompletionFlag, sr.VerificationFlag = "COMPLETE", "UNVERIFIED"
    sr.CurrentRequestedProcedureEvidenceSequence = _evidence(
        study, {ct_series: [(CT, c.SOPInstanceUID) for c in cts], loc_series: [(CT, loc.SOPInstanceUID)]})
    sr_root = _container("121070", "Findings", [_image_item(CT, cts[0].SOPInstanceUID),
                                               _image_item(CT, loc.SOPInstanceUID)])
    for k, v in sr_root.items():
        sr[k] = v
    files["sr.dcm"] = sr

    gsps = _base(GSPS, study, generate_uid(), "PR", 4)
    ref_series = Dataset()
    ref_series.SeriesInstanceUID = ct_series
    ref_series.ReferencedImageSequence = Sequence([_ref(CT, c.SOPInstanceUID) for c in cts])
    gsps.ReferencedSeriesSequence = Sequence([ref_series])
    gsps.PresentationCreationDate, gsps.PresentationCreationTime = "20240117", "101700"
    gsps.ContentLabel = "PS1"
    files["gsps.dcm"] = gsps

    dest.mkdir(parents=True, exist_ok=True)
    for name, ds in files.items():
        ds.save_as(dest / name, enforce_file_format=True)
    return files


def kos_for(dest: Path, study: dict[str, Dataset]) -> Dataset:
    """A Key Object Selection (a later export) that references the localizer and a redacted CT image."""
    loc, ct0 = study["localizer.dcm"], study["ct0.dcm"]
    kos = _base(KOS, str(loc.StudyInstanceUID), generate_uid(), "KO", 5)
    kos.CurrentRequestedProcedureEvidenceSequence = _evidence(
        str(loc.StudyInstanceUID), {str(loc.SeriesInstanceUID): [(CT, loc.SOPInstanceUID)],
                                    str(ct0.SeriesInstanceUID): [(CT, ct0.SOPInstanceUID)]})
    root = _container("113000", "Of Interest", [_image_item(CT, loc.SOPInstanceUID),
                                                _image_item(CT, ct0.SOPInstanceUID)])
    for k, v in root.items():
        kos[k] = v
    dest.mkdir(parents=True, exist_ok=True)
    kos.save_as(dest / "kos.dcm", enforce_file_format=True)
    return kos


def references(ds: Dataset) -> Iterator[tuple[str, str, str]]:
    """(keyword path, referenced class, referenced instance) of every SOP reference at every depth."""
    stack: list[tuple[Dataset, str]] = [(ds, "")]
    while stack:
        item, path = stack.pop()
        if "ReferencedSOPInstanceUID" in item:
            yield path, str(item.get("ReferencedSOPClassUID", "")), str(item.ReferencedSOPInstanceUID)
        for elem in item:
            if elem.VR == "SQ":
                stack.extend((child, f"{path}/{elem.keyword}") for child in elem.value)


def _released(out: Path) -> dict[str, Dataset]:
    return {str(d.SOPInstanceUID): d for d in (pydicom.dcmread(p) for p in sorted((out / "dicom").rglob("*.dcm")))}


def test_every_reference_resolves_across_runs_with_redacted_images(spark, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                    deid_key: str) -> None:
    export, out = tmp_path / "export", tmp_path / "out"
    study = build_study(export / "first")
    originals = {str(d.SOPInstanceUID) for d in study.values()}
    zs = {"output": str(out), "raw": str(tmp_path / "raw"), "crosswalk": str(tmp_path / "xw")}
    first = PipelineRun(spark, DeidConfig(zones=ZonesConfig(input=str(export / "first"), **zs))).run(
        do_ingest=True, do_deidentify=True)
    assert first.ok, first.messages
    kos_for(export / "second", study)  # a later export referencing instances released by the first run
    second = PipelineRun(spark, DeidConfig(zones=ZonesConfig(input=str(export / "second"), **zs))).run(
        do_ingest=True, do_deidentify=True)
    assert second.ok, second.messages

    released = _released(out)
    assert len(released) == len(study) + 1
    assert not originals & set(released), "an original SOP Instance UID was released"
    md = DeltaTable(str(out / "tables" / "metadata")).to_pandas()
    redacted = set(md[md["redacted_regions"] > 0]["sop_instance_uid"])
    assert len(redacted) >= 2, "the localizer and the first CT image carry burned-in text"
    for uid in redacted:  # a redacted image keeps its keyed UID; 113101 says its pixels were cleaned
        codes = [i.CodeValue for i in released[uid].DeidentificationMethodCodeSequence]
        assert "113101" in codes and released[uid].BurnedInAnnotation == "NO"

    found: dict[str, int] = {}
    for ds in released.values():
        for path, sop_class, ref in references(ds):
            assert ref in released, f"{ds.Modality} {path}: reference to an instance not in the output"
            assert str(released[ref].SOPClassUID) == sop_class, path
            found[f"{ds.Modality}{path}"] = found.get(f"{ds.Modality}{path}", 0) + 1
            if released[ref].SOPInstanceUID in redacted:
                found["to_redacted"] = found.get("to_redacted", 0) + 1
    for kind in ("CT/ReferencedImageSequence", "CT/SourceImageSequence",
                 "SR/CurrentRequestedProcedureEvidenceSequence/ReferencedSeriesSequence/ReferencedSOPSequence",
                 "SR/ContentSequence/ReferencedSOPSequence",
                 "KO/CurrentRequestedProcedureEvidenceSequence/ReferencedSeriesSequence/ReferencedSOPSequence",
                 "KO/ContentSequence/ReferencedSOPSequence",
                 "PR/ReferencedSeriesSequence/ReferencedImageSequence"):
        assert found.get(kind), (kind, sorted(found))
    assert found["to_redacted"] >= 10
    series = {str(d.SeriesInstanceUID) for d in released.values()}
    studies = {str(d.StudyInstanceUID) for d in released.values()}
    assert len(studies) == 1
    for ds in released.values():
        for seq in ("CurrentRequestedProcedureEvidenceSequence", "ReferencedSeriesSequence"):
            for item in ds.get(seq, []):
                assert str(item.get("StudyInstanceUID", next(iter(studies)))) in studies
                for s in item.get("ReferencedSeriesSequence", [item]):
                    assert str(s.SeriesInstanceUID) in series


def test_pixel_hook_undoes_a_new_instance_uid_from_an_encoder() -> None:
    """pydicom's compress/decompress default to a new SOP Instance UID: the hook restores the keyed one."""
    from deid.pipeline.hooks import keep_instance_uid

    ds = _image(generate_uid(), generate_uid(), 1, None)
    keyed = str(ds.SOPInstanceUID)
    ds.compress("1.2.840.10008.1.2.5")  # RLE Lossless, generate_instance_uid=True by default
    assert str(ds.SOPInstanceUID) != keyed
    keep_instance_uid(ds, keyed)
    assert str(ds.SOPInstanceUID) == keyed == str(ds.file_meta.MediaStorageSOPInstanceUID)
