"""PS3.10 file writing, byte for byte pydicom's ``dcmwrite(fh, ds, enforce_file_format=True)``, faster.

pydicom's writer encodes every element through a fresh in-memory buffer (two struct packers made per
element) and a run of checks, even an element still holding the bytes it was read with. The header
engine keeps most elements exactly as read (PS3.15 E.1: K), never converted: this writer copies those
from their bytes (tag, VR, length as PS3.5 7.1.2/7.1.3 lay them out, then the value) and hands every
other element, and every case it does not reproduce exactly, to pydicom's own functions:

* a data set pydicom would re-encode (another transfer syntax or character set than it was read
  with, PS3.5 6.1.2.3) is written whole by pydicom's ``write_dataset``;
* converted elements (values the engine changed), undefined-length raw values, values too long for
  a 16-bit length, VRs outside PS3.5 Table 6.2-1 and buffered values go to ``write_data_element``;
* a deflated transfer syntax (never written by :func:`deid.dicomio.write_dicom_to`) goes to ``dcmwrite``.

Sequences (PS3.5 7.5) are written item by item with the same lengths and delimiters pydicom writes.
``tests/test_filewrite.py`` compares the bytes with pydicom's writer on real files and an export.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from copy import copy, deepcopy
from typing import BinaryIO, cast

from pydicom import config
from pydicom.charset import convert_encodings, default_encoding
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filebase import DicomBytesIO, DicomIO
from pydicom.filewriter import (
    _determine_encoding,
    validate_file_meta,
    write_data_element,
    write_dataset,
    writers,
)
from pydicom.tag import ItemDelimiterTag, ItemTag, SequenceDelimiterTag
from pydicom.uid import UID, DeflatedExplicitVRLittleEndian
from pydicom.valuerep import CUSTOMIZABLE_CHARSET_VR, EXPLICIT_VR_LENGTH_32, STANDARD_VR

_UNDEFINED = 0xFFFFFFFF
Guard = Callable[[Dataset], AbstractContextManager[object]]
_LONG_VRS = frozenset(str(v) for v in EXPLICIT_VR_LENGTH_32)
_VRS = frozenset(str(v) for v in STANDARD_VR)
_CHARSET_VRS = frozenset(str(v) for v in CUSTOMIZABLE_CHARSET_VR)
# (tag, VR, 16-bit length) and (tag, VR, 0, 32-bit length) headers, explicit VR; (tag, length) implicit
_PACK = {little: (struct.Struct(e + "HH2sH").pack, struct.Struct(e + "HH2sHL").pack, struct.Struct(e + "HHL").pack)
         for little, e in ((True, "<"), (False, ">"))}


def save(ds: Dataset, fh: BinaryIO, guard: Guard = nullcontext) -> None:
    """``dcmwrite(fh, ds, enforce_file_format=True)``: the same checks, the same bytes. Where pydicom
    writes the data set itself, it does so inside ``guard(ds)`` (the caller's way to hand it a large
    Pixel Data value as a buffer); this writer writes Pixel Data from its value without a copy."""
    meta = getattr(ds, "file_meta", None)
    tsyntax = meta.get("TransferSyntaxUID", None) if meta is not None else None
    if (meta is None or tsyntax is None or tsyntax == DeflatedExplicitVRLittleEndian
            or any(x >> 16 in (0, 2) for x in ds._dict)):
        with guard(ds):
            ds.save_as(fh, enforce_file_format=True)  # pydicom's own path (and its errors)
        return
    file_meta = _copy_meta(meta)
    encoding = _determine_encoding(ds, tsyntax, None, None, False)
    if encoding == (True, False):
        raise ValueError("Implicit VR and big endian is not a valid encoding combination")
    preamble = getattr(ds, "preamble", None)
    if preamble and len(preamble) != 128:
        raise ValueError("the preamble must be 128 bytes long")
    meta_class = file_meta.get("MediaStorageSOPClassUID", None)
    ds_class = ds.get("SOPClassUID", None)
    if meta_class is None or (ds_class and ds_class != meta_class):
        file_meta.MediaStorageSOPClassUID = ds_class
    meta_instance = file_meta.get("MediaStorageSOPInstanceUID", None)
    ds_instance = ds.get("SOPInstanceUID", None)
    if meta_instance is None or (ds_instance and ds_instance != meta_instance):
        file_meta.MediaStorageSOPInstanceUID = ds_instance
    validate_file_meta(file_meta, enforce_standard=True)
    if not preamble:
        preamble = b"\x00" * 128
    if not tsyntax.is_private and tsyntax.is_transfer_syntax and "PixelData" in ds:
        ds["PixelData"].is_undefined_length = tsyntax.is_compressed  # PS3.5 A.4
    fp = DicomIO(fh)
    fp.is_implicit_VR, fp.is_little_endian = encoding
    fp.write(preamble)
    fp.write(b"DICM")
    _write_file_meta(fp, file_meta)
    _write_dataset(fp, ds, default_encoding, guard)


def _write_file_meta(fp: DicomIO, file_meta: FileMetaDataset) -> None:
    """pydicom's ``write_file_meta_info(fp, file_meta, enforce_standard=True)`` (PS3.10 7.1: group 0002,
    Explicit VR Little Endian, (0002,0000) holding the group's length), its elements framed by
    :func:`_write_dataset` instead of pydicom's ``write_dataset``."""
    # validate_file_meta(file_meta, enforce_standard=True) ran in save() on this same, unchanged group
    # (it adds what is missing, then is a no-op): not asked again
    if "FileMetaInformationGroupLength" not in file_meta:
        file_meta.FileMetaInformationGroupLength = 0
    buffer = DicomBytesIO()
    buffer.is_little_endian = True
    buffer.is_implicit_VR = False
    _write_dataset(buffer, file_meta, default_encoding)
    file_meta.FileMetaInformationGroupLength = buffer.tell() - 12
    buffer.seek(0)
    write_data_element(buffer, file_meta[0x00020000])
    fp.write(buffer.getvalue())


