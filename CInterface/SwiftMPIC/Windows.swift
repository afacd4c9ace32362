#if canImport(Glibc)
import Glibc
#endif
import CMPI
import SwiftMPI

// One-sided communication (MPI_Win_*, MPI_Put, MPI_Get, the accumulates) over SwiftMPI's windows
// (ByteWindow: the Swift `Window`'s state, addressed in bytes with each rank's displacement unit).
// Dynamic windows: target displacements are addresses (MPI_Get_address) in attached regions.
// Origin buffers of any committed datatype (non-contiguous ones are packed or unpacked here); target
// datatypes of any layout (cut into contiguous runs at the origin). Accumulates compute with the one
// predefined type a datatype is built from (CDatatype.basic); one made of several takes MPI_REPLACE
// and MPI_NO_OP only (docs/C-ABI.md). Of the assertions (MPI_MODE_*) only MPI_MODE_NOSUCCEED and MPI_MODE_NOCHECK
// has an effect (it ends fence epochs); the others are accepted and ignored, as MPI allows.

/// A window the C program holds, with its error handler and the values its predefined attributes
/// point to (MPI_Win_get_attr hands out pointers to them, valid until MPI_Win_free).
final class CWindow {
    let window: ByteWindow
    /// This rank's base as the program sees it (MPI_WIN_BASE, MPI_Win_allocate's `baseptr`): the
    /// pointer MPI_Win_create was given, NULL where MPI_Win_allocate(_shared) had no bytes to give
    /// (as MPICH does), MPI_BOTTOM (NULL) for a dynamic window. SwiftMPI's own base is never NULL;
    /// a program that frees what MPI_WIN_BASE shows (MPICH's test harness does) must see only its
    /// own memory.
    let programBase: UnsafeMutableRawPointer?
    /// The handler set on it; nil for the default, which is MPI_COMM_WORLD's handler at the time
    /// of the error (as MPICH does). Read and set under ``CInterfaceLock``.
    var errorHandler: MPI_Errhandler?
    let size: UnsafeMutablePointer<MPI_Aint>
    let integers: UnsafeMutablePointer<Int32>  // displacement unit, flavor, model

    init(_ window: ByteWindow, exposing base: UnsafeMutableRawPointer?) {
        self.window = window
        programBase =
            switch window.flavor {
            case .create: base
            case .allocate, .shared: window.byteCount > 0 ? window.base : nil
            case .dynamic: nil
            }
        size = .allocate(capacity: 1)
        size.initialize(to: MPI_Aint(window.byteCount))
        integers = .allocate(capacity: 3)
        let flavor: Int32 =
            switch window.flavor {
            case .create: MPI_WIN_FLAVOR_CREATE
            case .allocate: MPI_WIN_FLAVOR_ALLOCATE
            case .shared: MPI_WIN_FLAVOR_SHARED
            case .dynamic: MPI_WIN_FLAVOR_DYNAMIC
            }
        integers.initialize(from: [Int32(truncatingIfNeeded: window.displacementUnit), flavor, MPI_WIN_UNIFIED], count: 3)
    }

    deinit {
        size.deallocate()
        integers.deallocate()
    }
}

extension CInterface {
    /// The program's windows, held unmanaged (as communicators are) so that a call borrows its
    /// window in place, with no reference counting on the path of every put.
    @exclusivity(unchecked) nonisolated(unsafe) static var windows = HandleTable<Unmanaged<CWindow>>(.window)
    /// The window of the last call, found without the table (a put and its flush on one window are
    /// the common case); cleared when a window is freed. Not used at MPI_THREAD_MULTIPLE (threads
    /// would see the two halves of each other's updates).
    @exclusivity(unchecked) nonisolated(unsafe) static var recentHandle = MPI_WIN_NULL
    @exclusivity(unchecked) nonisolated(unsafe) static var recentEntry: Unmanaged<CWindow>? = nil

    /// The entry of the window `handle` names, nil for none.
    @inline(__always)
    static func windowEntry(_ handle: MPI_Win) -> Unmanaged<CWindow>? {
        if handle == recentHandle, handle != MPI_WIN_NULL, !CInterfaceLock.isEnabled { return recentEntry }
        let entry = windows[handle]
        if entry != nil, !CInterfaceLock.isEnabled {
            recentHandle = handle
            recentEntry = entry
        }
        return entry
    }

    /// The accumulate operator `op` names (MPI's predefined ones; no user operators, MPI-4.1 §12.3.4).
    static func accumulateOperator(_ op: MPI_Op) throws(CError) -> AccumulateOperator {
        switch op {
        case MPI_SUM: .sum
        case MPI_PROD: .product
        case MPI_MIN: .min
        case MPI_MAX: .max
        case MPI_BAND: .bitwiseAnd
        case MPI_BOR: .bitwiseOr
        case MPI_BXOR: .bitwiseXor
        case MPI_LAND: .logicalAnd
        case MPI_LOR: .logicalOr
        case MPI_LXOR: .logicalXor
        case MPI_REPLACE: .replace
        case MPI_NO_OP: .noOp
        case MPI_MINLOC: .minloc
        case MPI_MAXLOC: .maxloc
        default: throw CError(MPI_ERR_OP, "one-sided accumulates take MPI's predefined operators, not user operators (MPI-4.1 §12.3.4)")
        }
    }

    /// The element kernel of `datatype` for `op`: its basic type's (``CDatatype/basic``; for the
    /// pair types of MPI_MINLOC and MPI_MAXLOC a pair, with its padding when `padded`:
    /// ``movesPaddedPairs(_:_:_:)``), or
    /// bytes (MPI_REPLACE and MPI_NO_OP only) for a type made of several basic types or an opaque one.
    static func accumulateKernel(_ datatype: MPI_Datatype, _ op: AccumulateOperator, padded: Bool = false) throws(CError) -> AccumulateKernel {
        let type = try CInterface.datatype(datatype)
        if let pair = pairScalar(type.basic?.element), let basic = type.basic {
            let whole = AccumulateKernel(scalar: pair, stride: basic.extent, indexWidth: 4)
            if !padded && basic.size != whole.indexOffset + 4 {
                // MPI_SHORT_INT packed: its int follows its short at byte 2, not where C's struct has it.
                guard op == .replace || op == .noOp else {
                    throw CError(MPI_ERR_TYPE, "MPI_MINLOC and MPI_MAXLOC take MPI_SHORT_INT alone, not inside a derived datatype")
                }
                return AccumulateKernel(scalar: .opaque, stride: 1)
            }
            let kernel = padded ? whole : AccumulateKernel(scalar: pair, stride: whole.indexOffset + 4, indexWidth: 4)
            guard kernel.supports(op) else { throw CError(MPI_ERR_OP, "pair types take MPI_MINLOC, MPI_MAXLOC, MPI_REPLACE and MPI_NO_OP") }
            return kernel
        }
        let scalar: AccumulateKernel.Scalar =
            switch type.basic?.element {
            case .int8: .int8
            case .uint8: .uint8
            case .int16: .int16
            case .uint16: .uint16
            case .int32: .int32
            case .uint32: .uint32
            case .int64: .int64
            case .uint64: .uint64
            case .float: .float
            case .double: .double
            case .bool: .bool
            #if arch(x86_64)
            case .longDouble: .float80
            #endif
            default: .opaque
            }
        // (An opaque basic type, e.g. a complex number, is still one element: MPI_REPLACE changes it at once.)
        let kernel = AccumulateKernel(scalar: scalar, stride: type.basic?.extent ?? 1)
        guard kernel.supports(op) else { throw CError(MPI_ERR_OP, "the operator is not defined on this datatype in a one-sided accumulate") }
        return kernel
    }

    /// The value's kind in one of C's (value, int) pair types; nil for other elements.
    static func pairScalar(_ element: CDatatype.Element?) -> AccumulateKernel.Scalar? {
        switch element {
        case .shortInt: .int16
        case .intInt: .int32
        case .longInt: .int64
        case .floatInt: .float
        case .doubleInt: .double
        #if arch(x86_64)
        case .longDoubleInt: .float80
        #endif
        default: nil
        }
    }

