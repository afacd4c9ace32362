#!/usr/bin/env bash
# compare.sh -- SwiftMPI side by side with Open MPI and MPICH on this machine (issue #6).
#
# What: the OSU-style micro-benchmarks (latency, bw, bibw, mbw-mr, allreduce, barrier; 2 ranks)
# over two paths -- shared memory, and TCP forced over loopback -- for SwiftMPI (swiftmpi-bench)
# and for each installed peer library (Benchmarks/Reference/osu_style.c, the same benchmarks in C);
# then launch time with hyperfine (`-n 2 /bin/true` and a 2-rank hello: init, one line, finalize).
# Benchmarks/plot.py turns the raw outputs into Markdown tables (median over repetitions, spread,
# ratio SwiftMPI / best peer) and an SVG plot.
#
# How:
#     Benchmarks/compare.sh                 # 5 repetitions, OSU's iteration counts, 0 B .. 4 MiB
#     Benchmarks/compare.sh --quick         # CI smoke run: 2 repetitions, few iterations, <= 64 KiB
#     Benchmarks/compare.sh --placement fast # every run in the fast vCPU placement (see below)
#     Benchmarks/compare.sh --osu           # OSU 7.4's own binaries instead (below)
#     REPS=3 BENCHMARKS="latency bw" PATHS=shm Benchmarks/compare.sh
#     Benchmarks/plot.py Benchmarks/results/<run>      # re-summarize an existing run
# Settings (environment variable, or the flag in brackets):
#     REPS [--reps N]        repetitions (default 5; 2 with --quick)
#     QUICK=1 [--quick]      few iterations, sizes up to 64 KiB
#     OUT [--out DIR]        results directory (default Benchmarks/results/<date>_<time>)
#     BENCHMARKS, PATHS, LIBS   subsets of "latency bw bibw mbw-mr allreduce barrier bcast reduce gather scatter allgather alltoall halo" (halo: a
#                            column of an N×N grid of doubles exchanged with a vector datatype), of the other OSU 7.4
#                            collectives "gatherv scatterv allgatherv alltoallv alltoallw reduce-scatter reduce-scatter-block"
#                            and of the non-blocking ones "ibarrier ibcast iallreduce ireduce igather iscatter iallgather
#                            ialltoall igatherv iscatterv iallgatherv ialltoallv ialltoallw ireduce-scatter ireduce-scatter-block"
#                            (compared by OSU's "Overall" column: the call, computation as long as the call alone, the wait),
#                            and, with --osu,
#                            the one-sided "put-latency get-latency put-bw get-bw put-bibw acc-latency fop-latency cas-latency"
#                            (OSU's osu_put_latency ... with its defaults: MPI_Win_allocate, MPI_Win_flush),
#                            and, without --osu, MPI-IO's "io-write io-read" (every rank SIZE bytes of one file:
#                            swiftmpi-bench against Benchmarks/Reference/io_style.c; BENCH_ARGS chooses the
#                            pattern, e.g. "-p strided -c -d /dev/shm -m 1048576:67108864"; PATHS=shm),
#                            "shm tcp", "swiftmpi openmpi mpich"
#     RANKS                  ranks per run (default 2; the point-to-point benchmarks need 2; beyond the
#                            cores, runs are not bound and Open MPI and SwiftMPI oversubscribe)
#     BENCH_ARGS             extra options for every benchmark run, e.g. "-i 100 -x 10", or
#                            "-D vect:8:4" (derived datatypes, OSU 7.4's -D; latency, bw, bibw, mbw-mr)
#     LAUNCH=0 [--no-launch] skip the hyperfine launch-time comparison
#     PLACEMENT [--placement P]  match (default), fast, slow, or any (default with --quick): the vCPU
#                            placement benchmark runs are made in (Decisions, below)
#     PLACEMENT_WAIT         seconds to wait for a placement before a run goes ahead anyway (120)
#     TIMEOUT                seconds allowed per benchmark run (default 900)
#     SWIFT_BIN              where swiftmpirun, swiftmpi-bench, swiftmpi-hello are (default .build/release)
#     OSU=1 [--osu]          the benchmarks are OSU Micro-Benchmarks 7.4's own programs (Benchmarks/osu-build.sh
#                            builds the pinned tarball): built once with mpicc.mpich and run on MPICH's library
#                            and, unchanged, on SwiftMPI's C interface (libmpich.so.12, which swiftmpirun puts
#                            first on the library path) -- the same binary, only the library differs -- and
#                            built with mpicc.openmpi for Open MPI. Not for halo.
# Results: <OUT>/raw/<path>.<benchmark>.<library>.rep<N>.txt (+ .err; a run made again because the
# placement changed during it is kept as rep<N>.discarded<K>.txt), launch/*.json, commands.txt
# (every command run, exactly), runs.tsv (duration, load average, placement probes of each run and
# whether it counts), env.txt, paths.txt
# (evidence of the transport each library chose), summary.md, summary.csv, plot.svg.
#
# Decisions:
# - Interleaved: each repetition runs every (path, benchmark) for all libraries back to back, and the
#   order of the libraries rotates from one repetition to the next (A,B,C then B,C,A ...), so a burst
#   of foreign load or a thermal/frequency drift hits every library alike instead of one library's runs.
# - The median over repetitions is reported, with the spread (min..max); on a shared VM single runs
#   can be several times slower (see /work/shared/anchors-bench/SUMMARY.md, "Noise").
# - Every library runs with 2 ranks bound to separate cores, and each path is asserted, not assumed:
#     shm: SwiftMPI --transport shm (CMA single copy on, its default); Open MPI --mca btl self,vader
#          (its default, with CMA); MPICH's default (Debian's MPICH is ch4:ucx: UCX sysv + cma).
#     tcp: SwiftMPI --transport tcp --tcp-if lo; Open MPI --mca btl self,tcp on lo; MPICH
#          MPIR_CVAR_NOLOCAL=1 with UCX_TLS=tcp,self (UCX_TLS alone would not be enough either way).
#   All runtime traffic stays on lo (OMPI_MCA_oob_tcp_if_include, UCX_NET_DEVICES).
# - Reference programs are rebuilt every run (a second each) into .build/reference/, so they always
#   match Benchmarks/Reference/. The Swift binaries are only built when missing (a release build
#   takes minutes); a warning says when sources are newer than the binaries.
# - Placement: the 2-vCPU VMs switch between a fast and a slow vCPU placement (a cache line passed
#   between the vCPUs in ~0.03 or ~0.16-0.2 us) every few seconds to minutes, and every library's
#   small-message latency and mid-size bandwidth follow it. Benchmarks/Reference/placement_probe.c
#   measures it before and after each run (runs.tsv); plot.py adds the ratio among runs made in the
#   fast placement and among those made in the slow one, beside the overall medians. Left alone,
#   the libraries' medians of a cell can come from different placements (3 slow runs of 5 for one, 2
#   for another: bibw ratios swung 0.65-3.7 between full runs). So by default (match) the first
#   library's run of a benchmark in a repetition sets the placement -- made again until both its
#   probes agree -- and the other libraries' runs wait for that placement and are made again when a
#   probe shows the other one (at most 5 attempts each): in every repetition every library is
#   measured in the same placement, so each library's medians come from the same mixture and the
#   overall ratios compare like with like. --placement fast or slow gates every run to one placement
#   (which can take long: sustained load tends to move the VM into the slow one); --placement any
#   is the old behaviour. After PLACEMENT_WAIT seconds without the wanted placement a run goes ahead
#   anyway, with a warning, and counts only in its placement's column.
# - Any failed run stops everything (set -euo pipefail, the run's stderr is shown): a comparison
#   with silently missing cells is worse than none. A missing peer library is skipped, loudly.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }
die() { echo "compare.sh: error: $*" >&2; exit 1; }
warn() { echo "compare.sh: WARNING: $*" >&2; }

