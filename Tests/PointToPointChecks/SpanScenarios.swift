import SwiftMPI

/// A user's own grid type that lends its storage as spans: no `unsafe` anywhere.
struct Grid {
    var cells: [Double]
    let width: Int

    func withRow<R>(_ row: Int, _ body: (Span<Double>) throws -> R) rethrows -> R {
        try body(cells.span.extracting((row * width)..<((row + 1) * width)))
    }

    mutating func withMutableRow<R>(_ row: Int, _ body: (inout MutableSpan<Double>) throws -> R) rethrows -> R {
        let range = (row * width)..<((row + 1) * width)  // read before `cells` is borrowed mutably
        var all = cells.mutableSpan
        var part = all.extracting(range)
        return try body(&part)
    }
}

/// Spans in point-to-point calls: rows of a user's grid type sent and received in place (every
/// mode), bytes as a RawSpan, sendrecv between spans, and a receive into a span too short for the
/// message (`.truncate`, the span untouched).
func spanTransfers(_ world: Communicator) throws {
    guard world.size >= 2, world.rank < 2 else { return }
    let peer = 1 - world.rank
    let width = 5000
    var grid = Grid(cells: (0..<(4 * width)).map { Double($0) + Double(world.rank) * 0.5 }, width: width)
    if world.rank == 0 {
        try grid.withRow(0) { try world.send($0, to: peer, tag: 40) }
        try grid.withRow(1) { try world.ssend($0, to: peer, tag: 41) }
        let bytes: [UInt8] = [1, 2, 3, 4, 5]
        try world.send(bytes: bytes.span.bytes, to: peer, tag: 42)
        try world.send([Double](repeating: 7, count: 10), to: peer, tag: 43)
    } else {
        try grid.withMutableRow(2) { try world.recv(into: &$0, from: peer, tag: 40) }
        try grid.withMutableRow(3) { try world.recv(into: &$0, from: peer, tag: 41) }
        require(Array(grid.cells[(2 * width)..<(3 * width)]) == (0..<width).map { Double($0) }, "a row received into a span")
        require(Array(grid.cells[(3 * width)..<(4 * width)]) == (width..<(2 * width)).map { Double($0) }, "a row received by ssend")
        var bytes = [UInt8](repeating: 0, count: 5)
        var byteSpan = bytes.mutableSpan
        let status = try world.recv(into: &byteSpan, from: peer, tag: 42)
        _ = consume byteSpan
        require(bytes == [1, 2, 3, 4, 5] && status.byteCount == 5, "bytes from a RawSpan: \(bytes)")
        var short = [Double](repeating: -1, count: 4)
        var shortSpan = short.mutableSpan
        requireError(.truncate) { try world.recv(into: &shortSpan, from: peer, tag: 43) }
        _ = consume shortSpan
        require(short == [-1, -1, -1, -1], "a truncated receive left the span as it was: \(short)")
    }
    // sendrecv between spans, both ways at once.
    let outgoing = [Int32](repeating: Int32(world.rank + 10), count: 3000)
    var incoming = [Int32](repeating: 0, count: 3000)
    var incomingSpan = incoming.mutableSpan
    try world.sendrecv(outgoing.span, to: peer, sendTag: 44, into: &incomingSpan, from: peer, recvTag: 44)
    _ = consume incomingSpan
    require(incoming.allSatisfy { $0 == Int32(peer + 10) }, "sendrecv between spans")
    // An array moved into a receive comes back whole from wait(); a copy the caller kept is untouched.
    try world.send([Int32(world.rank), 2, 3], to: peer, tag: 45)
    let kept = [Int32](repeating: -1, count: 8)
    let moved = try world.irecv(into: kept, from: peer, tag: 45)
    var fresh = [Int32](repeating: -2, count: 4)
    let consumed = try world.irecv(into: consume fresh, from: peer, tag: 46)
    try world.send([Int32(7)], to: peer, tag: 46)
    let (values, status) = try moved.wait()
    require(values == [Int32(peer), 2, 3, -1, -1, -1, -1, -1] && status.count(of: Int32.self) == 3, "irecv(into: array): \(values)")
    require(kept == [Int32](repeating: -1, count: 8), "the caller's copy of a moved array was written into: \(kept)")
    fresh = try consumed.wait().0
    require(fresh == [7, -2, -2, -2], "irecv(into: consume array): \(fresh)")
    // Moved, not copied: the storage that went in comes back, and once the request is gone the
    // caller owns it alone again (changing it copies nothing: no reference was lost or kept).
    var owned = [UInt8](repeating: 0, count: 64)
    let address = owned.withUnsafeMutableBufferPointer { UInt(bitPattern: $0.baseAddress) }
    var back: [UInt8] = []
    do {
        let request = try world.irecv(into: consume owned, from: peer, tag: 47)
        try world.send([UInt8](repeating: 5, count: 64), to: peer, tag: 47)
        back = try request.wait().0
    }
    back[0] = 6
    let backAddress = back.withUnsafeMutableBufferPointer { UInt(bitPattern: $0.baseAddress) }
    require(backAddress == address, "irecv(into: consume array) copied the array (storage moved from \(address) to \(backAddress))")
    require(back.dropFirst().allSatisfy { $0 == 5 }, "irecv(into: consume array) of 64 bytes: \(back)")
}

