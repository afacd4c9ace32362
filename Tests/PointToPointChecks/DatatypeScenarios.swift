import SwiftMPI

/// The shapes the datatype checks send: (name, datatype, count, grid elements), from halo columns and
/// sub-blocks to records, sized across the eager/rendezvous boundary of every transport.
func datatypeShapes() throws -> [(String, Datatype, Int, Int)] {
    let double = Datatype(Double.self)
    var shapes: [(String, Datatype, Int, Int)] = []
    for n in [8, 64, 512] {
        shapes.append(("column of \(n)×\(n)", try .vector(count: n, blockLength: 1, stride: n, of: double), 1, n * n))
    }
    // A column long enough for rendezvous on every transport (32 KiB) in a narrow grid.
    shapes.append(("column of 4096×9", try .vector(count: 4096, blockLength: 1, stride: 9, of: double), 1, 4096 * 9))
    shapes.append(
        ("two resized columns", try Datatype.vector(count: 300, blockLength: 1, stride: 300, of: double).resized(lowerBound: 0, extent: 8), 2, 300 * 300))
    shapes.append(("hvector of triples", try .hvector(count: 5000, blockLength: 3, strideBytes: 40, of: double), 1, 5 * 5000))
    shapes.append(("256×300 block of 512×600", try .subarray(sizes: [512, 600], subsizes: [256, 300], starts: [100, 200], of: double), 1, 512 * 600))
    // Runs of 4 KiB and more: read scattered from the sender's memory over shared memory (one block
    // travels in the offer; three are read from the sender first).
    shapes.append(("every other row of 1024 doubles", try .vector(count: 48, blockLength: 1024, stride: 2048, of: double), 1, 48 * 2048))
    shapes.append(("three long blocks", try .indexed(blockLengths: [600, 700, 800], displacements: [0, 1000, 2000], of: double), 2, 2 * 2800))
    shapes.append(("indexed", try .indexed(blockLengths: [2, 1, 3, 700], displacements: [0, 5, 9, 20], of: double), 3, 3 * 720))
    let record = try Datatype.structure([(offset: 0, count: 1, type: Datatype(Int32.self)), (offset: 8, count: 3, type: double)])
    shapes.append(("records", record, 4000, 4 * 4000))
    shapes.append(("vector of records", try .vector(count: 3000, blockLength: 1, stride: 2, of: record), 1, 4 * 6000))
    return shapes
}

