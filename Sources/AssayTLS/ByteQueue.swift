internal import COpenSSL

#if canImport(Glibc)
    import Glibc
#endif

/// Bytes waiting to be written, in order, in raw memory moved with memcpy.
///
/// Ciphertext goes through here at the speed of the network; Array's generic append and
/// remove paths cost per byte in debug builds (where the tests run), this does not.
final class ByteQueue: @unchecked Sendable {
    // @unchecked: a queue has one owner at a time, the channel's locked state or the one
    // thread writing it out (which took it from the state under the lock).
    private var storage: UnsafeMutableRawPointer
    private var capacity: Int
    private var head = 0
    private var tail = 0

    init(capacity: Int = 16 * 1024) {
        self.capacity = capacity
        storage = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
    }

    deinit { storage.deallocate() }

    var count: Int { tail - head }
    /// Bytes allocated, to decide whether an emptied queue is worth keeping.
    var allocated: Int { capacity }
    var isEmpty: Bool { tail == head }

    /// Room for `extra` more bytes after the tail.
    private func reserve(_ extra: Int) {
        if tail + extra <= capacity { return }
        let live = count
        if live + extra <= capacity {
            memmove(storage, storage + head, live)
        } else {
            var newCapacity = capacity
            while newCapacity < live + extra { newCapacity *= 2 }
            let grown = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
            memcpy(grown, storage + head, live)
            storage.deallocate()
            storage = grown
            capacity = newCapacity
        }
        head = 0
        tail = live
    }

    func append(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        reserve(bytes.count)
        memcpy(storage + tail, base, bytes.count)
        tail += bytes.count
    }

    /// Moves everything `other` holds to the end of this queue.
    func append(_ other: ByteQueue) {
        other.withBytes { append($0) }
        other.removeAll()
    }

    /// Moves everything pending in a memory BIO to the end of the queue.
    func append(bio: OpaquePointer) {
        while true {
            let pending = Int(BIO_ctrl_pending(bio))
            if pending <= 0 { return }
            reserve(pending)
            let n = BIO_read(bio, storage + tail, Int32(pending))
            if n <= 0 { return }
            tail += Int(n)
        }
    }

    func withBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        body(UnsafeRawBufferPointer(start: storage + head, count: count))
    }

    /// Drops the first `n` bytes (they were written).
    func removeFirst(_ n: Int) {
        head += min(n, count)
        if head == tail { removeAll() }
    }

    func removeAll() {
        head = 0
        tail = 0
    }
}
