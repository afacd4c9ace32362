// A pencil-decomposed 3-D transform, the data movement of a parallel 3-D FFT: an n×n×n array is
// spread over a p1×p2 grid of ranks as pencils, whole lines along one axis on each rank. A separable
// transform (here prefix sums, so the result is exact) runs along x, the pencils are transposed to
// whole lines along y inside each row of the grid (`cartSub` + `alltoallv` with displacements), the
// transform runs along y, the pencils are transposed to z inside each column, and it runs along z.
// Every rank then checks its part against a serial run of the same transform. n need not divide
// over the grid: blocks differ in size, which is what `alltoallv`'s counts are for.
//
//     swift run swiftmpirun -n 6 swiftmpi-pencil [n]
#if canImport(Glibc)
import Glibc
#endif
import SwiftMPI

let world = try MPI.initialize()
let n = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 19 : 19
let dims = try MPI.dimsCreate(nodes: world.size, dimensions: 2)
let grid = try world.cartCreate(dims: dims, periods: [false, false])!
let coordinates = try grid.cartCoords()
let (c1, c2) = (coordinates[0], coordinates[1])
let row = try grid.cartSub(keep: [true, false])  // the p1 ranks that share c2, ranked by c1
let column = try grid.cartSub(keep: [false, true])  // the p2 ranks that share c1, ranked by c2

/// Part `index` of 0..<n cut into `parts` blocks whose sizes differ by at most one.
func block(_ index: Int, of parts: Int) -> Range<Int> {
    let base = n / parts, extra = n % parts
    let start = index * base + min(index, extra)
    return start..<(start + base + (index < extra ? 1 : 0))
}

func value(_ x: Int, _ y: Int, _ z: Int) -> Double { Double((x * 7 + y * 13 + z * 29) % 11) }

/// Running sums along each line of `length` consecutive elements: the transform along one axis.
func prefixSums(_ lines: inout [Double], length: Int) {
    guard length > 0 else { return }
    for start in stride(from: 0, to: lines.count, by: length) {
        for i in (start + 1)..<(start + length) { lines[i] += lines[i - 1] }
    }
}

/// Counts and displacements (in elements) of consecutive blocks.
func packed(_ counts: [Int]) -> (counts: [Int], displacements: [Int]) {
    var displacements: [Int] = []
    var offset = 0
    for count in counts { displacements.append(offset); offset += count }
    return (counts, displacements)
}

// x-pencils: y in ys, z in zs, every x; layout [y][z][x].
let ys = block(c1, of: dims[0]), zs = block(c2, of: dims[1])
var xPencil: [Double] = []
for y in ys { for z in zs { for x in 0..<n { xPencil.append(value(x, y, z)) } } }
prefixSums(&xPencil, length: n)

// To y-pencils inside the row: rank d of the row gets x in block d; this rank then holds x in xs,
// every y, z in zs; layout [z][x][y].
let xs = block(c1, of: dims[0])
var outgoing: [Double] = []
for d in 0..<dims[0] {
    for y in ys { for z in zs { for x in block(d, of: dims[0]) { outgoing.append(xPencil[((y - ys.lowerBound) * zs.count + z - zs.lowerBound) * n + x]) } } }
}
var send = packed((0..<dims[0]).map { ys.count * zs.count * block($0, of: dims[0]).count })
var receive = packed((0..<dims[0]).map { block($0, of: dims[0]).count * zs.count * xs.count })
let fromRow = try row.alltoallv(
    outgoing, sendCounts: send.counts, sendDisplacements: send.displacements, recvCounts: receive.counts,
    recvDisplacements: receive.displacements)
var yPencil = [Double](repeating: 0, count: zs.count * xs.count * n)
for s in 0..<dims[0] {
    let theirs = block(s, of: dims[0])
    for y in theirs {
        for z in zs {
            for x in xs {
                yPencil[((z - zs.lowerBound) * xs.count + x - xs.lowerBound) * n + y] =
                    fromRow[receive.displacements[s] + ((y - theirs.lowerBound) * zs.count + z - zs.lowerBound) * xs.count + x - xs.lowerBound]
            }
        }
    }
}
prefixSums(&yPencil, length: n)

// To z-pencils inside the column: rank d of the column gets y in block d; this rank then holds x in
// xs, y in myYs, every z; layout [x][y][z].
let myYs = block(c2, of: dims[1])
outgoing = []
for d in 0..<dims[1] {
    for z in zs { for x in xs { for y in block(d, of: dims[1]) { outgoing.append(yPencil[((z - zs.lowerBound) * xs.count + x - xs.lowerBound) * n + y]) } } }
}
send = packed((0..<dims[1]).map { zs.count * xs.count * block($0, of: dims[1]).count })
receive = packed((0..<dims[1]).map { block($0, of: dims[1]).count * xs.count * myYs.count })
let fromColumn = try column.alltoallv(
    outgoing, sendCounts: send.counts, sendDisplacements: send.displacements, recvCounts: receive.counts,
    recvDisplacements: receive.displacements)
var zPencil = [Double](repeating: 0, count: xs.count * myYs.count * n)
for s in 0..<dims[1] {
    let theirs = block(s, of: dims[1])
    for z in theirs {
        for x in xs {
            for y in myYs {
                zPencil[((x - xs.lowerBound) * myYs.count + y - myYs.lowerBound) * n + z] =
                    fromColumn[receive.displacements[s] + ((z - theirs.lowerBound) * xs.count + x - xs.lowerBound) * myYs.count + y - myYs.lowerBound]
            }
        }
    }
}
prefixSums(&zPencil, length: n)

// The serial run: the same transform of the whole array, layout [x][y][z].
var serial = [Double](repeating: 0, count: n * n * n)
for x in 0..<n { for y in 0..<n { for z in 0..<n { serial[(x * n + y) * n + z] = value(x, y, z) } } }
for x in 0..<n { for y in 0..<n { for z in 1..<max(n, 1) { serial[(x * n + y) * n + z] += serial[(x * n + y) * n + z - 1] } } }
for x in 0..<n { for z in 0..<n { for y in 1..<max(n, 1) { serial[(x * n + y) * n + z] += serial[(x * n + y - 1) * n + z] } } }
for y in 0..<n { for z in 0..<n { for x in 1..<max(n, 1) { serial[(x * n + y) * n + z] += serial[((x - 1) * n + y) * n + z] } } }
var mismatches = 0
for x in xs {
    for y in myYs {
        for z in 0..<n where zPencil[((x - xs.lowerBound) * myYs.count + y - myYs.lowerBound) * n + z] != serial[(x * n + y) * n + z] {
            mismatches += 1
        }
    }
}
let wrong = try world.allreduce([mismatches], op: .sum)[0]
if world.rank == 0 {
    let verdict = wrong == 0 ? "matches the serial run" : "DIFFERS from the serial run in \(wrong) elements"
    print("pencil transform of \(n)×\(n)×\(n) on a \(dims[0])×\(dims[1]) grid: \(verdict)")
}
try MPI.finalize()
exit(wrong == 0 ? 0 : 1)
