import CMPI
import SwiftMPI

/// A request the C program holds: the SwiftMPI request and the communicator whose error handler its
/// completion errors go to. Persistent requests keep their handle when they complete. Collectives
/// that compute into Swift arrays also have a completion (``CInterface/completions``), kept apart so
/// that the common entry holds one reference.
///
/// The request is held unmanaged, retained once when the entry is made and released once when its
/// handle is removed (`HandleTable.take`), as the communicators' entries are: an entry is a plain
/// value, so storing, finding and copying it costs no reference counting on the path of every
/// nonblocking message (measured: 9 of the ~15 retains and releases per `osu_mbw_mr` message were
/// the C layer's before).
struct CRequest {
    /// The request, +1 while the table holds this entry.
    let object: Unmanaged<Request>
    let comm: MPI_Comm
    let isPersistent: Bool
    let hasCompletion: Bool

    /// An entry holding `request` (retained until the entry's handle is taken out of the table).
    init(_ request: consuming Request, _ comm: MPI_Comm, persistent: Bool = false, hasCompletion: Bool = false) {
        object = .passRetained(request)
        self.comm = comm
        isPersistent = persistent
        self.hasCompletion = hasCompletion
    }

    /// A strong reference to the request, for keeping it beyond the call.
    var request: Request { object.takeUnretainedValue() }

    /// Runs `body` on the request borrowed from the table, without reference counting: the table's
    /// +1 keeps it alive, and nothing removes the entry while `body` runs (MPI lets one thread at a
    /// time use a request, and a request's own work never touches the C handle table).
    @inline(__always)
    func withRequest<R>(_ body: (Request) throws -> R) rethrows -> R {
        try object._withUnsafeGuaranteedRef(body)
    }
}

extension HandleTable where Object == CRequest {
    /// Removes `handle`'s entry and returns its request with the table's reference (nil for a
    /// handle that names no request).
    @discardableResult
    mutating func take(_ handle: Int32) -> Request? {
        remove(handle)?.object.takeRetainedValue()
    }
}

extension CInterface {
    @exclusivity(unchecked) nonisolated(unsafe) static var requests = HandleTable<CRequest>(.request)
    /// What completes a collective computed into Swift arrays: copies the result into the program's
    /// buffer once the request has completed (run by whichever wait or test completes it). Under
    /// ``CInterfaceLock``.
    @exclusivity(unchecked) nonisolated(unsafe) static var completions: [MPI_Request: () throws -> Void] = [:]

    /// Stores a request whose completion copies its result out.
    static func insert(_ request: Request, _ comm: MPI_Comm, completion: @escaping () throws -> Void) -> MPI_Request {
        CInterfaceLock.withLock {
            let handle = requests.insert(CRequest(request, comm, hasCompletion: true))
            completions[handle] = completion
            return handle
        }
    }

    /// The request `handle` names; nil for MPI_REQUEST_NULL.
    static func request(_ handle: MPI_Request) throws(CError) -> CRequest? {
        if handle == MPI_REQUEST_NULL { return nil }
        guard let entry = requests[handle] else { throw CError(MPI_ERR_REQUEST, "invalid request handle 0x\(String(UInt32(bitPattern: handle), radix: 16))") }
        return entry
    }

    /// After a wait or test returned `handle`'s result: a nonpersistent request is freed and becomes
    /// MPI_REQUEST_NULL.
    @inline(__always)
    static func retire(_ handle: UnsafeMutablePointer<MPI_Request>, _ entry: CRequest) throws {
        if entry.hasCompletion { try complete(handle.pointee) }
        guard !entry.isPersistent else { return }
        requests.take(handle.pointee)
        handle.pointee = MPI_REQUEST_NULL
    }

    /// Runs and forgets the completion of the collective behind `handle` (out of line: the path of
    /// every message does not come here).
    @inline(never)
    static func complete(_ handle: MPI_Request) throws {
        if let completion = CInterfaceLock.withLock({ completions.removeValue(forKey: handle) }) { try completion() }
    }

    /// The status MPI gives a null or inactive request.
    static let emptyStatus = Status.empty

    /// Stores the statuses of the `count` requests of an array call, where asked for.
    static func status(_ statuses: UnsafeMutablePointer<MPI_Status>?, _ index: Int) -> UnsafeMutablePointer<MPI_Status>? {
        guard let statuses, Int(bitPattern: statuses) != 1 else { return nil }
        return statuses + index
    }
}

