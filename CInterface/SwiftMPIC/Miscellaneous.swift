#if canImport(Glibc)
import Glibc
#endif
import CMPI
import SwiftMPI

// The rest: local reductions, packing, memory, error classes of the program's own, status setters,
// MPI_Count forms, more datatype constructors, request queries, intercommunicators, idup.

/// MPI_Reduce_local's reduction: `inoutbuf[i] = inbuf[i] ∘ inoutbuf[i]`.
private struct LocalReduction: CReduction {
    let input: UnsafeRawPointer?
    let output: UnsafeMutableRawPointer?
    let count: Int

    var buffers: CReductionBuffers {
        CReductionBuffers(send: input, receive: output, sendCount: count, receiveCount: count, receiveIsOperand: true)
    }

    func on(_ buffers: CReductionBuffers) -> Self { LocalReduction(input: buffers.send, output: buffers.receive, count: count) }

    func run<T: BitwiseCopyable>(_ operation: ReduceOperation<T>) throws -> CStartedReduction? {
        let target = CInterface.elements(output, count, T.self)
        var values = Array(target)
        try MPI.reduceLocal(Array(CInterface.elements(input, count, T.self)), into: &values, op: operation)
        _ = target.initialize(from: values)
        return nil
    }
}

@_cdecl("PMPI_Reduce_local")
public func mpiReduceLocal(_ inbuf: UnsafeRawPointer?, _ inoutbuf: UnsafeMutableRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ op: MPI_Op) -> Int32 {
    cCall("MPI_Reduce_local") {
        try checkLocalReductionBuffers(inbuf, inoutbuf, count: Int(count))
        try CInterface.reduce(datatype, op, LocalReduction(input: inbuf, output: inoutbuf, count: try CInterface.count(count)))
    }
}

/// MPI_Reduce_local's buffers: two distinct buffers (MPI_IN_PLACE is not one, and the same buffer
/// twice is an alias MPI forbids), MPI_ERR_BUFFER otherwise.
private func checkLocalReductionBuffers(_ input: UnsafeRawPointer?, _ output: UnsafeMutableRawPointer?, count: Int) throws(CError) {
    if CInterface.isInPlace(input) || CInterface.isInPlace(UnsafeRawPointer(output)) {
        throw CError(MPI_ERR_BUFFER, "MPI_IN_PLACE is not a buffer of MPI_Reduce_local")
    }
    if count > 0, let input, input == UnsafeRawPointer(output) {
        throw CError(MPI_ERR_BUFFER, "inbuf and inoutbuf are the same buffer (MPI forbids aliased arguments)")
    }
}

@_cdecl("PMPI_Reduce_local_c")
public func mpiReduceLocalC(
    _ inbuf: UnsafeRawPointer?, _ inoutbuf: UnsafeMutableRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ op: MPI_Op
) -> Int32 {
    cCall("MPI_Reduce_local_c") {
        try checkLocalReductionBuffers(inbuf, inoutbuf, count: Int(count))
        try CInterface.reduce(datatype, op, LocalReduction(input: inbuf, output: inoutbuf, count: try CInterface.count(count)))
    }
}

@_cdecl("PMPI_Op_commutative")
public func mpiOpCommutative(_ op: MPI_Op, _ commute: UnsafeMutablePointer<Int32>?) -> Int32 {
    cCall("MPI_Op_commutative") {
        if let user = CInterface.operations[op] {
            commute?.pointee = user.isCommutative ? 1 : 0
        } else {
            guard UInt32(bitPattern: op) & 0xFFFF_FF00 == 0x5800_0000, op != MPI_OP_NULL else { throw CError(MPI_ERR_OP, "invalid operation") }
            commute?.pointee = op == MPI_REPLACE || op == MPI_NO_OP ? 0 : 1
        }
    }
}

@_cdecl("PMPI_Iscan")
public func mpiIscan(
    _ sendbuf: UnsafeRawPointer?, _ recvbuf: UnsafeMutableRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ op: MPI_Op, _ comm: MPI_Comm,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    mpiIscanWork("MPI_Iscan", sendbuf, recvbuf, Int(count), datatype, op, comm, request)
}

