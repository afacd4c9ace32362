#if canImport(Glibc)
import Glibc
#endif

// PMI-2 over the descriptor a process manager leaves open in the rank (PMI_FD), as `srun --mpi=pmi2`
// does (Slurm's mpi/pmi2 plugin answers in slurmstepd). One request at a time; every request gets one
// response, except abort, which gets none.
//
//   rank                                                 process manager
//    │  cmd=init pmi_version=2 pmi_subversion=0\n          (PMI-1 line; one write, under 64 bytes:
//    │ ────────────────────────────────────────────────►    Slurm reads it with a single read)
//    │  cmd=response_to_init rc=0 pmi_version=2 pmi_subversion=0\n
//    │ ◄────────────────────────────────────────────────
//    │  "51    " cmd=fullinit;pmijobid=7.0;pmirank=3;threaded=FALSE;
//    │ ────────────────────────────────────────────────►   every later message: a 6-byte decimal
//    │  "114   " cmd=fullinit-response;rc=0;pmi-version=2;  length, left-aligned and padded with
//    │           pmi-subversion=0;rank=3;size=4;appnum=-1;  spaces, then that many bytes of
//    │           debugged=FALSE;pmiverbose=FALSE;           key=value; pairs, `cmd` first
//    │ ◄────────────────────────────────────────────────
//    │  job-getid → jobid=…   kvs-put key,value   kvs-fence (returns when every rank fenced)
//    │  kvs-get jobid,srcid=-1,key → found=TRUE;value=… | found=FALSE
//    │  info-getjobattr key → found, value   abort isworld=TRUE (no response)   finalize
//
// Every pair, the last included, ends with ';'. A ';' inside a value is written ";;" (MPICH's
// reading). Slurm's server does not undo that escape, so what this client sends avoids ';' where the
// server reads it: keys may not contain ';' or '=', and kvs values travel hex-encoded. Responses are
// unescaped. Each response must carry `rc`; a nonzero rc is a refusal.

/// A rank's connection to a PMI-2 process manager (Slurm's `srun --mpi=pmi2`, MPICH's Hydra) over the
/// inherited socket named by `PMI_FD`.
///
/// One blocking request at a time, in the order the calls are made; not thread-safe (the runtime
/// serializes its use). Keys are at most ``maxKeyBytes`` bytes without ';' or '='; values are bytes,
/// hex-encoded on the wire, at most ``maxValueBytes`` of them (PMI-2's 1024-character value limit).
/// A response that does not follow the protocol throws ``WireupError/malformed(_:)``; nothing a
/// server sends can trap.
public final class PMI2Client {
    /// The longest key PMI-2 servers accept (`PMI2_MAX_KEYLEN`).
    public static let maxKeyBytes = 64
    /// The longest value ``put(_:_:)`` accepts: PMI-2's 1024-character value limit
    /// (`PMI2_MAX_VALLEN`) holds this many bytes in hex.
    public static let maxValueBytes = 512

    /// This process's rank in the job (0-based), from the fullinit response.
    public let rank: Int
    /// The number of ranks in the job, from the fullinit response.
    public let size: Int
    /// The job's key-value space name, from the job-getid response (Slurm: "jobid.stepid").
    public let jobID: String

    private var fd: Int32

