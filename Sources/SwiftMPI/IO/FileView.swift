/// What part of a file a rank sees (MPI's file view): from `displacement` bytes on, `fileType` tiled
/// over and over; only the bytes its runs cover belong to the view, in order, and positions in the
/// view count elements of `elementType`.
struct FileView: Sendable {
    var displacement: Int
    var elementType: Datatype
    var fileType: Datatype
    /// The data representation (MPI's name is its raw value).
    enum Representation: String, CaseIterable, Sendable {
        /// As in memory.
        case native
        /// The same as native here.
        case `internal`
        /// Every element big-endian (MPI-4.1 §14.5.2).
        case external32
    }

    var representation = Representation.native

    /// The default view: every byte of the file, offsets in bytes.
    static let bytes = FileView(displacement: 0, elementType: Datatype(UInt8.self), fileType: Datatype(UInt8.self))

    /// True when data is converted to and from external32 on its way to the file.
    var isExternal32: Bool { representation == .external32 }

    /// Bytes of one element: view positions times this are bytes of view data.
    var elementSize: Int { elementType.size }

    /// The file byte ranges that view data bytes `range` occupy, in view order, neighbours merged.
    func fileRuns(_ range: Range<Int>) -> [(offset: Int, length: Int)] {
        guard !range.isEmpty else { return [] }
        let map = fileType.map
        if map.isDense && map.extent == map.size {  // no holes: one run
            return [(displacement + map.trueLowerBound + range.lowerBound, range.count)]
        }
        var runs: [(offset: Int, length: Int)] = []
        map.forEachRun(origin: displacement, count: Int.max, range: range) { offset, length, _ in
            if let last = runs.last, last.offset + last.length == offset {
                runs[runs.count - 1].length += length
            } else {
                runs.append((offset, length))
            }
            return true
        }
        return runs
    }

    /// The file offset of view data byte `position` (MPI_File_get_byte_offset).
    func fileOffset(ofDataByte position: Int) -> Int {
        var offset = displacement
        fileType.map.forEachRun(origin: displacement, count: Int.max, range: position..<(position + 1)) { start, _, _ in
            offset = start
            return false
        }
        return offset
    }

    /// How many bytes of view data lie before file byte `end` (the view's end of file).
    func dataBytes(before end: Int) -> Int {
        let map = fileType.map
        guard end > displacement, map.size > 0 else { return 0 }
        // Whole tiles: those whose data (from `trueLowerBound` in the tile, within one extent) ends
        // by `end`; the next one's runs are counted up to `end`.
        let tiles = max(0, end - displacement - map.trueLowerBound) / map.extent
        var bytes = tiles * map.size
        let tileStart = displacement + tiles * map.extent
        map.forEachRun(origin: tileStart, count: 1, range: 0..<map.size) { offset, length, _ in
            guard offset < end else { return false }
            bytes += min(length, end - offset)
            return true
        }
        return bytes
    }

    /// Checks what MPI asks of a view (MPI-4.1 §14.3): a positive element size, a file type made of
    /// whole elements, and file-type data at nonnegative offsets that do not decrease, from one run
    /// to the next and from one tile to the next (a tile starts `extent` bytes after the last, so
    /// the data from the first byte to the last must fit in one extent). Overlapping data is allowed
    /// when the file is only read (`readOnly`): reading a byte twice is harmless, writing it twice is
    /// not. Returns true when the file type's data overlaps (then only reads are possible).
    static func check(displacement: Int, elementType: Datatype, fileType: Datatype, readOnly: Bool, _ path: String) throws(MPIError) -> Bool {
        let call = "File.setView(\"\(path)\")"
        guard displacement >= 0 else { throw MPIError(.invalidArgument, "\(call): a negative displacement (\(displacement))") }
        guard elementType.size > 0 else { throw MPIError(.invalidDatatype, "\(call): the element type \(elementType) has no data") }
        guard fileType.size % elementType.size == 0 else {
            throw MPIError(
                .invalidDatatype, "\(call): the file type \(fileType) (\(fileType.size) bytes) is not a whole number of \(elementType.size)-byte elements")
        }
        let map = fileType.map
        var (first, start, end) = (Int?.none, 0, 0)
        var problem: String? = nil
        var overlaps = false
        map.forEachRun(origin: 0, count: 1, range: 0..<map.size) { offset, length, _ in
            if offset < 0 {
                problem = "data at a negative offset (\(offset))"
            } else if offset < start {
                problem = "data at offset \(offset) after data at \(start): offsets must not decrease"
            } else if offset < end {
                overlaps = true
                if !readOnly { problem = "data at offset \(offset) overlapping data up to \(end) (allowed only in a file opened .readOnly)" }
            }
            if first == nil { first = offset }
            (start, end) = (offset, max(end, offset + length))
            return problem == nil
        }
        if problem == nil, let first, map.size > 0 {
            // The next tile's first run starts at `first + extent`.
            if start > first + map.extent {
                problem = "data at offset \(start), beyond the next tile's first data at \(first + map.extent): offsets must not decrease"
            } else if end > first + map.extent {
                overlaps = true
                if !readOnly { problem = "data from byte \(first) to \(end), more than its \(map.extent)-byte extent, so the tiles overlap" }
            }
        }
        if let problem { throw MPIError(.invalidDatatype, "\(call): the file type \(fileType) has \(problem)") }
        return overlaps
    }
}

