/// How one primitive element is written in MPI's portable "external32" data representation
/// (MPI-4.1 §13.5.2): big-endian, in a size the standard fixes whatever the machine (a C `long` is
/// 4 bytes there, a `long double` a 16-byte IEEE quadruple-precision number).
package struct ExternalRepresentation: Equatable, Sendable {
    /// What the bytes of an element mean.
    package enum Kind: UInt8, Sendable {
        /// No external form: a program's own type, whose fields SwiftMPI does not know.
        case none
        /// Bytes copied as they are (characters, booleans, MPI_BYTE).
        case bytes
        case signedInteger
        case unsignedInteger
        /// IEEE 754 binary32, binary64, or binary128 (from x87's 80-bit extended format).
        case floatingPoint
    }

    package var kind: Kind
    /// The bytes of each part in external32.
    package var size: Int
    /// Parts per element, each big-endian on its own: 2 for a complex number, else 1.
    package var parts: Int

    /// A representation of `parts` parts of `size` bytes each.
    package init(_ kind: Kind, size: Int, parts: Int = 1) {
        self.kind = kind
        self.size = size
        self.parts = parts
    }

    /// No external form (``Kind/none``).
    package static let none = ExternalRepresentation(.none, size: 0)

    /// The external form of Swift's own scalar types (`Int` is 8 bytes, as MPI_INT64_T); ``none``
    /// for any other type.
    static func of<T>(_ type: T.Type) -> ExternalRepresentation {
        let size = MemoryLayout<T>.size
        switch type {
        case is Bool.Type, is UInt8.Type, is Int8.Type: return ExternalRepresentation(.bytes, size: 1)
        case is Int16.Type, is Int32.Type, is Int64.Type, is Int.Type: return ExternalRepresentation(.signedInteger, size: size)
        case is UInt16.Type, is UInt32.Type, is UInt64.Type, is UInt.Type: return ExternalRepresentation(.unsignedInteger, size: size)
        case is Float.Type, is Double.Type: return ExternalRepresentation(.floatingPoint, size: size)
        default:
            #if arch(x86_64)
            if type is Float80.Type { return ExternalRepresentation(.floatingPoint, size: 16) }
            #endif
            return .none
        }
    }
}

/// Packing in MPI's "external32" representation (MPI_Pack_external, MPI_Unpack_external,
/// MPI_Pack_external_size): the data of `count` instances in type-map order, each primitive
/// element big-endian in its external32 size, so that any MPI on any machine can read it.
/// Elements of Swift's integer, floating-point and `Bool` types have an external form; a datatype
/// with an element of another type (a program's own struct given to `Datatype(_:)`) throws
/// `.invalidDatatype`: describe such a record with ``structure(_:)`` of its fields instead.
extension Datatype {
    /// The bytes `count` instances occupy in external32 (MPI_Pack_external_size).
    public func externalPackSize(count: Int) throws(MPIError) -> Int {
        guard count >= 0 else { throw MPIError(.invalidCount, "externalPackSize: negative count \(count)") }
        let (bytes, overflow) = try externalSize(ofInstance: "externalPackSize").multipliedReportingOverflow(by: count)
        guard !overflow else { throw MPIError(.invalidCount, "externalPackSize: \(count) instances overflow") }
        return bytes
    }

    /// Packs `count` instances from `values` (its first element is the datatype's origin) into
    /// `bytes` at `position` in external32, and advances `position`. Throws `.invalidCount` when the
    /// instances lie outside `values` or do not fit `bytes` from `position`, `.invalidDatatype` when
    /// an element has no external form; nothing is written then.
    public func packExternal<T: BitwiseCopyable>(from values: [T], count: Int, into bytes: inout [UInt8], position: inout Int) throws(MPIError) {
        try values.withUnsafeBytes { raw in
            Result { () throws(MPIError) in try packExternal(raw, count: count, into: &bytes, position: &position) }
        }.get()
    }

    /// Unpacks `count` instances in external32 from `bytes` at `position` into `values` (its first
    /// element is the origin), and advances `position`. Throws as ``packExternal(from:count:into:position:)``.
    public func unpackExternal<T: BitwiseCopyable>(from bytes: [UInt8], position: inout Int, into values: inout [T], count: Int) throws(MPIError) {
        try values.withUnsafeMutableBytes { raw in
            Result { () throws(MPIError) in try unpackExternal(bytes, position: &position, into: raw, count: count) }
        }.get()
    }