/// MPI_Iscan's work, also MPI_Iscan_c's (counts as Int).
func mpiIscanWork(
    _ function: StaticString, _ sendbuf: UnsafeRawPointer?, _ recvbuf: UnsafeMutableRawPointer?, _ count: Int, _ datatype: MPI_Datatype, _ op: MPI_Op,
    _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    cCall(function, on: comm) { try startScan(sendbuf, recvbuf, count, datatype, op, comm, request, exclusive: false) }
}

@_cdecl("PMPI_Iexscan")
public func mpiIexscan(
    _ sendbuf: UnsafeRawPointer?, _ recvbuf: UnsafeMutableRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ op: MPI_Op, _ comm: MPI_Comm,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    mpiIexscanWork("MPI_Iexscan", sendbuf, recvbuf, Int(count), datatype, op, comm, request)
}

/// MPI_Iexscan's work, also MPI_Iexscan_c's (counts as Int).
func mpiIexscanWork(
    _ function: StaticString, _ sendbuf: UnsafeRawPointer?, _ recvbuf: UnsafeMutableRawPointer?, _ count: Int, _ datatype: MPI_Datatype, _ op: MPI_Op,
    _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    cCall(function, on: comm) { try startScan(sendbuf, recvbuf, count, datatype, op, comm, request, exclusive: true) }
}

private func startScan(
    _ sendbuf: UnsafeRawPointer?, _ recvbuf: UnsafeMutableRawPointer?, _ count: Int, _ datatype: MPI_Datatype, _ op: MPI_Op, _ comm: MPI_Comm,
    _ request: UnsafeMutablePointer<MPI_Request>?, exclusive: Bool
) throws {
    struct Scan: CReduction {
        let communicator: Communicator
        let send: UnsafeRawPointer?
        let receive: UnsafeMutableRawPointer?
        let count: Int
        let exclusive: Bool

        var buffers: CReductionBuffers {
            // (Rank 0's exclusive scan result is undefined: its buffer is left as it is.)
            CReductionBuffers(send: send, receive: receive, sendCount: count, receiveCount: exclusive && communicator.rank == 0 ? 0 : count)
        }

        func on(_ buffers: CReductionBuffers) -> Self {
            Scan(communicator: communicator, send: buffers.send, receive: buffers.receive, count: count, exclusive: exclusive)
        }

        func run<T: BitwiseCopyable>(_ operation: ReduceOperation<T>) throws -> CStartedReduction? {
            let output = CInterface.elements(receive, count, T.self)
            let input = CInterface.isInPlace(send) ? UnsafeBufferPointer(output) : UnsafeBufferPointer(CInterface.elements(send, count, T.self))
            return CStartedReduction(
                request: exclusive
                    ? try communicator.iexscan(input, into: output, op: operation) : try communicator.iscan(input, into: output, op: operation))
        }
    }
    guard request != nil else { throw CError(MPI_ERR_REQUEST, "a null request pointer") }  // (before anything starts)
    try CInterface.checkNotAliased(sendbuf, recvbuf, moves: count > 0, on: comm)
    let scan = Scan(communicator: try CInterface.communicator(comm), send: sendbuf, receive: recvbuf, count: try CInterface.count(count), exclusive: exclusive)
    guard let started = try CInterface.reduce(datatype, op, scan) else { throw CError(MPI_ERR_INTERN, "the scan did not start") }
    try started.store(comm, into: request)
}

@_cdecl("PMPI_Testsome")
public func mpiTestsome(
    _ count: Int32, _ requests: UnsafeMutablePointer<MPI_Request>?, _ outCount: UnsafeMutablePointer<Int32>?,
    _ indices: UnsafeMutablePointer<Int32>?, _ statuses: UnsafeMutablePointer<MPI_Status>?
) -> Int32 {
    cCall("MPI_Testsome") {
        let active = try activeRequests(count, requests)
        guard !active.isEmpty else {
            outCount?.pointee = MPI_UNDEFINED
            return
        }
        let completed: [(index: Int, status: Status)]
        do {
            completed = try Request.testSome(active.map(\.entry.request)) ?? []
        } catch {
            if isPending(error) {  // nothing completed; a wildcard receive pends on a failure
                outCount?.pointee = 0
                throw error
            }
            return try reportSomeAfterFailure(active, in: "MPI_Testsome", requests!, outCount, indices, statuses)
        }
        outCount?.pointee = Int32(completed.count)
        for (slot, (position, result)) in completed.enumerated() {
            let (arrayIndex, entry) = active[position]
            indices?[slot] = Int32(arrayIndex)
            CInterface.store(result, into: CInterface.status(statuses, slot))
            try CInterface.retire(requests! + arrayIndex, entry)
        }
    }
}

