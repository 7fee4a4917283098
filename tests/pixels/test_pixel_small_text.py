"""The small-text pass of the detector (deid.pixels.ocr: a second look, enlarged, at weak responses)."""

from __future__ import annotations

import copy

import numpy as np
import pydicom
import pytest
from PIL import Image, ImageDraw, ImageFont
from pixel_line_share import changed_share
from pydicom.dataset import FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from deid.header.identifiers import collect_identifiers
from deid.pipeline.hooks import PixelItem
from deid.pixels.frames import decode_frames
from deid.pixels.ocr import RapidOcrEngine, text_windows, weak_responses
from deid.pixels.stage import PixelConfig, PixelStage

LINE = (60, 560)  # x, y of the planted line


def faint_ct(text: str, sigmas: float, size: int = 1024, at: tuple[int, int] = LINE) -> pydicom.Dataset:
    """A 12-bit frame (smooth background, noise sigma 1.2 % of the range) with ``text`` in PIL's 11-px
    bitmap font, drawn at ``sigmas`` noise sigmas above its background (as make_eval_pixels' faint lines)."""
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[0:size, 0:size] / size
    disp = 0.3 + 0.2 * np.sin(3 * xx + 2 * yy) + rng.normal(0, 0.012, (size, size))
    img = Image.new("L", (size, size), 0)
    ImageDraw.Draw(img).text(at, text, fill=255, font=ImageFont.load_default_imagefont())
    mask = np.asarray(img) > 0
    disp[mask] = float(np.median(disp[mask])) + sigmas * 0.012
    ds = pydicom.Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    ds.SOPInstanceUID = generate_uid()
    ds.Modality, ds.PatientName, ds.PatientID, ds.PatientSex, ds.PatientAge = "CT", "Doe^John", "X1", "M", "070Y"
    ds.Rows = ds.Columns = size
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PixelData = (disp.clip(0, 1) * 4095).round().astype(np.uint16).tobytes()
    return ds


def test_weak_responses_are_small_unboxed_regions_with_a_peak() -> None:
    pred = np.zeros((100, 200), np.float32)
    pred[10:16, 20:60] = 0.45   # weak small line: a seed
    pred[40:46, 20:60] = 0.25   # under the peak: not a seed
    pred[70:76, 20:60] = 0.9    # inside a kept box: not a seed
    pred[0:60, 150:190] = 0.9   # taller than the small-text height: not a seed
    seeds = weak_responses(pred, ((18, 68, 62, 78, 0.9),), 100, 200, 0.2, 0.4, 16)
    assert [s[:4] for s in seeds] == [(20, 10, 60, 16)]


def test_text_windows_join_overlapping_seeds_and_keep_the_strongest_renderings() -> None:
    seeds = [(100, 50, 140, 58, 0, 0.5), (150, 50, 190, 58, 2, 0.7), (150, 52, 190, 60, 3, 0.45),
             (100, 400, 130, 408, 1, 0.6)]
    wins = text_windows(seeds, 600, 800, 16)
    assert len(wins) == 2
    (y0, x0, y1, x1), srcs = wins[0]
    assert (y0, x0, y1, x1) == (34, 36, 76, 254) and srcs == [2, 0]  # joined; the two strongest
    assert wins[1][1] == [1]


@pytest.mark.slow
def test_faint_small_line_the_first_pass_misses_is_redacted() -> None:
    """A 5-character 11-px line at 4.5 noise sigmas on a 1024-px frame (768-px tiles, seen at 0.96x):
    the detector marks it under its box threshold; before the small-text pass it was never boxed and
    stayed legible (the "M 70y" of the dev seeds' CR frames), with it the line is redacted."""
    ds = faint_ct("M 70y", 4.5)
    x, y = LINE
    region = (slice(y - 2, y + 12), slice(x, x + 30))
    before = decode_frames(ds).pixels[0][region].copy()
    changed = {}
    for small in (0.0, 2.0):
        cfg = PixelConfig.model_validate({"classifier": {"enabled": False}})
        stage = PixelStage(cfg, engine=RapidOcrEngine(batch_size=4, small_text_scale=small))
        job = PixelItem("k", ds, copy.deepcopy(ds), collect_identifiers(ds), "CT")
        (res,) = stage.process([job])
        assert res.error is None
        after = decode_frames(job.target).pixels[0][region]
        changed[small] = float((after != before).mean())
    assert changed[0.0] == 0.0  # the first pass alone: not detected, left legible
    assert changed[2.0] > 0.95  # with the small-text pass: filled