# ------------------------------------------------------------------------------------ settings
QUICK=${QUICK:-0}
REPS=${REPS:-}
OUT=${OUT:-}
LAUNCH=${LAUNCH:-1}
PLACEMENT=${PLACEMENT:-}
PLACEMENT_WAIT=${PLACEMENT_WAIT:-120}
OSU=${OSU:-0}
while (($#)); do
    case $1 in
        --quick) QUICK=1 ;;
        --reps) [[ $# -ge 2 ]] || die "--reps needs a number"; REPS=$2; shift ;;
        --reps=*) REPS=${1#--reps=} ;;
        --out) [[ $# -ge 2 ]] || die "--out needs a directory"; OUT=$2; shift ;;
        --out=*) OUT=${1#--out=} ;;
        --no-launch) LAUNCH=0 ;;
        --osu) OSU=1 ;;
        --placement) [[ $# -ge 2 ]] || die "--placement needs match, fast, slow or any"; PLACEMENT=$2; shift ;;
        --placement=*) PLACEMENT=${1#--placement=} ;;
        -h | --help) usage; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
    shift
done
if [[ $QUICK == 1 ]]; then : "${REPS:=2}" "${PLACEMENT:=any}"; else : "${REPS:=5}" "${PLACEMENT:=match}"; fi
[[ " match fast slow any " == *" $PLACEMENT "* ]] || die "--placement must be match, fast, slow or any, got '$PLACEMENT'"
[[ $PLACEMENT_WAIT =~ ^[0-9]+$ ]] || die "PLACEMENT_WAIT must be a number of seconds, got '$PLACEMENT_WAIT'"
[[ $REPS =~ ^[1-9][0-9]*$ ]] || die "REPS must be a positive integer, got '$REPS'"
[[ ${RANKS:-2} =~ ^[1-9][0-9]*$ ]] || die "RANKS must be a positive integer, got '$RANKS'"
BENCHMARKS=${BENCHMARKS:-latency bw bibw mbw-mr allreduce barrier}
PATHS=${PATHS:-shm tcp}
LIBS=${LIBS:-swiftmpi openmpi mpich}
BENCH_ARGS=${BENCH_ARGS:-}
RANKS=${RANKS:-2}
TIMEOUT=${TIMEOUT:-900}
SWIFT_BIN=${SWIFT_BIN:-$ROOT/.build/release}
OUT=${OUT:-$BENCH_DIR/results/$(date +%Y-%m-%d_%H%M%S)}
REF_BIN=$ROOT/.build/reference

ONE_SIDED=" put-latency get-latency put-bw get-bw put-bibw acc-latency fop-latency cas-latency "
MORE_COLLECTIVES=" gatherv scatterv allgatherv alltoallv alltoallw reduce-scatter reduce-scatter-block "
NONBLOCKING=" ibarrier ibcast iallreduce ireduce igather iscatter iallgather ialltoall igatherv iscatterv iallgatherv ialltoallv ialltoallw"
NONBLOCKING+=" ireduce-scatter ireduce-scatter-block "
for b in $BENCHMARKS; do
    [[ " latency bw bibw mbw-mr allreduce barrier bcast reduce gather scatter allgather alltoall halo io-write io-read$ONE_SIDED$MORE_COLLECTIVES$NONBLOCKING" == *" $b "* ]] \
        || die "unknown benchmark '$b'"
    if [[ $ONE_SIDED == *" $b "* && $OSU != 1 ]]; then
        die "$b: the one-sided benchmarks compare OSU's own binaries (add --osu; swiftmpi-bench $b measures SwiftMPI's Swift API alone)"
    fi
done
for p in $PATHS; do [[ $p == shm || $p == tcp ]] || die "unknown path '$p' (shm or tcp)"; done
if [[ $OSU == 1 && " $BENCHMARKS " == *" halo "* ]]; then die "halo is not an OSU benchmark (drop it, or run without --osu)"; fi
if [[ $OSU == 1 && " $BENCHMARKS " == *" io-"* ]]; then die "io-write and io-read are not OSU benchmarks (run them without --osu)"; fi
for l in $LIBS; do
    [[ " swiftmpi openmpi mpich " == *" $l "* ]] || die "unknown library '$l' (swiftmpi openmpi mpich)"
done

# Per-benchmark options. Full runs use swiftmpi-bench's defaults (OSU's sizes and iteration counts);
# quick runs stop at 64 KiB and use fixed, small counts.
bench_args() {
    local bench=$1
    if [[ $QUICK == 1 ]]; then
        case $bench in
            latency) echo "-m 0:65536 -i 1000 -x 100" ;;
            bw | bibw | mbw-mr) echo "-m 1:65536 -i 20 -x 2" ;;
            allreduce | bcast | reduce | gather | scatter | allgather | alltoall | *v | alltoallw | *reduce-scatter*) echo "-m 0:65536 -i 200 -x 20" ;;
            barrier | ibarrier) echo "-i 200 -x 20" ;;
            i*) echo "-m 1:65536 -i 200 -x 20" ;;
            halo) echo "-m 512 -i 200 -x 20" ;;
            *-latency) echo "-m 1:65536 -i 1000 -x 100" ;;
            *-bw | put-bibw) echo "-m 1:65536 -i 20 -x 2" ;;
            io-*) echo "-m 1048576:8388608 -i 3 -x 1" ;;
        esac
    fi
    echo "$BENCH_ARGS"
}

