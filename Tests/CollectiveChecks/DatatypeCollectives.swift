import SwiftMPI

/// bcast, gather, scatter, allgather and alltoall with derived datatypes: columns of each rank's grid
/// travel as columns, land as columns or as contiguous rows, and nothing outside them is written.
func checkDatatypeCollectives(_ world: Communicator) throws {
    let n = world.size, r = world.rank
    let double = Datatype(Double.self)
    for rows in [3, 300] {
        let columns = 2 * n + 2
        // A rows × columns grid; a column is a vector resized to one element, so column j+1 follows column j.
        let column = try Datatype.vector(count: rows, blockLength: 1, stride: columns, of: double).resized(lowerBound: 0, extent: 8)
        func grid(of rank: Int) -> [Double] { (0..<(rows * columns)).map { Double(rank * 1_000_000 + $0) } }
        func columnValues(of rank: Int, _ j: Int) -> [Double] { (0..<rows).map { Double(rank * 1_000_000 + $0 * columns + j) } }

        // bcast: the root's columns 1 and 2 overwrite the same columns everywhere, the rest stays.
        for root in [0, n - 1] {
            var mine = grid(of: r)
            try world.bcast(&mine[1...], count: 2, datatype: column, root: root)
            let expected = (0..<(rows * columns)).map { $0 % columns == 1 || $0 % columns == 2 ? Double(root * 1_000_000 + $0) : Double(r * 1_000_000 + $0) }
            require(mine == expected, "bcast of 2 columns of \(rows) from root \(root)")
        }
        // gather: column r of each rank's grid, received at the root as contiguous rows of `rows` doubles.
        var gathered = [Double](repeating: -1, count: rows * n)
        try world.gather(grid(of: r), count: 1, datatype: try column.resized(lowerBound: 0, extent: 8), into: &gathered, count: rows, datatype: double, root: 0)
        if r == 0 { require(gathered == (0..<n).flatMap { columnValues(of: $0, 0) }, "gather of columns into rows (\(rows))") }
        // allgather: each rank's column 0 into column `rank` of everyone's grid.
        var everyone = [Double](repeating: -1, count: rows * columns)
        try world.allgather(grid(of: r), count: 1, datatype: column, into: &everyone, count: 1, datatype: column)
        for j in 0..<columns {
            let got = (0..<rows).map { everyone[$0 * columns + j] }
            require(got == (j < n ? columnValues(of: j, 0) : [Double](repeating: -1, count: rows)), "allgather column \(j) (\(rows))")
        }
        // scatter: the root's columns dealt out two per rank, received as rows.
        var part = [Double](repeating: -1, count: 2 * rows)
        try world.scatter(grid(of: n - 1), count: 2, datatype: column, into: &part, count: 2 * rows, datatype: double, root: n - 1)
        require(part == columnValues(of: n - 1, 2 * r) + columnValues(of: n - 1, 2 * r + 1), "scatter of columns (\(rows))")
        // alltoall: columns 2j and 2j+1 to rank j; received into columns 2i, 2i+1 from rank i.
        var exchanged = [Double](repeating: -1, count: rows * columns)
        try world.alltoall(grid(of: r), count: 2, datatype: column, into: &exchanged, count: 2, datatype: column)
        for j in 0..<columns {
            let got = (0..<rows).map { exchanged[$0 * columns + j] }
            require(got == (j < 2 * n ? columnValues(of: j / 2, 2 * r + j % 2) : [Double](repeating: -1, count: rows)), "alltoall column \(j) (\(rows))")
        }
    }
    // A receive side that describes a different number of bytes is refused, not truncated silently.
    var small = [Double](repeating: 0, count: 1)
    do {
        try world.allgather([1.0, 2.0], count: 2, datatype: double, into: &small, count: 1, datatype: double)
        require(false, "allgather into too small a datatype count was accepted")
    } catch let error {
        require(error.code == .invalidCount, "allgather mismatch: \(error)")
    }
}

