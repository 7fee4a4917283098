"""Hidden channels in Pixel Data (7FE0,0010): bytes no decoder shows, so OCR never reads them.

A frame kept as it was (no box found, or a frame without a box in a redacted image) must carry only
what its decoded pixels show (PS3.15 E.3.1 Clean Pixel Data). What a decoder skips:

- JPEG (ISO 10918-1, PS3.5 A.4.1) and JPEG-LS (ISO 14495-1, A.4.3) comment (COM, FFFE) and application
  (APPn, FFE0-FFEF) marker segments, Huffman (DHT) and quantisation (DQT) tables no scan uses, and any
  byte after End of Image (EOI, FFD9);
- JPEG 2000 (ISO 15444-1, A.4.4; HTJ2K A.4.6) comment marker segments (COM, FF64), the optional pointer
  segments TLM, PLM and PLT (A.7), a JP2 file wrapper (boxes), and any byte after End of Codestream
  (EOC, FFD9);
- RLE Lossless (PS3.5 G): a segment's bytes after the run that completes it, and extra segments;
- native data: bits above High Bit (0028,0102) (retired embedded overlays, PS3.5 8.1.1 / 8.1.2) and
  bytes past Number of Frames (0028,0008) frames.

Inside coded data (seventh session): a decoder also skips a JPEG restart interval's bytes after its
last MCU (and the pad bits of its last byte), a JPEG 2000 tile's bytes after its last packet (a Psot that
counts them), a JPEG-LS scan's bytes after its last sample. They are found by walking the coded data
without decoding it: Huffman codes (:mod:`deid.pixels.jpegscan`), packet headers
(:mod:`deid.pixels.j2kpackets`), or, for JPEG-LS whose coding leaves an encoder no choice, by encoding
the decoded pixels again (:mod:`deid.pixels.jlsscan`). Every cut inside coded data is checked by
decoding both streams (:func:`same_pixels`). What no walk covers (progressive or arithmetic JPEG, JPEG
2000 POC / PPM / PPT / HTJ2K code-blocks, any other syntax) is refused: default deny.

:func:`clean_codestream` returns a frame's codestream with only marker segments on an allowed list
(others stripped when they do not change the decoded pixels, COM and APPn), cut at EOI/EOC; None when
a segment is unknown or decoding depends on one that is not in its plain form (the caller re-encodes
the decoded frame instead). :func:`native_hidden` says whether native Pixel Data holds hidden bits or
undeclared bytes.
"""

from __future__ import annotations

import re
import struct

import numpy as np
from pydicom.dataset import Dataset

from deid.pixels.j2kpackets import TilePart, used_lengths
from deid.pixels.jlsscan import scan_proven
from deid.pixels.jpegscan import FrameHeader, frame_header, scan_used

Geometry = tuple[int, int, int, int]  # rows, columns, samples per pixel, bits allocated

_JPEG_SYNTAXES = frozenset({"1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57",
                            "1.2.840.10008.1.2.4.70"})
_JPEGLS_SYNTAXES = frozenset({"1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81"})
_J2K_SYNTAXES = frozenset({"1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91", "1.2.840.10008.1.2.4.92",
                           "1.2.840.10008.1.2.4.93", "1.2.840.10008.1.2.4.201", "1.2.840.10008.1.2.4.202",
                           "1.2.840.10008.1.2.4.203"})
RLE_SYNTAX = "1.2.840.10008.1.2.5"

# ISO 10918-1 B.1.1.3: frame headers SOF0-3,5-7,9-11,13-15, DHT, DAC, DQT, DNL, DRI, DHP, EXP, SOS.
_JPEG_KEEP = frozenset({*range(0xC0, 0xC4), *range(0xC5, 0xC8), *range(0xC9, 0xCC), *range(0xCD, 0xD0),
                        0xC4, 0xCC, 0xDB, 0xDC, 0xDD, 0xDE, 0xDF, 0xDA})
