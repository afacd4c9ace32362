import CMPI
import SwiftMPI

/// What the C interface knows of a datatype: the SwiftMPI datatype, and for predefined numeric
/// types the element type that reductions compute with.
struct CDatatype: Sendable {
    /// The element type of a predefined datatype, for reductions.
    enum Element {
        case int8, uint8, int16, uint16, int32, uint32, int64, uint64, float, double, longDouble, bool
        case floatInt, doubleInt, longInt, intInt, shortInt, longDoubleInt
        /// Fortran's MPI_2REAL and MPI_2DOUBLE_PRECISION: (value, index) of one type.
        case floatPair, doublePair
        case complexFloat, complexDouble, complexLongDouble
        /// MPI_BYTE: the bitwise operations only.
        case byte
        /// Bytes only: movable, not reducible (MPI_PACKED, derived types).
        case opaque
    }

    /// The one predefined datatype a type's data is made of, as its element type, extent and size.
    struct Basic: Equatable {
        let element: Element
        let extent: Int
        let size: Int
    }

    var datatype: Datatype
    var element: Element
    /// What all of this type's data is made of: the type itself when predefined (and not opaque), for
    /// a derived type its constituents' common basic type (``CInterface/storeDatatype(_:_:into:)``);
    /// nil when they differ. One-sided accumulates compute with it (MPI-4.1 §12.3.4: their datatypes
    /// are built from one predefined type).
    var basic: Basic?
    var committed: Bool
    /// MPI_Type_set_name's name.
    var name = ""
    /// How the program built it (MPI_Type_get_envelope, MPI_Type_get_contents).
    var envelope = Envelope.named
    /// Bytes of data per instance (MPI_Type_size).
    let size: Int
    /// True when instances are `size` bytes laid end to end: the data moves as plain bytes.
    let isContiguous: Bool
    /// True when instances can move as `extent` bytes each, trailing padding included (the pair
    /// types): what the v-forms do with them.
    let movesWithPadding: Bool

    init(_ datatype: Datatype, element: Element = .opaque, committed: Bool = false) {
        self.datatype = datatype
        self.element = element
        self.committed = committed
        basic = element == .opaque ? nil : Basic(element: element, extent: datatype.extent, size: datatype.size)
        size = datatype.size
        // (Dense, from byte 0: a size equal to the extent is not enough, a transpose permutes its bytes.)
        isContiguous = (datatype.isDense || (datatype.size == 0 && datatype.extent == 0)) && datatype.trueLowerBound == 0 && datatype.lowerBound == 0
        movesWithPadding = !isContiguous && datatype.isLeadingRun && datatype.extent > 0
    }

    /// The bytes `count` instances occupy from the buffer's start (the buffer SwiftMPI checks them against).
    func footprint(count: Int) -> Int {
        count == 0 ? 0 : (count - 1) * datatype.extent + datatype.trueLowerBound + datatype.trueExtent
    }

    /// The bytes `count` instances reach, relative to the buffer's start: below 0 when the lower
    /// bound or the extent is negative.
    func span(count: Int) throws(CError) -> Range<Int> {
        do { return try datatype.footprint(count: count, "MPI") } catch { throw CError(error) }
    }
}

/// A derived datatype's constructor and its arguments, as MPI_Type_get_contents returns them.
struct Envelope: Sendable {
    var combiner: Int32
    var integers: [Int32] = []
    var addresses: [MPI_Aint] = []
    /// The integer-valued arguments of a large-count (`_c`) constructor (DatatypeConstructors.swift):
    /// only MPI_Type_get_envelope_c and _get_contents_c can describe a type that has any.
    var largeCounts: [MPI_Count] = []
    var types: [MPI_Datatype] = []
    /// What the derived datatypes among `types` were when this one was built: the program may free
    /// their handles (and the slots be reused) while this datatype lives, and MPI_Type_get_contents
    /// must still describe them.
    var constituents: [CDatatype?] = []

    /// A predefined datatype (MPI_COMBINER_NAMED).
    static let named = Envelope(combiner: 1)
}