    /// Connects through the descriptor in `PMI_FD` (read through `lookup`), does the PMI-1 style init
    /// handshake for version 2.0, fullinit and job-getid.
    ///
    /// Throws ``WireupError/badEnvironment(_:)`` when `PMI_FD` is missing, not a number or not an open
    /// socket. On any failure the descriptor stays open: until a client has initialized on it, it
    /// belongs to the process (and after a failed handshake the server has usually closed its end).
    /// One client per process: the server answers a second init on the same socket by ending it.
    /// Sends `PMI_JOBID` and `PMI_RANK` (or `PMI_ID`) as fullinit's `pmijobid` and `pmirank` when
    /// present: Slurm refuses fullinit without them. Blocks until the server answers; there is no
    /// timeout.
    public init(lookup: (String) -> String? = WireupEnvironment.value) throws(WireupError) {
        let fd = try Self.inheritedSocket(lookup("PMI_FD"))
        try Self.initHandshake(fd)
        var fullinit = PMI2Request("fullinit")
        if let jobID = lookup("PMI_JOBID") { fullinit.append("pmijobid", jobID) }
        if let rank = lookup("PMI_RANK") ?? lookup("PMI_ID") { fullinit.append("pmirank", rank) }
        fullinit.append("threaded", "FALSE")
        let initResponse = try Self.exchange(fd, fullinit, expecting: "fullinit-response")
        let size = try initResponse.integer("size")
        let rank = try initResponse.integer("rank")
        guard size >= 1, rank >= 0, rank < size else {
            throw .malformed("fullinit-response gives rank \(rank) of \(size) ranks")
        }
        let idResponse = try Self.exchange(fd, PMI2Request("job-getid"), expecting: "job-getid-response")
        let jobID = try idResponse.required("jobid")
        guard !jobID.isEmpty else { throw .malformed("job-getid-response has an empty jobid") }
        self.rank = rank
        self.size = size
        self.jobID = jobID
        self.fd = fd
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    /// Publishes `value` under `key` (kvs-put). Other ranks can read it after the next ``fence()``.
    ///
    /// Throws ``WireupError/malformed(_:)`` without sending when the key or value breaks PMI-2's
    /// limits (see the type's description), ``WireupError/refused(_:)`` when the server answers
    /// with a nonzero rc.
    public func put(_ key: String, _ value: [UInt8]) throws(WireupError) {
        try Self.checkKey(key)
        guard value.count <= Self.maxValueBytes else {
            throw .malformed("the value of \(key) has \(value.count) bytes; PMI-2 holds at most \(Self.maxValueBytes)")
        }
        var request = PMI2Request("kvs-put")
        request.append("key", key)
        request.append("value", Hex.encode(value))
        _ = try exchange(request, expecting: "kvs-put-response")
    }

    /// Returns once every rank of the job has called fence (kvs-fence); every put made before it,
    /// by any rank, is then visible to ``get(_:)``.
    public func fence() throws(WireupError) {
        _ = try exchange(PMI2Request("kvs-fence"), expecting: "kvs-fence-response")
    }

    /// The value some rank put under `key` before the last fence (kvs-get), or nil if there is none.
    ///
    /// Throws ``WireupError/malformed(_:)`` if the stored value is not the hex that ``put(_:_:)``
    /// writes (another program put it), or the response lacks `found` or the value.
    public func get(_ key: String) throws(WireupError) -> [UInt8]? {
        try Self.checkKey(key)
        var request = PMI2Request("kvs-get")
        request.append("jobid", jobID)
        request.append("srcid", "-1")
        request.append("key", key)
        let response = try exchange(request, expecting: "kvs-get-response")
        guard try response.boolean("found") else { return nil }
        let text = try response.required("value")
        guard let bytes = Hex.decode(text) else {
            throw .malformed("the value under \(key) is not hex: \(Self.excerpt(text))")
        }
        return bytes
    }

    /// The job attribute `name` (info-getjobattr), e.g. `PMI_process_mapping` (see
    /// ``nodeOfEachRank(mapping:size:)``) or `universeSize`, or nil if the process manager does not
    /// define it. Slurm (22.05) answers every name it does not know that sorts at or after
    /// `PMI_netinfo_of_task` (any lowercase name) with its network-interface list instead of nil.
    public func jobAttribute(_ name: String) throws(WireupError) -> String? {
        try Self.checkKey(name)
        var request = PMI2Request("info-getjobattr")
        request.append("key", name)
        let response = try exchange(request, expecting: "info-getjobattr-response")
        guard try response.boolean("found") else { return nil }
        return try response.required("value")
    }

    /// Asks the process manager to end the whole job (abort with isworld=TRUE; Slurm then kills the
    /// step). Best effort: returns at once, without waiting for the job to end (the protocol has no
    /// response) and without throwing. Slurm ignores `code` and `message`; other servers may report
    /// them. The message is cut to 1024 bytes and its ';' become ',': Slurm does not read the ";;"
    /// escape and would log a parse error next to the abort (it rewrites ';' in its own messages too).
    public func abort(code: Int32, message: String) {
        guard fd >= 0 else { return }
        let text = String(decoding: message.utf8.prefix(1024).map { $0 == UInt8(ascii: ";") ? UInt8(ascii: ",") : $0 }, as: UTF8.self)
        var request = PMI2Request("abort")
        request.append("isworld", "TRUE")
        request.append("exitcode", String(code))
        request.append("message", text)
        if let frame = try? request.frame() { try? UnixSocket.sendAll(fd, frame) }
    }

    /// Tells the process manager this rank is done (finalize), waits for its answer and closes the
    /// connection. Calling it again does nothing; any other call after it throws
    /// ``WireupError/closed``.
    public func finalize() throws(WireupError) {
        guard fd >= 0 else { return }
        defer {
            close(fd)
            fd = -1
        }
        _ = try exchange(PMI2Request("finalize"), expecting: "finalize-response")
    }

    /// Parses a `PMI_process_mapping` value, `(vector,(start,nodes,ranksPerNode),...)`, into the node
    /// index of each of `size` ranks.
    ///
    /// Each block gives `ranksPerNode` consecutive ranks to each of the `nodes` nodes numbered from
    /// `start`; the blocks, in order, repeat until every rank has a node (so Slurm's cyclic layout of
    /// 4 ranks on 2 nodes, `(vector,(0,2,1))`, gives [0, 1, 0, 1]). Blanks between tokens are allowed.
    /// Throws ``WireupError/malformed(_:)`` for any other text, for numbers beyond Int32, for a
    /// mapping that places no rank, or for a negative `size`.
    public static func nodeOfEachRank(mapping: String, size: Int) throws(WireupError) -> [Int] {
        guard size >= 0 else { throw .malformed("a process mapping for \(size) ranks") }
        var parser = PMI2MappingParser(Array(mapping.utf8))
        let blocks = try parser.vector()
        var ranksPerPass = 0
        for block in blocks where block.nodes > 0 && block.ranksPerNode > 0 {
            ranksPerPass = min(size, ranksPerPass + min(size, block.nodes * block.ranksPerNode))
        }
        guard ranksPerPass > 0 || size == 0 else {
            throw .malformed("process mapping \(excerpt(mapping)) places no rank")
        }
        var nodes: [Int] = []
        nodes.reserveCapacity(size)
        while nodes.count < size {
            for block in blocks where block.ranksPerNode > 0 {
                for node in block.start..<(block.start + block.nodes) {
                    for _ in 0..<block.ranksPerNode {
                        if nodes.count == size { return nodes }
                        nodes.append(node)
                    }
                }
            }
        }
        return nodes
    }

    // MARK: - Wire

    private func exchange(_ request: PMI2Request, expecting command: String) throws(WireupError) -> PMI2Response {
        guard fd >= 0 else { throw .closed }
        return try Self.exchange(fd, request, expecting: command)
    }

    /// Sends one length-prefixed request and reads its response; checks the command name and rc.
    private static func exchange(_ fd: Int32, _ request: PMI2Request, expecting command: String) throws(WireupError) -> PMI2Response {
        try send(fd, request.frame())
        let lengthField = try receive(fd, count: PMI2Request.lengthFieldBytes)
        let length = try frameLength(lengthField)
        let response = try PMI2Response(parsing: receive(fd, count: length))
        guard response.command == command else {
            throw .malformed("expected \(command), got \(excerpt(response.command))")
        }
        let rc = try response.integer("rc")
        if rc != 0 {
            let why = response["errmsg"].map { ": \($0)" } ?? ""
            throw .refused("\(command) rc=\(rc)\(why)")
        }
        return response
    }

    /// The PMI-1 style opening: one line out, one line back, no length fields.
    private static func initHandshake(_ fd: Int32) throws(WireupError) {
        try send(fd, Array("cmd=init pmi_version=2 pmi_subversion=0\n".utf8))
        // Byte by byte up to the newline: nothing past it may be consumed, and this happens once.
        var line: [UInt8] = []
        while true {
            let byte = try receive(fd, count: 1)[0]
            if byte == UInt8(ascii: "\n") { break }
            line.append(byte)
            guard line.count <= 1024 else { throw .malformed("the init response has no newline in 1024 bytes") }
        }
        guard let text = String(validating: line, as: UTF8.self) else {
            throw .malformed("the init response is not UTF-8")
        }
        var fields: [String: String] = [:]
        for word in text.split(separator: " ", omittingEmptySubsequences: true) {
            guard let equals = word.firstIndex(of: "="), equals != word.startIndex else {
                throw .malformed("init response \(excerpt(text)): '\(excerpt(String(word)))' is not key=value")
            }
            let key = String(word[..<equals])
            if fields[key] == nil { fields[key] = String(word[word.index(after: equals)...]) }
        }
        guard fields["cmd"] == "response_to_init" else {
            throw .malformed("expected response_to_init, got \(excerpt(text))")
        }
        guard let rcText = fields["rc"], let rc = Int(rcText) else {
            throw .malformed("init response \(excerpt(text)) has no integer rc")
        }
        let offered = "\(fields["pmi_version"] ?? "?").\(fields["pmi_subversion"] ?? "?")"
        if rc != 0 { throw .refused("init: the server refused PMI 2.0 (it speaks \(offered))") }
        guard offered == "2.0" else {
            throw .malformed("init response \(excerpt(text)) accepts PMI \(offered), not 2.0")
        }
    }

    /// Writes one whole message; a reset connection is ``WireupError/closed``.
    private static func send(_ fd: Int32, _ bytes: [UInt8]) throws(WireupError) {
        do {
            try UnixSocket.sendAll(fd, bytes)
        } catch .system(_, let code) where code == EPIPE || code == ECONNRESET {
            throw .closed
        }
    }

    /// Reads exactly `count` bytes (a response is read to its end and never past it); end of
    /// stream or a reset connection is ``WireupError/closed``.
    private static func receive(_ fd: Int32, count: Int) throws(WireupError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let n: Int
            do {
                n = try wireupSystemCall("recv") {
                    bytes.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + filled, count - filled, 0) }
                }
            } catch .system(_, let code) where code == ECONNRESET {
                throw .closed
            }
            if n == 0 { throw .closed }
            filled += n
        }
        return bytes
    }

    /// The 6-byte length field: decimal digits, space-padded (Slurm writes "%-6d"), at least 1.
    private static func frameLength(_ field: [UInt8]) throws(WireupError) -> Int {
        var digits = field[...]
        while digits.first == UInt8(ascii: " ") { digits.removeFirst() }
        while digits.last == UInt8(ascii: " ") { digits.removeLast() }
        var length = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { digits = []; break }
            length = length * 10 + Int(byte - UInt8(ascii: "0"))
        }
        guard !digits.isEmpty, length > 0 else {
            throw .malformed("bad length field '\(excerpt(String(decoding: field, as: UTF8.self)))'")
        }
        return length
    }

    /// Opens nothing: checks that `PMI_FD` names an open socket and marks it close-on-exec, so
    /// programs the rank starts do not inherit the job's PMI connection.
    private static func inheritedSocket(_ text: String?) throws(WireupError) -> Int32 {
        guard let text else { throw .badEnvironment("PMI_FD is not set (not started by a PMI-2 process manager)") }
        guard let fd = Int32(text), fd >= 0 else { throw .badEnvironment("PMI_FD='\(excerpt(text))' is not a descriptor number") }
        var status = stat()
        do {
            _ = try systemCall("fstat") { fstat(fd, &status) }
        } catch {
            throw .badEnvironment("PMI_FD=\(fd) is not an open descriptor (\(SystemError.describe(error.code)))")
        }
        guard status.st_mode & S_IFMT == S_IFSOCK else { throw .badEnvironment("PMI_FD=\(fd) is not a socket") }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        return fd
    }

    private static func checkKey(_ key: String) throws(WireupError) {
        let bytes = key.utf8
        guard !bytes.isEmpty, bytes.count <= maxKeyBytes else {
            throw .malformed("key '\(excerpt(key))' has \(bytes.count) bytes; PMI-2 keys have 1 to \(maxKeyBytes)")
        }
        for byte in bytes where byte == UInt8(ascii: ";") || byte == UInt8(ascii: "=") || byte < 0x20 || byte == 0x7f {
            throw .malformed("key '\(excerpt(key))' contains ';', '=' or a control character")
        }
    }

    /// At most 80 characters of server text, for error messages.
    fileprivate static func excerpt(_ text: String) -> String {
        text.count <= 80 ? text : String(text.prefix(80)) + "…"
    }
}

