import CShims

/// The operators one-sided accumulates apply at the target: MPI's predefined ones (MPI-4.1 §12.3.4
/// allows no user operators there), as numbers on the wire.
package enum AccumulateOperator: UInt32 {
    case replace = 1, noOp, sum, product, min, max, bitwiseAnd, bitwiseOr, bitwiseXor, logicalAnd, logicalOr, logicalXor
    /// MPI_MINLOC and MPI_MAXLOC, on (value, index) pairs: ties go to the lower index.
    case minloc, maxloc

    /// The wire form of a built-in ``ReduceOperation`` (by its name); nil for user operators.
    init?<T>(_ operation: ReduceOperation<T>) {
        guard operation.isBuiltIn else { return nil }
        switch operation.name {
        case "replace": self = .replace
        case "noOp": self = .noOp
        case "sum": self = .sum
        case "product": self = .product
        case "min": self = .min
        case "max": self = .max
        case "bitwiseAnd": self = .bitwiseAnd
        case "bitwiseOr": self = .bitwiseOr
        case "bitwiseXor": self = .bitwiseXor
        case "logicalAnd": self = .logicalAnd
        case "logicalOr": self = .logicalOr
        case "logicalXor": self = .logicalXor
        case "minloc": self = .minloc
        case "maxloc": self = .maxloc
        default: return nil
        }
    }
}

