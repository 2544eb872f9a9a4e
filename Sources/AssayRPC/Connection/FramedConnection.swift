import AssayTransport
import AssayWire
import AssaySync

/// What a connection tells its owner. Called without the connection's lock held.
protocol ConnectionEvents: AnyObject, Sendable {
    /// The peer's preface and SETTINGS arrived: calls may start.
    func connectionReady(_ connection: FramedConnection)
    /// Server side: a client opened a call.
    func incomingCall(_ call: IncomingCall, on connection: FramedConnection)
    /// The connection is gone; every stream on it has failed or finished.
    func connectionClosed(_ connection: FramedConnection, reason: RPCError?)
}

/// A call opened by the client, as the server's connection sees it.
struct IncomingCall: Sendable {
    let stream: StreamRecord
    let method: String
    let metadata: Metadata
    let timeoutNanoseconds: UInt64?
}

/// Assay's multiplexing protocol over one byte channel: handshake, frames, streams, flow
/// control, ping and GOAWAY, for either role.
///
/// Reads arrive on the channel's loop thread and are decoded there; writes come from any
/// thread. All protocol state sits behind one lock held only for bookkeeping, never across
/// a syscall or an await; continuations are resumed after it is released.
final class FramedConnection: ByteChannelDelegate, @unchecked Sendable {
    // @unchecked: `decoder`, `preface`, `lastActivity`, `partialFrameSince` and `decoderCharge`
    // are touched only on the loop thread (channelRead, channelClosed and timers); all other
    // mutable state is inside `state`.
    enum Role: Sendable { case client, server }

    enum Phase: Sendable, Equatable {
        case awaitingPreface
        case awaitingSettings
        case open
        /// GOAWAY sent or received: no new streams.
        case draining
        case closed
    }

    struct State: ~Copyable {
        var phase: Phase = .awaitingPreface
        var streams: [UInt32: StreamRecord] = [:]
        /// Server: the highest stream id accepted. Client: the last id used.
        var lastStreamID: UInt32 = 0
        var peerLimits = ConnectionLimits.protocolDefaults
        var connectionSendWindow: Int
        var connectionReceiveWindow: Int
        var connectionPendingCredit = 0
        /// Streams waiting for the connection's send window.
        var connectionWindowWaiters: [StreamRecord] = []
        var outbound: [UInt8] = []
        var flushing = false
        var awaitingWritable = false
        var readingPaused = false
        var closeAfterFlush = false
        var pingWaiters: [UInt64: CheckedContinuation<Void, any Error>] = [:]
        var nextPing: UInt64 = 1
        var closeReason: RPCError?
        /// Server: in-flight handlers, to close a draining connection once they are done.
        var activeHandlers = 0
    }

    let channel: any ByteChannel
    let role: Role
    let limits: ConnectionLimits
    let state: Lock<State>
    private var decoder: FrameDecoder
    private var preface: [UInt8] = []
    /// When the last HEADERS, DATA or TRAILERS frame arrived (a call made progress). Bytes of
    /// a frame still arriving, PINGs and WINDOW_UPDATEs do not count: a peer dribbling them
    /// cannot keep an idle connection open.
    private var lastActivity = MonotonicClock.nanoseconds()
    /// When the frame the decoder holds part of began arriving (nil at a frame boundary).
    private var partialFrameSince: UInt64?
    /// Budget bytes reserved for the frame body the decoder is collecting.
    private var decoderCharge = 0
    private var handshakeTimer: ScheduledTimer?
    let events: any ConnectionEvents
    /// Server side: the memory budget every connection's buffered inbound bytes count against.
    let budget: InboundMemoryBudget?

    init(
        channel: any ByteChannel, role: Role, limits: ConnectionLimits, events: any ConnectionEvents,
        budget: InboundMemoryBudget? = nil
    ) {
        self.channel = channel
        self.role = role
        self.limits = limits
        self.events = events
        self.budget = budget
        self.decoder = FrameDecoder(maxFrameSize: limits.maxFrameSize)
        let defaults = ConnectionLimits.protocolDefaults
        self.state = Lock(State(
            connectionSendWindow: defaults.initialConnectionWindow,
            connectionReceiveWindow: limits.initialConnectionWindow
        ))
    }

