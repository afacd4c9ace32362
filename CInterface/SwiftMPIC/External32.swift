import CMPI
import SwiftMPI

// MPI_Pack_external, MPI_Unpack_external and MPI_Pack_external_size, `int` and `_c` forms, over
// the Swift Datatype's external32 packing (Datatype+External32.swift). "external32" is the only
// data representation they take, as in MPICH.

/// Refuses any data representation but "external32".
private func checkRepresentation(_ datarep: UnsafePointer<CChar>?) throws(CError) {
    guard let datarep else { throw CError(MPI_ERR_ARG, "a null data representation") }
    let name = String(cString: datarep)
    guard name == "external32" else { throw CError(MPI_ERR_ARG, "data representation \"\(name)\": only \"external32\" is there") }
}

/// MPI_Pack_external_size's work, also its `_c` form's.
private func packExternalSize<C: CInteger, S: CInteger>(
    _ function: StaticString, _ datarep: UnsafePointer<CChar>?, _ count: C, _ datatype: MPI_Datatype, _ size: UnsafeMutablePointer<S>?
) -> Int32 {
    cCall(function) {
        try checkRepresentation(datarep)
        guard let size else { throw CError(MPI_ERR_ARG, "a null size pointer") }
        size.pointee = S(try CInterface.datatype(datatype).datatype.externalPackSize(count: try CInterface.count(count)))
    }
}

@_cdecl("PMPI_Pack_external_size")
public func mpiPackExternalSize(_ datarep: UnsafePointer<CChar>?, _ count: Int32, _ datatype: MPI_Datatype, _ size: UnsafeMutablePointer<MPI_Aint>?) -> Int32 {
    packExternalSize("MPI_Pack_external_size", datarep, count, datatype, size)
}

@_cdecl("PMPI_Pack_external_size_c")
public func mpiPackExternalSizeC(
    _ datarep: UnsafePointer<CChar>?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ size: UnsafeMutablePointer<MPI_Count>?
) -> Int32 {
    packExternalSize("MPI_Pack_external_size_c", datarep, count, datatype, size)
}

/// `count` instances of `datatype` at `pointer` as the Swift API takes them: the bytes they span,
/// and the datatype with its instance count (one instance of a shifted type when data lies before
/// `pointer`, as ``CBuffer`` arranges).
private func instances(_ pointer: UnsafeRawPointer?, _ count: Int, _ datatype: MPI_Datatype) throws(CError) -> (UnsafeRawBufferPointer, Int, Datatype) {
    switch try CBuffer(pointer, count, datatype) {
    case .bytes(let raw): return (raw, count, try CInterface.datatype(datatype).datatype)
    case .typed(let raw, let instances, let type): return (raw, instances, type)
    }
}

/// MPI_Pack_external's work, also its `_c` form's.
private func packExternal<C: CInteger>(
    _ function: StaticString, _ datarep: UnsafePointer<CChar>?, _ inbuf: UnsafeRawPointer?, _ count: C, _ datatype: MPI_Datatype,
    _ outbuf: UnsafeMutableRawPointer?, _ outsize: Int, _ position: UnsafeMutablePointer<Int>?
) -> Int32 {
    cCall(function) {
        try checkRepresentation(datarep)
        guard let position, position.pointee >= 0 else { throw CError(MPI_ERR_ARG, "a null or negative position") }
        let (raw, count, type) = try instances(inbuf, try CInterface.count(count), datatype)
        let needed = try type.externalPackSize(count: count)
        guard position.pointee <= outsize, needed <= outsize - position.pointee else {
            throw CError(MPI_ERR_TRUNCATE, "\(function): \(needed) bytes at position \(position.pointee) do not fit the \(outsize) given")
        }
        var packed = CInterface.array(outbuf, bytes: outsize)
        var at = position.pointee
        try type.packExternal(raw, count: count, into: &packed, position: &at)
        packed.withUnsafeBytes { if let outbuf, $0.count > 0 { outbuf.copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
        position.pointee = at
    }
}

@_cdecl("PMPI_Pack_external")
public func mpiPackExternal(
    _ datarep: UnsafePointer<CChar>?, _ inbuf: UnsafeRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ outbuf: UnsafeMutableRawPointer?,
    _ outsize: MPI_Aint, _ position: UnsafeMutablePointer<MPI_Aint>?
) -> Int32 {
    packExternal("MPI_Pack_external", datarep, inbuf, count, datatype, outbuf, outsize, position)
}

@_cdecl("PMPI_Pack_external_c")
public func mpiPackExternalC(
    _ datarep: UnsafePointer<CChar>?, _ inbuf: UnsafeRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ outbuf: UnsafeMutableRawPointer?,
    _ outsize: MPI_Count, _ position: UnsafeMutablePointer<MPI_Count>?
) -> Int32 {
    packExternal("MPI_Pack_external_c", datarep, inbuf, count, datatype, outbuf, outsize, position)
}

/// MPI_Unpack_external's work, also its `_c` form's.
private func unpackExternal<C: CInteger>(
    _ function: StaticString, _ datarep: UnsafePointer<CChar>?, _ inbuf: UnsafeRawPointer?, _ insize: Int, _ position: UnsafeMutablePointer<Int>?,
    _ outbuf: UnsafeMutableRawPointer?, _ count: C, _ datatype: MPI_Datatype
) -> Int32 {
    cCall(function) {
        try checkRepresentation(datarep)
        guard let position, position.pointee >= 0 else { throw CError(MPI_ERR_ARG, "a null or negative position") }
        let (raw, count, type) = try instances(outbuf, try CInterface.count(count), datatype)
        let packed = CInterface.array(inbuf, bytes: try CInterface.count(insize))
        var at = position.pointee
        try type.unpackExternal(packed, position: &at, into: UnsafeMutableRawBufferPointer(mutating: raw), count: count)
        position.pointee = at
    }
}

@_cdecl("PMPI_Unpack_external")
public func mpiUnpackExternal(
    _ datarep: UnsafePointer<CChar>?, _ inbuf: UnsafeRawPointer?, _ insize: MPI_Aint, _ position: UnsafeMutablePointer<MPI_Aint>?,
    _ outbuf: UnsafeMutableRawPointer?, _ count: Int32, _ datatype: MPI_Datatype
) -> Int32 {
    unpackExternal("MPI_Unpack_external", datarep, inbuf, insize, position, outbuf, count, datatype)
}

@_cdecl("PMPI_Unpack_external_c")
public func mpiUnpackExternalC(
    _ datarep: UnsafePointer<CChar>?, _ inbuf: UnsafeRawPointer?, _ insize: MPI_Count, _ position: UnsafeMutablePointer<MPI_Count>?,
    _ outbuf: UnsafeMutableRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype
) -> Int32 {
    unpackExternal("MPI_Unpack_external_c", datarep, inbuf, insize, position, outbuf, count, datatype)
}
