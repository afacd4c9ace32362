#!/usr/bin/env bash
# SwiftMPI over RDMA verbs, run inside Soft-RoCE VMs (Tests/Scripts/rdma-vm.sh; the VerbsTests suite
# starts them). Every job but one forces the verbs transport, and all print their routes
# (SWIFTMPI_DEBUG=1), so the log shows that the messages went over rxe0. Each section ends with
# "== <name> status N". (Ranks on vmb get the environment of vmb's agent plus what the launcher exports,
# as with ssh: the pair jobs force verbs with the launcher's --transport flag, not the environment.)
#
#   verbs-checks.sh single BIN     in one VM: 2 and 3 ranks over rxe0 (loopback through the NIC)
#   verbs-checks.sh pair-a BIN     in vma: jobs across vma and vmb (the launcher runs here), once
#                                  vmb serves the launch agent (Tests/Scripts/vm-launch-agent.sh)
#   verbs-checks.sh pair-b BIN     in vmb: runs what the launcher in vma asks for, until it is done
#   verbs-checks.sh raw-latency TOOL   in vma during pair-a: perftest's TOOL (ib_write_lat, ib_read_lat)
#                                  between vmb (server) and vma (client)
#
# BIN is the directory holding swiftmpirun and the check programs (e.g. .build/debug).
set -u
mode=${1:?usage: verbs-checks.sh single|pair-a|pair-b BIN | raw-latency TOOL}
[ "$mode" = raw-latency ] || BIN=$(cd "${2:?BIN directory}" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
export SWIFTMPI_DEBUG=1
SCENARIOS=(pingpong self non-overtaking wildcards posted-order truncation ssend bsend rsend rsend-early dup-isolation
           procnull bad-arguments requests persistent probes sendrecv isend-deadlock shared-copy objects async async-cancel async-stream spans dropped-receives request-free persistent-owned error-handlers generalized partitioned unreceived stress)

section() {  # section NAME COMMAND...
  local name=$1
  shift
  echo "== $name: $*"
  timeout 300 "$@" 2>&1
  echo "== $name status $?"
}

case $mode in
single)
  section info "$BIN/swiftmpirun" --info
  # The transport conformance suite against verbs (Tests/TransportConformance).
  section conformance "$BIN/swiftmpi-conformance" verbs
  export SWIFTMPI_TRANSPORT=verbs
  section p2p-2 "$BIN/swiftmpirun" -n 2 "$BIN/swiftmpi-p2p-check" "${SCENARIOS[@]}"
  section p2p-3 "$BIN/swiftmpirun" -n 3 "$BIN/swiftmpi-p2p-check" pingpong wildcards non-overtaking posted-order stress
  # Derived datatypes over verbs: RDMA READs with scatter/gather lists where runs are long, packed
  # fragments elsewhere; the debug counts at finalize show how many messages were read scattered.
  section p2p-datatypes env SWIFTMPI_DEBUG=1 "$BIN/swiftmpirun" -n 2 "$BIN/swiftmpi-p2p-check" datatypes datatype-errors datatype-async
  section collectives "$BIN/swiftmpirun" -n 2 "$BIN/swiftmpi-coll-check"
  # One-sided communication over verbs (every call and synchronization mode): puts and gets by RDMA
  # WRITE and READ, accumulates, atomics and locks by active messages.
  section rma "$BIN/swiftmpirun" -n 3 "$BIN/swiftmpi-rma-check"
  # 1 MiB messages sent 60 times from the same buffer: registered once, then found in the cache.
  section registration-cache "$BIN/swiftmpirun" -n 2 "$BIN/swiftmpi-bench" bw -m 1048576:1048576 -i 10 -x 2 -W 4
  # Recovery mode over verbs: a killed rank's peers end with .processFailed or .revoked, then agree
  # and shrink (the launcher tells them of the failure: verbs itself does not see a peer go away).
  section recovery-p2p "$BIN/swiftmpirun" --enable-recovery -n 4 "$BIN/swiftmpi-testrank" recover 2 p2p
  section recovery-collective "$BIN/swiftmpirun" --enable-recovery -n 4 "$BIN/swiftmpi-testrank" recover 2 collective
  # The NIC under rxe0 goes down during a 64 MiB RDMA read: both ranks get .peerFailed naming the
  # verbs status (last: the link stays down).
  section link-down "$BIN/swiftmpirun" -n 2 "$BIN/swiftmpi-testrank" verbs-link-down
  ;;
