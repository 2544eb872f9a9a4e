#if canImport(Glibc)
    import Glibc
#endif
internal import CAssaySystem

/// A fixed set of threads for blocking work (C libraries that compute for a long time), so
/// that it never occupies Swift's cooperative threads. `run` suspends the caller until a
/// thread has done the work. Each thread may keep per-thread state (a Tesseract handle):
/// `run` passes the thread's index.
///
/// The threads run at a lower scheduling priority (`niceness`, 10 by default): model work is
/// batch work, and when it keeps every core busy the event loops, handlers and database
/// threads that answer calls must still get a core the moment they have something to do. On
/// an otherwise idle machine the pool gets all of it just the same.
public final class BlockingPool: @unchecked Sendable {
    /// The nice value model threads run at unless a pool is told otherwise.
    public static let defaultNiceness: Int32 = 10

    public let threadCount: Int
    // `jobs`, `head` and `stopped` are guarded by `mutex`.
    private var mutex = pthread_mutex_t()
    private var ready = pthread_cond_t()
    private var jobs: [@Sendable (Int) -> Void] = []
    private var head = 0
    private var stopped = false

    public init(threads: Int, name: String, niceness: Int32 = BlockingPool.defaultNiceness) {
        threadCount = max(1, threads)
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&ready, nil)
        for index in 0..<threadCount {
            startThread(name: "\(name)-\(index)") { [self] in
                // Best effort: a thread that cannot lower its priority still does the work.
                if niceness != 0 { _ = assay_set_thread_niceness(niceness) }
                self.work(index)
            }
        }
    }

    /// Runs `body` on one of the pool's threads and returns its result.
    public func run<T: Sendable>(_ body: @escaping @Sendable (Int) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            enqueue { index in
                do { continuation.resume(returning: try body(index)) } catch { continuation.resume(throwing: error) }
            }
        }
    }

    /// Runs `body` on one of the pool's threads and returns its result.
    public func run<T: Sendable>(_ body: @escaping @Sendable (Int) -> T) async -> T {
        await withCheckedContinuation { (continuation: CheckedContinuation<T, Never>) in
            enqueue { index in continuation.resume(returning: body(index)) }
        }
    }

    /// Lets the threads finish queued work and exit; work queued later runs on the caller's
    /// thread with index -1.
    public func stop() {
        pthread_mutex_lock(&mutex)
        stopped = true
        pthread_cond_broadcast(&ready)
        pthread_mutex_unlock(&mutex)
    }

    private func enqueue(_ job: @escaping @Sendable (Int) -> Void) {
        pthread_mutex_lock(&mutex)
        if stopped {
            pthread_mutex_unlock(&mutex)
            job(-1)
            return
        }
        jobs.append(job)
        pthread_cond_signal(&ready)
        pthread_mutex_unlock(&mutex)
    }

    private func work(_ index: Int) {
        while true {
            pthread_mutex_lock(&mutex)
            while head == jobs.count && !stopped { pthread_cond_wait(&ready, &mutex) }
            if head == jobs.count {
                pthread_mutex_unlock(&mutex)
                return
            }
            let job = jobs[head]
            head += 1
            if head == jobs.count {
                jobs.removeAll(keepingCapacity: true)
                head = 0
            }
            pthread_mutex_unlock(&mutex)
            job(index)
        }
    }
}

/// Starts a detached thread running `body`.
func startThread(name: String, _ body: @escaping @Sendable () -> Void) {
    final class Box: @unchecked Sendable {
        let body: @Sendable () -> Void
        let name: String
        init(_ body: @escaping @Sendable () -> Void, _ name: String) {
            self.body = body
            self.name = name
        }
    }
    let box = Unmanaged.passRetained(Box(body, name)).toOpaque()
    var thread = pthread_t()
    let rc = pthread_create(
        &thread, nil,
        { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            box.body()
            return nil
        }, box)
    precondition(rc == 0, "pthread_create failed: \(rc)")
    pthread_detach(thread)
}
