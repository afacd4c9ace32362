// swiftmpi-alloc-check: counts heap allocations (after a warm-up) around 10 000 blocking send/recv
// pairs of 8 bytes between ranks 0 and 1, 100 windows of 64 nonblocking 8-byte messages, and 10 000
// small blocking collectives, and prints the counts; the test suite asserts them.
#if canImport(Glibc)
import Glibc
#endif
import CMallocCounter
import SwiftMPI

let world = try MPI.initialize()
guard malloc_counter_available() != 0 else {
    // Only a sanitizer, which owns malloc, may take counting away; anything else is a broken check.
    let symbols: [String] = ["__asan_init", "__tsan_init", "__msan_init"]
    let sanitizer = symbols.first { dlsym(nil, $0) != nil }  // dlsym(RTLD_DEFAULT, …)
    if let sanitizer {
        if world.rank == 0 { print("allocation counting unavailable: built with a sanitizer (\(sanitizer)), which owns malloc") }
        try MPI.finalize()
        exit(0)
    }
    print("rank \(world.rank): allocation counting is unavailable, and no sanitizer owns malloc: the counter is broken")
    exit(1)
}
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
    let reportsBefore = MPI.waitReportsPublished
    let before = malloc_counter_allocations()
    try pingPong(iterations, message, &incoming)
    let after = malloc_counter_allocations()
    // A wait idle for 0.25 s (a loaded machine) is published for hang reports: its text is one
    // allocation, outside the message path, counted apart.
    let reports = MPI.waitReportsPublished - reportsBefore
    precondition(incoming == [3.25])
    print(
        "rank \(world.rank): \(Int(after - before) - reports) allocations in \(iterations) send/recv pairs of 8 bytes"
            + (reports > 0 ? " (and \(reports) for waits published for hang reports after 0.25 s idle)" : ""))

    // Nonblocking windows, as in osu_bw: requests and operations come from the engine's pools.
    let window = 64
    var requests: [Request] = []
    requests.reserveCapacity(window)
    let outgoing = UnsafeMutableBufferPointer<Double>.allocate(capacity: 1)
    let landing = UnsafeMutableBufferPointer<Double>.allocate(capacity: 1)
    outgoing[0] = 1.5
    func windows(_ count: Int) throws {
        for _ in 0..<count {
            requests.removeAll(keepingCapacity: true)
            for _ in 0..<window {
                requests.append(
                    world.rank == 0
                        ? try world.isend(UnsafeBufferPointer(outgoing), to: peer, tag: 2)
                        : try world.irecv(into: landing, from: peer, tag: 2))
            }
            try Request.waitAll(requests)
            if world.rank == 0 {
                try world.recv(into: landing, from: peer, tag: 3)
            } else {
                try world.send(UnsafeBufferPointer(landing), to: peer, tag: 3)
            }
        }
    }
    try windows(10)
    let beforeWindows = malloc_counter_allocations()
    try windows(100)
    let afterWindows = malloc_counter_allocations()
    precondition(world.rank == 0 || landing[0] == 1.5)
    print("rank \(world.rank): \(afterWindows - beforeWindows) allocations in 100 windows of 64 nonblocking messages")

    // The same windows through the safe forms: isend of an array, receives into arrays that move
    // into their requests and come back from wait(). The engine holds each array's own storage, so
    // nothing is boxed or copied per message.
    let sent: [Double] = [2.5]
    var arrays = (0..<window).map { _ in [Double](repeating: 0, count: 1) }
    var receives: [ReceiveRequest<Double>] = []
    receives.reserveCapacity(window)
    func ownedWindows(_ count: Int) throws {
        for _ in 0..<count {
            if world.rank == 0 {
                requests.removeAll(keepingCapacity: true)
                for _ in 0..<window { requests.append(try world.isend(sent, to: peer, tag: 4)) }
                try Request.waitAll(requests)
                try world.recv(into: landing, from: peer, tag: 5)
            } else {
                for k in 0..<window {
                    var array: [Double] = []
                    swap(&array, &arrays[k])
                    receives.append(try world.irecv(into: consume array, from: peer, tag: 4))
                }
                for k in 0..<window { arrays[k] = try receives[k].wait().0 }
                receives.removeAll(keepingCapacity: true)
                try world.send(UnsafeBufferPointer(landing), to: peer, tag: 5)
            }
        }
    }
    try ownedWindows(10)
    let beforeOwned = malloc_counter_allocations()
    try ownedWindows(100)
    let afterOwned = malloc_counter_allocations()
    precondition(world.rank == 0 || arrays.allSatisfy { $0 == [2.5] })
    print("rank \(world.rank): \(afterOwned - beforeOwned) allocations in 100 windows of 64 owned-buffer messages")
}

// Small blocking collectives on the world (the shared-memory path on one host).
// (The operator is made once: in a debug build, where `.sum` is not inlined, making it allocates
// its two closure contexts.)
var value: [Double] = [Double(world.rank)]
let sum: ReduceOperation<Double> = .sum
func collectives(_ count: Int, _ value: inout [Double], _ sum: ReduceOperation<Double>) throws {
    for _ in 0..<count {
        try world.barrier()
        value[0] = Double(world.rank)
        try world.allreduce(inPlace: &value, op: sum)
    }
}
try collectives(1_000, &value, sum)
let beforeCollectives = malloc_counter_allocations()
try collectives(10_000, &value, sum)
let afterCollectives = malloc_counter_allocations()
precondition(value[0] == Double(world.size * (world.size - 1) / 2))
print("rank \(world.rank): \(afterCollectives - beforeCollectives) allocations in 10000 barriers and 10000 8-byte allreduces")
try MPI.finalize()
