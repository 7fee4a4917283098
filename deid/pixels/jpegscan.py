"""Where a JPEG decoder stops reading a scan's entropy-coded data (ISO 10918-1 Annex F and H, PS3.5 A.4.1).

A decoder reads each restart interval's entropy-coded segment only as far as its last MCU needs; any
byte after that and before the next marker (RSTn, EOI, the next scan) is skipped, and the bits that pad
the last byte are ignored (F.1.2.3: they are 1s). Those bytes are a hidden channel: :func:`scan_used`
walks the Huffman codes of every MCU, without decoding a value, and returns the segment cut where the
decoder stops, its pad bits set to 1.

Walked: sequential Huffman scans (SOF0 baseline, SOF1 extended, 8 or 12 bits: Ss 0, Se 63, Ah Al 0) and
lossless Huffman scans (SOF3, process 14). Anything else (progressive SOF2, arithmetic SOF9-15,
hierarchical SOF5-7, a Number of Lines set by DNL, a code no table holds, data that ends before the
last MCU) is refused (None): the caller writes the frame from its decoded pixels instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

WALKED = frozenset({0xC0, 0xC1, 0xC3})
_RST = re.compile(rb"\xff[\xd0-\xd7]")
_LOSSLESS = 0xC3
# Lookups are built for this many bytes of a segment at a time, plus a margin longer than any MCU
# (10 blocks of 64 codes of at most 27 bits; lossless: 10 codes of at most 32 bits).
_CHUNK = 1 << 18
_MARGIN = 1 << 12


@dataclass(frozen=True)
class Component:
    """One frame header component (B.2.2): identifier, sampling factors and quantisation table."""

    ident: int
    h: int
    v: int
    tq: int


@dataclass(frozen=True)
class FrameHeader:
    """SOFn (B.2.2): the process, precision, lines, samples per line and components."""

    code: int
    precision: int
    lines: int
    columns: int
    components: tuple[Component, ...]


def frame_header(code: int, payload: bytes) -> FrameHeader | None:
    """The frame header of an SOFn payload; None when malformed."""
    if len(payload) < 6 or len(payload) != 6 + 3 * payload[5]:
        return None
    comps = tuple(Component(payload[6 + 3 * i], payload[7 + 3 * i] >> 4, payload[7 + 3 * i] & 0x0F,
                            payload[8 + 3 * i]) for i in range(payload[5]))
    if not comps or any(not (1 <= c.h <= 4 and 1 <= c.v <= 4) for c in comps):
        return None
    return FrameHeader(code, payload[0], int.from_bytes(payload[1:3], "big"),
                       int.from_bytes(payload[3:5], "big"), comps)


class _Table:
    """What the code starting at each bit position takes under one Huffman table (C.2, F.2.2.3), for
    every bit position of one segment: ``bits`` (code length + extra bits; 0 where no code starts)
    and, for an AC table, ``step`` (coefficients advanced: r + 1, ZRL 16, EOB 64)."""

    __slots__ = ("bits", "step")

    def __init__(self, bits: np.ndarray, step: np.ndarray, ac: bool) -> None:
        self.bits, self.step = bits.tobytes(), step.tobytes() if ac else b""


def _lookup(spec: bytes, ac: bool) -> tuple[np.ndarray, np.ndarray] | None:
    """Lookups from the next 16 bits to the bits and step of the code there (:class:`_Table`); None
    when the table is malformed (more codes than its lengths allow, a lossless SSSS above 16)."""
    counts, values = spec[1:17], spec[17:]
    bits, step = np.zeros(65536, np.uint8), np.zeros(65536, np.uint8)
    code, pos = 0, 0
    for length in range(1, 17):
        for _ in range(counts[length - 1]):
            if code >= 1 << length or pos >= len(values):
                return None
            value = values[pos]
            pos += 1
            if ac:
                run, size = value >> 4, value & 0x0F
                advance = run + 1 if size else (16 if run == 15 else 64)
            elif value > 16:
                return None
            else:
                size, advance = (0 if value == 16 else value), 1  # lossless SSSS 16: no extra bits (H.1.2.2)
            first, span = code << (16 - length), 1 << (16 - length)
            bits[first:first + span], step[first:first + span] = length + size, advance
            code += 1
        code <<= 1
    return bits, step


def _windows(data: bytes) -> np.ndarray:
    """The 16 bits starting at every bit position of ``data`` (zeros past its end)."""
    b = np.frombuffer(data + b"\x00\x00\x00", dtype=np.uint8).astype(np.uint32)
    n = len(data)
    w24 = (b[:n] << 16) | (b[1:n + 1] << 8) | b[2:n + 2]
    out = np.empty((n, 8), np.uint16)
    for k in range(8):
        out[:, k] = (w24 >> (8 - k)) & 0xFFFF
    return out.ravel()


def _walk(seg: bytes, specs: list[tuple[bytes, bytes | None]], mcus: int) -> int | None:
    """Bits the codes of ``mcus`` MCUs take in the unstuffed segment ``seg``; an MCU is one data unit
    for each of ``specs``: its DC (or lossless) table spec and AC table spec (None: lossless, one
    code a unit). None: a malformed table, a code no table holds, or more bits than ``seg`` has.

    The per-bit-position lookups are built for one chunk of ``seg`` at a time (:data:`_CHUNK` bytes and
    a margin longer than any MCU), so memory stays bounded whatever the frame's size."""
    lookups: dict[tuple[bytes, bool], tuple[np.ndarray, np.ndarray]] = {}
    for dc_spec, ac_spec in specs:
        for spec, is_ac in ((dc_spec, False), (ac_spec, True)):
            if spec is not None and (spec, is_ac) not in lookups:
                found = _lookup(spec, is_ac)
                if found is None:
                    return None
                lookups[spec, is_ac] = found
    limit, p, done = 8 * len(seg), 0, 0
    while done < mcus:
        first = p >> 3
        part = seg[first:first + _CHUNK + _MARGIN]
        edge = 8 * _CHUNK if first + len(part) < len(seg) else limit + 1  # the last chunk has no edge
        q = p - 8 * first
        walked = _walk_chunk(part, specs, lookups, mcus - done, q, edge)
        if walked is None:
            return None
        q, count = walked
        p, done = 8 * first + q, done + count
        if count == 0:
            return None
    return p if p <= limit else None


