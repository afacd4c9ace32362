#!/usr/bin/env bash
# A throwaway local user for the isolation tests ("another user on the same machine"): a system user
# without a home directory, named swiftmpi-uXXXXXX (random), marked in its GECOS field as this
# script's, and removed again (with its group) when the test run ends.
#
#   Tests/Scripts/throwaway-user.sh up --owner PID
#       (root) Creates the user and prints `export SWIFTMPI_TEST_USER=NAME`. A guardian
#       (owner-guard.sh) removes it when PID exits, however PID ends; `down` removes it sooner.
#   Tests/Scripts/throwaway-user.sh down NAME
#       Ends the user's processes, waits for them, and deletes the user and its group. Refuses users
#       this script did not create (their GECOS field lacks the mark).
#   Tests/Scripts/throwaway-user.sh check   exit 0 iff useradd, userdel and runuser are there (root)
set -euo pipefail
SELF=$(readlink -f "$0")
. "$(dirname "$SELF")/owner-guard.sh"   # wait_gone
MARK="SwiftMPI test run (Tests/Scripts/throwaway-user.sh)"
log() { echo "throwaway-user: $*" >&2; }

check() {
  local missing=() tool
  for tool in useradd userdel runuser setsid; do [ -x "/usr/sbin/$tool" ] || command -v "$tool" >/dev/null || missing+=("$tool"); done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "missing ${missing[*]}; install them once with: sudo Tests/Scripts/prepare.sh" >&2
    return 1
  fi
  [ "$(id -u)" = 0 ] || { echo "needs root to create a throwaway user" >&2; return 1; }
}

up() {
  [ "${1:-}" = --owner ] && [ -n "${2:-}" ] || { log "usage: up --owner PID"; exit 2; }
  local owner=$2 name=""
  check
  for _ in $(seq 20); do
    name=$(printf 'swiftmpi-u%06x' $(( (RANDOM << 9 ^ RANDOM) % 16777216 )))
    getent passwd "$name" >/dev/null || getent group "$name" >/dev/null || break
  done
  "$(dirname "$SELF")/owner-guard.sh" start "$owner" -- "$SELF" down "$name" >/dev/null
  /usr/sbin/useradd --system --no-create-home --home-dir /nonexistent --shell /bin/sh --comment "$MARK" "$name"
  log "created $name; removed when pid $owner exits"
  echo "export SWIFTMPI_TEST_USER=$name"
}

down() {
  local name=${1:?usage: down NAME} uid pid pids=()
  getent passwd "$name" >/dev/null || return 0
  [ "$(getent passwd "$name" | cut -d: -f5)" = "$MARK" ] || { log "$name was not made by this script; left alone"; exit 1; }
  uid=$(id -u "$name")
  for pid in /proc/[0-9]*; do
    pid=${pid#/proc/}
    [ "$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)" = "$uid" ] && pids+=("$pid")
  done
  if [ ${#pids[@]} -gt 0 ]; then
    kill -KILL "${pids[@]}" 2>/dev/null || true
    wait_gone 50 "${pids[@]}"
  fi
  /usr/sbin/userdel "$name" 2>/dev/null || /usr/sbin/userdel --force "$name"
  log "removed $name"
}

case "${1:-}" in
  up) shift; up "$@" ;;
  down) shift; down "$@" ;;
  check) check ;;
  *) sed -n '2,/^set -euo/p' "$SELF" | sed '$d' >&2; exit 2 ;;
esac
