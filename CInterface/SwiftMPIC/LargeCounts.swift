#if canImport(Glibc)
import Glibc
#endif
import CMPI
import SwiftMPI

// MPI-4's large-count (`_c`) forms of point-to-point and the datatype calls: the same work as the
// `int` forms (the helpers take Int counts), with counts and sizes as MPI_Count. The envelope that
// MPI_Type_get_envelope and _get_contents report for a type made here keeps `int` integers: counts
// beyond 2^31 - 1 are cut there (MPI_Type_get_envelope_c is not there yet).

@_cdecl("PMPI_Send_c")
public func mpiSendC(_ buf: UnsafeRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ dest: Int32, _ tag: Int32, _ comm: MPI_Comm) -> Int32 {
    blockingSend("MPI_Send_c", .standard, buf, count, datatype, dest, tag, comm)
}

@_cdecl("PMPI_Ssend_c")
public func mpiSsendC(_ buf: UnsafeRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ dest: Int32, _ tag: Int32, _ comm: MPI_Comm) -> Int32 {
    blockingSend("MPI_Ssend_c", .synchronous, buf, count, datatype, dest, tag, comm)
}

@_cdecl("PMPI_Rsend_c")
public func mpiRsendC(_ buf: UnsafeRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ dest: Int32, _ tag: Int32, _ comm: MPI_Comm) -> Int32 {
    blockingSend("MPI_Rsend_c", .ready, buf, count, datatype, dest, tag, comm)
}

@_cdecl("PMPI_Bsend_c")
public func mpiBsendC(_ buf: UnsafeRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ dest: Int32, _ tag: Int32, _ comm: MPI_Comm) -> Int32 {
    blockingSend("MPI_Bsend_c", .buffered, buf, count, datatype, dest, tag, comm)
}

@_cdecl("PMPI_Recv_c")
public func mpiRecvC(
    _ buf: UnsafeMutableRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ source: Int32, _ tag: Int32, _ comm: MPI_Comm,
    _ status: UnsafeMutablePointer<MPI_Status>?
) -> Int32 {
    blockingReceive("MPI_Recv_c", buf, count, datatype, source, tag, comm, status)
}

@_cdecl("PMPI_Isend_c")
public func mpiIsendC(
    _ buf: UnsafeRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ dest: Int32, _ tag: Int32, _ comm: MPI_Comm,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    nonblockingSend("MPI_Isend_c", .standard, buf, count, datatype, dest, tag, comm, request)
}

@_cdecl("PMPI_Issend_c")
public func mpiIssendC(
    _ buf: UnsafeRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ dest: Int32, _ tag: Int32, _ comm: MPI_Comm,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    nonblockingSend("MPI_Issend_c", .synchronous, buf, count, datatype, dest, tag, comm, request)
}

@_cdecl("PMPI_Irsend_c")
public func mpiIrsendC(
    _ buf: UnsafeRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ dest: Int32, _ tag: Int32, _ comm: MPI_Comm,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    nonblockingSend("MPI_Irsend_c", .ready, buf, count, datatype, dest, tag, comm, request)
}

@_cdecl("PMPI_Ibsend_c")
public func mpiIbsendC(
    _ buf: UnsafeRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ dest: Int32, _ tag: Int32, _ comm: MPI_Comm,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    nonblockingSend("MPI_Ibsend_c", .buffered, buf, count, datatype, dest, tag, comm, request)
}

@_cdecl("PMPI_Irecv_c")
public func mpiIrecvC(
    _ buf: UnsafeMutableRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ source: Int32, _ tag: Int32, _ comm: MPI_Comm,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    nonblockingReceive("MPI_Irecv_c", buf, count, datatype, source, tag, comm, request)
}

@_cdecl("PMPI_Sendrecv_c")
public func mpiSendrecvC(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: MPI_Count, _ sendtype: MPI_Datatype, _ dest: Int32, _ sendtag: Int32,
    _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: MPI_Count, _ recvtype: MPI_Datatype, _ source: Int32, _ recvtag: Int32,
    _ comm: MPI_Comm, _ status: UnsafeMutablePointer<MPI_Status>?
) -> Int32 {
    cCall("MPI_Sendrecv_c", on: comm) {
        try sendrecv(sendbuf, sendcount, sendtype, dest, sendtag, recvbuf, recvcount, recvtype, source, recvtag, comm, status)
    }
}

@_cdecl("PMPI_Get_count_c")
public func mpiGetCountC(_ status: UnsafePointer<MPI_Status>?, _ datatype: MPI_Datatype, _ count: UnsafeMutablePointer<MPI_Count>?) -> Int32 {
    cCall("MPI_Get_count_c") { count?.pointee = try CInterface.instanceCount(status, datatype) ?? MPI_Count(MPI_UNDEFINED) }
}

