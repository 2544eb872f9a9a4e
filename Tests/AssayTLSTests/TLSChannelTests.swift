import AssayTLS
import AssayTransport
import Synchronization
import AssaySync
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The TLS channel alone, over a socket pair: backpressure, paused reading, close_notify.
@Suite("TLS channel")
struct TLSChannelTests {
    /// Collects what arrives; can pause reading on the first bytes and resume later.
    final class Collector: ByteChannelDelegate, @unchecked Sendable {
        // @unchecked: the counters are in `state`; `channel` is set once before `start`.
        struct State {
            var bytes = 0
            var hash: UInt64 = 14_695_981_039_346_656_037
            var closed = false
            var waiters: [(Int, CheckedContinuation<Void, Never>)] = []
            var closeWaiters: [CheckedContinuation<Void, Never>] = []
            var pauseDecided = false
            var paused = false
            var pauseWaiters: [CheckedContinuation<Void, Never>] = []
        }

        let state = Lock(State())
        var channel: TLSChannel?
        /// Stop reading at the first bytes, until the test resumes it.
        let pauseAtFirstRead: Bool

        init(pauseAtFirstRead: Bool = false) { self.pauseAtFirstRead = pauseAtFirstRead }

        func channelRead(_ bytes: UnsafeRawBufferPointer) {
            var ready: [CheckedContinuation<Void, Never>] = []
            let pauseNow = state.withLock { s -> Bool in
                for b in bytes { s.hash = (s.hash ^ UInt64(b)) &* 1_099_511_628_211 }
                s.bytes += bytes.count
                ready = s.waiters.filter { $0.0 <= s.bytes }.map(\.1)
                s.waiters.removeAll { $0.0 <= s.bytes }
                if pauseAtFirstRead && !s.pauseDecided {
                    s.pauseDecided = true
                    return true
                }
                return false
            }
            for c in ready { c.resume() }
            if pauseNow {
                channel?.setReading(false)
                let waiters = state.withLock { s in
                    s.paused = true
                    let w = s.pauseWaiters
                    s.pauseWaiters = []
                    return w
                }
                for w in waiters { w.resume() }
            }
        }

        func channelWritable() {}

        func channelClosed() {
            let waiters = state.withLock { s in
                s.closed = true
                let w = s.closeWaiters + s.waiters.map(\.1)
                s.closeWaiters = []
                s.waiters = []
                return w
            }
            for w in waiters { w.resume() }
        }

        /// Returns once reading has been paused (at the first bytes).
        func paused() async {
            await withCheckedContinuation { c in
                let now = state.withLock { s -> Bool in
                    if s.paused { return true }
                    s.pauseWaiters.append(c)
                    return false
                }
                if now { c.resume() }
            }
        }

        func received(atLeast count: Int) async {
            await withCheckedContinuation { c in
                let now = state.withLock { s -> Bool in
                    if s.bytes >= count || s.closed { return true }
                    s.waiters.append((count, c))
                    return false
                }
                if now { c.resume() }
            }
        }

        func closed() async {
            await withCheckedContinuation { c in
                let now = state.withLock { s -> Bool in
                    if s.closed { return true }
                    s.closeWaiters.append(c)
                    return false
                }
                if now { c.resume() }
            }
        }
    }

    /// The writer's side: wakes a waiting writer when the channel can take bytes again.
    final class WriterDelegate: ByteChannelDelegate, @unchecked Sendable {
        // @unchecked: `waiter` is behind a Lock.
        let waiter = Lock<CheckedContinuation<Void, Never>?>(nil)
        let wakeups = Atomic<Int>(0)
        func channelRead(_ bytes: UnsafeRawBufferPointer) {}
        func channelWritable() {
            wakeups.wrappingAdd(1, ordering: .relaxed)
            let c = waiter.withLock { w in
                let c = w
                w = nil
                return c
            }
            c?.resume()
        }
        func channelClosed() { channelWritable() }
    }

    static func fnv(_ bytes: [UInt8]) -> UInt64 {
        var hash: UInt64 = 14_695_981_039_346_656_037
        for b in bytes { hash = (hash ^ UInt64(b)) &* 1_099_511_628_211 }
        return hash
    }

