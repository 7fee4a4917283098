"""The rendering set (deid.pixels.renderings), tiling and line joining, and detection on renderings."""

from __future__ import annotations

import copy

import numpy as np
import pydicom
import pytest
from PIL import Image, ImageDraw, ImageFont

from deid.config.pixels import Render
from deid.header.identifiers import collect_identifiers
from deid.pipeline.hooks import PixelItem, PixelStatus
from deid.pixels.frames import decode_frames, render_frame
from deid.pixels.ocr import get_engine, join_line_boxes, tiles
from deid.pixels.renderings import FAST_SET, LocalContrast, _window_adds, local_displays, renderings
from deid.pixels.stage import PixelConfig, PixelStage

from .conftest import bundled


def _with_pixels(arr: np.ndarray, bits: int, photometric: str = "MONOCHROME2") -> pydicom.Dataset:
    ds = bundled("CT_small.dcm")
    ds.PatientName = "NOWAK^ANNA"
    rows, cols = arr.shape[:2]
    ds.Rows, ds.Columns = rows, cols
    ds.BitsAllocated = 8 if bits == 8 else 16
    ds.BitsStored, ds.HighBit, ds.PixelRepresentation = bits, bits - 1, 0
    ds.PhotometricInterpretation = photometric
    ds.SamplesPerPixel = 3 if arr.ndim == 3 else 1
    if arr.ndim == 3:
        ds.PlanarConfiguration = 0
    for kw in ("RescaleIntercept", "RescaleSlope", "WindowCenter", "WindowWidth"):
        if kw in ds:
            delattr(ds, kw)
    ds.PixelData = arr.astype("<u2" if bits > 8 else "u1").tobytes()
    return ds


def _ink(text: str, size: int) -> np.ndarray:
    font = ImageFont.load_default(size=size)
    probe = ImageDraw.Draw(Image.new("L", (4, 4)))
    l0, t0, r0, b0 = probe.textbbox((0, 0), text, font=font)
    img = Image.new("L", (r0 - l0, b0 - t0), 0)
    ImageDraw.Draw(img).text((-l0, -t0), text, fill=255, font=font)
    return np.asarray(img) > 96


def test_rendering_set_follows_the_frame() -> None:
    grey8 = _with_pixels(np.random.default_rng(0).integers(0, 255, (64, 64)), 8)
    deep = _with_pixels(np.random.default_rng(0).integers(0, 4095, (64, 64)), 12)
    rgb = np.zeros((64, 64, 3), np.uint8)
    rgb[10:30, 10:30] = (0, 0, 200)  # coloured pixels
    colour = _with_pixels(rgb, 8, "RGB")
    n8 = len(renderings(decode_frames(grey8), 0, grey8))
    n16 = len(renderings(decode_frames(deep), 0, deep))
    nrgb = len(renderings(decode_frames(colour), 0, colour))
    assert n8 == 2, "8-bit grey: full + clahe"
    assert n16 >= 5, "deep grey noise (range under 8 sigma): full, windows, inverted, clahe, local x2"
    assert len(renderings(decode_frames(deep), 0, deep, FAST_SET)) == 4, "fast set: full, clahe, local x2"
    assert nrgb == 5, "colour: rgb, clahe, three channels"
    for r in renderings(decode_frames(deep), 0, deep):
        assert r.shape == (64, 64, 3) and r.dtype == np.uint8


@pytest.mark.parametrize(("width", "noise", "made"), [
    (100.0, 0.0, True),     # noise not measured: every window is made
    (15.0, 10.0, True),     # under 8 sigma: more gain than the magnitude display
    (40.0, 10.0, True),
    (79.0, 10.0, True),
    (80.0, 10.0, False),    # 8 sigma or wider: the local pair shows every line at no less gain
    (5000.0, 10.0, False),
])
def test_a_linear_display_is_made_only_where_it_can_add_a_line(width: float, noise: float, made: bool) -> None:
    assert _window_adds(width, noise) is made


def _anatomy(noise: float) -> np.ndarray:
    rng = np.random.default_rng(5)
    arr = np.full((400, 400), 500.0)
    arr[150:250, 140:260] = 1500.0  # a bright organ
    return (arr + rng.normal(0, noise, arr.shape)).clip(0, 4095)


def test_windows_and_inverted_follow_the_frame_noise() -> None:
    """A noisy 12-bit frame (its range spans many noise sigmas) gets no inverted display and no window
    8 sigma wide or more; its narrow windows (over the flat background, 1-2 sigma) are made."""
    quiet = _anatomy(20.0)
    lq = local_displays(quiet)
    assert lq.resolves and 15 < lq.noise < 30 and (quiet.max() - quiet.min()) > 8 * lq.noise
    ds = _with_pixels(quiet.astype(np.uint16), 12)
    n = len(renderings(decode_frames(ds), 0, ds))
    assert n == 4 + 2, "full, two windows over the background, clahe, local x2"
    assert len(renderings(decode_frames(ds), 0, ds, noise_rule=False)) == n + 1, "+ inverted without the rule"
    modes = (Render.FULL, Render.WINDOW, Render.INVERTED)
    assert len(renderings(decode_frames(ds), 0, ds, modes)) >= 3, "no clahe (no local pair): as before"


