/// Turns a byte stream into frames, whatever way the stream is split into reads.
///
/// The length in a header is checked against `maxFrameSize` before any byte of the body is
/// kept: an oversized body is skipped as it arrives and reported once, so a peer cannot make
/// the receiver buffer more than one maximum frame.
public struct FrameDecoder: Sendable {
    /// What the decoder found.
    public enum Event: Sendable, Hashable {
        case frame(Frame)
        /// A header announced `length` bytes, more than allowed; its body is being skipped.
        case oversized(type: FrameType, flags: FrameFlags, streamID: UInt32, length: Int)
        /// The `admit` check of `feed` turned the frame down; its body is being skipped.
        case refused(type: FrameType, flags: FrameFlags, streamID: UInt32, length: Int)
    }

    /// Asked once per frame with a body within `maxFrameSize`, when its header is complete and
    /// before a byte of the body is kept: false skips the body (reported as `.refused`).
    public typealias Admission = (_ type: FrameType, _ streamID: UInt32, _ length: Int) -> Bool

    private enum State: Sendable {
        case header
        case body(type: FrameType, flags: FrameFlags, streamID: UInt32, remaining: Int)
        case skipping(remaining: Int)
    }

    public let maxFrameSize: Int
    private var state: State = .header
    private var header: [UInt8] = []
    private var body: [UInt8] = []

    public init(maxFrameSize: Int) {
        self.maxFrameSize = maxFrameSize
        header.reserveCapacity(Frame.headerSize)
    }

    /// True when no partial frame is pending (a clean place for the stream to end).
    public var isAtFrameBoundary: Bool {
        if case .header = state { return header.isEmpty }
        return false
    }

    /// Consumes all of `bytes`, calling `emit` for each complete frame, in order.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, emit: (Event) throws -> Void) rethrows {
        try feed(bytes, admit: { _, _, _ in true }, emit: emit)
    }

    /// Consumes all of `bytes`, asking `admit` before buffering each body (a memory budget),
    /// and calling `emit` for each complete frame, in order.
    public mutating func feed(
        _ bytes: UnsafeRawBufferPointer, admit: Admission, emit: (Event) throws -> Void
    ) rethrows {
        var index = 0
        let count = bytes.count
        while index < count {
            switch state {
            case .header:
                // Fast path: a whole header available and none pending.
                if header.isEmpty && count - index >= Frame.headerSize {
                    let p = bytes.baseAddress!.advanced(by: index).assumingMemoryBound(to: UInt8.self)
                    index += Frame.headerSize
                    try begin(headerAt: p, admit: admit, emit: emit)
                } else {
                    header.append(bytes[index])
                    index += 1
                    if header.count == Frame.headerSize {
                        let h = header
                        header.removeAll(keepingCapacity: true)
                        try h.withUnsafeBufferPointer { try begin(headerAt: $0.baseAddress!, admit: admit, emit: emit) }
                    }
                }
            case .body(let type, let flags, let streamID, let remaining):
                let take = min(remaining, count - index)
                body.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[index..<(index + take)]))
                index += take
                if take == remaining {
                    state = .header
                    let frame = Frame(type: type, flags: flags, streamID: streamID, body: body)
                    body = []
                    try emit(.frame(frame))
                } else {
                    state = .body(type: type, flags: flags, streamID: streamID, remaining: remaining - take)
                }
            case .skipping(let remaining):
                let take = min(remaining, count - index)
                index += take
                state = take == remaining ? .header : .skipping(remaining: remaining - take)
            }
        }
    }

    /// Forgets a partial frame and its buffer (the connection is closing).
    public mutating func reset() {
        state = .header
        header = []
        body = []
    }

    private mutating func begin(
        headerAt p: UnsafePointer<UInt8>, admit: Admission, emit: (Event) throws -> Void
    ) rethrows {
        let length = Int(UInt32(p[0]) << 24 | UInt32(p[1]) << 16 | UInt32(p[2]) << 8 | UInt32(p[3]))
        let type = FrameType(rawValue: p[4])
        let flags = FrameFlags(rawValue: p[5])
        let streamID = UInt32(p[6]) << 24 | UInt32(p[7]) << 16 | UInt32(p[8]) << 8 | UInt32(p[9])
        if length > maxFrameSize {
            state = length == 0 ? .header : .skipping(remaining: length)
            try emit(.oversized(type: type, flags: flags, streamID: streamID, length: length))
        } else if length == 0 {
            state = .header
            try emit(.frame(Frame(type: type, flags: flags, streamID: streamID)))
        } else if !admit(type, streamID, length) {
            state = .skipping(remaining: length)
            try emit(.refused(type: type, flags: flags, streamID: streamID, length: length))
        } else {
            body = []
            body.reserveCapacity(length)
            state = .body(type: type, flags: flags, streamID: streamID, remaining: length)
        }
    }
}
