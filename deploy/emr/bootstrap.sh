#!/usr/bin/env bash
# EMR on EC2 bootstrap action (every node): Python 3.11 with deid-pipeline, CUDA OCR on GPU nodes.
#   --bootstrap-actions Path=s3://CODE/bootstrap.sh,Args=[s3://CODE]
# EMR 7's system Python is 3.9; deid needs 3.10+ (pydicom 3), so the jobs run on python3.11
# (spark.pyspark.python in deploy/emr/steps.json). Spark and Delta stay EMR's own: the wheel is
# installed without the [spark] extra.
set -euo pipefail
CODE=${1:?usage: bootstrap.sh s3://bucket/prefix}
sudo dnf install -y -q python3.11 python3.11-pip
WHEEL=$(aws s3 ls "$CODE/" | awk '/deid_pipeline-.*\.whl$/ {print $4}' | sort | tail -1)
aws s3 cp "$CODE/$WHEEL" "/tmp/$WHEEL"
# CPU torch first: an unpinned torch pulls the multi-GB CUDA build (onnxruntime does the GPU work)
sudo python3.11 -m pip install -q torch --index-url https://download.pytorch.org/whl/cpu
sudo python3.11 -m pip install -q "/tmp/$WHEEL"
if command -v nvidia-smi >/dev/null 2>&1; then
  # onnxruntime and onnxruntime-gpu install the same module: keep only the GPU build on GPU nodes
  sudo python3.11 -m pip uninstall -y -q onnxruntime
  sudo python3.11 -m pip install -q "onnxruntime-gpu>=1.18,<2"
  # YARN GPU isolation (deploy/emr/configurations.json): devices cgroup, as EMR's GPU guide sets up
  sudo mkdir -p /spark-rapids-cgroup/devices
  sudo mount -t cgroup -o devices cgroupv1-devices /spark-rapids-cgroup/devices || true
  sudo chmod a+rwx -R /spark-rapids-cgroup
fi
python3.11 -c "import deid; print('deid', deid.__version__)"
