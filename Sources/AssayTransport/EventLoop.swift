#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import AssaySync
internal import CAssaySystem

/// Nanoseconds on the monotonic clock.
public enum MonotonicClock {
    @inline(__always)
    public static func nanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }
}

/// Something the event loop tells about readiness of a file descriptor. Called on the loop thread.
protocol IOHandler: AnyObject {
    func readable()
    func writable()
    func hangup()
}

/// A one-shot timer; `cancel()` may be called from any thread.
public final class ScheduledTimer: Sendable {
    let cancelled = Atomic<Bool>(false)

    /// A timer not yet cancelled, for schedulers other than `EventLoop` (the fuzzers' manual one).
    package init() {}

    public func cancel() { cancelled.store(true, ordering: .relaxed) }

    /// Whether `cancel()` was called.
    package var isCancelled: Bool { cancelled.load(ordering: .relaxed) }
}

/// Where a transport runs its callbacks and timers.
public protocol Scheduler: Sendable {
    /// Runs `work` on the scheduler's thread, soon.
    func execute(_ work: @escaping @Sendable () -> Void)
    /// Runs `work` on the scheduler's thread after `nanoseconds`, unless cancelled first.
    @discardableResult
    func schedule(afterNanoseconds nanoseconds: UInt64, _ work: @escaping @Sendable () -> Void) -> ScheduledTimer
    /// True on the scheduler's own thread.
    var inEventLoop: Bool { get }
}

/// One thread running epoll: socket readiness, timers, and work handed to it from elsewhere.
///
/// Everything marked "loop thread only" is touched by that thread alone; other threads talk
/// to the loop through `execute`, which takes a lock and writes to an eventfd.
public final class EventLoop: Scheduler, TaskExecutor, @unchecked Sendable {
    // @unchecked: `registrations`, `timers`, `nextToken` and `thread` are loop-thread-only state
    // (see the type's comment); the shared state is behind `pending`.
    private struct Pending: ~Copyable {
        var work: [@Sendable () -> Void] = []
        var sleeping = false
        var stopping = false
    }

    private struct TimerEntry {
        var deadline: UInt64
        var sequence: UInt64
        var timer: ScheduledTimer
        var work: @Sendable () -> Void
    }

