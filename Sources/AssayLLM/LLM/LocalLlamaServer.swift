public import AssayModels
import Foundation
import AssayCore
#if canImport(Glibc)
    import Glibc
#endif

/// A llama.cpp server (`python -m llama_cpp.server` from llama-cpp-python) that Assay starts
/// on a free loopback port when a model is first used, restarts when it has died, and stops
/// at shutdown. The server exits by itself when Assay's process goes away.
public actor LocalLlamaServer {
    public struct Configuration: Hashable, Sendable {
        /// The Python of the virtualenv that has llama-cpp-python[server].
        public var python: String
        /// The GGUF file to serve.
        public var modelPath: String
        /// The name the server answers to in `model` (and lists in /v1/models).
        public var modelAlias: String
        /// CPU threads for generation (1 or 2 on a small machine).
        public var threads: Int
        /// Context window in tokens.
        public var contextSize: Int
        /// How long the server may take to load the model and answer /v1/models.
        public var startupTimeout: Duration
        /// llama-cpp-python's `--chat_format` (such as `gemma`), for a GGUF file that carries no
        /// chat template; nil: the file's own template.
        public var chatFormat: String?
        /// Where the server's output goes (appended); nil: a file in the temporary directory.
        public var logPath: String?

        public init(
            python: String, modelPath: String, modelAlias: String, threads: Int = 1, contextSize: Int = 2048,
            startupTimeout: Duration = .seconds(120), chatFormat: String? = nil, logPath: String? = nil
        ) {
            self.python = python
            self.modelPath = modelPath
            self.modelAlias = modelAlias
            self.threads = max(1, threads)
            self.contextSize = contextSize
            self.startupTimeout = startupTimeout
            self.chatFormat = chatFormat
            self.logPath = logPath
        }
    }

    public nonisolated let configuration: Configuration
    private let transport: any HTTPTransport
    private var process: Process?
    private var baseURL: String?
    /// Callers that arrived while a start was under way; resumed when it ends.
    private var waiters: [CheckedContinuation<String, any Error>] = []
    private var starting = false
    private var stopped = false
    /// How many times the server was started (the first start included).
    public private(set) var starts = 0

    public init(configuration: Configuration, transport: (any HTTPTransport)? = nil) {
        self.configuration = configuration
        self.transport = transport ?? URLSessionTransport()
    }

    /// The pid of the running server, if any (for tests and logs).
    public var processID: Int32? { process.flatMap { $0.isRunning ? $0.processIdentifier : nil } }

    /// The server's base URL (`http://127.0.0.1:<port>/v1`), starting it first when it is not
    /// running (never started, or died since).
    public func start() async throws(LocalServerError) -> String {
        if stopped { throw LocalServerError("the local llama.cpp server for \(configuration.modelAlias) was stopped") }
        if let process, process.isRunning, let baseURL { return baseURL }
        if starting {
            do {
                return try await withCheckedThrowingContinuation { waiters.append($0) }
            } catch let error as LocalServerError { throw error } catch { throw LocalServerError(String(describing: error)) }
        }
        starting = true
        let outcome: Result<String, LocalServerError>
        do { outcome = .success(try await launch()) } catch { outcome = .failure(error) }
        starting = false
        let waiting = waiters
        waiters = []
        for waiter in waiting { waiter.resume(with: outcome.mapError { $0 as any Error }) }
        return try outcome.get()
    }

    /// Stops the server (SIGTERM, then SIGKILL after 5 s); later `start` calls fail.
    public func stop() async {
        stopped = true
        await terminate()
    }

    private func terminate() async {
        guard let process else { return }
        self.process = nil
        baseURL = nil
        guard process.isRunning else { return }
        process.terminate()
        let deadline = ContinuousClock.now + .seconds(5)
        while process.isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    private func launch() async throws(LocalServerError) -> String {
        await terminate()
        let config = configuration
        guard FileManager.default.isExecutableFile(atPath: config.python) else {
            throw LocalServerError("no Python at \(config.python): run `make models` to install llama-cpp-python")
        }
        guard FileManager.default.fileExists(atPath: config.modelPath) else {
            throw LocalServerError("no model file at \(config.modelPath): run `make models`")
        }
        let port: UInt16
        do { port = try Self.freePort() } catch { throw LocalServerError("cannot find a free port: \(error)") }
        let logPath = config.logPath ?? (NSTemporaryDirectory() + "assay-llama-\(config.modelAlias)-\(getpid()).log")
        if !FileManager.default.fileExists(atPath: logPath) { _ = FileManager.default.createFile(atPath: logPath, contents: nil) }
        guard let log = FileHandle(forWritingAtPath: logPath) else { throw LocalServerError("cannot write the server log \(logPath)") }
        log.seekToEndOfFile()
        let logStart = log.offsetInFile

        let process = Process()
        process.executableURL = URL(fileURLWithPath: config.python)
        process.arguments = [
            "-c", Self.launcher,
            "--model", config.modelPath, "--model_alias", config.modelAlias,
            "--host", "127.0.0.1", "--port", String(port),
            "--n_threads", String(config.threads), "--n_threads_batch", String(config.threads),
            "--n_ctx", String(config.contextSize),
        ] + (config.chatFormat.map { ["--chat_format", $0] } ?? [])
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = log
        process.standardError = log
        do { try process.run() } catch { throw LocalServerError("cannot start \(config.python): \(error)") }
        try? log.close()
        self.process = process
        starts += 1

        let url = "http://127.0.0.1:\(port)/v1"
        let deadline = ContinuousClock.now + config.startupTimeout
        while true {
            if !process.isRunning {
                self.process = nil
                throw LocalServerError(
                    "the llama.cpp server for \(config.modelAlias) exited with status \(process.terminationStatus) while starting: "
                        + Self.tail(logPath, from: logStart))
            }
            if let response = try? await transport.send(HTTPRequest(method: "GET", url: url + "/models"), timeout: .seconds(2)),
                response.status == 200
            {
                baseURL = url
                return url
            }
            if ContinuousClock.now >= deadline {
                await terminate()
                throw LocalServerError(
                    "the llama.cpp server for \(config.modelAlias) did not answer within \(config.startupTimeout): "
                        + Self.tail(logPath, from: logStart))
            }
            do { try await Task.sleep(for: .milliseconds(200)) } catch {
                await terminate()
                throw LocalServerError("cancelled while the llama.cpp server was starting")
            }
        }
    }

    /// Runs the server module, after starting a thread that exits the server when the process
    /// that started it (Assay) is gone, so a crashed Assay leaves no server behind.
    static let launcher = """
        import os, sys, threading, time, runpy
        parent = os.getppid()
        def watch():
            while os.getppid() == parent:
                time.sleep(1)
            os._exit(0)
        threading.Thread(target=watch, daemon=True).start()
        sys.argv = ["llama_cpp.server"] + sys.argv[1:]
        runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
        """

    /// A port nothing listens on now (bound to port 0 and released).
    static func freePort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw LocalServerError("socket: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw LocalServerError("bind: errno \(errno)") }
        return UInt16(bigEndian: address.sin_port)
    }

    /// The last lines the server wrote since `offset`.
    static func tail(_ path: String, from offset: UInt64) -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { return "(no log)" }
        defer { try? handle.close() }
        handle.seek(toFileOffset: offset)
        let text = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
        let lines = text.split(separator: "\n").suffix(8).joined(separator: " | ")
        return lines.isEmpty ? "(no output; log \(path))" : lines + " (log \(path))"
    }
}

/// Why the local server could not serve.
public struct LocalServerError: Error, Hashable, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
