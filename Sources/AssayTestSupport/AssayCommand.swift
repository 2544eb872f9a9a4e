#if canImport(Glibc)
    import Glibc
#endif
import Dispatch

/// The `assay` executable of this build (`.build/debug/assay`), run as a person runs it, for
/// the command-line tests.
public enum AssayCommand {
    /// The path of the debug `assay` beside the sources.
    public static let binary: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)  // Sources/AssayTestSupport/AssayCommand.swift
        return parts.joined(separator: "/") + "/.build/debug/assay"
    }()

    /// Runs `assay ARGS` off the cooperative pool and waits for it; its output goes through
    /// files in `directory`. Returns the exit status (128 + the signal when one ended it),
    /// standard output and standard error.
    public static func run(_ args: [String], in directory: String) async -> (status: Int32, out: String, err: String) {
        let arguments = [binary] + args
        let outFile = directory + "/cli.out"
        let errFile = directory + "/cli.err"
        let status: Int32 = await withCheckedContinuation { c in
            DispatchQueue(label: "assay-cli").async {
                var actions = posix_spawn_file_actions_t()
                posix_spawn_file_actions_init(&actions)
                posix_spawn_file_actions_addopen(&actions, 1, outFile, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                posix_spawn_file_actions_addopen(&actions, 2, errFile, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                var cargs = arguments.map { strdup($0) } + [nil]
                var pid: pid_t = 0
                let rc = posix_spawn(&pid, arguments[0], &actions, nil, &cargs, environ)
                for p in cargs { free(p) }
                posix_spawn_file_actions_destroy(&actions)
                guard rc == 0 else { return c.resume(returning: -1) }
                var status: Int32 = 0
                waitpid(pid, &status, 0)
                c.resume(returning: (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f))
            }
        }
        return (status, read(outFile), read(errFile))
    }

    /// A whole file as UTF-8 text ("" when it cannot be read).
    public static func read(_ path: String) -> String {
        guard let f = fopen(path, "r") else { return "" }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&buffer, 1, buffer.count, f)
            if n == 0 { break }
            bytes += buffer[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