/// The C pair types of MINLOC and MAXLOC, with C's layout.
struct FloatInt: BitwiseCopyable {
    var value: Float
    var index: Int32
}
struct DoubleInt: BitwiseCopyable {
    var value: Double
    var index: Int32
}
struct LongInt: BitwiseCopyable {
    var value: Int
    var index: Int32
}
struct IntInt: BitwiseCopyable {
    var value: Int32
    var index: Int32
}
/// A C `float _Complex` or `double _Complex` (and Fortran's pairs): two scalars, aligned as one
/// (SIMD2 would be aligned as both, 16 bytes for doubles, and pad structures C does not pad).
struct CComplex<Scalar: BinaryFloatingPoint & BitwiseCopyable>: BitwiseCopyable {
    var real: Scalar
    var imaginary: Scalar
}
#if arch(x86_64)
/// C's { long double; int } (MPI_LONG_DOUBLE_INT): the int at byte 16, 32 bytes in all.
struct LongDoubleInt: BitwiseCopyable {
    var value: Float80  // (16 bytes in Swift's layout, as in C's)
    var index: Int32
}

/// C's `long double _Complex`: two 80-bit reals at a 16-byte stride (32 bytes).
struct LongDoubleComplex: BitwiseCopyable {
    var real: Float80
    var imaginary: Float80
}
#endif
struct ShortInt: BitwiseCopyable {
    var value: Int16
    var index: Int32
}

extension CInterface {
    @exclusivity(unchecked) nonisolated(unsafe) static var datatypes = HandleTable<CDatatype>(.datatype)

    /// MPICH's predefined datatypes, by handle. (The pair types MPI_FLOAT_INT, MPI_DOUBLE_INT,
    /// MPI_LONG_INT and MPI_SHORT_INT, 0x8c00000n, overflow Int32 as C literals: written by bit pattern.)
    static let predefinedDatatypes: [MPI_Datatype: CDatatype] = {
        func entry<T: BitwiseCopyable>(_ type: T.Type, _ element: CDatatype.Element) -> CDatatype {
            CDatatype(Datatype(type), element: element, committed: true)
        }
        var table: [MPI_Datatype: CDatatype] = [:]
        for handle in [MPI_CHAR, MPI_SIGNED_CHAR, MPI_INT8_T, MPI_INTEGER1, MPI_CHARACTER] { table[handle] = entry(Int8.self, .int8) }
        for handle in [MPI_UNSIGNED_CHAR, MPI_UINT8_T] { table[handle] = entry(UInt8.self, .uint8) }
        table[MPI_BYTE] = entry(UInt8.self, .byte)
        table[MPI_PACKED] = entry(UInt8.self, .opaque)
        for handle in [MPI_C_BOOL, MPI_CXX_BOOL] { table[handle] = entry(Bool.self, .bool) }
        for handle in [MPI_SHORT, MPI_INT16_T, MPI_INTEGER2] { table[handle] = entry(Int16.self, .int16) }
        for handle in [MPI_UNSIGNED_SHORT, MPI_UINT16_T] { table[handle] = entry(UInt16.self, .uint16) }
        for handle in [MPI_INT, MPI_INT32_T, MPI_INTEGER, MPI_INTEGER4, MPI_LOGICAL] { table[handle] = entry(Int32.self, .int32) }
        for handle in [MPI_UNSIGNED, MPI_UINT32_T, MPI_WCHAR] { table[handle] = entry(UInt32.self, .uint32) }
        for handle in [MPI_LONG, MPI_LONG_LONG_INT, MPI_INT64_T, MPI_INTEGER8, MPI_AINT, MPI_OFFSET, MPI_COUNT] {
            table[handle] = entry(Int64.self, .int64)
        }
        for handle in [MPI_UNSIGNED_LONG, MPI_UNSIGNED_LONG_LONG, MPI_UINT64_T] { table[handle] = entry(UInt64.self, .uint64) }
        for handle in [MPI_FLOAT, MPI_REAL, MPI_REAL4] { table[handle] = entry(Float.self, .float) }
        for handle in [MPI_DOUBLE, MPI_DOUBLE_PRECISION, MPI_REAL8] { table[handle] = entry(Double.self, .double) }
        #if arch(x86_64)
        table[MPI_LONG_DOUBLE] = entry(Float80.self, .longDouble)
        for handle in [MPI_C_LONG_DOUBLE_COMPLEX, MPI_CXX_LONG_DOUBLE_COMPLEX] { table[handle] = entry(LongDoubleComplex.self, .complexLongDouble) }
        #endif
        for handle in [MPI_COMPLEX, MPI_C_FLOAT_COMPLEX, MPI_COMPLEX8, MPI_CXX_FLOAT_COMPLEX] { table[handle] = entry(CComplex<Float>.self, .complexFloat) }
        for handle in [MPI_DOUBLE_COMPLEX, MPI_C_DOUBLE_COMPLEX, MPI_COMPLEX16, MPI_CXX_DOUBLE_COMPLEX] {
            table[handle] = entry(CComplex<Double>.self, .complexDouble)
        }
        table[MPI_2REAL] = entry(CComplex<Float>.self, .floatPair)
        table[MPI_2DOUBLE_PRECISION] = entry(CComplex<Double>.self, .doublePair)
        table[MPI_Datatype(bitPattern: 0x8C00_0000)] = pair(Float.self, FloatInt.self, .floatInt)
        table[MPI_Datatype(bitPattern: 0x8C00_0001)] = pair(Double.self, DoubleInt.self, .doubleInt)
        table[MPI_Datatype(bitPattern: 0x8C00_0002)] = pair(Int64.self, LongInt.self, .longInt, external: ExternalRepresentation(.signedInteger, size: 4))
        table[MPI_2INT] = pair(Int32.self, IntInt.self, .intInt)
        table[MPI_2INTEGER] = pair(Int32.self, IntInt.self, .intInt)
        table[MPI_Datatype(bitPattern: 0x8C00_0003)] = pair(Int16.self, ShortInt.self, .shortInt)
        // external32 (MPI-4.1 Table 13.2) where a type's C form is not its Swift element's: `long` is
        // 4 bytes there and `wchar_t` 2; a complex number is two big-endian parts.
        func external(_ handles: [MPI_Datatype], _ representation: ExternalRepresentation) {
            for handle in handles {
                if let entry = table[handle] { table[handle]?.datatype = entry.datatype.withExternalRepresentation(representation) }
            }
        }
        external([MPI_LONG], ExternalRepresentation(.signedInteger, size: 4))
        external([MPI_UNSIGNED_LONG], ExternalRepresentation(.unsignedInteger, size: 4))
        external([MPI_WCHAR], ExternalRepresentation(.unsignedInteger, size: 2))
        external([MPI_COMPLEX, MPI_C_FLOAT_COMPLEX, MPI_COMPLEX8, MPI_CXX_FLOAT_COMPLEX, MPI_2REAL], ExternalRepresentation(.floatingPoint, size: 4, parts: 2))
        external(
            [MPI_DOUBLE_COMPLEX, MPI_C_DOUBLE_COMPLEX, MPI_COMPLEX16, MPI_CXX_DOUBLE_COMPLEX, MPI_2DOUBLE_PRECISION],
            ExternalRepresentation(.floatingPoint, size: 8, parts: 2))
        #if arch(x86_64)
        external([MPI_C_LONG_DOUBLE_COMPLEX, MPI_CXX_LONG_DOUBLE_COMPLEX], ExternalRepresentation(.floatingPoint, size: 16, parts: 2))
        #endif
        return table
    }()