/// Rank 0 and the last rank send every shape both ways — datatype to datatype, datatype to
/// contiguous and contiguous to datatype, blocking, nonblocking, synchronous, buffered and with
/// sendrecv — checking every byte that should arrive and every byte that should stay untouched.
/// The other ranks pass columns round a ring.
func datatypeTransfers(_ world: Communicator) throws {
    let last = world.size - 1
    try MPI.attachBuffer(bytes: 32 << 20)
    defer { _ = try? MPI.detachBuffer() }
    for (name, type, count, elements) in try datatypeShapes() {
        let grid = (0..<elements).map { Double($0) + 0.5 }
        var packed = [UInt8](repeating: 0, count: try type.packSize(count: count))
        var position = 0
        try type.pack(from: grid, count: count, into: &packed, position: &position)
        let expected = packed.withUnsafeBytes { Array($0.bindMemory(to: Double.self)) }
        // What a typed receive into a grid of -1 must leave: the type's elements set, the rest -1.
        var target = [Double](repeating: -1, count: elements)
        position = 0
        try type.unpack(from: packed, position: &position, into: &target, count: count)
        func checkTyped(_ received: [Double], _ how: String) {
            let first = received.indices.first { received[$0] != target[$0] } ?? -1
            require(
                received == target,
                "\(name), \(how): the typed receive differs from the expected grid at element \(first): "
                    + "\(first >= 0 ? received[first] : 0) instead of \(first >= 0 ? target[first] : 0)"
            )
        }
        for (sender, receiver) in [(0, last), (last, 0)] where sender != receiver {
            if world.rank == sender {
                try world.send(grid, count: count, datatype: type, to: receiver, tag: 1)
                try world.send(grid, count: count, datatype: type, to: receiver, tag: 2)
                try world.send(expected, to: receiver, tag: 3)
                try world.isend(grid, count: count, datatype: type, to: receiver, tag: 4).wait()
                try world.ssend(grid, count: count, datatype: type, to: receiver, tag: 5)
                try world.bsend(grid, count: count, datatype: type, to: receiver, tag: 6)
                try world.send(grid[...], count: count, datatype: type, to: receiver, tag: 7)
            } else if world.rank == receiver {
                var received = [Double](repeating: -1, count: elements)
                let status = try world.recv(into: &received, count: count, datatype: type, from: sender, tag: 1)
                require(status.count(of: type) == count && status.byteCount == packed.count, "\(name): status \(status)")
                checkTyped(received, "typed to typed")
                var contiguous = [Double](repeating: 0, count: expected.count)
                try world.recv(into: &contiguous, from: sender, tag: 2)
                require(contiguous == expected, "\(name): typed to contiguous differs")
                received = [Double](repeating: -1, count: elements)
                try world.recv(into: &received, count: count, datatype: type, from: sender, tag: 3)
                checkTyped(received, "contiguous to typed")
                for tag in 4...6 {
                    received = [Double](repeating: -1, count: elements)
                    _ = try received.withUnsafeMutableBufferPointer { buffer in
                        try world.irecv(into: buffer, count: count, datatype: type, from: sender, tag: tag).wait()
                    }
                    checkTyped(received, "tag \(tag), irecv")
                }
                // A slice's start is the origin: receive into the grid shifted by one element.
                var shifted = [Double](repeating: -1, count: elements + 1)
                try world.recv(into: &shifted[1...], count: count, datatype: type, from: sender, tag: 7)
                require(shifted[0] == -1 && Array(shifted[1...]) == target, "\(name): receive into a slice")
            }
        }
        // A datatype dropped while its requests are in flight: the requests keep what they use.
        if world.rank == 0 || world.rank == last {
            let peer = world.rank == 0 ? last : 0
            var incoming = [Double](repeating: -1, count: elements)
            try incoming.withUnsafeMutableBufferPointer { buffer in
                var requests: [Request] = []
                do {
                    let copy = try Datatype.contiguous(count: 1, of: type)  // a new type, released at the end of this scope
                    requests.append(try world.irecv(into: buffer, count: count, datatype: copy, from: peer, tag: 9))
                    requests.append(try world.isend(grid, count: count, datatype: copy, to: peer, tag: 9))
                }
                try Request.waitAll(requests)
            }
            checkTyped(incoming, "a dropped datatype")
            // Persistent requests with datatypes, started three times.
            try incoming.withUnsafeMutableBufferPointer { buffer in
                let receive = try world.recvInit(into: buffer, count: count, datatype: type, from: peer, tag: 11)
                let send = try world.sendInit(grid, count: count, datatype: type, to: peer, tag: 11)
                for _ in 0..<3 {
                    buffer.update(repeating: -1)
                    try Request.startAll([receive, send])
                    try Request.waitAll([receive, send])
                    require(Array(buffer) == target, "\(name): a persistent receive with a datatype")
                }
            }
            // sendrecvReplace with a datatype: the grid's datatype part swapped with the peer's.
            var mine = grid
            try world.sendrecvReplace(&mine, count: count, datatype: type, to: peer, sendTag: 10, from: peer, recvTag: 10)
            require(mine == grid, "\(name): sendrecvReplace between equal grids changed the grid")
            // Matched probes received with a datatype: mrecv into an array, imrecv into a buffer
            // (from a contiguous sender).
            let outgoing = [
                try world.isend(grid, count: count, datatype: type, to: peer, tag: 12), try world.isend(expected, to: peer, tag: 13)
            ]
            var probed = [Double](repeating: -1, count: elements)
            let message = try world.mprobe(from: peer, tag: 12)
            let status = try world.mrecv(message, into: &probed, count: count, datatype: type)
            require(status.count(of: type) == count && status.byteCount == packed.count, "\(name): mrecv status \(status)")
            checkTyped(probed, "mprobe + mrecv with a datatype")
            probed = [Double](repeating: -1, count: elements)
            var found: Message?
            while found == nil { found = try world.improbe(from: peer, tag: 13) }
            try probed.withUnsafeMutableBufferPointer { buffer in
                _ = try world.imrecv(found!, into: buffer, count: count, datatype: type).wait()
            }
            checkTyped(probed, "improbe + imrecv with a datatype")
            try Request.waitAll(outgoing)
            // isendrecv with datatypes on both sides, and isendrecvReplace between different grids:
            // the datatype's part of each grid becomes the peer's, the rest stays.
            probed = [Double](repeating: -1, count: elements)
            try grid.withUnsafeBufferPointer { out in
                try probed.withUnsafeMutableBufferPointer { into in
                    _ = try world.isendrecv(
                        out, count: count, datatype: type, to: peer, sendTag: 14, into: into, count: count, datatype: type, from: peer, recvTag: 14
                    ).wait()
                }
            }
            checkTyped(probed, "isendrecv with datatypes")
            let sign: Double = world.rank == 0 ? 1 : -1
            var own = grid.map { $0 * sign }
            let replaced = own.indices.map { target[$0] == -1 ? own[$0] : -own[$0] }
            try own.withUnsafeMutableBufferPointer { buffer in
                _ = try world.isendrecvReplace(buffer, count: count, datatype: type, to: peer, sendTag: 15, from: peer, recvTag: 15).wait()
            }
            require(own == replaced, "\(name): isendrecvReplace with a datatype")
        }
        // Everyone: sendrecv round a ring with datatypes on both sides.
        var received = [Double](repeating: -1, count: elements)
        try world.sendrecv(
            grid, count: count, datatype: type, to: (world.rank + 1) % world.size, sendTag: 8,
            into: &received, count: count, datatype: type, from: (world.rank + world.size - 1) % world.size, recvTag: 8)
        checkTyped(received, "sendrecv ring")
        try world.barrierForTests()
    }
}

