#!/usr/bin/env bash
# libfuzzer.sh -- libFuzzer over the parsers of outside bytes (Tests/LibFuzzer/FuzzTargets.swift: key-value
# requests and responses, daemon link frames and launch specs, the launch environment, packets a peer
# hands the engine, Slurm's process mapping, verbs addresses, the authentication handshake over a
# socket pair, swiftmpirun's command line, --host lists and hostfiles, Slurm's per-node task counts,
# and derived datatypes built from random parameters, checked against a naive model),
# built with -sanitize=fuzzer,address.
# Each target starts from its seeds and Tests/FuzzCorpus/<target>/ and runs RUNS inputs.
#
#     Tests/Scripts/libfuzzer.sh                 # 1 000 000 inputs per target
#     Tests/Scripts/libfuzzer.sh 20000 kv-request engine-packets
#
# A crash stops its target and is saved as .build/fuzz-artifacts/<target>-crash-<sha1>; once the bug
# is fixed, copy it into Tests/FuzzCorpus/<target>/, which every test run replays.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-1000000}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(kv-request kv-response link-frame environment engine-packets pmi2-mapping verbs-address handshake launcher-flags hosts slurm-counts datatypes)
swift build --product swiftmpi-fuzz >/dev/null    # the plain build writes the seeds
swift build -c release --product swiftmpi-fuzz --scratch-path .build/libfuzzer \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -DSWIFTMPI_LIBFUZZER -Xswiftc -enable-testing >/dev/null
fuzzer=.build/libfuzzer/release/swiftmpi-fuzz
mkdir -p .build/fuzz-artifacts
failed=0
for target in "${targets[@]}"; do
  work=.build/libfuzzer-corpus/$target
  rm -rf "$work" && mkdir -p "$work" "Tests/FuzzCorpus/$target"
  .build/debug/swiftmpi-fuzz --seeds "$target" "$work"
  log=.build/fuzz-artifacts/$target.log
  if SWIFT_BACKTRACE=enable=no SWIFTMPI_FUZZ_TARGET=$target "$fuzzer" -runs="$runs" -print_final_stats=1 \
       -artifact_prefix=".build/fuzz-artifacts/$target-" "$work" "Tests/FuzzCorpus/$target" > "$log" 2>&1; then
    executed=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
    seconds=$(grep -o 'Done [0-9]* runs in [0-9]* second' "$log" | grep -o 'in [0-9]*' | grep -o '[0-9]*')
    features=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*')
    echo "libfuzzer $target: $executed inputs in ${seconds}s, $features coverage features, no failure"
  else
    echo "libfuzzer $target: FAILED, see $log and .build/fuzz-artifacts/$target-*"
    grep -E "ERROR|SUMMARY|Fatal error" "$log" | head -5
    failed=1
  fi
done
exit $failed
