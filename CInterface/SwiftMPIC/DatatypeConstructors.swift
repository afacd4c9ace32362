import CMPI
import SwiftMPI

// The derived-datatype constructors, each in its `int` form and its MPI-4 large-count `_c` form
// over one work function. The two differ only in their integer width and in what the envelope
// records (MPI-4.1 §5.1.13, MPICH alike): an `int` form records its integer arguments as integers
// and its MPI_Aint ones as addresses; a `_c` form records every integer-valued argument (counts and
// displacements alike) as a large count, whatever its size, so that MPI_Type_get_envelope refuses
// the type and MPI_Type_get_envelope_c describes it. Subarray and darray keep their `int`
// arguments (dimensions, order, distributions) as integers in both forms.

extension Envelope {
    /// The envelope of a constructor whose integer-valued arguments are `integers` (counts, block
    /// lengths, element displacements) and `addresses` (byte displacements, bounds), in the order
    /// MPI_Type_get_contents returns them: all of them large counts for a `_c` form (`large`).
    init(_ combiner: Int32, large: Bool, integers: [Int], addresses: [Int] = [], types: [MPI_Datatype]) {
        if large {
            self.init(combiner: combiner, largeCounts: integers + addresses, types: types)
        } else {
            self.init(combiner: combiner, integers: CInterface.int32s(integers), addresses: addresses, types: types)
        }
    }
}

/// MPI_Type_contiguous's work, also MPI_Type_contiguous_c's.
private func typeContiguous<C: CInteger>(
    _ function: StaticString, _ count: C, _ oldType: MPI_Datatype, _ newType: UnsafeMutablePointer<MPI_Datatype>?
) -> Int32 {
    cCall(function) {
        let old = try CInterface.datatype(oldType, forCommunication: false)
        let count = try CInterface.count(count)
        try CInterface.storeDatatype(
            try Datatype.contiguous(count: count, of: old.datatype),
            Envelope(MPI_COMBINER_CONTIGUOUS, large: C.self != Int32.self, integers: [count], types: [oldType]), into: newType)
    }
}

@_cdecl("PMPI_Type_contiguous")
public func mpiTypeContiguous(_ count: Int32, _ oldType: MPI_Datatype, _ newType: UnsafeMutablePointer<MPI_Datatype>?) -> Int32 {
    typeContiguous("MPI_Type_contiguous", count, oldType, newType)
}

@_cdecl("PMPI_Type_contiguous_c")
public func mpiTypeContiguousC(_ count: MPI_Count, _ oldType: MPI_Datatype, _ newType: UnsafeMutablePointer<MPI_Datatype>?) -> Int32 {
    typeContiguous("MPI_Type_contiguous_c", count, oldType, newType)
}

/// MPI_Type_vector's work, also MPI_Type_vector_c's.
private func typeVector<C: CInteger>(
    _ function: StaticString, _ count: C, _ blockLength: C, _ stride: C, _ oldType: MPI_Datatype, _ newType: UnsafeMutablePointer<MPI_Datatype>?
) -> Int32 {
    cCall(function) {
        let old = try CInterface.datatype(oldType, forCommunication: false)
        let count = try CInterface.count(count), blockLength = try CInterface.count(blockLength)
        try CInterface.storeDatatype(
            try Datatype.vector(count: count, blockLength: blockLength, stride: Int(stride), of: old.datatype),
            Envelope(MPI_COMBINER_VECTOR, large: C.self != Int32.self, integers: [count, blockLength, Int(stride)], types: [oldType]), into: newType)
    }
}

@_cdecl("PMPI_Type_vector")
public func mpiTypeVector(
    _ count: Int32, _ blockLength: Int32, _ stride: Int32, _ oldType: MPI_Datatype, _ newType: UnsafeMutablePointer<MPI_Datatype>?
) -> Int32 {
    typeVector("MPI_Type_vector", count, blockLength, stride, oldType, newType)
}

@_cdecl("PMPI_Type_vector_c")
public func mpiTypeVectorC(
    _ count: MPI_Count, _ blockLength: MPI_Count, _ stride: MPI_Count, _ oldType: MPI_Datatype, _ newType: UnsafeMutablePointer<MPI_Datatype>?
) -> Int32 {
    typeVector("MPI_Type_vector_c", count, blockLength, stride, oldType, newType)
}

