#!/usr/bin/env bash
# An ssh stand-in for swiftmpirun between test VMs that have no ssh (Tests/Scripts/rdma-vm.sh pair):
# commands travel through a directory both VMs see, $SWIFTMPI_VM_AGENT_DIR (9p, cache=none, so one
# VM sees the other's files at once; rdma-vm.sh pair makes a fresh one per run).
#
#   vm-launch-agent.sh HOST CMD [ARGS...]   run CMD on HOST like `ssh HOST CMD`: stdin (read to EOF, it
#       carries swiftmpirun's job secret) and the working directory go along, output comes back, and
#       the exit status is CMD's. For HOST = this host it just execs CMD. 255: no server claimed the
#       command in SWIFTMPI_VM_AGENT_CLAIM_TIMEOUT s (default 120); SIGTERM/SIGINT/SIGHUP are passed on.
#   vm-launch-agent.sh serve [-n COUNT] [-t SECS]   on the remote VM: run the commands sent to this
#       host, concurrently, until `stop` (or after COUNT commands, or SECS seconds, default 3600:
#       then it kills what still runs and exits 124).
#   vm-launch-agent.sh stop                  tell every serve loop to finish (after its running commands)
#   vm-launch-agent.sh run [-w HOST]... CMD  wait until the serve loops of the HOSTs are up, run CMD,
#       then `stop`; exits with CMD's status.
#
# Example (from the checkout):
#   Tests/Scripts/rdma-vm.sh pair -v /tmp/rdmavm-bin -- \
#     Tests/Scripts/vm-launch-agent.sh run -w vmb /tmp/rdmavm-bin/swiftmpirun --host vma:1,vmb:1 \
#       --launch-agent "$PWD/Tests/Scripts/vm-launch-agent.sh %h" -n 2 /tmp/rdmavm-bin/swiftmpi-p2p-check pingpong \
#     -- Tests/Scripts/vm-launch-agent.sh serve
#
# Protocol, per command: the agent writes DIR/HOST/ID.new/{cmd,stdin,out} and renames it to ID.req;
# the server claims it by renaming ID.req to ID.run (renames are atomic: one winner), runs it with
# output to out, and publishes the status by renaming rc.tmp to rc. A `cancel` file asks it to stop.
set -euo pipefail
DIR=${SWIFTMPI_VM_AGENT_DIR:-}
ME=${SWIFTMPI_VM_AGENT_HOST:-$(hostname)}   # (override for tests on one machine)
# `read -t` on a never-ready fd sleeps without forking (a fork costs ~50 ms under TCG)
if exec {NAP}<> <(:); then nap() { read -rt 0.2 -u "$NAP" || true; }; else nap() { sleep 0.2; }; fi
die() { echo "vm-launch-agent[$ME]: $1" >&2; exit "${2:-2}"; }
need_dir() { if [ -z "$DIR" ] || [ ! -d "$DIR" ]; then die "SWIFTMPI_VM_AGENT_DIR is not a directory: '$DIR'"; fi; }

