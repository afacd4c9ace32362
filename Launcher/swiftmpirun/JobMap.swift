import SwiftMPILauncherParsing

/// `--display-map`: the job's map on stderr before the first rank starts, in the shape of Open
/// MPI's (one block per host, one line per rank). Stderr, not stdout, so a program's own output
/// stays clean for pipes.
enum JobMap {
    private static let rule = "=============================================================="

    /// The map of a one-host job: every rank's binding.
    static func print(plan: JobPlan) {
        var lines = ["========================   JOB MAP   ========================", ""]
        lines.append("Data for node: \(JobPlan.hostName)\tNum slots: \(plan.topology.threads.count)\tNum procs: \(plan.rankCount)")
        for rank in 0..<plan.rankCount {
            let cpus = plan.cpus(ofRank: rank)
            let bound = cpus.isEmpty ? "N/A" : plan.topology.bindingDescription(cpus)
            lines.append("\tProcess rank: \(rank)\tBound: \(bound)")
        }
        lines += ["", rule]
        reportVerbatim(lines.joined(separator: "\n"))
    }

    /// The map of a job across hosts: each host's ranks (each host's daemon binds them; with
    /// `--report-bindings` it prints how).
    static func print(hosts plan: HostPlan) {
        var lines = ["========================   JOB MAP   ========================", ""]
        for (index, host) in plan.hosts.enumerated() {
            let ranks = plan.ranks(on: index)
            lines.append("Data for node: \(host.name)\tNum slots: \(host.slots)\tNum procs: \(ranks.count)")
            lines += ranks.map { "\tProcess rank: \($0)\tBound: by the host's daemon" }
            lines.append("")
        }
        lines.append(rule)
        reportVerbatim(lines.joined(separator: "\n"))
    }
}
