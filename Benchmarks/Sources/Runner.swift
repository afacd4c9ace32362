#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import SwiftMPI

/// Runs one benchmark over every size and prints OSU-style rows (or JSON lines) on rank 0.
final class BenchRunner {
    let world: Communicator
    let options: BenchOptions
    /// A private communicator for the barriers between sizes.
    let control: Communicator
    let sendBuffer: UnsafeMutableBufferPointer<UInt8>
    let receiveBuffer: UnsafeMutableBufferPointer<UInt8>
    let windowBuffers: UnsafeMutableBufferPointer<UInt8>

    init(world: Communicator, options: BenchOptions) throws {
        self.world = world
        self.options = options
        control = try world.dup()
        let bytes = max(options.maxSize, 1)
        // Page-aligned, as OSU allocates them (posix_memalign to the page size).
        func pageAligned() -> UnsafeMutableBufferPointer<UInt8> {
            UnsafeMutableRawBufferPointer.allocate(byteCount: bytes, alignment: Int(sysconf(Int32(_SC_PAGESIZE))))
                .bindMemory(to: UInt8.self)
        }
        sendBuffer = pageAligned()
        receiveBuffer = pageAligned()
        // bw and bibw receive every message of a window into one buffer, as OSU does.
        windowBuffers = pageAligned()
        // Touch every page before timing.
        sendBuffer.initialize(repeating: 0x61)
        receiveBuffer.initialize(repeating: 0x62)
        windowBuffers.initialize(repeating: 0x63)
    }

