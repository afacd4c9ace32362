#!/usr/bin/env bash
# Soft-RoCE (rdma_rxe) test VMs for the verbs transport, on machines with no RDMA hardware and no
# CONFIG_INFINIBAND. qemu boots a stock Debian kernel (downloaded, never installed) in "host-root" mode:
# the guest's / is this host's / over 9p, read-only, with a tmpfs overlay, so the guest has the host's
# userland (rdma-core, /opt/swift, host-built binaries). Each guest gets eth0 169.254.77.x/24 and rxe0
# on it, hostname vma (.1) or vmb (.2), /etc/hosts for both, fresh tmpfs on /tmp /run /var/tmp /dev/shm,
# ulimit -l unlimited, and PATH = host PATH + /opt/swift/usr/bin. Run as root. It installs no package:
# Tests/Scripts/prepare.sh installs qemu, rdma-core and the rest, then runs `rdma-vm.sh prepare`.
#
#   Tests/Scripts/rdma-vm.sh prepare      download the kernel package (apt-get download; not installed)
#       into the cache, unpack it there, and build the busybox initramfs (idempotent)
#   Tests/Scripts/rdma-vm.sh check        exit 0 iff the packages, kernel and initramfs are there; else
#       says what is missing and that Tests/Scripts/prepare.sh provides it
#   Tests/Scripts/rdma-vm.sh run  [-p CPUS] [-t SECS] [-v DIR]... -- CMD [ARGS...]
#       One VM (vma). CMD runs in $PWD, which is shared at the same path (read-write); its output
#       (stdout+stderr) is streamed to stdout; exits with CMD's status (124 timeout, 125 VM failure).
#   Tests/Scripts/rdma-vm.sh pair [-p CPUS] [-t SECS] [-v DIR]... -- CMD_A... -- CMD_B...
#       Two VMs, vma runs CMD_A and vmb runs CMD_B (both in $PWD; CMD_A must not contain a bare
#       `--`, use bash -c then). Their NICs are wired only to each other (a qemu Unix stream
#       socket; see choose_link). Prints both outputs, labeled; exits 0 iff both commands exit 0.
#       Both guests see a fresh shared directory $SWIFTMPI_VM_AGENT_DIR for vm-launch-agent.sh.
#       If qemu stalls the link (see watch_link), the pair is stopped and booted again, once.
#
# -v DIR shares another host directory at the same path, read-write. Needed for anything under /tmp
# (the guest's /tmp is a fresh tmpfs), e.g. -v /tmp/rdmavm-bin. -p: vCPUs per VM (run: 2, pair: half
# the host's CPUs, at least 1; TCG runs each vCPU as a host thread), -t: seconds before qemu is
# killed (default 600). SWIFTMPI_* variables of the caller are passed to the guest
# commands, which also see SWIFTMPI_RDMA_VM=1.
# Each run/pair works in a fresh run directory, `mktemp -d $TMPDIR/swiftmpi-rdma-vm-run.XXXXXX`; when
# the script ends, by itself or by SIGINT/SIGTERM/SIGHUP, its VMs are stopped (qemu and its timeout
# also end if this script is SIGKILLed: they get SIGTERM/SIGKILL when their parent dies) and the run
# directory is removed, unless kept (below).
# Settings: SWIFTMPI_RDMA_VM_DIR (the prepared kernel and initramfs, default
# /var/cache/swiftmpi-rdma-vm), SWIFTMPI_RDMA_VM_MEM (MiB per VM, default 1536), SWIFTMPI_RDMA_VM_ACCEL
# (kvm|tcg; default tcg unless hardware KVM: a PVM-backed /dev/kvm cannot boot a stock kernel),
# SWIFTMPI_RDMA_VM_KEEP (1: keep the run directory with the serial console logs; 0: never keep it;
# unset: keep it when a VM failed or the run was interrupted), SWIFTMPI_RDMA_VM_OWNER=PID (end the
# VMs, as on SIGTERM, as soon as process PID has exited: the tests pass their own pid).
set -euo pipefail
STATE=${SWIFTMPI_RDMA_VM_DIR:-/var/cache/swiftmpi-rdma-vm}
MEM=${SWIFTMPI_RDMA_VM_MEM:-1536}
SELF=$(readlink -f "${BASH_SOURCE[0]}")
PKGS=(qemu-system-x86 busybox-static kmod cpio rdma-core ibverbs-providers ibverbs-utils iproute2 perftest)
INITRD=$STATE/initrd.img
O9P="trans=virtio,version=9p2000.L,msize=512000"
log() { echo "rdma-vm: $*" >&2; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# ---------------------------------------------------------------- host: prepare
missing_packages() {
  local p
  for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || echo "$p"
  done
}

# What run/pair lack, on stderr (exit 1), or nothing (exit 0).
check() {
  local missing
  missing=$(missing_packages | tr '\n' ' ')
  [ "$(id -u)" = 0 ] || { log "needs root to boot the Soft-RoCE VMs"; return 1; }
  if [ -n "$missing" ]; then
    log "missing packages ${missing% }; install them once with: sudo Tests/Scripts/prepare.sh"; return 1
  fi
  if [ ! -f "$STATE/vmlinuz" ] || [ ! -d "$STATE/k/lib/modules" ] || [ ! -f "$STATE/initrd.img" ]; then
    log "no prepared kernel and initramfs in $STATE; make them once with: sudo Tests/Scripts/prepare.sh"; return 1
  fi
}

prepare() {
  local t missing p kpkg kver tmp
  missing=$(missing_packages | tr '\n' ' ')
  if [ -n "$missing" ]; then
    log "missing packages ${missing% }; Tests/Scripts/prepare.sh installs them (and then runs this)"; exit 1
  fi
  mkdir -p "$STATE"
  # The Debian kernel has rdma_rxe, virtio, 9p and overlay as modules. Unpacked here, not installed.
  if [ ! -f "$STATE/vmlinuz" ]; then
    t=$(now)
    kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
    if [ -z "$kpkg" ]; then
      apt-get update -qq
      kpkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
    fi
    tmp=$(mktemp -d "$STATE/kernel.XXXXXX")
    (cd "$tmp" && apt-get download -qq "$kpkg" 2>&1) | { grep -v unsandboxed >&2 || true; }
    dpkg -x "$tmp"/*.deb "$tmp/root"
    [ -d "$tmp/root/lib/modules" ] || ln -s usr/lib "$tmp/root/lib"   # in case the package is merged-/usr
    kver=$(ls "$tmp/root/lib/modules")
    depmod -b "$tmp/root" "$kver"
    rm -rf "$STATE/k" && mv "$tmp/root" "$STATE/k" && rm -rf "$tmp"
    cp "$STATE/k/boot/vmlinuz-$kver" "$STATE/vmlinuz.tmp" && mv "$STATE/vmlinuz.tmp" "$STATE/vmlinuz"
    log "kernel $kpkg: download, unpack, depmod in $(since "$t")s"
  fi
  build_initramfs "$STATE"
}

# The init script of the initramfs for the prepared kernel (on stdout).
initramfs_init() {
  local kver
  kver=$(ls "$STATE/k/lib/modules")
  # PID 1 of the initramfs: host / (9p, ro) + tmpfs overlay, then the guest half of this script,
  # which `run`/`pair` put into each VM's control share ("ctl", mounted at /run/vm).
  cat <<EOF
#!/bin/sh
# generated by rdma-vm.sh prepare (kernel $kver)
fail() { echo "initramfs: \$* failed"; echo o > /proc/sysrq-trigger; sleep 10; }
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in \$(cat /modules.list); do insmod /lib/modules/\$m; done
mount -t 9p -o $O9P,cache=loose,ro hostroot /lower || fail "9p root"
mount -t tmpfs -o mode=0755 rw /rw && mkdir /rw/upper /rw/work
mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work overlay /newroot || fail overlay
mkdir -p /newroot/lib/modules/$kver
mount --bind "/newroot$STATE/k/lib/modules/$kver" /newroot/lib/modules/$kver || fail "modules bind"
mount -t tmpfs -o mode=1777 tmp /newroot/tmp; mount -t tmpfs -o mode=1777 vartmp /newroot/var/tmp
mount -t tmpfs -o mode=0755 run /newroot/run; mkdir /newroot/run/vm
mount -t 9p -o $O9P,cache=none ctl /newroot/run/vm || fail "9p ctl"
for d in dev proc sys; do mount --move /\$d /newroot/\$d; done
exec switch_root /newroot /bin/bash /run/vm/rdma-vm.sh guest
EOF
}

# build_initramfs DIR: DIR/initrd.img for the prepared kernel, unless the one there is up to date
# (DIR/initramfs.init holds the init script it was built with).
build_initramfs() {
  local dir=$1 init kver t tmp p
  init=$(initramfs_init)
  kver=$(ls "$STATE/k/lib/modules")
  if [ ! -f "$dir/initrd.img" ] || [ "$init" != "$(cat "$dir/initramfs.init" 2>/dev/null)" ]; then
    t=$(now)
    tmp=$(mktemp -d "$dir/initramfs.XXXXXX")
    mkdir -p "$tmp"/{bin,dev,proc,sys,lower,rw,newroot,lib/modules}
    cp /bin/busybox "$tmp/bin/busybox"
    for p in sh mount insmod mkdir cat sleep switch_root; do ln -s busybox "$tmp/bin/$p"; done
    for p in $( (for m in virtio_pci 9pnet_virtio 9p overlay; do modprobe -d "$STATE/k" -S "$kver" --show-depends "$m"; done) \
                | awk '$1 == "insmod" && !seen[$2]++ { print $2 }'); do
      cp "$p" "$tmp/lib/modules/" && basename "$p"
    done > "$tmp/modules.list"
    printf '%s\n' "$init" > "$tmp/init" && chmod +x "$tmp/init"
    (cd "$tmp" && find . | cpio -o -H newc --quiet | gzip -1) > "$dir/initrd.img.tmp"
    mv "$dir/initrd.img.tmp" "$dir/initrd.img" && printf '%s\n' "$init" > "$dir/initramfs.init"
    log "initramfs ($(wc -l < "$tmp/modules.list") modules, kernel $kver) built in $(since "$t")s"
    rm -rf "$tmp"
  fi
}

# ---------------------------------------------------------------- guest: PID 1 after switch_root
guest() {
  set +eu
  export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8
  # shellcheck disable=SC1091  # (written by write_ctl)
  . /run/vm/vm.env
  mkdir -p /dev/pts /dev/shm
  mount -t devpts devpts /dev/pts; mount -t tmpfs -o mode=1777 shm /dev/shm
  ln -s /proc/self/fd /dev/fd; ln -s fd/0 /dev/stdin; ln -s fd/1 /dev/stdout; ln -s fd/2 /dev/stderr  # not in devtmpfs
  hostname "$VM_NAME"; echo "$VM_NAME" > /etc/hostname
  printf '127.0.0.1\tlocalhost\n169.254.77.1\tvma\n169.254.77.2\tvmb\n' > /etc/hosts
  local s i=0
  for s in "${VM_SHARES[@]}"; do  # TAG:CACHE:PATH, in order (parents before children)
    IFS=: read -r tag cache path <<< "$s"
    mkdir -p "$path" && mount -t 9p -o "$O9P,cache=$cache" "$tag" "$path" || echo "rdma-vm guest: mount $path failed"
  done
  modprobe virtio_net
  ip link set lo up; ip link set eth0 up; ip addr add "$VM_IP/24" dev eth0
  # Queue rather than drop when the link pushes back (RoCE has no loss recovery worth the name: each
  # drop costs a go-back-N retransmission after the ack timeout).
  ip link set eth0 txqueuelen 20000
  modprobe rdma_rxe && rdma link add rxe0 type rxe netdev eth0 || echo "rdma-vm guest: rxe0 setup failed"
  local state="" nap
  exec {nap}<> <(:)   # read -t on this fd sleeps without forking (forks are slow under TCG)
  for ((i = 0; i < 50; i++)); do
    read -r state < /sys/class/infiniband/rxe0/ports/1/state 2>/dev/null
    [[ $state == *ACTIVE* ]] && break; read -rt 0.1 -u "$nap"
  done
  read -r up _ < /proc/uptime
  echo "$up $state" > /run/vm/ready
  echo "rdma-vm guest: $VM_NAME ready at ${up}s (rxe0: $state)"
  ulimit -l unlimited
  export PATH=$VM_PATH SWIFTMPI_RDMA_VM=1 VM_NAME VM_IP
  bash /run/vm/cmd.sh < /dev/null > /run/vm/out.log 2>&1
  echo $? > /run/vm/rc.tmp && mv /run/vm/rc.tmp /run/vm/rc
  sync
  for ((i = ${#VM_SHARES[@]} - 1; i >= 0; i--)); do umount "${VM_SHARES[i]#*:*:}"; done
  echo o > /proc/sysrq-trigger; sleep 10
}

# ---------------------------------------------------------------- host: booting VMs
# write_ctl DIR NAME IP CMD... : the control share of one VM (script, environment, command)
write_ctl() {
  local dir=$1 name=$2 ip=$3 d n=0 v path shares=(); shift 3
  mkdir -p "$dir" && cp "$SELF" "$dir/rdma-vm.sh" && : > "$dir/out.log"
  for d in "${SHARE_DIRS[@]}"; do
    n=$((n + 1)); shares+=("s$n:${SHARE_CACHE[n-1]}:$d")
  done
  path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  for d in ${PATH//:/ } /opt/swift/usr/bin; do [[ :$path: == *:$d:* ]] || path+=:$d; done
  {
    printf 'VM_NAME=%q VM_IP=%q VM_PATH=%q\n' "$name" "$ip" "$path"
    declare -p shares | sed 's/^declare -a shares=/VM_SHARES=/'
    for v in ${!SWIFTMPI_@}; do printf 'export %s=%q\n' "$v" "${!v}"; done
  } > "$dir/vm.env"
  { printf 'cd %q || exit 126\nexec' "$PWD"; printf ' %q' "$@"; echo; } > "$dir/cmd.sh"
}

# boot_vm CTLDIR NETDEV MAC : starts qemu (under timeout) in the background; sets BOOT_PID
boot_vm() {
  local ctl=$1 net=$2 mac=$3 n=0 d virtfs=() cpu
  for d in "${SHARE_DIRS[@]}"; do
    n=$((n + 1)); virtfs+=(-virtfs "local,path=$d,mount_tag=s$n,security_model=none,id=s$n")
  done
  # shellcheck disable=SC2054  # (the commas belong to qemu's option syntax)
  if [ "$ACCEL" = kvm ]; then cpu=(-accel kvm -cpu host); else cpu=(-accel tcg,thread=multi -cpu max); fi
  # If this script dies (even by SIGKILL), timeout gets SIGTERM and passes it on; if timeout dies, qemu
  # gets SIGKILL: no VM outlives the run.
  setpriv --pdeathsig TERM timeout -k 5 "$TMO" setpriv --pdeathsig KILL qemu-system-x86_64 "${cpu[@]}" -smp "$CPUS" -m "$MEM" \
    -nodefaults -no-user-config -display none -no-reboot -monitor none -serial "file:$ctl/console.log" \
    -kernel "$STATE/vmlinuz" -initrd "$INITRD" -append "console=ttyS0 net.ifnames=0 panic=-1 quiet loglevel=4" \
    -virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap,id=hostroot" \
    -virtfs "local,path=$ctl,mount_tag=ctl,security_model=none,id=ctl" "${virtfs[@]}" \
    -netdev "$net,id=n0" -device "virtio-net-pci,netdev=n0,mac=$mac" < /dev/null > "$ctl/qemu.log" 2>&1 &
  BOOT_PID=$!
}

# vm_status CTLDIR QEMU_STATUS : the guest command's status, or 124 (timeout) / 125 (VM failure)
vm_status() {
  local ctl=$1 q=$2 rc
  if [ -s "$ctl/rc" ]; then read -r rc < "$ctl/rc"; echo "$rc"; return; fi
  if [ "$q" = 124 ] || [ "$q" = 137 ]; then echo 124; else echo 125; fi
}

vm_report() {  # vm_report CTLDIR NAME STATUS START
  local ready="?"
  [ -s "$1/ready" ] && read -r ready _ < "$1/ready"
  log "$2: exit status $3; guest ready at ${ready}s uptime; $(since "$4")s wall"
  if [ ! -s "$1/rc" ]; then
    log "$2: the command did not finish; qemu and serial console:"
    cat "$1/qemu.log" >&2; tr -d '\r' < "$1/console.log" | tail -n 40 >&2
  fi
}

# Common options: -p CPUS -t SECS -v DIR; sets CPUS TMO SHARE_DIRS SHARE_CACHE and leaves the rest in ARGS
parse_opts() {
  CPUS=$1; TMO=600; SHARE_DIRS=(); SHARE_CACHE=(); local d
  shift
  while [ $# -gt 0 ]; do
    case $1 in
      -p) CPUS=$2; shift 2;;
      -t) TMO=$2; shift 2;;
      -v) d=$(cd "$2" && pwd) || exit 2; SHARE_DIRS+=("$d"); SHARE_CACHE+=(mmap); shift 2;;
      --) shift; break;;
      *) echo "rdma-vm: unknown option $1 (see the header of $SELF)" >&2; exit 2;;
    esac
  done
  [ $# -gt 0 ] || { sed -n '2,/^set -euo/p' "$SELF" | sed '$d' >&2; exit 2; }
  [ "$PWD" = / ] || SHARE_DIRS=("$PWD" "${SHARE_DIRS[@]}") SHARE_CACHE=(mmap "${SHARE_CACHE[@]}")
  ARGS=("$@")
  ACCEL=${SWIFTMPI_RDMA_VM_ACCEL:-tcg}
  if [ -z "${SWIFTMPI_RDMA_VM_ACCEL:-}" ] && [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo && [ ! -d /sys/module/kvm_pvm ]; then
    ACCEL=kvm
  fi
  check || exit 125
  RUN=$(mktemp -d "${TMPDIR:-/tmp}/swiftmpi-rdma-vm-run.XXXXXX")
  PIDS=() WATCHER="" ENDED=""
  trap cleanup EXIT
  trap 'ENDED=interrupted; exit 130' INT
  trap 'ENDED=terminated; exit 143' TERM HUP
  if [ "$(initramfs_init)" != "$(cat "$STATE/initramfs.init" 2>/dev/null)" ]; then
    build_initramfs "$RUN"   # this script changed since `prepare`: a private, up-to-date one
    INITRD=$RUN/initrd.img
  fi
  if [ -n "${SWIFTMPI_RDMA_VM_OWNER:-}" ]; then
    # shellcheck source=owner-guard.sh
    . "$(dirname "$SELF")/owner-guard.sh"
    local start
    start=$(process_start_time "$SWIFTMPI_RDMA_VM_OWNER") || { log "owner $SWIFTMPI_RDMA_VM_OWNER is gone"; exit 143; }
    (wait_for_owner "$SWIFTMPI_RDMA_VM_OWNER" "$start"; log "owner $SWIFTMPI_RDMA_VM_OWNER has exited"; kill -TERM $$) &
    WATCHER=$!
  fi
}

# On any exit: stop the VMs that still run and wait for them, then drop the run directory unless it
# is to be kept (SWIFTMPI_RDMA_VM_KEEP; see the header).
cleanup() {
  local p keep=${SWIFTMPI_RDMA_VM_KEEP:-}
  for p in "${PIDS[@]}" $WATCHER; do kill -TERM "$p" 2>/dev/null || true; done
  wait || true
  if [ -n "$ENDED" ] && [ -d "$RUN" ]; then
    if [ "$keep" = 0 ]; then rm -rf "$RUN"; log "$ENDED; VMs stopped"; else log "$ENDED; VMs stopped; run directory kept: $RUN"; fi
  fi
}

finish() {  # finish STATUS : drop the run directory unless asked to keep it or something failed at VM level
  local keep=${SWIFTMPI_RDMA_VM_KEEP:-}
  if [ "$keep" = 1 ] || { [ "$keep" != 0 ] && [ "$1" -ge 124 ]; }; then log "run directory kept: $RUN"; else rm -rf "$RUN"; fi
  exit "$1"
}

run_one() {
  parse_opts 2 "$@"
  local t q=0 rc
  write_ctl "$RUN/a" vma 169.254.77.1 "${ARGS[@]}"
  t=$(now)
  boot_vm "$RUN/a" "hubport,hubid=0" 52:54:00:77:00:01   # a NIC on a hub with no other port
  PIDS=("$BOOT_PID")
  tail -n +1 -F --pid="$BOOT_PID" "$RUN/a/out.log" 2> /dev/null &
  wait "$BOOT_PID" || q=$?
  wait $! || true
  rc=$(vm_status "$RUN/a" "$q")
  vm_report "$RUN/a" vma "$rc" "$t"
  finish "$rc"
}

# The pair's link. qemu's UDP form (`-netdev socket,udp=`) drops whatever its receive buffer cannot
# hold: an RDMA READ's burst of responses overflowed it, the host dropped up to half the packets
# (RcvbufErrors in /proc/net/snmp, even with 16 MiB buffers), and rxe spent the run retransmitting
# (go-back-N) — slow, and into rxe's rarer recovery paths (a stuck job, a bogus zero-byte receive).
# RoCE assumes a lossless fabric, so the link is a Unix stream socket (`-netdev stream`, qemu >= 7.2):
# lossless, with back-pressure into the sending guest, and no Nagle delay (NOTES.md's TCP problem).
# LINK_A/LINK_B: the two netdev specifications; a listens, b connects once a's socket exists.
choose_link() {
  local socket=$RUN/link.sock
  local backends
  backends=$(qemu-system-x86_64 -netdev help 2> /dev/null || true)
  if grep -qx stream <<< "$backends"; then
    LINK_A="stream,server=on,addr.type=unix,addr.path=$socket"
    LINK_B="stream,server=off,addr.type=unix,addr.path=$socket"
    return
  fi
  local i p
  for i in $(seq 20); do  # a free pair of UDP ports on 127.0.0.1: a listens on p, b on p+1
    p=$((20000 + RANDOM % 20000 * 2))
    ss -Hlun | awk '{ print $4 }' | grep -qE ":($p|$((p + 1)))$" || break
  done
  echo "rdma-vm: this qemu has no -netdev stream; the VMs' link is UDP, which drops packets under load" >&2
  LINK_A="socket,udp=127.0.0.1:$((p + 1)),localaddr=127.0.0.1:$p"
  LINK_B="socket,udp=127.0.0.1:$p,localaddr=127.0.0.1:$((p + 1))"
}

udp_drops() { awk '/^Udp:/ && $6 ~ /^[0-9]+$/ { print $6; exit }' /proc/net/snmp; }  # RcvbufErrors

# The pair's link can stall inside qemu: rarely (once in ~30 CI runs), one VM's virtio NIC stops
# completing transmissions for good and its kernel logs "NETDEV WATCHDOG: ... transmit queue 0 timed
# out N ms" every 5 s while both commands hang until the timeout. That is the emulator (qemu 7.2's
# stream netdev), not the commands: a user-space program cannot stop a NIC's TX ring. watch_link
# kills the pair once a guest reports a TX stall of STALL_MS (30 s), and run_pair then boots a fresh
# pair once more, saying so loudly; a second stall fails the run.
STALL_MS=30000
watch_link() {  # watch_link PID... : in the background; writes $RUN/stalled and stops the VMs on a stall
  local f ms
  while sleep 2 && kill -0 $$ 2> /dev/null; do   # ($$: this script; the loop ends with it)
    for f in "$RUN/a/console.log" "$RUN/b/console.log"; do
      ms=$(tr -d '\r' < "$f" 2> /dev/null | sed -n 's/.*NETDEV WATCHDOG:.*timed out \([0-9]*\) ms.*/\1/p' | tail -n 1)
      if [ -n "$ms" ] && [ "$ms" -ge "$STALL_MS" ]; then
        echo "$(basename "$(dirname "$f")" | sed 's/^/vm/'): eth0 sent nothing for ${ms} ms" > "$RUN/stalled"
        kill -TERM "$@" 2> /dev/null || true
        return
      fi
    done
  done
}

# pair_once : boots vma and vmb on a fresh link, waits for both; sets RA and RB (their statuses)
pair_once() {
  local i qa=0 qb=0 t drops watcher
  rm -rf "$RUN/agent" "$RUN/link.sock" "$RUN/stalled" "$RUN/a" "$RUN/b"
  mkdir -p "$RUN/agent"
  write_ctl "$RUN/a" vma 169.254.77.1 "${A_CMD[@]}"
  write_ctl "$RUN/b" vmb 169.254.77.2 "${B_CMD[@]}"
  choose_link
  drops=$(udp_drops)
  t=$(now)
  boot_vm "$RUN/a" "$LINK_A" 52:54:00:77:00:01; PIDS=("$BOOT_PID")
  if [[ $LINK_A == stream,* ]]; then  # b connects to a's socket: wait until a's qemu listens
    for i in $(seq 100); do [ -S "$RUN/link.sock" ] && break; sleep 0.1; done
  fi
  boot_vm "$RUN/b" "$LINK_B" 52:54:00:77:00:02; PIDS+=("$BOOT_PID")
  watch_link "${PIDS[@]}" &
  watcher=$!
  PIDS+=("$watcher")
  wait "${PIDS[0]}" || qa=$?
  wait "${PIDS[1]}" || qb=$?
  kill "$watcher" 2> /dev/null || true
  wait "$watcher" 2> /dev/null || true
  RA=$(vm_status "$RUN/a" "$qa"); RB=$(vm_status "$RUN/b" "$qb")
  echo "===== vma: ${A_CMD[*]} (exit $RA)"; cat "$RUN/a/out.log"
  echo "===== vmb: ${B_CMD[*]} (exit $RB)"; cat "$RUN/b/out.log"
  vm_report "$RUN/a" vma "$RA" "$t"; vm_report "$RUN/b" vmb "$RB" "$t"
  if [[ $LINK_A == socket,udp=* ]]; then
    echo "rdma-vm: UDP datagrams the host dropped for want of receive buffer during the run (all sockets): $(( $(udp_drops) - drops ))"
  fi
}

run_pair() {
  local i attempt
  parse_opts "$(( $(nproc) > 3 ? $(nproc) / 2 : 1 ))" "$@"   # 4 vCPUs on 2 cores is much slower than 2
  A_CMD=() B_CMD=()
  for ((i = 0; i < ${#ARGS[@]}; i++)); do [ "${ARGS[i]}" = -- ] && break; A_CMD+=("${ARGS[i]}"); done
  B_CMD=("${ARGS[@]:i+1}")
  if [ ${#A_CMD[@]} = 0 ] || [ ${#B_CMD[@]} = 0 ]; then echo "rdma-vm: usage: pair [options] -- CMD_A... -- CMD_B..." >&2; exit 2; fi
  SHARE_DIRS+=("$RUN/agent"); SHARE_CACHE+=(none)   # cache=none: files written by the other VM show up at once
  export SWIFTMPI_VM_AGENT_DIR=$RUN/agent
  for attempt in 1 2; do
    pair_once
    [ -s "$RUN/stalled" ] || break
    log "the VMs' link stalled inside qemu ($(cat "$RUN/stalled"); the guest kernel's NETDEV WATCHDOG), so both VMs were stopped: an emulator fault, not the commands'"
    if [ "$attempt" = 2 ]; then log "it stalled again on the second pair: failing"; finish 125; fi
    log "booting a fresh pair (attempt 2 of 2)"
  done
  [ "$RA" = 0 ] && [ "$RB" = 0 ] && finish 0
  finish "$((RA > RB ? RA : RB))"
}

case ${1:-} in
  prepare) prepare;;
  check) check;;
  run) shift; run_one "$@";;
  pair) shift; run_pair "$@";;
  guest) guest;;
  *) sed -n '2,/^set -euo/p' "$SELF" | sed '$d' >&2; exit 2;;
esac
