#!/usr/bin/env bash
# datatypes-compare.sh -- derived-datatype benchmarks of SwiftMPI, Open MPI and MPICH in the same run:
# vector latency and bandwidth (OSU 7.4's -D vect), large vectors of 4 KiB blocks beside contiguous
# messages, and the halo exchange; 2 ranks on this host, 3 interleaved repetitions with the library
# order rotated. Prints the raw tables ('## rep R | benchmark | library' before each); the summary in
# docs/benchmarks/2026-12-02-datatypes-summary.md was made from such output.
#     swift build -c release --product swiftmpi-bench && swift build -c release --product swiftmpirun
#     Benchmarks/datatypes-compare.sh > raw.txt
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
REF=$ROOT/.build/reference
mkdir -p "$REF"
mpicc.mpich -std=c99 -O2 -Wno-stringop-overflow -o "$REF/osu_style_mpich" "$ROOT/Benchmarks/Reference/osu_style.c"
mpicc.openmpi -std=c99 -O2 -o "$REF/osu_style_openmpi" "$ROOT/Benchmarks/Reference/osu_style.c"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_oob_tcp_if_include=lo UCX_NET_DEVICES=lo
R=${SWIFT_BIN:-$ROOT/.build/release}
run() { # lib args...
  local lib=$1; shift
  case $lib in
    swiftmpi) $R/swiftmpirun -n 2 $R/swiftmpi-bench "$@" ;;
    mpich) mpirun.mpich -n 2 -bind-to core "$REF/osu_style_mpich" "$@" ;;
    openmpi) mpirun.openmpi --bind-to core -n 2 "$REF/osu_style_openmpi" "$@" ;;
  esac 2>/dev/null | grep -v "^#" || true
}
for rep in 1 2 3; do
  for bench in "latency -D vect:8:4 -m 0:1048576" "bw -D vect:8:4 -m 1:4194304" "latency -D vect:16384:8192 -m 131072:4194304" "latency -m 65536:2097152" "halo"; do
    libs=(swiftmpi mpich openmpi); shift_by=$(( (rep - 1) % 3 ))
    libs=("${libs[@]:$shift_by}" "${libs[@]:0:$shift_by}")
    for lib in "${libs[@]}"; do
      echo "## rep $rep | $bench | $lib"
      run $lib $bench
    done
  done
done
