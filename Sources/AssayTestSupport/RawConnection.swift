#if canImport(Glibc)
import Glibc
#endif
import Dispatch
public import AssayTransport
public import AssayWire

/// A blocking TCP socket that speaks raw bytes, for tests that must send what a well-behaved
/// client never would: bad prefaces, oversized frames, garbage bodies.
///
/// Its reads block, so they run on a Dispatch queue of their own, never on the cooperative
/// pool that the server under test needs.
public final class RawConnection: @unchecked Sendable {
    // @unchecked: every read runs on `queue`, one at a time; tests await each before the next.
    private let queue = DispatchQueue(label: "raw-connection")
    public let fd: Int32
    private var decoder = FrameDecoder(maxFrameSize: 64 << 20)
    private var pending: [Frame] = []
    public private(set) var received: [UInt8] = []

    /// Wraps a socket that is already connected.
    public init(fd: Int32) {
        self.fd = fd
        var tv = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Listens on 127.0.0.1 (port 0) and hands the first connection to `accepted`, so a test
    /// can play the server's part byte by byte.
    public static func listen() throws -> (SocketAddress, () async -> RawConnection?) {
        let ls = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &a) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sp in
                Glibc.bind(ls, sp, len) == 0 && Glibc.listen(ls, 1) == 0 && getsockname(ls, sp, &len) == 0
            }
        }
        guard ok else { throw SystemError(call: "bind/listen", errno: errno) }
        let address = SocketAddress(host: "127.0.0.1", port: UInt16(bigEndian: a.sin_port))
        let accept: () async -> RawConnection? = {
            await withCheckedContinuation { c in
                DispatchQueue(label: "raw-listener").async {
                    let fd = Glibc.accept(ls, nil, nil)
                    Glibc.close(ls)
                    c.resume(returning: fd >= 0 ? RawConnection(fd: fd) : nil)
                }
            }
        }
        return (address, accept)
    }

    public init(to address: SocketAddress) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = address.port.bigEndian
        inet_pton(AF_INET, address.host, &a.sin_addr)
        let rc = withUnsafePointer(to: &a) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { throw SystemError(call: "connect", errno: errno) }
        var tv = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    public func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
    }

    /// Closes the sending side (the peer reads end of stream).
    public func closeWrite() { shutdown(fd, Int32(SHUT_WR)) }

    /// Sends the preface and an empty SETTINGS frame (protocol defaults).
    public func handshake() {
        send(Preface().bytes + Frame(type: .settings, streamID: 0).encoded())
    }

    /// Reads exactly `count` raw bytes (before any frame decoding), or fewer if the peer closes.
    func blockingReadRaw(_ count: Int) -> [UInt8] {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: count)
        while out.count < count {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, count - out.count, 0) }
            if n <= 0 { break }
            out.append(contentsOf: buffer[0..<n])
        }
        received.append(contentsOf: out)
        return out
    }

    /// The next frame from the peer, or nil when it closed (or 10 s passed).
    func blockingNextFrame() -> Frame? {
        while pending.isEmpty {
            var buffer = [UInt8](repeating: 0, count: 65536)
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return nil }
            received.append(contentsOf: buffer[0..<n])
            buffer[0..<n].withUnsafeBytes { bytes in
                decoder.feed(bytes) { event in
                    if case .frame(let f) = event { pending.append(f) }
                }
            }
        }
        return pending.removeFirst()
    }

    /// Skips frames until one of `type` arrives.
    func blockingNextFrame(ofType type: FrameType) -> Frame? {
        while let f = blockingNextFrame() {
            if f.type == type { return f }
        }
        return nil
    }

    /// Whether the peer has closed or reset the connection, without waiting: reads and drops
    /// whatever the peer sent so far.
    public func hasEnded() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if n > 0 { continue }
            if n == 0 { return true }
            return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR
        }
    }

    /// True once the peer has closed its side (reads return 0).
    func blockingPeerClosed() -> Bool {
        var byte: UInt8 = 0
        while true {
            let n = recv(fd, &byte, 1, 0)
            if n == 0 { return true }
            if n < 0 { return false }
        }
    }

    private func onQueue<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { c in queue.async { c.resume(returning: body()) } }
    }

    /// Reads exactly `count` raw bytes (the preface), or fewer if the peer closes.
    public func readRaw(_ count: Int) async -> [UInt8] { await onQueue { self.blockingReadRaw(count) } }

    /// The next frame from the peer, or nil when it closed (or 10 s passed).
    public func nextFrame() async -> Frame? { await onQueue { self.blockingNextFrame() } }

    /// Skips frames until one of `type` arrives.
    public func nextFrame(ofType type: FrameType) async -> Frame? { await onQueue { self.blockingNextFrame(ofType: type) } }

    /// True once the peer has closed its side.
    public func peerClosed() async -> Bool { await onQueue { self.blockingPeerClosed() } }
}
