import AssaySync

/// A bounded pool of PostgreSQL connections, each owned by its own OS thread.
///
/// libpq calls block (on the network, on row locks), so they must never run on Swift's
/// cooperative pool. Work is queued once and taken by whichever thread is free, so at most
/// `size` statements run at once and the database sees at most `size` connections from this
/// server. A thread connects lazily and, when its connection breaks (the database restarted,
/// the network dropped), opens a new one for the next piece of work; work that finds the
/// database unreachable fails with `unavailable`, which services answer as UNAVAILABLE.
final class PostgresPool: Sendable {
    private enum Message: Sendable {
        case work(@Sendable (Result<PostgresConnection, StorageError>) -> Void)
        case stop(@Sendable () -> Void)
    }

    private let queue = BlockingQueue<Message>()
    private let url: String
    let size: Int
    private let stopped = Lock(false)

    /// Starts `size` threads; none connects until it has work.
    init(url: String, size: Int) throws(StorageError) {
        precondition(size > 0)
        self.url = url
        self.size = size
        for _ in 0..<size {
            try spawnThread { [self] in main() }
        }
    }

    /// Runs `body` on a free connection and returns its result.
    func perform<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) throws(StorageError) -> T
    ) async throws(StorageError) -> T {
        let result: Result<T, StorageError> = await withCheckedContinuation { continuation in
            let accepted = queue.push(
                .work { connection in
                    continuation.resume(
                        returning: Result { () throws(StorageError) -> T in try body(connection.get()) })
                })
            if !accepted { continuation.resume(returning: .failure(.unavailable("the database is closed"))) }
        }
        return try result.get()
    }

    /// Lets queued work finish, closes every connection and ends the threads.
    func stop() async {
        guard stopped.withLock({ s in defer { s = true }; return !s }) else { return }
        for index in 0..<size {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                if !queue.push(.stop { continuation.resume() }, closing: index == size - 1) { continuation.resume() }
            }
        }
    }

    /// Asks the threads to stop after queued work, without waiting.
    func stopEventually() {
        guard stopped.withLock({ s in defer { s = true }; return !s }) else { return }
        for index in 0..<size { queue.push(.stop {}, closing: index == size - 1) }
    }

    private func main() {
        var connection: PostgresConnection?
        while true {
            switch queue.pop() {
            case .work(let work):
                if let open = connection, !open.isHealthy {
                    open.close()
                    connection = nil
                }
                if connection == nil {
                    do throws(StorageError) {
                        connection = try PostgresConnection.connect(url)
                    } catch {
                        work(.failure(error))
                        continue
                    }
                }
                work(.success(connection!))
            case .stop(let done):
                connection?.close()
                done()
                return
            }
        }
    }
}
