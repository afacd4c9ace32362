#if canImport(Glibc)
import Glibc
#endif

/// Collective access (the `…All` calls): two-phase collective buffering, as ROMIO does it.
///
/// The byte range all ranks touch is cut into one *file domain* per aggregator (``File/aggregators``;
/// boundaries at multiples of the file system's block size), and each domain into windows of
/// `cb_buffer_size` bytes handled one round at a time. In a round every rank sends each aggregator
/// the pieces of its data that fall into that aggregator's window (an `alltoallv` of descriptors and
/// data); the aggregator lays them into one buffer — reading the window's bytes first when the
/// pieces leave holes — and writes it with one `pwrite`. Reads run the other way: the aggregator
/// reads its window once and sends each rank its pieces. Memory per aggregator is one window, per
/// rank its own data; the file system sees few large accesses instead of many small interleaved ones.
///
/// With `romio_cb_write`/`romio_cb_read` `automatic` (the default), collective buffering is used
/// only when it pays: when some rank's data has holes in the file or the ranks' byte ranges
/// interleave. Contiguous per-rank blocks are written by each rank directly. Pieces of different
/// ranks that overlap (MPI leaves the result undefined) are laid in rank order.
extension File {
    /// A piece of this rank's data inside one aggregator window: where it goes in the file and where
    /// it is in the caller's buffer.
    private struct Piece {
        var fileOffset: Int
        var length: Int
        var memoryOffset: Int
    }

    /// The collective form of ``independent(_:_:at:_:)``: every rank calls it, `failure` set on a rank
    /// whose checks failed (it takes part with no data). Throws on every rank when any rank failed.
    func collectiveTransfer(
        _ direction: Direction, _ buffer: UnsafeMutableRawBufferPointer, at position: Int, failure: MPIError?, _ call: StaticString
    ) throws -> Int {
        let runs = buffer.count > 0 ? view.fileRuns(position..<(position + buffer.count)) : []
        let low = runs.first?.offset ?? Int.max
        let high = runs.last.map { $0.offset + $0.length } ?? Int.min
        let bounds = try communicator.allgather([low, high, runs.count])
        let toggle = direction == .write ? hints.collectiveWrite : hints.collectiveRead
        var local = failure
        var moved = 0
        if toggle == .enable || (toggle == .automatic && Self.interleaved(bounds)) {
            moved = try twoPhase(direction, buffer, runs, bounds, &local, call)
        } else if local == nil {
            do {
                moved = try independent(direction, buffer, at: position, call)
            } catch {
                local = error as? MPIError ?? MPIError(.io, "\(call)(\"\(path)\"): \(error)")
            }
        }
        try Self.agree(communicator, local)
        return moved
    }

    /// True when some rank's data has holes, or two ranks' byte ranges interleave.
    private static func interleaved(_ bounds: [Int]) -> Bool {
        var ranges: [Range<Int>] = []
        for rank in 0..<(bounds.count / 3) where bounds[3 * rank + 2] > 0 {
            if bounds[3 * rank + 2] > 1 { return true }
            ranges.append(bounds[3 * rank]..<bounds[3 * rank + 1])
        }
        ranges.sort { $0.lowerBound < $1.lowerBound }
        return zip(ranges, ranges.dropFirst()).contains { $0.upperBound > $1.lowerBound }
    }

