#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import SwiftMPI

let barrierTag = 2_000_000_000

/// The duplicate the scenarios' barrier uses. Made by the main thread before the first scenario and
/// used only by the main thread between scenarios (no scenario's threads or tasks call the barrier).
nonisolated(unsafe) var barrierCommunicator: Communicator?

extension Communicator {
    /// A barrier from point-to-point messages on a duplicate of the world (collectives are not part of
    /// these checks; the private context keeps its messages away from the scenarios' wildcards).
    func barrierForTests() throws {
        if barrierCommunicator == nil { barrierCommunicator = try dup() }
        let comm = barrierCommunicator!
        var token: [UInt8] = [0]
        if rank == 0 {
            for _ in 1..<size { try comm.recv(into: &token, from: MPI.anySource, tag: barrierTag) }
            for peer in 1..<size { try comm.send(token, to: peer, tag: barrierTag) }
        } else {
            try comm.send(token, to: 0, tag: barrierTag)
            try comm.recv(into: &token, from: 0, tag: barrierTag)
        }
    }
}

/// Sizes that cross every protocol boundary: empty, one cache line, eager limit, rendezvous
/// (pipelined and single-copy), and the 4 MiB top of the OSU range.
let protocolSizes = [0, 1, 8, 16, 100, 4096, 16 * 1024 - 1, 16 * 1024, 16 * 1024 + 1, 100_000, 256 * 1024, 1 << 20, 4 << 20]

let scenarios: [String: @Sendable (Communicator) throws -> Void] = [
    "pingpong": pingPong,
    "self": selfMessages,
    "non-overtaking": nonOvertaking,
    "wildcards": wildcards,
    "posted-order": postedOrder,
    "truncation": truncation,
    "ssend": synchronousSend,
    "bsend": bufferedSend,
    "rsend": readySend,
    "rsend-early": readySendTooEarly,
    "dup-isolation": dupIsolation,
    "procnull": procNull,
    "bad-arguments": badArguments,
    "requests": requests,
    "persistent": persistent,
    "probes": probes,
    "sendrecv": sendrecvRing,
    "isend-deadlock": isendThenRecv,
    "shared-copy": sharedCopy,
    "objects": objects,
    "async": asyncForms,
    "async-tasks": asyncTasks,
    "async-cancel": asyncCancel,
    "async-stream": asyncStream,
    "spans": spanTransfers,
    "dropped-receives": droppedReceives,
    "request-free": requestFree,
    "persistent-owned": persistentOwned,
    "stress": stress,
    "soak": soak,
    "threads": threads,
    "datatypes": datatypeTransfers,
    "datatype-errors": datatypeErrors,
    "datatype-async": datatypeAsync,
    "error-handlers": errorHandlers,
    "generalized": generalizedRequests,
    "partitioned": partitioned,
    "unreceived": unreceived
]

/// Rank 0 and the last rank exchange every protocol size both ways; contents are checked byte by byte.
func pingPong(_ world: Communicator) throws {
    let peer = world.size - 1
    guard world.rank == 0 || world.rank == peer, peer != 0 else { return }
    for (index, size) in protocolSizes.enumerated() {
        let outgoing = pattern(source: world.rank, index: index, length: size)
        var incoming = [UInt8](repeating: 0, count: size)
        if world.rank == 0 {
            try world.send(outgoing, to: peer, tag: index)
            let status = try world.recv(into: &incoming, from: peer, tag: index)
            require(status.source == peer && status.tag == index && status.byteCount == size, "status \(status)")
        } else {
            let status = try world.recv(into: &incoming, from: 0, tag: index)
            require(status.byteCount == size, "status \(status)")
            try world.send(outgoing, to: 0, tag: index)
        }
        require(same(incoming, pattern(source: world.rank == 0 ? peer : 0, index: index, length: size)), "payload of \(size) bytes corrupted")
    }
}

/// A rank sends to itself in every mode and size, receiving after sending (messages to self are
/// buffered, so this cannot deadlock), and an issend to itself completes once the receive is posted.
func selfMessages(_ world: Communicator) throws {
    for (index, size) in protocolSizes.enumerated() {
        let outgoing = pattern(source: world.rank, index: index, length: size)
        try world.send(outgoing, to: world.rank, tag: index)
        var incoming = [UInt8](repeating: 0, count: size)
        let status = try world.recv(into: &incoming, from: world.rank, tag: index)
        require(status.source == world.rank && status.byteCount == size && same(incoming, outgoing), "self message of \(size) bytes")
    }
    let request = try world.issend([1, 2, 3] as [Int32], to: world.rank, tag: 9)
    require(try request.test() == nil, "issend to self completed before the receive was posted")
    var buffer = [Int32](repeating: 0, count: 3)
    try world.recv(into: &buffer, from: world.rank, tag: 9)
    try request.wait()
    require(buffer == [1, 2, 3], "issend to self payload \(buffer)")
}

/// Messages from one sender with one tag arrive in send order, eager and rendezvous interleaved,
/// whether the receiver names the source and tag or uses wildcards.
func nonOvertaking(_ world: Communicator) throws {
    guard world.size >= 2, world.rank < 2 else { return }
    let sizes = [8, 200_000, 0, 64, 3 << 20, 16 * 1024 + 1, 1, 70_000, 8]
    for wildcard in [false, true] {
        if world.rank == 0 {
            var requests: [Request] = []
            for (sequence, size) in sizes.enumerated() {
                var message = pattern(source: 0, index: sequence, length: size)
                if size > 0 { message[0] = UInt8(sequence) }
                requests.append(try world.isend(message, to: 1, tag: 4))
            }
            try Request.waitAll(requests)
        } else {
            if !wildcard { usleep(20_000) }  // let everything arrive unexpected first in one round
            for (sequence, size) in sizes.enumerated() {
                var buffer = [UInt8](repeating: 0, count: 4 << 20)
                let status = try world.recv(into: &buffer, from: wildcard ? MPI.anySource : 0, tag: wildcard ? MPI.anyTag : 4)
                require(status.byteCount == size, "message \(sequence): expected \(size) bytes, got \(status.byteCount) (overtaken)")
                if size > 0 { require(buffer[0] == UInt8(sequence), "message \(sequence) out of order") }
                require(Array(buffer[1..<max(size, 1)]) == Array(pattern(source: 0, index: sequence, length: size).dropFirst()), "payload \(sequence)")
            }
        }
    }
}