    /// A (value, int) pair type as C lays `Pair` out: the value at 0, the int after it, padded to
    /// the struct's stride — so its size is the two fields' (12 for MPI_DOUBLE_INT) and its extent
    /// the struct's (16), as in MPICH.
    /// (`external`: the value's external32 form where it is not its Swift type's: a C `long` is 4 bytes there.)
    static func pair<Value: BitwiseCopyable, Pair: BitwiseCopyable>(
        _: Value.Type, _: Pair.Type, _ element: CDatatype.Element, external: ExternalRepresentation? = nil
    ) -> CDatatype {
        let indexOffset = MemoryLayout<Pair>.size - MemoryLayout<Int32>.size  // (the int is Pair's last field)
        let value = external.map { Datatype(Value.self).withExternalRepresentation($0) } ?? Datatype(Value.self)
        let fields: [(offset: Int, count: Int, type: Datatype)] = [(0, 1, value), (indexOffset, 1, Datatype(Int32.self))]
        let type = try! Datatype.structure(fields).resized(lowerBound: 0, extent: MemoryLayout<Pair>.stride)
        return CDatatype(type, element: element, committed: true)
    }

    /// The datatype `handle` names; with `forCommunication`, it must be committed.
    static func datatype(_ handle: MPI_Datatype, forCommunication: Bool = true) throws(CError) -> CDatatype {
        if let predefined = predefinedDatatypes[handle] { return predefined }
        // Other basic types (float16, long double complex, 16-byte reals, ...): the size the handle
        // encodes, aligned as C aligns a scalar of that size (up to 16), so structures of them get
        // C's padding.
        let bits = UInt32(bitPattern: handle), basicSize = Int((bits >> 8) & 0xFF)
        if bits & 0xFF00_0000 == 0x4C00_0000, basicSize > 0, let basic = Self.opaqueScalar(bytes: basicSize) {
            return CDatatype(basic, committed: true)
        }
        #if arch(x86_64)
        if handle == MPI_Datatype(bitPattern: 0x8C00_0004) { return longDoubleInt }  // MPI_LONG_DOUBLE_INT
        #endif
        guard let derived = datatypes[handle] else {
            throw CError(
                MPI_ERR_TYPE,
                handle == MPI_DATATYPE_NULL
                    ? "MPI_DATATYPE_NULL is not a datatype" : "invalid datatype handle 0x\(String(UInt32(bitPattern: handle), radix: 16))")
        }
        if forCommunication && !derived.committed { throw CError(MPI_ERR_TYPE, "the datatype was not committed (MPI_Type_commit)") }
        return derived
    }

