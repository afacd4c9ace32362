#!/usr/bin/env bash
# Ties something a test run started (network namespaces, a throwaway user, ...) to the run's process:
# a detached guardian waits until the owner process has exited, however it ended (normally, a failed
# test, SIGINT, a timeout's SIGTERM, SIGKILL), then runs the cleanup command. The guardian has its own
# session (setsid), so a SIGINT or SIGTERM sent to the test's process group does not reach it, it
# holds none of the caller's file descriptors, and it ends right after the command.
#
#   Tests/Scripts/owner-guard.sh start OWNER_PID -- CMD [ARGS...]
#       Starts the guardian and prints its pid. The owner is identified by pid and start time, so a
#       recycled pid is not mistaken for it. CMD's output goes to $SWIFTMPI_GUARD_LOG (default: none).
#   Tests/Scripts/owner-guard.sh wait OWNER_PID [START]
#       Returns when the owner has exited (for scripts that do the waiting themselves).
#
# Sourced (`. owner-guard.sh`), it only defines the helpers: process_start_time PID, owner_alive PID
# START, nap SECONDS, wait_gone TENTHS PID..., close_inherited_fds. (slurm-cluster.sh's keeper,
# rdma-vm.sh, netns-hosts.sh and throwaway-user.sh use them.)

# The start time of process PID in clock ticks since boot (field 22 of /proc/PID/stat), or nothing.
process_start_time() {
  local line rest
  read -r line 2>/dev/null < "/proc/$1/stat" || return 1
  rest=${line##*) }          # the fields after "(comm)", which may hold spaces and parentheses
  # shellcheck disable=SC2086
  set -- $rest
  echo "${20:-}"
}

# owner_alive PID START: whether PID is still the process that started at START (a zombie counts as gone).
owner_alive() {
  local line rest start=$2
  read -r line 2>/dev/null < "/proc/$1/stat" || return 1
  rest=${line##*) }
  # shellcheck disable=SC2086
  set -- $rest
  [ "${1:-}" != Z ] && [ "${1:-}" != X ] && [ "${20:-}" = "$start" ]
}

# Sleeps without forking (read -t on a pipe that never gets data).
nap() {
  if [ -z "${NAP_FD:-}" ]; then exec {NAP_FD}<> <(:); fi
  read -rt "$1" -u "$NAP_FD" || true
}

# wait_gone TENTHS PID...: returns once none of the PIDs exists any more, or after TENTHS tenths of
# a second (whichever comes first).
wait_gone() {
  local tenths=$1 pid alive
  shift
  for _ in $(seq "$tenths"); do
    alive=0
    for pid in "$@"; do [ -d "/proc/$pid" ] && alive=1; done
    [ $alive = 0 ] && return 0
    nap 0.1
  done
}

# Closes every descriptor above 2 except bash's own script descriptor (255), so that nothing the
# caller held open (a pipe someone waits on for EOF, a lock) stays open in a long-lived process.
close_inherited_fds() {
  local fd
  for fd in /proc/$BASHPID/fd/*; do
    fd=${fd##*/}
    if [ "$fd" -gt 2 ] && [ "$fd" != 255 ] && [ "$fd" != "${NAP_FD:-x}" ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
  done
}

# wait_for_owner PID START: returns when the owner is gone.
wait_for_owner() {
  while owner_alive "$1" "$2"; do nap 0.5; done
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  SELF=$(readlink -f "$0")
  case "${1:-}" in
    start)
      owner=${2:?owner pid}; shift 2; [ "${1:-}" = -- ] && shift
      [ $# -gt 0 ] || { echo "owner-guard: no command" >&2; exit 2; }
      start=$(process_start_time "$owner") || { echo "owner-guard: no process $owner" >&2; exit 1; }
      setsid "$SELF" watch "$owner" "$start" -- "$@" </dev/null >>"${SWIFTMPI_GUARD_LOG:-/dev/null}" 2>&1 &
      echo $!
      ;;
    watch)   # (the guardian itself)
      owner=$2 start=$3; shift 3; [ "${1:-}" = -- ] && shift
      close_inherited_fds
      trap '' INT HUP
      wait_for_owner "$owner" "$start"
      "$@" || echo "owner-guard: '$*' exited with status $?" >&2
      ;;
    wait)
      owner=${2:?owner pid}
      start=${3:-$(process_start_time "$owner")} || exit 0
      wait_for_owner "$owner" "$start"
      ;;
    *) sed -n '2,/^# Sourced/p' "$0" | sed '$d' >&2; exit 2 ;;
  esac
fi
