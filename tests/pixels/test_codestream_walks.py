"""Bytes inside coded data that no decoder reads (deid.pixels.jpegscan, j2kpackets, jlsscan): a JPEG
restart interval's bytes after its last MCU, a JPEG 2000 tile's bytes after its last packet, a JPEG-LS
scan's bytes after its last sample. Each walk must read every byte a decoder reads (a clean codestream
comes back byte for byte), cut the rest (the pixels stay), and refuse what it does not walk."""

from __future__ import annotations

import copy
import io
import struct

import numpy as np
import pydicom
import pytest
from pydicom.encaps import encapsulate, generate_frames
from pydicom.uid import JPEGBaseline8Bit

from deid.pixels import codestream
from deid.pixels.codestream import clean_codestream, same_pixels
from deid.pixels.frames import decode_frames
from deid.pixels.redact import clean_kept

from .conftest import bundled

JUNK = b"ZZLEAK Doe^Jane MRN 12345678"
J2K, J2K_LOSSY, JPEG, JPEG_EXT, JPEG_LL, JLS, JLS_NEAR = (
    "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91", "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51",
    "1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81")


def _image(rgb: bool = False, shape: tuple[int, int] = (100, 120)) -> np.ndarray:
    rng = np.random.default_rng(3)
    base = np.add.outer(np.arange(shape[0]), np.arange(shape[1])).astype(np.float64)
    img = (base + rng.normal(0, 20, shape)) % 256
    if rgb:
        return np.stack([img, 255 - img, (img * 3) % 256], axis=-1).astype(np.uint8)
    return img.astype(np.uint8)


def _pil(arr: np.ndarray, fmt: str, **opts) -> bytes:  # type: ignore[no-untyped-def]
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, fmt, **opts)
    return buf.getvalue()


def _geometry(arr: np.ndarray) -> tuple[int, int, int, int]:
    return arr.shape[0], arr.shape[1], arr.shape[2] if arr.ndim == 3 else 1, 8


# ----------------------------------------------------------------------------------------------- JPEG
def _before(stream: bytes, marker: bytes, nth: int = 0) -> bytes:
    """``JUNK`` planted before the ``nth`` occurrence of ``marker`` after the first scan header."""
    pos = stream.index(b"\xff\xda")
    for _ in range(nth + 1):
        pos = stream.index(marker, pos + 1)
    return stream[:pos] + JUNK + stream[pos:]


JPEGS = {
    "grey": lambda: _pil(_image(), "JPEG", quality=90),
    "rgb-420": lambda: _pil(_image(True), "JPEG", quality=75, subsampling=2),
    "rgb-444-restart": lambda: _pil(_image(True), "JPEG", quality=95, subsampling=0, restart_marker_blocks=3),
    "grey-restart-rows": lambda: _pil(_image(), "JPEG", quality=50, restart_marker_rows=1),
}


@pytest.mark.parametrize("name", sorted(JPEGS))
def test_jpeg_walk_keeps_a_clean_stream_and_cuts_interval_tails(name: str) -> None:
    plain = JPEGS[name]()
    assert clean_codestream(plain, JPEG, (0, 0, 0, 8)) == plain  # every byte read: nothing cut
    places = [(b"\xff\xd9", 0)]
    if b"\xff\xd0" in plain:
        places += [(b"\xff\xd0", 0), (b"\xff\xd1", 0)]  # inside a restart interval, before its RSTn
    for marker, nth in places:
        hidden = _before(plain, marker, nth)
        assert same_pixels(plain, hidden, JPEG)  # a decoder never reads the planted bytes
        assert clean_codestream(hidden, JPEG, (0, 0, 0, 8)) == plain


@pytest.mark.parametrize(("name", "syntax"), [("JPGExtended.dcm", JPEG_EXT), ("SC_rgb_jpeg_gdcm.dcm", JPEG_LL),
                                              ("SC_rgb_jpeg_dcmtk.dcm", JPEG)])
def test_jpeg_walk_on_real_12_bit_and_lossless_streams(name: str, syntax: str) -> None:
    """Extended 12-bit (SOF1) and lossless (SOF3, process 14) scans are walked too."""
    ds = bundled(name)
    stream = next(generate_frames(ds.PixelData, number_of_frames=1))
    plain = stream[:stream.rindex(b"\xff\xd9") + 2]
    assert clean_codestream(plain, syntax, (0, 0, 0, 8)) == plain
    hidden = _before(plain, b"\xff\xd9")
    out = clean_codestream(hidden, syntax, (0, 0, 0, 8))
    assert out == plain and same_pixels(hidden, out, syntax)


