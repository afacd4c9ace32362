// swiftmpi-coll-check: groups, communicators and collectives, checked against serial computations on
// every rank. Run as real jobs by the test suite:  swiftmpirun -n N swiftmpi-coll-check
// Any mismatch prints "CHECK FAILED ..." and exits 1, which ends the job.
#if canImport(Glibc)
import Glibc
#endif
import SwiftMPI

func require(_ condition: Bool, _ message: @autoclosure () -> String, line: Int = #line) {
    guard condition else {
        let text = "CHECK FAILED (line \(line)) on rank \(worldRank): \(message())\n"
        _ = text.utf8CString.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress!, $0.count - 1) }
        exit(1)
    }
}

if CommandLine.arguments.dropFirst().first == "sessions" {
    try checkSessions()
    print("sessions checked")
    exit(0)
}
let world = try MPI.initialize()
let worldRank = world.rank
let n = world.size
let r = world.rank
if CommandLine.arguments.dropFirst().first == "context-reuse" {
    try checkContextReuse(world, cycles: Int(CommandLine.arguments.dropFirst(2).first ?? "") ?? 100_000)
    if r == 0 { print("context ids reused on \(n) ranks") }
    try MPI.finalize()
    exit(0)
}
if CommandLine.arguments.dropFirst().first == "info" {
    try checkInfo(world)
    if r == 0 { print("info and hints checked on \(n) ranks") }
    try MPI.finalize()
    exit(0)
}
if CommandLine.arguments.dropFirst().first == "mismatches" {
    try checkMismatches(world)
    if r == 0 { print("mismatched collectives caught on \(n) ranks") }
    try MPI.finalize()
    exit(0)
}

// MARK: Collectives on the world, zero-length and several sizes
try world.barrier()
for count in [0, 1, 7, 1000, 70_000] {
    // bcast from every root
    for root in Array(Set([0, n - 1, n / 2])).sorted() {
        var buffer = [Int64](repeating: -1, count: count)
        if r == root { buffer = (0..<count).map { Int64($0 * 3 + root) } }
        try world.bcast(&buffer, root: root)
        require(buffer == (0..<count).map { Int64($0 * 3 + root) }, "bcast count \(count) root \(root)")
    }
    if count == 70_000 {
        // Past the scatter-allgather threshold with blocks that do not divide evenly.
        var odd = [UInt8](repeating: 0, count: 300_001)
        if r == n - 1 { odd = (0..<300_001).map { UInt8(truncatingIfNeeded: $0 &* 7) } }
        try world.bcast(&odd, root: n - 1)
        require(odd == (0..<300_001).map { UInt8(truncatingIfNeeded: $0 &* 7) }, "bcast of 300 001 bytes")
    }
    let mine = (0..<count).map { Double($0) + Double(r) * 0.5 }
    let expectedSum = (0..<count).map { i in (0..<n).reduce(0.0) { $0 + Double(i) + Double($1) * 0.5 } }
    let total = try world.allreduce(mine, op: .sum)
    require(total == expectedSum, "allreduce sum count \(count)")
    let maxima = try world.reduce(mine, op: .max, root: n - 1)
    require(r == n - 1 ? maxima! == (0..<count).map { Double($0) + Double(n - 1) * 0.5 } : maxima == nil, "reduce max count \(count)")
    let gathered = try world.allgather([Int32](repeating: Int32(r), count: count))
    require(gathered == (0..<n).flatMap { [Int32](repeating: Int32($0), count: count) }, "allgather count \(count)")
    let atRoot = try world.gather([Int32](repeating: Int32(r + 1), count: count), root: 0)
    require(r == 0 ? atRoot! == (0..<n).flatMap { [Int32](repeating: Int32($0 + 1), count: count) } : atRoot == nil, "gather \(count)")
    let dealt = try world.scatter(r == 0 ? (0..<(count * n)).map { Int16(truncatingIfNeeded: $0) } : [], root: 0)
    require(dealt == (0..<count).map { Int16(truncatingIfNeeded: r * count + $0) }, "scatter \(count)")
    let exchanged = try world.alltoall((0..<n).flatMap { to in [UInt8](repeating: UInt8(truncatingIfNeeded: r * 16 + to), count: count) })
    require(exchanged == (0..<n).flatMap { from in [UInt8](repeating: UInt8(truncatingIfNeeded: from * 16 + r), count: count) }, "alltoall \(count)")
    let prefix = try world.scan([Int](repeating: r + 1, count: count), op: .sum)
    require(prefix == [Int](repeating: (r + 1) * (r + 2) / 2, count: count), "scan \(count)")
    let exclusive = try world.exscan([Int](repeating: r + 1, count: count), op: .sum)
    require(r == 0 ? exclusive == nil : exclusive! == [Int](repeating: r * (r + 1) / 2, count: count), "exscan \(count)")
}