    private func twoPhase(
        _ direction: Direction, _ buffer: UnsafeMutableRawBufferPointer, _ runs: [(offset: Int, length: Int)], _ bounds: [Int],
        _ failure: inout MPIError?, _ call: StaticString
    ) throws -> Int {
        let ranks = bounds.count / 3
        var low = Int.max
        var high = Int.min
        for rank in 0..<ranks where bounds[3 * rank + 2] > 0 {
            low = min(low, bounds[3 * rank])
            high = max(high, bounds[3 * rank + 1])
        }
        guard low < high else { return 0 }
        // File domains: one per aggregator, starting at a block boundary, a whole number of blocks long.
        let start = low / blockSize * blockSize
        let count = aggregators.count
        let domain = max(blockSize, ((high - start + count - 1) / count + blockSize - 1) / blockSize * blockSize)
        let window = min(hints.bufferSize, domain)
        let rounds = (domain + window - 1) / window
        // This rank's pieces, by round and aggregator.
        var cells = [[Piece]](repeating: [], count: rounds * count)
        var memory = 0
        for run in runs {
            var offset = run.offset
            let end = run.offset + run.length
            while offset < end {
                let aggregator = min(count - 1, (offset - start) / domain)
                let domainStart = start + aggregator * domain
                let round = (offset - domainStart) / window
                let cellEnd = min(end, domainStart + min(domain, (round + 1) * window))
                let length = cellEnd - offset
                cells[round * count + aggregator].append(Piece(fileOffset: offset, length: length, memoryOffset: memory))
                memory += length
                offset = cellEnd
            }
        }
        let myAggregator = aggregators.firstIndex(of: communicator.rank)
        var readPieces: [(memoryOffset: Int, length: Int, valid: Int)] = []
        for round in 0..<rounds {
            // Phase one: every rank's pieces (and data, when writing) to the aggregators.
            var outgoing: [UInt8] = []
            var sendCounts = [Int](repeating: 0, count: ranks)
            for aggregator in 0..<count {
                let pieces = cells[round * count + aggregator]
                guard !pieces.isEmpty else { continue }
                let before = outgoing.count
                Self.append(Int64(pieces.count), to: &outgoing)
                for piece in pieces {
                    Self.append(Int64(piece.fileOffset), to: &outgoing)
                    Self.append(Int64(piece.length), to: &outgoing)
                }
                if direction == .write {
                    for piece in pieces {
                        outgoing.append(contentsOf: UnsafeRawBufferPointer(start: buffer.baseAddress! + piece.memoryOffset, count: piece.length))
                    }
                }
                sendCounts[aggregators[aggregator]] = outgoing.count - before
            }
            let receiveCounts = try communicator.alltoall(sendCounts)
            let incoming = try communicator.alltoallv(outgoing, sendCounts: sendCounts, receiveCounts: receiveCounts)
            // Phase two: the aggregator's file-system access, and for reads the data back.
            var replies: [[UInt8]] = []
            if myAggregator != nil {
                let requests = Self.parse(incoming, receiveCounts, withData: direction == .write)
                if failure == nil {
                    do {
                        replies = try serve(direction, requests, incoming, call)
                    } catch {
                        failure = error as? MPIError ?? MPIError(.io, "\(call)(\"\(path)\"): \(error)")
                    }
                }
                if direction == .read && replies.isEmpty {  // failed: empty replies keep the exchange matched
                    replies = requests.map { request in
                        var reply: [UInt8] = []
                        for _ in request.pieces { Self.append(Int64(0), to: &reply) }
                        return reply
                    }
                }
            }
            guard direction == .read else { continue }
            var back: [UInt8] = []
            var backCounts = [Int](repeating: 0, count: ranks)
            for (source, reply) in replies.enumerated() {
                back += reply
                backCounts[source] = reply.count
            }
            let expected = try communicator.alltoall(backCounts)
            let data = try communicator.alltoallv(back, sendCounts: backCounts, receiveCounts: expected)
            // Each aggregator's reply: per piece its valid byte count, then the bytes.
            var cursor = 0
            for aggregator in 0..<count {
                for piece in cells[round * count + aggregator] {
                    let valid = Int(Self.load(data, at: &cursor))
                    if valid > 0 {
                        data.withUnsafeBytes { bytes in
                            (buffer.baseAddress! + piece.memoryOffset).copyMemory(from: bytes.baseAddress! + cursor, byteCount: valid)
                        }
                    }
                    cursor += valid
                    readPieces.append((piece.memoryOffset, piece.length, valid))
                }
            }
        }
        guard direction == .read else { return buffer.count }
        // Bytes read: up to the first piece the end of the file cut short.
        var moved = 0
        for piece in readPieces.sorted(by: { $0.memoryOffset < $1.memoryOffset }) {
            moved += piece.valid
            if piece.valid < piece.length { break }
        }
        return moved
    }

