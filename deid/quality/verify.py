"""The independent verification pass over a run's staged DICOM files and metadata rows (in the gate).

It shares no code with the header engine's or the pixel stage's decisions, only the one tolerant
matcher (:mod:`deid.textmatch`). The run's originals are turned into keyed needles
(:mod:`deid.quality.originals`: every spelling of every identifying value, hashed with the run's
key): by the de-identify task from the original it parsed, once the engine and the pixel stage are
done with it (:func:`original_needles`; they change copies only), or, when the task made none, read
again from bronze (:func:`needle_batches`). Each staged file is re-read with plain pydicom; every text value (AE, CS, DA,
DT, LO, LT, PN, SH, ST, UC, UI, UR, UT and short OB/UN) at every depth, file meta and private
attributes included, is cut into the matcher's spans (token n-grams in any case, compact and
OCR-folded forms, dotted UIDs), each span is hashed the same way, and a hash equal to a needle is a
finding: an original value survived, whatever its case, order, separators or layout. The metadata
table's text columns (``dicom_json`` walked element by element) and the OCR text of a configurable
sample of frames (PS3.15 E.3.1, read again) are checked the same way; OCR lines also go through the
pixel classifier's rules for dates, IDs, names and labels.

Findings name the input by its bronze key (sha256), the attribute by tag path (or the frame and
box geometry, or the metadata column), and the matcher (needle kind or rule): never the value.

A header or metadata match is excused only when it is the input's own value in an attribute Table
E.1-1 does not list (a short text VR at any depth, e.g. a coil element named "12345" that equals
another input's ID without its zeros), unchanged from its original and none of its own identifiers
(:func:`own_value`); only inputs with such matches have their original read again.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa

from deid import zones
from deid.config import VerificationConfig
from deid.crosswalk import CrosswalkKind
from deid.dicomio import quiet_values, quietly
from deid.header.attest import PixelStatus
from deid.header.profile import Action, Profile
from deid.keys import KeyRing
from deid.quality.originals import (
    KEPT,
    OCR_SUFFIX,
    OWN_DATE,
    KeyedHasher,
    NeedleRules,
    date_parts,
    identifying_values,
    needle_hashes,
    needle_keys,
    own_date_key,
)
from deid.textmatch import spans

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

FINDINGS_SCHEMA = pa.schema([("sop_instance_uid", pa.string()), ("sha256", pa.string()),
                             ("check", pa.string()), ("location", pa.string()), ("kind", pa.string()),
                             ("n_values", pa.int64()), ("n_lines", pa.int64())])
SPARK_SCHEMA = ("sop_instance_uid string, sha256 string, check string, location string, kind string, "
                "n_values long, n_lines long")
NEEDLE_SCHEMA = "needle binary, kind string"
SUMMARY, HEADER, METADATA, OCR, UNREADABLE = "summary", "header", "metadata", "ocr", "unreadable"
OCR_RULE = "ocr_rule"  # a second OCR read a date/ID-like pattern: advisory unless ocr.rules_block
# Code Sequence Macro vocabulary (PS3.3 Table 8.8-1): scheme codes, not free text. A short code such
# as "1234" equal to some input's study or procedure ID is a coincidence of vocabulary, not a leak.
_VOCABULARY_TAGS = ("(0008,0100)", "(0008,0102)", "(0008,0103)", "(0008,0119)", "(0008,0120)")
_BULK = {0x7FE00010, 0x7FE00008, 0x7FE00009}
# text VRs whose values are compared (numbers DS/IS, ages AS and times TM carry no identifier the
# needles describe, and their digit runs would only meet ID or date needles by coincidence)
_TEXT_VRS = {"AE", "CS", "DA", "DT", "LO", "LT", "PN", "SH", "ST", "UC", "UI", "UR", "UT"}
_BINARY_VRS = {"OB", "UN"}
_JSON_TEXT_VRS = _TEXT_VRS
_METADATA_TEXT = ("study_uid", "series_uid", "sop_class_uid", "modality", "body_part", "manufacturer",
                  "model", "study_description", "series_description", "patient_pseudonym", "output_path")


@dataclass(frozen=True)
class VerifyParams:
    """What the tasks need; pickled into the closure (the key travels like the processor's).

    ``needles``: keyed hash of every needle of this run's originals -> its kind (never a value).
    ``needles_at``: instead, a Parquet folder of ``(needle, kinds)`` rows (the gate's, in the PHI zone),
    read once per Python worker (:func:`load_needles`): a run's needles grow with the export, so they
    never travel in the task closure nor through the driver.
    """

    keyring: KeyRing = field(repr=False)
    needles: dict[bytes, str] = field(repr=False)
    staging: str
    config: VerificationConfig
    needles_at: str | None = None

    def needle_map(self) -> dict[bytes, str]:
        return self.needles if self.needles_at is None else load_needles(self.needles_at)


_LOADED: dict[str, dict[bytes, str]] = {}  # one run's needles per worker (the last location read)
_LOADED_LOCK = threading.Lock()


def load_needles(location: str) -> dict[bytes, str]:
    """The run-wide needles (:func:`merge_needles`) of the ``(needle binary, kinds array<string>)``
    Parquet folder at ``location``, read once per worker process."""
    import pyarrow.parquet as pq

    with _LOADED_LOCK:
        if location not in _LOADED:
            _LOADED.clear()
            fs, path = zones.arrow_fs(location)
            table = pq.read_table(path, filesystem=fs, columns=["needle", "kinds"])
            _LOADED[location] = merge_needles(
                (bytes(n), k) for n, kinds in zip(table.column("needle").to_pylist(),
                                                  table.column("kinds").to_pylist(), strict=True)
                for k in kinds or ())
        return _LOADED[location]


_HASHERS: dict[str, KeyedHasher] = {}


def _hasher(keyring: KeyRing) -> KeyedHasher:
    if keyring.version not in _HASHERS:
        _HASHERS[keyring.version] = KeyedHasher(keyring)
    return _HASHERS[keyring.version]


def tag_str(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


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


def walk_values(ds: object, max_binary: int) -> Iterator[tuple[str, str, str]]:
    """(tag path, VR, text) for every text value at every depth, file meta and private included."""
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
                    yield path, vr, text


def span_hits(texts: Iterable[str], params: VerifyParams, *, ocr: bool = False) -> set[str]:
    """Needle kinds whose keyed hash equals the keyed hash of a span of one of ``texts``; keys only
    an OCR misreading gives count for OCR text (``ocr``) only."""
    needles = params.needle_map()
    if not needles:
        return set()
    hasher = _hasher(params.keyring)
    min_length = params.config.min_length
    kinds = set(params.config.kinds)
    hits: set[str] = set()
    for text in texts:
        for key in {s.key for s in spans(text)}:
            if len(key.replace(" ", "")) < min_length:
                continue
            kind = needles.get(hasher(key))
            if kind is not None and kind.endswith(OCR_SUFFIX) and ocr:
                kind = kind[: -len(OCR_SUFFIX)]
            if kind is not None and kind in kinds:
                hits.add(kind)
    return hits


def value_hits(text: str, vr: str, params: VerifyParams, scope: str | None) -> set[str]:
    """Needle kinds found in one typed value (:func:`span_hits`). A DA or DT value of the input whose
    bronze key is ``scope`` is a date finding only when it is one of that input's own original dates
    (:func:`deid.quality.originals.own_date_key`), not when a correctly shifted date happens to be
    another input's original date; its other kinds are checked run-wide as for any value."""
    hits = span_hits([text], params)
    if vr not in ("DA", "DT") or scope is None:
        return hits
    hits.discard("date")
    if "date" in params.config.kinds:
        needles, hasher = params.needle_map(), _hasher(params.keyring)
        if any(needles.get(hasher(own_date_key(scope, d))) == OWN_DATE for d in date_parts(text)):
            hits.add("date")
    return hits


def _excused(path: str, kind: str) -> bool:
    return kind == "id" and path.endswith(_VOCABULARY_TAGS)


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


def check_header(ds: object, params: VerifyParams, scope: str | None = None) -> tuple[list[tuple[str, str]], int]:
    """(tag path, needle kind) findings and the number of values compared; ``scope``: the input's
    bronze key (:func:`value_hits`)."""
    findings: list[tuple[str, str]] = []
    n = 0
    for path, vr, text in walk_values(ds, params.config.max_binary_bytes):
        n += 1
        for kind in sorted(value_hits(text, vr, params, scope)):
            if not _excused(path, kind):
                findings.append((path, kind))
    return sorted(set(findings)), n


def check_pixels(ds: object, params: VerifyParams) -> tuple[list[tuple[str, str]], int]:
    """(frame/box, check) findings of a second OCR of the staged (redacted) frames, and the line count."""
    from deid.pixels.classify import load_allowlist
    from deid.pixels.frames import has_pixel_data, open_frames
    from deid.pixels.ocr import get_engine
    from deid.pixels.renderings import read_frames

    ocr = params.config.ocr
    if not has_pixel_data(ds):  # type: ignore[arg-type]
        return [], -1
    frames = open_frames(ds)  # type: ignore[arg-type] # frame by frame
    indices = frame_indices(frames.count, ocr.max_frames)
    engine = get_engine(ocr.engine)
    allow = load_allowlist(None)
    findings: list[tuple[str, str]] = []
    n_lines = 0
    found = read_frames(engine, frames, ds, list(indices))  # type: ignore[arg-type] # the stage's renderings
    for f, boxes in zip(indices, found, strict=False):
        for box in boxes:
            n_lines += 1
            where = f"frame {f} box x={box.x} y={box.y} w={box.w} h={box.h}"
            for kind in sorted(span_hits([box.text], params, ocr=True)):
                findings.append((where, kind))
            if box.confidence < ocr.min_confidence or allow.clears(box.text):
                continue
            rule = pattern_rule(box.text)
            if rule is not None and rule in ocr.rules:
                findings.append((where, f"rule_{rule}"))
    return findings, n_lines


def pattern_rule(text: str) -> str | None:
    """The pixel classifier's rule that a re-OCR'd line matches (:func:`deid.pixels.classify.rule_match`),
    except that a label with no value after it is no finding: "NAME:" whose value was redacted, or
    "DR" left of a technical parameter ("DR60", dynamic range) cut by a redaction next to it, identify
    no one. The other rules still run on the line with its bare labels blanked out."""
    from deid.pixels.classify import rule_match

    rule = rule_match(text)
    if rule != "label":
        return rule
    labels = list(_label_pattern().finditer(text))
    after_first = "".join(text[m.end(): n.start() if n else len(text)]
                          for m, n in zip(labels, [*labels[1:], None], strict=True))
    if any(c.isalnum() for c in after_first):
        return rule
    blanked = _label_pattern().sub(" ", text)
    return rule_match(blanked) if blanked.strip() else None


def _label_pattern() -> re.Pattern[str]:
    from deid.pixels.classify import rule_pattern

    return rule_pattern("label")


def _read(staging: str, name: str) -> object:
    import io

    import pydicom

    return pydicom.dcmread(io.BytesIO(zones.read_bytes(zones.staged_file(staging, name))), force=True)


def _row(uid: str, sha: str, check: str, location: str, kind: str, n_values: int = 0,
         n_lines: int = 0) -> dict[str, object]:
    return {"sop_instance_uid": uid, "sha256": sha, "check": check, "location": location, "kind": kind,
            "n_values": n_values, "n_lines": n_lines}


def verify_instance(uid: str, sha: str, name: str, params: VerifyParams,
                    burned_in_status: str | None = None) -> list[dict[str, object]]:
    """Finding rows for one staged file plus one summary row (value-free).

    An instance whose pixels the run left UNVERIFIED (no pixel stage, or it failed) is not OCR'd
    again: the gate's critical ``burned_in_status_resolved`` expectation refuses the release of such
    a run whatever a second OCR would find, so that OCR would only cost time.
    """
    try:
        ds = _read(params.staging, name)
        header, n_values = check_header(ds, params, sha)
    except Exception as exc:  # noqa: BLE001 - an unreadable staged file is itself a finding
        return [_row(uid, sha, UNREADABLE, "file", exc.__class__.__name__)]
    rows = [_row(uid, sha, HEADER, p, k) for p, k in header]
    n_lines = -1  # not OCR'd
    if (params.config.ocr.enabled and burned_in_status != PixelStatus.UNVERIFIED.value
            and sampled(uid, params.config.ocr.sample_fraction)):
        try:
            pixel, n_lines = check_pixels(ds, params)
        except Exception as exc:  # noqa: BLE001 - frames that cannot be checked fail the check
            pixel, n_lines = [("pixel data", f"ocr_failed_{exc.__class__.__name__}")], 0
        rows += [_row(uid, sha, OCR_RULE if k.startswith("rule_") else OCR, p, k) for p, k in pixel]
    rows.append(_row(uid, sha, SUMMARY, "", "", n_values, n_lines))
    return rows


def verify_batches(batches: Iterator[pd.DataFrame], params: VerifyParams) -> Iterator[pd.DataFrame]:
    """mapInPandas: ``(sop_instance_uid, sha256, staged_name[, burned_in_status])`` -> finding and
    summary rows."""
    for batch in batches:
        rows: list[dict[str, object]] = []
        status = batch["burned_in_status"] if "burned_in_status" in batch else [None] * len(batch)
        with quiet_values():  # pydicom's warnings would quote values
            for uid, sha, name, st in zip(batch["sop_instance_uid"], batch["sha256"], batch["staged_name"],
                                          status, strict=True):
                rows += verify_instance(str(uid), str(sha), str(name), params,
                                        str(st) if isinstance(st, str) else None)
        yield pa.Table.from_pylist(rows, schema=FINDINGS_SCHEMA).to_pandas()


# ---------------------------------------------------------------------------------- metadata table
def json_values(doc: Any, prefix: str = "") -> Iterator[tuple[str, str, str]]:
    """(tag path, VR, text) of every text value of a PS3.18 F DICOM JSON object, at every depth."""
    stack: list[tuple[Any, str]] = [(doc, prefix)]
    while stack:
        node, path = stack.pop()
        if not isinstance(node, dict):
            continue
        for tag, elem in node.items():
            if not isinstance(elem, dict):
                continue
            here = f"{path}({str(tag)[:4].upper()},{str(tag)[4:].upper()})"
            vr = elem.get("vr")
            for i, value in enumerate(elem.get("Value") or []):
                if vr == "SQ":
                    stack.append((value, f"{here}[{i}]"))
                elif vr == "PN" and isinstance(value, dict):
                    yield from ((here, "PN", str(v)) for v in value.values() if v)
                elif vr in _JSON_TEXT_VRS and value is not None:
                    yield here, str(vr), str(value)


def check_metadata_row(row: dict[str, Any], params: VerifyParams) -> tuple[list[tuple[str, str]], int]:
    """(column[tag path], needle kind) findings of one metadata row and the number of values compared."""
    texts: list[tuple[str, str, str]] = [(c, "", str(row[c])) for c in _METADATA_TEXT
                                         if row.get(c) not in (None, "")]
    raw = row.get("dicom_json")
    if raw:
        try:
            texts += [(f"dicom_json{p}", vr, t) for p, vr, t in json_values(json.loads(str(raw)))]
        except ValueError:
            texts.append(("dicom_json", "", str(raw)))
    sha = row.get("sha256")
    scope = str(sha) if isinstance(sha, str) and sha else None
    findings = {(where, kind) for where, vr, text in texts for kind in value_hits(text, vr, params, scope)
                if not _excused(where, kind)}
    return sorted(findings), len(texts)


@quietly
def verify_metadata_batches(batches: Iterator[pd.DataFrame], params: VerifyParams) -> Iterator[pd.DataFrame]:
    """mapInPandas over staged metadata rows -> finding rows (check ``metadata``) and no summary."""
    for batch in batches:
        rows: list[dict[str, object]] = []
        for rec in batch.to_dict("records"):
            found, _ = check_metadata_row(rec, params)
            rows += [_row(str(rec["sop_instance_uid"]), str(rec["sha256"]), METADATA, f"metadata.{w}", k)
                     for w, k in found]
        yield pa.Table.from_pylist(rows, schema=FINDINGS_SCHEMA).to_pandas()


# ---------------------------------------------------------------------------------- the input's own values
# Short text VRs of attributes Table E.1-1 does not list (PS3.15 E.1: not identifying): a coil name, a
# detector label. Free text (LT/ST/UT/UC), names, UIDs and dates are never excused.
_OWN_VRS = frozenset({"AE", "CS", "SH", "LO"})
_STEP = re.compile(r"\(([0-9A-F]{4}),([0-9A-F]{4})\)(?:\[(\d+)\])?")


def parse_path(path: str) -> list[tuple[int, int | None]]:
    """``(5200,9229)[0](0018,9047)`` -> ``[(0x52009229, 0), (0x00189047, None)]`` (the walk's paths)."""
    return [(int(g + e, 16), int(i) if i else None) for g, e, i in _STEP.findall(path)]


def element_at(ds: object, path: str) -> object | None:
    """The element a finding's tag path names, or None when the dataset has no such element."""
    steps = parse_path(path)
    current: Any = ds
    for n, (tag, index) in enumerate(steps):
        meta = getattr(current, "file_meta", None) if n == 0 else None
        holder = meta if meta is not None and tag >> 16 == 2 else current
        if holder is None or tag not in holder:
            return None
        elem = holder[tag]
        if index is None:
            return elem if n == len(steps) - 1 else None
        items = elem.value if str(elem.VR) == "SQ" else None
        if not items or index >= len(items):
            return None
        current = items[index]
    return None


# metadata columns the staged file holds at a tag path
_COLUMN_PATHS = {"metadata.patient_pseudonym": "(0010,0020)"}


def tag_path(location: str) -> str:
    """The staged file's tag path of a finding's location: a metadata row's ``dicom_json`` path, or the
    column the staged file holds at a tag (``patient_pseudonym``); other columns stay as they are."""
    return _COLUMN_PATHS.get(location, location).removeprefix("metadata.").removeprefix("dicom_json")


def own_value(original: object, staged: object, path: str, rules: NeedleRules, own_keys: frozenset[str]) -> bool:
    """Whether a finding at ``path`` is the input's own non-identifying value, not a leak.

    PS3.15 E.1: an attribute Table E.1-1 does not list (standard group, short text VR, no needle kind)
    is not identifying; when the released value is the very value the input's own original holds
    there, the match is a coincidence with another input's identifier (a coil named "12345" and
    some patient's ID 0012345). It stays a finding when any span of it is one of this input's own
    identifying values."""
    path = tag_path(path)
    if not path.startswith("("):
        return False  # a metadata column
    before, after = element_at(original, path), element_at(staged, path)
    if before is None or after is None:
        return False
    tag, vr = int(before.tag), str(before.VR)  # type: ignore[attr-defined]
    if (tag >> 16) & 1 or vr not in _OWN_VRS or rules.table.action_for(tag) is not None \
            or rules.kind(tag, vr) is not None:
        return False
    texts = _as_texts(after, vr, 0)
    if not texts or texts != _as_texts(before, vr, 0):
        return False
    return not any(s.key in own_keys for t in texts for s in spans(t))


def transformed_date(original: object, staged: object, path: str, keyring: KeyRing, profile: Profile) -> bool:
    """Whether a date finding at ``path`` is the profile's transform of the original value at that
    very path (PS3.15 E.3.6: shifted by the patient's keyed offset, or year only), not a leak: a
    shifted date can equal another date of the same input (a child's Study Date moved back onto its
    Patient's Birth Date), or a year-only date that is the original's own 1 January. The original value
    under a shift, or any other value, stays a finding."""
    from deid.header.dates import shift_for, transform_date

    path = tag_path(path)
    if not path.startswith("("):
        return False
    before, after = element_at(original, path), element_at(staged, path)
    if before is None or after is None:
        return False
    vr = str(before.VR)  # type: ignore[attr-defined]
    if vr not in ("DA", "DT") or str(after.VR) != vr:  # type: ignore[attr-defined]
        return False
    action = _rules(profile).table.action_for(int(before.tag))  # type: ignore[attr-defined]
    if action is Action.X or action is Action.Z:
        return False  # removed or emptied (Patient's Birth Date under Safe Harbor): any value is a finding
    old, new = _as_texts(before, vr, 0), _as_texts(after, vr, 0)
    if not new or len(old) != len(new):
        return False
    shift = shift_for(keyring, profile, original)  # type: ignore[arg-type]
    expected = [transform_date(profile, shift, v, vr) for v in old]
    # equal to the original only where the transform keeps what it shows: a year-only date of 1 January
    # (HIPAA Safe Harbor keeps the year); a shift is never 0 days (deid.header.profile.DateShift)
    return new == expected


_PSEUDONYM_KINDS = tuple(k.value for k in (CrosswalkKind.PATIENT_ID, CrosswalkKind.ACCESSION, CrosswalkKind.OTHER_ID))


def own_pseudonyms(original: object, keyring: KeyRing) -> frozenset[str]:
    """Every keyed pseudonym (:func:`deid.header.pseudonyms.pseudo_id` under each ID kind,
    :func:`deid.header.pseudonyms.pseudo_name`) of every short text or name value of this input, at
    every depth, and of its patient key (:func:`deid.header.dates.patient_key`); in the task only."""
    from deid.header.dates import patient_key
    from deid.header.pseudonyms import pseudo_id, pseudo_name

    values = {patient_key(original)}  # type: ignore[arg-type]
    stack: list[Any] = [original]
    while stack:
        for elem in stack.pop():
            vr = str(elem.VR)
            if vr == "SQ":
                stack.extend(elem.value or [])
            elif vr in ("LO", "SH", "PN", "CS", "UC"):
                values.update(t.strip() for t in _as_texts(elem, vr, 0) if t.strip())
    out = {pseudo_id(keyring, kind, v, 16) for v in values for kind in _PSEUDONYM_KINDS}
    return frozenset(out | {pseudo_name(keyring, v) for v in values})


def keyed_replacement(original: object, staged: object, path: str, kind: str, keyring: KeyRing,
                      profile: Profile, pseudonyms: frozenset[str]) -> bool:
    """Whether a finding at ``path`` is a value the engine made from this input with the run's key, not
    a leak: a keyed pseudonym of one of its own values (``pseudonyms``, :func:`own_pseudonyms`) whose
    letter or digit run happens to equal another input's acronym, surname or ID ("BMC" inside a
    Patient ID pseudonym), or a date transformed from the original at that very path
    (:func:`transformed_date`)."""
    if kind == "date" and transformed_date(original, staged, path, keyring, profile):
        return True
    path = tag_path(path)
    after = element_at(staged, path) if path.startswith("(") else None
    if after is None or str(after.VR) not in ("LO", "SH", "PN"):  # type: ignore[attr-defined]
        return False
    texts = [t.strip() for t in _as_texts(after, str(after.VR), 0)]  # type: ignore[attr-defined]
    return bool(texts) and all(t in pseudonyms for t in texts)


def own_keys(original: object, rules: NeedleRules) -> frozenset[str]:
    """Clear needle keys of this input's own identifying values (in the task only, never returned)."""
    out: set[str] = set()
    for kind, value in identifying_values(original, rules):  # type: ignore[arg-type]
        if kind is not None:
            typed, ocr_only = needle_keys(value, kind)
            out |= typed | ocr_only
    return frozenset(out)


def excused_batches(batches: Iterator[pd.DataFrame], params: VerifyParams,
                    profile: Profile) -> Iterator[pd.DataFrame]:
    """mapInPandas over bronze rows of inputs with header/metadata findings, ``(sha256, content,
    blob_path, staged_name, findings)`` (findings: JSON list of finding rows) -> the findings that are
    the input's own non-identifying values (:func:`own_value`); value-free."""
    from deid.dicomio import read_dicom

    rules = _rules(profile)
    for batch in batches:
        rows: list[dict[str, object]] = []
        with quiet_values():
            for rec in batch.to_dict("records"):
                blob = rec.get("blob_path")
                try:
                    original = read_dicom(zones.read_bytes(blob) if isinstance(blob, str) else bytes(rec["content"]))
                    staged = _read(params.staging, str(rec["staged_name"]))
                except Exception:  # noqa: BLE001 - nothing excused when either cannot be read
                    continue
                mine, made = own_keys(original, rules), own_pseudonyms(original, params.keyring)
                for f in json.loads(str(rec["findings"])):
                    where = str(f["location"])
                    if own_value(original, staged, where, rules, mine) or keyed_replacement(
                            original, staged, where, str(f["kind"]), params.keyring, profile, made):
                        rows.append(_row(str(f["sop_instance_uid"]), str(rec["sha256"]), str(f["check"]),
                                         str(f["location"]), str(f["kind"])))
        yield pa.Table.from_pylist(rows, schema=FINDINGS_SCHEMA).to_pandas()


# ---------------------------------------------------------------------------------- originals
_RULES: dict[str, NeedleRules] = {}


def _rules(profile: Profile) -> NeedleRules:
    key = profile.model_dump_json()
    if key not in _RULES:
        _RULES[key] = NeedleRules.of(profile)
    return _RULES[key]


@quietly
def needle_batches(batches: Iterator[pd.DataFrame], keyring: KeyRing, profile: Profile,
                   kinds: tuple[str, ...]) -> Iterator[pd.DataFrame]:
    """mapInPandas over bronze ``(sha256, content, blob_path)`` -> ``(needle, kind)`` keyed hashes.

    An original that cannot be read again gives no needles (it was quarantined when it was read
    the first time; an input the processor read is read the same way here)."""
    from deid.dicomio import read_dicom

    for batch in batches:
        found: set[tuple[bytes, str]] = set()
        blobs = batch["blob_path"] if "blob_path" in batch else [None] * len(batch)
        for sha, content, blob in zip(batch["sha256"], batch["content"], blobs, strict=True):
            try:
                data = zones.read_bytes(blob) if isinstance(blob, str) else bytes(content)
                original = read_dicom(data)
            except Exception:  # noqa: BLE001 - see the docstring
                continue
            found.update(original_needles(original, keyring, profile, kinds, str(sha)))
        yield pd.DataFrame({"needle": [n for n, _ in found], "kind": [k for _, k in found]},
                           columns=["needle", "kind"]).astype({"kind": object})


def original_needles(original: Dataset, keyring: KeyRing, profile: Profile,
                     kinds: tuple[str, ...], sha: str) -> list[tuple[bytes, str]]:
    """``(needle, kind)`` keyed hashes of one original as read (:func:`needle_batches`' rows for it),
    its dates also keyed with its bronze key ``sha`` (:func:`deid.quality.originals.own_date_key`).

    The de-identify task calls this on the original it read (``deid.pipeline.process``, after the
    engine and the pixel stage are done with it: they change copies only), so the gate need not
    read and parse every original a second time. An original whose values cannot be walked gives
    no needles, as in :func:`needle_batches`."""
    try:
        with quiet_values():
            return list(needle_hashes(original, _rules(profile), _hasher(keyring), frozenset(kinds),
                                      sha).items())
    except Exception:  # noqa: BLE001 - see the docstring
        return []


def merge_needles(rows: Iterable[tuple[bytes, str]]) -> dict[bytes, str]:
    """Run-wide needles: a key some original keeps as it is (``kept``) is no needle in any instance
    (a vendor name that is also an institution, a product name that is also a patient name); a
    typed key wins over its OCR-only twin."""
    out: dict[bytes, str] = {}
    kept: set[bytes] = set()
    for needle, kind in rows:
        if kind == KEPT:
            kept.add(needle)
        elif needle not in out or out[needle].endswith(OCR_SUFFIX):
            out[needle] = kind
    for needle in kept:
        out.pop(needle, None)
    return out


@dataclass
class VerificationSummary:
    n_instances: int = 0
    n_values: int = 0
    n_ocr_instances: int = 0
    n_ocr_lines: int = 0
    n_findings: int = 0
    findings: list[dict[str, str]] = field(default_factory=list)  # first max_findings, value-free
    n_header_findings: int = 0  # staged files and metadata rows
    n_needles: int = 0
    n_ocr_findings: int = 0
    n_rule_findings: int = 0
    n_own_values: int = 0  # header/metadata matches excused as the input's own values (:func:`own_value`)

    @property
    def ok(self) -> bool:
        return self.n_findings == 0
