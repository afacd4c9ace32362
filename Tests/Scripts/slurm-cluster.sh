#!/usr/bin/env bash
# A one-machine Slurm cluster for tests of the PMI-2 wire-up, without systemd: a private munged,
# slurmctld and slurmd, with every file they use (config, munge key and socket, spool, logs, pid
# files) under one state directory, so nothing of a system Slurm or MUNGE is touched.
#
#   Tests/Scripts/slurm-cluster.sh up       (root; installs slurm-wlm and munge with apt if missing;
#                                           prints `export SLURM_CONF=...` as its last line)
#   Tests/Scripts/slurm-cluster.sh down     (cancels the cluster's jobs, then ends only the daemons
#                                           whose pids `up` recorded)
#   Tests/Scripts/slurm-cluster.sh status
#
# Settings: SWIFTMPI_SLURM_STATE (state directory, default /tmp/swiftmpi-slurm),
#           SWIFTMPI_SLURM_PORT (slurmctld's port, default 6817; slurmd uses the next one),
#           SWIFTMPI_SLURM_CPUS (CPUs the node claims, default 8, at least the real count, so that
#           `srun -n 4` runs on a 2-CPU machine without --overcommit).
#
# MPI plugins: Debian 12's slurm-wlm-basic-plugins (22.05) ships mpi_pmi2.so and mpi_pmix_v4.so
# (mpi_pmix.so links to it). The pmix plugin dlopens the unversioned
# /usr/lib/<multiarch>/pmix2/lib/libpmix.so, which only libpmix-dev provides (the package declares no
# dependency on it), so `up` installs libpmix-dev when that file is missing.
set -euo pipefail

STATE=${SWIFTMPI_SLURM_STATE:-/tmp/swiftmpi-slurm}
PORT=${SWIFTMPI_SLURM_PORT:-6817}
WANT_CPUS=${SWIFTMPI_SLURM_CPUS:-8}
CONF="$STATE/slurm.conf"
MUNGE_SOCKET="$STATE/munge/munge.socket"

now() { date +%s.%N; }
seconds() { awk "BEGIN{printf \"%.1f\", $2 - $1}"; }

# The pid recorded in $STATE/$1.pid if that process is alive and is still the program $2
# (a recycled pid is never signalled).
recorded_pid() {
  local file="$STATE/$1.pid" pid
  [ -s "$file" ] || return 1
  pid=$(tr -dc '0-9' < "$file")
  [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] || return 1
  [ "$(cat "/proc/$pid/comm")" = "$2" ] || return 1
  echo "$pid"
}

# Ends the recorded daemons named in "$@" (each a pid-file name that is also the program's name):
# SIGTERM to all at once (each takes about 2 s to exit), up to 10 s, then SIGKILL.
stop_daemons() {
  local pids=() pid name
  for name in "$@"; do
    if pid=$(recorded_pid "$name" "$name"); then kill -TERM "$pid" 2>/dev/null || true; pids+=("$pid"); fi
  done
  for _ in $(seq 100); do
    local alive=0
    for pid in "${pids[@]}"; do [ -d "/proc/$pid" ] && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do
    if [ -d "/proc/$pid" ]; then
      echo "slurm-cluster: pid $pid ignored SIGTERM; sending SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  for name in "$@"; do rm -f "$STATE/$name.pid"; done
}

