#if canImport(Glibc)
import Glibc
#endif
import AssayTestSupport
import Dispatch

/// The package's root, found from this file's path.
let packageRoot: String = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)  // Tests/AssayCatalogTests/Processes.swift
    return parts.joined(separator: "/")
}()

/// The `assay` executable built next to the tests.
let assayBinary: String = {
    for configuration in ["debug", "release"] {
        let path = packageRoot + "/.build/\(configuration)/assay"
        if access(path, X_OK) == 0 { return path }
    }
    return packageRoot + "/.build/debug/assay"
}()

/// What a finished process said.
struct ProcessResult: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Starts `arguments` with stdout and stderr captured; returns the pid and the pipes' read ends.
func spawn(_ arguments: [String], environment extra: [String: String] = [:]) -> (pid: pid_t, out: Int32, err: Int32) {
    var outPipe: [Int32] = [0, 0]
    var errPipe: [Int32] = [0, 0]
    pipe(&outPipe)
    pipe(&errPipe)
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
    posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
    posix_spawn_file_actions_addclose(&actions, outPipe[0])
    posix_spawn_file_actions_addclose(&actions, errPipe[0])
    var env: [String] = []
    var i = 0
    while let e = environ[i] {
        env.append(String(cString: e))
        i += 1
    }
    for (k, v) in extra { env.append("\(k)=\(v)") }
    var cargs = arguments.map { strdup($0) } + [nil]
    var cenv = env.map { strdup($0) } + [nil]
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, arguments[0], &actions, nil, &cargs, &cenv)
    precondition(rc == 0, "cannot start \(arguments[0]): \(rc)")
    for p in cargs { free(p) }
    for p in cenv { free(p) }
    posix_spawn_file_actions_destroy(&actions)
    close(outPipe[1])
    close(errPipe[1])
    return (pid, outPipe[0], errPipe[0])
}

/// Reads a pipe to its end.
func drain(_ fd: Int32) -> String {
    var out: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n <= 0 { break }
        out.append(contentsOf: buffer[0..<n])
    }
    close(fd)
    return String(decoding: out, as: UTF8.self)
}

/// Starts a long-running process (a server) with its output going to `logFile`.
func spawnDetached(_ arguments: [String], logFile: String) -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    posix_spawn_file_actions_addopen(&actions, 1, logFile, O_WRONLY | O_CREAT | O_APPEND, 0o644)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    var cargs = arguments.map { strdup($0) } + [nil]
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, arguments[0], &actions, nil, &cargs, environ)
    precondition(rc == 0, "cannot start \(arguments[0]): \(rc)")
    for p in cargs { free(p) }
    posix_spawn_file_actions_destroy(&actions)
    return pid
}


/// Waits for a child to exit (after a kill) and reaps it, off the cooperative pool.
func reap(_ pid: pid_t) async {
    await withCheckedContinuation { c in
        DispatchQueue(label: "reap").async {
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            c.resume()
        }
    }
}

/// Runs a command to completion off the cooperative pool.
func run(_ arguments: [String], environment: [String: String] = [:]) async -> ProcessResult {
    await withCheckedContinuation { c in
        DispatchQueue(label: "process").async {
            let (pid, out, err) = spawn(arguments, environment: environment)
            let group = DispatchGroup()
            nonisolated(unsafe) var stdout = ""
            nonisolated(unsafe) var stderr = ""
            DispatchQueue.global().async(group: group) { stdout = drain(out) }
            DispatchQueue.global().async(group: group) { stderr = drain(err) }
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            group.wait()
            let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
            c.resume(returning: ProcessResult(status: code, stdout: stdout, stderr: stderr))
        }
    }
}

/// Writes a text file.
func writeFile(_ path: String, _ text: String) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    let bytes = Array(text.utf8)
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
}
