public import AssayRPC

/// Closes every organisation's ended billing cycles on a schedule, so an invoice exists as
/// soon as its month is over, whether or not anyone asks for it. A lifecycle service of the
/// server: it closes what is due at once, then after every `interval`, until cancelled.
///
/// Several servers on one database may all run it: closing a cycle is idempotent and takes
/// the organisation's billing lock, so exactly one of them writes each invoice.
public struct CycleScheduler: LifecycleService {
    /// How often due cycles are looked for (a minute by default).
    public static let defaultInterval = Duration.seconds(60)

    let billing: Billing
    let interval: Duration
    let logger: Logger
    let sleep: @Sendable (Duration) async throws -> Void

    /// `billing`'s clock says which cycles have ended; `sleep` waits between two passes
    /// (tests inject both).
    public init(
        billing: Billing, interval: Duration = CycleScheduler.defaultInterval, logger: Logger,
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.billing = billing
        self.interval = interval
        self.logger = logger
        self.sleep = sleep
    }

    public func run() async {
        while !Task.isCancelled {
            await closeDue()
            do { try await sleep(interval) } catch { return }
        }
    }

    /// One pass: every organisation's ended cycles closed; a failure (the database out of
    /// reach) is logged and the next pass tries again, with nothing lost.
    public func closeDue() async {
        do {
            try await billing.closeDueCycles()
        } catch {
            logger.warning("closing ended billing cycles failed; retrying at the next pass", [("error", "\(error)")])
        }
    }
}
