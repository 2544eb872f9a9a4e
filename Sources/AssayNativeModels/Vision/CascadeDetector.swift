public import AssayModels
internal import CAssayVision

/// An OpenCV cascade classifier (Haar or LBP) loaded from its XML file: finds one kind of object
/// (faces, eyes, bodies, plates) at every scale of a grey image. Not thread-safe (OpenCV keeps
/// scratch buffers in it): one detector per thread, reused across images.
public final class CascadeDetector {
    public let path: String
    private let cascade: OpaquePointer
    /// The smallest object it finds: the size it was trained on, in pixels.
    public let windowWidth: Int
    public let windowHeight: Int

    public init(path: String) throws(VisionError) {
        guard let cascade = assay_cascade_load(path) else { throw VisionError(lastError()) }
        self.cascade = cascade
        self.path = path
        windowWidth = Int(assay_cascade_window_width(cascade))
        windowHeight = Int(assay_cascade_window_height(cascade))
    }

    deinit { assay_cascade_free(cascade) }

    /// The objects in `image`, after OpenCV's grouping of overlapping windows: a window needs
    /// `minNeighbors` overlapping hits to count. `minSize` / `maxSize` bound the square side in
    /// pixels (0: the cascade's window / no bound).
    public func detect(
        in image: GrayImage, scaleFactor: Double = 1.1, minNeighbors: Int = 3, minSize: Int = 0, maxSize: Int = 0
    )
        throws(VisionError) -> [Detection]
    {
        var capacity = 64
        while true {
            var found = [assay_detection](repeating: assay_detection(), count: capacity)
            let count = Int(
                assay_cascade_detect(
                    cascade, image.image, scaleFactor, Int32(clamping: minNeighbors), Int32(clamping: minSize),
                    Int32(clamping: maxSize), &found, Int32(capacity)))
            guard count >= 0 else { throw VisionError(lastError()) }
            if count > capacity {
                capacity = count
                continue
            }
            return found[..<count].map {
                Detection(
                    left: Int($0.left), top: Int($0.top), width: Int($0.width), height: Int($0.height),
                    rejectLevel: Int($0.reject_level), levelWeight: $0.level_weight)
            }
        }
    }

    /// OpenCV's version, such as `4.6.0`.
    public static var openCVVersion: String { String(cString: assay_vision_version()) }

    /// How many threads OpenCV itself uses inside one call (process-wide). 1 runs each call on
    /// its caller's thread, so that parallel calls, not one call, use the cores.
    public static func setOpenCVThreads(_ count: Int) {
        assay_vision_set_threads(Int32(clamping: count))
    }
}

/// One object a cascade found, in pixels from the image's top left.
public struct Detection: Hashable, Sendable {
    public var left: Int
    public var top: Int
    public var width: Int
    public var height: Int
    /// The last cascade stage the window reached and its summed response there: larger weights
    /// are surer detections (OpenCV's `detectMultiScale3` scores).
    public var rejectLevel: Int
    public var levelWeight: Double
}

/// An image decoded to 8-bit grey by OpenCV.
public final class GrayImage: @unchecked Sendable {
    // Immutable after decoding; OpenCV only reads it, so threads may share it.
    let image: OpaquePointer
    public let width: Int
    public let height: Int

    /// Decodes PNG, JPEG, BMP, TIFF, WebP … bytes.
    public init(encoded bytes: [UInt8]) throws(VisionError) {
        guard let image = bytes.withUnsafeBufferPointer({ assay_image_decode($0.baseAddress, $0.count) }) else {
            throw VisionError(lastError())
        }
        self.image = image
        width = Int(assay_image_width(image))
        height = Int(assay_image_height(image))
    }

    deinit { assay_image_free(image) }
}

/// OpenCV could not load a cascade or decode an image.
public struct VisionError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Draws text in black on white (OpenCV's Hershey duplex font) and encodes it as PNG: clean
/// images for OCR tests and benchmarks. Lines split at `\n`; `fontScale` 1 is about 22 px high.
package func renderTextPNG(_ text: String, fontScale: Double = 1.5, thickness: Int = 2) throws(VisionError) -> [UInt8] {
    var buffer: UnsafeMutablePointer<UInt8>?
    var count = 0
    guard assay_render_text_png(text, fontScale, Int32(clamping: thickness), &buffer, &count) == 0, let buffer else {
        throw VisionError(lastError())
    }
    defer { assay_vision_free_buffer(buffer) }
    return Array(UnsafeBufferPointer(start: buffer, count: count))
}

private func lastError() -> String {
    String(cString: assay_vision_last_error())
}
