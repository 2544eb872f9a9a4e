public import AssayModels
internal import CTesseract

/// Tesseract 5 through its C API, one page at a time: the text of an image with the box and
/// confidence of every word. This is the engine `TesseractProvider` runs on its threads, and
/// it is usable without the rest of Assay (the benchmark calls it directly to compare).
///
/// An engine belongs to one thread: Tesseract's handle is not thread-safe, and the engine
/// makes its thread run Tesseract single-threaded (see `init`). Create one per thread and
/// reuse it; creating one loads the language data (tens of milliseconds).
public final class TesseractEngine {
    public let language: String
    public let dataPath: String
    private let handle: OpaquePointer
    private let singleThreaded: Bool

    /// Loads `language` (a traineddata name such as `eng`) from `dataPath`.
    ///
    /// With `singleThreaded` (the default) the calling thread's OpenMP regions stop fanning
    /// out: Debian builds Tesseract with OpenMP, which spreads one small page over every core
    /// and is then many times slower than one core per page. Use the cores by running one
    /// engine per thread instead. The setting is per thread (other threads keep theirs) and
    /// `recognize` applies it again on the thread that calls it.
    public init(
        language: String = "eng", dataPath: String = TesseractEngine.defaultDataPath, singleThreaded: Bool = true
    )
        throws(TesseractError)
    {
        guard !language.isEmpty, language.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "+" }) else {
            throw TesseractError("invalid language name \"\(language)\"")
        }
        let traineddata = language.split(separator: "+").map { "\(dataPath)/\($0).traineddata" }
        if let missing = traineddata.first(where: { !LocalFile.exists($0) }) {
            throw TesseractError("no language data \(missing)")
        }
        // Leptonica prints every undecodable image to stderr; the row's failure says it instead.
        // (Leptonica's only setting, process-wide.)
        _ = setMsgSeverity(Int32(L_SEVERITY_NONE))
        guard let handle = TessBaseAPICreate() else { throw TesseractError("TessBaseAPICreate failed") }
        self.singleThreaded = singleThreaded
        if singleThreaded { assay_tesseract_run_single_threaded() }
        // Tesseract writes its diagnostics through tprintf; keep them off the server's stderr.
        _ = TessBaseAPISetVariable(handle, "debug_file", "/dev/null")
        guard TessBaseAPIInit3(handle, dataPath, language) == 0 else {
            TessBaseAPIDelete(handle)
            throw TesseractError("cannot load Tesseract language \(language) from \(dataPath)")
        }
        self.handle = handle
        self.language = language
        self.dataPath = dataPath
    }

    deinit {
        TessBaseAPIEnd(handle)
        TessBaseAPIDelete(handle)
    }

    /// Recognises the text of an encoded image (PNG, JPEG, TIFF, BMP, WebP, GIF, PNM).
    /// `pageSegmentationMode` is Tesseract's `--psm` (3: automatic, 6: one block, 7: one line,
    /// 11: sparse text, …). Words come in reading order.
    public func recognize(_ encodedImage: [UInt8], pageSegmentationMode: Int = 3) throws(TesseractError) -> OCRPage {
        guard TesseractEngine.pageSegmentationModes.contains(pageSegmentationMode) else {
            throw TesseractError("unsupported page segmentation mode \(pageSegmentationMode)")
        }
        let mode = TessPageSegMode(rawValue: UInt32(pageSegmentationMode))
        guard !encodedImage.isEmpty else { throw TesseractError("no image bytes") }
        var pix: UnsafeMutablePointer<PIX>? = encodedImage.withUnsafeBufferPointer {
            pixReadMem($0.baseAddress, $0.count)
        }
        guard pix != nil else { throw TesseractError("not a decodable image (PNG, JPEG, TIFF, BMP, WebP, GIF, PNM)") }
        defer { pixDestroy(&pix) }
        let width = Int(pixGetWidth(pix))
        let height = Int(pixGetHeight(pix))

        if singleThreaded { assay_tesseract_run_single_threaded() }
        TessBaseAPISetPageSegMode(handle, mode)
        TessBaseAPISetImage2(handle, pix)
        // Images without a resolution (most PNGs) would make Tesseract guess one and warn.
        if pixGetXRes(pix) < 70 { TessBaseAPISetSourceResolution(handle, 300) }
        defer { TessBaseAPIClear(handle) }
        guard TessBaseAPIRecognize(handle, nil) == 0 else { throw TesseractError("recognition failed") }

        var words: [OCRWord] = []
        if let iterator = TessBaseAPIGetIterator(handle) {
            defer { TessResultIteratorDelete(iterator) }
            let pageIterator = TessResultIteratorGetPageIterator(iterator)
            repeat {
                guard let raw = TessResultIteratorGetUTF8Text(iterator, RIL_WORD) else { continue }
                let text = String(cString: raw)
                TessDeleteText(raw)
                var left: Int32 = 0
                var top: Int32 = 0
                var right: Int32 = 0
                var bottom: Int32 = 0
                guard TessPageIteratorBoundingBox(pageIterator, RIL_WORD, &left, &top, &right, &bottom) != 0 else {
                    continue
                }
                let confidence = Double(TessResultIteratorConfidence(iterator, RIL_WORD))
                words.append(
                    OCRWord(
                        text: text, left: Int(left), top: Int(top), width: Int(right - left), height: Int(bottom - top),
                        confidence: min(100, max(0, confidence))))
            } while TessResultIteratorNext(iterator, RIL_WORD) != 0
        }
        var text = ""
        if let raw = TessBaseAPIGetUTF8Text(handle) {
            text = String(cString: raw)
            TessDeleteText(raw)
        }
        let mean = Int(TessBaseAPIMeanTextConf(handle))
        return OCRPage(text: text, words: words, width: width, height: height, meanConfidence: max(0, min(100, mean)))
    }

    /// The `--psm` values that produce text (0 and 2 only analyse the layout; 1 needs OSD data).
    public static let pageSegmentationModes: ClosedRange<Int> = 3...13

    /// Tesseract's version, such as `5.3.0`.
    public static var version: String { String(cString: TessVersion()) }

    /// `TESSDATA_PREFIX` when set, else where Debian's tesseract-ocr-* packages put the data.
    public static var defaultDataPath: String {
        LocalFile.environment("TESSDATA_PREFIX") ?? "/usr/share/tesseract-ocr/5/tessdata"
    }

    /// The languages installed in `dataPath` (their traineddata names), without `osd`, which
    /// detects orientation only.
    public static func installedLanguages(dataPath: String = defaultDataPath) -> [String] {
        LocalFile.names(in: dataPath).compactMap { name in
            guard name.hasSuffix(".traineddata") else { return nil }
            let language = String(name.dropLast(".traineddata".count))
            return language == "osd" ? nil : language
        }
    }
}

/// The text Tesseract read on one image.
public struct OCRPage: Hashable, Sendable {
    /// The whole text, lines separated by newlines, paragraphs by blank lines.
    public var text: String
    public var words: [OCRWord]
    /// The image's size in pixels.
    public var width: Int
    public var height: Int
    /// Tesseract's mean word confidence, 0...100.
    public var meanConfidence: Int
}

/// One recognised word and where it is, in pixels from the image's top left.
public struct OCRWord: Hashable, Sendable {
    public var text: String
    public var left: Int
    public var top: Int
    public var width: Int
    public var height: Int
    /// 0...100.
    public var confidence: Double
}

/// Tesseract could not load or could not read an image.
public struct TesseractError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
