/// Persistent collectives (MPI-4.1 §6.13): a collective's arguments fixed once, then started with
/// `Request.start()` (or `Request.startAll`) and completed with `wait`/`test` as many times as needed,
/// like persistent point-to-point requests.
///
/// Every rank must start its persistent collectives in the same order, as MPI requires, and each
/// start runs the nonblocking form (`iallreduce`, …) on the buffers given here, which must stay valid
/// while the request is in use. Arguments are checked at every start (the buffers' contents, and so
/// a contribution's size, may change between starts); a root is checked at once.
extension Communicator {
    private func persistent(_ startCollective: @escaping () throws -> Request) -> Request {
        persistentCollective(startCollective)
    }

    /// A persistent request that runs `startCollective` (a nonblocking collective on this
    /// communicator) at each start; for the C interface's `MPI_*_init` calls.
    package func persistentCollective(_ startCollective: @escaping () throws -> Request) -> Request {
        Request(runtime: runtime, persistent: .collective(reservingSequence(startCollective)))
    }

    /// Persistent collectives match by the order of their initializations, not of their starts
    /// (MPI-4.1 §6.13: ranks may start them in different orders): each reserves its place in this
    /// communicator's collective sequence when it is made, and every start builds its schedule from
    /// there (a span of ``persistentSequenceSpan`` numbers, more than any schedule takes). Starts of
    /// one request reuse its tags, in order, as consecutive collectives would.
    /// On an intercommunicator the same holds for its groups' private communicator, whose steps
    /// each group's part of the schedule takes.
    func reservingSequence(_ start: @escaping () throws -> Request) -> () throws -> Request {
        let states = [state] + (state.localGroupState.map { [$0] } ?? [])
        let reserved = states.map(\.collectiveSequence)
        for state in states { state.collectiveSequence += Self.persistentSequenceSpan }
        return {
            let saved = states.map(\.collectiveSequence)
            for (state, sequence) in zip(states, reserved) { state.collectiveSequence = sequence }
            defer { for (state, sequence) in zip(states, saved) { state.collectiveSequence = sequence } }
            return try start()
        }
    }

    /// The collective sequence numbers one persistent collective reserves.
    static let persistentSequenceSpan = 1024

    /// A persistent ``ibarrier()`` (MPI_Barrier_init).
    public func barrierInit() -> Request { persistent { try self.ibarrier() } }

    /// A persistent `ibcast(_:root:)` (MPI_Bcast_init).
    public func bcastInit<T: BitwiseCopyable>(_ buffer: UnsafeMutableBufferPointer<T>, root: Int) throws(MPIError) -> Request {
        try typedErrors {
            try checkRoot(root, "bcastInit")
            return persistent { try self.ibcast(buffer, root: root) }
        }
    }

    /// A persistent ``ireduce(_:into:op:root:)`` (MPI_Reduce_init).
    public func reduceInit<T: BitwiseCopyable>(
        _ values: UnsafeBufferPointer<T>, into result: UnsafeMutableBufferPointer<T>, op: ReduceOperation<T>, root: Int
    ) throws(MPIError) -> Request {
        try typedErrors {
            try checkRoot(root, "reduceInit")
            return persistent { try self.ireduce(values, into: result, op: op, root: root) }
        }
    }

    /// A persistent ``iallreduce(_:into:op:)`` (MPI_Allreduce_init).
    public func allreduceInit<T: BitwiseCopyable>(
        _ values: UnsafeBufferPointer<T>, into result: UnsafeMutableBufferPointer<T>, op: ReduceOperation<T>
    ) -> Request {
        persistent { try self.iallreduce(values, into: result, op: op) }
    }

    /// A persistent ``igather(_:into:root:)`` (MPI_Gather_init).
    public func gatherInit<T: BitwiseCopyable>(
        _ values: UnsafeBufferPointer<T>, into result: UnsafeMutableBufferPointer<T>, root: Int
    ) throws(MPIError) -> Request {
        try typedErrors {
            try checkRoot(root, "gatherInit")
            return persistent { try self.igather(values, into: result, root: root) }
        }
    }

    /// A persistent ``iscatter(_:into:root:)`` (MPI_Scatter_init).
    public func scatterInit<T: BitwiseCopyable>(
        _ values: UnsafeBufferPointer<T>, into result: UnsafeMutableBufferPointer<T>, root: Int
    ) throws(MPIError) -> Request {
        try typedErrors {
            try checkRoot(root, "scatterInit")
            return persistent { try self.iscatter(values, into: result, root: root) }
        }
    }

    /// A persistent ``iallgather(_:into:)`` (MPI_Allgather_init).
    public func allgatherInit<T: BitwiseCopyable>(_ values: UnsafeBufferPointer<T>, into result: UnsafeMutableBufferPointer<T>) -> Request {
        persistent { try self.iallgather(values, into: result) }
    }

    /// A persistent ``ialltoall(_:into:)`` (MPI_Alltoall_init).
    public func alltoallInit<T: BitwiseCopyable>(_ values: UnsafeBufferPointer<T>, into result: UnsafeMutableBufferPointer<T>) -> Request {
        persistent { try self.ialltoall(values, into: result) }
    }

    /// A persistent ``iscan(_:into:op:)`` (MPI_Scan_init).
    public func scanInit<T: BitwiseCopyable>(
        _ values: UnsafeBufferPointer<T>, into result: UnsafeMutableBufferPointer<T>, op: ReduceOperation<T>
    ) -> Request {
        persistent { try self.iscan(values, into: result, op: op) }
    }

    /// A persistent ``iexscan(_:into:op:)`` (MPI_Exscan_init).
    public func exscanInit<T: BitwiseCopyable>(
        _ values: UnsafeBufferPointer<T>, into result: UnsafeMutableBufferPointer<T>, op: ReduceOperation<T>
    ) -> Request {
        persistent { try self.iexscan(values, into: result, op: op) }
    }

    /// A persistent ``ineighborAllgather(_:into:)`` (MPI_Neighbor_allgather_init).
    public func neighborAllgatherInit<T: BitwiseCopyable>(_ values: UnsafeBufferPointer<T>, into result: UnsafeMutableBufferPointer<T>) -> Request {
        persistent { try self.ineighborAllgather(values, into: result) }
    }

    /// A persistent ``ineighborAlltoall(_:into:)`` (MPI_Neighbor_alltoall_init).
    public func neighborAlltoallInit<T: BitwiseCopyable>(_ values: UnsafeBufferPointer<T>, into result: UnsafeMutableBufferPointer<T>) -> Request {
        persistent { try self.ineighborAlltoall(values, into: result) }
    }
}
