// swiftmpi-p2p-check: point-to-point semantics checks, run as real jobs by the test suite.
//
//     swiftmpirun -n 2 swiftmpi-p2p-check <scenario>...
// Each scenario checks MPI's rules between the job's ranks and prints "passed <scenario>" on rank 0;
// any violation prints "CHECK FAILED ..." and exits 1, which ends the job.
#if canImport(Glibc)
import Glibc
#endif
import SwiftMPI

let world = try MPI.initialize(threadLevel: CommandLine.arguments.contains("multiple") ? .multiple : .single)
currentRank = world.rank
let names = CommandLine.arguments.dropFirst().filter { $0 != "multiple" }
for name in names {
    guard let scenario = scenarios[name] else {
        require(false, "unknown scenario \(name); known: \(scenarios.keys.sorted().joined(separator: ", "))")
        fatalError()
    }
    try scenario(world)
    try world.barrierForTests()
    if world.rank == 0 { print("passed \(name)") }
}
try MPI.finalize()
