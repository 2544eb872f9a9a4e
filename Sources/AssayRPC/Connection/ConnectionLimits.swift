/// The limits one side of a connection enforces and announces in its SETTINGS frame.
public struct ConnectionLimits: Sendable, Hashable {
    /// Largest frame body accepted, so also the largest message. Protocol default: 4 MiB.
    public var maxFrameSize: Int = 4 << 20
    /// Calls the peer may have open at once on this connection.
    public var maxConcurrentStreams: Int = 1024
    /// DATA bytes a stream may send before the receiver grants more.
    public var initialStreamWindow: Int = 1 << 20
    /// DATA bytes all streams together may send before the receiver grants more.
    public var initialConnectionWindow: Int = 8 << 20
    /// How long a new connection may take to send its preface and SETTINGS.
    public var handshakeTimeoutNanoseconds: UInt64 = 10_000_000_000
    /// A connection with no open call and no frame for this long is closed. 0 = never.
    public var idleTimeoutNanoseconds: UInt64 = 300_000_000_000
    /// When more than this many bytes wait to be written, stop reading the peer until they drain.
    public var maxPendingOutboundBytes: Int = 16 << 20

    public init() {}

    /// The protocol defaults for the values a peer leaves at zero in its SETTINGS.
    static let protocolDefaults = ConnectionLimits()
}