/// MPI_Type_create_hvector's work, also MPI_Type_create_hvector_c's.
private func typeHvector<C: CInteger>(
    _ function: StaticString, _ count: C, _ blockLength: C, _ stride: Int, _ oldType: MPI_Datatype, _ newType: UnsafeMutablePointer<MPI_Datatype>?
) -> Int32 {
    cCall(function) {
        let old = try CInterface.datatype(oldType, forCommunication: false)
        let count = try CInterface.count(count), blockLength = try CInterface.count(blockLength)
        try CInterface.storeDatatype(
            try Datatype.hvector(count: count, blockLength: blockLength, strideBytes: stride, of: old.datatype),
            Envelope(MPI_COMBINER_HVECTOR, large: C.self != Int32.self, integers: [count, blockLength], addresses: [stride], types: [oldType]),
            into: newType)
    }
}

@_cdecl("PMPI_Type_create_hvector")
public func mpiTypeCreateHvector(
    _ count: Int32, _ blockLength: Int32, _ stride: MPI_Aint, _ oldType: MPI_Datatype, _ newType: UnsafeMutablePointer<MPI_Datatype>?
) -> Int32 {
    typeHvector("MPI_Type_create_hvector", count, blockLength, stride, oldType, newType)
}

@_cdecl("PMPI_Type_create_hvector_c")
public func mpiTypeCreateHvectorC(
    _ count: MPI_Count, _ blockLength: MPI_Count, _ stride: MPI_Count, _ oldType: MPI_Datatype, _ newType: UnsafeMutablePointer<MPI_Datatype>?
) -> Int32 {
    typeHvector("MPI_Type_create_hvector_c", count, blockLength, stride, oldType, newType)
}

/// MPI_Type_indexed's work, also MPI_Type_indexed_c's.
private func typeIndexed<C: CInteger>(
    _ function: StaticString, _ count: C, _ blockLengths: UnsafePointer<C>?, _ displacements: UnsafePointer<C>?, _ oldType: MPI_Datatype,
    _ newType: UnsafeMutablePointer<MPI_Datatype>?
) -> Int32 {
    cCall(function) {
        let old = try CInterface.datatype(oldType, forCommunication: false)
        let lengths = try CInterface.array(blockLengths, count) { (value: C) throws(CError) in try CInterface.count(value) }
        let offsets = try CInterface.array(displacements, count) { (value: C) throws(CError) in Int(value) }
        try CInterface.storeDatatype(
            try Datatype.indexed(blockLengths: lengths, displacements: offsets, of: old.datatype),
            Envelope(MPI_COMBINER_INDEXED, large: C.self != Int32.self, integers: [Int(count)] + lengths + offsets, types: [oldType]), into: newType)
    }
}

@_cdecl("PMPI_Type_indexed")
public func mpiTypeIndexed(
    _ count: Int32, _ blockLengths: UnsafePointer<Int32>?, _ displacements: UnsafePointer<Int32>?, _ oldType: MPI_Datatype,
    _ newType: UnsafeMutablePointer<MPI_Datatype>?
) -> Int32 {
    typeIndexed("MPI_Type_indexed", count, blockLengths, displacements, oldType, newType)
}

@_cdecl("PMPI_Type_indexed_c")
public func mpiTypeIndexedC(
    _ count: MPI_Count, _ blockLengths: UnsafePointer<MPI_Count>?, _ displacements: UnsafePointer<MPI_Count>?, _ oldType: MPI_Datatype,
    _ newType: UnsafeMutablePointer<MPI_Datatype>?
) -> Int32 {
    typeIndexed("MPI_Type_indexed_c", count, blockLengths, displacements, oldType, newType)
}

/// MPI_Type_create_hindexed's work, also MPI_Type_create_hindexed_c's.
private func typeHindexed<C: CInteger>(
    _ function: StaticString, _ count: C, _ blockLengths: UnsafePointer<C>?, _ displacements: UnsafePointer<Int>?, _ oldType: MPI_Datatype,
    _ newType: UnsafeMutablePointer<MPI_Datatype>?
) -> Int32 {
    cCall(function) {
        let old = try CInterface.datatype(oldType, forCommunication: false)
        let lengths = try CInterface.array(blockLengths, count) { (value: C) throws(CError) in try CInterface.count(value) }
        let offsets = try CInterface.array(displacements, count) { (value: Int) throws(CError) in value }
        try CInterface.storeDatatype(
            try Datatype.hindexed(blockLengths: lengths, displacementsBytes: offsets, of: old.datatype),
            Envelope(MPI_COMBINER_HINDEXED, large: C.self != Int32.self, integers: [Int(count)] + lengths, addresses: offsets, types: [oldType]),
            into: newType)
    }
}

