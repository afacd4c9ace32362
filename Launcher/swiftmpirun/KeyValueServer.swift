import CShims
import SwiftMPIWireup
#if canImport(Glibc)
import Glibc
#endif

/// The launcher's side of the key-value exchange (put, get, fence, abort, finalize).
///
/// Driven by the job's poll loop: it never blocks. Every request must carry the job secret and a
/// connection must introduce itself (hello) before anything else; a connection that breaks either
/// rule, or sends anything malformed, is logged on stderr and closed. The server itself never fails
/// because of what a client sends.
final class KeyValueServer {
    /// What the job must act on after a request.
    enum Event {
        case hello(rank: Int, pid: Int32)
        case abort(rank: Int, code: Int32, message: String)
        case finalized(rank: Int)
    }

    private final class Connection {
        let fd: Int32
        var decoder = KeyValueFrameDecoder()
        var rank: Int?
        var output: [UInt8] = []
        /// For a rank on another host: where responses go (its daemon link). Nil for local sockets.
        let forward: (([UInt8]) -> Void)?
        init(fd: Int32, forward: (([UInt8]) -> Void)? = nil) {
            self.fd = fd
            self.forward = forward
        }
    }

    /// The abstract address ranks connect to (`@swiftmpi-kvs-…`), or nil when only forwarded requests
    /// are served.
    let address: String?
    private var listenFD: Int32
    private let secret: JobSecret
    private let rankCount: Int
    private var connections: [Int32: Connection] = [:]
    private var store: [String: [UInt8]] = [:]
    private var fenceWaiters: [Int: Connection] = [:]
    private var rankConnected = Set<Int>()
    /// Ranks lost in recovery mode: fences complete without them.
    private var lost = Set<Int>()
    /// Ranks on other hosts, whose requests arrive through their daemons (keyed by rank).
    private var forwarded: [Int: Connection] = [:]
    /// Requests served, by kind: what wire-up costs the launcher (`SWIFTMPI_DEBUG=1` prints it).
    private(set) var served = (puts: 0, gets: 0, fences: 0)

    /// "P puts, G gets, F fences from N ranks": the requests served so far.
    var summary: String { "\(served.puts) puts, \(served.gets) gets, \(served.fences) fences from \(rankCount) ranks" }

    /// Serves on a fresh abstract Unix socket when `listening` (single host; ``address``), or only
    /// forwarded requests.
    init(listening: Bool, secret: JobSecret, rankCount: Int) throws(WireupError) {
        if listening {
            (listenFD, address) = try UnixSocket.listenAbstract(prefix: "swiftmpi-kvs")
        } else {
            (listenFD, address) = (-1, nil)
        }
        self.secret = secret
        self.rankCount = rankCount
    }

    deinit {
        for fd in connections.keys { close(fd) }
        stopListening()
    }

    /// Closes the listening socket (once every rank has said hello nothing else may connect); the
    /// connections stay. Calling it again does nothing.
    func stopListening() {
        if listenFD >= 0 { close(listenFD) }
        listenFD = -1
    }

    /// The descriptors to poll and the events wanted on each.
    var pollRequests: [(fd: Int32, events: Int16)] {
        (listenFD >= 0 ? [(listenFD, Int16(POLLIN))] : [])
            + connections.values.map {
                ($0.fd, Int16(POLLIN) | ($0.output.isEmpty ? 0 : Int16(POLLOUT)))
            }
    }

    /// Handles readiness on `fd` (one of ``pollRequests``); returns the events for the job.
    func handle(fd: Int32, revents: Int16) -> [Event] {
        if fd == listenFD {
            acceptPending()
            return []
        }
        guard let connection = connections[fd] else { return [] }
        if revents & Int16(POLLOUT) != 0 { flush(connection) }
        guard revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 else { return [] }
        switch ReadBuffer.read(fd, recvFlags: Int32(MSG_DONTWAIT)) {
        case .bytes(let bytes):
            connection.decoder.append(bytes)
        case .wouldBlock:
            return []
        case .ended:
            drop(connection, reason: nil)
            return []
        }
        var events: [Event] = []
        do {
            while let request = try connection.decoder.nextRequest(secret: secret) {
                if let event = try serve(request, on: connection) { events.append(event) }
            }
        } catch {
            drop(connection, reason: "\(error)")
        }
        return events
    }