/// Every rank sends numbered messages with several tags to rank 0, which receives them all with
/// anySource/anyTag: nothing lost, nothing duplicated, and each sender's messages in order.
func wildcards(_ world: Communicator) throws {
    let perSender = 200
    if world.rank == 0 {
        var next = [Int](repeating: 0, count: world.size)
        var buffer = [Int64](repeating: 0, count: 2)
        for _ in 0..<(perSender * (world.size - 1)) {
            let status = try world.recv(into: &buffer, from: MPI.anySource, tag: MPI.anyTag)
            require(Int(buffer[0]) == status.source && status.tag == Int(buffer[1]) % 5, "status \(status) for \(buffer)")
            require(Int(buffer[1]) == next[status.source], "from rank \(status.source): got #\(buffer[1]), expected #\(next[status.source])")
            next[status.source] += 1
        }
        require(try world.iprobe(from: MPI.anySource, tag: MPI.anyTag) == nil, "a message was duplicated")
    } else {
        for index in 0..<perSender {
            try world.send([Int64(world.rank), Int64(index)], to: 0, tag: index % 5)
        }
    }
}

/// Posted receives match in post order: a wildcard receive posted first takes the first message.
func postedOrder(_ world: Communicator) throws {
    guard world.size >= 2, world.rank < 2 else { return }
    if world.rank == 1 {
        let first = UnsafeMutableBufferPointer<Int32>.allocate(capacity: 1)
        let second = UnsafeMutableBufferPointer<Int32>.allocate(capacity: 1)
        defer { first.deallocate(); second.deallocate() }
        let a = try world.irecv(into: first, from: MPI.anySource, tag: MPI.anyTag)
        let b = try world.irecv(into: second, from: 0, tag: 5)
        try world.send([Int32(0)], to: 0, tag: 1)  // now rank 0 may send
        try Request.waitAll([a, b])
        require(first[0] == 100 && second[0] == 200, "post order violated: \(first[0]), \(second[0])")
    } else {
        var go: [Int32] = [0]
        try world.recv(into: &go, from: 1, tag: 1)
        try world.send([Int32(100)], to: 1, tag: 5)
        try world.send([Int32(200)], to: 1, tag: 5)
    }
}

/// A message longer than the buffer throws .truncate with the message's status, eager and
/// rendezvous; the sender completes normally and later traffic is intact.
func truncation(_ world: Communicator) throws {
    guard world.size >= 2, world.rank < 2 else { return }
    let sizes = [100, 50_000, 2 << 20]
    if world.rank == 0 {
        for size in sizes { try world.send(pattern(source: 0, index: size, length: size), to: 1, tag: 3) }
        try world.send([7] as [UInt8], to: 1, tag: 4)
    } else {
        for size in sizes {
            var small = [UInt8](repeating: 0, count: 10)
            let error = requireError(.truncate) { try world.recv(into: &small, from: 0, tag: 3) }
            require(error?.status?.byteCount == size && error?.status?.source == 0, "truncation status \(String(describing: error?.status))")
            require(error?.message.contains("\(size) bytes") == true, "message should name the sizes: \(String(describing: error?.message))")
        }
        var after: [UInt8] = [0]
        try world.recv(into: &after, from: 0, tag: 4)
        require(after == [7], "message after truncation: \(after)")
    }
}

/// issend does not complete while the receiver has not posted the receive, and completes after.
func synchronousSend(_ world: Communicator) throws {
    guard world.size >= 2, world.rank < 2 else { return }
    for size in [8, 1 << 20] {
        if world.rank == 0 {
            let request = try world.issend(pattern(source: 0, index: 1, length: size), to: 1, tag: 11)
            for _ in 0..<200 {
                require(try request.test() == nil, "issend of \(size) bytes completed before the receive was posted")
                usleep(100)
            }
            try world.send([1] as [UInt8], to: 1, tag: 12)  // tell rank 1 to post its receive
            try request.wait()
        } else {
            var go: [UInt8] = [0]
            try world.recv(into: &go, from: 0, tag: 12)
            var buffer = [UInt8](repeating: 0, count: size)
            try world.recv(into: &buffer, from: 0, tag: 11)
            require(same(buffer, pattern(source: 0, index: 1, length: size)), "ssend payload")
        }
        // Blocking ssend: rank 0 sends, rank 1 receives after a pause; the ssend returns after that.
        if world.rank == 0 {
            try world.ssend([Int32(size)], to: 1, tag: 13)
        } else {
            usleep(2000)
            var echo: [Int32] = [0]
            try world.recv(into: &echo, from: 0, tag: 13)
            require(echo == [Int32(size)], "ssend payload")
        }
    }
}

/// bsend copies and returns at once (the receiver has not posted yet); a buffer that is too small
/// throws .bufferExhausted and sends nothing; a buffer flush waits for the messages buffered before
/// it, and the buffer then takes more; detachBuffer waits for delivery.
func bufferedSend(_ world: Communicator) throws {
    guard world.size >= 2, world.rank < 2 else { return }
    if world.rank == 0 {
        requireError(.bufferExhausted) { try world.bsend([1, 2, 3] as [UInt8], to: 1, tag: 20) }  // nothing attached
        try MPI.attachBuffer(bytes: 3 * (1000 + MPI.bufferedSendOverhead + 64))
        requireError(.invalidArgument) { try MPI.attachBuffer(bytes: 10) }
        var message = pattern(source: 0, index: 0, length: 1000)
        try world.bsend(message, to: 1, tag: 20)
        message[0] ^= 0xff  // the buffered copy must not see this
        try world.bsend(pattern(source: 0, index: 1, length: 1000), to: 1, tag: 20)
        let request = try world.ibsend(pattern(source: 0, index: 2, length: 1000), to: 1, tag: 20)
        require(try request.test() != nil, "ibsend must complete at once")
        requireError(.bufferExhausted) { try world.bsend([UInt8](repeating: 1, count: 4000), to: 1, tag: 20) }
        try world.send([1] as [UInt8], to: 1, tag: 21)  // only now does rank 1 start receiving
        try MPI.detachBuffer()
        try MPI.attachBuffer(bytes: 4 << 20)
        try world.bsend(pattern(source: 0, index: 3, length: 3 << 20), to: 1, tag: 22)  // rendezvous from the buffer
        // A flush returns once the receiver has the message (its space free, the buffer attached):
        // only then does a second 3 MiB message fit the 4 MiB buffer.
        try MPI.flushBuffer()
        try world.bsend(pattern(source: 0, index: 4, length: 3 << 20), to: 1, tag: 22)
        try MPI.iflushBuffer().wait()
        try MPI.detachBuffer()
    } else {
        var go: [UInt8] = [0]
        try world.recv(into: &go, from: 0, tag: 21)
        for index in 0..<3 {
            var buffer = [UInt8](repeating: 0, count: 1000)
            try world.recv(into: &buffer, from: 0, tag: 20)
            require(same(buffer, pattern(source: 0, index: index, length: 1000)), "bsend message \(index)")
        }
        require(try world.iprobe(from: 0, tag: 20) == nil, "the exhausted bsend sent something")
        var large = [UInt8](repeating: 0, count: 3 << 20)
        for index in 3...4 {
            try world.recv(into: &large, from: 0, tag: 22)
            require(same(large, pattern(source: 0, index: index, length: 3 << 20)), "large bsend \(index)")
        }
    }
}

