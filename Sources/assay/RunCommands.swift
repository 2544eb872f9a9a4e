import enum AssayCore.Money
import AssayRPC
import AssayWire

#if canImport(Glibc)
    import Glibc
#endif

/// `assay models` and `assay run create|preview|watch|cancel|list|rows|export` (docs/runs.md).
enum RunCommands {
    static func models(_ args: inout Arguments) async throws -> Int32 {
        let json = args.flag("json")
        let client = try await ClientCommands.connect(&args)
        try args.checkAllUsed()
        defer { client.close() }
        let response = try await client.unary(RunService.listModels, ListModelsRequest(), timeout: .seconds(10))
        if json {
            printOut(response.jsonString(pretty: true))
            return 0
        }
        for card in response.models {
            let price = card.price.map { "\($0.unit) \("$" + Money.format($0.microdollars))" } ?? "free"
            printOut("\(card.id)  v\(card.version)  \(card.taskKinds.joined(separator: ","))  [\(card.mediaTypes.compactMap(\.protoName).joined(separator: ",").lowercased())]  \(price)")
            if !card.classes.isEmpty { printOut("    classes: \(card.classes.joined(separator: ", "))") }
            for p in card.parameters {
                var bounds = ""
                if p.hasMinimum || p.hasMaximum { bounds = " [\(p.hasMinimum ? String(p.minimum) : "")..\(p.hasMaximum ? String(p.maximum) : "")]" }
                if !p.choices.isEmpty { bounds = " {\(p.choices.joined(separator: "|"))}" }
                printOut("    --param \(p.name)=<\(p.kind)>\(bounds) default \(p.defaultValue.map(describe) ?? "")  \(p.description)")
            }
        }
        return 0
    }

    static func run(_ args: inout Arguments) async throws -> Int32 {
        guard let verb = args.positional.first else { throw UsageError("run needs create, preview, watch, cancel, list, rows or export") }
        switch verb {
        case "create", "preview": return try await createOrPreview(verb, &args)
        case "watch": return try await watch(&args)
        case "cancel": return try await cancel(&args)
        case "list": return try await list(&args)
        case "rows": return try await rows(&args)
        case "export": return try await export(&args)
        default: throw UsageError("unknown run command \(verb)")
        }
    }

    /// `--param name=value`: integers, numbers, true/false, else a string.
    static func parameter(_ text: String) throws(UsageError) -> (String, AssayWire.ParameterValue) {
        guard let eq = text.firstIndex(of: "="), eq != text.startIndex else { throw UsageError("--param needs NAME=VALUE, got \(text)") }
        let name = String(text[..<eq])
        let value = String(text[text.index(after: eq)...])
        if let i = Int64(value) { return (name, .init(value: .integer(i))) }
        if let d = Double(value), d.isFinite { return (name, .init(value: .number(d))) }
        if value == "true" || value == "false" { return (name, .init(value: .boolean(value == "true"))) }
        return (name, .init(value: .string(value)))
    }

    static func describe(_ v: AssayWire.ParameterValue) -> String {
        switch v.value {
        case .integer(let i)?: String(i)
        case .number(let d)?: String(d)
        case .string(let s)?: s
        case .boolean(let b)?: String(b)
        case nil: ""
        }
    }

    static func selection(_ args: inout Arguments) throws -> RowSelection {
        var s = RowSelection()
        if let dataset = args.option("dataset") { s.datasetId = dataset }
        s.rowIds = args.values("row")
        s.globalKeys = args.values("key")
        for f in args.values("where") {
            guard let eq = f.firstIndex(of: "=") else { throw UsageError("--where needs KEY=VALUE") }
            s.metadataFilter[String(f[..<eq])] = String(f[f.index(after: eq)...])
        }
        return s
    }

    static func createOrPreview(_ verb: String, _ args: inout Arguments) async throws -> Int32 {
        guard let model = args.option("model"), let ontology = args.option("ontology") else {
            throw UsageError("run \(verb) needs --model ID and --ontology ID")
        }
        var mapping: [ClassMapping] = []
        for m in args.values("map") {
            guard let eq = m.firstIndex(of: "=") else { throw UsageError("--map needs MODEL_CLASS=FEATURE_ID") }
            mapping.append(ClassMapping(modelClass: String(m[..<eq]), featureId: String(m[m.index(after: eq)...])))
        }
        var parameters: [String: AssayWire.ParameterValue] = [:]
        for p in args.values("param") {
            let (name, value) = try parameter(p)
            parameters[name] = value
        }
        let rows = try selection(&args)
        let name = args.option("name") ?? ""
        let estimate = args.option("estimate") ?? ""
        let requestID = args.option("request-id") ?? ""
        let watchIt = args.flag("watch")
        let json = args.flag("json")
        let client = try await ClientCommands.connect(&args)
        try args.checkAllUsed()
        defer { client.close() }
        if verb == "preview" {
            let response = try await client.unary(
                RunService.preview, PreviewRunRequest(modelId: model, ontologyId: ontology, mapping: mapping, parameters: parameters, rows: rows),
                timeout: .seconds(300))
            printOut(json ? response.jsonString(pretty: true) : response.rows.map { r in
                "\(r.globalKey): " + (r.error.isEmpty ? "\(r.predictions.count) predictions\n" + r.predictions.map { "    " + $0.jsonString(pretty: false) }.joined(separator: "\n") : "error: \(r.error)")
            }.joined(separator: "\n"))
            return 0
        }
        let run = try await client.unary(
            RunService.create,
            CreateRunRequest(name: name, modelId: model, ontologyId: ontology, mapping: mapping, parameters: parameters, rows: rows, estimateId: estimate, requestId: requestID),
            timeout: .seconds(600))
        printOut(json ? run.jsonString(pretty: false) : "created run \(run.id) (\(run.progress?.total ?? 0) rows)")
        return watchIt ? try await follow(client, run.id, quiet: json) : 0
    }