    /// True when every one of an accumulate's `datatypes` is a predefined pair type whose data has a
    /// hole (MPI_SHORT_INT, MPI_LONG_INT, MPI_DOUBLE_INT, MPI_LONG_DOUBLE_INT). Then `count`
    /// instances move as `count × extent` bytes, padding included (C's arrays of the pair struct hold
    /// it), each pair one element of `extent` bytes. Otherwise pairs move packed (in type-map order,
    /// `size` bytes each), which needs each pair's data to be one run: all pair types but
    /// MPI_SHORT_INT, which a derived datatype can hold only with MPI_REPLACE or MPI_NO_OP.
    /// (Two or three handles, no array: a basic type answers from its handle's bits, with no look-up.)
    static func movesPaddedPairs(_ first: MPI_Datatype, _ second: MPI_Datatype, _ third: MPI_Datatype? = nil) -> Bool {
        func padded(_ datatype: MPI_Datatype) -> Bool {
            guard basicSize(datatype) == 0, let type = try? CInterface.datatype(datatype) else { return false }
            return !type.isContiguous && pairScalar(type.element) != nil
        }
        return padded(first) && padded(second) && (third.map(padded) ?? true)
    }

    /// An accumulate's target bytes and layout (``targetLayout(_:_:)``), padded pairs as one run.
    static func accumulateTarget(_ count: Int, _ datatype: MPI_Datatype, padded: Bool) throws(CError) -> (bytes: Int, layout: Datatype?) {
        guard padded else { return try targetLayout(count, datatype) }
        guard count >= 0 else { throw CError(MPI_ERR_COUNT, "negative target count \(count)") }
        return (try CBuffer.product(count, try CInterface.datatype(datatype).datatype.extent), nil)
    }

    /// ``withOriginBytes(_:_:_:_:)`` for accumulates: padded pairs as they lie.
    static func withAccumulateOrigin(
        _ pointer: UnsafeRawPointer?, _ count: Int, _ datatype: MPI_Datatype, padded: Bool, _ body: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        guard padded else { return try withOriginBytes(pointer, count, datatype, body) }
        // (The same bytes as a result's, only read.)
        try intoAccumulateResult(UnsafeMutableRawPointer(mutating: pointer), count, datatype, padded: true) { try body(UnsafeRawBufferPointer($0)) }
    }

    /// ``intoOrigin(_:_:_:_:)`` for accumulates' results: padded pairs as they lie.
    static func intoAccumulateResult(
        _ pointer: UnsafeMutableRawPointer?, _ count: Int, _ datatype: MPI_Datatype, padded: Bool,
        _ body: (UnsafeMutableRawBufferPointer) throws -> Void
    ) throws {
        guard padded else { return try intoOrigin(pointer, count, datatype, body) }
        let bytes = try accumulateTarget(count, datatype, padded: true).bytes
        guard bytes == 0 || pointer != nil else { throw CError(MPI_ERR_BUFFER, "a null buffer for \(count) elements") }
        try body(UnsafeMutableRawBufferPointer(start: pointer, count: bytes))
    }

    /// The kernel an accumulate of `origin` data into `target`'s layout computes with, checking that
    /// both are built from the same basic type where the operator computes (MPI-4.1 §12.3.4).
    static func accumulateKernel(
        origin: MPI_Datatype, target: MPI_Datatype, _ op: AccumulateOperator, padded: Bool
    ) throws(CError) -> AccumulateKernel {
        let kernel = try accumulateKernel(target, op, padded: padded)
        if origin != target, op != .replace, op != .noOp, let targetBasic = try CInterface.datatype(target).basic {
            let originBasic = try CInterface.datatype(origin).basic
            guard originBasic == targetBasic else {
                let made = originBasic.map { "\($0.element)" } ?? "several basic types"
                throw CError(MPI_ERR_TYPE, "the origin datatype is built from \(made), the target's from \(targetBasic.element)")
            }
        }
        return kernel
    }

    /// Runs `body` with the bytes `count` instances of `datatype` at `pointer` hold, contiguous: in
    /// place, or packed into a scratch buffer.
    static func withOriginBytes(
        _ pointer: UnsafeRawPointer?, _ count: Int, _ datatype: MPI_Datatype, _ body: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        switch try CBuffer(pointer, count, datatype) {
        case .bytes(let raw): try body(raw)
        case .typed(let raw, let count, let type):
            var packed = [UInt8](repeating: 0, count: type.size * count)
            var position = 0
            try type.pack(from: CBuffer.byteBuffer(raw), count: count, into: &packed, position: &position)
            try packed.withUnsafeBytes { try body($0) }
        }
    }

    /// The size in bytes of a target's `count` instances of `datatype`, which must be contiguous.
    @inline(__always)
    static func targetBytes(_ count: Int, _ datatype: MPI_Datatype, _ function: StaticString) throws(CError) -> Int {
        let bits = UInt32(bitPattern: datatype), basicSize = Int((bits >> 8) & 0xFF)
        if bits & 0xFF00_0000 == 0x4C00_0000, basicSize > 0, count >= 0 { return try CBuffer.product(count, basicSize) }  // a basic type: its bits say
        let type = try CInterface.datatype(datatype)
        guard count >= 0 else { throw CError(MPI_ERR_COUNT, "negative target count \(count)") }
        guard type.isContiguous else { throw CError.unsupported("\(function)", "non-contiguous target datatypes") }
        return try CBuffer.product(count, type.size)
    }

    /// The bytes of a target's `count` instances of `datatype`, and the datatype when it is not
    /// contiguous (then the data goes run by run: ``ByteWindow/put(packed:to:displacement:targetCount:targetDatatype:_:)``).
    static func targetLayout(_ count: Int, _ datatype: MPI_Datatype) throws(CError) -> (bytes: Int, layout: Datatype?) {
        let basic = basicSize(datatype)
        if basic > 0 && count >= 0 { return (try CBuffer.product(count, basic), nil) }
        let type = try CInterface.datatype(datatype)
        guard count >= 0 else { throw CError(MPI_ERR_COUNT, "negative target count \(count)") }
        return (try CBuffer.product(count, type.size), type.isContiguous ? nil : type.datatype)
    }

    /// Reads into `count` instances of `datatype` at `pointer`: `body` fills contiguous bytes, in
    /// place or in a scratch buffer unpacked afterwards.
    static func intoOrigin(
        _ pointer: UnsafeMutableRawPointer?, _ count: Int, _ datatype: MPI_Datatype, _ body: (UnsafeMutableRawBufferPointer) throws -> Void
    ) throws {
        switch try CBuffer(pointer, count, datatype) {
        case .bytes(let raw): try body(UnsafeMutableRawBufferPointer(mutating: raw))
        case .typed(let raw, let count, let type):
            var scratch = [UInt8](repeating: 0, count: type.size * count)
            try scratch.withUnsafeMutableBytes { try body($0) }
            var position = 0
            try type.unpack(from: scratch, position: &position, into: CBuffer.mutableByteBuffer(raw), count: count)
        }
    }