/// rsend after the receiver has posted (the correct use) delivers the data.
func readySend(_ world: Communicator) throws {
    guard world.size >= 2, world.rank < 2 else { return }
    for size in [16, 300_000] {
        if world.rank == 1 {
            let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: size)
            defer { buffer.deallocate() }
            let request = try world.irecv(into: buffer, from: 0, tag: 30)
            try world.send([1] as [UInt8], to: 0, tag: 31)
            try request.wait()
            require(same(Array(buffer), pattern(source: 0, index: size, length: size)), "rsend payload")
        } else {
            var ready: [UInt8] = [0]
            try world.recv(into: &ready, from: 1, tag: 31)
            try world.rsend(pattern(source: 0, index: size, length: size), to: 1, tag: 30)
        }
    }
}

/// An rsend that arrives before its receive is posted (erroneous in MPI) is detected on arrival:
/// one warning on stderr, and the data is still delivered intact.
func readySendTooEarly(_ world: Communicator) throws {
    guard world.size >= 2, world.rank < 2 else { return }
    if world.rank == 0 {
        try world.rsend(pattern(source: 0, index: 5, length: 64), to: 1, tag: 32)
        try world.send([1] as [UInt8], to: 1, tag: 33)
    } else {
        var go: [UInt8] = [0]
        try world.recv(into: &go, from: 0, tag: 33)  // the rsend has arrived (same sender, sent first)
        var buffer = [UInt8](repeating: 0, count: 64)
        try world.recv(into: &buffer, from: 0, tag: 32)
        require(same(buffer, pattern(source: 0, index: 5, length: 64)), "early rsend payload")
    }
}

/// The same tag on the world and on a duplicate never cross.
func dupIsolation(_ world: Communicator) throws {
    let copy = try world.dup()  // collective: every rank takes part
    guard world.size >= 2, world.rank < 2 else { return }
    if world.rank == 0 {
        try copy.send([Int32(2)], to: 1, tag: 7)
        try world.send([Int32(1)], to: 1, tag: 7)
    } else {
        var value: [Int32] = [0]
        try world.recv(into: &value, from: MPI.anySource, tag: MPI.anyTag)
        require(value == [1], "a message sent on the duplicate matched a receive on the world")
        try copy.recv(into: &value, from: 0, tag: 7)
        require(value == [2], "duplicate")
    }
}

/// Sends to and receives from MPI.procNull complete at once with the MPI-defined status.
func procNull(_ world: Communicator) throws {
    try world.send([1, 2] as [Int], to: MPI.procNull, tag: 0)
    try world.ssend([1, 2] as [Int], to: MPI.procNull, tag: 0)
    var buffer = [Int](repeating: 7, count: 2)
    let status = try world.recv(into: &buffer, from: MPI.procNull, tag: 3)
    require(status == Status.procNull && status.source == MPI.procNull && status.tag == MPI.anyTag && status.byteCount == 0, "\(status)")
    require(buffer == [7, 7], "a receive from procNull must not touch the buffer")
    let request = try world.isend([1] as [Int], to: MPI.procNull, tag: 0)
    require(try request.test() != nil, "isend to procNull must be complete")
    require(try world.iprobe(from: MPI.procNull, tag: 0) == Status.procNull, "iprobe procNull")
}

/// Wrong ranks, tags and misuse throw typed errors that name the call; nothing is sent.
func badArguments(_ world: Communicator) throws {
    requireError(.invalidRank) { try world.send([1] as [Int], to: world.size, tag: 0) }
    requireError(.invalidRank) { try world.send([1] as [Int], to: -5, tag: 0) }
    requireError(.invalidRank) { try world.send([1] as [Int], to: MPI.anySource, tag: 0) }
    requireError(.invalidTag) { try world.send([1] as [Int], to: 0, tag: -3) }
    requireError(.invalidTag) { try world.send([1] as [Int], to: 0, tag: MPI.anyTag) }
    requireError(.invalidTag) { try world.send([1] as [Int], to: 0, tag: MPI.tagUpperBound + 1) }
    var buffer = [Int](repeating: 0, count: 1)
    requireError(.invalidRank) { try world.recv(into: &buffer, from: world.size + 3, tag: 0) }
    requireError(.invalidTag) { try world.recv(into: &buffer, from: 0, tag: -7) }
    let error = requireError(.invalidRank) { _ = try world.isend([1] as [Int], to: 99, tag: 0) }
    require(error?.message.contains("isend") == true && error?.message.contains("99") == true, "message names call and rank")
    requireError(.invalidArgument) { try MPI.detachBuffer() }
    requireError(.alreadyInitialized) { _ = try MPI.initialize() }
    if let status = try world.iprobe(from: MPI.anySource, tag: MPI.anyTag) { require(false, "a rejected call sent something: \(status)") }
}

