import AssayRPC
import AssayTLS
import Dispatch

#if canImport(Glibc)
    import Glibc
#endif

/// The TLS flags of `assay serve` and of the client commands (docs/operations.md).
enum TLSOptions {
    /// `--tls-cert FILE --tls-key FILE [--tls-client-ca FILE]`, or ASSAY_TLS_CERT, ASSAY_TLS_KEY,
    /// ASSAY_TLS_CLIENT_CA. Nil: plaintext.
    static func server(_ args: inout Arguments) throws(UsageError) -> TLSServerConfiguration? {
        let cert = args.option("tls-cert") ?? environment("ASSAY_TLS_CERT")
        let key = args.option("tls-key") ?? environment("ASSAY_TLS_KEY")
        let clientCA = args.option("tls-client-ca") ?? environment("ASSAY_TLS_CLIENT_CA")
        switch (cert, key) {
        case (let cert?, let key?):
            return TLSServerConfiguration(certificateFile: cert, privateKeyFile: key, clientCAFile: clientCA)
        case (nil, nil):
            if clientCA != nil {
                throw UsageError("--tls-client-ca needs --tls-cert and --tls-key: mutual TLS is TLS first")
            }
            return nil
        case (nil, _):
            throw UsageError("--tls-key needs --tls-cert")
        case (_, nil):
            throw UsageError("--tls-cert needs --tls-key")
        }
    }

    /// How often `serve` looks at the certificate files: `--tls-reload-interval SECONDS`
    /// (ASSAY_TLS_RELOAD_INTERVAL), default 5; 0 turns polling off (SIGHUP still reloads).
    static func reloadInterval(_ args: inout Arguments) throws(UsageError) -> Duration? {
        guard let text = args.option("tls-reload-interval") ?? environment("ASSAY_TLS_RELOAD_INTERVAL") else {
            return .seconds(5)
        }
        guard let seconds = Double(text), seconds >= 0, seconds <= 86_400 else {
            throw UsageError("--tls-reload-interval needs seconds between 0 and 86400 (0: only on SIGHUP)")
        }
        return seconds == 0 ? nil : .milliseconds(Int64(seconds * 1000))
    }

    /// A client's TLS: `--tls-ca FILE` (ASSAY_TLS_CA) or `--tls` for the system's trusted CAs,
    /// `--tls-cert FILE --tls-key FILE` (ASSAY_TLS_CLIENT_CERT, ASSAY_TLS_CLIENT_KEY) for mutual
    /// TLS, `--tls-server-name NAME` (ASSAY_TLS_SERVER_NAME) when the certificate names the
    /// server differently from --addr. Nil: plaintext.
    static func client(_ args: inout Arguments) throws -> TLSContext? {
        let ca = args.option("tls-ca") ?? environment("ASSAY_TLS_CA")
        let systemTrust = args.flag("tls")
        let cert = args.option("tls-cert") ?? environment("ASSAY_TLS_CLIENT_CERT")
        let key = args.option("tls-key") ?? environment("ASSAY_TLS_CLIENT_KEY")
        let serverName = args.option("tls-server-name") ?? environment("ASSAY_TLS_SERVER_NAME")
        guard ca != nil || systemTrust else {
            if cert != nil || key != nil || serverName != nil {
                throw UsageError(
                    "--tls-cert, --tls-key and --tls-server-name need --tls-ca FILE (or --tls for the system's CAs)")
            }
            return nil
        }
        if (cert == nil) != (key == nil) { throw UsageError("--tls-cert and --tls-key go together") }
        let configuration = TLSClientConfiguration(
            trustedCAFile: ca, certificateFile: cert, privateKeyFile: key, serverName: serverName)
        do {
            return try TLSContext.client(configuration)
        } catch {
            throw RPCError(.invalidArgument, "TLS settings: \(error)")
        }
    }

    /// Logs what a reload did.
    static func report(_ outcome: TLSServerCredentials.ReloadOutcome, logger: Logger, trigger: String) {
        switch outcome {
        case .unchanged:
            logger.info("TLS certificate files unchanged", [("trigger", trigger)])
        case .reloaded(let certificate):
            logger.info(
                "TLS certificate reloaded; new connections use it",
                [
                    ("trigger", trigger), ("subject", certificate?.subject ?? ""),
                    ("serial", certificate?.serialNumber ?? ""),
                ])
        case .failed(let error):
            logger.error(
                "TLS certificate reload failed; the previous certificate stays in use",
                [("trigger", trigger), ("cause", error.description)])
        }
    }
}

/// Reloads the TLS files on every SIGHUP, through a Dispatch signal source.
final class ReloadSignal: @unchecked Sendable {
    // @unchecked: `source` is set once in init and only cancelled afterwards; Dispatch sources are thread-safe.
    private let source: any DispatchSourceSignal

    init(handler: @escaping @Sendable () -> Void) {
        signal(SIGHUP, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: DispatchQueue(label: "assay.reload"))
        source.setEventHandler(handler: handler)
        source.resume()
    }

    func cancel() { source.cancel() }
}