# ISO 14495-1 C.1: SOF55, LSE, SOS, DRI.
_JPEGLS_KEEP = frozenset({0xF7, 0xF8, 0xDA, 0xDD})
# A marker after entropy-coded data: FF then a code that is not stuffing, fill or RSTn (fill bytes before
# it stay with the data: FF carries nothing). No "\xff+": it backtracks at every FF (30 ms a frame, not 0.4).
_JPEG_MARKER = re.compile(rb"\xff[\x01-\xcf\xd8-\xfe]")
_JPEGLS_MARKER = re.compile(rb"\xff[\x80-\xcf\xd8-\xfe]")  # FF then MSB 0 is a stuffed bit (A.1)
# ISO 15444-1 A.2 (and 15444-15 CAP, CPF): main header and tile-part header marker segments.
_J2K_MAIN = frozenset({0x50, 0x51, 0x52, 0x53, 0x55, 0x57, 0x59, 0x5C, 0x5D, 0x5E, 0x5F, 0x60, 0x63})
_J2K_TILE = frozenset({0x52, 0x53, 0x58, 0x5C, 0x5D, 0x5E, 0x5F, 0x61})
# ISO 15444-1 A.7.1-A.7.3: TLM, PLM, PLT are optional pointers (lengths of tile-parts and packets) a
# decoder may use to seek but never needs: their payload is free to carry anything, so they are dropped
# (a tile-part's Psot is reduced by the PLT bytes dropped). PPM/PPT hold packet headers: kept.
_J2K_POINTERS = frozenset({0x55, 0x57, 0x58})
_J2K_COM = 0x64
# The comment OpenJPEG writes into every codestream it encodes (pylibjpeg-openjpeg): kept, so that the
# frames this package encodes stay as they were; any other comment is stripped.
_OPENJPEG_COM = re.compile(rb"\x00\x01Created by OpenJPEG version [0-9.]{1,16}")


def clean_codestream(data: bytes, syntax: str, geometry: Geometry,
                     stored: tuple[int, bool] | None = None) -> bytes | None:
    """``data`` (one frame's codestream) with only allowed marker segments, cut at its end marker;
    None when it cannot be checked or cleaned without changing the decoded pixels (module docstring).
    ``stored``: Bits Stored (0028,0101) and whether values are signed, for the RLE high-bit check."""
    data = bytes(data)
    if syntax == RLE_SYNTAX:
        return _rle(data, geometry, stored)
    if syntax in _JPEG_SYNTAXES or syntax in _JPEGLS_SYNTAXES:
        found = _jpeg(data, ls=syntax in _JPEGLS_SYNTAXES)
    elif syntax in _J2K_SYNTAXES:
        found = _j2k(data)
    else:
        return None  # default deny: a syntax no walk proves (MPEG, HEVC, JPEG XL, ...) is written again
    if found is None:
        return None
    cleaned, cut = found
    if syntax in _JPEGLS_SYNTAXES:
        proven = scan_proven(cleaned)
        if proven is None:
            return None
        if proven is not cleaned:
            again = _jpeg(proven, ls=True)
            cleaned, cut = (again[0], True) if again is not None else (b"", False)
            if not cleaned:
                return None
    return cleaned if not cut or same_pixels(data, cleaned, syntax) else None


def same_pixels(a: bytes, b: bytes, syntax: str) -> bool:
    """Two codestreams of ``syntax`` decode to the same pixels (libjpeg, CharLS, OpenJPEG: the decoders
    pydicom uses); False when either cannot be decoded. The check behind every cut inside coded data:
    a walk that stopped short would change the pixels, and is refused instead."""
    try:
        if syntax in _JPEG_SYNTAXES:
            import libjpeg

            return bool(np.array_equal(libjpeg.decode(a), libjpeg.decode(b)))
        if syntax in _JPEGLS_SYNTAXES:
            import jpeg_ls

            return bytes(jpeg_ls.decode_buffer(a)[0]) == bytes(jpeg_ls.decode_buffer(b)[0])
        import openjpeg

        return bool(np.array_equal(openjpeg.decode(a), openjpeg.decode(b)))
    except Exception:  # noqa: BLE001 - a decoder missing or failing: not proven
        return False


def is_clean(data: bytes, cleaned: bytes) -> bool:
    """The codestream as it was is clean: nothing was stripped but, at most, one padding byte (00 or FF)."""
    return data == cleaned or (len(data) == len(cleaned) + 1 and data.startswith(cleaned) and data[-1] in (0, 255))


