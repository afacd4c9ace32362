#!/usr/bin/env bash
# Interrupts a test run in the middle of the Slurm tests, as Ctrl-C in a terminal would, and checks
# that it left nothing behind (Tests/Scripts/check-leftovers.sh): the cluster the run started must be
# stopped, its daemons reaped and its files removed, by the run's keeper, although the test process
# never got to clean up itself. Run as root from the package root, after a build with tests.
#
#   Tests/Scripts/interrupt-check.sh [--signal INT|TERM] [SWIFT TEST OPTIONS...]   (e.g. --scratch-path .build-x)
#
# It snapshots what exists, starts `swift test --skip-build --filter SlurmTests` in a session and
# process group of its own (setsid), waits until a slurmctld that was not there before runs and an
# srun of the run's session is running (a test is in the middle of a job), sends the signal (default
# SIGINT, as Ctrl-C does; SIGTERM is what timeout(1) sends when a run's time is up: to the command and
# then to its whole process group) to the whole process group, waits for swift test to exit (up to
# 60 s, then SIGKILL: a failure), and runs `check-leftovers.sh check` (which waits up to 30 s for the
# keeper). Exit 0 iff nothing was left.
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts=Tests/Scripts
work=$(mktemp -d /tmp/swiftmpi-interrupt-check.XXXXXX)
trap 'rm -rf "$work"' EXIT
log() { echo "interrupt-check: $*" >&2; }
signal=INT
if [ "${1:-}" = --signal ]; then
  signal=${2:?--signal needs INT or TERM}; shift 2
  case $signal in INT|TERM) ;; *) log "--signal takes INT or TERM, not $signal"; exit 2 ;; esac
fi

if ! Tests/Scripts/slurm-cluster.sh check 2>"$work/check"; then
  log "cannot run: $(cat "$work/check")"; exit 1
fi
# The pids of the processes named $1, sorted.
pids_named() {
  local p
  for p in /proc/[0-9]*; do
    if [ "$(cat "$p/comm" 2>/dev/null)" = "$1" ]; then echo "${p#/proc/}"; fi
  done | sort
}

$scripts/check-leftovers.sh snapshot "$work/before"
before_ctld=$(pids_named slurmctld)

start=$(date +%s)
setsid swift test --skip-build "$@" --filter SlurmTests </dev/null >"$work/swift-test.log" 2>&1 &
group=$!    # setsid execs swift test directly: its pid is the session's and the process group's id

# Whether pid $1 runs (a zombie, not yet waited for, does not).
alive() { local s; s=$(awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null) && [ -n "$s" ] && [ "$s" != Z ]; }

# The pids of the processes of session $group named $1.
in_session() {
  local p line rest
  for p in /proc/[0-9]*; do
    [ "$(cat "$p/comm" 2>/dev/null)" = "$1" ] || continue
    read -r line < "$p/stat" 2>/dev/null || continue
    rest=${line##*) }
    # shellcheck disable=SC2086
    set -- $rest
    if [ "$4" = "$group" ]; then echo "${p#/proc/}"; fi
  done
}

ctld="" srun=""
for _ in $(seq 600); do
  ctld=$(pids_named slurmctld | comm -13 <(echo "$before_ctld") - | head -1)
  srun=$(in_session srun | head -1)
  [ -n "$ctld" ] && [ -n "$srun" ] && break
  alive "$group" || break
  sleep 0.2
done
if [ -z "$ctld" ] || [ -z "$srun" ]; then
  log "the run never got to a job under its own slurmctld (slurmctld: ${ctld:-none}, srun: ${srun:-none}); its output:"
  tail -n 40 "$work/swift-test.log" >&2
  kill -KILL -- "-$group" 2>/dev/null || true
  exit 1
fi
log "after $(( $(date +%s) - start )) s: the run's slurmctld is pid $ctld, a test's srun is pid $srun; SIG$signal to process group $group"
kill -"$signal" -- "-$group"
for _ in $(seq 600); do alive "$group" || break; sleep 0.1; done
if alive "$group"; then
  log "swift test did not exit within 60 s of SIG$signal; killing its process group"
  kill -KILL -- "-$group" 2>/dev/null || true
  exit 1
fi
status=0; wait "$group" || status=$?
log "swift test exited with status $status; its last lines:"
tail -n 5 "$work/swift-test.log" | sed 's/^/  | /' >&2
$scripts/check-leftovers.sh check "$work/before" 30
