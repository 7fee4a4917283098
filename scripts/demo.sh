#!/usr/bin/env bash
# The demo: set up, then de-identify the sample DICOM files end to end on the embedded local Spark
# and query the result.
#   bash scripts/demo.sh            (DEMO_DIR=demo by default; SKIP_SETUP=1 skips scripts/setup.sh)
# Without DEID_KEY in the environment a demo key is made once with `deid keygen` and kept in
# $DEMO_DIR/demo.key (mode 0600), so re-runs give the same pseudonyms. Real runs take the key from the
# environment or a secret store, never from a file beside the data.
set -euo pipefail
cd "$(dirname "$0")/.."
DEMO=${DEMO_DIR:-demo}
[ "${SKIP_SETUP:-0}" = 1 ] || bash scripts/setup.sh
. .venv/bin/activate

mkdir -p "$DEMO"
if [ -z "${DEID_KEY:-}" ]; then
  if [ ! -s "$DEMO/demo.key" ]; then
    (umask 077 && deid keygen > "$DEMO/demo.key")
    echo "demo: new demo key in $DEMO/demo.key"
  fi
  DEID_KEY=$(cat "$DEMO/demo.key")
  export DEID_KEY
fi

if [ ! -d "$DEMO/export" ]; then
  python - "$DEMO/export" <<'PY'
import sys
from pathlib import Path

from deid.samples import copy_samples

print(f"demo: {copy_samples(Path(sys.argv[1]))} sample files copied to {sys.argv[1]}")
PY
fi

status=0
deid run --input "$DEMO/export" --output "$DEMO/out" || status=$?
# exit 1 = the run finished but the quality gate held the release back (see the messages above)
[ "$status" -le 1 ] || exit "$status"
deid sql --output "$DEMO/out" "SELECT modality, count(*) AS instances FROM metadata GROUP BY modality ORDER BY instances DESC"
deid sql --output "$DEMO/out" "SELECT stage, status, n_inputs, n_deidentified, n_quarantined, key_version FROM runs ORDER BY finished_at"
echo "demo: de-identified DICOM files in $DEMO/out/dicom; PHI zones in $DEMO/out.phi-raw and $DEMO/out.crosswalk"
exit "$status"