    /// This datatype with every element written as `external` in external32: for the C interface's
    /// predefined types whose C type is not their external32 type (`long` is 4 bytes there, `wchar_t`
    /// 2) or whose elements have parts (complex numbers).
    package func withExternalRepresentation(_ external: ExternalRepresentation) -> Datatype {
        let pieces = map.signature.map { ExternalPiece(elementSize: $0.elementSize, count: $0.count, external: external) }
        return Datatype(
            TypeMap(
                blocks: map.blocks, lowerBound: map.lowerBound, upperBound: map.upperBound, alignment: map.alignment, signature: map.signature,
                externalSignature: pieces, summary: map.summary))
    }

    /// ``packExternal(from:count:into:position:)`` from raw memory (the C interface's MPI_Pack_external).
    package func packExternal(_ source: UnsafeRawBufferPointer, count: Int, into bytes: inout [UInt8], position: inout Int) throws(MPIError) {
        let region = try TypedRegion(self, count: count, in: UnsafeMutableRawBufferPointer(mutating: source), "packExternal")
        let external = try externalPackSize(count: count)
        guard position >= 0, position <= bytes.count, external <= bytes.count - position else {
            throw MPIError(.invalidCount, "packExternal: \(external) bytes at position \(position) do not fit the \(bytes.count) packed bytes")
        }
        let native = region.packed()
        let start = position
        native.withUnsafeBytes { native in
            bytes.withUnsafeMutableBytes { convert(native.baseAddress!, to: $0.baseAddress! + start, count: count, toExternal: true) }
        }
        position += external
    }

    /// ``unpackExternal(from:position:into:count:)`` into raw memory (the C interface's MPI_Unpack_external).
    package func unpackExternal(_ bytes: [UInt8], position: inout Int, into target: UnsafeMutableRawBufferPointer, count: Int) throws(MPIError) {
        let region = try TypedRegion(self, count: count, in: target, "unpackExternal")
        let external = try externalPackSize(count: count)
        guard position >= 0, position <= bytes.count, external <= bytes.count - position else {
            throw MPIError(.invalidCount, "unpackExternal: \(external) bytes at position \(position) are more than the \(bytes.count) packed bytes hold")
        }
        var native = [UInt8](repeating: 0, count: region.byteCount)
        let start = position
        bytes.withUnsafeBytes { packed in
            native.withUnsafeMutableBytes { convert($0.baseAddress!, to: packed.baseAddress! + start, count: count, toExternal: false) }
        }
        native.withUnsafeBytes { region.unpack(0..<region.byteCount, from: $0.baseAddress!) }
        position += external
    }

    /// Checks that every element of this datatype has an external32 form as large as its native
    /// one, so that its data takes the same bytes in both and only byte order differs (what an
    /// external32 file view moves here). Throws `.invalidDatatype` for an element with no external
    /// form, `.unsupportedDataRepresentation` for one whose external32 size differs (C's `long`,
    /// `wchar_t` and their pairs).
    func requireExternal32SameSize(_ call: StaticString, _ context: @autoclosure () -> String) throws(MPIError) {
        _ = try externalSize(ofInstance: call)  // (every element has an external form)
        for piece in try externalPieces(call) where piece.external.size * piece.external.parts != piece.elementSize {
            throw MPIError(
                .unsupportedDataRepresentation,
                "\(context()): \(self) has elements of \(piece.elementSize) bytes in memory and \(piece.external.size * piece.external.parts) "
                    + "in external32; SwiftMPI's external32 file views move only data whose elements keep their size (not C's long, wchar_t or their pairs)")
        }
    }

    /// Converts `count` packed instances between native bytes and external32 bytes of the same
    /// size (``requireExternal32SameSize(_:_:)`` checked first): from `source` into `target`, which
    /// must not overlap; `toExternal` says which way.
    func convertExternal32(_ source: UnsafeRawPointer, into target: UnsafeMutableRawPointer, count: Int, toExternal: Bool) {
        if toExternal {
            convert(source, to: target, count: count, toExternal: true)
        } else {
            convert(target, to: source, count: count, toExternal: false)
        }
    }

