#!/usr/bin/env bash
# mpi4py.sh -- mpi4py 4.1.2's own test suite on SwiftMPI's C interface (issue #21): mpi4py's binary
# wheel from PyPI (built for MPICH's ABI) loads SwiftMPI's libmpi.so under swiftmpirun, and the tests
# from mpi4py's source distribution run at each rank count, one process per test module.
#
#   Tests/PeerSuites/mpi4py.sh [RANKS...]     # default 1 2 3 4; exit 1 when a test fails
#   SWIFT_BIN=.build/release Tests/PeerSuites/mpi4py.sh 1
#
# Tests of features SwiftMPI does not have yet are excluded by name, each line of
# Tests/PeerSuites/mpi4py-unsupported.txt naming the feature (docs/C-ABI.md lists them); everything
# else must pass. The wheel and the source distribution are fetched once (pip, from PyPI) into
# .build/peer/mpi4py; exit status 2 when they cannot be (no network, no python3-venv).
# Prints one line per module and rank count, and a summary: tests run, failed, skipped, excluded.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
SWIFT_BIN=${SWIFT_BIN:-.build/debug}
ranks=("$@")
[ ${#ranks[@]} -gt 0 ] || ranks=(1 2 3 4)
[ -x "$SWIFT_BIN/swiftmpirun" ] && [ -e "$SWIFT_BIN/libmpi.so" ] || { echo "mpi4py.sh: $SWIFT_BIN has no swiftmpirun or libmpi.so (swift build first)" >&2; exit 2; }
work=.build/peer/mpi4py
version=4.1.2
if [ ! -x "$work/venv/bin/python" ] || ! "$work/venv/bin/python" -c "import mpi4py" 2> /dev/null; then
  mkdir -p "$work"
  python3 -m venv "$work/venv" || { echo "mpi4py.sh: python3 -m venv failed (apt-get install python3-venv)" >&2; exit 2; }
  "$work/venv/bin/pip" install -q --only-binary :all: "mpi4py==$version" numpy \
    || { echo "mpi4py.sh: pip could not install mpi4py $version's wheel from PyPI" >&2; exit 2; }
fi
if [ ! -f "$work/mpi4py-$version/test/main.py" ]; then
  "$work/venv/bin/pip" download -q --no-binary :all: --no-deps -d "$work" "mpi4py==$version" \
    || { echo "mpi4py.sh: pip could not download mpi4py $version's source distribution" >&2; exit 2; }
  tar -xzf "$work/mpi4py-$version.tar.gz" -C "$work" || exit 2
fi
# The exclusion list without its comments and blank lines (a blank pattern would exclude everything).
excluded=$work/excluded.txt
grep -v -e '^#' -e '^[[:space:]]*$' Tests/PeerSuites/mpi4py-unsupported.txt | sed 's/[[:space:]]*#.*//' > "$excluded"
# Modules whose every test needs a missing feature, or that fail to load without one.
skip_modules='^test_(spawn|dynproc|util_pool)$'

python=$root/$work/venv/bin/python
total_run=0 total_failed=0 total_skipped=0 failed_modules=()
cd "$work/mpi4py-$version/test"
for n in "${ranks[@]}"; do
  for file in test_*.py; do
    module=${file%.py}
    if [[ $module =~ $skip_modules ]]; then continue; fi
    output=$(timeout 300 "$root/$SWIFT_BIN/swiftmpirun" --timeout 280 --oversubscribe -n "$n" "$python" main.py --xfile "$root/$excluded" "$module" 2>&1)
    status=$?
    # unittest's summary of rank 0 (every rank prints one): "Ran N tests", then OK or FAILED (...).
    ran=$(grep -m1 -E '^Ran [0-9]+ test' <<< "$output" | awk '{ print $2 }')
    verdict=$(grep -m1 -E '^(OK|FAILED)' <<< "$output")
    skipped=$(grep -m1 -oE 'skipped=[0-9]+' <<< "$verdict" | cut -d= -f2)
    failures=$(grep -oE "(failures|errors)=[0-9]+" <<< "$verdict" | cut -d= -f2 | awk "{ s += \$1 } END { print s + 0 }")
    total_run=$((total_run + ${ran:-0}))
    total_skipped=$((total_skipped + ${skipped:-0}))
    if [ $status = 0 ] && [[ $verdict == OK* ]]; then
      echo "PASS $n $module: ${ran:-0} tests${skipped:+, $skipped skipped}"
    else
      [ "${failures:-0}" -gt 0 ] || failures=1  # (a crash or a hang leaves no count)
      total_failed=$((total_failed + failures))
      failed_modules+=("$n:$module")
      echo "FAIL $n $module (status $status): ${verdict:-no summary}"
      grep -E '^(ERROR|FAIL):|Error|swiftmpirun:' <<< "$output" | sort | uniq -c | sort -rn | head -12 | sed 's/^/    /'
    fi
  done
done
echo "mpi4py $version on SwiftMPI, ranks ${ranks[*]}: $total_run tests run, $total_failed failed, $total_skipped skipped by mpi4py, $(wc -l < "$root/$excluded") name patterns and $(tr '|' '\n' <<< "$skip_modules" | wc -l) modules excluded (Tests/PeerSuites/mpi4py-unsupported.txt)"
[ $total_failed = 0 ] || { echo "mpi4py.sh: failed: ${failed_modules[*]}" >&2; exit 1; }
