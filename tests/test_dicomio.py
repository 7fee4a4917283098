"""Bad input becomes a typed error with a reason code and no PHI (issue: header engine, bad input)."""

from __future__ import annotations

import gc
import io
import warnings
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.filebase import DicomBytesIO

from deid.dicomio import element, gc_paused, quiet_values, read_dicom, write_dicom
from deid.errors import InputError, Reason
from deid.keys import KeyRing


def _ct() -> bytes:
    return Path(get_testdata_file("CT_small.dcm")).read_bytes()  # type: ignore[arg-type]


@pytest.mark.parametrize(("data", "reason"), [
    (b"", Reason.EMPTY_FILE),
    (b"%PDF-1.4 not dicom at all" * 10, Reason.NOT_DICOM),
])
def test_bad_bytes(data: bytes, reason: Reason) -> None:
    with pytest.raises(InputError) as exc:
        read_dicom(data)
    assert exc.value.reason in {reason, Reason.INVALID_VALUE, Reason.TRUNCATED}


@pytest.mark.parametrize("fraction", [0.05, 0.33, 0.9, 0.999])
def test_truncated_real_file(fraction: float) -> None:
    data = _ct()
    with pytest.raises(InputError) as exc:
        read_dicom(data[: int(len(data) * fraction)])
    assert exc.value.reason in {Reason.TRUNCATED, Reason.MISSING_UID}
    assert "CompressedSamples" not in str(exc.value)  # no patient name of CT_small in the message


@pytest.mark.parametrize(("name", "fraction"), [("rtplan.dcm", 0.5), ("JPEG2000.dcm", 0.75),
                                              ("SC_rgb_rle.dcm", 0.5), ("CT_small.dcm", 0.999)])
def test_truncated_files_of_every_kind(name: str, fraction: float) -> None:
    data = Path(get_testdata_file(name)).read_bytes()  # type: ignore[arg-type]
    with pytest.raises(InputError) as exc:
        read_dicom(data[: int(len(data) * fraction)])
    assert exc.value.reason is Reason.TRUNCATED


@pytest.mark.parametrize("name", ["MR_small_bigendian.dcm", "image_dfl.dcm", "CT_small.dcm",
                                  "MR_small_implicit.dcm", "JPEG2000.dcm", "SC_rgb_rle.dcm"])
def test_syntaxes_read_and_write(name: str) -> None:
    data = Path(get_testdata_file(name)).read_bytes()  # type: ignore[arg-type]
    ds = read_dicom(data)
    out = write_dicom(ds)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        back = pydicom.dcmread(io.BytesIO(out))
    assert back.SOPInstanceUID == ds.SOPInstanceUID
    assert back.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID


def test_bare_dataset_without_file_meta_gets_one() -> None:
    ds = read_dicom(_ct())
    buf = io.BytesIO()
    del ds.file_meta
    ds.save_as(buf, enforce_file_format=False, implicit_vr=True, little_endian=True)
    bare = read_dicom(buf.getvalue())
    assert bare.file_meta.TransferSyntaxUID is not None


def test_invalid_values_never_quoted_in_warnings(test_keyring: KeyRing) -> None:
    """pydicom's validation warnings quote values; inside the per-input boundary none is emitted."""
    from deid.header.engine import HeaderEngine
    from deid.header.profile import load_profile
    from deid.pipeline.executor import Failed, each_input

    ds = read_dicom(_ct())
    with quiet_values():
        ds.PatientName = "Q" * 80 + "^SECRETNAME"  # longer than PN allows
        ds.PatientID = "SECRET-ID-" + "9" * 70  # longer than LO allows
        ds.StudyInstanceUID = "1.2.SECRETUID.x"  # not a valid UID
    data = write_dicom(ds)
    engine = HeaderEngine(load_profile("research"), test_keyring)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = each_input(lambda: write_dicom(engine.deidentify(read_dicom(data)).dataset))
    assert not isinstance(out, Failed)
    for w in caught:
        assert "SECRET" not in str(w.message)