def _jpeg_app(code: int, payload: bytes, ls: bool) -> bool | None:
    """True: keep (a plain form decoding depends on), False: strip, None: decoding may depend on it."""
    if not ls and code == 0xE0 and payload.startswith(b"JFIF\x00"):  # JFIF without a thumbnail
        return True if len(payload) < 14 or (len(payload) == 14 and payload[12:14] == b"\x00\x00") else None
    if not ls and code == 0xEE and payload.startswith(b"Adobe"):  # colour transform flag (some are short)
        return True if len(payload) <= 12 else None
    if ls and code == 0xE8 and payload.startswith(b"mrfx"):  # HP colour transform
        return True if len(payload) == 5 else None
    return False


def _jpeg_kept(code: int, payload: bytes, ls: bool) -> bool | None:
    """A segment on the allowed list: True keep, False strip (a Huffman stream decodes without
    arithmetic conditioning, DAC), None refuse: hierarchical (DHP, EXP) and DNL streams are not
    walked, and a JPEG-LS LSE other than preset coding parameters (ISO 14495-1 C.2.4.1.1: mapping
    tables a scan may never select, oversize dimensions) is not proven by encoding again."""
    if ls:
        return code != 0xF8 or (len(payload) == 11 and payload[0] == 1) or None
    if code == 0xCC:
        return False
    return code not in (0xDC, 0xDE, 0xDF) or None


class _Table:
    """One table of a DHT (ISO 10918-1 B.2.4.2) or DQT (B.2.4.1) segment and whether a scan uses it."""

    __slots__ = ("data", "used")

    def __init__(self, data: bytes) -> None:
        self.data, self.used = data, False


def _dht_tables(payload: bytes) -> list[tuple[int, _Table]] | None:
    """The tables of a DHT payload as ((class << 4) | id, table); None when malformed."""
    tables, pos = [], 0
    while pos < len(payload):
        if pos + 17 > len(payload) or payload[pos] >> 4 > 1 or payload[pos] & 0x0F > 3:
            return None
        end = pos + 17 + sum(payload[pos + 1:pos + 17])
        if end > len(payload):
            return None
        tables.append((payload[pos], _Table(payload[pos:end])))
        pos = end
    return tables


def _dqt_tables(payload: bytes) -> list[tuple[int, _Table]] | None:
    """The tables of a DQT payload as (id, table) (B.2.4.1: Pq 0, 64 bytes; 1, 128); None when malformed."""
    tables, pos = [], 0
    while pos < len(payload):
        if payload[pos] >> 4 > 1 or payload[pos] & 0x0F > 3:
            return None
        end = pos + 1 + 64 * (1 + (payload[pos] >> 4))
        if end > len(payload):
            return None
        tables.append((payload[pos] & 0x0F, _Table(payload[pos:end])))
        pos = end
    return tables


def _mark_used(sos: bytes, huffman: dict[int, _Table], quant: dict[int, _Table],
               frame: FrameHeader | None) -> bool:
    """Mark the DC and AC tables the scan's components select (B.2.3) and their quantisation tables
    (B.2.2 Tq); False when SOS is malformed."""
    if not sos or len(sos) < 1 + 2 * sos[0]:
        return False
    tq = {c.ident: c.tq for c in frame.components} if frame is not None else {}
    for i in range(sos[0]):
        sel = sos[2 + 2 * i]
        for key in (sel >> 4, 0x10 | (sel & 0x0F)):
            if key in huffman:
                huffman[key].used = True
        table = tq.get(sos[1 + 2 * i])
        if table is not None and table in quant and frame is not None and frame.code != 0xC3:
            quant[table].used = True  # lossless (SOF3) uses no quantisation table (H.1)
    return True


_Chunk = bytes | tuple[int, list[_Table]]


def _joined(out: list[_Chunk]) -> bytes:
    """Output chunks with each DHT / DQT rebuilt from its tables a scan uses (none: the segment is dropped)."""
    parts: list[bytes] = []
    for chunk in out:
        if isinstance(chunk, bytes):
            parts.append(chunk)
            continue
        code, tables = chunk
        body = b"".join(t.data for t in tables if t.used)
        if body:
            parts.append(bytes([0xFF, code]) + (2 + len(body)).to_bytes(2, "big") + body)
    return b"".join(parts)


