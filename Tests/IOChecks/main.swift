// swiftmpi-io-check: parallel file I/O (MPI-IO), checked against a serial model of the file's bytes.
// Run as real jobs by the test suite:  swiftmpirun -n N swiftmpi-io-check [DIRECTORY]
// Files go to DIRECTORY (default: a new directory under /tmp, removed at the end; the test suite
// passes one inside its scratch directory, so that a failed run leaves nothing either). With
// SWIFTMPI_IO_FULL_DIR set (a small tmpfs the test mounted), a write that fills it must fail on
// every rank with .noSpace. Any mismatch prints "CHECK FAILED ..." and exits 1, which ends the job.
#if canImport(Glibc)
import Glibc
#endif
import SwiftMPI

func require(_ condition: Bool, _ message: @autoclosure () -> String, line: Int = #line) {
    guard condition else {
        let text = "CHECK FAILED (line \(line)) on rank \(r): \(message())\n"
        _ = text.utf8CString.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress!, $0.count - 1) }
        exit(1)
    }
}

/// Runs `body`, which must throw an MPIError with `code`; returns its message.
@discardableResult
func requireError(_ code: MPIError.Code, _ what: String, line: Int = #line, _ body: () throws -> Void) -> String {
    do {
        try body()
        require(false, "\(what): no error", line: line)
    } catch let error as MPIError {
        require(error.code == code, "\(what): \(error.code) instead of \(code): \(error)", line: line)
        return error.message
    } catch {
        require(false, "\(what): \(error)", line: line)
    }
    return ""
}

let world = try MPI.initialize()
let n = world.size
let r = world.rank
let int32 = Datatype(Int32.self)

// A directory for the files, made by rank 0.
var made = false
var directory = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : ""
if directory.isEmpty {
    var template = Array("/tmp/swiftmpi-io-check-XXXXXX".utf8CString)
    if r == 0 { require(mkdtemp(&template) != nil, "mkdtemp: \(errno)") }
    directory = try world.bcast(object: r == 0 ? String(cString: template) : nil, root: 0)
    made = true
}
var paths: [String] = []
@MainActor func path(_ name: String) -> String {
    let full = "\(directory)/\(name)"
    paths.append(full)
    return full
}

/// The whole file's bytes, read by this rank through the default view.
func contents(_ file: File) throws -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: try file.size)
    let status = try file.read(into: &bytes, at: 0)
    require(status.byteCount == bytes.count, "read the whole file: \(status.byteCount) of \(bytes.count) bytes")
    return bytes
}

func bytes(of values: [Int32]) -> [UInt8] { values.withUnsafeBytes { Array($0) } }

// MARK: Contiguous blocks, independent and collective, against the model
do {
    let k = 1000
    let mine = (0..<k).map { Int32(r * 1_000_000 + $0) }
    let model = (0..<n).flatMap { rank in (0..<k).map { Int32(rank * 1_000_000 + $0) } }
    for (name, collective) in [("blocks-independent", false), ("blocks-collective", true)] {
        let file = try File.open(on: world, path: path(name), mode: [.create, .readWrite])
        let status = collective ? try file.writeAll(mine, at: r * k * 4) : try file.write(mine, at: r * k * 4)
        require(status.count(of: Int32.self) == k, "\(name): status says \(status.byteCount) bytes")
        try file.sync()
        try world.barrier()
        try file.sync()
        require(try contents(file) == bytes(of: model), "\(name): file differs from the model")
        var back = [Int32](repeating: 0, count: k)
        _ = collective ? try file.readAll(into: &back, at: r * k * 4) : try file.read(into: &back, at: r * k * 4)
        require(back == mine, "\(name): read back differs")
        try file.close()
    }
}