@_cdecl("PMPI_Request_get_status")
public func mpiRequestGetStatus(_ request: MPI_Request, _ flag: UnsafeMutablePointer<Int32>?, _ status: UnsafeMutablePointer<MPI_Status>?) -> Int32 {
    cCall("MPI_Request_get_status") {
        guard let entry = try CInterface.request(request) else {
            flag?.pointee = 1
            return CInterface.store(.empty, into: status)
        }
        // A test that leaves the request as it is (SwiftMPI's requests report a completed result again).
        let result = try entry.request.test()
        flag?.pointee = result == nil ? 0 : 1
        if let result { CInterface.store(result, into: status) }
    }
}

@_cdecl("PMPI_Sendrecv_replace")
public func mpiSendrecvReplace(
    _ buf: UnsafeMutableRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ dest: Int32, _ sendtag: Int32, _ source: Int32, _ recvtag: Int32,
    _ comm: MPI_Comm, _ status: UnsafeMutablePointer<MPI_Status>?
) -> Int32 {
    mpiSendrecvReplaceWork("MPI_Sendrecv_replace", buf, Int(count), datatype, dest, sendtag, source, recvtag, comm, status)
}

/// MPI_Sendrecv_replace's work, also MPI_Sendrecv_replace_c's (counts as Int).
func mpiSendrecvReplaceWork(
    _ function: StaticString, _ buf: UnsafeMutableRawPointer?, _ count: Int, _ datatype: MPI_Datatype, _ dest: Int32, _ sendtag: Int32, _ source: Int32,
    _ recvtag: Int32, _ comm: MPI_Comm, _ status: UnsafeMutablePointer<MPI_Status>?
) -> Int32 {
    cCall(function, on: comm) {
        let type = try CInterface.datatype(datatype)
        let bytes = type.footprint(count: try CInterface.count(count))
        // The outgoing data is copied first, then received into the buffer (an error is this call's).
        let outgoing = CInterface.array(buf, bytes: bytes)
        try outgoing.withUnsafeBytes { copy in
            try sendrecv(copy.baseAddress, Int(count), datatype, dest, sendtag, buf, Int(count), datatype, source, recvtag, comm, status)
        }
    }
}

@_cdecl("PMPI_Pack_size")
public func mpiPackSize(_ count: Int32, _ datatype: MPI_Datatype, _ comm: MPI_Comm, _ size: UnsafeMutablePointer<Int32>?) -> Int32 {
    cCall("MPI_Pack_size", on: comm) {
        size?.pointee = Int32(exactly: try CInterface.datatype(datatype).datatype.packSize(count: try CInterface.count(count))) ?? MPI_UNDEFINED
    }
}

/// MPI_Pack's work, also MPI_Pack_c's.
private func pack<C: CInteger>(
    _ function: StaticString, _ inbuf: UnsafeRawPointer?, _ count: C, _ datatype: MPI_Datatype, _ outbuf: UnsafeMutableRawPointer?, _ outsize: C,
    _ position: UnsafeMutablePointer<C>?, _ comm: MPI_Comm
) -> Int32 {
    cCall(function, on: comm) {
        guard let position, position.pointee >= 0 else { throw CError(MPI_ERR_ARG, "a null or negative position") }
        let outsize = try CInterface.count(outsize)
        var packed = CInterface.array(outbuf, bytes: outsize)
        var at = Int(position.pointee)
        // (CBuffer places the data: negative displacements and MPI_BOTTOM's absolute addresses too.)
        switch try CBuffer(inbuf, Int(count), datatype) {
        case .bytes(let raw):
            guard at <= packed.count - raw.count else {
                throw CError(MPI_ERR_TRUNCATE, "\(function): \(raw.count) bytes at position \(at) do not fit the \(outsize) given")
            }
            packed.replaceSubrange(at..<(at + raw.count), with: raw)
            at += raw.count
        case .typed(let raw, let instances, let type):
            try type.pack(from: CBuffer.byteBuffer(raw), count: instances, into: &packed, position: &at)
        }
        guard at <= outsize else { throw CError(MPI_ERR_TRUNCATE, "\(function) needs \(at) bytes of the \(outsize) given") }
        packed.withUnsafeBytes { if let outbuf, $0.count > 0 { outbuf.copyMemory(from: $0.baseAddress!, byteCount: min($0.count, outsize)) } }
        position.pointee = C(at)
    }
}