extension File {
    /// Sets this rank's view of the file (MPI_File_set_view): from `displacement` bytes on,
    /// `fileType` tiled over and over, offsets counted in `elementType`s. Collective; resets the
    /// individual and shared file pointers to 0. Every rank passes the same element size and
    /// representation (else `.notSame` on every rank); file types may differ (that is how ranks
    /// interleave). Throws `.invalidDatatype` for a file type that is not whole elements or whose
    /// offsets decrease, or overlap in a file opened for writing.
    ///
    /// `representation` is "native" (the bytes as in memory; "internal" is the same), or
    /// "external32": MPI's portable form, every element big-endian (MPI-4.1 §14.5.2), converted on
    /// each read and write, so any MPI on any machine reads the file. SwiftMPI takes external32 for
    /// types whose elements keep their size in it (Swift's integers, floating-point numbers and
    /// `Bool`; C's but `long`, `wchar_t` and their pairs), checked for the view's types here and for
    /// the data of each read and write: an element that changes size throws
    /// `.unsupportedDataRepresentation` (as does a representation other than these three), and an
    /// element with no external form (a type of the program's own given to `Datatype(_:)`)
    /// `.invalidDatatype`.
    public func setView(displacement: Int, elementType: Datatype, fileType: Datatype, representation: String = "native") throws(MPIError) {
        try collective("File.setView") {
            var failure: MPIError? = nil
            var overlaps = false
            let parsed = FileView.Representation(rawValue: representation)
            do {
                guard let parsed else {
                    throw MPIError(
                        .unsupportedDataRepresentation,
                        "File.setView(\"\(path)\"): data representation \"\(representation)\" (SwiftMPI's are \"native\", \"internal\" and \"external32\")"
                    )
                }
                if parsed == .external32 {
                    for type in [elementType, fileType] {
                        try type.requireExternal32SameSize("File.setView", "File.setView(\"\(path)\") in external32")
                    }
                }
                overlaps = try FileView.check(
                    displacement: displacement, elementType: elementType, fileType: fileType, readOnly: mode.contains(.readOnly), path)
            } catch let error as MPIError {
                failure = error
            }
            try Self.agree(communicator, failure)
            let code = parsed.flatMap { FileView.Representation.allCases.firstIndex(of: $0) } ?? -1  // (agreed: never nil here)
            let sizes = try communicator.allreduce([elementType.size, -elementType.size, overlaps ? 1 : 0, code, -code], op: .max)
            guard sizes[0] == -sizes[1] else {
                throw MPIError(.notSame, "File.setView(\"\(path)\"): the ranks passed element types of different sizes")
            }
            guard sizes[3] == -sizes[4] else {
                throw MPIError(.notSame, "File.setView(\"\(path)\"): the ranks passed different data representations")
            }
            anyViewOverlaps = sizes[2] != 0
            view = FileView(displacement: displacement, elementType: elementType, fileType: fileType, representation: parsed ?? .native)
            individualPointer = 0
            if communicator.rank == 0 { _ = try sharedPointer.fetchAndOp(0, to: 0, at: 0, op: .replace) }
            try communicator.barrier()
        }
    }

    /// The current view's displacement, element type and file type (MPI_File_get_view).
    public var currentView: (displacement: Int, elementType: Datatype, fileType: Datatype) {
        (view.displacement, view.elementType, view.fileType)
    }

    /// The current view's data representation: "native" (also the default view's), "internal" or
    /// "external32", as ``setView(displacement:elementType:fileType:representation:)`` was given it.
    public var dataRepresentation: String { view.representation.rawValue }

    /// The file offset in bytes of view element `offset` (MPI_File_get_byte_offset).
    public func byteOffset(ofElement offset: Int) throws(MPIError) -> Int {
        view.fileOffset(ofDataByte: try dataPosition(ofElement: offset, bytes: 0, "File.byteOffset"))
    }

    /// The view data byte where element `offset` starts; throws `.invalidArgument` for a negative
    /// offset, or one whose `bytes` would end beyond the largest file offset.
    func dataPosition(ofElement offset: Int, bytes: Int, _ call: StaticString) throws(MPIError) -> Int {
        guard offset >= 0 else { throw MPIError(.invalidArgument, "\(call)(\"\(path)\"): a negative offset (\(offset))") }
        let (position, overflow) = offset.multipliedReportingOverflow(by: view.elementSize)
        guard !overflow, position <= Int.max - bytes else {
            throw MPIError(.invalidArgument, "\(call)(\"\(path)\"): offset \(offset) lies beyond the largest file offset")
        }
        return position
    }
}
