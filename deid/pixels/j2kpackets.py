"""Where a JPEG 2000 decoder stops reading a tile's packets (ISO 15444-1 Annex B, PS3.5 A.4.4).

A tile-part's length (Psot, A.4.2) may count bytes after the last packet of its tile: a decoder reads
the tile's packets (B.9, B.10) in progression order (B.12) and never reads what follows the last one.
Those bytes are a hidden channel. :func:`used_lengths` walks the packet headers of every tile (tag
trees, coding passes, codeword segment lengths, SOP / EPH markers) without decoding a code-block, and
returns how many bytes of each tile-part's packet data the decoder reads.

Walked: every progression order, precinct partition, component sub-sampling and tiling of Part 1
without POC, PPM or PPT, code-block styles without the HT flag (selective arithmetic coding bypass and
termination on each pass change the codeword segments, B.10.7.2: walked). Anything else (POC, packed
packet headers, HTJ2K code-blocks, a header that runs past its data) is refused (None): the caller
writes the frame from its decoded pixels instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field

_BIG = 1 << 30
_LRCP, _RLCP, _RPCL, _PCRL, _CPRL = range(5)
_LAZY, _TERMALL, _HT = 0x01, 0x04, 0x40


class _Refused(Exception):
    """The codestream cannot be walked (a feature not walked, or a header that does not fit)."""


@dataclass(frozen=True)
class Siz:
    """SIZ (A.5.1): image and tile grid, component sub-sampling."""

    x1: int
    y1: int
    x0: int
    y0: int
    xt: int
    yt: int
    xt0: int
    yt0: int
    dx: tuple[int, ...]
    dy: tuple[int, ...]
    precision: tuple[int, ...]


@dataclass(frozen=True)
class Coding:
    """A component's coding style (COD / COC SPcod, A.6.1-A.6.2): decomposition levels, code-block
    size exponents, code-block style and the precinct size exponents of each resolution."""

    levels: int
    xcb: int
    ycb: int
    style: int
    precincts: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Style:
    """COD Scod / SGcod (A.6.1): SOP and EPH use, progression order and number of layers."""

    sop: bool
    eph: bool
    order: int
    layers: int


def parse_siz(payload: bytes) -> Siz | None:
    if len(payload) < 38:
        return None
    v = [int.from_bytes(payload[2 + 4 * i:6 + 4 * i], "big") for i in range(8)]
    count = int.from_bytes(payload[34:36], "big")
    if len(payload) != 36 + 3 * count or not count:
        return None
    comps = [payload[36 + 3 * i:39 + 3 * i] for i in range(count)]
    if any(c[1] == 0 or c[2] == 0 for c in comps) or not v[4] or not v[5]:
        return None
    return Siz(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], tuple(c[1] for c in comps),
               tuple(c[2] for c in comps), tuple((c[0] & 0x7F) + 1 for c in comps))


def _coding(sp: bytes, with_precincts: bool) -> Coding | None:
    """SPcod / SPcoc (Table A.15): levels, xcb, ycb, style, transform, precinct sizes."""
    if len(sp) < 5:
        return None
    levels, xcb, ycb, style = sp[0], sp[1] + 2, sp[2] + 2, sp[3]
    if levels > 32 or xcb > 10 or ycb > 10 or xcb + ycb > 12:
        return None
    if with_precincts:
        if len(sp) != 5 + levels + 1:
            return None
        precincts = tuple((b & 0x0F, b >> 4) for b in sp[5:])
        if any((px == 0 or py == 0) for px, py in precincts[1:]):
            return None
    else:
        if len(sp) != 5:
            return None
        precincts = tuple((15, 15) for _ in range(levels + 1))
    return Coding(levels, xcb, ycb, style, precincts)


def parse_cod(payload: bytes) -> tuple[Style, Coding] | None:
    if len(payload) < 10:
        return None
    scod = payload[0]
    coding = _coding(payload[5:], bool(scod & 1))
    if coding is None or payload[1] > 4:
        return None
    return Style(bool(scod & 2), bool(scod & 4), payload[1], int.from_bytes(payload[2:4], "big")), coding


def parse_coc(payload: bytes, components: int) -> tuple[int, Coding] | None:
    width = 1 if components < 257 else 2
    if len(payload) < width + 1:
        return None
    comp = int.from_bytes(payload[:width], "big")
    coding = _coding(payload[width + 1:], bool(payload[width] & 1))
    return None if coding is None or comp >= components else (comp, coding)


class _Bits:
    """Packet header bits (B.10.1): an FF byte's next byte carries 7 bits (its MSB is a stuffed 0)."""

    __slots__ = ("buf", "ct", "data", "end", "pos")

    def __init__(self, data: bytes, pos: int, end: int) -> None:
        self.data, self.pos, self.end, self.buf, self.ct = data, pos, end, 0, 0

    def bit(self) -> int:
        if self.ct == 0:
            self.buf = (self.buf << 8) & 0xFFFF
            self.ct = 7 if self.buf == 0xFF00 else 8
            if self.pos >= self.end:
                raise _Refused
            self.buf |= self.data[self.pos]
            self.pos += 1
        self.ct -= 1
        return (self.buf >> self.ct) & 1

    def bits(self, n: int) -> int:
        v = 0
        for _ in range(n):
            v = (v << 1) | self.bit()
        return v

    def align(self) -> int:
        """End the header (B.10.1): a last FF byte is followed by one more; the position after it."""
        if self.buf & 0xFF == 0xFF:
            if self.pos >= self.end:
                raise _Refused
            self.pos += 1
        self.ct = 0
        return self.pos