def _faint_tile(sigmas: float, text: str = "Doe 39Y") -> np.ndarray:
    """A 768-px 8-bit tile: noise sigma 6 levels on a flat background, ``text`` in PIL's scalable
    default font at 7 px drawn ``sigmas`` noise sigmas above it (a 14-bit mammogram's faint line)."""
    rng = np.random.default_rng(3)
    g = 60 + rng.normal(0, 6, (768, 768))
    img = Image.new("L", (768, 768), 0)
    ImageDraw.Draw(img).text((300, 400), text, fill=255, font=ImageFont.load_default(size=7))
    g[np.asarray(img) > 0] += sigmas * 6
    g8 = np.clip(g, 0, 255).astype(np.uint8)
    return np.repeat(g8[..., np.newaxis], 3, axis=2)


def test_faint_responses_seed_faint_small_text_the_detector_map_does_not_mark() -> None:
    from deid.pixels.ocr import faint_responses

    pred = np.zeros((768, 768), np.float32)  # the first pass marked nothing
    seeds = faint_responses(_faint_tile(5.0), pred, (), 16)
    assert any(x0 <= 310 and x1 >= 320 and y0 <= 404 <= y1 for x0, y0, x1, y1, _ in seeds)
    assert all(y1 - y0 <= 32 for _, y0, _, y1, _ in seeds)
    assert faint_responses(_faint_tile(0.0), pred, (), 16) == ()  # noise alone: no seed
    # a line the first pass already boxed is no seed
    assert faint_responses(_faint_tile(5.0), pred, ((280, 390, 360, 416, 0.9),), 16) == ()


def test_mostly_boxed_is_half_or_more_of_a_box_inside_found_boxes() -> None:
    from deid.pixels.ocr import _mostly_boxed

    found = [(100, 100, 200, 120, 0, 0.9), (200, 100, 240, 120, 1, 0.8)]
    assert _mostly_boxed((150, 100, 230, 120, 0, 0.7), found)       # a second reading across two found boxes
    assert not _mostly_boxed((180, 100, 320, 120, 0, 0.7), found)   # mostly new text beside them
    assert not _mostly_boxed((100, 90, 200, 150, 0, 0.7), found)    # the patch around a line: 1/3 inside


@pytest.mark.slow
def test_faint_line_on_a_small_frame_is_redacted(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """Issue #12: a faint 11-px "PID=..." line on a 256-px 16-bit MR (make_eval_pixels dev seed 932,
    instance 3) was never boxed: the first pass sees the whole frame at 2.9x and marks nothing there,
    and faint seeds were looked for only on crops seen at 1x. With faint seeds on frames the first pass
    enlarges 1.6x or more, the line's window is detected at 2x and the line is redacted."""
    import deid.pixels.ocr as ocr

    monkeypatch.setattr(ocr, "CLOSER_MAX_SIDE", 0)  # the closer look (test_pixel_closer_look) finds it too
    changed = changed_share(tmp_path, monkeypatch, 932, 3, lambda x: x["text"].startswith("PID="), ocr,
                            "FAINT_SMALL_FRAME_SCALE", (99.0, ocr.FAINT_SMALL_FRAME_SCALE))
    assert changed[99.0] < 0.5  # faint seeds only on 1x tiles: the line is left legible
    assert changed[ocr.FAINT_SMALL_FRAME_SCALE] >= 0.9
