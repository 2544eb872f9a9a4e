#if canImport(Glibc)
import Glibc
#endif
import AssayCore
import AssayMetrics
import AssayModels
import AssayRPC
import AssayTestSupport
import AssayWire
import Dispatch
import Testing

extension FeatureEvaluation {
    var classification: ClassificationMetrics? { if case .classification(let m)? = metrics { m } else { nil } }
    var detection: DetectionMetrics? { if case .detection(let m)? = metrics { m } else { nil } }
    var multilabel: MultiLabelMetrics? { if case .multilabel(let m)? = metrics { m } else { nil } }
    var text: TextMetrics? { if case .text(let m)? = metrics { m } else { nil } }
}

func start() async throws -> (ServerHarness, Fixture) {
    let harness = try await ServerHarness.start(models: ModelRegistry(providers: [Script.model]), billing: AdmitAll())
    return (harness, try await Fixture.make(harness))
}

/// What the service should compute for boxes, built here the same way from the script.
func expectedDetection(_ boxes: (Int) -> [(String, Box, Int)]) -> (truth: [COCOGroundTruth], detections: [COCODetection]) {
    let category = ["car": 1, "person": 2]
    var truth: [COCOGroundTruth] = [], detections: [COCODetection] = []
    for i in 0..<Script.count {
        for (c, b) in Script.truthBoxes(i) {
            truth.append(COCOGroundTruth(id: truth.count + 1, imageID: i + 1, categoryID: category[c]!, box: b, area: b.area))
        }
        for (c, b, s) in boxes(i) {
            detections.append(COCODetection(imageID: i + 1, categoryID: category[c]!, box: b, score: Double(s) / 1_000_000))
        }
    }
    return (truth, detections)
}

