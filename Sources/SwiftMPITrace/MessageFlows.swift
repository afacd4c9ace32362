/// Pairs each point-to-point message a rank sent with the receive that matched it on another rank.
///
/// No message carries an id on the wire: the pairing follows from MPI's ordering rule instead. Two
/// messages from one sender to one receiver on one communicator with one tag are matched in the
/// order they were sent, so the k-th such send pairs with the k-th such receive. (Receives with
/// wildcards still match each message of one (source, tag) in order.) Ranks keep their oldest
/// events when their ring is full, so the pairs that remain stay exact; a send whose receive was
/// never made (or not recorded) stays unpaired.
package struct MessageFlows: Sendable {
    /// One message: the index of its send event in the sender's trace and of its receive event in
    /// the receiver's.
    package struct Flow: Equatable, Sendable {
        package var sender: Int
        package var receiver: Int
        package var sendEvent: Int
        package var receiveEvent: Int
        package var bytes: Int
    }

    package private(set) var flows: [Flow] = []
    /// Sends and receives left without a partner.
    package private(set) var unpairedSends = 0
    package private(set) var unpairedReceives = 0

    private struct Channel: Hashable {
        var sender: Int
        var receiver: Int
        var context: UInt32
        var tag: Int
    }

    /// Pairs the messages of `traces` (one per rank; ranks may be missing).
    package init(_ traces: [RankTrace]) {
        let traces = RankTrace.distinct(traces)
        var sends: [Channel: [Int]] = [:]
        var receives: [Channel: [Int]] = [:]
        for trace in traces {
            for (index, event) in trace.events.enumerated() {
                switch event.kind {
                case .send: sends[Channel(sender: trace.rank, receiver: event.peer, context: event.context, tag: event.tag), default: []].append(index)
                case .receive:
                    receives[Channel(sender: event.peer, receiver: trace.rank, context: event.context, tag: event.tag), default: []].append(index)
                case .call, .region: break
                }
            }
        }
        let byRank = Dictionary(traces.map { ($0.rank, $0) }, uniquingKeysWith: { first, _ in first })
        for (channel, sent) in sends {
            let received = receives.removeValue(forKey: channel) ?? []
            let paired = min(sent.count, received.count)
            for k in 0..<paired {
                let bytes = byRank[channel.receiver]?.events[received[k]].bytes ?? 0
                flows.append(Flow(sender: channel.sender, receiver: channel.receiver, sendEvent: sent[k], receiveEvent: received[k], bytes: bytes))
            }
            unpairedSends += sent.count - paired
            unpairedReceives += received.count - paired
        }
        for (_, received) in receives { unpairedReceives += received.count }
        flows.sort { ($0.sender, $0.sendEvent) < ($1.sender, $1.sendEvent) }
    }
}
