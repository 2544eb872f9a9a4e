#if canImport(Glibc)
import Glibc
#endif

/// What `assay serve --check` and `assay backup` do to a SQLite store file without starting a
/// server: read it through a connection of their own, which WAL lets run beside a live server
/// (readers never block the writer, nor it them).
public enum SQLiteFileTools {
    /// What a store file holds, as far as a check needs to know.
    public struct Inspection: Sendable, Equatable {
        /// The schema version recorded in the file (`PRAGMA user_version`).
        public var schemaVersion: Int
        /// The newest schema version this build knows.
        public var knownVersion: Int
        /// `ok`, or what `PRAGMA quick_check` found wrong.
        public var integrity: String
        public var pageSize: Int
        public var journalMode: String
    }

    /// Reads the file's schema version, page size and journal mode and runs SQLite's quick
    /// integrity check. Fails with `notFound` for a missing file (a server would create it).
    public static func inspect(path: String) throws(StorageError) -> Inspection {
        guard access(path, F_OK) == 0 else { throw .notFound("there is no database at \(path)") }
        let connection = try SQLiteConnection.open(path: path, mode: .readOnly)
        defer { connection.close() }
        let problems = try connection.query("PRAGMA quick_check") { $0.text(0) ?? "" }
        return Inspection(
            schemaVersion: try Schema.version(connection),
            knownVersion: Schema.currentVersion,
            integrity: problems.joined(separator: "; "),
            pageSize: try connection.queryFirst("PRAGMA page_size") { $0.int(0) } ?? 0,
            journalMode: try connection.queryFirst("PRAGMA journal_mode") { $0.text(0) } ?? ""
        )
    }

    /// Writes a consistent copy of the store at `path` to `destination` while servers may be
    /// writing to it: one read transaction (`VACUUM INTO`) sees one committed state, so the copy
    /// holds every transaction committed before it started and none after. The copy is written
    /// to a temporary name beside `destination`, checked, then renamed, so a failed backup never
    /// leaves a partial file under the name asked for. `destination` must not exist.
    public static func backup(path: String, to destination: String) throws(StorageError) -> Inspection {
        guard access(path, F_OK) == 0 else { throw .notFound("there is no database at \(path)") }
        guard access(destination, F_OK) != 0 else {
            throw .alreadyExists("\(destination) exists; a backup never overwrites a file")
        }
        let partial = destination + ".partial"
        unlink(partial)
        do throws(StorageError) {
            let source = try SQLiteConnection.open(path: path, mode: .readOnly)
            defer { source.close() }
            let quoted = "'" + partial.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "''") + "'"
            try source.exec("VACUUM INTO \(quoted)")
            let copy = try inspect(path: partial)
            guard copy.integrity == "ok" else { throw StorageError.internal("the copy fails its integrity check: \(copy.integrity)") }
            guard rename(partial, destination) == 0 else {
                throw StorageError.internal("cannot rename \(partial) to \(destination): \(String(cString: strerror(errno)))")
            }
            return copy
        } catch {
            unlink(partial)
            throw error
        }
    }
}