@_cdecl("PMPI_Pack")
public func mpiPack(
    _ inbuf: UnsafeRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ outbuf: UnsafeMutableRawPointer?, _ outsize: Int32,
    _ position: UnsafeMutablePointer<Int32>?, _ comm: MPI_Comm
) -> Int32 {
    pack("MPI_Pack", inbuf, count, datatype, outbuf, outsize, position, comm)
}

@_cdecl("PMPI_Pack_c")
public func mpiPackC(
    _ inbuf: UnsafeRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ outbuf: UnsafeMutableRawPointer?, _ outsize: MPI_Count,
    _ position: UnsafeMutablePointer<MPI_Count>?, _ comm: MPI_Comm
) -> Int32 {
    pack("MPI_Pack_c", inbuf, count, datatype, outbuf, outsize, position, comm)
}

/// MPI_Unpack's work, also MPI_Unpack_c's.
private func unpack<C: CInteger>(
    _ function: StaticString, _ inbuf: UnsafeRawPointer?, _ insize: C, _ position: UnsafeMutablePointer<C>?, _ outbuf: UnsafeMutableRawPointer?,
    _ count: C, _ datatype: MPI_Datatype, _ comm: MPI_Comm
) -> Int32 {
    cCall(function, on: comm) {
        guard let position, position.pointee >= 0 else { throw CError(MPI_ERR_ARG, "a null or negative position") }
        let packed = CInterface.array(inbuf, bytes: try CInterface.count(insize))
        var at = Int(position.pointee)
        switch try CBuffer(outbuf, Int(count), datatype) {
        case .bytes(let raw):
            guard at <= packed.count - raw.count else {
                throw CError(MPI_ERR_TRUNCATE, "\(function): \(raw.count) bytes at position \(at) are more than the \(insize) given hold")
            }
            if raw.count > 0 { CBuffer.mutableByteBuffer(raw).baseAddress!.update(from: Array(packed[at..<(at + raw.count)]), count: raw.count) }
            at += raw.count
        case .typed(let raw, let instances, let type):
            try type.unpack(from: packed, position: &at, into: CBuffer.mutableByteBuffer(raw), count: instances)
        }
        position.pointee = C(at)
    }
}

@_cdecl("PMPI_Unpack")
public func mpiUnpack(
    _ inbuf: UnsafeRawPointer?, _ insize: Int32, _ position: UnsafeMutablePointer<Int32>?, _ outbuf: UnsafeMutableRawPointer?, _ count: Int32,
    _ datatype: MPI_Datatype, _ comm: MPI_Comm
) -> Int32 {
    unpack("MPI_Unpack", inbuf, insize, position, outbuf, count, datatype, comm)
}

@_cdecl("PMPI_Unpack_c")
public func mpiUnpackC(
    _ inbuf: UnsafeRawPointer?, _ insize: MPI_Count, _ position: UnsafeMutablePointer<MPI_Count>?, _ outbuf: UnsafeMutableRawPointer?,
    _ count: MPI_Count, _ datatype: MPI_Datatype, _ comm: MPI_Comm
) -> Int32 {
    unpack("MPI_Unpack_c", inbuf, insize, position, outbuf, count, datatype, comm)
}

@_cdecl("PMPI_Alloc_mem")
public func mpiAllocMem(_ size: MPI_Aint, _ info: MPI_Info, _ base: UnsafeMutableRawPointer?) -> Int32 {
    cCall("MPI_Alloc_mem") {
        guard size >= 0 else { throw CError(MPI_ERR_ARG, "negative size \(size)") }
        guard let memory = malloc(max(size, 1)) else { throw CError(MPI_ERR_NO_MEM, "could not allocate \(size) bytes") }
        base?.storeBytes(of: memory, as: UnsafeMutableRawPointer.self)
    }
}

