"""Unity Catalog grants of the crosswalk table: only the re-identification group may read it."""

from __future__ import annotations

import pytest

from deid.config import GrantMode, GrantsConfig, config_from_mapping
from deid.errors import ConfigError
from deid.pipeline.grants import apply_grants, grant_statements


def test_statements_revoke_from_everyone_then_grant_select_to_the_group() -> None:
    assert grant_statements("main.phi.crosswalk", "reid-officers") == [
        "REVOKE ALL PRIVILEGES ON TABLE main.phi.crosswalk FROM `account users`",
        "GRANT SELECT ON TABLE main.phi.crosswalk TO `reid-officers`",
    ]


@pytest.mark.parametrize(("table", "group", "message"), [
    ("phi.crosswalk", "g", "three-part name"),
    ("main.phi.crosswalk; DROP TABLE x", "g", "three-part name"),
    ("main.phi.cross-walk", "g", "three-part name"),
    ("main.phi.crosswalk", "", "must name a group"),
    ("main.phi.crosswalk", "g` TO `everyone", "no backticks"),
])
def test_names_that_could_inject_sql_are_refused(table: str, group: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        grant_statements(table, group)


@pytest.mark.parametrize(("mode", "on_databricks", "expected"), [
    (GrantMode.OFF, True, []),
    (GrantMode.PRINT, True, ["REVOKE ALL PRIVILEGES ON TABLE main.phi.crosswalk FROM `account users`;",
                             "GRANT SELECT ON TABLE main.phi.crosswalk TO `reid`;"]),
    # apply, but not on Spark Delta with Unity Catalog: the statements are printed, never run
    (GrantMode.APPLY, False, ["REVOKE ALL PRIVILEGES ON TABLE main.phi.crosswalk FROM `account users`;",
                              "GRANT SELECT ON TABLE main.phi.crosswalk TO `reid`;"]),
])
def test_modes(mode: GrantMode, on_databricks: bool, expected: list[str]) -> None:
    cfg = GrantsConfig(mode=mode, group="reid", table="main.phi.crosswalk")
    assert apply_grants(None, cfg, on_databricks) == expected  # type: ignore[arg-type]  # no SQL is run


@pytest.mark.parametrize("missing", ["group", "table"])
def test_print_and_apply_need_table_and_group(missing: str) -> None:
    given = {"mode": "print", "group": "reid", "table": "main.phi.crosswalk"}
    del given[missing]
    cfg = config_from_mapping({"crosswalk": {"grants": given}}).crosswalk.grants
    with pytest.raises(ConfigError, match="crosswalk.grants.table and crosswalk.grants.group are required"):
        apply_grants(None, cfg, True)  # type: ignore[arg-type]