def test_jpeg_restart_marker_after_the_last_interval_is_dropped() -> None:
    """An RSTn after the last restart interval starts no interval a decoder reads: it goes, with what
    follows it up to EOI."""
    plain = JPEGS["rgb-444-restart"]()
    hidden = plain[:-2] + b"\xff\xd3" + JUNK + plain[-2:]
    assert same_pixels(plain, hidden, JPEG)
    assert clean_codestream(hidden, JPEG, (0, 0, 0, 8)) == plain


def test_jpeg_walk_in_small_chunks_finds_the_same_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    """The per-bit lookups are built a chunk at a time (bounded memory): chunks of 64 bytes give the
    same cuts as one chunk, for sequential and lossless scans."""
    from deid.pixels import jpegscan

    ds = bundled("SC_rgb_jpeg_gdcm.dcm")
    lossless = next(generate_frames(ds.PixelData, number_of_frames=1))
    lossless = lossless[:lossless.rindex(b"\xff\xd9") + 2]
    streams = [(JPEGS["rgb-420"](), JPEG), (JPEGS["grey-restart-rows"](), JPEG), (lossless, JPEG_LL)]
    monkeypatch.setattr(jpegscan, "_CHUNK", 64)
    for plain, syntax in streams:
        assert clean_codestream(plain, syntax, (0, 0, 0, 8)) == plain
        assert clean_codestream(_before(plain, b"\xff\xd9"), syntax, (0, 0, 0, 8)) == plain


