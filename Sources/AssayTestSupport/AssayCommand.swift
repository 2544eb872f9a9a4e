#if canImport(Glibc)
    import Glibc
#endif
import Dispatch

/// The `assay` executable of this build (`.build/debug/assay`), run as a person runs it, for
/// the command-line tests; and any other program the tests start.
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
        let outFile = directory + "/cli.out"
        let errFile = directory + "/cli.err"
        let (status, _) = await spawn([binary] + args, standardOutput: outFile, standardError: errFile)
        return (status, read(outFile), read(errFile))
    }

    /// Starts `arguments[0]` with the rest as its arguments and this process's environment,
    /// standard output and error written to the given files, and waits for it off the
    /// cooperative pool unless `wait` is false. Returns the exit status (128 + the signal when
    /// one ended it; 0 when not waited for; -1 when it could not start) and the process id.
    public static func spawn(
        _ arguments: [String], standardOutput: String, standardError: String, wait: Bool = true
    ) async -> (status: Int32, pid: Int32) {
        await withCheckedContinuation { c in
            DispatchQueue(label: "assay-subprocess").async {
                var actions = posix_spawn_file_actions_t()
                posix_spawn_file_actions_init(&actions)
                posix_spawn_file_actions_addopen(&actions, 1, standardOutput, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                posix_spawn_file_actions_addopen(&actions, 2, standardError, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                var cargs = arguments.map { strdup($0) } + [nil]
                var pid: pid_t = 0
                let rc = posix_spawn(&pid, arguments[0], &actions, nil, &cargs, environ)
                for p in cargs { free(p) }
                posix_spawn_file_actions_destroy(&actions)
                guard rc == 0 else { return c.resume(returning: (-1, 0)) }
                guard wait else { return c.resume(returning: (0, pid)) }
                var status: Int32 = 0
                waitpid(pid, &status, 0)
                c.resume(returning: ((status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f), pid))
            }
        }
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
