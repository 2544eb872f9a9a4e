import AssayCore
import AssayStorage
import AssayWire

/// The checks a row passes before it is stored. A failing row gets a `RowError` with a code a
/// client can act on; the rest of its batch is stored.
struct RowValidation: Sendable {
    /// The most bytes of content, text, metadata and attachments one row may carry.
    var maxRowBytes = 1 << 20
    var maxGlobalKeyBytes = 512

    /// A row that passed, or the error it gets.
    enum Outcome {
        case success(NewDataRow)
        case failure(RowError)
    }

    func check(_ row: WireDataRow, index: Int) -> Outcome {
        func failure(_ code: String, _ message: String) -> Outcome {
            .failure(RowError(index: UInt32(index), globalKey: row.globalKey, code: code, message: message))
        }
        let key = row.globalKey
        if key.isEmpty { return failure("invalid_global_key", "the global key is empty") }
        if key.utf8.count > maxGlobalKeyBytes {
            return failure("invalid_global_key", "the global key is \(key.utf8.count) bytes; the limit is \(maxGlobalKeyBytes)")
        }
        if key.utf8.contains(where: { $0 < 0x20 || $0 == 0x7f }) {
            return failure("invalid_global_key", "the global key contains a control character")
        }
        guard let media = Convert.mediaType(row.mediaType) else {
            let name = row.mediaType.protoName ?? "\(row.mediaType.rawValue)"
            return failure("unknown_media_type", "media type \(name) is not one of IMAGE, TEXT, DOCUMENT, CONVERSATION, AUDIO")
        }
        var size = row.content.count + row.text.utf8.count + row.uri.utf8.count
        for (k, v) in row.metadata {
            if k.isEmpty { return failure("invalid_metadata", "a metadata key is empty") }
            size += k.utf8.count + v.utf8.count
        }
        for a in row.attachments { size += a.kind.utf8.count + a.value.utf8.count }
        if size > maxRowBytes {
            return failure("row_too_large", "the row carries \(size) bytes; the limit is \(maxRowBytes)")
        }
        return .success(NewDataRow(
            globalKey: key, mediaType: media, uri: row.uri, content: row.content, text: row.text,
            metadata: row.metadata, attachments: row.attachments.map { Attachment(kind: $0.kind, value: $0.value) }
        ))
    }
}
