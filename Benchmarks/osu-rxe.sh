#!/usr/bin/env bash
# osu-rxe.sh -- the same OSU 7.4 binaries (osu_latency, osu_bw; built once with mpicc.mpich) on MPICH
# (ch4:ucx, UCX's RC transport on verbs) and on SwiftMPI's verbs transport, over Soft-RoCE
# (rdma_rxe) in the test VM of Tests/Scripts/rdma-vm.sh (issue #21's "side by side in the
# Soft-RoCE VMs").
#
#   Benchmarks/osu-rxe.sh [REPS]        as root, after Tests/Scripts/prepare.sh (qemu, rdma-core, the
#                                       VM's kernel) and a release build (swift build -c release)
#   OUT=DIR SWIFT_BIN=DIR Benchmarks/osu-rxe.sh 3
#
# What: one VM with 2 vCPUs (TCG emulation: no KVM here) and rxe0 on its NIC; both ranks run in it
# and talk through rxe0 (loopback through the NIC: every message is RoCE v2 packets handled by the
# rxe driver). MPICH is forced onto verbs (UCX_TLS=rc,self: RC queue pairs, UD only to set them
# up; no shared memory, no CMA), SwiftMPI too (--transport verbs). The libraries alternate within
# each repetition and start in turn (A,B then B,A), so drifts of the emulated machine hit both
# alike. Each run records rxe0's packet
# counters before and after, as evidence that its messages crossed the NIC.
# Results: OUT/raw/<benchmark>.<library>.rep<N>.txt, OUT/packets.tsv, OUT/summary.md (medians over
# repetitions and the ratio SwiftMPI / MPICH: < 1 is faster for latency, > 1 for bandwidth).
# Timings under TCG are emulation, not hardware: the ratio is the result, not the microseconds.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SWIFT_BIN=${SWIFT_BIN:-$ROOT/.build/release}
OSU_BIN=${OSU_BIN:-$ROOT/.build/peer/osu/c/mpi/pt2pt/standard}

if [ "${1:-}" = summary ]; then  # summary OUT REPS: the tables of a finished run (also by hand)
python3 - "$2" "$3" <<'EOF'
import statistics, sys, pathlib
out, reps = pathlib.Path(sys.argv[1]), int(sys.argv[2])
lines = [f"# OSU 7.4 over Soft-RoCE (rxe0, one VM, TCG): SwiftMPI (verbs) vs MPICH 4.0.2 (ch4:ucx, UCX RC on verbs)", "",
         f"{reps} repetitions, medians; the same osu_latency / osu_bw binaries (mpicc.mpich) on both libraries.", ""]
for bench, unit, better in (("latency", "us", "lower"), ("bw", "MB/s", "higher")):
    values = {}
    for library in ("swiftmpi", "mpich"):
        for rep in range(1, reps + 1):
            for line in (out / "raw" / f"{bench}.{library}.rep{rep}.txt").read_text().splitlines():
                parts = line.split()
                if len(parts) == 2 and parts[0].isdigit() and parts[1].replace(".", "", 1).isdigit():
                    values.setdefault(int(parts[0]), {}).setdefault(library, []).append(float(parts[1]))
    lines += [f"## osu_{bench} ({unit}, {better} is better)", "", "| size | SwiftMPI | MPICH | SwiftMPI / MPICH |", "|---:|---:|---:|---:|"]
    ratios = []
    for size in sorted(values):
        s, m = values[size].get("swiftmpi"), values[size].get("mpich")
        if not s or not m:
            lines.append(f"| {size} | {statistics.median(s) if s else '–'} | {statistics.median(m) if m else '–'} | – |")
            continue
        ratio = statistics.median(s) / statistics.median(m)
        ratios.append(ratio)
        lines.append(f"| {size} | {statistics.median(s):.2f} | {statistics.median(m):.2f} | {ratio:.2f} |")
    if ratios:
        lines.append(f"| geometric mean | | | **{statistics.geometric_mean(ratios):.2f}** |")
    lines.append("")
failed = [f.name for f in sorted((out / "raw").glob("*.txt")) if "status " in f.read_text()]
if failed:
    lines += ["Runs that failed (their output is in raw/): " + ", ".join(failed), ""]
lines += ["Packets on rxe0 per run (sent, received: before and after): packets.tsv", ""]
(out / "summary.md").write_text("\n".join(lines))
print("\n".join(lines))
EOF
exit 0
fi

if [ "${1:-}" = guest ]; then  # guest OUT REPS: inside the VM
  out=$2 reps=$3
  mkdir -p "$out/raw"
  counters=/sys/class/infiniband/rxe0/ports/1/hw_counters
  packets() { echo "$(cat $counters/sent_pkts) $(cat $counters/rcvd_pkts)"; }
  run() {  # run LIBRARY BENCHMARK REP OPTIONS...
    local library=$1 benchmark=$2 rep=$3 before after
    shift 3
    before=$(packets)
    case $library in
      mpich) timeout 900 env UCX_TLS=rc,self UCX_NET_DEVICES=rxe0:1 mpiexec.mpich -launcher fork -n 2 "$OSU_BIN/osu_$benchmark" "$@" ;;
      swiftmpi) timeout 900 "$SWIFT_BIN/swiftmpirun" --transport verbs -n 2 "$OSU_BIN/osu_$benchmark" "$@" ;;
    esac > "$out/raw/$benchmark.$library.rep$rep.txt" 2>&1 || echo "status $?" >> "$out/raw/$benchmark.$library.rep$rep.txt"
    after=$(packets)
    echo -e "$rep\t$benchmark\t$library\t$before\t$after" >> "$out/packets.tsv"
  }
  echo -e "rep\tbenchmark\tlibrary\tsent_before rcvd_before\tsent_after rcvd_after" > "$out/packets.tsv"
  for rep in $(seq 1 "$reps"); do
    if [ $((rep % 2)) = 1 ]; then order="mpich swiftmpi"; else order="swiftmpi mpich"; fi
    for library in $order; do
      run "$library" latency "$rep" -m 0:65536 -i 500 -x 50
      run "$library" bw "$rep" -m 1:65536 -i 20 -x 2
    done
  done
  exit 0
fi

reps=${1:-3}
OUT=${OUT:-$ROOT/Benchmarks/results/osu-rxe_$(date +%Y%m%d_%H%M%S)}
[ -x "$SWIFT_BIN/swiftmpirun" ] || { echo "osu-rxe: no $SWIFT_BIN/swiftmpirun (swift build -c release)" >&2; exit 2; }
[ -x "$OSU_BIN/osu_latency" ] || "$ROOT/Benchmarks/osu-build.sh" "$ROOT/.build/peer/osu" mpicc.mpich mpicxx.mpich
command -v mpiexec.mpich > /dev/null || { echo "osu-rxe: MPICH is not installed (apt-get install mpich libmpich-dev)" >&2; exit 2; }
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
cd "$ROOT"
share=()
case $OUT in "$ROOT"/*) ;; *) share=(-v "$OUT") ;; esac  # (the checkout is shared already)
Tests/Scripts/rdma-vm.sh run -p 2 -t 3600 "${share[@]}" -- "$ROOT/Benchmarks/osu-rxe.sh" guest "$OUT" "$reps"
exec "$ROOT/Benchmarks/osu-rxe.sh" summary "$OUT" "$reps"
