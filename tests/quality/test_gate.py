"""The quality gate in the pipeline on local Spark: planted PHI blocks the release and never reaches the
stored results; a clean rerun is released; the run report is written (de-identified zone) with the
before/after page in the PHI zone only."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from pathlib import Path

import pyarrow.parquet as pq
import pydicom
import pytest
from deltalake import DeltaTable
from pydicom.data import get_testdata_file

from deid.config import DeidConfig, ZonesConfig
from deid.keys import keyring_for
from deid.pipeline.hooks import StagedRun
from deid.pipeline.runner import PipelineRun
from deid.quality.gate import QualityGate
from deid.quality.suites import load_suite
from deid.report import build_report
from deid.tables import Tables
from deid.zones import resolve, staged_file

pytestmark = pytest.mark.slow
PLANTED = "QZXPLANTED^PHI-7731"


def _bytes_under(root: Path) -> list[tuple[str, bytes]]:
    out = []
    for f in root.rglob("*"):
        if f.is_file():
            out.append((str(f), f.read_bytes()))
            if f.suffix == ".parquet":
                out.append((str(f), pq.read_table(f).to_pandas().to_csv().encode()))
    return out


def test_suite_values_never_reach_results(spark) -> None:  # type: ignore[no-untyped-def]
    from deid.quality.expectations import SuiteRunner

    df = spark.createDataFrame([("a" * 64, "NOT_DICOM", "ingest"), ("b" * 64, PLANTED, "deidentify"),
                                (None, "EMPTY_FILE", PLANTED)], "sha256 string, reason string, stage string")
    results = SuiteRunner().validate(load_suite("quarantine"), df, dt.date(2026, 1, 1))
    by_name = {r.expectation: r for r in results}
    assert not by_name["reason_code_known"].success and by_name["reason_code_known"].unexpected_count == 1
    assert not by_name["required_sha256"].success and not by_name["stage_known"].success
    text = json.dumps([r.as_row() for r in results])
    assert PLANTED not in text and "QZX" not in text


_MD_SCHEMA = ("sop_instance_uid string, study_uid string, series_uid string, patient_pseudonym string, "
              "sop_class_uid string, modality string, study_date date, burned_in_status string, "
              "patient_identity_removed boolean, profile string, key_version string, output_path string, "
              "source_digest string")


def _md_rows() -> list[tuple[object, ...]]:
    good = ("2.25.1", "2.25.2", "2.25.3", "ABCDEFGH", "1.2.840.10008.5.1.4.1.1.2", "CT", dt.date(2020, 1, 2),
            "CLEAN", True, "research", "v1", "dicom/a.dcm", "d1")
    return [good,
            ("2.25.1", "1.2.3", "2.25." + "9" * 70, PLANTED, None, None, dt.date(2027, 1, 1), "UNVERIFIED",
             False, "research", None, None, None),  # a duplicate UID and every other kind of failure
            ("2.25.4", "2.25.2", "2.25.3", "ABCDEFGH", "1.2", "MR", None, "REDACTED", True, "research", "v1",
             "dicom/b.dcm", "d2")]


@pytest.mark.parametrize("table, schema, rows", [
    ("metadata", _MD_SCHEMA, _md_rows()),
    ("metadata", _MD_SCHEMA, []),
    ("quarantine", "sha256 string, reason string, stage string",
     [("a" * 64, "NOT_DICOM", "ingest"), ("b" * 64, PLANTED, "deidentify"), (None, "EMPTY_FILE", PLANTED)]),
    ("crosswalk", "kind string, pseudonym string, original_hash string, original_enc binary, key_version string, "
     "run_id string, created_at timestamp",
     [("patient", "P1", "a" * 64, b"x", "v1", "r", dt.datetime(2026, 1, 1)),
      ("patient", "P2", "a" * 64, None, "v1", "r", None), ("nope", "P3", "Z", b"y", "v1", "r", None)]),
    ("runs", "stage string, n_inputs long, n_accounted long", [("ingest", 3, 3), ("deidentify", 2, 1)]),
])
def test_suites_give_the_same_results_on_the_driver_and_on_spark(spark, table, schema, rows) -> None:  # type: ignore[no-untyped-def]
    """A small frame is validated on the driver (pandas datasource); the results are those of Spark's."""
    from deid.quality.expectations import SuiteRunner, local_frame, local_frames

    df = spark.createDataFrame(rows, schema)
    local = local_frame(df)
    assert local is not None and len(local) == len(rows)
    assert local_frame(df, max_rows=len(rows) - 1) is None if rows else True
    # the gate collects every suite's frame in one job: the same frames
    together = local_frames([df, df.limit(1)])
    assert together[0] is not None and together[0].equals(local)
    assert together[1] is not None and len(together[1]) == min(1, len(rows))
    if rows:
        assert local_frames([df, df], max_rows=len(rows) - 1) == [None, None]
    runner = SuiteRunner()
    on_spark = runner.validate(load_suite(table), df, dt.date(2026, 6, 1))
    on_driver = runner.validate(load_suite(table), local, dt.date(2026, 6, 1))
    if rows:
        assert on_driver == on_spark
    else:  # an empty frame: Spark's results leave the (zero) unexpected count out
        assert [(r.expectation, r.success, r.element_count) for r in on_driver] == \
            [(r.expectation, r.success, r.element_count) for r in on_spark]
    if rows:
        assert any(not r.success for r in on_driver)
    assert PLANTED not in json.dumps([r.as_row() for r in on_driver])


