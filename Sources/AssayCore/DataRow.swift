/// A named collection of data rows.
public struct Dataset: Hashable, Sendable {
    public var id: ObjectID
    public var organizationID: ObjectID
    public var name: String
    public var description: String
    public var createdAt: Timestamp
    public var rowCount: Int

    public init(id: ObjectID, organizationID: ObjectID, name: String, description: String, createdAt: Timestamp, rowCount: Int = 0) {
        self.id = id
        self.organizationID = organizationID
        self.name = name
        self.description = description
        self.createdAt = createdAt
        self.rowCount = rowCount
    }
}

/// What a data row holds.
public enum MediaType: String, Hashable, Sendable, CaseIterable {
    case image, text, document, conversation, audio
}

/// A file or note attached to a row (a second image, a link, a caption).
public struct Attachment: Hashable, Sendable {
    public var kind: String
    public var value: String

    public init(kind: String, value: String) {
        self.kind = kind
        self.value = value
    }
}

/// One item of data: an image, a text, a document, a conversation, a recording.
public struct DataRow: Hashable, Sendable {
    public var id: ObjectID
    public var datasetID: ObjectID
    /// Unique per organisation; ingesting the same key again updates the row.
    public var globalKey: String
    public var mediaType: MediaType
    public var uri: String
    public var content: [UInt8]
    public var text: String
    public var metadata: [String: String]
    public var attachments: [Attachment]
    public var createdAt: Timestamp
    public var updatedAt: Timestamp

    public init(
        id: ObjectID, datasetID: ObjectID, globalKey: String, mediaType: MediaType, uri: String = "",
        content: [UInt8] = [], text: String = "", metadata: [String: String] = [:], attachments: [Attachment] = [],
        createdAt: Timestamp = 0, updatedAt: Timestamp = 0
    ) {
        self.id = id
        self.datasetID = datasetID
        self.globalKey = globalKey
        self.mediaType = mediaType
        self.uri = uri
        self.content = content
        self.text = text
        self.metadata = metadata
        self.attachments = attachments
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}
