"""The Databricks Asset Bundle: well-formed, and everything it names exists and agrees with the config.

``databricks bundle validate`` needs a workspace; these checks are the offline part of it plus the
project's own rules (zones in separate schemas, crosswalk readers, GPU settings, job arguments).
"""

from __future__ import annotations

import copy
import fnmatch
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from distribution_helpers import ROOT, job_flags, wheel_requires

from deid.config import load_config
from deid.keys import KeySource

VAR = re.compile(r"\$\{var\.([A-Za-z_][A-Za-z0-9_]*)\}")
RESOURCE_REF = re.compile(r"\$\{resources\.([a-z_]+)\.([A-Za-z0-9_]+)\.[a-z_]+\}")


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict), path
    return data


@pytest.fixture(scope="module")
def bundle() -> dict[str, Any]:
    root = _load(ROOT / "databricks.yml")
    merged: dict[str, Any] = {}
    for pattern in root["include"]:
        files = sorted(ROOT.glob(pattern))
        assert files, pattern
        for f in files:
            for kind, items in _load(f)["resources"].items():
                for key, value in items.items():
                    assert key not in merged.setdefault(kind, {}), f"{kind}.{key} defined twice"
                    merged[kind][key] = {**value, "_file": f}
    root["resources"] = merged
    return root


@pytest.fixture(scope="module")
def job(bundle: dict[str, Any]) -> dict[str, Any]:
    return bundle["resources"]["jobs"]["deid_nightly"]


def _substitute(text: str, bundle: dict[str, Any], catalog: str = "main") -> str:
    variables = {k: v.get("default") for k, v in bundle["variables"].items()}
    variables["catalog"] = catalog
    return VAR.sub(lambda m: str(variables[m.group(1)]), text)


