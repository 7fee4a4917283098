"""Ingest: bronze rows for DICOM files, quarantine with the right reason for everything else."""

from __future__ import annotations

from pathlib import Path

from deltalake import DeltaTable

from deid.config import IngestConfig
from deid.pipeline.ingest import ingest
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
