import AssayTestSupport
import AssayWire
import Testing

/// `assay metrics …` on files, without a server: the JSON keys the issue names and values
/// worked out by hand (the engine itself is checked against scikit-learn, jiwer and
/// pycocotools in AssayMetricsTests).
@Suite("Offline metrics command line")
struct MetricsCLITests {
    func number(_ value: JSONValue?) -> Double? {
        if case .number(let text)? = value { Double(text) } else { nil }
    }

    @Test func classificationReportWithAMissingPrediction() async throws {
        let directory = makeTemporaryDirectory()
        defer { removeTree(directory) }
        writeFile(directory + "/gt.jsonl", """
            {"id": "a", "label": "cat"}
            {"id": "b", "label": "dog"}
            {"id": "c", "label": "cat"}
            {"id": "d", "label": "bird"}
            """)
        writeFile(directory + "/pred.jsonl", """
            {"id": "a", "label": "cat"}
            {"id": "b", "label": "cat"}
            {"id": "c", "label": "cat"}
            """)
        let result = await run([assayBinary, "metrics", "classification", "--gt", directory + "/gt.jsonl", "--pred", directory + "/pred.jsonl", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try JSONValue.parse(result.stdout)
        #expect(number(report["accuracy"]) == 0.5)
        #expect(number(report["missingPredictions"]) == 1)
        // cat: predicted 3 times, right twice; "d" has no prediction, so it counts as "none".
        #expect(number(report["perClass"]?["cat"]?["precision"]) == 2.0 / 3.0)
        #expect(number(report["perClass"]?["cat"]?["recall"]) == 1)
        #expect(number(report["perClass"]?["cat"]?["f1"]) == 0.8)
        #expect(number(report["perClass"]?["none"]?["support"]) == 0)
        // Macro over bird, cat, dog and none, as scikit-learn averages the labels it is given.
        #expect(number(report["macro"]?["precision"]) == (2.0 / 3.0) / 4)
        #expect(number(report["weighted"]?["recall"]) == 0.5)
        #expect(report["confusion"]?["labels"] == .array([.string("bird"), .string("cat"), .string("dog"), .string("none")]))
        #expect(
            report["confusion"]?["counts"]
                == .array([
                    .array([.number("0"), .number("0"), .number("0"), .number("1")]),
                    .array([.number("0"), .number("2"), .number("0"), .number("0")]),
                    .array([.number("0"), .number("1"), .number("0"), .number("0")]),
                    .array([.number("0"), .number("0"), .number("0"), .number("0")]),
                ]))
    }

    @Test func textErrorRatesOverTheWholeCorpus() async throws {
        let directory = makeTemporaryDirectory()
        defer { removeTree(directory) }
        writeFile(directory + "/gt.jsonl", "{\"id\": \"a\", \"text\": \"hello world\"}\n{\"id\": \"b\", \"text\": \"the cat sat\"}\n")
        writeFile(directory + "/pred.jsonl", "{\"id\": \"a\", \"text\": \"hello word\"}\n{\"id\": \"b\", \"text\": \"the cat sat\"}\n")
        let result = await run([assayBinary, "metrics", "text", "--gt", directory + "/gt.jsonl", "--pred", directory + "/pred.jsonl", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try JSONValue.parse(result.stdout)
        #expect(number(report["exactMatch"]) == 0.5)
        // One word substituted of five; one character deleted of 22, as jiwer pools a corpus.
        #expect(number(report["wer"]) == 0.2)
        #expect(number(report["cer"]) == 1.0 / 22.0)
        #expect(number(report["tokenF1"]) == 0.75)
    }

    @Test func detectionOnCOCOFilesHasTheTwelveSummaryNumbers() async throws {
        let directory = makeTemporaryDirectory()
        defer { removeTree(directory) }
        writeFile(directory + "/gt.json", """
            {"images": [{"id": 1, "width": 100, "height": 100}, {"id": 2, "width": 100, "height": 100}],
             "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 10, 10], "area": 100, "iscrowd": 0},
                             {"id": 2, "image_id": 2, "category_id": 1, "bbox": [0, 0, 50, 50], "area": 2500, "iscrowd": 0}],
             "categories": [{"id": 1, "name": "cat"}]}
            """)
        // The small box found exactly; the medium one missed.
        writeFile(directory + "/pred.json", "[{\"image_id\": 1, \"category_id\": 1, \"bbox\": [10, 10, 10, 10], \"score\": 0.9}]")
        let result = await run([assayBinary, "metrics", "detection", "--gt", directory + "/gt.json", "--pred", directory + "/pred.json", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let stats = try JSONValue.parse(result.stdout)["stats"]
        for key in ["AP", "AP50", "AP75", "AP_small", "AP_medium", "AP_large", "AR1", "AR10", "AR100", "AR_small", "AR_medium", "AR_large"] {
            #expect(number(stats?[key]) != nil, "\(key) missing")
        }
        // Recall 1/2 at every IoU threshold, with precision 1 / (1 + eps) as pycocotools divides.
        let ap = try #require(number(stats?["AP"]))
        #expect(abs(ap - 51.0 / 101.0) < 1e-12)
        #expect(number(stats?["AR100"]) == 0.5)
        #expect(abs((number(stats?["AP_small"]) ?? 0) - 1) < 1e-15)
        #expect(number(stats?["AP_medium"]) == 0)
        #expect(number(stats?["AR_medium"]) == 0)
        #expect(number(stats?["AP_large"]) == -1)  // no large ground truth: undefined
    }

    @Test func aPredictionFileThatIsNotJSONLinesNamesTheLine() async throws {
        let directory = makeTemporaryDirectory()
        defer { removeTree(directory) }
        writeFile(directory + "/gt.jsonl", "{\"id\": \"a\", \"label\": \"cat\"}\n")
        writeFile(directory + "/pred.jsonl", "{\"id\": \"a\", \"label\": \"cat\"}\nnot json\n")
        let result = await run([assayBinary, "metrics", "classification", "--gt", directory + "/gt.jsonl", "--pred", directory + "/pred.jsonl"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("pred.jsonl") && result.stderr.contains("2"), "\(result.stderr)")
    }
}
