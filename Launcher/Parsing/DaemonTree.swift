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

    /// A tree of `hosts` with `fanout` (at least 1, at most the number of hosts).
    package init(hosts: [Host], fanout: Int, agent: [String]) {
        self.hosts = hosts
        self.fanout = max(1, min(fanout, hosts.count))
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
            return value == 0 ? max(1, hostCount) : min(value, max(1, hostCount))
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

    /// The tree as one command-line word that no shell splits or expands (ssh hands its arguments
    /// to the remote user's shell): `fanout:agent words,…:index@name,…`, words and names in hex.
    package var encoded: String {
        let agentText = agent.map(Self.hex).joined(separator: ",")
        return "\(fanout):\(agentText):" + hosts.map { "\($0.index)@\(Self.hex($0.name))" }.joined(separator: ",")
    }

    /// The tree `encoded` describes, or nil when it is malformed.
    package init?(encoded: String) {
        let parts = encoded.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, let fanout = Int(parts[0]), fanout >= 1 else { return nil }
        var agent: [String] = []
        for word in parts[1].split(separator: ",") {
            guard let text = Self.text(fromHex: word) else { return nil }
            agent.append(text)
        }
        var hosts: [Host] = []
        for entry in parts[2].split(separator: ",") {
            let pair = entry.split(separator: "@", omittingEmptySubsequences: false)
            guard pair.count == 2, let index = Int(pair[0]), index >= 0, let name = Self.text(fromHex: pair[1]), !name.isEmpty else { return nil }
            hosts.append(Host(index: index, name: name))
        }
        self.init(hosts: hosts, fanout: fanout, agent: agent)
    }

    private static func hex(_ text: String) -> String {
        let digits = Array("0123456789abcdef")
        return String(text.utf8.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] })
    }

    private static func text(fromHex hex: Substring) -> String? {
        guard hex.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