def test_gate_blocks_planted_phi_then_releases_and_reports(spark, tmp_path: Path, export_dir: Path,  # type: ignore[no-untyped-def]
                                                           deid_key: str) -> None:
    from pyspark.sql import functions as F

    out = tmp_path / "out"
    cfg = DeidConfig(zones=ZonesConfig(input=str(export_dir), output=str(out), raw=str(tmp_path / "raw"),
                                       crosswalk=str(tmp_path / "xw")))
    zs = resolve(cfg.zones, need_input=True)
    keyring = keyring_for(cfg.keys)
    tables = Tables(spark)
    gate = QualityGate(tables, zs, keyring)
    ct = Path(str(get_testdata_file("CT_small.dcm")))
    original_id = str(pydicom.dcmread(ct).PatientID)

    def planting(run_id: str, staged: StagedRun) -> bool:
        # an original Patient ID left in a comment of one staged file, and a malformed pseudonym
        path = Path(staged_file(staged.staging, f"{hashlib.sha256(ct.read_bytes()).hexdigest()}.dcm"))
        ds = pydicom.dcmread(path)
        ds.ImageComments = f"patient {original_id} follow-up"
        ds.save_as(path)
        bad = staged.metadata.withColumn("patient_pseudonym", F.lit(PLANTED))
        return gate(run_id, dataclasses.replace(staged, metadata=bad))

    planting.failures = gate.failures  # type: ignore[attr-defined]
    first = PipelineRun(spark, cfg, keyring=keyring, gate=planting).run(do_ingest=True, do_deidentify=True)
    assert first.status == "GATE_FAILED" and not (out / "tables" / "metadata").exists()
    assert any(m.startswith("metadata.patient_pseudonym_well_formed failed") for m in gate.failures)
    ct_sha = hashlib.sha256(ct.read_bytes()).hexdigest()
    # the input is named by its bronze key, the attribute by path, and the matcher by kind
    assert any(m.startswith(f"input {ct_sha}: (0020,4000) matches an original ") and m.endswith("(tolerant matcher)")
               for m in gate.failures), gate.failures
    assert not (out / "dicom").exists()
    report = gate.report
    assert report is not None and not report.passed and report.verification is not None
    findings = report.verification.findings
    assert report.verification.n_header_findings == len(findings) >= 1, findings
    assert report.verification.n_needles > 20
    # CT_small's Patient ID "1CT1": a glued token is an ID even though "CT" and the digits are each
    # vocabulary (textmatch.is_non_identifying): an id finding, at the planted tag only
    assert ("(0020,4000)", "id") in {(f["location"], f["kind"]) for f in findings}
    assert {f["location"] for f in findings} == {"(0020,4000)"}, findings
    assert {f["sha256"] for f in findings} == {ct_sha}
    assert all(f["sop_instance_uid"].startswith("2.25.") for f in findings)
    # a held run records its quarantined inputs (and in the PHI zone, which inputs to look at)
    runs = DeltaTable(str(out / "tables" / "runs")).to_pandas()
    held = runs[(runs["run_id"] == first.run_id) & (runs["stage"] == "deidentify")].iloc[0]
    q = DeltaTable(str(tmp_path / "raw" / "tables" / "quarantine")).to_pandas()
    n_q = int(((q["stage"] == "deidentify") & (q["run_id"] == first.run_id)).sum())
    assert held["status"] == "GATE_FAILED" and held["n_quarantined"] == n_q == first.deid.n_quarantined
    assert held["n_inputs"] == held["n_quarantined"] + held["n_skipped"]
    phi_report = json.loads((tmp_path / "raw" / "reports" / first.run_id / "quality.json").read_text())
    assert ct_sha in json.dumps(phi_report["failures"]) and not phi_report["passed"]
    stored = _bytes_under(out)
    assert any(name.endswith("quality.json") for name, _ in stored)
    assert not any(ct_sha.encode() in data for _, data in stored)  # no bronze key in the de-identified zone
    for name, data in stored + [("failures", "\n".join(gate.failures).encode())]:
        assert PLANTED.encode() not in data and b"QZXPLANTED" not in data, name
        assert original_id.encode() not in data, name

    gate2 = QualityGate(tables, zs, keyring)
    second = PipelineRun(spark, cfg, keyring=keyring, gate=gate2).run(do_ingest=True, do_deidentify=True)
    assert second.ok and second.deid is not None and second.deid.released, gate2.failures
    results = DeltaTable(str(out / "tables" / "quality_results")).to_pandas()
    assert set(results["run_id"]) == {first.run_id, second.run_id}
    mine = results[results["run_id"] == second.run_id]
    assert mine[mine["severity"] == "critical"]["success"].all()
    assert {"metadata", "crosswalk", "quarantine", "runs", "dicom"} <= set(mine["table_name"])
    doc = json.loads((out / "reports" / second.run_id / "quality.json").read_text())
    assert doc["passed"] and doc["verification"]["n_instances"] == second.deid.n_deidentified
    assert doc["verification"]["n_ocr_instances"] >= 1

    index = Path(build_report(spark, zs, second.run_id, keyring=keyring))
    assert index == out / "reports" / second.run_id / "index.html"
    page = index.read_text()
    for needle in ("De-identification run", "Quarantine by reason", "Throughput by stage", "quality gate passed",
                   "data:image/png;base64,", str(tmp_path / "raw" / "tables" / "review")):
        assert needle in page
    assert (tmp_path / "raw" / "reports" / second.run_id / "before_after.html").is_file()
    assert not list(out.rglob("before_after.html"))
    needles = {b"DOE^JOHN", b"CompressedSamples", original_id.encode(), b"series 1"}
    for name, data in _bytes_under(out / "reports"):
        for n in needles:
            assert n not in data, (n, name)


