"""Frame-by-frame redaction (issue #11 item 4): small synthetic multi-frame files, native and
encapsulated, with a planted text region; decoded lazily, filled and written one frame at a time."""

from __future__ import annotations

import copy
import io
import tracemalloc

import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import (
    UID,
    ExplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGLSLossless,
    RLELossless,
    generate_uid,
)

from deid import dicomio
from deid.dicomio import read_dicom, write_dicom, write_dicom_to
from deid.errors import InputError, Reason
from deid.header.identifiers import Identifiers
from deid.pipeline.hooks import PixelItem, PixelStatus
from deid.pixels import redact
from deid.pixels.frames import decode_frames, open_frames
from deid.pixels.ocr import TextBox
from deid.pixels.redact import NativeFrameStream, fill_value, write_redacted
from deid.pixels.stage import PixelConfig, PixelStage

from .conftest import ScriptedEngine

ROWS, COLS, NFRAMES = 48, 64, 5
TEXT = (6, 4, 30, 10)          # x, y, w, h of the planted text (bright) region
TEXT_FRAMES = (0, 1, 2)        # the text shows in these frames only
NO_MODEL = {"classifier": {"enabled": False}}


def _pixels(bits: int = 8, samples: int = 1) -> np.ndarray:
    rng = np.random.default_rng(7)
    top = (1 << bits) - 1
    shape = (ROWS, COLS) + ((samples,) if samples > 1 else ())
    base = rng.integers(0, top // 4, size=shape).astype(np.uint16 if bits > 8 else np.uint8)
    arr = np.repeat(base[np.newaxis], NFRAMES, axis=0)  # frames alike but for the text
    x, y, w, h = TEXT
    for f in TEXT_FRAMES:
        arr[f, y:y + h, x:x + w] = top
    return arr


def _dataset(arr: np.ndarray, bits: int, photometric: str) -> Dataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UID("1.2.840.10008.5.1.4.1.1.3.1")
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    ds.Modality, ds.PatientName = "US", "DOE^JOHN"
    ds.Rows, ds.Columns, ds.NumberOfFrames = ROWS, COLS, NFRAMES
    ds.SamplesPerPixel = 1 if arr.ndim == 3 else arr.shape[3]
    ds.PhotometricInterpretation = photometric
    if ds.SamplesPerPixel > 1:
        ds.PlanarConfiguration = 0
    ds.BitsAllocated = 16 if bits > 8 else 8
    ds.BitsStored, ds.HighBit, ds.PixelRepresentation = bits, bits - 1, 0
    ds.PixelData = arr.tobytes()
    ds["PixelData"].VR = "OW" if bits > 8 else "OB"
    return ds


def _jpeg_baseline(arr: np.ndarray) -> Dataset:
    """8-bit grey JPEG baseline frames made with Pillow's encoder (pydicom has none), encapsulated."""
    ds = _dataset(arr, 8, "MONOCHROME2")
    frames = []
    for f in range(NFRAMES):
        buf = io.BytesIO()
        Image.fromarray(arr[f]).save(buf, format="JPEG", quality=95)
        frames.append(buf.getvalue())
    ds.PixelData = encapsulate(frames, has_bot=False)
    ds["PixelData"].is_undefined_length = True
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    return ds


def _source(kind: str) -> tuple[Dataset, np.ndarray]:
    """(dataset re-read from its bytes, the pixel values it decodes to)."""
    if kind == "native8":
        arr = _pixels()
        ds = _dataset(arr, 8, "MONOCHROME2")
    elif kind == "native12":  # Bits Stored < Bits Allocated: decoded by the loader, not viewed
        arr = _pixels(12)
        ds = _dataset(arr, 12, "MONOCHROME2")
    elif kind == "jpeg_baseline":
        arr = _pixels()
        ds = _jpeg_baseline(arr)
    else:
        syntax = {"rle": RLELossless, "rle_rgb": RLELossless, "jpegls": JPEGLSLossless,
                  "j2k": JPEG2000Lossless}[kind]
        arr = _pixels(samples=3 if kind == "rle_rgb" else 1)
        ds = _dataset(arr, 8, "RGB" if kind == "rle_rgb" else "MONOCHROME2")
        ds.compress(syntax, arr, generate_instance_uid=False)
    back = pydicom.dcmread(io.BytesIO(write_dicom(ds)))
    return back, decode_frames(back).pixels


CASES = [  # kind, output syntax, lossless source
    ("native8", ExplicitVRLittleEndian, True),
    ("native12", ExplicitVRLittleEndian, True),
    ("rle", RLELossless, True),
    ("rle_rgb", RLELossless, True),
    ("jpegls", JPEGLSLossless, True),
    ("j2k", JPEG2000Lossless, True),
    ("jpeg_baseline", ExplicitVRLittleEndian, False),
]


@pytest.mark.parametrize("streamed", [False, True], ids=["bytes", "streamed"])
@pytest.mark.parametrize(("kind", "syntax", "lossless"), CASES, ids=[c[0] for c in CASES])
def test_redacted_frames_decode_blank_only_the_region(kind: str, syntax: UID, lossless: bool, streamed: bool,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    if streamed:
        monkeypatch.setattr(redact, "STREAM_MIN", 0)
    ds, before = _source(kind)
    frames = open_frames(ds)
    assert frames.count == NFRAMES
    if kind != "native8":
        assert frames.loader is not None and frames.pixels.shape[0] == 0, "decoded lazily, one frame at a time"
    target = copy.deepcopy(ds)
    fills = {f: [TEXT] for f in TEXT_FRAMES}
    got = write_redacted(target, ds, frames, fills, fill_value(frames, ds))
    assert got == syntax
    assert isinstance(target.PixelData, bytes) != streamed
    back = pydicom.dcmread(io.BytesIO(write_dicom(target)))
    assert back.file_meta.TransferSyntaxUID == syntax and int(back.NumberOfFrames) == NFRAMES
    assert (back.Rows, back.Columns, back.BitsStored) == (ROWS, COLS, ds.BitsStored)
    assert str(back.get("LossyImageCompression", "")) == ("" if lossless else "01")
    if not lossless:
        assert back.LossyImageCompressionMethod == "ISO_10918_1"
    after = decode_frames(back).pixels
    assert after.shape == before.shape
    x, y, w, h = TEXT
    outside = np.ones(after.shape[:3], dtype=bool)
    outside[list(TEXT_FRAMES), y:y + h, x:x + w] = False
    for f in TEXT_FRAMES:
        assert (after[f, y:y + h, x:x + w] == 0).all(), f"the region is visible in frame {f}"
    assert (after[NFRAMES - 1, y:y + h, x:x + w] == before[NFRAMES - 1, y:y + h, x:x + w]).all()
    # untouched pixels: bit-identical to the decoded source (lossy sources are written as decoded)
    assert np.array_equal(after[outside], before[outside])


def test_encapsulated_output_keeps_untouched_codestreams_and_a_basic_offset_table() -> None:
    ds, _ = _source("rle")
    frames = open_frames(ds)
    target = copy.deepcopy(ds)
    write_redacted(target, ds, frames, {0: [TEXT]}, fill_value(frames, ds))
    from pydicom.encaps import generate_frames, parse_basic_offsets

    old = list(generate_frames(ds.PixelData, number_of_frames=NFRAMES))
    new = list(generate_frames(target.PixelData, number_of_frames=NFRAMES))
    assert [a == b for a, b in zip(old, new, strict=True)] == [False] + [True] * (NFRAMES - 1)
    offsets = parse_basic_offsets(io.BytesIO(target.PixelData))
    assert len(offsets) == NFRAMES and offsets[0] == 0


@pytest.mark.parametrize("name", ["MR_small.dcm", "MR_small_bigendian.dcm", "MR_small_implicit.dcm", "rtdose.dcm",
                                  "SC_rgb_rle_2frame.dcm", "JPEG2000.dcm", "liver_1frame.dcm", "image_dfl.dcm"])
def test_large_input_pixel_data_is_shared_not_copied(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Read as a large input (native Pixel Data a view of the input bytes) and as a small one: the
    same dataset, the same pixels and the same written file."""
    from pydicom.data import get_testdata_file

    path = get_testdata_file(name)
    if path is None:
        pytest.skip(f"pydicom test file {name} is not bundled")
    data = open(path, "rb").read()  # noqa: SIM115 - read whole
    copied = read_dicom(data)
    monkeypatch.setattr(dicomio, "SHARE_MIN", 1)
    shared = read_dicom(data)
    syntax = shared.file_meta.TransferSyntaxUID
    native = not syntax.is_compressed and not syntax.is_deflated  # deflated: values are in the inflated stream
    assert isinstance(shared.PixelData, memoryview) == native
    if native:
        assert np.shares_memory(np.frombuffer(shared.PixelData, np.uint8), np.frombuffer(data, np.uint8))
    assert np.array_equal(decode_frames(shared).pixels, decode_frames(copied).pixels)
    assert write_dicom(shared) == write_dicom(copied)


def test_large_truncated_input_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    arr = _pixels()
    data = write_dicom(_dataset(arr, 8, "MONOCHROME2"))
    monkeypatch.setattr(dicomio, "SHARE_MIN", 1)
    with pytest.raises(InputError) as err:
        read_dicom(data[:-100])
    assert err.value.reason is Reason.TRUNCATED


def test_extended_offset_table_when_offsets_pass_the_basic_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(redact, "BOT_MAX", 100)  # as if the frames passed 4 GiB
    ds, before = _source("rle")
    frames = open_frames(ds)
    target = copy.deepcopy(ds)
    write_redacted(target, ds, frames, {f: [TEXT] for f in TEXT_FRAMES}, fill_value(frames, ds))
    back = pydicom.dcmread(io.BytesIO(write_dicom(target)))
    offsets = np.frombuffer(back.ExtendedOffsetTable, "<u8")
    lengths = np.frombuffer(back.ExtendedOffsetTableLengths, "<u8")
    assert len(offsets) == len(lengths) == NFRAMES and offsets[0] == 0 and (lengths > 0).all()
    assert back.PixelData[:8] == b"\xfe\xff\x00\xe0\x00\x00\x00\x00", "an empty Basic Offset Table"
    after = decode_frames(back).pixels
    assert np.array_equal(after[len(TEXT_FRAMES):], before[len(TEXT_FRAMES):])


def test_native_output_is_written_without_a_whole_copy(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Peak Python allocations while reading, redacting and writing a 6 MB native cine stay a few
    frames (the input's bytes aside): no copy of the Pixel Data, no redacted copy, no output copy."""
    monkeypatch.setattr(redact, "STREAM_MIN", 1)
    monkeypatch.setattr(dicomio, "SHARE_MIN", 1)
    rows = cols = 256
    arr = np.random.default_rng(3).integers(0, 200, size=(96, rows, cols), dtype=np.uint8)
    src = _dataset(arr, 8, "MONOCHROME2")
    src.Rows, src.Columns, src.NumberOfFrames = rows, cols, 96
    data = write_dicom(src)
    size = arr.nbytes
    tracemalloc.start()
    try:
        ds = read_dicom(data)
        frames = open_frames(ds)
        target = copy.copy(ds)
        write_redacted(target, ds, frames, {f: [TEXT] for f in range(96)}, fill_value(frames, ds))
        assert isinstance(target.PixelData, NativeFrameStream)
        with open(tmp_path / "out.dcm", "wb") as fh:
            write_dicom_to(target, fh)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 0.25 * size, f"peak {peak / size:.2f}x the pixel data"
    back = decode_frames(pydicom.dcmread(tmp_path / "out.dcm")).pixels
    x, y, w, h = TEXT
    assert (back[:, y:y + h, x:x + w] == 0).all() and np.array_equal(back[:, 20:, :], arr[:, 20:, :])


@pytest.mark.parametrize("kind", ["native12", "rle", "jpeg_baseline"])
def test_stage_redacts_every_frame_the_text_is_in(kind: str) -> None:
    """The stage with a scripted engine: frames 0 and 3 are OCR'd (the others are alike), the text
    found on frame 0 is blanked in frames 0-2 and the other frames are left as they were."""
    ds, before = _source(kind)

    def script(img: np.ndarray) -> list[TextBox]:
        x, y, w, h = TEXT
        bright = img[y:y + h, x:x + w].min() > 200
        return [TextBox(x, y, w, h, "DOE JOHN", 0.99)] if bright else []

    job = PixelItem("k", ds, copy.deepcopy(ds), Identifiers(names=[["Doe", "John"]]), "US")
    (out,) = PixelStage(PixelConfig(padding=0, **NO_MODEL), engine=ScriptedEngine(script)).process([job])
    assert out.status is PixelStatus.CLEANED and out.redacted_regions == 1
    after = decode_frames(pydicom.dcmread(io.BytesIO(write_dicom(job.target)))).pixels
    x, y, w, h = TEXT
    assert all((after[f, y:y + h, x:x + w] == 0).all() for f in TEXT_FRAMES)
    assert np.array_equal(after[len(TEXT_FRAMES):], before[len(TEXT_FRAMES):])
