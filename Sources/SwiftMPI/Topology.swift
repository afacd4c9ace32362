/// A Cartesian process grid attached to a communicator (MPI_Cart_create), for stencil codes.
public struct CartesianTopology: Sendable, Equatable {
    /// The extent of each dimension.
    public let dimensions: [Int]
    /// Whether each dimension wraps around.
    public let periodic: [Bool]

    /// The coordinates of `rank` (row-major: the last dimension varies fastest).
    public func coordinates(of rank: Int) -> [Int] {
        var remainder = rank
        var coordinates = [Int](repeating: 0, count: dimensions.count)
        for index in dimensions.indices.reversed() {
            coordinates[index] = remainder % dimensions[index]
            remainder /= dimensions[index]
        }
        return coordinates
    }

    /// The rank at `coordinates`, wrapping periodic dimensions; nil outside a non-periodic edge.
    public func rank(at coordinates: [Int]) -> Int? {
        var rank = 0
        for index in dimensions.indices {
            var coordinate = coordinates[index]
            if periodic[index] {
                coordinate = ((coordinate % dimensions[index]) + dimensions[index]) % dimensions[index]
            } else if coordinate < 0 || coordinate >= dimensions[index] {
                return nil
            }
            rank = rank * dimensions[index] + coordinate
        }
        return rank
    }
}

extension MPI {
    /// Balanced dimensions for `nodes` processes in `dimensions` dimensions (MPI_Dims_create): entries
    /// of `fixed` that are nonzero are kept; the rest are filled as evenly as possible, largest first.
    /// Throws `.invalidArgument` when the fixed entries do not divide `nodes`.
    public static func dimsCreate(nodes: Int, dimensions: Int, fixed: [Int]? = nil) throws(MPIError) -> [Int] {
        var result = fixed ?? [Int](repeating: 0, count: dimensions)
        guard result.count == dimensions, nodes > 0 else {
            throw MPIError(.invalidArgument, "dimsCreate: \(dimensions) dimensions with \(result.count) given, \(nodes) nodes")
        }
        let fixedProduct = result.filter { $0 > 0 }.reduce(1, *)
        guard nodes % fixedProduct == 0 else {
            throw MPIError(.invalidArgument, "dimsCreate: fixed dimensions \(result) do not divide \(nodes)")
        }
        let remaining = nodes / fixedProduct
        let free = result.indices.filter { result[$0] == 0 }
        if free.isEmpty && remaining != 1 { throw MPIError(.invalidArgument, "dimsCreate: no free dimension") }
        for (slot, size) in zip(free, balancedFactors(remaining, count: free.count)) { result[slot] = size }
        return result
    }

    /// `n` as `count` factors, largest first, whose largest and smallest are closest; on a tie, the
    /// one with the larger smallest factor, then the larger next-smallest, and so on (the choices
    /// MPICH makes, which its test suite checks). A depth-first search over `n`'s divisors that stops
    /// where a smaller factor can only widen the spread.
    static func balancedFactors(_ n: Int, count: Int) -> [Int] {
        guard count > 0 else { return [] }
        let divisors = (1...Int(Double(n).squareRoot() + 1)).filter { $0 * $0 <= n && n % $0 == 0 }.flatMap { [$0, n / $0] }
        let descending = Array(Set(divisors)).sorted(by: >)
        var best: [Int] = []
        var current: [Int] = []
        func isBetter(_ candidate: [Int]) -> Bool {
            guard let bestFirst = best.first, let bestLast = best.last else { return true }
            let (spread, bestSpread) = (candidate[0] - candidate[candidate.count - 1], bestFirst - bestLast)
            if spread != bestSpread { return spread < bestSpread }
            return best.reversed().lexicographicallyPrecedes(candidate.reversed())
        }
        /// True when `factor` raised to `power` reaches `target` (so `power` factors of at most
        /// `factor` can multiply to it).
        func reaches(_ factor: Int, _ power: Int, _ target: Int) -> Bool {
            var product = 1
            for _ in 0..<power {
                product *= factor
                if product >= target { return true }
            }
            return product >= target
        }
        func search(_ remaining: Int, _ left: Int, _ upper: Int) {
            if left == 1 {
                guard remaining <= upper else { return }
                current.append(remaining)
                if isBetter(current) { best = current }
                current.removeLast()
                return
            }
            for factor in descending where factor <= upper && remaining % factor == 0 {
                guard reaches(factor, left, remaining) else { break }  // smaller factors cannot reach it either
                if let first = current.first, let bestFirst = best.first, let bestLast = best.last, first - factor > bestFirst - bestLast { break }
                current.append(factor)
                search(remaining / factor, left - 1, factor)
                current.removeLast()
            }
        }
        search(n, count, n)
        return best
    }
}