/// Mistakes with datatypes give typed errors before anything moves, and the job goes on: a footprint
/// outside the buffer (sending and receiving), a negative count, a receive that would truncate, and
/// a message that is not a whole number of the receive type's elements.
func datatypeErrors(_ world: Communicator) throws {
    let double = Datatype(Double.self)
    let column = try Datatype.vector(count: 10, blockLength: 1, stride: 10, of: double)
    let grid = [Double](repeating: 1, count: 100)
    let peer = world.rank == 0 ? world.size - 1 : 0
    guard world.size > 1, world.rank == 0 || world.rank == world.size - 1 else { return }
    // Records of an Int32 and a Float: contiguous, elements of two sizes (the region path).
    let mixed = try Datatype.structure([(offset: 0, count: 1, type: Datatype(Int32.self)), (offset: 4, count: 1, type: Datatype(Float.self))])
    let mixedRecords: [UInt64] = (1...3).map { UInt64(UInt32(bitPattern: Int32($0))) | UInt64((Float($0) * 1.5).bitPattern) << 32 }
    let short = [Double](repeating: 1, count: 90)
    let error = requireError(.invalidCount) { try world.send(short, count: 1, datatype: column, to: peer, tag: 1) }
    require(error?.message.contains("occupies bytes 0..<728") == true && error?.message.contains("720 bytes") == true, "message: \(String(describing: error))")
    requireError(.invalidCount) { try world.send(grid[91...], count: 1, datatype: column, to: peer, tag: 1) }
    requireError(.invalidCount) { try world.send(grid, count: -1, datatype: column, to: peer, tag: 1) }
    requireError(.invalidCount) { try world.send(grid, count: 2, datatype: column, to: peer, tag: 1) }
    var small = [Double](repeating: 0, count: 50)
    requireError(.invalidCount) { try world.recv(into: &small, count: 1, datatype: column, from: peer, tag: 1) }
    _ = short.withUnsafeBufferPointer { buffer in
        requireError(.invalidCount) { _ = try world.sendInit(buffer, count: 1, datatype: column, to: peer, tag: 1) }
    }
    var shortGrid = short
    shortGrid.withUnsafeMutableBufferPointer { buffer in
        _ = short.withUnsafeBufferPointer { out in
            requireError(.invalidCount) {
                _ = try world.isendrecv(out, count: 1, datatype: column, to: peer, sendTag: 1, into: buffer, count: 1, datatype: double, from: peer, recvTag: 1)
            }
        }
        requireError(.invalidCount) { _ = try world.isendrecvReplace(buffer, count: 1, datatype: column, to: peer, sendTag: 1, from: peer, recvTag: 1) }
    }
    if world.rank == 0 {
        try world.send(grid, count: 1, datatype: column, to: peer, tag: 2)  // the first message that really goes
        try world.send([Int32](repeating: 7, count: 3), to: peer, tag: 3)
        try world.send([Double](repeating: 2, count: 20), to: peer, tag: 4)
        try world.send([Int32](repeating: 7, count: 3), to: peer, tag: 5)
        try world.send([Int32](repeating: 7, count: 3), to: peer, tag: 6)
        try world.send(grid, count: 1, datatype: column, to: peer, tag: 7)
        try world.send([Double](repeating: 3, count: 10), to: peer, tag: 8)
        try world.send([Double](repeating: 4, count: 20), to: peer, tag: 9)
        try world.send(mixedRecords, count: 3, datatype: mixed, to: peer, tag: 10)
    } else {
        var received = [Double](repeating: 0, count: 100)
        let status = try world.recv(into: &received, count: 1, datatype: column, from: peer, tag: MPI.anyTag)
        require(status.tag == 2, "the refused sends sent nothing, yet tag \(status.tag) arrived first")
        requireError(.invalidDatatype) { try world.recv(into: &received, count: 1, datatype: column, from: peer, tag: 3) }
        let truncated = requireError(.truncate) { try world.recv(into: &received, count: 1, datatype: column, from: peer, tag: 4) }
        require(truncated?.status?.byteCount == 160, "truncation status: \(String(describing: truncated))")
        // Contiguous doubles: 12 bytes are not a whole number of them, blocking or not.
        var doubles = [Double](repeating: 0, count: 4)
        requireError(.invalidDatatype) { try world.recv(into: &doubles, count: 4, datatype: double, from: peer, tag: 5) }
        try doubles.withUnsafeMutableBufferPointer { buffer in
            let request = try world.irecv(into: buffer, count: 4, datatype: double, from: peer, tag: 6)
            requireError(.invalidDatatype) { try request.wait() }
        }
        // A matched message refused for the receive's footprint is not taken: it can still be received.
        let message = try world.mprobe(from: peer, tag: 7)
        var tooSmall = [Double](repeating: 0, count: 50)
        requireError(.invalidCount) { try world.mrecv(message, into: &tooSmall, count: 1, datatype: column) }
        var column10 = [Double](repeating: 0, count: 10)
        try world.mrecv(message, into: &column10, count: 10, datatype: double)
        require(column10 == [Double](repeating: 1, count: 10), "the matched message after a refused mrecv: \(column10)")
        // A send-receive refused for its destination or tag posts no receive: tag 8 is still there.
        var landing = [Double](repeating: 0, count: 10)
        landing.withUnsafeMutableBufferPointer { into in
            grid.withUnsafeBufferPointer { out in
                requireError(.invalidRank) {
                    _ = try world.isendrecv(
                        out, count: 1, datatype: column, to: world.size, sendTag: 1, into: into, count: 10, datatype: double, from: peer, recvTag: 8)
                }
                requireError(.invalidTag) { _ = try world.isendrecv(out, to: peer, sendTag: -5, into: into, from: peer, recvTag: 8) }
                requireError(.invalidRank) { _ = try world.isendrecvReplace(into, to: world.size, sendTag: 1, from: peer, recvTag: 8) }
            }
        }
        var outgoing = grid
        requireError(.invalidRank) { try world.sendrecv(grid, to: world.size + 3, sendTag: 1, into: &outgoing, from: peer, recvTag: 8) }
        try world.recv(into: &landing, from: peer, tag: 8)
        require(landing == [Double](repeating: 3, count: 10), "tag 8 after refused send-receives: \(landing)")
        // A matched message longer than the typed receive: .truncate.
        let long = try world.mprobe(from: peer, tag: 9)
        requireError(.truncate) { try world.mrecv(long, into: &received, count: 1, datatype: column) }
        // Contiguous records of mixed element sizes through a matched receive.
        var records = [UInt64](repeating: 0, count: 3)
        let recordStatus = try world.mrecv(try world.mprobe(from: peer, tag: 10), into: &records, count: 3, datatype: mixed)
        require(records == mixedRecords && recordStatus.count(of: mixed) == 3, "mixed records through mrecv: \(records), status \(recordStatus)")
    }
}

