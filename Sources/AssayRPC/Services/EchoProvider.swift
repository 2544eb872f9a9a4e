public import AssayWire

/// `assay.v1.Echo`: every call kind, for transport tests and benchmarks.
public struct EchoProvider: RPCService {
    public init() {}

    /// Sleeps for the request's delay; a cancelled call stops sleeping at once.
    static func delay(_ request: EchoRequest) async throws {
        if request.delayMicros > 0 { try await Task.sleep(for: .microseconds(request.delayMicros)) }
    }

    public func register(in router: inout Router) {
        router.unary(EchoService.unary) { request, _ in
            try await Self.delay(request)
            return EchoResponse(text: request.text, payload: request.payload)
        }
        router.serverStreaming(EchoService.serverStream) { request, writer, _ in
            try await Self.delay(request)
            for i in 0..<request.repeat {
                try Task.checkCancellation()
                try await writer.write(EchoResponse(text: request.text, payload: request.payload, index: i))
            }
        }
        router.clientStreaming(EchoService.clientStream) { requests, _ in
            var text = ""
            var count: UInt32 = 0
            for try await request in requests {
                try await Self.delay(request)
                text += request.text
                count += 1
            }
            return EchoResponse(text: text, index: count)
        }
        router.bidirectional(EchoService.bidirectional) { requests, writer, _ in
            var i: UInt32 = 0
            for try await request in requests {
                try await Self.delay(request)
                try await writer.write(EchoResponse(text: request.text, payload: request.payload, index: i))
                i += 1
            }
        }
        router.clientStreaming(EchoService.ingest) { batches, _ in
            var summary = EchoIngestSummary()
            for try await batch in batches {
                summary.batches += 1
                summary.rows += UInt64(batch.rows.count)
                for row in batch.rows { summary.payloadBytes += UInt64(row.payload.count) }
            }
            return summary
        }
    }
}
