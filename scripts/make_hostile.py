"""Generate the hostile export of issue #14 (seeded): every case with its expected outcome.

    python scripts/make_hostile.py DEST [--seed 14]

writes ``DEST/hostile root [é] *ü/`` (a root with spaces, glob characters and non-ASCII) holding two exports,
``export/`` (intake cases: names, entry kinds, duplicates) and ``export-header/`` (header and
verification cases, run separately so that a gate holding one of them does not hide the others),
``outside/`` (targets of symbolic links that leave the export), and ``DEST/manifest.json``. Every case plants *canaries*: strings that must never be found in the
de-identified output zone. The cases are built from pydicom's ``CT_small.dcm`` (a real CT file).

Expected outcomes (``expect``: per entry, the acceptable fates):
``released`` (de-identified and published), ``quarantined:<REASON>``, ``quarantined:*`` (any reason,
e.g. the header engine refusing a malformed value) or ``known`` (same content as another entry).
``side`` says which part of the pipeline a case exercises: ``listing`` (intake), ``duplicates``,
``header`` (header engine: preamble, odd groups, private creators, class UIDs, unlisted text) or
``verify`` (the verification pass: case variants, IDs inside tokens, UIDs inside URLs, Kanji).
"""

from __future__ import annotations

import argparse
import copy
import io
import json
import os
import random
import socket
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pydicom import config as dicom_config
from pydicom import dcmread
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import generate_uid

ROOT_NAME = "hostile root [é] *ü"
RELEASED = "released"


@dataclass
class Case:
    id: str
    side: str
    description: str
    expect: dict[str, list[str]]  # entry (relative path, UTF-8 with \\x escapes) -> acceptable fates
    canaries: list[str] = field(default_factory=list)
    case_insensitive: bool = False
    export: str = "export"  # which export folder holds the case
    skip: str = ""  # why the case's entries were not created here (then it is not checked)


@dataclass
class Manifest:
    seed: int
    root: str  # the intake export folder
    header_root: str  # the header/verification export folder
    outside: str
    cases: list[Case]

    def to_json(self) -> str:
        return json.dumps({"seed": self.seed, "root": self.root, "header_root": self.header_root,
                           "outside": self.outside,
                           "cases": [asdict(c) for c in self.cases]}, indent=1, ensure_ascii=False)


def rel_key(rel: bytes) -> str:
    """How an entry is named in the manifest (and stored by the pipeline): UTF-8, \\x escapes."""
    return rel.decode("utf-8", "backslashreplace")