def _walk_chunk(part: bytes, specs: list[tuple[bytes, bytes | None]],
                lookups: dict[tuple[bytes, bool], tuple[np.ndarray, np.ndarray]], mcus: int, p: int,
                edge: int) -> tuple[int, int] | None:
    """Walk up to ``mcus`` MCUs of ``part`` from bit ``p`` while ``p`` is below ``edge``: the bit
    position reached and the MCUs walked; None: a code no table holds, or past the end of ``part``."""
    windows = _windows(part)
    made: dict[tuple[bytes, bool], _Table] = {}
    units: list[tuple[bytes, _Table | None]] = []
    for dc_spec, ac_spec in specs:
        pair: list[_Table] = []
        for spec, is_ac in ((dc_spec, False), (ac_spec, True)):
            if spec is None:
                continue
            if (spec, is_ac) not in made:
                bits, step = lookups[spec, is_ac]
                made[spec, is_ac] = _Table(bits[windows], step[windows], is_ac)
            pair.append(made[spec, is_ac])
        units.append((pair[0].bits, pair[1] if len(pair) > 1 else None))
    done = 0
    try:
        if len(units) == 1 and units[0][1] is None:  # lossless, one component: one code a sample
            dc = units[0][0]
            while done < mcus and p < edge:
                batch = min(64, mcus - done)  # 64 codes of at most 32 bits: within the margin
                for _ in range(batch):
                    a = dc[p]
                    if not a:
                        return None
                    p += a
                done += batch
            return p, done
        while done < mcus and p < edge:
            for dc, ac in units:
                a = dc[p]
                if not a:
                    return None
                p += a
                if ac is None:
                    continue
                acbits, acstep = ac.bits, ac.step
                k = 1
                while k < 64:
                    a = acbits[p]
                    if not a:
                        return None
                    k += acstep[p]
                    p += a
            done += 1
    except IndexError:  # past the end of the part
        return None
    return p, done


