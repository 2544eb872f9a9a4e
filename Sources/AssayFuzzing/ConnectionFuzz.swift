import AssayRPC
import AssayWire

/// The handshake and the frame handling of a connection, against a hostile peer.
///
/// Input: a byte of options (bit 0: the side under test is a client rather than a server;
/// bits 1-2: which limits it enforces, small ones reaching the flow-control and stream-limit
/// paths), a byte seeding how the peer's bytes are split into reads, a byte saying after how
/// many of them a client opens its calls, then the peer's bytes (its preface, SETTINGS and
/// frames). A server side finishes each call it accepted once the bytes are in; then the peer
/// goes away.
///
/// Invariants: nothing traps; the outcome (every byte written, the calls accepted, whether it
/// got ready, how it closed) is the same whether the peer's bytes come in one read or in
/// random splits; and what the connection writes is well formed: its own preface, then whole
/// frames whose control bodies decode and whose WINDOW_UPDATE increments are positive.
package enum ConnectionFuzz {
    /// Checks one input.
    package static func check(_ input: UnsafeRawBufferPointer) throws {
        guard input.count >= 3 else { return }
        let role: ScriptedConnection.Role = input[0] & 1 == 0 ? .server : .client
        let limits = limitOptions[Int(input[0] >> 1) & 3]
        let peer = UnsafeRawBufferPointer(rebasing: input[3...])
        let openAfter = min(Int(input[2]), peer.count)
        let once = run(role, limits, peer, openAfter: openAfter, reads: [peer.count])
        var random = SplitMix64(seed: UInt64(input[1]))
        var reads: [Int] = []
        var total = 0
        while total < peer.count {
            let size = 1 + Int(random.next() % UInt64(min(peer.count - total, 24)))
            reads.append(size)
            total += size
        }
        let split = run(role, limits, peer, openAfter: openAfter, reads: reads)
        guard split == once else {
            throw FuzzFinding("reads of \(reads) give another outcome than one read:\n\(split)\nvs\n\(once)")
        }
        try checkWritten(once.written, role: role)
    }

    /// The limits a side may enforce: the defaults, and small ones.
    static let limitOptions: [ConnectionLimits] = {
        var small = ConnectionLimits()
        small.maxFrameSize = 64
        small.maxConcurrentStreams = 2
        small.initialStreamWindow = 100
        small.initialConnectionWindow = 150
        var tinyFrames = ConnectionLimits()
        tinyFrames.maxFrameSize = 16
        var fewStreams = ConnectionLimits()
        fewStreams.maxConcurrentStreams = 1
        fewStreams.initialStreamWindow = 32
        return [ConnectionLimits(), small, tinyFrames, fewStreams]
    }()

    /// What one run of a connection did.
    struct Outcome: Equatable, CustomStringConvertible {
        var written: [UInt8]
        var calls: [ScriptedConnection.Call]
        var ready: Bool
        var closed: Bool
        var closeReason: RPCError?

        var description: String {
            "written \(written.count) bytes \(written.prefix(64)), calls \(calls.map(\.streamID)), ready \(ready), "
                + "closed \(closed): \(closeReason.map { "\($0.code) \($0.message)" } ?? "-")"
        }
    }

    /// Feeds `peer` in reads of `reads` bytes; a client opens calls once `openAfter` bytes are in.
    static func run(
        _ role: ScriptedConnection.Role, _ limits: ConnectionLimits, _ peer: UnsafeRawBufferPointer,
        openAfter: Int, reads: [Int]
    ) -> Outcome {
        let connection = ScriptedConnection(role: role, limits: limits)
        connection.start()
        var offset = 0
        var opened = false
        func openCalls() {
            guard role == .client, !opened else { return }
            opened = true
            // What a client does with a ready connection: one unary call, one open stream.
            _ = try? connection.openCall(method: "/assay.v1.Echo/Unary", message: [0x0A, 0x01, 0x61], endStream: true)
            _ = try? connection.openCall(method: "/assay.v1.Echo/Bidirectional", message: nil, endStream: false)
        }
        if openAfter == 0 { openCalls() }
        for size in reads {
            // Split a read that spans the point where the client opens its calls.
            var pieces = [size]
            if !opened && offset < openAfter && offset + size > openAfter {
                pieces = [openAfter - offset, offset + size - openAfter]
            }
            for piece in pieces {
                connection.receive(UnsafeRawBufferPointer(rebasing: peer[offset..<offset + piece]))
                offset += piece
                if offset >= openAfter { openCalls() }
            }
        }
        openCalls()
        for (index, call) in connection.calls.enumerated() {
            // Handlers end in either way: OK with a response, or an error status.
            if index % 2 == 0 {
                connection.finishCall(streamID: call.streamID, status: nil, response: [0x0A, 0x02, 0x6F, 0x6B])
            } else {
                connection.finishCall(streamID: call.streamID, status: RPCError(.invalidArgument, "no"))
            }
        }
        connection.fireTimers()
        let beforeClose = Outcome(
            written: connection.written, calls: connection.calls, ready: connection.isReady,
            closed: connection.isClosed, closeReason: connection.closeReason
        )
        connection.close()
        return Outcome(
            written: beforeClose.written, calls: beforeClose.calls, ready: beforeClose.ready,
            closed: connection.isClosed, closeReason: beforeClose.closed ? beforeClose.closeReason : nil
        )
    }

    /// What a connection wrote must be its preface, then whole frames with valid bodies.
    static func checkWritten(_ written: [UInt8], role: ScriptedConnection.Role) throws {
        guard written.count >= Preface.size, case .success = Preface.parse(written[0..<Preface.size]) else {
            throw FuzzFinding("the connection did not start with its preface: \(written.prefix(Preface.size))")
        }
        var decoder = FrameDecoder(maxFrameSize: Int(UInt32.max))
        var frames: [Frame] = []
        written[Preface.size...].withUnsafeBytes { bytes in
            decoder.feed(bytes) { event in
                if case .frame(let frame) = event { frames.append(frame) }
            }
        }
        guard decoder.isAtFrameBoundary else { throw FuzzFinding("the connection wrote half a frame") }
        guard frames.first?.type == .settings, frames.first?.streamID == 0 else {
            throw FuzzFinding("the connection's first frame is not its SETTINGS: \(String(describing: frames.first))")
        }
        for frame in frames {
            try checkFrame(frame, role: role)
        }
    }

    static func checkFrame(_ frame: Frame, role: ScriptedConnection.Role) throws {
        func decodes<M: ProtoMessage>(_: M.Type) throws {
            do {
                _ = try M(serializedBytes: frame.body)
            } catch {
                throw FuzzFinding("\(frame.type) on stream \(frame.streamID) does not carry a \(M.self): \(error)")
            }
        }
        switch frame.type {
        case .data:
            guard frame.streamID != 0 else { throw FuzzFinding("DATA on stream 0") }
        case .headers:
            guard role == .client, frame.streamID % 2 == 1 else {
                throw FuzzFinding("HEADERS from a \(role) on stream \(frame.streamID)")
            }
            try decodes(CallStart.self)
        case .trailers:
            guard role == .server, frame.streamID != 0 else {
                throw FuzzFinding("TRAILERS from a \(role) on stream \(frame.streamID)")
            }
            try decodes(CallEnd.self)
        case .cancel:
            try decodes(Cancel.self)
        case .windowUpdate:
            guard frame.body.count == 4 else { throw FuzzFinding("a WINDOW_UPDATE of \(frame.body.count) bytes") }
            let increment = frame.body.reduce(0) { $0 << 8 | UInt32($1) }
            guard increment > 0, increment <= UInt32(Int32.max) else {
                throw FuzzFinding("a WINDOW_UPDATE on stream \(frame.streamID) grants \(increment) bytes")
            }
        case .settings:
            try decodes(Settings.self)
        case .ping:
            guard frame.body.count == 8 else { throw FuzzFinding("a PING of \(frame.body.count) bytes") }
        case .goAway:
            guard frame.streamID == 0 else { throw FuzzFinding("GOAWAY on stream \(frame.streamID)") }
            try decodes(GoAway.self)
        default:
            throw FuzzFinding("the connection wrote a frame of unknown type \(frame.type)")
        }
    }
}