@_cdecl("PMPI_Type_create_hindexed")
public func mpiTypeCreateHindexed(
    _ count: Int32, _ blockLengths: UnsafePointer<Int32>?, _ displacements: UnsafePointer<MPI_Aint>?, _ oldType: MPI_Datatype,
    _ newType: UnsafeMutablePointer<MPI_Datatype>?
) -> Int32 {
    typeHindexed("MPI_Type_create_hindexed", count, blockLengths, displacements, oldType, newType)
}

@_cdecl("PMPI_Type_create_hindexed_c")
public func mpiTypeCreateHindexedC(
    _ count: MPI_Count, _ blockLengths: UnsafePointer<MPI_Count>?, _ displacements: UnsafePointer<MPI_Count>?, _ oldType: MPI_Datatype,
    _ newType: UnsafeMutablePointer<MPI_Datatype>?
) -> Int32 {
    typeHindexed("MPI_Type_create_hindexed_c", count, blockLengths, displacements, oldType, newType)
}

/// MPI_Type_create_indexed_block's work, also MPI_Type_create_indexed_block_c's.
private func typeIndexedBlock<C: CInteger>(
    _ function: StaticString, _ count: C, _ blockLength: C, _ displacements: UnsafePointer<C>?, _ oldType: MPI_Datatype,
    _ newType: UnsafeMutablePointer<MPI_Datatype>?
) -> Int32 {
    cCall(function) {
        let old = try CInterface.datatype(oldType, forCommunication: false)
        let offsets = try CInterface.array(displacements, count) { (value: C) throws(CError) in Int(value) }
        let blockLength = try CInterface.count(blockLength)
        try CInterface.storeDatatype(
            try Datatype.indexedBlock(blockLength: blockLength, displacements: offsets, of: old.datatype),
            Envelope(MPI_COMBINER_INDEXED_BLOCK, large: C.self != Int32.self, integers: [Int(count), blockLength] + offsets, types: [oldType]),
            into: newType)
    }
}

@_cdecl("PMPI_Type_create_indexed_block")
public func mpiTypeCreateIndexedBlock(
    _ count: Int32, _ blockLength: Int32, _ displacements: UnsafePointer<Int32>?, _ oldType: MPI_Datatype, _ newType: UnsafeMutablePointer<MPI_Datatype>?
) -> Int32 {
    typeIndexedBlock("MPI_Type_create_indexed_block", count, blockLength, displacements, oldType, newType)
}

@_cdecl("PMPI_Type_create_indexed_block_c")
public func mpiTypeCreateIndexedBlockC(
    _ count: MPI_Count, _ blockLength: MPI_Count, _ displacements: UnsafePointer<MPI_Count>?, _ oldType: MPI_Datatype,
    _ newType: UnsafeMutablePointer<MPI_Datatype>?
) -> Int32 {
    typeIndexedBlock("MPI_Type_create_indexed_block_c", count, blockLength, displacements, oldType, newType)
}

/// MPI_Type_create_hindexed_block's work, also MPI_Type_create_hindexed_block_c's.
private func typeHindexedBlock<C: CInteger>(
    _ function: StaticString, _ count: C, _ blockLength: C, _ displacements: UnsafePointer<Int>?, _ oldType: MPI_Datatype,
    _ newType: UnsafeMutablePointer<MPI_Datatype>?
) -> Int32 {
    cCall(function) {
        let old = try CInterface.datatype(oldType, forCommunication: false)
        let offsets = try CInterface.array(displacements, count) { (value: Int) throws(CError) in value }
        let blockLength = try CInterface.count(blockLength)
        try CInterface.storeDatatype(
            try Datatype.hindexedBlock(blockLength: blockLength, displacementsBytes: offsets, of: old.datatype),
            Envelope(
                MPI_COMBINER_HINDEXED_BLOCK, large: C.self != Int32.self, integers: [Int(count), blockLength], addresses: offsets, types: [oldType]),
            into: newType)
    }
}