class Builder:
    """Seeded DICOM files derived from CT_small.dcm."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.study = generate_uid(entropy_srcs=[f"hostile-study-{seed}"])
        path = get_testdata_file("CT_small.dcm")
        assert path is not None, "pydicom's test files are needed"
        self.template = dcmread(str(path))

    def canary(self, tag: str) -> str:
        return f"ZQ{tag}{self.rng.randrange(10**6):06d}X"

    def dataset(self, case: str, n: int = 0) -> Dataset:
        ds = copy.deepcopy(self.template)  # Dataset.copy() is shallow: cases would leak into each other
        ds.file_meta = FileMetaDataset(copy.deepcopy(self.template.file_meta))
        sop = generate_uid(entropy_srcs=[f"hostile-{self.seed}-{case}-{n}"])
        ds.SOPInstanceUID = sop
        ds.file_meta.MediaStorageSOPInstanceUID = sop
        ds.StudyInstanceUID = self.study
        ds.SeriesInstanceUID = generate_uid(entropy_srcs=[f"hostile-series-{self.seed}-{case}"])
        ds.PatientName = f"{self.canary('NAME')}^HOSTILE"
        ds.PatientID = self.canary("PID")
        return ds

    @staticmethod
    def encode(ds: Dataset, preamble: bytes | None = None) -> bytes:
        buf = io.BytesIO()
        ds.preamble = preamble if preamble is not None else b"\0" * 128
        ds.save_as(buf, enforce_file_format=True)
        return buf.getvalue()


def _write(root: Path, rel: bytes, data: bytes) -> bytes:
    path = os.path.join(os.fsencode(root), rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(data)
    return rel


def _listing_cases(b: Builder, root: Path, outside: Path) -> list[Case]:
    cases = []
    for case, rels in (("glob_folder", [b"Study [1]/IM1", b"Study [1]/IM2", b"Study 1/IM1"]),
                       ("star_folder", [b"star*/IM1"]),
                       ("colon_name", [b"scan 2024-06-01 12:30:00.dcm"]),
                       ("dot_underscore", [b".hidden.dcm", b"_underscore.dcm", b"_series/IM1"])):
        names = []
        for n, rel in enumerate(rels):
            ds = b.dataset(case, n)
            names.append(str(ds.PatientName))
            _write(root, rel, b.encode(ds))
        cases.append(Case(case, "listing", f"valid files under hostile names ({case})",
                          {rel_key(r): [RELEASED] for r in rels}, names))
    os.mkfifo(root / "pipe.dcm")
    cases.append(Case("fifo", "listing", "a FIFO never blocks or crashes the run",
                      {"pipe.dcm": ["quarantined:NOT_REGULAR_FILE"]}))
    os.symlink(root / "gone" / "missing.dcm", root / "dangling.dcm")
    cases.append(Case("dangling_link", "listing", "a dangling symbolic link",
                      {"dangling.dcm": ["quarantined:DANGLING_LINK"]}))
    ds = b.dataset("outside")
    ds.StudyDescription = b.canary("OUTSIDE")
    outside.mkdir(parents=True, exist_ok=True)
    (outside / "secret.dcm").write_bytes(b.encode(ds))
    os.symlink(outside / "secret.dcm", root / "outside-file.dcm")
    os.symlink(outside, root / "outside-dir")
    cases.append(Case("outside_links", "listing", "links to a file and a folder outside the root",
                      {"outside-file.dcm": ["quarantined:LINK_OUTSIDE_ROOT"],
                       "outside-dir": ["quarantined:LINK_OUTSIDE_ROOT"]}, [str(ds.StudyDescription)]))
    ds = b.dataset("undecodable")
    ds.StudyDescription = b.canary("BADNAME")
    rel = _write(root, b"name-\xff\xfe-latin1.dcm", b.encode(ds))
    cases.append(Case("undecodable_name", "listing", "a file name that is not valid UTF-8",
                      {rel_key(rel): ["quarantined:UNDECODABLE_NAME"]}, [str(ds.StudyDescription)]))
    cases += _unreadable_cases(b, root)
    _write(root, b"empty.dcm", b"")
    cases.append(Case("empty_file", "listing", "an empty file under a root with spaces and non-ASCII",
                      {"empty.dcm": ["quarantined:EMPTY_FILE"]}))
    _write(root, b"notes.txt", b"not DICOM " + b.canary("TEXT").encode() + b"\n")
    cases.append(Case("not_dicom", "listing", "a text file", {"notes.txt": ["quarantined:NOT_DICOM"]}))
    sock_path = root / "socket.sock"
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(sock_path))
    finally:
        sock.close()  # the socket file stays
    cases.append(Case("socket", "listing", "a UNIX socket",
                      {"socket.sock": ["quarantined:NOT_REGULAR_FILE"]}))
    return cases


def reads_anything() -> bool:
    """True when this process reads a file whose mode is 000 (root, or CAP_DAC_OVERRIDE): then
    unreadable entries cannot be made and their cases are skipped."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / "probe"
        probe.write_bytes(b"x")
        probe.chmod(0)
        try:
            probe.read_bytes()
        except PermissionError:
            return False
        finally:
            probe.chmod(0o600)
        return True


def _unreadable_cases(b: Builder, root: Path) -> list[Case]:
    """A file with mode 000, a folder with mode 000 and a folder that can be listed but not entered
    (0444): each accounted for as UNREADABLE; each holds a valid DICOM file with a canary."""
    specs = [("unreadable_file", "a file nobody may read (mode 000)", b"unreadable.dcm", None, 0o000),
             ("unreadable_folder", "a folder nobody may list (mode 000)", b"locked folder/IM1", b"locked folder",
              0o000),
             ("unenterable_folder", "a folder that lists but cannot be entered (mode 0444)",
              b"no-entry folder/IM1", b"no-entry folder", 0o444)]
    skip = "this process reads files of mode 000 (root or CAP_DAC_OVERRIDE)" if reads_anything() else ""
    cases = []
    for case, description, rel, folder, mode in specs:
        ds = b.dataset(case)
        ds.StudyDescription = b.canary(case.upper().replace("_", "")[:8])
        entry = folder if folder is not None and mode == 0o000 else rel
        if not skip:
            _write(root, rel, b.encode(ds))
            os.chmod(os.path.join(os.fsencode(root), folder or rel), mode)
        cases.append(Case(case, "listing", description, {rel_key(entry): ["quarantined:UNREADABLE"]},
                          [str(ds.StudyDescription)], skip=skip))
    return cases