@_cdecl("PMPI_Wait")
public func mpiWait(_ request: UnsafeMutablePointer<MPI_Request>?, _ status: UnsafeMutablePointer<MPI_Status>?) -> Int32 {
    let comm = request.flatMap { CInterface.requests[$0.pointee]?.comm } ?? MPI_COMM_WORLD
    return cCall("MPI_Wait", on: comm) {
        guard let request else { throw CError(MPI_ERR_REQUEST, "a null request pointer") }
        guard let entry = try CInterface.request(request.pointee) else { return CInterface.store(CInterface.emptyStatus, into: status) }
        let result: Status
        do {
            result = try entry.withRequest { try $0.wait() }
        } catch {
            // A failed request ends too (not one that pends on a failure: it stays active); a
            // truncated receive's status still names its message.
            if let failure = error as? MPIError, let known = failure.status { CInterface.store(known, into: status) }
            if !isPending(error) { try? CInterface.retire(request, entry) }
            throw error
        }
        try CInterface.retire(request, entry)
        CInterface.store(result, into: status)
    }
}

@_cdecl("PMPI_Test")
public func mpiTest(_ request: UnsafeMutablePointer<MPI_Request>?, _ flag: UnsafeMutablePointer<Int32>?, _ status: UnsafeMutablePointer<MPI_Status>?) -> Int32 {
    cCall("MPI_Test") {
        guard let request else { throw CError(MPI_ERR_REQUEST, "a null request pointer") }
        guard let entry = try CInterface.request(request.pointee) else {
            flag?.pointee = 1
            return CInterface.store(CInterface.emptyStatus, into: status)
        }
        let result: Status?
        do {
            result = try entry.withRequest { try $0.test() }
        } catch {
            if !isPending(error) { try? CInterface.retire(request, entry) }
            throw error
        }
        flag?.pointee = result == nil ? 0 : 1
        if let result {
            CInterface.store(result, into: status)
            try CInterface.retire(request, entry)
        }
    }
}

@_cdecl("PMPI_Waitall")
public func mpiWaitall(_ count: Int32, _ requests: UnsafeMutablePointer<MPI_Request>?, _ statuses: UnsafeMutablePointer<MPI_Status>?) -> Int32 {
    cCall("MPI_Waitall") {
        let count = try CInterface.count(count)
        guard count == 0 || requests != nil else { throw CError(MPI_ERR_REQUEST, "a null request array") }
        var failed = false
        for index in 0..<count {
            let handle = requests! + index
            guard let entry = try CInterface.request(handle.pointee) else {
                CInterface.store(CInterface.emptyStatus, into: CInterface.status(statuses, index))
                continue
            }
            do {
                CInterface.store(try entry.withRequest { try $0.wait() }, into: CInterface.status(statuses, index))
                CInterface.status(statuses, index)?.pointee.MPI_ERROR = MPI_SUCCESS
            } catch let error as MPIError {
                failed = true
                ErrorText.record("MPI_Waitall: \(error.message)", in: CError(error).errorClass)
                CInterface.store(error.status ?? CInterface.emptyStatus, into: CInterface.status(statuses, index))
                CInterface.status(statuses, index)?.pointee.MPI_ERROR = CError(error).errorClass
                if error.code == .processFailedPending { continue }  // it stays active
            }
            try CInterface.retire(handle, entry)
        }
        if failed { throw CError(MPI_ERR_IN_STATUS, "a request failed (see the statuses' MPI_ERROR)") }
    }
}