// MARK: Interleaved strided views: collective buffering on, off and automatic give the model
do {
    let block = 3  // Int32s per block
    let blocks = 50
    // Each rank sees every n-th block of `block` Int32s, starting at its own.
    let fileType = try Datatype.contiguous(count: block, of: int32).resized(lowerBound: 0, extent: n * block * 4)
    let mine = (0..<(block * blocks)).map { Int32(r * 100_000 + $0) }
    var model = [Int32](repeating: 0, count: n * block * blocks)
    for rank in 0..<n {
        for b in 0..<blocks {
            for i in 0..<block { model[(b * n + rank) * block + i] = Int32(rank * 100_000 + b * block + i) }
        }
    }
    var files: [[UInt8]] = []
    for setting in ["enable", "disable", "automatic"] {
        for bufferSize in setting == "enable" ? ["16777216", "100"] : ["16777216"] {
            let info = try Info(["romio_cb_write": setting, "romio_cb_read": setting, "cb_buffer_size": bufferSize, "cb_nodes": "\(min(n, 2))"])
            let file = try File.open(on: world, path: path("strided-\(setting)-\(bufferSize)"), mode: [.create, .readWrite], info: info)
            require(file.info["romio_cb_write"] == setting, "info reports romio_cb_write=\(setting): \(file.info)")
            require(file.info["cb_buffer_size"] == bufferSize, "info reports cb_buffer_size")
            try file.setView(displacement: r * block * 4, elementType: int32, fileType: fileType)
            let status = try file.writeAll(mine, at: 0)
            require(status.byteCount == mine.count * 4, "strided writeAll moved \(status.byteCount) bytes")
            try file.sync()
            try world.barrier()
            try file.sync()
            var back = [Int32](repeating: -1, count: mine.count)
            try file.readAll(into: &back, at: 0)
            require(back == mine, "strided readAll (\(setting), buffer \(bufferSize)) differs")
            // Independent strided reads (data sieving) see the same.
            back = [Int32](repeating: -1, count: mine.count)
            try file.read(into: &back, at: 0)
            require(back == mine, "strided independent read (\(setting)) differs")
            try file.setView(displacement: 0, elementType: Datatype(UInt8.self), fileType: Datatype(UInt8.self))
            let whole = try contents(file)
            require(whole == bytes(of: model), "strided file (\(setting), buffer \(bufferSize)) differs from the model")
            files.append(whole)
            try file.close()
        }
    }
    require(files.allSatisfy { $0 == files[0] }, "collective buffering on and off gave different files")
}

// MARK: A 2-D block decomposition with holes (subarray views), and reads past the end
do {
    let rows = 8
    let columns = 4 * n
    let width = columns / n
    let fileType = try Datatype.subarray(sizes: [rows, columns], subsizes: [rows, width], starts: [0, r * width], of: int32)
    let mine = (0..<(rows * width)).map { Int32(r * 1000 + $0) }
    let file = try File.open(on: world, path: path("subarray"), mode: [.create, .readWrite])
    try file.setView(displacement: 0, elementType: int32, fileType: fileType)
    try file.writeAll(mine, at: 0)
    try file.sync()
    try world.barrier()
    var model = [Int32](repeating: 0, count: rows * columns)
    for rank in 0..<n {
        for row in 0..<rows {
            for column in 0..<width { model[row * columns + rank * width + column] = Int32(rank * 1000 + row * width + column) }
        }
    }
    var back = [Int32](repeating: 0, count: mine.count)
    try file.readAll(into: &back, at: 0)
    require(back == mine, "subarray readAll differs")
    // Asking for more than the file holds: the status counts what was there.
    var more = [Int32](repeating: -7, count: mine.count + 5)
    let status = try file.readAll(into: &more, at: 0)
    require(status.count(of: Int32.self) == mine.count, "read past the end: \(status.byteCount) bytes")
    require(more[mine.count...].allSatisfy { $0 == -7 }, "read past the end changed the rest of the buffer")
    try file.setView(displacement: 0, elementType: int32, fileType: int32)
    var whole = [Int32](repeating: 0, count: rows * columns)
    try file.read(into: &whole, at: 0)
    require(whole == model, "subarray file differs from the model")
    require(try file.byteOffset(ofElement: 3) == 12, "byte offset of element 3 in an Int32 view")
    try file.close()
}

