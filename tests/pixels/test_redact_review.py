"""Review probe (sixth session): a big endian source whose pixels are redacted is written little endian
(deid/pixels/redact.py ``_little_endian_encoding`` records the dataset as read little endian), but its
kept elements are still the raw big endian bytes as read: binary values (US, SS, UL, FL, FD, AT, OW)
are written byte-swapped. Not a leak: released values are wrong (here Largest Image Pixel Value)."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import pydicom
from pydicom.data import get_testdata_file

from deid.dicomio import read_dicom, write_dicom
from deid.header.engine import HeaderEngine, PixelStatus
from deid.header.profile import FreeTextDetector, load_profile
from deid.keys import KeyRing
from deid.pixels.frames import decode_frames
from deid.pixels.redact import fill_value, write_redacted

BINARY = ("US", "SS", "UL", "SL", "FL", "FD", "AT")


def test_redacted_big_endian_keeps_binary_values(test_keyring: KeyRing) -> None:
    path = get_testdata_file("MR_small_bigendian.dcm")
    assert path is not None
    original = read_dicom(Path(path).read_bytes())
    profile = load_profile("research")
    rules = profile.free_text.model_copy(update={"detector": FreeTextDetector.RULES})
    engine = HeaderEngine(profile.model_copy(update={"free_text": rules}), test_keyring)
    res = engine.deidentify(original)
    frames = decode_frames(original)
    write_redacted(res.dataset, original, frames, {0: [(2, 2, 10, 10)]}, fill_value(frames, original))
    engine.finalize(res.dataset, PixelStatus.UNVERIFIED)
    back = pydicom.dcmread(io.BytesIO(write_dicom(res.dataset)))
    source = pydicom.dcmread(path)
    changed = [str(e.tag) for e in back if e.VR in BINARY and e.tag in source and source[e.tag].value != e.value]
    assert not changed


def test_redacted_big_endian_swaps_word_values(test_keyring: KeyRing) -> None:
    """An OW value of a big endian source (pydicom keeps its file bytes) is written little endian."""
    path = get_testdata_file("MR_small_bigendian.dcm")
    assert path is not None
    source = pydicom.dcmread(path)
    source.add_new(0x00660040, "OL", struct.pack(">2L", 1, 70000))  # Long Primitive Point Index List
    buf = io.BytesIO()
    source.save_as(buf, implicit_vr=False, little_endian=False)
    original = read_dicom(buf.getvalue())
    engine = HeaderEngine(load_profile("basic"), test_keyring)
    res = engine.deidentify(original)
    frames = decode_frames(original)
    write_redacted(res.dataset, original, frames, {0: [(2, 2, 10, 10)]}, fill_value(frames, original))
    engine.finalize(res.dataset, PixelStatus.UNVERIFIED)
    back = pydicom.dcmread(io.BytesIO(write_dicom(res.dataset)))
    assert back.original_encoding[1] is True
    assert struct.unpack("<2L", back[0x00660040].value) == (1, 70000)
