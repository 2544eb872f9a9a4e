internal import COpenSSL

/// What a server presents and whom it lets in: PEM files on disk.
public struct TLSServerConfiguration: Sendable, Hashable {
    /// The server's certificate, followed by any intermediates (PEM).
    public var certificateFile: String
    /// The certificate's private key (PEM, unencrypted).
    public var privateKeyFile: String
    /// With a file: mutual TLS. Clients must present a certificate signed by one of these CAs.
    public var clientCAFile: String?
    /// A connection that has not finished its handshake after this long is closed.
    public var handshakeTimeoutNanoseconds: UInt64 = 10_000_000_000

    /// TLS with this certificate and key; mutual TLS when `clientCAFile` is given.
    public init(certificateFile: String, privateKeyFile: String, clientCAFile: String? = nil) {
        self.certificateFile = certificateFile
        self.privateKeyFile = privateKeyFile
        self.clientCAFile = clientCAFile
    }
}

/// Whom a client trusts and what it presents.
public struct TLSClientConfiguration: Sendable, Hashable {
    /// The CAs that may sign the server's certificate (PEM). Nil: the system's trust store.
    public var trustedCAFile: String?
    /// The client's own certificate, for servers that require mutual TLS.
    public var certificateFile: String?
    /// The client certificate's private key.
    public var privateKeyFile: String?
    /// The name the server's certificate must carry (a host name or an IP address). Nil: the
    /// host the client connects to.
    public var serverName: String?
    /// A handshake that has not finished after this long fails.
    public var handshakeTimeoutNanoseconds: UInt64 = 10_000_000_000

    /// Trust `trustedCAFile` (nil: the system's CAs), present a certificate when one is given.
    public init(
        trustedCAFile: String? = nil, certificateFile: String? = nil, privateKeyFile: String? = nil,
        serverName: String? = nil
    ) {
        self.trustedCAFile = trustedCAFile
        self.certificateFile = certificateFile
        self.privateKeyFile = privateKeyFile
        self.serverName = serverName
    }
}

/// A loaded OpenSSL context (SSL_CTX): certificates, keys and trust, ready for connections.
///
/// Built once and shared by every connection that starts while it is current; a connection
/// keeps the context it started with (OpenSSL counts the references), so replacing it does
/// not disturb connections already open.
public final class TLSContext: @unchecked Sendable {
    // @unchecked: the SSL_CTX is fully set up in init and only read afterwards (SSL_new),
    // which OpenSSL allows from any thread.
    let raw: OpaquePointer
    /// Whether this is a server's context.
    public let isServer: Bool
    /// The client's server name override, when it has one.
    let serverName: String?
    let handshakeTimeoutNanoseconds: UInt64
    /// The certificate this context presents, if any: subject and serial.
    public let certificate: TLSCertificate?

    private init(raw: OpaquePointer, isServer: Bool, serverName: String?, timeout: UInt64) {
        self.raw = raw
        self.isServer = isServer
        self.serverName = serverName
        self.handshakeTimeoutNanoseconds = timeout
        self.certificate = SSL_CTX_get0_certificate(raw).map { TLSCertificate($0) }
    }

    deinit { SSL_CTX_free(raw) }

    /// Loads a server's certificate, key and (for mutual TLS) client CAs.
    public static func server(_ configuration: TLSServerConfiguration) throws(TLSError) -> TLSContext {
        let ctx = try OpenSSL.make("creating a TLS server context") { SSL_CTX_new(TLS_server_method()) }
        do throws(TLSError) {
            try harden(ctx)
            try loadIdentity(ctx, certificate: configuration.certificateFile, key: configuration.privateKeyFile)
            if let ca = configuration.clientCAFile {
                try OpenSSL.checkReadable(ca, "client CA file")
                try OpenSSL.check("loading the client CA file \(ca)") { SSL_CTX_load_verify_locations(ctx, ca, nil) }
                let names = try OpenSSL.make("reading the CA names in \(ca)") { SSL_load_client_CA_file(ca) }
                SSL_CTX_set_client_CA_list(ctx, names)
                SSL_CTX_set_verify(ctx, assay_verify_peer_required(), nil)
            }
        } catch {
            SSL_CTX_free(ctx)
            throw error
        }
        return TLSContext(raw: ctx, isServer: true, serverName: nil, timeout: configuration.handshakeTimeoutNanoseconds)
    }