// MARK: The individual file pointer, seek, size, preallocate, append
do {
    let file = try File.open(on: world, path: path("pointer"), mode: [.create, .readWrite])
    try file.setView(displacement: r * 400, elementType: int32, fileType: int32)
    try file.write([Int32(1), 2, 3])
    try file.write([Int32(4), 5])
    require(file.position == 5, "individual pointer after two writes: \(file.position)")
    try file.seek(to: 1)
    var two = [Int32](repeating: 0, count: 2)
    try file.read(into: &two)
    require(two == [2, 3] && file.position == 3, "read at the pointer: \(two), position \(file.position)")
    try file.seek(to: -1, from: .current)
    require(file.position == 2, "seek from current")
    requireError(.invalidArgument, "seek before the start") { try file.seek(to: -3) }
    try file.preallocate(64 * 1024)
    require(try file.size >= 64 * 1024, "preallocate grew the file")
    try file.setSize(4096)
    require(try file.size == 4096, "setSize")
    try file.seek(to: 0, from: .end)
    require(file.position == (4096 - r * 400) / 4, "seek to the end of the view: \(file.position)")
    try file.close()
    let appended = try File.open(on: world, path: path("pointer"), mode: [.writeOnly, .append])
    try appended.setView(displacement: 0, elementType: Datatype(UInt8.self), fileType: Datatype(UInt8.self))
    try appended.close()
    let again = try File.open(on: world, path: path("pointer"), mode: [.readWrite, .append])
    require(again.position == 4096, "append mode starts the pointer at the end: \(again.position)")
    try again.close()
}

// MARK: Shared file pointer: independent and ordered
do {
    let file = try File.open(on: world, path: path("shared"), mode: [.create, .readWrite])
    try file.setView(displacement: 0, elementType: int32, fileType: int32)
    let k = 20
    for i in 0..<k { try file.writeShared([Int32(r), Int32(i)]) }
    try world.barrier()
    let afterShared = try file.sharedPosition
    require(afterShared == n * k * 2, "shared pointer after every writeShared: \(afterShared)")
    try file.writeOrdered((0..<(r + 1)).map { _ in Int32(1000 + r) })
    try file.sync()
    try world.barrier()
    var records = [Int32](repeating: 0, count: n * k * 2)
    try file.read(into: &records, at: 0)
    var seen = Set<[Int32]>()
    for i in 0..<(n * k) { seen.insert([records[2 * i], records[2 * i + 1]]) }
    require(seen.count == n * k && seen == Set((0..<n).flatMap { rank in (0..<k).map { [Int32(rank), Int32($0)] } }), "every writeShared record once")
    let orderedCount = n * (n + 1) / 2
    var ordered = [Int32](repeating: 0, count: orderedCount)
    try file.read(into: &ordered, at: n * k * 2)
    require(ordered == (0..<n).flatMap { rank in (0..<(rank + 1)).map { _ in Int32(1000 + rank) } }, "writeOrdered in rank order: \(ordered)")
    try file.seekShared(to: n * k * 2)
    var mine = [Int32](repeating: 0, count: r + 1)
    try file.readOrdered(into: &mine)
    require(mine == [Int32](repeating: Int32(1000 + r), count: r + 1), "readOrdered: \(mine)")
    require(try file.sharedPosition == n * k * 2 + orderedCount, "shared pointer after readOrdered")
    try file.close()
}

// MARK: Atomic mode: concurrent overlapping strided writers never interleave
do {
    // Data sieving off: each 2 KiB run is then its own pwrite, so it is atomic mode's lock, not the
    // sieving lock, that keeps one rank's write from mixing with another's. (That this check can
    // fail: SWIFTMPI_IO_CHECK_WITHOUT_ATOMICITY=1 leaves atomic mode off, and at 4 ranks the file
    // then mixes two ranks' writes in about 2 runs of 5.)
    let file = try File.open(on: world, path: path("atomic"), mode: [.create, .readWrite], info: try Info(["romio_ds_write": "disable"]))
    file.atomicity = getenv("SWIFTMPI_IO_CHECK_WITHOUT_ATOMICITY") == nil
    let runs = 256
    let fileType = try Datatype.vector(count: runs, blockLength: 2048, stride: 4096, of: Datatype(UInt8.self))
    try file.setView(displacement: 0, elementType: Datatype(UInt8.self), fileType: fileType)
    for round in 0..<20 {
        try file.write([UInt8](repeating: UInt8(r * 10 + round % 10 + 1), count: runs * 2048), at: 0)
    }
    try file.sync()
    try world.barrier()
    try file.sync()
    var back = [UInt8](repeating: 0, count: runs * 2048)
    try file.read(into: &back, at: 0)
    require(Set(back).count == 1, "an atomic access mixed with another: \(Set(back).sorted())")
    try file.close()
}