// MARK: Every built-in operation and type class
require(try world.allreduce([Int32(r + 1)], op: .product) == [(1...n).reduce(Int32(1)) { $0 &* Int32($1) }], "product (wraps like C)")
require(try world.allreduce([Double(r + 1)], op: .product) == [(1...n).reduce(1.0) { $0 * Double($1) }], "double product")
require(try world.allreduce([Int8.max], op: .sum) == [(0..<n).reduce(Int8(0)) { acc, _ in acc &+ Int8.max }], "sum wraps")
require(try world.allreduce([UInt8(r)], op: .min) == [0], "min")
require(try world.allreduce([Float(r)], op: .max) == [Float(n - 1)], "max")
require(try world.allreduce([r == 0], op: .logicalAnd) == [n == 1], "land")
require(try world.allreduce([r == 0], op: .logicalOr) == [true], "lor")
require(try world.allreduce([true], op: .logicalXor) == [n % 2 == 1], "lxor")
require(try world.allreduce([UInt64(1) << UInt64(r % 64)], op: .bitwiseOr) == [(0..<n).reduce(UInt64(0)) { $0 | (1 << UInt64($1 % 64)) }], "bor")
require(try world.allreduce([Int(0xff)], op: .bitwiseAnd) == [0xff], "band")
require(try world.allreduce([Int(r)], op: .bitwiseXor) == [(0..<n).reduce(0, ^)], "bxor")
let value = Double((r * 7) % 5)
let minimum = try world.allreduce([ValueAndIndex(value, r)], op: .minloc())[0]
let maximum = try world.allreduce([ValueAndIndex(value, r)], op: .maxloc())[0]
let values = (0..<n).map { Double(($0 * 7) % 5) }
require(minimum == ValueAndIndex(values.min()!, values.firstIndex(of: values.min()!)!), "minloc \(minimum)")
require(maximum == ValueAndIndex(values.max()!, values.firstIndex(of: values.max()!)!), "maxloc \(maximum)")
// A non-commutative (but associative, as MPI requires) user operator keeps rank order: appending
// decimal digits, one per rank.
struct Digits: BitwiseCopyable, Equatable { var value: Int; var length: Int }
func power10(_ k: Int) -> Int { (0..<k).reduce(1) { acc, _ in acc * 10 } }
let append = { (a: Digits, b: Digits) in Digits(value: a.value * power10(b.length) + b.value, length: a.length + b.length) }
let concatenate = ReduceOperation<Digits>.custom("concatenate", commutative: false, append)
let digit = { (rank: Int) in Digits(value: rank % 9 + 1, length: 1) }
let ordered = (0..<n).map(digit).reduce(Digits(value: 0, length: 0)) { append($0, $1) }
require(try world.allreduce([digit(r)], op: concatenate) == [ordered], "non-commutative allreduce")
for root in [0, n - 1] {
    require(try world.reduce([digit(r)], op: concatenate, root: root).map { $0 == [ordered] } ?? (r != root), "non-commutative reduce to \(root)")
}
require(
    try world.scan([digit(r)], op: concatenate) == [(0...r).map(digit).reduce(Digits(value: 0, length: 0)) { append($0, $1) }],
    "non-commutative scan")
var inPlace = [r, 2 * r]
try world.allreduce(inPlace: &inPlace, op: .sum)
require(inPlace == [n * (n - 1) / 2, n * (n - 1)], "in-place allreduce")

