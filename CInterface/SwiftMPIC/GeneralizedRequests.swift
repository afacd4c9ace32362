import CMPI
import SwiftMPI

/// A generalized request the C program started (MPI_Grequest_start): a ``GeneralizedRequest`` and
/// the program's three callbacks with their extra state.
///
/// `query_fn` fills the status in the wait or test that first finds the request completed (once:
/// later MPI_Request_get_status calls return that status), and its nonzero result is that call's
/// error code; it runs inside SwiftMPI's wait and must not communicate. `free_fn` runs when the
/// request is freed — by the wait or test that returned it, or by MPI_Request_free (at once, as
/// MPICH does, even before MPI_Grequest_complete, which must still be called) — and its nonzero
/// result is that call's error code. `cancel_fn` runs at MPI_Cancel with whether the request
/// completed.
final class CGeneralizedRequest: @unchecked Sendable {
    // @unchecked: the callbacks and extra state are the C program's, called from its MPI calls on
    // the request, which MPI lets one thread at a time make; `isComplete` and `isFreed`, which
    // MPI_Grequest_complete may change from another thread, change under CInterfaceLock.
    let query: (@convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<MPI_Status>?) -> Int32)?
    let free: (@convention(c) (UnsafeMutableRawPointer?) -> Int32)?
    let cancel: (@convention(c) (UnsafeMutableRawPointer?, Int32) -> Int32)?
    let extraState: UnsafeMutableRawPointer?
    /// The request waits and tests see; set right after start.
    var request: GeneralizedRequest?
    /// `query_fn`'s result, raised by the wait or test that returns the request.
    var queryResult = MPI_SUCCESS
    var isComplete = false
    /// MPI_Request_free was called (and `free_fn` ran) before the request completed.
    var isFreed = false

    init(
        query: (@convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<MPI_Status>?) -> Int32)?,
        free: (@convention(c) (UnsafeMutableRawPointer?) -> Int32)?,
        cancel: (@convention(c) (UnsafeMutableRawPointer?, Int32) -> Int32)?,
        extraState: UnsafeMutableRawPointer?
    ) {
        self.query = query
        self.free = free
        self.cancel = cancel
        self.extraState = extraState
    }

    /// Runs `query_fn` for the status a wait or test returns, keeping its result for the error.
    func queried() -> Status {
        var status = MPI_Status()
        status.MPI_SOURCE = MPI_UNDEFINED
        status.MPI_TAG = MPI_UNDEFINED
        queryResult = query?(extraState, &status) ?? MPI_SUCCESS
        return Status(
            source: CInterface.rank(status.MPI_SOURCE), tag: Int(status.MPI_TAG), byteCount: CInterface.byteCount(of: &status),
            isCancelled: status.count_hi_and_cancelled & 1 != 0)
    }

    /// Runs `cancel_fn` with whether the request completed; throws its nonzero result.
    func cancelled() throws(CError) {
        let complete = CInterfaceLock.withLock { isComplete }
        let result = cancel?(extraState, complete ? 1 : 0) ?? MPI_SUCCESS
        guard result == MPI_SUCCESS else { throw CError(result, "the generalized request's cancel function returned \(result)") }
    }

    /// Runs `free_fn`; throws its nonzero result.
    func release() throws(CError) {
        let result = free?(extraState) ?? MPI_SUCCESS
        guard result == MPI_SUCCESS else { throw CError(result, "the generalized request's free function returned \(result)") }
    }
}

extension CInterface {
    /// The generalized requests not yet released, by handle (a handle freed by MPI_Request_free
    /// stays here, and taken in the request table, until MPI_Grequest_complete). Under
    /// ``CInterfaceLock``: MPI_Grequest_complete often comes from another thread.
    @exclusivity(unchecked) nonisolated(unsafe) static var generalizedRequests: [MPI_Request: CGeneralizedRequest] = [:]
}

@_cdecl("PMPI_Grequest_start")
public func mpiGrequestStart(
    _ queryFunction: (@convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<MPI_Status>?) -> Int32)?,
    _ freeFunction: (@convention(c) (UnsafeMutableRawPointer?) -> Int32)?,
    _ cancelFunction: (@convention(c) (UnsafeMutableRawPointer?, Int32) -> Int32)?,
    _ extraState: UnsafeMutableRawPointer?, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    cCall("MPI_Grequest_start", on: MPI_COMM_SELF) {
        guard let request else { throw CError(MPI_ERR_ARG, "a null request pointer") }
        let entry = CGeneralizedRequest(query: queryFunction, free: freeFunction, cancel: cancelFunction, extraState: extraState)
        let started = try GeneralizedRequest(query: { entry.queried() })  // (MPI_Cancel calls cancel_fn itself: its result counts)
        entry.request = started
        var handle = MPI_REQUEST_NULL
        handle = CInterface.insert(started.request, MPI_COMM_SELF) { () throws(CError) in
            // The wait or test that returned the request: query_fn's error, then free_fn's.
            CInterfaceLock.withLock { CInterface.generalizedRequests[handle] = nil }
            let queried = entry.queryResult
            try entry.release()
            guard queried == MPI_SUCCESS else { throw CError(queried, "the generalized request's query function returned \(queried)") }
        }
        CInterfaceLock.withLock { CInterface.generalizedRequests[handle] = entry }
        request.pointee = handle
    }
}

@_cdecl("PMPI_Grequest_complete")
public func mpiGrequestComplete(_ request: MPI_Request) -> Int32 {
    cCall("MPI_Grequest_complete", on: MPI_COMM_SELF) {
        guard let entry = CInterfaceLock.withLock({ CInterface.generalizedRequests[request] }), let started = entry.request else {
            throw CError(MPI_ERR_REQUEST, "0x\(String(UInt32(bitPattern: request), radix: 16)) is not a generalized request")
        }
        let freed = CInterfaceLock.withLock { () -> Bool? in
            guard !entry.isComplete else { return nil }
            entry.isComplete = true
            return entry.isFreed
        }
        guard let freed else { throw CError(MPI_ERR_REQUEST, "the generalized request was already completed") }
        started.complete()
        if freed { CInterface.forgetGeneralizedRequest(request) }  // freed (and free_fn run) before: nothing will wait for it
    }
}

extension CInterface {
    /// MPI_Request_free of a generalized request: `free_fn` runs now; the handle is released now if
    /// the request completed, else at MPI_Grequest_complete (so that call still finds it). False
    /// when `handle` is not a generalized request.
    static func freeGeneralizedRequest(_ handle: MPI_Request) throws(CError) -> Bool {
        let found = CInterfaceLock.withLock { () -> (entry: CGeneralizedRequest, complete: Bool)? in
            guard let entry = generalizedRequests[handle] else { return nil }
            if !entry.isComplete { entry.isFreed = true }
            return (entry, entry.isComplete)
        }
        guard let (entry, complete) = found else { return false }
        if complete { forgetGeneralizedRequest(handle) }
        try entry.release()
        return true
    }

    /// Releases a generalized request's handle that no wait or test will return.
    static func forgetGeneralizedRequest(_ handle: MPI_Request) {
        CInterfaceLock.withLock {
            generalizedRequests[handle] = nil
            completions[handle] = nil
            requests.take(handle)
        }
    }
}