    var peerDescription: String { channel.peerDescription }

    /// Sends the preface and SETTINGS, then starts reading.
    func start() {
        state.withLock { s in
            s.outbound.append(contentsOf: Preface().bytes)
            appendFrame(&s, type: .settings, flags: [], streamID: 0, body: ControlBodies.settings(limits))
        }
        flush()
        // The timer is set before the channel starts: from then on the loop thread reads
        // `handshakeTimer` (channelRead cancels it), and setting it afterwards from this thread
        // raced with that read (found by make tsan).
        let timeout = limits.handshakeTimeoutNanoseconds
        handshakeTimer = channel.scheduler.schedule(afterNanoseconds: timeout) { [self] in
            let stillWaiting = state.withLock { $0.phase == .awaitingPreface || $0.phase == .awaitingSettings }
            if stillWaiting { fail(RPCError(.unavailable, "handshake timed out"), goAway: .unavailable) }
        }
        channel.start(delegate: self)
        if limits.idleTimeoutNanoseconds > 0 { scheduleIdleCheck() }
    }

    /// Closes the connection when it has had no call and no HEADERS or DATA frame for the idle
    /// timeout, or when one frame has taken longer than the idle timeout to arrive (whatever
    /// calls are open): a slow sender cannot hold a frame buffer or a connection for ever.
    private func scheduleIdleCheck() {
        let period = max(limits.idleTimeoutNanoseconds / 4, 10_000_000)
        channel.scheduler.schedule(afterNanoseconds: period) { [self] in
            let (closed, idle) = state.withLock { s in
                (s.phase == .closed, s.streams.isEmpty && s.activeHandlers == 0)
            }
            if closed { return }
            let now = MonotonicClock.nanoseconds()
            if let since = partialFrameSince, now - since >= limits.idleTimeoutNanoseconds {
                let error = RPCError(.unavailable, "a frame took longer than the idle timeout to arrive")
                fail(error, goAway: .unavailable)
                return
            }
            if idle && now - lastActivity >= limits.idleTimeoutNanoseconds {
                fail(RPCError(.unavailable, "idle connection closed"), goAway: .ok)
                return
            }
            scheduleIdleCheck()
        }
    }

    // MARK: reading (loop thread)

    func channelRead(_ bytes: UnsafeRawBufferPointer) {
        var rest = bytes
        if preface.count < Preface.size {
            let take = min(Preface.size - preface.count, rest.count)
            preface.append(contentsOf: rest[0..<take])
            rest = UnsafeRawBufferPointer(rebasing: rest[take...])
            guard preface.count == Preface.size else { return }
            switch Preface.parse(preface) {
            case .success:
                state.withLock { s in if s.phase == .awaitingPreface { s.phase = .awaitingSettings } }
            case .failure(let problem):
                fail(RPCError(.unavailable, problem.description), goAway: .failedPrecondition)
                return
            }
        }
        guard !rest.isEmpty else { return }
        var wakeups = Wakeups()
        var calls: [IncomingCall] = []
        var ready = false
        var protocolError: (RPCError, RPCCode)?
        var framesCompleted = 0
        var callProgress = false
        decoder.feed(rest, admit: admit) { event in
            // The budget bytes of this frame's body; they stay taken only while it is queued.
            var charge = 0
            if case .frame(let frame) = event {
                framesCompleted += 1
                charge = decoderCharge
                decoderCharge = 0
                if [.headers, .data, .trailers].contains(frame.type) { callProgress = true }
            }
            var kept = false
            if protocolError == nil {
                state.withLock { s in
                    // Closed, or closing once the queued bytes are out (a GOAWAY that left no
                    // stream, a protocol error): nothing more is read, so the frames behind the one
                    // that decided it are ignored, the same whichever read they arrive in.
                    if s.phase == .closed || s.closeAfterFlush { return }
                    if let e = handle(event, &s, &wakeups, &calls, &ready, &kept) { protocolError = e }
                }
            }
            if !kept { budget?.release(charge) }
        }
        let now = MonotonicClock.nanoseconds()
        if callProgress { lastActivity = now }
        if decoder.isAtFrameBoundary {
            partialFrameSince = nil
        } else if framesCompleted > 0 || partialFrameSince == nil {
            partialFrameSince = now
        }
        wakeups.run()
        if ready {
            handshakeTimer?.cancel()
            events.connectionReady(self)
        }
        for call in calls { events.incomingCall(call, on: self) }
        if let (error, code) = protocolError { fail(error, goAway: code) }
        flush()
    }