def test_jpeg_pad_bits_are_set_to_one() -> None:
    """The bits after a segment's last code pad its last byte with 1s (F.1.2.3); other values carry
    nothing a decoder reads: they are set back to 1."""
    from deid.pixels.jpegscan import _walk, frame_header

    for quality in range(60, 100):
        plain = _pil(_image(), "JPEG", quality=quality)
        sos = plain.index(b"\xff\xda")
        data = plain[sos + 2 + int.from_bytes(plain[sos + 2:sos + 4], "big"):-2]
        sof = plain.index(b"\xff\xc0")
        frame = frame_header(0xC0, plain[sof + 4:sof + 2 + int.from_bytes(plain[sof + 2:sof + 4], "big")])
        assert frame is not None and b"\xff" not in data[-2:]
        tables = {}
        pos = 0
        while (pos := plain.find(b"\xff\xc4", pos + 1)) > 0:
            body = plain[pos + 4:pos + 2 + int.from_bytes(plain[pos + 2:pos + 4], "big")]
            tables[body[0]] = body
        specs = [(tables[0x00], tables[0x10])]
        mcus = -(-frame.lines // 8) * -(-frame.columns // 8)
        unstuffed = data.replace(b"\xff\x00", b"\xff")
        bits = _walk(unstuffed, specs, mcus)
        assert bits is not None and -(-bits // 8) == len(unstuffed)  # the walk ends in the last byte
        pad = -bits % 8
        if pad >= 3:
            break
    else:
        pytest.skip("no quality gives 3 pad bits")
    zeroed = plain[:-3] + bytes([plain[-3] & ~((1 << pad) - 1) & 0xFF]) + plain[-2:]
    assert zeroed != plain and same_pixels(plain, zeroed, JPEG)
    assert clean_codestream(zeroed, JPEG, (0, 0, 0, 8)) == plain


def test_unused_quantisation_table_is_dropped() -> None:
    """A DQT table no frame component selects (Tq, B.2.2) is 64 free bytes: dropped like an unused DHT."""
    plain = _pil(_image(), "JPEG", quality=90)
    body = bytes([0x03]) + (JUNK * 3)[:64]
    sof = plain.index(b"\xff\xc0")
    hidden = plain[:sof] + b"\xff\xdb" + struct.pack(">H", 2 + len(body)) + body + plain[sof:]
    assert same_pixels(plain, hidden, JPEG)
    assert clean_codestream(hidden, JPEG, (0, 0, 0, 8)) == plain


def test_jpeg_segments_a_huffman_scan_never_reads() -> None:
    """Arithmetic conditioning (DAC) in a Huffman stream is free bytes: stripped. Hierarchical (DHP)
    and Number of Lines (DNL) segments are refused (not walked), never kept."""
    plain = _pil(_image(), "JPEG", quality=90)
    sof = plain.index(b"\xff\xc0")
    dac = b"\xff\xcc" + struct.pack(">H", 2 + 14) + JUNK[:14]
    assert clean_codestream(plain[:sof] + dac + plain[sof:], JPEG, (0, 0, 0, 8)) == plain
    for code in (b"\xff\xde", b"\xff\xdc"):
        segment = code + struct.pack(">H", 2 + 6) + JUNK[:6]
        assert clean_codestream(plain[:sof] + segment + plain[sof:], JPEG, (0, 0, 0, 8)) is None


def test_jpegls_mapping_table_is_refused() -> None:
    """An LSE mapping table (ID 2, C.2.4.1.2) no scan needs to select: not proven by encoding again."""
    jpeg_ls = pytest.importorskip("jpeg_ls")
    arr = _image()
    plain = bytes(jpeg_ls.encode_array(arr))
    sos = plain.index(b"\xff\xda")
    lse = b"\xff\xf8" + struct.pack(">HBBB", 2 + 3 + len(JUNK), 2, 1, 1) + JUNK
    assert clean_codestream(plain[:sos] + lse + plain[sos:], JLS, _geometry(arr)) is None


@pytest.mark.parametrize("opts", [{"progressive": True}, {"quality": 90, "optimize": True, "progressive": True}])
def test_jpeg_scans_not_walked_are_refused(opts) -> None:  # type: ignore[no-untyped-def]
    """Progressive scans (SOF2) are not walked: refused, so the frame is written from its pixels."""
    assert clean_codestream(_pil(_image(), "JPEG", **opts), JPEG, (0, 0, 0, 8)) is None


def test_a_cut_that_changes_the_pixels_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every cut inside coded data is checked by decoding: a walk that stopped short is refused."""
    plain = _pil(_image(), "JPEG", quality=90)
    monkeypatch.setattr(codestream, "scan_used", lambda *a: a[-1][:len(a[-1]) // 2])
    assert clean_codestream(plain, JPEG, (0, 0, 0, 8)) is None


def test_image_without_a_box_loses_an_interval_tail_in_its_own_syntax() -> None:
    ds = bundled("SC_rgb_jpeg_dcmtk.dcm")
    stream = next(generate_frames(ds.PixelData, number_of_frames=1))
    ds.PixelData = encapsulate([_before(stream, b"\xff\xd9")])
    target = copy.deepcopy(ds)
    assert clean_kept(target, ds, None) == JPEGBaseline8Bit
    assert JUNK not in bytes(target.PixelData)
    assert np.array_equal(decode_frames(target).pixels, decode_frames(ds).pixels)


# ------------------------------------------------------------------------------------------ JPEG 2000
def _sots(stream: bytes) -> list[int]:
    out, pos = [], stream.index(b"\xff\x90\x00\x0a")
    while stream[pos:pos + 2] == b"\xff\x90":
        out.append(pos)
        pos += int.from_bytes(stream[pos + 6:pos + 10], "big")
    return out


def _tail(stream: bytes, sot: int) -> bytes:
    """``JUNK`` after the packets of the tile-part at ``sot``, its Psot counting it."""
    psot = int.from_bytes(stream[sot + 6:sot + 10], "big")
    end = sot + psot
    return stream[:sot + 6] + (psot + len(JUNK)).to_bytes(4, "big") + stream[sot + 10:end] + JUNK + stream[end:]


J2KS = {
    "lrcp-3-layers": {"quality_layers": [40, 10, 0], "quality_mode": "rates"},
    "rlcp-tiles": {"progression": "RLCP", "tile_size": (64, 48)},
    "rpcl-precincts": {"progression": "RPCL", "precinct_size": (32, 32), "num_resolutions": 4},
    "pcrl-precincts-tiles": {"progression": "PCRL", "precinct_size": (32, 32), "tile_size": (48, 64),
                             "codeblock_size": (8, 8),
                             "quality_layers": [20, 0], "quality_mode": "rates"},
    "cprl-rgb": {"progression": "CPRL", "precinct_size": (64, 32), "codeblock_size": (16, 16), "rgb": True},
    "bypass-termall": {"cblk_style": 0x05, "quality_layers": [30, 8, 0], "quality_mode": "rates"},
    "bypass-lossy": {"cblk_style": 0x01, "irreversible": True, "quality_layers": [20, 5], "quality_mode": "rates"},
    "all-styles-offset": {"cblk_style": 0x3F, "tile_size": (50, 40), "tile_offset": (3, 5), "offset": (3, 5)},
}


@pytest.mark.parametrize("name", sorted(J2KS))
def test_j2k_walk_reads_every_packet_and_cuts_tile_tails(name: str) -> None:
    opts = dict(J2KS[name])
    arr = _image(bool(opts.pop("rgb", False)))
    plain = _pil(arr, "JPEG2000", no_jp2=True, **opts)
    assert clean_codestream(plain, J2K_LOSSY, _geometry(arr)) == plain  # the walk ends where the data end
    sots = _sots(plain)
    for sot in {sots[0], sots[-1]}:
        hidden = _tail(plain, sot)
        assert same_pixels(plain, hidden, J2K_LOSSY)
        assert clean_codestream(hidden, J2K_LOSSY, _geometry(arr)) == plain


def test_j2k_sop_and_eph_markers_are_walked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Packets preceded by SOP and with headers ended by EPH (Scod bits 1 and 2, A.6.1) are walked: a
    stream rebuilt with them (where OpenJPEG reads them: the same pixels) is kept, its tail cut."""
    from deid.pixels import j2kpackets

    arr = _image()
    plain = _pil(arr, "JPEG2000", no_jp2=True, quality_layers=[40, 10, 0], quality_mode="rates")
    spans: list[tuple[int, int]] = []
    heads: list[int] = []
    packet, align = j2kpackets._Tile.packet, j2kpackets._Bits.align

    def record_packet(self, data, pos, end, *rest):  # type: ignore[no-untyped-def]
        out = packet(self, data, pos, end, *rest)
        spans.append((pos, out))
        return out

    def record_align(self):  # type: ignore[no-untyped-def]
        heads.append(align(self))
        return heads[-1]

    monkeypatch.setattr(j2kpackets._Tile, "packet", record_packet)
    monkeypatch.setattr(j2kpackets._Bits, "align", record_align)
    assert clean_codestream(plain, J2K_LOSSY, _geometry(arr)) == plain
    monkeypatch.undo()
    sot = plain.index(b"\xff\x90\x00\x0a")
    assert plain[sot + 12:sot + 14] == b"\xff\x93" and len(spans) == len(heads) > 6
    psot = int.from_bytes(plain[sot + 6:sot + 10], "big")
    body = plain[sot + 14:sot + psot]
    assert spans[-1][1] == len(body)
    packets = b"".join(b"\xff\x91\x00\x04" + struct.pack(">H", i) + body[a:h] + b"\xff\x92" + body[h:e]
                       for i, ((a, e), h) in enumerate(zip(spans, heads, strict=True)))
    cod = plain.index(b"\xff\x52")
    head = plain[:cod + 4] + bytes([plain[cod + 4] | 0x06]) + plain[cod + 5:sot]
    tile = plain[sot:sot + 6] + (14 + len(packets)).to_bytes(4, "big") + plain[sot + 10:sot + 14] + packets
    marked = head + tile + plain[sot + psot:]
    assert same_pixels(plain, marked, J2K_LOSSY)
    assert clean_codestream(marked, J2K_LOSSY, _geometry(arr)) == marked
    hidden = _tail(marked, marked.index(b"\xff\x90\x00\x0a"))
    assert clean_codestream(hidden, J2K_LOSSY, _geometry(arr)) == marked


def test_j2k_features_not_walked_are_refused() -> None:
    """A progression order change (POC, A.6.6) is not walked: refused, not trusted."""
    plain = _pil(_image(), "JPEG2000", no_jp2=True)
    sot = plain.index(b"\xff\x90")
    poc = b"\xff\x5f" + struct.pack(">HBBHBBB", 9, 0, 0, 1, 6, 1, 0)
    assert clean_codestream(plain[:sot] + poc + plain[sot:], J2K, (100, 120, 1, 8)) is None


def test_j2k_walk_that_ends_short_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    plain = _pil(_image(), "JPEG2000", no_jp2=True)
    real = codestream.used_lengths
    monkeypatch.setattr(codestream, "used_lengths", lambda m, p: [n // 2 for n in real(m, p) or []])
    assert clean_codestream(plain, J2K, (100, 120, 1, 8)) is None


# -------------------------------------------------------------------------------------------- JPEG-LS
@pytest.mark.parametrize(("near", "syntax"), [(0, JLS), (2, JLS_NEAR)])
@pytest.mark.parametrize("rgb", [False, True])
def test_jpegls_scan_is_proven_by_encoding_again(near: int, syntax: str, rgb: bool) -> None:
    """A clean scan is what its pixels encode to: kept byte for byte. Bytes after the last sample make
    CharLS (pydicom's JPEG-LS decoder) refuse the stream: refused here too, never kept."""
    jpeg_ls = pytest.importorskip("jpeg_ls")
    arr = _image(rgb)
    plain = bytes(jpeg_ls.encode_array(arr, lossy_error=near, interleave_mode=2 if rgb else None))
    assert clean_codestream(plain, syntax, _geometry(arr)) == plain
    hidden = plain[:-2] + JUNK + plain[-2:]
    out = clean_codestream(hidden, syntax, _geometry(arr))
    assert out is None or out == plain


@pytest.mark.parametrize(("near", "syntax"), [(0, JLS), (2, JLS_NEAR)])
def test_jpegls_scan_that_is_not_its_encoding_is_replaced_or_refused(near: int, syntax: str,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A scan that differs from the encoding of its pixels cannot be proven to hold nothing else: a
    lossless one is replaced by that encoding (the same pixels), a near-lossless one refused."""
    jpeg_ls = pytest.importorskip("jpeg_ls")
    arr = _image(True)
    plain = bytes(jpeg_ls.encode_array(arr, lossy_error=near, interleave_mode=2))
    real = jpeg_ls.encode_buffer
    monkeypatch.setattr(jpeg_ls, "encode_buffer", lambda *a, **k: real(*a, **{**k, "interleave_mode": 1}))
    out = clean_codestream(plain, syntax, _geometry(arr))
    if near:
        assert out is None
    else:
        assert out is not None and out != plain and same_pixels(out, plain, syntax)


# ------------------------------------------------------------------------------------ through redact
def _dataset(syntax: str, streams: list[bytes], arr: np.ndarray) -> pydicom.Dataset:
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import generate_uid

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = syntax
    ds.SOPClassUID, ds.SOPInstanceUID, ds.Modality = "1.2.840.10008.5.1.4.1.1.7", generate_uid(), "OT"
    ds.Rows, ds.Columns = arr.shape[:2]
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.NumberOfFrames = len(streams)
    ds.PixelData = encapsulate(streams)
    ds["PixelData"].VR, ds["PixelData"].is_undefined_length = "OB", True
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return pydicom.dcmread(io.BytesIO(buf.getvalue()))


def test_redacted_image_keeps_frames_without_a_box_without_their_tile_tails() -> None:
    """A lossless J2K image with a box on one frame: the other frames keep their codestreams (no second
    encoding), cut after their last packet."""
    from deid.pixels.frames import open_frames
    from deid.pixels.redact import fill_value, write_redacted

    arr = _image()
    plain = _pil(arr, "JPEG2000", no_jp2=True, irreversible=False)
    hidden = _tail(plain, _sots(plain)[0])
    ds = _dataset(J2K, [hidden, hidden, hidden], arr)
    frames = open_frames(ds)
    target = copy.deepcopy(ds)
    assert write_redacted(target, ds, frames, {1: [(0, 0, 8, 8)]}, fill_value(frames, ds)) == J2K
    out = bytes(target.PixelData)
    assert JUNK not in out
    kept = list(generate_frames(out, number_of_frames=3))
    assert kept[0] == kept[2] and kept[0] in (plain, plain + b"\x00")  # + its fragment's pad byte


def test_lossy_frames_no_walk_covers_are_written_from_their_pixels() -> None:
    """A progressive JPEG without a box cannot be proven clean: written from its decoded pixels in the
    lossy output syntax (Explicit VR Little Endian by default), marked lossy; nothing of it is kept."""
    from pydicom.uid import ExplicitVRLittleEndian

    arr = _image()
    stream = _pil(arr, "JPEG", quality=90, progressive=True)
    hidden = stream[:-2] + JUNK + stream[-2:]
    ds = _dataset(JPEG, [hidden], arr)
    del ds.NumberOfFrames
    target = copy.deepcopy(ds)
    assert clean_kept(target, ds, None) == ExplicitVRLittleEndian
    assert JUNK not in bytes(target.PixelData) and target.LossyImageCompression == "01"
    assert np.array_equal(decode_frames(target).pixels, decode_frames(ds).pixels)