    /// Handles request bytes that a daemon forwarded for `rank` over its authenticated link (the
    /// daemon checked the secret on its host); responses go back through `reply`.
    func handleForwarded(rank: Int, bytes: [UInt8], reply: @escaping ([UInt8]) -> Void) -> [Event] {
        let connection = forwarded[rank] ?? Connection(fd: -1, forward: reply)
        forwarded[rank] = connection
        connection.decoder.append(bytes)
        var events: [Event] = []
        do {
            while let request = try connection.decoder.nextRequest(secret: nil) {
                if case .hello(let claimed, _) = request, claimed != rank {
                    throw WireupError.refused("forwarded hello claims rank \(claimed) on the link of rank \(rank)")
                }
                if let event = try serve(request, on: connection) { events.append(event) }
            }
        } catch {
            report("refused key-value request forwarded for rank \(rank): \(error)")
            forwarded[rank] = nil
        }
        return events
    }

    private func serve(_ request: KeyValueRequest, on connection: Connection) throws(WireupError) -> Event? {
        if case .hello(let rank, let pid) = request {
            guard connection.rank == nil, rank >= 0, rank < rankCount, !rankConnected.contains(rank) else {
                throw .refused("hello from rank \(rank) is out of range or a duplicate")
            }
            connection.rank = rank
            rankConnected.insert(rank)
            respond(connection, .ok(value: []))
            return .hello(rank: rank, pid: pid)
        }
        guard let rank = connection.rank else { throw .refused("request before hello") }
        switch request {
        case .hello:
            return nil  // handled above
        case .put(let key, let value):
            served.puts += 1
            store[key] = value
            respond(connection, .ok(value: []))
        case .get(let key):
            served.gets += 1
            respond(connection, store[key].map { .ok(value: $0) } ?? .notFound)
        case .fence:
            served.fences += 1
            fenceWaiters[rank] = connection
            completeFenceIfDue()
        case .abort(let code, let message):
            respond(connection, .ok(value: []))
            return .abort(rank: rank, code: code, message: message)
        case .finalize:
            respond(connection, .ok(value: []))
            return .finalized(rank: rank)
        }
        return nil
    }

    /// Recovery mode: `rank` is gone, and fences (the one at `MPI.finalize()`) complete without it.
    func rankLost(_ rank: Int) {
        lost.insert(rank)
        fenceWaiters[rank] = nil
        completeFenceIfDue()
    }

    private func completeFenceIfDue() {
        guard !fenceWaiters.isEmpty, fenceWaiters.count + lost.count >= rankCount else { return }
        let waiters = fenceWaiters.values
        fenceWaiters.removeAll()
        for waiter in waiters { respond(waiter, .ok(value: [])) }
    }

    private func respond(_ connection: Connection, _ response: KeyValueResponse) {
        if let forward = connection.forward {
            forward(response.encoded())
            return
        }
        connection.output += response.encoded()
        flush(connection)
    }

    private func flush(_ connection: Connection) {
        while !connection.output.isEmpty {
            let result: SystemCallResult<Int>
            do {
                result = try nonblockingSystemCall("send") {
                    connection.output.withUnsafeBytes { send(connection.fd, $0.baseAddress!, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
                }
            } catch {
                drop(connection, reason: nil)
                return
            }
            guard case .done(let n) = result, n > 0 else { return }  // full: wait for POLLOUT
            connection.output.removeFirst(n)
        }
    }

    private func acceptPending() {
        while true {
            switch UnixSocket.acceptFromOwnUser(listenFD) {
            case .accepted(let fd): connections[fd] = Connection(fd: fd)
            case .refused(let reason): report(reason)
            case .nonePending: return
            }
        }
    }

    private func drop(_ connection: Connection, reason: String?) {
        if let reason {
            let who = UnixSocket.peerPID(connection.fd).map { "pid \($0)" } ?? "an unknown process"
            let rank = connection.rank.map { " (rank \($0))" } ?? ""
            report("refused key-value connection from \(who)\(rank): \(reason)")
        }
        if let rank = connection.rank, fenceWaiters[rank] === connection { fenceWaiters[rank] = nil }
        connections[connection.fd] = nil
        close(connection.fd)
    }
}
