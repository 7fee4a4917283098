"""The deid console command in-process on the shared local Spark session."""

from __future__ import annotations

import csv
import os
import stat
from pathlib import Path

import pytest

from deid.cli import main
from deid.config import load_config
from deid.errors import ConfigError


def test_keygen_prints_a_usable_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keygen"]) == 0
    key = capsys.readouterr().out.strip()
    assert len(key) == 64 and int(key, 16) >= 0


def test_missing_key_fails_fast_with_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("DEID_KEY", raising=False)
    code = main(["run", "--input", str(tmp_path), "--output", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "KEY_MATERIAL_ERROR" in err[0]


@pytest.mark.parametrize("text,key", [("spark: {shuffle_partitions: 0}\n", "spark.shuffle_partitions"),
                                      ("ingest: {max_bytes: 3}\n", "ingest.max_bytes"),
                                      ("keys: {source: vault}\n", "keys.source")])
def test_bad_config_names_the_key(tmp_path: Path, text: str, key: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_config(path)


def test_zone_inside_output_is_refused(tmp_path: Path, deid_key: str,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "--input", str(tmp_path / "in"), "--output", str(tmp_path / "out"),
                 "--raw", str(tmp_path / "out" / "raw")])
    assert code == 2 and "ZONE_ERROR" in capsys.readouterr().err


@pytest.mark.slow
def test_run_sql_and_crosswalk_export(spark, released_run, tmp_path: Path, deid_key: str,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    # the session's one `deid run --input EXPORT --output OUT` (tests/conftest.py), read only here
    out = released_run.out
    assert released_run.code == 0
    assert "status: SUCCEEDED" in released_run.stdout
    assert "[deidentify]" in released_run.stderr and "DOE" not in released_run.stderr + released_run.stdout
    assert (released_run.phi_zone("phi-raw") / "tables" / "bronze").is_dir()
    assert (released_run.phi_zone("crosswalk") / "tables" / "crosswalk").is_dir()
    capsys.readouterr()

    assert main(["sql", "--output", str(out), "SELECT count(*) AS n, count(DISTINCT study_uid) AS s "
                 "FROM metadata"]) == 0
    assert "|  n|  s|" in capsys.readouterr().out
    assert main(["sql", "--output", str(out), "SELECT * FROM crosswalk"]) == 2  # not without the flag
    capsys.readouterr()
    assert main(["sql", "--output", str(out), "--include-crosswalk",
                 "SELECT kind, count(*) FROM crosswalk GROUP BY kind"]) == 0
    assert "patient_id" in capsys.readouterr().out

    dest = tmp_path / "export-for-officer"
    assert main(["crosswalk", "export", "--output", str(out), "--dest", str(dest)]) == 0
    assert stat.S_IMODE(os.stat(dest).st_mode) == 0o700
    rows = list(csv.DictReader((dest / "patient_id_mapping.csv").open()))
    assert rows and set(rows[0]) == {"id_old", "id_new"}
    assert all(stat.S_IMODE(os.stat(p).st_mode) == 0o600 for p in dest.iterdir())
    uids = list(csv.DictReader((dest / "uid_mapping.csv").open()))
    assert uids and all(r["id_old"] != r["id_new"] for r in uids)
    # a re-identification look-up of one patient pseudonym returns its original ID
    capsys.readouterr()
    assert main(["crosswalk", "lookup", rows[0]["id_new"], "--output", str(out)]) == 0
    assert rows[0]["id_old"] in capsys.readouterr().out
    assert main(["crosswalk", "export", "--output", str(out), "--dest", str(out / "x")]) == 2