// MARK: v-variants and reduceScatter
let counts = (0..<n).map { $0 % 3 }
let mineV = [Int](repeating: r, count: counts[r])
let allV = try world.allgatherv(mineV, counts: counts)
require(allV == (0..<n).flatMap { [Int](repeating: $0, count: counts[$0]) }, "allgatherv")
let gatheredV = try world.gatherv(mineV, counts: counts, root: n - 1)
require(r == n - 1 ? gatheredV! == allV : gatheredV == nil, "gatherv")
let scatteredV = try world.scatterv(r == 0 ? allV : [], counts: counts, root: 0)
require(scatteredV == mineV, "scatterv")
let reducedScattered = try world.reduceScatter([Int](repeating: 1, count: counts.reduce(0, +)), counts: counts, op: .sum)
require(reducedScattered == [Int](repeating: n, count: counts[r]), "reduceScatter")
let sendCounts = (0..<n).map { ($0 + r) % 2 }
let receiveCounts = (0..<n).map { ($0 + r) % 2 }
let vOut = (0..<n).flatMap { [Int](repeating: r * 100 + $0, count: sendCounts[$0]) }
let vIn = try world.alltoallv(vOut, sendCounts: sendCounts, receiveCounts: receiveCounts)
require(vIn == (0..<n).flatMap { [Int](repeating: $0 * 100 + r, count: receiveCounts[$0]) }, "alltoallv")

// MARK: Nonblocking collectives, several in flight at once
let sendBuffer = UnsafeMutableBufferPointer<Double>.allocate(capacity: 1000)
let sumBuffer = UnsafeMutableBufferPointer<Double>.allocate(capacity: 1000)
let bcastBuffer = UnsafeMutableBufferPointer<Int>.allocate(capacity: 10)
let gatherBuffer = UnsafeMutableBufferPointer<Int>.allocate(capacity: n)
let own = UnsafeMutableBufferPointer<Int>.allocate(capacity: 1)
for i in 0..<1000 { sendBuffer[i] = Double(i + r) }
for i in 0..<10 { bcastBuffer[i] = r == 0 ? i * i : -1 }
own[0] = r * r
let requests = [
    try world.ibarrier(),
    try world.iallreduce(UnsafeBufferPointer(sendBuffer), into: sumBuffer, op: .sum),
    try world.ibcast(bcastBuffer, root: 0),
    try world.iallgather(UnsafeBufferPointer(own), into: gatherBuffer)
]
try Request.waitAll(requests)
require((0..<1000).allSatisfy { sumBuffer[$0] == Double(n * $0 + n * (n - 1) / 2) }, "iallreduce")
require((0..<10).allSatisfy { bcastBuffer[$0] == $0 * $0 }, "ibcast")
require((0..<n).allSatisfy { gatherBuffer[$0] == $0 * $0 }, "iallgather")

// MARK: Groups
let everyone = world.group
require(everyone.size == n && everyone.rank == r, "world group")
let evens = try everyone.include(Array(stride(from: 0, to: n, by: 2)))
let odds = try everyone.exclude(Array(stride(from: 0, to: n, by: 2)))
require(evens.size + odds.size == n && evens.intersection(odds).size == 0, "include/exclude")
require(evens.union(odds).compare(everyone) == (n <= 2 ? .identical : .similar), "union: evens then odds")
require(everyone.difference(evens).compare(odds) == .identical, "difference")
require(everyone.translateRanks([0, 1].filter { $0 < n }, to: evens) == [0, 1].filter { $0 < n }.map { $0 % 2 == 0 ? $0 / 2 : nil }, "translate")
require(evens.rank == (r % 2 == 0 ? r / 2 : nil), "group rank")
require(try everyone.include(ranges: [stride(from: 0, through: n - 1, by: 3)]).size == (n + 2) / 3, "range include")

