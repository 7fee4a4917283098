"""deploy/run_sql.py: variables, statement splitting, the SQL files parse, the gate check decides."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from distribution_helpers import ROOT, load_module

run_sql = load_module("deploy/run_sql.py", "deid_run_sql")
SQL = ROOT / "resources" / "sql"


@pytest.mark.parametrize(("items", "expected"), [
    ([], {}),
    (["catalog=main", "schema=deid_output"], {"catalog": "main", "schema": "deid_output"}),
])
def test_parse_vars(items: list[str], expected: dict[str, str]) -> None:
    assert run_sql.parse_vars(items) == expected


@pytest.mark.parametrize("item", ["catalog", "catalog=", "catalog=main; DROP TABLE x", "1x=main",
                                  "schema=a.b", "catalog=`main`"])
def test_parse_vars_refuses_non_identifiers(item: str) -> None:
    with pytest.raises(run_sql.SqlFileError):
        run_sql.parse_vars([item])


def test_render_replaces_and_refuses_missing() -> None:
    assert run_sql.render("SELECT * FROM ${c}.${s}.t", {"c": "main", "s": "x"}) == "SELECT * FROM main.x.t"
    with pytest.raises(run_sql.SqlFileError, match="schema"):
        run_sql.render("SELECT * FROM ${catalog}.${schema}.t", {"catalog": "main"})


@pytest.mark.parametrize(("sql", "expected"), [
    ("SELECT 1; SELECT 2;", ["SELECT 1", "SELECT 2"]),
    ("-- a comment; with a semicolon\nSELECT 1", ["SELECT 1"]),
    ("SELECT 'a;b' AS x; SELECT `c;d` FROM t", ["SELECT 'a;b' AS x", "SELECT `c;d` FROM t"]),
    ("SELECT '--not a comment'", ["SELECT '--not a comment'"]),
    (" ; ;\n", []),
])
def test_split_statements(sql: str, expected: list[str]) -> None:
    assert run_sql.split_statements(sql) == expected


@pytest.mark.parametrize(("name", "variables", "n"), [
    ("quality_gate.sql", {}, 3),
    ("research_views.sql", {"catalog": "main", "schema": "deid_output"}, 7),
])
def test_sql_files_parse_with_spark(spark: Any, name: str, variables: dict[str, str], n: int) -> None:
    statements = run_sql.split_statements(run_sql.render((SQL / name).read_text(), variables))
    assert len(statements) == n
    parser = spark._jsparkSession.sessionState().sqlParser()
    for stmt in statements:
        parser.parsePlan(stmt)  # raises ParseException on a syntax error


# --------------------------------------------------------------------------- the gate check, executed
def _write(tmp: Path, runs: list[dict[str, Any]], metadata: list[dict[str, Any]], spark: Any) -> Path:
    from deid.config import TableBackend
    from deid.tables import METADATA, RUNS, Tables
    from deid.zones import Zones

    zs = Zones(raw=str(tmp / "raw"), crosswalk=str(tmp / "xw"), output=str(tmp / "out"))
    tables = Tables(spark, TableBackend.DELTA_RS)
    if runs:
        tables.append_arrow(pa.Table.from_pylist(runs, schema=RUNS.schema), zs.runs, RUNS, app_id="t", version=0)
    if metadata:
        tables.append_arrow(pa.Table.from_pylist(metadata, schema=METADATA.schema), zs.metadata, METADATA,
                            app_id="t", version=0)
    cfg = tmp / "cfg.yaml"
    cfg.write_text(f"zones:\n  raw: {zs.raw}\n  crosswalk: {zs.crosswalk}\n  output: {zs.output}\n"
                   "spark:\n  backend: delta_rs\n")
    return cfg


def _run(run_id: str, status: str, minute: int) -> dict[str, Any]:
    t = dt.datetime(2026, 1, 1, 1, minute, tzinfo=dt.timezone.utc)
    return {"run_id": run_id, "stage": "deidentify", "started_at": t, "finished_at": t, "status": status,
            "profile": "research", "key_version": "abc"}


def _row(run_id: str, removed: bool = True, key_version: str | None = "abc") -> dict[str, Any]:
    return {"run_id": run_id, "sop_instance_uid": "2.25.1", "modality": "CT", "profile": "research",
            "key_version": key_version, "patient_identity_removed": removed}


@pytest.mark.parametrize(("runs", "metadata", "expected"), [
    ([], [], 1),                                                       # no run at all
    ([_run("r1", "SUCCEEDED", 1)], [_row("r1")], 0),
    ([_run("r1", "SUCCEEDED", 1), _run("r2", "GATE_FAILED", 2)], [_row("r1")], 1),  # last run held back
    ([_run("r1", "GATE_FAILED", 1), _run("r2", "SUCCEEDED", 2)], [_row("r2")], 0),
    ([_run("r1", "SUCCEEDED", 1)], [_row("r1", removed=False)], 1),
    ([_run("r1", "SUCCEEDED", 1)], [_row("r1", key_version=None)], 1),
    ([_run("r1", "SUCCEEDED", 1), _run("r2", "SUCCEEDED", 2)], [_row("r1", removed=False), _row("r2")], 0),
])
def test_quality_gate_sql(spark: Any, tmp_path: Path, runs: list[dict[str, Any]],
                          metadata: list[dict[str, Any]], expected: int,
                          capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _write(tmp_path, runs, metadata, spark)
    assert run_sql.main(["--config", str(cfg), "--file", str(SQL / "quality_gate.sql")]) == expected
    if expected:
        assert "quality_gate.sql failed" in capsys.readouterr().err
