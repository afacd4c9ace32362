/// A process graph attached to a communicator, for irregular neighbourhoods (an unstructured mesh):
/// made by ``Communicator/distGraphCreateAdjacent(sources:destinations:weights:reorder:)``,
/// ``Communicator/distGraphCreate(sources:degrees:destinations:weights:reorder:)`` or
/// ``Communicator/graphCreate(index:edges:reorder:)``.
///
/// Each rank holds only its own edges — O(degree) memory, not O(edges of the job) — except after
/// `graphCreate`, whose callers pass the whole graph (MPI_Graph_create's contract).
public struct GraphTopology: Sendable, Equatable {
    /// The ranks this rank receives from in neighbourhood collectives, in order (in-edges).
    public let sources: [Int]
    /// The ranks this rank sends to in neighbourhood collectives, in order (out-edges).
    public let destinations: [Int]
    /// Each in-edge's weight, when the graph was made with weights.
    public let sourceWeights: [Int]?
    /// Each out-edge's weight, when the graph was made with weights.
    public let destinationWeights: [Int]?
    /// Every rank's neighbours, for a graph made by `graphCreate` (MPI_Graph_neighbors of any rank);
    /// nil for distributed graphs.
    public let allNeighbors: [[Int]]?

    /// Whether the graph carries edge weights (MPI_Dist_graph_neighbors_count's `weighted`).
    public var isWeighted: Bool { sourceWeights != nil }
}

extension Communicator {
    /// A communicator over the same ranks with this rank's in-edges `sources` and out-edges
    /// `destinations` (MPI_Dist_graph_create_adjacent). Collective. Every edge must be given by both
    /// of its ends (the sender lists it in `destinations`, the receiver in `sources`); an edge may
    /// appear more than once. `weights` (in-edge weights, out-edge weights) are stored and returned,
    /// not used. `reorder` is accepted and ignored: ranks keep their numbers.
    public func distGraphCreateAdjacent(
        sources: [Int], destinations: [Int], weights: (sources: [Int], destinations: [Int])? = nil, reorder: Bool = false
    ) throws(MPIError) -> Communicator {
        try typedErrors {
            let call: StaticString = "distGraphCreateAdjacent"
            try checkNeighbors(sources, call)
            try checkNeighbors(destinations, call)
            if let weights {
                guard weights.sources.count == sources.count, weights.destinations.count == destinations.count else {
                    throw MPIError(
                        .invalidArgument,
                        "\(call): \(weights.sources.count) and \(weights.destinations.count) "
                            + "weights for \(sources.count) sources and \(destinations.count) destinations"
                    )
                }
            }
            let graph = GraphTopology(
                sources: sources, destinations: destinations, sourceWeights: weights?.sources, destinationWeights: weights?.destinations,
                allNeighbors: nil)
            return try withTopology(.graph(graph))
        }
    }

    /// A communicator over the same ranks whose graph has, from every rank's call together, an edge
    /// from `sources[i]` to each of the next `degrees[i]` entries of `destinations`
    /// (MPI_Dist_graph_create): any rank may describe any edge. Collective; the edges reach their
    /// ends through one all-to-all exchange. Each rank's in-edges are ordered by source rank, its
    /// out-edges by destination rank (MPI leaves the order to the implementation). `reorder` is
    /// accepted and ignored.
    public func distGraphCreate(
        sources: [Int], degrees: [Int], destinations: [Int], weights: [Int]? = nil, reorder: Bool = false
    ) throws(MPIError) -> Communicator {
        try typedErrors {
            let call: StaticString = "distGraphCreate"
            guard sources.count == degrees.count, degrees.allSatisfy({ $0 >= 0 }), degrees.reduce(0, +) == destinations.count else {
                throw MPIError(
                    .invalidArgument,
                    "\(call): \(sources.count) sources need as many non-negative degrees summing to the \(destinations.count) destinations, got \(degrees)")
            }
            if let weights, weights.count != destinations.count {
                throw MPIError(.invalidArgument, "\(call): \(weights.count) weights for \(destinations.count) edges")
            }
            try checkNeighbors(sources, call)
            try checkNeighbors(destinations, call)
            // Every edge goes to both ends as (kind, peer, weight): kind 0 = an in-edge from peer, 1 = an out-edge to peer.
            var outgoing = [[Int]](repeating: [], count: size)
            var edge = 0
            for (source, degree) in zip(sources, degrees) {
                for _ in 0..<degree {
                    let destination = destinations[edge], weight = weights?[edge] ?? 1
                    outgoing[destination] += [0, source, weight]
                    outgoing[source] += [1, destination, weight]
                    edge += 1
                }
            }
            let counts = try alltoall(outgoing.map(\.count))
            let records = try alltoallv(outgoing.flatMap { $0 }, sendCounts: outgoing.map(\.count), receiveCounts: counts)
            let edges = stride(from: 0, to: records.count, by: 3).map { (kind: records[$0], peer: records[$0 + 1], weight: records[$0 + 2]) }
                .sorted { ($0.kind, $0.peer) < ($1.kind, $1.peer) }
            let weighted = try allreduce([weights == nil ? 0 : 1], op: .max)[0] == 1
            let incoming = edges.filter { $0.kind == 0 }, outgoingEdges = edges.filter { $0.kind == 1 }
            let graph = GraphTopology(
                sources: incoming.map(\.peer), destinations: outgoingEdges.map(\.peer),
                sourceWeights: weighted ? incoming.map(\.weight) : nil, destinationWeights: weighted ? outgoingEdges.map(\.weight) : nil,
                allNeighbors: nil)
            return try withTopology(.graph(graph))
        }
    }

