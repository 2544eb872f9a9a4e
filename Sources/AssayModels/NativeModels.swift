#if canImport(Glibc)
    import Glibc
#endif

/// The in-process models: Tesseract OCR, OpenCV cascade detectors and e5 text embeddings.
public enum NativeModels {
    /// How many cores this machine has online (at least 1): the default thread count.
    public static var cores: Int {
        max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }
}