    /// The accumulate kernel of the common integer and floating-point datatypes, from the handle
    /// alone (no table look-up); nil for the others, which take ``accumulateKernel(_:_:padded:)``.
    @inline(__always)
    static func basicKernel(_ datatype: MPI_Datatype) -> AccumulateKernel? {
        switch datatype {
        case MPI_CHAR, MPI_SIGNED_CHAR, MPI_INT8_T: AccumulateKernel(scalar: .int8, stride: 1)  // OSU's fop and cas type
        case MPI_UNSIGNED_CHAR, MPI_UINT8_T: AccumulateKernel(scalar: .uint8, stride: 1)
        case MPI_SHORT, MPI_INT16_T: AccumulateKernel(scalar: .int16, stride: 2)
        case MPI_UNSIGNED_SHORT, MPI_UINT16_T: AccumulateKernel(scalar: .uint16, stride: 2)
        case MPI_INT, MPI_INT32_T: AccumulateKernel(scalar: .int32, stride: 4)
        case MPI_UNSIGNED, MPI_UINT32_T: AccumulateKernel(scalar: .uint32, stride: 4)
        case MPI_LONG, MPI_LONG_LONG, MPI_INT64_T: AccumulateKernel(scalar: .int64, stride: 8)
        case MPI_UNSIGNED_LONG, MPI_UNSIGNED_LONG_LONG, MPI_UINT64_T: AccumulateKernel(scalar: .uint64, stride: 8)
        case MPI_DOUBLE: AccumulateKernel(scalar: .double, stride: 8)
        case MPI_FLOAT: AccumulateKernel(scalar: .float, stride: 4)
        default: nil
        }
    }

    /// The size of a basic datatype from its handle's bits; 0 for any other datatype.
    @inline(__always)
    static func basicSize(_ datatype: MPI_Datatype) -> Int {
        let bits = UInt32(bitPattern: datatype)
        return bits & 0xFF00_0000 == 0x4C00_0000 ? Int((bits >> 8) & 0xFF) : 0
    }

    /// Where a put or get of basic datatypes with the same byte count on both sides, to or from a
    /// target whose memory is mapped here, lands (``ByteWindow/mappedAddress(_:displacement:bytes:)``);
    /// nil for everything else, which takes the checked path.
    @inline(__always)
    static func mappedTarget(
        _ win: MPI_Win, _ target: Int32, _ displacement: MPI_Aint, _ originCount: Int, _ originType: MPI_Datatype, _ targetCount: Int,
        _ targetType: MPI_Datatype
    ) -> UnsafeMutableRawPointer? {
        // (Sizes are at most 255 bytes; counts beyond 2^48 take the checked path, which reports their overflow.)
        let originSize = basicSize(originType), targetSize = basicSize(targetType)
        guard originSize > 0, targetSize > 0, originCount > 0, originCount < 1 << 48, targetCount >= 0, targetCount < 1 << 48,
            originCount * originSize == targetCount * targetSize, let entry = windowEntry(win)
        else { return nil }
        return entry._withUnsafeGuaranteedRef {
            $0.window.mappedAddress(Int(target), displacement: Int(displacement), bytes: originCount * originSize)
        }
    }

    /// A request that is already complete (the request-based one-sided calls finish before they return).
    static func completedRequest(_ request: UnsafeMutablePointer<MPI_Request>?) throws {
        guard let request else { throw CError(MPI_ERR_REQUEST, "a null request pointer") }
        let done = try GeneralizedRequest()
        done.complete()
        request.pointee = requests.insert(CRequest(done.request, MPI_COMM_WORLD))
    }
}

/// Runs `body`, the work of `function` on window `win`, and returns MPI_SUCCESS or what the window's
/// error handler makes of the error (MPI_ERRORS_ARE_FATAL by default, as MPI says for windows).
@inline(__always)
func windowCall(_ function: StaticString, _ win: MPI_Win, _ body: (CWindow) throws -> Void) -> Int32 {
    let entry = CInterface.windowEntry(win)
    do {
        guard let entry else { throw CError(MPI_ERR_WIN, win == MPI_WIN_NULL ? "MPI_WIN_NULL is not a window" : "invalid window handle") }
        try entry._withUnsafeGuaranteedRef { try body($0) }
        return MPI_SUCCESS
    } catch {
        return windowError(error, function, entry)
    }
}

/// An error of a window call, as the window's error handler wants it.
@inline(never)
func windowError(_ error: any Error, _ function: StaticString, _ entry: Unmanaged<CWindow>?) -> Int32 {
    let cError = error as? CError ?? (error as? MPIError).map(CError.init) ?? CError(MPI_ERR_INTERN, "\(error)")
    return CInterface.raise(cError, in: "\(function)", window: entry)
}

extension CInterface {
    /// What `entry`'s error handler makes of `error` (a window without one of its own, and a call
    /// on no window, raise on MPI_COMM_WORLD's, as MPICH does).
    static func raise(_ error: CError, in function: String, window entry: Unmanaged<CWindow>?) -> Int32 {
        guard let entry, let handler = CInterfaceLock.withLock({ entry.takeUnretainedValue().errorHandler }) else {
            return raise(error, in: function, on: MPI_COMM_WORLD)
        }
        switch handler {
        case MPI_ERRORS_RETURN, MPIR_ERRORS_THROW_EXCEPTIONS:
            ErrorText.record("\(function): \(error.message)", in: error.errorClass)
            return error.errorClass
        case let handler:
            if let user = CInterface.userErrorHandler(handler) {
                ErrorText.record("\(function): \(error.message)", in: error.errorClass)
                guard var handle = windows.firstHandle(where: { $0.toOpaque() == entry.toOpaque() }) else { return error.errorClass }
                var code = error.errorClass
                // A window handler has the C type of a communicator's ((MPI_Win *, int *, ...)).
                withUnsafeMutablePointer(to: &handle) { user($0, &code) }
                return code  // what the handler left there (MPICH returns it: a handler may clear the error)
            }
            // MPI_ERRORS_ARE_FATAL, MPI_ERRORS_ABORT: the job ends, naming the rank, the call and the class.
            let rank = world.map { "rank \($0.rank): " } ?? ""
            MPI.abort(
                error.errorClass, message: "\(rank)\(function): \(error.message) (\(ErrorText.className(error.errorClass)); MPI_ERRORS_ARE_FATAL)")
        }
    }
}

// MARK: - Creation

private func makeWindow(
    _ function: StaticString, _ size: MPI_Aint, _ unit: Int, _ info: MPI_Info, _ comm: MPI_Comm, flavor: ByteWindow.Flavor,
    exposing base: UnsafeMutableRawPointer?, _ win: UnsafeMutablePointer<MPI_Win>?
) -> (result: Int32, window: CWindow?) {
    var made: CWindow?
    let result = cCall(function, on: comm) {
        guard let win else { throw CError(MPI_ERR_ARG, "a null window pointer") }
        guard size >= 0 else { throw CError(MPI_ERR_SIZE, "negative size \(size)") }
        guard unit > 0 else { throw CError(MPI_ERR_DISP, "displacement unit \(unit) is not positive") }
        let communicator = try CInterface.communicator(comm)
        let window = try ByteWindow.make(
            bytes: Int(size), displacementUnit: unit, flavor: flavor, exposing: base, on: communicator, info: try CInterface.info(info), "\(function)")
        let entry = CWindow(window, exposing: base)
        win.pointee = CInterface.windows.insert(.passRetained(entry))
        made = entry
    }
    return (result, made)
}

/// MPI_Win_create's work, also MPI_Win_create_c's (whose displacement unit is an MPI_Aint).
private func winCreate(
    _ function: StaticString, _ base: UnsafeMutableRawPointer?, _ size: MPI_Aint, _ unit: Int, _ info: MPI_Info, _ comm: MPI_Comm,
    _ win: UnsafeMutablePointer<MPI_Win>?
) -> Int32 {
    if size > 0 && base == nil { return cCall(function, on: comm) { throw CError(MPI_ERR_ARG, "a null base for \(size) bytes") } }
    return makeWindow(function, size, unit, info, comm, flavor: .create, exposing: base, win).result
}

@_cdecl("PMPI_Win_create")
public func mpiWinCreate(
    _ base: UnsafeMutableRawPointer?, _ size: MPI_Aint, _ unit: Int32, _ info: MPI_Info, _ comm: MPI_Comm, _ win: UnsafeMutablePointer<MPI_Win>?
) -> Int32 {
    winCreate("MPI_Win_create", base, size, Int(unit), info, comm, win)
}

