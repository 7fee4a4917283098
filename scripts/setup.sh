#!/usr/bin/env bash
# Create .venv and install deid with local Spark (extra [spark]) and its test dependencies.
# torch is pinned and installed first: an unpinned torch pulls a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
. .venv/bin/activate
python -m pip install -q --upgrade pip
python -m pip install -q "torch==2.13.0"
python -m pip install -q -e ".[spark,dev]"
java -version >/dev/null 2>&1 || { echo "Java 17+ is required by Spark (apt-get install openjdk-17-jre-headless)"; exit 1; }
