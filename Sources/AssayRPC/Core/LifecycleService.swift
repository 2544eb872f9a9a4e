/// A long-lived part of a server beside its listeners (a scheduler, a sweeper): `run()` works
/// until its task is cancelled, then returns. The server's lifecycle runs every one in its
/// own child task of one task group and cancels them when it shuts down.
public protocol LifecycleService: Sendable {
    /// Works until cancelled. Failures are the service's own to log and retry; nothing is
    /// thrown, so one failing service never brings the server down.
    func run() async
}
