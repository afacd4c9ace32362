#!/usr/bin/env bash
# Proves that another Swift package can depend on SwiftMPI by path and run a job with it:
# it creates a throwaway package outside the checkout, builds it, and runs it under swiftmpirun.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/consumer/Sources/consumer"
cat > "$work/consumer/Package.swift" <<SWIFT
// swift-tools-version:6.0
import PackageDescription
let package = Package(
    name: "consumer",
    dependencies: [.package(name: "SwiftMPI", path: "$root")],
    targets: [.executableTarget(name: "consumer", dependencies: [.product(name: "SwiftMPI", package: "SwiftMPI")])]
)
SWIFT
cat > "$work/consumer/Sources/consumer/main.swift" <<'SWIFT'
import SwiftMPI
let world = try MPI.initialize()
let total = try world.allreduce([world.rank + 1], op: .sum)[0]
print("consumer rank \(world.rank) of \(world.size), sum \(total)")
try MPI.finalize()
SWIFT
swift build --package-path "$work/consumer" 2>&1 | tail -1
output=$("$root/.build/debug/swiftmpirun" -n 2 "$work/consumer/.build/debug/consumer" | sort)
expected=$'consumer rank 0 of 2, sum 3\nconsumer rank 1 of 2, sum 3'
if [ "$output" != "$expected" ]; then
  echo "consumer package: unexpected output: $output" >&2
  exit 1
fi
echo "consumer package: built against SwiftMPI by path and ran 2 ranks"
