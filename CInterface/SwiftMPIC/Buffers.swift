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
            self = .bytes(try Self.raw(pointer, basicSize * count))
            return
        }
        let type = try CInterface.datatype(datatype)
        guard count >= 0 else { throw CError(MPI_ERR_COUNT, "negative count \(count)") }
        if type.isContiguous {
            self = .bytes(try Self.raw(pointer, type.size * count))
        } else {
            self = .typed(try Self.raw(pointer, type.footprint(count: count)), count: count, type.datatype)
        }
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

    /// Bytes of a contiguous buffer, or an error naming `function` for datatypes it cannot take yet.
    func contiguous(_ function: StaticString) throws(CError) -> UnsafeRawBufferPointer {
        switch self {
        case .bytes(let raw): return raw
        case .typed: throw CError.unsupported("\(function)", "non-contiguous datatypes in this call")
        }
    }
}
