import AssayCore
import AssayModels
import AssayRPC
import AssayServer
import AssayStorage
import AssayTestSupport
import AssayWire
import Testing

/// What one call came back with.
struct Outcome {
    var code: RPCCode
    var message: String
    var metadata: Metadata
    /// Every response message, serialized again.
    var responses: [[UInt8]]
}

/// Calls `method` with the request `json` (the proto3 JSON mapping) through the typed client,
/// with the method's message types opened from the erased descriptor. Streaming requests
/// send that one message and end their side.
func call<I: ProtoMessage, O: ProtoMessage>(
    _: I.Type, _: O.Type, _ method: AnyMethodDescriptor, _ json: JSONValue, on client: RPCClient, timeout: Duration
) async throws -> Outcome {
    let descriptor = MethodDescriptor<I, O>(service: method.service, method: method.method, kind: method.kind)
    let request = try I(jsonValue: json)
    var responses: [[UInt8]] = []
    do {
        switch method.kind {
        case .unary:
            responses.append(try await client.unary(descriptor, request, timeout: timeout).serializedBytes())
        case .serverStreaming:
            try await client.serverStreaming(descriptor, request, timeout: timeout) { stream in
                for try await response in stream { responses.append(response.serializedBytes()) }
            }
        case .clientStreaming:
            responses.append(
                try await client.clientStreaming(descriptor, timeout: timeout) { writer in
                    try await writer.write(request)
                }.serializedBytes())
        case .bidirectional:
            try await client.bidirectional(descriptor, timeout: timeout) { writer, close, stream in
                // The server may have ended the call before the message went out (no key):
                // the responses then throw the call's status, which is what counts.
                try? await writer.write(request)
                close()
                for try await response in stream { responses.append(response.serializedBytes()) }
            }
        }
        return Outcome(code: .ok, message: "", metadata: Metadata(), responses: responses)
    } catch let error as RPCError {
        return Outcome(code: error.code, message: error.message, metadata: error.metadata, responses: responses)
    }
}

/// Builds a request for any message from its schema: every string field whose name says
/// which kind of object it names (`dataset_id`, `run_ids`, `global_key`, ...) gets one of
/// A's; `id`, `ids`, `project_id` and any other `..._id` get A's object of kind `subject`;
/// model ids get a model this server serves, so a request gets as far as it can. Message
/// fields are filled the same way (four levels deep), repeated fields get one element, maps
/// stay empty. `variant` picks which member of each `oneof` is set (and sets enums to their
/// first value on odd variants, so a handler that wants one does not stop at it); from
/// variant 3 on, requests are sparse: only fields naming the subject's kind are set, for
/// handlers that want exactly one of several fields (a row selection by ids, keys or
/// dataset). Names get a harmless `probe`, confusion-matrix cells the class `a`, so that
/// validation of those does not stop a request before it looks anything up.
struct RequestBuilder {
    static let fieldKinds: [String: Kind] = [
        "dataset_id": .dataset, "dataset_ids": .dataset, "judge_dataset_id": .dataset,
        "row_id": .row, "row_ids": .row, "data_row_id": .row, "prompt_row_id": .row, "prompt_row_ids": .row,
        "global_key": .globalKey, "global_keys": .globalKey,
        "ontology_id": .ontology,
        "feature_id": .feature, "feature_ids": .feature, "source_feature_id": .feature, "project_feature_id": .feature,
        "option_ids": .feature, "radio_option_id": .feature,
        "run_id": .run, "run_ids": .run, "model_run_id": .run, "first_run_id": .run, "second_run_id": .run,
        "other_run_id": .run, "judge_run_id": .run, "rubric_run_id": .run,
        "review_project_id": .reviewProject, "task_id": .task, "pre_label_id": .preLabel, "estimate_id": .estimate,
        "key_id": .key, "tie_breaker_key_id": .key, "reviewer_key_id": .key, "organization_id": .organization,
    ]

    let a: OrganizationA
    let subject: Kind
    let variant: Int
    /// Every string put into the request: the server may quote them back in an error.
    private(set) var sent: Set<String> = []
    /// Whether some field took its value from `subject` (else other subjects give the same request).
    private(set) var usedSubject = false

