#!/usr/bin/env bash
# Runs the CUDA runtime checks (nvlm.cuda.DeviceCheck) on a GPU machine that has a JDK but no Maven.
#   cuda-ffm/src/device/device-check.sh [check ...]     (no names: every check, then the BF16 GEMM benchmark)
# Environment:
#   JAVA    a JDK 25+ java binary (default: .device/java, then java on PATH)
#   JAR     the shaded jar built here with `mvn -q -DskipTests package` (default: bench/target/nvlm.jar)
#   NVLM_CUDA_LIBPATH   extra folders to search for libcuda/libnvrtc/libcublas (see LibrarySearch)
# Prints what the machine has first, so a discovery failure can be read off the output.
set -uo pipefail
cd "$(dirname "$0")/../../.."
java=${JAVA:-.device/java}
[[ -x $java ]] || java=$(command -v java || true)
jar=${JAR:-bench/target/nvlm.jar}
if [[ -z $java || ! -x $java ]]; then echo "device-check: no java (set JAVA)" >&2; exit 2; fi
if [[ ! -f $jar ]]; then echo "device-check: $jar missing (build it with mvn -q -DskipTests package, or set JAR)" >&2; exit 2; fi

echo "== machine"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "(no nvidia-smi)"
"$java" -version 2>&1 | head -1
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/lib/x86_64-linux-gnu; do
  ls "$d"/libcuda.so* 2>/dev/null | head -2
done
ls -d /opt/torch/.venv/lib/python3*/site-packages/nvidia/*/lib 2>/dev/null
ls /opt/torch/.venv/lib/python3*/site-packages/nvidia/cu13/lib 2>/dev/null | grep -E 'nvrtc|cublas' | head

echo "== checks"
exec "$java" --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -Xmx4g \
  -cp "$jar" nvlm.cuda.DeviceCheck "$@"
