#if canImport(Glibc)
import Glibc
#endif
import CMPI
import SwiftMPI

// User-level failure mitigation (MPIX_Comm_*): the C names of recovery mode's Swift API
// (Sources/SwiftMPI/Recovery; docs/Recovery.md), with MPICH's signatures and error classes.

@_cdecl("PMPIX_Comm_revoke")
public func mpixCommRevoke(_ comm: MPI_Comm) -> Int32 {
    cCall("MPIX_Comm_revoke", on: comm) { try CInterface.communicator(comm).revoke() }
}

@_cdecl("PMPIX_Comm_shrink")
public func mpixCommShrink(_ comm: MPI_Comm, _ newComm: UnsafeMutablePointer<MPI_Comm>?) -> Int32 {
    cCall("MPIX_Comm_shrink", on: comm) {
        guard let newComm else { throw CError(MPI_ERR_ARG, "a null communicator pointer") }
        newComm.pointee = MPI_COMM_NULL  // what an error leaves (as MPICH does)
        let shrunk = try CInterface.communicator(comm).shrink()
        newComm.pointee = CInterface.insert(shrunk, from: comm)
    }
}

/// The flag is agreed on in any case; like MPICH's and Open MPI's, the call then raises
/// MPIX_ERR_PROC_FAILED when the agreement found a failed member this rank has not acknowledged
/// (MPIX_Comm_failure_ack).
@_cdecl("PMPIX_Comm_agree")
public func mpixCommAgree(_ comm: MPI_Comm, _ flag: UnsafeMutablePointer<Int32>?) -> Int32 {
    cCall("MPIX_Comm_agree", on: comm) {
        guard let flag else { throw CError(MPI_ERR_ARG, "a null flag pointer") }
        let communicator = try CInterface.communicator(comm)
        // MPI's flag is an int: its bits are agreed on (bitwise and), sign-extended to the word.
        let (value, failed) = try communicator.agreeReportingFailures(Int(flag.pointee))
        flag.pointee = Int32(truncatingIfNeeded: value)
        let unacknowledged = Set(failed).subtracting(communicator.acknowledgedFailures)
        if let first = unacknowledged.min() {
            throw CError(MPIX_ERR_PROC_FAILED, "rank \(first) failed and was not acknowledged (MPIX_Comm_failure_ack); the flag is agreed")
        }
    }
}

@_cdecl("PMPIX_Comm_failure_ack")
public func mpixCommFailureAck(_ comm: MPI_Comm) -> Int32 {
    cCall("MPIX_Comm_failure_ack", on: comm) { _ = try CInterface.communicator(comm).acknowledgeFailures() }
}

@_cdecl("PMPIX_Comm_failure_get_acked")
public func mpixCommFailureGetAcked(_ comm: MPI_Comm, _ group: UnsafeMutablePointer<MPI_Group>?) -> Int32 {
    cCall("MPIX_Comm_failure_get_acked", on: comm) {
        let communicator = try CInterface.communicator(comm)
        let members = communicator.remoteGroup ?? communicator.group
        try CInterface.storeGroup(try members.include(communicator.acknowledgedFailures), into: group)
    }
}