    /// Whether a frame body of `length` bytes may be buffered: asked by the decoder before it
    /// keeps a byte of it. Reserves the bytes in the server's budget (see `InboundMemoryBudget`).
    private func admit(_ type: FrameType, _ streamID: UInt32, _ length: Int) -> Bool {
        guard let budget else { return true }
        if budget.reserve(length) {
            decoderCharge = length
            return true
        }
        if type != .data && type != .headers && length <= InboundMemoryBudget.smallFrameBytes {
            budget.forceReserve(length)
            decoderCharge = length
            return true
        }
        return false
    }

    /// Handles one decoded frame under the lock. Returns a connection error, if any. `kept`
    /// says the frame's body now sits in a stream's queue (its budget bytes go with it).
    private func handle(
        _ event: FrameDecoder.Event, _ s: inout State, _ wakeups: inout Wakeups,
        _ calls: inout [IncomingCall], _ ready: inout Bool, _ kept: inout Bool
    ) -> (RPCError, RPCCode)? {
        let frame: Frame
        switch event {
        case .oversized(let type, _, let streamID, let length), .refused(let type, _, let streamID, let length):
            let error: RPCError
            if case .oversized = event {
                let limit = limits.maxFrameSize
                error = RPCError(.resourceExhausted, "frame of \(length) bytes exceeds the limit of \(limit) bytes")
            } else {
                error = budget?.refusal ?? RPCError(.resourceExhausted, "frame refused")
            }
            guard streamID != 0, type == .data || type == .headers else { return (error, .resourceExhausted) }
            if type == .data {
                // Flow control counts an oversized DATA frame like any other (docs/protocol.md,
                // "Flow control"): refused once the window is spent, else taken from it and,
                // its body being discarded, granted straight back. (Granting it back without
                // taking it let a peer grow the window without bound, and a length near 2^32
                // trapped in appendWindowUpdate.)
                guard s.connectionReceiveWindow > 0 else {
                    let error = RPCError(.resourceExhausted, "DATA beyond the connection's flow-control window")
                    return (error, .resourceExhausted)
                }
                s.connectionReceiveWindow -= length
                s.connectionPendingCredit += length
                creditConnection(&s, force: true)
            }
            if role == .server, type == .headers, streamID > s.lastStreamID { s.lastStreamID = streamID }
            if let stream = s.streams[streamID] {
                resetStream(stream, error, &s, &wakeups, sendCancel: true)
            } else if role == .server {
                appendTrailers(&s, streamID: streamID, status: error, metadata: Metadata())
            }
            return nil
        case .frame(let f):
            frame = f
        }
        if s.phase == .awaitingSettings {
            guard frame.type == .settings, frame.streamID == 0 else {
                return (RPCError(.unavailable, "expected SETTINGS after the preface, got \(frame.type)"), .failedPrecondition)
            }
            guard let peer = try? ControlBodies.parseSettings(frame.body) else {
                return (RPCError(.unavailable, "SETTINGS body is not a valid assay.v1.Settings"), .invalidArgument)
            }
            s.peerLimits = peer
            s.connectionSendWindow = peer.initialConnectionWindow
            s.phase = .open
            ready = true
            return nil
        }
        switch frame.type {
        case .data:
            return receiveData(frame, &s, &wakeups, &kept)
        case .headers:
            guard role == .server else { return (RPCError(.unavailable, "HEADERS from a server"), .failedPrecondition) }
            return receiveHeaders(frame, &s, &calls)
        case .trailers:
            guard role == .client else { return (RPCError(.unavailable, "TRAILERS from a client"), .failedPrecondition) }
            guard let stream = s.streams.removeValue(forKey: frame.streamID) else { return nil }
            stream.deadlineTimer?.cancel()
            if let end = try? ControlBodies.parseCallEnd(frame.body) {
                stream.status = end.status
                stream.trailers = end.metadata
            } else {
                stream.status = RPCError(.internal, "the server sent unreadable TRAILERS")
            }
            stream.remoteEnded = true
            stream.localEnded = true
            if let w = stream.receiveWaiter, !stream.hasInbound {
                stream.receiveWaiter = nil
                wakeups.receives.append((w, .success(nil)))
            }
            failSendWaiter(stream, RPCError(.cancelled, "the call already ended"), &wakeups)
            return nil
        case .cancel:
            guard let stream = s.streams[frame.streamID] else { return nil }
            let body = try? ControlBodies.parseCancel(frame.body)
            let error = role == .server
                ? RPCError(.cancelled, "cancelled by the client")
                : (body ?? RPCError(.cancelled, "cancelled by the server"))
            resetStream(stream, error, &s, &wakeups, sendCancel: false)
            return nil
        case .windowUpdate:
            guard frame.body.count == 4 else { return (RPCError(.unavailable, "WINDOW_UPDATE body must be 4 bytes"), .invalidArgument) }
            let increment = Int(UInt32(frame.body[0]) << 24 | UInt32(frame.body[1]) << 16 | UInt32(frame.body[2]) << 8 | UInt32(frame.body[3]))
            if frame.streamID == 0 {
                s.connectionSendWindow += increment
                if s.connectionSendWindow > Int(Int32.max) { return (RPCError(.unavailable, "connection window overflow"), .invalidArgument) }
                let waiters = s.connectionWindowWaiters
                s.connectionWindowWaiters.removeAll()
                for stream in waiters { failSendWaiter(stream, nil, &wakeups) }
            } else if let stream = s.streams[frame.streamID] {
                stream.sendWindow += increment
                if stream.sendWindow > 0 { failSendWaiter(stream, nil, &wakeups) }
            }
            return nil
        case .settings:
            return (RPCError(.unavailable, "a second SETTINGS frame"), .failedPrecondition)
        case .ping:
            guard frame.body.count == 8 else { return (RPCError(.unavailable, "PING body must be 8 bytes"), .invalidArgument) }
            if frame.flags.contains(.ack) {
                var key: UInt64 = 0
                for b in frame.body { key = key << 8 | UInt64(b) }
                if let w = s.pingWaiters.removeValue(forKey: key) { wakeups.pings.append(w) }
            } else {
                appendFrame(&s, type: .ping, flags: .ack, streamID: 0, body: frame.body)
            }
            return nil
        case .goAway:
            let body = try? ControlBodies.parseGoAway(frame.body)
            let last = body?.lastStreamID ?? 0
            if s.phase == .open { s.phase = .draining }
            if role == .client {
                let code: RPCCode = body.map { $0.code == .ok ? .unavailable : $0.code } ?? .unavailable
                let error = RPCError(code, "the server is going away" + (body.map { $0.message.isEmpty ? "" : ": \($0.message)" } ?? ""))
                s.closeReason = error
                for (id, stream) in s.streams where id > last {
                    resetStream(stream, error, &s, &wakeups, sendCancel: false)
                }
                if s.streams.isEmpty { s.closeAfterFlush = true }
            }
            return nil
        default:
            return nil  // unknown frame types are skipped, so the protocol can grow
        }
    }

