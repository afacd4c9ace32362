#!/usr/bin/env bash
# fuzz.sh -- the long fuzzing run: every fuzz target (Tests/SwiftMPITests/FuzzTests.swift) with
# 1 000 000 generated inputs each (ITERATIONS=N to change), optionally under AddressSanitizer
# (SANITIZE=address), with a fresh seed each run (SEED=N to repeat one).
#
#     Tests/Scripts/fuzz.sh                      # ~1M inputs per target, new seed
#     SEED=42 ITERATIONS=200000 Tests/Scripts/fuzz.sh
#     SANITIZE=address Tests/Scripts/fuzz.sh     # slower; separate build directory
#     RELEASE=1 FILTER=launcherFlags ITERATIONS=4000000 Tests/Scripts/fuzz.sh
#                                                # optimized build (-enable-testing): launcher flags
#                                                # cost ~0.3 ms per parse instead of ~3 ms, and that
#                                                # target takes a quarter of ITERATIONS
#
# A trap saves the failing input to .build/fuzz-artifacts/<target>-crash; once the bug is fixed,
# copy it into Tests/FuzzCorpus/<target>/ so every later test run replays it.
set -euo pipefail
cd "$(dirname "$0")/../.."
iterations=${ITERATIONS:-1000000}
seed=${SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
build=()
[[ -n "${SANITIZE:-}" ]] && build=(--sanitize="$SANITIZE" --scratch-path ".build-$SANITIZE")
[[ -n "${RELEASE:-}" ]] && build+=(-c release -Xswiftc -enable-testing --scratch-path ".build-fuzz-release")
echo "fuzz.sh: $iterations inputs per target, seed $seed${SANITIZE:+, sanitizer $SANITIZE}"
start=$(date +%s)
SWIFTMPI_FUZZ_ITERATIONS=$iterations SWIFTMPI_FUZZ_SEED=$seed \
  swift test "${build[@]}" --filter "FuzzTests${FILTER:+/$FILTER}" 2>&1 | grep -E "^fuzz |✔|✘|error|passed|failed"
echo "fuzz.sh: done in $(( $(date +%s) - start )) s (seed $seed)"