    #if arch(x86_64)
    /// MPI_LONG_DOUBLE_INT: C's { long double; int }, 32 bytes, the int at 16.
    static let longDoubleInt = pair(Float80.self, LongDoubleInt.self, .longDoubleInt)
    #endif

    /// `bytes` of opaque data with the alignment C gives a scalar of that size.
    static func opaqueScalar(bytes: Int) -> Datatype? {
        switch bytes {
        case 1: Datatype(UInt8.self)
        case 2: Datatype(UInt16.self)
        case 4: Datatype(UInt32.self)
        case 8: Datatype(UInt64.self)
        case 16: Datatype(SIMD2<UInt64>.self)
        default:
            bytes % 16 == 0
                ? try? Datatype.contiguous(count: bytes / 16, of: Datatype(SIMD2<UInt64>.self))
                : try? Datatype.contiguous(count: bytes, of: Datatype(UInt8.self))
        }
    }

    /// A count from C, checked (an `int`, or an `MPI_Count` of the large-count `_c` functions).
    @inline(__always)
    static func count<C: CInteger>(_ count: C) throws(CError) -> Int {
        guard count >= 0 else { throw CError(MPI_ERR_COUNT, "negative count \(count)") }
        return Int(count)
    }

    static func storeDatatype(_ datatype: Datatype, _ envelope: Envelope, into handle: UnsafeMutablePointer<MPI_Datatype>?) throws(CError) {
        guard let handle else { throw CError(MPI_ERR_ARG, "a null datatype pointer") }
        var entry = CDatatype(datatype)
        entry.envelope = envelope
        entry.envelope.constituents = envelope.types.map { datatypes[$0] }
        let basics = envelope.types.map { try? CInterface.datatype($0, forCommunication: false).basic }
        if let first = basics.first, basics.allSatisfy({ $0 == first }) { entry.basic = first }
        handle.pointee = datatypes.insert(entry)
    }

    /// C integers as the envelope's.
    static func int32s(_ values: [Int]) -> [Int32] { values.map { Int32(truncatingIfNeeded: $0) } }
}

/// A C integer count or displacement: `int`, MPI_Aint, or the large-count functions' MPI_Count.
typealias CInteger = FixedWidthInteger & SignedInteger

extension CInterface {
    /// Builds a derived datatype from C arrays of `count` entries.
    static func array<T, R, C: CInteger>(
        _ pointer: UnsafePointer<T>?, _ count: C, _ transform: (T) throws(CError) -> R
    ) throws(CError) -> [R] {
        let count = try CInterface.count(count)
        guard count == 0 || pointer != nil else { throw CError(MPI_ERR_ARG, "a null array of \(count) entries") }
        var result: [R] = []
        result.reserveCapacity(count)
        for index in 0..<count { result.append(try transform(pointer![index])) }
        return result
    }
}