@Suite struct CompareServiceTests {
    @Test func evaluateGivesAssayMetricsNumbersWholeAndPerSlice() async throws {
        let (harness, f) = try await start()
        let a = try await f.run("model-a")
        let r = try await f.client.unary(CompareService.evaluate, EvaluateRequest(runId: a.id, sliceBy: "split"))
        #expect(r.rows == 12 && r.rowsNotPredicted == 0)
        #expect(r.features.map(\.kind) == ["detection", "classification", "multilabel", "text"])
        #expect(r.features[0].featureIds == ["car", "person"])

        // Classification: sklearn's report on the scripted labels; by hand 8 of 12 right.
        let c = try #require(r.features[1].classification)
        let expected = Classification.classificationReport(truth: Script.truthKindLabels, predicted: Script.kindA)
        #expect(c.accuracy == expected.accuracy)
        #expect(c.accuracy == 8.0 / 12.0)
        #expect(c.macro?.f1 == expected.macro.f1 && c.weighted?.f1 == expected.weighted.f1 && c.micro?.f1 == expected.micro.f1)
        #expect(c.perClass.map(\.label) == ["bird", "cat", "dog", "none"])
        #expect(c.perClass.map { $0.scores?.f1 ?? -1 } == expected.labels.map { expected.perClass[$0]!.f1 })
        let matrix = Classification.confusionMatrix(truth: Script.truthKindLabels, predicted: Script.kindA)
        #expect(c.confusion?.labels == matrix.labels)
        #expect(c.confusion?.rows.map { $0.counts.map(Int.init) } == matrix.counts)

        // Boxes: COCO's 12 numbers and the operating point on the same inputs.
        let d = try #require(r.features[0].detection)
        let (truth, detections) = expectedDetection(Script.boxesA)
        let coco = COCOEvaluation.evaluate(truth: truth, detections: detections, imageIDs: Array(1...12), categoryIDs: [1, 2])
        #expect(d.cocoStats == coco.stats)
        #expect(d.categories.map(\.averagePrecision) == [coco.perCategoryAP[1]!, coco.perCategoryAP[2]!])
        #expect(d.curves.count == 2 && d.curves[0].precision == coco.precisionRecallCurve(categoryID: 1)!.precision)
        // By hand at confidence 0.5, IoU 0.5: cars on rows 0-5 match (IoU (50-3i)/(50+3i)), 6-11 miss; 3 of 6 people.
        #expect(abs((d.micro?.precision ?? 0) - 9.0 / 15.0) < 1e-12)
        #expect(abs((d.micro?.recall ?? 0) - 9.0 / 18.0) < 1e-12)
        #expect(d.confusion?.labels == ["car", "person", "background"])
        #expect(d.confusion?.rows.map { $0.counts.map(Int.init) } == [[6, 0, 6], [0, 3, 3], [6, 0, 0]])

        // Checklists and text.
        let m = try #require(r.features[2].multilabel)
        let ml = Classification.multiLabelReport(truth: (0..<12).map(Script.truthTags), predicted: (0..<12).map(Script.tagsA))
        #expect(m.micro?.f1 == ml.micro.f1 && m.samples?.f1 == ml.samples.f1 && m.macro?.f1 == ml.macro.f1)
        let t = try #require(r.features[3].text)
        #expect(t.wer == Text.wordErrorRate(references: (0..<12).map(Script.truthCaption), hypotheses: (0..<12).map(Script.captionA)))
        #expect(abs(t.wer - 8.0 / 96.0) < 1e-12)  // rows 0, 3, 6, 9: two substitutions in 8 words
        #expect(t.exactMatch == 8.0 / 12.0)

        // Slices: per metadata value.
        #expect(r.slices.map(\.value) == ["day", "night"])
        #expect(r.slices.map(\.rows) == [6, 6])
        #expect(r.slices[0].features[1].classification?.accuracy == 5.0 / 6.0)
        #expect(r.slices[1].features[1].classification?.accuracy == 3.0 / 6.0)
        let night = Classification.classificationReport(truth: Array(Script.truthKindLabels[6...]), predicted: Array(Script.kindA[6...]))
        #expect(r.slices[1].features[1].classification?.macro?.f1 == night.macro.f1)

        // One feature, other thresholds.
        let one = try await f.client.unary(
            CompareService.evaluate,
            EvaluateRequest(runId: a.id, featureId: "car", thresholds: Thresholds(hasConfidence: true, confidence: 0.2, hasIou: true, iou: 0.3)))
        #expect(one.features.count == 1 && one.features[0].featureIds == ["car"])
        let point = DetectionOperatingPoint.evaluate(
            truth: truth.filter { $0.categoryID == 1 }, detections: detections.filter { $0.categoryID == 1 }, confidence: 0.2, iouThreshold: 0.3,
            imageIDs: Array(1...12), categoryIDs: [1])
        #expect(one.features[0].detection?.micro?.f1 == point.micro.f1)
        #expect(one.features[0].detection?.confidence == 0.2)
        await harness.stop()
    }