@_cdecl("PMPI_Win_create_c")
public func mpiWinCreateC(
    _ base: UnsafeMutableRawPointer?, _ size: MPI_Aint, _ unit: MPI_Aint, _ info: MPI_Info, _ comm: MPI_Comm, _ win: UnsafeMutablePointer<MPI_Win>?
) -> Int32 {
    winCreate("MPI_Win_create_c", base, size, unit, info, comm, win)
}

/// MPI_Win_allocate's and MPI_Win_allocate_shared's work, also their `_c` forms': the window's
/// memory is stored at `baseptr`.
private func winAllocate(
    _ function: StaticString, flavor: ByteWindow.Flavor, _ size: MPI_Aint, _ unit: Int, _ info: MPI_Info, _ comm: MPI_Comm,
    _ baseptr: UnsafeMutableRawPointer?, _ win: UnsafeMutablePointer<MPI_Win>?
) -> Int32 {
    let made = makeWindow(function, size, unit, info, comm, flavor: flavor, exposing: nil, win)
    if let entry = made.window { baseptr?.storeBytes(of: entry.programBase, as: UnsafeMutableRawPointer?.self) }
    return made.result
}

@_cdecl("PMPI_Win_allocate")
public func mpiWinAllocate(
    _ size: MPI_Aint, _ unit: Int32, _ info: MPI_Info, _ comm: MPI_Comm, _ baseptr: UnsafeMutableRawPointer?, _ win: UnsafeMutablePointer<MPI_Win>?
) -> Int32 {
    winAllocate("MPI_Win_allocate", flavor: .allocate, size, Int(unit), info, comm, baseptr, win)
}

@_cdecl("PMPI_Win_allocate_c")
public func mpiWinAllocateC(
    _ size: MPI_Aint, _ unit: MPI_Aint, _ info: MPI_Info, _ comm: MPI_Comm, _ baseptr: UnsafeMutableRawPointer?, _ win: UnsafeMutablePointer<MPI_Win>?
) -> Int32 {
    winAllocate("MPI_Win_allocate_c", flavor: .allocate, size, unit, info, comm, baseptr, win)
}

@_cdecl("PMPI_Win_allocate_shared")
public func mpiWinAllocateShared(
    _ size: MPI_Aint, _ unit: Int32, _ info: MPI_Info, _ comm: MPI_Comm, _ baseptr: UnsafeMutableRawPointer?, _ win: UnsafeMutablePointer<MPI_Win>?
) -> Int32 {
    winAllocate("MPI_Win_allocate_shared", flavor: .shared, size, Int(unit), info, comm, baseptr, win)
}

@_cdecl("PMPI_Win_allocate_shared_c")
public func mpiWinAllocateSharedC(
    _ size: MPI_Aint, _ unit: MPI_Aint, _ info: MPI_Info, _ comm: MPI_Comm, _ baseptr: UnsafeMutableRawPointer?, _ win: UnsafeMutablePointer<MPI_Win>?
) -> Int32 {
    winAllocate("MPI_Win_allocate_shared_c", flavor: .shared, size, unit, info, comm, baseptr, win)
}

@_cdecl("PMPI_Win_create_dynamic")
public func mpiWinCreateDynamic(_ info: MPI_Info, _ comm: MPI_Comm, _ win: UnsafeMutablePointer<MPI_Win>?) -> Int32 {
    makeWindow("MPI_Win_create_dynamic", 0, 1, info, comm, flavor: .dynamic, exposing: nil, win).result
}

@_cdecl("PMPI_Win_attach")
public func mpiWinAttach(_ win: MPI_Win, _ base: UnsafeMutableRawPointer?, _ size: MPI_Aint) -> Int32 {
    windowCall("MPI_Win_attach", win) { entry in
        guard entry.window.flavor == .dynamic else { throw CError(MPI_ERR_RMA_FLAVOR, "the window was not made with MPI_Win_create_dynamic") }
        guard size == 0 || base != nil else { throw CError(MPI_ERR_ARG, "a null base for \(size) bytes") }
        try entry.window.attach(base, count: Int(size))
    }
}

@_cdecl("PMPI_Win_detach")
public func mpiWinDetach(_ win: MPI_Win, _ base: UnsafeRawPointer?) -> Int32 {
    windowCall("MPI_Win_detach", win) { entry in
        guard entry.window.flavor == .dynamic else { throw CError(MPI_ERR_RMA_FLAVOR, "the window was not made with MPI_Win_create_dynamic") }
        try entry.window.detach(base)
    }
}

/// MPI_Win_shared_query's work, also MPI_Win_shared_query_c's: the displacement unit in the form's
/// integer width (`MPI_ERR_DISP`, nothing stored, for a `_c` window's unit beyond an `int`).
private func winSharedQuery<U: CInteger>(
    _ function: StaticString, _ win: MPI_Win, _ rank: Int32, _ size: UnsafeMutablePointer<MPI_Aint>?, _ unit: UnsafeMutablePointer<U>?,
    _ baseptr: UnsafeMutableRawPointer?
) -> Int32 {
    windowCall(function, win) { entry in
        let window = entry.window
        // MPI_PROC_NULL: the lowest rank with a part of non-zero size.
        let target = rank == MPI_PROC_NULL ? ((0..<window.size).first { (window.sharedPart($0)?.bytes ?? 0) > 0 } ?? 0) : Int(rank)
        guard let part = window.sharedPart(target) else { throw CError(MPI_ERR_RANK, "rank \(rank) is not in the window's group") }
        guard let partUnit = U(exactly: part.unit) else {
            throw CError(MPI_ERR_DISP, "the displacement unit \(part.unit) does not fit an int (MPI_Win_shared_query_c gives it)")
        }
        size?.pointee = MPI_Aint(part.bytes)
        unit?.pointee = partUnit
        baseptr?.storeBytes(of: part.base, as: UnsafeMutableRawPointer?.self)
    }
}

@_cdecl("PMPI_Win_shared_query")
public func mpiWinSharedQuery(
    _ win: MPI_Win, _ rank: Int32, _ size: UnsafeMutablePointer<MPI_Aint>?, _ unit: UnsafeMutablePointer<Int32>?, _ baseptr: UnsafeMutableRawPointer?
) -> Int32 {
    winSharedQuery("MPI_Win_shared_query", win, rank, size, unit, baseptr)
}

@_cdecl("PMPI_Win_shared_query_c")
public func mpiWinSharedQueryC(
    _ win: MPI_Win, _ rank: Int32, _ size: UnsafeMutablePointer<MPI_Aint>?, _ unit: UnsafeMutablePointer<MPI_Aint>?, _ baseptr: UnsafeMutableRawPointer?
) -> Int32 {
    winSharedQuery("MPI_Win_shared_query_c", win, rank, size, unit, baseptr)
}

@_cdecl("PMPI_Win_free")
public func mpiWinFree(_ win: UnsafeMutablePointer<MPI_Win>?) -> Int32 {
    guard let win else { return cCall("MPI_Win_free") { throw CError(MPI_ERR_ARG, "a null window pointer") } }
    let handle = win.pointee
    let result = windowCall("MPI_Win_free", handle) { entry in
        try CInterface.deleteObjectAttributes(.init(kind: .window, handle: handle))
        try entry.window.free()
    }
    if result == MPI_SUCCESS {
        if CInterface.recentHandle == win.pointee { (CInterface.recentHandle, CInterface.recentEntry) = (MPI_WIN_NULL, nil) }
        CInterface.windows.remove(win.pointee)?.release()
        win.pointee = MPI_WIN_NULL
    }
    return result
}

// MARK: - Attributes, names, error handlers, info

