import Testing
@testable import SwiftMPI

/// The engine's hand-managed containers against a plain array model, through wrap-around, growth
/// and removal from every position.
@Suite("engine containers")
struct ReferenceContainerTests {
    @Test("the engine's match header and the transports' packet header have one layout (the bit casts between them rely on it)")
    func headerLayouts() {
        #expect(MatchHeader.layoutMatchesPacket)
        let header = MatchHeader(context: 7, source: -3, tag: 99, flags: 2, length: 1 << 40, senderOperation: 5, receiverOperation: 6)
        let back = MatchHeader(header.packet)
        #expect(
            back.context == 7 && back.source == -3 && back.tag == 99 && back.flags == 2 && back.length == 1 << 40
                && back.senderOperation == 5 && back.receiverOperation == 6)
    }

    @Test("ReceiveQueue keeps first-in, first-out order like an array under random appends and removals")
    func receiveQueueMatchesArray() {
        var queue = ReceiveQueue(capacity: 4)
        defer { queue.release() }
        var model: [ReceiveOperation] = []
        var generator = SystemRandomNumberGenerator()
        for step in 0..<20_000 {
            if model.isEmpty || Int.random(in: 0..<3, using: &generator) > 0 && model.count < 300 {
                let operation = ReceiveOperation()
                operation.pattern.tag = Int32(truncatingIfNeeded: step)
                queue.append(operation)
                model.append(operation)
            } else {
                // Mostly the oldest (the usual match), sometimes anywhere.
                let index = Bool.random(using: &generator) ? 0 : Int.random(in: 0..<model.count, using: &generator)
                #expect(queue.remove(at: index) === model.remove(at: index))
            }
            #expect(queue.count == model.count)
            if step % 97 == 0 {
                #expect(queue.elements.map(ObjectIdentifier.init) == model.map(ObjectIdentifier.init))
                if let last = model.last { #expect(queue.firstIndex(of: last) == model.count - 1) }
            }
        }
    }

    @Test("ReferenceStack pops in reverse push order, grows, and holds its elements alive")
    func referenceStack() {
        var stack = ReferenceStack<SendOperation>(capacity: 1)
        weak var first: SendOperation?
        do {
            let operations = (0..<100).map { _ in SendOperation() }
            first = operations[0]
            for operation in operations { stack.push(operation) }
            #expect(stack.count == 100)
        }
        #expect(first != nil, "the stack keeps what it holds alive")
        var popped = 0
        while let operation = stack.pop() {
            popped += 1
            if stack.count == 0 { #expect(operation === first) }
        }
        #expect(popped == 100 && first == nil)
        stack.release()
    }
}

/// The collective schedules' scratch pool: what it keeps, what it hands out again, and its limits.
/// (Nothing else in the test process runs collectives, so the pool is this test's alone.)
@Suite("scratch pool")
struct ScratchPoolTests {
    @Test("buffers of 16 KiB to 4 MiB are kept up to the budget and handed out again for a quarter of their size or more")
    func keepsAndReuses() {
        let start = ScratchPool.keptBytes
        ScratchPool.give(ScratchPool.take(100))  // below 16 KiB: freed, not kept
        #expect(ScratchPool.keptBytes == start)
        let first = ScratchPool.take(20_000)
        #expect(first.count == 32 * 1024 && Int(bitPattern: first.baseAddress) % 64 == 0)
        ScratchPool.give(first)
        #expect(ScratchPool.keptBytes == start + 32 * 1024)
        let again = ScratchPool.take(30_000)
        #expect(again.baseAddress == first.baseAddress && ScratchPool.keptBytes == start, "a kept buffer is handed out again")
        ScratchPool.give(again)
        let quarter = ScratchPool.take(ScratchPool.smallest)
        #expect(quarter.baseAddress == first.baseAddress, "32 KiB serves 16 KiB (a quarter or more)")
        ScratchPool.give(quarter)
        ScratchPool.give(ScratchPool.take(ScratchPool.largest + 1))  // larger than any kept buffer: freed
        #expect(ScratchPool.keptBytes == start + 32 * 1024)
        // The budget: of budget / 4 MiB + 1 buffers of 4 MiB, only as many as fit are kept.
        let room = ScratchPool.budget - ScratchPool.keptBytes
        let many = (0..<(ScratchPool.budget / ScratchPool.largest + 1)).map { _ in ScratchPool.take(ScratchPool.largest) }
        many.forEach(ScratchPool.give)
        #expect(ScratchPool.keptBytes == start + 32 * 1024 + room / ScratchPool.largest * ScratchPool.largest)
        #expect(ScratchPool.keptBytes <= ScratchPool.budget)
    }
}
