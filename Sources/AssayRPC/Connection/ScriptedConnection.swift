import AssayTransport
import AssayWire
import AssaySync

/// One side of a connection driven by hand over memory instead of a socket: the fuzzers feed it
/// a peer's bytes and check what it wrote back and which calls it accepted.
///
/// Everything happens on the calling thread, deterministically: the work the connection hands
/// its scheduler (closing, for one) runs before `receive` returns, and timers fire only when
/// `fireTimers()` says so. No call handler runs: calls a server side accepts are recorded and
/// stay open until `finishCall`.
package final class ScriptedConnection: Sendable {
    /// Which end of the protocol this side plays.
    package enum Role: Sendable {
        case client, server
    }

    /// A call the server side accepted, as the router would have seen it.
    package struct Call: Sendable, Hashable {
        /// The stream the client opened.
        package var streamID: UInt32
        /// The method path of its CallStart.
        package var method: String
        /// Its metadata, in order.
        package var metadata: Metadata
        /// Its deadline, if it had one.
        package var timeoutNanoseconds: UInt64?
    }

    private let channel: MemoryChannel
    private let scheduler: ManualScheduler
    private let recorder: Recorder
    private let connection: FramedConnection

    /// A connection of `role` that enforces `limits`; `start()` sends its preface and SETTINGS.
    package init(role: Role, limits: ConnectionLimits = ConnectionLimits()) {
        scheduler = ManualScheduler()
        channel = MemoryChannel(scheduler: scheduler)
        recorder = Recorder()
        connection = FramedConnection(
            channel: channel,
            role: role == .server ? .server : .client,
            limits: limits,
            events: recorder
        )
    }

    deinit {
        // The connection and its channel, and the timers it scheduled and their closures, hold
        // each other; a socket breaks that when it closes and the loop when timers run out.
        scheduler.discardAll()
        channel.detach()
    }

    /// Sends the preface and SETTINGS, as a new connection of either role does.
    package func start() {
        connection.start()
        scheduler.runPending()
    }

    /// Hands `bytes` to the connection as one read from the peer; nothing happens once the
    /// connection has closed or paused reading (a socket would not deliver them either).
    package func receive(_ bytes: UnsafeRawBufferPointer) {
        guard channel.isReading else { return }
        connection.channelRead(bytes)
        scheduler.runPending()
    }

    /// Every byte the connection has written, from its preface on.
    package var written: [UInt8] { channel.written }

    /// Whether the peer's preface and SETTINGS arrived.
    package var isReady: Bool { recorder.state.withLock { $0.ready } }

    /// Whether the connection has closed (and told its owner).
    package var isClosed: Bool { recorder.state.withLock { $0.closed } }

    /// Why the connection closed, when it closed because of an error.
    package var closeReason: RPCError? { recorder.state.withLock { $0.closeReason } }

    /// The calls a server side accepted, in order.
    package var calls: [Call] {
        recorder.state.withLock { s in
            s.calls.map { call in
                Call(
                    streamID: call.stream.id, method: call.method, metadata: call.metadata,
                    timeoutNanoseconds: call.timeoutNanoseconds
                )
            }
        }
    }

    /// Client side: opens a call on the next stream id, with one message (or none) and
    /// END_STREAM when `endStream`; returns the stream id.
    @discardableResult
    package func openCall(method: String, message: [UInt8]?, endStream: Bool) throws(RPCError) -> UInt32 {
        defer { scheduler.runPending() }
        return try connection.openStream(
            method: method, metadata: Metadata(), timeoutNanoseconds: nil, firstMessage: message, endStream: endStream
        ).id
    }

    /// Server side: ends an accepted call as a handler would, with `status` (nil for OK) and an
    /// optional last response; false when the call is unknown or its response had to wait for
    /// window.
    @discardableResult
    package func finishCall(streamID: UInt32, status: RPCError?, response: [UInt8]? = nil) -> Bool {
        let call = recorder.state.withLock { s in s.calls.first { $0.stream.id == streamID } }
        guard let call else { return false }
        defer { scheduler.runPending() }
        return connection.finish(call.stream, status: status, trailers: Metadata(), finalMessage: response)
    }

    /// Server side: starts a graceful shutdown (GOAWAY, no new calls).
    package func drain() {
        connection.drain(message: "draining")
        scheduler.runPending()
    }

    /// Runs every timer scheduled so far and not cancelled (the handshake timeout, the idle
    /// check, deadlines), as if their time had come.
    package func fireTimers() {
        scheduler.fireTimers()
        scheduler.runPending()
    }

    /// The peer went away: the channel closes and every stream fails.
    package func close() {
        channel.close()
        scheduler.runPending()
    }
}

