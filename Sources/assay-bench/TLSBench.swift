import AssayRPC
import AssayTLS
import AssayTransport
import AssayWire
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Unary echo over TLS, beside the plaintext figure: a second server with a throwaway CA and
/// certificate (made with the `openssl` command), measured with the same loop. The handshake
/// is paid once per connection; what a call pays is the record encryption both ways.
func tlsUnaryBench(
    serverPath: String, payload: [UInt8], calls unaryCalls: Int, rounds: Int,
    adminKey readAdminKey: (String) -> String?, stopServer: (pid_t, String) -> Void
) async throws {
    let folder = "/tmp/assay-bench-tls-\(getpid())"
    defer { _ = system("rm -rf '\(folder)'") }
    _ = system("rm -rf '\(folder)'")
    let made = system(
        """
        mkdir -p '\(folder)' && cd '\(folder)' && \
        printf '[req]\\ndistinguished_name=dn\\nprompt=no\\n[dn]\\nCN=x\\n[ca]\\nbasicConstraints=critical,CA:TRUE\\n\
        keyUsage=critical,keyCertSign\\n[leaf]\\nsubjectAltName=IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n' > cnf && \
        openssl req -x509 -config cnf -extensions ca -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
            -keyout ca.key -out ca.pem -days 1 -subj /CN=bench-ca 2>/dev/null && \
        openssl req -new -config cnf -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
            -keyout server.key -out server.csr -subj /CN=bench 2>/dev/null && \
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -set_serial 1 -days 1 \
            -extfile cnf -extensions leaf -out server.pem 2>/dev/null
        """)
    guard made == 0 else {
        say("unary echo over TLS: skipped (the openssl command could not make a certificate)")
        return
    }
    let port = freePort()
    let data = folder + "/data"
    let pid = spawnServer(
        serverPath, port: port, data: data,
        extra: ["--tls-cert", folder + "/server.pem", "--tls-key", folder + "/server.key"])
    defer { stopServer(pid, data) }
    let address = SocketAddress(host: "127.0.0.1", port: port)
    let tls = try TLSContext.client(TLSClientConfiguration(trustedCAFile: folder + "/ca.pem"))
    var client: RPCClient?
    for _ in 0..<400 where client == nil {
        if let key = readAdminKey(data) {
            client = try? await RPCClient.connect(to: address, metadata: ["authorization": "Bearer \(key)"], tls: tls)
        }
        if client == nil { usleep(25_000) }
    }
    guard let client else { throw RPCError(.unavailable, "the TLS server did not come up on \(address)") }
    defer { client.close() }
    for _ in 0..<2000 { _ = try await client.unary(EchoService.unary, EchoRequest(payload: payload)) }
    var p50s: [Double] = []
    var p99s: [Double] = []
    for _ in 0..<rounds {
        var latencies = [UInt64]()
        latencies.reserveCapacity(unaryCalls)
        for _ in 0..<unaryCalls {
            let t0 = MonotonicClock.nanoseconds()
            _ = try await client.unary(EchoService.unary, EchoRequest(payload: payload))
            latencies.append(MonotonicClock.nanoseconds() - t0)
        }
        latencies.sort()
        p50s.append(Double(latencies[latencies.count / 2]) / 1000)
        p99s.append(Double(latencies[latencies.count * 99 / 100]) / 1000)
    }
    let handshakes = 200
    let t0 = MonotonicClock.nanoseconds()
    for _ in 0..<handshakes {
        let c = try await RPCClient.connect(to: address, metadata: [:], tls: tls)
        c.close()
    }
    let connectMicros = Double(MonotonicClock.nanoseconds() - t0) / 1000 / Double(handshakes)
    say(
        String(
            format:
                "unary echo over TLS 1.3 (64 B, 1 outstanding, %d calls x %d): p50 %.1f us  p99 %.1f us; connect + TLS handshake %.0f us",
            unaryCalls, rounds, median(p50s), median(p99s), connectMicros))
}