@pytest.mark.spark
def test_per_check_from_the_files_equals_the_spark_aggregation(spark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The verification rows' per-check sums read on the driver from their Parquet files (no Spark job,
    issue #11) are the Spark aggregation's: counts, sums with nulls, OCR'd rows (n_lines >= 0), lines."""
    from deid.quality.gate import _per_check, _per_check_files
    from deid.quality.verify import SPARK_SCHEMA

    rows = [("u1", "s1", "summary", "", "", 12, -1), ("u2", "s2", "summary", "", "", 7, 3),
            ("u3", "s3", "summary", "", "", None, 0), ("u1", "s1", "header", "(0010,0010)", "person_name", None, None),
            ("u2", "s2", "header", "(0008,0080)", "institution", None, None),
            ("u3", "s3", "ocr", "frame 0", "person_name", None, 2), ("u4", "s4", None, "", "", None, None)]
    where = tmp_path / "verification"
    spark.createDataFrame(rows, SPARK_SCHEMA).repartition(3).write.parquet(str(where))
    found = spark.read.schema(SPARK_SCHEMA).parquet(str(where))
    local = _per_check_files(str(where))
    on_spark = {k: r.asDict() for k, r in _per_check(found).items()}
    assert local == on_spark and set(local) == {"summary", "header", "ocr", None}
    assert local["summary"] == {"check": "summary", "n": 3, "v": 19, "o": 2, "lines": 3}
    assert local["header"]["v"] is None  # all null: as Spark's sum
    empty = tmp_path / "empty"
    spark.createDataFrame([], SPARK_SCHEMA).write.parquet(str(empty))
    assert _per_check_files(str(empty)) == {} == _per_check(spark.read.schema(SPARK_SCHEMA).parquet(str(empty)))
