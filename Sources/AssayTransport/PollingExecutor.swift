#if canImport(Glibc)
import Glibc
#endif

/// A task executor with its own threads that keep polling for work for a short while after
/// their last job before they sleep.
///
/// Swift's global executor parks idle threads at once, and waking a parked thread costs tens
/// of microseconds on a virtual machine: a unary call pays that at least twice. Handlers and
/// client calls that run with this executor as their preference are picked up by a thread
/// that is still polling. One thread at a time polls: under a load of many sparse calls,
/// several threads spinning would only take the cores the calls need. A thread that finds
/// nothing for `pollNanoseconds` (or finds another one polling) sleeps on a condition
/// variable, so an idle server uses no CPU.
public final class PollingExecutor: TaskExecutor, @unchecked Sendable {
    // @unchecked: `jobs`, `head`, `sleepers` and `stopping` are guarded by `mutex`.
    // In memory of their own: pthread objects must not move, and Swift's exclusivity checks
    // would see concurrent `&property` accesses as conflicts.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var jobs: [UnownedJob] = []
    private var head = 0
    private var sleepers = 0
    /// Threads polling for work (at most one: more would only burn the cores the work needs).
    private var polling = 0
    private var stopping = false
    public let pollNanoseconds: UInt64
    public let threadCount: Int

    /// A shared pool with one thread per core.
    public static let shared = PollingExecutor(
        threads: Int(getenv("ASSAY_HANDLER_THREADS").flatMap { Int(String(cString: $0)) } ?? Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))),
        pollMicroseconds: EventLoop.defaultPollMicroseconds
    )

    public init(threads: Int, pollMicroseconds: UInt64) {
        threadCount = max(1, threads)
        pollNanoseconds = pollMicroseconds * 1000
        mutex.initialize(to: pthread_mutex_t())
        condition.initialize(to: pthread_cond_t())
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
        for _ in 0..<threadCount { startDetachedThread { self.work() } }
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        pthread_mutex_lock(mutex)
        jobs.append(unowned)
        // A polling thread takes one job without being woken; a sleeper is woken for the rest.
        let wake = sleepers > 0 && jobs.count - head > polling
        pthread_mutex_unlock(mutex)
        if wake { pthread_cond_signal(condition) }
    }

    /// What a worker thread does next.
    private enum Step {
        case run(UnownedJob)
        case poll
        case stop
    }

    /// The next job, else whether to poll (one thread at a time, within `pollNanoseconds` of
    /// its last job) or to sleep until a job comes; `isPolling` says whether this thread polls.
    private func step(lastJob: UInt64, isPolling: inout Bool) -> Step {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while true {
            let idle = head == jobs.count && !stopping
            let recent = MonotonicClock.nanoseconds() &- lastJob < pollNanoseconds
            let polls = idle && recent && (isPolling || polling == 0)
            if polls != isPolling {
                polling += polls ? 1 : -1
                isPolling = polls
            }
            if head < jobs.count {
                let job = jobs[head]
                head += 1
                if head == jobs.count {
                    jobs.removeAll(keepingCapacity: true)
                    head = 0
                }
                return .run(job)
            }
            if stopping { return .stop }
            if polls { return .poll }
            sleepers += 1
            pthread_cond_wait(condition, mutex)
            sleepers -= 1
        }
    }

    private func work() {
        let executor = asUnownedTaskExecutor()
        var lastJob = MonotonicClock.nanoseconds()
        var isPolling = false
        while true {
            switch step(lastJob: lastJob, isPolling: &isPolling) {
            case .run(let job):
                job.runSynchronously(on: executor)
                lastJob = MonotonicClock.nanoseconds()
            case .poll:
                sched_yield()
            case .stop:
                return
            }
        }
    }
}