@_cdecl("PMPI_Free_mem")
public func mpiFreeMem(_ base: UnsafeMutableRawPointer?) -> Int32 {
    free(base)
    return MPI_SUCCESS
}

extension CInterface {
    /// Error classes and codes the program added (MPI_Add_error_class/code/string): code → class, and
    /// texts (these three under ``CInterfaceLock``).
    @exclusivity(unchecked) nonisolated(unsafe) static var addedErrors: [Int32: Int32] = [:]
    @exclusivity(unchecked) nonisolated(unsafe) static var addedErrorStrings: [Int32: String] = [:]
    /// Added classes and codes start above MPI_ERR_LASTCODE, as MPICH's do (MPI_LASTUSEDCODE is
    /// MPI_ERR_LASTCODE until the first is added).
    @exclusivity(unchecked) nonisolated(unsafe) static var nextErrorCode: Int32 = MPI_ERR_LASTCODE + 1
}

@_cdecl("PMPI_Add_error_class")
public func mpiAddErrorClass(_ errorClass: UnsafeMutablePointer<Int32>?) -> Int32 {
    errorClass?.pointee = CInterfaceLock.withLock {
        let code = CInterface.nextErrorCode
        CInterface.nextErrorCode += 1
        CInterface.addedErrors[code] = code
        return code
    }
    return MPI_SUCCESS
}

@_cdecl("PMPI_Add_error_code")
public func mpiAddErrorCode(_ errorClass: Int32, _ errorCode: UnsafeMutablePointer<Int32>?) -> Int32 {
    cCall("MPI_Add_error_code") {
        let code = CInterfaceLock.withLock { () -> Int32? in
            guard CInterface.addedErrors[errorClass] == errorClass || (0...MPI_ERR_VALUE_TOO_LARGE).contains(errorClass) else { return nil }
            let code = CInterface.nextErrorCode
            CInterface.nextErrorCode += 1
            CInterface.addedErrors[code] = errorClass
            return code
        }
        guard let code else { throw CError(MPI_ERR_ARG, "\(errorClass) is not an error class") }
        errorCode?.pointee = code
    }
}

@_cdecl("PMPI_Add_error_string")
public func mpiAddErrorString(_ errorCode: Int32, _ string: UnsafePointer<CChar>?) -> Int32 {
    cCall("MPI_Add_error_string") {
        let text = try CInterface.string(string, "string")
        let added = CInterfaceLock.withLock {
            guard CInterface.addedErrors[errorCode] != nil else { return false }
            CInterface.addedErrorStrings[errorCode] = text
            return true
        }
        guard added else { throw CError(MPI_ERR_ARG, "\(errorCode) is not an error code the program added") }
    }
}

@_cdecl("PMPI_Status_set_cancelled")
public func mpiStatusSetCancelled(_ status: UnsafeMutablePointer<MPI_Status>?, _ flag: Int32) -> Int32 {
    guard let status else { return MPI_ERR_ARG }
    status.pointee.count_hi_and_cancelled = (status.pointee.count_hi_and_cancelled & ~1) | (flag != 0 ? 1 : 0)
    return MPI_SUCCESS
}

/// MPI_Status_c2f: the status as Fortran's MPI_F_STATUS_SIZE integers (its five fields in order).
@_cdecl("PMPI_Status_c2f")
public func mpiStatusC2F(_ status: UnsafePointer<MPI_Status>?, _ fortran: UnsafeMutablePointer<MPI_Fint>?) -> Int32 {
    cCall("MPI_Status_c2f") {
        // MPI_STATUS_IGNORE is the address 1: not a status to read.
        guard let status, UInt(bitPattern: status) > 1, let fortran else { throw CError(MPI_ERR_ARG, "a null or ignored status, or a null Fortran status") }
        guard !isFortranStatusIgnore(fortran) else { throw CError(MPI_ERR_ARG, "MPI_F_STATUS_IGNORE is not a Fortran status to write into") }
        let s = status.pointee
        for (index, value) in [s.count_lo, s.count_hi_and_cancelled, s.MPI_SOURCE, s.MPI_TAG, s.MPI_ERROR].enumerated() { fortran[index] = value }
    }
}

