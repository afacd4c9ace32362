import CMPI
import SwiftMPI

// Process topologies: Cartesian grids, graphs and distributed graphs.

extension CInterface {
    static func ints(_ pointer: UnsafePointer<Int32>?, _ count: Int32) throws(CError) -> [Int] {
        try array(pointer, count) { (value: Int32) throws(CError) in Int(value) }
    }

    static func store(_ values: [Int], into pointer: UnsafeMutablePointer<Int32>?, max: Int32? = nil) {
        guard let pointer else { return }
        for (index, value) in values.enumerated() where max.map({ index < Int($0) }) ?? true { pointer[index] = Int32(value) }
    }

    static func cartesian(_ comm: MPI_Comm) throws(CError) -> (Communicator, CartesianTopology) {
        let communicator = try communicator(comm)
        guard let topology = communicator.topology else { throw CError(MPI_ERR_TOPOLOGY, "the communicator has no Cartesian topology") }
        return (communicator, topology)
    }

    static func graph(_ comm: MPI_Comm) throws(CError) -> (Communicator, GraphTopology) {
        let communicator = try communicator(comm)
        guard let graph = communicator.graphTopology else { throw CError(MPI_ERR_TOPOLOGY, "the communicator has no graph topology") }
        return (communicator, graph)
    }
}

@_cdecl("PMPI_Topo_test")
public func mpiTopoTest(_ comm: MPI_Comm, _ status: UnsafeMutablePointer<Int32>?) -> Int32 {
    cCall("MPI_Topo_test", on: comm) {
        let communicator = try CInterface.communicator(comm)
        if communicator.topology != nil {
            status?.pointee = 2  // MPI_CART
        } else if let graph = communicator.graphTopology {
            status?.pointee = graph.allNeighbors != nil ? 1 : 3  // MPI_GRAPH, MPI_DIST_GRAPH
        } else {
            status?.pointee = MPI_UNDEFINED
        }
    }
}

@_cdecl("PMPI_Dims_create")
public func mpiDimsCreate(_ nodes: Int32, _ count: Int32, _ dims: UnsafeMutablePointer<Int32>?) -> Int32 {
    cCall("MPI_Dims_create") {
        let given = try CInterface.ints(dims.map { UnsafePointer($0) }, count)
        let result = try MPI.dimsCreate(nodes: Int(nodes), dimensions: Int(count), fixed: given)
        CInterface.store(result, into: dims)
    }
}

@_cdecl("PMPI_Cart_create")
public func mpiCartCreate(
    _ comm: MPI_Comm, _ count: Int32, _ dims: UnsafePointer<Int32>?, _ periods: UnsafePointer<Int32>?, _ reorder: Int32,
    _ newComm: UnsafeMutablePointer<MPI_Comm>?
) -> Int32 {
    cCall("MPI_Cart_create", on: comm) {
        guard let newComm else { throw CError(MPI_ERR_ARG, "a null communicator pointer") }
        newComm.pointee = MPI_COMM_NULL  // what an error leaves (as MPICH does)
        let grid = try CInterface.communicator(comm).cartCreate(
            dims: try CInterface.ints(dims, count), periods: try CInterface.ints(periods, count).map { $0 != 0 }, reorder: reorder != 0)
        newComm.pointee = CInterface.insert(grid, from: comm)
    }
}

@_cdecl("PMPI_Cartdim_get")
public func mpiCartdimGet(_ comm: MPI_Comm, _ count: UnsafeMutablePointer<Int32>?) -> Int32 {
    cCall("MPI_Cartdim_get", on: comm) { count?.pointee = Int32(try CInterface.cartesian(comm).1.dimensions.count) }
}

@_cdecl("PMPI_Cart_get")
public func mpiCartGet(
    _ comm: MPI_Comm, _ maxDims: Int32, _ dims: UnsafeMutablePointer<Int32>?, _ periods: UnsafeMutablePointer<Int32>?,
    _ coords: UnsafeMutablePointer<Int32>?
) -> Int32 {
    cCall("MPI_Cart_get", on: comm) {
        let (communicator, topology) = try CInterface.cartesian(comm)
        CInterface.store(topology.dimensions, into: dims, max: maxDims)
        CInterface.store(topology.periodic.map { $0 ? 1 : 0 }, into: periods, max: maxDims)
        CInterface.store(try communicator.cartCoords(), into: coords, max: maxDims)
    }
}

