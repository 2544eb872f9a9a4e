import AssayRPC
import AssayTLS
import AssayTestSupport
import AssayTransport
import AssayWire
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The RPC protocol over TLS against a live server: calls, refusals, mutual TLS, reloads.
@Suite("TLS for the RPC transport")
struct TLSRPCTests {
    /// A CA, a server certificate from it, and a client context that trusts it.
    struct Setup {
        let pki: TestPKI
        let ca: TestPKI.Authority
        let server: TestPKI.Identity

        static func make(serial: UInt64 = 0x1001) async throws -> Setup {
            let pki = try TestPKI()
            let ca = try await pki.authority("Assay Test CA")
            let server = try await pki.issue("server", by: ca, serial: serial)
            return Setup(pki: pki, ca: ca, server: server)
        }

        func credentials(clientCA: String? = nil) throws -> TLSServerCredentials {
            try TLSServerCredentials(
                TLSServerConfiguration(
                    certificateFile: server.certificate, privateKeyFile: server.key, clientCAFile: clientCA))
        }

        func client(trusting ca: String? = nil, identity: TestPKI.Identity? = nil, serverName: String? = nil) throws
            -> TLSContext
        {
            try TLSContext.client(
                TLSClientConfiguration(
                    trustedCAFile: ca ?? self.ca.certificate, certificateFile: identity?.certificate,
                    privateKeyFile: identity?.key,
                    serverName: serverName))
        }
    }

