#!/usr/bin/env bash
# EMR Serverless: pack the Python 3.11 environment of deploy/emr/Dockerfile.venv (self-contained:
# Python built from source with its standard library, linux/amd64, Amazon Linux 2023) for
# spark.archives (deploy/emr/serverless/*.json: s3://CODE/deid_venv.tar.gz#environment).
# Needs docker with BuildKit; run from the repository:
#   bash scripts/build_wheel.sh && bash deploy/emr/build_venv.sh      -> dist/deid_venv.tar.gz
set -euo pipefail
cd "$(dirname "$0")/../.."
ls dist/deid_pipeline-*-py3-none-any.whl >/dev/null
DOCKER_BUILDKIT=1 docker build --platform linux/amd64 -f deploy/emr/Dockerfile.venv --output dist .
ls -l dist/deid_venv.tar.gz