    /// Loads a client's trust (and certificate, for mutual TLS). The server is always verified.
    public static func client(_ configuration: TLSClientConfiguration) throws(TLSError) -> TLSContext {
        let ctx = try OpenSSL.make("creating a TLS client context") { SSL_CTX_new(TLS_client_method()) }
        do throws(TLSError) {
            try harden(ctx)
            if let ca = configuration.trustedCAFile {
                try OpenSSL.checkReadable(ca, "CA file")
                try OpenSSL.check("loading the CA file \(ca)") { SSL_CTX_load_verify_locations(ctx, ca, nil) }
            } else {
                try OpenSSL.check("loading the system's trusted CAs") { SSL_CTX_set_default_verify_paths(ctx) }
            }
            SSL_CTX_set_verify(ctx, assay_verify_peer(), nil)
            switch (configuration.certificateFile, configuration.privateKeyFile) {
            case (let cert?, let key?):
                try loadIdentity(ctx, certificate: cert, key: key)
            case (nil, nil):
                break
            default:
                throw TLSError(
                    operation: "loading the client certificate",
                    reasons: ["a certificate needs its private key and a key its certificate"])
            }
        } catch {
            SSL_CTX_free(ctx)
            throw error
        }
        return TLSContext(
            raw: ctx, isServer: false, serverName: configuration.serverName,
            timeout: configuration.handshakeTimeoutNanoseconds)
    }

    private static func harden(_ ctx: OpaquePointer) throws(TLSError) {
        try OpenSSL.check("requiring TLS 1.2 or later") { assay_ssl_ctx_set_min_tls12(ctx) }
        assay_ssl_ctx_harden(ctx)
        assay_ssl_ctx_no_password_prompt(ctx)
    }

    private static func loadIdentity(_ ctx: OpaquePointer, certificate: String, key: String) throws(TLSError) {
        try OpenSSL.checkReadable(certificate, "certificate file")
        try OpenSSL.checkReadable(key, "private key file")
        try OpenSSL.check("loading the certificate \(certificate)") {
            SSL_CTX_use_certificate_chain_file(ctx, certificate)
        }
        try OpenSSL.check("loading the private key \(key)") { SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) }
        try OpenSSL.check("checking that \(key) is the key of \(certificate)") { SSL_CTX_check_private_key(ctx) }
    }
}

/// The parts of a certificate worth logging and checking: who it names and which one it is.
public struct TLSCertificate: Sendable, Hashable, CustomStringConvertible {
    /// The subject in RFC 2253 form: "CN=worker-1,O=Assay".
    public var subject: String
    /// The issuer in the same form.
    public var issuer: String
    /// The serial number in upper-case hex.
    public var serialNumber: String

    /// A certificate's names and serial, as read from one (or written by a test).
    public init(subject: String, issuer: String, serialNumber: String) {
        self.subject = subject
        self.issuer = issuer
        self.serialNumber = serialNumber
    }

    init(_ cert: OpaquePointer) {
        subject = TLSCertificate.name(X509_get_subject_name(cert))
        issuer = TLSCertificate.name(X509_get_issuer_name(cert))
        if let hex = assay_x509_serial_hex(cert) {
            serialNumber = String(cString: hex)
            assay_openssl_free(hex)
        } else {
            serialNumber = ""
        }
    }

    private static func name(_ name: OpaquePointer?) -> String {
        guard let name else { return "" }
        var buffer = [CChar](repeating: 0, count: 1024)
        let n = assay_x509_name_text(name, &buffer, Int32(buffer.count))
        return n < 0 ? "" : String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// "subject (serial N, issuer I)", for logs.
    public var description: String { "\(subject) (serial \(serialNumber), issuer \(issuer))" }
}