// MARK: Communicators: split, create, dup, isolation, concurrent use of overlapping communicators
let halves = try world.split(color: r % 2, key: -r)
require(halves != nil && halves!.size == (r % 2 == 0 ? (n + 1) / 2 : n / 2), "split size")
require(halves!.rank == (halves!.size - 1 - r / 2), "split key order (descending)")
require(try world.split(color: MPI.undefined, key: 0) == nil, "undefined color")
let evenComm = try world.create(group: evens)
require((evenComm != nil) == (r % 2 == 0), "create membership")
let copy = try world.dup()
require(copy.compare(world) == .congruent && world.compare(world) == .identical, "compare")
// The same tag on world and on the duplicate never cross.
if n >= 2 && r < 2 {
    if r == 0 {
        try copy.send([2], to: 1, tag: 5)
        try world.send([1], to: 1, tag: 5)
    } else {
        var got = [0]
        try world.recv(into: &got, from: 0, tag: 5)
        require(got == [1], "message crossed communicators")
        try copy.recv(into: &got, from: 0, tag: 5)
        require(got == [2], "duplicate")
    }
}
// Collectives on the halves and on the even communicator, interleaved with world collectives.
let halfSum = try halves!.allreduce([r], op: .sum)[0]
let worldSum = try world.allreduce([r], op: .sum)[0]
let evenSum = try evenComm?.allreduce([r], op: .sum)[0]
require(halfSum == (0..<n).filter { $0 % 2 == r % 2 }.reduce(0, +), "half sum")
require(worldSum == n * (n - 1) / 2, "world sum")
require(evenSum == nil || evenSum! == (0..<n).filter { $0 % 2 == 0 }.reduce(0, +), "even sum")
let shared = try world.splitType(.shared)
require(shared != nil && shared!.size >= 1, "splitType")

// Back-to-back small collectives (the shared-memory fast path reuses its two buffers every other
// step): rotating roots, mixed kinds and communicators, nonblocking ones in flight across them.
for round in 0..<600 {
    let root = round % n
    let comm = round % 3 == 0 ? halves! : (round % 3 == 1 ? world : copy)
    let count = round % 7 * 20
    switch round % 5 {
    case 0:
        try comm.barrier()
    case 1:
        var buffer = comm.rank == root % comm.size ? (0..<count).map { $0 &* round } : [Int](repeating: -1, count: count)
        try comm.bcast(&buffer, root: root % comm.size)
        require(buffer == (0..<count).map { $0 &* round }, "round \(round): bcast")
    case 2:
        let sums = try comm.allreduce((0..<count).map { Double($0 + comm.rank + round) }, op: .sum)
        require(sums == (0..<count).map { i in (0..<comm.size).reduce(0.0) { $0 + Double(i + $1 + round) } }, "round \(round): allreduce")
    case 3:
        let minima = try comm.reduce((0..<count).map { Int32($0 - comm.rank) }, op: .min, root: root % comm.size)
        require(
            comm.rank == root % comm.size ? minima! == (0..<count).map { Int32($0 - comm.size + 1) } : minima == nil,
            "round \(round): reduce")
    default:
        var value = [round, comm.rank]
        let request = try value.withUnsafeMutableBufferPointer { try world.ibcast($0, root: 0) }
        try comm.barrier()
        try request.wait()
        require(value[0] == round, "round \(round): ibcast across a barrier")
    }
}