    /// Follows a run with a progress bar until it ends; exit status 0 when it completed. `quiet`
    /// prints the final run as JSON instead of the bar and summary; `silent` prints nothing.
    static func follow(_ client: RPCClient, _ id: String, quiet: Bool, silent: Bool = false) async throws -> Int32 {
        var bar: ProgressBar?
        var last: ModelRun?
        try await client.serverStreaming(RunService.watch, WatchRunRequest(id: id)) { updates in
            for try await run in updates {
                last = run
                let p = run.progress ?? RunProgress()
                if !quiet {
                    if bar == nil { bar = ProgressBar(total: Int(p.total), unit: "rows") }
                    bar?.update(Int(p.done))
                }
            }
        }
        guard let run = last else { return 1 }
        let p = run.progress ?? RunProgress()
        if !quiet {
            bar?.update(Int(p.done), force: true)
            bar?.finish()
        }
        let state = stateName(run.state)
        if silent {
            return run.state == .completed ? 0 : 1
        } else if quiet {
            printOut(run.jsonString(pretty: false))
        } else {
            printOut("run \(run.id) \(state): \(p.done)/\(p.total) rows, \(p.failed) failed, \(p.cached) from cache, \(p.withPredictions) with predictions" + (run.error.isEmpty ? "" : "; \(run.error)"))
        }
        return run.state == .completed ? 0 : 1
    }

    static func stateName(_ s: RunState) -> String {
        String((s.protoName ?? "unknown").dropFirst("RUN_STATE_".count)).lowercased()
    }

    static func runID(_ args: inout Arguments, _ verb: String) throws -> String {
        guard args.positional.count >= 2 else { throw UsageError("run \(verb) needs a RUN_ID") }
        return args.positional[1]
    }

    static func watch(_ args: inout Arguments) async throws -> Int32 {
        let id = try runID(&args, "watch")
        let json = args.flag("json")
        let client = try await ClientCommands.connect(&args)
        try args.checkAllUsed()
        defer { client.close() }
        return try await follow(client, id, quiet: json)
    }

    static func cancel(_ args: inout Arguments) async throws -> Int32 {
        let id = try runID(&args, "cancel")
        let client = try await ClientCommands.connect(&args)
        try args.checkAllUsed()
        defer { client.close() }
        let run = try await client.unary(RunService.cancel, CancelRunRequest(id: id), timeout: .seconds(30))
        printOut("run \(run.id): \(stateName(run.state))")
        return 0
    }

    static func list(_ args: inout Arguments) async throws -> Int32 {
        let json = args.flag("json")
        let client = try await ClientCommands.connect(&args)
        try args.checkAllUsed()
        defer { client.close() }
        let response = try await client.unary(RunService.list, ListRunsRequest(), timeout: .seconds(30))
        if json {
            printOut(response.jsonString(pretty: true))
        } else {
            for r in response.runs {
                let p = r.progress ?? RunProgress()
                printOut("\(r.id)  \(r.name)  \(r.modelId)  \(stateName(r.state))  \(p.done)/\(p.total) (\(p.failed) failed)")
            }
        }
        return 0
    }

    static func rows(_ args: inout Arguments) async throws -> Int32 {
        let id = try runID(&args, "rows")
        let failedOnly = args.flag("failed")
        let client = try await ClientCommands.connect(&args)
        try args.checkAllUsed()
        defer { client.close() }
        var cursor = ""
        repeat {
            let page = try await client.unary(RunService.listRows, ListRunRowsRequest(id: id, failedOnly: failedOnly, pageSize: 1000, cursor: cursor), timeout: .seconds(60))
            for r in page.rows { printOut(r.jsonString(pretty: false)) }
            cursor = page.nextCursor
        } while !cursor.isEmpty
        return 0
    }

    static func export(_ args: inout Arguments) async throws -> Int32 {
        let id = try runID(&args, "export")
        let formatText = args.option("format") ?? "ndjson"
        guard let format = ["ndjson": ExportFormat.ndjson, "coco": .coco][formatText] else { throw UsageError("--format is ndjson or coco") }
        let out = args.option("out")
        let client = try await ClientCommands.connect(&args)
        try args.checkAllUsed()
        defer { client.close() }
        var fd: Int32 = 1
        if let out {
            fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            guard fd >= 0 else { throw UsageError("cannot write \(out): \(String(cString: strerror(errno)))") }
        }
        defer { if fd != 1 { close(fd) } }
        try await client.serverStreaming(RunService.export, ExportRunRequest(id: id, format: format)) { chunks in
            for try await chunk in chunks {
                var offset = 0
                while offset < chunk.data.count {
                    let n = chunk.data[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                    guard n > 0 else { throw UsageError("write failed: \(String(cString: strerror(errno)))") }
                    offset += n
                }
            }
        }
        return 0
    }
}

