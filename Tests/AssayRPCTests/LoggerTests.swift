import AssayRPC
import AssayWire
import Testing

@Suite("Logger")
struct LoggerTests {
    @Test func jsonLinesParseBackToWhatWasLogged() throws {
        let sink = CapturingSink()
        let logger = Logger(label: "test", level: .debug, format: .json, sink: sink).with("org", "org_1")
        let awkward = "a \"quoted\" \\ back\nslash\ttab \u{01} ctrl é"
        logger.warning(awkward, [("detail", awkward), ("msg", "a field may not replace the message")])
        logger.debug("quiet")
        let lines = sink.captured
        #expect(lines.count == 2)
        let object = try JSONValue.parse(lines[0])
        #expect(object["level"] == .string("warning"))
        #expect(object["logger"] == .string("test"))
        #expect(object["msg"] == .string(awkward))
        #expect(object["detail"] == .string(awkward))
        #expect(object["org"] == .string("org_1"))
        #expect(object.objectFields?.filter { $0.key == "msg" }.count == 1)
        #expect(!lines[0].contains("\n"))
    }

    @Test func belowTheLevelNothingIsWritten() {
        let sink = CapturingSink()
        let logger = Logger(label: "test", level: .warning, format: .json, sink: sink)
        logger.info("dropped")
        #expect(sink.captured.isEmpty)
    }
}