/// True for `MPI_F_STATUS_IGNORE` and `MPI_F_STATUSES_IGNORE`, which C callers may pass where a
/// Fortran status is expected but which hold none (compared in C: CMPI/constants.c).
private func isFortranStatusIgnore(_ fortran: UnsafePointer<MPI_Fint>) -> Bool {
    MPIR_SwiftMPI_F_status_ignored(fortran) != 0
}

/// MPI_Status_f2c: a Fortran status (MPI_F_STATUS_SIZE integers) as a C status.
@_cdecl("PMPI_Status_f2c")
public func mpiStatusF2C(_ fortran: UnsafePointer<MPI_Fint>?, _ status: UnsafeMutablePointer<MPI_Status>?) -> Int32 {
    cCall("MPI_Status_f2c") {
        guard let fortran, let status, UInt(bitPattern: status) > 1 else { throw CError(MPI_ERR_ARG, "a null Fortran status, or a null or ignored status") }
        guard !isFortranStatusIgnore(fortran) else { throw CError(MPI_ERR_ARG, "MPI_F_STATUS_IGNORE is not a Fortran status to read") }
        status.pointee = MPI_Status(
            count_lo: fortran[0], count_hi_and_cancelled: fortran[1], MPI_SOURCE: fortran[2], MPI_TAG: fortran[3], MPI_ERROR: fortran[4])
    }
}

@_cdecl("PMPI_Status_set_elements_x")
public func mpiStatusSetElementsX(_ status: UnsafeMutablePointer<MPI_Status>?, _ datatype: MPI_Datatype, _ count: MPI_Count) -> Int32 {
    setElements("MPI_Status_set_elements_x", status, datatype, count)
}

/// MPI_Status_set_elements_x's work (also the int form's, through it, and MPI_Status_set_elements_c's).
func setElements(_ function: StaticString, _ status: UnsafeMutablePointer<MPI_Status>?, _ datatype: MPI_Datatype, _ count: MPI_Count) -> Int32 {
    cCall(function) {
        guard let status else { throw CError(MPI_ERR_ARG, "a null status pointer") }
        let type = try CInterface.datatype(datatype, forCommunication: false).datatype
        guard count >= 0 else { throw CError(MPI_ERR_COUNT, "negative element count \(count)") }
        guard let bytes = type.byteCount(ofElements: count) else { throw CError(MPI_ERR_COUNT, "\(count) elements overflow a byte count") }
        let cancelled = status.pointee.count_hi_and_cancelled & 1
        status.pointee.count_lo = Int32(truncatingIfNeeded: bytes)
        status.pointee.count_hi_and_cancelled = Int32(truncatingIfNeeded: (bytes >> 32) << 1) | cancelled
    }
}

@_cdecl("PMPI_Get_elements_x")
public func mpiGetElementsX(_ status: UnsafePointer<MPI_Status>?, _ datatype: MPI_Datatype, _ count: UnsafeMutablePointer<MPI_Count>?) -> Int32 {
    cCall("MPI_Get_elements_x") { count?.pointee = try CInterface.elementCount(status, datatype) ?? MPI_Count(MPI_UNDEFINED) }
}

@_cdecl("PMPI_Type_size_x")
public func mpiTypeSizeX(_ datatype: MPI_Datatype, _ size: UnsafeMutablePointer<MPI_Count>?) -> Int32 {
    cCall("MPI_Type_size_x") { try output(size, "size").pointee = try CInterface.datatype(datatype, forCommunication: false).size }
}

@_cdecl("PMPI_Type_get_extent_x")
public func mpiTypeGetExtentX(_ datatype: MPI_Datatype, _ lowerBound: UnsafeMutablePointer<MPI_Count>?, _ extent: UnsafeMutablePointer<MPI_Count>?) -> Int32 {
    mpiTypeGetExtent(datatype, lowerBound, extent)
}

