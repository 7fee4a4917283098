"""The run's needles read by the verification workers from the gate's Parquet folder (no Spark): the
same run-wide needles as merging them on the driver, and the same findings as needles held in memory."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from fixture_key import TEST_KEY
from pydicom.dataset import Dataset

from deid.config import VerificationConfig
from deid.header.profile import load_profile
from deid.keys import KeyRing
from deid.quality.originals import KEPT, OCR_SUFFIX, KeyedHasher, NeedleRules, needle_hashes
from deid.quality.verify import VerifyParams, check_header, load_needles, merge_needles

KEYS = KeyRing(bytes.fromhex(TEST_KEY))


def _original(name: str, pid: str, station: str) -> Dataset:
    ds = Dataset()
    ds.PatientName, ds.PatientID, ds.StationName = name, pid, station
    ds.InstitutionName = "Riverside General Hospital"
    return ds


def _rows(*originals: Dataset) -> list[tuple[bytes, str]]:
    rules, hasher = NeedleRules.of(load_profile("research")), KeyedHasher(KEYS)
    kinds = frozenset(VerificationConfig().kinds)
    return [row for ds in originals for row in needle_hashes(ds, rules, hasher, kinds).items()]


def _write_grouped(rows: list[tuple[bytes, str]], folder: Path, parts: int = 2) -> None:
    """What the gate's groupBy writes: one row per needle with the set of its kinds, in part files."""
    grouped: dict[bytes, list[str]] = {}
    for needle, kind in rows:
        if kind not in grouped.setdefault(needle, []):
            grouped[needle].append(kind)
    items = sorted(grouped.items())
    folder.mkdir(parents=True)
    (folder / "_SUCCESS").write_bytes(b"")
    for p in range(parts):
        chunk = items[p::parts]
        pq.write_table(pa.table({"needle": pa.array([n for n, _ in chunk], pa.binary()),
                                 "kinds": pa.array([k for _, k in chunk], pa.list_(pa.string()))}),
                       folder / f"part-{p:05d}.parquet")


def test_loaded_needles_equal_the_merged_needles_and_find_the_same(tmp_path: Path) -> None:
    # the station name of one original is the surname of another's patient: kept spans are no needle
    a, b = _original("SMITH^ANNA", "0012345", "CTAWP73"), _original("CTAWP73^JOHN", "ACC55120", "MR1")
    rows = _rows(a, b)
    assert any(k == KEPT for _, k in rows) and any(k.endswith(OCR_SUFFIX) for _, k in rows)
    folder = tmp_path / "needles"
    _write_grouped(rows, folder)
    loaded = load_needles(str(folder))
    assert loaded == merge_needles(rows) and len(loaded) > 10
    assert KEPT not in set(loaded.values())
    staged = Dataset()
    staged.ImageComments = "SMITH ANNA 12345 seen at Riverside General"
    memory = VerifyParams(KEYS, merge_needles(rows), "/x", VerificationConfig())
    on_file = VerifyParams(KEYS, {}, "/x", VerificationConfig(), needles_at=str(folder))
    found = check_header(staged, on_file)
    assert found == check_header(staged, memory) and found[0]
    assert load_needles(str(folder)) is loaded  # read once per worker


def test_needles_kept_by_some_original_can_be_left_out_of_the_folder(tmp_path: Path) -> None:
    """The gate writes only needles none of whose kinds is ``kept`` (and counts them from the files'
    footers, issue #11): the workers load the same run-wide needles as from every grouped needle."""
    a, b = _original("SMITH^ANNA", "0012345", "CTAWP73"), _original("CTAWP73^JOHN", "ACC55120", "MR1")
    rows = _rows(a, b)
    kept = {n for n, k in rows if k == KEPT}
    assert kept
    _write_grouped(rows, tmp_path / "all")
    _write_grouped([(n, k) for n, k in rows if n not in kept], tmp_path / "written")
    assert load_needles(str(tmp_path / "written")) == load_needles(str(tmp_path / "all")) == merge_needles(rows)
    written = pq.read_table(tmp_path / "written").num_rows
    assert written == len(merge_needles(rows))  # the count the gate reports as n_needles
