public import AssayTransport
internal import COpenSSL
import AssaySync

#if canImport(Glibc)
    import Glibc
#endif

/// TLS over another byte channel, so the RPC layer runs over it unchanged.
///
/// OpenSSL works on two memory BIOs: ciphertext the inner channel reads goes into one, and
/// what OpenSSL writes into the other is sent on the inner channel. Plaintext reads reach the
/// delegate on the loop thread like any channel's; writes come from any thread, never block,
/// and take no more plaintext while `highWater` bytes of ciphertext wait for the socket, so
/// the RPC layer's flow control still holds. `close()` sends close_notify and closes the inner
/// channel once the ciphertext before it has been written.
public final class TLSChannel: ByteChannel, @unchecked Sendable {
    // @unchecked: `ssl`, `rbio` and `wbio` are used only inside `state.withLock`, which
    // serialises every OpenSSL call on this connection; `delegate` and `handshakeTimer` are
    // loop-thread only.
    enum Phase: Sendable, Equatable {
        /// Made, the handshake not begun.
        case idle
        case handshaking
        case open
        /// close() was called or the channel failed: nothing more is read or taken.
        case closing
        case closed
    }

    struct State: ~Copyable {
        var phase = Phase.idle
        /// Ciphertext waiting for the inner channel, in order.
        var ciphertext = ByteQueue()
        /// An emptied queue kept for its memory, swapped in while `ciphertext` is written out.
        var spare: ByteQueue?
        /// Bytes of a queue a thread took out to write.
        var inFlight = 0
        /// Ciphertext not yet taken by the inner channel, queued or being written.
        var queued: Int { ciphertext.count + inFlight }
        /// One thread writes `ciphertext` to the inner channel at a time.
        var draining = false
        /// The inner channel took less than offered; waiting for its `channelWritable`.
        var innerBlocked = false
        /// The delegate asked for `channelWritable`.
        var wantWritable = false
        var reading = true
        var closeWhenDrained = false
        var innerStarted = false
        /// Any byte arrived: a peer that connects and leaves without a word (a TCP probe) did
        /// not fail a handshake, it never tried one.
        var heardFromPeer = false
        /// Plaintext that arrived before the delegate did (a client between its handshake and
        /// `start`): read anyway, so an alert in the same flight is seen at once.
        var early: [UInt8] = []
        var failure: TLSError?
        var peer: TLSCertificate?
        var version: String?
        var handshakeWaiter: CheckedContinuation<TLSError?, Never>?
    }

    /// Plaintext taken per SSL_write.
    static let writeChunk = 256 * 1024
    /// No more plaintext is taken while this much ciphertext waits for the socket.
    static let highWater = 512 * 1024

    private let inner: any ByteChannel
    private let context: TLSContext
    private let ssl: OpaquePointer
    private let rbio: OpaquePointer
    private let wbio: OpaquePointer
    let state = Lock(State())
    private var delegate: (any ByteChannelDelegate)?
    private var handshakeTimer: ScheduledTimer?
    private let onFailure: (@Sendable (TLSError) -> Void)?

    public var scheduler: any Scheduler { inner.scheduler }
    /// The inner channel's peer; on a server with mutual TLS, followed by the subject of the
    /// client's certificate, so call logs say which worker or service called.
    public var peerDescription: String {
        guard context.isServer, let subject = state.withLock({ $0.peer?.subject }) else { return inner.peerDescription }
        return "\(inner.peerDescription) (\(subject))"
    }

