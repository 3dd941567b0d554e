#!/usr/bin/env bash
# The CUDA backend's device check, for one call on the GPU machine.
#   bench/gpu/device-check.sh            (from the repository root; see bench/gpu/README.md)
# Needs .device/java and .device/bench/target/nvlm.jar (../shared/tools/device-pack bench/target/nvlm.jar)
# and /opt/torch/.venv/bin/python. Writes logs and JSON under $OUT (default /tmp/nvlm-gpu-out),
# scratch (the small-preset model folders, ~430 MB) under /tmp/nvlm-gpu-check, and prints one
# table last. Time limits: Java 260 s, PyTorch 110 s; expected total about 3 minutes.
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-/tmp/nvlm-gpu-out}
work=/tmp/nvlm-gpu-check
mkdir -p "$out" "$work"
java=${JAVA:-.device/java}
jar=${JAR:-.device/bench/target/nvlm.jar}
[[ -f $jar ]] || jar=bench/target/nvlm.jar
py=${PYTHON:-/opt/torch/.venv/bin/python}
[[ -x $py ]] || py=$(command -v python3)
started=$(date +%s)

{
  echo "== machine $(date -u +%FT%TZ)"
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv,noheader 2>&1 | head -2
  ls -d /usr/local/nvidia/lib64 /opt/torch/.venv/lib/python3*/site-packages/nvidia/cu13/lib 2>&1
  "$py" -c 'import torch; print("torch", torch.__version__, torch.version.cuda)' 2>&1 | tail -1
} 2>&1 | tee "$out/machine.txt"

echo "== java ($(( $(date +%s) - started )) s)"
# Each section has its own limit inside (ops 60, models 40, gemm 25, attention 30, train 70, nccl 30 s).
# The driver mount and PyTorch's CUDA 13 wheels, in case the bindings' own search misses them.
libs=$(ls -d /usr/local/nvidia/lib64 /opt/torch/.venv/lib/python3*/site-packages/nvidia/cu13/lib /opt/torch/.venv/lib/python3*/site-packages/nvidia/nccl/lib 2>/dev/null | paste -sd:)
LD_LIBRARY_PATH="$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" NVLM_KERNEL_CACHE=$work/kernels timeout -k 5 260 "$java" -Xmx24g -cp "$jar" nvlm.bench.gpu.GpuCheck \
  --out "$out" --work "$work" --golden tests/reference/golden 2>&1 | tee "$out/java.log"
echo "java exit ${PIPESTATUS[0]}"

echo "== torch ($(( $(date +%s) - started )) s)"
PYTHONUNBUFFERED=1 timeout -k 5 110 "$py" bench/gpu/torch_peers.py --work "$work" --out "$out/torch.json" 2>&1 \
  | tee "$out/torch.log"
echo "torch exit ${PIPESTATUS[0]}"

echo "== table ($(( $(date +%s) - started )) s)"
"$py" bench/gpu/report.py "$out/java.json" "$out/torch.json" | tee "$out/table.txt"