@_cdecl("PMPI_Win_get_attr")
public func mpiWinGetAttr(_ win: MPI_Win, _ keyval: Int32, _ value: UnsafeMutableRawPointer?, _ flag: UnsafeMutablePointer<Int32>?) -> Int32 {
    windowCall("MPI_Win_get_attr", win) { entry in
        guard let value, let flag else { throw CError(MPI_ERR_ARG, "a null attribute or flag pointer") }
        guard keyval != MPI_KEYVAL_INVALID else { throw CError(MPI_ERR_KEYVAL, "MPI_KEYVAL_INVALID is not a key") }
        flag.pointee = 1
        switch keyval {
        case MPI_WIN_BASE: value.storeBytes(of: entry.programBase, as: UnsafeMutableRawPointer?.self)
        case MPI_WIN_SIZE: value.storeBytes(of: entry.size, as: UnsafeMutablePointer<MPI_Aint>.self)
        case MPI_WIN_DISP_UNIT: value.storeBytes(of: entry.integers, as: UnsafeMutablePointer<Int32>.self)
        case MPI_WIN_CREATE_FLAVOR: value.storeBytes(of: entry.integers + 1, as: UnsafeMutablePointer<Int32>.self)
        case MPI_WIN_MODEL: value.storeBytes(of: entry.integers + 2, as: UnsafeMutablePointer<Int32>.self)
        default: try CInterface.getObjectAttribute(.init(kind: .window, handle: win), keyval, value, flag)
        }
    }
}

@_cdecl("PMPI_Win_get_group")
public func mpiWinGetGroup(_ win: MPI_Win, _ group: UnsafeMutablePointer<MPI_Group>?) -> Int32 {
    windowCall("MPI_Win_get_group", win) { entry in try CInterface.storeGroup(entry.window.group, into: group) }
}

@_cdecl("PMPI_Win_set_name")
public func mpiWinSetName(_ win: MPI_Win, _ name: UnsafePointer<CChar>?) -> Int32 {
    windowCall("MPI_Win_set_name", win) { entry in
        guard let name else { throw CError(MPI_ERR_ARG, "a null name") }
        let text = String(
            String(decoding: UnsafeRawBufferPointer(start: name, count: strlen(name)), as: UTF8.self).prefix(Int(MPI_MAX_OBJECT_NAME) - 1))
        CInterfaceLock.withLock { entry.window.name = text }
    }
}

@_cdecl("PMPI_Win_get_name")
public func mpiWinGetName(_ win: MPI_Win, _ name: UnsafeMutablePointer<CChar>?, _ length: UnsafeMutablePointer<Int32>?) -> Int32 {
    windowCall("MPI_Win_get_name", win) { entry in
        guard let name, let length else { throw CError(MPI_ERR_ARG, "a null name or length pointer") }
        let bytes = Array(CInterfaceLock.withLock { entry.window.name }.utf8.prefix(Int(MPI_MAX_OBJECT_NAME) - 1))
        for (index, byte) in bytes.enumerated() { name[index] = CChar(bitPattern: byte) }
        name[bytes.count] = 0
        length.pointee = Int32(bytes.count)
    }
}

@_cdecl("PMPI_Win_set_errhandler")
public func mpiWinSetErrhandler(_ win: MPI_Win, _ handler: MPI_Errhandler) -> Int32 {
    windowCall("MPI_Win_set_errhandler", win) { entry in
        guard
            [MPI_ERRORS_ARE_FATAL, MPI_ERRORS_RETURN, MPI_ERRORS_ABORT, MPIR_ERRORS_THROW_EXCEPTIONS].contains(handler)
                || CInterface.userErrorHandler(handler) != nil
        else { throw CError(MPI_ERR_ARG, "not an error handler") }
        CInterfaceLock.withLock { entry.errorHandler = handler }
    }
}

@_cdecl("PMPI_Win_create_errhandler")
public func mpiWinCreateErrhandler(_ function: CErrorHandler?, _ handler: UnsafeMutablePointer<MPI_Errhandler>?) -> Int32 {
    mpiCommCreateErrhandler(function, handler)  // the same C type but for the handle's: one table
}

@_cdecl("PMPI_Win_call_errhandler")
public func mpiWinCallErrhandler(_ win: MPI_Win, _ code: Int32) -> Int32 {
    guard let entry = CInterface.windowEntry(win) else {
        return CInterface.raise(
            CError(MPI_ERR_WIN, win == MPI_WIN_NULL ? "MPI_WIN_NULL is not a window" : "invalid window handle"), in: "MPI_Win_call_errhandler", window: nil)
    }
    _ = CInterface.raise(CError(code, "raised by the program"), in: "MPI_Win_call_errhandler", window: entry)
    return MPI_SUCCESS
}

@_cdecl("PMPI_Win_get_errhandler")
public func mpiWinGetErrhandler(_ win: MPI_Win, _ handler: UnsafeMutablePointer<MPI_Errhandler>?) -> Int32 {
    windowCall("MPI_Win_get_errhandler", win) { entry in
        guard let handler else { throw CError(MPI_ERR_ARG, "a null error handler pointer") }
        handler.pointee = CInterfaceLock.withLock { entry.errorHandler } ?? MPI_ERRORS_ARE_FATAL
    }
}

@_cdecl("PMPI_Win_get_info")
public func mpiWinGetInfo(_ win: MPI_Win, _ info: UnsafeMutablePointer<MPI_Info>?) -> Int32 {
    windowCall("MPI_Win_get_info", win) { entry in
        guard let info else { throw CError(MPI_ERR_ARG, "a null info pointer") }
        info.pointee = CInterface.infos.insert(entry.window.info)  // the hints in effect (WindowHints)
    }
}

@_cdecl("PMPI_Win_set_info")
public func mpiWinSetInfo(_ win: MPI_Win, _ info: MPI_Info) -> Int32 {
    windowCall("MPI_Win_set_info", win) { entry in try entry.window.setInfo(try CInterface.info(info)) }
}

// MARK: - Synchronization

@_cdecl("PMPI_Win_fence")
public func mpiWinFence(_ assertion: Int32, _ win: MPI_Win) -> Int32 {
    windowCall("MPI_Win_fence", win) { entry in try entry.window.fence(noSucceed: assertion & MPI_MODE_NOSUCCEED != 0) }
}

@_cdecl("PMPI_Win_lock")
public func mpiWinLock(_ lockType: Int32, _ rank: Int32, _ assertion: Int32, _ win: MPI_Win) -> Int32 {
    windowCall("MPI_Win_lock", win) { entry in
        guard lockType == MPI_LOCK_EXCLUSIVE || lockType == MPI_LOCK_SHARED else { throw CError(MPI_ERR_LOCKTYPE, "lock type \(lockType)") }
        try entry.window.lock(exclusive: lockType == MPI_LOCK_EXCLUSIVE, rank: CInterface.rank(rank), noCheck: assertion & MPI_MODE_NOCHECK != 0)
    }
}

@_cdecl("PMPI_Win_unlock")
public func mpiWinUnlock(_ rank: Int32, _ win: MPI_Win) -> Int32 {
    windowCall("MPI_Win_unlock", win) { entry in try entry.window.unlock(rank: CInterface.rank(rank)) }
}

@_cdecl("PMPI_Win_lock_all")
public func mpiWinLockAll(_ assertion: Int32, _ win: MPI_Win) -> Int32 {
    windowCall("MPI_Win_lock_all", win) { entry in try entry.window.lockAll(noCheck: assertion & MPI_MODE_NOCHECK != 0) }
}

@_cdecl("PMPI_Win_unlock_all")
public func mpiWinUnlockAll(_ win: MPI_Win) -> Int32 {
    windowCall("MPI_Win_unlock_all", win) { entry in try entry.window.unlockAll() }
}

@_cdecl("PMPI_Win_flush")
public func mpiWinFlush(_ rank: Int32, _ win: MPI_Win) -> Int32 {
    windowCall("MPI_Win_flush", win) { entry in try entry.window.flush(rank: CInterface.rank(rank)) }
}

@_cdecl("PMPI_Win_flush_all")
public func mpiWinFlushAll(_ win: MPI_Win) -> Int32 {
    windowCall("MPI_Win_flush_all", win) { entry in try entry.window.flushAll() }
}

