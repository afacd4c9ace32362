import CMPI
import SwiftMPI

/// A reduction operation the program made with MPI_Op_create.
struct COperation {
    /// The program's function: MPI_Op_create's, or MPI_Op_create_c's with an MPI_Count length.
    enum Function {
        case int(CUserFunction)
        case largeCount(CLargeCountUserFunction)
    }
    let function: Function
    let isCommutative: Bool
}

/// MPI_User_function: `inoutvec[i] = invec[i] ∘ inoutvec[i]` for `*len` elements of `*datatype`.
public typealias CUserFunction =
    @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<MPI_Datatype>?) -> Void

/// MPI_User_function_c: the same with an MPI_Count length (MPI_Op_create_c).
public typealias CLargeCountUserFunction =
    @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?, UnsafeMutablePointer<MPI_Count>?, UnsafeMutablePointer<MPI_Datatype>?) -> Void

/// A reduction to run once its element type is known: the collective, generic over the element.
protocol CReduction {
    /// Runs the collective with `operation`; a nonblocking one returns what it started.
    func run<T: BitwiseCopyable>(_ operation: ReduceOperation<T>) throws -> CStartedReduction?
    /// The program's buffers, and how many instances this rank's call reads and writes in them.
    var buffers: CReductionBuffers { get }
    /// The same reduction on other buffers: packed copies of the program's, for a program's
    /// operation on a non-contiguous datatype.
    func on(_ buffers: CReductionBuffers) -> Self
}

/// The buffers of one rank's reduction.
struct CReductionBuffers {
    /// The send buffer, or MPI_IN_PLACE.
    var send: UnsafeRawPointer?
    var receive: UnsafeMutableRawPointer?
    /// The instances read from `send` (from `receive` when in place); 0 where none are read.
    var sendCount: Int
    /// The instances written to `receive`; 0 where none are (a reduce's other ranks).
    var receiveCount: Int
    /// True when the receive buffer is also an operand without MPI_IN_PLACE (MPI_Reduce_local's
    /// `inoutbuf`).
    var receiveIsOperand = false
}

extension CReductionBuffers {
    /// The buffers of a reduce (`root`) or allreduce (`root` nil) on `communicator`'s rank: it
    /// receives the result at the root (every rank for allreduce), and contributes unless it is in
    /// an intercommunicator's root group.
    static func rooted(_ communicator: Communicator, send: UnsafeRawPointer?, receive: UnsafeMutableRawPointer?, count: Int, root: Int?) -> Self {
        let roles = communicator.reductionRoles(root: root)
        return CReductionBuffers(send: send, receive: receive, sendCount: roles.sends ? count : 0, receiveCount: roles.receives ? count : 0)
    }
}

extension Communicator {
    /// This rank's part in a reduce to `root` (nil: an allreduce): whether it receives the result,
    /// and whether it sends (an intercommunicator's root, and its group, send nothing).
    func reductionRoles(root: Int?) -> (receives: Bool, sends: Bool) {
        (root == nil || (isIntercommunicator ? root == MPI.root : rank == root), !isIntercommunicator || (root != MPI.root && root != MPI.procNull))
    }
}

/// A nonblocking reduction once started: its request, and what completing it must do before the
/// program sees it complete (copy a result into the program's buffer).
struct CStartedReduction {
    let request: Request
    var completion: (() throws -> Void)?

    /// Stores the request in the program's `handle`, with its completion.
    func store(_ comm: MPI_Comm, into handle: UnsafeMutablePointer<MPI_Request>?) throws(CError) {
        guard let handle else { throw CError(MPI_ERR_REQUEST, "a null request pointer") }
        if let completion {
            handle.pointee = CInterface.insert(request, comm, completion: completion)
        } else {
            handle.pointee = CInterface.requests.insert(CRequest(request, comm))
        }
    }
}

extension CInterface {
    @exclusivity(unchecked) nonisolated(unsafe) static var operations = HandleTable<COperation>(.op)

