#!/usr/bin/env bash
# The test command (README): the whole suite, slow end-to-end tests included.
set -euo pipefail
cd "$(dirname "$0")/.."
. .venv/bin/activate
python -m pytest -q -p no:cacheprovider "$@"