/// Datatypes in the safe and `async` forms, between ranks 0 and 1: a column sent with an awaited
/// `send` lands in an array moved into `irecv(into:count:datatype:)` and in one given to an awaited
/// `recv` (eager and rendezvous sizes), touching nothing outside the column; an owned column
/// receive dropped before its message arrives writes into nothing freed (CI runs this under
/// AddressSanitizer); a receive refused for its footprint leaves the caller's array as it was.
func datatypeAsync(_ world: Communicator) throws {
    guard world.size >= 2, world.rank < 2 else { return }
    let peer = 1 - world.rank
    let double = Datatype(Double.self)
    runTask("datatype-async") {
        for rows in [4, 3000] {
            let columns = 5
            let column = try Datatype.vector(count: rows, blockLength: 1, stride: columns, of: double)
            let grid = (0..<(rows * columns)).map { Double($0) }
            let expected = (0..<(rows * columns)).map { $0 % columns == 0 ? Double($0) : -1 }
            if world.rank == 0 {
                try await world.send(grid, count: 1, datatype: column, to: peer, tag: 900)
                try await world.send(grid, count: 1, datatype: column, to: peer, tag: 901)
                try await world.send(grid, count: 1, datatype: column, to: peer, tag: 902)
            } else {
                let moved = try world.irecv(into: [Double](repeating: -1, count: rows * columns), count: 1, datatype: column, from: peer, tag: 900)
                let (values, status) = try moved.wait()
                require(values == expected && status.count(of: Double.self) == rows, "datatype-async: irecv(into:count:datatype:) of \(rows)")
                var awaited = [Double](repeating: -1, count: rows * columns)
                let awaitedStatus = try await world.recv(into: &awaited, count: 1, datatype: column, from: peer, tag: 901)
                require(awaited == expected && awaitedStatus.byteCount == 8 * rows, "datatype-async: awaited recv of \(rows)")
                _ = try world.irecv(into: [Double](repeating: -1, count: rows * columns), count: 1, datatype: column, from: peer, tag: 902)  // dropped
                let bystanders = (0..<16).map { _ in [Double](repeating: 7, count: rows * columns) }
                var marker: [UInt8] = [0]
                try await world.recv(into: &marker, from: peer, tag: 903)
                require(bystanders.allSatisfy { $0.allSatisfy { $0 == 7 } }, "datatype-async: a dropped column receive wrote elsewhere")
            }
            if world.rank == 0 { try await world.send([UInt8(1)], to: peer, tag: 903) }
        }
        if world.rank == 1 {
            // A footprint larger than the array: refused at once, the array kept.
            let column = try Datatype.vector(count: 10, blockLength: 1, stride: 10, of: double)
            var small = [Double](repeating: 3, count: 50)
            do {
                try await world.recv(into: &small, count: 1, datatype: column, from: peer, tag: 904)
                require(false, "datatype-async: a column longer than its array was accepted")
            } catch let error as MPIError {
                require(
                    error.code == .invalidCount && small == [Double](repeating: 3, count: 50),
                    "datatype-async: refused receive: \(error), \(small.count) elements")
            }
        }
    }
}
