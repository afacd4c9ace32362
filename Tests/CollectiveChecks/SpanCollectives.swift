import SwiftMPI

/// Collectives on spans against their array forms' answers, from every root, including a refused
/// result span that is too short (every rank throws, the next collective works).
func checkSpanCollectives(_ world: Communicator) throws {
    let n = world.size, r = world.rank
    for count in [0, 3, 2000] {
        for root in Array(Set([0, n - 1])).sorted() {
            var buffer = r == root ? (0..<count).map { Int64($0 * 7 + root) } : [Int64](repeating: -1, count: count)
            var span = buffer.mutableSpan
            try world.bcast(&span, root: root)
            _ = consume span
            require(buffer == (0..<count).map { Int64($0 * 7 + root) }, "bcast on a span, \(count) root \(root)")

            let mine = [Int](repeating: r + 1, count: count)
            var reduced = [Int](repeating: -1, count: count)
            var reducedSpan = reduced.mutableSpan
            try world.reduce(mine.span, into: &reducedSpan, op: .sum, root: root)
            _ = consume reducedSpan
            require(reduced == (r == root ? [Int](repeating: n * (n + 1) / 2, count: count) : [Int](repeating: -1, count: count)), "reduce on spans \(count)")

            var gathered = [Int32](repeating: -1, count: r == root ? n * count : 0)
            var gatheredSpan = gathered.mutableSpan
            try world.gather([Int32](repeating: Int32(r), count: count).span, into: &gatheredSpan, root: root)
            _ = consume gatheredSpan
            require(r != root || gathered == (0..<n).flatMap { [Int32](repeating: Int32($0), count: count) }, "gather on spans \(count)")

            let everyone = r == root ? (0..<(n * count)).map { Int16(truncatingIfNeeded: $0) } : []
            var part = [Int16](repeating: -1, count: count)
            var partSpan = part.mutableSpan
            try world.scatter(everyone.span, into: &partSpan, root: root)
            _ = consume partSpan
            require(part == (0..<count).map { Int16(truncatingIfNeeded: r * count + $0) }, "scatter on spans \(count)")
        }
        var values = (0..<count).map { Double($0) + Double(r) }
        var valuesSpan = values.mutableSpan
        try world.allreduce(inPlace: &valuesSpan, op: .max)
        _ = consume valuesSpan
        require(values == (0..<count).map { Double($0) + Double(n - 1) }, "allreduce in place on a span \(count)")
        var sum = [Double](repeating: 0, count: count)
        var sumSpan = sum.mutableSpan
        try world.allreduce([Double](repeating: 1, count: count).span, into: &sumSpan, op: .sum)
        _ = consume sumSpan
        require(sum == [Double](repeating: Double(n), count: count), "allreduce on spans \(count)")
        var all = [UInt8](repeating: 0, count: n * count)
        var allSpan = all.mutableSpan
        try world.allgather([UInt8](repeating: UInt8(r), count: count).span, into: &allSpan)
        _ = consume allSpan
        require(all == (0..<n).flatMap { [UInt8](repeating: UInt8($0), count: count) }, "allgather on spans \(count)")
        let blocks = (0..<n).flatMap { to in [UInt16](repeating: UInt16(r * 100 + to), count: count) }
        var exchanged = [UInt16](repeating: 0, count: n * count)
        var exchangedSpan = exchanged.mutableSpan
        try world.alltoall(blocks.span, into: &exchangedSpan)
        _ = consume exchangedSpan
        require(exchanged == (0..<n).flatMap { from in [UInt16](repeating: UInt16(from * 100 + r), count: count) }, "alltoall on spans \(count)")
    }
    // Span and array forms mixed in one collective (even ranks spans, odd ranks arrays): inside the
    // shared-memory channel (3 elements) and past it (5000 Int32, 20 000 bytes a rank).
    for count in [3, 5000] {
        let root = n - 1
        let mine = [Int32](repeating: Int32(r), count: count)
        var gathered = [Int32](repeating: -1, count: r == root ? n * count : 0)
        if r % 2 == 0 {
            var output = gathered.mutableSpan
            try world.gather(mine.span, into: &output, root: root)
        } else if let result = try world.gather(mine, root: root) {
            gathered = result
        }
        require(r != root || gathered == (0..<n).flatMap { [Int32](repeating: Int32($0), count: count) }, "gather, spans and arrays mixed, \(count)")
        let everyone = r == root ? (0..<(n * count)).map { Int32($0) } : []
        var part = [Int32](repeating: -1, count: count)
        if r % 2 == 0 {
            var output = part.mutableSpan
            try world.scatter(everyone.span, into: &output, root: root)
        } else {
            part = try world.scatter(r == root ? everyone : [], root: root)
        }
        require(part == (0..<count).map { Int32(r * count + $0) }, "scatter, spans and arrays mixed, \(count)")
    }
    var tooShort = [Double](repeating: 0, count: 1)
    var tooShortSpan = tooShort.mutableSpan
    do {
        try world.allreduce([1.0, 2.0].span, into: &tooShortSpan, op: .sum)
        require(false, "allreduce into a span too short returned")
    } catch {
        require(error.code == .invalidCount, "allreduce into a span too short: \(error)")
    }
    _ = consume tooShortSpan
    require(try world.allreduce([1], op: .sum) == [n], "allreduce after a refused span")
    // A root whose gather result or scatter values are too short: the root (gather) or every rank
    // (scatter) throws .invalidCount, and no rank is left waiting (in the channel, and by messages).
    for count in [3, 5000] {
        let root = n - 1
        var short = [Int32](repeating: 0, count: r == root ? n * count - 1 : 0)
        do {
            var output = short.mutableSpan
            try world.gather([Int32](repeating: Int32(r), count: count).span, into: &output, root: root)
            require(r != root, "gather into a root result too short returned at the root")
        } catch {
            require(r == root && error.code == .invalidCount, "gather into a root result too short, rank \(r): \(error)")
        }
        require(try world.allreduce([1], op: .sum) == [n], "allreduce after a gather refused at its root, \(count)")
        let few = r == root ? [Int32](repeating: 1, count: n * count - 1) : []
        var part = [Int32](repeating: 0, count: count)
        do {
            var output = part.mutableSpan
            try world.scatter(few.span, into: &output, root: root)
            require(false, "scatter of too few values returned on rank \(r)")
        } catch {
            require(error.code == .invalidCount || error.code == .truncate, "scatter of too few values, rank \(r): \(error)")
        }
        require(try world.allreduce([1], op: .sum) == [n], "allreduce after a scatter of too few values, \(count)")
    }
}
