internal import COpenSSL

#if canImport(Glibc)
    import Glibc
#endif

/// A TLS failure: what was being done and OpenSSL's reasons, most specific last.
///
/// Made only by `OpenSSL`, from OpenSSL's per-thread error queue, so the reasons are the
/// library's own words ("certificate verify failed", "tlsv1 alert unknown ca").
public struct TLSError: Error, Hashable, CustomStringConvertible {
    /// What failed: "loading the private key /etc/assay/key.pem", "TLS handshake".
    public var operation: String
    /// OpenSSL's reasons, with the certificate verification result when there is one.
    public var reasons: [String]

    /// A failure of `operation` for `reasons` (OpenSSL's, or a precondition's own words).
    public init(operation: String, reasons: [String]) {
        self.operation = operation
        self.reasons = reasons
    }

    /// "operation: reason; reason".
    public var description: String {
        reasons.isEmpty ? operation : "\(operation): \(reasons.joined(separator: "; "))"
    }
}

/// What one SSL_read, SSL_write, SSL_do_handshake or SSL_shutdown did.
enum SSLOutcome: Sendable {
    /// Success; the call's non-negative result (bytes for reads and writes).
    case done(Int)
    /// OpenSSL needs more bytes from the peer first.
    case wantRead
    /// The peer sent close_notify: no more data will come.
    case closed
    case failed(TLSError)
}

/// The one place where OpenSSL is called for things that can fail: each call clears the
/// error queue first and turns a failure into a `TLSError` built from the queue.
enum OpenSSL {
    /// Runs a call that returns 1 on success (most of libssl's setters and loaders).
    static func check(_ operation: @autoclosure () -> String, _ body: () -> Int32) throws(TLSError) {
        ERR_clear_error()
        if body() == 1 { return }
        throw TLSError(operation: operation(), reasons: drainErrors())
    }

    /// Runs a call that returns a pointer, NULL on failure.
    static func make<T>(_ operation: @autoclosure () -> String, _ body: () -> T?) throws(TLSError) -> T {
        ERR_clear_error()
        if let value = body() { return value }
        throw TLSError(operation: operation(), reasons: drainErrors())
    }

    /// Runs one SSL I/O call and classifies its result with SSL_get_error.
    static func io(_ ssl: OpaquePointer, _ operation: StaticString, _ body: () -> Int32) -> SSLOutcome {
        ERR_clear_error()
        let rc = body()
        if rc > 0 { return .done(Int(rc)) }
        let code = SSL_get_error(ssl, rc)
        switch code {
        case SSL_ERROR_NONE:
            return .done(Int(rc))
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            // Memory BIOs never refuse a write, so WANT_WRITE means "flush and retry", which
            // the channel does after every call anyway.
            return .wantRead
        case SSL_ERROR_ZERO_RETURN:
            return .closed
        default:
            var reasons = drainErrors()
            let verify = SSL_get_verify_result(ssl)
            if verify != Int(X509_V_OK), let text = X509_verify_cert_error_string(verify) {
                reasons.append("certificate verification: \(String(cString: text))")
            }
            if reasons.isEmpty {
                reasons.append(
                    code == SSL_ERROR_SYSCALL ? "the connection ended inside a TLS record" : "SSL error \(code)")
            }
            return .failed(TLSError(operation: "\(operation)", reasons: reasons))
        }
    }

    /// Empties this thread's OpenSSL error queue into readable reasons, oldest first.
    static func drainErrors() -> [String] {
        var reasons: [String] = []
        while true {
            var data: UnsafePointer<CChar>?
            var flags: Int32 = 0
            let code = ERR_get_error_all(nil, nil, nil, &data, &flags)
            if code == 0 { break }
            var text: String
            if let reason = ERR_reason_error_string(code) {
                text = String(cString: reason)
            } else {
                var buffer = [CChar](repeating: 0, count: 256)
                ERR_error_string_n(code, &buffer, buffer.count)
                text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
            if let data, assay_err_has_text(flags) != 0, data.pointee != 0 {
                text += " (\(String(cString: data)))"
            }
            if reasons.last != text { reasons.append(text) }
        }
        return reasons
    }

    /// Fails with a precise message when `path` cannot be read, before OpenSSL's vaguer one.
    static func checkReadable(_ path: String, _ what: String) throws(TLSError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            throw TLSError(operation: "reading the \(what) \(path)", reasons: [String(cString: strerror(errno))])
        }
        close(fd)
    }
}
