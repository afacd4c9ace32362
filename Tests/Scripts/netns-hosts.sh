#!/usr/bin/env bash
# Simulated hosts for multi-host tests: network namespaces ${PREFIX}1..N, each with its own network
# stack (eth0 = 10.77.0.i/24, lo), joined by a bridge that lives in a private switch namespace
# ${PREFIX}sw. Nothing is configured in the root namespace; the addresses exist only inside the
# namespaces, so several sets can exist side by side.
#
#   Tests/Scripts/netns-hosts.sh up [N=3] [--owner PID]
#       (root) Creates the hosts and prints `export SWIFTMPI_NETNS_PREFIX=PREFIX` and
#       `export SWIFTMPI_NETNS_OWNER=PID|none` on stdout (the hosts are PREFIX1..PREFIXN).
#       Without --owner: PREFIX is $SWIFTMPI_NETNS_PREFIX (default swmh); idempotent; they stay until
#       `down`.
#       With --owner PID (what the tests do, with their own pid): when $SWIFTMPI_NETNS_PREFIX is set
#       and its hosts exist, they are used as they are and left alone (OWNER none). Otherwise a set
#       of this run's own is made, under $SWIFTMPI_NETNS_PREFIX if set, else under a fresh prefix
#       swmXXXXh (4 random hex digits, one no namespace has), and a guardian (owner-guard.sh)
#       removes it when PID exits, however PID ends.
#   Tests/Scripts/netns-hosts.sh down
#       Ends the processes still inside the namespaces of $SWIFTMPI_NETNS_PREFIX (default swmh), waits
#       for them, and deletes the namespaces.
#   Tests/Scripts/netns-hosts.sh check     exit 0 iff ip(8) and setsid are there and this is root
#
# Tests start jobs with: ip netns exec ${PREFIX}1 swiftmpirun --host ${PREFIX}1:2,${PREFIX}2:2 \
#                          --launch-agent "ip netns exec %h" ...
set -euo pipefail
SELF=$(readlink -f "$0")
. "$(dirname "$SELF")/owner-guard.sh"   # wait_gone
PREFIX=${SWIFTMPI_NETNS_PREFIX:-swmh}
log() { echo "netns-hosts: $*" >&2; }

namespaces() { ip netns list | awk '{print $1}' | grep -E "^${PREFIX}([0-9]+|sw)$" || true; }

check() {
  local missing=()
  command -v ip >/dev/null || missing+=("ip (iproute2)")
  command -v setsid >/dev/null || missing+=("setsid (util-linux)")
  if [ ${#missing[@]} -gt 0 ]; then
    echo "missing ${missing[*]}; install them once with: sudo Tests/Scripts/prepare.sh" >&2
    return 1
  fi
  [ "$(id -u)" = 0 ] || { echo "needs root to create network namespaces" >&2; return 1; }
}

down() {
  local ns pid pids=()
  for ns in $(namespaces); do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -TERM "$pid" 2>/dev/null && pids+=("$pid"); done
  done
  if [ ${#pids[@]} -gt 0 ]; then
    log "ending ${#pids[@]} process(es) left in the namespaces: ${pids[*]}"
    wait_gone 50 "${pids[@]}"
    for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  fi
  for ns in $(namespaces); do ip netns delete "$ns"; done
}

up() {
  local count=3 owner=none i host
  while [ $# -gt 0 ]; do
    case $1 in
      --owner) owner=${2:?--owner needs a pid}; shift 2 ;;
      [0-9]*) count=$1; shift ;;
      *) log "unknown argument $1"; exit 2 ;;
    esac
  done
  check
  if { [ "$owner" = none ] || [ -n "${SWIFTMPI_NETNS_PREFIX:-}" ]; } && ip netns list | grep -q "^${PREFIX}sw\b"; then
    if [ "$owner" = none ] || ip netns list | grep -q "^${PREFIX}${count}\b"; then
      log "already up (${PREFIX}1..)$( [ "$owner" != none ] && echo "; not made by this run, so left alone")"
      echo "export SWIFTMPI_NETNS_PREFIX=$PREFIX"
      echo "export SWIFTMPI_NETNS_OWNER=none"
      return
    fi
    log "${PREFIX}sw exists but not ${PREFIX}${count}; run down first"; exit 1
  fi
  local claimed=no
  if [ "$owner" != none ] && [ -z "${SWIFTMPI_NETNS_PREFIX:-}" ]; then
    # A fresh prefix, claimed by creating its switch namespace: `ip netns add` fails when the name
    # exists, so two runs choosing at the same moment never share one.
    for _ in $(seq 100); do
      PREFIX=$(printf 'swm%04xh' $((RANDOM % 65536)))
      [ -z "$(namespaces)" ] || continue
      if ip netns add "${PREFIX}sw" 2>/dev/null; then claimed=yes; break; fi
    done
    [ $claimed = yes ] || { log "found no free namespace prefix"; exit 1; }
  fi
  if [ "$owner" != none ]; then
    # From here on, whatever happens to the owner (or to this script), the namespaces go with it.
    SWIFTMPI_NETNS_PREFIX=$PREFIX "$(dirname "$SELF")/owner-guard.sh" start "$owner" -- \
      env SWIFTMPI_NETNS_PREFIX="$PREFIX" "$SELF" down >/dev/null
  fi
  [ $claimed = yes ] || ip netns add "${PREFIX}sw"
  ip -n "${PREFIX}sw" link add br0 type bridge
  ip -n "${PREFIX}sw" link set br0 up
  for i in $(seq 1 "$count"); do
    host="${PREFIX}$i"
    ip netns add "$host"
    ip -n "${PREFIX}sw" link add "p$i" type veth peer name eth0 netns "$host"
    ip -n "${PREFIX}sw" link set "p$i" master br0 up
    ip -n "$host" link set lo up
    ip -n "$host" addr add "10.77.0.$i/24" dev eth0
    ip -n "$host" link set eth0 up
  done
  for i in $(seq 1 "$count"); do
    for _ in $(seq 50); do ip -n "${PREFIX}$i" -br link show eth0 | grep -q ' UP ' && break; sleep 0.1; done
  done
  if [ "$owner" != none ] && ! kill -0 "$owner" 2>/dev/null; then   # it ended while we were at it
    down; log "pid $owner exited meanwhile; removed them again"; exit 1
  fi
  log "${count} hosts up (${PREFIX}1..${PREFIX}${count}, 10.77.0.1..${count})$(
      [ "$owner" != none ] && echo "; removed when pid $owner exits")"
  echo "export SWIFTMPI_NETNS_PREFIX=$PREFIX"
  echo "export SWIFTMPI_NETNS_OWNER=$owner"
}

case "${1:-}" in
  up) shift; up "$@" ;;
  down) down ;;
  check) check ;;
  *) sed -n '2,/^set -euo/p' "$SELF" | sed '$d' >&2; exit 2 ;;
esac
