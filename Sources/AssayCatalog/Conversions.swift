public import AssayCore
import AssayRPC
public import AssayWire

// The catalog's wire messages and the domain values share names (DataRow, Label, …); in this
// module the wire ones are spelled through these aliases and the domain ones through AssayCore.
public typealias WireDataRow = AssayWire.DataRow
public typealias WireDataset = AssayWire.Dataset
public typealias WireFeature = AssayWire.Feature
public typealias WireFeatureOption = AssayWire.FeatureOption
public typealias WireOntology = AssayWire.Ontology
public typealias WireLabel = AssayWire.Label
public typealias WireLabelValue = AssayWire.LabelValue
public typealias WireAttachment = AssayWire.Attachment
public typealias WireMediaType = AssayWire.MediaType
public typealias WireFeatureKind = AssayWire.FeatureKind

public enum Convert {
    static func dataset(_ d: AssayCore.Dataset) -> WireDataset {
        WireDataset(id: d.id.rawValue, name: d.name, description: d.description, createdAtMicros: d.createdAt, rowCount: UInt64(d.rowCount))
    }

    public static func mediaType(_ m: WireMediaType) -> AssayCore.MediaType? {
        switch m {
        case .image: .image
        case .text: .text
        case .document: .document
        case .conversation: .conversation
        case .audio: .audio
        default: nil
        }
    }

    public static func mediaType(_ m: AssayCore.MediaType) -> WireMediaType {
        switch m {
        case .image: .image
        case .text: .text
        case .document: .document
        case .conversation: .conversation
        case .audio: .audio
        }
    }

    public static func row(_ r: AssayCore.DataRow, includeContent: Bool = true) -> WireDataRow {
        WireDataRow(
            id: r.id.rawValue, datasetId: r.datasetID.rawValue, globalKey: r.globalKey, mediaType: mediaType(r.mediaType),
            uri: r.uri, content: includeContent ? r.content : [], text: r.text, metadata: r.metadata,
            attachments: r.attachments.map { WireAttachment(kind: $0.kind, value: $0.value) },
            createdAtMicros: r.createdAt, updatedAtMicros: r.updatedAt
        )
    }

    public static func featureKind(_ k: WireFeatureKind) -> AssayCore.FeatureKind? {
        switch k {
        case .radio: .radio
        case .checklist: .checklist
        case .boundingBox: .boundingBox
        case .polygon: .polygon
        case .textSpan: .textSpan
        case .freeText: .freeText
        default: nil
        }
    }

    public static func featureKind(_ k: AssayCore.FeatureKind) -> WireFeatureKind {
        switch k {
        case .radio: .radio
        case .checklist: .checklist
        case .boundingBox: .boundingBox
        case .polygon: .polygon
        case .textSpan: .textSpan
        case .freeText: .freeText
        }
    }

    /// A wire feature tree as domain features; empty ids get fresh stable ones.
    static func features(_ wire: [WireFeature]) throws(RPCError) -> [AssayCore.Feature] {
        var out: [AssayCore.Feature] = []
        for f in wire {
            guard let kind = featureKind(f.kind) else {
                throw RPCError(.invalidArgument, "feature \(f.name.isEmpty ? "(unnamed)" : f.name): unknown kind \(f.kind.protoName ?? "\(f.kind.rawValue)")")
            }
            var options: [AssayCore.FeatureOption] = []
            for o in f.options {
                options.append(AssayCore.FeatureOption(id: o.id.isEmpty ? ObjectID.random("opt").rawValue : o.id, value: o.value, children: try features(o.children)))
            }
            out.append(AssayCore.Feature(
                id: f.id.isEmpty ? ObjectID.random("feat").rawValue : f.id, name: f.name, kind: kind,
                options: options, children: try features(f.children)
            ))
        }
        return out
    }

    static func features(_ core: [AssayCore.Feature]) -> [WireFeature] {
        core.map { f in
            WireFeature(
                id: f.id, name: f.name, kind: featureKind(f.kind),
                options: f.options.map { WireFeatureOption(id: $0.id, value: $0.value, children: features($0.children)) },
                children: features(f.children)
            )
        }
    }

    static func ontology(_ o: AssayCore.Ontology) -> WireOntology {
        WireOntology(id: o.id.rawValue, name: o.name, features: features(o.features), createdAtMicros: o.createdAt)
    }

    public static func value(_ v: AssayCore.LabelValue) -> WireLabelValue {
        switch v {
        case .radio(let id): WireLabelValue(value: .radioOptionId(id))
        case .checklist(let ids): WireLabelValue(value: .checklist(Checklist(optionIds: ids)))
        case .boundingBox(let l, let t, let w, let h): WireLabelValue(value: .boundingBox(BoundingBox(left: l, top: t, width: w, height: h)))
        case .polygon(let points): WireLabelValue(value: .polygon(Polygon(points: points.map { PolygonPoint(x: $0.x, y: $0.y) })))
        case .textSpan(let s, let e): WireLabelValue(value: .textSpan(TextSpan(start: UInt32(s), end: UInt32(e))))
        case .freeText(let t): WireLabelValue(value: .freeText(t))
        }
    }

    /// Nil when the label carries no value.
    public static func value(_ v: WireLabelValue?) -> AssayCore.LabelValue? {
        switch v?.value {
        case .radioOptionId(let id)?: .radio(optionID: id)
        case .checklist(let c)?: .checklist(optionIDs: c.optionIds)
        case .boundingBox(let b)?: .boundingBox(left: b.left, top: b.top, width: b.width, height: b.height)
        case .polygon(let p)?: .polygon(points: p.points.map { Point(x: $0.x, y: $0.y) })
        case .textSpan(let s)?: .textSpan(start: Int(s.start), end: Int(s.end))
        case .freeText(let t)?: .freeText(t)
        case nil: nil
        }
    }

    public static func label(_ l: AssayCore.Label, globalKey: String) -> WireLabel {
        WireLabel(
            id: l.id.rawValue, dataRowId: l.dataRowID.rawValue, globalKey: globalKey, featureId: l.featureID,
            value: value(l.value), children: l.children.map { label($0, globalKey: globalKey) },
            modelRunId: l.modelRunID?.rawValue ?? "", confidencePpm: UInt32(l.confidencePPM ?? 0), createdAtMicros: l.createdAt
        )
    }

    /// A wire label (and its children) as a domain label of `row`; the message says what is missing.
    public static func label(_ w: WireLabel, row: ObjectID, ontology: ObjectID, now: Timestamp) -> Result<AssayCore.Label, AssayCore.LabelError> {
        guard let v = value(w.value) else {
            return .failure(AssayCore.LabelError(featureID: w.featureId, reason: "the label has no value"))
        }
        var children: [AssayCore.Label] = []
        for c in w.children {
            switch label(c, row: row, ontology: ontology, now: now) {
            case .success(let l): children.append(l)
            case .failure(let e): return .failure(e)
            }
        }
        return .success(AssayCore.Label(
            id: ObjectID.random("lbl"), dataRowID: row, ontologyID: ontology, featureID: w.featureId, value: v,
            children: children, modelRunID: w.modelRunId.isEmpty ? nil : ObjectID(rawValue: w.modelRunId),
            confidencePPM: w.modelRunId.isEmpty ? nil : Int(w.confidencePpm), createdAt: now
        ))
    }
}
