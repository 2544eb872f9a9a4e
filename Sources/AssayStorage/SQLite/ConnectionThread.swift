import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// An OS thread that owns one `SQLiteConnection` and runs the work handed to it, in order.
///
/// sqlite3 calls block (on disk, on locks for up to the busy timeout), so they must never run
/// on Swift's cooperative pool, whose few threads the whole server shares. Async callers hand
/// a closure to `perform` and are resumed through a continuation when it has run.
final class ConnectionThread: Sendable {
    /// What the thread is asked to do next.
    private enum Message: Sendable {
        case work(@Sendable (SQLiteConnection) -> Void)
        case stop(@Sendable () -> Void)
    }

    private let queue = BlockingQueue<Message>()
    /// Calls handed to `perform` that have not finished yet, running or waiting.
    private let inFlight = Atomic<Int>(0)

    private init() {}

    /// Starts a thread that opens its connection with `open`; returns once the connection is
    /// open, or throws its error.
    static func start(
        open: @escaping @Sendable () throws(StorageError) -> SQLiteConnection
    ) async throws(StorageError) -> ConnectionThread {
        let thread = ConnectionThread()
        let started: Result<Void, StorageError> = await withCheckedContinuation { continuation in
            do throws(StorageError) {
                try spawnThread {
                    thread.main(open: open) { continuation.resume(returning: $0) }
                }
            } catch {
                continuation.resume(returning: .failure(error))
            }
        }
        try started.get()
        return thread
    }

    /// How many calls are running or waiting; the reader pool picks the least busy thread.
    var backlog: Int { inFlight.load(ordering: .relaxed) }

    /// Runs `body` on this thread's connection and returns its result. Fails with
    /// `unavailable` once the thread has been stopped.
    func perform<T: Sendable>(
        _ body: @escaping @Sendable (SQLiteConnection) throws(StorageError) -> T
    ) async throws(StorageError) -> T {
        inFlight.add(1, ordering: .relaxed)
        defer { inFlight.subtract(1, ordering: .relaxed) }
        let result: Result<T, StorageError> = await withCheckedContinuation { continuation in
            let accepted = queue.push(
                .work { connection in
                    continuation.resume(returning: Result { () throws(StorageError) -> T in try body(connection) })
                })
            if !accepted { continuation.resume(returning: .failure(.unavailable("the database is closed"))) }
        }
        return try result.get()
    }

    /// Queues `work` without waiting for it (background chores such as checkpoints); false
    /// once the thread has been stopped.
    @discardableResult
    func submit(_ work: @escaping @Sendable (SQLiteConnection) -> Void) -> Bool {
        queue.push(.work(work))
    }

    /// Lets the work already queued finish, closes the connection and ends the thread;
    /// returns when that is done. Later calls to `perform` fail.
    func stop() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            if !queue.push(.stop { continuation.resume() }, closing: true) { continuation.resume() }
        }
    }

    /// Asks the thread to stop after the work already queued, without waiting for it.
    func stopEventually() {
        queue.push(.stop {}, closing: true)
    }

    private func main(open: () throws(StorageError) -> SQLiteConnection, started: (Result<Void, StorageError>) -> Void)
    {
        let connection: SQLiteConnection
        do {
            connection = try open()
        } catch {
            started(.failure(error))
            queue.push(.stop {}, closing: true)
            return
        }
        started(.success(()))
        while true {
            switch queue.pop() {
            case .work(let work):
                work(connection)
            case .stop(let done):
                connection.close()
                done()
                return
            }
        }
    }
}

/// Starts a detached pthread running `body`.
func spawnThread(_ body: @escaping @Sendable () -> Void) throws(StorageError) {
    final class Box: Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    let box = Unmanaged.passRetained(Box(body))
    var thread = pthread_t()
    let rc = pthread_create(
        &thread, nil,
        { raw in
            Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue().body()
            return nil
        }, box.toOpaque())
    guard rc == 0 else {
        box.release()
        throw StorageError.internal("cannot start a database thread: pthread_create returned \(rc)")
    }
    pthread_detach(thread)
}

/// A FIFO that a consumer thread blocks on: a pthread mutex and condition variable, since
/// the consumer is a plain thread that must sleep, not an async task.
///
/// `@unchecked Sendable`: the mutex and condition are heap-allocated once and never move, and
/// `items`, `head` and `closed` are read and written only while `mutex` is held.
final class BlockingQueue<Element: Sendable>: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var items: [Element] = []
    private var head = 0
    private var closed = false

    init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Appends `item` unless the queue is closed; `closing` makes it the last item accepted.
    @discardableResult
    func push(_ item: Element, closing: Bool = false) -> Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        guard !closed else { return false }
        closed = closing
        items.append(item)
        pthread_cond_signal(condition)
        return true
    }

    /// The oldest item, waiting for one when the queue is empty.
    func pop() -> Element {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while head == items.count { pthread_cond_wait(condition, mutex) }
        let item = items[head]
        head += 1
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 1024 && head * 2 >= items.count {
            items.removeFirst(head)
            head = 0
        }
        return item
    }
}

/// A few read-only connections, each on its own thread; work goes to the least busy one.
/// WAL lets them read while the writer writes.
final class ReaderPool: Sendable {
    private let threads: [ConnectionThread]

    init(threads: [ConnectionThread]) {
        precondition(!threads.isEmpty)
        self.threads = threads
    }

    /// Runs `body` on the reader with the shortest backlog.
    func perform<T: Sendable>(
        _ body: @escaping @Sendable (SQLiteConnection) throws(StorageError) -> T
    ) async throws(StorageError) -> T {
        var best = threads[0]
        var bestBacklog = best.backlog
        for thread in threads.dropFirst() where bestBacklog > 0 {
            let backlog = thread.backlog
            if backlog < bestBacklog {
                best = thread
                bestBacklog = backlog
            }
        }
        return try await best.perform(body)
    }

    /// Stops every reader.
    func stop() async {
        for thread in threads { await thread.stop() }
    }

    /// Asks every reader to stop, without waiting.
    func stopEventually() {
        for thread in threads { thread.stopEventually() }
    }
}