class _TagTree:
    """A tag tree (B.10.2) over a w x h grid of code-blocks."""

    def __init__(self, w: int, h: int) -> None:
        self.widths: list[int] = []
        while True:
            self.widths.append(w)
            if w * h <= 1:
                break
            w, h = (w + 1) // 2, (h + 1) // 2
        self.value: list[dict[int, int]] = [{} for _ in self.widths]
        self.low: list[dict[int, int]] = [{} for _ in self.widths]

    def decode(self, bits: _Bits, x: int, y: int, threshold: int) -> bool:
        """Whether the leaf's value is below ``threshold`` (reading the bits that tell)."""
        path = []
        for level, width in enumerate(self.widths):
            path.append((level, y * width + x))
            x, y = x // 2, y // 2
        low = 0
        for level, idx in reversed(path):
            lows, values = self.low[level], self.value[level]
            node_low = lows.get(idx, 0)
            if low > node_low:
                node_low = low
            else:
                low = node_low
            value = values.get(idx, _BIG)
            while low < threshold and low < value:
                if bits.bit():
                    value = low
                else:
                    low += 1
            values[idx], lows[idx] = value, low
        return self.value[0][path[0][1]] < threshold


@dataclass
class _Block:
    """A code-block's state across layers (B.10.4-B.10.7): included yet, Lblock, its segments'
    pass counts and maximum passes."""

    included: bool = False
    lblock: int = 3
    segments: list[list[int]] = field(default_factory=list)  # [passes, max passes]


@dataclass
class _Precinct:
    """The code-blocks of one precinct of one sub-band: grid size, tag trees, states."""

    cw: int
    ch: int
    inclusion: _TagTree
    msb: _TagTree
    blocks: list[_Block]