/// A PMI-2 request under construction: `cmd=name;` then `key=value;` pairs, ';' in values doubled.
struct PMI2Request {
    /// The decimal length that precedes every PMI-2 message.
    static let lengthFieldBytes = 6

    private var body: [UInt8]

    /// Starts the request for `command`.
    init(_ command: String) {
        body = []
        append("cmd", command)
    }

    /// Appends `key=value;`, writing each ';' of the value as ";;".
    mutating func append(_ key: String, _ value: String) {
        body.append(contentsOf: key.utf8)
        body.append(UInt8(ascii: "="))
        for byte in value.utf8 {
            body.append(byte)
            if byte == UInt8(ascii: ";") { body.append(byte) }
        }
        body.append(UInt8(ascii: ";"))
    }

    /// The message with its length field; throws if it is longer than six digits can say.
    func frame() throws(WireupError) -> [UInt8] {
        guard body.count <= 999_999 else { throw .malformed("a PMI-2 request of \(body.count) bytes exceeds 999999") }
        var length = Array(String(body.count).utf8)
        length.append(contentsOf: repeatElement(UInt8(ascii: " "), count: Self.lengthFieldBytes - length.count))
        return length + body
    }
}

/// A parsed PMI-2 message: its command and its other pairs in order (duplicates kept; lookups take
/// the first, as MPICH does).
struct PMI2Response {
    /// The value of the leading `cmd` pair.
    let command: String
    /// The pairs after `cmd`, unescaped.
    let pairs: [(key: String, value: String)]

