#if canImport(Glibc)
import Glibc
#endif
import CShims
import SwiftMPIWireup

/// How one rank's data reaches the file system on its own (independent access): one `pwrite` or
/// `pread` per run of the view, or data sieving where the runs are short — the bytes between the
/// first and last run of a window of at most ``File/sieveWindow`` bytes are read once, the pieces
/// copied in or out, and (for writes) written back once under a byte-range lock, so other ranks'
/// concurrent writes into the holes are not lost.
extension File {
    /// Which way data moves.
    enum Direction {
        case write, read
    }

    /// The most file bytes one data-sieving step reads (and writes back).
    static let sieveWindow = 4 << 20
    /// Runs shorter than this on average are sieved (`automatic`).
    static let sieveRunLength = 16 << 10

    /// The public calls' common path: checks the call, finds the view position (an explicit element
    /// offset, or the individual pointer when nil), moves the data independently or collectively,
    /// advances the individual pointer when it was used, and reports the bytes moved. `bytes` are
    /// packed instances of `memoryType`, which an external32 view converts element by element.
    func access(
        _ direction: Direction, _ bytes: UnsafeMutableRawBufferPointer, of memoryType: @autoclosure () -> Datatype, at offset: Int?,
        collective: Bool, _ call: StaticString, sequentialAllowed: Bool = false
    ) throws(MPIError) -> Status {
        let span = communicator.traceBegin()  // every read and write of a file passes here (--trace)
        defer { if span != 0 { communicator.traceEnd(span, call, peer: nil, tag: -1, bytes: bytes.count) } }
        return try typedErrors {
            try checkOpen(call)
            var failure: Error? = nil
            var moved = 0
            var position = 0  // in bytes of view data
            var external: External32Data? = nil  // the file's bytes, when they differ from memory's
            defer { external?.buffer.deallocate() }
            do {
                if direction == .write { try requireWritable(call) } else { try requireReadable(call) }
                if mode.contains(.sequential) && !sequentialAllowed {
                    throw MPIError(.invalidMode, "\(call)(\"\(path)\"): a file opened .sequential is accessed through the shared file pointer only")
                }
                _ = try elementCount(bytes.count, call)
                position = try dataPosition(ofElement: offset ?? individualPointer, bytes: bytes.count, call)
                if view.isExternal32 { external = try External32Data(direction, bytes, memoryType(), "\(call)(\"\(path)\") in external32") }
                if !collective { moved = try independent(direction, external?.buffer ?? bytes, at: position, call) }
            } catch {
                guard collective else { throw error }
                failure = error
            }
            if collective {
                // Every rank takes part in the exchange, a rank that failed its checks with no data.
                moved = try collectiveTransfer(
                    direction, failure == nil ? external?.buffer ?? bytes : UnsafeMutableRawBufferPointer(start: nil, count: 0), at: position,
                    failure: failure.map { $0 as? MPIError ?? MPIError(.io, "\(call)(\"\(path)\"): \($0)") }, call)
            }
            if direction == .read { external?.convertBack(moved, into: bytes) }
            if offset == nil { individualPointer += moved / view.elementSize }
            return Status(source: MPI.anySource, tag: MPI.anyTag, byteCount: moved)
        }
    }

    /// Checks that an external32 view can take data of `memoryType` (nothing to check in a native
    /// view): the shared-pointer calls check before they move the pointer.
    func checkRepresentable(_ memoryType: @autoclosure () -> Datatype, _ call: StaticString) throws(MPIError) {
        guard view.isExternal32 else { return }
        try memoryType().requireExternal32SameSize(call, "\(call)(\"\(path)\") in external32")
    }

    /// The number of view elements in `bytes` bytes; throws unless it is whole.
    func elementCount(_ bytes: Int, _ call: StaticString) throws(MPIError) -> Int {
        guard bytes % view.elementSize == 0 else {
            throw MPIError(
                .invalidDatatype, "\(call)(\"\(path)\"): \(bytes) bytes are not a whole number of the view's \(view.elementSize)-byte elements")
        }
        return bytes / view.elementSize
    }

    /// Moves `buffer` to or from the view data bytes from `position` on; returns the bytes moved
    /// (fewer than asked when a read meets the end of the file).
    func independent(_ direction: Direction, _ buffer: UnsafeMutableRawBufferPointer, at position: Int, _ call: StaticString) throws -> Int {
        let runs = view.fileRuns(position..<(position + buffer.count))
        guard !runs.isEmpty, let base = buffer.baseAddress else { return 0 }
        let locked = atomicity ? Self.span(runs[...]) : nil
        if let locked { try lock(locked, direction == .write ? F_WRLCK : F_RDLCK, call) }
        defer { if let locked { try? lock(locked, F_UNLCK, call) } }
        let toggle = direction == .read ? hints.sievingRead : hints.sievingWrite
        let sieve = runs.count > 1 && canReadBack && (toggle == .enable || (toggle == .automatic && buffer.count / runs.count < Self.sieveRunLength))
        var moved = 0
        var index = 0
        while index < runs.count {
            // A window: consecutive runs spanning at most sieveWindow bytes (at least one run).
            var end = index + 1
            if sieve {
                while end < runs.count && runs[end].offset + runs[end].length - runs[index].offset <= Self.sieveWindow { end += 1 }
            }
            let window = runs[index..<end]
            let done =
                end - index > 1
                ? try sieved(direction, window, base + moved, lockWrites: locked == nil, call)
                : try direct(direction, window.first!, base + moved, call)
            moved += done
            if done < window.reduce(0, { $0 + $1.length }) { break }  // a read met the end of the file
            index = end
        }
        return moved
    }

