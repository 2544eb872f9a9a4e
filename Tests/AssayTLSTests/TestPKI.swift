import AssayTestSupport
import Dispatch

#if canImport(Glibc)
    import Glibc
#endif

/// Throwaway certificate authorities and certificates, made with the `openssl` command in a
/// temporary folder (P-256 keys: fast to make). Every test gets its own.
struct TestPKI {
    let directory: String

    /// A CA's files.
    struct Authority {
        let name: String
        let certificate: String
        let key: String
    }

    /// A leaf certificate's files.
    struct Identity {
        let certificate: String
        let key: String
    }

    static let config = """
        [req]
        distinguished_name = dn
        prompt = no
        [dn]
        CN = unused
        [ca_ext]
        basicConstraints = critical,CA:TRUE
        keyUsage = critical,keyCertSign,cRLSign
        subjectKeyIdentifier = hash
        [server_ext]
        basicConstraints = CA:FALSE
        keyUsage = critical,digitalSignature
        extendedKeyUsage = serverAuth
        subjectAltName = DNS:localhost,IP:127.0.0.1
        [client_ext]
        basicConstraints = CA:FALSE
        keyUsage = critical,digitalSignature
        extendedKeyUsage = clientAuth

        """

    init() throws {
        directory = makeTemporaryDirectory()
        try writeText(Self.config, to: directory + "/openssl.cnf")
    }

    func remove() { removeTree(directory) }

    /// A self-signed CA.
    func authority(_ name: String) async throws -> Authority {
        let ca = Authority(name: name, certificate: "\(directory)/\(name).pem", key: "\(directory)/\(name).key")
        try await openssl([
            "req", "-x509", "-config", "\(directory)/openssl.cnf", "-extensions", "ca_ext",
            "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", ca.key, "-out", ca.certificate, "-days", "2", "-subj", "/CN=\(name)",
        ])
        return ca
    }

    /// A server (`client: false`, named localhost and 127.0.0.1) or client certificate signed
    /// by `ca`, with `serial`, written to `<name>.pem` and `<name>.key` (replacing them by
    /// rename, as certificate tools do).
    func issue(_ name: String, by ca: Authority, serial: UInt64, client: Bool = false) async throws -> Identity {
        let staging = "\(directory)/staging-\(name)"
        try await openssl([
            "req", "-new", "-config", "\(directory)/openssl.cnf", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", staging + ".key", "-out", staging + ".csr", "-subj", "/O=Assay Tests/CN=\(name)",
        ])
        try await openssl([
            "x509", "-req", "-in", staging + ".csr", "-CA", ca.certificate, "-CAkey", ca.key,
            "-set_serial", "0x" + String(serial, radix: 16), "-days", "2",
            "-extfile", "\(directory)/openssl.cnf", "-extensions", client ? "client_ext" : "server_ext", "-out",
            staging + ".pem",
        ])
        unlink(staging + ".csr")
        let identity = Identity(certificate: "\(directory)/\(name).pem", key: "\(directory)/\(name).key")
        guard rename(staging + ".key", identity.key) == 0, rename(staging + ".pem", identity.certificate) == 0 else {
            throw PKIError(message: "cannot rename the new files into place: \(String(cString: strerror(errno)))")
        }
        return identity
    }

    struct PKIError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    /// Runs `openssl ARGS` off the cooperative pool; throws with its standard error on failure.
    func openssl(_ args: [String]) async throws {
        let errFile = directory + "/openssl.err"
        let (status, _) = await AssayCommand.spawn(
            ["/usr/bin/openssl"] + args, standardOutput: "/dev/null", standardError: errFile)
        guard status == 0 else {
            throw PKIError(
                message: "openssl \(args.prefix(2).joined(separator: " ")) failed (\(status)): \(readText(errFile))")
        }
    }
}

func writeText(_ text: String, to path: String) throws {
    guard let f = fopen(path, "w") else { throw TestPKI.PKIError(message: "cannot write \(path)") }
    defer { fclose(f) }
    _ = text.utf8CString.withUnsafeBufferPointer { fwrite($0.baseAddress, 1, $0.count - 1, f) }
}

func readText(_ path: String) -> String {
    guard let f = fopen(path, "r") else { return "" }
    defer { fclose(f) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = fread(&buffer, 1, buffer.count, f)
        if n <= 0 { break }
        bytes += buffer[0..<n]
    }
    return String(decoding: bytes, as: UTF8.self)
}