// MARK: Nonblocking forms
do {
    let file = try File.open(on: world, path: path("nonblocking"), mode: [.create, .readWrite, .deleteOnClose])
    let values = [Double](repeating: Double(r), count: 100)
    let write = try file.iwriteAll(values, at: r * 800)
    require(try write.wait().count(of: Double.self) == 100, "iwriteAll status")
    try file.sync()
    try world.barrier()
    var back = [Double](repeating: -1, count: 100)
    try back.withUnsafeMutableBufferPointer { buffer in
        let read = try file.ireadAll(into: buffer, at: ((r + 1) % n) * 800)
        _ = try read.wait()
    }
    require(back == [Double](repeating: Double((r + 1) % n), count: 100), "ireadAll of the next rank's part")
    let last = paths.removeLast()
    try file.close()
    requireError(.noSuchFile, "deleteOnClose removed the file") { try File.delete(path: last) }
}

// MARK: The other forms: spans, independent nonblocking, readShared, hints, the view, sequential files
do {
    let file = try File.open(on: world, path: path("forms"), mode: [.create, .readWrite])
    try file.setView(displacement: 16, elementType: int32, fileType: int32)
    let view = file.currentView
    require(view.displacement == 16 && view.elementType.size == 4 && view.fileType.size == 4, "currentView: \(view)")
    let mine = (0..<8).map { Int32(r * 100 + $0) }
    require(try file.write(mine.span, at: r * 8).count(of: Int32.self) == 8, "write from a Span")
    try file.sync()
    try world.barrier()
    try file.sync()
    var back = [Int32](repeating: 0, count: 8)
    var span = back.mutableSpan
    try file.read(into: &span, at: r * 8)
    require(back == mine, "read into a MutableSpan: \(back)")
    var other = [Int32](repeating: 0, count: 8)
    try other.withUnsafeMutableBufferPointer { buffer in
        let request = try file.iread(into: buffer, at: ((r + 1) % n) * 8)
        require(try request.wait().count(of: Int32.self) == 8, "iread status")
    }
    require(other == (0..<8).map { Int32(((r + 1) % n) * 100 + $0) }, "iread of the next rank's part: \(other)")
    // readShared: every rank takes its own 4 elements of the 8 n the ranks wrote, none twice.
    try file.seekShared(to: 0)
    var taken = [Int32](repeating: -1, count: 4)
    try file.readShared(into: &taken)
    let all = try world.allgather(taken)
    require(Set(all).count == 4 * n && all.allSatisfy { $0 >= 0 }, "readShared handed out overlapping parts: \(all)")
    let afterRead = try file.sharedPosition
    require(afterRead == 4 * n, "shared pointer after readShared: \(afterRead)")
    try world.barrier()  // every rank has looked before any moves it again
    _ = try file.iwriteShared([Int32(7)]).wait()
    try world.barrier()
    require(try file.sharedPosition == 5 * n, "shared pointer after iwriteShared")
    // Hints: known ones set and reported, a bad value refused on every rank.
    try file.setInfo(try Info(["cb_buffer_size": "65536", "striping_factor": "4", "no_such_hint": "x"]))
    require(file.info["cb_buffer_size"] == "65536" && file.info["striping_factor"] == "4", "setInfo: \(file.info)")
    requireError(.invalidArgument, "cb_nodes = 0") { try file.setInfo(try Info(["cb_nodes": "0"])) }
    requireError(.invalidArgument, "an offset past the largest file offset") { try file.write([Int32(1)], at: Int.max / 2) }
    requireError(.invalidArgument, "a seek past the largest offset") {
        try file.seek(to: Int.max - 1)
        try file.seek(to: 10, from: .current)
    }
    try file.close()
    let sequential = try File.open(on: world, path: path("sequential"), mode: [.create, .writeOnly, .sequential])
    requireError(.invalidMode, "an explicit offset on a sequential file") { try sequential.write([UInt8(1)], at: 0) }
    try sequential.writeOrdered([UInt8(r)])
    try sequential.close()
    requireError(.badFile, "a path through a regular file") {
        _ = try File.open(on: world, path: "\(directory)/forms/inside", mode: [.create, .writeOnly])
    }
}

