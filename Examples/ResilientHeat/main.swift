// Heat diffusion that survives killed ranks (recovery mode, docs/Recovery.md). Each rank owns a band
// of rows of an n×n grid and swaps its edge rows with its neighbours. Every K steps it takes an
// in-memory checkpoint of its band and hands a copy to its buddy (the next rank). When a rank dies,
// the survivors' operations fail; they revoke the communicator, agree that the round failed, shrink
// it to the survivors, rebuild the grid at the newest step whose every row survived (own bands and
// buddy copies), deal its rows out again over the survivors and go on. The result is compared with a
// serial run of the same scheme, which it matches exactly.
//
//     swiftmpirun --enable-recovery -n 4 swiftmpi-resilient-heat [grid] [steps] [every] [--kill RANK@STEP]...
//
// `--kill 2@130` makes world rank 2 kill itself (SIGKILL) before step 130, as `kill -9` would.
#if canImport(Glibc)
import Glibc
#endif
import SwiftMPI

let world = try MPI.initialize()
/// The command line: numbers, and `--kill RANK@STEP` pairs.
let (numbers, kills): ([Int], [Kill]) = {
    var numbers: [Int] = [], kills: [Kill] = []
    var words = CommandLine.arguments.dropFirst()
    while let word = words.popFirst() {
        if word == "--kill", let spec = words.popFirst() {
            let parts = spec.split(separator: "@").compactMap { Int($0) }
            if parts.count == 2 { kills.append(Kill(rank: parts[0], step: parts[1])) }
        } else if let number = Int(word) {
            numbers.append(number)
        }
    }
    return (numbers, kills)
}()

/// World rank `rank` kills itself before step `step`.
struct Kill: Sendable {
    let rank: Int
    let step: Int
}
let n = numbers.count > 0 ? numbers[0] : 64
let steps = numbers.count > 1 ? numbers[1] : 300
let every = numbers.count > 2 ? max(1, numbers[2]) : 20
let width = n + 2  // a row with the fixed (zero) border cells on both sides
let alpha = 0.2

/// The initial temperature: a hot square in the middle of a cold plate.
func initial(_ i: Int, _ j: Int) -> Double { abs(i - n / 2) < n / 8 && abs(j - n / 2) < n / 8 ? 100 : 0 }

/// One explicit step on `rows` rows with a halo row above and below (and border columns).
func step(_ grid: [Double], rows: Int) -> [Double] {
    guard rows > 0 else { return grid }
    var next = grid
    for i in 1...rows {
        for j in 1...n {
            let c = i * width + j
            next[c] = grid[c] + alpha * (grid[c - 1] + grid[c + 1] + grid[c - width] + grid[c + width] - 4 * grid[c])
        }
    }
    return next
}

/// The band of rows of rank `rank` of `size`: the first row and how many.
func band(_ rank: Int, of size: Int) -> (first: Int, count: Int) {
    let base = n / size, extra = n % size
    return (rank * base + min(rank, extra), base + (rank < extra ? 1 : 0))
}

/// A band of rows at a step: this rank's own, or a copy it keeps for its buddy.
struct Checkpoint {
    var step: Int
    var first: Int
    var rows: [Double]  // (count × width) values
    var count: Int { rows.count / width }

    /// As a flat record: step, first row, row count, then the rows.
    var record: [Double] { [Double(step), Double(first), Double(count)] + rows }
}

/// What this rank holds: its band now (with halo rows), and the last two generations of
/// checkpoints (its own band and its buddy's), so that a failure while checkpoints are being
/// exchanged still leaves a complete older one.
struct State {
    var step = 0
    var first = 0
    var local: [Double] = []  // (count + 2) × width, halo rows included
    var checkpoints: [[Checkpoint]] = []  // newest last, at most two generations
    var count: Int { local.count / width - 2 }
}

/// Rebuilds the grid from every survivor's checkpoints at the newest step whose rows all survived
/// and deals its rows out over `comm`; every survivor computes the same step from the same records.
/// When none is complete (a rank and its buddy both died, or a rank died before the first
/// checkpoint), the run starts again from the initial state.
func restore(_ state: inout State, on comm: Communicator) throws(MPIError) {
    let mine = state.checkpoints.flatMap { $0 }.flatMap(\.record)
    let counts = try comm.allgather([mine.count])
    let all = try comm.allgatherv(mine, counts: counts)
    var byStep: [Int: [Int: [Double]]] = [:]  // step → first row of a band → its rows
    var offset = 0
    while offset < all.count {
        let step = Int(all[offset]), first = Int(all[offset + 1]), rows = Int(all[offset + 2])
        byStep[step, default: [:]][first] = Array(all[(offset + 3)..<(offset + 3 + rows * width)])
        offset += 3 + rows * width
    }
    let (first, count) = band(comm.rank, of: comm.size)
    for step in byStep.keys.sorted(by: >) {
        var grid = [Double](repeating: .nan, count: n * width)
        for (first, rows) in byStep[step]! { grid.replaceSubrange((first * width)..<(first * width + rows.count), with: rows) }
        guard !grid.contains(where: \.isNaN) else { continue }  // some band of this step is lost
        state = State(step: step, first: first, checkpoints: state.checkpoints)
        state.local =
            [Double](repeating: 0, count: width) + Array(grid[(first * width)..<((first + count) * width)])
            + [Double](repeating: 0, count: width)
        if comm.rank == 0 { print("recovered on \(comm.size) ranks from the checkpoint of step \(step)") }
        return
    }
    state = State(step: 0, first: first, local: initialBand(first: first, count: count))
    if comm.rank == 0 { print("recovered on \(comm.size) ranks from the initial state: no complete checkpoint survived") }
}

