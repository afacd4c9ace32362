import Testing

@testable import SwiftMPI

/// Public calls throw `MPIError` by type (`throws(MPIError)`), so a caller reads `error.code`
/// without a cast and stores the calls in closures typed `throws(MPIError)`. These would not
/// compile if a call threw untyped errors. (Closures need `() throws(MPIError) in`: Swift 6.3
/// infers untyped `throws` for closure literals.)
@Suite("typed errors")
struct TypedErrorTests {
    @Test("datatype constructors, finalize without initialize and packing past the buffer throw MPIError by type")
    func typed() {
        let double = Datatype(Double.self)
        let calls: [(String, () throws(MPIError) -> Void)] = [
            ("vector", { () throws(MPIError) in _ = try Datatype.vector(count: -1, blockLength: 1, stride: 1, of: double) }),
            ("subarray", { () throws(MPIError) in _ = try Datatype.subarray(sizes: [4], subsizes: [5], starts: [0], of: double) }),
            ("finalize", { () throws(MPIError) in try MPI.finalize() }),
            (
                "pack",
                { () throws(MPIError) in
                    var bytes: [UInt8] = [], position = 0
                    try double.pack(from: [1.0], count: 2, into: &bytes, position: &position)
                }
            )
        ]
        for (name, call) in calls {
            do {
                try call()
                Issue.record("\(name) did not throw")
            } catch {
                // `error` is an MPIError here: no `as?`, no catch-all clause.
                let code: MPIError.Code = error.code
                #expect([MPIError.Code.invalidCount, .invalidArgument, .invalidDatatype, .notInitialized].contains(code), "\(name): \(error)")
            }
        }
    }

    /// A switch over every code with no `default`: it compiles only while the cases below name
    /// every code, so a program's exhaustive handling is checked by the compiler (and a code added
    /// to SwiftMPI shows up as an error in such a switch, on purpose).
    static func kind(of code: MPIError.Code) -> String {
        switch code {
        case .notInitialized, .alreadyInitialized, .alreadyFinalized: "the program called MPI out of order"
        case .invalidRank, .invalidTag, .invalidCount, .invalidArgument, .invalidDatatype, .invalidMode, .badFile, .unsupportedDataRepresentation:
            "a bad argument"
        case .collectiveMismatch, .notSame, .truncate: "the ranks disagree"
        case .rmaSynchronization, .rmaRange: "a one-sided mistake"
        case .noSuchFile, .fileExists, .accessDenied, .noSpace, .readOnly, .io: "the file system said no"
        case .processFailed, .processFailedPending, .revoked, .wireup, .transport, .internalError: "the job or the machine failed"
        case .bufferExhausted, .cancelled: "a resource or a request"
        }
    }

    @Test("a switch over MPIError.Code needs no default: every code is a case, and each has a name and a meaning")
    func exhaustive() {
        #expect(MPIError.Code.allCases.count == 30)
        for code in MPIError.Code.allCases {
            #expect(!Self.kind(of: code).isEmpty)
            #expect(MPIError.Code(named: code.description) == code)
            #expect(MPI.errorString(code).hasPrefix("\(code): "))
        }
        #expect(Self.kind(of: .truncate) == "the ranks disagree")
    }
}
