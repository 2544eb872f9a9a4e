/// One frame of Assay's framed TCP protocol (docs/protocol.md, "Frames").
///
/// Every frame is a 10-byte header — body length (u32, big-endian), type (u8), flags (u8),
/// stream id (u32, big-endian) — followed by `length` bytes of body.
public struct Frame: Sendable, Hashable {
    /// The header's size in bytes.
    public static let headerSize = 10

    public var type: FrameType
    public var flags: FrameFlags
    public var streamID: UInt32
    public var body: [UInt8]

    public init(type: FrameType, flags: FrameFlags = [], streamID: UInt32, body: [UInt8] = []) {
        self.type = type
        self.flags = flags
        self.streamID = streamID
        self.body = body
    }

    /// The frame's bytes on the wire: header then body.
    public func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Frame.headerSize + body.count)
        Frame.appendHeader(to: &bytes, length: body.count, type: type, flags: flags, streamID: streamID)
        bytes.append(contentsOf: body)
        return bytes
    }

    /// Appends a frame header; callers append exactly `length` body bytes after it.
    public static func appendHeader(
        to bytes: inout [UInt8], length: Int, type: FrameType, flags: FrameFlags, streamID: UInt32
    ) {
        let length = UInt32(length)
        bytes.append(UInt8(truncatingIfNeeded: length >> 24))
        bytes.append(UInt8(truncatingIfNeeded: length >> 16))
        bytes.append(UInt8(truncatingIfNeeded: length >> 8))
        bytes.append(UInt8(truncatingIfNeeded: length))
        bytes.append(type.rawValue)
        bytes.append(flags.rawValue)
        bytes.append(UInt8(truncatingIfNeeded: streamID >> 24))
        bytes.append(UInt8(truncatingIfNeeded: streamID >> 16))
        bytes.append(UInt8(truncatingIfNeeded: streamID >> 8))
        bytes.append(UInt8(truncatingIfNeeded: streamID))
    }

    /// Overwrites the length field of a header that starts at `offset` (for bodies encoded in place).
    public static func patchLength(in bytes: inout [UInt8], headerAt offset: Int, length: Int) {
        let length = UInt32(length)
        bytes[offset] = UInt8(truncatingIfNeeded: length >> 24)
        bytes[offset + 1] = UInt8(truncatingIfNeeded: length >> 16)
        bytes[offset + 2] = UInt8(truncatingIfNeeded: length >> 8)
        bytes[offset + 3] = UInt8(truncatingIfNeeded: length)
    }
}

/// What a frame carries. Unknown types are skipped by receivers, so new types can be added.
public struct FrameType: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// One serialized request or response message.
    public static let data = FrameType(rawValue: 0)
    /// A `CallStart`: opens a stream (client to server).
    public static let headers = FrameType(rawValue: 1)
    /// A `CallEnd`: status and trailing metadata, ends a stream (server to client).
    public static let trailers = FrameType(rawValue: 2)
    /// A `Cancel`: abandons one stream (either direction).
    public static let cancel = FrameType(rawValue: 3)
    /// A 4-byte big-endian window increment; stream 0 is the connection's window.
    public static let windowUpdate = FrameType(rawValue: 4)
    /// A `Settings`, once per direction right after the preface, stream 0.
    public static let settings = FrameType(rawValue: 5)
    /// 8 opaque bytes, echoed back with the ACK flag.
    public static let ping = FrameType(rawValue: 6)
    /// A `GoAway`, stream 0: no new streams; the connection closes once the open ones end.
    public static let goAway = FrameType(rawValue: 7)

    public var description: String {
        switch self {
        case .data: "DATA"
        case .headers: "HEADERS"
        case .trailers: "TRAILERS"
        case .cancel: "CANCEL"
        case .windowUpdate: "WINDOW_UPDATE"
        case .settings: "SETTINGS"
        case .ping: "PING"
        case .goAway: "GOAWAY"
        default: "UNKNOWN(\(rawValue))"
        }
    }
}

/// Frame flags. Each bit's meaning depends on the frame type.
public struct FrameFlags: OptionSet, Sendable, Hashable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// On DATA and HEADERS: the sender sends nothing more on this stream.
    public static let endStream = FrameFlags(rawValue: 0x01)
    /// On PING: this is the answer.
    public static let ack = FrameFlags(rawValue: 0x01)
    /// On DATA with END_STREAM: the frame carries no message, it only ends the stream.
    public static let noMessage = FrameFlags(rawValue: 0x02)
}