@_cdecl("PMPI_Type_create_hindexed_block")
public func mpiTypeCreateHindexedBlock(
    _ count: Int32, _ blockLength: Int32, _ displacements: UnsafePointer<MPI_Aint>?, _ oldType: MPI_Datatype, _ newType: UnsafeMutablePointer<MPI_Datatype>?
) -> Int32 {
    typeHindexedBlock("MPI_Type_create_hindexed_block", count, blockLength, displacements, oldType, newType)
}

@_cdecl("PMPI_Type_create_hindexed_block_c")
public func mpiTypeCreateHindexedBlockC(
    _ count: MPI_Count, _ blockLength: MPI_Count, _ displacements: UnsafePointer<MPI_Count>?, _ oldType: MPI_Datatype,
    _ newType: UnsafeMutablePointer<MPI_Datatype>?
) -> Int32 {
    typeHindexedBlock("MPI_Type_create_hindexed_block_c", count, blockLength, displacements, oldType, newType)
}

/// MPI_Type_create_struct's work, also MPI_Type_create_struct_c's.
private func typeStruct<C: CInteger>(
    _ function: StaticString, _ count: C, _ blockLengths: UnsafePointer<C>?, _ displacements: UnsafePointer<Int>?, _ types: UnsafePointer<MPI_Datatype>?,
    _ newType: UnsafeMutablePointer<MPI_Datatype>?
) -> Int32 {
    cCall(function) {
        let lengths = try CInterface.array(blockLengths, count) { (value: C) throws(CError) in try CInterface.count(value) }
        let offsets = try CInterface.array(displacements, count) { (value: Int) throws(CError) in value }
        let handles = try CInterface.array(types, count) { (handle: MPI_Datatype) throws(CError) in handle }
        // MPI-1's markers MPI_LB and MPI_UB (deprecated, still in MPICH's ABI) carry no data: they set
        // the bounds (the lowest MPI_LB, the highest MPI_UB) of the structure of the other fields.
        var fields: [(offset: Int, count: Int, type: Datatype)] = []
        var lowerMarkers: [Int] = [], upperMarkers: [Int] = []
        for index in handles.indices {
            switch handles[index] {
            case MPI_LB: lowerMarkers.append(offsets[index])
            case MPI_UB: upperMarkers.append(offsets[index])
            default: fields.append((offsets[index], lengths[index], try CInterface.datatype(handles[index], forCommunication: false).datatype))
            }
        }
        // No data fields (count 0, or markers only): an empty type, bounded by its markers if any.
        var type = fields.isEmpty ? try Datatype.contiguous(count: 0, of: Datatype(UInt8.self)) : try Datatype.structure(fields)
        if !lowerMarkers.isEmpty || !upperMarkers.isEmpty {
            // (A bound no marker sets is the data's, or 0 without data: { (LB,10) } has extent -10.)
            let lower = lowerMarkers.min() ?? (fields.isEmpty ? 0 : type.lowerBound)
            let upper = upperMarkers.max() ?? (fields.isEmpty ? 0 : type.lowerBound + type.extent)
            type = try type.resized(lowerBound: lower, extent: upper - lower)
        }
        try CInterface.storeDatatype(
            type, Envelope(MPI_COMBINER_STRUCT, large: C.self != Int32.self, integers: [Int(count)] + lengths, addresses: offsets, types: handles),
            into: newType)
    }
}

@_cdecl("PMPI_Type_create_struct")
public func mpiTypeCreateStruct(
    _ count: Int32, _ blockLengths: UnsafePointer<Int32>?, _ displacements: UnsafePointer<MPI_Aint>?, _ types: UnsafePointer<MPI_Datatype>?,
    _ newType: UnsafeMutablePointer<MPI_Datatype>?
) -> Int32 {
    typeStruct("MPI_Type_create_struct", count, blockLengths, displacements, types, newType)
}

@_cdecl("PMPI_Type_create_struct_c")
public func mpiTypeCreateStructC(
    _ count: MPI_Count, _ blockLengths: UnsafePointer<MPI_Count>?, _ displacements: UnsafePointer<MPI_Count>?, _ types: UnsafePointer<MPI_Datatype>?,
    _ newType: UnsafeMutablePointer<MPI_Datatype>?
) -> Int32 {
    typeStruct("MPI_Type_create_struct_c", count, blockLengths, displacements, types, newType)
}