    /// The elements' external forms; throws when their forms alternate too often to be kept.
    private func externalPieces(_ call: StaticString) throws(MPIError) -> [ExternalPiece] {
        guard let pieces = map.externalSignature else {
            throw MPIError(
                .invalidDatatype,
                "\(call): the kinds of \(self)'s elements alternate more than \(SignatureBuilder.externalLimit) times (too many for external32 here)")
        }
        return pieces
    }

    /// The external32 bytes of one instance; throws when an element has no external form.
    private func externalSize(ofInstance call: StaticString) throws(MPIError) -> Int {
        var bytes = 0
        for piece in try externalPieces(call) {
            guard piece.external.kind != .none else {
                throw MPIError(
                    .invalidDatatype,
                    "\(call): \(self) has elements of \(piece.elementSize) bytes of a type with no external32 form (describe a record by its fields)")
            }
            let (run, o1) = piece.count.multipliedReportingOverflow(by: piece.external.size * piece.external.parts)
            let (sum, o2) = bytes.addingReportingOverflow(run)
            guard !o1, !o2 else { throw MPIError(.invalidCount, "\(call): \(self)'s external32 size overflows") }
            bytes = sum
        }
        return bytes
    }

    /// Converts `count` instances between the native packed form at `native` and external32 at
    /// `external`, element by element in signature order (`toExternal` says which way).
    private func convert(_ native: UnsafeRawPointer, to external: UnsafeRawPointer, count: Int, toExternal: Bool) {
        var nativeAt = native, externalAt = external
        let pieces = map.externalSignature ?? []  // (checked by externalPackSize first)
        for _ in 0..<count {
            for piece in pieces {
                let parts = piece.external.parts, nativePart = piece.elementSize / parts, externalPart = piece.external.size
                for _ in 0..<(piece.count * parts) {
                    let nativeBytes = UnsafeMutableRawPointer(mutating: nativeAt), externalBytes = UnsafeMutableRawPointer(mutating: externalAt)
                    if toExternal {
                        External32.write(nativeBytes, nativePart, as: piece.external.kind, into: externalBytes, externalPart)
                    } else {
                        External32.read(externalBytes, externalPart, as: piece.external.kind, into: nativeBytes, nativePart)
                    }
                    nativeAt += nativePart
                    externalAt += externalPart
                }
            }
        }
    }
}

/// The element conversions of external32 (little-endian machine ↔ big-endian representation).
enum External32 {
    /// Writes the `nativeSize`-byte value at `native` as a `size`-byte big-endian `kind`.
    static func write(_ native: UnsafeRawPointer, _ nativeSize: Int, as kind: ExternalRepresentation.Kind, into target: UnsafeMutableRawPointer, _ size: Int) {
        switch kind {
        case .signedInteger, .unsignedInteger:
            // Resized as C converts integers: truncated, or sign- or zero-extended.
            var value = load(native, nativeSize)
            if kind == .signedInteger && nativeSize < 8 {
                value = UInt64(bitPattern: Int64(truncatingIfNeeded: value << (64 - 8 * nativeSize)) >> (64 - 8 * nativeSize))
            }
            storeBigEndian(value, target, size)
        case .floatingPoint where nativeSize == 16 && size == 16:
            storeQuadruple(fromExtended: native, target)
        case .floatingPoint, .bytes, .none:
            // Same size: the bytes reversed (a float) or as they are.
            if kind == .bytes || size == 1 {
                target.copyMemory(from: native, byteCount: min(size, nativeSize))
            } else {
                for index in 0..<size {
                    target.storeBytes(of: native.load(fromByteOffset: size - 1 - index, as: UInt8.self), toByteOffset: index, as: UInt8.self)
                }
            }
        }
    }