pair-a)
  exec "$HERE/vm-launch-agent.sh" run -w vmb "$0" pair-jobs "$BIN"
  ;;
pair-jobs)
  launch=(--launch-agent "$HERE/vm-launch-agent.sh %h")
  section pair-p2p "$BIN/swiftmpirun" "${launch[@]}" --transport verbs --host vma:1,vmb:1 -n 2 "$BIN/swiftmpi-p2p-check" \
    pingpong wildcards non-overtaking posted-order ssend probes stress
  section pair-p2p-3 "$BIN/swiftmpirun" "${launch[@]}" --transport verbs --host vma:2,vmb:1 -n 3 "$BIN/swiftmpi-p2p-check" \
    pingpong wildcards non-overtaking stress
  # Without forcing: ranks on one VM share memory, the ranks across the link choose verbs by themselves.
  section pair-auto "$BIN/swiftmpirun" "${launch[@]}" --host vma:2,vmb:2 --map-by node -n 4 \
    "$BIN/swiftmpi-p2p-check" pingpong wildcards
  # Windows across the link: loads and stores within a VM, RDMA and active messages between them.
  section pair-rma "$BIN/swiftmpirun" "${launch[@]}" --host vma:2,vmb:2 --map-by node -n 4 "$BIN/swiftmpi-rma-check"
  # Raw verbs beside SwiftMPI's one-sided calls over the same link (issue #22): perftest's RDMA WRITE
  # ping-pong (it prints half the round trip) and RDMA READ latency (a whole round trip, as a get or
  # a put + flush), then swiftmpi-bench put-latency and get-latency at the same size. Printed for
  # docs/benchmarks, not asserted: timings under TCG emulation.
  # (A release build's programs when there is one beside BIN: a debug build under emulation measures
  # mostly its own unoptimized code.)
  bench_bin=$BIN
  if [ -x "$BIN/../release/swiftmpi-bench" ] && [ -x "$BIN/../release/swiftmpirun" ]; then bench_bin=$(cd "$BIN/../release" && pwd); fi
  echo "benchmarks from $bench_bin"
  section raw-write-latency "$HERE/verbs-checks.sh" raw-latency ib_write_lat
  section raw-read-latency "$HERE/verbs-checks.sh" raw-latency ib_read_lat
  for bench in put-latency get-latency; do
    section "swiftmpi-$bench" "$bench_bin/swiftmpirun" "${launch[@]}" --transport verbs --host vma:1,vmb:1 -n 2 \
      "$bench_bin/swiftmpi-bench" "$bench" -m 8:8 -i 300 -x 20
  done
  ;;
raw-latency)  # raw-latency TOOL: perftest's TOOL, its server on vmb (through the launch agent), the client here
  tool=$2
  "$HERE/vm-launch-agent.sh" vmb "$tool" -d rxe0 -x 1 -s 8 -n 300 -F < /dev/null &
  server=$!
  status=1
  for attempt in 1 2 3 4 5 6; do  # until the server listens (the agent starts it within seconds)
    sleep 2
    "$tool" -d rxe0 -x 1 -s 8 -n 300 -F 169.254.77.2 && { status=0; break; }
  done
  wait "$server" || status=1
  exit $status
  ;;
pair-b)
  exec "$HERE/vm-launch-agent.sh" serve
  ;;
*)
  echo "verbs-checks.sh: unknown mode $mode" >&2
  exit 2
  ;;
esac