// MARK: Cartesian topology and attributes
let dims = try MPI.dimsCreate(nodes: n, dimensions: 2)
require(dims.reduce(1, *) == n && dims[0] >= dims[1], "dimsCreate \(dims)")
require(try MPI.dimsCreate(nodes: 12, dimensions: 3, fixed: [0, 3, 0]) == [2, 3, 2], "dimsCreate fixed")
// As balanced as possible (the smallest spread), and on a tie the larger smallest factor: MPICH's choices.
for (nodes, dimensions, expected) in [
    (336, 2, [21, 16]), (432, 3, [9, 8, 6]), (228_072, 3, [86, 52, 51]), (712_656, 5, [101, 14, 9, 8, 7]), (1, 3, [1, 1, 1]), (97, 2, [97, 1])
] {
    require(try MPI.dimsCreate(nodes: nodes, dimensions: dimensions) == expected, "dimsCreate(\(nodes), \(dimensions)) is not \(expected)")
}
let grid = try world.cartCreate(dims: dims, periods: [true, false])!
let coordinates = try grid.cartCoords()
require(coordinates == [r / dims[1], r % dims[1]], "cartCoords \(coordinates)")
let (up, down) = try grid.cartShift(dimension: 0, displacement: 1)
require(up == ((coordinates[0] - 1 + dims[0]) % dims[0]) * dims[1] + coordinates[1], "periodic shift source")
require(down == ((coordinates[0] + 1) % dims[0]) * dims[1] + coordinates[1], "periodic shift destination")
let (left, right) = try grid.cartShift(dimension: 1, displacement: 1)
require(left == (coordinates[1] == 0 ? MPI.procNull : r - 1) && right == (coordinates[1] == dims[1] - 1 ? MPI.procNull : r + 1), "edge shift")
struct LibraryState { var calls: Int }
grid.setAttribute(LibraryState(calls: 3))
require(grid.attribute(LibraryState.self)?.calls == 3 && world.attribute(LibraryState.self) == nil, "attributes")

