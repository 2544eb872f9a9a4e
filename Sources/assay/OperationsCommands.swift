#if canImport(Glibc)
import Glibc
#endif
import AssayLLM
import AssayStorage
import AssayTLS
import AssayTransport
import AssayWire

/// `assay backup` and `assay serve --check`: operations on a server's files, run on its machine.
enum OperationsCommands {
    /// `assay backup OUT [--data DIR]`: a consistent copy of the SQLite store while the server
    /// keeps serving (docs/operations.md).
    static func backup(_ args: inout Arguments) throws -> Int32 {
        let dataDirectory = args.option("data") ?? environment("ASSAY_DATA") ?? "./assay-data"
        let json = args.flag("json")
        try args.checkAllUsed()
        guard args.positional.count == 1, let destination = args.positional.first else {
            throw UsageError("backup needs one destination file: assay backup OUT.sqlite [--data DIR]")
        }
        let source = dataDirectory + "/assay.sqlite"
        let started = MonotonicClock.nanoseconds()
        let copy: SQLiteFileTools.Inspection
        do {
            copy = try SQLiteFileTools.backup(path: source, to: destination)
        } catch {
            printError("assay: backup of \(source) failed: \(error)")
            return 1
        }
        let millis = (MonotonicClock.nanoseconds() - started) / 1_000_000
        var size = stat()
        let bytes = stat(destination, &size) == 0 ? Int(size.st_size) : 0
        if json {
            let report = JSONValue.object([
                JSONField("source", .string(source)), JSONField("backup", .string(destination)),
                JSONField("bytes", .number(String(bytes))), JSONField("schema_version", .number(String(copy.schemaVersion))),
                JSONField("integrity", .string(copy.integrity)), JSONField("millis", .number(String(millis))),
            ])
            printOut(report.jsonString())
        } else {
            printOut("backed up \(source) to \(destination): \(bytes) bytes, schema \(copy.schemaVersion), integrity \(copy.integrity), \(millis) ms")
        }
        return 0
    }

    /// One line of `assay serve --check`.
    struct Finding {
        var ok: Bool
        var subject: String
        var detail: String
    }

    /// What `assay serve --check` looks at, from the settings `serve` would use; prints one line
    /// per check and answers 0 only when every check passed. It never changes anything: the
    /// data folder and the database are only looked at, the address is bound and let go.
    static func check(
        address: SocketAddress, dataDirectory: String, postgresURL: String?, modelsConfig: String?,
        tls: TLSServerConfiguration? = nil, json: Bool
    ) async -> Int32 {
        var findings: [Finding] = []

        // The address: free to listen on.
        do {
            let loop = try EventLoop(name: "assay-check")
            do {
                let listener = try TCPListener(bindingTo: address, loop: loop)
                findings.append(Finding(ok: true, subject: "address", detail: "\(address) is free to listen on"))
                listener.close()
            } catch {
                findings.append(Finding(ok: false, subject: "address", detail: "cannot listen on \(address): \(error)"))
            }
            await loop.shutdown()
        } catch {
            findings.append(Finding(ok: false, subject: "address", detail: "cannot start an event loop: \(error)"))
        }

        // The data folder: there and writable, or creatable.
        var info = stat()
        if stat(dataDirectory, &info) == 0 {
            if (info.st_mode & S_IFMT) != S_IFDIR {
                findings.append(Finding(ok: false, subject: "data", detail: "\(dataDirectory) is not a folder"))
            } else if access(dataDirectory, W_OK | X_OK) != 0 {
                findings.append(Finding(ok: false, subject: "data", detail: "\(dataDirectory) is not writable"))
            } else {
                findings.append(Finding(ok: true, subject: "data", detail: "\(dataDirectory) is a writable folder"))
            }
        } else {
            let parent = dataDirectory.contains("/") ? String(dataDirectory[..<dataDirectory.lastIndex(of: "/")!]) : "."
            let ok = access(parent.isEmpty ? "/" : parent, W_OK | X_OK) == 0
            findings.append(
                Finding(
                    ok: ok, subject: "data",
                    detail: ok ? "\(dataDirectory) does not exist yet and will be created" : "\(dataDirectory) cannot be created in \(parent)"))
        }

        // The database.
        if let postgresURL {
            do {
                let store = try await PostgresStorage.open(url: postgresURL, poolSize: 1)
                await store.close()
                findings.append(Finding(ok: true, subject: "database", detail: "PostgreSQL reachable, schema up to date"))
            } catch {
                findings.append(Finding(ok: false, subject: "database", detail: "PostgreSQL: \(error)"))
            }
        } else {
            let path = dataDirectory + "/assay.sqlite"
            do {
                let file = try SQLiteFileTools.inspect(path: path)
                if file.schemaVersion > file.knownVersion {
                    findings.append(
                        Finding(
                            ok: false, subject: "database",
                            detail: "\(path) has schema version \(file.schemaVersion); this build knows up to \(file.knownVersion): run a newer Assay"))
                } else if file.integrity != "ok" {
                    findings.append(Finding(ok: false, subject: "database", detail: "\(path) fails its integrity check: \(file.integrity)"))
                } else {
                    let pending = file.knownVersion - file.schemaVersion
                    findings.append(
                        Finding(
                            ok: true, subject: "database",
                            detail: "\(path): schema \(file.schemaVersion)\(pending > 0 ? " (\(pending) migrations to apply)" : ""), "
                                + "integrity ok, \(file.journalMode), \(file.pageSize)-byte pages"))
                }
            } catch StorageError.notFound {
                findings.append(Finding(ok: true, subject: "database", detail: "\(path) will be created on the first start"))
            } catch {
                findings.append(Finding(ok: false, subject: "database", detail: "\(path): \(error)"))
            }
        }

        // Chat models from --models-config.
        if let modelsConfig {
            do {
                let providers = try ModelsConfiguration.load(path: modelsConfig).providers
                findings.append(Finding(ok: true, subject: "models-config", detail: "\(modelsConfig): \(providers.count) endpoints"))
            } catch {
                findings.append(Finding(ok: false, subject: "models-config", detail: "\(modelsConfig): \(error)"))
            }
        }

        // The TLS files: readable, parseable, the key the certificate's.
        if let tls {
            do {
                let context = try TLSContext.server(tls)
                let cert = context.certificate.map { "\($0.subject), serial \($0.serialNumber)" } ?? "no certificate"
                let mutual = tls.clientCAFile.map { "; clients need a certificate from \($0)" } ?? ""
                findings.append(Finding(ok: true, subject: "tls", detail: "\(tls.certificateFile): \(cert)\(mutual)"))
            } catch {
                findings.append(Finding(ok: false, subject: "tls", detail: "\(error)"))
            }
        }

        let allOK = findings.allSatisfy(\.ok)
        if json {
            let checks = findings.map { f in
                JSONValue.object([JSONField("check", .string(f.subject)), JSONField("ok", .bool(f.ok)), JSONField("detail", .string(f.detail))])
            }
            printOut(JSONValue.object([JSONField("ok", .bool(allOK)), JSONField("checks", .array(checks))]).jsonString())
        } else {
            for f in findings { printOut("\(f.ok ? "ok  " : "FAIL") \(f.subject): \(f.detail)") }
            printOut(allOK ? "configuration ok" : "configuration has problems")
        }
        return allOK ? 0 : 1
    }

}
