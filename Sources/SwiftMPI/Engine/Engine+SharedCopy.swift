#if canImport(Glibc)
import Glibc
#endif
import SwiftMPITransport

/// Large messages between two ranks of one host, copied by both (``SharedCopy``): the receiver's
/// side (announce, claim and read chunks, complete) and the sender's (help when idle).
///
/// A `share` packet carries: context = descriptor index, source = generation, tag = chunk bytes,
/// flags = chunk count, length = the receiver's buffer address (docs/Design.md, "Shared copies").
extension Engine {
    /// Announces a shared copy of a matched rendezvous message to its sender and copies chunks until
    /// none is left; false when it cannot (no copy board on this route, or no descriptor free: the
    /// caller copies alone).
    func startSharedCopy(
        _ operation: ReceiveOperation, _ header: MatchHeader, _ source: RemoteMemory, from peer: Int,
        regions: (local: TypedRegion, remote: TypedRegion)? = nil
    ) -> Bool {
        guard let area = routes.sharedArea(ofPeer: rank), routes.sharedArea(ofPeer: peer) != nil,
            let index = freeCopyDescriptors.last, let base = SharedArea.copyDescriptor(index, in: area)
        else { return false }
        freeCopyDescriptors.removeLast()
        copyGeneration &+= 1
        let total = Int(clamping: header.length)
        var copy = SharedCopy(
            operation: operation, descriptorIndex: index, descriptor: CopyDescriptor(base: base),
            generation: copyGeneration, peer: peer, source: source,
            senderOperation: header.senderOperation, total: total,
            chunkBytes: SharedCopy.chunkBytes(total: total), regions: regions)
        var origin = UInt64(UInt(bitPattern: operation.buffer.baseAddress))
        if let local = regions?.local {
            // The sender walks the receiver's data as one block from its origin (the caller checked).
            copy.descriptor.publishLayout(local.map.blocks[0])
            origin = UInt64(UInt(bitPattern: local.origin))
        }
        copy.descriptor.arm(generation: copy.generation)
        sendControl(
            .share,
            MatchHeader(
                context: UInt32(index), source: Int32(bitPattern: copy.generation),
                tag: Int32(copy.chunkBytes), flags: UInt32(copy.chunkCount),
                length: origin, senderOperation: header.senderOperation,
                receiverOperation: regions == nil ? 0 : Self.layoutPublished), to: peer)
        while let chunk = copy.descriptor.claim(generation: copy.generation, chunkCount: copy.chunkCount) {
            readChunk(chunk, of: &copy)
        }
        if !finishSharedCopy(&copy) { sharedCopies.append(copy) }
        return true
    }

    /// A `share` packet's receiverOperation when the receiver published its layout (datatypes).
    static let layoutPublished: UInt32 = 1

    private func readChunk(_ chunk: Int, of copy: inout SharedCopy) {
        let range = copy.range(of: chunk)
        if let regions = copy.regions {
            switch scatteredCopy(local: regions.local, remote: regions.remote, range: range, peer: copy.peer, write: false) {
            case .completed: break
            case .failed(let code), .forbidden(let code): if copy.readError == 0 { copy.readError = code }
            case .unsupported, .started: if copy.readError == 0 { copy.readError = EIO }
            }
            copy.descriptor.finish()
            sharedCopyCounts.chunksRead += 1
            statistics.sharedCopyChunksRead &+= 1
            return
        }
        let target = UnsafeMutableRawBufferPointer(rebasing: copy.operation.buffer[range])
        // Wrapping: the address comes from the peer, and a bad one must fail the copy, not trap.
        var remote = copy.source
        remote.address = remote.address &+ UInt64(range.lowerBound)
        let error: Int32
        switch routes.read(from: copy.peer, remote: remote, into: target, token: 0) {
        case .completed: error = 0
        case .failed(let code), .forbidden(let code): error = code
        case .unsupported: error = EIO
        case .started: preconditionFailure("rank \(copy.peer)'s transport declares immediate reads but started one (the transport contract)")
        }
        if error != 0 && copy.readError == 0 { copy.readError = error }
        copy.descriptor.finish()
        sharedCopyCounts.chunksRead += 1
        statistics.sharedCopyChunksRead &+= 1
    }

    /// Completes the receive once every chunk is finished (copying the one the sender gave up on);
    /// returns false while the sender still copies.
    private func finishSharedCopy(_ copy: inout SharedCopy) -> Bool {
        let (finished, failedChunk) = copy.descriptor.progress(chunkCount: copy.chunkCount)
        guard finished + (failedChunk == nil ? 0 : 1) >= copy.chunkCount else { return false }
        if let failedChunk { readChunk(failedChunk, of: &copy) }
        freeCopyDescriptors.append(copy.descriptorIndex)
        sharedCopyCounts.received += 1
        let operation = copy.operation
        if copy.readError == ESRCH { giveLauncherTimeToEndJob() }  // the sender is gone (see there)
        if copy.readError != 0 {
            operation.error = MPIError(
                copy.readError == ESRCH ? .processFailed : .transport,
                "recv: copying \(copy.total) bytes from rank \(copy.peer) failed: \(String(cString: strerror(copy.readError)))",
                status: operation.status)
        }
        operation.isComplete = true
        if copy.readError != ESRCH { sendControl(.ack, MatchHeader(senderOperation: copy.senderOperation), to: copy.peer) }
        return true
    }

