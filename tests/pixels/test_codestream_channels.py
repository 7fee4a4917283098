"""Other places in Pixel Data where bytes survive that no viewer shows (seventh session, task 2): the
bits above Bits Stored of an RLE frame (decoders mask them), offset tables whose values are not the
frames' offsets, the pad byte of odd-length native data, the unused bits of the last bit-packed byte,
an offset table on native data. Each test plants a marker string and checks it is gone from the
released bytes while the decoded pixels stay."""

from __future__ import annotations

import copy
import io
import struct

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.pixels import get_encoder, pack_bits
from pydicom.uid import UID, ExplicitVRLittleEndian, JPEGLSLossless, RLELossless, generate_uid

from deid.pixels.frames import decode_frames
from deid.pixels.redact import clean_kept

MARK = b"XLEAK Doe^Jane MRN 12345678X"  # 28 bytes, no byte twice in a row (an RLE run would split it)


def _ds(syntax: UID, pixel_data: bytes, rows: int, cols: int, bits: int = 8, stored: int = 8,
        signed: bool = False, frames: int = 1) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = syntax
    ds.SOPClassUID, ds.SOPInstanceUID, ds.Modality = "1.2.840.10008.5.1.4.1.1.7", generate_uid(), "OT"
    ds.Rows, ds.Columns, ds.SamplesPerPixel, ds.PhotometricInterpretation = rows, cols, 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = bits, stored, stored - 1, int(signed)
    if frames > 1:
        ds.NumberOfFrames = frames
    ds.PixelData = pixel_data
    ds["PixelData"].VR = "OB" if syntax.is_compressed or bits <= 8 else "OW"
    if syntax.is_compressed:
        ds["PixelData"].is_undefined_length = True
    return ds


def _saved(ds: Dataset) -> bytes:
    bio = io.BytesIO()
    ds.save_as(bio, enforce_file_format=True)
    return bio.getvalue()


def _release(ds: Dataset) -> tuple[bytes, Dataset]:
    """clean_kept on a read-back copy: the bytes that would be released, and the dataset read back."""
    original = pydicom.dcmread(io.BytesIO(_saved(ds)))
    target = copy.deepcopy(original)
    clean_kept(target, original, None)
    out = _saved(target)
    return out, pydicom.dcmread(io.BytesIO(out))


@pytest.mark.parametrize("signed", [False, True])
def test_rle_bits_above_bits_stored_are_not_released(signed: bool) -> None:
    """RLE segments carry whole bytes (PS3.5 G.2): the most significant byte's bits above Bits Stored are
    masked by the decoder (OCR never sees them) and must not be released."""
    rows, cols = 4, len(MARK)
    low = np.arange(rows * cols, dtype=np.uint16).reshape(rows, cols) % 200
    values = (low | (0xF00 if signed else 0x300)).astype(np.uint16)  # 12-bit values (signed: negative)
    raw = values.copy()
    raw[1] = (np.frombuffer(MARK, np.uint8).astype(np.uint16) << 8) | (values[1] & 0xFF)  # text above bit 11
    enc = get_encoder(RLELossless).encode(raw, rows=rows, columns=cols, samples_per_pixel=1, bits_allocated=16,
                                          bits_stored=16, pixel_representation=0, number_of_frames=1,
                                          photometric_interpretation="MONOCHROME2", encoding_plugin="pydicom")
    assert MARK in enc
    ds = _ds(RLELossless, encapsulate([enc]), rows, cols, bits=16, stored=12, signed=signed)
    shown = decode_frames(pydicom.dcmread(io.BytesIO(_saved(ds)))).pixels[0]
    out, back = _release(ds)
    assert MARK not in out and back.file_meta.TransferSyntaxUID == RLELossless
    assert np.array_equal(decode_frames(back).pixels[0], shown)


