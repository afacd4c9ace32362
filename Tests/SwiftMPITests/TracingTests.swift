import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import SwiftMPI
import SwiftMPILauncherParsing
import SwiftMPITrace
import SwiftMPIWireup
import Testing

/// `swiftmpirun --trace`, `--profile` and `--profile-out` (docs/Tracing.md): the trace file format,
/// the pairing of messages, the profile's sums, and real jobs whose traffic is known exactly
/// (swiftmpi-testrank `traced`: per rank 3 × 64 B and 1 MiB around a ring, an allreduce of 32 B,
/// and a last rank that makes rank 0 wait 300 ms in `recv` before sending it 8 B).
@Suite("Tracing and profiles")
struct TracingTests {
    // MARK: - Files and pairing

    @Test("a trace file round-trips, names with tabs included, and a bad one names its line")
    func traceFileFormat() throws {
        let events = [
            TraceEvent(.call, "send", context: 0, peer: 1, tag: 7, bytes: 8, start: 10, end: 20),
            TraceEvent(.send, "eager over shm", context: 0, peer: 1, tag: 7, bytes: 8, start: 15, end: 15),
            TraceEvent(.region, "a\tregion", start: 30, end: 90)
        ]
        let trace = RankTrace(rank: 2, size: 4, host: "node one", started: 1, ended: 99, dropped: 3, clockOffset: -5, clockUncertainty: 2, events: events)
        var decoded = try TraceFile.decode(TraceFile.encode(trace))
        #expect(decoded.events[2].name == "a region")
        decoded.events[2].name = "a\tregion"
        #expect(decoded == trace)

        #expect(throws: TraceFileError(line: 1, "not a SwiftMPI trace (expected 'swiftmpi-trace 1')")) { try TraceFile.decode("hello\n") }
        let good = TraceFile.encode(trace)
        #expect(throws: TraceFileError.self) { try TraceFile.decode(good.replacingOccurrences(of: "size 4", with: "size x")) }
        let badLine = good + "C\tsend\t0\t1\n"
        #expect(throws: TraceFileError(line: 6, "expected 8 tab-separated fields, found 4")) { try TraceFile.decode(badLine) }
        let backwards = good + "C\tsend\t0\t1\t7\t8\t20\t10\n"
        #expect(throws: TraceFileError.self) { try TraceFile.decode(backwards) }
        #expect(throws: TraceFileError.self) { try TraceFile.decode(good.replacingOccurrences(of: "rank 2", with: "rank 9")) }
    }

    @Test("files that would overflow the merge, and two files of one rank, are refused or ignored, never a trap")
    func hostileFiles() throws {
        let good = RankTrace(rank: 0, size: 2, started: 1, ended: 2, events: [TraceEvent(.call, "send", peer: 1, tag: 0, start: 1, end: 2)])
        let text = TraceFile.encode(good)
        #expect(throws: TraceFileError.self) { try TraceFile.decode(text + "C\tsend\t0\t1\t0\t0\t1\t18446744073709551615\n") }
        #expect(throws: TraceFileError.self) { try TraceFile.decode(text.replacingOccurrences(of: "offset 0", with: "offset -9223372036854775808")) }
        #expect(throws: TraceFileError.self) { try TraceFile.decode(text.replacingOccurrences(of: "size 2", with: "size 99999999999")) }
        // Two traces claiming rank 0, one with more events than the other: the first is used.
        var other = good
        other.events += Array(repeating: TraceEvent(.send, "eager", peer: 1, tag: 0, start: 5, end: 5), count: 3)
        let receiver = RankTrace(rank: 1, size: 2, events: Array(repeating: TraceEvent(.receive, "eager", peer: 0, tag: 0, start: 6, end: 6), count: 3))
        #expect(MessageFlows([good, other, receiver]).flows.isEmpty)
        #expect(MessageFlows([other, good, receiver]).flows.count == 3)
        let json = PerfettoTrace.json([good, other, receiver])
        #expect(json.contains(#""ranks_traced":2"#))
        #expect(TimelinePlot.svg([other, good, receiver]).contains("<svg"))
        // Names reach the SVG as XML text: markup escaped, control characters (which XML cannot carry) as spaces.
        let named = RankTrace(rank: 0, size: 1, events: [TraceEvent(.region, "a<b&\u{1}c", start: 1, end: 2)])
        #expect(TimelinePlot.svg([named]).contains("region a&lt;b&amp; c"))
    }