/// The `async` forms of the datatype collectives, on columns of a grid, against the serial answer.
func checkAsyncDatatypeCollectives(_ world: Communicator) {
    let n = world.size, r = world.rank
    awaitTask("async datatype collectives") {
        let double = Datatype(Double.self)
        let rows = 40, columns = 2 * n + 2
        let column = try Datatype.vector(count: rows, blockLength: 1, stride: columns, of: double).resized(lowerBound: 0, extent: 8)
        func grid(of rank: Int) -> [Double] { (0..<(rows * columns)).map { Double(rank * 1_000_000 + $0) } }
        func columnValues(of rank: Int, _ j: Int) -> [Double] { (0..<rows).map { Double(rank * 1_000_000 + $0 * columns + j) } }
        func columnsOf(_ values: [Double]) -> [[Double]] { (0..<columns).map { j in (0..<rows).map { values[$0 * columns + j] } } }
        var mine = grid(of: r)
        try await world.bcast(&mine, count: 2, datatype: column, root: n - 1)
        require(columnsOf(mine) == (0..<columns).map { $0 < 2 ? columnValues(of: n - 1, $0) : columnValues(of: r, $0) }, "async bcast of columns")
        var gathered = [Double](repeating: -1, count: rows * n)
        try await world.gather(grid(of: r), count: 1, datatype: column, into: &gathered, count: rows, datatype: double, root: 0)
        if r == 0 { require(gathered == (0..<n).flatMap { columnValues(of: $0, 0) }, "async gather of columns into rows") }
        var part = [Double](repeating: -1, count: 2 * rows)
        try await world.scatter(grid(of: 0), count: 2, datatype: column, into: &part, count: 2 * rows, datatype: double, root: 0)
        require(part == columnValues(of: 0, 2 * r) + columnValues(of: 0, 2 * r + 1), "async scatter of columns")
        var everyone = [Double](repeating: -1, count: rows * columns)
        try await world.allgather(grid(of: r), count: 1, datatype: column, into: &everyone, count: 1, datatype: column)
        require(columnsOf(everyone) == (0..<columns).map { $0 < n ? columnValues(of: $0, 0) : [Double](repeating: -1, count: rows) }, "async allgather")
        var exchanged = [Double](repeating: -1, count: rows * columns)
        try await world.alltoall(grid(of: r), count: 2, datatype: column, into: &exchanged, count: 2, datatype: column)
        require(
            columnsOf(exchanged) == (0..<columns).map { $0 < 2 * n ? columnValues(of: $0 / 2, 2 * r + $0 % 2) : [Double](repeating: -1, count: rows) },
            "async alltoall of columns")
        // A receive side describing a different size is an error here too.
        var small = [Double](repeating: 0, count: 1)
        do {
            try await world.allgather([1.0, 2.0], count: 2, datatype: double, into: &small, count: 1, datatype: double)
            require(false, "async allgather into too small a datatype count was accepted")
        } catch let error as MPIError {
            require(error.code == .invalidCount, "async allgather mismatch: \(error)")
        }
    }
}

/// alltoallw: rank r sends rank i the i + 1 Int32s from element (n + 1) i of its array, and lands the
/// r + 1 elements from rank j as a stride-2 vector at byte 8 j (r + 1) of its buffer; the gaps stay
/// untouched. Lists of the wrong length and blocks outside their arrays throw before anything moves.
func checkAlltoallw(_ world: Communicator) throws {
    let n = world.size, r = world.rank
    let int32 = Datatype(Int32.self)
    let values = (0..<((n + 1) * n)).map { Int32(r * 1000 + $0) }
    let spread = try Datatype.vector(count: r + 1, blockLength: 1, stride: 2, of: int32)
    var buffer = [Int32](repeating: -1, count: n * 2 * (r + 1))
    try world.alltoallw(
        values, sendCounts: (0..<n).map { $0 + 1 }, sendDisplacements: (0..<n).map { 4 * (n + 1) * $0 }, sendTypes: [Datatype](repeating: int32, count: n),
        into: &buffer, receiveCounts: [Int](repeating: 1, count: n), receiveDisplacements: (0..<n).map { 8 * $0 * (r + 1) },
        receiveTypes: [Datatype](repeating: spread, count: n))
    let expected = (0..<(n * 2 * (r + 1))).map { index -> Int32 in
        let j = index / (2 * (r + 1)), k = index % (2 * (r + 1))
        return k % 2 == 0 ? Int32(j * 1000 + (n + 1) * r + k / 2) : -1
    }
    require(buffer == expected, "alltoallw on \(n) ranks: \(buffer), expected \(expected)")
    requireError(.invalidCount) {
        try world.alltoallw(
            values, sendCounts: [Int](repeating: 1, count: n + 1), sendDisplacements: [Int](repeating: 0, count: n),
            sendTypes: [Datatype](repeating: int32, count: n), into: &buffer, receiveCounts: [Int](repeating: 1, count: n),
            receiveDisplacements: [Int](repeating: 0, count: n), receiveTypes: [Datatype](repeating: int32, count: n))
    }
    requireError(.invalidCount) {
        try world.alltoallw(
            values, sendCounts: [Int](repeating: 1, count: n), sendDisplacements: [Int](repeating: 4 * (n + 1) * n, count: n),
            sendTypes: [Datatype](repeating: int32, count: n), into: &buffer, receiveCounts: [Int](repeating: 1, count: n),
            receiveDisplacements: [Int](repeating: 0, count: n), receiveTypes: [Datatype](repeating: int32, count: n))
    }
}

