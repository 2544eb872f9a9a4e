import AssaySync

#if canImport(Glibc)
    import Glibc
#endif

/// A server's TLS context that can be replaced while the server runs.
///
/// New connections take `current`; connections already open keep the context they started
/// with. A reload that fails (a missing file, a key that does not match its certificate, a
/// certificate renewed without its key yet) keeps the old context and says why.
public final class TLSServerCredentials: Sendable {
    /// The files this server loads, and loads again on a reload.
    public let configuration: TLSServerConfiguration

    /// What a reload did.
    public enum ReloadOutcome: Sendable, Equatable {
        /// No file changed since the last attempt.
        case unchanged
        /// The files were loaded; new connections use the new certificate.
        case reloaded(TLSCertificate?)
        /// The files could not be loaded; the previous context stays in use.
        case failed(TLSError)
    }

    private struct State {
        var context: TLSContext
        /// The files' identities at the last attempt (successful or not), so a bad file is
        /// reported once, not at every poll.
        var attempted: [FileStamp]
    }

    private let state: Lock<State>

    /// Loads the files now: a server that cannot load them should not start.
    public init(_ configuration: TLSServerConfiguration) throws(TLSError) {
        self.configuration = configuration
        let stamps = FileStamp.of(Self.paths(configuration))
        let context = try TLSContext.server(configuration)
        state = Lock(State(context: context, attempted: stamps))
    }

    /// The context new connections use.
    public var current: TLSContext { state.withLock { $0.context } }

    /// Loads the files again, changed or not (SIGHUP).
    @discardableResult
    public func reload() -> ReloadOutcome {
        let stamps = FileStamp.of(Self.paths(configuration))
        return load(stamps)
    }

    /// Loads the files again when any of them changed (size, mtime or inode) since the last attempt.
    @discardableResult
    public func reloadIfChanged() -> ReloadOutcome {
        let stamps = FileStamp.of(Self.paths(configuration))
        if state.withLock({ $0.attempted == stamps }) { return .unchanged }
        return load(stamps)
    }

    private func load(_ stamps: [FileStamp]) -> ReloadOutcome {
        do {
            let context = try TLSContext.server(configuration)
            state.withLock {
                $0.context = context
                $0.attempted = stamps
            }
            return .reloaded(context.certificate)
        } catch {
            state.withLock { $0.attempted = stamps }
            return .failed(error)
        }
    }

    /// Polls the files every `interval` until the task is cancelled; reports every reload
    /// and every failure.
    public func watch(every interval: Duration, report: @Sendable (ReloadOutcome) -> Void) async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: interval) } catch { return }
            let outcome = reloadIfChanged()
            if outcome != .unchanged { report(outcome) }
        }
    }

    private static func paths(_ c: TLSServerConfiguration) -> [String] {
        [c.certificateFile, c.privateKeyFile] + (c.clientCAFile.map { [$0] } ?? [])
    }
}

/// Which version of a file is on disk: enough to see a replaced or rewritten file.
struct FileStamp: Hashable, Sendable {
    var exists: Bool
    var inode: UInt64
    var size: Int64
    var modifiedSeconds: Int64
    var modifiedNanoseconds: Int64

    static func of(_ paths: [String]) -> [FileStamp] {
        paths.map { path in
            var info = stat()
            guard stat(path, &info) == 0 else {
                return FileStamp(exists: false, inode: 0, size: 0, modifiedSeconds: 0, modifiedNanoseconds: 0)
            }
            return FileStamp(
                exists: true, inode: UInt64(info.st_ino), size: Int64(info.st_size),
                modifiedSeconds: Int64(info.st_mtim.tv_sec), modifiedNanoseconds: Int64(info.st_mtim.tv_nsec))
        }
    }
}
