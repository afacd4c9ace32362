/// The process manager a rank wires up through: `swiftmpirun`'s key-value exchange
/// (``KeyValueClient``), or a resource manager's PMI-2 server (``PMI2Client``, `srun --mpi=pmi2`) or
/// PMIx server (``PMIxClient``, `srun --mpi=pmix`, Open MPI's `mpirun`).
///
/// All ranks put, then fence, then get: after a fence returns, every value put before it by any rank
/// of the job is visible to every rank. Calls block; the runtime makes them one at a time.
public protocol WireupExchange: AnyObject {
    /// Publishes `value` under `key`, visible to all ranks after the next fence.
    func put(_ key: String, _ value: [UInt8]) throws(WireupError)
    /// The value under `key`, or nil if no rank put it.
    func get(_ key: String) throws(WireupError) -> [UInt8]?
    /// Returns once every rank of the job has called it.
    func fence() throws(WireupError)
    /// Tells the process manager this rank finished normally.
    func finalize() throws(WireupError)
    /// Asks the process manager to end the whole job with `code`. Best effort; never throws.
    func abort(code: Int32, message: String)
}

extension KeyValueClient: WireupExchange {}
extension PMI2Client: WireupExchange {}
