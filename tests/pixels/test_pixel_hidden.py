"""Hidden channels in Pixel Data (deid.pixels.codestream): comment / application segments and bytes
after the end of a codestream, bits above High Bit, data past Number of Frames. A kept frame (no box)
or a whole image released without a box must not carry them (reviewer findings 5 and 6)."""

from __future__ import annotations

import copy
import io
import struct

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate, generate_frames
from pydicom.pixels import get_encoder
from pydicom.uid import (
    UID,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGLSLossless,
    RLELossless,
    generate_uid,
)

from deid.errors import PixelError
from deid.header.identifiers import collect_identifiers
from deid.pipeline.hooks import PixelItem, PixelStatus
from deid.pixels.codestream import clean_codestream, is_clean
from deid.pixels.frames import decode_frames, open_frames
from deid.pixels.redact import clean_kept, fill_value, write_redacted
from deid.pixels.stage import PixelConfig, PixelStage

from .conftest import ScriptedEngine, bundled

R, C, N = 32, 48, 3
SECRET = b"DOE^JOHN 1970"
GEOMETRY = (R, C, 1, 8)


def _frames() -> np.ndarray:
    rng = np.random.default_rng(7)
    return rng.integers(0, 200, size=(N, R, C), dtype=np.uint8)


def _encode(syntax: UID, arr: np.ndarray) -> list[bytes]:
    opts = {"rows": R, "columns": C, "samples_per_pixel": 1, "bits_allocated": 8, "bits_stored": 8,
            "pixel_representation": 0, "number_of_frames": 1, "photometric_interpretation": "MONOCHROME2"}
    enc = get_encoder(syntax)
    extra = {"encoding_plugin": "pydicom"} if syntax == RLELossless else {}
    return [enc.encode(np.ascontiguousarray(f), **opts, **extra) for f in arr]


def _dataset(syntax: UID, pixel_data: bytes, frames: int = N, bits: int = 8, stored: int = 8,
             signed: bool = False) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = syntax
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = generate_uid()
    ds.Modality = "OT"
    ds.Rows, ds.Columns, ds.SamplesPerPixel, ds.PhotometricInterpretation = R, C, 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = bits, stored, stored - 1, int(signed)
    ds.NumberOfFrames = frames
    ds.PixelData = pixel_data
    ds["PixelData"].VR = "OB" if syntax.is_compressed or bits == 8 else "OW"
    if syntax.is_compressed:
        ds["PixelData"].is_undefined_length = True
    return _roundtrip(ds)


def _roundtrip(ds: Dataset) -> Dataset:
    bio = io.BytesIO()
    ds.save_as(bio, enforce_file_format=True)
    return pydicom.dcmread(io.BytesIO(bio.getvalue()))


def _com(text: bytes) -> bytes:
    return b"\xff\xfe" + struct.pack(">H", 2 + len(text)) + text


def _app(n: int, text: bytes) -> bytes:
    return bytes([0xFF, 0xE0 + n]) + struct.pack(">H", 2 + len(text)) + text


def _jpegls_hidden(stream: bytes, where: str) -> bytes:
    if where == "com":
        return stream[:2] + _com(SECRET) + stream[2:]
    if where == "app":
        return stream[:2] + _app(1, b"Exif\x00\x00" + SECRET) + stream[2:]
    if where == "between":  # after the frame header, before the scan
        sos = stream.index(b"\xff\xda")
        return stream[:sos] + _com(SECRET) + stream[sos:]
    return stream + SECRET  # after EOI


def _j2k_hidden(stream: bytes, where: str) -> bytes:
    if where == "com":
        sot = stream.index(b"\xff\x90")
        return stream[:sot] + b"\xff\x64" + struct.pack(">HH", 4 + len(SECRET), 1) + SECRET + stream[sot:]
    return stream + SECRET  # after EOC


