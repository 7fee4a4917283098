"""The stage API: statuses, batching across jobs, multi-frame strategy, records without text."""

from __future__ import annotations

import copy
import dataclasses
import io
import json

import numpy as np
import pydantic
import pydicom
import pytest

from deid.errors import PixelError
from deid.header.identifiers import Identifiers, collect_identifiers
from deid.pipeline.hooks import BoxRecord, HeaderOnly, PixelItem, PixelStatus, ReviewRecord
from deid.pixels.frames import decode_frames
from deid.pixels.multiframe import frame_spans, region_mask, select_ocr_frames, us_data_regions
from deid.pixels.ocr import TextBox
from deid.pixels.stage import PixelConfig, PixelStage, pixel_hook

from .conftest import ScriptedEngine, bundled

NO_MODEL = {"classifier": {"enabled": False}}


def _job(key: str, ds: pydicom.Dataset, ident: Identifiers | None = None) -> PixelItem:
    return PixelItem(key, ds, copy.deepcopy(ds), ident or collect_identifiers(ds), str(ds.get("Modality", "")))


def test_config_rejects_unknown_keys_and_bad_band() -> None:
    with pytest.raises(pydantic.ValidationError):
        PixelConfig(unknown=1)
    with pytest.raises(pydantic.ValidationError):
        PixelConfig(phi_threshold=0.5, review_band=(0.6, 0.9))
    with pytest.raises(pydantic.ValidationError):
        PixelConfig(redact="some")
    assert PixelConfig(redact="all_text", ocr={"batch_size": 2}).ocr.batch_size == 2


def test_statuses_and_batching_across_jobs() -> None:
    eng = ScriptedEngine(lambda img: [TextBox(1, 1, 20, 8, "DOE JOHN", 0.99)] if img.shape[0] == 128 else [])
    stage = PixelStage(PixelConfig(trust_burned_in_no=["MR"], ocr={"batch_size": 8}, **NO_MODEL), engine=eng)
    ct = bundled("CT_small.dcm")                 # 128 x 128: text scripted
    rgb = bundled("SC_rgb_rle.dcm")              # 100 x 100: no text
    nopix = bundled("CT_small.dcm")
    del nopix.PixelData
    trusted = bundled("MR_small.dcm")
    trusted.BurnedInAnnotation = "NO"
    broken = bundled("SC_rgb_jpeg_dcmtk.dcm")
    broken.PixelData = broken.PixelData[:200] + b"\x00" * 200
    jobs = [_job("ct", ct, Identifiers(names=[["Doe", "John"]])), _job("rgb", rgb), _job("nopix", nopix),
            _job("mr", trusted), _job("bad", broken)]
    out = {j.key: o for j, o in zip(jobs, stage.process(jobs), strict=True)}
    assert out["ct"].status is PixelStatus.CLEANED and out["ct"].boxes and out["ct"].redacted_regions == 1
    assert out["rgb"].status is PixelStatus.CLEANED and not out["rgb"].boxes  # checked, no text
    assert out["nopix"].status is PixelStatus.NO_PIXEL_DATA
    assert out["mr"].status is PixelStatus.DECLARED_NONE
    assert out["bad"].status is PixelStatus.UNVERIFIED and isinstance(out["bad"].error, PixelError)
    assert len(eng.calls) == 1, "one OCR call for the frames (and their renderings) of all jobs"
    rec = out["ct"].boxes[0]
    assert (rec.label, rec.action, rec.reason) == ("PHI", "REDACT", "header_name")
    # the CT now has the box filled with the smallest stored value, file valid
    back = pydicom.dcmread(io.BytesIO(_save(jobs[0].target)))
    arr = decode_frames(back).pixels[0]
    assert (arr[0:11, 0:23] == arr.min()).all()


def _save(ds: pydicom.Dataset) -> bytes:
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def test_enabled_is_decided_once() -> None:
    """``pixels.enabled: false``: HeaderOnly - images UNVERIFIED (never OCR'd), others NO_PIXEL_DATA."""
    assert isinstance(pixel_hook(PixelConfig(**NO_MODEL)), PixelStage)
    off = pixel_hook(PixelConfig(enabled=False))
    assert isinstance(off, HeaderOnly)
    nopix = bundled("CT_small.dcm")
    del nopix.PixelData
    results = off.process([_job("ct", bundled("CT_small.dcm")), _job("nopix", nopix)])
    assert [r.status for r in results] == [PixelStatus.UNVERIFIED, PixelStatus.NO_PIXEL_DATA]
    assert all(r.error is None and not r.boxes for r in results)


