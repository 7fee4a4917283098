"""Report pieces without Spark: page rendering, escaping, thumbnails with outlined boxes."""

from __future__ import annotations

import base64
import datetime as dt
import io
from pathlib import Path

import numpy as np
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

from deid.report.data import ReportData, StageRow
from deid.report.html import render_index
from deid.report.thumbs import thumbnail

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


def _data(**kw: object) -> ReportData:
    base = dict(run_id="20260101T000000Z-abcd", stages=[
        StageRow("ingest", "SUCCEEDED", T0, T0 + dt.timedelta(seconds=4), 8, 6, 2, 0),
        StageRow("deidentify", "SUCCEEDED", T0, T0 + dt.timedelta(seconds=2), 6, 5, 1, 0)],
        outcomes={"de-identified": 5, "quarantined at deidentify": 1}, quarantine_reasons={"NOT_DICOM": 2},
        burned_in={"cleaned": 5}, modalities={"CT": 5}, quality=[], gate={"passed": False, "failures": [
            "metadata.x failed (1 of 5 unexpected)"], "warnings": [], "results": [
            {"table_name": "metadata", "expectation": "x", "severity": "critical", "success": False,
             "unexpected_count": 1, "observed": "1 of 5 unexpected"}]},
        thumbs=[], review_location="/phi/tables/review")
    base.update(kw)
    return ReportData(**base)  # type: ignore[arg-type]


def test_index_shows_counts_gate_and_throughput() -> None:
    page = render_index(_data(), [("2.25.1", None, 0)], "/phi/reports/r/before_after.html")
    for needle in ("NOT_DICOM", "quality gate failed: not released", "metadata.x failed", "<td>2.00</td>",
                   "<td>3.00</td>", "/phi/tables/review", "before_after.html", "frame not readable", "2.25.1"):
        assert needle in page, needle


def test_everything_is_escaped() -> None:
    page = render_index(_data(run_id="<script>alert(1)</script>", modalities={"<b>x": 1}), [], None)
    assert "<script>" not in page and "&lt;script&gt;" in page and "<b>x" not in page


def _file(tmp_path: Path) -> Path:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID, ds.SOPInstanceUID = "1.2.840.10008.5.1.4.1.1.7", "2.25.5"
    ds.Rows, ds.Columns = 100, 200
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    arr = np.zeros((100, 200), dtype=np.uint8)
    arr[:, 100:] = 200
    ds.PixelData = arr.tobytes()
    path = tmp_path / "x.dcm"
    ds.save_as(path, enforce_file_format=True)
    return path


def test_thumbnail_outlines_redacted_boxes(tmp_path: Path) -> None:
    path = _file(tmp_path)
    plain = thumbnail(str(path), [], size=200)
    boxed = thumbnail(str(path), [{"x": 10, "y": 10, "w": 50, "h": 30, "action": "redact"}], size=200)
    assert plain and boxed and plain != boxed
    img = np.asarray(Image.open(io.BytesIO(base64.b64decode(boxed.split(",", 1)[1]))).convert("RGB"))
    assert img.shape[:2] == (100, 200)
    assert tuple(img[10, 30]) == (230, 40, 40)  # the red outline's top edge
    assert thumbnail(str(tmp_path / "missing.dcm"), []) is None
