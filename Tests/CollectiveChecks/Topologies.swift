// Topologies and neighbourhood collectives, checked against what a serial walk of the same grid or
// graph expects, on every rank count (MPI.procNull neighbours past non-periodic edges, neighbours that
// appear twice on periodic dimensions of size 1 and 2, multi-edges, zero counts).
import SwiftMPI

func checkTopologies(_ world: Communicator) throws {
    let n = world.size, r = world.rank
    func expectError(_ code: MPIError.Code, _ what: String, _ body: () throws -> Void) {
        do {
            try body()
            require(false, "\(what) accepted")
        } catch let error as MPIError {
            require(error.code == code && error.description.hasPrefix("rank \(r): "), "\(what): \(error)")
        } catch {
            require(false, "\(what): \(error)")
        }
    }

    // A 2-D grid, periodic in its first dimension only, and a 1-D ring.
    let dims = try MPI.dimsCreate(nodes: n, dimensions: 2)
    for (gridDims, periods) in [(dims, [true, false]), ([n], [true])] {
        guard let grid = try world.cartCreate(dims: gridDims, periods: periods) else { continue }
        let topology = grid.topology!
        let coordinates = try grid.cartCoords()
        require(try grid.cartRank(coordinates) == grid.rank, "cartRank(cartCoords) on \(gridDims)")
        var wrapped = coordinates
        wrapped[0] += gridDims[0]
        require(try grid.cartRank(wrapped) == grid.rank, "cartRank wraps the periodic dimension of \(gridDims)")
        if gridDims.count == 2 {
            expectError(.invalidRank, "cartRank past a non-periodic edge") { _ = try grid.cartRank([0, gridDims[1]]) }
        }
        require(try grid.cartMap(dims: gridDims, periods: periods) == grid.rank, "cartMap")
        // Serial neighbour list: for each dimension, one step down, then one step up.
        var neighbors: [Int] = []
        for dimension in gridDims.indices {
            for step in [-1, 1] {
                var at = coordinates
                at[dimension] += step
                neighbors.append(topology.rank(at: at) ?? MPI.procNull)
            }
        }
        let gathered = try grid.neighborAllgather([grid.rank * 10 + 1, grid.rank * 10 + 2])
        let expectedGather = neighbors.flatMap { $0 == MPI.procNull ? [0, 0] : [$0 * 10 + 1, $0 * 10 + 2] }
        require(gathered == expectedGather, "neighborAllgather on \(gridDims) \(periods): \(gathered), expected \(expectedGather)")
        // Block k goes to neighbour k; neighbour k sent me its block k ^ 1 (I am its opposite neighbour).
        let blocks = neighbors.indices.flatMap { [grid.rank * 100 + $0, -grid.rank] }
        let exchanged = try grid.neighborAlltoall(blocks)
        let expectedExchange = neighbors.indices.flatMap { k in neighbors[k] == MPI.procNull ? [0, 0] : [neighbors[k] * 100 + (k ^ 1), -neighbors[k]] }
        require(exchanged == expectedExchange, "neighborAlltoall on \(gridDims) \(periods): \(exchanged), expected \(expectedExchange)")
        var buffered = [Int](repeating: -9, count: blocks.count)
        try blocks.withUnsafeBufferPointer { input in
            try buffered.withUnsafeMutableBufferPointer { output in _ = try grid.ineighborAlltoall(input, into: output).wait() }
        }
        let untouched = neighbors.indices.flatMap { k in neighbors[k] == MPI.procNull ? [-9, -9] : [neighbors[k] * 100 + (k ^ 1), -neighbors[k]] }
        require(buffered == untouched, "ineighborAlltoall on \(gridDims) leaves MPI.procNull blocks untouched: \(buffered)")
        // neighborAlltoallw: block k travels as a strided pair (a vector type over the blocks stored
        // column-wise) and lands contiguous, the slots in reverse order; procNull blocks untouched.
        let slots = neighbors.count, intType = Datatype(Int.self), stride = MemoryLayout<Int>.stride
        let columns = (0..<slots).map { blocks[2 * $0] } + (0..<slots).map { blocks[2 * $0 + 1] }
        let pair = try Datatype.vector(count: 2, blockLength: 1, stride: slots, of: intType)
        var faces = [Int](repeating: -9, count: 2 * slots)
        let reversedSlots = (0..<slots).map { (slots - 1 - $0) * 2 * stride }
        try grid.neighborAlltoallw(
            columns, sendCounts: [Int](repeating: 1, count: slots), sendDisplacements: (0..<slots).map { $0 * stride },
            sendTypes: [Datatype](repeating: pair, count: slots), into: &faces, receiveCounts: [Int](repeating: 2, count: slots),
            receiveDisplacements: reversedSlots, receiveTypes: [Datatype](repeating: intType, count: slots))
        let expectedFaces = (0..<slots).reversed().flatMap { k in neighbors[k] == MPI.procNull ? [-9, -9] : [neighbors[k] * 100 + (k ^ 1), -neighbors[k]] }
        require(faces == expectedFaces, "neighborAlltoallw on \(gridDims): \(faces), expected \(expectedFaces)")
        let ifaces = try grid.ineighborAlltoallw(
            columns, sendCounts: [Int](repeating: 1, count: slots), sendDisplacements: (0..<slots).map { $0 * stride },
            sendTypes: [Datatype](repeating: pair, count: slots), into: [Int](repeating: -9, count: 2 * slots),
            receiveCounts: [Int](repeating: 2, count: slots), receiveDisplacements: reversedSlots,
            receiveTypes: [Datatype](repeating: intType, count: slots))
        require(try ifaces.wait() == expectedFaces, "ineighborAlltoallw on \(gridDims)")
        let persistentFaces = try grid.neighborAlltoallwInit(
            sendElements: columns.count, of: Int.self, sendCounts: [Int](repeating: 1, count: slots), sendDisplacements: (0..<slots).map { $0 * stride },
            sendTypes: [Datatype](repeating: pair, count: slots), receiveElements: 2 * slots, of: Int.self,
            receiveCounts: [Int](repeating: 2, count: slots), receiveDisplacements: reversedSlots, receiveTypes: [Datatype](repeating: intType, count: slots))
        for round in 0..<2 {
            try persistentFaces.start(with: columns.map { $0 + round })
            var expectedRound: [Int] = []
            for k in (0..<slots).reversed() {
                let neighbor: Int = neighbors[k]
                if neighbor == MPI.procNull {
                    expectedRound += [0, 0]
                } else {
                    expectedRound += [neighbor * 100 + (k ^ 1) + round, -neighbor + round]
                }
            }
            require(try persistentFaces.wait() == expectedRound, "neighborAlltoallwInit on \(gridDims), round \(round)")
        }
        awaitTask("awaited neighborAlltoallw") {
            var awaited = [Int](repeating: -9, count: 2 * slots)
            try await grid.neighborAlltoallw(
                columns, sendCounts: [Int](repeating: 1, count: slots), sendDisplacements: (0..<slots).map { $0 * stride },
                sendTypes: [Datatype](repeating: pair, count: slots), into: &awaited, receiveCounts: [Int](repeating: 2, count: slots),
                receiveDisplacements: reversedSlots, receiveTypes: [Datatype](repeating: intType, count: slots))
            require(awaited == expectedFaces, "awaited neighborAlltoallw on \(gridDims)")
        }
        expectError(.invalidCount, "neighborAlltoallw with a block past the array") {
            try grid.neighborAlltoallw(
                columns, sendCounts: [Int](repeating: 1, count: slots), sendDisplacements: (0..<slots).map { $0 * stride + stride },
                sendTypes: [Datatype](repeating: pair, count: slots), into: &faces, receiveCounts: [Int](repeating: 2, count: slots),
                receiveDisplacements: reversedSlots, receiveTypes: [Datatype](repeating: intType, count: slots))
        }
        var everyGather = [Int](repeating: -9, count: 2 * neighbors.count)
        try [grid.rank * 10 + 1, grid.rank * 10 + 2].withUnsafeBufferPointer { input in
            try everyGather.withUnsafeMutableBufferPointer { output in _ = try grid.ineighborAllgather(input, into: output).wait() }
        }
        require(everyGather == neighbors.flatMap { $0 == MPI.procNull ? [-9, -9] : [$0 * 10 + 1, $0 * 10 + 2] }, "ineighborAllgather: \(everyGather)")
        // The owned forms give what the blocking ones do: nonblocking, awaited and persistent.
        require(try grid.ineighborAllgather([grid.rank * 10 + 1, grid.rank * 10 + 2]).wait() == expectedGather, "ineighborAllgather(array)")
        require(try grid.ineighborAlltoall(blocks).wait() == expectedExchange, "ineighborAlltoall(array)")
        require(
            try grid.ineighborAllgatherv([grid.rank * 10 + 1], counts: [Int](repeating: 1, count: neighbors.count)).wait()
                == neighbors.map { $0 == MPI.procNull ? 0 : $0 * 10 + 1 }, "ineighborAllgatherv")
        awaitTask("async neighbourhood collectives") {
            let awaitedGather = try await grid.neighborAllgather([grid.rank * 10 + 1, grid.rank * 10 + 2])
            require(awaitedGather == expectedGather, "awaited neighborAllgather: \(awaitedGather)")
            let awaitedExchange = try await grid.neighborAlltoall(blocks)
            require(awaitedExchange == expectedExchange, "awaited neighborAlltoall: \(awaitedExchange)")
        }
        let persistentGather = try grid.neighborAllgatherInit(count: 2, of: Int.self)
        let persistentExchange = try grid.neighborAlltoallInit(count: 2, of: Int.self)
        for round in 0..<2 {
            try persistentGather.start(with: [grid.rank * 10 + 1 + round, grid.rank * 10 + 2])
            let expectedRound = neighbors.flatMap { $0 == MPI.procNull ? [0, 0] : [$0 * 10 + 1 + round, $0 * 10 + 2] }
            require(try persistentGather.wait() == expectedRound, "neighborAllgatherInit(count:of:) round \(round)")
            try persistentExchange.start(with: blocks)
            require(try persistentExchange.wait() == expectedExchange, "neighborAlltoallInit(count:of:) round \(round)")
        }
        let persistentGatherv = try grid.neighborAllgathervInit(count: 1, of: Int.self, counts: [Int](repeating: 1, count: neighbors.count))
        for round in 0..<2 {
            try persistentGatherv.start(with: [grid.rank * 10 + round])
            require(
                try persistentGatherv.wait() == neighbors.map { $0 == MPI.procNull ? 0 : $0 * 10 + round }, "neighborAllgathervInit round \(round)")
        }

        // Sub-grids: the rows (keep the last dimension) and the columns (keep the first).
        if gridDims.count == 2 {
            let row = try grid.cartSub(keep: [false, true])
            require(row.size == gridDims[1] && row.rank == coordinates[1], "cartSub row: rank \(row.rank) of \(row.size)")
            require(row.topology?.dimensions == [gridDims[1]] && row.topology?.periodic == [false], "cartSub row topology \(String(describing: row.topology))")
            let rowMembers = try row.allgather([grid.rank])
            require(rowMembers == (0..<gridDims[1]).map { coordinates[0] * gridDims[1] + $0 }, "cartSub row members \(rowMembers)")
            let column = try grid.cartSub(keep: [true, false])
            require(column.size == gridDims[0] && column.rank == coordinates[0], "cartSub column")
            let columnMembers = try column.allgather([grid.rank])
            require(columnMembers == (0..<gridDims[0]).map { $0 * gridDims[1] + coordinates[1] }, "cartSub column members \(columnMembers)")
            let alone = try grid.cartSub(keep: [false, false])
            require(alone.size == 1, "cartSub keeping no dimension: \(alone.size) ranks")
            expectError(.invalidArgument, "cartSub with 3 entries") { _ = try grid.cartSub(keep: [true, true, true]) }
        }
    }

    // A distributed graph: r receives from r - 1 and r + 2, sends to r + 1 and r - 2 (mod n; with
    // n <= 3 several edges join the same two ranks, and they still pair up in order).
    let sources = [(r - 1 + n) % n, (r + 2) % n], destinations = [(r + 1) % n, (r - 2 + 2 * n) % n]
    let graph = try world.distGraphCreateAdjacent(
        sources: sources, destinations: destinations, weights: (sources: sources.map { $0 * 100 + r }, destinations: destinations.map { r * 100 + $0 }))
    let (inEdges, outEdges, inWeights, outWeights) = try graph.distGraphNeighbors()
    require(inEdges == sources && outEdges == destinations && inWeights == sources.map { $0 * 100 + r }, "distGraphNeighbors")
    require(outWeights == destinations.map { r * 100 + $0 } && graph.graphTopology?.isWeighted == true, "distGraphNeighbors weights")
    // Destination i gets i + 1 elements; source 0 sent me its destination-0 block (1 element), source 1 its destination-1 block (2).
    let payload = [r * 1000] + [r * 1000 + 10, r * 1000 + 11]
    let received = try graph.neighborAlltoallv(payload, sendCounts: [1, 2], receiveCounts: [1, 2])
    let expectedGraph = [sources[0] * 1000, sources[1] * 1000 + 10, sources[1] * 1000 + 11]
    require(received == expectedGraph, "neighborAlltoallv on a graph: \(received), expected \(expectedGraph)")
    // With displacements: the blocks taken from (and placed at) other places, gaps left zero.
    let spread = [-1, r * 1000 + 10, r * 1000 + 11, -1, r * 1000]  // destination 0's block at 4, destination 1's at 1
    let placed = try graph.neighborAlltoallv(spread, sendCounts: [1, 2], sendDisplacements: [4, 1], recvCounts: [1, 2], recvDisplacements: [3, 0])
    require(placed == [expectedGraph[1], expectedGraph[2], 0, expectedGraph[0]], "neighborAlltoallv with displacements: \(placed)")
    let gatheredAt = try graph.neighborAllgatherv([r + 1, r + 2], counts: [2, 2], displacements: [3, 0])
    require(gatheredAt == [sources[1] + 1, sources[1] + 2, 0, sources[0] + 1, sources[0] + 2], "neighborAllgatherv with displacements: \(gatheredAt)")
    expectError(.invalidArgument, "neighborAllgatherv with overlapping displacements") {
        _ = try graph.neighborAllgatherv([r], counts: [1, 1], displacements: [0, 0])
    }
    require(try graph.ineighborAlltoallv(payload, sendCounts: [1, 2], receiveCounts: [1, 2]).wait() == expectedGraph, "ineighborAlltoallv on a graph")
    awaitTask("awaited neighborAlltoallv") {
        let awaited = try await graph.neighborAlltoallv(payload, sendCounts: [1, 2], receiveCounts: [1, 2])
        require(awaited == expectedGraph, "awaited neighborAlltoallv on a graph: \(awaited)")
    }
    let persistentGraph = try graph.neighborAlltoallvInit(of: Int.self, sendCounts: [1, 2], receiveCounts: [1, 2])
    for round in 0..<2 {
        try persistentGraph.start(with: payload.map { $0 + round })
        require(try persistentGraph.wait() == expectedGraph.map { $0 + round }, "neighborAlltoallvInit on a graph, round \(round)")
    }
    requireError(.invalidCount) { _ = try graph.neighborAlltoallvInit(of: Int.self, sendCounts: [1, -2], receiveCounts: [1, 2]) }
    let zero = try graph.neighborAllgatherv([Int](), counts: [0, 0])
    require(zero.isEmpty, "neighborAllgatherv of nothing")
    expectError(.invalidCount, "neighborAlltoallv with 3 counts for 2 neighbours") {
        _ = try graph.neighborAlltoallv(payload, sendCounts: [1, 1, 1], receiveCounts: [1, 2])
    }
    expectError(.invalidRank, "distGraphCreateAdjacent to rank n") { _ = try world.distGraphCreateAdjacent(sources: [], destinations: [n]) }
    expectError(.invalidArgument, "neighborAllgather without a topology") { _ = try world.neighborAllgather([1]) }

    // The same graph described by rank 0 alone (distGraphCreate): each rank gets its edges, sorted.
    let all = (0..<n).flatMap { s in [(s, (s + 1) % n), (s, (s - 2 + 2 * n) % n)] }
    let described = try world.distGraphCreate(
        sources: r == 0 ? Array(0..<n) : [], degrees: r == 0 ? [Int](repeating: 2, count: n) : [],
        destinations: r == 0 ? all.map(\.1) : [], weights: r == 0 ? all.map { $0.0 * 100 + $0.1 } : [])
    let edges = try described.distGraphNeighbors()
    require(edges.sources == sources.sorted() && edges.destinations == destinations.sorted(), "distGraphCreate edges \(edges)")
    require(edges.sourceWeights == sources.sorted().map { $0 * 100 + r }, "distGraphCreate in-edge weights \(String(describing: edges.sourceWeights))")
    require(edges.destinationWeights == destinations.sorted().map { r * 100 + $0 }, "distGraphCreate out-edge weights")

    // MPI-1 graph: a ring given whole by every rank.
    let index = (1...n).map { $0 * 2 }
    let ringEdges = (0..<n).flatMap { [($0 - 1 + n) % n, ($0 + 1) % n] }
    if let ring = try world.graphCreate(index: index, edges: ringEdges) {
        require(try ring.graphNeighbors() == [(r - 1 + n) % n, (r + 1) % n] && (try ring.graphNeighbors(of: 0)) == [n - 1, 1 % n], "graphNeighbors")
        let around = try ring.neighborAllgather([r])
        require(around == [(r - 1 + n) % n, (r + 1) % n], "neighborAllgather on a graphCreate ring: \(around)")
    }
}

/// MPI.reduceLocal keeps MPI's order, values[i] = op(input[i], values[i]), also for operators that do
/// not commute, and refuses counts that differ.
func checkReduceLocal() throws {
    var values = [1, 2, 3]
    try MPI.reduceLocal([10, 20, 30], into: &values, op: .custom("left minus right", commutative: false) { $0 - $1 })
    require(values == [9, 18, 27], "reduceLocal order: \(values)")
    var sums = [1.5, 2.5]
    try MPI.reduceLocal([1, 1], into: &sums, op: .sum)
    require(sums == [2.5, 3.5], "reduceLocal sum: \(sums)")
    var empty: [Int] = []
    try MPI.reduceLocal([], into: &empty, op: .max)
    do {
        try MPI.reduceLocal([1], into: &values, op: .sum)
        require(false, "reduceLocal with 1 input element for 3 accepted")
    } catch let error {
        require(error.code == .invalidCount, "reduceLocal counts: \(error)")
    }
}