def test_float_pixel_data_is_never_taken_for_no_pixel_data() -> None:
    """Float Pixel Data (7FE0,0008) is pixel data (dicomio.has_pixel_data): not OCR'd, so quarantined."""
    ds = bundled("CT_small.dcm")
    del ds.PixelData
    ds.FloatPixelData = np.zeros(ds.Rows * ds.Columns, np.float32).tobytes()
    (out,) = PixelStage(PixelConfig(**NO_MODEL), engine=ScriptedEngine()).process([_job("f", ds)])
    assert out.status is PixelStatus.UNVERIFIED and isinstance(out.error, PixelError)
    assert "PIXELS_UNVERIFIED" in str(out.error)
    (header_only,) = HeaderOnly().process([_job("f", ds)])
    assert header_only.status is PixelStatus.UNVERIFIED


def test_records_never_carry_text_or_phi() -> None:
    names = {f.name for f in dataclasses.fields(BoxRecord)} | {f.name for f in dataclasses.fields(ReviewRecord)}
    assert "text" not in names
    eng = ScriptedEngine(lambda img: [TextBox(1, 1, 30, 8, "Kowalczyk 555-201-1234", 0.99),
                                      TextBox(40, 40, 30, 8, "q", 0.2)])
    stage = PixelStage(PixelConfig(**NO_MODEL), engine=eng)
    (out,) = stage.process([_job("k", bundled("CT_small.dcm"))])
    dumped = repr(out) + json.dumps([dataclasses.asdict(b) for b in out.boxes])
    assert "Kowalczyk" not in dumped and "555" not in dumped
    assert {b.reason for b in out.boxes} == {"rule_numeric", "low_confidence"}  # phone groups: before the allowlist


def test_unchanged_pixels_when_all_text_is_clinical() -> None:
    ds = bundled("MR_small_RLE.dcm")
    eng = ScriptedEngine(lambda img: [TextBox(2, 2, 20, 8, "L12-5", 0.99)])
    job = _job("m", ds)
    before = bytes(job.target.PixelData)
    (out,) = PixelStage(PixelConfig(**NO_MODEL), engine=eng).process([job])
    assert out.status is PixelStatus.CLEANED and out.output_syntax is None
    assert bytes(job.target.PixelData) == before


def test_review_band_returns_review_records() -> None:
    class Half:
        version = "half"

        def score(self, texts: list[str]) -> list[float]:
            return [0.3 for _ in texts]

    eng = ScriptedEngine(lambda img: [TextBox(2, 2, 20, 8, "Zelkowa trace", 0.99)])
    stage = PixelStage(PixelConfig(), engine=eng, classifier=Half())
    (out,) = stage.process([_job("r", bundled("CT_small.dcm"))])
    assert out.boxes[0].action == "REDACT" and out.boxes[0].model_version == "half"
    assert len(out.review) == 1 and out.review[0].reason == "review_band" and out.review[0].key == "r"


def test_us_regions_are_excluded_from_ocr(synth_dir) -> None:  # type: ignore[no-untyped-def]
    ds = pydicom.dcmread(synth_dir / "synth_0000.dcm")
    seen: list[np.ndarray] = []
    eng = ScriptedEngine(lambda img: seen.append(img) or [])
    PixelStage(PixelConfig(**NO_MODEL), engine=eng).process([_job("u", ds)])
    (x, y, w, h), = us_data_regions(ds, ds.Rows, ds.Columns)
    assert seen[0][y:y + h, x:x + w].max() == 0
    seen.clear()
    PixelStage(PixelConfig(ocr_us_data_regions=True, **NO_MODEL), engine=eng).process([_job("u", ds)])
    assert seen[0][y:y + h, x:x + w].max() > 0


def test_frame_selection_and_spans() -> None:
    px = np.zeros((6, 40, 40), np.uint8)
    px[3:, 5:15, 5:20] = 255          # text appears at frame 3
    px[:, 20:40, 20:40] = np.arange(6)[:, None, None] * 40   # moving data region
    mask = region_mask(40, 40, [(20, 20, 20, 20)])
    sel = select_ocr_frames(px, mask, 8, 24, 12)
    assert sel == [0, 3]
    assert frame_spans(sel, 6) == {0: range(0, 3), 3: range(3, 6)}
    assert select_ocr_frames(px, np.ones((40, 40), bool), 8, 24, 12) == [0, 1, 2, 3, 4, 5]