# ------------------------------------------------------------------------------- environment
# Everything stays on loopback; the VM also has eth0, which UCX and Open MPI's runtime would open.
export OMPI_MCA_oob_tcp_if_include=lo
export UCX_NET_DEVICES=lo
if [[ $EUID -eq 0 ]]; then
    # Open MPI refuses to start as root without both of these (CI runs as root).
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi

command -v python3 > /dev/null || die "python3 is needed for the summary (Benchmarks/plot.py)"
command -v timeout > /dev/null || die "timeout (coreutils) is needed"

# --------------------------------------------------------------------------------- libraries
# SwiftMPI: build the release binaries only when they are missing.
need_swift=()
for product in swiftmpirun swiftmpi-bench swiftmpi-hello; do
    [[ -x $SWIFT_BIN/$product ]] || need_swift+=("$product")
done
if ((${#need_swift[@]})); then
    [[ $SWIFT_BIN == "$ROOT/.build/release" ]] || die "missing in SWIFT_BIN=$SWIFT_BIN: ${need_swift[*]}"
    echo "== building ${need_swift[*]} (swift build -c release --static-swift-stdlib)"
    for product in "${need_swift[@]}"; do
        (cd "$ROOT" && swift build -c release --static-swift-stdlib --product "$product")
    done
fi
stale=$({ find "$ROOT/Sources" "$ROOT/CShims" "$BENCH_DIR/Sources" -newer "$SWIFT_BIN/swiftmpi-bench" -type f
          find "$ROOT/Launcher" "$ROOT/Sources/SwiftMPIWireup" "$ROOT/Sources/SwiftMPITrace" "$ROOT/CShims" -newer "$SWIFT_BIN/swiftmpirun" -type f; } \
    2> /dev/null | head -3 || true)
[[ -z $stale ]] || warn "sources are newer than the release binaries in $SWIFT_BIN (e.g. ${stale//$'\n'/, });" \
    "run 'swift build -c release --static-swift-stdlib' first to measure the current code"

# Peers: build the reference programs with each library's compiler wrapper, or skip the library.
mkdir -p "$REF_BIN"
cc -std=c11 -O2 -Wall -Wextra -pthread -o "$REF_BIN/placement_probe" "$BENCH_DIR/Reference/placement_probe.c" \
    || die "cannot build the placement probe (a C compiler is needed)"
declare -A PEER_NAME=([swiftmpi]="SwiftMPI" [openmpi]="Open MPI" [mpich]="MPICH")
libs=()
for lib in $LIBS; do
    if [[ $lib == swiftmpi ]]; then libs+=(swiftmpi); continue; fi
    if ! command -v "mpicc.$lib" > /dev/null || ! command -v "mpirun.$lib" > /dev/null; then
        warn "SKIPPING ${PEER_NAME[$lib]}: mpicc.$lib or mpirun.$lib not found" \
            "(Debian: apt-get install --no-install-recommends $([[ $lib == openmpi ]] && echo openmpi-bin libopenmpi-dev || echo mpich libmpich-dev))"
        continue
    fi
    echo "== building the reference programs with mpicc.$lib"
    # -Wno-stringop-overflow: GCC 12 mistakes MPICH's MPI_STATUSES_IGNORE for a zero-length array.
    for program in osu_style io_style hello; do
        "mpicc.$lib" -std=c99 -O2 -Wall -Wextra -Wno-stringop-overflow \
            -o "$REF_BIN/${program}_$lib" "$BENCH_DIR/Reference/$program.c"
    done
    libs+=("$lib")
done
if [[ $OSU == 1 ]]; then
    "$BENCH_DIR/osu-build.sh" "$ROOT/.build/peer/osu" mpicc.mpich mpicxx.mpich || die "--osu needs OSU built with mpicc.mpich (see above)"
    if [[ " ${libs[*]} " == *" openmpi "* ]]; then
        "$BENCH_DIR/osu-build.sh" "$ROOT/.build/peer/osu-openmpi" mpicc.openmpi mpicxx.openmpi || die "cannot build OSU with mpicc.openmpi"
    fi
fi
((${#libs[@]} >= 2)) || warn "only ${libs[*]:-nothing} left to run: there is nothing to compare with"
((${#libs[@]} >= 1)) || die "no library to run"

# The launcher prefix of each library on each path (the program and its arguments follow).
launcher() {
    local lib=$1 path=$2
    # RANKS beyond the cores: no binding, and Open MPI and SwiftMPI told to oversubscribe.
    local n=$RANKS swift_bind="--bind-to core" ompi_bind="--bind-to core --map-by core" mpich_bind="-bind-to core"
    if ((RANKS > $(nproc))); then
        swift_bind="--oversubscribe" ompi_bind="--oversubscribe --bind-to none" mpich_bind="-bind-to none"
    fi
    case $lib/$path in
        swiftmpi/shm) echo "$SWIFT_BIN/swiftmpirun -n $n $swift_bind --transport shm" ;;
        swiftmpi/tcp) echo "$SWIFT_BIN/swiftmpirun -n $n $swift_bind --transport tcp --tcp-if lo" ;;
        openmpi/shm) echo "mpirun.openmpi -n $n $ompi_bind --mca pml ob1 --mca btl self,vader" ;;
        openmpi/tcp) echo "mpirun.openmpi -n $n $ompi_bind --mca pml ob1 --mca btl self,tcp --mca btl_tcp_if_include lo" ;;
        mpich/shm) echo "mpirun.mpich -n $n $mpich_bind" ;;
        mpich/tcp) echo "mpirun.mpich -n $n $mpich_bind -genv MPIR_CVAR_NOLOCAL 1 -genv UCX_TLS tcp,self" ;;
    esac
}
program() { # the benchmark (or hello) binary of a library
    local lib=$1 kind=$2
    if [[ $lib == swiftmpi ]]; then
        [[ $kind == bench ]] && echo "$SWIFT_BIN/swiftmpi-bench" || echo "$SWIFT_BIN/swiftmpi-hello"
    else
        [[ $kind == bench ]] && echo "$REF_BIN/osu_style_$lib" || echo "$REF_BIN/hello_$lib"
    fi
}

# bench_command LIB BENCH: the program and first arguments of a benchmark run (an OSU binary with --osu;
# SwiftMPI runs MPICH's build of OSU).
bench_command() {
    local lib=$1 bench=$2
    if [[ $OSU == 1 ]]; then
        local build=$ROOT/.build/peer/osu
        [[ $lib == openmpi ]] && build=$ROOT/.build/peer/osu-openmpi
        case $bench in
            latency | bw | bibw) echo "$build/c/mpi/pt2pt/standard/osu_$bench" ;;
            mbw-mr) echo "$build/c/mpi/pt2pt/standard/osu_mbw_mr" ;;
            *-latency | *-bw | put-bibw) echo "$build/c/mpi/one-sided/osu_${bench//-/_}" ;;
            i*) echo "$build/c/mpi/collective/non_blocking/osu_${bench//-/_}" ;;
            *) echo "$build/c/mpi/collective/blocking/osu_${bench//-/_}" ;;
        esac
    elif [[ $bench == io-* && $lib != swiftmpi ]]; then
        echo "$REF_BIN/io_style_$lib $bench"
    else
        echo "$(program "$lib" bench) $bench"
    fi
}

