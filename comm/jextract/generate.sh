#!/usr/bin/env bash
# Generates the FFM bindings of package nvlm.comm.bindings with jextract itself:
#   mpi_h   from Open MPI's real mpi.h (libopenmpi-dev: Open MPI 4.1.4 on Debian 12), and
#   nccl_h  from nccl.h in this folder (a minimal header of what NcclCommunicator calls: NCCL is not
#           packaged here), with the CUDA toolkit's driver_types.h for cudaStream_t.
# Only the functions and constants the runtime uses are generated (the lists below). Open MPI's
# predefined handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, ...) are addresses of global structs
# of incomplete type, which jextract skips; nvlm.comm.Mpi looks those symbols up itself. Symbols are
# looked up in the libraries the runtime loads (no -l: nvlm.comm.CommLibraries finds and loads
# them, so the classes load on machines without MPI or NCCL).
#
#   comm/jextract/generate.sh           regenerate comm/src/main/java/nvlm/comm/bindings
#   comm/jextract/generate.sh --check   generate into a temporary folder and fail on any difference
#
# Environment: JEXTRACT (default: shared/tools/jextract/jextract in the folder above the
# repository or the one above that, as for a git worktree), MPI_INCLUDE (default
# /usr/lib/x86_64-linux-gnu/openmpi/include), CUDA_INCLUDE (default /usr/local/cuda-13.0/include).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
jextract=${JEXTRACT:-}
if [[ -z $jextract ]]; then
  for above in "$root/.." "$root/../.."; do
    [[ -x $above/shared/tools/jextract/jextract ]] && { jextract=$above/shared/tools/jextract/jextract; break; }
  done
fi
mpi_include=${MPI_INCLUDE:-/usr/lib/x86_64-linux-gnu/openmpi/include}
cuda_include=${CUDA_INCLUDE:-/usr/local/cuda-13.0/include}
package=nvlm.comm.bindings
committed=$root/comm/src/main/java/nvlm/comm/bindings

[[ -n $jextract && -x $jextract ]] || { echo "generate.sh: no jextract found (set JEXTRACT)" >&2; exit 2; }
[[ -f $mpi_include/mpi.h ]] || { echo "generate.sh: no mpi.h in $mpi_include (apt-get install libopenmpi-dev, or set MPI_INCLUDE)" >&2; exit 2; }
[[ -f $cuda_include/driver_types.h ]] || { echo "generate.sh: no driver_types.h in $cuda_include (set CUDA_INCLUDE)" >&2; exit 2; }

mpi_functions=(MPI_Initialized MPI_Init_thread MPI_Finalized MPI_Finalize MPI_Abort MPI_Comm_rank MPI_Comm_size
  MPI_Comm_split MPI_Comm_free MPI_Comm_set_errhandler MPI_Error_string MPI_Get_library_version MPI_Barrier
  MPI_Bcast MPI_Allreduce MPI_Reduce_scatter_block MPI_Allgather MPI_Iallreduce MPI_Test MPI_Wait MPI_Wtime)
mpi_constants=(MPI_SUCCESS MPI_THREAD_SINGLE MPI_THREAD_FUNNELED MPI_THREAD_SERIALIZED MPI_THREAD_MULTIPLE
  MPI_MAX_ERROR_STRING MPI_MAX_LIBRARY_VERSION_STRING)
nccl_functions=(ncclGetVersion ncclGetUniqueId ncclCommInitRank ncclCommDestroy ncclCommAbort ncclGetErrorString
  ncclCommGetAsyncError ncclAllReduce ncclBroadcast ncclReduceScatter ncclAllGather ncclGroupStart ncclGroupEnd)
nccl_constants=(NCCL_UNIQUE_ID_BYTES ncclSuccess ncclInProgress ncclSum ncclMax ncclFloat32 ncclInt64)

# generate OUTPUT HEADER FUNCTIONS... -- CONSTANTS... (typedef:NAME for a struct typedef)
generate() {
  local out=$1 header=$2
  shift 2
  local args=() kind=--include-function
  for name in "$@"; do
    if [[ $name == -- ]]; then kind=--include-constant
    elif [[ $name == typedef:* ]]; then args+=(--include-typedef "${name#typedef:}")
    else args+=("$kind" "$name"); fi
  done
  "$jextract" --output "$out" -t "$package" -I "$mpi_include" -I "$cuda_include" "${args[@]}" "$header"
}

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
generate "$out" "$mpi_include/mpi.h" "${mpi_functions[@]}" -- "${mpi_constants[@]}"
generate "$out" "$here/nccl.h" "${nccl_functions[@]}" -- "${nccl_constants[@]}" typedef:ncclUniqueId
generated=$out/${package//.//}

if [[ ${1:-} == --check ]]; then
  status=0
  diff -r -x package-info.java "$generated" "$committed" || status=1
  if [[ $status -ne 0 ]]; then
    echo "generate.sh --check: the committed bindings differ from jextract's output (run comm/jextract/generate.sh)" >&2
  else
    echo "generate.sh --check: the committed bindings are jextract's output"
  fi
  exit $status
fi
mkdir -p "$committed"
find "$committed" -name '*.java' ! -name package-info.java -delete
cp "$generated"/*.java "$committed"/
echo "generated $(ls "$generated" | wc -l) files into $committed"