@_cdecl("PMPI_Get_elements_c")
public func mpiGetElementsC(_ status: UnsafePointer<MPI_Status>?, _ datatype: MPI_Datatype, _ count: UnsafeMutablePointer<MPI_Count>?) -> Int32 {
    cCall("MPI_Get_elements_c") { count?.pointee = try CInterface.elementCount(status, datatype) ?? MPI_Count(MPI_UNDEFINED) }
}

@_cdecl("PMPI_Type_size_c")
public func mpiTypeSizeC(_ datatype: MPI_Datatype, _ size: UnsafeMutablePointer<MPI_Count>?) -> Int32 {
    cCall("MPI_Type_size_c") { size?.pointee = try CInterface.datatype(datatype, forCommunication: false).size }
}

@_cdecl("PMPI_Type_get_extent_c")
public func mpiTypeGetExtentC(_ datatype: MPI_Datatype, _ lowerBound: UnsafeMutablePointer<MPI_Count>?, _ extent: UnsafeMutablePointer<MPI_Count>?) -> Int32 {
    cCall("MPI_Type_get_extent_c") {
        let type = try CInterface.datatype(datatype, forCommunication: false).datatype
        lowerBound?.pointee = type.lowerBound
        extent?.pointee = type.extent
    }
}

@_cdecl("PMPI_Type_get_true_extent_c")
public func mpiTypeGetTrueExtentC(
    _ datatype: MPI_Datatype, _ lowerBound: UnsafeMutablePointer<MPI_Count>?, _ extent: UnsafeMutablePointer<MPI_Count>?
) -> Int32 {
    cCall("MPI_Type_get_true_extent_c") {
        let type = try CInterface.datatype(datatype, forCommunication: false).datatype
        lowerBound?.pointee = type.trueLowerBound
        extent?.pointee = type.trueExtent
    }
}

@_cdecl("PMPI_Type_contiguous_c")
public func mpiTypeContiguousC(_ count: MPI_Count, _ oldType: MPI_Datatype, _ newType: UnsafeMutablePointer<MPI_Datatype>?) -> Int32 {
    cCall("MPI_Type_contiguous_c") {
        let old = try CInterface.datatype(oldType, forCommunication: false)
        try CInterface.storeDatatype(
            try Datatype.contiguous(count: try CInterface.count(count), of: old.datatype),
            Envelope(combiner: 3, integers: CInterface.int32s([count]), types: [oldType]), into: newType)
    }
}

@_cdecl("PMPI_Type_vector_c")
public func mpiTypeVectorC(
    _ count: MPI_Count, _ blockLength: MPI_Count, _ stride: MPI_Count, _ oldType: MPI_Datatype, _ newType: UnsafeMutablePointer<MPI_Datatype>?
) -> Int32 {
    cCall("MPI_Type_vector_c") {
        let old = try CInterface.datatype(oldType, forCommunication: false)
        let vector = try Datatype.vector(count: try CInterface.count(count), blockLength: try CInterface.count(blockLength), stride: stride, of: old.datatype)
        try CInterface.storeDatatype(vector, Envelope(combiner: 4, integers: CInterface.int32s([count, blockLength, stride]), types: [oldType]), into: newType)
    }
}

@_cdecl("PMPI_Type_create_hvector_c")
public func mpiTypeCreateHvectorC(
    _ count: MPI_Count, _ blockLength: MPI_Count, _ stride: MPI_Count, _ oldType: MPI_Datatype, _ newType: UnsafeMutablePointer<MPI_Datatype>?
) -> Int32 {
    cCall("MPI_Type_create_hvector_c") {
        let old = try CInterface.datatype(oldType, forCommunication: false)
        let vector = try Datatype.hvector(
            count: try CInterface.count(count), blockLength: try CInterface.count(blockLength), strideBytes: stride, of: old.datatype)
        try CInterface.storeDatatype(
            vector, Envelope(combiner: 6, integers: CInterface.int32s([count, blockLength]), addresses: [stride], types: [oldType]), into: newType)
    }
}

@_cdecl("PMPI_Type_indexed_c")
public func mpiTypeIndexedC(
    _ count: MPI_Count, _ blockLengths: UnsafePointer<MPI_Count>?, _ displacements: UnsafePointer<MPI_Count>?, _ oldType: MPI_Datatype,
    _ newType: UnsafeMutablePointer<MPI_Datatype>?
) -> Int32 {
    cCall("MPI_Type_indexed_c") {
        let old = try CInterface.datatype(oldType, forCommunication: false)
        let lengths = try CInterface.array(blockLengths, count) { (value: MPI_Count) throws(CError) in try CInterface.count(value) }
        let offsets = try CInterface.array(displacements, count) { (value: MPI_Count) throws(CError) in value }
        try CInterface.storeDatatype(
            try Datatype.indexed(blockLengths: lengths, displacements: offsets, of: old.datatype),
            Envelope(combiner: 7, integers: CInterface.int32s([count] + lengths + offsets), types: [oldType]), into: newType)
    }
}