    func run(_ benchmark: Benchmark) throws {
        if world.rank == 0 && !options.json {
            print("# SwiftMPI OSU-style MPI \(benchmark.title) (swiftmpi-bench)")
            if let datatype = options.datatype { print("# Datatype: \(datatype)") }
            let transmit = options.datatype == nil ? "" : "     Transmit Size"
            switch benchmark {
            case .latency, .multiLatency: print("# Size          Latency (us)" + transmit)
            case .putLatency, .getLatency, .accLatency, .fopLatency, .casLatency, .getAccLatency, .putBW, .getBW, .putBiBW:
                let creation = ["create": "MPI_Win_create", "dynamic": "MPI_Win_create_dynamic"][options.windowCreation] ?? "MPI_Win_allocate"
                print("# Window creation: \(creation)")
                let sync = [
                    "flush": "MPI_Win_flush", "flush_local": "MPI_Win_flush_local", "lock": "MPI_Win_lock/unlock",
                    "lock_all": "MPI_Win_lock_all/unlock_all", "pscw": "Post/Start/Complete/Wait", "fence": "MPI_Win_fence"
                ][options.synchronization, default: options.synchronization]
                print("# Synchronization: \(sync)")
                print(benchmark.isBandwidth ? "# Size      Bandwidth (MB/s)" : "# Size          Latency (us)")
            case .bw, .bibw: print("# Size      Bandwidth (MB/s)" + transmit)
            case .mbwMR: print("# [ pairs: \(world.size / 2) ] [ window size: \(options.window) ]\n# Size                  MB/s        Messages/s" + transmit)
            case .barrier: print("# Avg Latency(us)")
            case .ibarrier:
                print("# Overall = Coll. Init + Compute + MPI_Test + MPI_Wait\n")
                let columns: [String] = ["Compute(us)", "Pure Comm.(us)", "Overlap(%)"].map { padded($0, 18) }
                print("# Overall(us)" + columns.joined())
            case _ where benchmark.isNonblockingCollective:
                print("# Overall = Coll. Init + Compute + MPI_Test + MPI_Wait\n")
                let columns: [String] = ["Overall(us)", "Compute(us)", "Pure Comm.(us)", "Overlap(%)"].map { padded($0, 18) }
                print("# Size    " + columns.joined())
            case .ioWrite, .ioRead:
                let form = options.posix ? "pwrite/pread (no MPI-IO)" : options.collective ? "collective (writeAll/readAll)" : "independent (write/read)"
                let pattern = options.pattern == "strided" ? "strided, \(options.block)-byte blocks interleaved" : "contiguous blocks"
                print("# [ ranks: \(world.size) ] \(form), \(pattern), in \(options.directory)\(options.sync ? ", fsync timed" : "")")
                print("# Size      Bandwidth (MB/s)")
            case .halo: print("# N             Latency (us)     Transmit Size")
            default: print("# Size       Avg Latency(us)")
            }
        }
        if benchmark == .halo { return try haloExchanges() }
        if benchmark.isFileIO { return try fileIO(benchmark) }
        if benchmark.isOneSided { return try oneSided(benchmark) }
        for size in benchmark == .barrier || benchmark == .ibarrier ? [0] : options.sizes {
            let (iterations, warmup) = options.counts(for: size, benchmark: benchmark)
            try barrier()
            if benchmark.isNonblockingCollective {
                // As OSU: sizes with no element are skipped (bytes of Double for the reductions).
                guard benchmark == .ibarrier || size >= (benchmark.reduces ? 8 : 1) else { continue }
                let row = try nonblockingCollective(benchmark, size, iterations, warmup)
                if world.rank == 0 { report(benchmark, size: size, row: row) }
                continue
            }
            let result: (value: Double, rate: Double?)
            switch benchmark {
            case .latency, .multiLatency, .bw, .bibw, .mbwMR:
                // Typed and plain messages each get their own specialized loop: the loops then pass
                // a datatype without unwrapping an optional per message (which retains it).
                if options.awaited {
                    result = (try awaitedLatency(size, iterations, warmup), nil)
                } else if options.owned {
                    result = try ownedMessageRate(size, iterations, warmup)
                } else if options.spans {
                    result = (try spanLatency(size, iterations, warmup), nil)
                } else if let type = try messageType(size) {
                    result = try pointToPoint(benchmark, TypedMessages(world: world, type: type), size, iterations, warmup)
                } else {
                    result = try pointToPoint(benchmark, PlainMessages(world: world), size, iterations, warmup)
                }
            default: result = (try collective(benchmark, size, iterations, warmup), nil)
            }
            if world.rank == 0 { report(benchmark, size: size, result: result, transmitted: try messageType(size)?.size) }
            if world.rank == 0 && options.maxSize >= 1 << 20 && size >= 1 << 16 {
                let line = "swiftmpi-bench \(benchmark.rawValue): \(size) bytes done\n"
                _ = line.utf8CString.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress!, $0.count - 1) }
            }
        }
    }

    func report(_ benchmark: Benchmark, size: Int, result: (value: Double, rate: Double?), transmitted: Int? = nil) {
        let transmit = transmitted.map { padded("\($0)", 18) } ?? ""
        if options.json {
            let unit = benchmark.isBandwidth ? "MB/s" : "us"
            let rate = result.rate.map { ", \"messages_per_second\": \(format($0))" } ?? ""
            print(
                "{\"benchmark\": \"\(benchmark.rawValue)\", \"size\": \(size), \"value\": \(format(result.value)), \"unit\": \"\(unit)\"\(rate), \"ranks\": "
                    + "\(world.size)}"
            )
        } else if benchmark == .barrier {
            print(padded(format(result.value), 17))
        } else if let rate = result.rate {
            print(pad(size, 10) + padded(format(result.value), 18) + padded(format(rate), 18) + transmit)
        } else {
            print(pad(size, 10) + padded(format(result.value), 18) + transmit)
        }
    }

    /// A non-blocking collective's row, as OSU prints it (JSON: the overall time, with the others).
    func report(_ benchmark: Benchmark, size: Int, row: OverlapRow) {
        if options.json {
            print(
                "{\"benchmark\": \"\(benchmark.rawValue)\", \"size\": \(size), \"value\": \(format(row.overall)), \"unit\": \"us\", "
                    + "\"compute_us\": \(format(row.compute)), \"pure_us\": \(format(row.pure)), \"overlap_percent\": \(format(row.overlap)), "
                    + "\"ranks\": \(world.size)}")
            return
        }
        let columns = padded(format(row.compute), 18) + padded(format(row.pure), 18) + padded(format(row.overlap), 18)
        print((benchmark == .ibarrier ? padded(format(row.overall), 13) : pad(size, 10) + padded(format(row.overall), 18)) + columns)
    }

    // MARK: - Benchmarks

    /// osu_latency / osu_multi_lat: ranks pair up (0↔1, 2↔3 for multi-lat: first half ↔ second half);
    /// one-way latency in µs, averaged over the pairs for multi-lat.
    private func pointToPoint<M: Messages>(_ benchmark: Benchmark, _ messages: M, _ size: Int, _ iterations: Int, _ warmup: Int) throws -> (Double, Double?) {
        switch benchmark {
        case .bw: (try bandwidth(messages, size, iterations, warmup, bidirectional: false), nil)
        case .bibw: (try bandwidth(messages, size, iterations, warmup, bidirectional: true), nil)
        case .mbwMR: try messageRate(messages, size, iterations, warmup)
        default: (try latency(messages, size, iterations, warmup), nil)
        }
    }

    private func latency<M: Messages>(_ messages: M, _ size: Int, _ iterations: Int, _ warmup: Int) throws -> Double {
        let half = world.size / 2
        let partner = world.rank < half ? world.rank + half : world.rank - half
        let sender = world.rank < half
        let outgoing = UnsafeBufferPointer(rebasing: sendBuffer[0..<size])
        let incoming = UnsafeMutableBufferPointer(rebasing: receiveBuffer[0..<size])
        var start = 0.0
        for i in 0..<(iterations + warmup) {
            if i == warmup { start = MPI.wtime() }
            if sender {
                try messages.send(outgoing, to: partner, tag: 1)
                try messages.receive(incoming, from: partner, tag: 1)
            } else {
                try messages.receive(incoming, from: partner, tag: 1)
                try messages.send(outgoing, to: partner, tag: 1)
            }
        }
        let oneWay = (MPI.wtime() - start) * 1e6 / Double(2 * iterations)
        return try averageOverRanks(oneWay)
    }

    /// ``latency(_:_:_:_:)`` with spans of arrays: `send(_: Span)` and `recv(into: &MutableSpan)`.
    private func spanLatency(_ size: Int, _ iterations: Int, _ warmup: Int) throws -> Double {
        let half = world.size / 2
        let partner = world.rank < half ? world.rank + half : world.rank - half
        let sender = world.rank < half
        let outgoing = [UInt8](repeating: 0x61, count: size)
        var incoming = [UInt8](repeating: 0x62, count: size)
        var start = 0.0
        let span = outgoing.span
        var target = incoming.mutableSpan
        for i in 0..<(iterations + warmup) {
            if i == warmup { start = MPI.wtime() }
            if sender {
                try world.send(span, to: partner, tag: 1)
                try world.recv(into: &target, from: partner, tag: 1)
            } else {
                try world.recv(into: &target, from: partner, tag: 1)
                try world.send(span, to: partner, tag: 1)
            }
        }
        let oneWay = (MPI.wtime() - start) * 1e6 / Double(2 * iterations)
        return try averageOverRanks(oneWay)
    }

    /// ``latency(_:_:_:_:)`` through `await`: each send and receive is a request that a task
    /// awaits (the main thread blocks until the task is done; only the task calls SwiftMPI).
    private func awaitedLatency(_ size: Int, _ iterations: Int, _ warmup: Int) throws -> Double {
        let half = world.size / 2
        let partner = world.rank < half ? world.rank + half : world.rank - half
        let sender = world.rank < half
        // Sendable: the buffers outlive the task (the main thread waits for it) and only it uses them.
        struct Buffers: @unchecked Sendable {
            let outgoing: UnsafeBufferPointer<UInt8>
            let incoming: UnsafeMutableBufferPointer<UInt8>
        }
        let buffers = Buffers(
            outgoing: UnsafeBufferPointer(rebasing: sendBuffer[0..<size]), incoming: UnsafeMutableBufferPointer(rebasing: receiveBuffer[0..<size]))
        let world = world
        let outcome = TaskOutcome()
        Task.detached {
            let (outgoing, incoming) = (buffers.outgoing, buffers.incoming)
            do {
                var start = 0.0
                for i in 0..<(iterations + warmup) {
                    if i == warmup { start = MPI.wtime() }
                    if sender {
                        _ = try await world.isend(outgoing, to: partner, tag: 1).value
                        _ = try await world.irecv(into: incoming, from: partner, tag: 1).value
                    } else {
                        _ = try await world.irecv(into: incoming, from: partner, tag: 1).value
                        _ = try await world.isend(outgoing, to: partner, tag: 1).value
                    }
                }
                outcome.finish(.success((MPI.wtime() - start) * 1e6 / Double(2 * iterations)))
            } catch {
                outcome.finish(.failure(error))
            }
        }
        return try averageOverRanks(try outcome.wait())
    }

    /// osu_bw / osu_bibw: windows of `-W` nonblocking messages, then a 4-byte acknowledgement.
    private func bandwidth<M: Messages>(_ messages: M, _ size: Int, _ iterations: Int, _ warmup: Int, bidirectional: Bool) throws -> Double {
        let peer = 1 - world.rank
        let window = options.window
        var requests: [Request] = []
        requests.reserveCapacity(2 * window)
        let outgoing = UnsafeBufferPointer(rebasing: sendBuffer[0..<size])
        let incoming = UnsafeMutableBufferPointer(rebasing: windowBuffers[0..<size])
        let ack = UnsafeMutableBufferPointer(rebasing: receiveBuffer[0..<min(4, receiveBuffer.count)])
        var start = 0.0
        for i in 0..<(iterations + warmup) {
            if i == warmup { start = MPI.wtime() }
            requests.removeAll(keepingCapacity: true)
            if world.rank == 0 || bidirectional {
                if bidirectional {
                    for _ in 0..<window { requests.append(try messages.startReceive(incoming, from: peer, tag: 10)) }
                }
                for _ in 0..<window { requests.append(try messages.startSend(outgoing, to: peer, tag: 10)) }
                try Request.waitAll(requests)
                if !bidirectional { try world.recv(into: ack, from: peer, tag: 11) }
            } else {
                for _ in 0..<window { requests.append(try messages.startReceive(incoming, from: peer, tag: 10)) }
                try Request.waitAll(requests)
                try world.send(UnsafeBufferPointer(ack), to: peer, tag: 11)
            }
        }
        let elapsed = MPI.wtime() - start
        let bytes = Double(messages.transmitted(size)) * Double(iterations * window) * (bidirectional ? 2 : 1)
        return bytes / 1e6 / elapsed
    }

    /// osu_mbw_mr: the first half of the ranks stream windows to the second half; aggregate MB/s and
    /// messages/s over all pairs.
    private func messageRate<M: Messages>(_ messages: M, _ size: Int, _ iterations: Int, _ warmup: Int) throws -> (Double, Double?) {
        let half = world.size / 2
        let sender = world.rank < half
        let partner = sender ? world.rank + half : world.rank - half
        let window = options.window
        var requests: [Request] = []
        requests.reserveCapacity(window)
        let outgoing = UnsafeBufferPointer(rebasing: sendBuffer[0..<size])
        let incoming = UnsafeMutableBufferPointer(rebasing: windowBuffers[0..<size])
        let ack = UnsafeMutableBufferPointer(rebasing: receiveBuffer[0..<min(4, receiveBuffer.count)])
        var start = 0.0
        for i in 0..<(iterations + warmup) {
            if i == warmup { start = MPI.wtime() }
            requests.removeAll(keepingCapacity: true)
            if sender {
                for _ in 0..<window { requests.append(try messages.startSend(outgoing, to: partner, tag: 20)) }
                try Request.waitAll(requests)
                try world.recv(into: ack, from: partner, tag: 21)
            } else {
                for _ in 0..<window { requests.append(try messages.startReceive(incoming, from: partner, tag: 20)) }
                try Request.waitAll(requests)
                try world.send(UnsafeBufferPointer(ack), to: partner, tag: 21)
            }
        }
        let elapsed = MPI.wtime() - start
        let pairRate = sender ? Double(iterations * window) / elapsed : 0
        let totalRate = try sumOverRanks(pairRate)
        return (totalRate * Double(messages.transmitted(size)) / 1e6, totalRate)
    }

    /// ``messageRate(_:_:_:_:)`` through the safe forms: the sender's requests keep one array
    /// alive; the receiver's arrays move into their requests and come back from `wait()`.
    private func ownedMessageRate(_ size: Int, _ iterations: Int, _ warmup: Int) throws -> (Double, Double?) {
        let half = world.size / 2
        let sender = world.rank < half
        let partner = sender ? world.rank + half : world.rank - half
        let window = options.window
        let outgoing = [UInt8](repeating: 0x61, count: size)
        var requests: [Request] = []
        var receives: [ReceiveRequest<UInt8>] = []
        requests.reserveCapacity(window)
        receives.reserveCapacity(window)
        // The receiver's arrays move into their requests and come back from wait(): reused.
        var arrays = (0..<window).map { _ in [UInt8](repeating: 0x62, count: size) }
        var ack: [UInt8] = [0, 0, 0, 0]
        var received = 0
        var start = 0.0
        for i in 0..<(iterations + warmup) {
            if i == warmup { start = MPI.wtime() }
            requests.removeAll(keepingCapacity: true)
            if sender {
                for _ in 0..<window { requests.append(try world.isend(outgoing, to: partner, tag: 20)) }
                try Request.waitAll(requests)
                try world.recv(into: &ack, from: partner, tag: 21)
            } else {
                for k in 0..<window {
                    // Taken out of `arrays` first, so the request holds the only reference: the
                    // storage moves into it instead of being copied.
                    var array: [UInt8] = []
                    swap(&array, &arrays[k])
                    receives.append(try world.irecv(into: consume array, from: partner, tag: 20))
                }
                for k in 0..<window {
                    let (values, status) = try receives[k].wait()
                    received &+= status.byteCount
                    arrays[k] = values
                }
                receives.removeAll(keepingCapacity: true)
                try world.send(ack, to: partner, tag: 21)
            }
        }
        let elapsed = MPI.wtime() - start
        precondition(sender || received == (iterations + warmup) * window * size)
        let pairRate = sender ? Double(iterations * window) / elapsed : 0
        let totalRate = try sumOverRanks(pairRate)
        return (totalRate * Double(size) / 1e6, totalRate)
    }

    // MARK: - Derived datatypes (-D) and the halo exchange

    /// The datatype one message of a `size`-byte buffer is under `-D` (built as OSU 7.4 builds it),
    /// or nil without `-D`.
    private func messageType(_ size: Int) throws -> Datatype? {
        let byte = Datatype(UInt8.self)
        switch options.datatype {
        case nil: return nil
        case .contiguous: return try .contiguous(count: size, of: byte)
        case .vector(let stride, let block): return try .vector(count: size / stride, blockLength: block, stride: stride, of: byte)
        case .indexed(let lengths, let displacements, _): return try .indexed(blockLengths: lengths, displacements: displacements, of: byte)
        }
    }

    /// The halo benchmark: two ranks swap one column of an N×N row-major grid of doubles (a vector
    /// datatype: N doubles, a row apart) with sendrecv — column 1 out, column 0 in — for N = 64, 512
    /// and 4096 (or the N given by `-m`'s MAX alone); µs per exchange, averaged over both ranks.
    /// OSU's iteration counts by the column's bytes.
    private func haloExchanges() throws {
        let peer = 1 - world.rank
        let sizes = options.maxSize == 1 << 22 ? [64, 512, 4096] : [options.maxSize]
        for n in sizes {
            var grid = [Double](repeating: Double(world.rank), count: n * n)
            let column = try Datatype.vector(count: n, blockLength: 1, stride: n, of: Datatype(Double.self))
            let (iterations, warmup) = options.counts(for: n * 8, benchmark: .latency)
            try barrier()
            var start = 0.0
            for i in 0..<(iterations + warmup) {
                if i == warmup { start = MPI.wtime() }
                try world.sendrecv(
                    within: &grid, sendingAt: 1, count: 1, datatype: column, to: peer, sendTag: 30,
                    receivingAt: 0, count: 1, datatype: column, from: peer, recvTag: 30)
            }
            let perExchange = try averageOverRanks((MPI.wtime() - start) * 1e6 / Double(iterations))
            guard grid[0] == Double(peer), grid[(n - 1) * n] == Double(peer), grid[1] == Double(world.rank) else {
                throw BenchError(description: "halo: the received column is wrong")
            }
            if world.rank == 0 { print(pad(n, 10) + padded(format(perExchange), 18) + padded("\(n * 8)", 18)) }
        }
    }

    // MARK: - Helpers on the private communicator

    func barrier() throws {
        var token: [UInt8] = [0]
        if control.rank == 0 {
            for _ in 1..<control.size { try control.recv(into: &token, from: MPI.anySource, tag: 0) }
            for peer in 1..<control.size { try control.send(token, to: peer, tag: 0) }
        } else {
            try control.send(token, to: 0, tag: 0)
            try control.recv(into: &token, from: 0, tag: 0)
        }
    }

    private func sumOverRanks(_ value: Double) throws -> Double {
        var total = value
        var incoming: [Double] = [0]
        if control.rank == 0 {
            for _ in 1..<control.size {
                try control.recv(into: &incoming, from: MPI.anySource, tag: 1)
                total += incoming[0]
            }
        } else {
            try control.send([value], to: 0, tag: 1)
        }
        return total
    }

    func averageOverRanks(_ value: Double) throws -> Double {
        try sumOverRanks(value) / Double(control.size)
    }
}

