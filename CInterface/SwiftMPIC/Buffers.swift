import CMPI
import SwiftMPI

/// A C buffer of `count` instances of a datatype, as the Swift API takes it: plain bytes when the
/// datatype is contiguous (the fast path: basic predefined types never touch a table), else the
/// datatype with the bytes its instances span.
enum CBuffer {
    case bytes(UnsafeRawBufferPointer)
    case typed(UnsafeRawBufferPointer, count: Int, Datatype)

    /// `count` instances of `datatype` at `pointer`.
    @inline(__always)
    init(_ pointer: UnsafeRawPointer?, _ count: Int32, _ datatype: MPI_Datatype) throws(CError) {
        try self.init(pointer, Int(count), datatype)
    }

    /// `count` instances, counted in Int (a collective's per-rank count times the ranks cannot
    /// overflow, as it could in Int32).
    @inline(__always)
    init(_ pointer: UnsafeRawPointer?, _ count: Int, _ datatype: MPI_Datatype) throws(CError) {
        let bits = UInt32(bitPattern: datatype)
        let basicSize = Int((bits >> 8) & 0xFF)
        if bits & 0xFF00_0000 == 0x4C00_0000, basicSize > 0, count >= 0 {
            self = .bytes(try Self.raw(pointer, try Self.product(count, basicSize)))
            return
        }
        if count == 0 && datatype == MPI_DATATYPE_NULL {  // nothing, of no type (MPICH accepts it, and programs rely on it)
            self = .bytes(UnsafeRawBufferPointer(start: nil, count: 0))
            return
        }
        let type = try CInterface.datatype(datatype)
        guard count >= 0 else { throw CError(MPI_ERR_COUNT, "negative count \(count)") }
        if type.isContiguous {
            self = .bytes(try Self.raw(pointer, try Self.product(count, type.size)))
            return
        }
        let span = try type.span(count: count)
        if span.lowerBound >= 0 && pointer != nil || count == 0 {
            self = .typed(try Self.raw(pointer, span.upperBound), count: count, type.datatype)
            return
        }
        // Data before `pointer` (a negative lower bound or stride), or absolute addresses from
        // MPI_BOTTOM (a nil pointer): the Swift API takes data only from its buffer's start on, so
        // the buffer starts at the lowest byte and the datatype places the instances past it.
        guard let base = UnsafeRawPointer(bitPattern: UInt(bitPattern: pointer) &+ UInt(bitPattern: span.lowerBound)) else {
            throw CError(MPI_ERR_BUFFER, "a null buffer for \(count) instances of a datatype")
        }
        do {
            let shifted = try Datatype.hindexed(blockLengths: [count], displacementsBytes: [-span.lowerBound], of: type.datatype)
            self = .typed(UnsafeRawBufferPointer(start: base, count: span.count), count: 1, shifted)
        } catch {
            throw CError(error)
        }
    }

    /// `count` instances of `size` bytes, in bytes; MPI_ERR_COUNT where that overflows (an
    /// MPI_Count from a large-count function can be any 64-bit value).
    @inline(__always)
    static func product(_ count: Int, _ size: Int) throws(CError) -> Int {
        let (bytes, overflow) = count.multipliedReportingOverflow(by: size)
        guard !overflow else { throw CError(MPI_ERR_COUNT, "\(count) instances of \(size) bytes overflow") }
        return bytes
    }

    @inline(__always)
    private static func raw(_ pointer: UnsafeRawPointer?, _ byteCount: Int) throws(CError) -> UnsafeRawBufferPointer {
        if pointer == nil && byteCount > 0 { throw CError(MPI_ERR_BUFFER, "a null buffer for \(byteCount) bytes") }
        return UnsafeRawBufferPointer(start: byteCount == 0 ? nil : pointer, count: byteCount)
    }

    /// The bytes of a contiguous buffer, as the Swift API's `UInt8` buffers.
    @inline(__always)
    static func byteBuffer(_ raw: UnsafeRawBufferPointer) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: raw.baseAddress?.assumingMemoryBound(to: UInt8.self), count: raw.count)
    }

    /// The same, writable.
    @inline(__always)
    static func mutableByteBuffer(_ raw: UnsafeRawBufferPointer) -> UnsafeMutableBufferPointer<UInt8> {
        UnsafeMutableBufferPointer(mutating: byteBuffer(raw))
    }

    /// The buffer as bytes, an instance count and a datatype, for calls whose other buffer has a
    /// datatype: plain bytes as that many instances of `MPI_BYTE`.
    var typed: (UnsafeRawBufferPointer, count: Int, Datatype) {
        switch self {
        case .bytes(let raw): (raw, raw.count, Datatype(UInt8.self))
        case .typed(let raw, let count, let type): (raw, count, type)
        }
    }

    /// Bytes of a contiguous buffer, or an error naming `function` for datatypes it cannot take yet.
    func contiguous(_ function: StaticString) throws(CError) -> UnsafeRawBufferPointer {
        switch self {
        case .bytes(let raw): return raw
        case .typed: throw CError.unsupported("\(function)", "non-contiguous datatypes in this call")
        }
    }
}

/// `count` instances of a non-contiguous datatype staged as contiguous bytes, for the calls that
/// move plain bytes (gather, scatter, allgather, alltoall): the data the call reads
/// is packed in, and `unpack` copies what it wrote back into the caller's buffer.
final class CStaging {
    /// The packed bytes the call works on.
    let bytes: UnsafeMutableBufferPointer<UInt8>
    private let target: UnsafeRawBufferPointer
    private let count: Int
    private let type: Datatype

    init(_ target: UnsafeRawBufferPointer, count: Int, type: Datatype, packing: Bool) throws(CError) {
        self.target = target
        self.count = count
        self.type = type
        bytes = .allocate(capacity: type.size * count)
        guard packing else { return }
        do {
            var packed = [UInt8](repeating: 0, count: bytes.count)
            var position = 0
            try type.pack(from: CBuffer.byteBuffer(target), count: count, into: &packed, position: &position)
            _ = bytes.initialize(from: packed)
        } catch {
            bytes.deallocate()
            throw CError(error)
        }
    }

    /// Copies the first `byteCount` bytes (whole instances; all by default) into the caller's buffer.
    func unpack(byteCount: Int? = nil) throws(CError) {
        let instances = min(count, (byteCount ?? bytes.count) / max(type.size, 1))
        var position = 0
        do {
            try type.unpack(from: Array(bytes), position: &position, into: CBuffer.mutableByteBuffer(target), count: instances)
        } catch {
            throw CError(error)
        }
    }

    deinit { bytes.deallocate() }
}

extension CInterface {
    /// `count` instances of `datatype` at `pointer` as contiguous bytes: the caller's memory for a
    /// contiguous datatype, else a `staging` the call packs (`reads`) and the caller unpacks after.
    static func bytes(
        _ pointer: UnsafeRawPointer?, _ count: Int, _ datatype: MPI_Datatype, reads: Bool, staging: inout CStaging?
    ) throws(CError) -> UnsafeMutableBufferPointer<UInt8> {
        switch try CBuffer(pointer, count, datatype) {
        case .bytes(let raw):
            return CBuffer.mutableByteBuffer(raw)
        case .typed(let raw, let count, let type):
            let made = try CStaging(raw, count: count, type: type, packing: reads)
            staging = made
            return made.bytes
        }
    }
}
