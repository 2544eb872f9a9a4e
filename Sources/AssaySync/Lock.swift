// The one lock every module uses for state shared between threads.
//
// Normally it is the standard library's `Synchronization.Mutex`: inline, a futex on Linux.
// ThreadSanitizer cannot see that futex, so under `make tsan` (which compiles with
// `-DASSAY_TSAN`) every critical section looked like a race. There the lock is a pthread
// mutex, which TSan intercepts, so it reports only the races that are really there. Both
// have the same surface: `Lock(value)`, then `withLock { (inout value) in ... }`.

#if ASSAY_TSAN
    #if canImport(Glibc)
        import Glibc
    #elseif canImport(Musl)
        import Musl
    #endif

    /// A value that one thread at a time reads or changes (pthread build, for ThreadSanitizer).
    public final class Lock<Value: ~Copyable>: @unchecked Sendable {
        private let mutex: UnsafeMutablePointer<pthread_mutex_t>
        private var value: Value

        public init(_ initialValue: consuming sending Value) {
            mutex = .allocate(capacity: 1)
            mutex.initialize(to: pthread_mutex_t())
            pthread_mutex_init(mutex, nil)
            value = initialValue
        }

        deinit {
            pthread_mutex_destroy(mutex)
            mutex.deinitialize(count: 1)
            mutex.deallocate()
        }

        /// Runs `body` with the value, holding the lock.
        public func withLock<Result, E: Error>(_ body: (inout sending Value) throws(E) -> sending Result) throws(E)
            -> sending Result
        {
            pthread_mutex_lock(mutex)
            defer { pthread_mutex_unlock(mutex) }
            return try body(&value)
        }
    }
#else
    public import Synchronization

    /// A value that one thread at a time reads or changes: `Synchronization.Mutex`.
    public typealias Lock<Value: ~Copyable> = Mutex<Value>
#endif
