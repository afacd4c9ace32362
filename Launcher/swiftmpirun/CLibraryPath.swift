#if canImport(Glibc)
import Glibc
#endif

/// Where ranks find SwiftMPI's C interface: programs built against MPICH (or with `swiftmpicc`)
/// need `libmpich.so.12` or `libmpi.so.12`. SwiftPM builds it as `libmpi.so` beside `swiftmpirun`;
/// the launcher links both names (and `libmpi.so`, the first name mpi4py tries) to it in `mpich-abi/` there (once) and puts that directory first
/// on the ranks' `LD_LIBRARY_PATH`, so `swiftmpirun -n 4 ./osu_latency` runs MPICH's binary on
/// SwiftMPI. Swift ranks do not load it. Without a built `libmpi.so` nothing changes.
enum CLibraryPath {
    /// The names programs look for, in the directory the ranks search first.
    static let names = ["libmpi.so.12", "libmpich.so.12", "libmpi.so"]

    /// `mpich-abi/` beside swiftmpirun, with its links made; nil when there is no `libmpi.so`.
    static func directory() -> String? {
        guard let launcher = ProgramLocator.launcherDirectory() else { return nil }
        let library = "\(launcher)/libmpi.so"
        guard access(library, R_OK) == 0 else { return nil }
        let directory = "\(launcher)/mpich-abi"
        mkdir(directory, 0o755)
        for name in names {
            let link = "\(directory)/\(name)"
            var info = stat()
            if lstat(link, &info) != 0 { symlink("../libmpi.so", link) }
        }
        return access("\(directory)/\(names[0])", R_OK) == 0 ? directory : nil
    }

    /// `environment` with the C interface's directory first on `LD_LIBRARY_PATH`.
    static func prepend(to environment: [String]) -> [String] {
        guard let directory = directory() else { return environment }
        var found = false
        var result = environment.map { entry -> String in
            guard entry.hasPrefix("LD_LIBRARY_PATH=") else { return entry }
            found = true
            let value = entry.dropFirst("LD_LIBRARY_PATH=".count)
            return value.isEmpty ? "LD_LIBRARY_PATH=\(directory)" : "LD_LIBRARY_PATH=\(directory):\(value)"
        }
        if !found { result.append("LD_LIBRARY_PATH=\(directory)") }
        return result
    }
}