/// Calls are complete at the origin when they return: the local flushes only check their window.
@_cdecl("PMPI_Win_flush_local")
public func mpiWinFlushLocal(_ rank: Int32, _ win: MPI_Win) -> Int32 {
    windowCall("MPI_Win_flush_local", win) { entry in
        guard rank == MPI_PROC_NULL || (rank >= 0 && Int(rank) < entry.window.size) else { throw CError(MPI_ERR_RANK, "rank \(rank)") }
    }
}

@_cdecl("PMPI_Win_flush_local_all")
public func mpiWinFlushLocalAll(_ win: MPI_Win) -> Int32 {
    windowCall("MPI_Win_flush_local_all", win) { _ in }
}

/// The memory model is unified: MPI_Win_sync is a memory fence.
@_cdecl("PMPI_Win_sync")
public func mpiWinSync(_ win: MPI_Win) -> Int32 {
    windowCall("MPI_Win_sync", win) { entry in entry.window.sync() }
}

@_cdecl("PMPI_Win_post")
public func mpiWinPost(_ group: MPI_Group, _ assertion: Int32, _ win: MPI_Win) -> Int32 {
    windowCall("MPI_Win_post", win) { entry in try entry.window.post(try CInterface.group(group)) }
}

@_cdecl("PMPI_Win_start")
public func mpiWinStart(_ group: MPI_Group, _ assertion: Int32, _ win: MPI_Win) -> Int32 {
    windowCall("MPI_Win_start", win) { entry in try entry.window.start(try CInterface.group(group)) }
}

@_cdecl("PMPI_Win_complete")
public func mpiWinComplete(_ win: MPI_Win) -> Int32 {
    windowCall("MPI_Win_complete", win) { entry in try entry.window.complete() }
}

@_cdecl("PMPI_Win_wait")
public func mpiWinWait(_ win: MPI_Win) -> Int32 {
    windowCall("MPI_Win_wait", win) { entry in try entry.window.wait() }
}

@_cdecl("PMPI_Win_test")
public func mpiWinTest(_ win: MPI_Win, _ flag: UnsafeMutablePointer<Int32>?) -> Int32 {
    windowCall("MPI_Win_test", win) { entry in
        guard let flag else { throw CError(MPI_ERR_ARG, "a null flag pointer") }
        flag.pointee = try entry.window.test() ? 1 : 0
    }
}

// MARK: - Data movement

// Each call's work takes Int counts: the `int` forms and the large-count `_c` forms (MPI_Count
// counts) are thin wrappers over it, and the request forms (MPI_Rput, …) call it, then return a
// completed request.

/// MPI_Put's work, also MPI_Put_c's and the request forms'.
@inline(__always)
private func put(
    _ function: StaticString, _ origin: UnsafeRawPointer?, _ originCount: Int, _ originType: MPI_Datatype, _ target: Int32, _ displacement: MPI_Aint,
    _ targetCount: Int, _ targetType: MPI_Datatype, _ win: MPI_Win
) -> Int32 {
    // Basic datatypes on a window mapped here: one copy, before anything that could retain or throw.
    if let origin, let address = CInterface.mappedTarget(win, target, displacement, originCount, originType, targetCount, targetType) {
        address.copyMemory(from: origin, byteCount: originCount * CInterface.basicSize(originType))
        return MPI_SUCCESS
    }
    return windowCall(function, win) { entry in
        let (expected, layout) = try CInterface.targetLayout(targetCount, targetType)
        try CInterface.withOriginBytes(origin, originCount, originType) { bytes in
            guard expected == bytes.count else { throw CError(MPI_ERR_TYPE, "the origin holds \(bytes.count) bytes, the target datatype \(expected)") }
            if let layout {
                try entry.window.put(
                    packed: bytes, to: CInterface.rank(target), displacement: Int(displacement), targetCount: targetCount, targetDatatype: layout, "\(function)"
                )
            } else {
                try entry.window.put(bytes, to: CInterface.rank(target), displacement: Int(displacement), function)
            }
        }
    }
}

@_cdecl("PMPI_Put")
public func mpiPut(
    _ origin: UnsafeRawPointer?, _ originCount: Int32, _ originType: MPI_Datatype, _ target: Int32, _ displacement: MPI_Aint,
    _ targetCount: Int32, _ targetType: MPI_Datatype, _ win: MPI_Win
) -> Int32 {
    put("MPI_Put", origin, Int(originCount), originType, target, displacement, Int(targetCount), targetType, win)
}

@_cdecl("PMPI_Put_c")
public func mpiPutC(
    _ origin: UnsafeRawPointer?, _ originCount: MPI_Count, _ originType: MPI_Datatype, _ target: Int32, _ displacement: MPI_Aint,
    _ targetCount: MPI_Count, _ targetType: MPI_Datatype, _ win: MPI_Win
) -> Int32 {
    put("MPI_Put_c", origin, originCount, originType, target, displacement, targetCount, targetType, win)
}

/// MPI_Get's work, also MPI_Get_c's and the request forms'.
@inline(__always)
private func get(
    _ function: StaticString, _ origin: UnsafeMutableRawPointer?, _ originCount: Int, _ originType: MPI_Datatype, _ target: Int32,
    _ displacement: MPI_Aint, _ targetCount: Int, _ targetType: MPI_Datatype, _ win: MPI_Win
) -> Int32 {
    if let origin, let address = CInterface.mappedTarget(win, target, displacement, originCount, originType, targetCount, targetType) {
        origin.copyMemory(from: address, byteCount: originCount * CInterface.basicSize(originType))
        return MPI_SUCCESS
    }
    return windowCall(function, win) { entry in
        let (expected, layout) = try CInterface.targetLayout(targetCount, targetType)
        try CInterface.intoOrigin(origin, originCount, originType) { bytes in
            guard expected == bytes.count else { throw CError(MPI_ERR_TYPE, "the origin holds \(bytes.count) bytes, the target datatype \(expected)") }
            if let layout {
                try entry.window.get(
                    packed: bytes, from: CInterface.rank(target), displacement: Int(displacement), targetCount: targetCount, targetDatatype: layout,
                    "\(function)")
            } else {
                try entry.window.get(into: bytes, from: CInterface.rank(target), displacement: Int(displacement), function)
            }
        }
    }
}

@_cdecl("PMPI_Get")
public func mpiGet(
    _ origin: UnsafeMutableRawPointer?, _ originCount: Int32, _ originType: MPI_Datatype, _ target: Int32, _ displacement: MPI_Aint,
    _ targetCount: Int32, _ targetType: MPI_Datatype, _ win: MPI_Win
) -> Int32 {
    get("MPI_Get", origin, Int(originCount), originType, target, displacement, Int(targetCount), targetType, win)
}

@_cdecl("PMPI_Get_c")
public func mpiGetC(
    _ origin: UnsafeMutableRawPointer?, _ originCount: MPI_Count, _ originType: MPI_Datatype, _ target: Int32, _ displacement: MPI_Aint,
    _ targetCount: MPI_Count, _ targetType: MPI_Datatype, _ win: MPI_Win
) -> Int32 {
    get("MPI_Get_c", origin, originCount, originType, target, displacement, targetCount, targetType, win)
}