@_cdecl("PMPI_Cart_rank")
public func mpiCartRank(_ comm: MPI_Comm, _ coords: UnsafePointer<Int32>?, _ rank: UnsafeMutablePointer<Int32>?) -> Int32 {
    cCall("MPI_Cart_rank", on: comm) {
        let (communicator, topology) = try CInterface.cartesian(comm)
        rank?.pointee = Int32(try communicator.cartRank(try CInterface.ints(coords, Int32(topology.dimensions.count))))
    }
}

@_cdecl("PMPI_Cart_coords")
public func mpiCartCoords(_ comm: MPI_Comm, _ rank: Int32, _ maxDims: Int32, _ coords: UnsafeMutablePointer<Int32>?) -> Int32 {
    cCall("MPI_Cart_coords", on: comm) {
        let (communicator, _) = try CInterface.cartesian(comm)
        CInterface.store(try communicator.cartCoords(Int(rank)), into: coords, max: maxDims)
    }
}

@_cdecl("PMPI_Cart_shift")
public func mpiCartShift(
    _ comm: MPI_Comm, _ direction: Int32, _ displacement: Int32, _ source: UnsafeMutablePointer<Int32>?, _ destination: UnsafeMutablePointer<Int32>?
) -> Int32 {
    cCall("MPI_Cart_shift", on: comm) {
        let (communicator, _) = try CInterface.cartesian(comm)
        let shifted = try communicator.cartShift(dimension: Int(direction), displacement: Int(displacement))
        source?.pointee = CInterface.cRank(shifted.source)
        destination?.pointee = CInterface.cRank(shifted.destination)
    }
}

@_cdecl("PMPI_Cart_sub")
public func mpiCartSub(_ comm: MPI_Comm, _ remain: UnsafePointer<Int32>?, _ newComm: UnsafeMutablePointer<MPI_Comm>?) -> Int32 {
    cCall("MPI_Cart_sub", on: comm) {
        let (communicator, topology) = try CInterface.cartesian(comm)
        guard let newComm else { throw CError(MPI_ERR_ARG, "a null communicator pointer") }
        newComm.pointee = MPI_COMM_NULL  // what an error leaves (as MPICH does)
        let keep = try CInterface.ints(remain, Int32(topology.dimensions.count)).map { $0 != 0 }
        newComm.pointee = CInterface.insert(try communicator.cartSub(keep: keep), from: comm)
    }
}

@_cdecl("PMPI_Cart_map")
public func mpiCartMap(
    _ comm: MPI_Comm, _ count: Int32, _ dims: UnsafePointer<Int32>?, _ periods: UnsafePointer<Int32>?, _ rank: UnsafeMutablePointer<Int32>?
) -> Int32 {
    cCall("MPI_Cart_map", on: comm) {
        let mapped = try CInterface.communicator(comm).cartMap(
            dims: try CInterface.ints(dims, count), periods: try CInterface.ints(periods, count).map { $0 != 0 })
        rank?.pointee = mapped.map { Int32($0) } ?? MPI_UNDEFINED
    }
}

@_cdecl("PMPI_Graph_create")
public func mpiGraphCreate(
    _ comm: MPI_Comm, _ nodes: Int32, _ index: UnsafePointer<Int32>?, _ edges: UnsafePointer<Int32>?, _ reorder: Int32,
    _ newComm: UnsafeMutablePointer<MPI_Comm>?
) -> Int32 {
    cCall("MPI_Graph_create", on: comm) {
        guard let newComm else { throw CError(MPI_ERR_ARG, "a null communicator pointer") }
        newComm.pointee = MPI_COMM_NULL  // what an error leaves (as MPICH does)
        let indices = try CInterface.ints(index, nodes)
        let edgeList = try CInterface.ints(edges, Int32(indices.last ?? 0))
        newComm.pointee = CInterface.insert(try CInterface.communicator(comm).graphCreate(index: indices, edges: edgeList, reorder: reorder != 0), from: comm)
    }
}