install_if_missing() {
  local packages=()
  for tool in slurmctld slurmd srun munged; do
    command -v "$tool" >/dev/null || { packages+=(slurm-wlm munge); break; }
  done
  if [ ${#packages[@]} -gt 0 ]; then
    echo "slurm-cluster: installing ${packages[*]}" >&2
    apt_install "${packages[@]}"
  fi
  local pmix_plugin libdir
  pmix_plugin=$(dpkg -L slurm-wlm-basic-plugins 2>/dev/null | grep '/mpi_pmix_v[0-9]*\.so$' | head -1 || true)
  if [ -n "$pmix_plugin" ]; then
    libdir=$(dirname "$(dirname "$pmix_plugin")")          # /usr/lib/<multiarch>
    if [ ! -e "$libdir/pmix2/lib/libpmix.so" ]; then
      echo "slurm-cluster: installing libpmix-dev (the path mpi_pmix dlopens)" >&2
      apt_install libpmix-dev
    fi
  fi
}

apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  # The packages' init scripts must not start system daemons: a policy-rc.d that answers 101
  # ("action forbidden") stops them; add one for the install when the machine has none.
  local added_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    added_policy=1
  fi
  # An index that has never been fetched makes the install fail; fetch it once then.
  if ! apt-get install -y -q --no-install-recommends "$@" >"$STATE/log/apt.log" 2>&1; then
    apt-get update -q >>"$STATE/log/apt.log" 2>&1
    apt-get install -y -q --no-install-recommends "$@" >>"$STATE/log/apt.log" 2>&1 \
      || { [ $added_policy = 1 ] && rm -f /usr/sbin/policy-rc.d; cat "$STATE/log/apt.log" >&2; exit 1; }
  fi
  if [ $added_policy = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
}

start_munged() {
  if recorded_pid munged munged >/dev/null; then return; fi
  # munged runs as the munge user that the package creates; it refuses a directory that others can
  # write, and a socket directory that others cannot search (clients such as srun must reach it).
  install -d -m 0755 -o munge -g munge "$STATE/munge"
  if [ ! -s "$STATE/munge/munge.key" ]; then
    dd if=/dev/urandom bs=1024 count=1 of="$STATE/munge/munge.key" status=none
  fi
  chown munge:munge "$STATE/munge/munge.key"
  chmod 0400 "$STATE/munge/munge.key"
  runuser -u munge -- /usr/sbin/munged \
    --socket="$MUNGE_SOCKET" --key-file="$STATE/munge/munge.key" \
    --pid-file="$STATE/munge/munged.pid" --log-file="$STATE/munge/munged.log" \
    --seed-file="$STATE/munge/munged.seed"
  cp "$STATE/munge/munged.pid" "$STATE/munged.pid"
  for _ in $(seq 50); do
    munge --socket="$MUNGE_SOCKET" -n </dev/null | unmunge --socket="$MUNGE_SOCKET" >/dev/null 2>&1 && return
    sleep 0.1
  done
  echo "slurm-cluster: munged does not answer on $MUNGE_SOCKET (see $STATE/munge/munged.log)" >&2
  exit 1
}

write_config() {
  local host cpus real_cpus memory
  host=$(hostname -s)
  real_cpus=$(nproc --all)
  cpus=$(( WANT_CPUS > real_cpus ? WANT_CPUS : real_cpus ))
  memory=$(( $(awk '/^MemTotal:/ {print $2}' /proc/meminfo) * 9 / 10240 ))   # MB, 90 %
  cat > "$CONF" <<CONF
# Written by Tests/Scripts/slurm-cluster.sh; every path is under $STATE.
ClusterName=swiftmpi
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MUNGE_SOCKET
MpiDefault=none
# No cgroups: this machine has no systemd to delegate them.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
# The node may claim more CPUs than it has (see SWIFTMPI_SLURM_CPUS); slurmd must not drain it for that.
SlurmdParameters=config_overrides
ReturnToService=2
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmdSpoolDir=$STATE/spool/slurmd
StateSaveLocation=$STATE/spool/slurmctld
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
MinJobAge=10
KillWait=5
Waittime=0
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
}

up() {
  local t0 t1 t2 state="" plugins
  mkdir -p "$STATE"/{spool/slurmctld,spool/slurmd,log}
  chmod 0755 "$STATE"
  if recorded_pid slurmctld slurmctld >/dev/null && recorded_pid slurmd slurmd >/dev/null; then
    echo "slurm-cluster: already up" >&2
    echo "export SLURM_CONF=$CONF"
    return
  fi
  t0=$(now)
  install_if_missing
  t1=$(now)
  for port in "$PORT" "$((PORT + 1))"; do
    if ss -Hltn "sport = :$port" | grep -q .; then
      echo "slurm-cluster: port $port is taken (another Slurm?); set SWIFTMPI_SLURM_PORT" >&2
      exit 1
    fi
  done
  start_munged
  write_config
  export SLURM_CONF="$CONF"
  recorded_pid slurmctld slurmctld >/dev/null || slurmctld -f "$CONF" -c   # -c: no old state
  recorded_pid slurmd slurmd >/dev/null || slurmd -f "$CONF"                # both daemonize and write their pid files
  for _ in $(seq 300); do
    state=$(sinfo -h -N -o '%T' 2>/dev/null | head -1 || true)
    [ "$state" = idle ] && break
    sleep 0.1
  done
  t2=$(now)
  if [ "$state" != idle ]; then
    echo "slurm-cluster: the node is '${state:-unknown}', not idle (logs: $STATE/log)" >&2
    exit 1
  fi
  plugins=$(srun --mpi=list 2>&1 | sed -n 's/^[[:space:]]*//; s/^srun: //; /^mpi\/\|^pmi\|^none\|^cray/p' | tr '\n' ' ')
  echo "slurm-cluster: up in $(seconds "$t0" "$t2") s (install check $(seconds "$t0" "$t1") s," \
       "daemons to idle $(seconds "$t1" "$t2") s); srun --mpi plugins: ${plugins:-?}" >&2
  echo "export SLURM_CONF=$CONF"
}

down() {
  if [ ! -d "$STATE" ]; then return; fi
  if recorded_pid slurmctld slurmctld >/dev/null; then
    # Jobs first, so that no slurmstepd (which slurmd starts detached) outlives the cluster.
    if SLURM_CONF="$CONF" scancel --full --quiet --user=root 2>/dev/null; then
      for _ in $(seq 100); do
        [ -z "$(SLURM_CONF="$CONF" squeue -h -o %i 2>/dev/null)" ] && break
        sleep 0.1
      done
    fi
  fi
  stop_daemons slurmd slurmctld munged
  rm -f "$MUNGE_SOCKET" "$MUNGE_SOCKET.lock"
  echo "slurm-cluster: down (logs kept in $STATE/log)" >&2
}

status() {
  for daemon in munged slurmctld slurmd; do
    if pid=$(recorded_pid "$daemon" "$daemon"); then echo "$daemon: running (pid $pid)"; else echo "$daemon: stopped"; fi
  done
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 up | down | status" >&2; exit 2 ;;
esac
