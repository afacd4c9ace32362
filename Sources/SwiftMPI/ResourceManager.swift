#if canImport(Glibc)
import Glibc
#endif
import SwiftMPIWireup

/// Starting under a resource manager's own launcher instead of `swiftmpirun`.
///
/// - `srun --mpi=pmi2` (PMI-2, `PMI_FD` in the environment): rank and size come from the manager's
///   PMI server, the node of every rank from its `PMI_process_mapping` attribute (local rank = the
///   rank's position among those of its node); the job's TCP secret is made by rank 0 and shared
///   through the manager's key-value space, which only the job's processes reach.
/// - PMIx (`srun --mpi=pmix`, Open MPI's `mpirun`: `PMIX_NAMESPACE` in the environment): rank, job
///   size, local rank and size and node id come from the PMIx server (libpmix loaded at run time);
///   the secret is shared as with PMI-2.
/// - Started by a manager whose interface this build does not speak (`srun` with several tasks and
///   no PMI): `MPI.initialize()` throws with the reason and the fix, rather than letting every task
///   run alone as rank 0 of 1.
enum ResourceManager {
    /// Wires up with the PMI-2 server: the launch parameters of this rank and the exchange to use.
    static func joinPMI2() throws(MPIError) -> (LaunchParameters, PMI2Client) {
        var client: PMI2Client?
        do {
            let pmi = try PMI2Client()
            client = pmi
            guard pmi.size >= 1, pmi.rank >= 0, pmi.rank < pmi.size else {
                throw WireupError.malformed("PMI-2 rank \(pmi.rank) of \(pmi.size)")
            }
            let nodes: [Int]
            if let mapping = try pmi.jobAttribute("PMI_process_mapping") {
                nodes = try PMI2Client.nodeOfEachRank(mapping: mapping, size: pmi.size)
            } else {
                nodes = try nodesByHostname(pmi)
            }
            let node = nodes[pmi.rank]
            let local = nodes.indices.filter { nodes[$0] == node }
            let secret = try shareSecret(through: pmi, rank: pmi.rank)
            let processors = nodeProcessors()
            // Shared-memory names must be the same for the ranks of a node and unique per job step:
            // the job id ("job.step", "job+offset.step") hex-encoded, so no two ids collide, and a
            // digest of the step's secret, so that two clusters' steps with one id (two Slurm
            // instances on one machine) do not either.
            let job = "pmi" + Hex.encode(Array(pmi.jobID.utf8.prefix(48))) + "-" + stepDigest(secret)
            var launch = LaunchParameters(
                rank: pmi.rank, size: pmi.size, localRank: local.firstIndex(of: pmi.rank)!,
                localSize: local.count, jobID: job, keyValueSocket: "", secret: secret,
                oversubscribed: local.count > processors)
            launch.hostID = "node\(node)"
            launch.hostCount = Set(nodes).count
            launch.localRanks = local
            return (launch, pmi)
        } catch {
            let message = "MPI.initialize(): wire-up through PMI-2 (srun --mpi=pmi2) failed: \(error)"
            client?.abort(code: 1, message: message)  // the other ranks would wait in a fence forever
            throw MPIError(.wireup, message)
        }
    }

