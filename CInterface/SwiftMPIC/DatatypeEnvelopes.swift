import CMPI
import SwiftMPI

// Decoding a datatype (MPI_Type_get_envelope, MPI_Type_get_contents) in the `int` and the
// large-count `_c` forms. A type made by a `_c` constructor keeps its integer-valued arguments as
// large counts (DatatypeConstructors.swift), which the `int` forms have no array for: they refuse
// such a type with MPI_ERR_TYPE, naming the `_c` function to call instead, as MPICH does.

/// The envelope of `datatype`, refused by the `int` forms (`large` false) when it has large counts.
private func envelope(_ datatype: MPI_Datatype, large: Bool, _ function: StaticString) throws(CError) -> Envelope {
    let envelope = try CInterface.datatype(datatype, forCommunication: false).envelope
    guard large || envelope.largeCounts.isEmpty else {
        throw CError(MPI_ERR_TYPE, "the datatype was made by a large-count (_c) constructor: \(function)_c describes it")
    }
    return envelope
}

@_cdecl("PMPI_Type_get_envelope")
public func mpiTypeGetEnvelope(
    _ datatype: MPI_Datatype, _ integers: UnsafeMutablePointer<Int32>?, _ addresses: UnsafeMutablePointer<Int32>?,
    _ datatypes: UnsafeMutablePointer<Int32>?, _ combiner: UnsafeMutablePointer<Int32>?
) -> Int32 {
    cCall("MPI_Type_get_envelope") {
        let envelope = try envelope(datatype, large: false, "MPI_Type_get_envelope")
        integers?.pointee = Int32(envelope.integers.count)
        addresses?.pointee = Int32(envelope.addresses.count)
        datatypes?.pointee = Int32(envelope.types.count)
        combiner?.pointee = envelope.combiner
    }
}

@_cdecl("PMPI_Type_get_envelope_c")
public func mpiTypeGetEnvelopeC(
    _ datatype: MPI_Datatype, _ integers: UnsafeMutablePointer<MPI_Count>?, _ addresses: UnsafeMutablePointer<MPI_Count>?,
    _ largeCounts: UnsafeMutablePointer<MPI_Count>?, _ datatypes: UnsafeMutablePointer<MPI_Count>?, _ combiner: UnsafeMutablePointer<Int32>?
) -> Int32 {
    cCall("MPI_Type_get_envelope_c") {
        let envelope = try envelope(datatype, large: true, "MPI_Type_get_envelope_c")
        integers?.pointee = envelope.integers.count
        addresses?.pointee = envelope.addresses.count
        largeCounts?.pointee = envelope.largeCounts.count
        datatypes?.pointee = envelope.types.count
        combiner?.pointee = envelope.combiner
    }
}

/// MPI_Type_get_contents's work, also MPI_Type_get_contents_c's (`largeCounts` nil for the `int` form).
private func typeGetContents<C: CInteger>(
    _ function: StaticString, _ datatype: MPI_Datatype, _ maxIntegers: C, _ maxAddresses: C, _ maxLargeCounts: C?, _ maxDatatypes: C,
    _ integers: UnsafeMutablePointer<Int32>?, _ addresses: UnsafeMutablePointer<MPI_Aint>?, _ largeCounts: UnsafeMutablePointer<MPI_Count>?,
    _ datatypes: UnsafeMutablePointer<MPI_Datatype>?
) -> Int32 {
    cCall(function) {
        let envelope = try envelope(datatype, large: maxLargeCounts != nil, function)
        guard envelope.combiner != Envelope.named.combiner else { throw CError(MPI_ERR_TYPE, "a predefined datatype has no contents") }
        guard envelope.integers.count <= Int(maxIntegers), envelope.addresses.count <= Int(maxAddresses),
            envelope.largeCounts.count <= Int(maxLargeCounts ?? 0), envelope.types.count <= Int(maxDatatypes)
        else { throw CError(MPI_ERR_ARG, "the arrays are smaller than MPI_Type_get_envelope's counts") }
        for (index, value) in envelope.integers.enumerated() { integers?[index] = value }
        for (index, value) in envelope.addresses.enumerated() { addresses?[index] = value }
        for (index, value) in envelope.largeCounts.enumerated() { largeCounts?[index] = value }
        for (index, handle) in envelope.types.enumerated() {
            // Derived datatypes come back as new handles the program frees (MPI), made from what
            // they were when this datatype was built (their own handles may be gone by now).
            if index < envelope.constituents.count, var derived = envelope.constituents[index] {
                derived.committed = false
                datatypes?[index] = CInterface.datatypes.insert(derived)
            } else {
                datatypes?[index] = handle
            }
        }
    }
}

@_cdecl("PMPI_Type_get_contents")
public func mpiTypeGetContents(
    _ datatype: MPI_Datatype, _ maxIntegers: Int32, _ maxAddresses: Int32, _ maxDatatypes: Int32, _ integers: UnsafeMutablePointer<Int32>?,
    _ addresses: UnsafeMutablePointer<MPI_Aint>?, _ datatypes: UnsafeMutablePointer<MPI_Datatype>?
) -> Int32 {
    typeGetContents("MPI_Type_get_contents", datatype, maxIntegers, maxAddresses, nil, maxDatatypes, integers, addresses, nil, datatypes)
}

@_cdecl("PMPI_Type_get_contents_c")
public func mpiTypeGetContentsC(
    _ datatype: MPI_Datatype, _ maxIntegers: MPI_Count, _ maxAddresses: MPI_Count, _ maxLargeCounts: MPI_Count, _ maxDatatypes: MPI_Count,
    _ integers: UnsafeMutablePointer<Int32>?, _ addresses: UnsafeMutablePointer<MPI_Aint>?, _ largeCounts: UnsafeMutablePointer<MPI_Count>?,
    _ datatypes: UnsafeMutablePointer<MPI_Datatype>?
) -> Int32 {
    typeGetContents(
        "MPI_Type_get_contents_c", datatype, maxIntegers, maxAddresses, maxLargeCounts, maxDatatypes, integers, addresses, largeCounts, datatypes)
}