def _write_dataset(fp: DicomIO, ds: Dataset, parent_encoding: str | list[str], guard: Guard = nullcontext) -> None:
    """pydicom's ``write_dataset`` (PS3.5 7.1: elements in tag order, no retired group lengths)."""
    fp_encoding = (getattr(fp, "_implicit_vr", None), getattr(fp, "_little_endian", None))
    if None in fp_encoding or config._use_future or (
            (fp_encoding != ds.original_encoding or ds.original_character_set != ds._character_set)
            and not _nothing_to_correct(ds)):
        with guard(ds):
            write_dataset(fp, ds, parent_encoding)  # re-encoded whole by pydicom
        return
    encodings = ds.get("SpecificCharacterSet", parent_encoding)
    implicit, little = fp_encoding
    short, long, bare = _PACK[bool(little)]
    write, get_item = fp.write, ds.get_item
    values = _Values(fp, encodings)
    for tag in sorted(ds.keys()):
        if tag.element == 0 and tag.group > 6:
            continue  # retired group length (PS3.5 7.2)
        elem = get_item(tag)
        kind = type(elem)
        if kind is DataElement and elem.VR == "SQ" and tag != 0x7FE00010:
            _write_sequence(fp, elem, encodings)  # type: ignore[arg-type]
            continue
        vr = elem.VR
        value: bytes | None = None
        if kind is RawDataElement:
            raw = cast(RawDataElement, elem)
            if type(raw.value) is bytes and raw.length != _UNDEFINED:
                value = raw.value
        elif kind is DataElement:
            if tag == 0x7FE00010 and _write_pixels(write, elem, implicit, bool(little)):  # type: ignore[arg-type]
                continue
            value = values.encode(elem)  # type: ignore[arg-type]
        if value is not None:
            if implicit:
                write(bare(tag >> 16, tag & 0xFFFF, len(value)))
                write(value)
                continue
            if vr in _LONG_VRS:
                write(long(tag >> 16, tag & 0xFFFF, vr.encode(), 0, len(value)))  # type: ignore[union-attr]
                write(value)
                continue
            if vr in _VRS and len(value) <= 0xFFFF:
                write(short(tag >> 16, tag & 0xFFFF, vr.encode(), len(value)))  # type: ignore[union-attr]
                write(value)
                continue
        write_data_element(fp, elem, encodings)


_ITEM = {True: b"\xfe\xff\x00\xe0", False: b"\xff\xfe\xe0\x00"}  # (FFFE,E000) Item tag
_SEQUENCE_END = {little: struct.pack(e + "HHL", 0xFFFE, 0xE0DD, 0) for little, e in ((True, "<"), (False, ">"))}


