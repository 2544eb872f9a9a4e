#if canImport(Glibc)
import Glibc
#endif
import AssaySync
internal import CAssaySystem

/// Receives what happens on a byte channel. Every call comes on the channel's event loop.
public protocol ByteChannelDelegate: AnyObject, Sendable {
    /// Bytes arrived; they are valid only during the call.
    func channelRead(_ bytes: UnsafeRawBufferPointer)
    /// The channel can take more bytes after a write returned fewer than offered.
    func channelWritable()
    /// The peer closed, an error ended the channel, or `close()` was called. Called once.
    func channelClosed()
}

/// What a non-blocking write did.
public enum ChannelWriteResult: Sendable, Equatable {
    /// This many bytes were taken (possibly fewer than offered: ask for `channelWritable`).
    case written(Int)
    /// The channel is closed; nothing was taken.
    case closed
}

/// A bidirectional byte stream driven by an event loop: what the RPC layer runs over.
///
/// Writes may come from any thread and never block; reads are pushed to the delegate on
/// the loop thread.
public protocol ByteChannel: AnyObject, Sendable {
    var scheduler: any Scheduler { get }
    /// A printable name of the other end, for logs.
    var peerDescription: String { get }
    /// Attaches the delegate and starts reading. Call once.
    func start(delegate: any ByteChannelDelegate)
    func write(_ bytes: UnsafeRawBufferPointer) -> ChannelWriteResult
    /// Asks for one `channelWritable()` call when the channel can take bytes again.
    func requestWritable()
    /// Stops (or resumes) reading, so a peer that does not read its answers stops being read.
    func setReading(_ enabled: Bool)
    /// Closes the channel; `channelClosed` follows on the loop.
    func close()
    /// Why the channel itself ended the connection (a failed TLS handshake, an alert from the
    /// peer), for the error the caller sees; nil when it simply closed.
    var failureDescription: String? { get }
}

extension ByteChannel {
    /// Plain sockets have nothing to add to "the connection closed".
    public var failureDescription: String? { nil }
}

/// A connected stream socket (TCP or a Unix socket pair) registered with an event loop.
public final class SocketChannel: ByteChannel, IOHandler, @unchecked Sendable {
    // @unchecked: `delegate`, `token`, `closed` are loop-thread-only; `flags` is the one
    // piece of state other threads touch, and it is a Lock.
    private struct Flags {
        var wantWritable = false
        var reading = true
        var closing = false
    }

    public let fd: Int32
    private let loop: EventLoop
    public let peerDescription: String
    private var delegate: (any ByteChannelDelegate)?
    private var token: UInt64 = 0
    private var registered = false
    private var closed = false
    private let flags = Lock(Flags())

    public var scheduler: any Scheduler { loop }

    init(fd: Int32, loop: EventLoop, peer: String) {
        self.fd = fd
        self.loop = loop
        self.peerDescription = peer
    }

    public func start(delegate: any ByteChannelDelegate) {
        loop.execute { [self] in
            self.delegate = delegate
            do {
                token = try loop.register(fd: fd, handler: self, readable: true)
                registered = true
            } catch {
                closeNow()
            }
        }
    }

    public func write(_ bytes: UnsafeRawBufferPointer) -> ChannelWriteResult {
        if bytes.isEmpty { return .written(0) }
        do {
            switch try Syscall.write(fd, bytes) {
            case .done(let n): return .written(n)
            case .wouldBlock: return .written(0)
            }
        } catch {
            close()
            return .closed
        }
    }

    public func requestWritable() {
        let (reading, changed) = flags.withLock { f -> (Bool, Bool) in
            let changed = !f.wantWritable && !f.closing
            f.wantWritable = true
            return (f.reading, changed)
        }
        if changed { updateInterest(reading: reading, writable: true) }
    }

    public func setReading(_ enabled: Bool) {
        let (writable, changed) = flags.withLock { f -> (Bool, Bool) in
            let changed = f.reading != enabled && !f.closing
            f.reading = enabled
            return (f.wantWritable, changed)
        }
        if changed { updateInterest(reading: enabled, writable: writable) }
    }

    private func updateInterest(reading: Bool, writable: Bool) {
        if loop.inEventLoop {
            if registered && !closed { loop.modify(fd: fd, token: token, readable: reading, writable: writable) }
        } else {
            loop.execute { [self] in
                let f = flags.withLock { $0 }
                if registered && !closed { loop.modify(fd: fd, token: token, readable: f.reading, writable: f.wantWritable) }
            }
        }
    }

    public func close() {
        flags.withLock { $0.closing = true }
        if loop.inEventLoop { closeNow() } else { loop.execute { [self] in closeNow() } }
    }

