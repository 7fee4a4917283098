"""Reading DICOM bytes into datasets and writing them back (PS3.10 file format).

Every failure becomes an :class:`deid.errors.InputError` with a reason code and a PHI-free message.
"""

from __future__ import annotations

import bisect
import copy
import functools
import gc
import io
import logging
import re
import struct
import warnings
from collections.abc import Callable, Iterator, MutableSequence
from contextlib import contextmanager
from typing import BinaryIO, ParamSpec, TypeVar, cast

import pydicom
from pydicom import hooks as pydicom_hooks
from pydicom import values as pydicom_values
from pydicom.datadict import dictionary_VR
from pydicom.dataelem import DataElement, RawDataElement, convert_raw_data_element
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.errors import BytesLengthException, InvalidDicomError
from pydicom.fileutil import buffer_length, read_undefined_length_value
from pydicom.filewriter import correct_ambiguous_vr_element
from pydicom.hooks import hooks
from pydicom.tag import _LUT_DESCRIPTOR_TAGS, BaseTag, SequenceDelimiterTag
from pydicom.uid import (
    PYDICOM_IMPLEMENTATION_UID,
    UID,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)
from pydicom.valuerep import AMBIGUOUS_VR
from pydicom.valuerep import VR as VR_

from deid import filewrite
from deid.errors import InputError, Reason

_PREAMBLE_LEN = 128

PIXEL_DATA_KEYWORDS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")

_SPECIFIC_CHARACTER_SET = 0x00080005
_PIXEL_TAGS = frozenset({0x7FE00008, 0x7FE00009, 0x7FE00010})  # pydicom's PIXEL_KEYWORDS (their tags)
_LUT_DESCRIPTOR_NUMBERS = frozenset(int(t) for t in _LUT_DESCRIPTOR_TAGS)  # values pydicom's hook adjusts

_P = ParamSpec("_P")
_T = TypeVar("_T")


