#if canImport(Glibc)
import Glibc
#endif
internal import CAssaySystem

/// A listening TCP socket on an event loop; hands each accepted connection to a callback.
public final class TCPListener: IOHandler, @unchecked Sendable {
    // @unchecked: after `init`, all mutable state is touched on the loop thread only.
    private let fd: Int32
    private let loop: EventLoop
    /// The address actually bound (port 0 becomes the chosen port).
    public let localAddress: SocketAddress
    private var token: UInt64 = 0
    private var onAccept: ((SocketChannel) -> Void)?
    private var closed = false

    public init(bindingTo address: SocketAddress, loop: EventLoop, backlog: Int32 = 1024) throws(SystemError) {
        let family = address.isIPv6 ? AF_INET6 : AF_INET
        let fd = try Syscall.call("socket") {
            socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        }
        do {
            try Syscall.setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1)
            _ = try address.withSockAddr { sa, len throws(SystemError) in
                try Syscall.call("bind") { Glibc.bind(fd, sa, len) }
            }
            _ = try Syscall.call("listen") { Glibc.listen(fd, backlog) }
        } catch {
            Syscall.close(fd)
            throw error
        }
        self.fd = fd
        self.loop = loop
        self.localAddress = SocketAddress.of(fd: fd, peer: false) ?? address
    }

    /// Starts accepting; `onAccept` runs on the loop thread for each new connection.
    public func start(onAccept: @escaping (SocketChannel) -> Void) {
        nonisolated(unsafe) let onAccept = onAccept
        loop.execute { [self] in
            self.onAccept = onAccept
            do {
                token = try loop.register(fd: fd, handler: self, readable: true)
            } catch {
                closeNow()
            }
        }
    }

    /// Stops accepting and closes the socket.
    public func close() {
        if loop.inEventLoop { closeNow() } else { loop.execute { [self] in closeNow() } }
    }

    private func closeNow() {
        guard !closed else { return }
        closed = true
        if token != 0 { loop.deregister(fd: fd, token: token) }
        Syscall.close(fd)
        onAccept = nil
    }

    func readable() {
        while !closed {
            let accepted: IOResult<Int32>
            do {
                accepted = try Syscall.nonBlocking("accept4") {
                    assay_accept4(fd, Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue))
                }
            } catch {
                // EMFILE and friends: stop for this wake; the socket stays readable and we retry.
                return
            }
            guard case .done(let client) = accepted else { return }
            try? Syscall.setOption(client, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
            let peer = SocketAddress.of(fd: client, peer: true)?.description ?? "unknown"
            onAccept?(SocketChannel(fd: client, loop: loop, peer: peer))
        }
    }

    func writable() {}
    func hangup() { closeNow() }
}