    @Test func aPausedReaderHoldsBackTheWriterAndLosesNothing() async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let ca = try await pki.authority("Channel CA")
        let identity = try await pki.issue("server", by: ca, serial: 5)
        let serverContext = try TLSContext.server(
            TLSServerConfiguration(certificateFile: identity.certificate, privateKeyFile: identity.key))
        let clientContext = try TLSContext.client(
            TLSClientConfiguration(trustedCAFile: ca.certificate, serverName: "localhost"))
        let loop = try EventLoop(name: "tls-channel-test")
        let (a, b) = try SocketChannel.pair(loop: loop)
        let server = try TLSChannel.server(over: a, context: serverContext)
        let collector = Collector(pauseAtFirstRead: true)
        collector.channel = server
        server.start(delegate: collector)
        let client = try await TLSChannel.client(over: b, context: clientContext, host: "in-process")
        #expect(client.protocolVersion == "TLSv1.3")
        #expect(client.peerCertificate?.serialNumber == "05")
        let writer = WriterDelegate()
        client.start(delegate: writer)

        // 8 MiB: far more than the socket pair and the TLS high-water mark hold while the
        // reader is paused, so the writer must be told "0 bytes" before it is through; the
        // reader resumes only then.
        var data = [UInt8](repeating: 0, count: 8 << 20)
        data.withUnsafeMutableBytes { p in
            for i in stride(from: 0, to: p.count, by: 8) {
                p.storeBytes(of: UInt64(i) &* 0x9E37_79B9_7F4A_7C15, toByteOffset: i, as: UInt64.self)
            }
        }
        var offset = 0
        var refusals = 0
        var acceptedWhilePaused: Int?
        while offset < data.count {
            let result = data[offset...].withUnsafeBytes { client.write($0) }
            guard case .written(let n) = result else {
                Issue.record("the channel closed while writing")
                break
            }
            if n > 0 {
                offset += n
                continue
            }
            refusals += 1
            if acceptedWhilePaused == nil {
                // On a busy machine the writer may fill every buffer before the reader's
                // first read: resume only once it has paused, or it would never resume.
                acceptedWhilePaused = offset
                await collector.paused()
                server.setReading(true)
            }
            await withCheckedContinuation { c in
                writer.waiter.withLock { $0 = c }
                client.requestWritable()
            }
        }
        #expect(refusals > 0)
        if acceptedWhilePaused == nil { server.setReading(true) }
        // What a paused reader lets the writer queue is bounded: kernel buffers, one read in
        // the server's BIO, the client's high-water mark and one chunk.
        #expect((acceptedWhilePaused ?? .max) < 3 << 20, "\(String(describing: acceptedWhilePaused))")
        #expect(writer.wakeups.load(ordering: .relaxed) >= refusals)
        await collector.received(atLeast: data.count)
        let (count, hash) = collector.state.withLock { ($0.bytes, $0.hash) }
        #expect(count == data.count)
        #expect(hash == Self.fnv(data))

        // close_notify: the server sees a clean end, not a failure.
        client.close()
        await collector.closed()
        #expect(server.failure == nil)
        #expect(client.failure == nil)
        await loop.shutdown()
    }

    @Test func writesBeforeTheHandshakeWaitForIt() async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let ca = try await pki.authority("Channel CA")
        let identity = try await pki.issue("server", by: ca, serial: 6)
        let serverContext = try TLSContext.server(
            TLSServerConfiguration(certificateFile: identity.certificate, privateKeyFile: identity.key))
        let clientContext = try TLSContext.client(
            TLSClientConfiguration(trustedCAFile: ca.certificate, serverName: "127.0.0.1"))
        let loop = try EventLoop(name: "tls-channel-test")
        let (a, b) = try SocketChannel.pair(loop: loop)
        let server = try TLSChannel.server(over: a, context: serverContext)
        // The server writes first, before its handshake: refused, then told when it may.
        let greeting = Array("hello from the server".utf8)
        #expect(greeting.withUnsafeBytes { server.write($0) } == .written(0))
        async let connecting = TLSChannel.client(over: b, context: clientContext, host: "127.0.0.1")
        let serverSide = WriterDelegate()
        await withCheckedContinuation { c in
            serverSide.waiter.withLock { $0 = c }
            server.requestWritable()
            server.start(delegate: serverSide)
        }
        let client = try await connecting
        let collector = Collector()
        client.start(delegate: collector)
        #expect(greeting.withUnsafeBytes { server.write($0) } == .written(greeting.count))
        await collector.received(atLeast: greeting.count)
        #expect(collector.state.withLock { $0.hash } == Self.fnv(greeting))
        server.close()
        await collector.closed()
        await loop.shutdown()
    }
}