/// waitAll, waitAny, waitSome, testAny, testAll, testSome, cancel, and waiting on a completed request again.
func requests(_ world: Communicator) throws {
    guard world.size >= 2, world.rank < 2 else { return }
    let peer = 1 - world.rank
    let count = 6
    let buffers = (0..<count).map { _ in UnsafeMutableBufferPointer<Int64>.allocate(capacity: 4) }
    defer { buffers.forEach { $0.deallocate() } }
    let receives = try (0..<count).map { try world.irecv(into: buffers[$0], from: peer, tag: 40 + $0) }
    let sends = try (0..<count).reversed().map { try world.isend([Int64($0), 1, 2, 3], to: peer, tag: 40 + $0) }
    let (first, firstStatus) = try Request.waitAny(receives)
    require(firstStatus.tag == 40 + first && buffers[first][0] == Int64(first), "waitAny \(first) \(firstStatus)")
    var seen: Set<Int> = [first]
    while seen.count < count {
        let some = try Request.waitSome(receives)
        require(!some.isEmpty, "waitSome returned nothing with active requests")
        for (index, status) in some {
            require(!seen.contains(index), "waitSome reported request \(index) twice")
            require(status.tag == 40 + index && buffers[index][0] == Int64(index), "waitSome \(index)")
            seen.insert(index)
        }
    }
    require(try Request.waitSome(receives).isEmpty, "waitSome after all were reported")
    let statuses = try Request.waitAll(sends + receives)
    require(statuses.count == 2 * count, "waitAll count")
    require(try receives[2].wait() == receives[2].wait(), "a completed request returns its status again")
    require(try Request.testAll(receives)?.count == count, "testAll")

    // testSome: [] while nothing completed, each request reported once, nil once none is left
    let later = (0..<count).map { _ in UnsafeMutableBufferPointer<Int64>.allocate(capacity: 1) }
    defer { later.forEach { $0.deallocate() } }
    let pending = try (0..<count).map { try world.irecv(into: later[$0], from: peer, tag: 60 + $0) }
    require(try Request.testSome(pending)?.isEmpty == true, "testSome before anything was sent")
    try world.barrierForTests2(peer: peer)
    let laterSends = try (0..<count).map { try world.isend([Int64(100 + $0)], to: peer, tag: 60 + $0) }
    var tested: Set<Int> = []
    while let done = try Request.testSome(pending) {
        for (index, status) in done {
            require(tested.insert(index).inserted, "testSome reported request \(index) twice")
            require(status.tag == 60 + index && later[index][0] == Int64(100 + index), "testSome \(index)")
        }
    }
    require(tested.count == count, "testSome reported \(tested.count) of \(count) before returning nil")
    try Request.waitAll(laterSends)

    // The outcome forms keep every result when one request fails (here a truncated receive).
    func isTruncation(_ outcome: Result<Status, MPIError>) -> Bool {
        if case .failure(let error) = outcome { return error.code == .truncate }
        return false
    }
    func receivedTag(_ outcome: Result<Status, MPIError>) -> Int? { try? outcome.get().tag }
    let small = (0..<6).map { _ in UnsafeMutableBufferPointer<Int64>.allocate(capacity: 1) }
    defer { small.forEach { $0.deallocate() } }
    let mixed = try (0..<3).map { try world.irecv(into: small[$0], from: peer, tag: 70 + $0) }
    let mixedSends = try (0..<3).map { try world.isend($0 == 1 ? [Int64(7), 8] : [Int64(7)], to: peer, tag: 70 + $0) }
    let outcomes = Request.waitAllOutcomes(mixed)
    require(
        outcomes.count == 3 && receivedTag(outcomes[0]) == 70 && isTruncation(outcomes[1]) && receivedTag(outcomes[2]) == 72,
        "waitAllOutcomes: \(outcomes)")
    try Request.waitAll(mixedSends)
    let someReceives = try (3..<6).map { try world.irecv(into: small[$0], from: peer, tag: 80 + $0) }
    let someSends = try (3..<6).map { try world.isend($0 == 4 ? [Int64(7), 8] : [Int64(7)], to: peer, tag: 80 + $0) }
    var results: [Int: Result<Status, MPIError>] = [:]
    while case let done = try Request.waitSomeOutcomes(someReceives), !done.isEmpty {
        for (index, outcome) in done { require(results.updateValue(outcome, forKey: index) == nil, "waitSomeOutcomes reported \(index) twice") }
    }
    require(
        results.count == 3 && receivedTag(results[0]!) == 83 && isTruncation(results[1]!) && receivedTag(results[2]!) == 85,
        "waitSomeOutcomes: \(results)")
    require(try Request.testSomeOutcomes(someReceives) == nil, "testSomeOutcomes once none is left")
    try Request.waitAll(someSends)

    // testAny and cancel
    let lonely = UnsafeMutableBufferPointer<Int64>.allocate(capacity: 1)
    defer { lonely.deallocate() }
    let never = try world.irecv(into: lonely, from: peer, tag: 99)
    require(try Request.testAny([never]) == nil, "testAny on an unmatched receive")
    require(try never.test() == nil, "test on an unmatched receive")
    never.cancel()
    let cancelled = try never.wait()
    require(cancelled.isCancelled, "a cancelled receive reports isCancelled")
    try world.barrierForTests2(peer: peer)
    require(try world.iprobe(from: peer, tag: 99) == nil, "nothing was sent with tag 99")
}

extension Communicator {
    /// A two-rank handshake, for scenarios that run on ranks 0 and 1 only.
    func barrierForTests2(peer: Int) throws {
        var token: [UInt8] = [0]
        _ = try sendrecv([UInt8(1)], to: peer, sendTag: barrierTag - 1, into: &token, from: peer, recvTag: barrierTag - 1)
    }
}

/// Persistent requests run again and again, one at a time and with startAll.
func persistent(_ world: Communicator) throws {
    guard world.size >= 2, world.rank < 2 else { return }
    let peer = 1 - world.rank
    let outgoing = UnsafeMutableBufferPointer<Int>.allocate(capacity: 100_000)
    let incoming = UnsafeMutableBufferPointer<Int>.allocate(capacity: 100_000)
    defer { outgoing.deallocate(); incoming.deallocate() }
    let send = try world.sendInit(UnsafeBufferPointer(outgoing), to: peer, tag: 50)
    let receive = try world.recvInit(into: incoming, from: peer, tag: 50)
    require(send.isPersistent && receive.isPersistent, "persistent")
    require(try send.wait() == receive.wait(), "inactive persistent requests complete at once")
    for round in 0..<10 {
        for i in 0..<outgoing.count { outgoing[i] = round * 1_000_000 + i + world.rank }
        try Request.startAll([receive, send])
        requireError(.invalidArgument) { try receive.start() }.map { _ in () }
        try Request.waitAll([send, receive])
        require(incoming[0] == round * 1_000_000 + peer && incoming[99_999] == round * 1_000_000 + 99_999 + peer, "round \(round)")
    }
}