    /// Parses `key=value;...` with `cmd` first. Every pair must end with ';', keys must be non-empty,
    /// and the text must be UTF-8; ";;" inside a value stands for ';'.
    init(parsing body: [UInt8]) throws(WireupError) {
        var pairs: [(key: String, value: String)] = []
        var index = 0
        while index < body.count {
            let keyStart = index
            while index < body.count, body[index] != UInt8(ascii: "="), body[index] != UInt8(ascii: ";") { index += 1 }
            guard index < body.count, body[index] == UInt8(ascii: "="), index > keyStart else {
                throw .malformed("pair \(pairs.count) of \(Self.excerpt(body)) has no key=")
            }
            let key = body[keyStart..<index]
            index += 1
            var value: [UInt8] = []
            var terminated = false
            while index < body.count {
                let byte = body[index]
                index += 1
                if byte == UInt8(ascii: ";") {
                    if index < body.count, body[index] == UInt8(ascii: ";") {
                        value.append(byte)
                        index += 1
                        continue
                    }
                    terminated = true
                    break
                }
                value.append(byte)
            }
            guard terminated else { throw .malformed("the last value of \(Self.excerpt(body)) has no ';'") }
            guard let keyText = String(validating: key, as: UTF8.self),
                let valueText = String(validating: value, as: UTF8.self)
            else {
                throw .malformed("\(Self.excerpt(body)) is not UTF-8")
            }
            pairs.append((keyText, valueText))
        }
        guard let first = pairs.first, first.key == "cmd" else {
            throw .malformed("\(Self.excerpt(body)) does not start with cmd=")
        }
        self.command = first.value
        self.pairs = Array(pairs.dropFirst())
    }

