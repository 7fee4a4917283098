#!/usr/bin/env bash
# Create .venv and install deid with local Spark (extra [spark]), the pixel stage, the AWS key source
# and the test dependencies.
# torch is pinned and installed first: an unpinned torch pulls a multi-GB CUDA build.
#
# DEID_SPARK_LINE=3.5 builds a second environment, .venv35, on the Spark 3.5 line (pyspark 3.5,
# delta-spark 3.3) with the numpy/pandas/pyarrow of Databricks 16.4 LTS (constraints/dbr-16.4.txt:
# numpy 1.x, pandas 1.5.3, pyarrow 15). CI (.ci/run) runs the Spark tests in both environments.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
LINE=${DEID_SPARK_LINE:-4}
case "$LINE" in
  4) VENV=.venv; PINS=() ;;
  3.5) VENV=.venv35; PINS=("pyspark>=3.5,<3.6" "delta-spark>=3.3,<3.4") ;;
  *) echo "DEID_SPARK_LINE must be 4 or 3.5 (got $LINE)"; exit 2 ;;
esac
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
. "$VENV/bin/activate"
python -m pip install -q --upgrade pip
python -m pip install -q "torch==2.13.0"
if [ "$LINE" = 3.5 ]; then
  # the runtime's numpy/pandas/pyarrow; torch/transformers stay the CPU builds installed here
  grep -vE '^(torch|transformers)==' constraints/dbr-16.4.txt > "$VENV/constraints.txt"
  python -m pip install -q -e ".[spark,pixels,jpegls,aws,dev]" "${PINS[@]}" -c "$VENV/constraints.txt"
else
  python -m pip install -q -e ".[spark,pixels,jpegls,aws,dev]"
fi
java -version >/dev/null 2>&1 || { echo "Java 17+ is required by Spark (apt-get install openjdk-17-jre-headless)"; exit 1; }