    /// Completes the shared copies whose sender has finished its chunks; true when any completed.
    func finishSharedCopies() -> Bool {
        var index = 0, finishedAny = false
        while index < sharedCopies.count {
            if finishSharedCopy(&sharedCopies[index]) {
                sharedCopies.remove(at: index)
                finishedAny = true
            } else {
                index += 1
            }
        }
        return finishedAny
    }

    /// Sender: records a `share` request; help only when there is nothing else to do: a rank busy
    /// with its own traffic would only move the receiver's buffer into its own cache
    /// (bi-directional bandwidth fell by up to a third when senders helped at once).
    func requestedHelp(_ header: MatchHeader, from peer: Int) {
        guard sharedCopyAllowed else { return }
        if helpRequests.count == SharedArea.copyDescriptorCount { helpRequests.removeFirst() }
        helpRequests.append((header, peer))
    }

    /// Sender, idle: helps with the oldest shared copy still waiting for help; true when it copied.
    func helpWithSharedCopy() -> Bool {
        while !helpRequests.isEmpty {
            let (header, peer) = helpRequests.removeFirst()
            if helpCopy(header, from: peer) { return true }
        }
        return false
    }

    /// Sender: helps with a shared copy of its message `header.senderOperation`: writes the chunks it
    /// claims into the receiver's buffer — contiguous bytes with one write each, or for a datatype
    /// message (the receiver published its layout) the chunk's range of the packed stream with
    /// scattered writes, both sides walked as layouts. True when it copied a chunk; anything that
    /// does not fit the waiting send (or a receiver layout that does not cover it) is ignored.
    private func helpCopy(_ header: MatchHeader, from peer: Int) -> Bool {
        guard sharedCopyAllowed, let operation = waitingSends.lookup(header.senderOperation), operation.destination == peer,
            let area = routes.sharedArea(ofPeer: peer), let base = SharedArea.copyDescriptor(Int(header.context), in: area)
        else { return false }
        let total = operation.byteCount
        let chunkBytes = Int(header.tag), chunkCount = Int(header.flags)
        guard chunkBytes > 0, total > 0, chunkCount == (total + chunkBytes - 1) / chunkBytes, header.length != 0 else { return false }
        let descriptor = CopyDescriptor(base: base)
        let write: (Range<Int>) -> Bool
        if header.receiverOperation == Self.layoutPublished {
            guard let regions = scatteredHelpRegions(operation, descriptor.layout, receiverOrigin: header.length, total: total, peer: peer) else {
                return false
            }
            write = { self.scatteredCopy(local: regions.local, remote: regions.remote, range: $0, peer: peer, write: true) == .completed }
        } else {
            guard operation.region == nil else { return false }
            write = { range in
                let source = UnsafeRawBufferPointer(rebasing: operation.bytes[range])
                return self.routes.write(to: peer, remote: RemoteMemory(address: header.length &+ UInt64(range.lowerBound)), from: source, token: 0)
                    == .completed
            }
        }
        let generation = UInt32(bitPattern: header.source)
        var copied = false
        while let chunk = descriptor.claim(generation: generation, chunkCount: chunkCount) {
            let start = chunk * chunkBytes
            guard write(start..<min(total, start + chunkBytes)) else {
                descriptor.markFailed(chunk)
                sharedCopyAllowed = false
                helpRequests.removeAll()
                return true
            }
            descriptor.finish()
            sharedCopyCounts.chunksWritten += 1
            statistics.sharedCopyChunksWritten &+= 1
            copied = true
        }
        return copied
    }

    /// The sender's data and the receiver's, for helping with a datatype message; nil when the
    /// route cannot write scattered memory or the layout the receiver published (in its segment:
    /// untrusted) does not cover the message.
    private func scatteredHelpRegions(
        _ operation: SendOperation, _ block: TypeBlock, receiverOrigin: UInt64, total: Int, peer: Int
    ) -> (local: TypedRegion, remote: TypedRegion)? {
        let (covered, overflow) = block.length.multipliedReportingOverflow(by: block.count)
        guard block.length > 0, block.count > 0, !overflow, covered >= total, routes.capabilities[peer].maxWriteSegments > 0 else { return nil }
        let receiverMap = TypeMap(
            blocks: [block], lowerBound: 0, upperBound: max(0, block.span.high), alignment: 1, signature: [], externalSignature: [],
            summary: "rank \(peer)'s receive")
        let remote = TypedRegion(unchecked: UnsafeMutableRawPointer(bitPattern: UInt(truncatingIfNeeded: receiverOrigin)), map: receiverMap, count: 1)
        let local = operation.region ?? TypedRegion(contiguous: UnsafeMutableRawPointer(mutating: operation.bytes.baseAddress), byteCount: total)
        return (local, remote)
    }
}
