#!/usr/bin/env bash
# A one-machine Slurm cluster for tests of the PMI-2/PMIx wire-up, without systemd: a private munged,
# slurmctld and slurmd, with every file they use (config, munge key and socket, spool, logs, pid
# files) under one state directory and ports of their own, so that nothing of a system Slurm or MUNGE,
# nor another such cluster, is touched. It installs nothing: Tests/Scripts/prepare.sh does, once.
#
#   Tests/Scripts/slurm-cluster.sh up [--owner PID]
#       (root) Starts the cluster and prints `export SLURM_CONF=...`, `export SWIFTMPI_SLURM_STATE=...`
#       and `export SWIFTMPI_SLURM_OWNER=PID|none` (eval-able) on stdout; progress goes to stderr.
#       Without --owner: state directory $SWIFTMPI_SLURM_STATE (default /tmp/swiftmpi-slurm), ports
#       from $SWIFTMPI_SLURM_PORT (default: free ones); it runs until `down` (idempotent: a running
#       cluster there is reported, not restarted).
#       With --owner PID (what the tests do, with their own pid): when $SWIFTMPI_SLURM_STATE is set
#       and a cluster runs there (one started with plain `up`, say), it is used as it is and left
#       alone (OWNER none). Otherwise a private one is started, in $SWIFTMPI_SLURM_STATE if set, else
#       in a fresh `mktemp -d /tmp/swiftmpi-slurm.XXXXXX`, on free ports, and it ends when PID exits,
#       however PID ends (SIGINT, SIGKILL, a timeout): its daemons are stopped and reaped and the
#       state directory is removed (unless it existed before `up`). Two runs, or a run beside a
#       cluster in /tmp/swiftmpi-slurm, never share daemons, files or ports.
#   Tests/Scripts/slurm-cluster.sh down     cancels the cluster's jobs, stops its daemons (only those
#       it started) and waits for them; removes the state directory if `up --owner` created it
#   Tests/Scripts/slurm-cluster.sh status   the daemons of $SWIFTMPI_SLURM_STATE; exit 0 iff all run
#   Tests/Scripts/slurm-cluster.sh check    exit 0 iff everything needed is installed, else says what
#       is missing and that Tests/Scripts/prepare.sh installs it
#
# How: `up` starts a keeper process in a session of its own (so a SIGINT to the caller's process
# group does not reach it) whose children are munged -F, slurmctld -D and slurmd -D, in the
# foreground; the keeper reaps them when they end, so no stopped daemon is left as a zombie. It stops
# them on SIGTERM (`down`) or, with --owner, once the owner has exited.
#
# Settings: SWIFTMPI_SLURM_STATE, SWIFTMPI_SLURM_PORT (slurmctld's port; slurmd uses the next one),
#           SWIFTMPI_SLURM_CPUS (CPUs the node claims, default 8, at least the real count, so that
#           `srun -n 4` runs on a 2-CPU machine without --overcommit).
#
# MPI plugins: Debian 12's slurm-wlm-basic-plugins (22.05) ships mpi_pmi2.so and mpi_pmix_v4.so
# (mpi_pmix.so links to it). The pmix plugin dlopens the unversioned
# /usr/lib/<multiarch>/pmix2/lib/libpmix.so, which only libpmix-dev provides (the package declares no
# dependency on it), hence libpmix-dev among prepare.sh's packages.
set -euo pipefail
SELF=$(readlink -f "$0")
# shellcheck source=owner-guard.sh
. "$(dirname "$SELF")/owner-guard.sh"

DEFAULT_STATE=/tmp/swiftmpi-slurm
STATE=${SWIFTMPI_SLURM_STATE:-$DEFAULT_STATE}
WANT_CPUS=${SWIFTMPI_SLURM_CPUS:-8}

# The keeper is made a child subreaper (prctl PR_SET_CHILD_SUBREAPER, kept across exec), so that the
# slurmstepd processes slurmd starts detached are reparented to it, not to init, and it reaps them.
SUBREAPER=()
if [ -x /usr/bin/python3 ]; then
  SUBREAPER=(/usr/bin/python3 -c 'import ctypes, os, sys; ctypes.CDLL(None).prctl(36, 1, 0, 0, 0); os.execv(sys.argv[1], sys.argv[1:])' /bin/bash)
fi

now() { date +%s.%N; }
seconds() { awk "BEGIN{printf \"%.1f\", $2 - $1}"; }
log() { echo "slurm-cluster: $*" >&2; }
conf() { echo "$STATE/slurm.conf"; }
munge_socket() { echo "$STATE/munge/munge.socket"; }