@contextmanager
def quiet_values() -> Iterator[None]:
    """pydicom's value validation and its warnings off for the work inside.

    pydicom validates values lazily, when an element is first converted, and its warnings quote the
    value (a UID, a name): they would reach stderr and Spark executor logs. Value validity is the
    quality gate's business. Entered around each batch of work (never changed at import: importing
    ``deid`` leaves pydicom's global configuration as the host application set it).
    """
    log = logging.getLogger("pydicom")  # pydicom's warn_and_log also logs the same message
    was_disabled = log.disabled
    with pydicom.config.disable_value_validation(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        log.disabled = True
        try:
            yield
        finally:
            log.disabled = was_disabled


@contextmanager
def gc_paused() -> Iterator[None]:
    """Python's automatic (cyclic) garbage collection off while one instance is read, de-identified or
    written, on again after it (when it was on before: a host that turned it off keeps it off).

    Each of these makes thousands of container objects (datasets, elements, value lists); with a batch
    of instances alive (the free-text batch holds 100 read and 100 de-identified datasets), every
    automatic collection walks the live ones again: measured on the real files, about a quarter of the
    engine's CPU time. Nothing is lost: objects are reference-counted as usual, and cyclic garbage made
    meanwhile is found by the first collection after. Process-wide, so safe but only approximate under
    threads (a thread may find it off while another is inside; it is never left off by this).
    """
    enabled = gc.isenabled()
    if enabled:
        gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def quietly(batches: Callable[_P, Iterator[_T]]) -> Callable[_P, Iterator[_T]]:
    """A ``mapInPandas`` generator run whole inside :func:`quiet_values`.

    pydicom converts elements lazily, on first access: a dataset read inside ``quiet_values`` and
    used after it would still warn (quoting an original UID) on the executor's stderr. Every Spark
    worker function that reads DICOM is wrapped once here instead of guarding each access.
    """
    @functools.wraps(batches)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> Iterator[_T]:
        with quiet_values():
            yield from batches(*args, **kwargs)
    return run


def value_length(value: object) -> int:
    """Length in bytes of an element value: bytes, a memoryview or a buffer (pydicom buffered value)."""
    if isinstance(value, io.BufferedIOBase):
        return buffer_length(value)
    return len(value)  # type: ignore[arg-type]


def has_pixel_data(ds: Dataset) -> bool:
    """True when Pixel Data (7FE0,0010), Float Pixel Data (7FE0,0008) or Double Float Pixel Data
    (7FE0,0009) is present and not empty (PS3.3 C.7.6.3; the float forms are images too: they may
    show burned-in text, so they are never taken for "no pixel data")."""
    return any(k in ds and ds[k].value is not None and value_length(ds[k].value) > 0 for k in PIXEL_DATA_KEYWORDS)


# Inputs of at least this many bytes have their native Pixel Data (7FE0,0010) value shared with the
# input bytes (a memoryview) instead of copied: a large instance is then held once, not twice.
SHARE_MIN = 16 << 20


def read_dicom(data: bytes, *, stop_before_pixels: bool = False) -> Dataset:
    """Parse a PS3.10 file (or a bare dataset with no file meta) from bytes.

    Raises InputError with EMPTY_FILE, NOT_DICOM, TRUNCATED, TOO_DEEP, NO_FILE_META or MISSING_UID.
    """
    if not data:
        raise InputError(Reason.EMPTY_FILE, "the file has zero bytes")
    has_magic = len(data) >= 132 and data[128:132] == b"DICM"
    if not has_magic and not _looks_like_bare_dataset(data):
        raise InputError(Reason.NOT_DICOM, "no DICM prefix and no recognisable dataset at offset 0")
    share = not stop_before_pixels and len(data) >= SHARE_MIN
    with gc_paused(), quiet_values():
        try:
            ds = pydicom.dcmread(io.BytesIO(data), force=not has_magic, stop_before_pixels=stop_before_pixels,
                                 defer_size=SHARE_MIN if share else None)
            meta_ts = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", None)
            if share and meta_ts == DeflatedExplicitVRLittleEndian:
                # values lie in the inflated stream, not in ``data``: read again without deferring
                ds = pydicom.dcmread(io.BytesIO(data), force=not has_magic)
            elif share:
                _resolve_deferred(ds, data)
            if not stop_before_pixels:
                _check_complete(ds, len(data), data)
        except RecursionError:
            raise InputError(Reason.TOO_DEEP, "sequences are nested too deeply to process safely") from None
        except InvalidDicomError:
            raise InputError(Reason.NOT_DICOM, "the DICOM parser rejected the file") from None
        except struct.error:
            raise InputError(Reason.TRUNCATED, "the file ends inside an element header") from None
        except (EOFError, OSError, ValueError, KeyError, TypeError, IndexError, NotImplementedError,
                AttributeError, OverflowError, UnicodeError, LookupError) as exc:
            if _is_truncation(exc):
                raise InputError(Reason.TRUNCATED, "the file ends inside an element") from None
            raise InputError(Reason.INVALID_VALUE,
                             f"the file cannot be parsed ({exc.__class__.__name__})") from None
    if getattr(ds, "buffer", None) is not None:
        ds.buffer = None  # the dataset holds its own values: the caller's bytes can be freed
    if not has_magic or not getattr(ds, "file_meta", None) or "TransferSyntaxUID" not in ds.file_meta:
        _add_file_meta(ds)
    if "SOPInstanceUID" not in ds or not str(ds.SOPInstanceUID or "").strip():
        raise InputError(Reason.MISSING_UID, "SOPInstanceUID (0008,0018) is absent or empty")
    if "SOPClassUID" not in ds:
        raise InputError(Reason.MISSING_UID, "SOPClassUID (0008,0016) is absent")
    return ds


_UNDEFINED = 0xFFFFFFFF


def _resolve_deferred(ds: Dataset, data: bytes) -> None:
    """Give the top-level values pydicom deferred (``defer_size``) their bytes from ``data``: native
    Pixel Data (7FE0,0010) a zero-copy memoryview, any other value a copy (as pydicom reads it).
    Undefined-length values (encapsulated Pixel Data) are read again up to their delimiter the way
    pydicom reads them; a value running past the end of the input is TRUNCATED."""
    raw_dict = ds._dict
    view = memoryview(data)
    for tag, raw in list(raw_dict.items()):
        if not isinstance(raw, RawDataElement) or raw.value is not None or not raw.length:
            continue
        if raw.length == _UNDEFINED:
            fp = io.BytesIO(data)
            fp.seek(raw.value_tell)
            raw_dict[tag] = raw._replace(value=read_undefined_length_value(
                fp, raw.is_little_endian, SequenceDelimiterTag, None))
            continue
        end = raw.value_tell + raw.length
        if end > len(data):
            raise InputError(Reason.TRUNCATED, "an element value runs past the end of the file")
        shared = tag == 0x7FE00010 and raw.VR in (None, "OB", "OW", "OB or OW", "UN")
        value = view[raw.value_tell:end] if shared else data[raw.value_tell:end]
        raw_dict[tag] = raw._replace(value=value)  # type: ignore[arg-type] # a memoryview reads as bytes


def _check_complete(ds: Dataset, size: int, data: bytes | None = None) -> None:
    """pydicom accepts a file cut short without a word: detect it (PS3.5 7.1 value lengths).

    The last top-level element must end inside the file, and native Pixel Data (7FE0,0010) must
    hold at least Rows x Columns x Samples x Frames x BitsAllocated / 8 bytes.
    """
    ts = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", None)
    raw = getattr(ds, "_dict", {})
    pixels = raw.get(0x7FE00010)
    if pixels is not None and getattr(pixels, "length", None) == _UNDEFINED and data is not None:
        # encapsulated Pixel Data ends with a Sequence Delimitation Item (FFFE,E0DD) (PS3.5 A.4)
        tell = getattr(pixels, "value_tell", 0) or 0
        if data.rfind(b"\xfe\xff\xdd\xe0\x00\x00\x00\x00") < tell:
            raise InputError(Reason.TRUNCATED, "encapsulated Pixel Data has no sequence delimiter")
    if raw and ts != DeflatedExplicitVRLittleEndian:  # deflated: offsets count inflated bytes
        last = raw[max(raw)]
        tell, length = getattr(last, "value_tell", None), getattr(last, "length", None)
        if tell is not None and length not in (None, _UNDEFINED):
            end = tell + length
            if end > size:
                raise InputError(Reason.TRUNCATED, "the last element is cut short")
            if 0 < size - end < 12:
                raise InputError(Reason.TRUNCATED, "the file ends inside an element header")
    if "PixelData" in ds and ts is not None and not ts.is_compressed:
        try:
            frames = int(ds.get("NumberOfFrames", 1) or 1)
            bits = (int(ds.Rows) * int(ds.Columns) * int(ds.get("SamplesPerPixel", 1))
                    * frames * int(ds.BitsAllocated))
            if str(ds.get("PhotometricInterpretation", "")) == "YBR_FULL_422":
                bits = bits * 2 // 3  # two chroma samples per two pixels (PS3.3 C.7.6.3.1.2)
            expected = (bits + 7) // 8
        except (AttributeError, TypeError, ValueError):
            return
        if len(ds.PixelData) < expected:
            raise InputError(Reason.TRUNCATED, "Pixel Data holds fewer bytes than its attributes declare")


def _looks_like_bare_dataset(data: bytes) -> bool:
    """A file without preamble starts with a group 0002 or 0008 element (little or big endian)."""
    if len(data) < 8:
        return False
    group_le = int.from_bytes(data[0:2], "little")
    group_be = int.from_bytes(data[0:2], "big")
    return group_le in (0x0002, 0x0008) or group_be in (0x0002, 0x0008)


def _is_truncation(exc: BaseException) -> bool:
    if isinstance(exc, EOFError):
        return True
    text = str(exc).lower()
    return any(w in text for w in ("end of file", "eof", "truncat", "expected", "bytes remaining",
                                    "not enough", "buffer"))


def raw_vr(ds: Dataset, tag: int) -> str:
    """An element's VR without converting its value (values stay raw until something needs them;
    kept elements are written back byte for byte)."""
    raw = ds.get_item(tag)
    vr = getattr(raw, "VR", None)
    if vr in (None, "UN"):
        try:
            vr = str(dictionary_VR(tag))
        except KeyError:
            return vr or "UN"
    if " or " in vr:  # ambiguous in the dictionary (US or SS, OB or OW): let pydicom resolve it
        return str(ds[tag].VR)
    return str(vr)


_FRESH = Dataset().__dict__


def blank_dataset() -> Dataset:
    """``Dataset()``, its attributes set as one dictionary update instead of one pydicom
    ``__setattr__`` each (made for every sequence item the engine copies)."""
    new = Dataset.__new__(Dataset)
    new.__dict__.update(_FRESH)
    new.__dict__.update(_dict={}, _private_blocks={}, _pixel_array_opts={"use_pdh": False}, _pixel_id={})
    return new


_FRESH_META = FileMetaDataset().__dict__


def blank_file_meta() -> FileMetaDataset:
    """``FileMetaDataset()`` (PS3.10 7.1 file meta group, empty) made as :func:`blank_dataset` makes a
    ``Dataset()``: one dictionary update instead of pydicom's ``__setattr__`` per attribute."""
    new = FileMetaDataset.__new__(FileMetaDataset)
    new.__dict__.update(_FRESH_META)
    new.__dict__.update(_dict={}, _private_blocks={}, _pixel_array_opts={"use_pdh": False}, _pixel_id={})
    return new


def copied_element(elem: DataElement) -> DataElement:
    """``copy.copy(elem)`` (pydicom's DataElement has no ``__copy__``, ``__slots__`` or state hooks:
    a new instance with the same attribute dictionary), without the copy protocol's look-ups. The
    value is shared: callers copy only elements whose value is never changed in place."""
    if type(elem) is not DataElement:
        return copy.copy(elem)
    new = DataElement.__new__(DataElement)
    new.__dict__.update(elem.__dict__)
    return new


def element(ds: Dataset, tag: int) -> DataElement:
    """``ds[tag]`` (pydicom 3's ``Dataset.__getitem__``) for a tag ``ds`` holds, without its repeated
    look-ups: an element already converted is returned as held; a raw public element (its value read)
    is converted once by ``convert_raw_data_element`` with the character set pydicom uses and stored as
    ``__setitem__`` stores it, then sequences and ambiguous VRs take pydicom's further steps; deferred
    values, Specific Character Set (0008,0005), pixel data and private elements go through
    ``ds[tag]`` itself. ``KeyError`` when ``ds`` does not hold ``tag``."""
    held = ds._dict
    elem = held[tag]  # type: ignore[index]
    if type(elem) is DataElement:
        return elem
    number = int(tag)
    if type(elem) is not RawDataElement or type(tag) is not BaseTag or elem.value is None and elem.length != 0 \
            or number == _SPECIFIC_CHARACTER_SET or number in _PIXEL_TAGS or (number >> 16) & 1:
        return ds[tag]  # deferred values, Specific Character Set, pixels, private elements: pydicom's steps
    new = _converted(elem, ds.original_character_set or ds._character_set, ds)
    if new.VR == "SQ" or new.VR in AMBIGUOUS_VR or int(new.tag) != number:
        ds[tag] = new  # as pydicom's __getitem__ goes on after converting (sequence, ambiguous VR)
        if ds[tag].VR == "SQ":
            ds._set_pixel_representation(ds[tag])
        if ds[tag].VR in AMBIGUOUS_VR:
            ds[tag] = correct_ambiguous_vr_element(ds[tag], ds, elem[6])
        return cast(DataElement, held[tag])
    held[tag] = new  # what Dataset.__setitem__ does for a public element other than pixel data
    return new


def _converted(raw: RawDataElement, encoding: str | MutableSequence[str], ds: Dataset) -> DataElement:
    """``convert_raw_data_element(raw, encoding=encoding, ds=ds)`` for a public element, without its
    hook dispatch when pydicom's hooks are its own (:func:`_default_conversion`): the VR as
    ``raw_element_vr`` finds it (the explicit VR; the dictionary's for an implicit one), the value from
    ``convert_value`` as ``raw_element_value`` gets it, the same element made. Anything else (UN, a
    VR the dictionary lacks, a value pydicom would re-type as UN, LUT descriptors, a host's hooks)
    goes through ``convert_raw_data_element`` itself. Issue #11: its dispatch (keyword arguments,
    four pydicom ``Tag`` comparisons per element) cost about as much as converting short values."""
    vr = raw.VR
    if vr is None:
        try:
            vr = dictionary_VR(raw.tag)  # as raw_element_vr looks it up
        except KeyError:
            vr = None
    if vr is None or vr == "UN" or int(raw.tag) in _LUT_DESCRIPTOR_NUMBERS or not _default_conversion():
        return convert_raw_data_element(raw, encoding=encoding, ds=ds)
    try:
        value = pydicom_values.convert_value(vr, raw, encoding)
    except (BytesLengthException, NotImplementedError):
        return convert_raw_data_element(raw, encoding=encoding, ds=ds)  # pydicom's own handling
    return DataElement(raw.tag, vr, value, raw.value_tell, raw.length == 0xFFFFFFFF, already_converted=True)


def raw_uid_values(ds: Dataset, tag: int) -> list[str] | None:
    """The values of a UI element ``ds`` holds still as read (a raw element, its value read), as
    pydicom's conversion would give them (``convert_UI`` then ``UID``: the bytes as ISO 8859 text,
    trailing NUL and space padding off, split at backslashes, each value stripped), without converting
    it: one value for a single-valued element. None when the element is not such a raw element (already
    converted, deferred or empty), or when pydicom's conversion is not its default one (a host's hook,
    converter or callback): then ``element(ds, tag)`` converts it (issue #11: the walk remaps the UIDs
    of every item, ~17 per file, and pydicom's conversion machinery cost more than the remap)."""
    raw = ds._dict[tag]  # type: ignore[index]
    if type(raw) is not RawDataElement or raw.VR not in ("UI", None) or type(tag) is not BaseTag \
            or raw.value is None or not raw.length or not _default_conversion():
        return None
    items = raw.value.decode(pydicom_values.default_encoding).rstrip("\0 ").rstrip(" \x00").split("\\")
    return [item.strip() for item in items]


# printable ASCII but backslash (the value delimiter) and tilde (0x5C and 0x7E are other characters in
# JIS X 0201): the same text in every character set pydicom decodes (PS3.5 6.1.2.3)
_PLAIN_TEXT = re.compile(rb"[\x20-\x5B\x5D-\x7D]*")


def raw_text_value(ds: Dataset, tag: int) -> str | None:
    """The value of an SH or LO element ``ds`` holds still as read, as pydicom's conversion gives it
    (``convert_text``: decoded, trailing NUL and space padding off), without converting it, when
    writing that value gives back the bytes as read (the value padded to even length by one space,
    PS3.5 6.2): the element may then stay as read. None when the element is not such a raw element
    (converted, deferred, another VR), its bytes are not plain printable ASCII, it carries more
    padding than the writer adds, or pydicom's conversion is not its default one: then
    ``element(ds, tag)`` converts it (issue #11: Code Meaning's look-up converted two elements per
    coded item that are otherwise written as read)."""
    raw = ds._dict[tag]  # type: ignore[index]
    if type(raw) is not RawDataElement or raw.value is None or not _default_conversion():
        return None
    vr = raw.VR
    if vr is None:
        vr = _DICTIONARY_VRS.get(int(tag)) or _dictionary_vr_or_none(int(tag))
    if vr not in ("SH", "LO") or pydicom_values.converters.get(VR_(vr)) is not pydicom_values.convert_text:
        return None
    value = raw.value
    if type(value) is not bytes or not _PLAIN_TEXT.fullmatch(value):
        return None
    text = value.decode("ascii").rstrip(" ")
    if value != (text + " " * (len(text) % 2)).encode("ascii"):
        return None  # padding the writer would not write back
    return text


# VRs whose value pydicom's default conversion only decodes as text (``decode_bytes`` falls back to
# replacement characters when validation is off, :func:`quiet_values`; DA, DT and TM unless
# ``pydicom.config.datetime_conversion``), with the converters pydicom ships for them
_DECODED_VRS = ("AE", "AS", "CS", "DA", "DT", "LO", "LT", "SH", "ST", "TM", "UC", "UR", "UT")
_DECODING_CONVERTERS = {vr: pydicom_values.converters[VR_(vr)] for vr in _DECODED_VRS}


def replace_raw_value(ds: Dataset, tag: int, vr: str, value: object) -> bool:
    """Replace the value of a public text element ``ds`` holds still as read (a raw element, its value
    read, read as ``vr`` or read without a VR that the dictionary gives as ``vr``) with ``value``,
    without converting the old one: the element made is the one converting it (``element(ds, tag)``)
    and then assigning ``value`` gives, and a value of these VRs decodes without error when
    validation is off. False (nothing done) for any other element, Specific Character Set (0008,0005),
    or when pydicom's conversion of ``vr`` is not its default one: then convert it (issue #11:
    action Z converted each value only to drop it)."""
    raw = ds._dict[tag]  # type: ignore[index]
    if type(raw) is not RawDataElement or type(tag) is not BaseTag or raw.VR not in (vr, None) \
            or raw.value is None and raw.length != 0 or raw.length == 0xFFFFFFFF \
            or int(tag) == _SPECIFIC_CHARACTER_SET or (int(tag) >> 16) & 1:
        return False
    if raw.VR is None and _DICTIONARY_VRS.get(int(tag)) != vr:
        return False  # read without a VR: only a tag whose one dictionary VR element_vr remembered
    if _DECODING_CONVERTERS.get(vr) is None or pydicom_values.converters.get(VR_(vr)) is not _DECODING_CONVERTERS[vr] \
            or vr in ("DA", "DT", "TM") and pydicom.config.datetime_conversion or not _default_conversion():
        return False
    ds._dict[tag] = DataElement(tag, vr, value, raw.value_tell)  # type: ignore[index]
    return True


def _dictionary_vr_or_none(tag: int) -> str | None:
    try:
        return str(dictionary_VR(tag))
    except KeyError:
        return None


def _default_conversion() -> bool:
    """pydicom converts UI values as shipped: default hooks, no element callback, ``convert_UI``."""
    return (hooks.raw_element_value is pydicom_hooks.raw_element_value
            and hooks.raw_element_vr is pydicom_hooks.raw_element_vr
            and not pydicom.config.data_element_callback
            and pydicom_values.converters.get(VR_.UI) is pydicom_values.convert_UI)


def element_vr(ds: Dataset, tag: int) -> str:
    """:func:`raw_vr`, without its look-ups for the common cases: an element read with its own VR, and
    one read without (implicit VR) whose tag the dictionary gives one unambiguous VR (remembered)."""
    vr = ds._dict[tag].VR  # type: ignore[index]
    if vr is None:
        number = int(tag)
        known = _DICTIONARY_VRS.get(number)
        if known is not None:
            return known
        vr = raw_vr(ds, tag)
        if not (number >> 16) & 1 and len(_DICTIONARY_VRS) < _MAX_DICTIONARY_VRS:
            try:
                found = str(dictionary_VR(number))
            except KeyError:
                return vr
            if found == vr and " or " not in found:
                _DICTIONARY_VRS[number] = found  # what raw_vr answers for this tag whatever the data set
        return vr
    if vr == "UN" or " or " in vr:
        return raw_vr(ds, tag)
    return vr  # type: ignore[no-any-return]


# public tag -> its unambiguous dictionary VR, as raw_vr answers for an element read without a VR
# (issue #11: implicit VR files looked each element up in pydicom's dictionary); bounded
_DICTIONARY_VRS: dict[int, str] = {}
_MAX_DICTIONARY_VRS = 20_000


def iter_datasets(ds: Dataset) -> Iterator[Dataset]:
    """``ds`` and every sequence item at every depth, each yielded before its own items are looked
    for; iterating a dataset's elements converts its raw elements (PS3.5 7.5)."""
    stack = [ds]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(item for elem in current if elem.VR == "SQ" for item in elem.value)


def _convert_all(ds: Dataset) -> None:
    for _ in iter_datasets(ds):  # visiting every element of every item converts it
        pass


def _convert_vr_less(ds: Dataset) -> None:
    """Raw elements read without a usable VR (bad VR bytes in an explicit file) need one to be
    written explicitly: convert those, and look inside sequences."""
    stack = [ds]
    while stack:
        current = stack.pop()
        for tag, raw in list(current._dict.items()):
            vr = raw.VR
            if vr in (None, ""):
                current[tag]  # noqa: B018 - converting assigns the dictionary VR
            elif vr == "SQ":
                stack.extend(raw.value if type(raw) is DataElement else current[tag].value)


def _add_file_meta(ds: Dataset) -> None:
    """Give a bare dataset (no PS3.10 header) a file meta group (PS3.10 7.1) from its own encoding."""
    meta = ds.file_meta if isinstance(getattr(ds, "file_meta", None), FileMetaDataset) else FileMetaDataset()
    if ds.is_little_endian is False:
        ts = ExplicitVRBigEndian
    elif ds.is_implicit_VR:
        ts = ImplicitVRLittleEndian
    else:
        ts = ExplicitVRLittleEndian
    meta.TransferSyntaxUID = ts
    if "SOPClassUID" in ds:
        meta.MediaStorageSOPClassUID = ds.SOPClassUID
    if "SOPInstanceUID" in ds:
        meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta = meta


def write_dicom(ds: Dataset, *, reference: bool = False) -> bytes:
    """:func:`write_dicom_to` into memory: the file's bytes."""
    buf = io.BytesIO()
    write_dicom_to(ds, buf, reference=reference)
    return buf.getvalue()


def write_dicom_to(ds: Dataset, fh: BinaryIO, *, reference: bool = False) -> None:
    """Serialise a dataset as a PS3.10 file with a fresh, consistent file meta group into ``fh``
    (written as it is encoded: a large instance is not held twice in memory).

    Deflated sources are written Explicit VR Little Endian; big endian stays big endian (pydicom
    cannot convert the pixel byte order); encapsulated syntaxes keep their syntax. The bytes are
    pydicom's ``dcmwrite(enforce_file_format=True)``'s, written by :func:`deid.filewrite.save` (kept
    raw elements copied from their bytes); ``reference=True`` calls pydicom's writer itself (the
    equality tests compare the two).
    """
    meta = ds.file_meta
    ts = meta.TransferSyntaxUID
    if ts == DeflatedExplicitVRLittleEndian:
        ts = ExplicitVRLittleEndian
    _set_meta(meta, 0x00020010, "TransferSyntaxUID", ts)
    _set_meta(meta, 0x00020002, "MediaStorageSOPClassUID", ds.SOPClassUID)
    _set_meta(meta, 0x00020003, "MediaStorageSOPInstanceUID", ds.SOPInstanceUID)
    _set_meta(meta, 0x00020012, "ImplementationClassUID", PYDICOM_IMPLEMENTATION_UID)
    _set_meta(meta, 0x00020013, "ImplementationVersionName", "DEID_PIPELINE")
    for tag in [t for t in meta._dict if t not in _META_KEEP]:
        del meta[tag]
    with gc_paused(), quiet_values():
        try:
            original = getattr(ds, "original_encoding", (None, None))
            if original[0] is not None and (original[0], original[1]) != (ts.is_implicit_VR,
                                                                            ts.is_little_endian):
                _convert_all(ds)  # raw values were read in another VR encoding than the one written
            elif not ts.is_implicit_VR:
                _convert_vr_less(ds)
            if reference:
                with _streamed_pixels(ds):
                    ds.save_as(fh, enforce_file_format=True)
            else:
                filewrite.save(ds, fh, _streamed_pixels)  # Pixel Data written from its value
        except RecursionError:
            raise InputError(Reason.TOO_DEEP, "sequences are nested too deeply to write") from None
        except (ValueError, TypeError, OverflowError, UnicodeError, LookupError, AttributeError,
                KeyError, NotImplementedError, OSError) as exc:
            raise InputError(Reason.WRITE_FAILED,
                             f"the de-identified dataset cannot be encoded ({exc.__class__.__name__})") from None


def _set_meta(meta: FileMetaDataset, tag: int, keyword: str, value: object) -> None:
    """``setattr(meta, keyword, value)`` (PS3.10 7.1 file meta), skipped when the element already holds
    an equal value of the same type, as pydicom would convert it (the same bytes are written): the
    transfer syntax, the SOP instance UID the engine set, the version name of an output read again
    (pydicom's ``__setattr__`` costs tens of microseconds, validation included)."""
    elem = meta._dict.get(tag)  # type: ignore[call-overload]
    if type(elem) is DataElement and type(value) in (str, UID):
        current = elem.value
        if type(current) is (UID if elem.VR == "UI" else str) and current == value \
                and dictionary_VR(tag) == elem.VR:
            return
    setattr(meta, keyword, value)


_STREAM_MIN = 1 << 20


@contextmanager
def _streamed_pixels(ds: Dataset) -> Iterator[None]:
    """While writing, a large native Pixel Data (7FE0,0010) value is handed to pydicom as a buffer,
    which it copies to the output in chunks, instead of bytes, which it first copies whole into an
    in-memory element buffer (the value itself is unchanged and restored afterwards)."""
    elem = ds["PixelData"] if "PixelData" in ds else None  # noqa: SIM401 - the element, not its value
    value = getattr(elem, "value", None)
    if (elem is None or elem.VR not in ("OB", "OW") or elem.is_undefined_length
            or not isinstance(value, (bytes, memoryview)) or len(value) < _STREAM_MIN):
        yield
        return
    elem.value = io.BytesIO(value) if isinstance(value, bytes) else ViewReader(value)  # no copy
    try:
        yield
    finally:
        elem.value = value


class SeekableReader(io.BufferedIOBase):
    """A readable, seekable buffer of ``length`` bytes that pydicom's writer reads in chunks (a
    buffered element value, pydicom >= 3.0); subclasses say how bytes are made (:meth:`read`)."""

    length: int
    _pos: int = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.length}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._pos = base + offset
        return self._pos

    def _end(self, size: int | None) -> int:
        """Where a read of ``size`` bytes from the current position stops."""
        return self.length if size is None or size < 0 else min(self.length, self._pos + size)

    def read1(self, size: int = -1) -> bytes:
        return self.read(size)