    /// The value of the first pair named `key`, if any.
    subscript(key: String) -> String? {
        pairs.first { $0.key == key }?.value
    }

    /// The value of `key`; throws ``WireupError/malformed(_:)`` when the response lacks it.
    func required(_ key: String) throws(WireupError) -> String {
        guard let value = self[key] else { throw .malformed("\(command) has no \(key)") }
        return value
    }

    /// The decimal integer under `key` (an optional sign, then digits).
    func integer(_ key: String) throws(WireupError) -> Int {
        let text = try required(key)
        guard let value = Int(text) else {
            throw .malformed("\(command): \(key)='\(PMI2Client.excerpt(text))' is not an integer")
        }
        return value
    }

    /// TRUE or FALSE (any case) under `key`.
    func boolean(_ key: String) throws(WireupError) -> Bool {
        let text = try required(key)
        switch text.uppercased() {
        case "TRUE": return true
        case "FALSE": return false
        default: throw .malformed("\(command): \(key)='\(PMI2Client.excerpt(text))' is neither TRUE nor FALSE")
        }
    }

    private static func excerpt(_ body: [UInt8]) -> String {
        PMI2Client.excerpt(String(decoding: body, as: UTF8.self))
    }
}

/// One `(start,nodes,ranksPerNode)` block of a process mapping.
struct PMI2MappingBlock {
    /// The first node's index.
    var start: Int
    /// How many consecutive nodes the block covers.
    var nodes: Int
    /// How many consecutive ranks each of those nodes gets.
    var ranksPerNode: Int
}

