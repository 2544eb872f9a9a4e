#if canImport(Glibc)
import Glibc
#endif

/// A file that could not be read.
struct FileError: Error, CustomStringConvertible {
    let description: String
}

/// The whole file.
func readFile(_ path: String) throws -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw FileError(description: "cannot open \(path): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var out: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 { throw FileError(description: "cannot read \(path): \(String(cString: strerror(errno)))") }
        if n == 0 { break }
        out.append(contentsOf: buffer[0..<n])
    }
    return out
}

/// Reads a file line by line without holding it all in memory.
struct LineReader {
    private let fd: Int32
    private var buffer: [UInt8] = []
    private var start = 0
    private var eof = false
    let path: String

    init(path: String) throws {
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError(description: "cannot open \(path): \(String(cString: strerror(errno)))") }
        self.path = path
    }

    func close() { Glibc.close(fd) }

    /// The next line without its newline (a trailing "\r" is dropped too), or nil at the end.
    mutating func next() throws -> [UInt8]? {
        while true {
            if let nl = buffer[start...].firstIndex(of: 10) {
                var line = Array(buffer[start..<nl])
                start = nl + 1
                if line.last == 13 { line.removeLast() }
                return line
            }
            if eof {
                guard start < buffer.count else { return nil }
                var line = Array(buffer[start...])
                start = buffer.count
                if line.last == 13 { line.removeLast() }
                return line
            }
            if start > 0 {
                buffer.removeFirst(start)
                start = 0
            }
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 { throw FileError(description: "cannot read \(path): \(String(cString: strerror(errno)))") }
            if n == 0 { eof = true } else { buffer.append(contentsOf: chunk[0..<n]) }
        }
    }
}

/// Whether `path` is a directory.
func isDirectory(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
}

/// Every regular file below `root`, as paths relative to it, sorted.
func listFiles(_ root: String) -> [String] {
    var out: [String] = []
    func walk(_ relative: String) {
        let full = relative.isEmpty ? root : root + "/" + relative
        guard let dir = opendir(full) else { return }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) { p in
                p.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name == "." || name == ".." || name.hasPrefix(".") { continue }
            let rel = relative.isEmpty ? name : relative + "/" + name
            if isDirectory(root + "/" + rel) { walk(rel) } else { out.append(rel) }
        }
    }
    walk("")
    return out.sorted()
}

/// True when standard error is a terminal (progress bars only go there).
var stderrIsTerminal: Bool { isatty(2) == 1 }