def _duplicate_cases(b: Builder, root: Path) -> list[Case]:
    genuine = b.dataset("dup-corrupted")
    good = b.encode(genuine)
    bad = bytearray(good)
    for k in range(len(bad) - 2000, len(bad) - 1000):  # pixel bytes changed: still parses
        bad[k] ^= 0x5A
    _write(root, b"dup/genuine.dcm", good)
    _write(root, b"dup/corrupted copy.dcm", bytes(bad))
    genuine2 = b.encode(b.dataset("dup-truncated"))
    _write(root, b"dup2/genuine.dcm", genuine2)
    _write(root, b"dup2/truncated.dcm", genuine2[: len(genuine2) // 3])
    _write(root, b"dup2/identical copy.dcm", genuine2)
    return [
        Case("duplicate_uid_corrupted", "duplicates",
             "two valid inputs, one SOP Instance UID, different content: both held",
             {"dup/genuine.dcm": ["quarantined:DUPLICATE_UID"],
              "dup/corrupted copy.dcm": ["quarantined:DUPLICATE_UID"]}),
        Case("duplicate_uid_truncated", "duplicates",
             "one valid input and a truncated copy: the valid one is released; an identical copy is known",
             {"dup2/genuine.dcm": [RELEASED, "known"], "dup2/identical copy.dcm": [RELEASED, "known"],
              "dup2/truncated.dcm": ["quarantined:TRUNCATED"]}),
    ]


def _header_case(b: Builder, root: Path, case: str, description: str, side: str,
                 plant: Callable[[Dataset, str], bytes | None], fates: list[str],
                 case_insensitive: bool = False, canary: str | None = None) -> Case:
    ds = b.dataset(case)
    canary = canary or b.canary(case.upper().replace("_", "")[:8])
    preamble = plant(ds, canary)
    rel = f"{case}.dcm".encode()
    _write(root, rel, b.encode(ds, preamble))
    return Case(case, side, description, {rel_key(rel): fates}, [canary], case_insensitive, "export-header")


def _plant_preamble(ds: Dataset, c: str) -> bytes:
    return (c.encode() + b" preamble text ").ljust(128, b"#")[:128]


def _plant_odd_groups(ds: Dataset, c: str) -> None:
    for group in (0x0001, 0x0003, 0x0005, 0x0007):
        ds.add_new((group, 0x0010), "LO", f"{c} odd group")
    ds.file_meta.add_new((0x0002, 0x0001), "OB", c.encode())


def _plant_private(ds: Dataset, c: str) -> None:
    block = ds.private_block(0x0019, "SIEMENS MR HEADER", create=True)
    block.add_new(0x0C, "LO", f"{c} spoofed creator")  # a listed element (B_value) holding text
    gems = ds.private_block(0x0043, "GEMS_PARM_01", create=True)
    gems.add_new(0x39, "LO", f"{c} spoofed GE")


def _plant_class_uid(ds: Dataset, c: str) -> None:
    ds.SOPClassUID = f"{c} class"
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ref = Dataset()
    ref.ReferencedSOPClassUID = f"{c} not a UID"
    ref.ReferencedSOPInstanceUID = generate_uid(entropy_srcs=[c, "referenced"])
    ds.ReferencedImageSequence = Sequence([ref])
    scheme = Dataset()
    scheme.CodingSchemeDesignator = "99LOCAL"
    scheme.CodingSchemeUID = f"{c} coding scheme"
    ds.CodingSchemeIdentificationSequence = Sequence([scheme])


def _plant_unlisted_text(ds: Dataset, c: str) -> None:
    ds.ContentDescription = f"{c} content description"
    ds.add_new((0x0042, 0x0010), "ST", f"{c} document title")
    ds.LUTExplanation = f"{c} LUT explanation"
    unit = Dataset()
    unit.CodeValue, unit.CodingSchemeDesignator, unit.CodeMeaning = "mm", "UCUM", f"{c} code meaning"
    unit.add_new((0x0040, 0xA160), "UT", f"{c} text value")
    rwv = Dataset()
    rwv.MeasurementUnitsCodeSequence = Sequence([unit])
    ds.RealWorldValueMappingSequence = Sequence([rwv])
    ds.add_new((0x0018, 0x9004), "UN", f"{c} UN value ".encode())
    ds.add_new((0x0008, 0x1190), "UR", f"https://pacs.example/{c}")


def _plant_lowercase(ds: Dataset, c: str) -> None:
    ds.PatientName = f"{c}^ALICE"
    ds.StudyDescription = f"follow-up of {c.lower()} alice"


def _plant_id_token(ds: Dataset, c: str) -> None:
    ds.PatientID = c
    ds.StudyDescription = f"ref XX{c}YY"


def _plant_uid_url(ds: Dataset, c: str) -> None:
    ds.StudyDescription = f"viewer https://pacs.example/view?study={ds.StudyInstanceUID}"
    ds.add_new((0x0008, 0x1190), "UR", f"https://pacs.example/wado?study={ds.StudyInstanceUID}")


def _plant_kanji(ds: Dataset, c: str) -> None:
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.PatientName = "山田^太郎"
    ds.StudyDescription = "山田 follow-up"


def _header_cases(b: Builder, root: Path) -> list[Case]:
    some = ["released", "quarantined:*"]
    specs: list[tuple[str, str, str, Callable[[Dataset, str], bytes | None], bool, str | None]] = [
        ("preamble", "text planted in the 128-byte preamble", "header", _plant_preamble, False, None),
        ("odd_groups", "illegal odd groups 0001-0007 and (0002,0001) bytes", "header", _plant_odd_groups,
         False, None),
        ("spoofed_private", "text under spoofed SIEMENS/GEMS creators at listed elements", "header",
         _plant_private, False, None),
        ("class_uid_text", "class UID attributes holding text", "header", _plant_class_uid, False, None),
        ("unlisted_text", "free text in attributes not in Table E.1-1 (nested, UN, UR)", "header",
         _plant_unlisted_text, False, None),
        ("lowercase_name", "a lower-case copy of the patient name", "verify", _plant_lowercase, True, None),
        ("id_in_token", "the patient ID inside a longer token", "verify", _plant_id_token, False, None),
        ("uid_in_url", "the original Study Instance UID inside a URL", "verify", _plant_uid_url, False,
         b.study),
        ("kanji_name", "an ideographic (Kanji) name component", "verify", _plant_kanji, False, "山田"),
    ]
    return [_header_case(b, root, case, desc, side, plant, some, ci, canary)
            for case, desc, side, plant, ci, canary in specs]


def make_hostile(dest: Path, seed: int = 14) -> Manifest:
    """Generate the hostile export under ``dest`` (must not exist yet or be empty)."""
    mode = dicom_config.settings.writing_validation_mode
    dicom_config.settings.writing_validation_mode = dicom_config.IGNORE  # invalid values on purpose
    try:
        with warnings.catch_warnings():  # pydicom's warnings would quote the planted values
            warnings.simplefilter("ignore")
            base = dest / ROOT_NAME
            root, header_root, outside = base / "export", base / "export-header", base / "outside"
            root.mkdir(parents=True)
            header_root.mkdir()
            b = Builder(seed)
            cases = _listing_cases(b, root, outside) + _duplicate_cases(b, root) + _header_cases(b, header_root)
    finally:
        dicom_config.settings.writing_validation_mode = mode
    manifest = Manifest(seed, str(root), str(header_root), str(outside), cases)
    (dest / "manifest.json").write_text(manifest.to_json(), encoding="utf-8")
    return manifest


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("dest", type=Path)
    p.add_argument("--seed", type=int, default=14)
    args = p.parse_args(argv)
    m = make_hostile(args.dest, args.seed)
    n = sum(len(c.expect) for c in m.cases)
    print(f"{len(m.cases)} cases, {n} entries under {m.root}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