# ---------------------------------------------------------------------- running, and cleaning up
mkdir -p "$OUT/raw"
CHILD=""
finished=0
cleanup() {
    local status=$?
    if [[ -n $CHILD ]] && kill -0 "$CHILD" 2> /dev/null; then
        # timeout(1) forwards the signal to the job it runs (the launcher, which ends its ranks).
        kill -TERM "$CHILD" 2> /dev/null || true
        wait "$CHILD" 2> /dev/null || true
    fi
    if [[ $finished != 1 ]]; then
        echo "compare.sh: stopped (status $status); partial results are in $OUT" >&2
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# run OUTFILE COMMAND...: one job under a time limit, stdout to OUTFILE, stderr beside it.
# The job runs in the background so that an interrupt reaches the trap at once.
run() {
    local out=$1 err=${1%.txt}.err status=0
    shift
    printf '%q ' "$@" >> "$OUT/commands.txt"
    echo >> "$OUT/commands.txt"
    timeout -k 10 "$TIMEOUT" "$@" > "$out" 2> "$err" < /dev/null &
    CHILD=$!
    wait "$CHILD" || status=$?
    CHILD=""
    if ((status != 0)); then
        echo >&2
        tail -n 30 "$out" "$err" >&2 # swiftmpi-bench reports bad options on stdout
        if ((status == 124)); then die "timed out after ${TIMEOUT}s: $*"; fi
        die "exit status $status: $* (output: $out)"
    fi
    [[ -s $err ]] || rm -f "$err"
}

{
    echo "## date"; date -Is
    echo "## settings"; echo "OSU=$OSU REPS=$REPS RANKS=$RANKS QUICK=$QUICK PLACEMENT=$PLACEMENT BENCHMARKS=\"$BENCHMARKS\" PATHS=\"$PATHS\" LIBS=\"${libs[*]}\" BENCH_ARGS=\"$BENCH_ARGS\""
    echo "## swiftmpi"; git -C "$ROOT" log -1 --format='%H %s' 2> /dev/null || true
    if [[ -n $stale ]]; then echo "## warning"; echo "the Swift binaries are older than the sources (${stale//$'\n'/, })"; fi
    git -C "$ROOT" status --short 2> /dev/null | head -20 || true
    ls -l --time-style=+%FT%T "$SWIFT_BIN/swiftmpirun" "$SWIFT_BIN/swiftmpi-bench"
    "$SWIFT_BIN/swiftmpirun" --info 2>&1 || true
    echo "## uname"; uname -a
    echo "## cpu"; lscpu 2> /dev/null | grep -E '^(Model name|CPU\(s\)|Thread|Core|Socket|NUMA node\(s\)|L2|L3)' || nproc
    echo "## load"; cat /proc/loadavg
    for lib in "${libs[@]}"; do
        case $lib in
            openmpi) echo "## open mpi"; mpirun.openmpi --version 2>&1 | head -1 || true ;;
            mpich) echo "## mpich"; { mpichversion 2>&1 | head -3; ucx_info -v 2>&1 | head -1; } || true ;;
        esac
    done
    echo "## compiler"; cc --version 2>&1 | head -1 || true
} > "$OUT/env.txt" 2>&1

