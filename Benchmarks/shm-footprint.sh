#!/usr/bin/env bash
# shm-footprint.sh -- how much shared memory a job's ranks take on one host (issue #25), SwiftMPI
# side by side with MPICH and Open MPI running the same benchmark.
#
# What: for each rank count, an all-to-all of SIZE bytes (swiftmpi-bench alltoall; for MPICH and
# Open MPI Benchmarks/Reference/osu_style.c alltoall, the same loop in C) while a sampler reads the
# host's `Shmem:` line of /proc/meminfo every 20 ms. Printed: the peak rise over the value before the
# job (MiB) -- tmpfs files in /dev/shm and shared anonymous mappings both count there, so every
# library's segments are measured the same way whatever mechanism it uses -- and the job's time.
#
# How:
#     Benchmarks/shm-footprint.sh                    # 32 and 64 ranks, 16 KiB, every library
#     RANKS="2 32 64 128" SIZE=1024 LIBS=swiftmpi Benchmarks/shm-footprint.sh
# Settings: RANKS (default "32 64"), SIZE (bytes per peer, default 16384), ITERS (timed iterations,
# default 100; 10 warm-up), LIBS ("swiftmpi mpich openmpi", those installed), SWIFT_BIN (default
# .build/release), REPS (repetitions per cell, default 1).
# Output: one Markdown table on stdout: ranks | library | peak shared memory (MiB) | seconds.
# Decisions: ranks beyond the cores are oversubscribed for every library (none is bound); other jobs
# on the host would add to the measurement, so run it on a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/.."
RANKS=${RANKS:-"32 64"}
SIZE=${SIZE:-16384}
ITERS=${ITERS:-100}
REPS=${REPS:-1}
SWIFT_BIN=${SWIFT_BIN:-.build/release}
LIBS=${LIBS:-"swiftmpi mpich openmpi"}
REF=.build/reference
mkdir -p "$REF"

available() {
    case $1 in
    swiftmpi) [[ -x $SWIFT_BIN/swiftmpirun && -x $SWIFT_BIN/swiftmpi-bench ]] ;;
    mpich) command -v mpicc.mpich > /dev/null && command -v mpirun.mpich > /dev/null ;;
    openmpi) command -v mpicc.openmpi > /dev/null && command -v mpirun.openmpi > /dev/null ;;
    esac
}

command_for() { # library ranks
    local args=(alltoall -m "$SIZE:$SIZE" -i "$ITERS" -x 10)
    case $1 in
    swiftmpi) echo "$SWIFT_BIN/swiftmpirun --oversubscribe -n $2 $SWIFT_BIN/swiftmpi-bench ${args[*]}" ;;
    mpich) echo "mpirun.mpich -n $2 $REF/osu_style.mpich ${args[*]}" ;;
    openmpi) echo "mpirun.openmpi --allow-run-as-root --oversubscribe --bind-to none --mca btl self,vader --mca btl_vader_backing_directory /dev/shm -n $2 $REF/osu_style.openmpi ${args[*]}" ;;
    esac
}

shmem_kib() { awk '/^Shmem:/ { print $2 }' /proc/meminfo; }

for lib in $LIBS; do
    if ! available "$lib"; then
        echo "shm-footprint.sh: $lib is not installed (or $SWIFT_BIN has no release build); skipping it" >&2
        continue
    fi
    case $lib in
    mpich) mpicc.mpich -O2 -w -o "$REF/osu_style.mpich" Benchmarks/Reference/osu_style.c ;;
    openmpi) mpicc.openmpi -O2 -w -o "$REF/osu_style.openmpi" Benchmarks/Reference/osu_style.c ;;
    esac
done

echo "| ranks | library | peak shared memory (MiB) | seconds |"
echo "|---:|---|---:|---:|"
for ranks in $RANKS; do
    for ((rep = 1; rep <= REPS; rep++)); do
        for lib in $LIBS; do
            available "$lib" || continue
            before=$(shmem_kib)
            peak=$before
            start=$(date +%s.%N)
            # shellcheck disable=SC2046
            $(command_for "$lib" "$ranks") > /dev/null 2> "$REF/footprint.err" &
            job=$!
            while kill -0 "$job" 2> /dev/null; do
                now=$(shmem_kib)
                ((now > peak)) && peak=$now
                sleep 0.02
            done
            status=0
            wait "$job" || status=$?
            seconds=$(echo "$(date +%s.%N) - $start" | bc)
            if ((status != 0)); then
                echo "shm-footprint.sh: $lib at $ranks ranks failed (exit $status):" >&2
                cat "$REF/footprint.err" >&2
                continue
            fi
            printf '| %d | %s | %.0f | %.1f |\n' "$ranks" "$lib" "$(echo "($peak - $before) / 1024" | bc -l)" "$seconds"
        done
    done
done
