#!/usr/bin/env bash
# sanitizers.sh -- the whole test suite under AddressSanitizer and ThreadSanitizer. Each sanitizer
# builds into its own directory (.build-address, .build-thread), so the ranks the tests launch are
# instrumented too. Prints one summary line per sanitizer; the README records the last run.
#
#     Tests/Scripts/sanitizers.sh               # address, then thread
#     Tests/Scripts/sanitizers.sh address
set -uo pipefail
cd "$(dirname "$0")/../.."
# The Swift runtime's CommandLine.arguments asks malloc_usable_size about argv memory it did not
# malloc (a false positive that aborts every instrumented program at start); leak reports would
# list the runtime's intentionally immortal metadata; and some tests crash a rank with SIGSEGV on
# purpose to check that the job ends with 128+11, which ASan's own SEGV handler would turn into
# exit status 1. Everything else ASan checks stays on.
export ASAN_OPTIONS=${ASAN_OPTIONS:-check_malloc_usable_size=0:detect_leaks=0:handle_segv=0}
# The Swift runtime's crash backtracer reads raw stack memory (tripping ASan) when those ranks crash;
# ASan's quarantine of freed memory raises the soak's resident size, so its flatness check gets room.
export SWIFT_BACKTRACE=${SWIFT_BACKTRACE:-enable=no}
export TSAN_OPTIONS=${TSAN_OPTIONS:-handle_segv=0}
export SWIFTMPI_SOAK_RSS_SLACK_MIB=${SWIFTMPI_SOAK_RSS_SLACK_MIB:-512}
status=0
for sanitizer in "${@:-address thread}"; do
  for each in $sanitizer; do
    log=".build-$each.log"
    start=$(date +%s)
    swift build --build-tests --sanitize="$each" --scratch-path ".build-$each" >"$log" 2>&1 \
      && timeout 3600 swift test --skip-build --sanitize="$each" --scratch-path ".build-$each" >>"$log" 2>&1
    result=$?
    summary=$(grep -E "Test run with .* (passed|failed)" "$log" | tail -1)
    reports=$(grep -cE "ERROR: (AddressSanitizer|ThreadSanitizer)|WARNING: ThreadSanitizer" "$log")
    echo "$each: exit $result, $reports sanitizer reports, $(( $(date +%s) - start )) s: ${summary:-no test summary} (log: $log)"
    [[ $result == 0 && $reports == 0 ]] || status=1
  done
done
exit $status