    init(a: OrganizationA, subject: Kind, variant: Int) {
        self.a = a
        self.subject = subject
        self.variant = variant
    }

    mutating func message(_ schema: ProtoSchema, depth: Int = 0) -> JSONValue {
        var fields: [JSONField] = []
        let all = schema.fields
        var seenInGroup: [Int: Int] = [:]
        for field in all where !field.isMap {
            if let group = field.oneofGroup {
                let index = seenInGroup[group, default: 0]
                seenInGroup[group] = index + 1
                let size = all.filter { $0.oneofGroup == group }.count
                guard index == variant % size else { continue }
            }
            guard let value = value(field, depth: depth) else { continue }
            fields.append(JSONField(field.name, field.isRepeated ? .array([value]) : value))
        }
        return .object(fields)
    }

    private mutating func value(_ field: ProtoSchema.Field, depth: Int) -> JSONValue? {
        switch field.kind {
        case .string:
            guard let text = string(for: field.name) else { return nil }
            sent.insert(text)
            return .string(text)
        case .message:
            guard depth < 4, let nested = field.message else { return nil }
            return message(nested, depth: depth + 1)
        case .enum:
            return variant % 2 == 1 ? .number("1") : nil
        default:
            return nil
        }
    }

    /// How many variants there are.
    static let variants = 5

    var sparse: Bool { variant >= 3 }

    private mutating func string(for name: String) -> String? {
        if name == "model_id" || name.hasSuffix("_model_id") { return "iso-classifier" }
        if name == "name" { return "probe" }
        if name == "truth" || name == "predicted" { return "a" }
        if let kind = Self.fieldKinds[name] {
            if sparse && kind != subject { return nil }
            return a.first(kind)
        }
        if name == "id" || name == "ids" || name == "project_id" || name.hasSuffix("_id") || name.hasSuffix("_ids") {
            usedSubject = true
            return a.first(subject)
        }
        return nil
    }
}

