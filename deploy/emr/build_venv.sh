#!/usr/bin/env bash
# EMR Serverless: pack a Python 3.11 environment with deid-pipeline for spark.archives
# (deploy/emr/serverless/*.json: s3://CODE/deid_venv.tar.gz#environment). Built inside Amazon Linux
# 2023 (the Serverless image's OS), so compiled wheels match. Needs docker; run from the repository:
#   bash scripts/build_wheel.sh && bash deploy/emr/build_venv.sh      -> dist/deid_venv.tar.gz
set -euo pipefail
cd "$(dirname "$0")/../.."
WHEEL=$(ls dist/deid_pipeline-*-py3-none-any.whl | tail -1)
docker run --rm -v "$PWD/dist:/dist" amazonlinux:2023 bash -euc "
  dnf install -y -q python3.11 python3.11-pip tar gzip
  python3.11 -m venv --copies /venv
  /venv/bin/pip install -q --upgrade pip venv-pack
  /venv/bin/pip install -q torch --index-url https://download.pytorch.org/whl/cpu
  /venv/bin/pip install -q /dist/$(basename "$WHEEL")
  /venv/bin/venv-pack -p /venv -o /dist/deid_venv.tar.gz -f
"
ls -l dist/deid_venv.tar.gz