    /// A communicator over the first `index.count` ranks with the graph every rank passes whole
    /// (MPI_Graph_create): rank i's neighbours are `edges[index[i - 1]..<index[i]]` (from 0 for rank
    /// 0); nil on the ranks left out. Collective. In neighbourhood collectives each rank receives
    /// from and sends to its neighbours, in that order. `reorder` is accepted and ignored.
    public func graphCreate(index: [Int], edges: [Int], reorder: Bool = false) throws(MPIError) -> Communicator? {
        let call: StaticString = "graphCreate"
        let nodes = index.count
        guard nodes <= size, zip(index, [0] + index).allSatisfy({ $0 >= $1 }), index.last ?? 0 == edges.count else {
            throw MPIError(
                .invalidArgument,
                "\(call): index \(index) must be non-decreasing, end at the \(edges.count) edges, and have at most \(size) entries")
        }
        guard edges.allSatisfy({ $0 >= 0 && $0 < nodes }) else {
            throw MPIError(.invalidRank, "\(call): edges \(edges) name ranks outside the graph's 0..<\(nodes)")
        }
        let neighbors = (0..<nodes).map { node in Array(edges[(node == 0 ? 0 : index[node - 1])..<index[node]]) }
        let created = try split(color: rank < nodes ? 0 : MPI.undefined, key: rank)
        if let created {
            let mine = neighbors[created.rank]
            created.state.graph = GraphTopology(sources: mine, destinations: mine, sourceWeights: nil, destinationWeights: nil, allNeighbors: neighbors)
        }
        return created
    }

    /// The graph topology, if this communicator has one.
    public var graphTopology: GraphTopology? { state.graph }

    /// This rank's in-edges and out-edges, with their weights when the graph has them
    /// (MPI_Dist_graph_neighbors); also for a graph made by `graphCreate`.
    public func distGraphNeighbors() throws(MPIError) -> (sources: [Int], destinations: [Int], sourceWeights: [Int]?, destinationWeights: [Int]?) {
        guard let graph = state.graph else { throw MPIError(.invalidArgument, "distGraphNeighbors: the communicator has no graph topology") }
        return (graph.sources, graph.destinations, graph.sourceWeights, graph.destinationWeights)
    }

    /// The neighbours of `rank` (default: this rank) in a graph made by `graphCreate`
    /// (MPI_Graph_neighbors).
    public func graphNeighbors(of rank: Int? = nil) throws(MPIError) -> [Int] {
        guard let all = state.graph?.allNeighbors else { throw MPIError(.invalidArgument, "graphNeighbors: the communicator has no graphCreate topology") }
        let rank = rank ?? self.rank
        guard rank >= 0 && rank < all.count else { throw MPIError(.invalidRank, "graphNeighbors: rank \(rank) is outside 0..<\(all.count)") }
        return all[rank]
    }

    private func checkNeighbors(_ ranks: [Int], _ call: StaticString) throws {
        if let bad = ranks.first(where: { $0 < 0 || $0 >= size }) {
            throw MPIError(.invalidRank, "\(call): rank \(bad) is outside this communicator's 0..<\(size)")
        }
    }

    /// What a new communicator over the same ranks carries.
    enum TopologyKind {
        case cartesian(CartesianTopology)
        case graph(GraphTopology)
    }

    /// A new communicator over the same ranks (a private context, as `dup`) with `topology`.
    private func withTopology(_ topology: TopologyKind) throws -> Communicator {
        let created = try dup()
        switch topology {
        case .cartesian(let cartesian): created.state.topology = cartesian; created.state.graph = nil
        case .graph(let graph): created.state.topology = nil; created.state.graph = graph
        }
        return created
    }
}
