#if canImport(Glibc)
import Glibc
#endif
import SwiftMPITrace
import SwiftMPIWireup

/// Starting and ending the recorder (``Tracer``), aligning the ranks' clocks, and what the job's
/// events become: each rank's `rank.N.trace` in its trace directory, and on rank 0 the merged
/// `trace.json`, the printed profile and `profile.json` with its plots.
extension Runtime {
    /// Starts recording when the environment asks for it, after measuring this rank's clock against
    /// rank 0's (collective over the world: every rank of a traced job takes part).
    func startTracing() {
        guard let settings = Tracer.Settings.fromEnvironment() else { return }
        let tracer = Tracer(settings: settings, concurrent: threadLevel == .multiple)
        if let measured = synchronizeClocks() { tracer.clockOffsets.append(measured) }
        self.tracer = tracer
        engine.tracer = tracer
        Tracer.active = tracer
        Tracer.isRecording = true
    }

    /// Stops recording, measures the clocks again, writes this rank's trace file, and hands the
    /// events to rank 0, which merges them and writes or prints what was asked for. Called by the
    /// first step of `MPI.finalize()` on every rank. A failure to write is reported on stderr, never
    /// thrown: the program's own work is done.
    func finishTracing() {
        guard let tracer else { return }
        tracer.stop()
        Tracer.isRecording = false
        Tracer.active = nil
        self.tracer = nil
        engine.tracer = nil
        if let measured = synchronizeClocks() { tracer.clockOffsets.append(measured) }
        let trace = rankTrace(tracer)
        let text = TraceFile.encode(trace)
        if let directory = tracer.settings.directory { Self.write(text, to: directory, name: TraceFile.name(rank: rank)) }
        do {
            guard let traces = try gatherTraces(text) else { return }
            Self.publish(traces, settings: tracer.settings)
        } catch {
            report("rank \(rank) could not hand its trace to rank 0: \(error)")
        }
    }

    /// Every rank's trace file at rank 0, in rank order (nil elsewhere): point-to-point messages on
    /// the world's collective context with a tag no collective uses — each rank sends its length,
    /// then its text. (Not a gather: a collective here would be numbered apart from the program's
    /// own collectives on the world.) A rank's file that cannot be read is reported and left out.
    private func gatherTraces(_ text: String) throws -> [RankTrace]? {
        let channel = worldCommunicator.collectiveChannel
        let tag = MPI.tagUpperBound
        guard rank == 0 else {
            let bytes = Array(text.utf8)
            try channel.send([bytes.count], to: 0, tag: tag)
            try channel.send(bytes, to: 0, tag: tag)
            return nil
        }
        var traces: [RankTrace] = []
        for peer in 0..<size {
            var peerText = text
            if peer > 0 {
                var count = [0]
                _ = try channel.recv(into: &count, from: peer, tag: tag)
                var bytes = [UInt8](repeating: 0, count: max(0, count[0]))
                _ = try channel.recv(into: &bytes, from: peer, tag: tag)
                peerText = String(decoding: bytes, as: UTF8.self)
            }
            do {
                traces.append(try TraceFile.decode(peerText))
            } catch {
                report("the trace of rank \(peer) cannot be read (\(error)); it is left out")
            }
        }
        return traces
    }

    /// Runs `body`, recorded as the call `call` (on no communicator) when the job is traced.
    @inline(__always)
    func traced<R>(_ call: StaticString, _ body: () throws -> R) rethrows -> R {
        guard Tracer.isRecording, let tracer else { return try body() }
        return try tracer.call(call, context: TraceEvent.noCommunicator, peer: -1, tag: -1, bytes: 0, body)
    }

    /// What `MPI.abort` leaves: this rank's events so far in its trace file.
    func abandonTracing() {
        guard let tracer, let directory = tracer.settings.directory else { return }
        tracer.stop()
        Self.write(TraceFile.encode(rankTrace(tracer)), to: directory, name: TraceFile.name(rank: rank))
    }

    private func rankTrace(_ tracer: Tracer) -> RankTrace {
        tracer.rankTrace(rank: rank, size: size, host: MPI.processorName, transports: engine.routes.capabilities.map(\.name))
    }