def _ceil(a: int, b: int) -> int:
    return -(-a // b)


def _mcu_layout(frame: FrameHeader, scan: list[Component], lossless: bool) -> tuple[list[int], int] | None:
    """Data units per MCU for each scan component and the number of MCUs (A.2)."""
    hmax, vmax = max(c.h for c in frame.components), max(c.v for c in frame.components)
    unit = 1 if lossless else 8
    if len(scan) == 1:  # non-interleaved: one data unit an MCU
        c = scan[0]
        cols, rows = _ceil(frame.columns * c.h, hmax), _ceil(frame.lines * c.v, vmax)
        return [1], _ceil(cols, unit) * _ceil(rows, unit)
    if sum(c.h * c.v for c in scan) > 10:
        return None
    return [c.h * c.v for c in scan], _ceil(frame.columns, unit * hmax) * _ceil(frame.lines, unit * vmax)


def _cut(stuffed: bytes, plain: bytes, bits: int) -> bytes:
    """The stuffed segment up to the byte holding its last used bit of the unstuffed ``plain``, its pad
    bits set to 1 (F.1.2.3) and a 00 stuffed after it when that makes it FF (F.1.2.3)."""
    used = _ceil(bits, 8)
    if used == 0:
        return b""
    body = stuffed[:used + plain.count(b"\xff", 0, used)]  # each FF of the data is followed by a stuffed 00
    if body.endswith(b"\xff\x00"):
        body = body[:-1]
    last = body[-1] | ((1 << (8 * used - bits)) - 1)
    return body[:-1] + bytes([last]) + (b"\x00" if last == 0xFF else b"")


def scan_used(frame: FrameHeader, sos: bytes, tables: dict[int, bytes], restart: int,
              data: bytes) -> bytes | None:
    """The entropy-coded data of one scan (``data``: from after its SOS segment to the next marker
    that is not RSTn) with every restart interval cut where the decoder stops (module docstring).
    ``tables`` maps (class << 4) | id to the DHT table spec current at this scan (B.2.4.2); ``restart``
    is the DRI interval (0: none). None: the scan cannot be walked."""
    if frame.code not in WALKED or frame.lines == 0 or frame.columns == 0 or not sos:
        return None
    ns = sos[0]
    if not 1 <= ns <= 4 or len(sos) != 4 + 2 * ns:
        return None
    ss, se, ahal = sos[1 + 2 * ns], sos[2 + 2 * ns], sos[3 + 2 * ns]
    lossless = frame.code == _LOSSLESS
    if lossless and (not 1 <= ss <= 7 or se or ahal >> 4):
        return None
    # sequential: Ss, Se, Ah, Al are 0, 63, 0, 0 (B.2.3); decoders ignore other values (libjpeg warns)
    # and decode the full block, so the walk does too (an encoder that wrote Se 0 still coded 63)
    del se
    by_id = {c.ident: c for c in frame.components}
    scan: list[Component] = []
    units: list[tuple[bytes, bytes | None]] = []
    layout_units: list[tuple[bytes, bytes | None]] = []
    for i in range(ns):
        comp = by_id.get(sos[1 + 2 * i])
        sel = sos[2 + 2 * i]
        if comp is None:
            return None
        dc_spec, ac_spec = tables.get(sel >> 4), tables.get(0x10 | (sel & 0x0F))
        if dc_spec is None or (not lossless and ac_spec is None):
            return None
        scan.append(comp)
        units.append((dc_spec, None if lossless else ac_spec))
    layout = _mcu_layout(frame, scan, lossless)
    if layout is None:
        return None
    per_unit, mcus = layout
    for (dc, ac), count in zip(units, per_unit, strict=True):
        layout_units += [(dc, ac)] * count
    intervals = _RST.split(data) if restart else [data]
    markers = [m.group() for m in _RST.finditer(data)] if restart else []
    expected = _ceil(mcus, restart) if restart else 1
    if len(intervals) < expected:
        return None
    out: list[bytes] = []  # RSTn markers after the last interval and what follows them: never read, dropped
    for i, seg in enumerate(intervals[:expected]):
        count = min(restart, mcus - i * restart) if restart else mcus
        plain = seg.replace(b"\xff\x00", b"\xff")
        bits = _walk(plain, layout_units, count)
        if bits is None:
            return None
        out.append(_cut(seg, plain, bits))
        if i < expected - 1:
            out.append(markers[i])
    return b"".join(out)
