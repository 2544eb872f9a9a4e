import AssayWire

/// Where `assay ingest` reads rows from: a JSONL file, a CSV file or a folder (docs/catalog.md).
enum RowSource {
    case jsonl(String)
    case csv(String)
    case folder(String)

    init(path: String) throws {
        if isDirectory(path) { self = .folder(path) }
        else if path.hasSuffix(".jsonl") || path.hasSuffix(".ndjson") { self = .jsonl(path) }
        else if path.hasSuffix(".csv") { self = .csv(path) }
        else { throw UsageError("\(path): expected a .jsonl, .ndjson or .csv file, or a folder") }
    }

    /// A problem in the input, with where it is.
    struct InputError: Error, CustomStringConvertible {
        let description: String
    }

    /// Calls `body` with each row in order; a malformed row throws before `body` sees it.
    func forEach(_ body: (DataRow) async throws -> Void) async throws {
        switch self {
        case .jsonl(let path):
            var reader = try LineReader(path: path)
            defer { reader.close() }
            var number = 0
            while let line = try reader.next() {
                number += 1
                if line.allSatisfy({ $0 == 32 || $0 == 9 }) { continue }
                let text = String(decoding: line, as: UTF8.self)
                do {
                    try await body(try DataRow(jsonString: text))
                } catch let e as ProtoDecodingError {
                    throw InputError(description: "\(path):\(number): \(e)")
                }
            }
        case .csv(let path):
            var reader = try LineReader(path: path)
            defer { reader.close() }
            guard let headerLine = try reader.next() else { return }
            let header = try CSV.fields(String(decoding: headerLine, as: UTF8.self), line: 1, path: path)
            guard header.contains("global_key") else {
                throw InputError(description: "\(path):1: the header needs a global_key column")
            }
            let known: Set<String> = ["global_key", "media_type", "uri", "text"]
            for column in header where !known.contains(column) && !column.hasPrefix("metadata.") {
                throw InputError(description: "\(path):1: unknown column \(column) (use global_key, media_type, uri, text, metadata.<key>)")
            }
            var number = 1
            while let line = try reader.next() {
                number += 1
                if line.isEmpty { continue }
                let fields = try CSV.fields(String(decoding: line, as: UTF8.self), line: number, path: path)
                guard fields.count == header.count else {
                    throw InputError(description: "\(path):\(number): \(fields.count) fields, the header has \(header.count)")
                }
                var row = DataRow()
                for (column, value) in zip(header, fields) {
                    switch column {
                    case "global_key": row.globalKey = value
                    case "media_type":
                        guard let m = MediaType.allKnown.first(where: { $0.protoName == value.uppercased() }) else {
                            throw InputError(description: "\(path):\(number): unknown media type \(value)")
                        }
                        row.mediaType = m
                    case "uri": row.uri = value
                    case "text": row.text = value
                    default: if !value.isEmpty { row.metadata[String(column.dropFirst("metadata.".count))] = value }
                    }
                }
                if row.mediaType == .unspecified { row.mediaType = row.text.isEmpty ? .image : .text }
                try await body(row)
            }
        case .folder(let root):
            for relative in listFiles(root) {
                let ext = relative.split(separator: ".").last.map { $0.lowercased() } ?? ""
                var row = DataRow(globalKey: relative, metadata: ["file": relative])
                let bytes = try readFile(root + "/" + relative)
                switch ext {
                case "jpg", "jpeg", "png", "gif", "webp", "bmp", "tif", "tiff":
                    row.mediaType = .image
                    row.content = bytes
                case "txt", "md":
                    row.mediaType = .text
                    row.text = String(decoding: bytes, as: UTF8.self)
                case "pdf":
                    row.mediaType = .document
                    row.content = bytes
                case "wav", "mp3", "flac", "ogg":
                    row.mediaType = .audio
                    row.content = bytes
                default:
                    continue  // not a kind of file Assay ingests
                }
                try await body(row)
            }
        }
    }
}

/// RFC 4180 fields of one line (no newlines inside quotes).
enum CSV {
    static func fields(_ line: String, line number: Int, path: String) throws -> [String] {
        var out: [String] = []
        var current = ""
        var quoted = false
        var afterQuote = false
        var chars = line.makeIterator()
        while let c = chars.next() {
            if quoted {
                if c == "\"" {
                    quoted = false
                    afterQuote = true
                } else {
                    current.append(c)
                }
            } else if c == "\"" {
                if afterQuote { current.append("\""); quoted = true; afterQuote = false }
                else if current.isEmpty { quoted = true }
                else { throw RowSource.InputError(description: "\(path):\(number): a quote inside an unquoted field") }
            } else if c == "," {
                out.append(current)
                current = ""
                afterQuote = false
            } else {
                if afterQuote { throw RowSource.InputError(description: "\(path):\(number): text after a closing quote") }
                current.append(c)
            }
        }
        if quoted { throw RowSource.InputError(description: "\(path):\(number): an unclosed quote") }
        out.append(current)
        return out
    }
}