/// Owned receives (`count:` and moved-in arrays) dropped before their messages arrive (eager,
/// rendezvous by single copy or fragments): the engine still writes into memory SwiftMPI owns, never into freed memory (CI runs
/// this under AddressSanitizer), and nothing else is touched.
func droppedReceives(_ world: Communicator) throws {
    guard world.size >= 2, world.rank < 2 else { return }
    let peer = 1 - world.rank
    let sizes = [16, 100_000, 1 << 20]
    if world.rank == 1 {
        for size in sizes { _ = try world.irecv(count: size, of: UInt8.self, from: peer, tag: 810) }  // dropped at once
        for size in sizes { _ = try world.irecv(into: [UInt8](repeating: 0, count: size), from: peer, tag: 810) }  // moved in, dropped
        // New arrays take the heap space the dropped buffers would have freed.
        let bystanders = (0..<48).map { _ in [UInt8](repeating: 0xEE, count: 1 << 16) }
        try world.send([UInt8(1)], to: peer, tag: 811)
        var marker: [UInt8] = [0]
        try world.recv(into: &marker, from: peer, tag: 812)  // after the dropped ones matched (one sender's order)
        require(marker == [2], "dropped-receives: marker \(marker)")
        require(bystanders.allSatisfy { $0.allSatisfy { $0 == 0xEE } }, "dropped-receives: another array was written into")
    } else {
        var token: [UInt8] = [0]
        try world.recv(into: &token, from: peer, tag: 811)
        for _ in 0..<2 {
            for size in sizes { try world.send([UInt8](repeating: 0x5A, count: size), to: peer, tag: 810) }
        }
        try world.send([UInt8(2)], to: peer, tag: 812)
    }
}

/// Request.free: a freed send still delivers its message, a freed owned receive still takes one
/// (so the next receive gets the message after it), later waits return an empty status at once,
/// and a nonblocking collective's request refuses to be freed.
func requestFree(_ world: Communicator) throws {
    guard world.size >= 2, world.rank < 2 else {
        try world.ibarrier().wait()
        return
    }
    let peer = 1 - world.rank
    if world.rank == 0 {
        let send = try world.isend([UInt8](repeating: 9, count: 1 << 20), to: peer, tag: 820)  // rendezvous
        try send.free()
        let freed = try send.wait()
        require(freed.byteCount == 0 && freed.source == MPI.anySource, "a freed send's wait: empty at once, got \(freed)")
        try world.send([Int32(1)], to: peer, tag: 821)
        try world.send([Int32(2)], to: peer, tag: 821)
    } else {
        var big = [UInt8](repeating: 0, count: 1 << 20)
        let status = try world.recv(into: &big, from: peer, tag: 820)
        require(status.byteCount == 1 << 20 && big.allSatisfy { $0 == 9 }, "a freed send's message arrived intact")
        let first = try world.irecv(count: 1, of: Int32.self, from: peer, tag: 821)
        try first.request.free()
        let (second, _) = try world.recv(count: 1, of: Int32.self, from: peer, tag: 821)
        require(second == [2], "the freed receive took the first message; the next got \(second)")
    }
    // Rank 1 starts a barrier that cannot complete yet (rank 0 enters only after rank 1's token).
    if world.rank == 1 {
        let barrier = try world.ibarrier()
        requireError(.invalidArgument) { try barrier.free() }
        try world.send([UInt8(1)], to: 0, tag: 822)
        try barrier.wait()
    } else {
        var token: [UInt8] = [0]
        try world.recv(into: &token, from: 1, tag: 822)
        try world.ibarrier().wait()
    }
}

/// A persistent receive that owns its buffer: three runs, each returning its own message's
/// elements; a fourth run is dropped while in flight (its message then lands in memory SwiftMPI
/// still owns: CI runs this under AddressSanitizer) and the next receive gets the message after it.
func persistentOwned(_ world: Communicator) throws {
    guard world.size >= 2, world.rank < 2 else { return }
    let peer = 1 - world.rank
    if world.rank == 0 {
        for run in 0..<3 { try world.send([Int32](repeating: Int32(run), count: run + 1), to: peer, tag: 830) }
        var token: [UInt8] = [0]
        try world.recv(into: &token, from: peer, tag: 831)
        try world.send([Int32](repeating: 9, count: 4), to: peer, tag: 830)
        try world.send([Int32(10)], to: peer, tag: 830)
    } else {
        let receive = try world.recvInit(count: 4, of: Int32.self, from: peer, tag: 830)
        for run in 0..<3 {
            try receive.start()
            let (values, status) = try receive.wait()
            require(values == [Int32](repeating: Int32(run), count: run + 1) && status.source == peer, "persistent-owned run \(run): \(values)")
        }
        do {
            let dropped = try world.recvInit(count: 4, of: Int32.self, from: peer, tag: 830)
            try dropped.start()
        }
        try world.send([UInt8(1)], to: peer, tag: 831)
        let (last, _) = try world.recv(count: 1, of: Int32.self, from: peer, tag: 830)
        require(last == [10], "persistent-owned: the receive after a dropped run got \(last)")
    }
}
