import AssayCore
import Testing

import AssayModels
@testable import AssayNativeModels

#if canImport(Glibc)
    import Glibc
#endif

/// Where `make models` installed the files the tests need (`$ASSAY_CACHE`).
let cache = NativeModels.defaultCache

/// Bytes of a file `make models` installed; the test fails (not skips) when it is missing.
func cachedFile(_ relativePath: String) throws -> [UInt8] {
    let path = "\(cache)/\(relativePath)"
    do { return try LocalFile.read(path, limit: 64 << 20) } catch {
        Issue.record("\(error.message): run `make models` first")
        throw error
    }
}

/// Lowercased words separated by single spaces.
func normalized(_ text: String) -> String {
    text.lowercased().split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
}

func row(_ id: String, image: [UInt8] = [], text: String = "", uri: String = "", mediaType: MediaType = .image)
    -> ModelInput
{
    ModelInput(rowID: ObjectID(rawValue: id), mediaType: mediaType, content: image, text: text, uri: uri)
}

/// Intersection over union of two boxes (left, top, width, height).
func iou(_ a: (Double, Double, Double, Double), _ b: (Double, Double, Double, Double)) -> Double {
    let width = max(0, min(a.0 + a.2, b.0 + b.2) - max(a.0, b.0))
    let height = max(0, min(a.1 + a.3, b.1 + b.3) - max(a.1, b.1))
    let intersection = width * height
    return intersection / (a.2 * a.3 + b.2 * b.3 - intersection)
}

/// A file in a fresh temporary directory, removed by the caller.
func temporaryFile(named name: String, contents: [UInt8]) throws -> String {
    var template = Array("/tmp/assay-models-XXXXXX".utf8CString)
    guard let directory = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
        throw RowFailure("mkdtemp failed")
    }
    let path = String(cString: directory) + "/" + name
    guard let file = fopen(path, "wb") else { throw RowFailure("cannot create \(path)") }
    defer { fclose(file) }
    guard fwrite(contents, 1, contents.count, file) == contents.count else { throw RowFailure("cannot write \(path)") }
    return path
}

func removeTemporaryFile(_ path: String) {
    unlink(path)
    var directory = path
    while let last = directory.last, last != "/" { directory.removeLast() }
    rmdir(String(directory.dropLast()))
}

/// Monotonic seconds.
func now() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}