    /// The RPCError a connection attempt failed with (the test fails if it succeeded).
    func refusal(_ connect: () async throws -> RPCClient) async -> RPCError? {
        do {
            let client = try await connect()
            // With TLS 1.3 a client finishes its handshake before the server has looked at the
            // client's certificate: the refusal then arrives with the first call.
            do {
                _ = try await client.unary(
                    EchoService.unary, EchoRequest(text: "should not pass"), timeout: .seconds(5))
            } catch let error as RPCError {
                client.close()
                return error
            } catch {
                Issue.record("unexpected error \(error)")
                return nil
            }
            client.close()
            Issue.record("the connection was accepted")
            return nil
        } catch let error as RPCError {
            return error
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    @Test func unaryAndStreamingCallsOverTLS() async throws {
        let setup = try await Setup.make()
        defer { setup.pki.remove() }
        let server = try TestServer.start(tls: try setup.credentials())
        let client = try await server.client(tls: try setup.client())
        let response = try await client.unary(EchoService.unary, EchoRequest(text: "hello", payload: [1, 2, 3]))
        #expect(response.text == "hello")
        #expect(response.payload == [1, 2, 3])
        let indexes = try await client.serverStreaming(EchoService.serverStream, EchoRequest(text: "s", repeat: 50)) {
            responses in
            var seen: [UInt32] = []
            for try await r in responses { seen.append(r.index) }
            return seen
        }
        #expect(indexes == Array(0..<50))
        let joined = try await client.clientStreaming(EchoService.clientStream) { writer in
            for word in ["a", "b", "c"] { try await writer.write(EchoRequest(text: word)) }
        }
        #expect(joined.text == "abc")
        #expect(client.peerCertificate?.subject == "CN=server,O=Assay Tests")
        #expect(client.peerCertificate?.serialNumber == "1001")
        #expect(client.peerCertificate?.issuer == "CN=Assay Test CA")
        try await client.ping()
        client.close()
        await server.stop()
        #expect(server.server.tlsFailureCount == 0)
    }

    @Test func plaintextClientIsRefusedAndTheServerKeepsServing() async throws {
        let setup = try await Setup.make()
        defer { setup.pki.remove() }
        let server = try TestServer.start(tls: try setup.credentials())
        let error = await refusal { try await server.client() }
        #expect(error?.code == .unavailable)
        // The server read our preface as a broken ClientHello and said so.
        #expect(server.server.tlsFailureCount == 1)
        let client = try await server.client(tls: try setup.client())
        #expect(try await client.unary(EchoService.unary, EchoRequest(text: "still here")).text == "still here")
        client.close()
        await server.stop()
    }

    @Test func tlsClientToAPlaintextServerFailsCleanly() async throws {
        let setup = try await Setup.make()
        defer { setup.pki.remove() }
        let server = try TestServer.start()
        let error = await refusal { try await server.client(tls: try setup.client()) }
        #expect(error?.code == .unavailable)
        #expect(error?.message.contains("TLS") == true)
        await server.stop()
    }

    @Test func serverFromAnotherCAIsRefused() async throws {
        let setup = try await Setup.make()
        defer { setup.pki.remove() }
        let other = try await setup.pki.authority("Other CA")
        let server = try TestServer.start(tls: try setup.credentials())
        let error = await refusal { try await server.client(tls: try setup.client(trusting: other.certificate)) }
        #expect(error?.code == .unavailable)
        #expect(error?.message.contains("certificate verify failed") == true)
        #expect(error?.message.contains("unable to get local issuer certificate") == true)
        // The client's alert (unknown CA) reached the server, which counted it.
        for _ in 0..<1000 where server.server.tlsFailureCount == 0 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(server.server.tlsFailureCount == 1)
        await server.stop()
    }

    @Test func serverWithTheWrongNameIsRefused() async throws {
        let setup = try await Setup.make()
        defer { setup.pki.remove() }
        let server = try TestServer.start(tls: try setup.credentials())
        let error = await refusal { try await server.client(tls: try setup.client(serverName: "db.example.com")) }
        #expect(error?.message.contains("hostname mismatch") == true)
        // The name the certificate carries is accepted in place of the address.
        let client = try await server.client(tls: try setup.client(serverName: "localhost"))
        #expect(try await client.unary(EchoService.unary, EchoRequest(text: "ok")).text == "ok")
        client.close()
        await server.stop()
    }

    @Test func mutualTLSAcceptsOnlyCertificatesFromTheClientCA() async throws {
        let setup = try await Setup.make()
        defer { setup.pki.remove() }
        let workers = try await setup.pki.authority("Workers CA")
        let strangers = try await setup.pki.authority("Strangers CA")
        let worker = try await setup.pki.issue("worker-1", by: workers, serial: 0x77, client: true)
        let stranger = try await setup.pki.issue("intruder", by: strangers, serial: 0x66, client: true)
        // Echo answers with the peer the server saw.
        let whoAmI = AdHocService { router in
            router.unary(EchoService.unary) { _, context in EchoResponse(text: context.peer) }
        }
        let server = try TestServer.start(services: [whoAmI], tls: try setup.credentials(clientCA: workers.certificate))

        let noCertificate = await refusal { try await server.client(tls: try setup.client()) }
        #expect(noCertificate?.code == .unavailable)
        #expect(noCertificate?.message.contains("certificate required") == true, "\(String(describing: noCertificate))")

        let wrongCA = await refusal { try await server.client(tls: try setup.client(identity: stranger)) }
        #expect(wrongCA?.code == .unavailable)
        #expect(wrongCA?.message.contains("unknown ca") == true, "\(String(describing: wrongCA))")

        let client = try await server.client(tls: try setup.client(identity: worker))
        let peer = try await client.unary(EchoService.unary, EchoRequest(text: "worker")).text
        #expect(peer.hasPrefix("127.0.0.1:"))
        #expect(peer.hasSuffix(" (CN=worker-1,O=Assay Tests)"))
        client.close()
        await server.stop()
        #expect(server.server.tlsFailureCount == 2)
    }

    @Test func newConnectionsUseAReloadedCertificateAndOldOnesKeepWorking() async throws {
        let setup = try await Setup.make(serial: 0x1001)
        defer { setup.pki.remove() }
        let credentials = try setup.credentials()
        let server = try TestServer.start(tls: credentials)
        let tls = try setup.client()
        let old = try await server.client(tls: tls)
        #expect(old.peerCertificate?.serialNumber == "1001")
        #expect(credentials.reloadIfChanged() == .unchanged)

        // A renewed certificate (and key) replaces the files; the poll sees them.
        _ = try await setup.pki.issue("server", by: setup.ca, serial: 0x1002)
        guard case .reloaded(let loaded) = credentials.reloadIfChanged() else {
            Issue.record("the new files were not loaded")
            return
        }
        #expect(loaded?.serialNumber == "1002")
        let renewed = try await server.client(tls: tls)
        #expect(renewed.peerCertificate?.serialNumber == "1002")
        #expect(try await old.unary(EchoService.unary, EchoRequest(text: "old")).text == "old")
        #expect(old.peerCertificate?.serialNumber == "1001")

        // A broken file is reported once and the working certificate stays.
        try writeText(
            "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n", to: setup.server.certificate)
        guard case .failed(let error) = credentials.reloadIfChanged() else {
            Issue.record("a broken certificate file was accepted")
            return
        }
        #expect(error.operation.contains(setup.server.certificate))
        #expect(credentials.reloadIfChanged() == .unchanged)
        let afterFailure = try await server.client(tls: tls)
        #expect(afterFailure.peerCertificate?.serialNumber == "1002")

        // The watcher polls on its own.
        let (reports, continuation) = AsyncStream<TLSServerCredentials.ReloadOutcome>.makeStream()
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await credentials.watch(every: .milliseconds(20)) { continuation.yield($0) } }
            _ = try await setup.pki.issue("server", by: setup.ca, serial: 0x1003)
            var iterator = reports.makeAsyncIterator()
            var outcome = await iterator.next()
            // The watcher may catch the rename of the key before the certificate's.
            if case .failed = outcome { outcome = await iterator.next() }
            guard case .reloaded(let cert) = outcome else {
                Issue.record("the watcher did not reload: \(String(describing: outcome))")
                group.cancelAll()
                return
            }
            #expect(cert?.serialNumber == "1003")
            group.cancelAll()
        }
        let third = try await server.client(tls: tls)
        #expect(third.peerCertificate?.serialNumber == "1003")
        for c in [old, renewed, afterFailure, third] { c.close() }
        await server.stop()
    }