    private init(
        inner: any ByteChannel, context: TLSContext, serverName: String?, onFailure: (@Sendable (TLSError) -> Void)?
    ) throws(TLSError) {
        let ssl = try OpenSSL.make("creating a TLS connection") { SSL_new(context.raw) }
        guard let rbio = BIO_new(BIO_s_mem()), let wbio = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            throw TLSError(operation: "creating a TLS connection", reasons: OpenSSL.drainErrors() + ["out of memory"])
        }
        SSL_set_bio(ssl, rbio, wbio)  // the SSL owns both BIOs from here
        if context.isServer {
            SSL_set_accept_state(ssl)
        } else {
            SSL_set_connect_state(ssl)
            if let name = context.serverName ?? serverName {
                do {
                    try TLSChannel.expect(name: name, ssl)
                } catch {
                    SSL_free(ssl)
                    throw error
                }
            }
        }
        self.inner = inner
        self.context = context
        self.ssl = ssl
        self.rbio = rbio
        self.wbio = wbio
        self.onFailure = onFailure
    }

    deinit { SSL_free(ssl) }

    /// The certificate the server's certificate must match: an IP address or a DNS name (also sent as SNI).
    private static func expect(name: String, _ ssl: OpaquePointer) throws(TLSError) {
        var v4 = in_addr()
        var v6 = in6_addr()
        let bare = name.hasPrefix("[") && name.hasSuffix("]") ? String(name.dropFirst().dropLast()) : name
        if inet_pton(AF_INET, bare, &v4) == 1 || inet_pton(AF_INET6, bare, &v6) == 1 {
            try OpenSSL.check("expecting the server's address \(bare)") {
                X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), bare)
            }
        } else {
            try OpenSSL.check("expecting the server's name \(name)") { SSL_set1_host(ssl, name) }
            try OpenSSL.check("sending the server name \(name)") { assay_ssl_set_server_name(ssl, name) }
        }
    }

    /// The server side of a connection accepted on `inner`; the handshake runs once `start`
    /// is called. `onFailure` hears why a connection failed (for logs and counters).
    public static func server(
        over inner: any ByteChannel, context: TLSContext, onFailure: (@Sendable (TLSError) -> Void)? = nil
    ) throws(TLSError) -> TLSChannel {
        precondition(context.isServer, "a server channel needs a server context")
        return try TLSChannel(inner: inner, context: context, serverName: nil, onFailure: onFailure)
    }

    /// The client side: runs the handshake over `inner` (verifying the server's certificate
    /// against `host`, unless the context names the server) and returns once it is done.
    /// On failure the inner channel is closed.
    public static func client(over inner: any ByteChannel, context: TLSContext, host: String) async throws(TLSError)
        -> TLSChannel
    {
        precondition(!context.isServer, "a client channel needs a client context")
        let channel: TLSChannel
        do {
            channel = try TLSChannel(inner: inner, context: context, serverName: host, onFailure: nil)
        } catch {
            inner.close()
            throw error
        }
        let failure = await withCheckedContinuation { (c: CheckedContinuation<TLSError?, Never>) in
            channel.scheduler.execute {
                channel.state.withLock { $0.handshakeWaiter = c }
                channel.beginHandshake()
            }
        }
        if let failure { throw failure }
        return channel
    }

    /// The peer's certificate, once the handshake is done (servers without mutual TLS see none).
    public var peerCertificate: TLSCertificate? { state.withLock { $0.peer } }
    /// The negotiated protocol ("TLSv1.3"), once the handshake is done.
    public var protocolVersion: String? { state.withLock { $0.version } }
    /// Why the channel failed, if it did.
    public var failure: TLSError? { state.withLock { $0.failure } }
    /// `failure` in words, for the error the RPC layer reports when the channel closes.
    public var failureDescription: String? { state.withLock { $0.failure?.description } }

    // MARK: ByteChannel

    public func start(delegate: any ByteChannelDelegate) {
        scheduler.execute { [self] in
            self.delegate = delegate
            let phase = state.withLock { s -> Phase in
                // Closed before it ever started: nothing else will tell the delegate.
                if s.phase == .closing && !s.innerStarted { s.phase = .closed }
                return s.phase
            }
            let early = state.withLock { s in
                let e = s.early
                s.early = []
                return e
            }
            if !early.isEmpty { early.withUnsafeBytes { delegate.channelRead($0) } }
            switch phase {
            case .idle:
                beginHandshake()
            case .closed:
                self.delegate = nil
                delegate.channelClosed()
            case .open:
                deliverPlaintext()
                notifyWritableIfWanted()
            case .handshaking, .closing:
                break
            }
        }
    }

    public func write(_ bytes: UnsafeRawBufferPointer) -> ChannelWriteResult {
        if bytes.isEmpty { return .written(0) }
        var failed: TLSError?
        let result = state.withLock { s -> ChannelWriteResult in
            switch s.phase {
            case .closing, .closed: return .closed
            case .idle, .handshaking: return .written(0)
            case .open: break
            }
            if s.queued >= Self.highWater { return .written(0) }
            let take = Int32(min(bytes.count, Self.writeChunk))
            let outcome = OpenSSL.io(ssl, "TLS write") { SSL_write(ssl, bytes.baseAddress, take) }
            collectOutput(&s)
            switch outcome {
            case .done(let n): return .written(n)
            case .wantRead: return .written(0)
            case .closed: return .closed
            case .failed(let e):
                failed = e
                return .closed
            }
        }
        if let failed { fail(failed) } else { flushCiphertext() }
        return result
    }

    public func requestWritable() {
        let now = state.withLock { s -> Bool in
            s.wantWritable = true
            return s.phase == .open && s.queued < Self.highWater && !s.innerBlocked
        }
        if now { scheduler.execute { [self] in notifyWritableIfWanted() } }
    }

    public func setReading(_ enabled: Bool) {
        let resumed = state.withLock { s -> Bool in
            let resumed = enabled && !s.reading
            s.reading = enabled
            return resumed
        }
        inner.setReading(enabled)
        // Records already received but not yet read wait in the BIO: the socket will not
        // wake us for them, so look now (later on the loop, never inside a read callback).
        if resumed { scheduler.execute { [self] in deliverPlaintext() } }
    }

    public func close() {
        enum Action { case nothing, closeInner, flushThenClose }
        let action = state.withLock { s -> Action in
            switch s.phase {
            case .closing, .closed:
                return .nothing
            case .idle, .handshaking:
                s.phase = .closing
                return .closeInner
            case .open:
                s.phase = .closing
                _ = OpenSSL.io(ssl, "TLS close") { SSL_shutdown(ssl) }  // queues close_notify
                collectOutput(&s)
                s.closeWhenDrained = true
                return .flushThenClose
            }
        }
        switch action {
        case .nothing:
            return
        case .closeInner:
            inner.close()
        case .flushThenClose:
            flushCiphertext()
            // A peer that never reads must not keep the socket open: close anyway after a while.
            scheduler.schedule(afterNanoseconds: 5_000_000_000) { [inner] in inner.close() }
        }
    }

    // MARK: the handshake (loop thread)

    private func beginHandshake() {
        let begin = state.withLock { s -> Bool in
            guard s.phase == .idle else { return false }
            s.phase = .handshaking
            s.innerStarted = true
            return true
        }
        guard begin else { return }
        inner.start(delegate: InnerDelegate(self))
        let timeout = context.handshakeTimeoutNanoseconds
        handshakeTimer = scheduler.schedule(afterNanoseconds: timeout) { [self] in
            if state.withLock({ $0.phase == .handshaking }) {
                fail(TLSError(operation: "TLS handshake", reasons: ["not finished within \(timeout / 1_000_000) ms"]))
            }
        }
        advanceHandshake()
    }

    private func advanceHandshake() {
        let outcome = state.withLock { s -> SSLOutcome? in
            guard s.phase == .handshaking else { return nil }
            let outcome = OpenSSL.io(ssl, "TLS handshake") { SSL_do_handshake(ssl) }
            collectOutput(&s)
            if case .done = outcome {
                s.phase = .open
                if let cert = SSL_get1_peer_certificate(ssl) {
                    s.peer = TLSCertificate(cert)
                    X509_free(cert)
                }
                s.version = SSL_get_version(ssl).map { String(cString: $0) }
            }
            return outcome
        }
        guard let outcome else { return }
        switch outcome {
        case .done:
            flushCiphertext()
            handshakeTimer?.cancel()
            let waiter = state.withLock { s in
                let w = s.handshakeWaiter
                s.handshakeWaiter = nil
                return w
            }
            waiter?.resume(returning: nil)
            deliverPlaintext()
            notifyWritableIfWanted()
        case .wantRead:
            flushCiphertext()
        case .closed:
            fail(TLSError(operation: "TLS handshake", reasons: ["the peer closed the connection"]))
        case .failed(let error):
            fail(error)
        }
    }

    // MARK: reading (loop thread)

    fileprivate func innerRead(_ bytes: UnsafeRawBufferPointer) {
        let phase = state.withLock { s -> Phase in
            s.heardFromPeer = true
            if s.phase == .handshaking || s.phase == .open {
                _ = BIO_write(rbio, bytes.baseAddress, Int32(bytes.count))  // a memory BIO takes everything
            }
            return s.phase
        }
        switch phase {
        case .handshaking: advanceHandshake()
        case .open: deliverPlaintext()
        default: break
        }
    }

    /// Decrypts what has arrived and hands it to the delegate, while the delegate reads
    /// (before there is a delegate, into `early`).
    private func deliverPlaintext() {
        let attached = delegate != nil
        PlaintextBuffer.withBuffer { buffer in
            while true {
                let outcome = state.withLock { s -> SSLOutcome? in
                    guard s.phase == .open, s.reading, attached || s.early.count < Self.highWater else { return nil }
                    let outcome = OpenSSL.io(ssl, "TLS read") { SSL_read(ssl, buffer.baseAddress, Int32(buffer.count)) }
                    collectOutput(&s)  // a KeyUpdate answer, an alert
                    return outcome
                }
                switch outcome {
                case nil, .wantRead:
                    flushCiphertext()
                    return
                case .done(let n):
                    let bytes = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
                    if let delegate {
                        delegate.channelRead(bytes)
                    } else {
                        state.withLock { $0.early.append(contentsOf: bytes) }
                    }
                case .closed:
                    close()  // the peer's close_notify: answer with ours and close
                    return
                case .failed(let error):
                    fail(error)
                    return
                }
            }
        }
    }

    // MARK: writing ciphertext (any thread)

    /// Moves what OpenSSL wrote into `ciphertext`. Under the lock.
    private func collectOutput(_ s: inout State) {
        s.ciphertext.append(bio: wbio)
    }

    /// Writes the queued ciphertext to the inner channel; one caller at a time writes, the
    /// queue taken out of the state so other threads can keep encrypting meanwhile.
    private func flushCiphertext() {
        while true {
            var taken: ByteQueue?
            let proceed = state.withLock { s -> Bool in
                if s.draining || s.innerBlocked || s.ciphertext.isEmpty || s.phase == .closed { return false }
                s.draining = true
                taken = s.ciphertext
                s.inFlight = s.ciphertext.count
                s.ciphertext = s.spare ?? ByteQueue()
                s.spare = nil
                return true
            }
            guard proceed, let chunk = taken else { break }
            var written = 0
            var closed = false
            chunk.withBytes { bytes in
                while written < bytes.count {
                    switch inner.write(UnsafeRawBufferPointer(rebasing: bytes[written...])) {
                    case .written(let n):
                        if n == 0 { return }
                        written += n
                    case .closed:
                        closed = true
                        return
                    }
                }
            }
            chunk.removeFirst(written)
            let blocked = state.withLock { s -> Bool in
                s.draining = false
                s.inFlight = 0
                if closed {
                    s.ciphertext.removeAll()
                    return false
                }
                if !chunk.isEmpty {
                    // The leftovers go first, then what was encrypted meanwhile.
                    chunk.append(s.ciphertext)
                    s.spare = s.ciphertext
                    s.ciphertext = chunk
                    s.innerBlocked = true
                    return true
                }
                // Keep the emptied queue's memory for the next round, unless it grew large.
                if chunk.allocated <= 64 * 1024 { s.spare = chunk }
                return false
            }
            if closed { return }
            if blocked {
                inner.requestWritable()
                return
            }
        }
        let (closeInner, notify) = state.withLock { s -> (Bool, Bool) in
            let drained = s.ciphertext.isEmpty && !s.draining && !s.innerBlocked
            let closeInner = drained && s.closeWhenDrained
            if closeInner { s.closeWhenDrained = false }
            let notify = s.wantWritable && s.phase == .open && s.queued < Self.highWater && !s.innerBlocked
            return (closeInner, notify)
        }
        if closeInner { inner.close() }
        if notify { scheduler.execute { [self] in notifyWritableIfWanted() } }
    }

    fileprivate func innerWritable() {
        state.withLock { $0.innerBlocked = false }
        flushCiphertext()
        notifyWritableIfWanted()
    }

    /// Tells the delegate it may write again, when it asked and the channel can take bytes. Loop thread.
    private func notifyWritableIfWanted() {
        let go = state.withLock { s -> Bool in
            guard s.wantWritable, s.phase == .open, s.queued < Self.highWater, !s.innerBlocked else { return false }
            s.wantWritable = false
            return true
        }
        if go { delegate?.channelWritable() }
    }

    // MARK: failing and closing

    /// Ends the channel because of `error`: the alert OpenSSL queued goes out, then the inner
    /// channel closes. Reported once.
    private func fail(_ error: TLSError) {
        let (report, waiter) = state.withLock { s -> (Bool, CheckedContinuation<TLSError?, Never>?) in
            guard s.phase != .closed, s.failure == nil else { return (false, nil) }
            s.failure = error
            s.phase = .closing
            collectOutput(&s)
            let w = s.handshakeWaiter
            s.handshakeWaiter = nil
            return (true, w)
        }
        guard report else { return }
        // Reported before the peer can see the connection end, so counters are never behind.
        onFailure?(error)
        flushCiphertext()
        inner.close()
        waiter?.resume(returning: error)
    }

    fileprivate func innerClosed() {
        let (report, failure, waiter) = state.withLock {
            s -> (Bool, TLSError?, CheckedContinuation<TLSError?, Never>?) in
            var report = false
            if s.failure == nil && s.phase == .handshaking && s.heardFromPeer {
                s.failure = TLSError(operation: "TLS handshake", reasons: ["the peer closed the connection"])
                report = true
            }
            s.phase = .closed
            s.ciphertext.removeAll()
            let w = s.handshakeWaiter
            s.handshakeWaiter = nil
            return (report, s.failure, w)
        }
        handshakeTimer?.cancel()
        if report, let failure { onFailure?(failure) }
        waiter?.resume(returning: failure ?? TLSError(operation: "TLS handshake", reasons: ["the connection closed"]))
        let d = delegate
        delegate = nil
        d?.channelClosed()
    }
}

