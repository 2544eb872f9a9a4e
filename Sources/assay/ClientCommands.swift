import AssayRPC
import AssayTLS
import AssayTransport
import AssayWire

/// The client subcommands of issue 2: health, services, stats, ping.
enum ClientCommands {
    /// Connects to `--addr` with the API key from `--api-key`, `$ASSAY_API_KEY`, or the
    /// server's `<data>/admin.key` when that file is readable here.
    static func connect(_ args: inout Arguments) async throws -> RPCClient {
        let text = args.option("addr") ?? environment("ASSAY_ADDR") ?? ServeCommand.defaultAddress
        let explicitKey = args.option("api-key") ?? environment("ASSAY_API_KEY")
        let data = args.option("data") ?? environment("ASSAY_DATA") ?? "./assay-data"
        guard let address = SocketAddress(parsing: text) else {
            throw UsageError("cannot read the address \(text); write HOST:PORT")
        }
        var metadata = Metadata()
        if let key = explicitKey ?? readKeyFile(data + "/admin.key") {
            metadata.add("authorization", "Bearer \(key)")
        }
        let tls = try TLSOptions.client(&args)
        return try await RPCClient.connect(to: address, metadata: metadata, tls: tls)
    }

    static func readKeyFile(_ path: String) -> String? {
        guard let text = try? readFile(path) else { return nil }
        let key = String(decoding: text, as: UTF8.self).split(whereSeparator: { $0 == "\n" || $0 == " " }).first.map(String.init)
        return key?.isEmpty == false ? key : nil
    }

    static func health(_ args: inout Arguments) async throws -> Int32 {
        let service = args.option("service") ?? ""
        let json = args.flag("json")
        let client = try await connect(&args)
        try args.checkAllUsed()
        defer { client.close() }
        let response = try await client.unary(HealthService.check, HealthCheckRequest(service: service), timeout: .seconds(10))
        let name = response.status.protoName ?? "\(response.status.rawValue)"
        printOut(json ? response.jsonString(pretty: false) : name)
        return response.status == .serving ? 0 : 1
    }

    static func services(_ args: inout Arguments) async throws -> Int32 {
        let json = args.flag("json")
        let client = try await connect(&args)
        try args.checkAllUsed()
        defer { client.close() }
        let response = try await client.unary(ReflectionService.listServices, ListServicesRequest(), timeout: .seconds(10))
        if json {
            printOut(response.jsonString(pretty: true))
        } else {
            for service in response.services {
                printOut(service.name)
                for m in service.methods {
                    printOut("  \(m.name)  \(m.kind.protoName ?? "?")  \(m.inputType) -> \(m.outputType)")
                }
            }
        }
        return 0
    }

    static func stats(_ args: inout Arguments) async throws -> Int32 {
        let json = args.flag("json")
        let client = try await connect(&args)
        try args.checkAllUsed()
        defer { client.close() }
        let response = try await client.unary(ReflectionService.methodStats, MethodStatsRequest(), timeout: .seconds(10))
        if json {
            printOut(response.jsonString(pretty: true))
        } else {
            for m in response.methods {
                let codes = m.codes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
                printOut("\(m.path)  calls=\(m.calls) in_flight=\(m.inFlight) p50=\(m.latencyP50Micros)µs p99=\(m.latencyP99Micros)µs  \(codes)")
            }
        }
        return 0
    }

    static func ping(_ args: inout Arguments) async throws -> Int32 {
        let json = args.flag("json")
        let client = try await connect(&args)
        try args.checkAllUsed()
        defer { client.close() }
        let start = MonotonicClock.nanoseconds()
        try await client.ping()
        let micros = (MonotonicClock.nanoseconds() - start) / 1000
        printOut(json ? "{\"roundTripMicros\":\(micros)}" : "round trip: \(micros) µs")
        return 0
    }
}
