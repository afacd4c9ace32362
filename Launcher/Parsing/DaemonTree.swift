/// Who starts each daemon of a multi-host job: the launcher starts the first `fanout` hosts through
/// the launch agent, and the daemon of the host at list position k starts the hosts at positions
/// (k + 1) · fanout … (k + 1) · fanout + fanout − 1 — a tree of depth ⌈log_fanout(hosts)⌉ instead of
/// one launcher starting every host in turn. A fanout of at least the host count is the flat start.
/// Every daemon still links straight to the launcher (output, signals, exit statuses and key-value
/// requests do not pass through other daemons); only starting is delegated. docs/Design.md, "Jobs
/// across hosts".
package struct DaemonTree: Equatable, Sendable {
    /// The hosts started through the launch agent, in tree order: host index and name.
    package let hosts: [Host]
    /// How many hosts the launcher, and each daemon, start.
    package let fanout: Int
    /// The launch agent's words (`ssh`, `ip netns exec %h`), as the launcher was given them.
    package let agent: [String]

    /// A host of the tree.
    package struct Host: Equatable, Sendable {
        /// The host's index in the job (its daemon's `--daemon-host`).
        package var index: Int
        /// The host's name, as the launch agent takes it.
        package var name: String

        /// A host of the tree.
        package init(index: Int, name: String) {
            self.index = index
            self.name = name
        }
    }

    /// Above this many hosts started through the agent, the launcher starts them as a tree of
    /// ``defaultFanout`` unless `SWIFTMPI_LAUNCH_FANOUT` says otherwise (docs/Scale.md: the
    /// crossover with ssh is modelled near 160–320 hosts; below 64 a tree would only add a generation).
    package static let treeThreshold = 64
    /// The fanout of a tree start.
    package static let defaultFanout = 8

    /// A tree of `hosts` with `fanout` (at least 1).
    package init(hosts: [Host], fanout: Int, agent: [String]) {
        self.hosts = hosts
        self.fanout = max(1, fanout)
        self.agent = agent
    }

    /// The fanout for `hostCount` agent-started hosts: `setting` (`SWIFTMPI_LAUNCH_FANOUT`: a number,
    /// 0 for flat) when given, else flat up to ``treeThreshold`` hosts and ``defaultFanout`` beyond.
    /// Throws for a setting that is not a number of hosts.
    package static func fanout(hostCount: Int, setting: String?) throws(LaunchError) -> Int {
        if let setting {
            guard let value = Int(setting), value >= 0 else {
                throw LaunchError("SWIFTMPI_LAUNCH_FANOUT must be 0 (a flat start) or the number of hosts each daemon starts, got '\(setting)'")
            }
            return value == 0 ? max(1, hostCount) : value
        }
        return hostCount > treeThreshold ? defaultFanout : max(1, hostCount)
    }

    /// The hosts the launcher starts itself.
    package var startedByLauncher: [Host] { Array(hosts.prefix(fanout)) }

    /// The hosts the daemon of host `index` starts (none when it is not in the tree).
    package func started(byHost index: Int) -> [Host] {
        guard let position = hosts.firstIndex(where: { $0.index == index }) else { return [] }
        let first = (position + 1) * fanout
        guard first < hosts.count else { return [] }
        return Array(hosts[first..<min(hosts.count, first + fanout)])
    }

    /// The tree as one command-line word without spaces (so that ssh's remote shell keeps it whole):
    /// `fanout;agent words as hex, comma-separated;index=name,index=name,…`.
    package var encoded: String {
        let digits = Array("0123456789abcdef")
        let agentText = agent.map { word in String(word.utf8.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] }) }
        return "\(fanout);\(agentText.joined(separator: ","));" + hosts.map { "\($0.index)=\($0.name)" }.joined(separator: ",")
    }

    /// The tree `encoded` describes, or nil when it is malformed.
    package init?(encoded: String) {
        let parts = encoded.split(separator: ";", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, let fanout = Int(parts[0]), fanout >= 1 else { return nil }
        var agent: [String] = []
        for word in parts[1].split(separator: ",") {
            guard word.count % 2 == 0 else { return nil }
            var bytes: [UInt8] = []
            var index = word.startIndex
            while index < word.endIndex {
                let next = word.index(index, offsetBy: 2)
                guard let byte = UInt8(word[index..<next], radix: 16) else { return nil }
                bytes.append(byte)
                index = next
            }
            agent.append(String(decoding: bytes, as: UTF8.self))
        }
        var hosts: [Host] = []
        for entry in parts[2].split(separator: ",") {
            let pair = entry.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, let index = Int(pair[0]), index >= 0, !pair[1].isEmpty else { return nil }
            hosts.append(Host(index: index, name: String(pair[1])))
        }
        self.init(hosts: hosts, fanout: fanout, agent: agent)
    }
}