def _jpeg(data: bytes, ls: bool) -> tuple[bytes, bool] | None:
    """JPEG / JPEG-LS: SOI, allowed segments (COM and other APPn stripped; Huffman and quantisation
    tables no scan uses dropped, ISO 10918-1 B.2.4), scans, EOI; nothing after. A JPEG scan's
    entropy-coded data is cut where the decoder stops (:func:`deid.pixels.jpegscan.scan_used`); a scan
    that cannot be walked: None. JPEG-LS scans are checked by :func:`deid.pixels.jlsscan.scan_proven`."""
    if not data.startswith(b"\xff\xd8"):
        return None
    keep, marker = (_JPEGLS_KEEP, _JPEGLS_MARKER) if ls else (_JPEG_KEEP, _JPEG_MARKER)
    out: list[_Chunk] = [b"\xff\xd8"]
    pos, n = 2, len(data)
    huffman: dict[int, _Table] = {}
    quant: dict[int, _Table] = {}
    frame: FrameHeader | None = None
    restart, cut = 0, False
    while True:
        if pos >= n or data[pos] != 0xFF:
            return None
        while pos < n and data[pos] == 0xFF:  # fill bytes (B.1.1.2)
            pos += 1
        if pos + 1 > n:
            return None
        code = data[pos]
        pos += 1
        if code == 0xD9:
            out.append(b"\xff\xd9")
            return _joined(out), cut
        if pos + 2 > n:
            return None
        length = int.from_bytes(data[pos:pos + 2], "big")
        if length < 2 or pos + length > n:
            return None
        if code in keep:
            verdict: bool | None = _jpeg_kept(code, data[pos + 2:pos + length], ls)
        elif code == 0xFE:
            verdict = False
        elif 0xE0 <= code <= 0xEF:
            verdict = _jpeg_app(code, data[pos + 2:pos + length], ls)
        else:
            verdict = None
        if verdict is None:
            return None
        payload = data[pos + 2:pos + length]
        if code in (0xC4, 0xDB) and not ls:
            tables = _dht_tables(payload) if code == 0xC4 else _dqt_tables(payload)
            if tables is None:
                return None
            (huffman if code == 0xC4 else quant).update(tables)
            out.append((code, [t for _, t in tables]))
        elif verdict:
            if code == 0xDA and not ls and not _mark_used(payload, huffman, quant, frame):
                return None
            if not ls and code in _JPEG_KEEP and code not in (0xC4, 0xCC, 0xDA, 0xDB, 0xDC, 0xDD, 0xDE, 0xDF):
                if frame is not None:
                    return None  # a second frame header: hierarchical (B.3), not walked
                frame = frame_header(code, payload)
                if frame is None:
                    return None
            if code == 0xDD and not ls:
                restart = int.from_bytes(payload[:2], "big") if len(payload) == 2 else -1
            out.append(b"\xff" + bytes([code]) + data[pos:pos + length])
        pos += length
        if code == 0xDA:  # entropy-coded data runs to the next marker
            found = marker.search(data, pos)
            if found is None:
                return None
            if ls:
                out.append(data[pos:found.start()])
            else:
                used = None if frame is None or restart < 0 else scan_used(
                    frame, payload, {k: t.data for k, t in huffman.items()}, restart, data[pos:found.start()])
                if used is None:
                    return None
                cut = cut or used != data[pos:found.start()]
                out.append(used)
            pos = found.start()


def _j2k(data: bytes) -> tuple[bytes, bool] | None:
    """JPEG 2000 codestream: SOC, main header (COM stripped), tile-parts (COM there: None) each cut after
    the last packet its tile reads (:func:`deid.pixels.j2kpackets.used_lengths`; not walked: None), EOC."""
    if not data.startswith(b"\xff\x4f"):
        return None  # a JP2 file (boxes) or anything else
    out, pos, n = [b"\xff\x4f"], 2, len(data)
    main: list[tuple[int, bytes]] = []
    while True:  # main header, up to the first SOT
        if pos + 4 > n or data[pos] != 0xFF:
            return None
        code = data[pos + 1]
        if code == 0x90:
            break
        length = int.from_bytes(data[pos + 2:pos + 4], "big")
        if length < 2 or pos + 2 + length > n or (code not in _J2K_MAIN and code != _J2K_COM):
            return None
        main.append((code, data[pos + 4:pos + 2 + length]))
        if code in _J2K_POINTERS:
            pass
        elif code != _J2K_COM or _OPENJPEG_COM.fullmatch(data, pos + 4, pos + 2 + length):
            out.append(data[pos:pos + 2 + length])
        pos += 2 + length
    spans: list[tuple[int, int, int]] = []  # SOT, SOD end, tile-part end
    parts: list[TilePart] = []
    while data[pos:pos + 2] != b"\xff\xd9":  # tile-parts
        found = _tile_part(data, pos)
        if found is None:
            return None
        body, end, segments = found
        spans.append((pos, body, end))
        parts.append((int.from_bytes(data[pos + 4:pos + 6], "big"), segments, data[body:end]))
        pos = end
    used = used_lengths(main, parts)
    if used is None:
        return None
    for (start, body, _), read in zip(spans, used, strict=True):
        out.append(_without_pointers(data[start:body + read], body - start))
    out.append(b"\xff\xd9")
    return b"".join(out), any(read < len(part[2]) for read, part in zip(used, parts, strict=True))


