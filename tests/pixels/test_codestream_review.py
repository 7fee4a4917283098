"""Review probes (sixth session) on deid/pixels/codestream.py: bytes a decoder skips inside the
codestream, not only after its end marker, are hidden channels too. A JPEG's bytes after the last MCU
and before EOI, a JPEG Huffman table no scan uses (an allowed DHT segment whose values are text), and a
JPEG 2000 tile-part's bytes after its packets (its Psot counting them) and a JPEG 2000 TLM/PLM segment
whose payload is text decode to the same pixels; ``clean_codestream`` must not keep them (the first
and third were kept until the seventh session's Huffman and packet walks, deid.pixels.jpegscan and
deid.pixels.j2kpackets; tests/pixels/test_codestream_walks.py has more)."""

from __future__ import annotations

import io

import numpy as np
import pytest

from deid.pixels.codestream import clean_codestream

JUNK = b"ZZLEAK Doe^Jane MRN 12345678"


def _pixels() -> np.ndarray:
    return (np.random.default_rng(1).random((64, 64)) * 255).astype(np.uint8)


def _jpeg() -> tuple[bytes, bytes, np.ndarray, np.ndarray]:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(_pixels(), "L").save(buf, "JPEG", quality=90)
    plain = buf.getvalue()
    hidden = plain[:-2] + JUNK + plain[-2:]  # before EOI (FFD9)
    decode = lambda b: np.asarray(Image.open(io.BytesIO(b)))  # noqa: E731
    return plain, hidden, decode(plain), decode(hidden)


def _jpeg_dht() -> tuple[bytes, bytes, np.ndarray, np.ndarray]:
    """An allowed segment carrying text: a Huffman table (DHT, AC table 3) no scan uses."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(_pixels(), "L").save(buf, "JPEG", quality=90)
    plain = buf.getvalue()
    body = bytes([0x13]) + bytes([0] * 7 + [len(JUNK)] + [0] * 8) + JUNK
    sos = plain.find(b"\xff\xda")
    hidden = plain[:sos] + b"\xff\xc4" + (2 + len(body)).to_bytes(2, "big") + body + plain[sos:]
    decode = lambda b: np.asarray(Image.open(io.BytesIO(b)))  # noqa: E731
    return plain, hidden, decode(plain), decode(hidden)


def _j2k() -> tuple[bytes, bytes, np.ndarray, np.ndarray]:
    openjpeg = pytest.importorskip("openjpeg")
    plain = bytes(openjpeg.encode(_pixels(), codec_format=0))
    sot = plain.find(b"\xff\x90\x00\x0a")
    psot = int.from_bytes(plain[sot + 6:sot + 10], "big")
    assert psot
    end = sot + psot
    hidden = plain[:sot + 6] + (psot + len(JUNK)).to_bytes(4, "big") + plain[sot + 10:end] + JUNK + plain[end:]
    return plain, hidden, openjpeg.decode(plain), openjpeg.decode(hidden)


def _j2k_tlm() -> tuple[bytes, bytes, np.ndarray, np.ndarray]:
    """An allowed main-header segment carrying text: a TLM (tile-part lengths) OpenJPEG does not need."""
    openjpeg = pytest.importorskip("openjpeg")
    plain = bytes(openjpeg.encode(_pixels(), codec_format=0))
    sot = plain.find(b"\xff\x90\x00\x0a")
    hidden = plain[:sot] + b"\xff\x55" + (4 + len(JUNK)).to_bytes(2, "big") + b"\x00\x00" + JUNK + plain[sot:]
    return plain, hidden, openjpeg.decode(plain), openjpeg.decode(hidden)


@pytest.mark.parametrize(("make", "syntax"), [
    pytest.param(_jpeg, "1.2.840.10008.1.2.4.50", id="jpeg-before-EOI"),
    pytest.param(_jpeg_dht, "1.2.840.10008.1.2.4.50", id="jpeg-unused-DHT"),
    pytest.param(_j2k, "1.2.840.10008.1.2.4.90", id="j2k-tile-part-tail"),
    pytest.param(_j2k_tlm, "1.2.840.10008.1.2.4.90", id="j2k-TLM")])
def test_bytes_the_decoder_skips_are_not_kept(make, syntax: str) -> None:  # type: ignore[no-untyped-def]
    plain, hidden, a, b = make()
    assert np.array_equal(a, b)  # the hidden bytes change nothing a viewer (or OCR) sees
    out = clean_codestream(hidden, syntax, (64, 64, 1, 8))
    assert out is not None and JUNK not in out  # cleaned in its own syntax, not written again
    assert np.array_equal(_decode(out, syntax), a)  # what is released decodes to the same pixels
    assert out == clean_codestream(plain, syntax, (64, 64, 1, 8)) == plain


def _decode(data: bytes, syntax: str) -> np.ndarray:
    if syntax.endswith(".50"):
        from PIL import Image

        return np.asarray(Image.open(io.BytesIO(data)))
    import openjpeg

    return np.asarray(openjpeg.decode(data))


def test_j2k_plt_is_dropped_and_psot_follows() -> None:
    """A PLT segment (packet lengths, ISO 15444-1 A.7.3) in a tile-part header is dropped and the
    tile-part's Psot reduced by its size: the codestream still decodes to the same pixels."""
    openjpeg = pytest.importorskip("openjpeg")
    plain = bytes(openjpeg.encode(_pixels(), codec_format=0))
    sot = plain.find(b"\xff\x90\x00\x0a")
    psot = int.from_bytes(plain[sot + 6:sot + 10], "big")
    plt = b"\xff\x58" + (3 + len(JUNK)).to_bytes(2, "big") + b"\x00" + JUNK
    hidden = (plain[:sot + 6] + (psot + len(plt)).to_bytes(4, "big") + plain[sot + 10:sot + 12] + plt
              + plain[sot + 12:])
    assert np.array_equal(openjpeg.decode(hidden), openjpeg.decode(plain))
    out = clean_codestream(hidden, "1.2.840.10008.1.2.4.90", (64, 64, 1, 8))
    assert out == plain