    /// Runs `reduction` with the element type of `datatype` and the operation `op` on it.
    @discardableResult
    static func reduce(_ datatype: MPI_Datatype, _ op: MPI_Op, _ reduction: some CReduction) throws -> CStartedReduction? {
        let type = try CInterface.datatype(datatype)
        if let user = operations[op] {
            guard type.isContiguous else { return try runStaged(user, type, datatype, reduction) }
            return try runUserOperation(user, type, datatype, reduction)
        }
        switch type.element {
        case .int8: return try reduction.run(try integerOperation(op, Int8.self))
        case .uint8: return try reduction.run(try integerOperation(op, UInt8.self))
        case .int16: return try reduction.run(try integerOperation(op, Int16.self))
        case .uint16: return try reduction.run(try integerOperation(op, UInt16.self))
        case .int32: return try reduction.run(try integerOperation(op, Int32.self))
        case .uint32: return try reduction.run(try integerOperation(op, UInt32.self))
        case .int64: return try reduction.run(try integerOperation(op, Int64.self))
        case .uint64: return try reduction.run(try integerOperation(op, UInt64.self))
        case .float: return try reduction.run(try floatingOperation(op, Float.self))
        case .double: return try reduction.run(try floatingOperation(op, Double.self))
        case .longDouble:
            #if arch(x86_64)
            return try reduction.run(try floatingOperation(op, Float80.self))
            #else
            throw CError.unsupported("reductions", "long double")
            #endif
        case .bool:
            switch op {
            case MPI_LAND: return try reduction.run(ReduceOperation<Bool>.logicalAnd)
            case MPI_LOR: return try reduction.run(ReduceOperation<Bool>.logicalOr)
            case MPI_LXOR: return try reduction.run(ReduceOperation<Bool>.logicalXor)
            default: throw invalid(op, "MPI_C_BOOL")
            }
        case .floatInt: return try reduction.run(try locationOperation(op, FloatInt.self, \.value, \.index))
        case .doubleInt: return try reduction.run(try locationOperation(op, DoubleInt.self, \.value, \.index))
        case .longInt: return try reduction.run(try locationOperation(op, LongInt.self, \.value, \.index))
        case .intInt: return try reduction.run(try locationOperation(op, IntInt.self, \.value, \.index))
        case .shortInt: return try reduction.run(try locationOperation(op, ShortInt.self, \.value, \.index))
        case .floatPair: return try reduction.run(try locationOperation(op, CComplex<Float>.self, \.real, \.imaginary))
        case .doublePair: return try reduction.run(try locationOperation(op, CComplex<Double>.self, \.real, \.imaginary))
        case .longDoubleInt:
            #if arch(x86_64)
            return try reduction.run(try locationOperation(op, LongDoubleInt.self, \.value, \.index))
            #else
            throw CError.unsupported("reductions", "long double")
            #endif
        case .complexFloat: return try reduction.run(try complexOperation(op, Float.self))
        case .complexDouble: return try reduction.run(try complexOperation(op, Double.self))
        case .complexLongDouble:
            #if arch(x86_64)
            return try reduction.run(try longDoubleComplexOperation(op))
            #else
            throw CError.unsupported("reductions", "long double complex")
            #endif
        case .byte:
            guard op == MPI_BAND || op == MPI_BOR || op == MPI_BXOR else { throw invalid(op, "MPI_BYTE (the bitwise operations apply)") }
            return try reduction.run(try integerOperation(op, UInt8.self))
        case .opaque: throw CError(MPI_ERR_OP, "no predefined reduction operation applies to this datatype")
        }
    }

    private static func invalid(_ op: MPI_Op, _ type: String) -> CError {
        CError(MPI_ERR_OP, "operation 0x\(String(UInt32(bitPattern: op), radix: 16)) does not apply to \(type)")
    }

