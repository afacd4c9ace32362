#!/usr/bin/env bash
# osu-build.sh DIR CC CXX -- builds OSU Micro-Benchmarks 7.4 from the pinned tarball into DIR with
# the MPI compiler wrappers CC and CXX (once: an existing build is kept). The tarball comes from the
# shared peer suites (PEER_SUITES, or ../shared/peer-suites beside the repository) and is never
# copied into the project. Exit status 2 when the tarball or the compiler is missing, 1 when the build fails.
set -uo pipefail
dir=$1 cc=$2 cxx=$3
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[ -x "$dir/c/mpi/pt2pt/standard/osu_latency" ] && exit 0
for candidate in "${PEER_SUITES:-}" "$root/../shared/peer-suites" /work/shared/peer-suites; do
  [ -n "$candidate" ] && [ -f "$candidate/osu-micro-benchmarks-7.4.tar.gz" ] && { tarball=$candidate/osu-micro-benchmarks-7.4.tar.gz; break; }
done
[ -n "${tarball:-}" ] || { echo "osu-build.sh: osu-micro-benchmarks-7.4.tar.gz not found (set PEER_SUITES to the peer-suites directory)" >&2; exit 2; }
command -v "$cc" >/dev/null || { echo "osu-build.sh: $cc not found" >&2; exit 2; }
echo "building OSU 7.4 with $cc into $dir (a few minutes)" >&2
rm -rf "$dir" && mkdir -p "$(dirname "$dir")"
tmp=$(mktemp -d) && tar -xzf "$tarball" -C "$tmp" && mv "$tmp"/osu-micro-benchmarks-7.4 "$dir" && rmdir "$tmp"
(cd "$dir" && ./configure -q CC="$cc" CXX="$cxx" >configure.log 2>&1 && make -j2 >make.log 2>&1) \
  || { echo "osu-build.sh: building OSU with $cc failed (see $dir/configure.log, $dir/make.log)" >&2; exit 1; }
