#!/usr/bin/env bash
# compare-osu.sh -- the same OSU Micro-Benchmarks 7.4 binaries on SwiftMPI and on MPICH, and the same
# source built for Open MPI, side by side in one interleaved run (issue #21).
#
#   Benchmarks/compare-osu.sh                      # 5 repetitions of latency, bw, bibw, mbw_mr, allreduce, barrier, init
#   REPS=3 BENCHMARKS="osu_latency osu_bw" Benchmarks/compare-osu.sh
#
# OSU is built twice from the pinned tarball (PEER_SUITES, or ../shared/peer-suites): with
# mpicc.mpich (.build/peer/osu, shared with Tests/PeerSuites/osu.sh) and with mpicc.openmpi
# (.build/peer/osu-openmpi). The MPICH build runs as "mpich" (mpirun.mpich, MPICH's library) and as
# "swiftmpi" (swiftmpirun, which puts SwiftMPI's libmpich.so.12 first on the library path): the same
# binary, only the library differs. 2 ranks bound to separate cores on one host, every library on its
# default shared-memory path (as Benchmarks/compare.sh's shm path). Repetitions interleave the
# libraries and rotate their order; the summary gives, per size, the median of each library and
# SwiftMPI's ratio to the best peer (latency: lower is better, so < 1 means SwiftMPI is faster;
# bandwidth and message rate: > 1 means SwiftMPI is faster).
# Results: OUT (default Benchmarks/results/osu_<date>_<time>)/raw/<benchmark>.<library>.rep<N>.txt and summary.md.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
REPS=${REPS:-5}
BENCHMARKS=${BENCHMARKS:-"osu_latency osu_bw osu_bibw osu_mbw_mr osu_allreduce osu_barrier osu_init"}
SWIFT_BIN=${SWIFT_BIN:-.build/release}
OUT=${OUT:-Benchmarks/results/osu_$(date +%Y%m%d_%H%M%S)}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_oob_tcp_if_include=lo UCX_NET_DEVICES=lo
for candidate in "${PEER_SUITES:-}" "$root/../shared/peer-suites" /work/shared/peer-suites; do
  [ -n "$candidate" ] && [ -f "$candidate/osu-micro-benchmarks-7.4.tar.gz" ] && { PEER_SUITES=$candidate; break; }
done
tarball=${PEER_SUITES:-}/osu-micro-benchmarks-7.4.tar.gz
[ -f "$tarball" ] || { echo "compare-osu.sh: osu-micro-benchmarks-7.4.tar.gz not found (set PEER_SUITES)" >&2; exit 2; }
[ -e "$SWIFT_BIN/libmpi.so" ] || { echo "compare-osu.sh: build SwiftMPI first (swift build -c release)" >&2; exit 2; }

build_osu() {  # build_osu DIR CC CXX
  [ -x "$1/c/mpi/pt2pt/standard/osu_latency" ] && return
  echo "building OSU 7.4 with $2 into $1"
  rm -rf "$1" && mkdir -p "$(dirname "$1")"
  local tmp; tmp=$(mktemp -d) && tar -xzf "$tarball" -C "$tmp" && mv "$tmp"/osu-micro-benchmarks-7.4 "$1" && rmdir "$tmp"
  (cd "$1" && ./configure -q CC="$2" CXX="$3" >configure.log 2>&1 && make -j2 >make.log 2>&1) || { echo "building OSU with $2 failed" >&2; exit 1; }
}
libraries=(swiftmpi mpich)
build_osu .build/peer/osu mpicc.mpich mpicxx.mpich
if command -v mpicc.openmpi >/dev/null && command -v mpirun.openmpi >/dev/null; then
  build_osu .build/peer/osu-openmpi mpicc.openmpi mpicxx.openmpi
  libraries+=(openmpi)
else
  echo "⚠️ SKIPPING Open MPI: mpicc.openmpi or mpirun.openmpi not found" >&2
fi

