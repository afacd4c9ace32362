// swift-tools-version:6.0
import PackageDescription

/// SwiftMPI: an MPI-style message-passing runtime for Linux.
///
/// Layers (docs/Design.md): `swiftmpirun` (Launcher/) and the runtime (`SwiftMPI`) share only
/// `SwiftMPIWireup` (environment names and the key-value exchange); both reach the operating system's
/// special interfaces (shared memory, Cross Memory Attach, dlopen'd verbs, NUMA) through `CShims`.
let package = Package(
    name: "SwiftMPI",
    products: [
        .library(name: "SwiftMPI", targets: ["SwiftMPI"]),
        .executable(name: "swiftmpirun", targets: ["swiftmpirun"]),
        .executable(name: "swiftmpi-bench", targets: ["swiftmpi-bench"]),
        // MPI's C interface with MPICH's ABI (CInterface/, docs/C-ABI.md): libmpi.so, whose soname is
        // libmpi.so.12; swiftmpirun gives ranks the names libmpi.so.12 and libmpich.so.12 for it.
        .library(name: "mpi", type: .dynamic, targets: ["SwiftMPIC"]),
        // The same C interface as a Swift module, for Swift programs that call C libraries taking MPI
        // handles: `import SwiftMPIC` gives `communicator.mpiHandle`, `Communicator(mpiHandle:)`, ...
        .library(name: "SwiftMPIC", targets: ["SwiftMPIC"])
    ],
    dependencies: [
        // `swift package generate-documentation --target SwiftMPI` (the DocC catalog in Sources/SwiftMPI/SwiftMPI.docc).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0")
    ],
    targets: [
        .target(name: "CShims", path: "CShims"),
        .target(name: "SwiftMPIWireup", dependencies: ["CShims"], path: "Sources/SwiftMPIWireup"),
        .target(name: "SwiftMPITransport", dependencies: ["CShims", "SwiftMPIWireup"], path: "Sources/SwiftMPITransport"),
        // Trace files, their merge into one Perfetto trace, and the profile report: shared by the
        // runtime (which records and writes them) and the launcher (which merges what an aborted job left).
        .target(name: "SwiftMPITrace", dependencies: ["SwiftMPIWireup"], path: "Sources/SwiftMPITrace"),
        .target(name: "SwiftMPI", dependencies: ["SwiftMPIWireup", "SwiftMPITransport", "SwiftMPITrace", "CShims"], path: "Sources/SwiftMPI"),
        // What swiftmpirun reads from outside (its command line, --host lists, hostfiles, Slurm's
        // variables): a library, so the fuzz targets link it.
        .target(name: "SwiftMPILauncherParsing", path: "Launcher/Parsing"),
        // The C interface: mpi.h and the MPI_ → PMPI_ profiling twins (C), the PMPI_ functions over
        // the Swift API (Swift).
        .target(name: "CMPI", path: "CInterface/CMPI"),
        .target(
            name: "SwiftMPIC", dependencies: ["SwiftMPI", "CMPI"], path: "CInterface/SwiftMPIC",
            linkerSettings: [.unsafeFlags(["-Xlinker", "-soname=libmpi.so.12"])]),
        .executableTarget(
            name: "swiftmpirun", dependencies: ["SwiftMPILauncherParsing", "SwiftMPIWireup", "SwiftMPITrace", "CShims"],
            path: "Launcher/swiftmpirun",
            // A release launcher is one static executable: no dynamic loader, no relocations, no
            // libstdc++ to map — it starts in ~0.85 ms instead of ~1.9 ms, a large part of
            // `swiftmpirun -n 2 /bin/true` (docs/Design.md, Launcher). It dlopen()s only for --info
            // (libnuma, libibverbs), which glibc supports from static programs on the glibc they
            // were built with. Ranks stay dynamic (they dlopen verbs and PMIx).
            linkerSettings: [.unsafeFlags(["-static-executable"], .when(platforms: [.linux], configuration: .release))]),
        .executableTarget(name: "swiftmpi-bench", dependencies: ["SwiftMPI"], path: "Benchmarks/Sources"),
        .executableTarget(name: "swiftmpi-hello", dependencies: ["SwiftMPI"], path: "Examples/Hello"),
        .executableTarget(name: "swiftmpi-heat", dependencies: ["SwiftMPI"], path: "Examples/Heat"),
        .executableTarget(name: "swiftmpi-resilient-heat", dependencies: ["SwiftMPI"], path: "Examples/ResilientHeat"),
        .executableTarget(name: "swiftmpi-cg", dependencies: ["SwiftMPI"], path: "Examples/ConjugateGradient"),
        .executableTarget(name: "swiftmpi-pi", dependencies: ["SwiftMPI"], path: "Examples/MonteCarloPi"),
        .executableTarget(name: "swiftmpi-pencil", dependencies: ["SwiftMPI"], path: "Examples/Pencil"),
        .executableTarget(name: "swiftmpi-table", dependencies: ["SwiftMPI"], path: "Examples/SharedTable"),
        // Programs that the integration tests run as ranks under swiftmpirun.
        .executableTarget(
            name: "swiftmpi-testrank", dependencies: ["SwiftMPI", "SwiftMPIWireup"], path: "Tests/Programs"),
        .executableTarget(name: "swiftmpi-p2p-check", dependencies: ["SwiftMPI"], path: "Tests/PointToPointChecks"),
        .executableTarget(name: "swiftmpi-coll-check", dependencies: ["SwiftMPI"], path: "Tests/CollectiveChecks"),
        .executableTarget(name: "swiftmpi-rma-check", dependencies: ["SwiftMPI"], path: "Tests/OneSidedChecks"),
        .executableTarget(name: "swiftmpi-io-check", dependencies: ["SwiftMPI"], path: "Tests/IOChecks"),
        // A C library taking MPI handles, called from a Swift rank (the C interface's interoperability).
        .target(name: "SwiftMPIInteropLibrary", dependencies: ["CMPI"], path: "Tests/CInterop/Library"),
        .executableTarget(
            name: "swiftmpi-interop-check", dependencies: ["SwiftMPI", "SwiftMPIC", "SwiftMPIInteropLibrary"], path: "Tests/CInterop/Program"),
        // libFuzzer targets (Tests/Scripts/libfuzzer.sh); in a normal build it replays saved inputs.
        .executableTarget(
            name: "swiftmpi-fuzz", dependencies: ["SwiftMPI", "SwiftMPIWireup", "SwiftMPITransport", "CShims", "SwiftMPILauncherParsing"],
            path: "Tests/LibFuzzer"),
        // The transport conformance suite (a library the tests use) and its runner (for the VM).
        .target(
            name: "SwiftMPITransportConformance", dependencies: ["SwiftMPITransport", "SwiftMPIWireup"],
            path: "Tests/TransportConformance/Suite"),
        .executableTarget(
            name: "swiftmpi-conformance", dependencies: ["SwiftMPITransportConformance"],
            path: "Tests/TransportConformance/Runner"),
        .target(name: "CMallocCounter", path: "Tests/AllocationChecks/CMallocCounter"),
        .executableTarget(
            name: "swiftmpi-alloc-check", dependencies: ["SwiftMPI", "CMallocCounter"], path: "Tests/AllocationChecks/Program"),
        .testTarget(
            name: "SwiftMPITests",
            dependencies: [
                "SwiftMPI", "SwiftMPIWireup", "SwiftMPITransport", "SwiftMPITrace", "CShims", "SwiftMPILauncherParsing", "SwiftMPITransportConformance",
                "swiftmpirun",
                "swiftmpi-testrank", "swiftmpi-conformance", "swiftmpi-hello", "swiftmpi-p2p-check", "swiftmpi-alloc-check", "swiftmpi-coll-check",
                "swiftmpi-rma-check",
                "swiftmpi-heat", "swiftmpi-resilient-heat", "swiftmpi-cg", "swiftmpi-pi", "swiftmpi-pencil", "swiftmpi-table", "swiftmpi-interop-check"
            ],
            path: "Tests/SwiftMPITests")
    ]
)