/// What the connection told its owner.
private final class Recorder: ConnectionEvents {
    struct State {
        var ready = false
        var closed = false
        var closeReason: RPCError?
        var calls: [IncomingCall] = []
    }

    let state = Lock(State())

    func connectionReady(_ connection: FramedConnection) { state.withLock { $0.ready = true } }

    func incomingCall(_ call: IncomingCall, on connection: FramedConnection) {
        state.withLock { $0.calls.append(call) }
    }

    func connectionClosed(_ connection: FramedConnection, reason: RPCError?) {
        state.withLock { s in
            s.closed = true
            s.closeReason = reason
        }
    }
}

/// A scheduler that runs work only when told: queued work by `runPending`, timers by
/// `fireTimers`.
private final class ManualScheduler: Scheduler {
    private struct State {
        var pending: [@Sendable () -> Void] = []
        var timers: [(timer: ScheduledTimer, work: @Sendable () -> Void)] = []
        var running = false
    }

    private let state = Lock(State())

    var inEventLoop: Bool { true }

    func execute(_ work: @escaping @Sendable () -> Void) {
        state.withLock { $0.pending.append(work) }
    }

    @discardableResult
    func schedule(afterNanoseconds nanoseconds: UInt64, _ work: @escaping @Sendable () -> Void) -> ScheduledTimer {
        let timer = ScheduledTimer()
        state.withLock { $0.timers.append((timer, work)) }
        return timer
    }

    /// Runs queued work, including work queued while running, until none is left. Re-entrant
    /// calls return at once: the outer call picks up what they would have run.
    func runPending() {
        let started = state.withLock { s -> Bool in
            if s.running { return false }
            s.running = true
            return true
        }
        guard started else { return }
        while let work = state.withLock({ s in s.pending.isEmpty ? nil : s.pending.removeFirst() }) {
            work()
        }
        state.withLock { $0.running = false }
    }

    /// Forgets every queued work item and timer, without running them.
    func discardAll() {
        state.withLock { s in
            s.pending = []
            s.timers = []
        }
    }

    /// Runs the timers scheduled so far; those they schedule wait for the next call.
    func fireTimers() {
        let due = state.withLock { s in
            defer { s.timers = [] }
            return s.timers
        }
        for (timer, work) in due where !timer.isCancelled { work() }
    }
}

/// A byte channel whose peer is the test: writes are kept, closing is queued on the scheduler
/// the way a socket's close is reported on its loop.
private final class MemoryChannel: ByteChannel {
    private struct State {
        var written: [UInt8] = []
        var delegate: (any ByteChannelDelegate)?
        var closed = false
        var reading = true
    }

    private let state = Lock(State())
    private let manual: ManualScheduler

    init(scheduler: ManualScheduler) { manual = scheduler }

    var scheduler: any Scheduler { manual }

    var peerDescription: String { "memory" }

    var written: [UInt8] { state.withLock { $0.written } }

    var isReading: Bool { state.withLock { !$0.closed && $0.reading } }

    func start(delegate: any ByteChannelDelegate) { state.withLock { $0.delegate = delegate } }

    func write(_ bytes: UnsafeRawBufferPointer) -> ChannelWriteResult {
        state.withLock { s in
            if s.closed { return .closed }
            s.written.append(contentsOf: bytes)
            return .written(bytes.count)
        }
    }

    func requestWritable() {
        // Writes never fall short, so there is never a reason to wait for writability; answer
        // anyway, as a socket that drained would.
        let delegate = state.withLock { $0.delegate }
        manual.execute { delegate?.channelWritable() }
    }

    func setReading(_ enabled: Bool) { state.withLock { $0.reading = enabled } }

    func close() {
        let delegate = state.withLock { s -> (any ByteChannelDelegate)? in
            if s.closed { return nil }
            s.closed = true
            // As a socket does: the delegate hears of the close once, then is let go.
            defer { s.delegate = nil }
            return s.delegate
        }
        if let delegate { manual.execute { delegate.channelClosed() } }
    }

    /// Lets go of the delegate without telling it anything.
    func detach() { state.withLock { $0.delegate = nil } }
}