class ViewReader(SeekableReader):
    """A buffer over a memoryview (a value shared with the input bytes); ``io.BytesIO`` would copy a
    memoryview whole."""

    def __init__(self, view: memoryview) -> None:
        super().__init__()
        self._view, self._pos = view.cast("B"), 0
        self.length = len(self._view)

    def read(self, size: int | None = -1) -> bytes:
        end = self._end(size)
        out = bytes(self._view[self._pos:end]) if end > self._pos else b""
        self._pos = max(self._pos, end)
        return out


class ConcatReader(SeekableReader):
    """A buffer over a list of byte strings read as one (none copied): what the writer reads from an
    encapsulated Pixel Data value built frame by frame. Each read finds its part by bisection
    (pydicom's ``EncapsulatedBuffer`` re-sums every item length on every read, quadratic in the
    frame count)."""

    def __init__(self, parts: list[bytes]) -> None:
        super().__init__()
        self._parts = [p for p in parts if p]
        self._starts: list[int] = []
        total = 0
        for part in self._parts:
            self._starts.append(total)
            total += len(part)
        self.length, self._pos = total, 0

    def read(self, size: int | None = -1) -> bytes:
        end = self._end(size)
        out: list[bytes] = []
        while self._pos < end:
            k = bisect.bisect_right(self._starts, self._pos) - 1
            part, offset = self._parts[k], self._pos - self._starts[k]
            chunk = part[offset:offset + end - self._pos]
            out.append(chunk)
            self._pos += len(chunk)
        return out[0] if len(out) == 1 else b"".join(out)


_META_KEEP = {
    0x00020000, 0x00020001, 0x00020002, 0x00020003, 0x00020010, 0x00020012, 0x00020013,
}
