"""Render the EMR job definitions of the nightly pipeline from a pipeline config (conf/emr.yaml).

    python scripts/emr_job.py --config conf/emr.yaml --code s3://example-deid-code/deid/0.1.0 \
        [--profile research] [--input s3a://.../2024-06-01] --out deploy/emr

writes, under --out:

* ``steps.json``: EMR on EC2 steps (ingest, de-identify on the GPU task fleet, gate check) for
  ``aws emr add-steps --cluster-id j-... --steps file://deploy/emr/steps.json``;
* ``serverless/{ingest,deidentify,quality_gate}.json``: EMR Serverless ``start-job-run`` requests
  (``aws emr-serverless start-job-run --cli-input-json file://...``); CPU only (no GPU there);
* ``state-machine.json``: a Step Functions definition running the three Serverless jobs in order, for
  a nightly EventBridge Scheduler schedule;
* ``uploads.txt``: what to copy to ``--code`` (``aws s3 cp`` lines; the wheel from build_wheel.sh).

Zones come from the config; only spark.conf keys, paths and names are rendered (no secrets: the key
is read by the job from AWS Secrets Manager, keys.source: aws).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from deid import __version__  # noqa: E402
from deid.config import DeidConfig, load_config  # noqa: E402

WHEEL = f"deid_pipeline-{__version__}-py3-none-any.whl"
PYTHON_EC2 = "/usr/bin/python3.11"  # installed by deploy/emr/bootstrap.sh
VENV = "deid_venv.tar.gz"  # EMR Serverless: packed by deploy/emr/build_venv.sh
DELTA_JARS = "/usr/share/aws/delta/lib/delta-spark.jar,/usr/share/aws/delta/lib/delta-storage.jar"
GPU_KEYS = ("spark.executor.resource.gpu.", "spark.task.resource.gpu.")
STAGES = ("ingest", "deidentify", "quality_gate")
GATE_SQL = "quality_gate.sql"


def _job_file(stage: str) -> str:
    return {"ingest": "jobs/ingest.py", "deidentify": "jobs/deidentify.py",
            "quality_gate": "deploy/run_sql.py"}[stage]


def job_arguments(cfg: DeidConfig, stage: str, config_name: str, profile: str | None,
                  input_override: str | None) -> list[str]:
    """The job's own arguments (after the entry point): --config and the zone overrides."""
    z = cfg.zones
    args = ["--config", config_name]
    if stage == "ingest":
        args += ["--input", input_override or z.input or ""]
    if stage == "deidentify" and profile:
        args += ["--profile", profile]
    args += ["--raw", z.raw or "", "--crosswalk", z.crosswalk or "", "--output", z.output or ""]
    if stage == "quality_gate":
        args += ["--file", GATE_SQL]
    if "" in args:
        raise SystemExit("the config must give zones.raw, zones.crosswalk, zones.output (and input)")
    return args


def spark_confs(cfg: DeidConfig, *, gpu: bool) -> dict[str, str]:
    """spark.conf of the config (session-start settings), without GPU keys where there is no GPU."""
    return {k: v for k, v in sorted(cfg.spark.conf.items()) if gpu or not k.startswith(GPU_KEYS)}


def _conf_args(confs: dict[str, str]) -> list[str]:
    out: list[str] = []
    for k, v in confs.items():
        out += ["--conf", f"{k}={v}"]
    return out


def ec2_step(cfg: DeidConfig, stage: str, code: str, config_name: str, profile: str | None,
             input_override: str | None) -> dict[str, Any]:
    """One EMR on EC2 step (command-runner spark-submit, YARN cluster mode)."""
    gpu = stage == "deidentify"
    files = [f"{code}/conf/{config_name}"] + ([f"{code}/sql/{GATE_SQL}"] if stage == "quality_gate" else [])
    confs = {
        "spark.pyspark.python": PYTHON_EC2,
        "spark.yarn.appMasterEnv.PYSPARK_PYTHON": PYTHON_EC2,
        "spark.executorEnv.PYSPARK_PYTHON": PYTHON_EC2,
        **spark_confs(cfg, gpu=gpu),
    }
    args = ["spark-submit", "--deploy-mode", "cluster", "--files", ",".join(files), *_conf_args(confs),
            f"{code}/{_job_file(stage)}", *job_arguments(cfg, stage, config_name, profile, input_override)]
    return {"Name": f"deid-{stage}", "ActionOnFailure": "CANCEL_AND_WAIT",
            "HadoopJarStep": {"Jar": "command-runner.jar", "Args": args}}


def serverless_run(cfg: DeidConfig, stage: str, code: str, config_name: str, profile: str | None,
                   input_override: str | None, application_id: str, role_arn: str,
                   log_uri: str) -> dict[str, Any]:
    """One EMR Serverless StartJobRun request (CPU workers; packed Python 3.11 environment)."""
    files = [f"{code}/conf/{config_name}"] + ([f"{code}/sql/{GATE_SQL}"] if stage == "quality_gate" else [])
    py = "./environment/bin/python"
    confs = {
        "spark.archives": f"{code}/{VENV}#environment",
        "spark.emr-serverless.driverEnv.PYSPARK_DRIVER_PYTHON": py,
        "spark.emr-serverless.driverEnv.PYSPARK_PYTHON": py,
        "spark.executorEnv.PYSPARK_PYTHON": py,
        "spark.jars": DELTA_JARS,
        "spark.submit.pyFiles": DELTA_JARS.split(",")[0],
        "spark.files": ",".join(files),
        **spark_confs(cfg, gpu=False),
    }
    params = " ".join(f"--conf {k}={v}" for k, v in confs.items())
    return {
        "applicationId": application_id,
        # idempotency token (required by the API): the CLI's --client-token overrides it per run
        # (deploy/emr/README.md gives one per stage and night)
        "clientToken": f"deid-{stage}-{__version__}",
        "executionRoleArn": role_arn,
        "name": f"deid-{stage}",
        "jobDriver": {"sparkSubmit": {
            "entryPoint": f"{code}/{_job_file(stage)}",
            "entryPointArguments": job_arguments(cfg, stage, config_name, profile, input_override),
            "sparkSubmitParameters": params,
        }},
        "configurationOverrides": {"monitoringConfiguration": {
            "s3MonitoringConfiguration": {"logUri": log_uri}}},
    }