    private let epfd: Int32
    private let wakeFD: Int32
    private let pending = Lock(Pending())
    private var registrations: [UInt64: any IOHandler] = [:]
    private var nextToken: UInt64 = 1
    private var timers: [TimerEntry] = []  // binary min-heap by (deadline, sequence)
    private var timerSequence: UInt64 = 0
    private let threadID = Atomic<UInt>(0)
    private let finished = Lock<(done: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))
    private let name: String

    /// After activity, how long the loop keeps polling (yielding the core between polls)
    /// before it sleeps in epoll_wait: a request that arrives within this window is picked up
    /// without the kernel having to wake the thread, which on virtual machines costs tens of
    /// microseconds. 0 turns polling off.
    public let pollNanoseconds: UInt64

    /// The polling window unless told otherwise: `ASSAY_POLL_MICROS`, else 50.
    public static let defaultPollMicroseconds: UInt64 = getenv("ASSAY_POLL_MICROS").flatMap { UInt64(String(cString: $0)) } ?? 50

    /// Starts a loop on a new thread.
    public init(name: String = "assay-io", pollMicroseconds: UInt64 = EventLoop.defaultPollMicroseconds) throws(SystemError) {
        self.name = name
        self.pollNanoseconds = pollMicroseconds * 1000
        epfd = try Syscall.call("epoll_create1") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
        wakeFD = try Syscall.call("eventfd") { eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC)) }
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.u64 = 0
        _ = try Syscall.call("epoll_ctl") { epoll_ctl(epfd, EPOLL_CTL_ADD, wakeFD, &event) }
        startThread()
    }

    public var inEventLoop: Bool { threadID.load(ordering: .relaxed) == UInt(bitPattern: Int(bitPattern: pthread_self())) }

    public func execute(_ work: @escaping @Sendable () -> Void) {
        let wake = pending.withLock { p -> Bool in
            p.work.append(work)
            if p.sleeping {
                p.sleeping = false
                return true
            }
            return false
        }
        if wake { self.wake() }
    }

    /// Runs tasks that prefer this loop on its thread (clients do, so a response is handled
    /// where it was read, without waking another thread; servers never run handlers here).
    public func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        execute { [self] in unowned.runSynchronously(on: asUnownedTaskExecutor()) }
    }

    @discardableResult
    public func schedule(afterNanoseconds nanoseconds: UInt64, _ work: @escaping @Sendable () -> Void) -> ScheduledTimer {
        let timer = ScheduledTimer()
        let deadline = MonotonicClock.nanoseconds() &+ nanoseconds
        if inEventLoop {
            insertTimer(deadline: deadline, timer: timer, work: work)
        } else {
            execute { [self] in insertTimer(deadline: deadline, timer: timer, work: work) }
        }
        return timer
    }

    /// Suspends the calling task for `nanoseconds` on this loop's own timers: a task that runs on
    /// this loop wakes here without another thread's timer in between. Not cancellable.
    public func sleep(nanoseconds: UInt64) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            schedule(afterNanoseconds: nanoseconds) { c.resume() }
        }
    }

    /// Stops the thread after the work already handed to it; returns once it has stopped,
    /// without blocking the caller's thread (use this from async code).
    public func shutdown() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let done = finished.withLock { f -> Bool in
                if f.done { return true }
                f.waiters.append(c)
                return false
            }
            if done { c.resume() }
            pending.withLock { $0.stopping = true }
            wake()
        }
    }

    /// Stops the thread after the work already handed to it; blocks until it has stopped.
    public func shutdownGracefully() {
        let wake = pending.withLock { p -> Bool in
            p.stopping = true
            return true
        }
        if wake { self.wake() }
        if !inEventLoop {
            while !finished.withLock({ $0.done }) { usleep(200) }
        }
    }

    // MARK: registration (loop thread only)

    func register(fd: Int32, handler: any IOHandler, readable: Bool) throws(SystemError) -> UInt64 {
        precondition(inEventLoop)
        let token = nextToken
        nextToken += 1
        var event = epoll_event()
        event.events = (readable ? EPOLLIN.rawValue : 0) | EPOLLRDHUP.rawValue
        event.data.u64 = token
        _ = try Syscall.call("epoll_ctl") { epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &event) }
        registrations[token] = handler
        return token
    }

    /// Changes interest; may be called from any thread (epoll_ctl is thread-safe).
    func modify(fd: Int32, token: UInt64, readable: Bool, writable: Bool) {
        var event = epoll_event()
        event.events = (readable ? EPOLLIN.rawValue : 0) | (writable ? EPOLLOUT.rawValue : 0) | EPOLLRDHUP.rawValue
        event.data.u64 = token
        _ = epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &event)
    }

    func deregister(fd: Int32, token: UInt64) {
        precondition(inEventLoop)
        registrations[token] = nil
        _ = epoll_ctl(epfd, EPOLL_CTL_DEL, fd, nil)
    }

    // MARK: the loop

    private func wake() {
        var one: UInt64 = 1
        _ = Glibc.write(wakeFD, &one, 8)
    }

    private func startThread() {
        startDetachedThread { self.run() }
        // Wait until the thread has published its id, so `inEventLoop` is right from the start.
        while threadID.load(ordering: .acquiring) == 0 { sched_yield() }
    }

    private func run() {
        threadID.store(UInt(bitPattern: Int(bitPattern: pthread_self())), ordering: .releasing)
        var events = [epoll_event](repeating: epoll_event(), count: 128)
        var stop = false
        var lastActivity: UInt64 = 0
        while !stop {
            let timeout = nextTimeoutMilliseconds()
            let polling = pollNanoseconds > 0 && MonotonicClock.nanoseconds() &- lastActivity < pollNanoseconds
            if polling { sched_yield() }
            let goToSleep = !polling && pending.withLock { p -> Bool in
                if !p.work.isEmpty || p.stopping { return false }
                p.sleeping = true
                return true
            }
            let n = events.withUnsafeMutableBufferPointer { buffer in
                epoll_wait(epfd, buffer.baseAddress, Int32(buffer.count), goToSleep ? timeout : 0)
            }
            if goToSleep { pending.withLock { $0.sleeping = false } }
            if n > 0 {
                lastActivity = MonotonicClock.nanoseconds()
                for i in 0..<Int(n) {
                    let event = events[i]
                    let token = event.data.u64
                    if token == 0 {
                        var value: UInt64 = 0
                        _ = Glibc.read(wakeFD, &value, 8)
                        continue
                    }
                    let flags = event.events
                    if flags & (EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0 {
                        registrations[token]?.hangup()
                        continue
                    }
                    if flags & EPOLLIN.rawValue != 0 || flags & EPOLLRDHUP.rawValue != 0 {
                        registrations[token]?.readable()
                    }
                    if flags & EPOLLOUT.rawValue != 0 {
                        registrations[token]?.writable()
                    }
                }
            }
            runTimers()
            let (work, stopping) = pending.withLock { p -> ([@Sendable () -> Void], Bool) in
                let w = p.work
                p.work.removeAll(keepingCapacity: true)
                return (w, p.stopping)
            }
            for item in work { item() }
            if !work.isEmpty { lastActivity = MonotonicClock.nanoseconds() }
            if stopping && work.isEmpty { stop = true }
        }
        for (_, handler) in registrations { handler.hangup() }
        registrations.removeAll()
        Syscall.close(wakeFD)
        Syscall.close(epfd)
        let waiters = finished.withLock { f -> [CheckedContinuation<Void, Never>] in
            f.done = true
            let w = f.waiters
            f.waiters = []
            return w
        }
        for w in waiters { w.resume() }
    }

    // MARK: timers (loop thread only)

    private func nextTimeoutMilliseconds() -> Int32 {
        guard let first = timers.first else { return 1000 }
        let now = MonotonicClock.nanoseconds()
        if first.deadline <= now { return 0 }
        let ms = (first.deadline - now + 999_999) / 1_000_000
        return Int32(min(ms, 1000))
    }

    private func insertTimer(deadline: UInt64, timer: ScheduledTimer, work: @escaping @Sendable () -> Void) {
        timerSequence += 1
        timers.append(TimerEntry(deadline: deadline, sequence: timerSequence, timer: timer, work: work))
        var child = timers.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            if less(timers[child], timers[parent]) {
                timers.swapAt(child, parent)
                child = parent
            } else {
                break
            }
        }
    }

    private func less(_ a: TimerEntry, _ b: TimerEntry) -> Bool {
        a.deadline < b.deadline || (a.deadline == b.deadline && a.sequence < b.sequence)
    }

    private func popTimer() -> TimerEntry {
        let top = timers[0]
        let last = timers.removeLast()
        if !timers.isEmpty {
            timers[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var smallest = parent
                if left < timers.count && less(timers[left], timers[smallest]) { smallest = left }
                if right < timers.count && less(timers[right], timers[smallest]) { smallest = right }
                if smallest == parent { break }
                timers.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return top
    }

    private func runTimers() {
        guard !timers.isEmpty else { return }
        let now = MonotonicClock.nanoseconds()
        while let first = timers.first, first.deadline <= now {
            let entry = popTimer()
            if !entry.timer.cancelled.load(ordering: .relaxed) { entry.work() }
        }
    }
}
