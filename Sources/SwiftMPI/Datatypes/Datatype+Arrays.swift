/// Datatypes for parts of multidimensional arrays: a sub-block (MPI_Type_create_subarray) and one
/// process's share of a distributed array (MPI_Type_create_darray).
extension Datatype {
    /// How a multidimensional array is laid out in memory.
    public enum ArrayOrder: Sendable {
        /// The last index varies fastest (C, Swift arrays of rows): MPI_ORDER_C.
        case rowMajor
        /// The first index varies fastest (Fortran): MPI_ORDER_FORTRAN.
        case columnMajor
    }

    /// How one dimension of a distributed array is split over the process grid's dimension.
    public enum Distribution: Sendable, Equatable {
        /// Contiguous blocks of `size` elements (nil: ⌈global size / processes⌉), MPI_DISTRIBUTE_BLOCK.
        case block(size: Int? = nil)
        /// Blocks of `size` elements dealt round-robin, MPI_DISTRIBUTE_CYCLIC.
        case cyclic(size: Int = 1)
        /// Not distributed (the grid's dimension must be 1), MPI_DISTRIBUTE_NONE.
        case none
    }

    /// The sub-block `starts ..< starts + subsizes` of an array of `sizes` elements of `type`
    /// (MPI_Type_create_subarray). Its extent is the whole array's, so consecutive instances are
    /// consecutive whole arrays.
    public static func subarray(
        sizes: [Int], subsizes: [Int], starts: [Int], of type: Datatype, order: ArrayOrder = .rowMajor
    ) throws(MPIError) -> Datatype {
        let summary = "subarray(sizes: \(sizes), subsizes: \(subsizes), starts: \(starts), of: \(type))"
        guard !sizes.isEmpty, sizes.count == subsizes.count, sizes.count == starts.count else {
            throw MPIError(.invalidDatatype, "\(summary): sizes, subsizes and starts need the same number (≥ 1) of dimensions")
        }
        for d in sizes.indices {
            guard sizes[d] >= 1, subsizes[d] >= 0, starts[d] >= 0, starts[d] <= sizes[d] - subsizes[d] else {
                throw MPIError(
                    .invalidDatatype, "\(summary): dimension \(d) needs sizes ≥ 1 and 0 ≤ starts ≤ starts + subsizes ≤ sizes")
            }
        }
        let dimensions = order == .rowMajor ? Array(sizes.indices.reversed()) : Array(sizes.indices)  // fastest first
        var element = type
        var stride = type.extent
        var offset = 0
        for d in dimensions {
            element = try Datatype.compose("", [(0, subsizes[d], element)], alignToLargestField: false, stride: stride, emptyAlignment: type.map.alignment)
            offset = try add(offset, multiply(starts[d], stride, "subarray"), summary)
            stride = try multiply(stride, sizes[d], "subarray")
        }
        return try placed(element, at: offset, extent: stride, summary)
    }

    /// The part of a `globalSizes` array of `type` that process `rank` of `size` owns when the array
    /// is split over a `processGrid` (row-major ranks) by `distributions` (MPI_Type_create_darray).
    public static func darray(
        size: Int, rank: Int, globalSizes: [Int], distributions: [Distribution], processGrid: [Int], of type: Datatype,
        order: ArrayOrder = .rowMajor
    ) throws(MPIError) -> Datatype {
        let summary =
            "darray(size: \(size), rank: \(rank), globalSizes: \(globalSizes), distributions: \(distributions), processGrid: \(processGrid), of: \(type))"
        let n = globalSizes.count
        guard n >= 1, distributions.count == n, processGrid.count == n else {
            throw MPIError(.invalidDatatype, "\(summary): globalSizes, distributions and processGrid need the same number (≥ 1) of dimensions")
        }
        guard processGrid.allSatisfy({ $0 >= 1 }), processGrid.reduce(1, *) == size, rank >= 0, rank < size else {
            throw MPIError(.invalidDatatype, "\(summary): the process grid must have \(size) processes and 0 ≤ rank < size")
        }
        // The rank's coordinates in the grid: ranks are row-major whatever the array's order.
        var coordinates = [Int](repeating: 0, count: n)
        var rest = rank
        for d in (0..<n).reversed() {
            coordinates[d] = rest % processGrid[d]
            rest /= processGrid[d]
        }
        var owned: [[Int]] = []
        for d in 0..<n {
            let global = globalSizes[d], processes = processGrid[d], c = coordinates[d]
            guard global >= 1 else { throw MPIError(.invalidDatatype, "\(summary): dimension \(d) has no elements") }
            switch distributions[d] {
            case .none:
                guard processes == 1 else {
                    throw MPIError(.invalidDatatype, "\(summary): dimension \(d) is not distributed but its grid has \(processes) processes")
                }
                owned.append(Array(0..<global))
            case .block(let requested):
                let block = requested ?? (global + processes - 1) / processes
                guard block >= 1, block * processes >= global else {
                    throw MPIError(.invalidDatatype, "\(summary): blocks of \(block) over \(processes) processes do not cover \(global) elements")
                }
                owned.append(Array(min(global, c * block)..<min(global, (c + 1) * block)))
            case .cyclic(let block):
                guard block >= 1 else { throw MPIError(.invalidDatatype, "\(summary): cyclic block size \(block) < 1") }
                owned.append((0..<global).filter { ($0 / block) % processes == c })
            }
        }
        let dimensions = order == .rowMajor ? Array((0..<n).reversed()) : Array(0..<n)
        var element = type
        var stride = type.extent
        for d in dimensions {
            var fields: [(displacement: Int, count: Int, type: Datatype)] = []
            for index in owned[d] { fields.append((try multiply(index, stride, "darray"), 1, element)) }
            element = try Datatype.compose("", fields, alignToLargestField: false, emptyAlignment: type.map.alignment)
            stride = try multiply(stride, globalSizes[d], "darray")
        }
        return try placed(element, at: 0, extent: stride, summary)
    }

    private static func add(_ a: Int, _ b: Int, _ summary: String) throws(MPIError) -> Int {
        let (sum, overflow) = a.addingReportingOverflow(b)
        guard !overflow else { throw MPIError(.invalidDatatype, "\(summary): the type's extent overflows") }
        return sum
    }

    /// `element` moved by `offset` bytes, with lower bound 0 and the given extent.
    private static func placed(_ element: Datatype, at offset: Int, extent: Int, _ summary: String) throws(MPIError) -> Datatype {
        let moved = try Datatype.compose("", [(offset, 1, element)], alignToLargestField: false, emptyAlignment: element.map.alignment)
        return Datatype(
            TypeMap(
                blocks: moved.map.blocks, lowerBound: 0, upperBound: extent, alignment: element.map.alignment,
                signature: moved.map.signature, externalSignature: moved.map.externalSignature, summary: summary))
    }
}