@_cdecl("PMPI_Type_set_name")
public func mpiTypeSetName(_ datatype: MPI_Datatype, _ name: UnsafePointer<CChar>?) -> Int32 {
    cCall("MPI_Type_set_name") {
        guard let name else { throw CError(MPI_ERR_ARG, "a null name") }
        guard CInterface.datatypes[datatype] != nil else {
            _ = try CInterface.datatype(datatype, forCommunication: false)
            CInterfaceLock.withLock { CInterface.renamedPredefined[datatype] = String(cString: name) }
            return
        }
        CInterface.datatypes[datatype]?.name = String(cString: name)
    }
}

@_cdecl("PMPI_Type_get_name")
public func mpiTypeGetName(_ datatype: MPI_Datatype, _ name: UnsafeMutablePointer<CChar>?, _ length: UnsafeMutablePointer<Int32>?) -> Int32 {
    cCall("MPI_Type_get_name") {
        let text =
            try CInterfaceLock.withLock { CInterface.renamedPredefined[datatype] } ?? CInterface.predefinedNames[datatype]
            ?? CInterface.datatype(datatype, forCommunication: false).name
        CInterface.copy(text, into: name, capacity: Int(MPI_MAX_OBJECT_NAME), length: length)
    }
}

@_cdecl("PMPI_Type_get_true_extent")
public func mpiTypeGetTrueExtent(_ datatype: MPI_Datatype, _ lowerBound: UnsafeMutablePointer<MPI_Aint>?, _ extent: UnsafeMutablePointer<MPI_Aint>?) -> Int32 {
    cCall("MPI_Type_get_true_extent") {
        let type = try CInterface.datatype(datatype, forCommunication: false).datatype
        try output(lowerBound, "true_lb").pointee = type.trueLowerBound
        try output(extent, "true_extent").pointee = type.trueExtent
    }
}

@_cdecl("PMPI_Type_dup")
public func mpiTypeDup(_ oldType: MPI_Datatype, _ newType: UnsafeMutablePointer<MPI_Datatype>?) -> Int32 {
    cCall("MPI_Type_dup") {
        let old = try CInterface.datatype(oldType, forCommunication: false)
        guard let newType else { throw CError(MPI_ERR_ARG, "a null datatype pointer") }
        var copy = old
        copy.committed = true
        copy.envelope = Envelope(combiner: 2, types: [oldType], constituents: [CInterface.datatypes[oldType]])
        let handle = CInterface.datatypes.insert(copy)
        do {
            try CInterface.copyObjectAttributes(.init(kind: .datatype, handle: oldType), to: .init(kind: .datatype, handle: handle))
        } catch {
            _ = CInterface.datatypes.remove(handle)  // a copy callback failed: no duplicate
            newType.pointee = MPI_DATATYPE_NULL
            throw error
        }
        newType.pointee = handle
    }
}

@_cdecl("PMPI_Get_address")
public func mpiGetAddress(_ location: UnsafeRawPointer?, _ address: UnsafeMutablePointer<MPI_Aint>?) -> Int32 {
    address?.pointee = MPI_Aint(bitPattern: UInt(bitPattern: location))
    return MPI_SUCCESS
}

/// MPI_Aint_add: `base` moved by `disp` bytes (address arithmetic as MPI defines it: wrapping,
/// never trapping).
@_cdecl("PMPI_Aint_add")
public func mpiAintAdd(_ base: MPI_Aint, _ disp: MPI_Aint) -> MPI_Aint { base &+ disp }

/// MPI_Aint_diff: the bytes from `addr2` to `addr1` (wrapping, as MPI_Aint_add).
@_cdecl("PMPI_Aint_diff")
public func mpiAintDiff(_ addr1: MPI_Aint, _ addr2: MPI_Aint) -> MPI_Aint { addr1 &- addr2 }

@_cdecl("PMPI_Get_elements")
public func mpiGetElements(_ status: UnsafePointer<MPI_Status>?, _ datatype: MPI_Datatype, _ count: UnsafeMutablePointer<Int32>?) -> Int32 {
    cCall("MPI_Get_elements") {
        guard let status else { throw CError(MPI_ERR_ARG, "a null status pointer") }
        let type = try CInterface.datatype(datatype, forCommunication: false).datatype
        let bytes = CInterface.byteCount(of: status)
        guard type.size > 0 else {
            count?.pointee = 0
            return
        }
        count?.pointee = type.elementCount(inBytes: bytes).flatMap { Int32(exactly: $0) } ?? MPI_UNDEFINED
    }
}