/// MPI_Type_create_resized's work, also MPI_Type_create_resized_c's (`large`: the bounds are large
/// counts in its envelope).
private func typeResized(
    _ function: StaticString, large: Bool, _ oldType: MPI_Datatype, _ lowerBound: Int, _ extent: Int, _ newType: UnsafeMutablePointer<MPI_Datatype>?
) -> Int32 {
    cCall(function) {
        let old = try CInterface.datatype(oldType, forCommunication: false)
        try CInterface.storeDatatype(
            try old.datatype.resized(lowerBound: lowerBound, extent: extent),
            Envelope(MPI_COMBINER_RESIZED, large: large, integers: [], addresses: [lowerBound, extent], types: [oldType]), into: newType)
    }
}

@_cdecl("PMPI_Type_create_resized")
public func mpiTypeCreateResized(_ oldType: MPI_Datatype, _ lowerBound: MPI_Aint, _ extent: MPI_Aint, _ newType: UnsafeMutablePointer<MPI_Datatype>?) -> Int32 {
    typeResized("MPI_Type_create_resized", large: false, oldType, lowerBound, extent, newType)
}

@_cdecl("PMPI_Type_create_resized_c")
public func mpiTypeCreateResizedC(
    _ oldType: MPI_Datatype, _ lowerBound: MPI_Count, _ extent: MPI_Count, _ newType: UnsafeMutablePointer<MPI_Datatype>?
) -> Int32 {
    typeResized("MPI_Type_create_resized_c", large: true, oldType, lowerBound, extent, newType)
}

/// MPI_ORDER_C or MPI_ORDER_FORTRAN as SwiftMPI's order, or MPI_ERR_ARG.
private func arrayOrder(_ order: Int32) throws(CError) -> Datatype.ArrayOrder {
    switch order {
    case MPI_ORDER_C: return .rowMajor
    case MPI_ORDER_FORTRAN: return .columnMajor
    default: throw CError(MPI_ERR_ARG, "order \(order) is neither MPI_ORDER_C nor MPI_ORDER_FORTRAN")
    }
}

/// MPI_Type_create_subarray's work, also MPI_Type_create_subarray_c's: `ndims` and `order` stay
/// integers in the envelope of both; the sizes, subsizes and starts are large counts in the `_c` form's.
private func typeSubarray<C: CInteger>(
    _ function: StaticString, _ ndims: Int32, _ sizes: UnsafePointer<C>?, _ subsizes: UnsafePointer<C>?, _ starts: UnsafePointer<C>?, _ order: Int32,
    _ oldType: MPI_Datatype, _ newType: UnsafeMutablePointer<MPI_Datatype>?
) -> Int32 {
    cCall(function) {
        let order = try arrayOrder(order)
        let old = try CInterface.datatype(oldType, forCommunication: false)
        func values(_ pointer: UnsafePointer<C>?) throws(CError) -> [Int] { try CInterface.array(pointer, ndims) { (value: C) throws(CError) in Int(value) } }
        let sizes = try values(sizes), subsizes = try values(subsizes), starts = try values(starts)
        let type = try Datatype.subarray(sizes: sizes, subsizes: subsizes, starts: starts, of: old.datatype, order: order)
        let orderCode = order == .rowMajor ? MPI_ORDER_C : MPI_ORDER_FORTRAN
        let envelope =
            C.self == Int32.self
            ? Envelope(combiner: MPI_COMBINER_SUBARRAY, integers: [ndims] + CInterface.int32s(sizes + subsizes + starts) + [orderCode], types: [oldType])
            : Envelope(combiner: MPI_COMBINER_SUBARRAY, integers: [ndims, orderCode], largeCounts: sizes + subsizes + starts, types: [oldType])
        try CInterface.storeDatatype(type, envelope, into: newType)
    }
}

@_cdecl("PMPI_Type_create_subarray")
public func mpiTypeCreateSubarray(
    _ ndims: Int32, _ sizes: UnsafePointer<Int32>?, _ subsizes: UnsafePointer<Int32>?, _ starts: UnsafePointer<Int32>?, _ order: Int32,
    _ oldType: MPI_Datatype, _ newType: UnsafeMutablePointer<MPI_Datatype>?
) -> Int32 {
    typeSubarray("MPI_Type_create_subarray", ndims, sizes, subsizes, starts, order, oldType, newType)
}