    /// Wires up with the PMIx server: the launch parameters of this rank and the exchange to use.
    static func joinPMIx() throws(MPIError) -> (LaunchParameters, PMIxClient) {
        var client: PMIxClient?
        do {
            let pmix = try PMIxClient()
            client = pmix
            let size = try pmix.number("pmix.job.size", job: true)
            let localRank = try pmix.number("pmix.lrank", job: false)
            let localSize = try pmix.number("pmix.local.size", job: true)
            let node = try pmix.number("pmix.nodeid", job: false)
            let nodes = (try? pmix.number("pmix.num.nodes", job: true)) ?? 1
            guard size >= 1, pmix.rank < size, localRank < localSize, localSize <= size else {
                throw WireupError.malformed("PMIx rank \(pmix.rank) of \(size), local rank \(localRank) of \(localSize)")
            }
            let secret = try shareSecret(through: pmix, rank: pmix.rank)
            let processors = nodeProcessors()
            let job = "pmix" + Hex.encode(Array(pmix.namespace.utf8.prefix(48))) + "-" + stepDigest(secret)
            var launch = LaunchParameters(
                rank: pmix.rank, size: size, localRank: localRank, localSize: localSize,
                jobID: job, keyValueSocket: "", secret: secret, oversubscribed: localSize > processors)
            launch.hostID = "node\(node)"
            launch.hostCount = nodes
            return (launch, pmix)
        } catch {
            let message = "MPI.initialize(): wire-up through PMIx (srun --mpi=pmix or mpirun) failed: \(error)"
            client?.abort(code: 1, message: message)
            throw MPIError(.wireup, message)
        }
    }

    /// The job's TCP secret: made by rank 0 and put under `secret/0`; the others read it after the
    /// fence (only the job's processes reach the manager's key-value space).
    /// 16 hex digits that differ between job steps with overwhelming probability and reveal nothing
    /// of the secret they come from (FNV-1a over it: a digest, never its bytes).
    static func stepDigest(_ secret: JobSecret) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in secret.bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        let text = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - text.count) + text
    }

    private static func shareSecret(through exchange: any WireupExchange, rank: Int) throws -> JobSecret {
        if rank == 0 {
            let secret = try JobSecret.generate()
            try exchange.put("secret/0", secret.bytes)
            try exchange.fence()
            return secret
        }
        try exchange.fence()
        guard let shared = try exchange.get("secret/0").flatMap(JobSecret.init(bytes:)) else {
            throw WireupError.refused("rank 0 published no job secret")
        }
        return shared
    }

    /// The CPUs this job may use on this node, to tell oversubscription: Slurm's count for the job on
    /// the node (`SLURM_CPUS_ON_NODE`: its share, not the whole machine), never more than the CPUs
    /// online (a node may be declared bigger than it is). Not this process's affinity: srun binds each
    /// task to its own CPUs, which says nothing about how many the node's ranks share.
    private static func nodeProcessors() -> Int {
        let online = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        if let value = WireupEnvironment.value("SLURM_CPUS_ON_NODE"), let cpus = Int(value), cpus > 0 { return min(cpus, online) }
        return online
    }

    /// Without a process mapping: every rank publishes its host name, and ranks with the same name
    /// share a node (numbered by first appearance).
    private static func nodesByHostname(_ pmi: PMI2Client) throws(WireupError) -> [Int] {
        var name = [UInt8](repeating: 0, count: 256)
        _ = name.withUnsafeMutableBufferPointer { gethostname(UnsafeMutableRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), 255) }
        let host = String(decoding: name.prefix { $0 != 0 }, as: UTF8.self)
        try pmi.put("swiftmpi-host-\(pmi.rank)", Array(host.utf8))
        try pmi.fence()
        var seen: [String] = []
        return try (0..<pmi.size).map { rank throws(WireupError) -> Int in
            guard let bytes = try pmi.get("swiftmpi-host-\(rank)") else { throw .refused("rank \(rank) published no host name") }
            let other = String(decoding: bytes, as: UTF8.self)
            if let index = seen.firstIndex(of: other) { return index }
            seen.append(other)
            return seen.count - 1
        }
    }

    /// Why this process, started by a resource manager, cannot wire up; nil when it was not (then it
    /// is a singleton).
    static func unsupportedLaunch() -> String? {
        if let tasks = WireupEnvironment.value("SLURM_STEP_NUM_TASKS").flatMap({ Int($0) }), tasks > 1,
            WireupEnvironment.value("SLURM_PROCID") != nil
        {
            return
                "srun started \(tasks) tasks without a process-management interface, so none can find the others; use srun --mpi=pmi2 (or set "
                + "MpiDefault=pmi2 in slurm.conf)"
        }
        return nil
    }
}