// MARK: Errors
do {
    _ = try world.reduce([1], op: .sum, root: n)
    require(false, "bad root accepted")
} catch let error {
    require(error.code == .invalidRank, "bad root: \(error)")
}
// Sizes that differ between ranks, one of them past the shared-memory channel's capacity: on one
// host every rank learns the sizes from the channel and throws, instead of ranks splitting between
// two algorithms and waiting forever; with messages only, SWIFTMPI_CHECK_COLLECTIVES=1 does the same.
// (Otherwise such a call is erroneous and may hang, as in MPI.)
// On one host the small blocking collectives send no message at all: each is one or two steps of
// the shared-memory channel (counted by the shared-memory transport's messages-sent variable).
if n > 1 && sharedChannelInUse() {
    let session = MPI.PerformanceSession()
    let messages = session.handle(for: MPI.PerformanceVariable.named("swiftmpi_messages_sent_shm")!)
    try world.barrier()
    try messages.start()
    for round in 0..<20 {
        var value = [round]
        try world.bcast(&value, root: round % n)
        _ = try world.allreduce([round], op: .sum)
        _ = try world.reduce([round], op: .sum, root: 0)
        _ = try world.gather([round], root: n - 1)
        _ = try world.scatter([Int](repeating: round, count: n), root: 0)
        require(try world.allgather([r + round]) == (0..<n).map { $0 + round }, "allgather through the channel")
        require(try world.alltoall((0..<n).map { r * 100 + $0 }) == (0..<n).map { $0 * 100 + r }, "alltoall through the channel")
        require(
            try world.allgatherv([Int](repeating: r, count: r + 1), counts: (0..<n).map { $0 + 1 }) == (0..<n).flatMap { [Int](repeating: $0, count: $0 + 1) },
            "allgatherv")
        require(
            try world.alltoallv([Int](repeating: r, count: n * 2), sendCounts: [Int](repeating: 2, count: n), receiveCounts: [Int](repeating: 2, count: n))
                == (0..<n).flatMap { [$0, $0] }, "alltoallv through the channel")
        try world.barrier()
    }
    try messages.stop()
    let sent = try messages.read()
    require(sent == 0, "small collectives on one host sent \(sent) shared-memory messages")
    session.free()
}
// Zero counts: nothing moves, and nothing is read from or written to an empty buffer (an empty
// span has no address), on the channel and off it.
do {
    let none: [Int] = []
    let gatheredNone = try world.allgather(none), exchangedNone = try world.alltoall(none)
    require(gatheredNone.isEmpty && exchangedNone.isEmpty, "allgather and alltoall of no elements")
    var empty: [Int] = []
    var emptyView = empty.mutableSpan
    try world.allgather(none.span, into: &emptyView)
    try world.alltoall(none.span, into: &emptyView)
    require(try world.alltoallv(none, sendCounts: [Int](repeating: 0, count: n), receiveCounts: [Int](repeating: 0, count: n)).isEmpty, "alltoallv of none")
}
if n > 1 && collectivesAreChecked() {
    do {
        _ = try world.allreduce([Double](repeating: 1, count: r == 0 ? 200 : 100), op: .sum)
        require(false, "allreduce of 1600 bytes on rank 0 and 800 elsewhere accepted")
    } catch let error {
        require(error.code == .invalidCount, "mismatched allreduce: \(error)")
    }
    require(try world.allreduce([1], op: .sum) == [n], "collectives after a mismatched one")
}
// Counts that do not agree inside a collective are reported as that collective's, in the user's
// words (no internal tag): here rank 1 gives gather two elements where every other rank gives one.
// The ranks after 1 send late, after the root has seen rank 1's mistake: the root must still take
// their messages before the error reaches it, or they would land in a result array already freed.
// (That array's memory is typically handed out again at once to one of the arrays of the same size
// allocated next: they must stay untouched.)
if n > 1 {
    var reused: [[Int]] = []
    do {
        if r >= 2 { usleep(20_000) }
        defer { reused = (0..<16).map { _ in [Int](repeating: -7, count: n) } }
        let gathered = try world.gather([Int](repeating: r, count: r == 1 ? 2 : 1), root: 0)
        require(r != 0, "gather with 2 elements from rank 1 and 1 elsewhere accepted at the root: \(gathered ?? [])")
    } catch let error {
        require(
            r == 0 && error.code == .truncate && error.message.hasPrefix("gather: ") && error.message.contains("from rank 1")
                && !error.message.contains("tag") && error.description.hasPrefix("rank 0: truncate: gather: "),
            "mismatched gather: \(error)")
    }
    require(try world.allreduce([1], op: .sum) == [n], "collectives after a mismatched gather")
    try world.barrier()
    require(reused.joined().allSatisfy { $0 == -7 }, "memory freed by a failed gather was written afterwards: \(reused)")
    // alltoallv: rank 0 sends rank 1 two elements where rank 1 expects one (every other pair
    // agrees): rank 1 throws, naming alltoallv and rank 0, no internal tag; everyone goes on.
    do {
        let sendCounts = (0..<n).map { r == 0 && $0 == 1 ? 2 : 1 }
        let values = [Int](repeating: r, count: sendCounts.reduce(0, +))
        _ = try world.alltoallv(values, sendCounts: sendCounts, receiveCounts: [Int](repeating: 1, count: n))
        require(r != 1, "alltoallv with 2 elements from rank 0 where rank 1 expects 1 accepted at rank 1")
    } catch let error {
        require(
            r == 1 && error.code == .truncate && error.message.hasPrefix("alltoallv: ") && error.message.contains("from rank 0")
                && !error.message.contains("tag"),
            "mismatched alltoallv: \(error)")
    }
    require(try world.allreduce([1], op: .sum) == [n], "collectives after a mismatched alltoallv")
}
for (name, build) in [
    ("include out of range", { try everyone.include([0, n]) }),
    ("include duplicate", { try everyone.include([0, 0]) }),
    ("exclude negative", { try everyone.exclude([-1]) })
] as [(String, () throws -> Group)] {
    do {
        _ = try build()
        require(false, "\(name) accepted")
    } catch let error as MPIError {
        require(error.code == .invalidRank, "\(name): \(error)")
    }
}
try checkDatatypeCollectives(world)
try checkTopologies(world)
try checkReduceLocal()
try checkDisplacements(world)
try checkMoreCollectives(world)
try checkPersistentCollectives(world)
try checkAttributeKeys(world)
try checkIdup(world)
try checkInPlace(world)
checkAsyncCollectives(world)
try checkObjectCollectives(world)
try checkSpanCollectives(world)
try checkOwnedNonblocking(world)
try checkNonblockingVectorCollectives(world)
try checkCompletionOrder(world)
try checkPersistentStartOrder(world)
try checkOwnedPersistentCollectives(world)
checkAsyncDatatypeCollectives(world)
try checkIntercommunicators(world)
try checkIntercommunicatorForms(world)
try checkAlltoallw(world)
try checkNonblockingAlltoallw(world)
try world.barrier()
if r == 0 { print("collectives passed on \(n) ranks") }
try MPI.finalize()
