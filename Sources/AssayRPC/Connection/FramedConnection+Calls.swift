import AssayTransport
import AssayWire

/// What calls do on a connection: open, send, receive, finish, cancel, ping, drain.
extension FramedConnection {
    // MARK: writing

    /// Writes what is queued. Any thread may call it; one caller at a time writes.
    func flush() {
        while true {
            var chunk: [UInt8] = []
            let proceed = state.withLock { s -> Bool in
                if s.flushing || s.awaitingWritable || s.outbound.isEmpty || s.phase == .closed { return false }
                s.flushing = true
                swap(&chunk, &s.outbound)
                return true
            }
            guard proceed else { break }
            var offset = 0
            var closed = false
            chunk.withUnsafeBytes { bytes in
                while offset < bytes.count {
                    switch channel.write(UnsafeRawBufferPointer(rebasing: bytes[offset...])) {
                    case .written(let n):
                        if n == 0 { return }
                        offset += n
                    case .closed:
                        closed = true
                        return
                    }
                }
            }
            var pauseReading = false
            let blocked = state.withLock { s -> Bool in
                s.flushing = false
                if closed { return true }
                if offset < chunk.count {
                    chunk.removeFirst(offset)
                    chunk.append(contentsOf: s.outbound)
                    s.outbound = chunk
                    s.awaitingWritable = true
                    if s.outbound.count > limits.maxPendingOutboundBytes && !s.readingPaused {
                        s.readingPaused = true
                        pauseReading = true
                    }
                    return true
                }
                // Keep the bigger buffer's capacity for the next round.
                if s.outbound.isEmpty {
                    chunk.removeAll(keepingCapacity: true)
                    s.outbound = chunk
                }
                return false
            }
            if closed { return }
            if pauseReading { channel.setReading(false) }
            if blocked {
                channel.requestWritable()
                return
            }
        }
        let (resume, close) = state.withLock { s -> (Bool, Bool) in
            let drained = s.outbound.isEmpty && !s.flushing
            var resume = false
            if s.readingPaused && drained {
                s.readingPaused = false
                resume = true
            }
            return (resume, drained && s.closeAfterFlush && s.phase != .closed)
        }
        if resume { channel.setReading(true) }
        if close { channel.close() }
    }

    // MARK: both roles

    /// Sends one message on `stream`, waiting while the peer's flow-control windows are spent.
    func send(_ stream: StreamRecord, message: [UInt8], endStream: Bool) async throws {
        if message.count > state.withLock({ $0.peerLimits.maxFrameSize }) {
            let limit = state.withLock { $0.peerLimits.maxFrameSize }
            throw RPCError(.resourceExhausted, "message of \(message.count) bytes exceeds the peer's limit of \(limit) bytes")
        }
        while true {
            let sent = try state.withLock { s throws(RPCError) -> Bool in
                if let failure = stream.failure { throw failure }
                if stream.localEnded { throw RPCError(.failedPrecondition, "the stream already ended") }
                guard stream.sendWindow > 0 && s.connectionSendWindow > 0 else { return false }
                stream.sendWindow -= message.count
                s.connectionSendWindow -= message.count
                if endStream { stream.localEnded = true }
                appendFrame(&s, type: .data, flags: endStream ? .endStream : [], streamID: stream.id, body: message)
                return true
            }
            if sent {
                flush()
                return
            }
            try await waitForWindow(stream)
        }
    }

