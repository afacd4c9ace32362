#if canImport(Glibc)
import Glibc
#endif

/// Collective access (the `…All` calls): two-phase collective buffering, as ROMIO does it.
///
/// The byte range all ranks touch is cut into one *file domain* per aggregator (``File/aggregators``;
/// boundaries at multiples of the file system's block size), and each domain into windows of
/// `cb_buffer_size` bytes handled one round at a time. First every rank tells each aggregator where
/// its pieces go (one `alltoallv` of (offset, length) pairs for all rounds). In a round, a rank's
/// pieces for one aggregator are one contiguous slice of its buffer (views never go backwards), sent
/// as plain bytes; the aggregator receives each rank's slice with an `hindexed` datatype that lays the
/// pieces straight into their places in its window buffer (one scattered single copy on one host),
/// reads the window first only when the pieces leave holes, and writes it with one `pwrite`. Reads
/// run the other way: the aggregator reads its window once and sends each rank its pieces with the
/// same datatype. Memory per aggregator is one window; the file system sees few large accesses
/// instead of many small interleaved ones.
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
        let covered = runs.isEmpty ? nil : Self.span(runs[...])
        let (low, high) = (covered?.lowerBound ?? Int.max, covered?.upperBound ?? Int.min)
        let bounds = try communicator.allgather([low, high, runs.count])
        let toggle = direction == .write ? hints.collectiveWrite : hints.collectiveRead
        var local = failure
        var moved = 0
        if !anyViewOverlaps && (toggle == .enable || (toggle == .automatic && Self.interleaved(bounds))) {
            moved = try twoPhase(direction, buffer, runs, bounds, at: position, &local, call)
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
        at position: Int, _ failure: inout MPIError?, _ call: StaticString
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
        func cell(_ offset: Int) -> (aggregator: Int, round: Int, end: Int) {
            let aggregator = min(count - 1, (offset - start) / domain)
            let domainStart = start + aggregator * domain
            let round = (offset - domainStart) / window
            return (aggregator, round, domainStart + min(domain, (round + 1) * window))
        }
        // This rank's pieces, by round and aggregator, each cell's a contiguous slice of the buffer.
        var cells = [[Piece]](repeating: [], count: rounds * count)
        var memory = 0
        for run in runs {
            var offset = run.offset
            let end = run.offset + run.length
            while offset < end {
                let (aggregator, round, cellEnd) = cell(offset)
                let length = min(end, cellEnd) - offset
                cells[round * count + aggregator].append(Piece(fileOffset: offset, length: length, memoryOffset: memory))
                memory += length
                offset += length
            }
        }
        // Where every rank's pieces go, for the aggregators: (offset, length) pairs, all rounds at once.
        var pairs: [Int] = []
        var pairCounts = [Int](repeating: 0, count: ranks)
        for aggregator in 0..<count {
            for round in 0..<rounds {
                for piece in cells[round * count + aggregator] { pairs += [piece.fileOffset, piece.length] }
            }
            pairCounts[aggregators[aggregator]] = pairs.count - pairCounts.reduce(0, +)
        }
        let expected = try communicator.alltoall(pairCounts)
        let incoming = try communicator.alltoallv(pairs, sendCounts: pairCounts, receiveCounts: expected)
        let myAggregator = aggregators.firstIndex(of: communicator.rank)
        // The aggregator's requests: per round, per source rank, the pieces in file order.
        var requests: [[[(offset: Int, length: Int)]]] = []
        if myAggregator != nil {
            requests = Array(repeating: Array(repeating: [], count: ranks), count: rounds)
            var cursor = 0
            for source in 0..<ranks {
                for _ in 0..<(expected[source] / 2) {
                    let piece = (offset: incoming[cursor], length: incoming[cursor + 1])
                    cursor += 2
                    requests[cell(piece.offset).round][source].append(piece)
                }
            }
        }
        let staging = myAggregator == nil ? UnsafeMutableRawBufferPointer(start: nil, count: 0) : aggregationBuffer(window)
        let byte = Datatype(UInt8.self)
        for round in 0..<rounds {
            var pending: [Request] = []
            // The aggregator's window this round: the span of the pieces it was sent.
            var span = 0..<0
            var layouts: [(source: Int, type: Datatype)] = []
            if myAggregator != nil {
                var first = Int.max
                var last = Int.min
                for pieces in requests[round] where !pieces.isEmpty {
                    first = min(first, pieces[0].offset)
                    last = max(last, pieces[pieces.count - 1].offset + pieces[pieces.count - 1].length)
                }
                if first < last { span = first..<last }
            }
            // Reads: the window first; each rank is then sent only what the file holds (a read that
            // meets the end of the file leaves the rest of the caller's buffer as it was).
            var available = span.count
            if direction == .read && !span.isEmpty {
                failure = failure ?? attempt(call) { available = try readWindow(span, into: staging, call) }
            }
            let me = communicator.rank
            for (source, pieces) in (myAggregator == nil ? [] : requests[round]).enumerated() where !pieces.isEmpty && source != me {
                var lengths: [Int] = []
                var displacements: [Int] = []
                for piece in pieces {
                    let at = piece.offset - span.lowerBound
                    let length = min(piece.length, available - at)
                    guard length > 0 else { break }
                    lengths.append(length)
                    displacements.append(at)
                }
                layouts.append((source, try Datatype.hindexed(blockLengths: lengths, displacementsBytes: displacements, of: byte)))
            }
            let target = UnsafeMutableBufferPointer<UInt8>(start: staging.baseAddress?.assumingMemoryBound(to: UInt8.self), count: span.count)
            for (source, type) in layouts {
                pending.append(
                    direction == .write
                        ? try communicator.irecv(into: target, count: 1, datatype: type, from: source, tag: Self.exchangeTag)
                        : try communicator.isend(UnsafeBufferPointer(target), count: 1, datatype: type, to: source, tag: Self.exchangeTag))
            }
            for aggregator in 0..<count {
                let pieces = cells[round * count + aggregator]
                guard let first = pieces.first, let last = pieces.last else { continue }
                if aggregator == myAggregator {  // its own pieces: one copy each way, no message
                    for piece in pieces {
                        let at = piece.fileOffset - span.lowerBound
                        let length = direction == .write ? piece.length : max(0, min(piece.length, available - at))
                        guard length > 0 else { break }
                        let mine = buffer.baseAddress! + piece.memoryOffset, window = staging.baseAddress! + at
                        if direction == .write { window.copyMemory(from: mine, byteCount: length) } else { mine.copyMemory(from: window, byteCount: length) }
                    }
                    continue
                }
                let slice = UnsafeMutableBufferPointer<UInt8>(
                    start: buffer.baseAddress!.assumingMemoryBound(to: UInt8.self) + first.memoryOffset,
                    count: last.memoryOffset + last.length - first.memoryOffset)
                pending.append(
                    direction == .write
                        ? try communicator.isend(UnsafeBufferPointer(slice), to: aggregators[aggregator], tag: Self.exchangeTag)
                        : try communicator.irecv(into: slice, from: aggregators[aggregator], tag: Self.exchangeTag))
            }
            _ = try Request.waitAll(pending)
            if direction == .write && !span.isEmpty {
                failure = failure ?? attempt(call) { try writeWindow(span, from: staging, requests[round], call) }
            }
        }
        guard direction == .read else { return buffer.count }
        // Bytes read: what the view holds before the end of the file, from this rank's position.
        let available = view.dataBytes(before: try size) - position
        return max(0, min(buffer.count, available))
    }

    /// The aggregator's window buffer, kept while the file is open (a new one per call cost a page
    /// fault per 4 KiB: a quarter of an 8 MiB collective write's time).
    private func aggregationBuffer(_ bytes: Int) -> UnsafeMutableRawBufferPointer {
        if let kept = aggregation, kept.count >= bytes { return kept }
        aggregation?.deallocate()
        let made = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes, alignment: 4096)
        aggregation = made
        return made
    }

    /// Tag of the aggregators' exchange on the file's private communicator.
    private static let exchangeTag = 1

    /// Runs `body`, turning what it throws into the rank's error.
    private func attempt(_ call: StaticString, _ body: () throws -> Void) -> MPIError? {
        do {
            try body()
            return nil
        } catch {
            return error as? MPIError ?? MPIError(.io, "\(call)(\"\(path)\"): \(error)")
        }
    }

    /// Reads the file bytes `span` into `staging`; returns how many the file had.
    private func readWindow(_ span: Range<Int>, into staging: UnsafeMutableRawBufferPointer, _ call: StaticString) throws -> Int {
        if atomicity { try lock(span, F_RDLCK, call) }
        defer { if atomicity { try? lock(span, F_UNLCK, call) } }
        return try direct(.read, (span.lowerBound, span.count), staging.baseAddress!, call)
    }

    /// Writes the window `span` from `staging`, where the received pieces now are. Where they leave
    /// holes the window's file bytes were needed first: the pieces are then written one by one when
    /// the file cannot be read back, else the holes are filled by reading the window before the
    /// pieces are laid over it (which the exchange has already done: so the read goes to a second
    /// buffer and only the holes are copied).
    private func writeWindow(
        _ span: Range<Int>, from staging: UnsafeMutableRawBufferPointer, _ requests: [[(offset: Int, length: Int)]], _ call: StaticString
    ) throws {
        if atomicity { try lock(span, F_WRLCK, call) }
        defer { if atomicity { try? lock(span, F_UNLCK, call) } }
        var pieces = requests.flatMap { $0 }
        pieces.sort { $0.offset < $1.offset }
        var holes: [Range<Int>] = []
        var reach = span.lowerBound
        for piece in pieces {
            if piece.offset > reach { holes.append(reach..<piece.offset) }
            reach = max(reach, piece.offset + piece.length)
        }
        if holes.isEmpty {
            _ = try direct(.write, (span.lowerBound, span.count), staging.baseAddress!, call)
            return
        }
        guard canReadBack else {
            for piece in pieces { _ = try direct(.write, piece, staging.baseAddress! + piece.offset - span.lowerBound, call) }
            return
        }
        let original = UnsafeMutableRawBufferPointer.allocate(byteCount: span.count, alignment: 4096)
        defer { original.deallocate() }
        let available = try direct(.read, (span.lowerBound, span.count), original.baseAddress!, call)
        if available < span.count { memset(original.baseAddress! + available, 0, span.count - available) }
        for hole in holes {
            let at = hole.lowerBound - span.lowerBound
            (staging.baseAddress! + at).copyMemory(from: original.baseAddress! + at, byteCount: hole.count)
        }
        _ = try direct(.write, (span.lowerBound, span.count), staging.baseAddress!, call)
    }
}