/// MPI_Accumulate's work, also MPI_Accumulate_c's and the request forms'.
@inline(__always)
private func accumulate(
    _ function: StaticString, _ origin: UnsafeRawPointer?, _ originCount: Int, _ originType: MPI_Datatype, _ target: Int32, _ displacement: MPI_Aint,
    _ targetCount: Int, _ targetType: MPI_Datatype, _ op: MPI_Op, _ win: MPI_Win
) -> Int32 {
    // The same common basic type on both sides, on a window mapped here: under the accumulate word at once.
    if let origin, originType == targetType, originCount == targetCount, originCount > 0, let kernel = CInterface.basicKernel(originType),
        let code = try? CInterface.accumulateOperator(op), kernel.supports(code), let entry = CInterface.windowEntry(win),
        entry._withUnsafeGuaranteedRef({
            $0.window.mappedAccumulate(origin, count: originCount, target: Int(target), displacement: Int(displacement), op: code, kernel: kernel)
        })
    {
        return MPI_SUCCESS
    }
    return windowCall(function, win) { entry in
        let code = try CInterface.accumulateOperator(op)
        let padded = CInterface.movesPaddedPairs(originType, targetType)
        let (expected, layout) = try CInterface.accumulateTarget(targetCount, targetType, padded: padded)
        // Nothing to combine: no element type to check the operator against (MPICH accepts it too).
        let kernel =
            expected == 0
            ? AccumulateKernel(scalar: .opaque, stride: 1) : try CInterface.accumulateKernel(origin: originType, target: targetType, code, padded: padded)
        try CInterface.withAccumulateOrigin(origin, originCount, originType, padded: padded) { bytes in
            guard expected == bytes.count else { throw CError(MPI_ERR_TYPE, "the origin holds \(bytes.count) bytes, the target datatype \(expected)") }
            if let layout {
                try entry.window.accumulate(
                    packed: bytes, to: CInterface.rank(target), displacement: Int(displacement), targetCount: targetCount, targetDatatype: layout,
                    op: code, kernel: kernel, "\(function)")
            } else {
                try entry.window.accumulate(bytes, to: CInterface.rank(target), displacement: Int(displacement), op: code, kernel: kernel, "\(function)")
            }
        }
    }
}

@_cdecl("PMPI_Accumulate")
public func mpiAccumulate(
    _ origin: UnsafeRawPointer?, _ originCount: Int32, _ originType: MPI_Datatype, _ target: Int32, _ displacement: MPI_Aint,
    _ targetCount: Int32, _ targetType: MPI_Datatype, _ op: MPI_Op, _ win: MPI_Win
) -> Int32 {
    accumulate("MPI_Accumulate", origin, Int(originCount), originType, target, displacement, Int(targetCount), targetType, op, win)
}

@_cdecl("PMPI_Accumulate_c")
public func mpiAccumulateC(
    _ origin: UnsafeRawPointer?, _ originCount: MPI_Count, _ originType: MPI_Datatype, _ target: Int32, _ displacement: MPI_Aint,
    _ targetCount: MPI_Count, _ targetType: MPI_Datatype, _ op: MPI_Op, _ win: MPI_Win
) -> Int32 {
    accumulate("MPI_Accumulate_c", origin, originCount, originType, target, displacement, targetCount, targetType, op, win)
}

/// MPI_Get_accumulate's work, also MPI_Get_accumulate_c's, MPI_Fetch_and_op's checked path and the request forms'.
private func getAccumulate(
    _ function: StaticString, _ origin: UnsafeRawPointer?, _ originCount: Int, _ originType: MPI_Datatype, _ result: UnsafeMutableRawPointer?,
    _ resultCount: Int, _ resultType: MPI_Datatype, _ target: Int32, _ displacement: MPI_Aint, _ targetCount: Int, _ targetType: MPI_Datatype,
    _ op: MPI_Op, _ win: MPI_Win
) -> Int32 {
    windowCall(function, win) { entry in
        let code = try CInterface.accumulateOperator(op)
        let padded = CInterface.movesPaddedPairs(code == .noOp ? targetType : originType, resultType, targetType)
        let (expected, layout) = try CInterface.accumulateTarget(targetCount, targetType, padded: padded)
        let kernel =
            expected == 0
            ? AccumulateKernel(scalar: .opaque, stride: 1)
            : try CInterface.accumulateKernel(origin: code == .noOp ? targetType : originType, target: targetType, code, padded: padded)
        func run(_ bytes: UnsafeRawBufferPointer) throws {
            try CInterface.intoAccumulateResult(result, resultCount, resultType, padded: padded) { old in
                guard expected == old.count, bytes.count == expected else {
                    throw CError(MPI_ERR_TYPE, "origin, result and target hold different numbers of bytes (\(bytes.count), \(old.count), \(expected))")
                }
                if let layout {
                    try entry.window.getAccumulate(
                        packed: bytes, result: old, to: CInterface.rank(target), displacement: Int(displacement), targetCount: targetCount,
                        targetDatatype: layout, op: code, kernel: kernel, "\(function)")
                } else {
                    try entry.window.getAccumulate(
                        bytes, result: old, to: CInterface.rank(target), displacement: Int(displacement), op: code, kernel: kernel, "\(function)")
                }
            }
        }
        if code == .noOp {
            // With MPI_NO_OP the origin buffer is ignored (it may be NULL): zeros stand in for it.
            try [UInt8](repeating: 0, count: expected).withUnsafeBytes { try run($0) }
        } else {
            try CInterface.withAccumulateOrigin(origin, originCount, originType, padded: padded) { try run($0) }
        }
    }
}

@_cdecl("PMPI_Get_accumulate")
public func mpiGetAccumulate(
    _ origin: UnsafeRawPointer?, _ originCount: Int32, _ originType: MPI_Datatype, _ result: UnsafeMutableRawPointer?, _ resultCount: Int32,
    _ resultType: MPI_Datatype, _ target: Int32, _ displacement: MPI_Aint, _ targetCount: Int32, _ targetType: MPI_Datatype, _ op: MPI_Op,
    _ win: MPI_Win
) -> Int32 {
    getAccumulate(
        "MPI_Get_accumulate", origin, Int(originCount), originType, result, Int(resultCount), resultType, target, displacement, Int(targetCount),
        targetType, op, win)
}

@_cdecl("PMPI_Get_accumulate_c")
public func mpiGetAccumulateC(
    _ origin: UnsafeRawPointer?, _ originCount: MPI_Count, _ originType: MPI_Datatype, _ result: UnsafeMutableRawPointer?, _ resultCount: MPI_Count,
    _ resultType: MPI_Datatype, _ target: Int32, _ displacement: MPI_Aint, _ targetCount: MPI_Count, _ targetType: MPI_Datatype, _ op: MPI_Op,
    _ win: MPI_Win
) -> Int32 {
    getAccumulate(
        "MPI_Get_accumulate_c", origin, originCount, originType, result, resultCount, resultType, target, displacement, targetCount, targetType, op,
        win)
}

@_cdecl("PMPI_Fetch_and_op")
public func mpiFetchAndOp(
    _ origin: UnsafeRawPointer?, _ result: UnsafeMutableRawPointer?, _ datatype: MPI_Datatype, _ target: Int32, _ displacement: MPI_Aint,
    _ op: MPI_Op, _ win: MPI_Win
) -> Int32 {
    // A common basic type on a window mapped here: done under the accumulate word, nothing looked up.
    // (MPI_NO_OP reads no origin, which may then be null.)
    if let result, let kernel = CInterface.basicKernel(datatype), let code = try? CInterface.accumulateOperator(op), kernel.supports(code),
        origin != nil || code == .noOp, let entry = CInterface.windowEntry(win),
        entry._withUnsafeGuaranteedRef({
            $0.window.mappedFetchAndOp(
                origin ?? UnsafeRawPointer(result), result: result, target: Int(target), displacement: Int(displacement), op: code, kernel: kernel)
        })
    {
        return MPI_SUCCESS
    }
    return getAccumulate("MPI_Fetch_and_op", origin, 1, datatype, result, 1, datatype, target, displacement, 1, datatype, op, win)
}

extension CInterface {
    /// The datatypes MPI_Compare_and_swap takes (MPI-4.1 §12.3.4): C and Fortran integers,
    /// logicals, the multi-language types and MPI_BYTE (and MPI_CHAR, as MPICH allows); not
    /// floating point, complex or derived types, which fail with MPI_ERR_TYPE.
    @inline(__always)
    static func comparesAndSwaps(_ datatype: MPI_Datatype) -> Bool {
        switch datatype {
        case MPI_INT, MPI_LONG, MPI_SHORT, MPI_UNSIGNED_SHORT, MPI_UNSIGNED, MPI_UNSIGNED_LONG, MPI_LONG_LONG_INT, MPI_UNSIGNED_LONG_LONG,
            MPI_SIGNED_CHAR, MPI_UNSIGNED_CHAR, MPI_CHAR, MPI_BYTE, MPI_INT8_T, MPI_INT16_T, MPI_INT32_T, MPI_INT64_T, MPI_UINT8_T, MPI_UINT16_T,
            MPI_UINT32_T, MPI_UINT64_T, MPI_INTEGER, MPI_INTEGER1, MPI_INTEGER2, MPI_INTEGER4, MPI_INTEGER8, MPI_LOGICAL, MPI_C_BOOL, MPI_CXX_BOOL,
            MPI_AINT, MPI_OFFSET, MPI_COUNT:
            return true
        default:
            return false
        }
    }
}

