#if canImport(Glibc)
import Glibc
#endif
public import AssayRPC
public import AssayTransport
import Synchronization

/// Prometheus metrics over plain HTTP on a port of its own (`assay serve --metrics-addr`): `GET
/// /metrics` answers the text exposition format; anything else is 404 or 405.
///
/// Deliberately small: HTTP/1.1 with one request per connection (the answer says `Connection:
/// close`), a request head of at most 8 KiB, and a connection that has not sent a whole head
/// within five seconds is closed, so a slow or hostile scraper holds nothing for long. It runs
/// on an event loop like the RPC listener and renders from in-memory counters only, so a
/// scrape never waits for the database.
public final class MetricsEndpoint: Sendable {
    /// The largest request head read.
    static let maximumHead = 8 * 1024
    /// How long a connection may take to send its head.
    static let headTimeoutNanoseconds: UInt64 = 5_000_000_000

    private let listener: TCPListener
    private let render: @Sendable () -> String
    public var localAddress: SocketAddress { listener.localAddress }

    /// Listens on `address` (port 0 picks a free one) and serves what `render` returns.
    public init(bindingTo address: SocketAddress, loop: EventLoop, render: @escaping @Sendable () -> String) throws(SystemError) {
        listener = try TCPListener(bindingTo: address, loop: loop)
        self.render = render
        let render = self.render
        listener.start { channel in
            let exchange = MetricsExchange(channel: channel, render: render)
            exchange.begin(on: loop)
        }
    }

    /// Stops listening (exchanges in progress finish on their own).
    public func close() { listener.close() }

    /// What `/metrics` shows for a server: its calls per method and status, latency quantiles,
    /// calls in flight, open connections, the services' counters (`Telemetry.shared`) and the
    /// process's resident memory.
    public static func exposition(metrics: MethodMetrics, server: RPCServer, telemetry: Telemetry = .shared) -> String {
        var text = ""
        let methods = metrics.snapshot()
        text += "# HELP assay_rpc_calls_total Calls finished, by method and status code.\n# TYPE assay_rpc_calls_total counter\n"
        for m in methods {
            for (code, count) in m.codes.sorted(by: { $0.key < $1.key }) {
                text += "assay_rpc_calls_total\(Telemetry.labelText([("method", m.path), ("code", code)])) \(count)\n"
            }
        }
        text += "# HELP assay_rpc_in_flight Calls in progress, by method.\n# TYPE assay_rpc_in_flight gauge\n"
        for m in methods { text += "assay_rpc_in_flight\(Telemetry.labelText([("method", m.path)])) \(m.inFlight)\n" }
        text += "# HELP assay_rpc_latency_microseconds Call latency since the start, by method.\n"
        text += "# TYPE assay_rpc_latency_microseconds summary\n"
        for m in methods {
            text += "assay_rpc_latency_microseconds\(Telemetry.labelText([("method", m.path), ("quantile", "0.5")])) \(m.p50Micros)\n"
            text += "assay_rpc_latency_microseconds\(Telemetry.labelText([("method", m.path), ("quantile", "0.99")])) \(m.p99Micros)\n"
            text += "assay_rpc_latency_microseconds_count\(Telemetry.labelText([("method", m.path)])) \(m.calls)\n"
        }
        text += "# HELP assay_connections Open client connections.\n# TYPE assay_connections gauge\n"
        text += "assay_connections \(server.connectionCount)\n"
        let budget = server.inboundBudget
        text += "# HELP assay_inbound_buffered_bytes Received bytes held for all connections"
        text += " (frames arriving, messages queued).\n"
        text += "# TYPE assay_inbound_buffered_bytes gauge\nassay_inbound_buffered_bytes \(budget.bufferedBytes)\n"
        text += "# HELP assay_inbound_refused_frames_total Frames refused for the inbound memory budget.\n"
        text += "# TYPE assay_inbound_refused_frames_total counter\n"
        text += "assay_inbound_refused_frames_total \(budget.refusedFrames)\n"
        text += "# HELP assay_tls_failures_total TLS connections that failed: refused or broken handshakes, alerts.\n"
        text += "# TYPE assay_tls_failures_total counter\nassay_tls_failures_total \(server.tlsFailureCount)\n"
        text += "# HELP assay_resident_memory_bytes Resident memory of the server process.\n"
        text += "# TYPE assay_resident_memory_bytes gauge\nassay_resident_memory_bytes \(residentBytes())\n"
        telemetry.render(into: &text)
        return text
    }