    /// Reads the `size`-byte big-endian `kind` at `source` into the `nativeSize`-byte value at `native`.
    static func read(_ source: UnsafeRawPointer, _ size: Int, as kind: ExternalRepresentation.Kind, into native: UnsafeMutableRawPointer, _ nativeSize: Int) {
        switch kind {
        case .signedInteger, .unsignedInteger:
            var value: UInt64 = 0
            for index in 0..<size { value = value << 8 | UInt64(source.load(fromByteOffset: index, as: UInt8.self)) }
            if kind == .signedInteger && size < 8 { value = UInt64(bitPattern: Int64(truncatingIfNeeded: value << (64 - 8 * size)) >> (64 - 8 * size)) }
            for index in 0..<nativeSize {
                native.storeBytes(of: UInt8(truncatingIfNeeded: index < 8 ? value >> (8 * index) : 0), toByteOffset: index, as: UInt8.self)
            }
        case .floatingPoint where nativeSize == 16 && size == 16:
            loadExtended(fromQuadruple: source, native)
        case .floatingPoint, .bytes, .none:
            if kind == .bytes || size == 1 {
                native.copyMemory(from: source, byteCount: min(size, nativeSize))
            } else {
                for index in 0..<size {
                    native.storeBytes(of: source.load(fromByteOffset: size - 1 - index, as: UInt8.self), toByteOffset: index, as: UInt8.self)
                }
            }
        }
    }

    /// The little-endian integer of `size` (≤ 8) bytes at `pointer`.
    private static func load(_ pointer: UnsafeRawPointer, _ size: Int) -> UInt64 {
        var value: UInt64 = 0
        for index in 0..<min(size, 8) { value |= UInt64(pointer.load(fromByteOffset: index, as: UInt8.self)) << (8 * index) }
        return value
    }

    /// Stores `value`'s low `size` bytes big-endian (beyond 8 bytes, the high ones are zero).
    private static func storeBigEndian(_ value: UInt64, _ target: UnsafeMutableRawPointer, _ size: Int) {
        for index in 0..<size {
            let shift = 8 * (size - 1 - index)
            target.storeBytes(of: UInt8(truncatingIfNeeded: shift < 64 ? value >> shift : 0), toByteOffset: index, as: UInt8.self)
        }
    }

    /// x87's 80-bit extended number (sign, 15-bit exponent, explicit integer bit, 63 fraction bits;
    /// little-endian in 16 bytes) as a big-endian binary128 (sign, the same 15-bit exponent and
    /// bias, 112 fraction bits): the fraction's 63 bits become the top of the 112.
    private static func storeQuadruple(fromExtended native: UnsafeRawPointer, _ target: UnsafeMutableRawPointer) {
        let significand = load(native, 8)
        let signAndExponent = UInt16(load(native + 8, 2))
        let fraction = significand & 0x7FFF_FFFF_FFFF_FFFF  // (the integer bit is implicit in binary128)
        let high = UInt64(signAndExponent) << 48 | fraction >> 15
        let low = fraction << 49
        storeBigEndian(high, target, 8)
        storeBigEndian(low, target + 8, 8)
    }

    /// A big-endian binary128 as x87's 80-bit extended number (the fraction's low 49 bits are
    /// rounded off by truncation — a NaN stays a NaN; the integer bit is set for every normal,
    /// infinite or NaN value).
    private static func loadExtended(fromQuadruple source: UnsafeRawPointer, _ native: UnsafeMutableRawPointer) {
        var high: UInt64 = 0, low: UInt64 = 0
        for index in 0..<8 {
            high = high << 8 | UInt64(source.load(fromByteOffset: index, as: UInt8.self))
            low = low << 8 | UInt64(source.load(fromByteOffset: 8 + index, as: UInt8.self))
        }
        let signAndExponent = UInt16(truncatingIfNeeded: high >> 48)
        var fraction = (high & 0xFFFF_FFFF_FFFF) << 15 | low >> 49
        // A NaN whose payload lies only in the bits cut off stays a (quiet) NaN, not an infinity.
        if signAndExponent & 0x7FFF == 0x7FFF && fraction == 0 && (high & 0xFFFF_FFFF_FFFF != 0 || low != 0) { fraction = 1 << 62 }
        let integerBit: UInt64 = signAndExponent & 0x7FFF == 0 ? 0 : 1 << 63
        native.storeBytes(of: (integerBit | fraction).littleEndian, as: UInt64.self)
        native.storeBytes(of: signAndExponent.littleEndian, toByteOffset: 8, as: UInt16.self)
        for index in 10..<16 { native.storeBytes(of: 0, toByteOffset: index, as: UInt8.self) }
    }
}