def test_importing_deid_leaves_pydicom_config_alone() -> None:
    """No global change at import; quiet_values restores what it found."""
    import subprocess
    import sys

    code = ("import pydicom.config as c; before = (c.settings.reading_validation_mode, "
            "c.settings.writing_validation_mode); import deid.dicomio, deid.pipeline.process; "
            "assert (c.settings.reading_validation_mode, c.settings.writing_validation_mode) == before")
    subprocess.run([sys.executable, "-c", code], check=True)
    import pydicom.config

    before = pydicom.config.settings.reading_validation_mode
    with quiet_values():
        assert pydicom.config.settings.reading_validation_mode == pydicom.config.IGNORE
    assert pydicom.config.settings.reading_validation_mode == before

@pytest.mark.parametrize(("keyword", "value", "expected"), [
    ("PixelData", b"\x00\x01" * 8, True),
    ("FloatPixelData", b"\x00" * 16, True),        # (7FE0,0008): pixels too, never "no pixel data"
    ("DoubleFloatPixelData", b"\x00" * 16, True),  # (7FE0,0009)
    ("PixelData", b"", False),                     # present but empty: nothing to show
    (None, None, False),
])
def test_has_pixel_data(keyword: str | None, value: bytes | None, expected: bool) -> None:
    from deid.dicomio import has_pixel_data

    ds = read_dicom(_ct())
    del ds.PixelData
    if keyword:
        setattr(ds, keyword, value)
    assert has_pixel_data(ds) is expected


def test_worker_functions_never_quote_values_of_lazily_read_elements(caplog: pytest.LogCaptureFixture,
                                                                        test_keyring: KeyRing) -> None:
    """A nested Referenced SOP Instance UID that is not a valid UID is converted lazily, when the
    needle pass walks the original: neither pydicom's warning nor its log record may quote it."""
    import logging

    import pandas as pd
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    from deid.header.profile import load_profile
    from deid.quality.verify import needle_batches

    ds = read_dicom(_ct())
    with quiet_values():
        ref = Dataset()
        ref.ReferencedSOPClassUID = "1.2.840.10008.5.1.4.1.1.481.5"
        ref.ReferencedSOPInstanceUID = "1.2.0123.SECRETUID.0456"
        ds.ReferencedRTPlanSequence = Sequence([ref])
    batch = pd.DataFrame({"sha256": ["x"], "content": [write_dicom(ds)], "blob_path": [None]})
    caplog.set_level(logging.DEBUG)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = list(needle_batches(iter([batch]), test_keyring, load_profile("research"), ("uid", "id", "person_name")))
    assert out and len(out[0]) > 0  # the original was read and walked
    assert not [w for w in caught if "SECRET" in str(w.message)]
    assert "SECRET" not in caplog.text


# ------------------------------------------------------------------ a large instance is held once (#11 item 4)
def _large_native(frames: int = 3) -> bytes:
    """An 8-bit multi-frame file whose Pixel Data is over the streaming threshold (1 MiB)."""
    import numpy as np
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.3.1"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    ds.Modality = "US"
    ds.Rows = ds.Columns = 640
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit, ds.PixelRepresentation, ds.NumberOfFrames = 7, 0, frames
    ds.PixelData = np.arange(frames * 640 * 640, dtype=np.uint32).astype(np.uint8).tobytes()
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def test_read_dataset_keeps_no_reference_to_the_input_bytes() -> None:
    ds = read_dicom(_large_native())
    assert getattr(ds, "buffer", None) is None


def test_streamed_write_is_byte_identical_and_leaves_the_value_alone() -> None:
    from deid.dicomio import write_dicom_to

    ds = read_dicom(_large_native())
    pixels = ds.PixelData
    assert len(pixels) > 1 << 20
    out = io.BytesIO()
    write_dicom_to(ds, out)
    assert ds.PixelData is pixels  # restored: the same bytes object
    plain = io.BytesIO()
    ds.save_as(plain, enforce_file_format=True)
    assert out.getvalue() == plain.getvalue() == write_dicom(ds)


