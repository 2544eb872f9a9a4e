import AssayWire

/// The frame decoder against hostile byte streams.
///
/// Input: one byte choosing the maximum frame size (0 to 4,080 bytes in steps of 16, so that
/// oversized frames are common), one byte seeding how the stream is split into reads, then the
/// stream. Invariants: the decoder gives the same events and ends in the same state whether
/// the stream comes all at once, byte by byte or in random splits; every frame it emits is
/// within the limit and re-encodes to exactly the bytes it was read from; every oversized
/// report names a length over the limit; and it is at a frame boundary exactly when the
/// stream ends on one.
package enum FrameDecoderFuzz {
    /// Checks one input.
    package static func check(_ input: UnsafeRawBufferPointer) throws {
        guard input.count >= 2 else { return }
        let maxFrameSize = Int(input[0]) * 16
        let stream = UnsafeRawBufferPointer(rebasing: input[2...])
        let whole = decode(stream, maxFrameSize: maxFrameSize, chunkSizes: [stream.count])
        let bytewise = decode(stream, maxFrameSize: maxFrameSize, chunkSizes: Array(repeating: 1, count: stream.count))
        var random = SplitMix64(seed: UInt64(input[1]))
        var sizes: [Int] = []
        var total = 0
        while total < stream.count {
            let size = 1 + Int(random.next() % UInt64(min(stream.count - total, 40)))
            sizes.append(size)
            total += size
        }
        let split = decode(stream, maxFrameSize: maxFrameSize, chunkSizes: sizes)
        guard bytewise == whole else {
            throw FuzzFinding("byte-by-byte decoding differs from one read: \(bytewise) vs \(whole)")
        }
        guard split == whole else {
            throw FuzzFinding("decoding in reads of \(sizes) differs from one read: \(split) vs \(whole)")
        }
        try checkAgainstStream(whole, stream, maxFrameSize: maxFrameSize)
    }

    /// What decoding one stream produced.
    struct Outcome: Equatable, CustomStringConvertible {
        var events: [FrameDecoder.Event]
        var atFrameBoundary: Bool

        var description: String { "\(events.count) events, at boundary: \(atFrameBoundary)" }
    }

    static func decode(_ stream: UnsafeRawBufferPointer, maxFrameSize: Int, chunkSizes: [Int]) -> Outcome {
        var decoder = FrameDecoder(maxFrameSize: maxFrameSize)
        var events: [FrameDecoder.Event] = []
        var offset = 0
        for size in chunkSizes {
            decoder.feed(UnsafeRawBufferPointer(rebasing: stream[offset..<offset + size])) { events.append($0) }
            offset += size
        }
        return Outcome(events: events, atFrameBoundary: decoder.isAtFrameBoundary)
    }

    /// Walks the stream with the events: each must account for exactly the bytes it came from.
    static func checkAgainstStream(
        _ outcome: Outcome, _ stream: UnsafeRawBufferPointer, maxFrameSize: Int
    ) throws {
        var offset = 0
        for event in outcome.events {
            guard stream.count - offset >= Frame.headerSize else {
                throw FuzzFinding("an event at offset \(offset) with no whole header left in the stream")
            }
            var header: [UInt8] = []
            switch event {
            case .frame(let frame):
                guard frame.body.count <= maxFrameSize else {
                    throw FuzzFinding("a frame of \(frame.body.count) bytes passed the limit of \(maxFrameSize)")
                }
                let encoded = frame.encoded()
                guard encoded.count <= stream.count - offset,
                    encoded.elementsEqual(stream[offset..<offset + encoded.count])
                else {
                    throw FuzzFinding("the frame at offset \(offset) does not re-encode to its bytes: \(frame)")
                }
                offset += encoded.count
            case .oversized(let type, let flags, let streamID, let length):
                guard length > maxFrameSize else {
                    throw FuzzFinding("a frame of \(length) bytes reported over the limit of \(maxFrameSize)")
                }
                Frame.appendHeader(to: &header, length: length, type: type, flags: flags, streamID: streamID)
                guard header.elementsEqual(stream[offset..<offset + Frame.headerSize]) else {
                    throw FuzzFinding("the oversized report at offset \(offset) does not match its header")
                }
                offset += Frame.headerSize + length
            case .refused(let type, _, let streamID, let length):
                // This decoder is fed without an admission check, which admits every frame.
                throw FuzzFinding("a \(type) frame of \(length) bytes on stream \(streamID) refused with no admission check")
            }
        }
        // What is left is one frame the stream has not finished (or the skipped end of one).
        let ended = offset == stream.count
        guard outcome.atFrameBoundary == ended else {
            throw FuzzFinding(
                "at frame boundary: \(outcome.atFrameBoundary), but the events end at \(offset) of \(stream.count)"
            )
        }
        if offset < stream.count && stream.count - offset >= Frame.headerSize {
            let p = stream[offset..<offset + 4]
            let length = p.reduce(0) { $0 << 8 | Int($1) }
            guard length <= maxFrameSize, Frame.headerSize + length > stream.count - offset else {
                throw FuzzFinding("a whole frame of \(length) bytes at offset \(offset) produced no event")
            }
        }
    }
}

/// A small, fast, seedable generator (SplitMix64), so a split is a function of the input.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
