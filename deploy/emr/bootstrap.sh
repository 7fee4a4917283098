#!/usr/bin/env bash
# EMR on EC2 bootstrap action (every node): Python 3.11 with deid-pipeline; CUDA OCR on GPU nodes.
#   --bootstrap-actions Path=s3://CODE/bootstrap.sh,Args=[s3://CODE]
# EMR 7's system Python is 3.9; deid needs 3.10+ (pydicom 3), so the jobs run on python3.11
# (spark.pyspark.python in deploy/emr/steps.json). Spark and Delta stay EMR's own: the wheel is
# installed without the [spark] extra, with constraints/emr-7.txt (numpy < 2 for EMR's pyspark 3.5).
set -euo pipefail
CODE=${1:?usage: bootstrap.sh s3://bucket/prefix}
sudo dnf install -y -q python3.11 python3.11-pip
WHEEL=$(aws s3 ls "$CODE/" | awk '/deid_pipeline-.*\.whl$/ {print $4}' | sort | tail -1)
aws s3 cp "$CODE/$WHEEL" "/tmp/$WHEEL"
aws s3 cp "$CODE/constraints/emr-7.txt" /tmp/deid-constraints.txt
# CPU torch first: an unpinned torch pulls the multi-GB CUDA build (onnxruntime does the GPU work)
sudo python3.11 -m pip install -q -c /tmp/deid-constraints.txt "torch>=2.3" \
  --index-url https://download.pytorch.org/whl/cpu --extra-index-url https://pypi.org/simple
if command -v nvidia-smi >/dev/null 2>&1; then
  # [gpu]: onnxruntime-gpu instead of onnxruntime (both install the module onnxruntime; one per node)
  sudo python3.11 -m pip install -q -c /tmp/deid-constraints.txt "/tmp/$WHEEL[gpu,jpegls,aws]"
  # YARN GPU isolation (the GPU fleet's yarn-site in deploy/emr/instance-fleets.json): devices cgroup
  sudo mkdir -p /spark-rapids-cgroup/devices
  sudo mount -t cgroup -o devices cgroupv1-devices /spark-rapids-cgroup/devices || true
  sudo chmod a+rwx -R /spark-rapids-cgroup
else
  sudo python3.11 -m pip install -q -c /tmp/deid-constraints.txt "/tmp/$WHEEL[pixels,jpegls,aws]"
fi
python3.11 -c "import deid; print('deid', deid.__version__)"