def _rle_hidden(stream: bytes) -> bytes:
    """A segment with text after the runs that complete it (the decoder never reads it)."""
    count, first = struct.unpack_from("<2L", stream)
    assert count == 1 and first == 64
    return stream + SECRET + (b"\x00" if len(SECRET) % 2 else b"")


def _decode_one(syntax: UID, stream: bytes) -> np.ndarray:
    ds = _dataset(syntax, encapsulate([stream]), frames=1)
    return decode_frames(ds).pixels[0]


HIDDEN = [(JPEGLSLossless, lambda s: _jpegls_hidden(s, "com")), (JPEGLSLossless, lambda s: _jpegls_hidden(s, "app")),
          (JPEGLSLossless, lambda s: _jpegls_hidden(s, "between")), (JPEGLSLossless, lambda s: _jpegls_hidden(s, "eoi")),
          (JPEG2000Lossless, lambda s: _j2k_hidden(s, "com")), (JPEG2000Lossless, lambda s: _j2k_hidden(s, "eoc")),
          (RLELossless, _rle_hidden)]
HIDDEN_IDS = ["ls-com", "ls-app1", "ls-com-before-scan", "ls-after-eoi", "j2k-com", "j2k-after-eoc", "rle-tail"]


@pytest.mark.parametrize(("syntax", "hide"), HIDDEN, ids=HIDDEN_IDS)
def test_clean_codestream_strips_hidden_text_and_keeps_the_pixels(syntax: UID, hide) -> None:  # type: ignore[no-untyped-def]
    plain = _encode(syntax, _frames()[:1])[0]
    assert is_clean(plain, clean_codestream(plain, str(syntax), GEOMETRY) or b""), "encoder output is clean"
    dirty = hide(plain)
    cleaned = clean_codestream(dirty, str(syntax), GEOMETRY)
    assert cleaned is not None and SECRET not in cleaned and not is_clean(dirty, cleaned)
    assert np.array_equal(_decode_one(syntax, cleaned), _frames()[0])


def test_unknown_or_decoding_segments_are_refused_not_stripped() -> None:
    ls = _encode(JPEGLSLossless, _frames()[:1])[0]
    assert clean_codestream(ls[:2] + _app(8, b"mrfx\x01" + SECRET) + ls[2:], str(JPEGLSLossless), GEOMETRY) is None
    assert clean_codestream(b"\x00\x00\x00\x0cjP  " + ls, str(JPEG2000Lossless), GEOMETRY) is None  # JP2 box
    j2k = _encode(JPEG2000Lossless, _frames()[:1])[0]
    sod = j2k.index(b"\xff\x93")  # a comment in a tile-part header changes Psot: re-encoded instead
    tile_com = j2k[:sod] + b"\xff\x64" + struct.pack(">HH", 4 + len(SECRET), 1) + SECRET + j2k[sod:]
    assert clean_codestream(tile_com, str(JPEG2000Lossless), GEOMETRY) is None


@pytest.mark.parametrize(("syntax", "hide"), HIDDEN, ids=HIDDEN_IDS)
def test_redacted_output_reuses_only_cleaned_codestreams(syntax: UID, hide) -> None:  # type: ignore[no-untyped-def]
    """Frames without a box keep their codestream only without the hidden text (finding 5)."""
    arr = _frames()
    ds = _dataset(syntax, encapsulate([hide(s) for s in _encode(syntax, arr)]))
    frames = open_frames(ds)
    target = copy.deepcopy(ds)
    assert write_redacted(target, ds, frames, {1: [(0, 0, 8, 8)]}, fill_value(frames, ds)) == syntax
    out = _roundtrip(target)
    assert SECRET not in bytes(out.PixelData)
    got = decode_frames(out).pixels
    assert np.array_equal(got[[0, 2]], arr[[0, 2]]) and (got[1, :8, :8] == 0).all()


