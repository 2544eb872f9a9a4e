/// The 8 bytes each peer sends first: the magic "ASSAY\0" and a big-endian protocol version.
///
/// A peer that reads another magic, or a version it does not speak, answers with its own
/// preface and a GOAWAY naming the problem, then closes (docs/protocol.md, "Handshake").
public struct Preface: Sendable, Hashable {
    public static let magic: [UInt8] = Array("ASSAY".utf8) + [0]
    public static let size = 8
    /// The protocol version this build speaks.
    public static let currentVersion: UInt16 = 1

    public var version: UInt16

    public init(version: UInt16 = Preface.currentVersion) { self.version = version }

    public var bytes: [UInt8] {
        Preface.magic + [UInt8(version >> 8), UInt8(version & 0xff)]
    }

    /// Why 8 bytes are not an acceptable preface.
    public enum Problem: Error, Hashable, CustomStringConvertible {
        case badMagic
        case unsupportedVersion(UInt16)

        public var description: String {
            switch self {
            case .badMagic: "bad preface: the peer does not speak the Assay protocol"
            case .unsupportedVersion(let v):
                "unsupported protocol version \(v); this peer speaks version \(Preface.currentVersion)"
            }
        }
    }

    /// Parses exactly `Preface.size` bytes.
    public static func parse(_ bytes: some Collection<UInt8>) -> Result<Preface, Problem> {
        let b = Array(bytes)
        precondition(b.count == size)
        guard Array(b[0..<6]) == magic else { return .failure(.badMagic) }
        let version = UInt16(b[6]) << 8 | UInt16(b[7])
        guard version == currentVersion else { return .failure(.unsupportedVersion(version)) }
        return .success(Preface(version: version))
    }
}