/// probe, iprobe, mprobe and mrecv see a message's size and keep it for the right receive.
func probes(_ world: Communicator) throws {
    guard world.size >= 2, world.rank < 2 else { return }
    if world.rank == 0 {
        try world.send([Double](repeating: 2.5, count: 37), to: 1, tag: 3)
        let large = try world.isend([Double](repeating: 1.5, count: 300_000), to: 1, tag: 4)
        try world.send([Int32](repeating: 9, count: 5), to: 1, tag: 5)
        try large.wait()
    } else {
        require(try world.improbe(from: 0, tag: 77) == nil, "improbe without a message")
        let status = try world.probe(from: MPI.anySource, tag: 3)
        require(status.source == 0 && status.count(of: Double.self) == 37 && status.count(of: Int64.self) == 37, "probe \(status)")
        require(Status(source: 0, tag: 0, byteCount: 7).count(of: Double.self) == nil, "count of a partial element")
        var doubles = [Double](repeating: 0, count: 37)
        try world.recv(into: &doubles, from: 0, tag: 3)
        require(doubles.allSatisfy { $0 == 2.5 }, "probe then recv")
        let large = try world.mprobe(from: 0, tag: 4)
        require(large.status.byteCount == 300_000 * 8, "mprobe status \(large.status)")
        var bigBuffer = [Double](repeating: 0, count: 300_000)
        // The matched message is no longer visible to probes or receives.
        while try world.iprobe(from: 0, tag: 5) == nil {}
        require(try world.iprobe(from: 0, tag: 4) == nil, "a matched message is still visible")
        try world.mrecv(large, into: &bigBuffer)
        require(bigBuffer.allSatisfy { $0 == 1.5 }, "mrecv payload")
        requireError(.invalidArgument) { try world.mrecv(large, into: &bigBuffer) }
        var ints = [Int32](repeating: 0, count: 5)
        let small = require2(try world.improbe(from: 0, tag: 5))
        try world.mrecv(small, into: &ints)
        require(ints == [9, 9, 9, 9, 9], "improbe/mrecv")
    }
}

func require2<T>(_ value: T?, line: Int = #line) -> T {
    require(value != nil, "unexpected nil", line: line)
    return value!
}

/// Every rank sends to its right and receives from its left at once, at every size (a ring of
/// blocking sends would deadlock at rendezvous sizes; sendrecv must not).
func sendrecvRing(_ world: Communicator) throws {
    let right = (world.rank + 1) % world.size
    let left = (world.rank + world.size - 1) % world.size
    for (index, size) in protocolSizes.enumerated() {
        var incoming = [UInt8](repeating: 0, count: size)
        let status = try world.sendrecv(
            pattern(source: world.rank, index: index, length: size), to: right, sendTag: index,
            into: &incoming, from: left, recvTag: index)
        require(status.source == left && same(incoming, pattern(source: left, index: index, length: size)), "sendrecv \(size)")
        var replaced = pattern(source: world.rank, index: index + 100, length: size)
        try world.sendrecvReplace(&replaced, to: right, sendTag: index, from: left, recvTag: index)
        require(same(replaced, pattern(source: left, index: index + 100, length: size)), "sendrecvReplace \(size)")

        // The nonblocking forms: one request each, with the receive's status.
        let outgoing = pattern(source: world.rank, index: index + 200, length: size)
        var received = [UInt8](repeating: 0, count: size)
        let both = try outgoing.withUnsafeBufferPointer { out in
            try received.withUnsafeMutableBufferPointer { into in
                try world.isendrecv(out, to: right, sendTag: index, into: into, from: left, recvTag: index).wait()
            }
        }
        require(both.source == left && both.tag == index && both.byteCount == size, "isendrecv status \(size): \(both)")
        require(same(received, pattern(source: left, index: index + 200, length: size)), "isendrecv \(size)")
        var swapped = pattern(source: world.rank, index: index + 300, length: size)
        let swapStatus = try swapped.withUnsafeMutableBufferPointer { buffer in
            try world.isendrecvReplace(buffer, to: right, sendTag: index, from: left, recvTag: index).wait()
        }
        require(swapStatus.source == left && same(swapped, pattern(source: left, index: index + 300, length: size)), "isendrecvReplace \(size)")

        // imrecv of a message taken by mprobe.
        let send = try world.isend(pattern(source: world.rank, index: index + 400, length: size), to: right, tag: 500 + index)
        let message = try world.mprobe(from: left, tag: 500 + index)
        var taken = [UInt8](repeating: 0, count: size)
        let takenStatus = try taken.withUnsafeMutableBufferPointer { try world.imrecv(message, into: $0).wait() }
        try send.wait()
        require(takenStatus.source == left && same(taken, pattern(source: left, index: index + 400, length: size)), "imrecv \(size)")
        requireError(.invalidArgument) { _ = try taken.withUnsafeMutableBufferPointer { try world.imrecv(message, into: $0) } }.map { _ in () }
    }
}

/// The classic: both ranks isend a large message, then recv, then wait. Progress inside recv must
/// move the rank's own pending send.
func isendThenRecv(_ world: Communicator) throws {
    guard world.size >= 2, world.rank < 2 else { return }
    let peer = 1 - world.rank
    for size in [100, 1 << 20, 4 << 20] {
        let request = try world.isend(pattern(source: world.rank, index: 0, length: size), to: peer, tag: 60)
        var buffer = [UInt8](repeating: 0, count: size)
        try world.recv(into: &buffer, from: peer, tag: 60)
        try request.wait()
        require(same(buffer, pattern(source: peer, index: 0, length: size)), "isend/recv \(size)")
    }
}

/// Large one-way messages on one host, which sender and receiver copy together (chunks of odd
/// sizes, several in flight), arrive intact; and, with `SWIFTMPI_TEST_SINGLE_COPY=1` (the test sets
/// it where Cross Memory Attach is on; a pipelined copy needs its sender), a receive completes while
/// its sender computes without calling MPI: the receiver copies every chunk the sender has not taken.
func sharedCopy(_ world: Communicator) throws {
    guard world.size >= 2, world.rank < 2 else { return }
    let sizes = [256 * 1024, 256 * 1024 + 1, 300_001, (1 << 20) + 3, (4 << 20) - 5, 9 << 20]
    for round in 0..<3 {
        if world.rank == 0 {
            let requests = try sizes.enumerated().map { index, size in
                try world.isend(pattern(source: 0, index: round * 10 + index, length: size), to: 1, tag: 80 + index)
            }
            _ = try Request.waitAll(requests)
        } else {
            for (index, size) in sizes.enumerated().reversed() {  // matched out of order
                var buffer = [UInt8](repeating: 0, count: size)
                let status = try world.recv(into: &buffer, from: 0, tag: 80 + index)
                require(
                    status.byteCount == size && same(buffer, pattern(source: 0, index: round * 10 + index, length: size)),
                    "shared copy of \(size) bytes (round \(round)) corrupted")
            }
        }
    }
    // The sender sleeps in user code right after isend; the receive must not wait for it.
    guard getenv("SWIFTMPI_TEST_SINGLE_COPY").map({ String(cString: $0) }) == "1" else { return }
    let size = 8 << 20
    if world.rank == 0 {
        let request = try world.isend(pattern(source: 0, index: 99, length: size), to: 1, tag: 89)
        usleep(1_500_000)
        let woke = MPI.wtime()
        try request.wait()
        var received = [Double](repeating: 0, count: 1)
        try world.recv(into: &received, from: 1, tag: 90)
        require(received[0] < woke, "the receive completed \(received[0] - woke) s after its sender resumed calling MPI")
    } else {
        var buffer = [UInt8](repeating: 0, count: size)
        try world.recv(into: &buffer, from: 0, tag: 89)
        let done = MPI.wtime()
        require(same(buffer, pattern(source: 0, index: 99, length: size)), "message from a computing sender corrupted")
        try world.send([done], to: 0, tag: 90)
    }
}