    private func waitForWindow(_ stream: StreamRecord) async throws {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                let immediate = state.withLock { s -> RPCError?? in
                    if let failure = stream.failure { return .some(failure) }
                    if Task.isCancelled { return .some(RPCError(.cancelled, "the call was cancelled")) }
                    if stream.sendWindow > 0 && s.connectionSendWindow > 0 { return .some(nil) }
                    stream.sendWaiter = c
                    if s.connectionSendWindow <= 0 { s.connectionWindowWaiters.append(stream) }
                    return .none
                }
                switch immediate {
                case .some(.some(let e)): c.resume(throwing: e)
                case .some(.none): c.resume()
                case .none: break
                }
            }
        } onCancel: {
            let waiter = state.withLock { _ -> CheckedContinuation<Void, any Error>? in
                let w = stream.sendWaiter
                stream.sendWaiter = nil
                return w
            }
            waiter?.resume(throwing: RPCError(.cancelled, "the call was cancelled"))
        }
    }

    /// The next message on `stream`, or nil once the peer has sent its last one.
    func receive(_ stream: StreamRecord) async throws -> [UInt8]? {
        // Fast path: a message is already here.
        let ready = try state.withLock { s throws(RPCError) -> [UInt8]?? in
            if let failure = stream.failure { throw failure }
            if stream.hasInbound {
                let message = takeInbound(stream, &s)
                return .some(message)
            }
            if stream.remoteEnded { return .some(nil) }
            return .none
        }
        if let ready {
            flush()
            return ready
        }
        let message = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<[UInt8]?, any Error>) in
                let immediate = state.withLock { s -> Result<[UInt8]?, RPCError>? in
                    if let failure = stream.failure { return .failure(failure) }
                    if Task.isCancelled { return .failure(RPCError(.cancelled, "the call was cancelled")) }
                    if stream.hasInbound {
                        let message = takeInbound(stream, &s)
                        return .success(message)
                    }
                    if stream.remoteEnded { return .success(nil) }
                    stream.receiveWaiter = c
                    return nil
                }
                switch immediate {
                case .success(let m): c.resume(returning: m)
                case .failure(let e): c.resume(throwing: e)
                case nil: break
                }
            }
        } onCancel: {
            let waiter = state.withLock { _ -> CheckedContinuation<[UInt8]?, any Error>? in
                let w = stream.receiveWaiter
                stream.receiveWaiter = nil
                return w
            }
            waiter?.resume(throwing: RPCError(.cancelled, "the call was cancelled"))
        }
        flush()  // a credit may have queued a WINDOW_UPDATE
        return message
    }

    // MARK: client role

    /// Opens a call: HEADERS, and the first message in the same write when there is one.
    func openStream(
        method: String, metadata: Metadata, timeoutNanoseconds: UInt64?,
        firstMessage: [UInt8]?, endStream: Bool
    ) throws(RPCError) -> StreamRecord {
        let headers = ControlBodies.callStart(method: method, timeoutNanoseconds: timeoutNanoseconds, metadata: metadata)
        let stream = try state.withLock { s throws(RPCError) -> StreamRecord in
            switch s.phase {
            case .open: break
            case .closed, .draining:
                throw s.closeReason ?? RPCError(.unavailable, "the connection is closed")
            case .awaitingPreface, .awaitingSettings:
                throw RPCError(.unavailable, "the connection is not ready")
            }
            if s.streams.count >= s.peerLimits.maxConcurrentStreams {
                throw RPCError(.resourceExhausted, "too many concurrent calls on this connection (the server allows \(s.peerLimits.maxConcurrentStreams))")
            }
            if let m = firstMessage, m.count > s.peerLimits.maxFrameSize {
                throw RPCError(.resourceExhausted, "message of \(m.count) bytes exceeds the server's limit of \(s.peerLimits.maxFrameSize) bytes")
            }
            guard s.lastStreamID < UInt32.max - 2 else { throw RPCError(.unavailable, "stream ids exhausted; reconnect") }
            s.lastStreamID += s.lastStreamID == 0 ? 1 : 2
            let stream = StreamRecord(id: s.lastStreamID, sendWindow: s.peerLimits.initialStreamWindow, receiveWindow: limits.initialStreamWindow)
            s.streams[stream.id] = stream
            if let m = firstMessage {
                appendFrame(&s, type: .headers, flags: [], streamID: stream.id, body: headers)
                stream.sendWindow -= m.count
                s.connectionSendWindow -= m.count
                appendFrame(&s, type: .data, flags: endStream ? .endStream : [], streamID: stream.id, body: m)
            } else {
                appendFrame(&s, type: .headers, flags: endStream ? .endStream : [], streamID: stream.id, body: headers)
            }
            stream.localEnded = endStream
            return stream
        }
        if let timeoutNanoseconds {
            let timer = channel.scheduler.schedule(afterNanoseconds: timeoutNanoseconds) { [self] in
                cancel(stream, RPCError(.deadlineExceeded, "the deadline expired"))
            }
            state.withLock { _ in stream.deadlineTimer = timer }
        }
        flush()
        return stream
    }

    /// Client: tells the server no more messages follow.
    func halfClose(_ stream: StreamRecord) {
        let queued = state.withLock { s -> Bool in
            guard !stream.localEnded, stream.failure == nil else { return false }
            stream.localEnded = true
            appendFrame(&s, type: .data, flags: [.endStream, .noMessage], streamID: stream.id, body: [])
            return true
        }
        if queued { flush() }
    }

    /// Abandons a call from this side: the peer is told (CANCEL, or TRAILERS from a server).
    func cancel(_ stream: StreamRecord, _ error: RPCError) {
        var wakeups = Wakeups()
        state.withLock { s in
            guard s.phase != .closed else { return }
            if role == .client && stream.status != nil { return }
            resetStream(stream, error, &s, &wakeups, sendCancel: true)
        }
        wakeups.run()
        flush()
    }

    /// Client: measures one round trip.
    func ping() async throws {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
            let queued = state.withLock { s -> Bool in
                guard s.phase == .open || s.phase == .draining else { return false }
                let key = s.nextPing
                s.nextPing += 1
                s.pingWaiters[key] = c
                var body: [UInt8] = []
                for shift in stride(from: 56, through: 0, by: -8) { body.append(UInt8(truncatingIfNeeded: key >> UInt64(shift))) }
                appendFrame(&s, type: .ping, flags: [], streamID: 0, body: body)
                return true
            }
            if queued { flush() } else { c.resume(throwing: RPCError(.unavailable, "the connection is closed")) }
        }
    }

    /// Client: the status and trailing metadata once `receive` returned nil.
    func outcome(_ stream: StreamRecord) -> (status: RPCError?, trailers: Metadata) {
        state.withLock { _ in (stream.status ?? stream.failure, stream.trailers) }
    }

    var isUsable: Bool { state.withLock { $0.phase == .open } }

    // MARK: server role

    /// Records the handler's task so a CANCEL or the deadline can cancel it.
    func attach(_ task: UnsafeCurrentTask?, to stream: StreamRecord) {
        stream.attachTask(task)
        // A CANCEL or a deadline that came before the task was attached still counts.
        if state.withLock({ _ in stream.failure != nil }) { stream.cancelTask() }
    }

    /// Server: arms the call's deadline.
    func startDeadline(_ stream: StreamRecord, afterNanoseconds: UInt64) {
        let timer = channel.scheduler.schedule(afterNanoseconds: afterNanoseconds) { [self] in
            var wakeups = Wakeups()
            state.withLock { s in
                guard s.streams[stream.id] === stream, stream.failure == nil, !stream.localEnded else { return }
                stream.deadlineExpired = true
                resetStream(stream, RPCError(.deadlineExceeded, "the deadline expired"), &s, &wakeups, sendCancel: true)
            }
            wakeups.run()
            flush()
        }
        state.withLock { _ in stream.deadlineTimer = timer }
    }

    /// Server: the handler is done. Sends TRAILERS (unless the stream already ended) and
    /// forgets the stream.
    ///
    /// With `finalMessage`, the last response goes out in the same write as the TRAILERS; if
    /// the client's window has no room for it, nothing happens and false is returned, so the
    /// caller sends it with `send` (which waits) and finishes afterwards.
    @discardableResult
    func finish(_ stream: StreamRecord, status: RPCError?, trailers: Metadata, finalMessage: [UInt8]? = nil) -> Bool {
        stream.detachTask()
        let outcome = state.withLock { s -> Bool? in
            if let finalMessage, stream.failure == nil, !stream.localEnded, s.phase != .closed {
                guard stream.sendWindow > 0 && s.connectionSendWindow > 0 else { return nil }
                stream.sendWindow -= finalMessage.count
                s.connectionSendWindow -= finalMessage.count
                appendFrame(&s, type: .data, flags: [], streamID: stream.id, body: finalMessage)
            }
            stream.deadlineTimer?.cancel()
            if !stream.localEnded && s.phase != .closed {
                stream.localEnded = true
                appendTrailers(&s, streamID: stream.id, status: status, metadata: trailers)
            }
            if s.streams.removeValue(forKey: stream.id) != nil {
                s.activeHandlers -= 1
            }
            dropInbound(stream, &s)
            if s.phase == .draining && s.streams.isEmpty {
                s.closeAfterFlush = true
            }
            return true
        }
        guard outcome != nil else { return false }
        flush()
        return true
    }

    /// Server: the stream's status so far (for interceptors deciding what to report).
    func failure(of stream: StreamRecord) -> RPCError? { state.withLock { _ in stream.failure } }

    /// Server: sends GOAWAY and takes no new calls; the connection closes when the last ends.
    func drain(message: String) {
        let idle = state.withLock { s -> Bool in
            guard s.phase == .open || s.phase == .awaitingSettings || s.phase == .awaitingPreface else { return false }
            s.phase = .draining
            appendFrame(&s, type: .goAway, flags: [], streamID: 0,
                        body: ControlBodies.goAway(lastStreamID: s.lastStreamID, code: .unavailable, message: message))
            if s.streams.isEmpty { s.closeAfterFlush = true }
            return s.streams.isEmpty
        }
        flush()
        _ = idle
    }

    /// Server: cancels every call still running (after the shutdown grace period).
    func cancelAll(_ error: RPCError) {
        fail(error, goAway: nil)
    }
}