    private func receiveHeaders(_ frame: Frame, _ s: inout State, _ calls: inout [IncomingCall]) -> (RPCError, RPCCode)? {
        let id = frame.streamID
        guard id > s.lastStreamID else {
            return (RPCError(.unavailable, "stream id \(id) is not above the last one (\(s.lastStreamID))"), .failedPrecondition)
        }
        s.lastStreamID = id
        if s.phase == .draining {
            appendTrailers(&s, streamID: id, status: RPCError(.unavailable, "the server is shutting down"), metadata: Metadata())
            return nil
        }
        if s.streams.count >= limits.maxConcurrentStreams {
            appendTrailers(&s, streamID: id, status: RPCError(.resourceExhausted, "too many concurrent calls on this connection (limit \(limits.maxConcurrentStreams))"), metadata: Metadata())
            return nil
        }
        guard let start = try? ControlBodies.parseCallStart(frame.body) else {
            appendTrailers(&s, streamID: id, status: RPCError(.invalidArgument, "HEADERS body is not a valid assay.v1.CallStart"), metadata: Metadata())
            return nil
        }
        let stream = StreamRecord(id: id, sendWindow: s.peerLimits.initialStreamWindow, receiveWindow: limits.initialStreamWindow)
        stream.remoteEnded = frame.flags.contains(.endStream)
        s.streams[id] = stream
        s.activeHandlers += 1
        calls.append(IncomingCall(stream: stream, method: start.method, metadata: start.metadata, timeoutNanoseconds: start.timeoutNanoseconds))
        return nil
    }

