// 2-D heat diffusion with halo exchange over a Cartesian communicator: each rank owns a block of the
// grid, swaps edge rows and columns with its neighbours through `sendrecv` (`MPI.procNull` past the
// fixed-temperature border, so edges need no special case), and the result is checked against a
// serial run of the same explicit scheme on rank 0. Rows, columns and the interior block are
// described once with derived datatypes; nothing is packed by hand. With `--one-sided` the grid lives
// in a one-sided window instead and each rank puts its edges straight into its neighbours' halos,
// between two fences (on one host: plain copies into shared memory).
//
//     swift run swiftmpirun -n 4 swiftmpi-heat [grid-size] [steps] [--one-sided]
#if canImport(Glibc)
import Glibc
#endif
import SwiftMPI

let world = try MPI.initialize()
let oneSided = CommandLine.arguments.contains("--one-sided")
let numbers = CommandLine.arguments.dropFirst().filter { !$0.hasPrefix("--") }
let n = numbers.count > 0 ? Int(numbers[0]) ?? 60 : 60
let steps = numbers.count > 1 ? Int(numbers[1]) ?? 200 : 200
let alpha = 0.2

/// The initial temperature: a hot square in the middle of a cold plate.
func initial(_ i: Int, _ j: Int) -> Double { abs(i - n / 2) < n / 8 && abs(j - n / 2) < n / 8 ? 100 : 0 }

/// One explicit step on a grid with a one-cell halo; `rows`×`columns` interior cells.
func step(_ grid: [Double], rows: Int, columns: Int) -> [Double] {
    var next = grid
    let width = columns + 2
    for i in 1...rows {
        for j in 1...columns {
            let c = i * width + j
            next[c] = grid[c] + alpha * (grid[c - 1] + grid[c + 1] + grid[c - width] + grid[c + width] - 4 * grid[c])
        }
    }
    return next
}

let dims = try MPI.dimsCreate(nodes: world.size, dimensions: 2)
guard n % dims[0] == 0, n % dims[1] == 0 else {
    if world.rank == 0 { print("grid \(n) does not divide over \(dims[0])×\(dims[1]) ranks") }
    try MPI.finalize()
    exit(2)
}
let grid = try world.cartCreate(dims: dims, periods: [false, false])!
let coordinates = try grid.cartCoords()
let rows = n / dims[0], columns = n / dims[1]
let width = columns + 2
var local = [Double](repeating: 0, count: (rows + 2) * width)
for i in 0..<rows { for j in 0..<columns { local[(i + 1) * width + j + 1] = initial(coordinates[0] * rows + i, coordinates[1] * columns + j) } }
let (up, down) = try grid.cartShift(dimension: 0, displacement: 1)
let (left, right) = try grid.cartShift(dimension: 1, displacement: 1)

// The halo cells are described once: a row is `columns` neighbouring doubles, a column is one double
// in each of `rows` rows (a stride of a whole row), the interior is the block inside the halo.
let double = Datatype(Double.self)
let row = try Datatype.contiguous(count: columns, of: double)
let column = try Datatype.vector(count: rows, blockLength: 1, stride: width, of: double)
let interior = try Datatype.subarray(sizes: [rows + 2, width], subsizes: [rows, columns], starts: [1, 1], of: double)
/// The element where cell (i, j) of the local grid (halo included) is.
func cell(_ i: Int, _ j: Int) -> Int { i * width + j }

/// With `--one-sided`, the window that holds the grid for the halo exchange.
let window = oneSided ? try Window<Double>.allocate(count: local.count, on: grid) : nil

/// The halo exchange by puts: the window takes the grid, a fence, every edge put into the
/// neighbour's halo with the same datatypes as the messages (`MPI.procNull` past the border:
/// nothing), a fence, and the grid comes back with its halo filled.
func exchangeByPuts(_ local: inout [Double], _ window: Window<Double>) throws {
    _ = window.localMemory.update(fromContentsOf: local)
    try window.fence()  // no neighbour puts into this halo before the grid is in the window
    try window.put(local[cell(1, 1)...], count: 1, datatype: row, to: up, at: cell(rows + 1, 1), targetCount: 1, targetDatatype: row)
    try window.put(local[cell(rows, 1)...], count: 1, datatype: row, to: down, at: cell(0, 1), targetCount: 1, targetDatatype: row)
    try window.put(local[cell(1, 1)...], count: 1, datatype: column, to: left, at: cell(1, columns + 1), targetCount: 1, targetDatatype: column)
    try window.put(local[cell(1, columns)...], count: 1, datatype: column, to: right, at: cell(1, 0), targetCount: 1, targetDatatype: column)
    try window.fence()
    local = Array(window.localMemory)
}

for _ in 0..<steps {
    if let window {
        try exchangeByPuts(&local, window)
        local = step(local, rows: rows, columns: columns)
        continue
    }
    // Rows: the first interior row goes up, the halo below comes from down; and the other way round.
    try grid.sendrecv(
        within: &local, sendingAt: cell(1, 1), count: 1, datatype: row, to: up, sendTag: 0,
        receivingAt: cell(rows + 1, 1), count: 1, datatype: row, from: down, recvTag: 0)
    try grid.sendrecv(
        within: &local, sendingAt: cell(rows, 1), count: 1, datatype: row, to: down, sendTag: 1,
        receivingAt: cell(0, 1), count: 1, datatype: row, from: up, recvTag: 1)
    // Columns, straight from and into the grid.
    try grid.sendrecv(
        within: &local, sendingAt: cell(1, 1), count: 1, datatype: column, to: left, sendTag: 2,
        receivingAt: cell(1, columns + 1), count: 1, datatype: column, from: right, recvTag: 2)
    try grid.sendrecv(
        within: &local, sendingAt: cell(1, columns), count: 1, datatype: column, to: right, sendTag: 3,
        receivingAt: cell(1, 0), count: 1, datatype: column, from: left, recvTag: 3)
    local = step(local, rows: rows, columns: columns)
}

// Collect the interior blocks at rank 0 (in rank order, as contiguous rows) and compare with the
// serial scheme.
var gathered = [Double](repeating: 0, count: grid.rank == 0 ? n * n : 0)
try grid.gather(local, count: 1, datatype: interior, into: &gathered, count: rows * columns, datatype: double, root: 0)
if grid.rank == 0 {
    let blocks = gathered
    var serial = [Double](repeating: 0, count: (n + 2) * (n + 2))
    for i in 0..<n { for j in 0..<n { serial[(i + 1) * (n + 2) + j + 1] = initial(i, j) } }
    for _ in 0..<steps { serial = step(serial, rows: n, columns: n) }
    var worst = 0.0
    for rank in 0..<grid.size {
        let origin = try grid.cartCoords(rank)
        for i in 0..<rows {
            for j in 0..<columns {
                let parallel = blocks[rank * rows * columns + i * columns + j]
                let expected = serial[(origin[0] * rows + i + 1) * (n + 2) + origin[1] * columns + j + 1]
                worst = max(worst, abs(parallel - expected))
            }
        }
    }
    let heat = blocks.reduce(0, +)
    print(
        "heat\(oneSided ? " (one-sided halo exchange)" : ""): \(n)×\(n) grid, \(steps) steps on \(dims[0])×\(dims[1]) ranks; "
            + "total heat \(heat); largest difference from serial \(worst)"
    )
    guard worst == 0 else { print("MISMATCH with the serial run"); exit(1) }
    print("matches the serial run")
}
try window?.free()
try MPI.finalize()
