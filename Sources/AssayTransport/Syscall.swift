#if canImport(Glibc)
import Glibc
#endif

/// A failed system call: which call and the errno it set.
public struct SystemError: Error, Hashable, CustomStringConvertible {
    public var call: String
    public var errno: Int32

    public init(call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }

    public var description: String { "\(call): \(String(cString: strerror(errno))) (errno \(errno))" }
}

/// The outcome of a non-blocking call.
public enum IOResult<Value> {
    case done(Value)
    case wouldBlock
}

/// The one place where system calls are made: EINTR is retried, EAGAIN becomes
/// `.wouldBlock`, any other errno becomes a typed `SystemError`.
enum Syscall {
    @inline(__always)
    static func call<T: FixedWidthInteger>(_ name: StaticString, _ body: () -> T) throws(SystemError) -> T {
        while true {
            let result = body()
            if result >= 0 { return result }
            let e = Glibc.errno
            if e == EINTR { continue }
            throw SystemError(call: "\(name)", errno: e)
        }
    }

    @inline(__always)
    static func nonBlocking<T: FixedWidthInteger>(
        _ name: StaticString, _ body: () -> T
    ) throws(SystemError) -> IOResult<T> {
        while true {
            let result = body()
            if result >= 0 { return .done(result) }
            let e = Glibc.errno
            if e == EINTR { continue }
            if e == EAGAIN || e == EWOULDBLOCK { return .wouldBlock }
            throw SystemError(call: "\(name)", errno: e)
        }
    }

    static func read(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> IOResult<Int> {
        try nonBlocking("read") { Glibc.read(fd, buffer.baseAddress, buffer.count) }
    }

    static func write(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) throws(SystemError) -> IOResult<Int> {
        // send with MSG_NOSIGNAL: a peer that went away is an error, not a SIGPIPE.
        try nonBlocking("send") { Glibc.send(fd, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL)) }
    }

    static func close(_ fd: Int32) {
        // Linux closes the descriptor even when close reports EINTR: never retry.
        _ = Glibc.close(fd)
    }

    static func setOption(_ fd: Int32, _ level: Int32, _ option: Int32, _ value: Int32) throws(SystemError) {
        var v = value
        _ = try call("setsockopt") {
            Glibc.setsockopt(fd, level, option, &v, socklen_t(MemoryLayout<Int32>.size))
        }
    }
}