    /// The process's resident set, from /proc/self/statm.
    static func residentBytes() -> Int {
        guard let file = fopen("/proc/self/statm", "r") else { return 0 }
        defer { fclose(file) }
        var size = 0
        var resident = 0
        guard fscanf_two(file, &size, &resident) else { return 0 }
        return resident * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    private static func fscanf_two(_ file: UnsafeMutablePointer<FILE>, _ a: inout Int, _ b: inout Int) -> Bool {
        var line = [CChar](repeating: 0, count: 256)
        guard fgets(&line, 256, file) != nil else { return false }
        let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let numbers = text.split(separator: " ").compactMap { Int($0) }
        guard numbers.count >= 2 else { return false }
        a = numbers[0]
        b = numbers[1]
        return true
    }
}

/// One HTTP request and its answer on one connection; every call comes on the loop thread.
final class MetricsExchange: ByteChannelDelegate, @unchecked Sendable {
    // @unchecked: every member is touched only on the channel's loop thread.
    private let channel: SocketChannel
    private let render: @Sendable () -> String
    private var head: [UInt8] = []
    private var answer: [UInt8] = []
    private var sent = 0
    private var answered = false
    private var timer: ScheduledTimer?
    /// Keeps the exchange alive until its channel has closed (a cycle broken in `channelClosed`).
    private var keepAlive: MetricsExchange?

    init(channel: SocketChannel, render: @escaping @Sendable () -> String) {
        self.channel = channel
        self.render = render
    }

    func begin(on loop: EventLoop) {
        keepAlive = self
        // Timers run on the loop thread, like the channel's callbacks.
        timer = loop.schedule(afterNanoseconds: MetricsEndpoint.headTimeoutNanoseconds) { [weak self] in self?.timedOut() }
        channel.start(delegate: self)
    }

    private func timedOut() {
        guard !answered else { return }
        respond(status: "408 Request Timeout", body: "the request head did not arrive in time\n")
    }

    func channelRead(_ bytes: UnsafeRawBufferPointer) {
        guard !answered else { return }
        // Only what can still belong to an acceptable head is kept.
        head.append(contentsOf: bytes.prefix(MetricsEndpoint.maximumHead + 4 - head.count))
        let end = Self.headEnd(head)
        if end.map({ $0 > MetricsEndpoint.maximumHead }) ?? (head.count > MetricsEndpoint.maximumHead) {
            respond(status: "431 Request Header Fields Too Large", body: "the request head is over 8 KiB\n")
            return
        }
        guard let end else { return }
        let requestLine = String(decoding: head[..<(head.firstIndex(of: 13) ?? end)], as: UTF8.self)
        let parts = requestLine.split(separator: " ")
        guard parts.count == 3, parts[2].hasPrefix("HTTP/1.") else {
            respond(status: "400 Bad Request", body: "not an HTTP/1.x request line\n")
            return
        }
        let path = parts[1].split(separator: "?", maxSplits: 1).first.map(String.init) ?? ""
        if path != "/metrics" {
            respond(status: "404 Not Found", body: "the metrics are at /metrics\n")
        } else if parts[0] != "GET" && parts[0] != "HEAD" {
            respond(status: "405 Method Not Allowed", body: "use GET\n", extra: "Allow: GET, HEAD\r\n")
        } else {
            respond(status: "200 OK", body: render(), contentType: "text/plain; version=0.0.4; charset=utf-8", headOnly: parts[0] == "HEAD")
        }
    }

    /// Where the blank line ending the head starts, if it has arrived.
    static func headEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for i in 0...(bytes.count - 4) where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 {
            return i
        }
        return nil
    }

    private func respond(
        status: String, body: String, contentType: String = "text/plain; charset=utf-8", extra: String = "", headOnly: Bool = false
    ) {
        answered = true
        timer?.cancel()
        let bodyBytes = Array(body.utf8)
        var bytes = Array(
            "HTTP/1.1 \(status)\r\nContent-Type: \(contentType)\r\nContent-Length: \(bodyBytes.count)\r\n\(extra)Connection: close\r\n\r\n".utf8)
        if !headOnly { bytes += bodyBytes }
        answer = bytes
        channel.setReading(false)
        flush()
    }

    private func flush() {
        while sent < answer.count {
            let result = answer.withUnsafeBytes { channel.write(UnsafeRawBufferPointer(rebasing: $0[sent...])) }
            switch result {
            case .written(0):
                channel.requestWritable()
                return
            case .written(let n): sent += n
            case .closed: return
            }
        }
        channel.close()
    }

    func channelWritable() { flush() }

    func channelClosed() {
        timer?.cancel()
        keepAlive = nil
    }
}
