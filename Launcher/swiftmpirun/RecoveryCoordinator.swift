#if canImport(Glibc)
import Glibc
#endif
import SwiftMPIWireup

/// Recovery mode's coordinator (`--enable-recovery`): the launcher keeps the job going when a rank
/// fails, tells every survivor, relays revokes, and decides agreements.
///
/// It speaks text lines on the ranks' status channels (docs/Recovery.md lists them):
///
/// - to ranks: `!failed R REASON` (world rank R is gone), `!revoked CONTEXT R` (world rank R revoked
///   the communicator on CONTEXT), `!agreed KEY WORDS MAXIMA FAILED` (an agreement's result: the
///   members' words combined with bitwise and, in hex, their values combined with max, and the
///   members that failed before it was decided; `-` for an empty list);
/// - from ranks: `!revoke CONTEXT MEMBERS` and `!agree KEY MEMBERS WORDS MAXIMA`.
///
/// An agreement is decided once every member has either contributed or is gone (failed, or exited),
/// so every survivor gets the same answer however failures fall: the launcher sees every death (it
/// reaps the rank), and it is the one process whose loss ends the job anyway. Lines from a rank
/// already gone are ignored (a rank may write a line and die; the launcher may reap it first). Cost: one line to the launcher and one
/// back per rank and agreement (O(members) characters each), which is fine for recovery, not for a
/// hot loop.
final class RecoveryCoordinator {
    /// Ranks lost so far, with the launcher's one-line reason.
    private(set) var lost: [Int: String] = [:]
    private var agreements: [String: Agreement] = [:]
    /// Writes one line to a rank's status channel (when it still runs).
    private let send: (Int, String) -> Void
    /// The ranks still running.
    private let running: () -> [Int]
    /// Whether a rank still runs.
    private let isRunning: (Int) -> Bool

    private struct Agreement {
        var members: [Int]
        var words: [UInt64]?
        var maxima: [Int]?
        var contributed = Set<Int>()
    }

    init(send: @escaping (Int, String) -> Void, running: @escaping () -> [Int], isRunning: @escaping (Int) -> Bool) {
        self.send = send
        self.running = running
        self.isRunning = isRunning
    }

    /// Rank `rank` failed: every running rank is told, and agreements waiting for it are decided.
    func rankFailed(_ rank: Int, reason: String) {
        guard lost[rank] == nil else { return }
        lost[rank] = reason
        for survivor in running() where survivor != rank { send(survivor, "!failed \(rank) \(reason)\n") }
        rankExited()
    }

    /// A rank exited (well or not): agreements waiting for it are decided without it.
    func rankExited() {
        for key in Array(agreements.keys) { decideIfDue(key) }
    }

    /// One request line from `rank` (with its `!`, without the newline). Malformed lines are
    /// ignored: a rank is not trusted to write well-formed ones (it could be a user's program
    /// writing to descriptor 3 by mistake).
    func handle(_ line: Substring, from rank: Int) {
        guard isRunning(rank) else { return }
        let fields = line.dropFirst().split(separator: " ")
        switch fields.first {
        case "revoke" where fields.count == 3:
            guard let context = UInt32(fields[1]), let members = RecoveryLine.parse(fields[2]) else { return }
            for member in members where member != rank && isRunning(member) { send(member, "!revoked \(context) \(rank)\n") }
        case "agree" where fields.count == 5:
            guard let members = RecoveryLine.parse(fields[2]), members.contains(rank), let words = RecoveryLine.parse(fields[3], radix: 16, as: UInt64.self),
                let maxima = RecoveryLine.parse(fields[4])
            else { return }
            let key = String(fields[1])
            var agreement = agreements[key] ?? Agreement(members: members)
            guard agreement.members == members, !agreement.contributed.contains(rank) else { return }
            agreement.contributed.insert(rank)
            agreement.words = agreement.words.map { combine($0, words, &) } ?? words
            agreement.maxima = agreement.maxima.map { combine($0, maxima, max) } ?? maxima
            agreements[key] = agreement
            decideIfDue(key)
        default: return
        }
    }

    private func decideIfDue(_ key: String) {
        guard let agreement = agreements[key],
            agreement.members.allSatisfy({ agreement.contributed.contains($0) || !isRunning($0) })
        else { return }
        agreements[key] = nil
        let failed = agreement.members.filter { !isRunning($0) }
        let line =
            "!agreed \(key) \(RecoveryLine.list(agreement.words ?? [], radix: 16)) \(RecoveryLine.list(agreement.maxima ?? [])) \(RecoveryLine.list(failed))\n"
        for member in agreement.members where agreement.contributed.contains(member) && isRunning(member) { send(member, line) }
    }

    /// Combines two lists element by element (a longer list keeps its tail).
    private func combine<T>(_ a: [T], _ b: [T], _ op: (T, T) -> T) -> [T] {
        (0..<max(a.count, b.count)).map { $0 < a.count && $0 < b.count ? op(a[$0], b[$0]) : ($0 < a.count ? a[$0] : b[$0]) }
    }
}

/// The lines a rank writes on its status channel, read without blocking the launcher: hang-report
/// answers (`rank R: …`) and recovery requests (`!…`).
struct StatusLines {
    private var pending: [Int32: [UInt8]] = [:]

    /// Reads what `fd` has and returns the complete lines; nil at end of file or on an error.
    mutating func read(_ fd: Int32) -> [Substring]? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count: Int
        switch try? nonblockingSystemCall("read", { buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) } }) {
        case .done(let read): count = read
        case .wouldBlock: return []
        case nil: count = -1  // an error: the end of this writer
        }
        guard count > 0 else {
            pending[fd] = nil
            return nil
        }
        pending[fd, default: []] += buffer[0..<count]
        guard let last = pending[fd]!.lastIndex(of: UInt8(ascii: "\n")) else {
            if pending[fd]!.count > 1 << 20 { pending[fd] = nil }  // no line is this long: a stray writer
            return []
        }
        let text = String(decoding: pending[fd]![..<last], as: UTF8.self)
        pending[fd]!.removeSubrange(...last)
        return text.split(separator: "\n", omittingEmptySubsequences: true)
    }
}
