/// What a receive or probe accepts: a communicator's context, a source rank in it (or any), a tag
/// (or any). The one match predicate, used by posted receives, the unexpected queue and probes.
struct MatchPattern {
    var context: UInt32
    /// A rank in the communicator, or `MPI.anySourceCode`.
    var source: Int32
    /// A tag, or `MPI.anyTagCode`.
    var tag: Int32

    @inline(__always)
    func matches(_ header: MatchHeader) -> Bool {
        context == header.context
            && (source == MPI.anySourceCode || source == header.source)
            && (tag == MPI.anyTagCode || tag == header.tag)
    }
}

/// A message taken out of matching by a matched probe, to be received later (`mprobe`/`mrecv`).
struct MatchedMessage {
    fileprivate let message: UnexpectedMessage

    /// Its source, tag and length.
    var status: Status { message.status }
}

extension Engine {
    /// A communicator is being freed: drops the messages that arrived on `context` and no receive
    /// took (a communicator made later may take the context again and must not match them), and
    /// tells a sender that waits for one (a rendezvous offer, a synchronous send) that it was
    /// refused, so that it fails instead of waiting forever. Returns how many there were.
    func discardUnreceived(onContext context: UInt32) -> Int {
        var dropped = 0
        var index = 0
        while index < unexpected.count {
            if unexpected[index].header.context == context {
                let message = unexpected.remove(at: index)
                refuse(message.header, offered: message.offer != nil, from: message.peer)
                dropped += 1
            } else {
                index += 1
            }
        }
        return dropped
    }

    /// Posts `operation`: takes the earliest matching unexpected message, or waits in the posted queue.
    func postReceive(_ operation: ReceiveOperation) {
        if anyFault && failIfFaulty(operation, beforeMatching: true) { return }  // nothing more is received on a dead context
        // Plain index loops here and below: the generic `firstIndex(where:)` allocates a context when
        // it is not specialized (debug builds), and this is the small-message path.
        var index = 0
        while index < unexpected.count {
            if operation.pattern.matches(unexpected[index].header) {
                consume(unexpected.remove(at: index), into: operation)
                return
            }
            index += 1
        }
        // Nothing from a failed peer will come any more: a receive naming it fails now instead of
        // waiting forever (what already arrived from it was matched above).
        if anyFault && failIfFaulty(operation, beforeMatching: false) { return }
        routes.expectPackets(from: operation.peer)
        posted.append(operation)
    }

    /// Removes a posted receive that has not matched; false if it already matched.
    func cancelReceive(_ operation: ReceiveOperation) -> Bool {
        guard let index = posted.firstIndex(of: operation) else { return false }
        _ = posted.remove(at: index)
        return true
    }

    /// The status of the earliest unexpected message matching `pattern`, left in place (probe).
    func probe(_ pattern: MatchPattern) -> Status? {
        firstUnexpected(pattern).map { unexpected[$0].status }
    }

    /// Takes the earliest unexpected message matching `pattern` out of matching (matched probe).
    func takeMatched(_ pattern: MatchPattern) -> MatchedMessage? {
        firstUnexpected(pattern).map { MatchedMessage(message: unexpected.remove(at: $0)) }
    }

    /// Receives a message taken by ``takeMatched(_:)`` into `operation`.
    func receive(_ message: MatchedMessage, into operation: ReceiveOperation) {
        consume(message.message, into: operation)
    }

    private func firstUnexpected(_ pattern: MatchPattern) -> Int? {
        var index = 0
        while index < unexpected.count {
            if pattern.matches(unexpected[index].header) { return index }
            index += 1
        }
        return nil
    }

    /// Delivers a message taken from the unexpected queue.
    private func consume(_ message: UnexpectedMessage, into operation: ReceiveOperation) {
        if let offer = message.offer {
            message.payload.withUnsafeBytes { acceptRendezvous(operation, message.header, offer, prefix: $0, from: message.peer) }
        } else {
            message.payload.withUnsafeBytes { deliverEager(operation, message.header, $0, from: message.peer) }
        }
    }

    /// The earliest posted receive matching an arrived packet, taken out of the queue.
    @inline(__always)
    func takePostedMatch(_ header: MatchHeader) -> ReceiveOperation? {
        guard let index = posted.firstMatch(header) else { return nil }
        return posted.remove(at: index)
    }
}