def test_text_in_only_some_frames_is_found_and_redacted(synth_dir) -> None:  # type: ignore[no-untyped-def]
    """Real OCR on a generated cine whose PHI shows up mid-sequence (spec 4: JPEG-LS, 8 frames)."""
    path = synth_dir / "synth_0004.dcm"
    ds = pydicom.dcmread(path)
    truth = json.loads(path.with_suffix(".json").read_text())
    late = [b for b in truth["boxes"] if b["first_frame"] > 0 and b["phi"]]
    stage = PixelStage(PixelConfig(**NO_MODEL))
    job = _job("cine", ds)
    (out,) = stage.process([job])
    assert out.status is PixelStatus.CLEANED
    frames_ocrd = {b.frame for b in out.boxes}
    assert len(frames_ocrd) < truth["frames"]
    after = decode_frames(pydicom.dcmread(io.BytesIO(_save(job.target))))
    for b in [b for b in truth["boxes"] if b["phi"]]:
        for f in range(b["first_frame"], b["last_frame"] + 1):
            patch = after.pixels[f][b["y"]:b["y"] + b["h"], b["x"]:b["x"] + b["w"]]
            assert (patch == 0).mean() >= 0.98, f"PHI box visible in frame {f}"
    assert late, "the generated cine must have PHI that appears after frame 0"


def _plant_tall_line(text: str, height: int) -> pydicom.Dataset:
    """CT_small's header (PatientName changed to DOE^JOHN) over a 16-bit frame with one tall text line."""
    from PIL import Image, ImageDraw, ImageFont

    ds = bundled("CT_small.dcm")
    ds.PatientName = "DOE^JOHN"
    font = ImageFont.truetype("DejaVuSans.ttf", height) if _has_dejavu() else ImageFont.load_default(size=height)
    probe = ImageDraw.Draw(Image.new("L", (10, 10)))
    l0, t0, r0, b0 = probe.textbbox((0, 0), text, font=font)
    canvas = Image.new("L", (r0 - l0 + 80, b0 - t0 + 80), 0)
    ImageDraw.Draw(canvas).text((40 - l0, 40 - t0), text, fill=255, font=font)
    arr = np.asarray(canvas, dtype=np.uint16) * 8 + 100
    ds.Rows, ds.Columns = arr.shape
    ds.PixelData = arr.astype("<u2").tobytes()
    for kw in ("WindowCenter", "WindowWidth"):
        if kw in ds:
            delattr(ds, kw)
    return ds


def _has_dejavu() -> bool:
    from PIL import ImageFont

    try:
        ImageFont.truetype("DejaVuSans.ttf", 10)
    except OSError:
        return False
    return True


def test_tall_phi_line_is_redacted_not_exempt() -> None:
    """No size exemption: a 100-px line matching the header is OCR'd, matched and filled."""
    ds = _plant_tall_line("DOE JOHN MRN12345678", 100)
    job = _job("tall", ds)
    (out,) = PixelStage(PixelConfig(**NO_MODEL)).process([job])
    assert out.status is PixelStatus.CLEANED
    tall = [b for b in out.boxes if b.h > 96]
    assert tall, "the tall line is detected"
    assert all(b.action == "REDACT" for b in out.boxes)
    assert any(b.reason.startswith("header_") for b in tall)
    assert {r.reason for r in out.review} >= {tall[0].reason}, "tall detections are listed for review"
    after = decode_frames(pydicom.dcmread(io.BytesIO(_save(job.target)))).pixels[0]
    text_px = decode_frames(ds).pixels[0] > 100
    assert (after[text_px] == after.min()).all(), "every text pixel is filled"


@pytest.mark.parametrize("height", [20, 100, 300])
def test_detections_of_any_height_go_through_classification(height: int) -> None:
    eng = ScriptedEngine(lambda img: [TextBox(0, 0, 120, height, "Lorem ipsum", 0.99)])
    stage = PixelStage(PixelConfig(**NO_MODEL), engine=eng)
    (out,) = stage.process([_job("h", bundled("CT_small.dcm"))])
    (rec,) = out.boxes
    # a line taller than max_text_height (or wider than its reading) is never cleared: default deny
    assert (rec.action, rec.reason) == ("REDACT", "not_recognised" if height <= 96 else "short_reading")
    assert bool(out.review) == (height > 96)


@pytest.mark.parametrize(("w", "h", "text", "kept"), [
    (52, 9, "1204", False),        # a 7-px date line read as four digits (seen on an evaluation image)
    (255, 247, "6", False),        # a tall box read as one character
    (120, 20, "120", False),       # a reading filling under half its box
    (60, 20, "120", True),         # a complete reading of a number
    (24, 22, "6", True),           # one character in its own box
])
def test_a_reading_too_short_for_its_box_is_not_cleared(w: int, h: int, text: str, kept: bool) -> None:
    from deid.pixels.classify import Thresholds, decide, load_allowlist
    allow = load_allowlist()
    assert allow.clears(text), "the allowlist alone would keep it"
    d = decide(text, 0.99, collect_identifiers(bundled("CT_small.dcm")), allow, None, Thresholds(), None, (w, h))
    assert (d.action.value == "KEEP") == kept
