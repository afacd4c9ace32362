// The smallest SwiftMPI program: every rank says who and where it is.
//
//     swift run swiftmpirun -n 4 swiftmpi-hello
import SwiftMPI

let world = try MPI.initialize()
print("Hello from rank \(world.rank) of \(world.size) on \(MPI.processorName)")
try MPI.finalize()