@_cdecl("PMPI_Type_get_true_extent_x")
public func mpiTypeGetTrueExtentX(_ datatype: MPI_Datatype, _ lowerBound: UnsafeMutablePointer<MPI_Count>?, _ extent: UnsafeMutablePointer<MPI_Count>?) -> Int32
{
    mpiTypeGetTrueExtent(datatype, lowerBound, extent)
}

@_cdecl("PMPI_Type_match_size")
public func mpiTypeMatchSize(_ typeClass: Int32, _ size: Int32, _ datatype: UnsafeMutablePointer<MPI_Datatype>?) -> Int32 {
    cCall("MPI_Type_match_size") {
        let match: MPI_Datatype? =
            switch (typeClass, size) {
            case (1, 4): MPI_FLOAT
            case (1, 8): MPI_DOUBLE
            case (1, 16): MPI_LONG_DOUBLE
            case (2, 1): MPI_INT8_T
            case (2, 2): MPI_INT16_T
            case (2, 4): MPI_INT32_T
            case (2, 8): MPI_INT64_T
            case (3, 8): MPI_C_FLOAT_COMPLEX
            case (3, 16): MPI_C_DOUBLE_COMPLEX
            default: nil
            }
        guard let match else { throw CError(MPI_ERR_ARG, "no predefined type of class \(typeClass) with \(size) bytes") }
        datatype?.pointee = match
    }
}

@_cdecl("PMPI_Intercomm_create")
public func mpiIntercommCreate(
    _ localComm: MPI_Comm, _ localLeader: Int32, _ peerComm: MPI_Comm, _ remoteLeader: Int32, _ tag: Int32, _ newComm: UnsafeMutablePointer<MPI_Comm>?
) -> Int32 {
    cCall("MPI_Intercomm_create", on: localComm) {
        guard let newComm else { throw CError(MPI_ERR_ARG, "a null communicator pointer") }
        newComm.pointee = MPI_COMM_NULL  // what an error leaves (as MPICH does)
        let local = try CInterface.communicator(localComm)
        // The peer communicator matters at the leaders only (MPI).
        let peer = local.rank == Int(localLeader) ? try CInterface.communicator(peerComm) : local
        let made = try local.createIntercommunicator(localLeader: Int(localLeader), peer: peer, remoteLeader: Int(remoteLeader), tag: Int(tag))
        newComm.pointee = CInterface.insert(made, from: localComm)
    }
}

@_cdecl("PMPI_Intercomm_merge")
public func mpiIntercommMerge(_ intercomm: MPI_Comm, _ high: Int32, _ newComm: UnsafeMutablePointer<MPI_Comm>?) -> Int32 {
    cCall("MPI_Intercomm_merge", on: intercomm) {
        guard let newComm else { throw CError(MPI_ERR_ARG, "a null communicator pointer") }
        newComm.pointee = MPI_COMM_NULL  // what an error leaves (as MPICH does)
        newComm.pointee = CInterface.insert(try CInterface.communicator(intercomm).merge(high: high != 0), from: intercomm)
    }
}

@_cdecl("PMPI_Comm_idup")
public func mpiCommIdup(_ comm: MPI_Comm, _ newComm: UnsafeMutablePointer<MPI_Comm>?, _ request: UnsafeMutablePointer<MPI_Request>?) -> Int32 {
    // The context agreement runs as nonblocking allreduces (on an intercommunicator, over each group
    // and across them); the new handle is stored when the request completes (MPI: newcomm is valid then).
    cCall("MPI_Comm_idup", on: comm) {
        let communicator = try CInterface.communicator(comm)
        guard let request, let newComm else { throw CError(MPI_ERR_ARG, "a null request or communicator pointer") }
        let started = try communicator.startDup()
        request.pointee = CInterface.insert(started.request, comm) {
            let copy = try started.finish()
            newComm.pointee = CInterface.insert(copy, from: comm)
            CInterface.adoptAttributes(of: copy, as: newComm.pointee)
            try CInterface.checkCallbacks("copy")
        }
    }
}

@_cdecl("PMPI_Comm_idup_with_info")
public func mpiCommIdupWithInfo(
    _ comm: MPI_Comm, _ info: MPI_Info, _ newComm: UnsafeMutablePointer<MPI_Comm>?, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    // No info key changes how SwiftMPI duplicates a communicator.
    mpiCommIdup(comm, newComm, request)
}
