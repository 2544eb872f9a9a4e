public import AssayModels
/// Objects that belong to one thread of a `BlockingPool` (a Tesseract handle, an OpenCV
/// cascade), created on first use by that thread and kept for its later jobs, by key.
final class PerThreadCache<Object>: @unchecked Sendable {
    // Slot i is read and written only by the pool's thread i (the index `BlockingPool.run`
    // passes), so no two threads touch the same slot; the array itself is never mutated.
    private final class Slot {
        var objects: [String: Object] = [:]
    }
    private let slots: [Slot]

    init(threads: Int) {
        slots = (0..<max(1, threads)).map { _ in Slot() }
    }

    /// The calling thread's object for `key`, made by `make` the first time. A thread outside
    /// the pool (index -1, after `stop`) gets a fresh object that is not kept.
    func object<Failure: Error>(thread: Int, key: String, make: () throws(Failure) -> Object) throws(Failure) -> Object
    {
        guard slots.indices.contains(thread) else { return try make() }
        let slot = slots[thread]
        if let object = slot.objects[key] { return object }
        let object = try make()
        slot.objects[key] = object
        return object
    }
}