def state_machine(runs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Step Functions (ASL): the Serverless job runs in order, each waiting for the previous one."""
    states: dict[str, Any] = {}
    for i, stage in enumerate(STAGES):
        r = runs[stage]
        drv = r["jobDriver"]["sparkSubmit"]
        state: dict[str, Any] = {
            "Type": "Task",
            "Resource": "arn:aws:states:::emr-serverless:startJobRun.sync",
            "Parameters": {
                "ApplicationId": r["applicationId"], "ExecutionRoleArn": r["executionRoleArn"],
                # one token per execution and stage (MD5 hex: 32 characters, the API allows 64)
                "ClientToken.$": f"States.Hash(States.Format('{{}}-{stage}', $$.Execution.Id), 'MD5')",
                "Name": r["name"],
                "JobDriver": {"SparkSubmit": {"EntryPoint": drv["entryPoint"],
                                              "EntryPointArguments": drv["entryPointArguments"],
                                              "SparkSubmitParameters": drv["sparkSubmitParameters"]}},
                "ConfigurationOverrides": {"MonitoringConfiguration": {"S3MonitoringConfiguration": {
                    "LogUri": r["configurationOverrides"]["monitoringConfiguration"][
                        "s3MonitoringConfiguration"]["logUri"]}}},
            },
        }
        if i + 1 < len(STAGES):
            state["Next"] = STAGES[i + 1]
        else:
            state["End"] = True
        states[stage] = state
    return {"Comment": "deid nightly: ingest -> de-identify -> gate check (EMR Serverless)",
            "StartAt": STAGES[0], "States": states}


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def uploads(code: str, config_path: Path) -> list[str]:
    pairs = [(f"dist/{WHEEL}", f"{code}/{WHEEL}"), (f"dist/{VENV}", f"{code}/{VENV}"),
             ("jobs/ingest.py", f"{code}/jobs/ingest.py"), ("jobs/deidentify.py", f"{code}/jobs/deidentify.py"),
             ("deploy/run_sql.py", f"{code}/deploy/run_sql.py"),
             (f"resources/sql/{GATE_SQL}", f"{code}/sql/{GATE_SQL}"),
             ("deploy/emr/bootstrap.sh", f"{code}/bootstrap.sh"),
             ("constraints/emr-7.txt", f"{code}/constraints/emr-7.txt"),
             (_relative(config_path), f"{code}/conf/{config_path.name}")]
    return [f"aws s3 cp {src} {dst}" for src, dst in pairs]


def render(cfg: DeidConfig, config_path: Path, code: str, *, profile: str | None = None,
           input_override: str | None = None, application_id: str = "00example0application",
           role_arn: str = "arn:aws:iam::123456789012:role/deid-pipeline-job",
           log_uri: str = "s3://example-deid-logs/emr-serverless/") -> dict[str, Any]:
    """Every file's content, keyed by its path under --out."""
    code = code.rstrip("/")
    name = config_path.name
    steps = [ec2_step(cfg, s, code, name, profile, input_override) for s in STAGES]
    runs = {s: serverless_run(cfg, s, code, name, profile, input_override, application_id, role_arn,
                              log_uri) for s in STAGES}
    out: dict[str, Any] = {"steps.json": steps, "state-machine.json": state_machine(runs)}
    for s, r in runs.items():
        out[f"serverless/{s}.json"] = r
    out["uploads.txt"] = "\n".join(uploads(code, config_path)) + "\n"
    return out


def write(files: dict[str, Any], out: Path) -> list[Path]:
    written = []
    for rel, content in files.items():
        p = out / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(content if isinstance(content, str) else json.dumps(content, indent=2) + "\n")
        written.append(p)
    return written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--config", default=str(ROOT / "conf" / "emr.yaml"))
    ap.add_argument("--code", default="s3://example-deid-code/deid/" + __version__,
                    help="S3 prefix holding the wheel, jobs, config and SQL (uploads.txt)")
    ap.add_argument("--profile")
    ap.add_argument("--input", help="export location (default: zones.input)")
    ap.add_argument("--application-id", default="00example0application")
    ap.add_argument("--role-arn", default="arn:aws:iam::123456789012:role/deid-pipeline-job")
    ap.add_argument("--log-uri", default="s3://example-deid-logs/emr-serverless/")
    ap.add_argument("--out", default=str(ROOT / "deploy" / "emr"))
    args = ap.parse_args(argv)
    path = Path(args.config)
    files = render(load_config(path), path, args.code, profile=args.profile, input_override=args.input,
                   application_id=args.application_id, role_arn=args.role_arn, log_uri=args.log_uri)
    for p in write(files, Path(args.out)):
        print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