    @Test func runAgainstRunIsPairedAndReproducibleFromItsSeed() async throws {
        let (harness, f) = try await start()
        let a = try await f.run("model-a")
        let b = try await f.run("model-b")
        let request = CompareRunsRequest(firstRunId: a.id, secondRunId: b.id, featureId: "kind", seed: 7, resamples: 500)
        let r = try await f.client.unary(CompareService.compareRuns, request)
        #expect(r.rows == 12 && r.confidenceLevel == 0.95)
        let k = try #require(r.features.first)
        #expect(k.kind == "classification")
        #expect(k.hasKappa && k.kappa == Agreement.cohensKappa(Script.kindA, Script.kindB))
        #expect(k.agreement == Agreement.rate(Script.kindA, Script.kindB))
        // By hand: A right and B wrong on rows 3, 7, 10; the reverse on 1, 6, 9: exact test, p = 1.
        #expect(k.mcnemar?.b == 3 && k.mcnemar?.c == 3 && k.mcnemar?.exact == true && k.mcnemar?.pValue == 1)
        let truth = Script.truthKindLabels
        let accuracy = PairedBootstrap.meanDelta(
            first: (0..<12).map { Script.kindA[$0] == truth[$0] ? 1 : 0 }, second: (0..<12).map { Script.kindB[$0] == truth[$0] ? 1 : 0 },
            resamples: 500, seed: 7)
        let delta = try #require(k.deltas.first { $0.metric == "accuracy" })
        #expect(delta.hasInterval && delta.first == accuracy.first && delta.second == accuracy.second)
        #expect(delta.low == accuracy.lower && delta.high == accuracy.upper)
        #expect(delta.low < delta.high)
        // The same seed gives the same intervals; another seed other ones.
        #expect(try await f.client.unary(CompareService.compareRuns, request) == r)
        var reseeded = request
        reseeded.seed = 8
        let other = try await f.client.unary(CompareService.compareRuns, reseeded)
        #expect(other.features[0].deltas.map(\.low) != k.deltas.map(\.low) || other.features[0].deltas.map(\.high) != k.deltas.map(\.high))

        // Every shared feature without feature_id: boxes with operating-point intervals, text with WER.
        let all = try await f.client.unary(CompareService.compareRuns, CompareRunsRequest(firstRunId: a.id, secondRunId: b.id, seed: 1, resamples: 200))
        #expect(all.features.map(\.kind) == ["detection", "classification", "multilabel", "text"])
        let boxes = all.features[0]
        #expect(boxes.deltas.map(\.metric) == ["precision @ operating point", "recall @ operating point", "F1 @ operating point", "AP", "AP50", "AP75"])
        #expect(abs(boxes.deltas[0].first - 0.6) < 1e-12)
        #expect(boxes.deltas[3].hasInterval == false)
        let text = all.features[3]
        let wer = try #require(text.deltas.first { $0.metric == "WER" })
        #expect(wer.first == Text.wordErrorRate(references: (0..<12).map(Script.truthCaption), hypotheses: (0..<12).map(Script.captionA)))
        #expect(abs(wer.second - Text.wordErrorRate(references: (0..<12).map(Script.truthCaption), hypotheses: (0..<12).map(Script.captionB))) < 1e-12)

        // Disagreements: the rows the runs answer differently, most confident first.
        let ranked = try await f.client.unary(
            CompareService.rankRows, RankRowsRequest(runId: a.id, featureId: "kind", by: "disagreement", otherRunId: b.id))
        let differing = (0..<12).filter { Script.kindA[$0] != Script.kindB[$0] }
        let expectedOrder = Diagnosis.disagreements(
            ids: Array(0..<12), first: Script.kindA, second: Script.kindB,
            confidences: (0..<12).map { Double(max(Script.confidenceA[$0], Script.confidenceB[$0])) / 1_000_000 })
        #expect(ranked.total == UInt64(differing.count))
        #expect(ranked.rows.map(\.globalKey) == expectedOrder.map { "acme-\($0.id)" })
        #expect(ranked.rows.first?.globalKey == "acme-6" && ranked.rows.first?.predicted == "cat" && ranked.rows.first?.other == "dog")
        await harness.stop()
    }

