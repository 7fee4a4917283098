"""EMR: conf/emr.yaml, the rendered job definitions under deploy/emr (current, well-formed, runnable)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from distribution_helpers import ROOT, job_flags, load_module

from deid.config import load_config
from deid.keys import KeySource

emr_job = load_module("scripts/emr_job.py", "emr_job")
CONFIG = ROOT / "conf" / "emr.yaml"
DEPLOY = ROOT / "deploy" / "emr"


@pytest.fixture(scope="module")
def rendered() -> dict[str, Any]:
    return emr_job.render(load_config(CONFIG), CONFIG, "s3://example-deid-code/deid/" + emr_job.__version__)


def test_emr_config_uses_s3a_zones_emr_delta_and_secrets_manager() -> None:
    cfg = load_config(CONFIG)
    z = cfg.zones
    for loc in (z.input, z.raw, z.crosswalk, z.output):
        assert loc and loc.startswith("s3a://"), loc
    assert z.raw and z.crosswalk and z.output
    assert len({loc.split("/")[2] for loc in (z.raw, z.crosswalk, z.output)}) == 3  # a bucket per zone
    assert cfg.spark.conf["spark.sql.extensions"] == "io.delta.sql.DeltaSparkSessionExtension"
    assert cfg.spark.conf["spark.sql.catalog.spark_catalog"] == "org.apache.spark.sql.delta.catalog.DeltaCatalog"
    assert cfg.keys.source is KeySource.AWS and cfg.keys.name and cfg.keys.region


def test_checked_in_definitions_are_what_the_script_renders(rendered: dict[str, Any]) -> None:
    for rel, content in rendered.items():
        on_disk = (DEPLOY / rel).read_text()
        expected = content if isinstance(content, str) else json.dumps(content, indent=2) + "\n"
        assert on_disk == expected, f"deploy/emr/{rel} is stale: run python scripts/emr_job.py"


@pytest.mark.parametrize("path", sorted(p.relative_to(DEPLOY).as_posix() for p in DEPLOY.rglob("*.json")))
def test_json_files_parse(path: str) -> None:
    json.loads((DEPLOY / path).read_text())


def _split_step(step: dict[str, Any]) -> tuple[list[str], str, list[str]]:
    args = step["HadoopJarStep"]["Args"]
    entry = next(i for i, a in enumerate(args) if a.endswith(".py"))
    return args[:entry], args[entry], args[entry + 1:]


def test_steps_run_the_three_stages_with_existing_entry_points(rendered: dict[str, Any]) -> None:
    steps = rendered["steps.json"]
    assert [s["Name"] for s in steps] == ["deid-ingest", "deid-deidentify", "deid-quality_gate"]
    uploads = rendered["uploads.txt"].splitlines()
    for step in steps:
        submit, entry, job_args = _split_step(step)
        assert submit[0] == "spark-submit"
        local = next(line.split()[3] for line in uploads if line.split()[4] == entry)
        assert (ROOT / local).is_file()
        given = {a for a in job_args if a.startswith("--")}
        assert given <= job_flags(local), (local, given)
        assert job_args[job_args.index("--config") + 1] == CONFIG.name
        assert any(f.endswith("/conf/" + CONFIG.name) for f in submit[submit.index("--files") + 1].split(","))


def test_only_the_deidentify_step_asks_for_gpus(rendered: dict[str, Any]) -> None:
    for step in rendered["steps.json"]:
        submit, _, _ = _split_step(step)
        wants_gpu = "spark.executor.resource.gpu.amount=1" in submit
        assert wants_gpu == (step["Name"] == "deid-deidentify")
    for stage in emr_job.STAGES:
        assert "resource.gpu" not in rendered[f"serverless/{stage}.json"]["jobDriver"]["sparkSubmit"][
            "sparkSubmitParameters"]


NODEMANAGER_GPU = "yarn.nodemanager.resource-plugins"


def test_gpu_yarn_settings_only_on_the_gpu_task_fleet() -> None:
    """NodeManager GPU discovery fails on nodes without nvidia-smi: only the GPU fleet carries it."""
    fleets = json.loads((DEPLOY / "instance-fleets.json").read_text())
    for fleet in fleets:
        for itype in fleet["InstanceTypeConfigs"]:
            confs = {c["Classification"]: c for c in itype.get("Configurations", [])}
            gpu_node = itype["InstanceType"].startswith(("g4dn.", "g5."))
            assert gpu_node == (fleet["InstanceFleetType"] == "TASK"), itype
            if gpu_node:
                assert confs["yarn-site"]["Properties"][NODEMANAGER_GPU] == "yarn.io/gpu"
                assert confs["container-executor"]["Configurations"][0]["Properties"]["module.enabled"] == "true"
            else:
                assert not confs, itype
    conf = {c["Classification"]: c for c in json.loads((DEPLOY / "configurations.json").read_text())}
    assert "container-executor" not in conf
    assert conf["delta-defaults"]["Properties"]["delta.enabled"] == "true"
    assert conf["yarn-site"]["Properties"] == {"yarn.resource-types": "yarn.io/gpu"}  # ResourceManager
    cfg = load_config(CONFIG)
    assert (conf["spark-defaults"]["Properties"]["spark.executor.resource.gpu.discoveryScript"]
            == cfg.spark.conf["spark.executor.resource.gpu.discoveryScript"])


def _pascal_to_api(node: Any) -> Any:
    """Step Functions parameters (PascalCase, ``.$`` paths) as the EMR Serverless API's members."""
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            name = k.removesuffix(".$")
            out[name[0].lower() + name[1:]] = "token-from-a-path" if k.endswith(".$") else _pascal_to_api(v)
        return out
    return [_pascal_to_api(v) for v in node] if isinstance(node, list) else node


