public import AssayModels
#if canImport(Glibc)
    import Glibc
#endif

/// Why one row cannot be predicted; becomes that row's `.failure(message)`.
struct RowFailure: Error, Hashable, Sendable {
    var message: String
    init(_ message: String) { self.message = message }
}

/// The encoded image of a row: its inline bytes, else the local file its uri names
/// (`file:///path` or `/path`). Other uris (s3://, https://) are not fetched here.
enum RowImage {
    /// Larger files are refused rather than read (a row, not a disk image).
    static let maximumFileBytes = 256 << 20

    static func bytes(of row: ModelInput) throws(RowFailure) -> [UInt8] {
        if !row.content.isEmpty { return row.content }
        guard !row.uri.isEmpty else { throw RowFailure("the row has no image: no inline bytes and no uri") }
        guard let path = localPath(row.uri) else {
            throw RowFailure(
                "the row has no inline image bytes and its uri \(row.uri) is not a local file (file:// or an absolute path)"
            )
        }
        return try LocalFile.read(path, limit: maximumFileBytes)
    }

    /// The path of a `file://` uri (percent-escapes decoded) or an absolute path; nil otherwise.
    static func localPath(_ uri: String) -> String? {
        if uri.hasPrefix("/") { return uri }
        let scheme = "file://"
        guard uri.lowercased().hasPrefix(scheme) else { return nil }
        var rest = Substring(uri.dropFirst(scheme.count))
        // file://localhost/path and file:///path; a file://otherhost/ path is not local.
        if rest.lowercased().hasPrefix("localhost/") { rest = rest.dropFirst("localhost".count) }
        guard rest.hasPrefix("/") else { return nil }
        return percentDecoded(rest)
    }

    private static func percentDecoded(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard utf8.count >= 2, let high = hexValue(utf8.removeFirst()), let low = hexValue(utf8.removeFirst())
            else { return nil }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// Whole-file reads and directory listings for the model files and row images; the one place
/// this module makes those syscalls (EINTR retried, errno turned into a message).
enum LocalFile {
    static func read(_ path: String, limit: Int) throws(RowFailure) -> [UInt8] {
        let fd = retrying { open(path, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { throw RowFailure("cannot open \(path): \(errorText(errno))") }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw RowFailure("cannot stat \(path): \(errorText(errno))") }
        guard (status.st_mode & S_IFMT) == S_IFREG else { throw RowFailure("\(path) is not a regular file") }
        guard Int(status.st_size) <= limit else { throw RowFailure("\(path) is larger than \(limit) bytes") }
        var bytes = [UInt8](repeating: 0, count: Int(status.st_size))
        var filled = 0
        while filled < bytes.count {
            let count = bytes.withUnsafeMutableBytes { buffer in
                retrying { Glibc.read(fd, buffer.baseAddress! + filled, buffer.count - filled) }
            }
            guard count >= 0 else { throw RowFailure("cannot read \(path): \(errorText(errno))") }
            if count == 0 { break }
            filled += count
        }
        return Array(bytes[..<filled])
    }

    static func exists(_ path: String) -> Bool {
        access(path, R_OK) == 0
    }

    /// The names in a directory (no `.` and `..`), sorted; empty when it cannot be read.
    static func names(in directory: String) -> [String] {
        guard let stream = opendir(directory) else { return [] }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    static func environment(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        let text = String(cString: value)
        return text.isEmpty ? nil : text
    }

    static func errorText(_ code: Int32) -> String {
        String(cString: strerror(code))
    }

    private static func retrying<T: BinaryInteger>(_ call: () -> T) -> T {
        while true {
            let result = call()
            if result >= 0 || errno != EINTR { return result }
        }
    }
}