    private func closeNow() {
        guard !closed else { return }
        closed = true
        if registered { loop.deregister(fd: fd, token: token) }
        Syscall.close(fd)
        let d = delegate
        delegate = nil
        d?.channelClosed()
    }

    // MARK: IOHandler (loop thread)

    func readable() {
        // Read until the socket is empty, but at most 1 MiB per wake so other channels get a turn.
        var budget = 1 << 20
        while budget > 0 && !closed {
            let result: IOResult<Int>
            do {
                result = try ReadBuffer.shared.withBuffer { try Syscall.read(fd, $0) }
            } catch {
                closeNow()
                return
            }
            switch result {
            case .wouldBlock:
                return
            case .done(0):
                closeNow()
                return
            case .done(let n):
                budget -= n
                ReadBuffer.shared.withBuffer { buffer in
                    delegate?.channelRead(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                }
                if !flags.withLock({ $0.reading }) { return }
            }
        }
    }

    func writable() {
        let reading = flags.withLock { f -> Bool in
            f.wantWritable = false
            return f.reading
        }
        if registered && !closed { loop.modify(fd: fd, token: token, readable: reading, writable: false) }
        delegate?.channelWritable()
    }

    func hangup() {
        // Let a final read deliver what the peer sent before it went away.
        readable()
        closeNow()
    }
}

/// The one read buffer of each loop thread: reads land here and are decoded at once.
final class ReadBuffer {
    // Thread-local: each event loop thread gets its own buffer.
    nonisolated(unsafe) static var key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { raw in Unmanaged<ReadBuffer>.fromOpaque(raw!).release() }
        return key
    }()

    static var shared: ReadBuffer {
        if let raw = pthread_getspecific(key) as UnsafeMutableRawPointer? { return Unmanaged<ReadBuffer>.fromOpaque(raw).takeUnretainedValue() }
        let buffer = ReadBuffer()
        pthread_setspecific(key, Unmanaged.passRetained(buffer).toOpaque())
        return buffer
    }

    let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 16)

    func withBuffer<R, E: Error>(_ body: (UnsafeMutableRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(storage)
    }
}

extension SocketChannel {
    /// Connects to `address` without blocking the caller's thread.
    public static func connect(to address: SocketAddress, loop: EventLoop) async throws -> SocketChannel {
        let family = address.isIPv6 ? AF_INET6 : AF_INET
        let fd = try Syscall.call("socket") {
            socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        }
        do {
            try Syscall.setOption(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
            let started = try address.withSockAddr { sa, len throws(SystemError) -> Bool in
                while true {
                    if Glibc.connect(fd, sa, len) == 0 { return true }
                    let e = Glibc.errno
                    if e == EINTR { continue }
                    if e == EINPROGRESS { return false }
                    throw SystemError(call: "connect(\(address))", errno: e)
                }
            }
            if !started {
                try await ConnectWaiter.wait(fd: fd, loop: loop)
            }
        } catch {
            Syscall.close(fd)
            throw error
        }
        return SocketChannel(fd: fd, loop: loop, peer: address.description)
    }

    /// Two connected channels on one loop, through a Unix socket pair: the in-process transport.
    public static func pair(loop: EventLoop) throws -> (SocketChannel, SocketChannel) {
        var fds: [Int32] = [0, 0]
        _ = try Syscall.call("socketpair") {
            socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds)
        }
        return (SocketChannel(fd: fds[0], loop: loop, peer: "in-process"), SocketChannel(fd: fds[1], loop: loop, peer: "in-process"))
    }
}

/// Waits for a non-blocking connect to finish.
private final class ConnectWaiter: IOHandler, @unchecked Sendable {
    // @unchecked: touched only on the loop thread after creation.
    let fd: Int32
    let loop: EventLoop
    var token: UInt64 = 0
    var continuation: CheckedContinuation<Void, any Error>?

    init(fd: Int32, loop: EventLoop) {
        self.fd = fd
        self.loop = loop
    }

    static func wait(fd: Int32, loop: EventLoop) async throws {
        let waiter = ConnectWaiter(fd: fd, loop: loop)
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
            loop.execute {
                waiter.continuation = c
                do {
                    waiter.token = try loop.register(fd: fd, handler: waiter, readable: false)
                    loop.modify(fd: fd, token: waiter.token, readable: false, writable: true)
                } catch {
                    waiter.finish(error)
                }
            }
        }
    }

    func finish(_ error: (any Error)?) {
        guard let c = continuation else { return }
        continuation = nil
        if token != 0 { loop.deregister(fd: fd, token: token) }
        if let error { c.resume(throwing: error) } else { c.resume() }
    }

    func readable() {}
    func writable() {
        var err: Int32 = 0
        var len = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
        finish(err == 0 ? nil : SystemError(call: "connect", errno: err))
    }
    func hangup() { writable() }
}