    private static func integerOperation<T: FixedWidthInteger & BitwiseCopyable>(_ op: MPI_Op, _ type: T.Type) throws(CError) -> ReduceOperation<T> {
        switch op {
        case MPI_MAX: .max
        case MPI_MIN: .min
        case MPI_SUM: .sum
        case MPI_PROD: .product
        case MPI_BAND: .bitwiseAnd
        case MPI_BOR: .bitwiseOr
        case MPI_BXOR: .bitwiseXor
        case MPI_LAND: .custom("logicalAnd") { $0 != 0 && $1 != 0 ? 1 : 0 }
        case MPI_LOR: .custom("logicalOr") { $0 != 0 || $1 != 0 ? 1 : 0 }
        case MPI_LXOR: .custom("logicalXor") { ($0 != 0) != ($1 != 0) ? 1 : 0 }
        case MPI_REPLACE: .custom("replace", commutative: false) { $1 }
        case MPI_NO_OP: .custom("noOp", commutative: false) { left, _ in left }
        default: throw invalid(op, "\(T.self)")
        }
    }

    private static func floatingOperation<T: BinaryFloatingPoint & BitwiseCopyable>(_ op: MPI_Op, _ type: T.Type) throws(CError) -> ReduceOperation<T> {
        switch op {
        case MPI_MAX: .max
        case MPI_MIN: .min
        case MPI_SUM: .sum
        case MPI_PROD: .product
        case MPI_REPLACE: .custom("replace", commutative: false) { $1 }
        case MPI_NO_OP: .custom("noOp", commutative: false) { left, _ in left }
        default: throw invalid(op, "\(T.self)")
        }
    }

    /// SUM and PROD on complex numbers (real and imaginary parts as a pair).
    private static func complexOperation<T: BinaryFloatingPoint & BitwiseCopyable>(
        _ op: MPI_Op, _ type: T.Type
    ) throws(CError) -> ReduceOperation<CComplex<T>> {
        switch op {
        case MPI_SUM: .custom("sum") { CComplex(real: $0.real + $1.real, imaginary: $0.imaginary + $1.imaginary) }
        case MPI_PROD:
            .custom("product") { a, b in
                CComplex(real: a.real * b.real - a.imaginary * b.imaginary, imaginary: a.real * b.imaginary + a.imaginary * b.real)
            }
        case MPI_REPLACE: .custom("replace", commutative: false) { $1 }
        case MPI_NO_OP: .custom("noOp", commutative: false) { left, _ in left }
        default: throw invalid(op, "complex numbers")
        }
    }

    #if arch(x86_64)
    /// SUM and PROD on long double complex numbers (Float80 is no SIMD scalar).
    private static func longDoubleComplexOperation(_ op: MPI_Op) throws(CError) -> ReduceOperation<LongDoubleComplex> {
        switch op {
        case MPI_SUM: .custom("sum") { LongDoubleComplex(real: $0.real + $1.real, imaginary: $0.imaginary + $1.imaginary) }
        case MPI_PROD:
            .custom("product") { a, b in
                LongDoubleComplex(real: a.real * b.real - a.imaginary * b.imaginary, imaginary: a.real * b.imaginary + a.imaginary * b.real)
            }
        case MPI_REPLACE: .custom("replace", commutative: false) { $1 }
        case MPI_NO_OP: .custom("noOp", commutative: false) { left, _ in left }
        default: throw invalid(op, "long double complex numbers")
        }
    }
    #endif

    /// MINLOC and MAXLOC on C's (value, index) pairs: the smaller (larger) value, and on a tie the
    /// smaller index.
    private static func locationOperation<P: BitwiseCopyable, V: Comparable, I: Comparable>(
        _ op: MPI_Op, _ type: P.Type, _ value: KeyPath<P, V>, _ index: KeyPath<P, I>
    ) throws(CError) -> ReduceOperation<P> {
        let wantsLarger: Bool
        switch op {
        case MPI_MINLOC: wantsLarger = false
        case MPI_MAXLOC: wantsLarger = true
        default: throw invalid(op, "a (value, index) pair type")
        }
        return .custom(wantsLarger ? "maxloc" : "minloc") { left, right in
            let (a, b) = (left[keyPath: value], right[keyPath: value])
            if a == b { return left[keyPath: index] <= right[keyPath: index] ? left : right }
            return (a > b) == wantsLarger ? left : right
        }
    }