def _readme_create_cluster() -> dict[str, Any]:
    """The README's ``aws emr create-cluster`` as RunJobFlow parameters (files it names, roles)."""
    text = (DEPLOY / "README.md").read_text()
    cmd = text[text.index("aws emr create-cluster"):].split("\n```", 1)[0]
    assert "--use-default-roles" not in cmd
    profile = cmd.split("InstanceProfile=", 1)[1].split()[0]
    return {
        "Name": "deid", "ReleaseLabel": cmd.split("--release-label ", 1)[1].split()[0],
        "Applications": [{"Name": "Spark"}], "LogUri": "s3://example-logs/emr/",
        "Instances": {"InstanceFleets": json.loads((DEPLOY / "instance-fleets.json").read_text()),
                      "KeepJobFlowAliveWhenNoSteps": True},
        "Configurations": json.loads((DEPLOY / "configurations.json").read_text()),
        "BootstrapActions": [{"Name": "deid", "ScriptBootstrapAction": {
            "Path": "s3://example-deid-code/deid/bootstrap.sh", "Args": ["s3://example-deid-code/deid"]}}],
        "JobFlowRole": profile, "ServiceRole": cmd.split("--service-role ", 1)[1].split()[0],
    }


def test_every_rendered_request_passes_botocore_validation(rendered: dict[str, Any]) -> None:
    """What AWS would reject before running anything: unknown or missing members, wrong types."""
    import botocore.session
    from botocore.validate import validate_parameters

    session = botocore.session.get_session()

    def check(service: str, operation: str, params: dict[str, Any]) -> None:
        model = session.get_service_model(service).operation_model(operation)
        validate_parameters(params, model.input_shape)  # raises ParamValidationError

    check("emr", "RunJobFlow", _readme_create_cluster())
    check("emr", "AddJobFlowSteps", {"JobFlowId": "j-EXAMPLE", "Steps": rendered["steps.json"]})
    for stage in emr_job.STAGES:
        run = rendered[f"serverless/{stage}.json"]
        assert run["clientToken"]
        check("emr-serverless", "StartJobRun", run)
    for name, state in rendered["state-machine.json"]["States"].items():
        params = state["Parameters"]
        assert "ClientToken.$" in params and name in params["ClientToken.$"]
        check("emr-serverless", "StartJobRun", _pascal_to_api(params))


def test_crosswalk_bucket_policy_names_the_roles_that_run_the_pipeline(rendered: dict[str, Any]) -> None:
    """The EC2 instance profile of the README's cluster, the Serverless job role, re-identification."""
    policy = json.loads((DEPLOY / "crosswalk-bucket-policy.json").read_text())
    deny = next(s for s in policy["Statement"] if s["Sid"] == "CrosswalkOnlyPipelineAndReidentification")
    allowed = {arn.rsplit("/", 1)[1] for arn in deny["Condition"]["ArnNotLike"]["aws:PrincipalArn"]}
    cluster = _readme_create_cluster()
    job_role = rendered["serverless/ingest.json"]["executionRoleArn"].rsplit("/", 1)[1]
    assert {cluster["JobFlowRole"], job_role, "deid-reidentification"} == allowed
    readme = (DEPLOY / "README.md").read_text()
    assert f"--role-name {cluster['JobFlowRole']}" in readme  # the README creates that role


def test_serverless_runs_use_the_packed_environment_and_emr_delta(rendered: dict[str, Any]) -> None:
    for stage in emr_job.STAGES:
        run = rendered[f"serverless/{stage}.json"]
        params = run["jobDriver"]["sparkSubmit"]["sparkSubmitParameters"]
        assert "spark.archives=s3://" in params and "#environment" in params
        assert "spark.executorEnv.PYSPARK_PYTHON=./environment/bin/python" in params
        assert "/usr/share/aws/delta/lib/delta-spark.jar" in params
        assert run["applicationId"] and run["executionRoleArn"].startswith("arn:aws:iam::")


def test_state_machine_chains_the_serverless_runs(rendered: dict[str, Any]) -> None:
    sm = rendered["state-machine.json"]
    state, seen = sm["StartAt"], []
    while True:
        s = sm["States"][state]
        assert s["Resource"].endswith("emr-serverless:startJobRun.sync")
        seen.append(state)
        if s.get("End"):
            break
        state = s["Next"]
    assert seen == list(emr_job.STAGES)


def test_input_override_and_profile_reach_the_jobs() -> None:
    files = emr_job.render(load_config(CONFIG), CONFIG, "s3://b/p", profile="basic",
                           input_override="s3a://example-deid-exports/2024-06-01")
    ingest = files["steps.json"][0]["HadoopJarStep"]["Args"]
    assert ingest[ingest.index("--input") + 1] == "s3a://example-deid-exports/2024-06-01"
    deid = files["serverless/deidentify.json"]["jobDriver"]["sparkSubmit"]["entryPointArguments"]
    assert deid[deid.index("--profile") + 1] == "basic"


def test_missing_zone_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "emr.yaml"
    bad.write_text("zones:\n  output: s3a://b/out\n")
    with pytest.raises(SystemExit):
        emr_job.render(load_config(bad), bad, "s3://b/p")
