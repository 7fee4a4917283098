"""The independent verification pass over a run's staged DICOM files (runs inside the gate).

It shares no code with the header engine or the pixel stage's decisions: each staged file is re-read
with plain pydicom, every element at every depth (file meta, private attributes, sequences) is
walked, and each string value, its PN components (PS3.5 6.2 PN) and its tokens are hashed with the
crosswalk's keyed hash (:func:`deid.crosswalk.lookup_hash`) for every kind and compared with the
hashes of the originals this run replaced. A match means an original value survived. Frames of a
configurable sample are OCR'd again (PS3.15 E.3.1) and each line is checked the same way plus the
pixel classifier's rules for dates, IDs, names and labels.

Findings name the instance by its new SOP Instance UID and the attribute by tag path, or the frame
and box geometry, and the check (hash kind or rule): never the value.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa

from deid import zones
from deid.config import VerificationConfig
from deid.dicomio import quiet_values
from deid.keys import KeyRing

FINDINGS_SCHEMA = pa.schema([("sop_instance_uid", pa.string()), ("check", pa.string()),
                             ("location", pa.string()), ("kind", pa.string()),
                             ("n_values", pa.int64()), ("n_lines", pa.int64())])
SPARK_SCHEMA = ("sop_instance_uid string, check string, location string, kind string, "
                "n_values long, n_lines long")
SUMMARY, HEADER, OCR, UNREADABLE = "summary", "header", "ocr", "unreadable"
OCR_RULE = "ocr_rule"  # a second OCR read a date/ID-like pattern: advisory unless ocr.rules_block
# Code Sequence Macro vocabulary (PS3.3 Table 8.8-1): scheme codes, not free text. A short code such
# as "1234" equal to some input's study or procedure ID is a coincidence of vocabulary, not a leak.
_VOCABULARY_TAGS = ("(0008,0100)", "(0008,0102)", "(0008,0103)", "(0008,0119)", "(0008,0120)")
_BULK = {0x7FE00010, 0x7FE00008, 0x7FE00009}
_TEXT_VRS = {"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "TM", "UC", "UI",
             "UR", "UT"}
_BINARY_VRS = {"OB", "UN", "OW"}
_TOKEN = re.compile(r"[^\s\\^=,;:.()\[\]{}\"'<>|/]+")


@dataclass(frozen=True)
class VerifyParams:
    """What the tasks need; pickled into the closure (the key travels like the processor's)."""

    keyring: KeyRing = field(repr=False)
    hashes: frozenset[str] = field(repr=False)
    staging: str
    config: VerificationConfig


def tag_str(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def candidates(value: str, min_length: int) -> set[str]:
    """The whole value, its PN groups and components (``=``, ``^``), its words and finer tokens."""
    v = value.strip().strip("\x00").strip()
    out = {v}
    for group in v.split("="):
        out.add(group.strip())
        out.update(c.strip() for c in group.split("^"))
    out.update(_TOKEN.findall(v))
    out.update(t.strip(".,;:()[]{}\"'") for t in v.split())  # whole PN / ID tokens inside free text
    return {c for c in out if len(c) >= min_length}


def _as_texts(elem: object, vr: str, max_binary: int) -> list[str]:
    value = getattr(elem, "value", None)
    if value is None:
        return []
    if vr in _BINARY_VRS:
        if isinstance(value, (bytes, bytearray)) and 0 < len(value) <= max_binary:
            text = bytes(value).decode("latin-1")
            return [t for t in re.split(r"[\x00-\x1f\x7f-\xff]+", text) if t]
        return []
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return [str(v) for v in value if v is not None]
    return [str(value)]


def walk_values(ds: object, max_binary: int) -> Iterator[tuple[str, str]]:
    """(tag path, text) for every string-like value at every depth, file meta and private included."""
    meta = getattr(ds, "file_meta", None)
    stack: list[tuple[object, str]] = [(ds, "")]
    if meta is not None:
        stack.append((meta, ""))
    while stack:
        current, prefix = stack.pop()
        for elem in current:  # type: ignore[attr-defined]
            tag = int(elem.tag)
            path = prefix + tag_str(tag)
            vr = str(elem.VR)
            if vr == "SQ":
                for i, item in enumerate(elem.value or []):
                    stack.append((item, f"{path}[{i}]"))
                continue
            if tag in _BULK or (0x60000000 <= tag < 0x61000000 and tag & 0xFFFF == 0x3000):
                continue
            if vr in _TEXT_VRS or vr in _BINARY_VRS:
                for text in _as_texts(elem, vr, max_binary):
                    yield path, text


def hash_hits(texts: Iterable[str], keyring: KeyRing, kinds: Iterable[str], hashes: frozenset[str],
              min_length: int) -> set[str]:
    """Crosswalk kinds whose keyed hash of a candidate string is one of ``hashes``."""
    from deid.crosswalk import lookup_hash

    hits: set[str] = set()
    kinds = tuple(kinds)
    for text in texts:
        for c in candidates(text, min_length):
            for kind in kinds:
                if kind not in hits and lookup_hash(keyring, kind, c) in hashes:
                    hits.add(kind)
    return hits


def sampled(uid: str, fraction: float) -> bool:
    """Deterministic sample by the (pseudonymous) SOP Instance UID."""
    if fraction >= 1.0:
        return True
    return int(hashlib.sha256(uid.encode()).hexdigest()[:8], 16) / 0x100000000 < fraction


def frame_indices(count: int, max_frames: int) -> list[int]:
    """First, last and evenly spaced frames, at most ``max_frames``."""
    if count <= max_frames:
        return list(range(count))
    if max_frames == 1:
        return [0]
    step = (count - 1) / (max_frames - 1)
    return sorted({round(i * step) for i in range(max_frames)})


def check_header(ds: object, params: VerifyParams) -> tuple[list[tuple[str, str]], int]:
    """(tag path, kind) findings and the number of values compared."""
    cfg = params.config
    findings: list[tuple[str, str]] = []
    n = 0
    for path, text in walk_values(ds, cfg.max_binary_bytes):
        n += 1
        for kind in sorted(hash_hits([text], params.keyring, cfg.kinds, params.hashes, cfg.min_length)):
            if kind == "other_id" and path.endswith(_VOCABULARY_TAGS):
                continue
            findings.append((path, kind))
    return findings, n


def check_pixels(ds: object, params: VerifyParams) -> tuple[list[tuple[str, str]], int]:
    """(frame/box, check) findings of a second OCR of the staged (redacted) frames, and the line count."""
    from deid.pixels.classify import load_allowlist, rule_match
    from deid.pixels.frames import Render, decode_frames, has_pixel_data, render_frame
    from deid.pixels.ocr import get_engine

    ocr = params.config.ocr
    if not has_pixel_data(ds):  # type: ignore[arg-type]
        return [], -1
    frames = decode_frames(ds)  # type: ignore[arg-type]
    indices = frame_indices(frames.count, ocr.max_frames)
    images = [render_frame(frames, f, ds, Render.VOI) for f in indices]  # type: ignore[arg-type]
    engine = get_engine(ocr.engine)
    allow = load_allowlist(None)
    findings: list[tuple[str, str]] = []
    n_lines = 0
    for f, boxes in zip(indices, engine.read(images), strict=False):
        for box in boxes:
            n_lines += 1
            where = f"frame {f} box x={box.x} y={box.y} w={box.w} h={box.h}"
            for kind in sorted(hash_hits([box.text], params.keyring, params.config.kinds, params.hashes,
                                         params.config.min_length)):
                findings.append((where, kind))
            if box.confidence < ocr.min_confidence or allow.clears(box.text):
                continue
            rule = rule_match(box.text)
            if rule is not None and rule in ocr.rules:
                findings.append((where, f"rule_{rule}"))
    return findings, n_lines


def _read(staging: str, name: str) -> object:
    import io

    import pydicom

    return pydicom.dcmread(io.BytesIO(zones.read_bytes(zones.staged_file(staging, name))), force=True)


def verify_instance(uid: str, name: str, params: VerifyParams) -> list[dict[str, object]]:
    """Finding rows for one staged file plus one summary row (value-free)."""
    rows: list[dict[str, object]] = []
    try:
        ds = _read(params.staging, name)
        header, n_values = check_header(ds, params)
    except Exception as exc:  # noqa: BLE001 - an unreadable staged file is itself a finding
        return [{"sop_instance_uid": uid, "check": UNREADABLE, "location": "file",
                 "kind": exc.__class__.__name__, "n_values": 0, "n_lines": 0}]
    rows += [{"sop_instance_uid": uid, "check": HEADER, "location": p, "kind": k, "n_values": 0, "n_lines": 0}
             for p, k in header]
    n_lines = -1  # not OCR'd
    if params.config.ocr.enabled and sampled(uid, params.config.ocr.sample_fraction):
        try:
            pixel, n_lines = check_pixels(ds, params)
        except Exception as exc:  # noqa: BLE001 - frames that cannot be checked fail the check
            pixel, n_lines = [("pixel data", f"ocr_failed_{exc.__class__.__name__}")], 0
        rows += [{"sop_instance_uid": uid, "check": OCR_RULE if k.startswith("rule_") else OCR,
                  "location": p, "kind": k, "n_values": 0, "n_lines": 0} for p, k in pixel]
    rows.append({"sop_instance_uid": uid, "check": SUMMARY, "location": "", "kind": "",
                 "n_values": n_values, "n_lines": n_lines})
    return rows


def verify_batches(batches: Iterator[pd.DataFrame], params: VerifyParams) -> Iterator[pd.DataFrame]:
    """mapInPandas: ``(sop_instance_uid, staged_name)`` -> finding and summary rows."""
    for batch in batches:
        rows: list[dict[str, object]] = []
        with quiet_values():  # pydicom's warnings would quote values
            for uid, name in zip(batch["sop_instance_uid"], batch["staged_name"], strict=True):
                rows += verify_instance(str(uid), str(name), params)
        yield pa.Table.from_pylist(rows, schema=FINDINGS_SCHEMA).to_pandas()


@dataclass
class VerificationSummary:
    n_instances: int = 0
    n_values: int = 0
    n_ocr_instances: int = 0
    n_ocr_lines: int = 0
    n_findings: int = 0
    findings: list[dict[str, str]] = field(default_factory=list)  # first max_findings, value-free
    n_header_findings: int = 0
    n_ocr_findings: int = 0
    n_rule_findings: int = 0

    @property
    def ok(self) -> bool:
        return self.n_findings == 0