    /// A program's operation, applied element by element through its C function (as `invec` the
    /// operand from lower ranks). The element type is a value of the datatype's size (any size:
    /// ``withOpaqueType(size:_:)``), so the reduction algorithms never cut an instance. It is aligned
    /// to 1 whatever its size: the program's buffer need only be aligned for what the datatype
    /// holds (an MPI_2INT pair of `int`s at a 4-byte boundary; a UInt64 there trapped); the
    /// function is given 16-byte aligned copies of the operands.
    private static func runUserOperation(
        _ user: COperation, _ type: CDatatype, _ handle: MPI_Datatype, _ reduction: some CReduction
    ) throws -> CStartedReduction? {
        guard type.size > 0 else { throw CError.unsupported("reductions", "user operations on empty datatypes") }
        let layout = type.isContiguous ? nil : (type.datatype, try type.span(count: 1))
        return try withOpaqueType(size: type.size, UserOperationCall(user: user, handle: handle, layout: layout, reduction: reduction))
    }

    /// A program's operation on a non-contiguous datatype: the reduction runs on packed copies of
    /// the program's buffers (each instance its `size` bytes of data), the operation sees each
    /// instance laid out as the datatype describes it, and the result is unpacked into the receive
    /// buffer when the reduction completes (the bytes between the datatype's data stay as they were).
    private static func runStaged(
        _ user: COperation, _ type: CDatatype, _ handle: MPI_Datatype, _ reduction: some CReduction
    ) throws -> CStartedReduction? {
        let program = reduction.buffers
        var sendStaging: CStaging?, receiveStaging: CStaging?
        // In place, the input (the receive buffer's first `sendCount` instances) is packed apart
        // from the output: the staged reduction is not in place.
        let input = isInPlace(program.send) ? UnsafeRawPointer(program.receive) : program.send
        let send = try bytes(input, program.sendCount, handle, reads: true, staging: &sendStaging)
        let receive = try bytes(program.receive, program.receiveCount, handle, reads: program.receiveIsOperand, staging: &receiveStaging)
        var staged = program
        (staged.send, staged.receive) = (UnsafeRawPointer(send.baseAddress), UnsafeMutableRawPointer(receive.baseAddress))
        let started = try runUserOperation(user, type, handle, reduction.on(staged))
        let copyOut = { () throws in
            try receiveStaging?.unpack()
            withExtendedLifetime(sendStaging) {}
        }
        guard var started else {
            try copyOut()
            return nil
        }
        let completion = started.completion
        started.completion = {
            try completion?()
            try copyOut()
        }
        return started
    }
}

/// A reduction with a program's operation, for an element type of the datatype's size.
private struct UserOperationCall<Reduction: CReduction>: OpaqueTypeBody {
    let user: COperation
    let handle: MPI_Datatype
    /// For a non-contiguous datatype: the datatype, and the bytes one instance spans from its
    /// origin (the elements are then its packed data).
    let layout: (type: Datatype, span: Range<Int>)?
    let reduction: Reduction

    func run<T: BitwiseCopyable>(_: T.Type) throws -> CStartedReduction? {
        let (function, handle, layout) = (user.function, handle, layout)
        // Each operand's staging: for a laid-out instance, its origin 16-byte aligned (as the
        // program's own buffer would align it), `lead` bytes in, so that data before the origin
        // (a negative lower bound) still lies inside; the data ends `bytes` bytes in.
        let lead = layout.map { ($0.span.lowerBound < 0 ? -$0.span.lowerBound + 15 : 0) & ~15 } ?? 0
        let bytes = layout.map { lead + max(0, $0.span.upperBound) } ?? MemoryLayout<T>.size
        let offset = (bytes + 15) & ~15
        return try reduction.run(
            ReduceOperation<T>.custom("user operation", commutative: user.isCommutative) { left, right in
                // The operands are staged 16-byte aligned: T has alignment 1 (any size), and the
                // program's function reads them as the datatype's members (ints, doubles, ...),
                // laid out as the datatype places them.
                var inoutValue = right
                var datatype = handle
                withUnsafeTemporaryAllocation(byteCount: offset + bytes, alignment: 16) { staging in
                    var input = staging.baseAddress!, output = staging.baseAddress! + offset
                    if let layout {
                        staging.initializeMemory(as: UInt8.self, repeating: 0)
                        (input, output) = (input + lead, output + lead)  // the instances' origins
                        withUnsafeBytes(of: left) { layout.type.unpack(uncheckedCount: 1, from: $0.baseAddress!, into: input) }
                        withUnsafeBytes(of: right) { layout.type.unpack(uncheckedCount: 1, from: $0.baseAddress!, into: output) }
                    } else {
                        withUnsafeBytes(of: left) { input.copyMemory(from: $0.baseAddress!, byteCount: bytes) }
                        withUnsafeBytes(of: right) { output.copyMemory(from: $0.baseAddress!, byteCount: bytes) }
                    }
                    switch function {
                    case .int(let function):
                        var length: Int32 = 1
                        function(input, output, &length, &datatype)
                    case .largeCount(let function):
                        var length: MPI_Count = 1
                        function(input, output, &length, &datatype)
                    }
                    if let layout {
                        withUnsafeMutableBytes(of: &inoutValue) { layout.type.pack(uncheckedCount: 1, from: output, into: $0.baseAddress!) }
                    } else {
                        inoutValue = output.loadUnaligned(as: T.self)
                    }
                }
                return inoutValue
            })
    }
}

