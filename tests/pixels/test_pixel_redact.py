"""Fill values per photometric and valid write-back over real compressed files."""

from __future__ import annotations

import copy
import io

import numpy as np
import pydicom
import pytest
from pydicom.uid import ExplicitVRLittleEndian, JPEG2000Lossless, JPEGLSLossless, RLELossless

from deid.pixels.frames import decode_frames
from deid.pixels.redact import fill_boxes, fill_value, output_syntax, write_pixels

from .conftest import bundled, shared

BOX = (2, 3, 20, 9)  # x, y, w, h


def _roundtrip(ds: pydicom.Dataset) -> pydicom.Dataset:
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return pydicom.dcmread(io.BytesIO(buf.getvalue()))


def _redact_and_reread(ds: pydicom.Dataset):  # type: ignore[no-untyped-def]
    frames = decode_frames(ds)
    value = fill_value(frames, ds)
    pixels = frames.pixels.copy()
    for f in range(frames.count):
        pixels[f] = fill_boxes(frames.pixels[f], [BOX], value)
    target = copy.deepcopy(ds)
    syntax = write_pixels(target, ds, frames, pixels)
    back = _roundtrip(target)
    return frames, pixels, syntax, back, decode_frames(back)


def _unmark(ds: pydicom.Dataset) -> pydicom.Dataset:
    del ds.LossyImageCompression
    return ds


CASES = [
    # name, loader, expected output syntax, lossless source
    ("MR_small_RLE.dcm", bundled, RLELossless, True),
    ("SC_rgb_rle_2frame.dcm", bundled, RLELossless, True),
    ("MR_small_jpeg_ls_lossless.dcm", bundled, JPEGLSLossless, True),
    ("MR_small_jp2klossless.dcm", bundled, JPEG2000Lossless, True),
    ("GDCMJ2K_TextGBR.dcm", bundled, JPEG2000Lossless, True),
    ("JPEG2000.dcm", bundled, ExplicitVRLittleEndian, False),           # .91 marked lossy "01"
    ("JPEG2000.dcm", lambda n: _unmark(bundled(n)), JPEG2000Lossless, True),  # .91 unmarked -> .90
    ("SC_rgb_jpeg_gdcm.dcm", bundled, ExplicitVRLittleEndian, True),    # JPEG lossless SV1: no encoder
    ("MR_small_bigendian.dcm", bundled, ExplicitVRLittleEndian, True),
    ("SC_rgb_small_odd.dcm", bundled, ExplicitVRLittleEndian, True),
    ("rtdose.dcm", bundled, "1.2.840.10008.1.2", True),
    ("liver_1frame.dcm", bundled, ExplicitVRLittleEndian, True),
    ("SC_rgb_jpeg_dcmtk.dcm", bundled, ExplicitVRLittleEndian, False),  # JPEG baseline: lossy
    ("JPEGLSNearLossless_16.dcm", bundled, ExplicitVRLittleEndian, False),
    ("pydicom-data/OBXXXX1A_rle_2frame.dcm", shared, RLELossless, True),
    ("pydicom-wheel/examples_jpeg2k.dcm", shared, JPEG2000Lossless, True),
    ("pydicom-data/emri_small_jpeg_ls_lossless.dcm", shared, JPEGLSLossless, True),
    ("pydicom-wheel/examples_ybr_color.dcm", shared, ExplicitVRLittleEndian, False),
    ("pydicom-data/JPGLosslessP14SV1_1s_1f_8b.dcm", shared, ExplicitVRLittleEndian, True),
]


@pytest.mark.parametrize(("name", "loader", "syntax", "lossless"), CASES)
def test_redacted_file_is_valid_and_untouched_pixels_identical(name, loader, syntax, lossless) -> None:  # type: ignore[no-untyped-def]
    ds = loader(name)
    frames, pixels, out_syntax, back, again = _redact_and_reread(ds)
    assert out_syntax == syntax
    assert back.file_meta.TransferSyntaxUID == syntax
    assert again.pixels.shape == frames.pixels.shape
    assert np.array_equal(again.pixels, pixels), "the file must decode to the redacted image"
    x, y, w, h = BOX
    outside = np.ones(frames.pixels.shape[1:3], dtype=bool)
    outside[y:y + h, x:x + w] = False
    if lossless:
        assert np.array_equal(again.pixels[:, outside], frames.pixels[:, outside])
    else:
        assert back.LossyImageCompression == "01"
    assert int(back.get("NumberOfFrames", 1)) == frames.count
    assert back.PhotometricInterpretation != "YBR_FULL_422"
    if frames.samples > 1:
        assert back.PlanarConfiguration == 0


def test_fill_values_hide_text_per_photometric(synth_dir) -> None:  # type: ignore[no-untyped-def]
    got = {}
    for i in (0, 1, 2, 3, 10):
        ds = pydicom.dcmread(synth_dir / f"synth_{i:04d}.dcm")
        frames = decode_frames(ds)
        got[frames.photometric] = fill_value(frames, ds).tolist()
    assert got["MONOCHROME2"] == [0]
    assert got["RGB"] == [0, 0, 0]
    assert got["YBR_FULL_422"] == [0, 128, 128]
    assert got["MONOCHROME1"] == [4095]          # 12 bits stored: displayed black
    assert got["PALETTE COLOR"] == [0]           # the darkest entry of the synthetic LUT


def test_palette_fill_is_darkest_lut_entry() -> None:
    ds = bundled("CT_small.dcm")
    ds.PhotometricInterpretation = "PALETTE COLOR"
    ds.BitsStored, ds.BitsAllocated, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    lut = (np.arange(256, dtype=np.uint16)[::-1] * 257).astype(np.uint16)  # index 255 is black
    for c in ("Red", "Green", "Blue"):
        setattr(ds, f"{c}PaletteColorLookupTableDescriptor", [256, 0, 16])
        setattr(ds, f"{c}PaletteColorLookupTableData", lut.tobytes())
    ds.PixelData = np.zeros((ds.Rows, ds.Columns), np.uint8).tobytes()
    assert fill_value(decode_frames(ds), ds).tolist() == [255]


def test_signed_monochrome2_fills_with_smallest_value() -> None:
    ds = bundled("CT_small.dcm")
    frames = decode_frames(ds)
    assert frames.signed and fill_value(frames, ds).tolist() == [-(1 << (frames.bits_stored - 1))]


def test_output_syntax_keeps_implicit_and_converts_big_endian() -> None:
    ds = bundled("MR_small_bigendian.dcm")
    assert output_syntax(ds, decode_frames(ds)) == ExplicitVRLittleEndian


@pytest.mark.parametrize("available,choice", [
    (("gdcm", "pydicom"), {"encoding_plugin": "pydicom"}),
    (("gdcm", "pylibjpeg", "pydicom"), {"encoding_plugin": "pylibjpeg"}),
    (("gdcm",), {}),
    (("pylibjpeg",), {}),
])
def test_gdcm_is_never_chosen_when_another_encoder_exists(available: tuple[str, ...], choice: dict[str, str]) -> None:
    from deid.pixels.redact import _plugin_choice

    assert _plugin_choice(available) == choice
