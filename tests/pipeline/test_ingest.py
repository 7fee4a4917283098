"""Ingest: bronze rows for DICOM files, quarantine with the right reason for everything else."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from deltalake import DeltaTable

from deid.config import IngestConfig
from deid.pipeline.ingest import IngestResult, ingest, unscanned_rows
from deid.tables import Tables
from deid.zones import Zones


def _zones(tmp_path: Path) -> Zones:
    return Zones(raw=str(tmp_path / "raw"), crosswalk=str(tmp_path / "xw"), output=str(tmp_path / "out"))


def test_ingest_quarantine_reasons_and_rerun_is_noop(spark, tmp_path: Path, export_dir: Path) -> None:
    big = export_dir / "bad" / "big.dcm"
    big.write_bytes(b"\0" * 128 + b"DICM" + b"\0" * 600_000)
    zs = _zones(tmp_path)
    tables = Tables(spark)
    cfg = IngestConfig(max_file_bytes=500_000)
    n_files = sum(1 for p in export_dir.rglob("*") if p.is_file())
    first = ingest(spark, tables, zs, str(export_dir), cfg, "run-1")
    assert first.n_listed == n_files
    q = DeltaTable(zs.quarantine).to_pandas()
    reasons = dict(zip(q["path"].map(lambda p: p.rsplit("/", 1)[1]), q["reason"], strict=True))
    assert reasons["empty.dcm"] == "EMPTY_FILE"
    assert reasons["notes.txt"] == "NOT_DICOM"
    assert reasons["truncated.dcm"] == "TRUNCATED"
    assert reasons["big.dcm"] == "OVERSIZE"
    bronze = DeltaTable(zs.bronze).to_pandas()
    assert first.n_ingested == len(bronze) and first.n_quarantined == len(q)
    assert first.n_ingested + first.n_quarantined + first.n_skipped == n_files
    assert all(bronze["sop_instance_uid"].notna())
    assert not q["message"].str.contains("DOE").any()

    second = ingest(spark, tables, zs, str(export_dir), cfg, "run-2")
    assert (second.n_ingested, second.n_quarantined, second.n_skipped) == (0, 0, n_files)
    assert len(DeltaTable(zs.bronze).to_pandas()) == len(bronze)
    assert len(DeltaTable(zs.quarantine).to_pandas()) == len(q)


@pytest.mark.parametrize("counts,ok", [((5, 3, 1, 1), True), ((5, 3, 1, 0), False), ((5, 4, 1, 1), False)])
def test_ingest_result_reconciles_only_when_every_file_has_an_outcome(counts: tuple[int, ...], ok: bool) -> None:
    res = IngestResult("r", *counts)
    assert res.reconciles is ok and (res.n_unaccounted == 0) is ok


def test_listed_but_never_scanned_file_is_quarantined(spark, tmp_path: Path, export_dir: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A file the listing saw but the scan never returned (here: filtered out of the scan) is a
    NOT_READ quarantine row, and the counts reconcile; a duplicate copy counts as already known."""
    import deid.pipeline.ingest as ingest_mod

    real = ingest_mod._listed_frame
    lost = sorted(p for p in export_dir.rglob("IM*") if p.is_file())[0]
    shutil.copyfile(lost, export_dir / "bad" / "copy-of-first")  # same content twice: one ingested
    first_good = sorted(p for p in export_dir.rglob("IM*") if p.is_file())[1]
    shutil.copyfile(first_good, export_dir / "bad" / "copy-of-second")

    def losing(spark_, listing, run_id):  # type: ignore[no-untyped-def]
        from pyspark.sql import functions as F

        meta, rejected = real(spark_, listing, run_id)
        return meta.where(~F.col("path").endswith("/" + lost.name)), rejected

    monkeypatch.setattr(ingest_mod, "_listed_frame", losing)
    zs = _zones(tmp_path)
    n_files = sum(1 for p in export_dir.rglob("*") if p.is_file())
    res = ingest(spark, Tables(spark), zs, str(export_dir), IngestConfig(), "run-lost")
    assert res.n_listed == n_files
    q = DeltaTable(zs.quarantine).to_pandas()
    lost_rows = q[q["path"].str.endswith("/" + lost.name)]
    assert list(lost_rows["reason"]) == ["NOT_READ"], list(q["reason"])
    assert res.n_skipped == 1  # copy-of-second: content-identical to a file of this run
    assert res.reconciles, res
    assert res.n_ingested + res.n_quarantined + res.n_known == n_files


def test_unscanned_rows_name_every_listed_entry_without_a_row(tmp_path: Path) -> None:
    """Every listed entry whose location came back from no executor is one NOT_READ row."""
    from deid.pipeline.listing import list_input

    folder = tmp_path / "DOE^J 1"
    folder.mkdir()
    (folder / "a%20b").write_bytes(b"DICM")
    (folder / "c").write_bytes(b"DICM!")
    listing = list_input(str(tmp_path))
    by_name = {e.location.rsplit("/", 1)[1]: e for e in listing.entries}
    rows = unscanned_rows(listing, {by_name["c"].location}, "r")
    assert [r["reason"] for r in rows] == ["NOT_READ"]
    assert rows[0]["path"] == by_name["a%20b"].location and rows[0]["size"] == 4
    assert unscanned_rows(listing, {e.location for e in listing.entries}, "r") == []


@pytest.mark.parametrize(("sizes", "n_bins", "worst"), [
    ([100] * 10, 2, 500), ([1000, 10, 10, 10, 10, 500, 500], 2, 1020), ([5], 3, 5), ([], 2, 0),
    ([64, 32, 32, 16, 16, 16, 16], 3, 64)])
def test_byte_bins_balance_bytes_largest_first(sizes: list[int], n_bins: int, worst: int) -> None:
    from deid.pipeline.ingest import byte_bins

    bins = byte_bins(sizes, n_bins)
    assert len(bins) == len(sizes) and all(0 <= b < n_bins for b in bins)
    loads = [sum(s for s, b in zip(sizes, bins, strict=True) if b == k) for k in range(n_bins)]
    assert max(loads) == worst


@pytest.mark.parametrize(("sizes", "cores", "target", "expected"), [
    ([1] * 1000, 2, 64, 16), ([1] * 3, 8, 64, 3), ([100] * 100, 2, 1000, 10), ([10**9], 4, 64, 1),
    ([1] * 100, 4, 10**6, 8)])
def test_partitions_by_bytes_and_cores(sizes: list[int], cores: int, target: int, expected: int) -> None:
    from deid.pipeline.ingest import n_partitions

    assert n_partitions(sizes, cores, target) == expected


def test_choose_new_keeps_one_row_per_new_content_whatever_the_order() -> None:
    from deid.pipeline.ingest import StagedKey, choose_new

    rows = [StagedKey("a", "/x/2", None, None, 1, 0, False), StagedKey("a", "/x/1", None, None, 1, 0, False),
            StagedKey("b", "/x/3", None, None, 1, 0, True),  # content known before: not new
            StagedKey("c", "/x/4", "NOT_DICOM", "m", 1, 0, False), StagedKey("d", "/x/5", "TRUNCATED", "m", 1, 0, False)]
    for order in (rows, rows[::-1]):
        chosen = choose_new(order)
        assert [(k.sha256, k.path) for k in chosen] == [("a", "/x/1"), ("c", "/x/4"), ("d", "/x/5")]
