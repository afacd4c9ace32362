#!/usr/bin/env bash
# Checks that test runs keep to their own names and ports: two runs of the Slurm and simulated-host
# tests at the same time, beside a user's own one-machine Slurm cluster (started with plain
# `slurm-cluster.sh up`, in /tmp/swiftmpi-slurm), both pass; the user's cluster still runs and still
# takes jobs afterwards; and the runs left nothing behind (Tests/Scripts/check-leftovers.sh), neither
# of theirs nor by stopping the user's; a third run told to use the user's cluster and simulated
# hosts (SWIFTMPI_SLURM_STATE, SWIFTMPI_NETNS_PREFIX) uses them and leaves them running. Run as
# root from the package root after a build with tests.
#
#   Tests/Scripts/coexistence-check.sh [BUILD DIR, default .build/debug]
#
# The two runs execute the test bundle directly (SwiftMPIPackageTests.xctest), because two `swift
# test` commands on one build directory wait for each other's lock. Exit 0 iff all of the above held.
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts=Tests/Scripts
build=${1:-.build/debug}
bundle=$build/SwiftMPIPackageTests.xctest
work=$(mktemp -d /tmp/swiftmpi-coexistence-check.XXXXXX)
log() { echo "coexistence-check: $*" >&2; }
user_state=/tmp/swiftmpi-slurm
user_hosts=swmuserh   # the user's simulated hosts: swmuserh1..32 (MultiHostTests needs 32)
user_up=no
cleanup() {
  SWIFTMPI_NETNS_PREFIX=$user_hosts $scripts/netns-hosts.sh down 2>/dev/null || true
  if [ $user_up = yes ]; then
    SWIFTMPI_SLURM_STATE=$user_state $scripts/slurm-cluster.sh down >/dev/null 2>&1 || true
    rm -rf $user_state
  fi
  rm -rf "$work"
}
trap cleanup EXIT

[ -x "$bundle" ] || { log "no test bundle at $bundle (swift build --build-tests first)"; exit 2; }
if ! $scripts/slurm-cluster.sh check 2>"$work/check"; then log "cannot run: $(cat "$work/check")"; exit 1; fi
if [ -e $user_state ]; then
  log "$user_state exists (a user's cluster, or its logs); this check starts, stops and removes its own there"; exit 1
fi

$scripts/check-leftovers.sh snapshot "$work/before-user"
if ip netns list | grep -q "^$user_hosts"; then log "namespaces $user_hosts* exist already"; exit 1; fi
log "starting the user's cluster in $user_state and the user's simulated hosts $user_hosts* (plain up 35, as many as the tests use)"
user_up=yes
SWIFTMPI_SLURM_STATE=$user_state $scripts/slurm-cluster.sh up > "$work/user.env"
SWIFTMPI_NETNS_PREFIX=$user_hosts $scripts/netns-hosts.sh up 35 >/dev/null
$scripts/check-leftovers.sh snapshot "$work/before-runs"

log "two test runs at once (SlurmTests and MultiHostTests each)"
# SWIFTMPI_SLURM_STATE and SWIFTMPI_NETNS_PREFIX unset: each run makes its own cluster and hosts.
pids=()
for run in 1 2; do
  env -u SWIFTMPI_SLURM_STATE -u SWIFTMPI_NETNS_PREFIX -u SLURM_CONF SWIFTMPI_REQUIRE_ALL_SUITES=1 \
    "$bundle" --testing-library swift-testing --filter 'SlurmTests|MultiHostTests' >"$work/run$run.log" 2>&1 &
  pids+=($!)
done
failed=no
for run in 1 2; do
  status=0; wait "${pids[$((run - 1))]}" || status=$?
  summary=$(grep -a "Test run with" "$work/run$run.log" | tail -1 | sed 's/\x1b\[[0-9;]*m//g')
  log "run $run: status $status: ${summary:-no summary}"
  if [ $status != 0 ]; then
    failed=yes
    grep -a -E "✘|failed|Expectation" "$work/run$run.log" | sed 's/\x1b\[[0-9;]*m//g' | head -20 | sed 's/^/  | /' >&2
  fi
done
[ $failed = no ] || { log "a run failed beside the other and the user's cluster"; exit 1; }

# Both runs' clusters were their own: the logs name two different state directories, neither the user's.
states=$(grep -a -h -o "up in [0-9.]* s in /tmp/swiftmpi-slurm[^ ]*" "$work"/run*.log | awk '{ print $NF }' | sort -u)
log "the runs' clusters: $(echo "$states" | tr '\n' ' ')"
if [ "$(echo "$states" | grep -c .)" -lt 2 ] || echo "$states" | grep -qx "$user_state"; then
  log "expected two private state directories, not the user's"; exit 1
fi

log "a run told to use the user's cluster and hosts (SWIFTMPI_SLURM_STATE, SWIFTMPI_NETNS_PREFIX) uses them and leaves them"
status=0
SWIFTMPI_SLURM_STATE=$user_state SWIFTMPI_NETNS_PREFIX=$user_hosts SWIFTMPI_REQUIRE_ALL_SUITES=1 \
  "$bundle" --testing-library swift-testing --filter 'SlurmTests|MultiHostTests' \
  >"$work/run3.log" 2>&1 || status=$?
log "run 3: status $status: $(grep -a "Test run with" "$work/run3.log" | tail -1 | sed 's/\x1b\[[0-9;]*m//g')"
[ $status = 0 ] || { grep -a -E "✘|failed" "$work/run3.log" | head -20 | sed 's/^/  | /' >&2; exit 1; }
grep -a -q "already up in $user_state; not started by this run, so left running" "$work/run3.log" ||
  { log "run 3 did not report using the user's cluster"; exit 1; }
for host in ${user_hosts}sw ${user_hosts}1 ${user_hosts}2 ${user_hosts}3; do
  ip netns list | grep -q "^$host\b" || { log "the user's namespace $host is gone"; exit 1; }
done

log "the user's cluster still runs and takes a job"
SWIFTMPI_SLURM_STATE=$user_state $scripts/slurm-cluster.sh status >&2 || { log "the user's cluster is down"; exit 1; }
( eval "$(cat "$work/user.env")"; srun -n 1 /bin/true ) || { log "the user's cluster took no job"; exit 1; }

log "the runs left nothing behind (the user's cluster aside)"
$scripts/check-leftovers.sh check "$work/before-runs" 30
SWIFTMPI_SLURM_STATE=$user_state $scripts/slurm-cluster.sh down >&2
rm -rf $user_state   # a plain `down` keeps the logs there, for the user
SWIFTMPI_NETNS_PREFIX=$user_hosts $scripts/netns-hosts.sh down
user_up=no
log "after the user's own down, nothing is left of anything"
$scripts/check-leftovers.sh check "$work/before-user" 30