def _ceildiv(a: int, b: int) -> int:
    return -(-a // b)


def _passes(bits: _Bits) -> int:
    """Number of coding passes (Table B.4)."""
    if not bits.bit():
        return 1
    if not bits.bit():
        return 2
    v = bits.bits(2)
    if v < 3:
        return 3 + v
    v = bits.bits(5)
    if v < 31:
        return 6 + v
    return 37 + bits.bits(7)


def _new_segment(block: _Block, style: int) -> None:
    """Open a codeword segment (B.10.7.2; OpenJPEG opj_t2_init_seg): one pass each with termination
    on each pass, 10 then 2 / 1 alternately with selective bypass, else unbounded."""
    if style & _TERMALL:
        most = 1
    elif style & _LAZY:
        most = 10 if not block.segments else (2 if block.segments[-1][1] in (1, 10) else 1)
    else:
        most = 109
    block.segments.append([0, most])


class _Tile:
    """One tile's geometry and packet-header state (B.5-B.7, B.10)."""

    def __init__(self, siz: Siz, index: int, style: Style, codings: list[Coding]) -> None:
        tiles_x = _ceildiv(siz.x1 - siz.xt0, siz.xt)
        p, q = index % tiles_x, index // tiles_x
        self.tx0, self.ty0 = max(siz.xt0 + p * siz.xt, siz.x0), max(siz.yt0 + q * siz.yt, siz.y0)
        self.tx1, self.ty1 = min(siz.xt0 + (p + 1) * siz.xt, siz.x1), min(siz.yt0 + (q + 1) * siz.yt, siz.y1)
        if self.tx0 >= self.tx1 or self.ty0 >= self.ty1:
            raise _Refused
        self.siz, self.style, self.codings = siz, style, codings
        self.res: dict[tuple[int, int], tuple[int, int, int, int, int, int]] = {}  # x0, y0, x1, y1, pw, ph
        for c, coding in enumerate(codings):
            if coding.style & _HT or coding.style & ~0x3F:
                raise _Refused
            cx0, cy0 = _ceildiv(self.tx0, siz.dx[c]), _ceildiv(self.ty0, siz.dy[c])
            cx1, cy1 = _ceildiv(self.tx1, siz.dx[c]), _ceildiv(self.ty1, siz.dy[c])
            for r in range(coding.levels + 1):
                lv = coding.levels - r
                x0, y0 = _ceildiv(cx0, 1 << lv), _ceildiv(cy0, 1 << lv)
                x1, y1 = _ceildiv(cx1, 1 << lv), _ceildiv(cy1, 1 << lv)
                px, py = coding.precincts[r]
                pw = 0 if x0 == x1 else _ceildiv(x1, 1 << px) - (x0 >> px)
                ph = 0 if y0 == y1 else _ceildiv(y1, 1 << py) - (y0 >> py)
                self.res[c, r] = (x0, y0, x1, y1, pw, ph)
        self.comp_box = [(_ceildiv(self.tx0, siz.dx[c]), _ceildiv(self.ty0, siz.dy[c]),
                          _ceildiv(self.tx1, siz.dx[c]), _ceildiv(self.ty1, siz.dy[c])) for c in range(len(codings))]
        self.precincts: dict[tuple[int, int, int], list[_Precinct]] = {}

    def _bands(self, c: int, r: int, prec: int) -> list[_Precinct]:
        """The precinct ``prec`` of resolution ``r`` of component ``c``, one entry per sub-band (B.6, B.7)."""
        key = (c, r, prec)
        if key in self.precincts:
            return self.precincts[key]
        coding = self.codings[c]
        cx0, cy0, cx1, cy1 = self.comp_box[c]
        rx0, ry0, _, _, pw, _ = self.res[c, r]
        px, py = coding.precincts[r]
        prc_x = (rx0 >> px) << px
        prc_y = (ry0 >> py) << py
        if r == 0:
            start_x, start_y, gx, gy = prc_x, prc_y, px, py
        else:
            start_x, start_y, gx, gy = _ceildiv(prc_x, 2), _ceildiv(prc_y, 2), px - 1, py - 1
        xcb, ycb = min(coding.xcb, gx), min(coding.ycb, gy)
        lv = coding.levels - r
        out = []
        for band in ((0,) if r == 0 else (1, 2, 3)):
            xo, yo = band & 1, band >> 1
            nb = lv if r == 0 else lv + 1
            bx0 = _ceildiv(cx0 - (xo << nb >> 1), 1 << nb)
            by0 = _ceildiv(cy0 - (yo << nb >> 1), 1 << nb)
            bx1 = _ceildiv(cx1 - (xo << nb >> 1), 1 << nb)
            by1 = _ceildiv(cy1 - (yo << nb >> 1), 1 << nb)
            gx0 = start_x + (prec % pw) * (1 << gx)
            gy0 = start_y + (prec // pw) * (1 << gy)
            x0, y0 = max(gx0, bx0), max(gy0, by0)
            x1, y1 = min(gx0 + (1 << gx), bx1), min(gy0 + (1 << gy), by1)
            if x0 >= x1 or y0 >= y1:
                cw = ch = 0
            else:
                cw = _ceildiv(x1, 1 << xcb) - (x0 >> xcb)
                ch = _ceildiv(y1, 1 << ycb) - (y0 >> ycb)
            out.append(_Precinct(cw, ch, _TagTree(max(cw, 1), max(ch, 1)), _TagTree(max(cw, 1), max(ch, 1)),
                                 [_Block() for _ in range(cw * ch)]))
        self.precincts[key] = out
        return out

    def packet(self, data: bytes, pos: int, end: int, layer: int, c: int, r: int, prec: int) -> int:
        """Read one packet (B.9, B.10) at ``pos``; the position after its body."""
        if self.style.sop and data[pos:pos + 2] == b"\xff\x91":
            pos += 6
        bits = _Bits(data, pos, end)
        bands = self._bands(c, r, prec)
        style = self.codings[c].style
        body = 0
        pending: list[tuple[_Block, list[int]]] = []
        if bits.bit():
            for band in bands:
                for i, block in enumerate(band.blocks):
                    x, y = i % band.cw, i // band.cw
                    if block.included:
                        if not bits.bit():
                            continue
                    else:
                        if not band.inclusion.decode(bits, x, y, layer + 1):
                            continue
                        zero = 0
                        while not band.msb.decode(bits, x, y, zero):
                            zero += 1
                            if zero > 74:
                                raise _Refused
                    new = _passes(bits)
                    while bits.bit():
                        block.lblock += 1
                        if block.lblock > 32:
                            raise _Refused
                    if not block.segments or block.segments[-1][0] == block.segments[-1][1]:
                        _new_segment(block, style)
                    added: list[int] = []
                    seg = len(block.segments) - 1
                    while new > 0:
                        passes = min(block.segments[seg][1] - block.segments[seg][0], new)
                        if passes <= 0:
                            raise _Refused
                        length = bits.bits(block.lblock + passes.bit_length() - 1)
                        body += length
                        added.append(passes)
                        new -= passes
                        if new > 0:
                            _new_segment(block, style)
                            seg += 1
                    block.included = True
                    pending.append((block, added))
        pos = bits.align()
        if self.style.eph:
            if data[pos:pos + 2] != b"\xff\x92":
                raise _Refused
            pos += 2
        for block, added in pending:  # the passes count once the header is read (OpenJPEG does the same)
            first = len(block.segments) - len(added)
            for j, passes in enumerate(added):
                block.segments[first + j][0] += passes
        if pos + body > end:
            raise _Refused
        return pos + body

    def order(self) -> list[tuple[int, int, int, int]]:
        """(layer, component, resolution, precinct) of every packet in progression order (B.12)."""
        layers, comps = self.style.layers, len(self.codings)
        res_max = max(c.levels for c in self.codings) + 1
        counts = {key: v[4] * v[5] for key, v in self.res.items()}
        out: list[tuple[int, int, int, int]] = []
        order = self.style.order
        if order == _LRCP:
            for la in range(layers):
                for r in range(res_max):
                    for c in range(comps):
                        out += [(la, c, r, k) for k in range(counts.get((c, r), 0))]
        elif order == _RLCP:
            for r in range(res_max):
                for la in range(layers):
                    for c in range(comps):
                        out += [(la, c, r, k) for k in range(counts.get((c, r), 0))]
        else:
            out = self._position_order(order, layers, comps, res_max)
        return out

    def _position_order(self, order: int, layers: int, comps: int, res_max: int) -> list[tuple[int, int, int, int]]:
        """RPCL, PCRL and CPRL: precincts met in raster order of their positions on the reference grid
        (B.12.1.3-B.12.1.5; OpenJPEG opj_pi_next_rpcl / pcrl / cprl)."""
        siz = self.siz
        out: list[tuple[int, int, int, int]] = []

        def steps(cs: list[int]) -> tuple[int, int]:
            dx = dy = 0
            for c in cs:
                coding = self.codings[c]
                for r in range(coding.levels + 1):
                    px, py = coding.precincts[r]
                    sx = siz.dx[c] << (px + coding.levels - r)
                    sy = siz.dy[c] << (py + coding.levels - r)
                    dx, dy = (sx if not dx else min(dx, sx)), (sy if not dy else min(dy, sy))
            return dx, dy

        def precinct(c: int, r: int, x: int, y: int) -> int | None:
            coding = self.codings[c]
            if r > coding.levels:
                return None
            lv = coding.levels - r
            trx0, try0 = _ceildiv(self.tx0, siz.dx[c] << lv), _ceildiv(self.ty0, siz.dy[c] << lv)
            trx1, try1 = _ceildiv(self.tx1, siz.dx[c] << lv), _ceildiv(self.ty1, siz.dy[c] << lv)
            px, py = coding.precincts[r]
            rpx, rpy = px + lv, py + lv
            if not (y % (siz.dy[c] << rpy) == 0 or (y == self.ty0 and (try0 << lv) % (1 << rpy))):
                return None
            if not (x % (siz.dx[c] << rpx) == 0 or (x == self.tx0 and (trx0 << lv) % (1 << rpx))):
                return None
            _, _, _, _, pw, ph = self.res[c, r]
            if pw == 0 or ph == 0 or trx0 == trx1 or try0 == try1:
                return None
            prci = (_ceildiv(x, siz.dx[c] << lv) >> px) - (trx0 >> px)
            prcj = (_ceildiv(y, siz.dy[c] << lv) >> py) - (try0 >> py)
            return prci + prcj * pw

        def positions(dx: int, dy: int) -> list[tuple[int, int]]:
            pts, y = [], self.ty0
            while y < self.ty1:
                x = self.tx0
                while x < self.tx1:
                    pts.append((x, y))
                    x += dx - (x % dx)
                y += dy - (y % dy)
            return pts

        def emit(c: int, r: int, x: int, y: int) -> None:
            k = precinct(c, r, x, y)
            if k is not None:
                out.extend((la, c, r, k) for la in range(layers))

        if order == _RPCL:
            pts = positions(*steps(list(range(comps))))
            for r in range(res_max):
                for x, y in pts:
                    for c in range(comps):
                        emit(c, r, x, y)
        elif order == _PCRL:
            for x, y in positions(*steps(list(range(comps)))):
                for c in range(comps):
                    for r in range(res_max):
                        emit(c, r, x, y)
        else:
            for c in range(comps):
                for x, y in positions(*steps([c])):
                    for r in range(res_max):
                        emit(c, r, x, y)
        return out


TilePart = tuple[int, list[tuple[int, bytes]], bytes]  # Isot, header segments (code, payload), packet data


def used_lengths(main: list[tuple[int, bytes]], parts: list[TilePart]) -> list[int] | None:
    """Bytes of each tile-part's packet data a decoder reads (module docstring); None: not walked.

    ``main``: the main header's marker segments (code, payload) in order; ``parts``: every tile-part in
    codestream order. A tile's packets run across its tile-parts; every tile-part but the one its last
    packet ends in must be read whole."""
    try:
        return _used_lengths(main, parts)
    except (_Refused, IndexError, ZeroDivisionError):
        return None


def _used_lengths(main: list[tuple[int, bytes]], parts: list[TilePart]) -> list[int] | None:
    siz, cod = None, None
    coc: dict[int, Coding] = {}
    for code, payload in main:
        if code == 0x51:
            siz = parse_siz(payload)
        elif code == 0x52:
            cod = parse_cod(payload)
            if cod is None:
                return None
        elif code == 0x53:
            if siz is None:
                return None
            found = parse_coc(payload, len(siz.dx))
            if found is None:
                return None
            coc[found[0]] = found[1]
        elif code in (0x5F, 0x60, 0x61):  # POC, PPM, PPT
            return None
    if siz is None or cod is None:
        return None
    tiles: dict[int, list[int]] = {}
    for i, (isot, _, _) in enumerate(parts):
        tiles.setdefault(isot, []).append(i)
    used = [0] * len(parts)
    tiles_x, tiles_y = _ceildiv(siz.x1 - siz.xt0, siz.xt), _ceildiv(siz.y1 - siz.yt0, siz.yt)
    for isot, idx in tiles.items():
        if isot >= tiles_x * tiles_y:
            return None
        style, base = cod
        comps = dict(coc)
        codings = [base] * len(siz.dx)
        for code, payload in parts[idx[0]][1]:  # COD / COC of the tile: in its first tile-part (A.4.2)
            if code == 0x52:
                found_cod = parse_cod(payload)
                if found_cod is None:
                    return None
                style, base = found_cod
                codings = [base] * len(siz.dx)
                comps = {}
            elif code == 0x53:
                found = parse_coc(payload, len(siz.dx))
                if found is None:
                    return None
                comps[found[0]] = found[1]
            elif code in (0x5F, 0x61):
                return None
        for i in idx[1:]:
            if any(code in (0x52, 0x53, 0x5F, 0x61) for code, _ in parts[i][1]):
                return None
        for c, coding in comps.items():
            codings[c] = coding
        tile = _Tile(siz, isot, style, codings)
        data = b"".join(parts[i][2] for i in idx)
        pos = 0
        for layer, c, r, k in tile.order():
            pos = tile.packet(data, pos, len(data), layer, c, r, k)
        start = 0
        for i in idx:  # where the walk ends: the tile-parts before it read whole, none after it
            used[i] = max(0, min(len(parts[i][2]), pos - start))
            start += len(parts[i][2])
        if len([i for i in idx if used[i] < len(parts[i][2])]) > 1:
            return None
    return used
