import AssayMetrics
import Testing

@Suite("Reading users' files")
struct InputFileTests {
    static func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    static let gt = """
        {"images": [{"id": 1}, {"id": 2}],
         "categories": [{"id": 3, "name": "cat"}, {"id": 4, "name": "dog"}],
         "annotations": [
           {"id": 1, "image_id": 1, "category_id": 3, "bbox": [1, 2, 3, 4], "area": 10.5, "iscrowd": 0},
           {"id": 2, "image_id": 2, "category_id": 4, "bbox": [0, 0, 10, 10], "iscrowd": 1}
         ]}
        """

    @Test func readsCOCO() throws {
        let d = try COCOFiles.dataset(Self.bytes(Self.gt), file: "gt.json")
        #expect(d.imageIDs == [1, 2])
        #expect(d.categories.map(\.name) == ["cat", "dog"])
        #expect(d.truth[0] == COCOGroundTruth(id: 1, imageID: 1, categoryID: 3, box: Box(x: 1, y: 2, width: 3, height: 4), area: 10.5))
        #expect(d.truth[1].isCrowd && d.truth[1].area == 100)
        let p = try COCOFiles.detections(Self.bytes(#"[{"image_id": 2, "category_id": 3, "bbox": [1e1, 2.5, 3, 4], "score": 0.25}]"#),
                                         file: "p.json", dataset: d)
        #expect(p == [COCODetection(imageID: 2, categoryID: 3, box: Box(x: 10, y: 2.5, width: 3, height: 4), score: 0.25)])
    }

    static let badCOCO: [(String, String)] = [
        ("{\"images\": [], \"categories\": []}", "gt.json:1: missing \"annotations\""),
        ("{\"images\": [{\"id\": 1}],\n \"categories\": [],\n \"annotations\": [\n {\"id\": 1, \"image_id\": 1, \"category_id\": 1, \"bbox\": [0, 0, 1, 1]}]}",
         "gt.json:4: annotations[0]: category_id 1 is not in categories"),
        ("{\"images\": [{\"id\": 1}], \"categories\": [{\"id\": 1}],\n \"annotations\": [{\"id\": 1, \"image_id\": 1, \"category_id\": 1, \"bbox\": [0, 0, 1]}]}",
         "gt.json:2: annotations[0]: bbox must be [x, y, width, height], found an array"),
        ("{\"images\": [{\"id\": 1}, {\"id\": 1.5}], \"categories\": [], \"annotations\": []}",
         "gt.json:1: images[1]: id must be an integer, found a number"),
        ("{\"images\": [\n{\"id\": 1},\n{\"id\": 2]}", "gt.json:3: expected ',' or '}' in an object, found ']'"),
        ("{\"images\": [], \"categories\": [], \"annotations\": []} x", "gt.json:1: unexpected 'x' after the JSON value"),
        ("", "gt.json:1: unexpected end of file, expected a value"),
    ]

    @Test(arguments: badCOCO)
    func cocoErrorsNameFileLineAndField(_ input: String, _ message: String) {
        #expect(throws: InputError.self) { try COCOFiles.dataset(Self.bytes(input), file: "gt.json") }
        do {
            _ = try COCOFiles.dataset(Self.bytes(input), file: "gt.json")
        } catch {
            #expect(error.description == message)
        }
    }

    @Test func detectionErrors() throws {
        let d = try COCOFiles.dataset(Self.bytes(Self.gt), file: "gt.json")
        let cases: [(String, String)] = [
            ("{}", "p.json:1: expected a list of detections (a COCO results file), found an object"),
            ("[\n{\"image_id\": 9, \"category_id\": 3, \"bbox\": [0, 0, 1, 1], \"score\": 1}]",
             "p.json:2: detection 0: image_id 9 is not an image of the ground truth"),
            ("[{\"image_id\": 1, \"category_id\": 3, \"bbox\": [0, 0, 1, 1]}]", "p.json:1: detection 0: score must be a number (missing)"),
            ("[{\"image_id\": 1, \"category_id\": 3, \"bbox\": [0, 0, -1, 1], \"score\": 1}]",
             "p.json:1: detection 0: bbox width and height must not be negative"),
        ]
        for (input, message) in cases {
            do {
                _ = try COCOFiles.detections(Self.bytes(input), file: "p.json", dataset: d)
                Issue.record("no error for \(input)")
            } catch {
                #expect(error.description == message)
            }
        }
    }

    @Test func readsLabelLines() throws {
        let text = "{\"id\": 1, \"label\": \"cat\", \"score\": 0.5}\n\n{\"id\": \"b\", \"label\": [\"x\", \"y\"]}\r\n{\"id\": 3, \"label\": null}\n"
        let records = try LabelFiles.records(Self.bytes(text), file: "gt.jsonl", field: .label)
        #expect(records.map(\.id) == ["1", "b", "3"])
        #expect(records.map(\.line) == [1, 3, 4])
        #expect(records[0].labels == ["cat"] && records[0].score == 0.5)
        #expect(records[1].isChecklist && records[1].labels == ["x", "y"])
        #expect(records[2].labels.isEmpty)
        let texts = try LabelFiles.records(Self.bytes("{\"id\": 7, \"text\": \"a\\nb \\u00e9\\ud83d\\ude00\"}"), file: "t.jsonl", field: .text)
        #expect(texts[0].text == "a\nb é😀")
    }

    @Test func labelLineErrors() {
        let cases: [(String, String)] = [
            ("{\"id\": 1, \"label\": \"a\"}\n{\"id\": 1, \"label\": \"b\"}", "gt.jsonl:2: duplicate id \"1\" (first on line 1)"),
            ("{\"id\": 1, \"label\": \"a\"}\n\n{\"label\": \"b\"}", "gt.jsonl:3: missing \"id\""),
            ("{\"id\": 1, \"label\": 3}", "gt.jsonl:1: label must be a string or a list of strings, found a number"),
            ("{\"id\": 1, \"label\": \"a\"\n", "gt.jsonl:1: unexpected end of file in an object"),
            ("[1]", "gt.jsonl:1: expected an object, found an array"),
        ]
        for (input, message) in cases {
            do {
                _ = try LabelFiles.records(Self.bytes(input), file: "gt.jsonl", field: .label)
                Issue.record("no error for \(input)")
            } catch {
                #expect(error.description == message)
            }
        }
        let truth = [LabelRecord(id: "1", line: 1, labels: ["a"], isChecklist: false)]
        let stray = [LabelRecord(id: "2", line: 5, labels: ["a"], isChecklist: false)]
        #expect(throws: InputError(file: "p.jsonl", line: 5, "id \"2\" is not in the ground truth")) {
            try LabelFiles.align(truth: truth, predictions: stray, predictionFile: "p.jsonl")
        }
    }
}