@_cdecl("PMPI_Type_create_subarray_c")
public func mpiTypeCreateSubarrayC(
    _ ndims: Int32, _ sizes: UnsafePointer<MPI_Count>?, _ subsizes: UnsafePointer<MPI_Count>?, _ starts: UnsafePointer<MPI_Count>?, _ order: Int32,
    _ oldType: MPI_Datatype, _ newType: UnsafeMutablePointer<MPI_Datatype>?
) -> Int32 {
    typeSubarray("MPI_Type_create_subarray_c", ndims, sizes, subsizes, starts, order, oldType, newType)
}

/// MPI_Type_create_darray's work, also MPI_Type_create_darray_c's: only the global sizes are
/// MPI_Count in the `_c` form, and only they are large counts in its envelope.
private func typeDarray<C: CInteger>(
    _ function: StaticString, _ size: Int32, _ rank: Int32, _ ndims: Int32, _ globalSizes: UnsafePointer<C>?, _ distributions: UnsafePointer<Int32>?,
    _ arguments: UnsafePointer<Int32>?, _ processGrid: UnsafePointer<Int32>?, _ order: Int32, _ oldType: MPI_Datatype,
    _ newType: UnsafeMutablePointer<MPI_Datatype>?
) -> Int32 {
    cCall(function) {
        let swiftOrder = try arrayOrder(order)
        let old = try CInterface.datatype(oldType, forCommunication: false)
        let globals = try CInterface.array(globalSizes, ndims) { (value: C) throws(CError) in Int(value) }
        let kinds = try CInterface.ints(distributions, ndims), dargs = try CInterface.ints(arguments, ndims)
        let grid = try CInterface.ints(processGrid, ndims)
        let distribution = try zip(kinds, dargs).map { (kind, darg) throws(CError) -> Datatype.Distribution in
            let given = darg == Int(MPI_DISTRIBUTE_DFLT_DARG) ? nil : darg
            switch Int32(kind) {
            case MPI_DISTRIBUTE_BLOCK: return .block(size: given)
            case MPI_DISTRIBUTE_CYCLIC: return .cyclic(size: given ?? 1)
            case MPI_DISTRIBUTE_NONE: return .none
            default: throw CError(MPI_ERR_ARG, "distribution \(kind) is not MPI_DISTRIBUTE_BLOCK, _CYCLIC or _NONE")
            }
        }
        let type = try Datatype.darray(
            size: Int(size), rank: Int(rank), globalSizes: globals, distributions: distribution, processGrid: grid, of: old.datatype, order: swiftOrder)
        let envelope =
            C.self == Int32.self
            ? Envelope(
                combiner: MPI_COMBINER_DARRAY, integers: [size, rank, ndims] + CInterface.int32s(globals + kinds + dargs + grid) + [order], types: [oldType])
            : Envelope(
                combiner: MPI_COMBINER_DARRAY, integers: [size, rank, ndims] + CInterface.int32s(kinds + dargs + grid) + [order], largeCounts: globals,
                types: [oldType])
        try CInterface.storeDatatype(type, envelope, into: newType)
    }
}

@_cdecl("PMPI_Type_create_darray")
public func mpiTypeCreateDarray(
    _ size: Int32, _ rank: Int32, _ ndims: Int32, _ globalSizes: UnsafePointer<Int32>?, _ distributions: UnsafePointer<Int32>?,
    _ arguments: UnsafePointer<Int32>?, _ processGrid: UnsafePointer<Int32>?, _ order: Int32, _ oldType: MPI_Datatype,
    _ newType: UnsafeMutablePointer<MPI_Datatype>?
) -> Int32 {
    typeDarray("MPI_Type_create_darray", size, rank, ndims, globalSizes, distributions, arguments, processGrid, order, oldType, newType)
}

@_cdecl("PMPI_Type_create_darray_c")
public func mpiTypeCreateDarrayC(
    _ size: Int32, _ rank: Int32, _ ndims: Int32, _ globalSizes: UnsafePointer<MPI_Count>?, _ distributions: UnsafePointer<Int32>?,
    _ arguments: UnsafePointer<Int32>?, _ processGrid: UnsafePointer<Int32>?, _ order: Int32, _ oldType: MPI_Datatype,
    _ newType: UnsafeMutablePointer<MPI_Datatype>?
) -> Int32 {
    typeDarray("MPI_Type_create_darray_c", size, rank, ndims, globalSizes, distributions, arguments, processGrid, order, oldType, newType)
}
