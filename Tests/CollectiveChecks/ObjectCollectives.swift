import SwiftMPI

/// A Codable value with a bit of everything, different on every rank.
struct Sample: Codable, Equatable {
    var rank: Int
    var name: String
    var values: [Double]
    var parent: Int?

    init(rank: Int, length: Int = 3) {
        self.rank = rank
        name = "rank \(rank) " + String(repeating: "x", count: rank % 5)
        values = (0..<length).map { Double($0) + Double(rank) / 8 }
        parent = rank == 0 ? nil : rank - 1
    }
}

/// bcast, gather, allgather and scatter of Codable values from every root, a 4 MB object, and
/// mistakes that every rank must hear about: a root with nil, a scatter of the wrong count.
func checkObjectCollectives(_ world: Communicator) throws {
    let n = world.size, r = world.rank
    for root in Array(Set([0, n - 1])).sorted() {
        let shared = try world.bcast(object: r == root ? Sample(rank: root) : nil, root: root)
        require(shared == Sample(rank: root), "bcast(object:) root \(root): \(shared)")
        let gathered = try world.gather(object: Sample(rank: r), root: root)
        require(r == root ? gathered! == (0..<n).map { Sample(rank: $0) } : gathered == nil, "gather(object:) root \(root)")
        let dealt = try world.scatter(objects: r == root ? (0..<n).map { Sample(rank: $0 * 10) } : nil, root: root)
        require(dealt == Sample(rank: r * 10), "scatter(objects:) root \(root): \(dealt)")
    }
    let everyone = try world.allgather(object: Sample(rank: r, length: r))
    require(everyone == (0..<n).map { Sample(rank: $0, length: $0) }, "allgather(object:)")
    let large = try world.bcast(object: r == 0 ? Sample(rank: 0, length: 500_000) : nil, root: 0)
    require(large.values.count == 500_000 && large.values[499_999] == 499_999, "bcast(object:) of 4 MB")
    // Mistakes: every rank throws .invalidArgument, and the next collective still works.
    do {
        _ = try world.bcast(object: Sample?.none, root: 0)
        require(false, "bcast(object:) with nil at the root returned")
    } catch let error {
        require(error.code == .invalidArgument, "bcast(object: nil): \(error)")
    }
    do {
        _ = try world.scatter(objects: r == 0 ? [Sample(rank: 0)] + (0..<n).map { Sample(rank: $0) } : nil, root: 0)
        require(false, "scatter(objects:) of \(n + 1) values returned")
    } catch let error {
        require(error.code == .invalidArgument, "scatter(objects:) of n + 1: \(error)")
    }
    require(try world.allreduce([1], op: .sum) == [n], "allreduce after the refused object collectives")
}