@pytest.mark.parametrize(("syntax", "hide"), HIDDEN, ids=HIDDEN_IDS)
def test_image_without_a_box_loses_hidden_text_through_the_stage(syntax: UID, hide) -> None:  # type: ignore[no-untyped-def]
    """No text found: the whole Pixel Data used to be kept as it was (finding 5, pre-existing)."""
    arr = _frames()
    ds = _dataset(syntax, encapsulate([hide(s) for s in _encode(syntax, arr)]))
    job = PixelItem("k", ds, copy.deepcopy(ds), collect_identifiers(ds), "OT")
    stage = PixelStage(PixelConfig(classifier={"enabled": False}), engine=ScriptedEngine())
    result = stage.process([job])[0]
    assert result.status is PixelStatus.CLEANED and not result.boxes
    out = _roundtrip(job.target)
    assert out.file_meta.TransferSyntaxUID == syntax and "DerivationDescription" not in out
    assert SECRET not in bytes(out.PixelData)
    assert np.array_equal(decode_frames(out).pixels, arr)


def test_clean_encapsulated_image_is_kept_byte_for_byte() -> None:
    for syntax in (JPEGLSLossless, JPEG2000Lossless, RLELossless):
        ds = _dataset(syntax, encapsulate(_encode(syntax, _frames())))
        target = copy.deepcopy(ds)
        assert clean_kept(target, ds, open_frames(ds)) is None
        assert target.PixelData == ds.PixelData


def test_lossy_jpeg_comment_is_stripped_in_its_own_syntax() -> None:
    ds = bundled("SC_rgb_jpeg_dcmtk.dcm")
    stream = next(generate_frames(ds.PixelData, number_of_frames=1))
    ds.PixelData = encapsulate([stream[:2] + _com(SECRET) + _app(13, SECRET) + stream[2:] + SECRET])
    ds = _roundtrip(ds)
    target = copy.deepcopy(ds)
    assert clean_kept(target, ds, None) == JPEGBaseline8Bit
    out = _roundtrip(target)
    assert SECRET not in bytes(out.PixelData) and out.file_meta.TransferSyntaxUID == JPEGBaseline8Bit
    assert np.array_equal(decode_frames(out).pixels, decode_frames(ds).pixels)


def test_fragment_past_number_of_frames_is_dropped() -> None:
    """An undeclared trailing fragment is never decoded for OCR; it must not be released (finding 6)."""
    arr = _frames()
    streams = _encode(JPEGLSLossless, arr)
    ds = _dataset(JPEGLSLossless, encapsulate(streams[:2] + [streams[2]], has_bot=False), frames=2)
    assert open_frames(ds).count == 2
    target = copy.deepcopy(ds)
    assert clean_kept(target, ds, open_frames(ds)) == JPEGLSLossless
    out = _roundtrip(target)
    assert list(generate_frames(out.PixelData, number_of_frames=2)) == streams[:2]
    assert streams[2] not in bytes(out.PixelData)


@pytest.mark.parametrize("big_endian", [False, True])
@pytest.mark.parametrize("signed", [False, True])
def test_bits_above_high_bit_are_cleared(signed: bool, big_endian: bool) -> None:
    """Retired embedded overlays: text in bits above High Bit (0028,0102) is masked by the decoder, so
    OCR never sees it; an output without a box must not keep it (finding 6)."""
    values = np.full((R, C), -300 if signed else 1000, np.int16 if signed else np.uint16)
    raw = values.view(np.uint16).copy()
    if signed:
        raw &= 0x0FFF  # 12-bit two's complement, not sign extended...
    raw[4:10, 2:30] |= 1 << 13  # ...and "text" in bit 13
    syntax = ExplicitVRBigEndian if big_endian else ExplicitVRLittleEndian
    data = raw.astype(">u2" if big_endian else "<u2").tobytes()
    ds = _dataset(syntax, data, frames=1, bits=16, stored=12, signed=signed)
    frames = open_frames(ds)
    assert np.array_equal(frames.frame(0), values), "the decoder shows the stored values only"
    job = PixelItem("k", ds, copy.deepcopy(ds), collect_identifiers(ds), "OT")
    result = PixelStage(PixelConfig(classifier={"enabled": False}), engine=ScriptedEngine()).process([job])[0]
    assert result.status is PixelStatus.CLEANED and result.output_syntax == ExplicitVRLittleEndian
    out = _roundtrip(job.target)
    kept = np.frombuffer(bytes(out.PixelData), "<i2" if signed else "<u2")
    assert np.array_equal(kept.reshape(R, C), values)  # bit 13 gone; signed values sign extended


