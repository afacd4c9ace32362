/// The per-rank trace file, `rank.N.trace`: UTF-8 text, one record per line, fields separated by tabs.
///
/// ```
/// swiftmpi-trace 1
/// rank 0 size 4 started 1000 ended 9000 dropped 0 offset 0 uncertainty 0 host node1
/// C	send	0	1	7	8	1200	1300
/// S	eager over shm	0	1	7	8	1250	1250
/// ```
/// Event lines are `kind name context peer tag bytes start end` (``TraceEvent``). Names never hold a
/// tab or a line break (``encode(_:)`` replaces them with spaces). ``decode(_:)`` reads the file as
/// untrusted input: a malformed line is a ``TraceFileError`` naming its line, never a trap, and
/// the numbers it accepts are bounded (``maximumTime``) so that merging them cannot overflow.
package enum TraceFile {
    /// The first line of every trace file.
    package static let magic = "swiftmpi-trace 1"

    /// The largest time (ns), offset or uncertainty a file may state: 2^61 (73 years), so that sums and
    /// differences of two of them never overflow in the merge.
    package static let maximumTime: UInt64 = 1 << 61
    /// The most ranks a file may state.
    package static let maximumRanks = 1 << 24

    /// The file's name for `rank`.
    package static func name(rank: Int) -> String { "rank.\(rank).trace" }

    /// `trace` as the file's text.
    package static func encode(_ trace: RankTrace) -> String {
        var text = magic + "\n"
        text += "rank \(trace.rank) size \(trace.size) started \(trace.started) ended \(trace.ended) dropped \(trace.dropped) "
        text += "offset \(trace.clockOffset) uncertainty \(trace.clockUncertainty) host \(clean(trace.host))\n"
        text.reserveCapacity(text.utf8.count + trace.events.count * 48)
        for event in trace.events {
            text +=
                "\(event.kind.rawValue)\t\(clean(event.name))\t\(event.context)\t\(event.peer)\t\(event.tag)\t\(event.bytes)\t\(event.start)\t\(event.end)\n"
        }
        return text
    }

    /// Reads a trace file's text.
    package static func decode(_ text: String) throws(TraceFileError) -> RankTrace {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)[...]
        if lines.last == "" { lines = lines.dropLast() }
        guard lines.first == Substring(magic) else { throw TraceFileError(line: 1, "not a SwiftMPI trace (expected '\(magic)')") }
        guard lines.count >= 2 else { throw TraceFileError(line: 2, "the rank line is missing") }
        let header = lines[lines.startIndex + 1].split(separator: " ", maxSplits: 15, omittingEmptySubsequences: false)
        let keys = ["rank", "size", "started", "ended", "dropped", "offset", "uncertainty", "host"]
        guard header.count == 2 * keys.count else {
            throw TraceFileError(line: 2, "expected '\(keys.map { "\($0) VALUE" }.joined(separator: " "))'")
        }
        var values: [Substring] = []
        for (index, key) in keys.enumerated() {
            guard header[2 * index] == Substring(key) else { throw TraceFileError(line: 2, "expected '\(key)' as word \(2 * index + 1)") }
            values.append(header[2 * index + 1])
        }
        func number<N: FixedWidthInteger>(_ index: Int, _ type: N.Type) throws(TraceFileError) -> N {
            guard let value = N(values[index]) else { throw TraceFileError(line: 2, "'\(keys[index])' is not a number: '\(values[index])'") }
            return value
        }
        var trace = RankTrace(
            rank: try number(0, Int.self), size: try number(1, Int.self), host: String(values[7]), started: try number(2, UInt64.self),
            ended: try number(3, UInt64.self), dropped: try number(4, Int.self), clockOffset: try number(5, Int64.self),
            clockUncertainty: try number(6, UInt64.self))
        guard trace.size >= 1, trace.size <= maximumRanks, (0..<trace.size).contains(trace.rank), trace.dropped >= 0 else {
            throw TraceFileError(line: 2, "rank \(trace.rank) of \(trace.size) ranks (dropped \(trace.dropped)) is impossible")
        }
        guard trace.started <= maximumTime, trace.ended <= maximumTime, trace.clockOffset.magnitude <= maximumTime,
            trace.clockUncertainty <= maximumTime
        else { throw TraceFileError(line: 2, "times beyond \(maximumTime) ns (73 years) are impossible") }
        trace.events.reserveCapacity(lines.count - 2)
        for (offset, line) in lines.dropFirst(2).enumerated() {
            trace.events.append(try event(line, number: offset + 3))
        }
        return trace
    }

    private static func event(_ line: Substring, number: Int) throws(TraceFileError) -> TraceEvent {
        let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
        guard fields.count == 8 else { throw TraceFileError(line: number, "expected 8 tab-separated fields, found \(fields.count)") }
        guard let kind = TraceEvent.Kind(rawValue: String(fields[0])) else {
            throw TraceFileError(line: number, "unknown event kind '\(fields[0])'")
        }
        guard let context = UInt32(fields[2]), let peer = Int(fields[3]), let tag = Int(fields[4]), let bytes = Int(fields[5]),
            let start = UInt64(fields[6]), let end = UInt64(fields[7]), bytes >= 0, end >= start, end <= maximumTime
        else { throw TraceFileError(line: number, "malformed numbers in '\(line)'") }
        return TraceEvent(kind, String(fields[1]), context: context, peer: peer, tag: tag, bytes: bytes, start: start, end: end)
    }

    private static func clean(_ text: String) -> String {
        guard text.contains(where: { $0 == "\t" || $0.isNewline }) else { return text }
        return String(text.map { $0 == "\t" || $0.isNewline ? " " : $0 })
    }
}

/// A trace file that cannot be read: the line (1-based) and what is wrong with it.
package struct TraceFileError: Error, Equatable, CustomStringConvertible {
    package let line: Int
    package let reason: String
    package init(line: Int, _ reason: String) {
        self.line = line
        self.reason = reason
    }
    package var description: String { "line \(line): \(reason)" }
}
