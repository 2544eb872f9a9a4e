import AssayRPC
import AssayTLS
import AssayTestSupport
import AssayTransport
import AssayWire
import Dispatch
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `assay serve --tls-cert ...` and the client flags, as an operator uses them.
@Suite("TLS flags of assay serve and the client commands")
struct TLSServeTests {
    /// Runs `assay ARGS` to its end off the cooperative pool (or only starts it, with `wait`
    /// false): exit status, standard output and error, process id.
    static func assay(_ args: [String], in directory: String, wait: Bool = true) async -> (
        status: Int32, out: String, err: String, pid: pid_t
    ) {
        let tag = UInt32.random(in: 0...UInt32.max)
        let outFile = "\(directory)/cli-\(tag).out"
        let errFile = "\(directory)/cli-\(tag).err"
        let (status, pid) = await AssayCommand.spawn(
            [AssayCommand.binary] + args, standardOutput: outFile, standardError: errFile, wait: wait)
        return (status, readText(outFile), readText(errFile), pid)
    }

    /// A port that was free a moment ago (bound and closed at once, so the server can take it).
    static func freePort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &a) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0
            }
        }
        guard ok else { throw SystemError(call: "bind", errno: errno) }
        return UInt16(bigEndian: a.sin_port)
    }

    @Test func servesTLSReloadsOnSIGHUPAndTheCLISpeaksIt() async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let ca = try await pki.authority("Ops CA")
        let server = try await pki.issue("server", by: ca, serial: 0xA1)
        let port = try Self.freePort()
        let address = SocketAddress(host: "127.0.0.1", port: port)
        let data = makeTemporaryDirectory()
        defer { removeTree(data) }
        // Polling off: only SIGHUP reloads, so the test knows what made the change.
        let serve = await Self.assay(
            [
                "serve", "--addr", address.description, "--data", data, "--tls-cert", server.certificate, "--tls-key",
                server.key,
                "--tls-reload-interval", "0",
            ],
            in: pki.directory, wait: false)
        defer {
            kill(serve.pid, SIGTERM)
            var status: Int32 = 0
            waitpid(serve.pid, &status, 0)
        }
        let tls = try TLSContext.client(TLSClientConfiguration(trustedCAFile: ca.certificate))
        var first: RPCClient?
        for _ in 0..<2400 where first == nil {
            first = try? await RPCClient.connect(to: address, tls: tls)
            if first == nil { try await Task.sleep(for: .milliseconds(25)) }
        }
        let client = try #require(first)
        #expect(client.peerCertificate?.serialNumber == "A1")

        let healthy = await Self.assay(
            ["health", "--addr", address.description, "--tls-ca", ca.certificate], in: pki.directory)
        #expect(healthy.status == 0, "\(healthy.err)")
        #expect(healthy.out == "SERVING\n")
        let plaintext = await Self.assay(["health", "--addr", address.description], in: pki.directory)
        #expect(plaintext.status == 1)
        let untrusted = await Self.assay(
            ["health", "--addr", address.description, "--tls-ca", server.certificate], in: pki.directory)
        #expect(untrusted.status == 1)
        #expect(untrusted.err.contains("certificate verify failed"), "\(untrusted.err)")
        let halfIdentity = await Self.assay(
            ["health", "--addr", address.description, "--tls-ca", ca.certificate, "--tls-cert", server.certificate],
            in: pki.directory)
        #expect(halfIdentity.status == 2)
        #expect(halfIdentity.err.contains("--tls-cert and --tls-key go together"))

        _ = try await pki.issue("server", by: ca, serial: 0xA2)
        let beforeSignal = try await RPCClient.connect(to: address, tls: tls)
        #expect(beforeSignal.peerCertificate?.serialNumber == "A1")
        beforeSignal.close()
        kill(serve.pid, SIGHUP)
        var serial: String?
        for _ in 0..<1000 {
            let c = try await RPCClient.connect(to: address, tls: tls)
            serial = c.peerCertificate?.serialNumber
            c.close()
            if serial == "A2" { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(serial == "A2")
        // The connection made before the reload still works.
        #expect(try await client.unary(HealthService.check, HealthCheckRequest()).status == .serving)
        client.close()
    }

    @Test func checkLooksAtTheTLSFiles() async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let ca = try await pki.authority("Check CA")
        let server = try await pki.issue("server", by: ca, serial: 0xB1)
        let other = try await pki.issue("other", by: ca, serial: 0xB2)
        let port = try Self.freePort()
        let good = await Self.assay(
            [
                "serve", "--check", "--addr", "127.0.0.1:\(port)", "--data", pki.directory + "/data",
                "--tls-cert", server.certificate, "--tls-key", server.key, "--tls-client-ca", ca.certificate,
            ],
            in: pki.directory)
        #expect(good.status == 0, "\(good.out)")
        #expect(
            good.out.contains(
                "ok   tls: \(server.certificate): CN=server,O=Assay Tests, serial B1; clients need a certificate from"))
        let bad = await Self.assay(
            [
                "serve", "--check", "--addr", "127.0.0.1:\(port)", "--data", pki.directory + "/data",
                "--tls-cert", server.certificate, "--tls-key", other.key,
            ],
            in: pki.directory)
        #expect(bad.status == 1)
        #expect(bad.out.contains("FAIL tls:"), "\(bad.out)")
        #expect(bad.out.contains("key values mismatch"), "\(bad.out)")
        let lonely = await Self.assay(["serve", "--check", "--tls-client-ca", ca.certificate], in: pki.directory)
        #expect(lonely.status == 2)
        #expect(lonely.err.contains("--tls-client-ca needs --tls-cert and --tls-key"))
    }
}