    /// One run, moved with `pwrite`/`pread` until done or (reading) the end of the file.
    func direct(_ direction: Direction, _ run: (offset: Int, length: Int), _ memory: UnsafeMutableRawPointer, _ call: StaticString) throws -> Int {
        var done = 0
        while done < run.length {
            let n: Int
            do {
                n =
                    direction == .write
                    ? try systemCall("pwrite") { pwrite(descriptor, memory + done, run.length - done, off_t(run.offset + done)) }
                    : try systemCall("pread") { pread(descriptor, memory + done, run.length - done, off_t(run.offset + done)) }
            } catch {
                throw Self.fileError(error.code, "\(call)(\"\(path)\")", call: direction == .write ? "pwrite" : "pread")
            }
            if n == 0 { break }  // end of file (reads)
            done += n
        }
        return done
    }

    /// Several short runs through one buffer covering them (data sieving); returns the bytes of the
    /// runs moved (reads: up to the end of the file).
    private func sieved(
        _ direction: Direction, _ runs: ArraySlice<(offset: Int, length: Int)>, _ memory: UnsafeMutableRawPointer, lockWrites: Bool,
        _ call: StaticString
    ) throws -> Int {
        let covered = Self.span(runs)
        let (low, span) = (covered.lowerBound, covered.count)
        let window = UnsafeMutableRawBufferPointer.allocate(byteCount: span, alignment: 64)
        defer { window.deallocate() }
        let range = covered
        if direction == .write && lockWrites { try lock(range, F_WRLCK, call) }
        defer { if direction == .write && lockWrites { try? lock(range, F_UNLCK, call) } }
        let available = try direct(.read, (low, span), window.baseAddress!, call)
        if available < span { memset(window.baseAddress! + available, 0, span - available) }
        var moved = 0
        for run in runs {
            let at = run.offset - low
            if direction == .write {
                (window.baseAddress! + at).copyMemory(from: memory + moved, byteCount: run.length)
                moved += run.length
            } else {
                let have = max(0, min(run.length, available - at))
                (memory + moved).copyMemory(from: window.baseAddress! + at, byteCount: have)
                moved += have
                if have < run.length { return moved }
            }
        }
        if direction == .write { _ = try direct(.write, (low, span), window.baseAddress!, call) }
        return moved
    }

    /// The file bytes `runs` cover, from the lowest to the highest: in a view that is only read
    /// runs may overlap and go back, so neither the first starts lowest nor the last ends highest.
    static func span(_ runs: ArraySlice<(offset: Int, length: Int)>) -> Range<Int> {
        let low = runs.reduce(Int.max) { min($0, $1.offset) }
        return low..<runs.reduce(low) { max($0, $1.offset + $1.length) }
    }

    /// Takes or releases the byte-range lock on `range` (fcntl, waiting for other processes).
    func lock(_ range: Range<Int>, _ type: Int32, _ call: StaticString) throws {
        guard !range.isEmpty else { return }
        let code = cshims_lock_range(descriptor, type, Int64(range.lowerBound), Int64(range.count))
        if code != 0 { throw Self.fileError(code, "\(call)(\"\(path)\")", call: "fcntl(F_SETLKW)") }
    }
}

/// The file-side bytes of one access to an external32 view: a write's data converted to big-endian
/// before it goes out, or the buffer a read fills before it is converted into memory.
struct External32Data {
    /// The file-side bytes (as many as memory's: only types whose elements keep their size pass).
    let buffer: UnsafeMutableRawBufferPointer
    /// What the bytes are: packed instances of it.
    let memoryType: Datatype

    /// Checks `memoryType` (``Datatype/requireExternal32SameSize(_:_:)``) and makes the buffer: for
    /// a write, `bytes` converted to external32.
    init(_ direction: File.Direction, _ bytes: UnsafeMutableRawBufferPointer, _ memoryType: Datatype, _ context: @autoclosure () -> String) throws(MPIError) {
        try memoryType.requireExternal32SameSize("File", context())
        guard bytes.count == 0 || (memoryType.size > 0 && bytes.count % memoryType.size == 0) else {
            throw MPIError(.invalidCount, "\(context()): \(bytes.count) bytes are not whole instances of \(memoryType)")
        }
        self.memoryType = memoryType
        buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 16)
        if direction == .write, let source = bytes.baseAddress, bytes.count > 0 {
            memoryType.convertExternal32(source, into: buffer.baseAddress!, count: bytes.count / memoryType.size, toExternal: true)
        }
    }

    /// Converts the first `moved` bytes read into `bytes` (memory's form): whole instances, then the
    /// elements of a last instance the end of the file cut short (converted as a whole instance
    /// padded with zeros, of which only the bytes read are kept).
    func convertBack(_ moved: Int, into bytes: UnsafeMutableRawBufferPointer) {
        let size = memoryType.size
        guard moved > 0, size > 0, let target = bytes.baseAddress else { return }
        let whole = moved / size, rest = whole * size
        memoryType.convertExternal32(buffer.baseAddress!, into: target, count: whole, toExternal: false)
        guard rest < moved else { return }
        let last = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
        defer { last.deallocate() }
        memset(buffer.baseAddress! + moved, 0, rest + size - moved)  // (the buffer holds whole instances)
        memoryType.convertExternal32(buffer.baseAddress! + rest, into: last.baseAddress!, count: 1, toExternal: false)
        (target + rest).copyMemory(from: last.baseAddress!, byteCount: moved - rest)
    }
}