    @Test("the k-th send of a (sender, receiver, communicator, tag) pairs with the k-th receive")
    func messagePairing() {
        func send(_ to: Int, tag: Int, _ bytes: Int, at time: UInt64) -> TraceEvent {
            TraceEvent(.send, "eager", peer: to, tag: tag, bytes: bytes, start: time, end: time)
        }
        func receive(_ from: Int, tag: Int, _ bytes: Int, at time: UInt64) -> TraceEvent {
            TraceEvent(.receive, "eager", peer: from, tag: tag, bytes: bytes, start: time, end: time)
        }
        // Rank 1 receives tag 2 before tag 1 (a receive by tag), and never receives the last send.
        let sender = RankTrace(
            rank: 0, size: 2, events: [send(1, tag: 1, 10, at: 1), send(1, tag: 2, 20, at: 2), send(1, tag: 1, 30, at: 3), send(1, tag: 1, 40, at: 4)])
        let receiver = RankTrace(rank: 1, size: 2, events: [receive(0, tag: 2, 20, at: 5), receive(0, tag: 1, 10, at: 6), receive(0, tag: 1, 30, at: 7)])
        let flows = MessageFlows([sender, receiver])
        #expect(flows.flows.map(\.sendEvent) == [0, 1, 2])
        #expect(flows.flows.map(\.receiveEvent) == [1, 0, 2])
        #expect(flows.flows.map(\.bytes) == [10, 20, 30])
        #expect(flows.unpairedSends == 1)
        #expect(flows.unpairedReceives == 0)
    }

    @Test("the profile sums calls per kind and rank, and counts messages per pair and size")
    func profileSums() {
        let rank0 = RankTrace(
            rank: 0, size: 2, started: 0, ended: 1000,
            events: [
                TraceEvent(.call, "recv", peer: 1, tag: 1, bytes: 8, start: 100, end: 400),
                TraceEvent(.receive, "eager", peer: 1, tag: 1, bytes: 8, start: 390, end: 390),
                TraceEvent(.call, "allreduce", context: 1, bytes: 16, start: 500, end: 600)
            ])
        let rank1 = RankTrace(
            rank: 1, size: 2, started: 0, ended: 2000,
            events: [
                TraceEvent(.region, "solve", start: 0, end: 1500),
                TraceEvent(.call, "send", peer: 0, tag: 1, bytes: 8, start: 380, end: 385),
                TraceEvent(.send, "eager", peer: 0, tag: 1, bytes: 8, start: 381, end: 381),
                TraceEvent(.send, "rendezvous", peer: 0, tag: 2, bytes: 100_000, start: 390, end: 390),
                TraceEvent(.call, "allreduce", context: 1, bytes: 16, start: 550, end: 600)
            ])
        let profile = Profile([rank1, rank0])
        #expect(profile.ranks == [0, 1])
        #expect(profile.calls.map(\.name) == ["solve", "recv", "allreduce", "send"])
        let allreduce = profile.calls[2]
        #expect(allreduce.count == 2 && allreduce.bytes == 32 && allreduce.timePerRank == [0: 100, 1: 50])
        #expect(profile.mpiTime == [0: 400, 1: 55])
        #expect(profile.wallTime == [0: 1000, 1: 2000])
        #expect(profile.bytes == [[0, 0], [100_008, 0]])
        #expect(profile.messages == [[0, 0], [2, 0]])
        #expect(profile.sizes.first { $0.upTo == 8 }?.count == 1)
        #expect(profile.sizes.first { $0.upTo == 262_144 }?.count == 1)
        #expect(profile.waitSites.first == Profile.WaitSite(rank: 0, call: "recv", communicator: "world", peer: 1, count: 1, time: 300))
        #expect(profile.text.contains("region solve"))
        #expect(profile.heatmapSVG.contains(#"data-sender="1" data-receiver="0" data-bytes="100008" data-messages="2""#))
    }

    // MARK: - Jobs