// MARK: View rules: a file type whose data starts past byte 0 tiles by its extent; overlaps are
// allowed when the file is only read
do {
    // Two Int32 at bytes 8 and 12 of a type whose bounds are 8 and 16 (MPICH's hindexed tests'
    // shape): tile k holds bytes 8 + 8k ..< 16 + 8k, so consecutive elements are contiguous.
    let late = try Datatype.hindexed(blockLengths: [1, 1], displacementsBytes: [8, 12], of: int32)
    let file = try File.open(on: world, path: path("late-view"), mode: [.create, .readWrite])
    try file.setView(displacement: 0, elementType: int32, fileType: late)
    if r == 0 { try file.write([Int32(1), 2, 3, 4], at: 0) }
    try file.sync()
    try world.barrier()
    try file.sync()
    try file.seek(to: 0, from: .end)
    require(file.position == 4, "the end of a late view: element \(file.position), not 4")
    try file.setView(displacement: 0, elementType: Datatype(UInt8.self), fileType: Datatype(UInt8.self))
    let written = try contents(file)
    require(written == bytes(of: [0, 0, 1, 2, 3, 4]), "a late file type's tiles: \(written)")
    try file.close()
    let reader = try File.open(on: world, path: path("late-view"), mode: .readOnly)
    try reader.setView(displacement: 0, elementType: int32, fileType: try Datatype.indexed(blockLengths: [3, 1], displacements: [0, 1], of: int32))
    var read = [Int32](repeating: -1, count: 4)
    try reader.read(into: &read, at: 0)
    require(read == [0, 0, 1, 0], "an overlapping view read back: \(read)")
    var middle = [Int32](repeating: -1, count: 3)
    try reader.read(into: &middle, at: 2)  // from inside the first run: the runs go back (file ints 2, 1, 3)
    require(middle == [1, 0, 2], "an overlapping view read from its middle: \(middle)")
    var together = [Int32](repeating: -1, count: 8)
    try reader.readAll(into: &together, at: 0)
    require(together == [0, 0, 1, 0, 2, 3, 4, 3], "an overlapping view read collectively: \(together)")
    try reader.close()
}

// MARK: External32: every element big-endian in the file, in every access form, converted back on reading
do {
    let file = try File.open(on: world, path: path("external32"), mode: [.create, .readWrite])
    let k = 5
    // K Int32s per rank interleaved block by block (collective), 2 Doubles per rank (independent),
    // then Int16s and UInt64s through the shared file pointer (ordered, then shared).
    let interleaved = try Datatype.contiguous(count: k, of: int32).resized(lowerBound: 0, extent: n * k * 4)
    let ints = (0..<k).map { Int32(r * 1000 + $0 - 3) }
    let doubles = [Double(r) + 0.25, -Double(r + 1) * 1e-300]
    let shorts = (0..<3).map { Int16(r * 10 - 1 + $0) }
    let doublesAt = n * k * 4, shortsAt = doublesAt + n * 16, wordsAt = shortsAt + n * 6
    func views(_ part: Int) throws {
        switch part {
        case 0: try file.setView(displacement: r * k * 4, elementType: int32, fileType: interleaved, representation: "external32")
        case 1:
            try file.setView(
                displacement: doublesAt + r * 16, elementType: Datatype(Double.self), fileType: Datatype(Double.self), representation: "external32")
        case 2: try file.setView(displacement: shortsAt, elementType: Datatype(Int16.self), fileType: Datatype(Int16.self), representation: "external32")
        default: try file.setView(displacement: wordsAt, elementType: Datatype(UInt64.self), fileType: Datatype(UInt64.self), representation: "external32")
        }
    }
    try views(0)
    require(file.dataRepresentation == "external32", "dataRepresentation says \(file.dataRepresentation)")
    try file.writeAll(ints, at: 0)
    try views(1)
    _ = try file.iwrite(doubles, at: 0).wait()
    try views(2)
    try file.writeOrdered(shorts)
    try views(3)
    try file.writeShared([UInt64(0x0102_0304_0506_0700 + r)])
    try file.sync()
    try world.barrier()
    try file.sync()
    // Read back in each form.
    try views(0)
    var intsBack = [Int32](repeating: 0, count: k)
    try file.readAll(into: &intsBack, at: 0)
    require(intsBack == ints, "external32 Int32s read back collectively: \(intsBack)")
    intsBack = [Int32](repeating: 0, count: k)
    try file.read(into: &intsBack, at: 0)
    require(intsBack == ints, "external32 Int32s read back independently: \(intsBack)")
    try views(1)
    var doublesBack = [Double](repeating: 0, count: 2)
    try file.read(into: &doublesBack)
    require(doublesBack == doubles, "external32 Doubles read back: \(doublesBack)")
    doublesBack = [0, 0]
    try doublesBack.withUnsafeMutableBufferPointer { buffer in _ = try file.iread(into: buffer, at: 0).wait() }
    require(doublesBack == doubles, "external32 Doubles read back by iread: \(doublesBack)")
    try views(2)
    var shortsBack = [Int16](repeating: 0, count: 3)
    try file.readOrdered(into: &shortsBack)
    require(shortsBack == shorts, "external32 Int16s read back in rank order: \(shortsBack)")
    try views(3)
    var words = [UInt64](repeating: 0, count: n)
    let status = try file.read(into: &words, at: 0)
    require(status.count(of: UInt64.self) == n, "external32 UInt64s: \(status.byteCount) bytes read")
    require(Set(words) == Set((0..<n).map { UInt64(0x0102_0304_0506_0700 + $0) }), "external32 UInt64s written at the shared pointer: \(words)")
    try file.seekShared(to: 0)
    var word = [UInt64(0)]
    try file.readShared(into: &word)
    require(Set(try world.allgather(word)) == Set(words), "external32 UInt64s read at the shared pointer, one per rank: \(word)")
    // The file's bytes: the model, each element big-endian.
    try file.setView(displacement: 0, elementType: Datatype(UInt8.self), fileType: Datatype(UInt8.self))
    let written = try contents(file)
    var model: [UInt8] = []
    for rank in 0..<n { for i in 0..<k { model += withUnsafeBytes(of: Int32(rank * 1000 + i - 3).bigEndian) { Array($0) } } }
    for rank in 0..<n { for d in [Double(rank) + 0.25, -Double(rank + 1) * 1e-300] { model += withUnsafeBytes(of: d.bitPattern.bigEndian) { Array($0) } } }
    for rank in 0..<n { for i in 0..<3 { model += withUnsafeBytes(of: Int16(rank * 10 - 1 + i).bigEndian) { Array($0) } } }
    require(written.count == model.count + 8 * n, "the external32 file has \(written.count) bytes, not \(model.count + 8 * n)")
    require(Array(written.prefix(model.count)) == model, "the external32 file's bytes are not the big-endian model")
    let wordBytes = written.dropFirst(model.count)
    for at in stride(from: wordBytes.startIndex, to: wordBytes.endIndex, by: 8) {
        require(Array(wordBytes[at..<(at + 7)]) == [1, 2, 3, 4, 5, 6, 7], "a UInt64 in the external32 file: \(Array(wordBytes[at..<(at + 8)]))")
    }
    try file.close()
}

