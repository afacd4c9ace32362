// The v-forms with displacements (gatherv, scatterv, allgatherv, alltoallv): blocks in reverse rank
// order with gaps, zero counts, overlapping parts read at a scatter's root, against a serial layout.
import SwiftMPI

func checkDisplacements(_ world: Communicator) throws {
    let n = world.size, r = world.rank
    let counts = (0..<n).map { $0 % 3 }  // ranks 0, 3, 6, … contribute nothing
    let slot = 3  // each block gets a slot of 3 elements, in reverse rank order: gaps where counts < 3
    let displacements = (0..<n).map { (n - 1 - $0) * slot }
    func block(of rank: Int) -> [Int] { (0..<counts[rank]).map { rank * 100 + $0 } }
    var expected = [Int](repeating: 0, count: (0..<n).map { counts[$0] > 0 ? displacements[$0] + counts[$0] : 0 }.max() ?? 0)
    for rank in 0..<n { for (k, value) in block(of: rank).enumerated() { expected[displacements[rank] + k] = value } }

    for root in Array(Set([0, n - 1])).sorted() {
        let gathered = try world.gatherv(block(of: r), counts: counts, displacements: displacements, root: root)
        require(r == root ? gathered == expected : gathered == nil, "gatherv with displacements at root \(root): \(gathered ?? [])")
        // Overlapping parts at the root: rank i gets values[i ..< i + 3].
        let source = (0..<(n + 2)).map { $0 * 7 }
        let part = try world.scatterv(
            r == root ? source : [], counts: [Int](repeating: 3, count: n), displacements: Array(0..<n), root: root)
        require(part == Array(source[r..<(r + 3)]), "scatterv with overlapping parts at root \(root): \(part)")
    }
    let everyone = try world.allgatherv(block(of: r), counts: counts, displacements: displacements)
    require(everyone == expected, "allgatherv with displacements: \(everyone), expected \(expected)")

    // alltoallv: rank r sends j + 1 elements to rank j, stored in reverse order of j in its send buffer;
    // it receives r + 1 elements from every rank j, placed at slot j of width n + 1 (a gap after each).
    let sendCounts = (0..<n).map { $0 + 1 }
    var sendDisplacements = [Int](repeating: 0, count: n)
    var offset = 0
    for j in (0..<n).reversed() { sendDisplacements[j] = offset; offset += sendCounts[j] }
    var outgoing = [Int](repeating: 0, count: offset)
    for j in 0..<n { for k in 0..<sendCounts[j] { outgoing[sendDisplacements[j] + k] = r * 10_000 + j * 100 + k } }
    let recvCounts = [Int](repeating: r + 1, count: n)
    let recvDisplacements = (0..<n).map { $0 * (n + 1) }
    let exchanged = try world.alltoallv(
        outgoing, sendCounts: sendCounts, sendDisplacements: sendDisplacements, recvCounts: recvCounts, recvDisplacements: recvDisplacements)
    var expectedExchange = [Int](repeating: 0, count: (n - 1) * (n + 1) + r + 1)
    for j in 0..<n { for k in 0...r { expectedExchange[j * (n + 1) + k] = j * 10_000 + r * 100 + k } }
    require(exchanged == expectedExchange, "alltoallv with displacements: \(exchanged), expected \(expectedExchange)")

    // Blocks that would overlap in the result are refused on every rank, before anything moves.
    if n > 1 {
        do {
            _ = try world.allgatherv([r, r], counts: [Int](repeating: 2, count: n), displacements: (0..<n).map { $0 })
            require(false, "allgatherv with overlapping blocks accepted")
        } catch let error {
            require(error.code == .invalidArgument && error.message.contains("overlap"), "allgatherv overlap: \(error)")
        }
    }
    // Displacements count at the root only: a root that refuses its own still takes the others'
    // contributions, and they return (no hang).
    if n > 1 {
        do {
            let gathered = try world.gatherv([r, r], counts: [Int](repeating: 2, count: n), displacements: (0..<n).map { $0 }, root: 0)
            require(r != 0 && gathered == nil, "gatherv with overlapping blocks at the root accepted")
        } catch let error {
            require(r == 0 && error.code == .invalidArgument && error.message.contains("overlap"), "gatherv overlap: \(error)")
        }
    }
    require(try world.allreduce([1], op: .sum) == [n], "collectives after refused displacements")
}