# Evidence of the transport each library uses on each path (one short barrier run each).
echo "== recording the transports each library chose ($OUT/paths.txt)"
for path in $PATHS; do
    for lib in "${libs[@]}"; do
        case $lib in
            swiftmpi) env=(SWIFTMPI_DEBUG=1); grep='SwiftMPI: rank' ; extra=() ;;
            openmpi) env=(); grep='bound to'; extra=(--report-bindings) ;;
            mpich) env=(UCX_LOG_LEVEL=info); grep='ep_cfg'; extra=() ;;
        esac
        read -r -a prefix <<< "$(launcher "$lib" "$path")"
        read -r -a command <<< "$(bench_command "$lib" barrier)"
        run "$OUT/paths.$lib.$path.txt" env "${env[@]}" "${prefix[@]}" "${extra[@]}" "${command[@]}" -i 10 -x 1
        {
            echo "## $lib $path: $(launcher "$lib" "$path")"
            evidence=$(cat "$OUT/paths.$lib.$path".{txt,err} 2> /dev/null | grep -E "$grep" | sed 's/^\[[0-9.]*\] //' || true)
            echo "${evidence:-(no line matching \"$grep\" in the output: check this path by hand)}"
        } >> "$OUT/paths.txt"
        rm -f "$OUT/paths.$lib.$path.txt" "$OUT/paths.$lib.$path.err"
    done