/// Every method the assembled server routes, found from its router (a new RPC is covered
/// without touching this test), called (a) without a key and (b) with organisation B's admin
/// key and requests full of organisation A's ids. (a) must be UNAUTHENTICATED, health aside;
/// (b) must be refused (NOT_FOUND, PERMISSION_DENIED, INVALID_ARGUMENT, FAILED_PRECONDITION)
/// or succeed, and in neither case may any response message, status message or trailer hold
/// A's marker, ids or keys. (A status message may quote what B itself sent: that is removed
/// before the scan.) Afterwards A's data must be exactly as it was.
@Suite("Isolation of organisations, every method")
struct EveryMethodIsolationTests {
    @Test func noMethodAnswersWithoutAKeyOrWithAnotherOrganisationsData() async throws {
        let harness = try await ServerHarness.start(
            models: ModelRegistry(providers: [KindClassifier(), PromptWriter()]))
        // The first organisation is the server operator's (it may serve as a worker and manage
        // other accounts): neither A nor B is it, as on a real multi-tenant server.
        _ = try await harness.storage.createOrganization(name: "operator")
        let a = try await OrganizationA.make(harness)
        let (b, _, _) = try await harness.organization("b")
        let anonymous = try await harness.client(key: nil)
        let methods = harness.assembly.server.router.methods
        let contract = Set(AssayContract.services.flatMap(\.methods).map(\.path))
        // Every method the contract declares is routed (this server hosts every service).
        #expect(Set(methods.map(\.path)) == contract)
        #expect(methods.count > 60)

        var calls = 0
        var codes: [RPCCode: Int] = [:]
        var byMethod: [String: Set<RPCCode>] = [:]
        for method in methods {
            let request = try #require(method.requestMessage, "\(method.path) has no request type")
            let response = try #require(method.responseMessage, "\(method.path) has no response type")
            let schema = try #require(ProtoSchema(of: request))
            let streaming = method.kind != .unary
            let timeout: Duration = streaming ? .milliseconds(1500) : .seconds(10)

            // (a) No key.
            if !ServerAssembly.unauthenticatedPaths.contains(method.path) {
                var builder = RequestBuilder(a: a, subject: .dataset, variant: 0)
                let json = builder.message(schema)
                let outcome = try await call(request, response, method, json, on: anonymous, timeout: timeout)
                calls += 1
                #expect(
                    outcome.code == .unauthenticated, "\(method.path) without a key: \(outcome.code) \(outcome.message)"
                )
                #expect(outcome.responses.isEmpty, "\(method.path) answered without a key")
            }

            // (b) B's key, A's ids.
            var tried = Set<String>()
            subjects: for subject in Kind.allCases {
                for variant in 0..<RequestBuilder.variants {
                    var builder = RequestBuilder(a: a, subject: subject, variant: variant)
                    let json = builder.message(schema)
                    guard tried.insert(json.jsonString()).inserted else { continue }
                    let outcome = try await call(request, response, method, json, on: b, timeout: timeout)
                    calls += 1
                    codes[outcome.code, default: 0] += 1
                    byMethod[method.path, default: []].insert(outcome.code)
                    var allowed: Set<RPCCode> = [
                        .ok, .notFound, .permissionDenied, .invalidArgument, .failedPrecondition,
                    ]
                    if streaming { allowed.insert(.deadlineExceeded) }
                    #expect(
                        allowed.contains(outcome.code),
                        "\(method.path) \(json.jsonString()): \(outcome.code) \(outcome.message)")
                    let leaked = Self.leaks(outcome, secrets: a.secrets, sent: builder.sent)
                    #expect(leaked.isEmpty, "\(method.path) \(json.jsonString()) gave B: \(leaked)")
                    // A stream left open (health, a worker) tells nothing more on the next try.
                    if outcome.code == .deadlineExceeded { break subjects }
                }
            }
        }

        // Nothing B did changed A's data.
        let dataset = try await a.client.unary(CatalogService.getDataset, GetDatasetRequest(id: a.dataset))
        #expect(dataset.rowCount == 3)
        #expect(dataset.name.contains(a.marker))
        #expect(try await a.client.unary(RunService.get, GetRunRequest(id: a.run)).state == .completed)
        #expect(
            try await a.client.unary(KeysService.list, ListKeysRequest()).keys.allSatisfy { $0.revokedAtMicros == 0 })
        #expect(try await a.client.unary(ReviewService.listProjects, ListReviewProjectsRequest()).projects.count == 1)
        #expect(
            try await a.client.unary(PreferenceService.listProjects, ListPreferenceProjectsRequest()).projects.count
                == 1)
        #expect(try await a.client.unary(CatalogService.listOntologies, ListOntologiesRequest()).ontologies.count >= 1)
        let tally = codes.map { "\($0.key.name)=\($0.value)" }.sorted()
        print("isolation: \(methods.count) methods, \(calls) calls, codes \(tally)")
        // For whoever reads the log: what answered B at all, and what only ever said its
        // request was malformed (those never got as far as looking anything up).
        let answered = byMethod.filter { $0.value.contains(.ok) }.keys.sorted()
        let onlyInvalid = byMethod.filter { $0.value == [.invalidArgument] }.keys.sorted()
        print("isolation: answered B: \(answered.joined(separator: " "))")
        print("isolation: only INVALID_ARGUMENT: \(onlyInvalid.joined(separator: " "))")

        for c in [a.client, b, anonymous] { c.close() }
        await harness.stop()
    }

    /// The secrets of A found in what B got back, once the strings B sent are taken out.
    static func leaks(_ outcome: Outcome, secrets: [String], sent: Set<String>) -> [String] {
        var text = outcome.message + "\n" + outcome.metadata.map { "\($0.key)=\($0.value)" }.joined(separator: "\n")
        for response in outcome.responses { text += "\n" + String(decoding: response, as: UTF8.self) }
        // Longest first, so an id inside a longer sent string goes with it.
        for quoted in sent.sorted(by: { $0.count > $1.count }) where !quoted.isEmpty {
            text = text.replacing(quoted, with: "<sent>")
        }
        return secrets.filter { !$0.isEmpty && text.contains($0) }
    }
}
