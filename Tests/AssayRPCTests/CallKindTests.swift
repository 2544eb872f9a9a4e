import AssayRPC
import AssayTestSupport
import AssayTransport
import AssayWire
import Testing

@Suite("Call kinds over TCP")
struct CallKindTests {
    @Test func unary() async throws {
        let server = try TestServer.start()
        let client = try await server.client()
        let response = try await client.unary(EchoService.unary, EchoRequest(text: "hello", payload: [1, 2, 3]))
        #expect(response.text == "hello")
        #expect(response.payload == [1, 2, 3])
        client.close()
        await server.stop()
    }

    @Test func serverStreaming() async throws {
        let server = try TestServer.start()
        let client = try await server.client()
        let indexes = try await client.serverStreaming(EchoService.serverStream, EchoRequest(text: "s", repeat: 50)) { responses in
            var seen: [UInt32] = []
            for try await r in responses {
                #expect(r.text == "s")
                seen.append(r.index)
            }
            return seen
        }
        #expect(indexes == Array(0..<50))
        client.close()
        await server.stop()
    }

    @Test func clientStreaming() async throws {
        let server = try TestServer.start()
        let client = try await server.client()
        let response = try await client.clientStreaming(EchoService.clientStream) { writer in
            for word in ["a", "b", "c", "d"] { try await writer.write(EchoRequest(text: word)) }
        }
        #expect(response.text == "abcd")
        #expect(response.index == 4)
        client.close()
        await server.stop()
    }

    @Test func clientStreamingWithNoMessages() async throws {
        let server = try TestServer.start()
        let client = try await server.client()
        let response = try await client.clientStreaming(EchoService.clientStream) { _ in }
        #expect(response.index == 0)
        client.close()
        await server.stop()
    }

    @Test func bidirectional() async throws {
        let server = try TestServer.start()
        let client = try await server.client()
        let echoed = try await client.bidirectional(EchoService.bidirectional) { writer, close, responses in
            var texts: [String] = []
            var iterator = responses.makeAsyncIterator()
            // Lock-step: each request is answered before the next is sent.
            for i in 0..<20 {
                try await writer.write(EchoRequest(text: "m\(i)"))
                let r = try await iterator.next()
                texts.append(r?.text ?? "missing")
                #expect(r?.index == UInt32(i))
            }
            close()
            #expect(try await iterator.next() == nil)
            return texts
        }
        #expect(echoed == (0..<20).map { "m\($0)" })
        client.close()
        await server.stop()
    }

    @Test func emptyMessagesAreMessages() async throws {
        // An all-default message encodes to zero bytes; it must still arrive as a message.
        let server = try TestServer.start()
        let client = try await server.client()
        let response = try await client.unary(EchoService.unary, EchoRequest())
        #expect(response == EchoResponse())
        let count = try await client.clientStreaming(EchoService.clientStream) { writer in
            for _ in 0..<3 { try await writer.write(EchoRequest()) }
        }
        #expect(count.index == 3)
        client.close()
        await server.stop()
    }

    @Test func healthAndPing() async throws {
        let server = try TestServer.start()
        let client = try await server.client()
        let health = try await client.unary(HealthService.check, HealthCheckRequest())
        #expect(health.status == .serving)
        await #expect(throws: RPCError.self) {
            _ = try await client.unary(HealthService.check, HealthCheckRequest(service: "nope"))
        }
        try await client.ping()
        client.close()
        await server.stop()
    }

    @Test func unknownMethodIsUnimplemented() async throws {
        let server = try TestServer.start(services: [HealthProvider()])
        let client = try await server.client()
        do {
            _ = try await client.unary(EchoService.unary, EchoRequest(text: "x"))
            Issue.record("expected UNIMPLEMENTED")
        } catch let error as RPCError {
            #expect(error.code == .unimplemented)
            #expect(error.message.contains("/assay.v1.Echo/Unary"))
        }
        // The connection is still good.
        #expect(try await client.unary(HealthService.check, HealthCheckRequest()).status == .serving)
        client.close()
        await server.stop()
    }

    @Test func handlerErrorsChooseTheirStatusAndUnexpectedOnesAreHidden() async throws {
        struct Secret: Error {}
        struct Missing: RPCErrorConvertible { var rpcError: RPCError { RPCError(.notFound, "no such row") } }
        let sink = CapturingSink()
        let service = AdHocService { router in
            router.unary(EchoService.unary) { request, _ in
                switch request.text {
                case "secret": throw Secret()
                case "missing": throw Missing()
                default: throw RPCError(.failedPrecondition, "enable the add-on first")
                }
            }
        }
        let server = try TestServer.start(services: [service], logger: Logger(label: "t", sink: sink))
        let client = try await server.client()
        for (text, code, message) in [
            ("secret", RPCCode.internal, "internal error"), ("missing", .notFound, "no such row"),
            ("other", .failedPrecondition, "enable the add-on first"),
        ] {
            do {
                _ = try await client.unary(EchoService.unary, EchoRequest(text: text))
                Issue.record("expected \(code)")
            } catch let error as RPCError {
                #expect(error.code == code)
                #expect(error.message == message)
            }
        }
        #expect(sink.captured.contains { $0.contains("handler failed") && $0.contains("Secret") })
        client.close()
        await server.stop()
    }

    @Test func metadataTravelsBothWays() async throws {
        let service = AdHocService { router in
            router.unary(EchoService.unary) { _, context in
                EchoResponse(text: context.metadata["authorization"] ?? "")
            }
            router.serverStreaming(EchoService.serverStream) { _, writer, context in
                context.addTrailer("x-echo", context.metadata["x-request"] ?? "none")
                try await writer.write(EchoResponse(text: "one"))
            }
        }
        let server = try TestServer.start(services: [service])
        let client = try await server.client(metadata: ["authorization": "Bearer k1"])
        let r = try await client.unary(EchoService.unary, EchoRequest())
        #expect(r.text == "Bearer k1")
        let trailers = try await client.serverStreaming(EchoService.serverStream, EchoRequest(), metadata: ["x-request": "42"]) { responses in
            var count = 0
            for try await _ in responses { count += 1 }
            #expect(count == 1)
            return responses.trailers
        }
        #expect(trailers["x-echo"] == "42")
        client.close()
        await server.stop()
    }
}
