#if canImport(Glibc)
import Glibc
#endif

/// Where each rank runs when the job spans hosts (`--host`, `--hostfile`, `--map-by`).
///
/// `--host a:2,b` gives host a two slots and b one; a hostfile has one host per line with an
/// optional `slots=N` (default 1), `#` comments and blank lines, as in Open MPI. `--map-by slot`
/// (default) fills each host's slots in order; `--map-by node` deals ranks round-robin over hosts.
/// More ranks than slots wrap around (oversubscription is allowed without a flag, as on one host).
package struct HostPlan: Equatable, Sendable {
    /// A host and its number of slots (ranks it takes before the mapping wraps around).
    package struct Host: Equatable, Sendable {
        /// The host's name as given (resolved by the launch agent, e.g. ssh).
        package var name: String
        /// Ranks it takes before the mapping moves on (at least 1, at most ``HostPlan/maximumSlots``).
        package var slots: Int
        /// A host with `slots` slots.
        package init(name: String, slots: Int) {
            self.name = name
            self.slots = slots
        }
    }

    /// How ranks are dealt to hosts (`--map-by`).
    package enum Mapping: String, CaseIterable, Sendable {
        case slot, node
    }

    /// The hosts, each named once.
    package let hosts: [Host]
    /// The host index of each world rank.
    package let hostOfRank: [Int]

    /// The world ranks on host `index`, in local-rank order.
    package func ranks(on index: Int) -> [Int] { hostOfRank.indices.filter { hostOfRank[$0] == index } }

    /// The most slots one host may declare (so slot sums never overflow).
    package static let maximumSlots = 65536

    /// Hosts named more than once are merged (their slots add up), as Open MPI does.
    /// `listed` is not empty and every host has at least one slot (what the parsers return).
    package init(hosts listed: [Host], rankCount: Int, mapping: Mapping) {
        var hosts: [Host] = []
        for host in listed {
            if let index = hosts.firstIndex(where: { $0.name == host.name }) { hosts[index].slots += host.slots } else { hosts.append(host) }
        }
        self.hosts = hosts
        var assignment: [Int] = []
        switch mapping {
        case .slot:
            let total = hosts.reduce(0) { $0 + $1.slots }
            assignment = (0..<rankCount).map { rank in
                var position = rank % total
                return hosts.firstIndex { host in
                    if position < host.slots { return true }
                    position -= host.slots
                    return false
                }!
            }
        case .node:
            var used = Array(repeating: 0, count: hosts.count)
            var host = 0
            for _ in 0..<rankCount {
                // Next host with a free slot; once all are full, plain round-robin.
                let full = used.indices.allSatisfy { used[$0] >= hosts[$0].slots }
                var tries = 0
                while !full && used[host] >= hosts[host].slots && tries < hosts.count { host = (host + 1) % hosts.count; tries += 1 }
                assignment.append(host)
                used[host] += 1
                host = (host + 1) % hosts.count
            }
        }
        hostOfRank = assignment
    }

    /// Parses `--host` text: comma-separated NAME[:SLOTS].
    package static func parseHostList(_ text: String) throws -> [Host] {
        try text.split(separator: ",", omittingEmptySubsequences: false).map { item in
            let parts = item.split(separator: ":", omittingEmptySubsequences: false)
            guard let name = parts.first, !name.isEmpty, parts.count <= 2 else {
                throw LaunchError("--host '\(text)': expected NAME[:SLOTS],...")
            }
            guard parts.count == 1 || Int(parts[1]).map({ (1...maximumSlots).contains($0) }) == true else {
                throw LaunchError("--host '\(text)': slots for \(name) must be an integer from 1 to \(maximumSlots)")
            }
            return Host(name: String(name), slots: parts.count == 2 ? Int(parts[1])! : 1)
        }
    }

    /// Parses a hostfile's text (Open MPI format).
    package static func parseHostfile(_ text: String, path: String) throws -> [Host] {
        var hosts: [Host] = []
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.prefix { $0 != "#" }.trimmingCharacters(in: " \t\r")
            if line.isEmpty { continue }
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            var host = Host(name: String(words[0]), slots: 1)
            for word in words.dropFirst() {
                let pair = word.split(separator: "=", maxSplits: 1)
                guard pair.count == 2, ["slots", "max_slots", "max-slots"].contains(pair[0]), let value = Int(pair[1]), (1...maximumSlots).contains(value)
                else {
                    throw LaunchError("\(path):\(number + 1): expected 'HOST [slots=N]' with N from 1 to \(maximumSlots), got '\(line)'")
                }
                if pair[0] == "slots" { host.slots = value }
            }
            hosts.append(host)
        }
        guard !hosts.isEmpty else { throw LaunchError("\(path): no hosts") }
        return hosts
    }

    /// Reads and parses a hostfile.
    package static func readHostfile(_ path: String) throws -> [Host] {
        guard let file = fopen(path, "r") else {
            let code = errno  // read before anything else can change it
            throw LaunchError("--hostfile \(path): \(String(cString: strerror(code)))")
        }
        defer { fclose(file) }
        var text = ""
        var buffer = [CChar](repeating: 0, count: 4096)
        while fgets(&buffer, Int32(buffer.count), file) != nil {
            text += buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        }
        return try parseHostfile(text, path: path)
    }
}

extension Substring {
    /// This text without leading and trailing characters from `set`.
    package func trimmingCharacters(in set: String) -> String {
        String(drop { set.contains($0) }.reversed().drop { set.contains($0) }.reversed())
    }
}