/// Rows `first..<first + count` of the initial grid, with a halo row above and below.
func initialBand(first: Int, count: Int) -> [Double] {
    var local = [Double](repeating: 0, count: (count + 2) * width)
    for i in 0..<count { for j in 0..<n { local[(i + 1) * width + j + 1] = initial(first + i, j) } }
    return local
}

/// Runs steps on `comm` until `steps`; throws at the first failure.
func run(_ state: inout State, on comm: Communicator, restoring: Bool) throws(MPIError) {
    if restoring { try restore(&state, on: comm) }
    let up = comm.rank > 0 ? comm.rank - 1 : MPI.procNull
    let down = comm.rank < comm.size - 1 ? comm.rank + 1 : MPI.procNull
    while state.step < steps {
        if kills.contains(where: { $0.rank == world.rank && $0.step == state.step }) { raise(SIGKILL) }
        if state.step % every == 0 { try checkpoint(&state, on: comm) }
        let count = state.count
        var fromBelow = [Double](repeating: 0, count: width), fromAbove = [Double](repeating: 0, count: width)
        try comm.sendrecv(Array(state.local[width..<(2 * width)]), to: up, sendTag: 1, into: &fromBelow, from: down, recvTag: 1)
        try comm.sendrecv(Array(state.local[(count * width)..<((count + 1) * width)]), to: down, sendTag: 2, into: &fromAbove, from: up, recvTag: 2)
        if down != MPI.procNull { state.local.replaceSubrange(((count + 1) * width)..<((count + 2) * width), with: fromBelow) }
        if up != MPI.procNull { state.local.replaceSubrange(0..<width, with: fromAbove) }
        state.local = step(state.local, rows: count)
        state.step += 1
    }
}

/// Keeps this rank's band and a copy of the previous rank's (its buddy hands it over).
func checkpoint(_ state: inout State, on comm: Communicator) throws(MPIError) {
    let own = Checkpoint(step: state.step, first: state.first, rows: Array(state.local[width..<((state.count + 1) * width)]))
    var generation = [own]
    if comm.size > 1 {
        var received = [Double](repeating: 0, count: 3 + (n / comm.size + 1) * width)
        let status = try comm.sendrecv(
            own.record, to: (comm.rank + 1) % comm.size, sendTag: 3, into: &received, from: (comm.rank + comm.size - 1) % comm.size, recvTag: 3)
        let values = status.byteCount / MemoryLayout<Double>.stride
        generation.append(Checkpoint(step: Int(received[0]), first: Int(received[1]), rows: Array(received[3..<values])))
    }
    state.checkpoints = Array((state.checkpoints + [generation]).suffix(2))
}

guard n >= world.size else {
    if world.rank == 0 { print("a grid of \(n) rows cannot be shared by \(world.size) ranks") }
    try MPI.finalize()
    exit(2)
}
let (first, count) = band(world.rank, of: world.size)
var state = State(step: 0, first: first, local: initialBand(first: first, count: count))

// The recovery loop (docs/Recovery.md): a round that fails anywhere is agreed to have failed, and
// the survivors shrink and restore. (Without recovery mode a failure ends the job, so one round.)
var comm = world
var recoveries = 0
if !MPI.recoveryMode {
    if world.rank == 0 { print("(not in recovery mode: run with swiftmpirun --enable-recovery to survive a killed rank)") }
    try run(&state, on: comm, restoring: false)
}
while MPI.recoveryMode {
    let finished: Int
    do {
        try run(&state, on: comm, restoring: recoveries > 0)
        finished = 1
    } catch {
        guard error.code == .processFailed || error.code == .revoked else { throw error }
        finished = 0
        try comm.revoke()
    }
    if try comm.agree(finished) == 1 { break }
    comm = try comm.shrink()
    recoveries += 1
}

// Every band to every survivor; rank 0 compares with the serial scheme.
let mine = Array(state.local[width..<((state.count + 1) * width)])
let parts = try comm.allgather([mine.count])
let grid = try comm.allgatherv(mine, counts: parts)
if comm.rank == 0 {
    var serial = [Double](repeating: 0, count: (n + 2) * width)
    for i in 0..<n { for j in 0..<n { serial[(i + 1) * width + j + 1] = initial(i, j) } }
    for _ in 0..<steps { serial = step(serial, rows: n) }
    var worst = 0.0
    for index in 0..<(n * width) { worst = max(worst, abs(grid[index] - serial[width + index])) }
    print(
        "resilient heat: \(n)×\(n) grid, \(steps) steps, checkpoints every \(every); finished on \(comm.size) of \(world.size) ranks "
            + "after \(recoveries) recover\(recoveries == 1 ? "y" : "ies"); largest difference from serial \(worst)")
    guard worst == 0 else {
        print("MISMATCH with the serial run")
        exit(1)
    }
    print("matches the serial run")
}
try MPI.finalize()
