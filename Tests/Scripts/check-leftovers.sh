#!/usr/bin/env bash
# Checks that a test run left nothing behind: no process, network namespace, user or file of it.
# What existed before the run (a snapshot) does not count, so a user's own Slurm cluster or files
# do not make the check fail. CI runs it after `swift test` and after an interrupted run
# (interrupt-check.sh).
#
#   Tests/Scripts/check-leftovers.sh snapshot DIR     record what exists now into DIR (made if needed)
#   Tests/Scripts/check-leftovers.sh check DIR [SECS] wait up to SECS (default 30) for the run's
#       guardians and daemons to finish, then exit 1, listing them, if any of these exists that did
#       not at the snapshot (exit 0 otherwise):
#     - processes of the kinds a run starts: slurmctld slurmd slurmstepd slurmscriptd munged srun
#       salloc, qemu, swiftmpirun and the swiftmpi-* programs, Open MPI's mpirun/prterun/orted/prted,
#       the test bundle (*PackageTests.xctest), and anything running a Tests/Scripts script (the
#       keepers and guardians); zombies of these count too
#     - network namespaces (ip netns list)
#     - users and groups (/etc/passwd, /etc/group)
#     - entries of /tmp, /var/tmp and /dev/shm, except the build's own files (SwiftPM's lock
#       files and TemporaryDirectory.*, which `swift test` makes when it builds), and entries of the
#       system's state directories a daemon or package could write to: /run, /run/lock, /var/run,
#       /var/spool, /var/lib, /var/log, /etc/slurm, /etc/munge
#     - mounts (/proc/self/mountinfo: a test's tmpfs, say)
#     - installed packages (dpkg-query: a test run installs nothing; a package added, removed or
#       changed in version counts)
set -euo pipefail

# "pid starttime state comm" for every process (comm without spaces: they become _).
processes() {
  local stat line rest pid comm
  for stat in /proc/[0-9]*/stat; do
    read -r line 2>/dev/null < "$stat" || continue
    pid=${line%% *}
    comm=${line#*(}; comm=${comm%)*}; comm=${comm// /_}
    rest=${line##*) }
    # shellcheck disable=SC2086
    set -- $rest
    if [ $# -ge 20 ]; then echo "$pid ${20} $1 $comm"; fi
  done
}

# Whether process "pid start state comm" is of a kind a test run starts.
of_a_run() {
  local pid=$1 comm=$4 cmdline
  case $comm in
    slurmctld|slurmd|slurmstepd|slurmscriptd|munged|srun|salloc|sbatch|qemu-system-*|swiftmpirun|swiftmpi-*) return 0 ;;
    mpirun|mpiexec|orterun|orted|prterun|prted|SwiftMPIPackage*|*.xctest) return 0 ;;
  esac
  cmdline=$({ tr '\0' ' ' < "/proc/$pid/cmdline"; } 2>/dev/null || true)
  case $cmdline in
    *Tests/Scripts/check-leftovers.sh*|*Tests/Scripts/interrupt-check.sh*) return 1 ;;
    */Tests/Scripts/*|*PackageTests.xctest*) return 0 ;;
  esac
  return 1
}

entries() {   # the entries of the scratch and system state directories, one path a line
  local dir
  for dir in /tmp /var/tmp /dev/shm /run /run/lock /var/run /var/spool /var/lib /var/log /etc/slurm /etc/munge; do
    [ -d "$dir" ] && find "$dir" -mindepth 1 -maxdepth 1 -printf '%p\n' 2>/dev/null
  done | grep -vx /run/mount | sort -u   # (util-linux's own: the first mount(8) on a machine makes it; mounts are checked below)
}

mounts() {   # mount points, one a line (field 5 of mountinfo)
  awk '{ print $5 }' /proc/self/mountinfo | sort
}

packages() {   # installed packages with their versions, one a line
  if command -v dpkg-query >/dev/null; then
    dpkg-query -W -f '${db:Status-Abbrev} ${Package}:${Architecture} ${Version}\n' 2>/dev/null | awk '$1 ~ /^.i/ { print $2 " " $3 }' | sort
  fi
}

build_file() {   # files the toolchain makes in /tmp while building (not the tests')
  case ${1##*/} in
    TemporaryDirectory.*|*.lock|*_workspace-state.json.lock|swift-generated-sources|clang-*|cc-*.o|*.swiftdeps*) return 0 ;;
  esac
  return 1
}

snapshot() {
  local dir=$1
  mkdir -p "$dir"
  processes | awk '{ print $1 " " $2 }' > "$dir/processes"
  { ip netns list 2>/dev/null || true; } | awk '{ print $1 }' | sort > "$dir/netns"
  cut -d: -f1 /etc/passwd | sort > "$dir/users"
  cut -d: -f1 /etc/group | sort > "$dir/groups"
  entries > "$dir/entries"
  mounts > "$dir/mounts"
  packages > "$dir/packages"
}

# Everything of the run still there, one line each (empty: nothing).
leftovers() {
  local dir=$1 pid start state comm entry
  while read -r pid start state comm; do
    grep -qx "$pid $start" "$dir/processes" && continue
    [ "$pid" = $$ ] || [ "$pid" = "$BASHPID" ] && continue
    if of_a_run "$pid" "$start" "$state" "$comm"; then
      echo "process $pid ($comm$([ "$state" = Z ] && echo ", zombie")): $({ tr '\0' ' ' < "/proc/$pid/cmdline"; } 2>/dev/null | cut -c1-200)"
    fi
  done < <(processes)
  { ip netns list 2>/dev/null || true; } | awk '{ print $1 }' | sort | comm -13 "$dir/netns" - | sed 's/^/network namespace /'
  cut -d: -f1 /etc/passwd | sort | comm -13 "$dir/users" - | sed 's/^/user /'
  cut -d: -f1 /etc/group | sort | comm -13 "$dir/groups" - | sed 's/^/group /'
  while read -r entry; do
    build_file "$entry" && continue
    echo "file $entry"
  done < <(entries | comm -13 "$dir/entries" -)
  mounts | comm -13 "$dir/mounts" - | sed 's/^/mount /'
  packages | comm -3 "$dir/packages" - | sed 's/^\([^\t]\)/package removed or changed: \1/; t; s/^\t/package installed or changed: /'
}

check() {
  local dir=$1 seconds=${2:-30} left="" waited=0
  [ -f "$dir/processes" ] || { echo "check-leftovers: no snapshot in $dir" >&2; exit 2; }
  for ((waited = 0; waited <= seconds * 2; waited++)); do
    left=$(leftovers "$dir")
    [ -z "$left" ] && break
    sleep 0.5
  done
  if [ -n "$left" ]; then
    echo "check-leftovers: the run left these behind (after waiting ${seconds} s):" >&2
    echo "$left" | sed 's/^/  /' >&2
    exit 1
  fi
  echo "check-leftovers: nothing left behind (no process, namespace, user, file, mount or package change of the run; $(awk "BEGIN { print $waited / 2 }") s after the run)"
}

case "${1:-}" in
  snapshot) snapshot "${2:?snapshot DIR}" ;;
  check) check "${2:?check DIR [SECS]}" "${3:-30}" ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d' >&2; exit 2 ;;
esac
