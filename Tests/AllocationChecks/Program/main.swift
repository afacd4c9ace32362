// swiftmpi-alloc-check: counts heap allocations around 10 000 blocking send/recv pairs of 8 bytes
// between ranks 0 and 1 (after a warm-up) and prints the count; the test suite asserts it.
import CMallocCounter
import SwiftMPI

let world = try MPI.initialize()
let iterations = 10_000
let peer = 1 - world.rank
func pingPong(_ count: Int, _ message: [Double], _ incoming: inout [Double]) throws {
    for _ in 0..<count {
        if world.rank == 0 {
            try world.send(message, to: peer, tag: 1)
            try world.recv(into: &incoming, from: peer, tag: 1)
        } else {
            try world.recv(into: &incoming, from: peer, tag: 1)
            try world.send(message, to: peer, tag: 1)
        }
    }
}

if world.rank < 2 {
    let message: [Double] = [3.25]
    var incoming: [Double] = [0]
    try pingPong(1_000, message, &incoming)  // warm-up: pools and queues reach their steady size
    let before = malloc_counter_allocations()
    try pingPong(iterations, message, &incoming)
    let after = malloc_counter_allocations()
    precondition(incoming == [3.25])
    print("rank \(world.rank): \(after - before) allocations in \(iterations) send/recv pairs of 8 bytes")
}
try MPI.finalize()
