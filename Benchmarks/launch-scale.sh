#!/usr/bin/env bash
# launch-scale.sh -- how long a job takes to start, wire up and end as it grows (issue #25): a hello
# (init, one line per rank, finalize) at several rank counts on this host, SwiftMPI beside MPICH and
# Open MPI, and across simulated hosts (network namespaces, 2 ranks each) for SwiftMPI.
#
# How:
#     Benchmarks/launch-scale.sh                          # 2..256 ranks, 2..32 hosts
#     RANKS="2 64" HOSTS="" RUNS=3 Benchmarks/launch-scale.sh
# Settings: RANKS (default "2 8 32 64 128 256"), HOSTS (simulated host counts, default "2 8 32"; needs
# root and ip(8); "" skips), FANOUTS (daemon starts across hosts, SWIFTMPI_LAUNCH_FANOUT: default "0 4",
# flat and a tree of fanout 4), RUNS (hyperfine runs per cell, default 5; 2 beyond 64 ranks for the peers,
# whose launches take tens of seconds), LIBS ("swiftmpi mpich openmpi", those installed), SWIFT_BIN
# (default .build/release).
# Output: two Markdown tables on stdout (median seconds of the runs, min..max).
# Decisions: every library oversubscribes the same way (no binding beyond the cores); simulated
# hosts are Tests/Scripts/netns-hosts.sh's, started with `ip netns exec` as the launch agent —
# SwiftMPI's directly, MPICH's Hydra and Open MPI's ORTE through Benchmarks/netns-agent.sh as their
# ssh (hosts given as addresses, which the agent maps to namespaces). The simulated hosts share one
# hostname and /dev/shm, which confuses Open MPI's shared-memory BTL (vader), so Open MPI runs with
# btl self,tcp there; a hello does not communicate, so the launch is what is measured.
set -euo pipefail
cd "$(dirname "$0")/.."
RANKS=${RANKS-"2 8 32 64 128 256"}
HOSTS=${HOSTS-"2 8 32"}
FANOUTS=${FANOUTS-"0 4"}
RUNS=${RUNS:-5}
SWIFT_BIN=${SWIFT_BIN:-.build/release}
LIBS=${LIBS:-"swiftmpi mpich openmpi"}
REF=.build/reference
mkdir -p "$REF"
command -v hyperfine > /dev/null || { echo "launch-scale.sh: needs hyperfine (apt-get install hyperfine)" >&2; exit 1; }
[[ -x $SWIFT_BIN/swiftmpirun && -x $SWIFT_BIN/swiftmpi-hello ]] || { echo "launch-scale.sh: build first: swift build -c release" >&2; exit 1; }
command -v mpicc.mpich > /dev/null && mpicc.mpich -O2 -o "$REF/hello.mpich" Benchmarks/Reference/hello.c
command -v mpicc.openmpi > /dev/null && mpicc.openmpi -O2 -o "$REF/hello.openmpi" Benchmarks/Reference/hello.c

median() { # hyperfine JSON -> "median (min..max)"
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print("%.3f (%.3f..%.3f)" % (r["median"], r["min"], r["max"]))' "$1"
}

command_for() { # library ranks
    case $1 in
    swiftmpi) echo "$SWIFT_BIN/swiftmpirun --oversubscribe -n $2 $SWIFT_BIN/swiftmpi-hello" ;;
    mpich) [[ -x $REF/hello.mpich ]] && echo "mpirun.mpich -n $2 $REF/hello.mpich" ;;
    openmpi) [[ -x $REF/hello.openmpi ]] && echo "mpirun.openmpi --allow-run-as-root --oversubscribe --bind-to none -n $2 $REF/hello.openmpi" ;;
    esac
}

echo "| ranks on one host | $(for lib in $LIBS; do printf '%s (s) | ' "$lib"; done)"
echo "|---:|$(for _ in $LIBS; do printf -- '---:|'; done)"
for ranks in $RANKS; do
    row="| $ranks |"
    for lib in $LIBS; do
        command=$(command_for "$lib" "$ranks" || true)
        if [[ -z $command ]]; then row+=" — |"; continue; fi
        runs=$RUNS
        [[ $lib != swiftmpi && $ranks -gt 64 ]] && runs=2
        hyperfine -N --warmup 1 --runs "$runs" --export-json "$REF/launch.json" "$command" > /dev/null 2> "$REF/launch.err" \
            && row+=" $(median "$REF/launch.json") |" || row+=" failed |"
    done
    echo "$row"
done

if [[ -n $HOSTS ]]; then
    if [[ $(id -u) != 0 ]]; then echo "launch-scale.sh: simulated hosts need root; skipping them" >&2; exit 0; fi
    agent=$PWD/Benchmarks/netns-agent.sh
    export NETNS_AGENT_TMPDIR=$PWD/$REF/netns-tmp
    peers=()
    for lib in $LIBS; do [[ $lib != swiftmpi && -n $(command_for "$lib" 2 || true) ]] && peers+=("$lib"); done
    echo
    echo "| simulated hosts × 2 ranks | $(for fanout in $FANOUTS; do [[ $fanout == 0 ]] && printf 'swiftmpi, flat start (s) | ' || printf 'swiftmpi, tree of %s (s) | ' "$fanout"; done)$(for lib in "${peers[@]}"; do printf '%s (s) | ' "$lib"; done)"
    echo "|---:|$(for _ in $FANOUTS "${peers[@]}"; do printf -- '---:|'; done)"
    for hosts in $HOSTS; do
        export SWIFTMPI_NETNS_PREFIX=swmls
        bash Tests/Scripts/netns-hosts.sh up "$hosts" > /dev/null 2>&1
        list=$(seq -s, -f "swmls%g:2" 1 "$hosts")
        command="ip netns exec swmls1 $SWIFT_BIN/swiftmpirun --launch-agent 'ip netns exec %h' --host $list $SWIFT_BIN/swiftmpi-hello"
        row="| $hosts |"
        for fanout in $FANOUTS; do
            SWIFTMPI_LAUNCH_FANOUT=$fanout hyperfine --warmup 1 --runs "$RUNS" --export-json "$REF/launch.json" "$command" > /dev/null 2> "$REF/launch.err" \
                && row+=" $(median "$REF/launch.json") |" || row+=" failed |"
        done
        addresses=$(seq -s, -f "10.77.0.%g" 1 "$hosts")
        for lib in "${peers[@]}"; do
            case $lib in
            mpich) peer="mpirun.mpich -launcher ssh -launcher-exec $agent -hosts $addresses -ppn 2 -n $((2 * hosts)) $REF/hello.mpich" ;;
            openmpi) peer="mpirun.openmpi --allow-run-as-root --oversubscribe --bind-to none --mca plm_rsh_agent $agent --mca oob_tcp_if_include eth0 \
--mca btl self,tcp --mca btl_tcp_if_include eth0 --host $(seq -s, -f "10.77.0.%g:2" 1 "$hosts") -n $((2 * hosts)) $REF/hello.openmpi" ;;
            esac
            hyperfine --warmup 1 --runs "$RUNS" --export-json "$REF/launch.json" "ip netns exec swmls1 $peer" > /dev/null 2> "$REF/launch.err" \
                && row+=" $(median "$REF/launch.json") |" || row+=" failed |"
        done
        echo "$row"
        bash Tests/Scripts/netns-hosts.sh down > /dev/null 2>&1
    done
fi