/// The inner channel's delegate: forwards to the TLS channel (a separate object, so the TLS
/// channel's public face is only a `ByteChannel`).
private final class InnerDelegate: ByteChannelDelegate {
    let channel: TLSChannel
    init(_ channel: TLSChannel) { self.channel = channel }
    func channelRead(_ bytes: UnsafeRawBufferPointer) { channel.innerRead(bytes) }
    func channelWritable() { channel.innerWritable() }
    func channelClosed() { channel.innerClosed() }
}

/// Where each loop thread decrypts into: one buffer per thread, not per connection.
enum PlaintextBuffer {
    static let size = 64 * 1024

    final class Storage {
        let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: PlaintextBuffer.size, alignment: 16)
        var inUse = false
    }

    nonisolated(unsafe) static var key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { raw in
            let storage = Unmanaged<Storage>.fromOpaque(raw!).takeRetainedValue()
            storage.bytes.deallocate()
        }
        return key
    }()

    /// Runs `body` with this thread's buffer (or a fresh one, if a read on this thread is
    /// already using it).
    static func withBuffer(_ body: (UnsafeMutableRawBufferPointer) -> Void) {
        let storage: Storage
        if let raw = pthread_getspecific(key) {
            storage = Unmanaged<Storage>.fromOpaque(raw).takeUnretainedValue()
        } else {
            storage = Storage()
            pthread_setspecific(key, Unmanaged.passRetained(storage).toOpaque())
        }
        if storage.inUse {
            let spare = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
            defer { spare.deallocate() }
            body(spare)
            return
        }
        storage.inUse = true
        defer { storage.inUse = false }
        body(storage.bytes)
    }
}
