#!/usr/bin/env bash
# netns-agent.sh [OPTIONS] HOST COMMAND... -- an ssh stand-in that starts COMMAND on a simulated host
# (a network namespace of Tests/Scripts/netns-hosts.sh), for MPICH's and Open MPI's launchers in
# Benchmarks/launch-scale.sh (SwiftMPI's uses `ip netns exec %h` directly). Like ssh it drops its
# options (Hydra passes -x) and runs the rest as one shell command. HOST is a namespace name or
# an address 10.77.0.N, which stands for ${SWIFTMPI_NETNS_PREFIX}N: the peers' launchers resolve
# host names, and the namespaces' names are in no resolver.
set -euo pipefail
while [[ ${1:-} == -* ]]; do shift; done
host=${1:?usage: netns-agent.sh HOST COMMAND...}
shift
case $host in 10.77.0.*) host="${SWIFTMPI_NETNS_PREFIX:-swmh}${host##*.}" ;; esac
# The simulated hosts share one file system and hostname, so Open MPI's daemons would share one
# session directory (and now and then fail, status 213): each host gets its own under
# $NETNS_AGENT_TMPDIR when that is set.
if [[ -n ${NETNS_AGENT_TMPDIR:-} ]]; then
    mkdir -p "$NETNS_AGENT_TMPDIR/$host"
    export OMPI_MCA_orte_tmpdir_base="$NETNS_AGENT_TMPDIR/$host"
fi
exec ip netns exec "$host" /bin/sh -c "$*"