def test_streamed_write_does_not_copy_the_pixel_value() -> None:
    import tracemalloc

    from deid.dicomio import write_dicom_to

    ds = read_dicom(_large_native(frames=8))
    size = len(ds.PixelData)

    class Sink(io.RawIOBase):  # counts what is written, keeps nothing (like a file on disk)
        pos = 0

        def writable(self) -> bool:
            return True

        def tell(self) -> int:
            return self.pos

        def write(self, b) -> int:  # type: ignore[no-untyped-def, override]
            self.pos += len(b)
            return len(b)

    write_dicom_to(ds, Sink())  # warm
    tracemalloc.start()
    try:
        write_dicom_to(ds, Sink())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < size / 4  # pydicom alone copies the whole value into an element buffer first


@pytest.mark.parametrize("name", ["CT_small.dcm", "MR_small_implicit.dcm", "MR_small_bigendian.dcm",
                                  "rtplan.dcm", "rtstruct.dcm", "image_dfl.dcm", "SC_rgb_rle.dcm",
                                  "UN_sequence.dcm", "nested_priv_SQ.dcm", "priv_SQ.dcm", "test-SR.dcm",
                                  "reportsi_with_empty_number_tags.dcm", "waveform_ecg.dcm", "badVR.dcm",
                                  "empty_charset_LEI.dcm", "rtdose.dcm", "examples_palette.dcm",
                                  "ExplVR_BigEndNoMeta.dcm", "no_meta.dcm", "J2K_pixelrep_mismatch.dcm"])
def test_element_is_pydicoms_getitem(name: str) -> None:
    """dicomio.element converts as ``Dataset.__getitem__`` does: the same elements (tag, VR, value,
    private creator) at every depth, the same ``_pixel_rep``, and the same written bytes, whichever
    of the two converts an element first."""
    data = Path(get_testdata_file(name)).read_bytes()  # type: ignore[arg-type]
    with quiet_values():
        a, b = (pydicom.dcmread(io.BytesIO(data), force=True) for _ in range(2))
        converted = 0
        stack = [(a, b)]
        while stack:
            x, y = stack.pop()
            assert list(x._dict) == list(y._dict)
            for tag in list(x._dict):
                converted += type(x._dict[tag]) is not pydicom.DataElement
                ex, ey = element(x, tag), y[tag]
                assert type(ex) is type(ey) is pydicom.DataElement
                assert element(x, tag) is ex  # stored: converted once
                assert (ex.tag, ex.VR, ex.private_creator) == (ey.tag, ey.VR, ey.private_creator)
                if ex.VR == "SQ":
                    assert len(ex.value) == len(ey.value)
                    stack.extend(zip(ex.value, ey.value, strict=True))
                else:
                    assert ex.value == ey.value
            assert getattr(x, "_pixel_rep", None) == getattr(y, "_pixel_rep", None)
        assert converted
        x_out, y_out = DicomBytesIO(), DicomBytesIO()
        for out, ds in ((x_out, a), (y_out, b)):
            out.is_little_endian, out.is_implicit_VR = ds.is_little_endian, ds.is_implicit_VR
        pydicom.filewriter.write_dataset(x_out, a)
        pydicom.filewriter.write_dataset(y_out, b)
        assert x_out.getvalue() == y_out.getvalue()


@pytest.mark.parametrize("enabled", [True, False])
def test_gc_paused_restores_the_collector_state(enabled: bool) -> None:
    """Automatic collection is off inside, and after it as it was before, also after an error (a host
    that turned it off keeps it off)."""
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        with gc_paused():
            assert not gc.isenabled()
        assert gc.isenabled() is enabled
        with pytest.raises(InputError), gc_paused():
            read_dicom(b"not dicom at all")
        assert gc.isenabled() is enabled
        read_dicom(_ct())
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()