agent() {
  local host=$1 job deadline t w
  shift
  [ $# -gt 0 ] || die "usage: vm-launch-agent.sh HOST CMD [ARGS...]"
  if [ "$host" = "$ME" ] || [ "$host" = localhost ]; then exec "$@"; fi
  need_dir
  mkdir -p "$DIR/$host"
  job=$DIR/$host/$ME-$$-${EPOCHREALTIME/./}
  umask 077
  mkdir "$job.new"
  { printf 'cd %q 2>/dev/null || cd /\nexec' "$PWD"; printf ' %q' "$@"; echo; } > "$job.new/cmd"
  if [ -t 0 ]; then : > "$job.new/stdin"; else cat > "$job.new/stdin"; fi
  : > "$job.new/out"
  mv "$job.new" "$job.req"

  CANCELLED=0
  trap 'CANCELLED=1; : > "$job.run/cancel" 2>/dev/null || true' TERM INT HUP
  deadline=$((SECONDS + ${SWIFTMPI_VM_AGENT_CLAIM_TIMEOUT:-120}))
  while [ ! -d "$job.run" ]; do
    if [ $CANCELLED = 1 ] || [ $SECONDS -ge $deadline ]; then
      if mv "$job.req" "$job.gone" 2>/dev/null; then   # withdrawn before any server claimed it
        rm -rf "$job.gone"
        [ $CANCELLED = 1 ] && exit 143
        die "no serve loop on $host claimed the command within ${SWIFTMPI_VM_AGENT_CLAIM_TIMEOUT:-120} s" 255
      fi
    fi
    nap
  done
  [ $CANCELLED = 1 ] && : > "$job.run/cancel"
  # Output: tail polls the file (inotify sees nothing on 9p) until the waiter below sees rc (or this
  # agent is gone: swiftmpirun SIGKILLs agents that linger), then reads the rest and exits.
  ( until [ -e "$job.run/rc" ] || ! kill -0 $$ 2>/dev/null; do nap; done ) & w=$!
  tail ---disable-inotify -s 0.2 -c +1 -f --pid="$w" "$job.run/out" & t=$!
  while kill -0 "$t" 2>/dev/null; do wait "$t" || true; done   # wait returns early on trapped signals
  local rc=255
  read -r rc < "$job.run/rc" || echo "vm-launch-agent[$ME]: no exit status from $host" >&2
  rm -rf "$job.run"
  exit "$rc"
}

# runjob DIR : run one claimed command, pass on a cancel request, publish the status
runjob() {
  local d=$1 p rc=0
  bash "$d/cmd" < "$d/stdin" > "$d/out" 2>&1 & p=$!
  while kill -0 "$p" 2>/dev/null; do
    if [ -e "$d/cancel" ]; then kill -TERM "$p" 2>/dev/null || true; break; fi
    nap
  done
  wait "$p" || rc=$?
  rm -f "$d/stdin"
  echo "$rc" > "$d/rc.tmp" && mv "$d/rc.tmp" "$d/rc"
}

serve() {
  local count=0 limit=3600 done=0 r j p pids=() deadline
  while getopts "n:t:" o; do case $o in n) count=$OPTARG;; t) limit=$OPTARG;; *) exit 2;; esac; done
  need_dir
  mkdir -p "$DIR/$ME"
  deadline=$((SECONDS + limit))
  : > "$DIR/$ME.serving"
  echo "vm-launch-agent[$ME]: serving $DIR/$ME" >&2
  while :; do
    for r in "$DIR/$ME"/*.req; do
      [ -d "$r" ] || continue
      j=${r%.req}.run
      mv "$r" "$j" 2>/dev/null || continue
      echo "vm-launch-agent[$ME]: running $(tail -n 1 "$j/cmd")" >&2
      runjob "$j" & pids+=($!)
    done
    for p in "${!pids[@]}"; do
      kill -0 "${pids[p]}" 2>/dev/null && continue
      unset 'pids[p]'; done=$((done + 1))
    done
    if [ ${#pids[@]} = 0 ] && { [ -e "$DIR/stop" ] || { [ "$count" -gt 0 ] && [ $done -ge "$count" ]; }; }; then
      echo "vm-launch-agent[$ME]: stopping after $done command(s)" >&2
      return 0
    fi
    if [ $SECONDS -ge $deadline ]; then
      for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
      for r in "$DIR/$ME"/*.run; do [ -d "$r" ] && : > "$r/cancel"; done
      die "timed out after $limit s with ${#pids[@]} command(s) running" 124
    fi
    nap
  done
}

stop() { need_dir; : > "$DIR/stop.tmp" && mv "$DIR/stop.tmp" "$DIR/stop"; }

run_then_stop() {
  local hosts=() h deadline rc=0
  while [ "${1:-}" = -w ]; do hosts+=("$2"); shift 2; done
  [ "${1:-}" = -- ] && shift
  [ $# -gt 0 ] || die "usage: vm-launch-agent.sh run [-w HOST]... CMD [ARGS...]"
  need_dir
  trap stop EXIT
  deadline=$((SECONDS + ${SWIFTMPI_VM_AGENT_CLAIM_TIMEOUT:-120}))
  for h in "${hosts[@]}"; do
    until [ -e "$DIR/$h.serving" ]; do [ $SECONDS -lt $deadline ] || die "no serve loop on $h" 255; nap; done
  done
  "$@" || rc=$?
  exit $rc
}

case ${1:-} in
  serve) shift; serve "$@";;
  stop) stop;;
  run) shift; run_then_stop "$@";;
  ""|-h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' >&2; exit 2;;
  *) agent "$@";;
esac
