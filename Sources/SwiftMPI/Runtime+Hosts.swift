/// A rank's `host/<rank>` value in the wire-up exchange: "<local rank> <host name>".
struct HostRecord {
    /// The rank's index among the ranks of its host (-1 when the value is malformed).
    let localRank: Int
    /// The host's name as the launcher or resource manager calls it.
    let name: String

    init(_ value: [UInt8]) {
        let text = String(decoding: value, as: UTF8.self)
        localRank = Int(text.prefix { $0 != " " }) ?? -1
        name = String(text.drop { $0 != " " }.dropFirst())
    }
}

extension Runtime {
    /// The job's hosts in order of their lowest world rank, and each world rank's host (by number).
    /// Wire-up reads only the ranks of this host; the whole map is read from the exchange (every
    /// rank's `host/` key) at the first call, which only process sets and tracing make, and kept.
    /// One host, this one, for a singleton.
    func hostMap() -> (names: [String], ofRank: [Int]) {
        lock?.lock()
        defer { lock?.unlock() }
        if engine.hostOfRank.count == size { return (engine.hostNames, engine.hostOfRank) }
        guard let keyValue, size > 1 else { return ([MPI.processorName], [Int](repeating: 0, count: size)) }
        var names: [String] = []
        var numbers: [String: Int] = [:]
        var ofRank: [Int] = []
        for peer in 0..<size {
            // A rank that put no host (it cannot happen after wire-up) is counted as its own host.
            let name = (try? keyValue.get("host/\(peer)")).flatMap { $0 }.map { HostRecord($0).name } ?? "rank \(peer)"
            if numbers[name] == nil {
                numbers[name] = names.count
                names.append(name)
            }
            ofRank.append(numbers[name]!)
        }
        engine.hostNames = names
        engine.hostOfRank = ofRank
        return (names, ofRank)
    }
}