struct Particle: Codable, Equatable {
    var name: String
    var position: [Double]
    var charge: Int
}

/// Codable values go through send(object:) and recv(object:), any size.
func objects(_ world: Communicator) throws {
    guard world.size >= 2, world.rank < 2 else { return }
    let particles = (0..<2000).map { Particle(name: "p\($0)", position: [Double($0), 0.5, -1], charge: $0 % 3 - 1) }
    if world.rank == 0 {
        try world.send(object: particles, to: 1, tag: 70)
        try world.send(object: "not a particle", to: 1, tag: 71)
        let request = try world.isend(object: particles[7], to: 1, tag: 72)
        try request.wait()
    } else {
        let (received, status) = try world.recv(object: [Particle].self, from: 0, tag: 70)
        require(received == particles && status.source == 0, "objects")
        requireError(.invalidArgument) { _ = try world.recv(object: Particle.self, from: 0, tag: 71) }
        runTask("objects async") {
            let (one, _) = try await world.recv(object: Particle.self, from: 0, tag: 72)
            require(one == particles[7], "isend(object:) then an awaited recv(object:): \(one)")
        }
    }
}

/// async forms: try await recv and request.value (one task at a time calls SwiftMPI).
func asyncForms(_ world: Communicator) throws {
    guard world.size >= 2, world.rank < 2 else { return }
    let peer = 1 - world.rank
    let finished = DispatchSemaphore(value: 0)
    Task.detached {
        do {
            let outgoing = [Int64(world.rank)] + [Int64](repeating: 3, count: 50_000)
            if world.rank == 0 { try await world.send(outgoing, to: peer, tag: 80) }
            let (values, status) = try await world.recv(count: 50_001, of: Int64.self, from: peer, tag: 80)
            if world.rank == 1 { try await world.send(outgoing, to: peer, tag: 80) }
            require(values.count == 50_001 && values[0] == Int64(peer) && values[50_000] == 3 && status.source == peer, "async recv")
            let request = try world.isend([Int32(5)], to: peer, tag: 81)
            _ = try await request.value
            var five: [Int32] = [0]
            try await world.recv(into: &five, from: peer, tag: 81)
            require(five == [5], "request.value")
        } catch {
            require(false, "async: \(error)")
        }
        finished.signal()
    }
    finished.wait()
}

/// Random traffic between all pairs: random sizes (0 B to 4 MiB, mostly small), random tags, random
/// modes, wildcard receives; each payload checksummed and each pair's order checked.
func stress(_ world: Communicator) throws {
    let messagesPerPair = getenv("SWIFTMPI_STRESS_MESSAGES").flatMap { Int(String(cString: $0)) } ?? 300
    var generator = Generator(state: 0x9E37_79B9_7F4A_7C15 &+ UInt64(world.rank))
    var buffer = [UInt8](repeating: 0, count: (4 << 20) + 16)
    try MPI.attachBuffer(bytes: 64 << 20)
    defer { _ = try? MPI.detachBuffer() }
    try stressRound(world, messagesPerPair: messagesPerPair, generator: &generator, buffer: &buffer)
    if world.rank == 0 { print("stress: \(messagesPerPair * (world.size - 1)) messages received per rank, checksums and order verified") }
}

/// A bounded soak: rounds of ``stress`` traffic plus ready-mode sends, for `SWIFTMPI_SOAK_SECONDS`
/// (default 30). Rank 0 prints messages/s and RSS every 5 s; every rank checks that its RSS stays
/// flat (at most 32 MiB, or `SWIFTMPI_SOAK_RSS_SLACK_MIB`, above the level reached after the first
/// quarter of the run).
func soak(_ world: Communicator) throws {
    let seconds = getenv("SWIFTMPI_SOAK_SECONDS").flatMap { Double(String(cString: $0)) } ?? 30
    var generator = Generator(state: 0xD1B5_4A32_D192_ED03 &+ UInt64(world.rank))
    var buffer = [UInt8](repeating: 0, count: (4 << 20) + 16)
    try MPI.attachBuffer(bytes: 64 << 20)
    defer { _ = try? MPI.detachBuffer() }
    let control = try world.dup()
    let start = MPI.wtime()
    var lastReport = start
    var messages = 0
    var baseline: Int?
    var highest = 0
    while true {
        var proceed = [world.rank == 0 && MPI.wtime() - start < seconds ? 1 : 0]
        try world.bcast(&proceed, root: 0)
        if proceed[0] == 0 { break }
        try stressRound(world, messagesPerPair: 20, generator: &generator, buffer: &buffer)
        try readyRound(control)
        try world.barrier()  // the next round's wildcard receives must not take this round's messages
        messages += 21 * (world.size - 1)
        let now = MPI.wtime()
        let rss = residentBytes()
        if baseline == nil && now - start >= seconds / 4 { baseline = rss }
        if baseline != nil { highest = max(highest, rss) }
        if now - lastReport >= 5 {
            lastReport = now
            if world.rank == 0 {
                print("soak: \(Int(now - start)) s, \(Int(Double(messages) / (now - start))) messages/s received per rank, RSS \(rss >> 20) MiB")
            }
        }
    }
    if let baseline {
        // SWIFTMPI_SOAK_RSS_SLACK_MIB: AddressSanitizer's allocator holds freed memory in quarantine.
        let slack = getenv("SWIFTMPI_SOAK_RSS_SLACK_MIB").flatMap { Int(String(cString: $0)) } ?? 32
        require(highest - baseline <= slack << 20, "RSS grew from \(baseline >> 20) MiB to \(highest >> 20) MiB")
    }
    if world.rank == 0 {
        print("soak: \(messages) messages received per rank in \(Int(MPI.wtime() - start)) s, checksums and order verified, RSS flat")
    }
}