@_cdecl("PMPI_Type_size")
public func mpiTypeSize(_ datatype: MPI_Datatype, _ size: UnsafeMutablePointer<Int32>?) -> Int32 {
    cCall("MPI_Type_size") {
        try output(size, "size").pointee = Int32(exactly: try CInterface.datatype(datatype, forCommunication: false).size) ?? MPI_UNDEFINED
    }
}

@_cdecl("PMPI_Type_get_extent")
public func mpiTypeGetExtent(_ datatype: MPI_Datatype, _ lowerBound: UnsafeMutablePointer<MPI_Aint>?, _ extent: UnsafeMutablePointer<MPI_Aint>?) -> Int32 {
    cCall("MPI_Type_get_extent") {
        let type = try CInterface.datatype(datatype, forCommunication: false).datatype
        try output(lowerBound, "lb").pointee = type.lowerBound
        try output(extent, "extent").pointee = type.extent
    }
}

@_cdecl("PMPI_Type_commit")
public func mpiTypeCommit(_ datatype: UnsafeMutablePointer<MPI_Datatype>?) -> Int32 {
    cCall("MPI_Type_commit") {
        guard let datatype else { throw CError(MPI_ERR_ARG, "a null datatype pointer") }
        guard CInterface.datatypes[datatype.pointee] != nil else {
            _ = try CInterface.datatype(datatype.pointee, forCommunication: false)  // predefined (committed), or an error
            return
        }
        CInterface.datatypes[datatype.pointee]?.committed = true
    }
}

@_cdecl("PMPI_Type_free")
public func mpiTypeFree(_ datatype: UnsafeMutablePointer<MPI_Datatype>?) -> Int32 {
    cCall("MPI_Type_free") {
        guard let datatype else { throw CError(MPI_ERR_ARG, "a null datatype pointer") }
        if CInterface.predefinedDatatypes[datatype.pointee] != nil || CInterface.isFortranType(datatype.pointee) {
            throw CError(MPI_ERR_TYPE, "a predefined datatype cannot be freed")
        }
        guard CInterface.datatypes[datatype.pointee] != nil else { throw CError(MPI_ERR_TYPE, "invalid datatype handle") }
        try CInterface.deleteObjectAttributes(.init(kind: .datatype, handle: datatype.pointee))
        _ = CInterface.datatypes.remove(datatype.pointee)
        datatype.pointee = MPI_DATATYPE_NULL
    }
}

@_cdecl("PMPI_Get_count")
public func mpiGetCount(_ status: UnsafePointer<MPI_Status>?, _ datatype: MPI_Datatype, _ count: UnsafeMutablePointer<Int32>?) -> Int32 {
    cCall("MPI_Get_count") { count?.pointee = try CInterface.instanceCount(status, datatype).flatMap { Int32(exactly: $0) } ?? MPI_UNDEFINED }
}

extension CInterface {
    /// MPI_Get_count's answer (also MPI_Get_count_c's): the whole instances of `datatype` the status's
    /// bytes hold, nil (MPI_UNDEFINED) when they end inside one.
    static func instanceCount(_ status: UnsafePointer<MPI_Status>?, _ datatype: MPI_Datatype) throws(CError) -> Int? {
        guard let status else { throw CError(MPI_ERR_ARG, "a null status pointer") }
        let size = try CInterface.datatype(datatype, forCommunication: false).size
        let bytes = CInterface.byteCount(of: status)
        return size == 0 ? (bytes == 0 ? 0 : nil) : bytes % size == 0 ? bytes / size : nil
    }

    /// MPI_Get_elements_x's answer (also MPI_Get_elements_c's): the primitive elements in the
    /// status's bytes, nil (MPI_UNDEFINED) when they end inside one.
    static func elementCount(_ status: UnsafePointer<MPI_Status>?, _ datatype: MPI_Datatype) throws(CError) -> Int? {
        guard let status else { throw CError(MPI_ERR_ARG, "a null status pointer") }
        return try CInterface.datatype(datatype, forCommunication: false).datatype.elementCount(inBytes: CInterface.byteCount(of: status))
    }
}

@_cdecl("PMPI_Test_cancelled")
public func mpiTestCancelled(_ status: UnsafePointer<MPI_Status>?, _ flag: UnsafeMutablePointer<Int32>?) -> Int32 {
    flag?.pointee = (status?.pointee.count_hi_and_cancelled ?? 0) & 1
    return MPI_SUCCESS
}
