#!/usr/bin/env bash
# Build the deid-pipeline wheel into dist/ (the artifact of databricks.yml and scripts/emr_job.py).
#   bash scripts/build_wheel.sh [OUTDIR]
# Uses the project's build backend (hatchling, in the [dev] extra) without build isolation, so no
# download is needed; falls back to `python -m build` when hatchling is not installed.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-dist}
PY=python3
[ -x .venv/bin/python ] && PY=.venv/bin/python
mkdir -p "$OUT"
rm -f "$OUT"/deid_pipeline-*.whl
if "$PY" -c "import hatchling" 2>/dev/null; then
  "$PY" -m pip wheel -q --no-deps --no-build-isolation -w "$OUT" .
else
  "$PY" -m build --wheel --outdir "$OUT" .
fi
ls "$OUT"/deid_pipeline-*-py3-none-any.whl