@_cdecl("PMPI_Testall")
public func mpiTestall(
    _ count: Int32, _ requests: UnsafeMutablePointer<MPI_Request>?, _ flag: UnsafeMutablePointer<Int32>?, _ statuses: UnsafeMutablePointer<MPI_Status>?
) -> Int32 {
    cCall("MPI_Testall") {
        let count = try CInterface.count(count)
        guard count == 0 || requests != nil else { throw CError(MPI_ERR_REQUEST, "a null request array") }
        var entries: [CRequest?] = []
        for index in 0..<count { entries.append(try CInterface.request(requests![index])) }
        let active = entries.compactMap { $0?.request }
        let results: [Status]
        do {
            guard let all = try Request.testAll(active) else {
                flag?.pointee = 0
                return
            }
            results = all
        } catch {
            if isPending(error) {  // not all completed; a wildcard receive pends on a failure
                flag?.pointee = 0
                throw error
            }
            // Every request completed (testAll waits for them all once all are done); one failed.
            flag?.pointee = 1
            let known = entries.enumerated().compactMap { index, entry in entry.map { (index: index, entry: $0) } }
            for item in completedAfterFailure(known, in: "MPI_Testall") {
                CInterface.store(item.status, into: CInterface.status(statuses, item.index))
                CInterface.status(statuses, item.index)?.pointee.MPI_ERROR = item.error
                try CInterface.retire(requests! + item.index, item.entry)
            }
            throw CError(MPI_ERR_IN_STATUS, "a request failed (see the statuses' MPI_ERROR)")
        }
        flag?.pointee = 1
        var next = 0
        for index in 0..<count {
            if let entry = entries[index] {
                CInterface.store(results[next], into: CInterface.status(statuses, index))
                next += 1
                try CInterface.retire(requests! + index, entry)
            } else {
                CInterface.store(CInterface.emptyStatus, into: CInterface.status(statuses, index))
            }
        }
    }
}

/// True for `.processFailedPending`: a wildcard receive that waits for the acknowledgement of a
/// failure (MPIX_ERR_PROC_FAILED_PENDING); its request stays active, not freed.
func isPending(_ error: any Error) -> Bool { (error as? MPIError)?.code == .processFailedPending }

/// What a call on several requests gives back when one of them failed (it threw): each active
/// request that has completed, with its status, or its error class for the status's MPI_ERROR.
/// (`outcomeOnceMore()` gives a completed request's outcome again, a persistent one's included,
/// so the ones the failed call already took are found too.)
func completedAfterFailure(_ active: [(index: Int, entry: CRequest)], in function: String) -> [(index: Int, entry: CRequest, status: Status, error: Int32)] {
    var completed: [(index: Int, entry: CRequest, status: Status, error: Int32)] = []
    for (index, entry) in active {
        switch entry.withRequest({ $0.outcomeOnceMore() }) {
        case .success(let status):
            completed.append((index, entry, status, MPI_SUCCESS))
        case .failure(let failure):
            let code = CError(failure).errorClass
            ErrorText.record("\(function): \(failure.message)", in: code)
            completed.append((index, entry, failure.status ?? .empty, code))
        case nil:
            continue
        }
    }
    return completed
}

/// MPI_Waitsome's and MPI_Testsome's answer after a failed request: the completed requests, their
/// statuses with MPI_ERROR set, and MPI_ERR_IN_STATUS.
func reportSomeAfterFailure(
    _ active: [(index: Int, entry: CRequest)], in function: String, _ requests: UnsafeMutablePointer<MPI_Request>, _ outCount: UnsafeMutablePointer<Int32>?,
    _ indices: UnsafeMutablePointer<Int32>?, _ statuses: UnsafeMutablePointer<MPI_Status>?
) throws {
    let completed = completedAfterFailure(active, in: function)
    outCount?.pointee = Int32(completed.count)
    for (slot, item) in completed.enumerated() {
        indices?[slot] = Int32(item.index)
        CInterface.store(item.status, into: CInterface.status(statuses, slot))
        CInterface.status(statuses, slot)?.pointee.MPI_ERROR = item.error
        try CInterface.retire(requests + item.index, item.entry)
    }
    throw CError(MPI_ERR_IN_STATUS, "a request failed (see the statuses' MPI_ERROR)")
}

/// The active requests of an array call, with their positions in the array.
func activeRequests(_ count: Int32, _ requests: UnsafeMutablePointer<MPI_Request>?) throws(CError) -> [(index: Int, entry: CRequest)] {
    let count = try CInterface.count(count)
    guard count == 0 || requests != nil else { throw CError(MPI_ERR_REQUEST, "a null request array") }
    var active: [(index: Int, entry: CRequest)] = []
    for index in 0..<count {
        if let entry = try CInterface.request(requests![index]), entry.request.isActive { active.append((index, entry)) }
    }
    return active
}