path_of() {  # the benchmark's path inside an OSU build
  case $1 in osu_init|osu_hello) echo c/mpi/startup/$1 ;; osu_allreduce|osu_barrier|osu_bcast|osu_alltoall) echo c/mpi/collective/blocking/$1 ;;
    *) echo c/mpi/pt2pt/standard/$1 ;; esac
}
command_of() {  # command_of LIBRARY BENCHMARK
  local path; path=$(path_of "$2")
  case $1 in
    swiftmpi) echo "$SWIFT_BIN/swiftmpirun -n 2 --bind-to core .build/peer/osu/$path" ;;
    mpich) echo "mpirun.mpich -n 2 -bind-to core .build/peer/osu/$path" ;;
    openmpi) echo "mpirun.openmpi -n 2 --bind-to core --map-by core --mca pml ob1 --mca btl self,vader .build/peer/osu-openmpi/$path" ;;
  esac
}
mkdir -p "$OUT/raw"
echo "results: $OUT"
for rep in $(seq 1 "$REPS"); do
  order=("${libraries[@]:$(( (rep - 1) % ${#libraries[@]} ))}" "${libraries[@]:0:$(( (rep - 1) % ${#libraries[@]} ))}")
  for benchmark in $BENCHMARKS; do
    for library in "${order[@]}"; do
      command=$(command_of "$library" "$benchmark")
      echo "$command" >> "$OUT/commands.txt"
      timeout 600 $command > "$OUT/raw/$benchmark.$library.rep$rep.txt" 2> "$OUT/raw/$benchmark.$library.rep$rep.err" \
        || echo "⚠️ $benchmark on $library (rep $rep) failed: see $OUT/raw/$benchmark.$library.rep$rep.err" >&2
    done
  done
  echo "repetition $rep of $REPS done"
done

python3 - "$OUT" "${libraries[@]}" <<'PY'
import glob, os, re, statistics, sys
out, libraries = sys.argv[1], sys.argv[2:]
higher_is_better = ("osu_bw", "osu_bibw", "osu_mbw_mr")
lines = ["# OSU 7.4: the same binaries on SwiftMPI and MPICH (and Open MPI's build), 2 ranks, shared memory", "",
         "Median of the repetitions; ratio = SwiftMPI / best peer (for latency and time, < 1 is SwiftMPI faster; "
         "for bandwidth and message rate, > 1 is SwiftMPI faster).", ""]
benchmarks = sorted({os.path.basename(p).split(".")[0] for p in glob.glob(f"{out}/raw/*.txt")})
for benchmark in benchmarks:
    table = {}
    for library in libraries:
        for path in glob.glob(f"{out}/raw/{benchmark}.{library}.rep*.txt"):
            for line in open(path):
                if line.startswith("#") or not line.strip():
                    continue
                if benchmark == "osu_init":
                    match = re.search(r"nprocs: (\d+), min: ([\d.]+) ms, max: ([\d.]+) ms, avg: ([\d.]+) ms", line)
                    if match:
                        table.setdefault("init (ms)", {}).setdefault(library, []).append(float(match[4]))
                    continue
                fields = line.split()
                try:
                    size, value = fields[0], float(fields[1])
                except (IndexError, ValueError):
                    continue
                table.setdefault(size, {}).setdefault(library, []).append(value)
    if not table:
        continue
    unit = {"osu_bw": "MB/s", "osu_bibw": "MB/s", "osu_mbw_mr": "MB/s"}.get(benchmark, "us")
    lines += [f"## {benchmark} ({unit})", "", "| size | " + " | ".join(libraries) + " | ratio |", "|---" * (len(libraries) + 2) + "|"]
    for size in sorted(table, key=lambda s: (not s.isdigit(), int(s) if s.isdigit() else 0)):
        medians = {lib: statistics.median(v) for lib, v in table[size].items()}
        peers = [medians[l] for l in libraries if l != "swiftmpi" and l in medians]
        ratio = ""
        if "swiftmpi" in medians and peers:
            best = max(peers) if benchmark in higher_is_better else min(peers)
            ratio = f"{medians['swiftmpi'] / best:.2f}" if best else ""
        lines.append(f"| {size} | " + " | ".join(f"{medians[l]:.2f}" if l in medians else "-" for l in libraries) + f" | {ratio} |")
    lines.append("")
open(f"{out}/summary.md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