# The pid recorded in $STATE/$1.pid if that process is alive, not a zombie, and is still the program
# $2 (a recycled pid is never signalled).
recorded_pid() {
  local file="$STATE/$1.pid" pid state
  [ -s "$file" ] || return 1
  pid=$(tr -dc '0-9' < "$file")
  [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] || return 1
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ] || return 1
  state=$(awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$pid/stat" 2>/dev/null) || return 1
  [ "$state" != Z ] || return 1
  echo "$pid"
}

# The keeper's pid, if it is alive and is this script's keeper for $STATE.
keeper_pid() {
  local pid
  [ -s "$STATE/keeper.pid" ] || return 1
  pid=$(tr -dc '0-9' < "$STATE/keeper.pid")
  [ -n "$pid" ] && recorded_alive "$pid" || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF "slurm-cluster.sh keeper $STATE " || return 1
  echo "$pid"
}

running() { recorded_pid slurmctld slurmctld >/dev/null && recorded_pid slurmd slurmd >/dev/null && recorded_pid munged munged >/dev/null; }

check() {
  local missing=() tool pmix_plugin libdir
  for tool in slurmctld slurmd srun salloc sinfo squeue scancel munged munge unmunge setpriv setsid flock ss; do
    command -v "$tool" >/dev/null || missing+=("$tool")
  done
  getent passwd munge >/dev/null || missing+=("the munge user")
  pmix_plugin=$(dpkg -L slurm-wlm-basic-plugins 2>/dev/null | grep '/mpi_pmix_v[0-9]*\.so$' | head -1 || true)
  if [ -n "$pmix_plugin" ]; then
    libdir=$(dirname "$(dirname "$pmix_plugin")")          # /usr/lib/<multiarch>
    [ -e "$libdir/pmix2/lib/libpmix.so" ] || missing+=("$libdir/pmix2/lib/libpmix.so (libpmix-dev)")
  fi
  if [ ${#missing[@]} -gt 0 ]; then
    printf 'missing %s' "${missing[0]}" >&2; printf ', %s' "${missing[@]:1}" >&2
    echo "; install them once with: sudo Tests/Scripts/prepare.sh" >&2
    return 1
  fi
}

# A free TCP port pair P, P+1 (nothing bound to either, in any state) in 20000..31999, below the
# usual ephemeral range so that no outgoing connection takes it later.
free_port_pair() {
  local p
  for _ in $(seq 200); do
    p=$((20000 + (RANDOM % 6000) * 2))
    if ! ss -Htan "( sport = :$p or sport = :$((p + 1)) )" | grep -q .; then echo "$p"; return; fi
  done
  log "found no free port pair"; return 1
}

write_config() {
  local port=$1 host cpus real_cpus memory
  host=$(hostname -s)
  real_cpus=$(nproc --all)
  cpus=$(( WANT_CPUS > real_cpus ? WANT_CPUS : real_cpus ))
  memory=$(( $(awk '/^MemTotal:/ {print $2}' /proc/meminfo) * 9 / 10240 ))   # MB, 90 %
  cat > "$(conf)" <<CONF
# Written by Tests/Scripts/slurm-cluster.sh; every path is under $STATE.
ClusterName=swiftmpi
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$(munge_socket)
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
# The jobs' temporary storage (the pmix plugin's per-step directories go there too).
TmpFS=$STATE/tmp
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

# ------------------------------------------------------------------ the keeper (detached)
# keeper STATE OWNER OWNER_START OWNED_DIR: starts the daemons as its children, reports "up" or
# "failed" in $STATE/keeper.state, then waits for SIGTERM or the owner's end, and stops them.
keeper() {
  local owner=$2 owner_start=$3 owned_dir=$4 pid
  close_inherited_fds
  echo $$ > "$STATE/keeper.pid"
  STOP=0
  trap 'STOP=1' TERM
  trap '' INT HUP
  export SLURM_CONF; SLURM_CONF=$(conf)
  if start_daemons; then
    echo up > "$STATE/keeper.state"
    while [ $STOP = 0 ]; do
      if [ "$owner" != none ] && ! owner_alive "$owner" "$owner_start"; then log "owner $owner has exited"; break; fi
      nap 0.5
    done
  else
    echo failed > "$STATE/keeper.state"
  fi
  stop_daemons
  log "stopped"
  if [ "$owned_dir" = yes ]; then
    cd /
    rm -rf "$STATE"
  else
    rm -f "$STATE/keeper.pid"
  fi
}

start_daemons() {
  local state="" ok=0
  # munged runs as the munge user that the package creates; it refuses a directory that others can
  # write, and a socket directory that others cannot search (clients such as srun must reach it).
  install -d -m 0755 -o munge -g munge "$STATE/munge"
  if [ ! -s "$STATE/munge/munge.key" ]; then
    dd if=/dev/urandom bs=1024 count=1 of="$STATE/munge/munge.key" status=none
  fi
  chown munge:munge "$STATE/munge/munge.key"
  chmod 0400 "$STATE/munge/munge.key"
  setpriv --reuid=munge --regid=munge --init-groups /usr/sbin/munged --foreground \
    --socket="$(munge_socket)" --key-file="$STATE/munge/munge.key" \
    --pid-file="$STATE/munge/munged.pid" --log-file="$STATE/munge/munged.log" \
    --seed-file="$STATE/munge/munged.seed" </dev/null >>"$STATE/log/munged.out" 2>&1 &
  echo $! > "$STATE/munged.pid"
  for _ in $(seq 100); do
    if munge --socket="$(munge_socket)" -n </dev/null 2>/dev/null | unmunge --socket="$(munge_socket)" >/dev/null 2>&1; then ok=1; break; fi
    nap 0.1
  done
  if [ $ok = 0 ]; then log "munged does not answer on $(munge_socket) (see $STATE/munge/munged.log)"; return 1; fi
  slurmctld -D -c -f "$SLURM_CONF" </dev/null >>"$STATE/log/slurmctld.out" 2>&1 &   # -c: no old state
  echo $! > "$STATE/slurmctld.pid"
  slurmd -D -f "$SLURM_CONF" </dev/null >>"$STATE/log/slurmd.out" 2>&1 &
  echo $! > "$STATE/slurmd.pid"
  for _ in $(seq 300); do
    state=$(sinfo -h -N -o '%T' 2>/dev/null | head -1 || true)
    [ "$state" = idle ] && return 0
    recorded_pid slurmctld slurmctld >/dev/null && recorded_pid slurmd slurmd >/dev/null || break
    nap 0.1
  done
  log "the node is '${state:-unknown}', not idle (logs: $STATE/log):"
  tail -n 5 "$STATE/log/slurmctld.log" "$STATE/log/slurmd.log" "$STATE"/log/*.out >&2 2>/dev/null || true
  return 1
}

# Cancels the jobs (so that no slurmstepd, which slurmd starts detached, outlives the cluster), then
# SIGTERM to the daemons (each takes about 2 s), up to 10 s, then SIGKILL; reaps them all.
stop_daemons() {
  local pids=() pid name
  if recorded_pid slurmctld slurmctld >/dev/null; then
    if scancel --full --quiet --user=root 2>/dev/null; then
      for _ in $(seq 100); do
        [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break
        nap 0.1
      done
    fi
  fi
  for name in slurmd slurmctld munged; do
    if pid=$(recorded_pid "$name" "$name"); then kill -TERM "$pid" 2>/dev/null || true; pids+=("$pid"); fi
  done
  for _ in $(seq 100); do
    local alive=0
    for pid in "${pids[@]}"; do recorded_alive "$pid" && alive=1; done
    [ $alive = 0 ] && break
    nap 0.1
  done
  for pid in "${pids[@]}"; do
    if recorded_alive "$pid"; then log "pid $pid ignored SIGTERM; sending SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; fi
  done
  wait || true                                   # reaps every child of the keeper
  for name in slurmd slurmctld munged; do rm -f "$STATE/$name.pid"; done
  rm -f "$(munge_socket)" "$(munge_socket).lock" "$STATE/keeper.state"
}

recorded_alive() { [ -d "/proc/$1" ] && [ "$(awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null)" != Z ]; }

# ------------------------------------------------------------------ commands
report() {   # report OWNER
  echo "export SLURM_CONF=$(conf)"
  echo "export SWIFTMPI_SLURM_STATE=$STATE"
  echo "export SWIFTMPI_SLURM_OWNER=$1"
}

up() {
  local owner=none owner_start="" owned_dir=no t0 port plugins lock state=""
  if [ "${1:-}" = --owner ]; then
    owner=${2:?--owner needs a pid}
    owner_start=$(process_start_time "$owner") || { log "no process $owner"; exit 1; }
  fi
  [ "$(id -u)" = 0 ] || { log "needs root (munged runs as the munge user, the daemons as root)"; exit 1; }
  check || exit 1
  if { [ "$owner" = none ] || [ -n "${SWIFTMPI_SLURM_STATE:-}" ]; } && running; then
    log "already up in $STATE$( [ "$owner" != none ] && echo "; not started by this run, so left running")"
    report none
    return
  fi
  if [ "$owner" != none ] && [ -z "${SWIFTMPI_SLURM_STATE:-}" ]; then
    STATE=$(mktemp -d /tmp/swiftmpi-slurm.XXXXXX)
    owned_dir=yes
  elif [ "$owner" != none ] && [ ! -e "$STATE" ]; then
    owned_dir=yes
  fi
  [ -z "$(keeper_pid || true)" ] || { log "a keeper for $STATE is running but its daemons are not; run down first"; exit 1; }
  mkdir -p "$STATE"/{spool/slurmctld,spool/slurmd,log,tmp}
  chmod 0755 "$STATE"
  chmod 1777 "$STATE/tmp"
  t0=$(now)
  # Port choice and the daemons' binding are one critical section among all runs of this script on
  # the machine, from any checkout: the lock is taken on the slurmctld executable itself, which every
  # such run has and which no file of ours has to be made for (and left behind).
  exec {lock}<"$(command -v slurmctld)"
  flock "$lock"
  port=${SWIFTMPI_SLURM_PORT:-$(free_port_pair)}
  for p in "$port" "$((port + 1))"; do
    if ss -Hltn "sport = :$p" | grep -q .; then log "port $p is taken (another Slurm?); set SWIFTMPI_SLURM_PORT"; exit 1; fi
  done
  write_config "$port"
  rm -f "$STATE/keeper.state"
  setsid "${SUBREAPER[@]}" "$SELF" keeper "$STATE" "$owner" "${owner_start:-0}" "$owned_dir" </dev/null >>"$STATE/log/keeper.log" 2>&1 &
  for _ in $(seq 600); do
    state=$(cat "$STATE/keeper.state" 2>/dev/null || true)
    [ -n "$state" ] && break
    sleep 0.1
  done
  flock -u "$lock"
  if [ "$state" != up ]; then
    log "the cluster did not come up (${state:-no answer from the keeper in 60 s}); keeper log:"
    cat "$STATE/log/keeper.log" >&2 2>/dev/null || true
    SWIFTMPI_SLURM_STATE=$STATE down >&2 || true
    exit 1
  fi
  plugins=$(SLURM_CONF=$(conf) srun --mpi=list 2>&1 | sed -n 's/^[[:space:]]*//; s/^srun: //; /^mpi\/\|^pmi\|^none\|^cray/p' | tr '\n' ' ')
  log "up in $(seconds "$t0" "$(now)") s in $STATE (ports $port, $((port + 1)); keeper pid $(keeper_pid || echo ?)$(
      [ "$owner" != none ] && echo "; ends when pid $owner exits")); srun --mpi plugins: ${plugins:-?}"
  report "$owner"
}

down() {
  local pid
  [ -d "$STATE" ] || return 0
  if pid=$(keeper_pid); then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 300); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
    if [ -d "/proc/$pid" ]; then log "the keeper (pid $pid) did not finish in 30 s"; return 1; fi
  elif recorded_pid slurmctld slurmctld >/dev/null || recorded_pid slurmd slurmd >/dev/null || recorded_pid munged munged >/dev/null; then
    SLURM_CONF=$(conf) stop_daemons     # daemons without a keeper (it was killed): not our children, cannot reap
  fi
  if [ -d "$STATE" ]; then log "down (logs kept in $STATE/log)"; else log "down ($STATE removed)"; fi
}

status() {
  local rc=0 daemon pid
  for daemon in munged slurmctld slurmd; do
    if pid=$(recorded_pid "$daemon" "$daemon"); then echo "$daemon: running (pid $pid)"; else echo "$daemon: stopped"; rc=1; fi
  done
  if pid=$(keeper_pid); then echo "keeper: pid $pid"; fi
  return $rc
}

case "${1:-}" in
  up) shift; up "$@" ;;
  down) down ;;
  status) status ;;
  check) check ;;
  keeper) shift; STATE=$1; keeper "$@" ;;
  *) sed -n '2,/^set -euo/p' "$SELF" | sed '$d' >&2; exit 2 ;;
esac
