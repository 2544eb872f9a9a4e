import AssayRPC
import AssayWire
import Testing

@testable import AssayFuzzing

/// The committed seed corpus of every fuzz target, replayed through the same checks libFuzzer
/// runs: each input must pass, so a change that breaks an invariant on any of them fails here
/// without a fuzzing run.
@Suite("Fuzz corpus replay")
struct CorpusReplayTests {
    /// Tests/Fuzz/<target>/corpus, found from this file.
    static func corpus(_ target: String) -> [(name: String, bytes: [UInt8])] {
        let file = #filePath
        let tests = String(file[..<file.lastIndex(of: "/")!].dropLast("/AssayFuzzingTests".count))
        let folder = tests + "/Fuzz/" + target + "/corpus"
        let names = FuzzDriver.directoryEntries(folder) ?? []
        return names.sorted().map { ($0, FuzzDriver.readFile(folder + "/" + $0) ?? []) }
    }

    static func replay(_ target: String, _ check: FuzzCheck, atLeast minimum: Int) {
        let inputs = corpus(target)
        #expect(inputs.count >= minimum, "the \(target) corpus has \(inputs.count) inputs")
        for (name, bytes) in inputs {
            #expect(throws: Never.self, "\(target)/\(name)") {
                try bytes.withUnsafeBytes { buffer throws in try check(buffer) }
            }
        }
    }

    @Test func frameDecoderCorpus() { Self.replay("FrameDecoder", FrameDecoderFuzz.check, atLeast: 10) }

    @Test func connectionCorpus() { Self.replay("Connection", ConnectionFuzz.check, atLeast: 15) }

    @Test func requestCorpus() {
        Self.replay("Requests", RequestFuzz.check, atLeast: RequestFuzz.requestTypes.count * 2)
    }

    @Test("every request type of the contract has seeds, chosen by its two-byte prefix")
    func everyRequestTypeIsSeeded() throws {
        let methods = AssayContract.services.flatMap(\.methods)
        #expect(RequestFuzz.requestTypes.count == Set(methods.map(\.inputType)).count)
        let names = RequestFuzz.requestTypes.map { $0.protoMessageName }
        #expect(names == names.sorted())
        // make-seeds.py names each seed after its type: its prefix must pick that type here.
        var seeded = Set<String>()
        for (name, bytes) in Self.corpus("Requests") {
            guard let dash = name.lastIndex(of: "-"), let type = AssayContract.messageTypes[String(name[..<dash])]
            else { continue }
            seeded.insert(type.protoMessageName)
            #expect(Array(bytes.prefix(2)) == RequestFuzz.prefix(for: type), "\(name) decodes as another type")
        }
        #expect(seeded == Set(names), "request types without seeds: \(Set(names).subtracting(seeded).sorted())")
        let echo = try #require(AssayContract.messageTypes["assay.v1.EchoRequest"])
        #expect(ObjectIdentifier(echo) == ObjectIdentifier(EchoRequest.self))
        let nested = try #require(AssayContract.messageTypes["assay.v1.AllTypes.Nested"])
        #expect(ObjectIdentifier(nested) == ObjectIdentifier(AllTypes.Nested.self))
    }
}