    private func receiveData(
        _ frame: Frame, _ s: inout State, _ wakeups: inout Wakeups, _ kept: inout Bool
    ) -> (RPCError, RPCCode)? {
        let length = frame.body.count
        let noMessage = frame.flags.contains(.noMessage)
        if !noMessage {
            guard s.connectionReceiveWindow > 0 else {
                return (RPCError(.resourceExhausted, "DATA beyond the connection's flow-control window"), .resourceExhausted)
            }
            s.connectionReceiveWindow -= length
        }
        guard let stream = s.streams[frame.streamID], !stream.remoteEnded, stream.failure == nil else {
            // A stream that ended or was reset: drop the bytes but give the window back.
            if !noMessage {
                s.connectionPendingCredit += length
                creditConnection(&s, force: false)
            }
            return nil
        }
        if !noMessage {
            guard stream.receiveWindow > 0 else {
                s.connectionPendingCredit += length
                resetStream(stream, RPCError(.resourceExhausted, "DATA beyond the stream's flow-control window"), &s, &wakeups, sendCancel: true)
                return nil
            }
            stream.receiveWindow -= length
            stream.inbound.append(frame.body)
            stream.inboundBytes += length
            kept = true
        }
        if frame.flags.contains(.endStream) { stream.remoteEnded = true }
        if let w = stream.receiveWaiter {
            stream.receiveWaiter = nil
            if stream.hasInbound {
                let message = takeInbound(stream, &s)
                wakeups.receives.append((w, .success(message)))
            } else {
                wakeups.receives.append((w, .success(nil)))
            }
        }
        return nil
    }

    // MARK: shared bookkeeping (under the lock)

    /// Hands the stream's next queued message to its reader: its budget bytes are given back
    /// and its window is granted again.
    func takeInbound(_ stream: StreamRecord, _ s: inout State) -> [UInt8] {
        let message = stream.popInbound()
        budget?.release(message.count)
        credit(stream, message.count, &s)
        return message
    }

    /// Grants the peer window for `count` bytes the application took.
    func credit(_ stream: StreamRecord, _ count: Int, _ s: inout State) {
        stream.pendingCredit += count
        s.connectionPendingCredit += count
        if !stream.remoteEnded && stream.pendingCredit >= limits.initialStreamWindow / 2 {
            stream.receiveWindow += stream.pendingCredit
            appendWindowUpdate(&s, streamID: stream.id, increment: stream.pendingCredit)
            stream.pendingCredit = 0
        }
        creditConnection(&s, force: false)
    }

    func creditConnection(_ s: inout State, force: Bool) {
        if s.connectionPendingCredit > 0 && (force || s.connectionPendingCredit >= limits.initialConnectionWindow / 4) {
            s.connectionReceiveWindow += s.connectionPendingCredit
            appendWindowUpdate(&s, streamID: 0, increment: s.connectionPendingCredit)
            s.connectionPendingCredit = 0
        }
    }

    /// Abandons a stream: records the failure, wakes its waiters, cancels its handler.
    func resetStream(_ stream: StreamRecord, _ error: RPCError, _ s: inout State, _ wakeups: inout Wakeups, sendCancel: Bool) {
        if stream.failure == nil { stream.failure = error }
        stream.deadlineTimer?.cancel()
        dropInbound(stream, &s)
        if let w = stream.receiveWaiter {
            stream.receiveWaiter = nil
            wakeups.receives.append((w, .failure(error)))
        }
        failSendWaiter(stream, error, &wakeups)
        wakeups.cancellations.append(stream)
        if sendCancel {
            if role == .server {
                if !stream.localEnded {
                    stream.localEnded = true
                    appendTrailers(&s, streamID: stream.id, status: error, metadata: Metadata())
                }
            } else if stream.status == nil && !stream.cancelSent {
                // Even after END_STREAM the server may still be working: tell it to stop.
                stream.cancelSent = true
                stream.localEnded = true
                appendFrame(&s, type: .cancel, flags: [], streamID: stream.id, body: ControlBodies.cancel(error))
            }
        }
        if role == .client { s.streams[stream.id] = nil }
    }