@_cdecl("PMPI_Graphdims_get")
public func mpiGraphdimsGet(_ comm: MPI_Comm, _ nodes: UnsafeMutablePointer<Int32>?, _ edges: UnsafeMutablePointer<Int32>?) -> Int32 {
    cCall("MPI_Graphdims_get", on: comm) {
        guard let neighbors = try CInterface.graph(comm).1.allNeighbors else { throw CError(MPI_ERR_TOPOLOGY, "not an MPI_Graph_create graph") }
        nodes?.pointee = Int32(neighbors.count)
        edges?.pointee = Int32(neighbors.reduce(0) { $0 + $1.count })
    }
}

@_cdecl("PMPI_Graph_get")
public func mpiGraphGet(
    _ comm: MPI_Comm, _ maxIndex: Int32, _ maxEdges: Int32, _ index: UnsafeMutablePointer<Int32>?, _ edges: UnsafeMutablePointer<Int32>?
) -> Int32 {
    cCall("MPI_Graph_get", on: comm) {
        guard let neighbors = try CInterface.graph(comm).1.allNeighbors else { throw CError(MPI_ERR_TOPOLOGY, "not an MPI_Graph_create graph") }
        var running = 0
        CInterface.store(
            neighbors.map {
                running += $0.count; return running
            }, into: index, max: maxIndex)
        CInterface.store(neighbors.flatMap { $0 }, into: edges, max: maxEdges)
    }
}

@_cdecl("PMPI_Graph_neighbors_count")
public func mpiGraphNeighborsCount(_ comm: MPI_Comm, _ rank: Int32, _ count: UnsafeMutablePointer<Int32>?) -> Int32 {
    cCall("MPI_Graph_neighbors_count", on: comm) {
        count?.pointee = Int32(try CInterface.graph(comm).0.graphNeighbors(of: Int(rank)).count)
    }
}

@_cdecl("PMPI_Graph_neighbors")
public func mpiGraphNeighbors(_ comm: MPI_Comm, _ rank: Int32, _ maxNeighbors: Int32, _ neighbors: UnsafeMutablePointer<Int32>?) -> Int32 {
    cCall("MPI_Graph_neighbors", on: comm) {
        CInterface.store(try CInterface.graph(comm).0.graphNeighbors(of: Int(rank)), into: neighbors, max: maxNeighbors)
    }
}

@_cdecl("PMPI_Dist_graph_create_adjacent")
public func mpiDistGraphCreateAdjacent(
    _ comm: MPI_Comm, _ inDegree: Int32, _ sources: UnsafePointer<Int32>?, _ sourceWeights: UnsafePointer<Int32>?, _ outDegree: Int32,
    _ destinations: UnsafePointer<Int32>?, _ destinationWeights: UnsafePointer<Int32>?, _ info: MPI_Info, _ reorder: Int32,
    _ newComm: UnsafeMutablePointer<MPI_Comm>?
) -> Int32 {
    cCall("MPI_Dist_graph_create_adjacent", on: comm) {
        guard let newComm else { throw CError(MPI_ERR_ARG, "a null communicator pointer") }
        newComm.pointee = MPI_COMM_NULL  // what an error leaves (as MPICH does)
        let unweighted = sourceWeights == UnsafePointer(MPI_UNWEIGHTED) || destinationWeights == UnsafePointer(MPI_UNWEIGHTED)
        let empty = UnsafePointer(MPI_WEIGHTS_EMPTY)
        let weights: (sources: [Int], destinations: [Int])? =
            unweighted
            ? nil
            : (
                sourceWeights == empty ? [] : try CInterface.ints(sourceWeights, inDegree),
                destinationWeights == empty ? [] : try CInterface.ints(destinationWeights, outDegree)
            )
        let graph = try CInterface.communicator(comm).distGraphCreateAdjacent(
            sources: try CInterface.ints(sources, inDegree), destinations: try CInterface.ints(destinations, outDegree), weights: weights,
            reorder: reorder != 0)
        newComm.pointee = CInterface.insert(graph, from: comm)
    }
}