func format(_ value: Double) -> String {
    let scaled = (value * 100).rounded()
    let whole = Int(scaled / 100)
    let cents = Int(abs(scaled).truncatingRemainder(dividingBy: 100))
    return "\(whole).\(cents < 10 ? "0" : "")\(cents)"
}

func pad(_ value: Int, _ width: Int) -> String {
    let text = "\(value)"
    return text + String(repeating: " ", count: max(0, width - text.count))
}

func padded(_ text: String, _ width: Int) -> String {
    String(repeating: " ", count: max(0, width - text.count)) + text
}

/// How the point-to-point benchmarks send and receive one message: as plain bytes, or as one
/// instance of a datatype over the buffer (-D). Generic, so each loop is specialized for one.
protocol Messages {
    func send(_ buffer: UnsafeBufferPointer<UInt8>, to peer: Int, tag: Int) throws
    func receive(_ buffer: UnsafeMutableBufferPointer<UInt8>, from peer: Int, tag: Int) throws
    func startSend(_ buffer: UnsafeBufferPointer<UInt8>, to peer: Int, tag: Int) throws -> Request
    func startReceive(_ buffer: UnsafeMutableBufferPointer<UInt8>, from peer: Int, tag: Int) throws -> Request
    /// The bytes one message of a `size`-byte buffer transmits.
    func transmitted(_ size: Int) -> Int
}