/// One round of random traffic: `messagesPerPair` messages from every rank to every other.
/// Each message: [sequence u32][sender u32][checksum u64][payload...]
private func stressRound(_ world: Communicator, messagesPerPair: Int, generator: inout Generator, buffer: inout [UInt8]) throws {
    func size(_ g: inout Generator) -> Int {
        switch g.below(100) {
        case 0..<3: return g.below((4 << 20) + 1)
        case 3..<25: return g.below(300_000)
        default: return g.below(2048)
        }
    }
    var requests: [Request] = []
    let expected = messagesPerPair * (world.size - 1)
    var nextSequence = [UInt32](repeating: 0, count: world.size)
    var received = 0
    for sequence in 0..<messagesPerPair {
        for offset in 1..<world.size {
            let destination = (world.rank + offset) % world.size
            let length = size(&generator)
            var message = [UInt8](repeating: 0, count: 16)
            let payload = pattern(source: world.rank, index: sequence, length: length)
            withUnsafeBytes(of: UInt32(sequence)) { message.replaceSubrange(0..<4, with: $0) }
            withUnsafeBytes(of: UInt32(world.rank)) { message.replaceSubrange(4..<8, with: $0) }
            withUnsafeBytes(of: checksum(payload[...])) { message.replaceSubrange(8..<16, with: $0) }
            message += payload
            let tag = generator.below(4)
            switch generator.below(4) {
            case 0: requests.append(try world.issend(message, to: destination, tag: tag))
            case 1 where message.count < 64 * 1024: requests.append(try world.ibsend(message, to: destination, tag: tag))
            default: requests.append(try world.isend(message, to: destination, tag: tag))
            }
        }
        // Receive whatever has arrived, with wildcards, to keep memory bounded.
        while received < expected, let status = try world.iprobe(from: MPI.anySource, tag: MPI.anyTag) {
            try receiveOne(world, status: status, into: &buffer, nextSequence: &nextSequence)
            received += 1
        }
        if requests.count > 64 {
            // Keep receiving while the sends complete: a synchronous or rendezvous send completes only
            // once its receiver matches it, and the receivers may be waiting here too (a blocking
            // waitAll at this point deadlocked 3 ranks over verbs once, all in Request.waitAll).
            while try Request.testAll(requests) == nil {
                if received < expected, let status = try world.iprobe(from: MPI.anySource, tag: MPI.anyTag) {
                    try receiveOne(world, status: status, into: &buffer, nextSequence: &nextSequence)
                    received += 1
                }
            }
            requests.removeAll()
        }
    }
    while received < expected {
        let status = try world.recv(into: &buffer, from: MPI.anySource, tag: MPI.anyTag)
        check(buffer, status: status, nextSequence: &nextSequence)
        received += 1
    }
    try Request.waitAll(requests)
}

/// Ready mode in a ring: each rank posts its receive, tells its left neighbour so, and then the
/// neighbour's `rsend` finds it posted (as MPI requires). Runs on its own communicator, out of reach
/// of the stress rounds' wildcard receives.
private func readyRound(_ world: Communicator) throws {
    let right = (world.rank + 1) % world.size, left = (world.rank - 1 + world.size) % world.size
    let incoming = UnsafeMutableBufferPointer<Int64>.allocate(capacity: 3)
    defer { incoming.deallocate() }
    incoming.initialize(repeating: 0)
    let receive = try world.irecv(into: incoming, from: left, tag: 7)
    try world.send([UInt8](), to: left, tag: 8)
    var token = [UInt8]()
    try world.recv(into: &token, from: right, tag: 8)
    try world.rsend([Int64(world.rank), 7, -7], to: right, tag: 7)
    try receive.wait()
    require(Array(incoming) == [Int64(left), 7, -7], "ready send from rank \(left): \(Array(incoming))")
}

/// This process's resident set size in bytes.
private func residentBytes() -> Int {
    guard let file = fopen("/proc/self/statm", "r") else { return 0 }
    defer { fclose(file) }
    var size = 0, resident = 0
    withUnsafeMutablePointer(to: &size) { sizePointer in
        withUnsafeMutablePointer(to: &resident) { residentPointer in
            _ = withVaList([sizePointer, residentPointer]) { vfscanf(file, "%ld %ld", $0) }
        }
    }
    return resident * Int(sysconf(Int32(_SC_PAGESIZE)))
}

private func receiveOne(_ world: Communicator, status probed: Status, into buffer: inout [UInt8], nextSequence: inout [UInt32]) throws {
    let status = try world.recv(into: &buffer, from: MPI.anySource, tag: MPI.anyTag)
    check(buffer, status: status, nextSequence: &nextSequence)
}

private func check(_ buffer: [UInt8], status: Status, nextSequence: inout [UInt32]) {
    let sequence = buffer.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 0, as: UInt32.self) }
    let sender = buffer.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 4, as: UInt32.self) }
    let sum = buffer.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self) }
    require(Int(sender) == status.source, "sender \(sender) vs status \(status)")
    require(sequence == nextSequence[status.source], "from rank \(status.source): got #\(sequence), expected #\(nextSequence[status.source])")
    nextSequence[status.source] += 1
    require(checksum(buffer[16..<status.byteCount]) == sum, "checksum of #\(sequence) from rank \(status.source) (\(status.byteCount) bytes)")
}

/// Thread level .multiple: two threads per rank exchange messages with the peer at the same time.
func threads(_ world: Communicator) throws {
    guard MPI.threadLevel == .multiple, world.size >= 2, world.rank < 2 else { return }
    let peer = 1 - world.rank
    let rounds = 500
    var threadsDone: [pthread_t] = []
    // @unchecked: every property is a `let` set before the threads start (Communicator is Sendable).
    final class Context: @unchecked Sendable {
        let world: Communicator; let peer: Int; let tag: Int; let rounds: Int
        init(world: Communicator, peer: Int, tag: Int, rounds: Int) { self.world = world; self.peer = peer; self.tag = tag; self.rounds = rounds }
    }
    for tag in [90, 91] {
        let context = Unmanaged.passRetained(Context(world: world, peer: peer, tag: tag, rounds: rounds)).toOpaque()
        var thread = pthread_t()
        pthread_create(
            &thread, nil,
            { raw in
                let context = Unmanaged<Context>.fromOpaque(raw!).takeRetainedValue()
                do {
                    for round in 0..<context.rounds {
                        let request = try context.world.isend([Int64(round), Int64(context.tag)], to: context.peer, tag: context.tag)
                        var buffer = [Int64](repeating: 0, count: 2)
                        try context.world.recv(into: &buffer, from: context.peer, tag: context.tag)
                        try request.wait()
                        require(buffer == [Int64(round), Int64(context.tag)], "thread \(context.tag) round \(round): \(buffer)")
                    }
                } catch {
                    require(false, "thread \(context.tag): \(error)")
                }
                return nil
            }, context)
        threadsDone.append(thread)
    }
    for thread in threadsDone { pthread_join(thread, nil) }
}

