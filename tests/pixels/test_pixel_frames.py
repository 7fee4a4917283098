"""Decoding every syntax/photometric we can, and rendering frames for OCR with exact coordinates."""

from __future__ import annotations

import json

import numpy as np
import pydicom
import pytest

from deid.errors import PixelError, Reason
from deid.pixels.frames import Render, decode_frames, render_frame

from .conftest import bundled, shared

BUNDLED = [
    # name, frames, samples, decoded photometric
    ("CT_small.dcm", 1, 1, "MONOCHROME2"),
    ("MR_small_bigendian.dcm", 1, 1, "MONOCHROME2"),
    ("MR_small_RLE.dcm", 1, 1, "MONOCHROME2"),
    ("MR_small_jp2klossless.dcm", 1, 1, "MONOCHROME2"),
    ("MR_small_jpeg_ls_lossless.dcm", 1, 1, "MONOCHROME2"),
    ("JPEG2000.dcm", 1, 1, "MONOCHROME2"),
    ("J2K_pixelrep_mismatch.dcm", 1, 1, "MONOCHROME2"),
    ("JPEGLSNearLossless_16.dcm", 1, 1, "MONOCHROME2"),
    ("liver_1frame.dcm", 1, 1, "MONOCHROME2"),
    ("rtdose.dcm", 15, 1, "MONOCHROME2"),
    ("SC_rgb_small_odd.dcm", 1, 3, "RGB"),
    ("SC_rgb_rle.dcm", 1, 3, "RGB"),
    ("SC_rgb_rle_2frame.dcm", 2, 3, "RGB"),
    ("SC_rgb_jpeg_gdcm.dcm", 1, 3, "RGB"),
    ("SC_rgb_jpeg_dcmtk.dcm", 1, 3, "YBR_FULL"),
    ("SC_jpeg_no_color_transform.dcm", 1, 3, "RGB"),
    ("GDCMJ2K_TextGBR.dcm", 1, 3, "RGB"),
]


@pytest.mark.parametrize(("name", "nframes", "samples", "photometric"), BUNDLED)
def test_decode_and_render_bundled(name: str, nframes: int, samples: int, photometric: str) -> None:
    ds = bundled(name)
    frames = decode_frames(ds)
    assert frames.count == nframes
    assert frames.samples == samples
    assert frames.photometric == photometric
    assert (frames.rows, frames.columns) == (int(ds.Rows), int(ds.Columns))
    assert frames.pixels.dtype.byteorder in ("<", "=", "|")
    img = render_frame(frames, nframes - 1, ds)
    assert img.shape == (ds.Rows, ds.Columns, 3) and img.dtype == np.uint8
    assert img.max() > img.min()


def test_signed_odd_bits_stored_values_kept() -> None:
    ds = bundled("J2K_pixelrep_mismatch.dcm")
    frames = decode_frames(ds)
    assert frames.bits_stored == 13 and frames.signed
    assert frames.pixels.min() >= -(1 << 12) and frames.pixels.max() < (1 << 12)


def test_big_endian_decodes_to_same_values_as_little_endian() -> None:
    le, be = decode_frames(bundled("MR_small.dcm")), decode_frames(bundled("MR_small_bigendian.dcm"))
    assert np.array_equal(le.pixels, be.pixels)


@pytest.mark.parametrize("spec_index", range(13))
def test_synthetic_syntaxes_and_photometrics(synth_dir, spec_index: int) -> None:  # type: ignore[no-untyped-def]
    path = synth_dir / f"synth_{spec_index:04d}.dcm"
    ds = pydicom.dcmread(path)
    truth = json.loads(path.with_suffix(".json").read_text())
    frames = decode_frames(ds)
    assert frames.count == truth["frames"]
    img = render_frame(frames, 0, ds)
    # burned-in text is bright on the render for every photometric (MONOCHROME1 inverted, palette via LUT)
    box = next(b for b in truth["boxes"] if b["first_frame"] == 0)
    patch = img[box["y"]:box["y"] + box["h"], box["x"]:box["x"] + box["w"]].max(axis=2)
    assert patch.max() >= 150, "text must render bright where the viewer shows it"


def test_monochrome1_is_inverted_for_display(synth_dir) -> None:  # type: ignore[no-untyped-def]
    ds = pydicom.dcmread(synth_dir / "synth_0010.dcm")
    assert ds.PhotometricInterpretation == "MONOCHROME1"
    frames = decode_frames(ds)
    img = render_frame(frames, 0, ds)[..., 0]
    raw = frames.pixels[0]
    # the smallest stored value is displayed brightest
    assert img[raw == raw.min()].mean() > img[raw == raw.max()].mean()


def test_extreme_render_isolates_max_value_text(synth_dir) -> None:  # type: ignore[no-untyped-def]
    ds = pydicom.dcmread(synth_dir / "synth_0007.dcm")  # CT, text at the maximum stored value
    frames = decode_frames(ds)
    ext = render_frame(frames, 0, ds, Render.EXTREME)
    assert set(np.unique(ext)) <= {0, 255}
    assert 0 < (ext[..., 0] == 255).mean() < 0.2


def test_undecodable_pixel_data_raises_pixel_error() -> None:
    ds = bundled("SC_rgb_jpeg_dcmtk.dcm")
    ds.PixelData = ds.PixelData[:200] + b"\x00" * 200  # corrupt the encapsulated JPEG stream
    with pytest.raises(PixelError) as info:
        decode_frames(ds)
    assert info.value.reason is Reason.PIXEL_DECODE_FAILED


def test_syntax_without_decoder_raises_pixel_error() -> None:
    ds = bundled("CT_small.dcm")
    ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.100"  # MPEG2: no decoder plugin
    with pytest.raises(PixelError):
        decode_frames(ds)


@pytest.mark.parametrize("rel", ["pydicom-data/OBXXXX1A_rle_2frame.dcm", "pydicom-wheel/examples_ybr_color.dcm",
                                 "orthanc-tests/Implicit-vr-us-palette.dcm", "deid-data/ultrasounds/RGB_IMAGE.dcm"])
def test_real_shared_files_render(rel: str) -> None:
    ds = shared(rel)
    frames = decode_frames(ds)
    img = render_frame(frames, 0, ds)
    assert img.shape == (ds.Rows, ds.Columns, 3)


@pytest.mark.parametrize(("name", "view"), [
    ("CT_small.dcm", True),            # 16-bit stored 16: the file's own bytes, no copy
    ("MR_small_bigendian.dcm", False),  # byte order converted: a copy
    ("SC_rgb_rle.dcm", False),          # encapsulated: decoded into a new array
])
def test_native_little_endian_frames_are_a_view_on_the_pixel_data(name: str, view: bool) -> None:
    from pydicom.data import get_testdata_file

    ds = pydicom.dcmread(get_testdata_file(name))
    frames = decode_frames(ds)
    shares = np.shares_memory(frames.pixels, np.frombuffer(ds.PixelData, dtype=np.uint8))
    assert shares is view
    if view:
        assert not frames.pixels.flags.writeable  # callers copy before they change values
        assert np.array_equal(frames.pixels[0], ds.pixel_array)
