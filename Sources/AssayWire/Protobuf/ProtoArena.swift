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

    /// The size of the first block.
    static let firstBlockSize = 16 << 10
    /// Blocks double from the first up to this size; larger requests get a block of their own.
    static let maximumBlockSize = 1 << 20
    /// How much of its block chain an arena keeps across `reset()`, so that decoding messages
    /// of a steady size touches malloc only the first time (and glibc does not consolidate its
    /// free lists after every large free).
    static let retainedBytes = 1 << 20

    init() {
        state = .allocate(capacity: 1)
        let first = State.makeBlock(size: Self.firstBlockSize)!
        state.initialize(
            to: State(
                cursor: first + State.headerSize,
                end: first + Self.firstBlockSize,
                current: first,
                first: first,
                large: nil,
                used: 0,
                limit: .max,
                limitExceeded: false
            )
        )
        allocator = .allocate(capacity: 1)
        allocator.initialize(
            to: ProtobufCAllocator(
                alloc: protoArenaAllocate,
                // Nothing is freed one by one: the arena frees its blocks as a whole.
                free: { _, _ in },
                allocator_data: UnsafeMutableRawPointer(state)
            )
        )
    }

    deinit {
        state.pointee.release(keeping: 0)
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

    /// Forgets every allocation and lifts the limit; keeps up to `retainedBytes` of blocks.
    func reset() {
        state.pointee.release(keeping: Self.retainedBytes)
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
    ///
    /// Blocks form a chain, each starting with a header (the next block, the block's size);
    /// `reset` rewinds to the first block and keeps the chain, up to a budget, for next time.
    /// Large allocations get blocks of their own on a separate list, freed at every reset.
    struct State {
        static let headerSize = 16

        var cursor: UnsafeMutableRawPointer
        var end: UnsafeMutableRawPointer
        var current: UnsafeMutableRawPointer
        let first: UnsafeMutableRawPointer
        var large: UnsafeMutableRawPointer?
        var used: Int
        var limit: Int
        var limitExceeded: Bool

        @inline(__always)
        mutating func allocate(_ size: Int) -> UnsafeMutableRawPointer? {
            guard size <= limit - used else {
                limitExceeded = true
                return nil
            }
            #if ASSAY_PRECISE_ARENA
                // Fuzzing and sanitizer builds (make fuzz, make asan): a malloc per allocation,
                // freed at the reset, so AddressSanitizer sees a read past the end of one
                // allocation, or of anything unpacked after the arena was reset.
                used += size
                return allocateLarge(size)
            #else
                let rounded = (size + 7) & ~7
                used += rounded
                if end - cursor >= rounded {
                    let pointer = cursor
                    cursor += rounded
                    return pointer
                }
                return allocateSlow(rounded)
            #endif
        }

        /// A block of its own, on the list freed at every reset.
        mutating func allocateLarge(_ size: Int) -> UnsafeMutableRawPointer? {
            guard let block = Self.makeBlock(size: Self.headerSize + size) else { return nil }
            Self.setNext(of: block, large)
            large = block
            return block + Self.headerSize
        }

        mutating func allocateSlow(_ size: Int) -> UnsafeMutableRawPointer? {
            if size > ProtoArena.maximumBlockSize / 4 { return allocateLarge(size) }
            // The next block of the chain that fits (kept from an earlier use), or a new one.
            while let next = Self.next(of: current) {
                current = next
                cursor = next + Self.headerSize
                end = next + Self.size(of: next)
                if end - cursor >= size {
                    let pointer = cursor
                    cursor += size
                    return pointer
                }
            }
            let blockSize = Swift.min(
                Swift.max(Self.size(of: current) * 2, Self.headerSize + size),
                ProtoArena.maximumBlockSize
            )
            guard let block = Self.makeBlock(size: blockSize) else { return nil }
            Self.setNext(of: current, block)
            current = block
            cursor = block + Self.headerSize + size
            end = block + blockSize
            return block + Self.headerSize
        }

        /// Rewinds to the first block, frees the large blocks and every block of the chain past
        /// `budget` bytes (all of them, the first included, for a budget of 0).
        mutating func release(keeping budget: Int) {
            while let block = large {
                large = Self.next(of: block)
                free(block)
            }
            var kept = budget > 0 ? Self.size(of: first) : 0
            var last = first
            var block = Self.next(of: first)
            while let current = block, kept + Self.size(of: current) <= budget {
                kept += Self.size(of: current)
                last = current
                block = Self.next(of: current)
            }
            while let current = block {
                block = Self.next(of: current)
                free(current)
            }
            Self.setNext(of: last, nil)
            if budget == 0 {
                free(first)
                return
            }
            current = first
            cursor = first + Self.headerSize
            end = first + Self.size(of: first)
            used = 0
            limit = .max
            limitExceeded = false
        }

        static func makeBlock(size: Int) -> UnsafeMutableRawPointer? {
            guard let block = malloc(size) else { return nil }
            block.storeBytes(of: nil, as: UnsafeMutableRawPointer?.self)
            block.storeBytes(of: size, toByteOffset: 8, as: Int.self)
            return block
        }

        static func next(of block: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer? {
            block.load(as: UnsafeMutableRawPointer?.self)
        }

        static func setNext(of block: UnsafeMutableRawPointer, _ next: UnsafeMutableRawPointer?) {
            block.storeBytes(of: next, as: UnsafeMutableRawPointer?.self)
        }

        static func size(of block: UnsafeMutableRawPointer) -> Int {
            block.load(fromByteOffset: 8, as: Int.self)
        }
    }
}

/// protobuf-c's `alloc` callback: a bump allocation in the arena whose `State` is `data`.
/// A C function of its own (rather than a closure) so the call needs no thunk: protobuf-c
/// calls it for every string, array and submessage it unpacks.
@c(assay_proto_arena_allocate)
func protoArenaAllocate(_ data: UnsafeMutableRawPointer?, _ size: Int) -> UnsafeMutableRawPointer? {
    data.unsafelyUnwrapped.assumingMemoryBound(to: ProtoArena.State.self).pointee.allocate(size)
}
