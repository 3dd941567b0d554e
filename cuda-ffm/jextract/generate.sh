#!/usr/bin/env bash
# Generates the FFM bindings of package nvlm.cuda.bindings with jextract itself:
#   cuda_h       from the real cuda.h of the CUDA toolkit (CUDA 13.0 here);
#   nvrtc_h      from nvrtc.h in this folder, and
#   cublas_api_h from cublas_api.h in this folder (minimal headers of what the runtime calls:
#                NVRTC and cuBLAS headers do not ship with the driver or this machine's toolkit).
# Only the functions and constants the runtime uses are generated (the lists below). Symbols are
# looked up in the libraries the runtime loads (no -l: nvlm.cuda.runtime.CudaLibraries finds
# and loads them, so the classes load on machines without CUDA).
#
#   cuda-ffm/jextract/generate.sh           regenerate cuda-ffm/src/main/java/nvlm/cuda/bindings
#   cuda-ffm/jextract/generate.sh --check   generate into a temporary folder and fail on any difference
#
# Environment: JEXTRACT (default: shared/tools/jextract/jextract in the folder above the
# repository or the one above that, as for a git worktree), CUDA_INCLUDE (default
# /usr/local/cuda-13.0/include).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
jextract=${JEXTRACT:-}
if [[ -z $jextract ]]; then
  for above in "$root/.." "$root/../.."; do
    [[ -x $above/shared/tools/jextract/jextract ]] && { jextract=$above/shared/tools/jextract/jextract; break; }
  done
fi
cuda_include=${CUDA_INCLUDE:-/usr/local/cuda-13.0/include}
package=nvlm.cuda.bindings
committed=$root/cuda-ffm/src/main/java/nvlm/cuda/bindings

[[ -n $jextract && -x $jextract ]] || { echo "generate.sh: no jextract found (set JEXTRACT)" >&2; exit 2; }
[[ -f $cuda_include/cuda.h ]] || { echo "generate.sh: no cuda.h in $cuda_include (set CUDA_INCLUDE)" >&2; exit 2; }

# The driver functions under the versioned symbols cuda.h's macros map the plain names to
# (cuMemAlloc -> cuMemAlloc_v2: the plain symbols keep an old ABI, REFERENCE.md section 1).
driver_functions=(cuGetErrorName cuGetErrorString cuInit cuDriverGetVersion cuDeviceGetCount cuDeviceGet
  cuDeviceGetName cuDeviceGetAttribute cuDeviceTotalMem_v2 cuDevicePrimaryCtxRetain cuDevicePrimaryCtxRelease_v2
  cuCtxSetCurrent cuCtxSynchronize cuMemGetInfo_v2 cuMemAlloc_v2 cuMemFree_v2 cuMemcpyHtoDAsync_v2
  cuMemcpyDtoHAsync_v2 cuMemcpyDtoDAsync_v2 cuMemsetD8Async cuMemsetD32Async cuStreamCreate cuStreamDestroy_v2
  cuStreamSynchronize cuEventCreate cuEventRecord cuEventSynchronize cuEventElapsedTime_v2 cuEventDestroy_v2
  cuModuleLoadDataEx cuModuleGetFunction cuModuleUnload cuLaunchKernel)
driver_constants=(CUDA_SUCCESS CUDA_ERROR_OUT_OF_MEMORY CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR
  CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR CU_STREAM_NON_BLOCKING CU_EVENT_DEFAULT CU_EVENT_DISABLE_TIMING
  CU_JIT_ERROR_LOG_BUFFER CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES)
nvrtc_functions=(nvrtcGetErrorString nvrtcVersion nvrtcGetNumSupportedArchs nvrtcGetSupportedArchs
  nvrtcCreateProgram nvrtcDestroyProgram nvrtcCompileProgram nvrtcGetPTXSize nvrtcGetPTX nvrtcGetCUBINSize
  nvrtcGetCUBIN nvrtcGetProgramLogSize nvrtcGetProgramLog)
nvrtc_constants=(NVRTC_SUCCESS NVRTC_ERROR_BUILTIN_OPERATION_FAILURE)
cublas_functions=(cublasGetStatusName cublasGetStatusString cublasCreate_v2 cublasDestroy_v2 cublasSetStream_v2
  cublasSetWorkspace_v2 cublasSetMathMode cublasSetPointerMode_v2 cublasGemmEx cublasGemmStridedBatchedEx)
cublas_constants=(CUBLAS_STATUS_SUCCESS CUBLAS_OP_N CUBLAS_OP_T CUBLAS_POINTER_MODE_HOST CUBLAS_DEFAULT_MATH
  CUBLAS_GEMM_DEFAULT CUBLAS_COMPUTE_32F CUBLAS_COMPUTE_32F_FAST_TF32 CUDA_R_32F CUDA_R_16F CUDA_R_16BF)

# generate OUTPUT HEADER FUNCTIONS... -- CONSTANTS...
generate() {
  local out=$1 header=$2
  shift 2
  local args=() kind=--include-function
  for name in "$@"; do
    if [[ $name == -- ]]; then kind=--include-constant; else args+=("$kind" "$name"); fi
  done
  "$jextract" --output "$out" -t "$package" -I "$cuda_include" "${args[@]}" "$header"
}

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
generate "$out" "$cuda_include/cuda.h" "${driver_functions[@]}" -- "${driver_constants[@]}"
generate "$out" "$here/nvrtc.h" "${nvrtc_functions[@]}" -- "${nvrtc_constants[@]}"
generate "$out" "$here/cublas_api.h" "${cublas_functions[@]}" -- "${cublas_constants[@]}"
generated=$out/${package//.//}

if [[ ${1:-} == --check ]]; then
  # Every generated file must be committed unchanged, and every committed file but package-info
  # must be generated.
  status=0
  diff -r -x package-info.java "$generated" "$committed" || status=1
  if [[ $status -ne 0 ]]; then
    echo "generate.sh --check: the committed bindings differ from jextract's output (run cuda-ffm/jextract/generate.sh)" >&2
  else
    echo "generate.sh --check: the committed bindings are jextract's output"
  fi
  exit $status
fi
find "$committed" -name '*.java' ! -name package-info.java -delete
cp "$generated"/*.java "$committed"/
echo "generated $(ls "$generated" | wc -l) files into $committed"