    @Test func diagnosisRanksRowsAndFindsTheRowsBehindACell() async throws {
        let (harness, f) = try await start()
        let a = try await f.run("model-a")
        // Loss: −ln p, p the confidence of a right answer, 1 − confidence of a wrong one; by hand.
        let loss = try await f.client.unary(CompareService.rankRows, RankRowsRequest(runId: a.id, featureId: "kind"))
        #expect(loss.rows.map(\.globalKey) == [6, 1, 9, 11, 7, 5, 4, 8, 2, 10, 0, 3].map { "acme-\($0)" })
        #expect(abs(loss.rows[0].value - -log(0.01)) < 1e-9)
        #expect(loss.rows[0].truth == "dog" && loss.rows[0].predicted == "cat")
        // Paging: the same order, page by page.
        var keys: [String] = []
        var cursor = ""
        repeat {
            let page = try await f.client.unary(CompareService.rankRows, RankRowsRequest(runId: a.id, featureId: "kind", pageSize: 5, cursor: cursor))
            #expect(page.rows.count <= 5 && page.total == 12)
            keys += page.rows.map(\.globalKey)
            cursor = page.nextCursor
        } while !cursor.isEmpty
        #expect(keys == loss.rows.map(\.globalKey))

        // Lowest IoU first: row 10 (car IoU 0.25, its person missed: mean 0.125).
        let (truth, detections) = expectedDetection(Script.boxesA)
        let images = DetectionOperatingPoint.evaluate(truth: truth, detections: detections, confidence: 0.5, iouThreshold: 0.5, imageIDs: Array(1...12)).images
        let expected = Diagnosis.rankedByLowestIoU(ids: Array(0..<12), ious: images.map { $0.meanBestIoU ?? Double.nan })
        let iou = try await f.client.unary(CompareService.rankRows, RankRowsRequest(runId: a.id, featureId: "car", by: "iou"))
        let carOnly = DetectionOperatingPoint.evaluate(
            truth: truth.filter { $0.categoryID == 1 }, detections: detections.filter { $0.categoryID == 1 }, confidence: 0.5, iouThreshold: 0.5,
            imageIDs: Array(1...12)).images
        #expect(iou.rows.map(\.globalKey) == Diagnosis.rankedByLowestIoU(ids: Array(0..<12), ious: carOnly.map { $0.meanBestIoU ?? Double.nan }).map { "acme-\($0.id)" })
        #expect(iou.rows.first?.globalKey == "acme-11")
        // Both box features together: the unit of the run's boxes (needs feature_id only when several units).
        let onlyBoxes = try await f.run("model-a", mapping: [AssayWire.ClassMapping(modelClass: "car", featureId: "car"), AssayWire.ClassMapping(modelClass: "person", featureId: "person")])
        let both = try await f.client.unary(CompareService.rankRows, RankRowsRequest(runId: onlyBoxes.id, by: "iou"))
        #expect(both.rows.map(\.globalKey) == expected.map { "acme-\($0.id)" })
        #expect(both.rows.first?.globalKey == "acme-10")

        // Rows behind confusion cells.
        let catDog = try await f.client.unary(CompareService.cellRows, CellRowsRequest(runId: a.id, featureId: "kind", truth: "cat", predicted: "dog"))
        #expect(catDog.rows.map(\.globalKey) == ["acme-1"] && catDog.total == 1)
        let none = try await f.client.unary(CompareService.cellRows, CellRowsRequest(runId: a.id, featureId: "kind", truth: "none", predicted: "dog"))
        #expect(none.rows.map(\.globalKey) == ["acme-11"])
        let diagonal = try await f.client.unary(
            CompareService.cellRows, CellRowsRequest(runId: a.id, featureId: "kind", truth: "cat", predicted: "cat", pageSize: 2))
        #expect(diagonal.total == 4 && diagonal.rows.map(\.globalKey) == ["acme-0", "acme-5"] && diagonal.nextCursor == "2")
        let rest = try await f.client.unary(
            CompareService.cellRows, CellRowsRequest(runId: a.id, featureId: "kind", truth: "cat", predicted: "cat", pageSize: 2, cursor: diagonal.nextCursor))
        #expect(rest.rows.map(\.globalKey) == ["acme-7", "acme-10"] && rest.nextCursor.isEmpty)
        let missed = try await f.client.unary(
            CompareService.cellRows, CellRowsRequest(runId: onlyBoxes.id, truth: "car", predicted: "background"))
        #expect(missed.rows.map(\.globalKey) == (6..<12).map { "acme-\($0)" })
        let people = try await f.client.unary(
            CompareService.cellRows, CellRowsRequest(runId: onlyBoxes.id, truth: "person", predicted: "person"))
        #expect(people.rows.map(\.globalKey) == ["acme-0", "acme-4", "acme-8"] && people.rows.allSatisfy { $0.value == 1 })
        await harness.stop()
    }