def _write_pixels(write: Callable[[bytes], object], elem: DataElement, implicit: bool, little: bool) -> bool:
    """Pixel Data (7FE0,0010) as ``write_data_element`` frames a converted OB/OW value (one zero byte
    padding an odd length; undefined length, PS3.5 A.4, ends with a Sequence Delimitation Item), its
    bytes written straight from the value (bytes, or a memoryview shared with the input) instead of
    through an element buffer. False (nothing written) for what pydicom must write or refuse itself:
    a buffered value, another VR, an encapsulated value not starting with an Item."""
    value, vr = elem.value, elem.VR
    if vr not in ("OB", "OW") or type(value) not in (bytes, memoryview):
        return False
    undefined = elem.is_undefined_length
    if undefined and bytes(value[:4]) != _ITEM[little]:
        return False
    pad = len(value) % 2
    length = _UNDEFINED if undefined else len(value) + pad
    short, long, bare = _PACK[little]
    write(bare(0x7FE0, 0x0010, length) if implicit else long(0x7FE0, 0x0010, vr.encode(), 0, length))
    write(value)
    if pad:
        write(b"\x00")
    if undefined:
        write(_SEQUENCE_END[little])
    return True


class _Values:
    """A converted element's value bytes, from pydicom's own per-VR writer (``writers``), called as
    ``write_data_element`` calls it but into one reused buffer, the character sets converted once
    per data set; None for what ``write_data_element`` must do itself."""

    def __init__(self, fp: DicomIO, encodings: str | list[str] | None) -> None:
        self._fp = fp
        self._bytes: io.BytesIO | None = None  # made on first use: most items have nothing converted
        self._buffer: DicomIO | None = None
        self._raw_encodings = encodings
        self._encodings: list[str] | None = None

    def encode(self, elem: DataElement) -> bytes | None:
        vr = elem.VR
        if vr not in writers or vr not in _VRS or elem.is_buffered or elem.is_undefined_length:
            return None
        value = elem.value
        kind = type(value)
        key: tuple[object, ...] | None = None
        if (kind in (str, UID) and vr in _CACHED_TEXT_VRS and len(value) <= _CACHED_LEN and value.isascii()) \
                or (kind is int and vr in _CACHED_INT_VRS):
            # the value bytes of a short ASCII string (encoded alike by every character set, never
            # an encoding error) or of one number depend on the VR, the value and, at most, the
            # data set's character sets (PS3.5 6.1.2.3) and byte order: pydicom's writers, remembered
            raw = self._raw_encodings if vr in _CHARSET_VRS else None
            key = (vr, kind, value, self._fp.is_little_endian,
                   raw if raw is None or isinstance(raw, str) else tuple(raw))
            found = _ENCODED.get(key)
            if found is not None:
                return found
        out = self._encode(elem, vr)
        if key is not None:
            if len(_ENCODED) >= _CACHED_VALUES:
                _ENCODED.clear()
            _ENCODED[key] = out
        return out

    def _encode(self, elem: DataElement, vr: str) -> bytes:
        if self._bytes is None or self._buffer is None:
            self._bytes = io.BytesIO()
            self._buffer = DicomIO(self._bytes)
            self._buffer.is_little_endian = self._fp.is_little_endian
            self._buffer.is_implicit_VR = self._fp.is_implicit_VR
        buffer = self._buffer
        self._bytes.seek(0)
        self._bytes.truncate()
        if not elem.is_empty:
            fn, param = writers[vr]  # type: ignore[index]
            if vr in _CHARSET_VRS:
                if self._encodings is None:
                    self._encodings = _python_encodings(self._raw_encodings)
                fn(buffer, elem, encodings=self._encodings)  # type: ignore[operator]
            elif param is not None:
                fn(buffer, elem, param)  # type: ignore[operator]
            else:
                fn(buffer, elem)  # type: ignore[operator]
        return self._bytes.getvalue()