def _jls(rows: int = 8, cols: int = 16) -> tuple[bytes, np.ndarray]:
    arr = (np.arange(rows * cols, dtype=np.uint8).reshape(rows, cols) * 3) % 251
    enc = get_encoder(JPEGLSLossless).encode(arr, rows=rows, columns=cols, samples_per_pixel=1, bits_allocated=8,
                                             bits_stored=8, pixel_representation=0, number_of_frames=1,
                                             photometric_interpretation="MONOCHROME2")
    return enc, arr


def test_extended_offset_table_lengths_with_text_are_not_released() -> None:
    """An Extended Offset Table Lengths (7FE0,0002) value that is not the frame's length still decodes
    (the frame is its one fragment): its bytes are free, and must not be released."""
    enc, arr = _jls()
    ds = _ds(JPEGLSLossless, encapsulate([enc], has_bot=False), 8, 16)
    ds.ExtendedOffsetTable = struct.pack("<Q", 0)
    ds.ExtendedOffsetTableLengths = MARK[:8]
    out, back = _release(ds)
    assert MARK[:8] not in out
    assert np.array_equal(decode_frames(back).pixels[0], arr)


def test_basic_offset_table_with_text_is_not_released() -> None:
    """A one-frame Basic Offset Table holds one offset, 0: any other value is free bytes."""
    enc, arr = _jls()
    body = encapsulate([enc], has_bot=False)
    bot = MARK[:4]
    ds = _ds(JPEGLSLossless, struct.pack("<HHL", 0xFFFE, 0xE000, 4) + bot + body[8:], 8, 16)
    try:
        out, back = _release(ds)
    except Exception:  # noqa: BLE001 - a decoder that reads the offset and fails: never released
        return
    assert bot not in out
    assert np.array_equal(decode_frames(back).pixels[0], arr)


def test_native_pad_byte_with_text_is_not_released() -> None:
    arr = np.full((3, 5), 7, np.uint8)  # 15 bytes: one pad byte, which must be 00 (PS3.5 8.1.1)
    ds = _ds(ExplicitVRLittleEndian, arr.tobytes() + b"Z", 3, 5)
    out, back = _release(ds)
    assert bytes(back.PixelData) == arr.tobytes() + b"\x00"


def test_unused_bits_of_the_last_bit_packed_byte_are_not_released() -> None:
    """1-bit data packs pixels from the low bit (PS3.5 8.1.1): the last byte's bits past the last pixel
    are shown by nothing."""
    arr = np.zeros((3, 5), np.uint8)
    arr[1, 2] = 1
    packed = bytearray(pack_bits(arr.ravel()))  # 15 bits: 2 bytes, the top bit of the second unused
    packed[-1] |= 0x80
    ds = _ds(ExplicitVRLittleEndian, bytes(packed), 3, 5, bits=1, stored=1)
    out, back = _release(ds)
    assert bytes(back.PixelData)[1] & 0x80 == 0
    assert np.array_equal(decode_frames(back).pixels[0], arr)


def test_offset_table_on_native_data_is_not_released() -> None:
    arr = np.full((4, 4), 9, np.uint8)
    ds = _ds(ExplicitVRLittleEndian, arr.tobytes(), 4, 4)
    ds.ExtendedOffsetTable, ds.ExtendedOffsetTableLengths = MARK[:8], MARK[8:16]
    out, back = _release(ds)
    assert MARK[:8] not in out and MARK[8:16] not in out and "ExtendedOffsetTable" not in back
    assert bytes(back.PixelData) == arr.tobytes()


def test_clean_offset_tables_are_kept_byte_for_byte() -> None:
    enc, _ = _jls()
    for ds in (_ds(JPEGLSLossless, encapsulate([enc, enc, enc]), 8, 16, frames=3),
               _ds(JPEGLSLossless, encapsulate([enc], has_bot=False), 8, 16)):
        original = pydicom.dcmread(io.BytesIO(_saved(ds)))
        target = copy.deepcopy(original)
        assert clean_kept(target, original, None) is None and target.PixelData == original.PixelData