    @Test func badInputGetsPreciseStatusesAndOtherOrganisationsSeeNothing() async throws {
        let (harness, f) = try await start()
        let a = try await f.run("model-a")
        let kindOnly = try await f.run("model-b", mapping: [AssayWire.ClassMapping(modelClass: "kind", featureId: "kind")])
        func expect(_ code: RPCCode, _ text: String, _ body: () async throws -> Void) async {
            let e = await status(body)
            #expect(e?.code == code, "\(String(describing: e))")
            #expect(e?.message.contains(text) == true, "\(String(describing: e?.message)) lacks \(text)")
        }
        let c = f.client
        await expect(.notFound, "run_nope") { _ = try await c.unary(CompareService.evaluate, EvaluateRequest(runId: "run_nope")) }
        await expect(.invalidArgument, "run_id is required") { _ = try await c.unary(CompareService.evaluate, EvaluateRequest()) }
        await expect(.notFound, "feature wheels") { _ = try await c.unary(CompareService.evaluate, EvaluateRequest(runId: a.id, featureId: "wheels")) }
        await expect(.invalidArgument, "does not map feature car") {
            _ = try await c.unary(CompareService.evaluate, EvaluateRequest(runId: kindOnly.id, featureId: "car"))
        }
        await expect(.invalidArgument, "thresholds.confidence must be in [0, 1]") {
            _ = try await c.unary(CompareService.evaluate, EvaluateRequest(runId: a.id, thresholds: Thresholds(hasConfidence: true, confidence: 1.5)))
        }
        await expect(.invalidArgument, "thresholds.iou") {
            _ = try await c.unary(CompareService.rankRows, RankRowsRequest(runId: a.id, featureId: "car", thresholds: Thresholds(hasIou: true, iou: -0.1)))
        }
        await expect(.invalidArgument, "name one with feature_id") { _ = try await c.unary(CompareService.rankRows, RankRowsRequest(runId: a.id)) }
        await expect(.invalidArgument, "by \"iou\" ranks box features") {
            _ = try await c.unary(CompareService.rankRows, RankRowsRequest(runId: a.id, featureId: "kind", by: "iou"))
        }
        await expect(.invalidArgument, "needs other_run_id") {
            _ = try await c.unary(CompareService.rankRows, RankRowsRequest(runId: a.id, featureId: "kind", by: "disagreement"))
        }
        await expect(.invalidArgument, "\"zebra\" is not a label") {
            _ = try await c.unary(CompareService.cellRows, CellRowsRequest(runId: a.id, featureId: "kind", truth: "zebra", predicted: "cat"))
        }
        await expect(.invalidArgument, "is multilabel") {
            _ = try await c.unary(CompareService.cellRows, CellRowsRequest(runId: a.id, featureId: "tags", truth: "x", predicted: "y"))
        }
        await expect(.invalidArgument, "resamples is at most") {
            _ = try await c.unary(CompareService.compareRuns, CompareRunsRequest(firstRunId: a.id, secondRunId: kindOnly.id, resamples: 20_000))
        }
        // Runs of different ontologies.
        let second = try await c.unary(CatalogService.createOntology, CreateOntologyRequest(name: "o2", features: Fixture.features))
        let elsewhere = try await f.run("model-a", ontology: second.id, mapping: [AssayWire.ClassMapping(modelClass: "kind", featureId: "kind")])
        await expect(.failedPrecondition, "only runs of the same ontology compare") {
            _ = try await c.unary(CompareService.compareRuns, CompareRunsRequest(firstRunId: a.id, secondRunId: elsewhere.id))
        }
        await expect(.failedPrecondition, "same ontology") {
            var chunks = 0
            try await c.serverStreaming(CompareService.report, ReportRequest(runIds: [a.id, elsewhere.id])) { s in for try await _ in s { chunks += 1 } }
        }
        // Shared features only: kindOnly maps kind alone.
        let shared = try await c.unary(CompareService.compareRuns, CompareRunsRequest(firstRunId: a.id, secondRunId: kindOnly.id, resamples: 50))
        #expect(shared.features.map(\.featureIds) == [["kind"]])

        // Another organisation: the run does not exist for it.
        let other = try await Fixture.make(harness, org: "globex")
        let o = other.client
        await expect(.notFound, a.id) { _ = try await o.unary(CompareService.evaluate, EvaluateRequest(runId: a.id)) }
        await expect(.notFound, a.id) { _ = try await o.unary(CompareService.cellRows, CellRowsRequest(runId: a.id, featureId: "kind", truth: "cat", predicted: "dog")) }
        await expect(.notFound, a.id) {
            try await o.serverStreaming(CompareService.report, ReportRequest(runIds: [a.id])) { s in for try await _ in s {} }
        }
        let theirs = try await other.run("model-b")
        await expect(.notFound, a.id) {
            _ = try await o.unary(CompareService.compareRuns, CompareRunsRequest(firstRunId: theirs.id, secondRunId: a.id))
        }
        // Their own run works and counts their rows only.
        #expect(try await o.unary(CompareService.evaluate, EvaluateRequest(runId: theirs.id)).rows == 12)
        let health = try await c.unary(HealthService.check, HealthCheckRequest(service: "assay.v1.Compare"))
        #expect(health.status == .serving)
        await harness.stop()
    }
}

