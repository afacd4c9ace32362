#!/usr/bin/env bash
# c-without-mpich.sh -- a C program built and run with SwiftMPI alone, on a machine where no other MPI
# can be seen: Examples/C/hello.c compiled by CInterface/swiftmpicc and run by swiftmpirun at 4 ranks
# inside a private mount namespace in which every MPICH and Open MPI header, library and compiler
# wrapper of this machine is hidden (an empty directory or /dev/null mounted over it). Checks that
# mpi.h and libmpi.so.12 come from SwiftMPI (the compiler's dependency list, ldd) and that the 4
# ranks print the right sum. Needs root (the mount namespace); exits 2, saying so, without it.
#
#   Tests/Scripts/c-without-mpich.sh [BUILD_DIR]     (default: .build/release, else .build/debug)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd -P)  # as swiftmpicc resolves its own path
build=${1:-}
if [ -z "$build" ]; then
    if [ -e "$root/.build/release/libmpi.so" ]; then build=$root/.build/release; else build=$root/.build/debug; fi
fi
[ -e "$build/libmpi.so" ] && [ -x "$build/swiftmpirun" ] || { echo "c-without-mpich: no libmpi.so and swiftmpirun in $build: build them first" >&2; exit 1; }
if [ "$(id -u)" != 0 ]; then
    echo "c-without-mpich: NOT RUN: hiding the machine's MPI installations needs a mount namespace, which needs root" >&2
    exit 2
fi
export ROOT=$root BUILD=$build
exec unshare --mount --propagation private bash -euo pipefail -c '
hidden=0
for path in /usr/include/x86_64-linux-gnu/mpich /usr/include/x86_64-linux-gnu/openmpi /usr/include/x86_64-linux-gnu/mpi \
            /usr/lib/x86_64-linux-gnu/mpich /usr/lib/x86_64-linux-gnu/openmpi /etc/alternatives/mpi* \
            /usr/lib/x86_64-linux-gnu/libmpi* /usr/lib/x86_64-linux-gnu/libmpich* /usr/lib/x86_64-linux-gnu/libopen-* \
            /usr/include/mpi.h /usr/bin/mpicc* /usr/bin/mpirun* /usr/bin/mpiexec*; do
    [ -e "$path" ] || continue
    real=$(readlink -f "$path")
    if [ -d "$real" ]; then mount -t tmpfs -o size=1m none "$real"; else mount --bind /dev/null "$real"; fi
    hidden=$((hidden + 1))
done
echo "c-without-mpich: $hidden MPI paths of this machine hidden"
for header in /usr/include/x86_64-linux-gnu/mpich/mpi.h /usr/lib/x86_64-linux-gnu/openmpi/include/mpi.h; do
    if [ -s "$header" ]; then echo "c-without-mpich: $header is still visible" >&2; exit 1; fi
done
work=$(mktemp -d)
trap "rm -rf $work" EXIT
SWIFTMPI_BUILD_DIR=$BUILD "$ROOT/CInterface/swiftmpicc" -MD -MF "$work/hello.d" "$ROOT/Examples/C/hello.c" -o "$work/hello"
grep -q "$ROOT/CInterface/CMPI/include/mpi.h" "$work/hello.d" || { echo "c-without-mpich: hello.c did not include SwiftMPI mpi.h:" >&2; cat "$work/hello.d" >&2; exit 1; }
library=$(ldd "$work/hello" | awk "/libmpi.so.12/ { print \$3 }")
case "$library" in
    "$BUILD"/mpich-abi/*) echo "c-without-mpich: libmpi.so.12 => $library" ;;
    *) echo "c-without-mpich: libmpi.so.12 resolves to \"$library\", not to SwiftMPI in $BUILD/mpich-abi" >&2; exit 1 ;;
esac
output=$("$BUILD/swiftmpirun" -n 4 "$work/hello")
echo "$output"
[ "$(echo "$output" | grep -c "of 4 on .*: sum 10$")" = 4 ] || { echo "c-without-mpich: expected 4 ranks each printing sum 10" >&2; exit 1; }
echo "c-without-mpich: hello.c built with swiftmpicc and run on 4 ranks with no other MPI visible"
'
