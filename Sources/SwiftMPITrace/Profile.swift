/// An mpiP-like summary of a traced job (`swiftmpirun --profile`): where each rank spent its time in
/// MPI, how many bytes went between which ranks, and which waits cost the most.
///
/// Times are sums of the outermost MPI calls' durations (a call made inside another, such as a
/// collective's own messages, is not counted twice); a rank's wall time runs from its
/// `MPI.initialize()` to its `MPI.finalize()`. Messages are the point-to-point messages the ranks
/// sent (collectives' internal messages are not among them).
package struct Profile: Sendable {
    /// One call kind (`recv`, `allreduce`, …) or user region, over all ranks.
    package struct CallSummary: Equatable, Sendable {
        package var name: String
        package var isRegion: Bool
        package var count = 0
        package var bytes = 0
        /// Nanoseconds per rank (ranks that never made the call have 0).
        package var timePerRank: [Int: UInt64] = [:]
        package var totalTime: UInt64 { timePerRank.values.reduce(0, +) }
    }

    /// Where a rank waited: one call kind on one communicator with one peer.
    package struct WaitSite: Equatable, Sendable {
        package var rank: Int
        package var call: String
        package var communicator: String
        package var peer: Int
        package var count: Int
        package var time: UInt64

        package init(rank: Int, call: String, communicator: String, peer: Int, count: Int, time: UInt64) {
            (self.rank, self.call, self.communicator, self.peer, self.count, self.time) = (rank, call, communicator, peer, count, time)
        }
    }

    package let ranks: [Int]
    package let size: Int
    /// Each rank's wall time and time inside MPI calls, in nanoseconds.
    package let wallTime: [Int: UInt64]
    package let mpiTime: [Int: UInt64]
    /// Call kinds, most time first; user regions are listed with `isRegion`.
    package let calls: [CallSummary]
    /// `bytes[s][r]` and `messages[s][r]`: point-to-point traffic from world rank s to r.
    package let bytes: [[Int]]
    package let messages: [[Int]]
    /// Point-to-point messages by size: the count with at most `upTo` bytes (and more than the
    /// previous bound); bounds 0, 8, 64, 512, 4 KiB, 32 KiB, 256 KiB, 2 MiB, 16 MiB, then Int.max.
    package let sizes: [(upTo: Int, count: Int)]
    /// The ten costliest wait sites, most time first.
    package let waitSites: [WaitSite]
    /// Events dropped by full rings, over all ranks.
    package let dropped: Int

    package static let sizeBounds = [0, 8, 64, 512, 4096, 32768, 262_144, 2_097_152, 16_777_216, Int.max]

    /// The profile of `traces` (one per rank; ranks may be missing). Made by the job's rank 0 from
    /// its own ranks' events: its matrices have one row and column per rank of the job.
    package init(_ traces: [RankTrace]) {
        let traces = RankTrace.distinct(traces)
        ranks = traces.map(\.rank)
        size = max(traces.map(\.size).max() ?? 0, (traces.map(\.rank).max() ?? -1) + 1)
        var wall: [Int: UInt64] = [:]
        var inside: [Int: UInt64] = [:]
        var summaries: [String: CallSummary] = [:]
        var sites: [String: WaitSite] = [:]
        var bytes = Array(repeating: Array(repeating: 0, count: size), count: size)
        var messages = bytes
        var sizeCounts = Array(repeating: 0, count: Self.sizeBounds.count)
        for trace in traces {
            wall[trace.rank] = trace.ended >= trace.started ? trace.ended - trace.started : 0
            var mpi: UInt64 = 0
            for event in trace.events {
                let duration = event.end - event.start
                switch event.kind {
                case .call, .region:
                    let key = (event.kind == .region ? "region " : "call ") + event.name
                    var summary = summaries[key] ?? CallSummary(name: event.name, isRegion: event.kind == .region)
                    summary.count += 1
                    summary.bytes &+= event.bytes
                    summary.timePerRank[trace.rank, default: 0] &+= duration
                    summaries[key] = summary
                    guard event.kind == .call else { continue }
                    mpi &+= duration
                    let siteKey = "\(trace.rank)\t\(event.name)\t\(event.context & ~1)\t\(event.peer)"
                    var site =
                        sites[siteKey] ?? WaitSite(rank: trace.rank, call: event.name, communicator: event.communicator, peer: event.peer, count: 0, time: 0)
                    site.count += 1
                    site.time &+= duration
                    sites[siteKey] = site
                case .send:
                    if (0..<size).contains(event.peer) {
                        bytes[trace.rank][event.peer] &+= event.bytes
                        messages[trace.rank][event.peer] += 1
                    }
                    sizeCounts[Self.sizeBounds.firstIndex { event.bytes <= $0 } ?? Self.sizeBounds.count - 1] += 1
                case .receive: break
                }
            }
            inside[trace.rank] = mpi
        }
        wallTime = wall
        mpiTime = inside
        calls = summaries.values.sorted { ($0.totalTime, $1.name) > ($1.totalTime, $0.name) }
        self.bytes = bytes
        self.messages = messages
        sizes = zip(Self.sizeBounds, sizeCounts).map { (upTo: $0, count: $1) }
        waitSites = Array(sites.values.sorted { ($0.time, $1.rank) > ($1.time, $0.rank) }.prefix(10))
        dropped = traces.reduce(0) { $0 + $1.dropped }
    }

    // MARK: - Text

    /// The summary `swiftmpirun --profile` prints when the job ends.
    package var text: String {
        let totalWall = wallTime.values.reduce(0, +)
        let totalMPI = mpiTime.values.reduce(0, +)
        var out = "SwiftMPI profile: \(ranks.count) of \(size) ranks traced; MPI time \(Self.percent(totalMPI, of: totalWall)) of the ranks' wall time"
        if let most = ranks.max(by: { (mpiTime[$0] ?? 0, $1) < (mpiTime[$1] ?? 0, $0) }) {
            out += " (most: rank \(most), \(Self.milliseconds(mpiTime[most] ?? 0)) ms of \(Self.milliseconds(wallTime[most] ?? 0)) ms)"
        }
        out += "\n"
        if dropped > 0 { out += "note: \(dropped) events were dropped by full trace rings (raise --trace-buffer); the figures below omit them\n" }
        out += "\nCalls (time summed over ranks; min and max over the ranks that made the call):\n"
        var rows = [["call", "count", "bytes", "total ms", "% wall", "min ms (rank)", "max ms (rank)"]]
        for call in calls {
            let perRank = call.timePerRank.sorted { ($0.value, $0.key) < ($1.value, $1.key) }
            let low = perRank.first.map { "\(Self.milliseconds($0.value)) (\($0.key))" } ?? "-"
            let high = perRank.last.map { "\(Self.milliseconds($0.value)) (\($0.key))" } ?? "-"
            rows.append([
                call.isRegion ? "region \(call.name)" : call.name, "\(call.count)", "\(call.bytes)", Self.milliseconds(call.totalTime),
                Self.percent(call.totalTime, of: totalWall), low, high
            ])
        }
        out += Self.table(rows)
        if !waitSites.isEmpty {
            out += "\nTop wait sites (rank, call, communicator, peer as a world rank):\n"
            var siteRows = [["rank", "call", "communicator", "peer", "count", "total ms"]]
            for site in waitSites {
                siteRows.append([
                    "\(site.rank)", site.call, site.communicator, site.peer >= 0 ? "\(site.peer)" : "-", "\(site.count)", Self.milliseconds(site.time)
                ])
            }
            out += Self.table(siteRows)
        }
        let times = ranks.map { mpiTime[$0] ?? 0 }
        if let high = times.max(), let low = times.min(), !times.isEmpty {
            let mean = Double(times.reduce(0, +)) / Double(times.count)
            let imbalance = high == 0 ? 0 : (Double(high) - mean) / Double(high) * 100
            out += "\nLoad imbalance: MPI time per rank min \(Self.milliseconds(low)) ms, mean \(JSONText.fixed(mean / 1e6, 3)) ms, "
            out += "max \(Self.milliseconds(high)) ms; (max - mean) / max = \(JSONText.fixed(imbalance, 1)) %\n"
        }
        let messageCount = messages.reduce(0) { $0 + $1.reduce(0, +) }
        let byteCount = bytes.reduce(0) { $0 + $1.reduce(0, +) }
        out += "\nPoint-to-point: \(messageCount) messages, \(byteCount) bytes. Sizes:"
        var previous = -1
        for (bound, count) in sizes where count > 0 {
            out += " \(Self.sizeLabel(above: previous, upTo: bound)): \(count);"
            previous = bound
        }
        if messageCount == 0 { out += " none" }
        out += "\n"
        return out
    }

    /// The label of the size bin (`above`, `upTo`].
    static func sizeLabel(above: Int, upTo: Int) -> String {
        if upTo == 0 { return "0 B" }
        if upTo == Int.max { return "> 16 MiB" }
        return "≤ " + bytesText(upTo)
    }

    static func bytesText(_ bytes: Int) -> String {
        if bytes >= 1 << 20 && bytes % (1 << 20) == 0 { return "\(bytes >> 20) MiB" }
        if bytes >= 1 << 10 && bytes % (1 << 10) == 0 { return "\(bytes >> 10) KiB" }
        return "\(bytes) B"
    }

    static func milliseconds(_ nanoseconds: UInt64) -> String { JSONText.fixed(Double(nanoseconds) / 1e6, 3) }

    static func percent(_ part: UInt64, of whole: UInt64) -> String {
        whole == 0 ? "0.0 %" : JSONText.fixed(Double(part) / Double(whole) * 100, 1) + " %"
    }

    /// Rows as left-aligned columns two spaces apart, indented by two.
    static func table(_ rows: [[String]]) -> String {
        var widths: [Int] = []
        for row in rows {
            for (index, cell) in row.enumerated() {
                if index == widths.count { widths.append(0) }
                widths[index] = max(widths[index], cell.count)
            }
        }
        return rows.map { row in
            "  " + row.enumerated().map { index, cell in cell + String(repeating: " ", count: widths[index] - cell.count) }.joined(separator: "  ")
        }.map { String($0.reversed().drop { $0 == " " }.reversed()) }.joined(separator: "\n") + "\n"
    }

    // MARK: - JSON

    /// `profile.json`: the same figures for programs (times in nanoseconds, ranks as world ranks).
    package var json: String {
        func object(_ pairs: [(String, String)]) -> String {
            "{" + pairs.map { "\(JSONText.string($0.0)):\($0.1)" }.joined(separator: ",") + "}"
        }
        func array(_ items: [String]) -> String { "[" + items.joined(separator: ",") + "]" }
        let perRank = { (values: [Int: UInt64]) in object(values.sorted { $0.key < $1.key }.map { ("\($0.key)", "\($0.value)") }) }
        let callItems = calls.map { call in
            object([
                ("name", JSONText.string(call.name)), ("region", call.isRegion ? "true" : "false"), ("count", "\(call.count)"),
                ("bytes", "\(call.bytes)"), ("total_ns", "\(call.totalTime)"), ("per_rank_ns", perRank(call.timePerRank))
            ])
        }
        let siteItems = waitSites.map { site in
            object([
                ("rank", "\(site.rank)"), ("call", JSONText.string(site.call)), ("communicator", JSONText.string(site.communicator)),
                ("peer", "\(site.peer)"), ("count", "\(site.count)"), ("total_ns", "\(site.time)")
            ])
        }
        let sizeItems = sizes.map { object([("up_to", $0.upTo == Int.max ? "null" : "\($0.upTo)"), ("count", "\($0.count)")]) }
        return object([
            ("ranks", "\(size)"), ("ranks_traced", array(ranks.map { "\($0)" })), ("dropped_events", "\(dropped)"),
            ("wall_ns", perRank(wallTime)), ("mpi_ns", perRank(mpiTime)), ("calls", array(callItems)),
            ("bytes", array(bytes.map { array($0.map { "\($0)" }) })), ("messages", array(messages.map { array($0.map { "\($0)" }) })),
            ("message_sizes", array(sizeItems)), ("wait_sites", array(siteItems))
        ]) + "\n"
    }
}