@_cdecl("PMPI_Type_create_hindexed_c")
public func mpiTypeCreateHindexedC(
    _ count: MPI_Count, _ blockLengths: UnsafePointer<MPI_Count>?, _ displacements: UnsafePointer<MPI_Count>?, _ oldType: MPI_Datatype,
    _ newType: UnsafeMutablePointer<MPI_Datatype>?
) -> Int32 {
    cCall("MPI_Type_create_hindexed_c") {
        let old = try CInterface.datatype(oldType, forCommunication: false)
        let lengths = try CInterface.array(blockLengths, count) { (value: MPI_Count) throws(CError) in try CInterface.count(value) }
        let offsets = try CInterface.array(displacements, count) { (value: MPI_Count) throws(CError) in value }
        try CInterface.storeDatatype(
            try Datatype.hindexed(blockLengths: lengths, displacementsBytes: offsets, of: old.datatype),
            Envelope(combiner: 9, integers: CInterface.int32s([count] + lengths), addresses: offsets, types: [oldType]), into: newType)
    }
}

@_cdecl("PMPI_Type_create_indexed_block_c")
public func mpiTypeCreateIndexedBlockC(
    _ count: MPI_Count, _ blockLength: MPI_Count, _ displacements: UnsafePointer<MPI_Count>?, _ oldType: MPI_Datatype,
    _ newType: UnsafeMutablePointer<MPI_Datatype>?
) -> Int32 {
    cCall("MPI_Type_create_indexed_block_c") {
        let old = try CInterface.datatype(oldType, forCommunication: false)
        let offsets = try CInterface.array(displacements, count) { (value: MPI_Count) throws(CError) in value }
        let type = try Datatype.indexedBlock(blockLength: try CInterface.count(blockLength), displacements: offsets, of: old.datatype)
        try CInterface.storeDatatype(
            type, Envelope(combiner: 10, integers: CInterface.int32s([count, blockLength] + offsets), types: [oldType]), into: newType)
    }
}

@_cdecl("PMPI_Type_create_hindexed_block_c")
public func mpiTypeCreateHindexedBlockC(
    _ count: MPI_Count, _ blockLength: MPI_Count, _ displacements: UnsafePointer<MPI_Count>?, _ oldType: MPI_Datatype,
    _ newType: UnsafeMutablePointer<MPI_Datatype>?
) -> Int32 {
    cCall("MPI_Type_create_hindexed_block_c") {
        let old = try CInterface.datatype(oldType, forCommunication: false)
        let offsets = try CInterface.array(displacements, count) { (value: MPI_Count) throws(CError) in value }
        try CInterface.storeDatatype(
            try Datatype.hindexedBlock(blockLength: try CInterface.count(blockLength), displacementsBytes: offsets, of: old.datatype),
            Envelope(combiner: 19, integers: CInterface.int32s([count, blockLength]), addresses: offsets, types: [oldType]), into: newType)
    }
}

@_cdecl("PMPI_Type_create_resized_c")
public func mpiTypeCreateResizedC(
    _ oldType: MPI_Datatype, _ lowerBound: MPI_Count, _ extent: MPI_Count, _ newType: UnsafeMutablePointer<MPI_Datatype>?
) -> Int32 {
    cCall("MPI_Type_create_resized_c") {
        let old = try CInterface.datatype(oldType, forCommunication: false)
        try CInterface.storeDatatype(
            try old.datatype.resized(lowerBound: lowerBound, extent: extent), Envelope(combiner: 18, addresses: [lowerBound, extent], types: [oldType]),
            into: newType)
    }
}

@_cdecl("PMPI_Pack_size_c")
public func mpiPackSizeC(_ count: MPI_Count, _ datatype: MPI_Datatype, _ comm: MPI_Comm, _ size: UnsafeMutablePointer<MPI_Count>?) -> Int32 {
    cCall("MPI_Pack_size_c", on: comm) {
        size?.pointee = try CInterface.datatype(datatype).datatype.packSize(count: try CInterface.count(count))
    }
}

@_cdecl("PMPI_Status_set_elements_c")
public func mpiStatusSetElementsC(_ status: UnsafeMutablePointer<MPI_Status>?, _ datatype: MPI_Datatype, _ count: MPI_Count) -> Int32 {
    setElements("MPI_Status_set_elements_c", status, datatype, count)
}
