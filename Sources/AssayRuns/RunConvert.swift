public import AssayCore
public import AssayWire
import AssayCatalog
public import AssayRPC

public typealias WireModelCard = AssayWire.ModelCard
public typealias WireModelRun = AssayWire.ModelRun
public typealias WireParameterValue = AssayWire.ParameterValue
public typealias WireRunState = AssayWire.RunState
public typealias WireRunEstimate = AssayWire.RunEstimate

/// The run service's wire messages to and from domain values.
public enum RunConvert {
    public static func card(_ c: AssayCore.ModelCard) -> WireModelCard {
        WireModelCard(
            id: c.id, name: c.name, version: c.version, description: c.description, taskKinds: c.taskKinds.map(\.rawValue),
            mediaTypes: c.mediaTypes.map(Convert.mediaType), outputKinds: c.outputKinds.map(Convert.featureKind), classes: c.classes,
            parameters: c.parameters.map { p in
                ParameterSpec(
                    name: p.name, kind: p.kind.rawValue, description: p.description, defaultValue: parameter(p.defaultValue),
                    hasMinimum: p.minimum != nil, minimum: p.minimum ?? 0, hasMaximum: p.maximum != nil, maximum: p.maximum ?? 0,
                    choices: p.choices)
            },
            price: Price(unit: c.price.unit.rawValue, microdollars: c.price.microdollars), provider: c.provider)
    }

    public static func parameter(_ v: AssayCore.ParameterValue) -> WireParameterValue {
        switch v {
        case .integer(let i): WireParameterValue(value: .integer(i))
        case .number(let d): WireParameterValue(value: .number(d))
        case .string(let s): WireParameterValue(value: .string(s))
        case .boolean(let b): WireParameterValue(value: .boolean(b))
        }
    }

    public static func parameters(_ wire: [String: WireParameterValue]) throws(RPCError) -> [String: AssayCore.ParameterValue] {
        var out: [String: AssayCore.ParameterValue] = [:]
        for (name, v) in wire {
            switch v.value {
            case .integer(let i)?: out[name] = .integer(i)
            case .number(let d)?: out[name] = .number(d)
            case .string(let s)?: out[name] = .string(s)
            case .boolean(let b)?: out[name] = .boolean(b)
            case nil: throw RPCError(.invalidArgument, "parameter \(name) has no value")
            }
        }
        return out
    }

    public static func state(_ s: AssayCore.RunState) -> WireRunState {
        switch s {
        case .queued: .queued
        case .running: .running
        case .completed: .completed
        case .failed: .failed
        case .cancelled: .cancelled
        }
    }

    public static func run(_ r: AssayCore.ModelRun) -> WireModelRun {
        WireModelRun(
            id: r.id.rawValue, name: r.name, modelId: r.modelID, modelVersion: r.modelVersion, ontologyId: r.ontologyID.rawValue,
            mapping: r.mapping.map { AssayWire.ClassMapping(modelClass: $0.modelClass, featureId: $0.featureID) },
            parameters: r.parameters.mapValues(parameter), datasetIds: r.datasetIDs.map(\.rawValue), state: state(r.state),
            progress: RunProgress(
                total: UInt64(r.progress.total), done: UInt64(r.progress.done), failed: UInt64(r.progress.failed),
                cached: UInt64(r.progress.cached), withPredictions: UInt64(r.progress.withPredictions), images: UInt64(r.progress.images),
                tokens: UInt64(max(0, r.progress.tokens))),
            error: r.error, createdAtMicros: r.createdAt, startedAtMicros: r.startedAt ?? 0, finishedAtMicros: r.finishedAt ?? 0)
    }

    public static func mapping(_ wire: [AssayWire.ClassMapping]) -> [AssayCore.ClassMapping] {
        wire.map { AssayCore.ClassMapping(modelClass: $0.modelClass, featureID: $0.featureId) }
    }

    /// A billing refusal as a status whose message starts with the reason code, which also
    /// travels in the `assay-billing-reason` trailer for clients to act on.
    public static func refusal(_ r: BillingRefusal) -> RPCError {
        let code: RPCCode =
            switch r.kind {
            case .failedPrecondition: .failedPrecondition
            case .resourceExhausted: .resourceExhausted
            case .invalidArgument: .invalidArgument
            case .unavailable: .unavailable
            }
        return RPCError(code, "\(r.reason): \(r.message)", metadata: [BillingRefusal.reasonMetadataKey: r.reason])
    }
}