extension Communicator {
    /// A communicator with a Cartesian topology over the first `dims.reduce(1, *)` ranks
    /// (MPI_Cart_create); nil on the ranks left out. Collective. `reorder` is accepted and ignored
    /// (ranks keep their order).
    public func cartCreate(dims: [Int], periods: [Bool], reorder: Bool = false) throws(MPIError) -> Communicator? {
        guard dims.count == periods.count, dims.allSatisfy({ $0 > 0 }) else {
            throw MPIError(.invalidArgument, "cartCreate: dims \(dims) and periods \(periods) must match and be positive")
        }
        let nodes = dims.reduce(1, *)
        guard nodes <= size else {
            throw MPIError(.invalidArgument, "cartCreate: a grid of \(nodes) needs more than the \(size) ranks")
        }
        let created = try split(color: rank < nodes ? 0 : MPI.undefined, key: rank)
        created?.state.topology = CartesianTopology(dimensions: dims, periodic: periods)
        return created
    }

    /// The Cartesian topology, if this communicator has one.
    public var topology: CartesianTopology? { state.topology }

    /// This rank's coordinates (or another rank's) in the Cartesian topology (MPI_Cart_coords).
    public func cartCoords(_ rank: Int? = nil) throws(MPIError) -> [Int] {
        guard let topology = state.topology else { throw MPIError(.invalidArgument, "cartCoords: the communicator has no Cartesian topology") }
        return topology.coordinates(of: rank ?? self.rank)
    }

    /// The ranks `displacement` steps down and up along `dimension` (MPI_Cart_shift): `MPI.procNull`
    /// past a non-periodic edge, so halo exchanges need no special cases.
    public func cartShift(dimension: Int, displacement: Int) throws(MPIError) -> (source: Int, destination: Int) {
        guard let topology = state.topology, dimension >= 0, dimension < topology.dimensions.count else {
            throw MPIError(.invalidArgument, "cartShift: no dimension \(dimension) in this communicator's topology")
        }
        var coordinates = topology.coordinates(of: rank)
        let here = coordinates[dimension]
        coordinates[dimension] = here - displacement
        let source = topology.rank(at: coordinates) ?? MPI.procNull
        coordinates[dimension] = here + displacement
        let destination = topology.rank(at: coordinates) ?? MPI.procNull
        return (source, destination)
    }

    /// The rank at `coordinates` (MPI_Cart_rank): periodic dimensions wrap; a coordinate outside a
    /// non-periodic dimension throws `.invalidRank`.
    public func cartRank(_ coordinates: [Int]) throws(MPIError) -> Int {
        guard let topology = state.topology else { throw MPIError(.invalidArgument, "cartRank: the communicator has no Cartesian topology") }
        guard coordinates.count == topology.dimensions.count else {
            throw MPIError(.invalidArgument, "cartRank: \(coordinates.count) coordinates for \(topology.dimensions.count) dimensions")
        }
        guard let rank = topology.rank(at: coordinates) else {
            throw MPIError(.invalidRank, "cartRank: \(coordinates) is outside the grid \(topology.dimensions) (periodic: \(topology.periodic))")
        }
        return rank
    }

    /// The sub-grids that keep the dimensions where `keep` is true (MPI_Cart_sub): one communicator
    /// per combination of the dropped coordinates, e.g. `keep: [false, true]` gives each row of a 2-D
    /// grid; ranks are ordered as in the grid. Keeping no dimension gives each rank a communicator of
    /// its own (a 0-dimensional grid). Collective.
    public func cartSub(keep: [Bool]) throws(MPIError) -> Communicator {
        guard let topology = state.topology else { throw MPIError(.invalidArgument, "cartSub: the communicator has no Cartesian topology") }
        guard keep.count == topology.dimensions.count else {
            throw MPIError(.invalidArgument, "cartSub: keep has \(keep.count) entries for \(topology.dimensions.count) dimensions")
        }
        let coordinates = topology.coordinates(of: rank)
        var color = 0
        for (dimension, kept) in keep.enumerated() where !kept { color = color * topology.dimensions[dimension] + coordinates[dimension] }
        guard let created = try split(color: color, key: rank) else {
            throw MPIError(.internalError, "cartSub: split returned no communicator")
        }
        let kept = keep.indices.filter { keep[$0] }
        created.state.topology = CartesianTopology(dimensions: kept.map { topology.dimensions[$0] }, periodic: kept.map { topology.periodic[$0] })
        return created
    }

    /// The rank this process would have in `cartCreate(dims:periods:)` (MPI_Cart_map), or nil if it
    /// would be left out. SwiftMPI does not renumber ranks for a topology, so this is the rank itself
    /// when it is below the grid's size. Local.
    public func cartMap(dims: [Int], periods: [Bool]) throws(MPIError) -> Int? {
        guard dims.count == periods.count, dims.allSatisfy({ $0 > 0 }), dims.reduce(1, *) <= size else {
            throw MPIError(.invalidArgument, "cartMap: dims \(dims) and periods \(periods) must match, be positive, and fit the \(size) ranks")
        }
        return rank < dims.reduce(1, *) ? rank : nil
    }
}
