#!/usr/bin/env bash
# Simulated hosts for multi-host tests: network namespaces ${PREFIX}1..N, each with its own network
# stack (eth0 = 10.77.0.i/24, lo), joined by a bridge that lives in a private switch namespace.
# Nothing is configured in the root namespace; the addresses exist only inside the namespaces.
#
#   Tests/Scripts/netns-hosts.sh up [N=3]     (root; idempotent)
#   Tests/Scripts/netns-hosts.sh down
#
# Tests start jobs with: ip netns exec swmh1 swiftmpirun --host swmh1:2,swmh2:2 \
#                          --launch-agent "ip netns exec %h" ...
set -euo pipefail
PREFIX=${SWIFTMPI_NETNS_PREFIX:-swmh}
action=${1:-up}
count=${2:-3}

down() {
  for ns in $(ip netns list | awk '{print $1}' | grep -E "^${PREFIX}([0-9]+|sw)$" || true); do
    ip netns delete "$ns"
  done
}

up() {
  if ip netns list | grep -q "^${PREFIX}sw\b"; then
    echo "netns-hosts: already up"; return
  fi
  ip netns add "${PREFIX}sw"
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
  echo "netns-hosts: ${count} hosts up (${PREFIX}1..${PREFIX}${count}, 10.77.0.1..${count})"
}

case "$action" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up [N] | down" >&2; exit 2 ;;
esac