@_cdecl("PMPI_Dist_graph_create")
public func mpiDistGraphCreate(
    _ comm: MPI_Comm, _ count: Int32, _ sources: UnsafePointer<Int32>?, _ degrees: UnsafePointer<Int32>?, _ destinations: UnsafePointer<Int32>?,
    _ weights: UnsafePointer<Int32>?, _ info: MPI_Info, _ reorder: Int32, _ newComm: UnsafeMutablePointer<MPI_Comm>?
) -> Int32 {
    cCall("MPI_Dist_graph_create", on: comm) {
        guard let newComm else { throw CError(MPI_ERR_ARG, "a null communicator pointer") }
        newComm.pointee = MPI_COMM_NULL  // what an error leaves (as MPICH does)
        let degreeList = try CInterface.ints(degrees, count)
        guard let edges = Int32(exactly: degreeList.reduce(0, +)) else { throw CError(MPI_ERR_ARG, "more edges than an int counts") }
        let unweighted = weights == UnsafePointer(MPI_UNWEIGHTED)
        let weightList = unweighted ? nil : (weights == UnsafePointer(MPI_WEIGHTS_EMPTY) ? [] : try CInterface.ints(weights, edges))
        let graph = try CInterface.communicator(comm).distGraphCreate(
            sources: try CInterface.ints(sources, count), degrees: degreeList, destinations: try CInterface.ints(destinations, edges),
            weights: weightList, reorder: reorder != 0)
        newComm.pointee = CInterface.insert(graph, from: comm)
    }
}

@_cdecl("PMPI_Dist_graph_neighbors_count")
public func mpiDistGraphNeighborsCount(
    _ comm: MPI_Comm, _ inDegree: UnsafeMutablePointer<Int32>?, _ outDegree: UnsafeMutablePointer<Int32>?, _ weighted: UnsafeMutablePointer<Int32>?
) -> Int32 {
    cCall("MPI_Dist_graph_neighbors_count", on: comm) {
        let (_, graph) = try CInterface.graph(comm)
        inDegree?.pointee = Int32(graph.sources.count)
        outDegree?.pointee = Int32(graph.destinations.count)
        weighted?.pointee = graph.isWeighted ? 1 : 0
    }
}

@_cdecl("PMPI_Dist_graph_neighbors")
public func mpiDistGraphNeighbors(
    _ comm: MPI_Comm, _ maxInDegree: Int32, _ sources: UnsafeMutablePointer<Int32>?, _ sourceWeights: UnsafeMutablePointer<Int32>?,
    _ maxOutDegree: Int32, _ destinations: UnsafeMutablePointer<Int32>?, _ destinationWeights: UnsafeMutablePointer<Int32>?
) -> Int32 {
    cCall("MPI_Dist_graph_neighbors", on: comm) {
        let (_, graph) = try CInterface.graph(comm)
        CInterface.store(graph.sources, into: sources, max: maxInDegree)
        CInterface.store(graph.destinations, into: destinations, max: maxOutDegree)
        if sourceWeights != MPI_UNWEIGHTED, let weights = graph.sourceWeights { CInterface.store(weights, into: sourceWeights, max: maxInDegree) }
        if destinationWeights != MPI_UNWEIGHTED, let weights = graph.destinationWeights {
            CInterface.store(weights, into: destinationWeights, max: maxOutDegree)
        }
    }
}

@_cdecl("PMPI_Graph_map")
public func mpiGraphMap(
    _ comm: MPI_Comm, _ nodes: Int32, _ index: UnsafePointer<Int32>?, _ edges: UnsafePointer<Int32>?, _ rank: UnsafeMutablePointer<Int32>?
) -> Int32 {
    // SwiftMPI keeps ranks where they are (as MPI_Graph_create with reorder does): rank r is node r
    // when there is one, else not in the graph.
    cCall("MPI_Graph_map", on: comm) {
        let communicator = try CInterface.communicator(comm)
        guard nodes >= 0, Int(nodes) <= communicator.size else { throw CError(MPI_ERR_ARG, "\(nodes) nodes for \(communicator.size) ranks") }
        rank?.pointee = communicator.rank < Int(nodes) ? Int32(communicator.rank) : MPI_UNDEFINED
    }
}
