#!/usr/bin/env bash
# The test command (README): the whole suite, slow end-to-end tests included. Arguments go to pytest
# (e.g. -m "not spark"). DEID_SPARK_LINE=3.5 runs in .venv35 (scripts/setup.sh). pytest's exit code
# 5 (no test selected, e.g. a marker that matches nothing) is not a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${DEID_SPARK_LINE:-4}" in 3.5) VENV=.venv35 ;; *) VENV=.venv ;; esac
. "$VENV/bin/activate"
rc=0
python -m pytest -q -p no:cacheprovider "$@" || rc=$?
[ "$rc" -eq 5 ] && rc=0
exit "$rc"