/// Something to run with a type chosen at run time (``withOpaqueType(size:_:)``).
protocol OpaqueTypeBody {
    func run<T: BitwiseCopyable>(_ type: T.Type) throws -> CStartedReduction?
}

/// Two values laid end to end; of byte-aligned parts, it is byte-aligned with no padding.
private struct Joined<First: BitwiseCopyable, Second: BitwiseCopyable>: BitwiseCopyable {
    var first: First
    var second: Second
}

/// No bytes (the start of ``withOpaqueType(size:_:)``'s sum).
private struct NoBytes: BitwiseCopyable {}

/// Runs `body` with a type of exactly `size` bytes, aligned to 1 (so its stride is its size): the
/// sum, bit by bit, of byte tuples of 1, 2, 4, … bytes built as ``Joined`` pairs.
func withOpaqueType(size: Int, _ body: some OpaqueTypeBody) throws -> CStartedReduction? {
    func grow<Sum: BitwiseCopyable, Power: BitwiseCopyable>(_: Sum.Type, _: Power.Type, bit: Int) throws -> CStartedReduction? {
        guard 1 << bit <= size else { return try body.run(Sum.self) }
        if size & (1 << bit) != 0 { return try grow(Joined<Sum, Power>.self, Joined<Power, Power>.self, bit: bit + 1) }
        return try grow(Sum.self, Joined<Power, Power>.self, bit: bit + 1)
    }
    return try grow(NoBytes.self, UInt8.self, bit: 0)
}

@_cdecl("PMPI_Op_create")
public func mpiOpCreate(_ function: CUserFunction?, _ commute: Int32, _ op: UnsafeMutablePointer<MPI_Op>?) -> Int32 {
    cCall("MPI_Op_create") {
        guard let function, let op else { throw CError(MPI_ERR_ARG, "a null function or operation pointer") }
        op.pointee = CInterface.operations.insert(COperation(function: .int(function), isCommutative: commute != 0))
    }
}

@_cdecl("PMPI_Op_create_c")
public func mpiOpCreateC(_ function: CLargeCountUserFunction?, _ commute: Int32, _ op: UnsafeMutablePointer<MPI_Op>?) -> Int32 {
    cCall("MPI_Op_create_c") {
        guard let function, let op else { throw CError(MPI_ERR_ARG, "a null function or operation pointer") }
        op.pointee = CInterface.operations.insert(COperation(function: .largeCount(function), isCommutative: commute != 0))
    }
}

@_cdecl("PMPI_Op_free")
public func mpiOpFree(_ op: UnsafeMutablePointer<MPI_Op>?) -> Int32 {
    cCall("MPI_Op_free") {
        guard let op, CInterface.operations.remove(op.pointee) != nil else { throw CError(MPI_ERR_OP, "not an operation made by MPI_Op_create") }
        op.pointee = MPI_OP_NULL
    }
}