@Suite struct CompareSpanTests {
    @Test func spanFeaturesAreOneUnitOfEntityTypes() async throws {
        let (harness, f) = try await start()
        let ontology = try await f.client.unary(
            CatalogService.createOntology,
            CreateOntologyRequest(
                name: "entities",
                features: [AssayWire.Feature(id: "name", name: "name", kind: .textSpan), AssayWire.Feature(id: "place", name: "place", kind: .textSpan)]))
        var labels: [AssayWire.Label] = []
        for i in 0..<Script.count {
            labels.append(AssayWire.Label(globalKey: "acme-\(i)", featureId: "name", value: LabelValue(value: .textSpan(TextSpan(start: 0, end: 2)))))
            if i % 2 == 0 {
                labels.append(AssayWire.Label(globalKey: "acme-\(i)", featureId: "place", value: LabelValue(value: .textSpan(TextSpan(start: 1, end: 2)))))
            }
        }
        try await f.client.bidirectional(CatalogService.importLabels) { writer, close, acks in
            try await writer.write(LabelBatch(ontologyId: ontology.id, labels: labels))
            close()
            for try await ack in acks { #expect(ack.errors.isEmpty, "\(ack.errors)") }
        }
        let mapping = ["name", "place"].map { AssayWire.ClassMapping(modelClass: $0, featureId: $0) }
        let s = try await f.run("model-s", ontology: ontology.id, mapping: mapping)
        let t = try await f.run("model-t", ontology: ontology.id, mapping: mapping)
        let truth = (0..<Script.count).map { i in
            [LabeledSpan(label: "name", start: 0, end: 2)] + (i % 2 == 0 ? [LabeledSpan(label: "place", start: 1, end: 2)] : [])
        }
        func spans(_ raw: [RawPrediction]) -> [LabeledSpan] {
            raw.map { p in
                guard case .span(let a, let b) = p.value else { return LabeledSpan(label: "?", start: 0, end: 0) }
                return LabeledSpan(label: p.modelClass, start: a, end: b)
            }
        }
        let predictedS = (0..<Script.count).map { spans(Script.spansS($0)) }
        let predictedT = (0..<Script.count).map { spans(Script.spansT($0)) }
        let r = try await f.client.unary(CompareService.evaluate, EvaluateRequest(runId: s.id))
        #expect(r.features.map(\.kind) == ["spans"] && r.features[0].featureIds == ["name", "place"])
        guard case .spans(let m)? = r.features[0].metrics else {
            Issue.record("no span metrics")
            return
        }
        let expected = SpanMetrics.report(truth: truth, predicted: predictedS)
        #expect(m.micro?.f1 == expected.micro.f1 && m.macro?.f1 == expected.macro.f1)
        // By hand: 9 of 12 names found, 3 place spans wrong, 6 places missed: P 9/12, R 9/18.
        #expect(m.micro?.precision == 0.75 && m.micro?.recall == 0.5)
        let c = try await f.client.unary(CompareService.compareRuns, CompareRunsRequest(firstRunId: s.id, secondRunId: t.id, seed: 4, resamples: 300))
        let delta = try #require(c.features.first?.deltas.first)
        #expect(delta.metric == "micro F1" && delta.first == expected.micro.f1)
        #expect(delta.second == SpanMetrics.report(truth: truth, predicted: predictedT).micro.f1)
        let interval = PairedBootstrap.delta(count: 12, resamples: 300, seed: 4) { rows in
            (SpanMetrics.report(truth: rows.map { truth[$0] }, predicted: rows.map { predictedS[$0] }).micro.f1,
             SpanMetrics.report(truth: rows.map { truth[$0] }, predicted: rows.map { predictedT[$0] }).micro.f1)
        }
        #expect(delta.low == interval.lower && delta.high == interval.upper)
        #expect(c.features.first?.agreement == 9.0 / 12.0)
        let worst = try await f.client.unary(CompareService.rankRows, RankRowsRequest(runId: s.id))
        #expect(Array(worst.rows.prefix(3).map(\.globalKey)) == ["acme-9", "acme-10", "acme-11"])
        await harness.stop()
    }
}
