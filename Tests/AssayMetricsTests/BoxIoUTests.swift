import AssayMetrics
import Foundation
import Testing

/// Box IoU against pycocotools' `maskUtils.iou` (Fixtures/make_iou_fixtures.py).
@Suite("Box IoU")
struct BoxIoUTests {
    struct Case: Decodable, Sendable, CustomTestStringConvertible {
        var name: String
        var detections: [[Double]]
        var truth: [[Double]]
        var crowd: [Bool]
        var iou: [[Double]]
        var testDescription: String { name }
    }

    struct File: Decodable { var cases: [Case] }

    static let cases: [Case] = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast()
        let path = parts.joined(separator: "/") + "/Fixtures/iou.json"
        let data = FileManager.default.contents(atPath: path) ?? Data()
        return (try? JSONDecoder().decode(File.self, from: data))?.cases ?? []
    }()

    static func boxes(_ rows: [[Double]]) -> [Box] {
        rows.map { Box(x: $0[0], y: $0[1], width: $0[2], height: $0[3]) }
    }

    @Test func fixturesAreThere() {
        #expect(Self.cases.count == 5)
    }

    @Test(arguments: cases)
    func matchesPycocotools(_ c: Case) {
        let got = BoxIoU.matrix(detections: Self.boxes(c.detections), truth: Self.boxes(c.truth), crowd: c.crowd)
        #expect(got.count == c.iou.count)
        for (row, expected) in zip(got, c.iou) {
            #expect(row.count == expected.count)
            for (a, b) in zip(row, expected) { #expect(abs(a - b) <= 1e-12, "\(a) vs \(b)") }
        }
    }
}