/// ialltoallw and the awaited alltoallw give what the blocking form gives (the exchange of
/// ``checkAlltoallw(_:)``), and the nonblocking one's result keeps the array's other elements.
func checkNonblockingAlltoallw(_ world: Communicator) throws {
    let n = world.size, r = world.rank
    let int32 = Datatype(Int32.self)
    let values = (0..<((n + 1) * n)).map { Int32(r * 1000 + $0) }
    let spread = try Datatype.vector(count: r + 1, blockLength: 1, stride: 2, of: int32)
    let sendCounts = (0..<n).map { $0 + 1 }, sendDisplacements = (0..<n).map { 4 * (n + 1) * $0 }
    let receiveDisplacements = (0..<n).map { 8 * $0 * (r + 1) }
    let expected = (0..<(n * 2 * (r + 1))).map { index -> Int32 in
        let j = index / (2 * (r + 1)), k = index % (2 * (r + 1))
        return k % 2 == 0 ? Int32(j * 1000 + (n + 1) * r + k / 2) : -7
    }
    let request = try world.ialltoallw(
        values, sendCounts: sendCounts, sendDisplacements: sendDisplacements, sendTypes: [Datatype](repeating: int32, count: n),
        into: [Int32](repeating: -7, count: n * 2 * (r + 1)), receiveCounts: [Int](repeating: 1, count: n), receiveDisplacements: receiveDisplacements,
        receiveTypes: [Datatype](repeating: spread, count: n))
    require(try request.wait() == expected, "ialltoallw on \(n) ranks")
    awaitTask("awaited alltoallw") {
        var buffer = [Int32](repeating: -7, count: n * 2 * (r + 1))
        try await world.alltoallw(
            values, sendCounts: sendCounts, sendDisplacements: sendDisplacements, sendTypes: [Datatype](repeating: int32, count: n),
            into: &buffer, receiveCounts: [Int](repeating: 1, count: n), receiveDisplacements: receiveDisplacements,
            receiveTypes: [Datatype](repeating: spread, count: n))
        require(buffer == expected, "awaited alltoallw on \(n) ranks")
    }
    // Persistent (MPI_Alltoallw_init) on owned memory: two runs with different contributions; the
    // gaps no block covers stay zero.
    let persistent = try world.alltoallwInit(
        sendElements: values.count, of: Int32.self, sendCounts: sendCounts, sendDisplacements: sendDisplacements,
        sendTypes: [Datatype](repeating: int32, count: n), receiveElements: n * 2 * (r + 1), of: Int32.self,
        receiveCounts: [Int](repeating: 1, count: n), receiveDisplacements: receiveDisplacements, receiveTypes: [Datatype](repeating: spread, count: n))
    for run in 0..<2 {
        try persistent.start(with: values.map { $0 + Int32(run) })
        let got = try persistent.wait()
        require(
            got == expected.map { $0 == -7 ? 0 : $0 + Int32(run) },
            "alltoallwInit run \(run) on \(n) ranks: \(got)")
    }
    requireError(.invalidCount) {
        _ = try world.alltoallwInit(
            sendElements: -1, of: Int32.self, sendCounts: [], sendDisplacements: [], sendTypes: [], receiveElements: 0, of: Int32.self,
            receiveCounts: [], receiveDisplacements: [], receiveTypes: [])
    }
    requireError(.invalidCount) {
        _ = try world.alltoallwInit(
            sendElements: 0, of: Int32.self, sendCounts: sendCounts, sendDisplacements: sendDisplacements,
            sendTypes: [Datatype](repeating: int32, count: n), receiveElements: n * 2 * (r + 1), of: Int32.self,
            receiveCounts: [Int](repeating: 1, count: n), receiveDisplacements: receiveDisplacements, receiveTypes: [Datatype](repeating: spread, count: n))
    }
}
