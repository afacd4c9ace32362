// Conjugate gradient for the 1-D Poisson problem −u'' = 1 on n points, rows split over the ranks:
// the matrix-vector product swaps one boundary value with each neighbour (`sendrecv`, `MPI.procNull`
// at the ends) and every dot product is an `allreduce`. Rank 0 checks the solution against a serial
// conjugate gradient and against the exact answer.
//
//     swift run swiftmpirun -n 4 swiftmpi-cg [points]
#if canImport(Glibc)
import Glibc
#endif
import SwiftMPI

let world = try MPI.initialize()
let n = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 200 : 200
let h = 1.0 / Double(n + 1)

/// Rows [first, first + count) of this rank: n split as evenly as possible.
let base = n / world.size, extra = n % world.size
let count = base + (world.rank < extra ? 1 : 0)
let first = world.rank * base + min(world.rank, extra)
let leftNeighbour = world.rank == 0 ? MPI.procNull : world.rank - 1
let rightNeighbour = world.rank == world.size - 1 ? MPI.procNull : world.rank + 1

/// y = A x for A = tridiag(−1, 2, −1) / h², with the neighbours' boundary values.
func multiply(_ x: [Double]) throws -> [Double] {
    var fromLeft = [0.0], fromRight = [0.0]
    try world.sendrecv([x.first ?? 0], to: leftNeighbour, sendTag: 0, into: &fromRight, from: rightNeighbour, recvTag: 0)
    try world.sendrecv([x.last ?? 0], to: rightNeighbour, sendTag: 1, into: &fromLeft, from: leftNeighbour, recvTag: 1)
    if leftNeighbour == MPI.procNull { fromLeft = [0] }
    if rightNeighbour == MPI.procNull { fromRight = [0] }
    return x.indices.map { i in
        let west = i > 0 ? x[i - 1] : fromLeft[0]
        let east = i < x.count - 1 ? x[i + 1] : fromRight[0]
        return (2 * x[i] - west - east) / (h * h)
    }
}

func dot(_ a: [Double], _ b: [Double]) throws -> Double {
    try world.allreduce([zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }], op: .sum)[0]
}

/// Conjugate gradient with the given product and dot; returns the solution and the iterations.
func solve(size: Int, multiply: ([Double]) throws -> [Double], dot: ([Double], [Double]) throws -> Double) throws -> ([Double], Int) {
    var x = [Double](repeating: 0, count: size)
    var r = [Double](repeating: 1, count: size)
    var p = r
    var rr = try dot(r, r)
    var iterations = 0
    while iterations < 10 * n && rr > 1e-20 {
        let ap = try multiply(p)
        let alpha = rr / (try dot(p, ap))
        for i in 0..<size { x[i] += alpha * p[i]; r[i] -= alpha * ap[i] }
        let next = try dot(r, r)
        for i in 0..<size { p[i] = r[i] + next / rr * p[i] }
        rr = next
        iterations += 1
    }
    return (x, iterations)
}

let (local, iterations) = try solve(size: count, multiply: multiply, dot: dot)
let counts = try world.allgather([count])
if let solution = try world.gatherv(local, counts: counts, root: 0) {
    let (serial, serialIterations) = try solve(
        size: n,
        multiply: { x in
            x.indices.map { i in (2 * x[i] - (i > 0 ? x[i - 1] : 0) - (i < n - 1 ? x[i + 1] : 0)) / (h * h) }
        }, dot: { a, b in zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } })
    let exact = (1...n).map { k in Double(k) * h * (1 - Double(k) * h) / 2 }
    let fromSerial = zip(solution, serial).map { abs($0 - $1) }.max()!
    let fromExact = zip(solution, exact).map { abs($0 - $1) }.max()!
    print(
        "cg: \(n) points on \(world.size) ranks, \(iterations) iterations (serial \(serialIterations)); max difference from serial \(fromSerial), from exact "
            + "\(fromExact)"
    )
    guard fromSerial < 1e-9, fromExact < 1e-9 else { print("MISMATCH"); exit(1) }
    print("matches the serial run")
}
try MPI.finalize()