@pytest.mark.parametrize(("noise", "saturated", "resolves"), [(20.0, 0.05, True), (0.0, 0.0, False),
                                                             (20.0, 0.5, False)])
def test_local_pair_decides_only_when_it_measures_the_frame(noise: float, saturated: float, resolves: bool) -> None:
    blank = np.zeros((4, 4), np.uint8)
    assert LocalContrast(blank, blank, noise, saturated).resolves is resolves


def test_monochrome1_full_range_is_inverted() -> None:
    arr = np.full((32, 32), 4000, np.uint16)
    arr[10:20, 10:20] = 100
    ds = _with_pixels(arr, 12, "MONOCHROME1")
    full = renderings(decode_frames(ds), 0, ds, (Render.FULL,))[0]
    assert full[15, 15, 0] == 255 and full[0, 0, 0] == 0


@pytest.mark.parametrize(("rows", "cols", "n"), [(512, 512, 1), (1536, 1536, 1), (2000, 2600, 4), (3000, 2400, 6)])
def test_tiles_cover_the_frame_without_shrinking(rows: int, cols: int, n: int) -> None:
    got = tiles(rows, cols, 1536, 96)
    assert len(got) == n
    cover = np.zeros((rows, cols), bool)
    for y, x, h, w in got:
        assert h <= 1536 and w <= 1536
        cover[y:y + h, x:x + w] = True
    assert cover.all()


def test_join_line_boxes_joins_parts_of_a_line_only() -> None:
    parts = [(0, 10, 120, 30, 0, 0.9), (100, 11, 260, 31, 1, 0.7), (0, 40, 100, 60, 0, 0.8)]
    joined = join_line_boxes(parts)
    assert sorted(b[:4] for b in joined) == [(0, 10, 260, 30), (0, 40, 100, 60)]
    assert [b[4] for b in joined if b[1] == 10] == [0], "the most confident part's rendering"


def test_mid_grey_text_hidden_by_the_stored_window_is_read() -> None:
    """16-bit frame: anatomy at 1000-1400, text at 2600 and 700, under a stored window 2800-3800."""
    rng = np.random.default_rng(3)
    arr = (1000 + rng.normal(0, 40, (300, 500))).clip(0, 4095)
    arr[150:, :] += 400
    arr[0, 0] = 4095
    ink = _ink("NOWAK ANNA 1958", 16)
    arr[40:40 + ink.shape[0], 30:30 + ink.shape[1]][ink] = 2600
    ink2 = _ink("NOWAK ANNA 1958", 16)
    arr[200:200 + ink2.shape[0], 30:30 + ink2.shape[1]][ink2] = 700  # darker than the anatomy
    ds = _with_pixels(arr.astype(np.uint16), 12)
    ds.WindowCenter, ds.WindowWidth = 3300, 1000  # only the corner pixel shows
    assert render_frame(decode_frames(ds), 0, ds, Render.VOI)[40:60, 30:200].max() == 0, "the window hides it"
    job = PixelItem("w", ds, copy.deepcopy(ds), collect_identifiers(ds), "CT")
    (out,) = PixelStage(PixelConfig(classifier={"enabled": False})).process([job])
    assert out.status is PixelStatus.CLEANED
    hits = [b for b in out.boxes if b.reason == "header_name"]
    assert any(b.y <= 40 <= b.y + b.h for b in hits), "bright mid-grey line found"
    assert any(b.y <= 200 <= b.y + b.h for b in hits), "dark-on-bright line found"


def test_small_text_on_a_large_frame_is_detected_at_native_resolution() -> None:
    """A 2000 x 2600 frame (RapidOCR alone would shrink it to 2000 px): 8-px text is found (768-px tiles)."""
    arr = np.zeros((2000, 2600), np.uint8)
    ink = _ink("NOWAK ANNA", 11)
    assert ink.shape[0] <= 11
    arr[1900:1900 + ink.shape[0], 2300:2300 + ink.shape[1]][ink] = 230
    ds = _with_pixels(arr, 8)
    eng = get_engine("rapidocr")
    found = eng.read_groups([renderings(decode_frames(ds), 0, ds)])[0]  # type: ignore[attr-defined]
    assert any("NOWAK" in b.text.upper() and abs(b.y - 1900) < 12 for b in found)