/// A recursive-descent reader of `(vector,(a,b,c),...)`, blanks allowed between tokens.
struct PMI2MappingParser {
    private let text: [UInt8]
    private var index = 0

    init(_ text: [UInt8]) { self.text = text }

    /// The blocks of the whole text; anything else is malformed.
    mutating func vector() throws(WireupError) -> [PMI2MappingBlock] {
        try expect("(")
        try expectWord("vector")
        var blocks: [PMI2MappingBlock] = []
        while peek() == UInt8(ascii: ",") {
            index += 1
            try expect("(")
            let start = try number()
            try expect(",")
            let nodes = try number()
            try expect(",")
            let ranksPerNode = try number()
            try expect(")")
            blocks.append(PMI2MappingBlock(start: start, nodes: nodes, ranksPerNode: ranksPerNode))
        }
        try expect(")")
        guard peek() == nil else { throw failure("text after the closing parenthesis") }
        return blocks
    }

    /// The next byte that is not a blank, or nil at the end.
    private mutating func peek() -> UInt8? {
        while index < text.count, text[index] == UInt8(ascii: " ") || text[index] == UInt8(ascii: "\t") { index += 1 }
        return index < text.count ? text[index] : nil
    }

    private mutating func expect(_ c: Unicode.Scalar) throws(WireupError) {
        guard peek() == UInt8(ascii: c) else { throw failure("expected '\(c)'") }
        index += 1
    }

    private mutating func expectWord(_ word: String) throws(WireupError) {
        _ = peek()
        for byte in word.utf8 {
            guard index < text.count, text[index] == byte else { throw failure("expected '\(word)'") }
            index += 1
        }
    }

    /// A decimal number from 0 to Int32.max.
    private mutating func number() throws(WireupError) -> Int {
        _ = peek()
        var value = 0
        let first = index
        while index < text.count, text[index] >= UInt8(ascii: "0"), text[index] <= UInt8(ascii: "9") {
            value = value * 10 + Int(text[index] - UInt8(ascii: "0"))
            guard value <= Int(Int32.max) else { throw failure("a number beyond \(Int32.max)") }
            index += 1
        }
        guard index > first else { throw failure("expected a number") }
        return value
    }

    private func failure(_ what: String) -> WireupError {
        .malformed("process mapping '\(PMI2Client.excerpt(String(decoding: text, as: UTF8.self)))': \(what) at offset \(index)")
    }
}
