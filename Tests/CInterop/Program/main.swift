// A Swift rank that passes its objects to a C library (Tests/CInterop/Library) and uses in Swift what
// the library makes: communicators (a Swift-made sub-communicator), datatypes, groups, operations and
// requests, in both directions, on one runtime. Run with 2 or more ranks; every rank prints
// "interop: rank R passed" (CInterfaceTests runs it).
#if canImport(Glibc)
import Glibc
#endif
import SwiftMPI
import SwiftMPIC
import SwiftMPIInteropLibrary

// Written once, by the main thread, right after MPI_Init and before any other thread starts: then
// only read.
nonisolated(unsafe) var myRank = -1

func require(_ condition: Bool, _ what: @autoclosure () -> String, line: Int = #line) {
    guard condition else {
        print("interop: rank \(myRank): line \(line): \(what())")
        exit(1)
    }
}

let world = try MPI.initialize()
myRank = world.rank

// A C library that uses MPI_COMM_WORLD before Swift handed it any handle sees MPI running.
var flag: Int32 = 0
require(interop_initialized(&flag) == MPI_SUCCESS && flag == 1, "MPI_Initialized gave \(flag)")
var worldSize: Int32 = 0
require(interop_world_size(&worldSize) == MPI_SUCCESS && Int(worldSize) == world.size, "MPI_Comm_size(MPI_COMM_WORLD) gave \(worldSize)")
require(try world.mpiHandle == MPI_COMM_WORLD && (try MPI.commSelf.mpiHandle) == MPI_COMM_SELF, "world and self handles")

// A Swift-made sub-communicator in C: one handle for every copy, ranks and a collective.
guard let halves = try world.split(color: world.rank % 2, key: -world.rank) else { fatalError("split gave no communicator") }
let comm = try halves.mpiHandle
let copy = halves
require(try copy.mpiHandle == comm, "a second handle for the same communicator")
var rank: Int32 = -1, size: Int32 = -1
require(interop_describe(comm, &rank, &size) == MPI_SUCCESS, "MPI_Comm_rank/size on the handle")
require(Int(rank) == halves.rank && Int(size) == halves.size, "C saw rank \(rank) of \(size), Swift \(halves.rank) of \(halves.size)")
var sum = 0
require(interop_sum_world_ranks(comm, &sum) == MPI_SUCCESS, "MPI_Allreduce on the handle")
let members = stride(from: world.rank % 2, to: world.size, by: 2)
require(sum == members.reduce(0, +), "C's sum of world ranks in my half: \(sum)")
require(try Communicator(mpiHandle: comm).rank == halves.rank, "Communicator(mpiHandle:) of a Swift-made handle")

// A Swift datatype (a matrix column) and the predefined ones in C.
require(try Datatype(Double.self).mpiHandle == MPI_DOUBLE && (try Datatype(Int32.self).mpiHandle) == MPI_INT, "predefined handles")
let rows = 4, columns = 3
let column = try Datatype.vector(count: rows, blockLength: 1, stride: columns, of: Datatype(Double.self))
let columnHandle = try column.mpiHandle
require(try column.mpiHandle == columnHandle, "a second handle for the same datatype")
var matrix = [Double](repeating: -1, count: rows * columns)
if halves.rank == 0 { for row in 0..<rows { matrix[row * columns + 1] = Double(100 * row + world.rank % 2) } }
let bcastError = matrix.withUnsafeMutableBufferPointer { interop_bcast($0.baseAddress! + 1, 1, columnHandle, 0, comm) }
require(bcastError == MPI_SUCCESS, "MPI_Bcast with the column's handle")
for row in 0..<rows {
    for col in 0..<columns {
        let expected = col == 1 ? Double(100 * row + world.rank % 2) : -1
        require(matrix[row * columns + col] == expected, "matrix[\(row)][\(col)] = \(matrix[row * columns + col]), not \(expected)")
    }
}
require(try Datatype(mpiHandle: columnHandle).size == column.size, "Datatype(mpiHandle:)")

// Operations: built-in ones have MPI's handles; a custom one has none.
require(ReduceOperation<Double>.max.mpiHandle == MPI_MAX && ReduceOperation<Int>.sum.mpiHandle == MPI_SUM, "built-in operation handles")
require(ReduceOperation<Double>.custom("sum") { $0 + $1 }.mpiHandle == nil, "a custom operation has no handle")
let values: [Double] = [Double(world.rank), -Double(world.rank)]
var maxima = [Double](repeating: 0, count: 2)
require(interop_allreduce(values, &maxima, 2, ReduceOperation<Double>.max.mpiHandle!, comm) == MPI_SUCCESS, "MPI_Allreduce with MPI_MAX")
require(maxima == [Double(members.max()!), -Double(members.min()!)], "maxima \(maxima)")

