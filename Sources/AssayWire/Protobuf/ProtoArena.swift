internal import CProtobufC

#if canImport(Glibc)
internal import Glibc
#elseif canImport(Musl)
internal import Musl
#endif

/// A bump allocator over malloc'd blocks, handed to protobuf-c as its `ProtobufCAllocator`.
///
/// Everything protobuf-c unpacks, and every C struct we build to pack, lives in one arena and
/// dies with it (or with `reset()`): no per-field frees, no `free_unpacked` walk. A byte limit
/// makes `alloc` return NULL once a decode has taken more than its share, which protobuf-c
/// reports as a failed unpack; `limitExceeded` then tells that apart from malformed input.
///
/// `@unchecked Sendable` because it moves between threads through `ProtoArenaPool`, but is
/// never shared: the pool hands an arena to one call at a time and takes it back when the call
/// is done, so its unsynchronised state is only ever touched by one thread.
final class ProtoArena: @unchecked Sendable {
    /// The allocator protobuf-c calls; `allocator_data` points at `state`.
    let allocator: UnsafeMutablePointer<ProtobufCAllocator>
    private let state: UnsafeMutablePointer<State>

    /// The size of the first block, kept across `reset()` so small messages never touch malloc.
    static let firstBlockSize = 16 << 10
    /// Blocks double from the first up to this size; larger requests get a block of their own.
    static let maximumBlockSize = 1 << 20

    init() {
        state = .allocate(capacity: 1)
        let first = malloc(Self.firstBlockSize)!
        first.storeBytes(of: nil, as: UnsafeMutableRawPointer?.self)
        state.initialize(
            to: State(
                cursor: first + State.headerSize,
                end: first + Self.firstBlockSize,
                first: first,
                blocks: first,
                used: 0,
                limit: .max,
                limitExceeded: false,
                nextBlockSize: Self.firstBlockSize * 2
            )
        )
        allocator = .allocate(capacity: 1)
        allocator.initialize(
            to: ProtobufCAllocator(
                alloc: { data, size in
                    data.unsafelyUnwrapped.assumingMemoryBound(to: State.self).pointee.allocate(size)
                },
                // Nothing is freed one by one: the arena frees its blocks as a whole.
                free: { _, _ in },
                allocator_data: UnsafeMutableRawPointer(state)
            )
        )
    }

    deinit {
        state.pointee.freeBlocks(keepingFirst: false)
        state.deinitialize(count: 1)
        state.deallocate()
        allocator.deinitialize(count: 1)
        allocator.deallocate()
    }

    /// The most bytes `allocate` hands out before it starts returning nil.
    var limit: Int {
        get { state.pointee.limit }
        set { state.pointee.limit = newValue }
    }

    /// Whether an allocation failed because of `limit`.
    var limitExceeded: Bool { state.pointee.limitExceeded }

    /// Bytes handed out since the last reset.
    var bytesUsed: Int { state.pointee.used }

    /// Frees every block but the first, forgets every allocation and lifts the limit.
    func reset() {
        state.pointee.freeBlocks(keepingFirst: true)
    }

    /// `byteCount` bytes aligned to 8, or nil past the limit.
    @inline(__always)
    func allocate(byteCount: Int) -> UnsafeMutableRawPointer? {
        state.pointee.allocate(byteCount)
    }

    /// Memory for one uninitialised `T`, for building C structs; traps only if malloc fails.
    @inline(__always)
    func make<T>(_: T.Type) -> UnsafeMutablePointer<T> {
        makeArray(T.self, count: 1)
    }

    /// Memory for `count` uninitialised `T`s.
    @inline(__always)
    func makeArray<T>(_: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        precondition(MemoryLayout<T>.alignment <= 8, "ProtoArena aligns to 8 bytes")
        guard let raw = allocate(byteCount: MemoryLayout<T>.stride * count) else {
            fatalError("ProtoArena: allocation of \(count) \(T.self) failed")
        }
        return raw.bindMemory(to: T.self, capacity: count)
    }

    /// The arena's bookkeeping, in memory of its own so the C callback reaches it without
    /// touching a Swift reference count.
    struct State {
        /// Each block starts with a pointer to the block allocated before it.
        static let headerSize = 16

        var cursor: UnsafeMutableRawPointer
        var end: UnsafeMutableRawPointer
        var first: UnsafeMutableRawPointer
        var blocks: UnsafeMutableRawPointer
        var used: Int
        var limit: Int
        var limitExceeded: Bool
        var nextBlockSize: Int

        @inline(__always)
        mutating func allocate(_ size: Int) -> UnsafeMutableRawPointer? {
            guard size <= limit - used else {
                limitExceeded = true
                return nil
            }
            let rounded = (size + 7) & ~7
            used += rounded
            if end - cursor >= rounded {
                let pointer = cursor
                cursor += rounded
                return pointer
            }
            return allocateSlow(rounded)
        }

        mutating func allocateSlow(_ size: Int) -> UnsafeMutableRawPointer? {
            if size > ProtoArena.maximumBlockSize / 4 {
                // A block of its own, linked in behind the current one so the cursor stays.
                guard let block = malloc(Self.headerSize + size) else { return nil }
                block.storeBytes(of: blocks.load(as: UnsafeMutableRawPointer?.self), as: UnsafeMutableRawPointer?.self)
                blocks.storeBytes(of: block, as: UnsafeMutableRawPointer?.self)
                return block + Self.headerSize
            }
            let blockSize = nextBlockSize
            guard let block = malloc(blockSize) else { return nil }
            nextBlockSize = Swift.min(nextBlockSize * 2, ProtoArena.maximumBlockSize)
            block.storeBytes(of: blocks, as: UnsafeMutableRawPointer?.self)
            blocks = block
            cursor = block + Self.headerSize + size
            end = block + blockSize
            return block + Self.headerSize
        }

        mutating func freeBlocks(keepingFirst: Bool) {
            var block: UnsafeMutableRawPointer? = blocks
            while let current = block, current != first {
                block = current.load(as: UnsafeMutableRawPointer?.self)
                free(current)
            }
            // Blocks linked behind the first one (large allocations made while it was current).
            var behind = first.load(as: UnsafeMutableRawPointer?.self)
            while let current = behind {
                behind = current.load(as: UnsafeMutableRawPointer?.self)
                free(current)
            }
            if keepingFirst {
                first.storeBytes(of: nil, as: UnsafeMutableRawPointer?.self)
                blocks = first
                cursor = first + Self.headerSize
                end = first + ProtoArena.firstBlockSize
                used = 0
                limit = .max
                limitExceeded = false
                nextBlockSize = ProtoArena.firstBlockSize * 2
            } else {
                free(first)
            }
        }
    }
}