    @Test func largeMessagesAndFlowControlThroughTLS() async throws {
        let setup = try await Setup.make()
        defer { setup.pki.remove() }
        let server = try TestServer.start(tls: try setup.credentials())
        let client = try await server.client(tls: try setup.client())
        var payload = [UInt8](repeating: 0, count: 3 << 20)
        for i in payload.indices { payload[i] = UInt8(truncatingIfNeeded: i &* 2_654_435_761 >> 13) }
        let echoed = try await client.unary(EchoService.unary, EchoRequest(text: "big", payload: payload))
        #expect(echoed.payload == payload)

        // Both directions at once, more than the stream and connection windows hold.
        let chunk = Array(payload[0..<(1 << 20)])
        let count = 12
        let received = try await client.bidirectional(EchoService.bidirectional) { writer, close, responses in
            try await withThrowingTaskGroup(of: Int.self) { group in
                group.addTask {
                    var seen = 0
                    for try await r in responses {
                        #expect(r.payload == chunk)
                        #expect(r.text == "\(seen)")
                        seen += 1
                    }
                    return seen
                }
                for i in 0..<count { try await writer.write(EchoRequest(text: "\(i)", payload: chunk)) }
                close()
                return try await group.next() ?? 0
            }
        }
        #expect(received == count)
        client.close()
        await server.stop()
    }

    @Test func aConnectionOverTheLimitIsToldWhyInsideTLS() async throws {
        let setup = try await Setup.make()
        defer { setup.pki.remove() }
        var limits = ServerLimits()
        limits.maxConnections = 1
        let server = try TestServer.start(limits: limits, tls: try setup.credentials())
        let tls = try setup.client()
        let first = try await server.client(tls: tls)
        for _ in 0..<2000 where server.server.connectionCount < 1 { try await Task.sleep(for: .milliseconds(5)) }
        // The refusal is a GOAWAY written once the TLS handshake is done, so the client reads it.
        let refused = await refusal { try await server.client(tls: tls) }
        #expect(refused?.code == .resourceExhausted, "\(String(describing: refused))")
        #expect(refused?.message.contains("too many connections") == true)
        #expect(try await first.unary(EchoService.unary, EchoRequest(text: "first")).text == "first")
        first.close()
        await server.stop()
        #expect(server.server.tlsFailureCount == 0)
    }

    @Test func aConnectionThatNeverHandshakesIsClosed() async throws {
        let setup = try await Setup.make()
        defer { setup.pki.remove() }
        var configuration = TLSServerConfiguration(
            certificateFile: setup.server.certificate, privateKeyFile: setup.server.key)
        configuration.handshakeTimeoutNanoseconds = 200_000_000
        let server = try TestServer.start(tls: try TLSServerCredentials(configuration))
        let raw = try RawConnection(to: server.address)
        let started = MonotonicClock.nanoseconds()
        #expect(await raw.peerClosed())
        // Nothing else would close it before the 10 s defaults (a loaded machine can be slow).
        #expect(MonotonicClock.nanoseconds() - started < 9_000_000_000)
        #expect(server.server.tlsFailureCount == 1)
        await server.stop()
    }

    @Test func badFilesAreRefusedWithTheReason() async throws {
        let setup = try await Setup.make()
        defer { setup.pki.remove() }
        let other = try await setup.pki.issue("other", by: setup.ca, serial: 9)
        let mismatched = TLSServerConfiguration(certificateFile: setup.server.certificate, privateKeyFile: other.key)
        let mismatch = #expect(throws: TLSError.self) { try TLSServerCredentials(mismatched) }
        #expect(mismatch?.operation.contains(other.key) == true)
        #expect(mismatch?.reasons.contains("key values mismatch") == true)
        let missing = TLSServerConfiguration(
            certificateFile: setup.pki.directory + "/nope.pem", privateKeyFile: other.key)
        let absent = #expect(throws: TLSError.self) { try TLSServerCredentials(missing) }
        #expect(
            absent?.description
                == "reading the certificate file \(setup.pki.directory)/nope.pem: No such file or directory")
        let halfIdentity = TLSClientConfiguration(
            trustedCAFile: setup.ca.certificate, certificateFile: other.certificate)
        #expect(throws: TLSError.self) { try TLSContext.client(halfIdentity) }
    }
}