_ENCODINGS: dict[str | tuple[str, ...] | None, list[str]] = {}
# Value bytes of converted elements that repeat from instance to instance (a study's UIDs, the
# attestation's code items, Rows): memory only, bounded; the values are the de-identified output's.
_ENCODED: dict[tuple[object, ...], bytes] = {}
_CACHED_VALUES = 4096
_CACHED_LEN = 64
_CACHED_TEXT_VRS = frozenset({"AE", "AS", "CS", "DA", "DT", "LO", "LT", "SH", "ST", "TM", "UC", "UI", "UR", "UT"})
_CACHED_INT_VRS = frozenset({"US", "UL", "SS", "SL"})


def _python_encodings(encodings: str | list[str] | None) -> list[str]:
    """``convert_encodings(encodings or [default_encoding])`` (PS3.5 6.1.2.3: Specific Character Set
    terms to Python codecs), remembered per distinct value: each sequence and item asked again."""
    key = encodings if encodings is None or isinstance(encodings, str) else tuple(encodings)
    found = _ENCODINGS.get(key)
    if found is None:
        found = convert_encodings(encodings or [default_encoding])
        if len(_ENCODINGS) < 256:  # a few distinct character sets per run; hostile inputs bounded
            _ENCODINGS[key] = list(found)
        return found
    return list(found)


def _nothing_to_correct(ds: Dataset) -> bool:
    """pydicom re-encodes a data set read in another encoding (or made in memory, as the attestation's
    code items are): it corrects ambiguous VRs (PS3.5 Annex A) and converts raw elements. Neither
    changes a data set of converted elements of plain VRs and no sequences: written as it is."""
    return all(type(e) is DataElement and e.VR in _VRS and e.VR != "SQ" for e in ds._dict.values())


def _copy_meta(meta: FileMetaDataset) -> FileMetaDataset:
    """What ``dcmwrite`` deep-copies before changing it: a new group with new elements (their values,
    strings and bytes, are replaced, never changed in place)."""
    if type(meta) is not FileMetaDataset or any(type(e) not in (DataElement, RawDataElement)
                                                for e in meta._dict.values()):
        return deepcopy(meta)
    out = copy(meta)
    object.__setattr__(out, "_dict", {tag: copy(e) for tag, e in meta._dict.items()})
    return out


def _write_sequence(fp: DicomIO, elem: DataElement, encodings: str | list[str] | None) -> None:
    """A sequence element as ``write_data_element`` writes it (PS3.5 7.5.1-7.5.2)."""
    fp.write_tag(elem.tag)
    buffer = _buffer_like(fp)
    undefined = elem.is_undefined_length
    if not elem.is_empty:
        converted = _python_encodings(encodings)
        for item in elem.value:
            _write_item(buffer, item, converted)
    if not fp.is_implicit_VR:
        fp.write(b"SQ")
        fp.write_US(0)
    fp.write_UL(_UNDEFINED if undefined else buffer.tell())
    fp.write(buffer.getvalue())
    if undefined:
        fp.write_tag(SequenceDelimiterTag)
        fp.write_UL(0)


_CODEC = ("_implicit_vr", "_little_endian", "_tag_packer", "_tag_unpacker", "_ul_packer", "_ul_unpacker",
          "_us_packer", "_us_unpacker")


def _buffer_like(fp: DicomIO) -> DicomBytesIO:
    """A new in-memory buffer encoding as ``fp`` does: ``fp``'s byte order and VR mode with its struct
    packers shared (pydicom's ``is_little_endian`` setter builds six ``Struct``s per buffer, one buffer
    per sequence); the setters where ``fp`` lacks one of them."""
    buffer = DicomBytesIO()
    held = fp.__dict__
    if all(name in held for name in _CODEC):
        buffer.__dict__.update((name, held[name]) for name in _CODEC)
    else:
        buffer.is_little_endian = fp.is_little_endian
        buffer.is_implicit_VR = fp.is_implicit_VR
    return buffer


def _write_item(fp: DicomIO, ds: Dataset, encodings: list[str]) -> None:
    """pydicom's ``write_sequence_item``: an item with its length, or undefined length and a delimiter."""
    fp.write_tag(ItemTag)
    length_at = fp.tell()
    fp.write_UL(_UNDEFINED)
    _write_dataset(fp, ds, encodings)
    if getattr(ds, "is_undefined_length_sequence_item", False):
        fp.write_tag(ItemDelimiterTag)
        fp.write_UL(0)
    else:
        end = fp.tell()
        fp.seek(length_at)
        fp.write_UL(end - length_at - 4)
        fp.seek(end)
