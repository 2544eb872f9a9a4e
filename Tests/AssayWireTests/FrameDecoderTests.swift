import AssayWire
import Testing

@Suite("Frame decoder")
struct FrameDecoderTests {
    /// A mix of frames: empty bodies, a large one, every type.
    static let frames: [Frame] = [
        Frame(type: .settings, streamID: 0, body: [8, 1]),
        Frame(type: .headers, streamID: 1, body: Array("/assay.v1.Echo/Unary".utf8)),
        Frame(type: .data, flags: .endStream, streamID: 1, body: []),
        Frame(type: .data, streamID: 3, body: (0..<70_000).map { UInt8(truncatingIfNeeded: $0 * 7) }),
        Frame(type: .windowUpdate, streamID: 0, body: [0, 0, 1, 0]),
        Frame(type: .ping, flags: .ack, streamID: 0, body: [1, 2, 3, 4, 5, 6, 7, 8]),
        Frame(type: FrameType(rawValue: 200), streamID: 9, body: [9]),
        Frame(type: .trailers, streamID: 3, body: [8, 0]),
    ]

    static var stream: [UInt8] { frames.flatMap { $0.encoded() } }

    func decode(_ chunks: [[UInt8]], max: Int = 1 << 20) -> [FrameDecoder.Event] {
        var decoder = FrameDecoder(maxFrameSize: max)
        var events: [FrameDecoder.Event] = []
        for chunk in chunks {
            chunk.withUnsafeBytes { decoder.feed($0) { events.append($0) } }
        }
        #expect(decoder.isAtFrameBoundary)
        return events
    }

    @Test func oneChunk() {
        #expect(decode([Self.stream]) == Self.frames.map { .frame($0) })
    }

    @Test func byteByByte() {
        #expect(decode(Self.stream.map { [$0] }) == Self.frames.map { .frame($0) })
    }

    @Test(arguments: [1, 2, 3, 42, 1234])
    func randomSplits(seed: UInt64) {
        var rng = SplitMix(seed: seed)
        let bytes = Self.stream
        var chunks: [[UInt8]] = []
        var i = 0
        while i < bytes.count {
            let n = Int(rng.next() % 3000) + 1
            chunks.append(Array(bytes[i..<min(i + n, bytes.count)]))
            i += n
        }
        #expect(decode(chunks) == Self.frames.map { .frame($0) })
    }

    @Test func oversizedFramesAreReportedAndSkippedWithoutBuffering() {
        let big = Frame(type: .data, streamID: 5, body: [UInt8](repeating: 0xAB, count: 10_000))
        let small = Frame(type: .data, streamID: 7, body: [1, 2, 3])
        let bytes = big.encoded() + small.encoded()
        // Byte by byte, too: the oversized body is never kept, whatever the split.
        for chunks in [[bytes], bytes.map { [$0] }] {
            let events = decode(chunks, max: 1000)
            #expect(events == [.oversized(type: .data, flags: [], streamID: 5, length: 10_000), .frame(small)])
        }
    }

    @Test func refusedBodiesAreSkippedWithoutBufferingAndAskedAboutOnce() {
        let first = Frame(type: .data, streamID: 5, body: [UInt8](repeating: 0xAB, count: 5_000))
        let second = Frame(type: .data, streamID: 7, body: [1, 2, 3])
        let empty = Frame(type: .ping, streamID: 0, body: [])
        let bytes = first.encoded() + empty.encoded() + second.encoded()
        for chunks in [[bytes], bytes.map { [$0] }] {
            var decoder = FrameDecoder(maxFrameSize: 1 << 20)
            var asked: [(UInt32, Int)] = []
            var events: [FrameDecoder.Event] = []
            for chunk in chunks {
                chunk.withUnsafeBytes { buffer in
                    decoder.feed(buffer, admit: { _, stream, length in
                        asked.append((stream, length))
                        return stream != 5
                    }) { events.append($0) }
                }
            }
            // Asked once per frame with a body, before the body; an empty frame is not asked about.
            #expect(asked.map(\.0) == [5, 7] && asked.map(\.1) == [5_000, 3])
            #expect(events == [.refused(type: .data, flags: [], streamID: 5, length: 5_000), .frame(empty), .frame(second)])
            #expect(decoder.isAtFrameBoundary)
        }
    }

    @Test func headerLayoutIsBigEndian() {
        let f = Frame(type: .headers, flags: .endStream, streamID: 0x0102_0304, body: [0xAA, 0xBB])
        #expect(f.encoded() == [0, 0, 0, 2, 1, 1, 1, 2, 3, 4, 0xAA, 0xBB])
    }

    @Test func prefaceParsing() {
        #expect(Preface().bytes == [0x41, 0x53, 0x53, 0x41, 0x59, 0x00, 0x00, 0x01])
        #expect(Preface.parse(Preface().bytes) == .success(Preface()))
        #expect(Preface.parse(Array("GET / HT".utf8)) == .failure(.badMagic))
        #expect(Preface.parse(Preface(version: 9).bytes) == .failure(.unsupportedVersion(9)))
    }
}

/// A small deterministic generator, so a failing split can be replayed from its seed.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
