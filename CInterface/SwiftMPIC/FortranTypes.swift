import CMPI
import SwiftMPI

// Fortran 90's parameterized types from C (MPI_Type_create_f90_real, _complex, _integer): the
// predefined type with the least precision and range that hold what the program asks for, as
// gfortran's SELECTED_REAL_KIND and SELECTED_INT_KIND choose it. Each call for the same arguments
// returns the same handle, a committed type that moves and reduces as its predefined type does;
// MPI_Type_get_envelope names its F90 combiner and MPI_Type_get_contents returns the arguments as
// given (MPI_UNDEFINED included); like a predefined type it cannot be freed.

extension CInterface {
    /// The handles made so far, by combiner and arguments (under ``CInterfaceLock``).
    @exclusivity(unchecked) nonisolated(unsafe) static var fortranTypes: [[Int32]: MPI_Datatype] = [:]

    /// The handle for `arguments` (combiner first) of a type like `base`, made at the first call.
    static func fortranType(_ arguments: [Int32], like base: MPI_Datatype, into newType: UnsafeMutablePointer<MPI_Datatype>?) throws(CError) {
        guard let newType else { throw CError(MPI_ERR_ARG, "a null datatype pointer") }
        var entry = try datatype(base, forCommunication: false)
        entry.committed = true
        entry.envelope = Envelope(combiner: arguments[0], integers: Array(arguments.dropFirst()))
        newType.pointee = CInterfaceLock.withLock {
            if let made = fortranTypes[arguments] { return made }
            let handle = datatypes.insert(entry)
            fortranTypes[arguments] = handle
            return handle
        }
    }

    /// True for a handle MPI_Type_create_f90_* returned (predefined: not to be freed).
    static func isFortranType(_ handle: MPI_Datatype) -> Bool { CInterfaceLock.withLock { fortranTypes.values.contains(handle) } }
}

/// The real kind of at least `precision` decimal digits and exponent range `range` (either
/// MPI_UNDEFINED: no demand): 4, 8 or 16 bytes, or MPI_ERR_ARG when none holds it.
private func realKind(_ precision: Int32, _ range: Int32) throws(CError) -> Int {
    let p = precision == MPI_UNDEFINED ? 0 : precision, r = range == MPI_UNDEFINED ? 0 : range
    guard p >= 0, r >= 0 else { throw CError(MPI_ERR_ARG, "negative precision \(precision) or range \(range)") }
    if p <= 6 && r <= 37 { return 4 }
    if p <= 15 && r <= 307 { return 8 }
    if p <= 33 && r <= 4931 { return 16 }
    throw CError(MPI_ERR_ARG, "no real type has precision \(precision) and range \(range) (at most 33 digits, range 4931)")
}

@_cdecl("PMPI_Type_create_f90_real")
public func mpiTypeCreateF90Real(_ precision: Int32, _ range: Int32, _ newType: UnsafeMutablePointer<MPI_Datatype>?) -> Int32 {
    cCall("MPI_Type_create_f90_real") {
        let base = [4: MPI_REAL4, 8: MPI_REAL8, 16: MPI_REAL16][try realKind(precision, range)]!
        try CInterface.fortranType([MPI_COMBINER_F90_REAL, precision, range], like: base, into: newType)
    }
}

@_cdecl("PMPI_Type_create_f90_complex")
public func mpiTypeCreateF90Complex(_ precision: Int32, _ range: Int32, _ newType: UnsafeMutablePointer<MPI_Datatype>?) -> Int32 {
    cCall("MPI_Type_create_f90_complex") {
        let base = [4: MPI_COMPLEX8, 8: MPI_COMPLEX16, 16: MPI_COMPLEX32][try realKind(precision, range)]!
        try CInterface.fortranType([MPI_COMBINER_F90_COMPLEX, precision, range], like: base, into: newType)
    }
}

@_cdecl("PMPI_Type_create_f90_integer")
public func mpiTypeCreateF90Integer(_ range: Int32, _ newType: UnsafeMutablePointer<MPI_Datatype>?) -> Int32 {
    cCall("MPI_Type_create_f90_integer") {
        guard range >= 0 else { throw CError(MPI_ERR_ARG, "negative range \(range)") }
        // The integer kind of at least `range` decimal digits (SELECTED_INT_KIND).
        let base: MPI_Datatype
        switch range {
        case ...2: base = MPI_INTEGER1
        case 3...4: base = MPI_INTEGER2
        case 5...9: base = MPI_INTEGER4
        case 10...18: base = MPI_INTEGER8
        default: throw CError(MPI_ERR_ARG, "no integer type has a range of \(range) digits (at most 18)")
        }
        try CInterface.fortranType([MPI_COMBINER_F90_INTEGER, range], like: base, into: newType)
    }
}