/// Applies accumulate operators to a window's elements, given only bytes: the window's element type
/// is recorded at creation as one of the basic scalar kinds, so a target applies `sum` to doubles it
/// holds as raw memory (over TCP the operator arrives as a number). `replace` and `noOp` work for
/// every element type; the arithmetic, bitwise and logical operators for the types C MPI allows them
/// on (integers, floating point, `Bool` for the logical ones).
package struct AccumulateKernel {
    /// The element types the kernel computes with.
    package enum Scalar: UInt32 {
        case int8 = 1, int16, int32, int64, uint8, uint16, uint32, uint64, float, double, bool
        /// Any other element type: `replace` and `noOp` only.
        case opaque
        /// x86-64's 80-bit extended double (C's `long double`, 16 bytes with padding).
        case float80
    }

    package let scalar: Scalar
    /// Bytes per element.
    package let stride: Int
    /// For (value, index) pairs (`minloc`, `maxloc`): the index's width in bytes, 4 (C's pair types'
    /// `int`) or 8 (``ValueAndIndex``'s `Int`), placed after the value at the index's alignment; 0
    /// for plain elements.
    package let indexWidth: Int

    /// The kernel for elements of `T`.
    init<T: BitwiseCopyable>(for type: T.Type) {
        stride = MemoryLayout<T>.stride
        if let pair = Self.pairScalar(type) {
            (scalar, indexWidth) = (pair, MemoryLayout<Int>.size)
            return
        }
        indexWidth = 0
        scalar =
            switch type {
            case is Int8.Type: .int8
            case is Int16.Type: .int16
            case is Int32.Type: .int32
            case is Int64.Type, is Int.Type: .int64
            case is UInt8.Type: .uint8
            case is UInt16.Type: .uint16
            case is UInt32.Type: .uint32
            case is UInt64.Type, is UInt.Type: .uint64
            case is Float.Type: .float
            case is Double.Type: .double
            case is Bool.Type: .bool
            default: Self.extendedScalar(type)
            }
    }

    /// The value's kind when `T` is a ``ValueAndIndex`` of a common numeric type (`minloc`, `maxloc`).
    private static func pairScalar<T>(_ type: T.Type) -> Scalar? {
        switch type {
        case is ValueAndIndex<Int32>.Type: .int32
        case is ValueAndIndex<Int>.Type, is ValueAndIndex<Int64>.Type: .int64
        case is ValueAndIndex<UInt32>.Type: .uint32
        case is ValueAndIndex<UInt64>.Type, is ValueAndIndex<UInt>.Type: .uint64
        case is ValueAndIndex<Int16>.Type: .int16
        case is ValueAndIndex<Float>.Type: .float
        case is ValueAndIndex<Double>.Type: .double
        default: nil
        }
    }

    private static func extendedScalar<T>(_ type: T.Type) -> Scalar {
        #if arch(x86_64)
        if type is Float80.Type { return .float80 }
        #endif
        return .opaque
    }

    /// A kernel for `scalar` elements of `stride` bytes (the C interface's datatypes), or for
    /// (`scalar`, index) pairs of `stride` bytes whose index is `indexWidth` bytes wide.
    package init(scalar: Scalar, stride: Int, indexWidth: Int = 0) {
        self.scalar = scalar
        self.stride = stride
        self.indexWidth = indexWidth
    }

    /// The operator and this kernel in a request's flags: the target computes with the origin's
    /// element type (operator in bits 0-5, the index width in 6-7 as 0, 4 or 8 bytes, scalar kind in
    /// 8-15, stride in 16-31).
    func wireFlags(_ op: AccumulateOperator) -> UInt32 {
        op.rawValue | UInt32(indexWidth / 4) << 6 | scalar.rawValue << 8 | UInt32(truncatingIfNeeded: stride) << 16
    }

    /// The operator and kernel of a request's flags; nil when they make no sense.
    static func decode(_ flags: UInt32) -> (AccumulateOperator, AccumulateKernel)? {
        guard let op = AccumulateOperator(rawValue: flags & 0x3F), let scalar = Scalar(rawValue: (flags >> 8) & 0xFF) else { return nil }
        let kernel = AccumulateKernel(scalar: scalar, stride: Int(flags >> 16), indexWidth: Int((flags >> 6) & 3) * 4)
        guard kernel.stride > 0, kernel.indexWidth != 12, kernel.supports(op) else { return nil }
        if kernel.indexWidth > 0 && kernel.indexOffset + kernel.indexWidth > kernel.stride { return nil }
        return (op, kernel)
    }

    /// Where a pair's index starts: after the value, at the index's alignment (`stride` for plain
    /// elements).
    package var indexOffset: Int {
        guard indexWidth > 0 else { return stride }
        let valueBytes =
            switch scalar {
            case .int8, .uint8, .bool: 1
            case .int16, .uint16: 2
            case .int32, .uint32, .float: 4
            case .int64, .uint64, .double: 8
            case .float80: 16
            case .opaque: stride
            }
        return (valueBytes + indexWidth - 1) / indexWidth * indexWidth
    }

    /// True when `op` can be applied to this element type.
    package func supports(_ op: AccumulateOperator) -> Bool {
        switch op {
        case .replace, .noOp: true
        case .minloc, .maxloc: indexWidth > 0 && scalar != .bool && scalar != .opaque
        case _ where indexWidth > 0: false  // pairs take replace, noOp, minloc and maxloc only
        case .sum, .product, .min, .max: scalar != .bool && scalar != .opaque
        case .bitwiseAnd, .bitwiseOr, .bitwiseXor: scalar != .bool && scalar != .opaque && !isFloatingPoint
        case .logicalAnd, .logicalOr, .logicalXor: scalar != .opaque && !isFloatingPoint
        }
    }

    private var isFloatingPoint: Bool { scalar == .float || scalar == .double || scalar == .float80 }

    /// `target[i] = op(target[i], origin[i])` for `count` elements (`replace`: `origin[i]`). `target`
    /// is aligned window memory; `origin` may be unaligned (a packet's payload). The operator must be
    /// one ``supports(_:)`` accepts (checked at the origin; a packet that breaks that is ignored).
    func apply(_ op: AccumulateOperator, target: UnsafeMutableRawPointer, origin: UnsafeRawPointer, count: Int) {
        switch op {
        case .noOp: return
        case .replace:
            target.copyMemory(from: origin, byteCount: count * stride)
            return
        default: break
        }
        if op == .minloc || op == .maxloc {
            locations(op, target, origin, count)
            return
        }
        if op == .sum && count >= 8 && (Int(bitPattern: origin) | Int(bitPattern: target)) % stride == 0 && vectorSum(target, origin, count) { return }
        switch scalar {
        case .int8: Self.integers(op, target, origin, count, Int8.self)
        case .int16: Self.integers(op, target, origin, count, Int16.self)
        case .int32: Self.integers(op, target, origin, count, Int32.self)
        case .int64: Self.integers(op, target, origin, count, Int64.self)
        case .uint8: Self.integers(op, target, origin, count, UInt8.self)
        case .uint16: Self.integers(op, target, origin, count, UInt16.self)
        case .uint32: Self.integers(op, target, origin, count, UInt32.self)
        case .uint64: Self.integers(op, target, origin, count, UInt64.self)
        case .float: Self.floats(op, target, origin, count, Float.self)
        case .double: Self.floats(op, target, origin, count, Double.self)
        case .bool: Self.booleans(op, target, origin, count)
        case .float80:
            #if arch(x86_64)
            Self.floats(op, target, origin, count, Float80.self)
            #endif
        case .opaque: return
        }
    }

    /// `minloc` and `maxloc` on `count` (value, index) pairs: a target pair is replaced by the
    /// origin's when the origin's value is smaller (larger), or equal with a lower index.
    private func locations(_ op: AccumulateOperator, _ target: UnsafeMutableRawPointer, _ origin: UnsafeRawPointer, _ count: Int) {
        switch scalar {
        case .int8: locations(op, target, origin, count, Int8.self)
        case .int16: locations(op, target, origin, count, Int16.self)
        case .int32: locations(op, target, origin, count, Int32.self)
        case .int64: locations(op, target, origin, count, Int64.self)
        case .uint8: locations(op, target, origin, count, UInt8.self)
        case .uint16: locations(op, target, origin, count, UInt16.self)
        case .uint32: locations(op, target, origin, count, UInt32.self)
        case .uint64: locations(op, target, origin, count, UInt64.self)
        case .float: locations(op, target, origin, count, Float.self)
        case .double: locations(op, target, origin, count, Double.self)
        case .float80:
            #if arch(x86_64)
            locations(op, target, origin, count, Float80.self)
            #endif
        case .bool, .opaque: return
        }
    }

    private func locations<V: Comparable & BitwiseCopyable>(
        _ op: AccumulateOperator, _ target: UnsafeMutableRawPointer, _ origin: UnsafeRawPointer, _ count: Int, _: V.Type
    ) {
        let offset = indexOffset
        func index(_ pair: UnsafeRawPointer) -> Int {
            indexWidth == 4 ? Int(pair.loadUnaligned(fromByteOffset: offset, as: Int32.self)) : Int(pair.loadUnaligned(fromByteOffset: offset, as: Int64.self))
        }
        for i in 0..<count {
            let old = target + i * stride, new = origin + i * stride
            let a = old.loadUnaligned(as: V.self), b = new.loadUnaligned(as: V.self)
            let wins = op == .minloc ? b < a : b > a
            if wins || (b == a && index(new) < index(old)) {
                old.copyMemory(from: new, byteCount: offset + indexWidth)
            }
        }
    }

    /// Sums of 1- to 8-byte integers and floating-point numbers with the CPU's widest vector unit
    /// (CShims: AVX-512 or AVX2 where the CPU has them; the Swift loops use the baseline's SSE2);
    /// false for the other types.
    private func vectorSum(_ target: UnsafeMutableRawPointer, _ origin: UnsafeRawPointer, _ count: Int) -> Bool {
        switch scalar {
        case .int8, .uint8: cshims_sum_u8(target.assumingMemoryBound(to: UInt8.self), origin.assumingMemoryBound(to: UInt8.self), count)
        case .int16, .uint16: cshims_sum_u16(target.assumingMemoryBound(to: UInt16.self), origin.assumingMemoryBound(to: UInt16.self), count)
        case .int32, .uint32: cshims_sum_u32(target.assumingMemoryBound(to: UInt32.self), origin.assumingMemoryBound(to: UInt32.self), count)
        case .int64, .uint64: cshims_sum_u64(target.assumingMemoryBound(to: UInt64.self), origin.assumingMemoryBound(to: UInt64.self), count)
        case .float: cshims_sum_f32(target.assumingMemoryBound(to: Float.self), origin.assumingMemoryBound(to: Float.self), count)
        case .double: cshims_sum_f64(target.assumingMemoryBound(to: Double.self), origin.assumingMemoryBound(to: Double.self), count)
        default: return false
        }
        return true
    }

    private static func integers<S: FixedWidthInteger>(
        _ op: AccumulateOperator, _ target: UnsafeMutableRawPointer, _ origin: UnsafeRawPointer, _ count: Int, _: S.Type
    ) {
        let values = target.assumingMemoryBound(to: S.self)
        if op == .sum && Int(bitPattern: origin) % MemoryLayout<S>.alignment == 0 {
            // Aligned operands (the direct path's arrays): a loop the compiler vectorizes.
            let operands = origin.assumingMemoryBound(to: S.self)
            for i in 0..<count { values[i] = values[i] &+ operands[i] }
            return
        }
        for i in 0..<count {
            let a = values[i]
            let b = origin.loadUnaligned(fromByteOffset: i * MemoryLayout<S>.stride, as: S.self)
            values[i] =
                switch op {
                case .sum: a &+ b
                case .product: a &* b
                case .min: Swift.min(a, b)
                case .max: Swift.max(a, b)
                case .bitwiseAnd: a & b
                case .bitwiseOr: a | b
                case .bitwiseXor: a ^ b
                case .logicalAnd: (a != 0 && b != 0) ? 1 : 0
                case .logicalOr: (a != 0 || b != 0) ? 1 : 0
                case .logicalXor: ((a != 0) != (b != 0)) ? 1 : 0
                case .replace: b
                case .noOp, .minloc, .maxloc: a  // (pairs: ``locations(_:_:_:_:)``)
                }
        }
    }

    private static func floats<S: BinaryFloatingPoint>(
        _ op: AccumulateOperator, _ target: UnsafeMutableRawPointer, _ origin: UnsafeRawPointer, _ count: Int, _: S.Type
    ) {
        let values = target.assumingMemoryBound(to: S.self)
        if op == .sum && Int(bitPattern: origin) % MemoryLayout<S>.alignment == 0 {
            let operands = origin.assumingMemoryBound(to: S.self)
            for i in 0..<count { values[i] = values[i] + operands[i] }
            return
        }
        for i in 0..<count {
            let a = values[i]
            let b = origin.loadUnaligned(fromByteOffset: i * MemoryLayout<S>.stride, as: S.self)
            switch op {
            case .sum: values[i] = a + b
            case .product: values[i] = a * b
            case .min: values[i] = Swift.min(a, b)
            case .max: values[i] = Swift.max(a, b)
            case .replace: values[i] = b
            default: return  // not supported for floating point (checked at the origin)
            }
        }
    }

    private static func booleans(_ op: AccumulateOperator, _ target: UnsafeMutableRawPointer, _ origin: UnsafeRawPointer, _ count: Int) {
        let values = target.assumingMemoryBound(to: UInt8.self)  // Bool's one byte, 0 or 1
        for i in 0..<count {
            let a = values[i] != 0
            let b = origin.load(fromByteOffset: i, as: UInt8.self) != 0
            switch op {
            case .logicalAnd: values[i] = a && b ? 1 : 0
            case .logicalOr: values[i] = a || b ? 1 : 0
            case .logicalXor: values[i] = a != b ? 1 : 0
            case .replace: values[i] = b ? 1 : 0
            default: return
            }
        }
    }
}

extension ReduceOperation {
    /// Replaces the target's element by the origin's (MPI_REPLACE): for one-sided `accumulate`,
    /// `getAccumulate` and `fetchAndOp`, where it makes them atomic puts and swaps. In a reduction it
    /// keeps the higher rank's value.
    @inlinable
    public static var replace: ReduceOperation { .init(combine: { $1 }, isCommutative: false, name: "replace") }

    /// Leaves the target's element as it is (MPI_NO_OP): `getAccumulate` and `fetchAndOp` with it
    /// read atomically. In a reduction it keeps the lower rank's value.
    @inlinable
    public static var noOp: ReduceOperation { .init(combine: { a, _ in a }, isCommutative: false, name: "noOp") }
}