/// Error handlers: a communicator throws by default; a custom handler sees each failed call's error
/// once (also when the call is made of other calls) before the call throws it; a `dup` inherits
/// the handler; the world and other communicators keep theirs. (`.fatal` ends the job: testrank's
/// `fatal-handler`.)
func errorHandlers(_ world: Communicator) throws {
    /// Written only by the handler, on this one thread.
    final class Seen: @unchecked Sendable { var codes: [MPIError.Code] = [] }
    let seen = Seen()
    let comm = try world.dup()
    _ = requireError(.invalidRank) { try comm.send([1], to: comm.size, tag: 0) }
    comm.errorHandler = .custom { communicator, error in
        require(communicator.size == world.size, "the handler got another communicator")
        seen.codes.append(error.code)
    }
    _ = requireError(.invalidRank) { try comm.send([1], to: comm.size, tag: 0) }
    require(seen.codes == [.invalidRank], "custom handler after a bad send: \(seen.codes)")
    _ = requireError(.invalidTag) { _ = try comm.recv(count: 1, of: Int.self, from: 0, tag: -7) }
    _ = requireError(.invalidRank) { _ = try comm.bcast(object: "text", root: -1) }  // bcast(object:) calls bcast
    require(seen.codes == [.invalidRank, .invalidTag, .invalidRank], "each error once: \(seen.codes)")
    let child = try comm.dup()
    _ = requireError(.invalidRank) {
        try child.barrier(); try child.send([1], to: -5, tag: 0)
    }
    require(seen.codes.count == 4, "a dup inherits the handler: \(seen.codes)")
    _ = requireError(.invalidRank) { try world.send([1], to: world.size, tag: 0) }
    require(seen.codes.count == 4, "the world's handler is its own: \(seen.codes)")
    comm.errorHandler = .throwing
    _ = requireError(.invalidRank) { try comm.send([1], to: comm.size, tag: 0) }
    require(seen.codes.count == 4, "back to throwing: \(seen.codes)")
    try comm.barrier()
    child.free()
    comm.free()
}

/// Partitioned communication between ranks 0 and 1: two rounds of 4 parts of 3 elements, written
/// through `withPartition` and readied in reverse order; the receiver polls `parrived` and gets the
/// whole message from `wait()`; an ordinary message of the same tag, sent first, is not taken for
/// the partitioned one (MPI's separate matching space); mistakes (a part readied twice or out of
/// range, a wait before every part is ready, a start during a round, a tag beyond 65535) throw.
func partitioned(_ world: Communicator) throws {
    guard world.size >= 2, world.rank < 2 else { return }
    if world.rank == 0 {
        requireError(.invalidCount) { _ = try world.psendInit(count: Int.max / 2, of: UInt8.self, partitions: 3, to: 1, tag: 890) }
        requireError(.invalidTag) { _ = try world.psendInit(count: 1, of: UInt8.self, partitions: 1, to: 1, tag: 1 << 16) }
        let send = try world.psendInit(count: 3, of: Int.self, partitions: 4, to: 1, tag: 890)
        require(send.partitionCount == 3, "partitioned: \(send.partitionCount) elements per part")
        for round in 0..<2 {
            try send.start()
            requireError(.invalidArgument) { try send.start() }
            for part in (0..<4).reversed() {
                try send.withPartition(part) { (span: inout MutableSpan<Int>) in
                    for index in span.indices { span[index] = round * 100 + part * 10 + index }
                }
                if part == 2 { requireError(.invalidArgument) { try send.wait() } }
                try send.pready(part)
            }
            requireError(.invalidArgument) { try send.pready(0) }
            requireError(.invalidRank) { try send.pready(4) }
            try world.send([round], to: 1, tag: 890)
            try send.wait()
        }
    } else {
        let receive = try world.precvInit(count: 3, of: Int.self, partitions: 4, from: 0, tag: 890)
        requireError(.invalidArgument) { _ = try receive.parrived(0) }
        for round in 0..<2 {
            try receive.start()
            let (plain, _) = try world.recv(count: 1, of: Int.self, from: 0, tag: 890)
            require(plain == [round], "partitioned round \(round): the ordinary message was \(plain)")
            while try !receive.parrived(3) {}
            requireError(.invalidRank) { _ = try receive.parrived(-1) }
            let (values, status) = try receive.wait()
            require(
                values == (0..<12).map { round * 100 + ($0 / 3) * 10 + $0 % 3 } && status.count(of: Int.self) == 12 && status.tag == 890,
                "partitioned round \(round): \(values), \(status)")
        }
    }
}

/// Freeing a communicator with messages no receive took: `free()` says how many, drops them (a
/// later communicator with the same context must not match them), and a synchronous sender still
/// waiting for one of them fails instead of waiting forever.
func unreceived(_ world: Communicator) throws {
    let comm = try world.dup()
    var dropped = 0
    if world.size >= 2 && world.rank == 0 {
        try comm.send([1, 2, 3], to: 1, tag: 5)
        let waiting = try comm.issend([4], to: 1, tag: 6)
        try world.send([0], to: 1, tag: 891)  // both are on their way
        requireError(.transport) { _ = try waiting.wait() }
        dropped = comm.free()
    } else if world.size >= 2 && world.rank == 1 {
        _ = try world.recv(count: 1, of: Int.self, from: 0, tag: 891)
        _ = try comm.probe(from: 0, tag: 6)  // the synchronous one arrived (after the first, in order)
        dropped = comm.free()
    } else {
        dropped = comm.free()
    }
    let expected = world.size >= 2 && world.rank == 1 ? 2 : 0
    require(dropped == expected, "unreceived: free() dropped \(dropped) messages, expected \(expected)")
    let next = try world.dup()  // may take the freed context: nothing of the old one arrives
    require(try next.iprobe(from: MPI.anySource, tag: MPI.anyTag) == nil, "unreceived: a dropped message reached a new communicator")
    next.free()
}