done

# ------------------------------------------------------------------------------- the placement
# placement_of US: fast, slow or unknown for a probe result (plot.py splits at the same 0.1 us).
placement_of() { awk -v p="$1" 'BEGIN { if (p !~ /^[0-9.]+$/) print "unknown"; else print (p < 0.1 ? "fast" : "slow") }'; }
probe() { "$REF_BIN/placement_probe" 2> /dev/null || echo nan; }
# wait_for_placement P: returns 0 once the probe shows placement P, 1 after PLACEMENT_WAIT seconds.
wait_for_placement() {
    local start=$SECONDS
    until [[ $(placement_of "$(probe)") == "$1" ]]; do
        ((SECONDS - start < PLACEMENT_WAIT)) || return 1
        sleep 0.2
    done
}

# -------------------------------------------------------------------------- the benchmark runs
nlibs=${#libs[@]}
printf 'rep\tpath\tbenchmark\tlibrary\tseconds\tload1\tprobe_before_us\tprobe_after_us\tcounts\n' > "$OUT/runs.tsv"
started=$SECONDS
echo "== $REPS repetitions of [$BENCHMARKS] on [$PATHS] for [${libs[*]}] -> $OUT"
for rep in $(seq 1 "$REPS"); do
    # rotate the library order: repetition 1 runs A B C, repetition 2 B C A, ...
    order=()
    for ((k = 0; k < nlibs; k++)); do order+=("${libs[$(((k + rep - 1) % nlibs))]}"); done
    for path in $PATHS; do
        for bench in $BENCHMARKS; do
            read -r -a args <<< "$(bench_args "$bench" | tr '\n' ' ')"
            # the placement this group of runs is made in ("" until the first run sets it: match)
            want=$PLACEMENT
            [[ $PLACEMENT == match ]] && want=""
            for lib in "${order[@]}"; do
                read -r -a prefix <<< "$(launcher "$lib" "$path")"
                out="$OUT/raw/$path.$bench.$lib.rep$rep.txt"
                for attempt in 1 2 3 4 5; do
                    waited=1
                    if [[ -n $want && $want != any ]]; then
                        wait_for_placement "$want" || { waited=0; warn "no $want placement within ${PLACEMENT_WAIT}s: running anyway"; }
                    fi
                    printf '[rep %d/%d] %-3s %-9s %-8s ' "$rep" "$REPS" "$path" "$bench" "$lib"
                    load=$(cut -d' ' -f1 /proc/loadavg)
                    before=$(probe)
                    t0=$EPOCHREALTIME
                    read -r -a command <<< "$(bench_command "$lib" "$bench")"
                    run "$out" "${prefix[@]}" "${command[@]}" "${args[@]}"
                    seconds=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
                    after=$(probe)
                    grep -q '^ *[0-9]' "$out" || die "no result rows in $out"
                    placed_before=$(placement_of "$before") placed_after=$(placement_of "$after")
                    counts=1
                    if [[ $PLACEMENT != any && $waited == 1 && $attempt -lt 5 ]]; then
                        if [[ -n $want ]]; then
                            [[ $placed_before == "$want" && $placed_after == "$want" ]] || counts=0
                        else
                            [[ $placed_before == "$placed_after" && $placed_before != unknown ]] || counts=0
                        fi
                    fi
                    if [[ $counts == 1 && -z $want && $placed_before == "$placed_after" && $placed_before != unknown ]]; then
                        want=$placed_before
                    fi
                    printf '%6ss  (load %s, placement probe %s/%s us)%s\n' "$seconds" "$load" "$before" "$after" \
                        "$([[ $counts == 1 ]] || echo "  the placement changed: again")"
                    printf '%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$rep" "$path" "$bench" "$lib" "$seconds" "$load" "$before" "$after" "$counts" >> "$OUT/runs.tsv"
                    [[ $counts == 1 ]] && break
                    mv "$out" "${out%.txt}.discarded$attempt.txt"
                    if [[ -f ${out%.txt}.err ]]; then mv "${out%.txt}.err" "${out%.txt}.discarded$attempt.err"; fi
                done
            done
        done
    done

    # Launch time: the launcher alone, then a 2-rank hello (wire-up, init, finalize).
    if [[ $LAUNCH == 1 ]]; then
        if ! command -v hyperfine > /dev/null; then
            warn "SKIPPING the launch-time comparison: hyperfine not found (apt-get install hyperfine)"
            LAUNCH=0
            continue
        fi
        mkdir -p "$OUT/launch"
        [[ $QUICK == 1 ]] && runs=(--warmup 1 --runs 5) || runs=(--warmup 3 --runs 20)
        true_cmds=() hello_cmds=()
        for lib in "${order[@]}"; do
            # /bin/true with the launcher's defaults; hello as the benchmarks are launched (shm path)
            case $lib in
                swiftmpi) true_cmds+=(-n "${PEER_NAME[$lib]}" "$SWIFT_BIN/swiftmpirun -n 2 /bin/true") ;;
                *) true_cmds+=(-n "${PEER_NAME[$lib]}" "mpirun.$lib -n 2 /bin/true") ;;
            esac
            hello_cmds+=(-n "${PEER_NAME[$lib]}" "$(launcher "$lib" shm) $(program "$lib" hello)")
        done
        printf '[rep %d/%d] launch time (hyperfine)\n' "$rep" "$REPS"
        run "$OUT/launch/true.rep$rep.txt" hyperfine -N --style basic "${runs[@]}" \
            --export-json "$OUT/launch/true.rep$rep.json" "${true_cmds[@]}"
        run "$OUT/launch/hello.rep$rep.txt" hyperfine -N --style basic "${runs[@]}" \
            --export-json "$OUT/launch/hello.rep$rep.json" "${hello_cmds[@]}"
    fi
done
echo "== measured for $((SECONDS - started)) s"

# ------------------------------------------------------------------------------------ summary
python3 "$BENCH_DIR/plot.py" "$OUT"
finished=1
echo
echo "== results: $OUT"
echo "   summary.md (tables), plot.svg (latency and bandwidth vs size), raw/ (every output), commands.txt"