@_cdecl("PMPI_Compare_and_swap")
public func mpiCompareAndSwap(
    _ origin: UnsafeRawPointer?, _ compare: UnsafeRawPointer?, _ result: UnsafeMutableRawPointer?, _ datatype: MPI_Datatype, _ target: Int32,
    _ displacement: MPI_Aint, _ win: MPI_Win
) -> Int32 {
    let basic = CInterface.comparesAndSwaps(datatype) ? CInterface.basicSize(datatype) : 0
    if basic > 0, let origin, let compare, let result, let entry = CInterface.windowEntry(win),
        entry._withUnsafeGuaranteedRef({
            $0.window.mappedCompareAndSwap(
                desired: origin, expected: compare, result: result, target: Int(target), displacement: Int(displacement), bytes: basic)
        })
    {
        return MPI_SUCCESS
    }
    return windowCall("MPI_Compare_and_swap", win) { entry in
        guard CInterface.comparesAndSwaps(datatype) else {
            throw CError(
                MPI_ERR_TYPE,
                "compare-and-swap takes an integer, logical, multi-language or byte datatype, "
                    + "not \(CInterface.predefinedNames[datatype] ?? "a derived datatype")"
            )
        }
        let size = try CInterface.targetBytes(1, datatype, "MPI_Compare_and_swap")  // contiguous, from the handle's bits when basic
        guard size > 0 else { throw CError(MPI_ERR_TYPE, "compare-and-swap takes one element of a basic datatype") }
        guard let origin, let compare, let result else { throw CError(MPI_ERR_BUFFER, "a null origin, compare or result buffer") }
        // The expected element then the desired one, on the stack (no allocation per call).
        try withUnsafeTemporaryAllocation(byteCount: 2 * size, alignment: 16) { pair in
            pair.baseAddress!.copyMemory(from: compare, byteCount: size)
            (pair.baseAddress! + size).copyMemory(from: origin, byteCount: size)
            try entry.window.compareAndSwap(
                UnsafeRawBufferPointer(pair), result: UnsafeMutableRawBufferPointer(start: result, count: size), in: CInterface.rank(target),
                displacement: Int(displacement), "MPI_Compare_and_swap")
        }
    }
}

/// Returns a completed request in `request` after `status`, a successful call of `function`'s work.
private func completed(_ status: Int32, _ function: StaticString, _ win: MPI_Win, _ request: UnsafeMutablePointer<MPI_Request>?) -> Int32 {
    guard status == MPI_SUCCESS else { return status }
    return windowCall(function, win) { _ in try CInterface.completedRequest(request) }
}

@_cdecl("PMPI_Rput")
public func mpiRput(
    _ origin: UnsafeRawPointer?, _ originCount: Int32, _ originType: MPI_Datatype, _ target: Int32, _ displacement: MPI_Aint,
    _ targetCount: Int32, _ targetType: MPI_Datatype, _ win: MPI_Win, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    let status = put("MPI_Rput", origin, Int(originCount), originType, target, displacement, Int(targetCount), targetType, win)
    return completed(status, "MPI_Rput", win, request)
}

@_cdecl("PMPI_Rput_c")
public func mpiRputC(
    _ origin: UnsafeRawPointer?, _ originCount: MPI_Count, _ originType: MPI_Datatype, _ target: Int32, _ displacement: MPI_Aint,
    _ targetCount: MPI_Count, _ targetType: MPI_Datatype, _ win: MPI_Win, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    let status = put("MPI_Rput_c", origin, originCount, originType, target, displacement, targetCount, targetType, win)
    return completed(status, "MPI_Rput_c", win, request)
}

@_cdecl("PMPI_Rget")
public func mpiRget(
    _ origin: UnsafeMutableRawPointer?, _ originCount: Int32, _ originType: MPI_Datatype, _ target: Int32, _ displacement: MPI_Aint,
    _ targetCount: Int32, _ targetType: MPI_Datatype, _ win: MPI_Win, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    let status = get("MPI_Rget", origin, Int(originCount), originType, target, displacement, Int(targetCount), targetType, win)
    return completed(status, "MPI_Rget", win, request)
}

@_cdecl("PMPI_Rget_c")
public func mpiRgetC(
    _ origin: UnsafeMutableRawPointer?, _ originCount: MPI_Count, _ originType: MPI_Datatype, _ target: Int32, _ displacement: MPI_Aint,
    _ targetCount: MPI_Count, _ targetType: MPI_Datatype, _ win: MPI_Win, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    let status = get("MPI_Rget_c", origin, originCount, originType, target, displacement, targetCount, targetType, win)
    return completed(status, "MPI_Rget_c", win, request)
}

@_cdecl("PMPI_Raccumulate")
public func mpiRaccumulate(
    _ origin: UnsafeRawPointer?, _ originCount: Int32, _ originType: MPI_Datatype, _ target: Int32, _ displacement: MPI_Aint,
    _ targetCount: Int32, _ targetType: MPI_Datatype, _ op: MPI_Op, _ win: MPI_Win, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    let status = accumulate("MPI_Raccumulate", origin, Int(originCount), originType, target, displacement, Int(targetCount), targetType, op, win)
    return completed(status, "MPI_Raccumulate", win, request)
}

@_cdecl("PMPI_Raccumulate_c")
public func mpiRaccumulateC(
    _ origin: UnsafeRawPointer?, _ originCount: MPI_Count, _ originType: MPI_Datatype, _ target: Int32, _ displacement: MPI_Aint,
    _ targetCount: MPI_Count, _ targetType: MPI_Datatype, _ op: MPI_Op, _ win: MPI_Win, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    let status = accumulate("MPI_Raccumulate_c", origin, originCount, originType, target, displacement, targetCount, targetType, op, win)
    return completed(status, "MPI_Raccumulate_c", win, request)
}

@_cdecl("PMPI_Rget_accumulate")
public func mpiRgetAccumulate(
    _ origin: UnsafeRawPointer?, _ originCount: Int32, _ originType: MPI_Datatype, _ result: UnsafeMutableRawPointer?, _ resultCount: Int32,
    _ resultType: MPI_Datatype, _ target: Int32, _ displacement: MPI_Aint, _ targetCount: Int32, _ targetType: MPI_Datatype, _ op: MPI_Op,
    _ win: MPI_Win, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    let status = getAccumulate(
        "MPI_Rget_accumulate", origin, Int(originCount), originType, result, Int(resultCount), resultType, target, displacement, Int(targetCount),
        targetType, op, win)
    return completed(status, "MPI_Rget_accumulate", win, request)
}

@_cdecl("PMPI_Rget_accumulate_c")
public func mpiRgetAccumulateC(
    _ origin: UnsafeRawPointer?, _ originCount: MPI_Count, _ originType: MPI_Datatype, _ result: UnsafeMutableRawPointer?, _ resultCount: MPI_Count,
    _ resultType: MPI_Datatype, _ target: Int32, _ displacement: MPI_Aint, _ targetCount: MPI_Count, _ targetType: MPI_Datatype, _ op: MPI_Op,
    _ win: MPI_Win, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    let status = getAccumulate(
        "MPI_Rget_accumulate_c", origin, originCount, originType, result, resultCount, resultType, target, displacement, targetCount, targetType, op,
        win)
    return completed(status, "MPI_Rget_accumulate_c", win, request)
}