// MARK: Mistakes: every rank gets a clear error, nothing hangs
do {
    let missing = requireError(.noSuchFile, "open a missing file") { _ = try File.open(on: world, path: "\(directory)/missing", mode: .readOnly) }
    require(missing.contains("File.open(\"\(directory)/missing\")"), "the error names the call and the path: \(missing)")
    requireError(.invalidMode, "read-only with create") { _ = try File.open(on: world, path: path("bad-mode"), mode: [.readOnly, .create]) }
    requireError(.invalidMode, "two access modes") { _ = try File.open(on: world, path: path("bad-mode"), mode: [.readOnly, .writeOnly]) }
    if n > 1 {
        requireError(.notSame, "different modes on different ranks") {
            _ = try File.open(on: world, path: path("not-same"), mode: r == 0 ? [.create, .readWrite] : [.create, .writeOnly])
        }
    }
    let existing = try File.open(on: world, path: path("exists"), mode: [.create, .writeOnly])
    requireError(.invalidMode, "read from a write-only file") {
        var one = [UInt8](repeating: 0, count: 1)
        try existing.read(into: &one, at: 0)
    }
    let decreasing = requireError(.invalidDatatype, "a view with decreasing offsets") {
        try existing.setView(displacement: 0, elementType: int32, fileType: try Datatype.indexed(blockLengths: [1, 1], displacements: [4, 0], of: int32))
    }
    require(decreasing.contains("setView"), "the error names the call: \(decreasing)")
    requireError(.invalidDatatype, "a file type that is not whole elements") {
        try existing.setView(displacement: 0, elementType: Datatype(Int64.self), fileType: int32)
    }
    let overlapping = try Datatype.indexed(blockLengths: [3, 1], displacements: [0, 1], of: int32)
    requireError(.invalidDatatype, "an overlapping file type on a file opened for writing") {
        try existing.setView(displacement: 0, elementType: int32, fileType: overlapping)
    }
    requireError(.invalidDatatype, "tiles that overlap (12 bytes of data, a 4-byte extent)") {
        try existing.setView(displacement: 0, elementType: int32, fileType: try Datatype.contiguous(count: 3, of: int32).resized(lowerBound: 0, extent: 4))
    }
    let unknown = requireError(.unsupportedDataRepresentation, "a data representation MPI does not define") {
        try existing.setView(displacement: 0, elementType: int32, fileType: int32, representation: "big-endian")
    }
    require(unknown.contains("\"external32\""), "the error names the representations there are: \(unknown)")
    struct Pair { var a: Int32, b: Int32 }
    requireError(.invalidDatatype, "an external32 view of a type whose fields SwiftMPI does not know") {
        try existing.setView(displacement: 0, elementType: Datatype(Pair.self), fileType: Datatype(Pair.self), representation: "external32")
    }
    if n > 1 {
        requireError(.notSame, "different data representations on different ranks") {
            try existing.setView(displacement: 0, elementType: int32, fileType: int32, representation: r == 0 ? "external32" : "native")
        }
    }
    try existing.setView(displacement: 0, elementType: int32, fileType: int32, representation: "external32")
    requireError(.invalidDatatype, "writing a type with no external32 form into an external32 view") {
        try existing.write([Pair(a: 1, b: 2)], at: 0)
    }
    // Refused at the shared file pointer too, which then has not moved.
    requireError(.invalidDatatype, "writeShared of a type with no external32 form") { try existing.writeShared([Pair(a: 1, b: 2)]) }
    requireError(.invalidDatatype, "writeOrdered of a type with no external32 form") { try existing.writeOrdered([Pair(a: 1, b: 2)]) }
    let unmoved = try existing.sharedPosition
    require(unmoved == 0, "refused shared-pointer writes moved the pointer to \(unmoved)")
    // One rank's mistake in a collective write fails the call on every rank.
    let message = requireError(.invalidDatatype, "a partial element on rank \(n - 1)") {
        try existing.setView(displacement: 0, elementType: int32, fileType: int32)
        try existing.writeAll([UInt8](repeating: 1, count: r == n - 1 ? 3 : 4 * (r + 1)), at: 0)
    }
    if r != n - 1 { require(message.contains("rank \(n - 1) failed"), "the other ranks name the failed rank: \(message)") }
    try existing.close()
    requireError(.invalidArgument, "use after close") { try existing.write([UInt8(1)], at: 0) }
    requireError(.fileExists, "create exclusively an existing file") {
        _ = try File.open(on: world, path: "\(directory)/exists", mode: [.create, .exclusive, .writeOnly])
    }
    let readOnly = try File.open(on: world, path: "\(directory)/exists", mode: .readOnly)
    requireError(.readOnly, "write to a read-only file") { try readOnly.write([UInt8(1)], at: 0) }
    try readOnly.close()
    if access("/sys/kernel/notes", F_OK) == 0 {
        requireError(.accessDenied, "open a file the system will not let anyone write") {
            _ = try File.open(on: world, path: "/sys/kernel/notes", mode: .readWrite)
        }
    } else if r == 0 {
        print("NOTE: /sys/kernel/notes is missing here: the access-denied check did not run")
    }
}

// MARK: A full file system: every rank fails with .noSpace
if let full = getenv("SWIFTMPI_IO_FULL_DIR").map({ String(cString: $0) }) {
    let file = try File.open(on: world, path: "\(full)/fill", mode: [.create, .writeOnly, .deleteOnClose])
    let chunk = [UInt8](repeating: 7, count: 1 << 20)
    let message = requireError(.noSpace, "writing past a full file system") {
        for round in 0..<64 { try file.writeAll(chunk, at: (round * n + r) << 20) }
    }
    require(message.contains("\(full)/fill"), "the error names the file: \(message)")
    requireError(.noSpace, "preallocating past a full file system") { try file.preallocate(1 << 30) }
    try file.close()
    if r == 0 { print("full file system: every rank threw .noSpace naming the file") }
}

// MARK: Clean up
try world.barrier()
if r == 0 {
    for file in Set(paths) { unlink(file) }
    if made { rmdir(directory) }
}
try world.barrier()
if r == 0 { print("I/O checks passed on \(n) ranks") }
try MPI.finalize()