def _without_pointers(part: bytes, header: int) -> bytes:
    """A tile-part (SOT to its SOD end ``header``, then its packet data cut where they are read) without
    its PLT segments, Psot set to what is left (0 stays 0: up to EOC)."""
    q, kept = 12, [part[:12]]
    while q < header - 2:
        size = int.from_bytes(part[q + 2:q + 4], "big")
        if part[q + 1] not in _J2K_POINTERS:
            kept.append(part[q:q + 2 + size])
        q += 2 + size
    kept.append(part[header - 2:])
    psot = int.from_bytes(part[6:10], "big")
    joined = b"".join(kept)
    return joined[:6] + (len(joined) if psot else 0).to_bytes(4, "big") + joined[10:]


def _tile_part(data: bytes, pos: int) -> tuple[int, int, list[tuple[int, bytes]]] | None:
    """The tile-part whose SOT is at ``pos``: where its packet data start (after SOD) and end (Psot,
    A.4.2; 0: up to EOC), and its header's marker segments; None when invalid."""
    n = len(data)
    if data[pos:pos + 4] != b"\xff\x90\x00\x0a" or pos + 12 > n:
        return None
    psot = int.from_bytes(data[pos + 6:pos + 10], "big")
    q = pos + 12
    segments: list[tuple[int, bytes]] = []
    while True:  # tile-part header, up to SOD
        if q + 2 > n or data[q] != 0xFF:
            return None
        if data[q + 1] == 0x93:
            q += 2
            break
        length = int.from_bytes(data[q + 2:q + 4], "big")
        if data[q + 1] not in _J2K_TILE or length < 2 or q + 2 + length > n:
            return None
        segments.append((data[q + 1], data[q + 4:q + 2 + length]))
        q += 2 + length
    if psot == 0:  # the last tile-part: packet data never holds FF followed by more than 8F (A.1)
        end = data.find(b"\xff\xd9", q)
        return (q, end, segments) if end >= 0 else None
    end = pos + psot
    return (q, end, segments) if q <= end <= n else None


def _segment_end(data: bytes, start: int, stop: int, size: int) -> int | None:
    """Where the PackBits runs from ``start`` have produced exactly ``size`` bytes (PS3.5 G.3.1)."""
    pos, made = start, 0
    while made < size:
        if pos >= stop:
            return None
        head = data[pos]
        if head < 128:
            made += head + 1
            pos += head + 2
        elif head > 128:
            made += 257 - head
            pos += 2
        else:
            pos += 1
    return pos if made == size and pos <= stop else None


def _unpacked(segment: bytes, size: int) -> np.ndarray:
    """A segment (validated by :func:`_segment_end`) decoded (PackBits, PS3.5 G.3.1)."""
    out, pos, made = [], 0, 0
    while made < size:
        head = segment[pos]
        if head < 128:
            out.append(segment[pos + 1:pos + head + 2])
            made, pos = made + head + 1, pos + head + 2
        elif head > 128:
            out.append(segment[pos + 1:pos + 2] * (257 - head))
            made, pos = made + 257 - head, pos + 2
        else:
            pos += 1
    return np.frombuffer(b"".join(out)[:size], np.uint8)


def _high_bits(msb: np.ndarray, used: int, signed: bool) -> bool:
    """Most significant bytes with bits above Bits Stored set (unsigned) or not the sign's extension
    (signed): ``used`` is how many of their low bits Bits Stored covers (PS3.5 8.1.1)."""
    if signed:
        top = msb.view(np.int8) >> (used - 1)
        return bool(((top != 0) & (top != -1)).any())
    return bool((msb >> used).any())


