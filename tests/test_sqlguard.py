"""``deid sql`` read-only guard and the PHI-free mapping of Spark errors (no Spark)."""

from __future__ import annotations

import pytest

from deid.errors import SparkFailure, SqlRefusedError
from deid.sparkerrors import as_deid_error
from deid.sqlguard import check_read_only

VIEWS = ["metadata", "runs", "redactions"]


@pytest.mark.parametrize("query", [
    "SELECT count(*) AS n, count(DISTINCT study_uid) AS s FROM metadata",
    "select modality, count(*) from metadata group by modality;",
    "WITH s AS (SELECT study_uid FROM metadata), r AS (SELECT * FROM runs) SELECT * FROM s JOIN r ON true",
    "SELECT m.modality FROM metadata m, runs AS r WHERE m.run_id = r.run_id",
    "SELECT * FROM (SELECT * FROM metadata) t LIMIT 3",
    "SELECT 'INSERT INTO x; DROP TABLE y' AS text FROM metadata",  # words inside strings are data
    "SELECT label, action, count(*) FROM redactions GROUP BY label, action -- a comment; DROP",
    "SELECT * FROM VALUES (1, 2) AS t(a, b)",
    "(SELECT run_id FROM runs) UNION (SELECT run_id FROM metadata)",
    "SELECT EXTRACT(YEAR FROM study_date) AS y, trim(BOTH ' ' FROM modality) FROM metadata",
])
def test_read_only_queries_pass(query: str) -> None:
    assert check_read_only(query, VIEWS)


@pytest.mark.parametrize("query,rule", [
    ("SELECT * FROM parquet.`/data/out.phi-raw/tables/bronze`", "file"),
    ("SELECT * FROM delta.`s3://bucket/crosswalk/tables/crosswalk`", "file"),
    ("SELECT * FROM `/data/out.crosswalk/tables/crosswalk/part-0.parquet`", "file"),
    ("INSERT OVERWRITE DIRECTORY '/tmp/x' SELECT * FROM metadata", "SELECT"),
    ("SELECT 1; INSERT OVERWRITE DIRECTORY '/tmp/x' SELECT * FROM metadata", "one statement"),
    ("WITH t AS (SELECT 1) INSERT INTO metadata SELECT * FROM t", "INSERT"),
    ("CREATE TABLE t AS SELECT * FROM metadata", "SELECT"),
    ("DROP VIEW metadata", "SELECT"),
    ("SET spark.sql.runSQLOnFiles=true", "SELECT"),
    ("SELECT reflect('java.lang.System', 'getProperty', 'user.home') FROM metadata", "REFLECT"),
    ("SELECT * FROM IDENTIFIER('parquet.`/x`')", "IDENTIFIER"),
    ("SELECT * FROM crosswalk", "registered views"),
    ("SELECT * FROM spark_catalog.default.bronze", "views"),
    ("SELECT * FROM metadata, bronze", "registered views"),
    ("SELECT * FROM metadata JOIN quarantine USING (sha256)", "registered views"),
    ("SELECT * FROM read_files('/data')", "READ_FILES"),
    ("SELECT * FROM metadata /* unterminated", "comment"),
    ("", "empty"),
])
def test_everything_else_is_refused(query: str, rule: str) -> None:
    with pytest.raises(SqlRefusedError, match=rule) as err:
        check_read_only(query, VIEWS)
    assert "/data" not in err.value.message and "/tmp" not in err.value.message


def test_crosswalk_view_only_when_registered() -> None:
    assert check_read_only("SELECT kind, count(*) FROM crosswalk GROUP BY kind", [*VIEWS, "crosswalk"])


def test_spark_errors_become_one_phi_free_line() -> None:
    class Py4JJavaError(Exception):  # the class name is what py4j raises; no JVM needed here
        pass

    exc = Py4JJavaError("java.net.URISyntaxException: Relative path in absolute URI: DOE^JOHN 12:30:00.dcm"
                        "\n\tat org.apache.hadoop.fs.Path.initialize(Path.java:263)")
    err = as_deid_error(exc)
    assert isinstance(err, SparkFailure) and "DOE" not in err.message and "Py4JJavaError" in err.message
    assert as_deid_error(ValueError("x")) is None