    /// One source rank's requests in an aggregator's round: its pieces, and where their data starts
    /// in the received bytes (writes).
    private struct Request {
        var pieces: [(offset: Int, length: Int)] = []
        var data = 0
    }

    private static func parse(_ incoming: [UInt8], _ counts: [Int], withData: Bool) -> [Request] {
        var requests: [Request] = []
        var cursor = 0
        for count in counts {
            var request = Request()
            let end = cursor + count
            if count > 0 {
                let pieces = Int(load(incoming, at: &cursor))
                for _ in 0..<pieces {
                    let offset = Int(load(incoming, at: &cursor))
                    let length = Int(load(incoming, at: &cursor))
                    request.pieces.append((offset, length))
                }
                request.data = cursor
            }
            cursor = end
            requests.append(request)
        }
        return requests
    }

    /// The aggregator's part of a round: writes the pieces (read-modify-write where they leave
    /// holes), or reads the window and returns each source's reply.
    private func serve(_ direction: Direction, _ requests: [Request], _ incoming: [UInt8], _ call: StaticString) throws -> [[UInt8]] {
        var low = Int.max
        var high = Int.min
        var pieces: [(offset: Int, length: Int)] = []
        for request in requests {
            for piece in request.pieces {
                low = min(low, piece.offset)
                high = max(high, piece.offset + piece.length)
                pieces.append(piece)
            }
        }
        guard low < high else { return requests.map { _ in [] } }
        let span = high - low
        let window = UnsafeMutableRawBufferPointer.allocate(byteCount: span, alignment: 64)
        defer { window.deallocate() }
        let range = low..<high
        if atomicity { try lock(range, direction == .write ? F_WRLCK : F_RDLCK, call) }
        defer { if atomicity { try? lock(range, F_UNLCK, call) } }
        if direction == .write {
            pieces.sort { $0.offset < $1.offset }
            var covered = 0
            var reach = low
            for piece in pieces {
                covered += max(0, piece.offset + piece.length - max(reach, piece.offset))
                reach = max(reach, piece.offset + piece.length)
            }
            if covered < span {
                guard canReadBack else {  // write-only without read permission: each piece on its own
                    for request in requests {
                        var at = request.data
                        for piece in request.pieces {
                            try incoming.withUnsafeBytes { bytes in
                                _ = try direct(.write, piece, UnsafeMutableRawPointer(mutating: bytes.baseAddress! + at), call)
                            }
                            at += piece.length
                        }
                    }
                    return []
                }
                let available = try direct(.read, (low, span), window.baseAddress!, call)
                if available < span { memset(window.baseAddress! + available, 0, span - available) }
            }
            for request in requests {
                var at = request.data
                for piece in request.pieces {
                    incoming.withUnsafeBytes { bytes in
                        (window.baseAddress! + piece.offset - low).copyMemory(from: bytes.baseAddress! + at, byteCount: piece.length)
                    }
                    at += piece.length
                }
            }
            _ = try direct(.write, (low, span), window.baseAddress!, call)
            return []
        }
        let available = try direct(.read, (low, span), window.baseAddress!, call)
        return requests.map { request in
            var reply: [UInt8] = []
            for piece in request.pieces {
                let valid = max(0, min(piece.length, available - (piece.offset - low)))
                Self.append(Int64(valid), to: &reply)
                reply.append(contentsOf: UnsafeRawBufferPointer(start: window.baseAddress! + piece.offset - low, count: valid))
            }
            return reply
        }
    }

    private static func append(_ value: Int64, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    private static func load(_ bytes: [UInt8], at cursor: inout Int) -> Int64 {
        let value = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: cursor, as: Int64.self) }
        cursor += 8
        return Int64(littleEndian: value)
    }
}
