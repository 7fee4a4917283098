"""Value-free results, suite files and quality config (no Spark)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import yaml

from deid.config import config_from_mapping, load_config
from deid.errors import ConfigError, Reason
from deid.quality.results import RESULT_FORMAT, from_ge, observed_summary, safe_counts
from deid.quality.suites import Severity, load_suite, parse_suite, placeholders, resolve

PHI = "DOE^JANE-CANARY-0042"


@pytest.mark.parametrize("result", [
    {"element_count": 3, "unexpected_count": 1, "partial_unexpected_list": [PHI]},
    {"element_count": 3, "unexpected_count": 1, "partial_unexpected_counts": [{"value": PHI, "count": 1}]},
    {"element_count": 3, "unexpected_count": 1, "unexpected_list": [PHI], "unexpected_index_list": [{"x": PHI}]},
    {"observed_value": PHI},
    {"observed_value": [PHI, "kind"], "details": {"mismatched": {"unexpected": [PHI]}}},
    {"observed_value": {"value": PHI}},
])
def test_value_lists_never_survive(result: dict) -> None:  # type: ignore[type-arg]
    r = from_ge("metadata", "x", "expect_x", "critical", False, result)
    assert PHI not in json.dumps(r.as_row()) and "CANARY" not in json.dumps(r.as_row())
    assert r.critical_failure


@pytest.mark.parametrize("result,expected", [
    ({"element_count": 10, "unexpected_count": 2}, "2 of 10 unexpected"),
    ({"observed_value": 7}, "observed 7"),
    ({"observed_value": 0.5}, "observed 0.5"),
    ({"observed_value": ["a", "b"]}, "observed 2 items"),
    ({"observed_value": "a string value"}, ""),
    ({"observed_value": True}, ""),
    (None, ""),
])
def test_observed_summary(result: dict | None, expected: str) -> None:  # type: ignore[type-arg]
    assert observed_summary(result) == expected


def test_counts_whitelist_and_result_format() -> None:
    assert safe_counts({"element_count": 4, "unexpected_count": 1, "unexpected_percent": 25.0,
                        "missing_count": True, "partial_unexpected_list": ["x"]}) == \
        {"element_count": 4, "unexpected_count": 1}
    assert RESULT_FORMAT["result_format"] == "BASIC" and RESULT_FORMAT["include_unexpected_rows"] is False
    assert RESULT_FORMAT["partial_unexpected_count"] == 0


def test_raised_expectation_is_a_failure() -> None:
    r = from_ge("runs", "x", "t", "warning", True, {}, raised=True)
    assert not r.success and not r.critical_failure and "error" in r.observed


@pytest.mark.parametrize("table", ["metadata", "crosswalk", "quarantine", "runs"])
def test_shipped_suites_load_and_build(table: str) -> None:
    from deid.quality.expectations import build_expectations

    suite = load_suite(table)
    assert suite.table == table and suite.expectations
    assert any(e.severity is Severity.CRITICAL for e in suite.expectations)
    built = build_expectations(suite, dt.date(2026, 1, 1))
    assert len(built) == len(suite.expectations)


@pytest.mark.parametrize("data,match", [
    ({"expectations": []}, "needs 'table'"),
    ({"table": "t", "expectations": [{"name": "a"}]}, r"expectations\[0\] needs"),
    ({"table": "t", "expectations": [{"name": "a", "type": "x", "severity": "fatal"}]}, "severity"),
    ({"table": "t", "expectations": [{"name": "a", "type": "x", "value": 1}]}, "unknown keys"),
    ({"table": "t", "expectations": [{"name": "a", "type": "x"}, {"name": "a", "type": "y"}]}, "twice"),
])
def test_bad_suites_are_config_errors(data: dict, match: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ConfigError, match=match):
        parse_suite(data, "s.yaml")


def test_unknown_expectation_type_is_a_config_error() -> None:
    from deid.quality.expectations import build_expectations

    suite = parse_suite({"table": "t", "expectations": [{"name": "a", "type": "expect_nothing_at_all"}]}, "s")
    with pytest.raises(ConfigError, match="'a' is invalid"):
        build_expectations(suite, dt.date(2026, 1, 1))


def test_placeholders() -> None:
    values = placeholders(dt.date(2026, 3, 1))
    assert resolve({"max_value": "@today"}, values) == {"max_value": dt.date(2026, 3, 1)}
    assert set(resolve("@reason_codes", values)) == {r.value for r in Reason}
    assert "unverified" not in resolve("@burned_in_resolved", values)
    assert "original_enc" in resolve("@crosswalk_columns", values)
    with pytest.raises(ConfigError, match="unknown placeholder"):
        resolve(["@nope"], values)


@pytest.mark.parametrize("text,key", [
    ("suites: [metadata, bronze]\n", "unknown suites"),
    ("verification: {kinds: [patient_id, ssn]}\n", "unknown crosswalk kinds"),
    ("verification: {ocr: {sample_fraction: 2}}\n", "quality.verification.ocr.sample_fraction"),
    ("verification: {ocr: {rules: [date, vibes]}}\n", "unknown rule kinds"),
    ("gates: {}\n", "quality.gates"),
])
def test_bad_quality_config_names_the_key(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(ConfigError, match=key):
        config_from_mapping({"quality": yaml.safe_load(text)})


def test_shipped_gate_config() -> None:
    cfg = load_config().quality
    assert set(cfg.suites) == {"metadata", "crosswalk", "quarantine", "runs"}
    assert cfg.verification.enabled and cfg.verification.ocr.sample_fraction == 1.0
