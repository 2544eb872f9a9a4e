import AssayWire

/// The bodies of control frames, as the `assay.v1` messages of Protos/assay/v1/wire.proto.
enum ControlBodies {
    struct Start {
        var method: String
        var timeoutNanoseconds: UInt64?
        var metadata: Metadata
    }

    struct End {
        var status: RPCError?
        var metadata: Metadata
    }

    struct Away {
        var lastStreamID: UInt32
        var code: RPCCode
        var message: String
    }

    static func decode<M: ProtoMessage>(_ type: M.Type, _ bytes: [UInt8]) throws -> M {
        try bytes.withUnsafeBytes { try M(serializedBytes: $0, memoryLimit: 64 * 1024 + 16 * bytes.count) }
    }

    static func settings(_ limits: ConnectionLimits) -> [UInt8] {
        Settings(
            maxFrameSize: UInt32(limits.maxFrameSize),
            maxConcurrentStreams: UInt32(limits.maxConcurrentStreams),
            initialStreamWindow: UInt32(limits.initialStreamWindow),
            initialConnectionWindow: UInt32(limits.initialConnectionWindow)
        ).serializedBytes()
    }

    static func parseSettings(_ bytes: [UInt8]) throws -> ConnectionLimits {
        let s = try decode(Settings.self, bytes)
        var limits = ConnectionLimits.protocolDefaults
        if s.maxFrameSize > 0 { limits.maxFrameSize = Int(s.maxFrameSize) }
        if s.maxConcurrentStreams > 0 { limits.maxConcurrentStreams = Int(s.maxConcurrentStreams) }
        if s.initialStreamWindow > 0 { limits.initialStreamWindow = Int(min(s.initialStreamWindow, UInt32(Int32.max))) }
        if s.initialConnectionWindow > 0 { limits.initialConnectionWindow = Int(min(s.initialConnectionWindow, UInt32(Int32.max))) }
        return limits
    }

    static func callStart(method: String, timeoutNanoseconds: UInt64?, metadata: Metadata) -> [UInt8] {
        CallStart(
            method: method,
            timeoutMicros: timeoutNanoseconds.map { max(1, $0 / 1000) } ?? 0,
            metadata: metadata.entries.map { MetadataEntry(key: $0.key, value: $0.value) }
        ).serializedBytes()
    }

    static func parseCallStart(_ bytes: [UInt8]) throws -> Start {
        let s = try decode(CallStart.self, bytes)
        var metadata = Metadata()
        for e in s.metadata { metadata.add(e.key, e.value) }
        let timeout: UInt64? = s.timeoutMicros == 0 ? nil : s.timeoutMicros.multipliedReportingOverflow(by: 1000).overflow ? UInt64.max : s.timeoutMicros * 1000
        return Start(method: s.method, timeoutNanoseconds: timeout, metadata: metadata)
    }

    static func callEnd(status: RPCError?, metadata: Metadata) -> [UInt8] {
        var all = metadata
        if let status { for e in status.metadata { all.add(e.key, e.value) } }
        return CallEnd(
            code: status?.code.rawValue ?? 0,
            message: status?.message ?? "",
            metadata: all.entries.map { MetadataEntry(key: $0.key, value: $0.value) }
        ).serializedBytes()
    }

    static func parseCallEnd(_ bytes: [UInt8]) throws -> End {
        let e = try decode(CallEnd.self, bytes)
        var metadata = Metadata()
        for m in e.metadata { metadata.add(m.key, m.value) }
        let code = RPCCode(wireValue: e.code)
        return End(status: code == .ok ? nil : RPCError(code, e.message, metadata: metadata), metadata: metadata)
    }

    static func cancel(_ error: RPCError) -> [UInt8] {
        Cancel(code: error.code.rawValue, message: error.message).serializedBytes()
    }

    static func parseCancel(_ bytes: [UInt8]) throws -> RPCError {
        let c = try decode(Cancel.self, bytes)
        return RPCError(RPCCode(wireValue: c.code), c.message)
    }

    static func goAway(lastStreamID: UInt32, code: RPCCode, message: String) -> [UInt8] {
        GoAway(lastStreamId: lastStreamID, code: code.rawValue, message: message).serializedBytes()
    }

    static func parseGoAway(_ bytes: [UInt8]) throws -> Away {
        let g = try decode(GoAway.self, bytes)
        return Away(lastStreamID: g.lastStreamId, code: RPCCode(wireValue: g.code), message: g.message)
    }
}