def test_native_clean_or_hidden_extra_frame() -> None:
    arr = _frames()
    clean = _dataset(ExplicitVRLittleEndian, arr.tobytes())
    target = copy.deepcopy(clean)
    assert clean_kept(target, clean, None) is None and target.PixelData == clean.PixelData
    extra = np.concatenate([arr, np.full((1, R, C), 255, np.uint8)])
    ds = _dataset(ExplicitVRLittleEndian, extra.tobytes())  # 4 frames of data, 3 declared
    target = copy.deepcopy(ds)
    assert clean_kept(target, ds, None) == ExplicitVRLittleEndian
    assert bytes(_roundtrip(target).PixelData) == arr.tobytes()


def test_high_bit_not_below_bits_stored_is_quarantined() -> None:
    ds = _dataset(ExplicitVRLittleEndian, np.zeros((R, C), np.uint16).tobytes(), frames=1, bits=16, stored=12)
    ds.HighBit = 15
    with pytest.raises(PixelError) as err:
        clean_kept(copy.deepcopy(ds), ds, None)
    assert "High Bit" in str(err.value)
    job = PixelItem("k", ds, copy.deepcopy(ds), collect_identifiers(ds), "OT")
    result = PixelStage(PixelConfig(classifier={"enabled": False}), engine=ScriptedEngine()).process([job])[0]
    assert result.status is PixelStatus.UNVERIFIED


def test_declared_no_burned_in_annotation_still_loses_hidden_text() -> None:
    ds = _dataset(JPEGLSLossless, encapsulate([_jpegls_hidden(s, "com") for s in _encode(JPEGLSLossless, _frames())]))
    ds.Modality, ds.BurnedInAnnotation = "MR", "NO"
    job = PixelItem("k", ds, copy.deepcopy(ds), collect_identifiers(ds), "MR")
    stage = PixelStage(PixelConfig(trust_burned_in_no=["MR"], classifier={"enabled": False}), engine=ScriptedEngine())
    result = stage.process([job])[0]
    assert result.status is PixelStatus.DECLARED_NONE and SECRET not in bytes(job.target.PixelData)


KEPT = ["SC_rgb_jpeg.dcm", "SC_rgb_jpeg_dcmtk.dcm", "JPGExtended.dcm", "SC_rgb_rle.dcm", "MR_small_RLE.dcm",
        "rtdose_rle.dcm"]
CLEANED = ["JPEG2000.dcm", "MR_small_jp2klossless.dcm", "SC_rgb_jls_lossy_sample.dcm", "GDCMJ2K_TextGBR.dcm"]


@pytest.mark.parametrize("name", KEPT + CLEANED)
def test_real_files_released_without_a_box_keep_their_pixels(name: str) -> None:
    """Real encoders' codestreams (short Adobe segments, pad bytes 00 / FF, odd RLE segments: clean;
    J2K comments, a SPIFF header: stripped; a JP2 wrapper: encoded again) decode to the same pixels."""
    ds = bundled(name)
    target = copy.deepcopy(ds)
    syntax = clean_kept(target, ds, None)
    assert np.array_equal(decode_frames(target).pixels, decode_frames(ds).pixels)
    if name in KEPT:
        assert syntax is None and target.PixelData == ds.PixelData, "clean: kept byte for byte"
    else:  # cleaned in its own syntax; the JP2 file (not a codestream) encoded again, lossless
        assert syntax == ds.file_meta.TransferSyntaxUID and target.PixelData != ds.PixelData