    /// Drops the messages a stream will never read; their window goes back to the connection.
    func dropInbound(_ stream: StreamRecord, _ s: inout State) {
        guard stream.inboundBytes > 0 else { return }
        budget?.release(stream.inboundBytes)
        s.connectionPendingCredit += stream.inboundBytes
        stream.inbound.removeAll()
        stream.inboundHead = 0
        stream.inboundBytes = 0
        creditConnection(&s, force: false)
    }

    func failSendWaiter(_ stream: StreamRecord, _ error: RPCError?, _ wakeups: inout Wakeups) {
        if let w = stream.sendWaiter {
            stream.sendWaiter = nil
            wakeups.sends.append((w, error))
        }
    }

    func appendFrame(_ s: inout State, type: FrameType, flags: FrameFlags, streamID: UInt32, body: [UInt8]) {
        Frame.appendHeader(to: &s.outbound, length: body.count, type: type, flags: flags, streamID: streamID)
        s.outbound.append(contentsOf: body)
    }

    /// Grants `increment` bytes, in as many WINDOW_UPDATEs as it takes: an increment is at most
    /// 2^31 - 1, the largest window a peer may hold.
    func appendWindowUpdate(_ s: inout State, streamID: UInt32, increment: Int) {
        var rest = increment
        while rest > 0 {
            let v = UInt32(min(rest, Int(Int32.max)))
            rest -= Int(v)
            appendFrame(&s, type: .windowUpdate, flags: [], streamID: streamID,
                        body: [UInt8(v >> 24), UInt8(truncatingIfNeeded: v >> 16), UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)])
        }
    }

    func appendTrailers(_ s: inout State, streamID: UInt32, status: RPCError?, metadata: Metadata) {
        appendFrame(&s, type: .trailers, flags: [], streamID: streamID, body: ControlBodies.callEnd(status: status, metadata: metadata))
    }

    // MARK: closing

    /// Ends the connection: GOAWAY with `code` (when the peer may still read it), every stream
    /// failed with `error`, then the channel closes once the GOAWAY is written.
    func fail(_ error: RPCError, goAway code: RPCCode?) {
        var wakeups = Wakeups()
        state.withLock { s in
            guard s.phase != .closed else { return }
            if let code {
                appendFrame(&s, type: .goAway, flags: [], streamID: 0,
                            body: ControlBodies.goAway(lastStreamID: s.lastStreamID, code: code, message: error.message))
            }
            s.closeReason = s.closeReason ?? error
            failAll(error, &s, &wakeups)
            s.closeAfterFlush = true
        }
        wakeups.run()
        flush()
    }

    private func failAll(_ error: RPCError, _ s: inout State, _ wakeups: inout Wakeups) {
        for stream in Array(s.streams.values) {
            stream.localEnded = true
            resetStream(stream, error, &s, &wakeups, sendCancel: false)
        }
        if role == .client { s.streams.removeAll() }
        for (_, w) in s.pingWaiters { wakeups.pingFailures.append(w) }
        s.pingWaiters.removeAll()
    }

    func channelWritable() {
        state.withLock { $0.awaitingWritable = false }
        flush()
    }

    func channelClosed() {
        var wakeups = Wakeups()
        let channelFailure = channel.failureDescription
        let reason = state.withLock { s -> RPCError? in
            if s.closeReason == nil, let channelFailure { s.closeReason = RPCError(.unavailable, channelFailure) }
            let error = s.closeReason ?? RPCError(.unavailable, "the connection closed")
            failAll(error, &s, &wakeups)
            s.phase = .closed
            s.outbound = []
            return s.closeReason
        }
        handshakeTimer?.cancel()
        // A frame cut off by the close: its buffer and its budget bytes go now.
        budget?.release(decoderCharge)
        decoderCharge = 0
        decoder.reset()
        partialFrameSince = nil
        wakeups.run()
        events.connectionClosed(self, reason: reason)
    }

    /// Closes the channel now, without a GOAWAY.
    func closeNow() { channel.close() }
}