@_cdecl("PMPI_Waitany")
public func mpiWaitany(
    _ count: Int32, _ requests: UnsafeMutablePointer<MPI_Request>?, _ index: UnsafeMutablePointer<Int32>?, _ status: UnsafeMutablePointer<MPI_Status>?
) -> Int32 {
    cCall("MPI_Waitany") {
        index?.pointee = MPI_UNDEFINED  // (what an error, a pending wildcard receive's included, leaves)
        let active = try activeRequests(count, requests)
        guard !active.isEmpty else {
            index?.pointee = MPI_UNDEFINED
            return CInterface.store(CInterface.emptyStatus, into: status)
        }
        let (position, result) = try Request.waitAny(active.map(\.entry.request))
        let (arrayIndex, entry) = active[position]
        index?.pointee = Int32(arrayIndex)
        CInterface.store(result, into: status)
        try CInterface.retire(requests! + arrayIndex, entry)
    }
}

@_cdecl("PMPI_Testany")
public func mpiTestany(
    _ count: Int32, _ requests: UnsafeMutablePointer<MPI_Request>?, _ index: UnsafeMutablePointer<Int32>?, _ flag: UnsafeMutablePointer<Int32>?,
    _ status: UnsafeMutablePointer<MPI_Status>?
) -> Int32 {
    cCall("MPI_Testany") {
        index?.pointee = MPI_UNDEFINED  // (what an error, a pending wildcard receive's included, leaves)
        flag?.pointee = 0
        let active = try activeRequests(count, requests)
        guard !active.isEmpty else {
            index?.pointee = MPI_UNDEFINED
            flag?.pointee = 1
            return CInterface.store(CInterface.emptyStatus, into: status)
        }
        guard let (position, result) = try Request.testAny(active.map(\.entry.request)) else {
            index?.pointee = MPI_UNDEFINED
            flag?.pointee = 0
            return
        }
        let (arrayIndex, entry) = active[position]
        index?.pointee = Int32(arrayIndex)
        flag?.pointee = 1
        CInterface.store(result, into: status)
        try CInterface.retire(requests! + arrayIndex, entry)
    }
}

@_cdecl("PMPI_Waitsome")
public func mpiWaitsome(
    _ count: Int32, _ requests: UnsafeMutablePointer<MPI_Request>?, _ outCount: UnsafeMutablePointer<Int32>?,
    _ indices: UnsafeMutablePointer<Int32>?, _ statuses: UnsafeMutablePointer<MPI_Status>?
) -> Int32 {
    cCall("MPI_Waitsome") {
        let active = try activeRequests(count, requests)
        guard !active.isEmpty else {
            outCount?.pointee = MPI_UNDEFINED
            return
        }
        let completed: [(index: Int, status: Status)]
        do {
            completed = try Request.waitSome(active.map(\.entry.request))
        } catch {
            if isPending(error) {  // nothing completed; a wildcard receive pends on a failure
                outCount?.pointee = 0
                throw error
            }
            return try reportSomeAfterFailure(active, in: "MPI_Waitsome", requests!, outCount, indices, statuses)
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

@_cdecl("PMPI_Request_free")
public func mpiRequestFree(_ request: UnsafeMutablePointer<MPI_Request>?) -> Int32 {
    cCall("MPI_Request_free") {
        guard let request, let entry = try CInterface.request(request.pointee) else {
            throw CError(MPI_ERR_REQUEST, "MPI_REQUEST_NULL cannot be freed")
        }
        if try CInterface.freeGeneralizedRequest(request.pointee) {
            request.pointee = MPI_REQUEST_NULL
            return
        }
        try entry.withRequest { try $0.free() }
        CInterface.requests.take(request.pointee)
        request.pointee = MPI_REQUEST_NULL
    }
}

@_cdecl("PMPI_Cancel")
public func mpiCancel(_ request: UnsafeMutablePointer<MPI_Request>?) -> Int32 {
    cCall("MPI_Cancel") {
        guard let request, let entry = try CInterface.request(request.pointee) else {
            throw CError(MPI_ERR_REQUEST, "MPI_REQUEST_NULL cannot be cancelled")
        }
        if let generalized = CInterfaceLock.withLock({ CInterface.generalizedRequests[request.pointee] }) { return try generalized.cancelled() }
        entry.withRequest { $0.cancel() }
    }
}