// Groups.
var groupSize: Int32 = 0, firstWorldRank: Int32 = -1
require(interop_group_first_world_rank(try halves.group.mpiHandle, &groupSize, &firstWorldRank) == MPI_SUCCESS, "group calls")
require(Int(groupSize) == halves.size && Int(firstWorldRank) == members.max()!, "C saw a group of \(groupSize) led by world rank \(firstWorldRank)")
require(try Group(mpiHandle: halves.group.mpiHandle) == halves.group, "Group(mpiHandle:)")

// A communicator the C library made, used in Swift, then freed by the library.
var made = MPI_COMM_NULL
require(interop_dup(comm, &made) == MPI_SUCCESS && made != MPI_COMM_NULL, "MPI_Comm_dup")
let dup = try Communicator(mpiHandle: made)
require(try dup.mpiHandle == made, "the handle of a C-made communicator is its own")
require(try dup.allreduce([1], op: .sum) == [halves.size], "allreduce in Swift on the C-made communicator")
require(interop_free(&made) == MPI_SUCCESS && made == MPI_COMM_NULL, "MPI_Comm_free")

// Requests: C starts a ring exchange, Swift takes the requests over and waits; then the reverse.
let outgoing = UnsafeMutablePointer<Int32>.allocate(capacity: 2)
let incoming = UnsafeMutablePointer<Int32>.allocate(capacity: 2)
outgoing.initialize(repeating: Int32(world.rank), count: 2)
incoming.initialize(repeating: -1, count: 2)
var cRequests = [MPI_Request](repeating: MPI_REQUEST_NULL, count: 2)
require(interop_start_ring(comm, outgoing, incoming, &cRequests) == MPI_SUCCESS, "MPI_Irecv/MPI_Isend")
let taken = try (0..<2).map { index in try Request.takeOver(mpiHandle: &cRequests[index]) }
require(cRequests == [MPI_REQUEST_NULL, MPI_REQUEST_NULL], "taken-over handles are MPI_REQUEST_NULL")
try Request.waitAll(taken)
let left = (halves.rank + halves.size - 1) % halves.size
let leftWorldRank = world.rank % 2 + 2 * (halves.size - 1 - left)  // key -world.rank: halves' rank 0 is the highest
require(Int(incoming[0]) == leftWorldRank, "the ring gave \(incoming[0]), not \(leftWorldRank)")
let receive = try halves.irecv(into: UnsafeMutableBufferPointer(start: incoming + 1, count: 1), from: left, tag: 8)
let send = try halves.isend(UnsafeBufferPointer(start: outgoing + 1, count: 1), to: (halves.rank + 1) % halves.size, tag: 8)
var receiveHandle = try receive.makeMPIHandle(), sendHandle = try send.makeMPIHandle()
var source: Int32 = -1, ignored: Int32 = 0
require(interop_wait(&receiveHandle, &source) == MPI_SUCCESS && receiveHandle == MPI_REQUEST_NULL, "MPI_Wait on a Swift-made request")
require(interop_wait(&sendHandle, &ignored) == MPI_SUCCESS, "MPI_Wait on a Swift send")
require(Int(source) == left && Int(incoming[1]) == leftWorldRank, "C's wait gave source \(source) and \(incoming[1])")

// What users get wrong.
do {
    _ = try Communicator(mpiHandle: MPI_COMM_NULL)
    require(false, "Communicator(mpiHandle: MPI_COMM_NULL) did not throw")
} catch {
    require(error.code == .invalidArgument && "\(error)".contains("MPI_COMM_NULL"), "\(error)")
}
do {
    var null = MPI_REQUEST_NULL
    _ = try Request.takeOver(mpiHandle: &null)
    require(false, "Request.takeOver(MPI_REQUEST_NULL) did not throw")
} catch {
    require(error.code == .invalidArgument, "\(error)")
}
do {
    _ = try Datatype(mpiHandle: MPI_DATATYPE_NULL)
    require(false, "Datatype(mpiHandle: MPI_DATATYPE_NULL) did not throw")
} catch {
    require(error.code == .invalidArgument && "\(error)".contains("MPI_DATATYPE_NULL"), "\(error)")
}

outgoing.deallocate()
incoming.deallocate()
try MPI.finalize()
print("interop: rank \(world.rank) passed")