    /// Decodes `url` as JSON.
    private func json(_ url: URL) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    }

    @Test("a traced 4-rank job: a valid trace with every message a flow pair, and a profile that equals the known traffic")
    func tracedJob() throws {
        let directory = try TestRun.makeScratch("trace")
        let traceDirectory = directory.appendingPathComponent("t"), profileDirectory = directory.appendingPathComponent("p")
        let result = try JobRunner.ranks(
            4, ["traced"], launcherOptions: ["--trace", traceDirectory.path, "--profile", "--profile-out", profileDirectory.path])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("SwiftMPI profile: 4 of 4 ranks traced"), "stdout: \(result.stdout)")

        // The trace: valid JSON in the trace-event format, one process per rank, every message a flow.
        let trace = try json(traceDirectory.appendingPathComponent("trace.json"))
        let events = try #require(trace["traceEvents"] as? [[String: Any]])
        let names = events.filter { $0["ph"] as? String == "M" && $0["name"] as? String == "process_name" }.compactMap { $0["pid"] as? Int }
        #expect(names.sorted() == [0, 1, 2, 3])
        for event in events {
            let phase = try #require(event["ph"] as? String)
            #expect(["M", "X", "s", "f"].contains(phase))
            if phase == "X" {
                #expect((event["ts"] as? Double ?? -1) >= 0 && (event["dur"] as? Double ?? -1) >= 0, "\(event)")
            }
        }
        let starts = events.filter { $0["ph"] as? String == "s" }, ends = events.filter { $0["ph"] as? String == "f" }
        #expect(starts.count == 17 && ends.count == 17)  // 4 × (3 small + 1 large) + the late rank's one
        #expect(Set(starts.compactMap { $0["id"] as? Int }) == Set(ends.compactMap { $0["id"] as? Int }))
        // Each arrow joins a sender to its receiver: every message of this job goes from rank r to r + 1 (mod 4).
        let receivers = Dictionary(ends.compactMap { end in (end["id"] as? Int).map { ($0, end["pid"] as? Int ?? -1) } }, uniquingKeysWith: { a, _ in a })
        for start in starts {
            let id = try #require(start["id"] as? Int), sender = try #require(start["pid"] as? Int)
            #expect(receivers[id] == (sender + 1) % 4, "flow \(id) from rank \(sender) ends at \(String(describing: receivers[id]))")
        }
        let other = try #require(trace["otherData"] as? [String: Any])
        #expect(other["unpaired_sends"] as? Int == 0 && other["unpaired_receives"] as? Int == 0 && other["dropped_events"] as? Int == 0)
        // Each message event's partner: the message from rank r goes to r + 1 (or from rank 3 to rank 0, tag 9).
        let messages = events.filter { $0["cat"] as? String == "message" && $0["ph"] as? String == "X" }
        for message in messages {
            let pid = try #require(message["pid"] as? Int), arguments = try #require(message["args"] as? [String: Any])
            let peer = try #require(arguments["peer"] as? Int), tag = try #require(arguments["tag"] as? Int)
            let bytes = try #require(arguments["bytes"] as? Int)
            let sending = (message["name"] as? String)?.hasPrefix("to ") == true
            let (from, to) = sending ? (pid, peer) : (peer, pid)
            #expect((to == (from + 1) % 4 && [5, 6].contains(tag)) || (from == 3 && to == 0 && tag == 9), "\(message)")
            #expect(bytes == [5: 64, 6: 1 << 20, 9: 8][tag], "\(message)")
        }
        // The late rank: rank 0 waits in recv from rank 3 until after rank 3's 300 ms region ends (one
        // host, one clock: the message is sent after the region, so the receive cannot end before it).
        // (Not "at least 300 ms": rank 3 may leave the allreduce, and start its region, before rank 0 does.)
        let lateReceive = try #require(
            events.first { $0["pid"] as? Int == 0 && $0["name"] as? String == "recv" && ($0["args"] as? [String: Any])?["tag"] as? Int == 9 })
        let lateRegion = try #require(events.first { $0["pid"] as? Int == 3 && $0["name"] as? String == "late" && $0["cat"] as? String == "region" })
        func end(_ event: [String: Any]) -> Double { (event["ts"] as? Double ?? 0) + (event["dur"] as? Double ?? 0) }
        #expect(end(lateReceive) >= end(lateRegion), "\(lateReceive) \(lateRegion)")
        #expect((lateRegion["dur"] as? Double ?? 0) >= 300_000, "\(lateRegion)")

        // The profile: counts and bytes exactly as sent.
        let profile = try json(profileDirectory.appendingPathComponent("profile.json"))
        let calls = try #require(profile["calls"] as? [[String: Any]])
        func call(_ name: String) -> (count: Int, bytes: Int)? {
            calls.first { $0["name"] as? String == name && $0["region"] as? Bool == false }.map { ($0["count"] as? Int ?? -1, $0["bytes"] as? Int ?? -1) }
        }
        #expect(call("isend")! == (12, 12 * 64))
        #expect(call("recv")! == (13, 12 * 64 + 8))
        #expect(call("sendrecv")! == (4, 4 << 20))
        #expect(call("allreduce")! == (4, 4 * 32))
        #expect(call("send")! == (1, 8))
        let bytes = try #require(profile["bytes"] as? [[Int]]), counts = try #require(profile["messages"] as? [[Int]])
        for sender in 0..<4 {
            for receiver in 0..<4 {
                let ring = receiver == (sender + 1) % 4
                let late = sender == 3 && receiver == 0
                #expect(bytes[sender][receiver] == (ring ? 3 * 64 + (1 << 20) : 0) + (late ? 8 : 0))
                #expect(counts[sender][receiver] == (ring ? 4 : 0) + (late ? 1 : 0))
            }
        }
        let sites = try #require(profile["wait_sites"] as? [[String: Any]])
        #expect(sites.first?["rank"] as? Int == 0 && sites.first?["call"] as? String == "recv" && sites.first?["peer"] as? Int == 3)

        // The heatmap has the ring's cells, and the plots are SVG documents.
        let heatmap = try String(contentsOf: profileDirectory.appendingPathComponent("heatmap.svg"), encoding: .utf8)
        #expect(heatmap.contains(#"data-sender="3" data-receiver="0" data-bytes="1048776" data-messages="5""#))
        #expect(heatmap.contains(#"data-sender="0" data-receiver="1" data-bytes="1048768" data-messages="4""#))
        #expect(heatmap.contains(#"data-sender="0" data-receiver="2" data-bytes="0" data-messages="0""#))
        for plot in ["heatmap.svg", "calls.svg", "sizes.svg"] {
            let text = try String(contentsOf: profileDirectory.appendingPathComponent(plot), encoding: .utf8)
            #expect(text.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\"") && text.hasSuffix("</svg>\n"), "\(plot)")
            #expect(XMLParser(data: Data(text.utf8)).parse(), "\(plot) is not well-formed XML")
        }
    }

    @Test("a traced job that calls MPI.abort leaves a partial trace with the aborting rank's events")
    func abortedJob() throws {
        let directory = try TestRun.makeScratch("trace-abort")
        let result = try JobRunner.ranks(3, ["traced-abort"], launcherOptions: ["--trace", directory.path])
        #expect(result.status == 3, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("swiftmpirun: the job did not finish: partial trace of rank"), "stderr: \(result.stderr)")
        let trace = try json(directory.appendingPathComponent("trace.json"))
        let events = try #require(trace["traceEvents"] as? [[String: Any]])
        let rank1 = events.filter { $0["pid"] as? Int == 1 && $0["ph"] as? String == "X" }.compactMap { $0["name"] as? String }
        #expect(["isend", "recv", "sendrecv", "allreduce"].allSatisfy(rank1.contains), "\(rank1)")
    }

    @Test("without the options nothing is recorded or written; with a small buffer the excess is counted as dropped")
    func offAndBounded() throws {
        let plain = try JobRunner.ranks(2, ["traced"])
        #expect(plain.status == 0 && !plain.stdout.contains("SwiftMPI profile"), "\(plain.stdout)")
        let directory = try TestRun.makeScratch("trace-small")
        let small = try JobRunner.ranks(2, ["traced"], launcherOptions: ["--trace", directory.path, "--trace-buffer", "16", "--profile"])
        #expect(small.status == 0, "stderr: \(small.stderr)")
        #expect(small.stdout.contains("events were dropped by full trace rings"), "stdout: \(small.stdout)")
        let trace = try json(directory.appendingPathComponent("trace.json"))
        let other = try #require(trace["otherData"] as? [String: Any])
        #expect((other["dropped_events"] as? Int ?? 0) > 0)
        for rank in 0..<2 {
            let file = try String(contentsOf: directory.appendingPathComponent("rank.\(rank).trace"), encoding: .utf8)
            #expect(file.split(separator: "\n").count == 2 + 16)  // the two header lines and the 16 oldest events
        }
    }

    @Test("MPI.PerformanceVariable counts exactly the known traffic; MPI.ControlVariable reads and sets settings")
    func toolVariables() throws {
        let result = try JobRunner.ranks(2, ["tool-variables"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let common = "threshold integer(1000), read-only set invalidArgument, continuous start invalidArgument"
        #expect(result.stdout.contains("rank 0: sent 8 messages \(7 * 33 + 8) bytes, unexpected 0, \(common)"), "\(result.stdout)")
        #expect(result.stdout.contains("rank 1: sent 0 messages 0 bytes, unexpected 8, \(common)"), "\(result.stdout)")
        // Outside a job (no runtime here): the values the environment gives, and no changes.
        let threshold = try #require(MPI.ControlVariable.named("SWIFTMPI_SINGLE_COPY_THRESHOLD"))
        #expect(threshold.value == .integer(32768) && threshold.scope == .local && threshold.isInteger)
        #expect(throws: MPIError.self) { try threshold.set(.integer(1)) }
        #expect(MPI.ControlVariable.all.map(\.name) == ToolVariables.controls.map(\.name))
        #expect(MPI.PerformanceVariable.all.count == ToolVariables.performance.count)
        #expect(MPI.PerformanceVariable.named("swiftmpi_unexpected_queue_high_water")?.isReadOnly == true)
    }

    @Test("one-sided and file calls appear in the profile (swiftmpi-rma-check and swiftmpi-io-check at 2 ranks)")
    func oneSidedAndFiles() throws {
        let rma = try JobRunner.run(["-n", "2", "--profile", "swiftmpi-rma-check"])
        #expect(rma.status == 0, "stderr: \(rma.stderr)")
        for call in ["put", "get", "accumulate", "fetchAndOp", "compareAndSwap", "fence", "lock", "unlock", "flush"] {
            #expect(rma.stdout.contains("\n  \(call) "), "\(call) missing: \(rma.stdout)")
        }
        let io = try JobRunner.run(["-n", "2", "--profile", "swiftmpi-io-check", try TestRun.makeScratch("trace-io").path])
        #expect(io.status == 0, "stderr: \(io.stderr)")
        for call in ["File.write", "File.read", "File.writeAll", "File.readAll"] {
            #expect(io.stdout.contains("\n  \(call) "), "\(call) missing: \(io.stdout)")
        }
    }

    @Test("the launcher's trace options: parsed, and bad values refused with the option's name")
    func options() throws {
        let options = try LaunchOptions.parse(["--trace", "t", "--trace-buffer", "1000", "--profile", "--profile-out", "p", "-n", "2", "prog"])
        #expect(options.traceDirectory == "t" && options.traceBuffer == 1000 && options.profile && options.profileDirectory == "p")
        #expect(throws: LaunchError("--trace-buffer must be 16 to 67108864 events, got 3")) {
            try LaunchOptions.parse(["--trace-buffer", "3", "-n", "2", "prog"])
        }
        #expect(throws: LaunchError("--trace expects a directory, got '-n'")) { try LaunchOptions.parse(["--trace", "-n", "2", "prog"]) }
        #expect(throws: LaunchError("'--profile' takes no value")) { try LaunchOptions.parse(["--profile=yes", "-n", "2", "prog"]) }
        let orphan = try JobRunner.run(["--trace-buffer", "100", "-n", "1", "swiftmpi-testrank"])
        #expect(orphan.status == 2 && orphan.stderr.contains("--trace-buffer needs --trace, --profile or --profile-out"), "\(orphan.stderr)")
    }
}
