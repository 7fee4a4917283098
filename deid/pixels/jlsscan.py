"""Proof that a JPEG-LS scan holds only what its pixels need (ISO 14495-1, PS3.5 A.4.3).

JPEG-LS coding leaves an encoder no choice once its parameters are set (A.2-A.7: the context model,
prediction, Golomb codes and run mode are normative): the same pixels, NEAR, interleave mode and
preset parameters give the same scan bits. A scan's bytes after the last coded sample (before EOI or
the next scan) are never read by a decoder and are a hidden channel; :func:`scan_proven` decodes the
codestream, encodes the pixels again with its parameters (CharLS, the decoder pydicom uses) and keeps
the original only when each scan is that encoding (or starts with it: the rest is cut). Otherwise a
lossless codestream is replaced by the new encoding (the same pixels, no original byte), and a
near-lossless one is refused (None: the caller writes the frame from its decoded pixels).
"""

from __future__ import annotations

import re

_SCAN_END = re.compile(rb"\xff[\x80-\xcf\xd8-\xfe]")  # a marker: FF then MSB 1 (FF then MSB 0 is data, A.1)


def _scans(stream: bytes) -> list[tuple[int, int]] | None:
    """(start, end) of each scan's coded data: from after its SOS segment to the next marker."""
    pos, n = 2, len(stream)
    out: list[tuple[int, int]] = []
    while pos + 2 <= n and stream[pos] == 0xFF:
        code = stream[pos + 1]
        if code == 0xD9:
            return out
        if pos + 4 > n:
            return None
        length = int.from_bytes(stream[pos + 2:pos + 4], "big")
        pos += 2 + length
        if code == 0xDA:
            found = _SCAN_END.search(stream, pos)
            if found is None:
                return None
            out.append((pos, found.start()))
            pos = found.start()
    return None


def scan_proven(stream: bytes) -> bytes | None:
    """``stream`` (a JPEG-LS codestream, marker segments already cleaned) when its scans are exactly
    what its pixels encode to, cut where they are when they hold more, a new lossless encoding when
    they differ, None when a near-lossless stream differs or cannot be checked (module docstring)."""
    try:
        import jpeg_ls

        pixels, meta = jpeg_ls.decode_buffer(stream)
        near = int(meta["allowed_lossy_error"])
        again = bytes(jpeg_ls.encode_buffer(bytes(pixels), meta["height"], meta["width"], meta["components"],
                                            meta["bits_per_sample"], lossy_error=near,
                                            interleave_mode=meta["interleave_mode"]))
    except Exception:  # noqa: BLE001 - no CharLS, or a stream it cannot decode or encode: not proven
        return None
    ours, theirs = _scans(stream), _scans(again)
    if ours is None or theirs is None:
        return None
    if len(ours) == len(theirs) and all(stream[a:b].startswith(again[c:d])
                                        for (a, b), (c, d) in zip(ours, theirs, strict=True)):
        if all(b - a == d - c for (a, b), (c, d) in zip(ours, theirs, strict=True)):
            return stream
        parts, last = [], 0
        for (a, b), (c, d) in zip(ours, theirs, strict=True):
            parts += [stream[last:a], again[c:d]]
            last = b
        return b"".join(parts) + stream[last:]
    return again if near == 0 else None
