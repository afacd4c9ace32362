#if canImport(Glibc)
import Glibc
#endif

/// `swiftmpirun` inside a Slurm allocation (`salloc`, `sbatch`: `SLURM_JOB_ID` set) and given no
/// `--host` or `--hostfile` runs on the allocation's nodes, with the allocation's task slots per node,
/// and starts its per-node daemons with `srun`, as Open MPI's and MPICH's launchers do — this node's
/// too (as MPICH's Hydra does), so every rank runs inside a job step: accounted, confined to the
/// step's resources, and ended by `scancel`. `-n` may be left out: it defaults to all the slots.
package enum SlurmAllocation {
    /// How a daemon is started on node %h: one task of a step that shares the allocation's resources
    /// with the ranks (`--overlap`) and gets no PMI of its own (the job wires up through swiftmpirun).
    package static let launchAgent = "srun --overlap --mpi=none --nodes=1 --ntasks=1 --nodelist=%h"

    /// The allocation's nodes and slots, or nil outside an allocation.
    package static func hosts(lookup: (String) -> String? = { getenv($0).map { String(cString: $0) } }) throws -> [HostPlan.Host]? {
        guard lookup("SLURM_JOB_ID") != nil, let nodeList = lookup("SLURM_JOB_NODELIST") else { return nil }
        let names = try expandNodeList(nodeList)
        guard let counts = (lookup("SLURM_TASKS_PER_NODE") ?? lookup("SLURM_JOB_CPUS_PER_NODE")).flatMap(expandCounts),
            counts.count == names.count
        else {
            throw LaunchError("inside Slurm allocation \(lookup("SLURM_JOB_ID")!): cannot read the slots per node from SLURM_TASKS_PER_NODE")
        }
        return zip(names, counts).map { HostPlan.Host(name: $0, slots: $1) }
    }

    /// "2(x3),1" → [2, 2, 2, 1] (Slurm's compressed per-node counts); nil when malformed or a count
    /// is over ``HostPlan/maximumSlots``.
    package static func expandCounts(_ text: String) -> [Int]? {
        var counts: [Int] = []
        for item in text.split(separator: ",") {
            if let open = item.firstIndex(of: "(") {
                guard item.hasSuffix(")"), let count = Int(item[..<open]), (1...HostPlan.maximumSlots).contains(count),
                    item[item.index(after: open)...].hasPrefix("x"),
                    let repeats = Int(item.dropLast()[item.index(open, offsetBy: 2)...]), repeats > 0, repeats <= 65536
                else { return nil }
                counts += Array(repeating: count, count: repeats)
            } else {
                guard let count = Int(item), (1...HostPlan.maximumSlots).contains(count) else { return nil }
                counts.append(count)
            }
        }
        return counts.isEmpty ? nil : counts
    }

    /// Slurm's compressed node list ("node[01-03,7],gpu1") as names, through `scontrol show hostnames`
    /// (Slurm's own parser, so every form Slurm writes is understood).
    package static func expandNodeList(_ nodeList: String) throws -> [String] {
        guard !nodeList.isEmpty, nodeList.allSatisfy({ $0.isLetter || $0.isNumber || "[],-._".contains($0) }) else {
            throw LaunchError("SLURM_JOB_NODELIST '\(nodeList)' is not a Slurm node list")
        }
        guard let pipe = popen("scontrol show hostnames '\(nodeList)' 2>/dev/null", "r") else {
            throw LaunchError("cannot run scontrol to expand SLURM_JOB_NODELIST '\(nodeList)'")
        }
        var names: [String] = []
        var line = [CChar](repeating: 0, count: 1024)
        while fgets(&line, Int32(line.count), pipe) != nil {
            let name = String(decoding: line.prefix { $0 != 0 && $0 != 10 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if !name.isEmpty { names.append(name) }
        }
        let status = pclose(pipe)
        guard status == 0, !names.isEmpty else {
            throw LaunchError("scontrol show hostnames '\(nodeList)' failed (status \(status)); is Slurm's scontrol on PATH?")
        }
        return names
    }
}
