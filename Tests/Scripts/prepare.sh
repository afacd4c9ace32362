#!/usr/bin/env bash
# Installs, once, what SwiftMPI's heavier test suites need, so that `swift test` itself never
# installs anything (without these the suites are skipped, each with a "⚠️ SKIPPING" line naming
# this script). Run as root on Debian 12 (or Ubuntu); idempotent; .ci/run runs it before the tests.
#
#   Tests/Scripts/prepare.sh            packages below (apt), then the Soft-RoCE VM kernel
#   Tests/Scripts/prepare.sh --no-vm    packages only, without qemu and the VM kernel
#
# What for:
#   Slurm suite (srun --mpi=pmi2|pmix):   slurm-wlm munge libpmix-dev (Slurm's mpi/pmix plugin dlopens
#                                         the unversioned libpmix.so that only libpmix-dev provides)
#   Open MPI's mpirun suite:              openmpi-bin
#   simulated hosts (network namespaces): iproute2
#   isolation suite (a throwaway user):   passwd (useradd, userdel) util-linux (runuser) python3
#   the scripts that start and stop it:   util-linux (setsid, flock, setpriv), python3 (makes the Slurm
#                                         keeper a subreaper, so that it reaps the slurmstepds)
#   Soft-RoCE VMs (verbs suite):          libibverbs-dev (the runtime is built with verbs only where
#                                         its headers are: rebuild after installing it), qemu-system-x86
#                                         busybox-static kmod cpio rdma-core ibverbs-providers
#                                         ibverbs-utils, perftest (raw verbs latency beside SwiftMPI's),
#                                         then `rdma-vm.sh prepare`:
#                                         a stock Debian kernel package downloaded (not installed) and
#                                         unpacked into its cache, /var/cache/swiftmpi-rdma-vm
#
# Package scripts must not start or enable system daemons (munge, slurmctld, slurmd): a policy-rc.d
# that forbids starting services is put in place for the install when the machine has none, and on a
# systemd machine the services of packages this script installed are disabled afterwards. The test
# suites start private daemons of their own and stop them when the run ends.
set -euo pipefail
cd "$(dirname "$0")/../.."
export DEBIAN_FRONTEND=noninteractive

vm=1
case "${1:-}" in
  "") ;;
  --no-vm) vm=0 ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d' >&2; exit 2 ;;
esac
if [ "$(id -u)" != 0 ]; then echo "prepare: run as root (it installs packages with apt)" >&2; exit 1; fi

packages=(slurm-wlm munge libpmix-dev openmpi-bin iproute2 passwd util-linux python3)
[ $vm = 1 ] && packages+=(libibverbs-dev qemu-system-x86 busybox-static kmod cpio rdma-core ibverbs-providers ibverbs-utils perftest)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  start=$(date +%s)
  echo "prepare: installing ${missing[*]}" >&2
  added_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\n# (Tests/Scripts/prepare.sh, for the duration of its install)\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    added_policy=1
  fi
  trap 'if [ $added_policy = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi' EXIT
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
    for p in "${missing[@]}"; do
      for unit in $(dpkg -L "$p" 2>/dev/null | grep -E '^/(usr/)?lib/systemd/system/[^/]+\.service$' | xargs -rn1 basename); do
        systemctl disable --now "$unit" >/dev/null 2>&1 && echo "prepare: disabled $unit (the tests run their own)" >&2 || true
      done
    done
  fi
  echo "prepare: installed in $(( $(date +%s) - start )) s" >&2
else
  echo "prepare: packages already installed" >&2
fi

if [ $vm = 1 ]; then
  Tests/Scripts/rdma-vm.sh prepare
fi
echo "prepare: done; \`swift test\` (as root) runs the Slurm, multi-host, isolation$([ $vm = 1 ] && echo " and Soft-RoCE VM") suites" >&2