def _rle(data: bytes, geometry: Geometry, stored: tuple[int, bool] | None = None) -> bytes | None:
    """RLE Lossless: the expected number of segments, each cut where its runs complete the frame (and
    its zero padding byte kept, PS3.5 G.5), behind a rebuilt header (G.4). ``stored``: Bits Stored and
    signedness; a segment of most significant bytes (G.2) with bits above Bits Stored (decoders mask
    them, so OCR never sees them) is refused: the frame is encoded again from its decoded values."""
    rows, columns, samples, bits = geometry
    count = samples * (bits // 8)
    if bits % 8 or not 1 <= count <= 15 or len(data) < 64:
        return None
    header = struct.unpack("<16L", data[:64])
    offsets = list(header[1:1 + count])
    if header[0] != count or offsets[0] != 64 or any(header[1 + count:]):
        return None
    stops = [*offsets[1:], len(data)]
    segments: list[bytes] = []
    for start, stop in zip(offsets, stops, strict=True):
        end = _segment_end(data, start, stop, rows * columns) if start < stop else None
        if end is None:
            return None
        pad = (end - start) & 1 and end < stop and data[end] == 0  # its zero padding byte, when it has one
        segments.append(data[start:end + 1 if pad else end])
    width = bits // 8
    if stored is not None and stored[0] < bits:
        used = stored[0] - 8 * (width - 1)
        if used <= 0 or any(_high_bits(_unpacked(segments[i], rows * columns), used, stored[1])
                            for i in range(0, count, width)):
            return None
    starts, position = [], 64
    for seg in segments:
        starts.append(position)
        position += len(seg)
    return struct.pack("<16L", count, *starts, *[0] * (15 - count)) + b"".join(segments)


def _frame_bytes(ds: Dataset) -> int:
    rows, columns = int(ds.Rows), int(ds.Columns)
    samples, bits = int(ds.get("SamplesPerPixel", 1) or 1), int(ds.BitsAllocated)
    if str(ds.get("PhotometricInterpretation", "")).strip() == "YBR_FULL_422":
        return rows * columns * 2 * (bits // 8)  # two samples per pixel (PS3.3 C.7.6.3.1.2)
    return rows * columns * samples * bits // 8 if bits >= 8 else -(-rows * columns * samples * bits // 8)


def native_hidden(ds: Dataset, frames: int, little_endian: bool, chunk: int = 1 << 24) -> bool:
    """Native Pixel Data holds what its ``frames`` declared frames do not show: more bytes than they
    take (beyond one zero padding byte, PS3.5 8.1.1), or bits above High Bit (0028,0102): unsigned
    values with any of them set, signed values not sign extended (PS3.5 8.1.1, 8.2)."""
    raw = memoryview(ds.PixelData).cast("B")
    bits, stored = int(ds.BitsAllocated), int(ds.BitsStored)
    frame_len = _frame_bytes(ds)
    if bits == 1:  # bit-packed: no bits above High Bit; frames end on bits, not bytes
        need = -(-int(ds.Rows) * int(ds.Columns) * int(ds.get("SamplesPerPixel", 1) or 1) * frames // 8)
    else:
        need = frame_len * frames
    if len(raw) > need + 1 or (len(raw) == need + 1 and (need % 2 == 0 or raw[need] != 0)):
        return True
    if bits == 1:  # the last byte's bits past the last pixel (packed from the low bit, PS3.5 8.1.1)
        used = int(ds.Rows) * int(ds.Columns) * int(ds.get("SamplesPerPixel", 1) or 1) * frames % 8
        return bool(used and len(raw) >= need and raw[need - 1] >> used)
    if bits not in (8, 16, 32) or stored >= bits:
        return False
    signed = int(ds.get("PixelRepresentation", 0) or 0) == 1
    kind = f"{'<' if little_endian else '>'}{'i' if signed else 'u'}{bits // 8}"
    size = bits // 8
    step = max(chunk // size, 1) * size
    limit = min(len(raw), need) // size * size
    for start in range(0, limit, step):
        values = np.frombuffer(raw[start:min(start + step, limit)], dtype=kind)
        if signed:
            high = values >> (stored - 1)
            if ((high != 0) & (high != -1)).any():
                return True
        elif (values >> stored).any():
            return True
    return False
