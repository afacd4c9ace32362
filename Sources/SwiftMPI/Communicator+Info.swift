/// Hints on communicators (MPI_Comm_dup_with_info, MPI_Comm_get_info).
extension Communicator {
    /// The hint key that turns a communicator's shared-memory collectives off: with the value
    /// `false`, its collectives use messages even when all members share a host (to measure or test
    /// the network path, or to keep a communicator's collectives off the shared segment); `true` is
    /// the default.
    public static let sharedMemoryCollectivesHint = "swiftmpi_shared_memory_collectives"

    /// The hints in effect on this communicator (MPI_Comm_get_info): those SwiftMPI honours, with
    /// their values. Today that is ``sharedMemoryCollectivesHint`` (`false` also when
    /// `SWIFTMPI_SHM_COLLECTIVES=0` turned them off for the job). Other keys are accepted and ignored.
    public var info: Info {
        var info = Info()
        try? info.set(Self.sharedMemoryCollectivesHint, state.messageCollectivesOnly || !runtime.sharedCollectives ? "false" : "true")
        return info
    }

    /// A duplicate with `info`'s hints (MPI_Comm_dup_with_info), otherwise as ``dup()``. Collective;
    /// MPI asks every member to pass the same hints, and where they differ the result is still one
    /// communicator: if any member turns shared-memory collectives off, they are off for all (so
    /// no member waits in shared memory for messages, or the reverse).
    public func dup(info: Info) throws(MPIError) -> Communicator {
        try typedErrors {
            let off = info[Self.sharedMemoryCollectivesHint] == "false"
            let agreed = try agreeOnContext(messageCollectivesOnly: off)
            let made = duplicate((agreed.context, agreed.channel))
            made.state.messageCollectivesOnly = agreed.messageCollectivesOnly
            return made
        }
    }
}