    /// Rank 0's part: the merged trace, the profile on stdout, profile.json and the plots.
    private static func publish(_ traces: [RankTrace], settings: Tracer.Settings) {
        if let directory = settings.directory {
            write(PerfettoTrace.json(traces), to: directory, name: PerfettoTrace.fileName, mode: 0o644)
            write(TimelinePlot.svg(traces), to: directory, name: TimelinePlot.fileName, mode: 0o644)
        }
        guard settings.printsProfile || settings.profileDirectory != nil else { return }
        let profile = Profile(traces)
        if settings.printsProfile {
            fflush(nil)
            print(profile.text, terminator: "")
            fflush(nil)
        }
        if let directory = settings.profileDirectory {
            write(profile.json, to: directory, name: "profile.json", mode: 0o644)
            for plot in profile.plots { write(plot.svg, to: directory, name: plot.name, mode: 0o644) }
        }
    }

    /// Writes `text` to `directory/name` with `mode` (rank files: private to the user; the merged
    /// trace, profile and plots: readable by all); the directory is made when missing.
    private static func write(_ text: String, to directory: String, name: String, mode: mode_t = 0o600) {
        do {
            _ = try systemCall("mkdir") { mkdir(directory, 0o755) }
        } catch let error where error.code != EEXIST {
            report("cannot make the trace directory \(directory): \(SystemError.describe(error.code))")
            return
        } catch {}  // it exists
        let path = directory + "/" + name
        let failure = TraceFile.write(text, to: path, mode: mode)
        if failure != 0 { report("cannot write \(path): \(SystemError.describe(failure))") }
    }

    /// Measures rank 0's clock minus this rank's (0 on rank 0's host, which shares its clock): for
    /// each rank on another host in turn, rank 0 exchanges timestamps with it and keeps the
    /// exchange with the shortest round trip (offset = the midpoint of rank 0's send and receive
    /// minus the rank's time; uncertainty = half that round trip), then tells the rank. At least 8
    /// exchanges, and up to 64 until one round trip is under 100 µs (on a busy or oversubscribed
    /// host one in several is). Collective over the world; messages on the world's collective
    /// context with a tag no collective uses. Nil when the exchange fails (the trace then assumes
    /// one clock for that rank).
    private func synchronizeClocks() -> (offset: Int64, uncertainty: UInt64)? {
        guard size > 1 else { return (0, 0) }
        // Rank 0 reads every rank's host; the others only look at the ranks of their own.
        if rank != 0 && engine.ranksOnThisHost.contains(0) { return (0, 0) }
        let hosts = rank == 0 ? hostMap().ofRank : []
        let sharesClock = { (peer: Int) in hosts.count == self.size && hosts[peer] == hosts[0] }
        let channel = worldCommunicator.collectiveChannel
        let tag = MPI.tagUpperBound
        // Rank 0's messages: [0, time] asks for the rank's time; [1, offset, uncertainty] ends.
        var message: [UInt64] = [0, 0, 0]
        do {
            guard rank == 0 else {
                while true {
                    _ = try channel.recv(into: &message, from: 0, tag: tag)
                    if message[0] == 1 { return (Int64(bitPattern: message[1]), message[2]) }
                    try channel.send([Tracer.now()], to: 0, tag: tag)
                }
            }
            for peer in 1..<size where !sharesClock(peer) {
                // Every rank waiting for its turn gets its ending message, also after a failure
                // with another one (else it would wait forever here).
                var best: (roundTrip: UInt64, offset: Int64) = (.max, 0)
                var rounds = 0
                do {
                    while rounds < 8 || (rounds < 64 && best.roundTrip > 100_000) {
                        let sent = Tracer.now()
                        try channel.send([0, sent], to: peer, tag: tag)
                        _ = try channel.recv(into: &message, from: peer, tag: tag)
                        let received = Tracer.now()
                        if received - sent < best.roundTrip {
                            best = (received - sent, Int64(bitPattern: sent / 2 + received / 2) &- Int64(bitPattern: message[0]))
                        }
                        rounds += 1
                    }
                } catch {
                    report("rank 0 could not measure the clock of rank \(peer): \(error); its trace assumes rank 0's clock, ± 1 s")
                    best = (2_000_000_000, 0)
                }
                if debug {
                    report("rank 0: the clock of rank \(peer) is \(best.offset) ns behind, ± \(best.roundTrip / 2) ns (best of \(rounds) round trips)")
                }
                try? channel.send([1, UInt64(bitPattern: best.offset), best.roundTrip / 2], to: peer, tag: tag)
            }
            return (0, 0)
        } catch {
            report("rank \(rank) could not measure its clock against rank 0's: \(error)")
            return nil
        }
    }

}