struct PlainMessages: Messages {
    let world: Communicator
    func send(_ buffer: UnsafeBufferPointer<UInt8>, to peer: Int, tag: Int) throws { try world.send(buffer, to: peer, tag: tag) }
    func receive(_ buffer: UnsafeMutableBufferPointer<UInt8>, from peer: Int, tag: Int) throws { try world.recv(into: buffer, from: peer, tag: tag) }
    func startSend(_ buffer: UnsafeBufferPointer<UInt8>, to peer: Int, tag: Int) throws -> Request { try world.isend(buffer, to: peer, tag: tag) }
    func startReceive(_ buffer: UnsafeMutableBufferPointer<UInt8>, from peer: Int, tag: Int) throws -> Request {
        try world.irecv(into: buffer, from: peer, tag: tag)
    }
    func transmitted(_ size: Int) -> Int { size }
}

struct TypedMessages: Messages {
    let world: Communicator
    let type: Datatype
    func send(_ buffer: UnsafeBufferPointer<UInt8>, to peer: Int, tag: Int) throws {
        try world.send(buffer, count: 1, datatype: type, to: peer, tag: tag)
    }
    func receive(_ buffer: UnsafeMutableBufferPointer<UInt8>, from peer: Int, tag: Int) throws {
        try world.recv(into: buffer, count: 1, datatype: type, from: peer, tag: tag)
    }
    func startSend(_ buffer: UnsafeBufferPointer<UInt8>, to peer: Int, tag: Int) throws -> Request {
        try world.isend(buffer, count: 1, datatype: type, to: peer, tag: tag)
    }
    func startReceive(_ buffer: UnsafeMutableBufferPointer<UInt8>, from peer: Int, tag: Int) throws -> Request {
        try world.irecv(into: buffer, count: 1, datatype: type, from: peer, tag: tag)
    }
    func transmitted(_ size: Int) -> Int { type.size }
}

/// The result of a task the main thread blocks on. Sendable: `result` is written once before the
/// semaphore is signalled and read after it is waited on.
final class TaskOutcome: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var result: Result<Double, any Error>?
    func finish(_ result: Result<Double, any Error>) {
        self.result = result
        done.signal()
    }
    func wait() throws -> Double {
        done.wait()
        return try result!.get()
    }
}