def _all_strings(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [s for v in node.values() for s in _all_strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _all_strings(v)]
    return [node] if isinstance(node, str) else []


def test_every_variable_and_resource_reference_is_defined(bundle: dict[str, Any]) -> None:
    texts = [(ROOT / "databricks.yml").read_text()] + [p.read_text() for p in (ROOT / "resources").glob("*.yml")]
    used = {m for t in texts for m in VAR.findall(t)}
    assert used <= set(bundle["variables"]), used - set(bundle["variables"])
    for t in texts:
        for kind, key in RESOURCE_REF.findall(t):
            assert key in bundle["resources"][kind], f"{kind}.{key}"


def test_wheel_artifact_is_built_by_the_script_and_matches_the_task_libraries(
        bundle: dict[str, Any], job: dict[str, Any], wheel: Path) -> None:
    art = bundle["artifacts"]["deid_wheel"]
    assert art["type"] == "whl"
    assert art["build"] == "bash scripts/build_wheel.sh" and (ROOT / "scripts/build_wheel.sh").is_file()
    for f in art["files"]:
        assert fnmatch.fnmatch(f"dist/{wheel.name}", f["source"]), f["source"]
    for task in job["tasks"]:
        whls = [lib["whl"] for lib in task["libraries"] if "whl" in lib]
        assert len(whls) == 1, task["task_key"]
        resolved = (job["_file"].parent / whls[0]).resolve().relative_to(ROOT)
        assert fnmatch.fnmatch(f"dist/{wheel.name}", str(resolved)), whls[0]


def test_nightly_runs_ingest_deidentify_gate_publish_on_a_quartz_schedule(job: dict[str, Any],
                                                                         bundle: dict[str, Any]) -> None:
    order = [t["task_key"] for t in job["tasks"]]
    assert order == ["ingest", "deidentify", "quality_gate", "publish_views"]
    for prev, task in zip(job["tasks"], job["tasks"][1:], strict=False):
        assert task["depends_on"] == [{"task_key": prev["task_key"]}]
    cron = _substitute(job["schedule"]["quartz_cron_expression"], bundle).split()
    assert len(cron) in (6, 7) and "?" in cron[3:6]  # Quartz: seconds first, ? for day-of-month/week
    assert job["schedule"]["pause_status"] == "UNPAUSED"
    assert job["max_concurrent_runs"] == 1


@pytest.mark.parametrize("task_key", ["ingest", "deidentify", "quality_gate", "publish_views"])
def test_task_entry_point_config_and_arguments_exist(job: dict[str, Any], bundle: dict[str, Any],
                                                     task_key: str) -> None:
    task = next(t for t in job["tasks"] if t["task_key"] == task_key)
    assert task["job_cluster_key"] in {c["job_cluster_key"] for c in job["job_clusters"]}
    spt = task["spark_python_task"]
    script = (job["_file"].parent / spt["python_file"]).resolve()
    assert script.is_file(), spt["python_file"]
    params = spt["parameters"]
    flags = job_flags(str(script.relative_to(ROOT)))
    assert {p for p in params if p.startswith("--")} <= flags, flags
    values = dict(zip(params[::2], params[1::2], strict=True))
    for flag in ("--config", "--file"):
        if flag in values:
            rel = values[flag].removeprefix("${workspace.file_path}/")
            assert rel != values[flag] and (ROOT / rel).is_file(), values[flag]
    load_config(ROOT / values["--config"].removeprefix("${workspace.file_path}/"))


REF = re.compile(r"\$\{([A-Za-z0-9_.]+)\}")
USER = "jdoe"
FILE_PATH = f"/Workspace/Users/{USER}@example.org/.bundle/deid-pipeline/{{target}}/files"


def _resolve(bundle: dict[str, Any], target: str, prefix_volumes: bool = True) -> dict[str, Any]:
    """The bundle's resources as the CLI deploys them for ``target``: variables, references, presets.

    Development mode prefixes schema names (and, depending on the CLI version, volume names) with
    ``dev_<user>_``; every reference resolves to the prefixed name. A ``${...}`` that is neither a
    variable, a resource field, nor a workspace/bundle value fails the test.
    """
    spec = bundle["targets"][target]
    variables = {k: v.get("default") for k, v in bundle["variables"].items()} | spec.get("variables", {})
    resources = copy.deepcopy({k: {n: {f: v for f, v in r.items() if f != "_file"} for n, r in items.items()}
                               for k, items in bundle["resources"].items()})
    if spec.get("mode") == "development":
        kinds = ("schemas", "volumes") if prefix_volumes else ("schemas",)
        for kind in kinds:
            for r in resources[kind].values():
                r["name"] = f"dev_{USER}_{r['name']}"
    builtins = {"bundle.target": target, "bundle.name": bundle["bundle"]["name"],
                "workspace.file_path": FILE_PATH.format(target=target),
                "workspace.current_user.short_name": USER}

    def lookup(path: str) -> str:
        if path.startswith("var."):
            return str(variables[path[4:]])
        if path in builtins:
            return builtins[path]
        kind, key, field = path.removeprefix("resources.").split(".")
        assert path.startswith("resources.") and key in resources[kind], path
        return str(resources[kind][key][field])

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        if isinstance(node, str):
            for _ in range(5):  # references to references (volume -> schema -> variable)
                node = REF.sub(lambda m: lookup(m.group(1)), node)
            assert "${" not in node, node
        return node

    return walk(resources)


@pytest.mark.parametrize(("target", "prefix_volumes"), [("dev", True), ("dev", False), ("prod", False)])
def test_every_zone_path_resolves_to_a_bundle_volume(bundle: dict[str, Any], target: str,
                                                     prefix_volumes: bool) -> None:
    """Both targets: each zone argument is /Volumes/<catalog>/<schema>/<volume> of a deployed volume."""
    res = _resolve(bundle, target, prefix_volumes)
    volumes = {(v["catalog_name"], v["schema_name"], v["name"]): k for k, v in res["volumes"].items()}
    schemas = {s["name"] for s in res["schemas"].values()}
    zones: dict[str, set[str]] = {}
    for task in res["jobs"]["deid_nightly"]["tasks"]:
        params = task["spark_python_task"]["parameters"]
        for flag, value in zip(params[::2], params[1::2], strict=True):
            if flag in ("--input", "--raw", "--crosswalk", "--output"):
                parts = value.split("/")
                assert parts[:2] == ["", "Volumes"] and tuple(parts[2:5]) in volumes, value
                zones.setdefault(flag, set()).add(volumes[tuple(parts[2:5])])
            if flag == "--var" and value.startswith("schema="):
                assert value.removeprefix("schema=") in schemas, value
    assert {z: sorted(v) for z, v in zones.items()} == {
        "--input": ["exports"], "--raw": ["raw"], "--crosswalk": ["crosswalk"], "--output": ["output"]}
    phi = next(s for s in schemas if s.endswith("deid_phi"))
    assert phi == (f"dev_{USER}_deid_phi" if target == "dev" else "deid_phi")


@pytest.mark.parametrize("target", ["dev", "prod"])
def test_resolved_resources_validate_against_the_bundle_models(bundle: dict[str, Any], target: str) -> None:
    """The resolved job, schemas and volumes load into the databricks-bundles resource models, which
    reject unknown fields and values of the wrong type."""
    from databricks.bundles.jobs import Job
    from databricks.bundles.schemas import Schema
    from databricks.bundles.volumes import Volume

    res = _resolve(bundle, target)
    models = {"jobs": Job, "schemas": Schema, "volumes": Volume}
    assert set(res) == set(models)
    for kind, model in models.items():
        for key, value in res[kind].items():
            loaded = model.from_dict(copy.deepcopy(value))
            assert loaded.as_dict(), f"{kind}.{key}"
    job = Job.from_dict(copy.deepcopy(res["jobs"]["deid_nightly"]))
    assert job.name == f"deid-nightly-{target}"
    assert bundle["targets"]["prod"]["run_as"]["service_principal_name"] == "${var.pipeline_principal}"


def test_gpu_task_installs_the_wheels_gpu_extra(job: dict[str, Any], wheel: Path) -> None:
    """A whl library takes no extras: the de-identify task lists [gpu]'s packages, minus torch and
    transformers, which the ML GPU runtime brings; no CPU onnxruntime."""
    from packaging.requirements import Requirement

    reqs = [Requirement(r) for r in wheel_requires(wheel)]
    gpu = {str(r).split(";")[0].strip() for r in reqs
           if r.marker is not None and r.marker.evaluate({"extra": "gpu"})}
    task = next(t for t in job["tasks"] if t["task_key"] == "deidentify")
    pypi = {lib["pypi"]["package"] for lib in task["libraries"] if "pypi" in lib}
    assert pypi == {r for r in gpu if not r.startswith(("torch", "transformers"))}, (pypi, gpu)
    for t in job["tasks"]:
        assert not any("pypi" in lib and lib["pypi"]["package"].startswith("onnxruntime>")
                       for lib in t["libraries"])


def test_only_the_reidentification_group_and_the_pipeline_reach_the_crosswalk(bundle: dict[str, Any]) -> None:
    schemas = bundle["resources"]["schemas"]
    principals = {k: {g["principal"] for g in s.get("grants", [])} for k, s in schemas.items()}
    assert principals["deid_crosswalk"] == {"${var.pipeline_principal}", "${var.reid_group}"}
    assert principals["deid_phi"] == {"${var.pipeline_principal}"}
    assert "${var.researchers_group}" in principals["deid_output"]
    reid = next(g for g in schemas["deid_crosswalk"]["grants"] if g["principal"] == "${var.reid_group}")
    assert not {"WRITE_VOLUME", "MODIFY", "ALL_PRIVILEGES"} & set(reid["privileges"])


def test_gpu_cluster_settings_match_the_pipeline_config(job: dict[str, Any]) -> None:
    cfg = load_config(ROOT / "conf" / "databricks.yaml")
    gpu = next(c["new_cluster"] for c in job["job_clusters"] if c["job_cluster_key"] == "gpu")
    deid_task = next(t for t in job["tasks"] if t["task_key"] == "deidentify")
    assert deid_task["job_cluster_key"] == "gpu"
    assert "gpu" in gpu["spark_version"]
    keys = [k for k in cfg.spark.conf if k.startswith(("spark.executor.resource.gpu", "spark.task."))]
    assert "spark.executor.resource.gpu.amount" in keys and "spark.task.resource.gpu.amount" in keys
    for k in keys:
        assert str(gpu["spark_conf"][k]) == cfg.spark.conf[k], k
    assert cfg.pixels.ocr.use_gpu is True


def test_databricks_config_reads_the_key_from_a_secret_scope_and_writes_spark_delta() -> None:
    cfg = load_config(ROOT / "conf" / "databricks.yaml")
    assert cfg.keys.source is KeySource.DATABRICKS and cfg.keys.scope and cfg.keys.name
    assert cfg.spark.backend.value == "spark_delta"
    assert cfg.spark.master is None
    z = cfg.zones
    assert z.raw and z.crosswalk and z.output
    assert [p.split("/")[3] for p in (z.raw, z.crosswalk, z.output)] == ["deid_phi", "deid_crosswalk",
                                                                         "deid_output"]


def test_no_secret_in_any_bundle_or_config_file() -> None:
    hexkey = re.compile(r"\b[0-9a-fA-F]{64,}\b")
    files = [ROOT / "databricks.yml", *(ROOT / "resources").rglob("*"), *(ROOT / "conf").glob("*.yaml"),
             *(ROOT / "deploy").rglob("*")]
    for f in files:
        if f.is_file():
            assert not hexkey.search(f.read_text()), f
