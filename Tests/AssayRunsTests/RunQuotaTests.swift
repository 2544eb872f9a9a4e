import AssayCore
import AssayModels
import AssayRPC
import AssayRuns
import AssayTestSupport
import AssayWire
import Testing

@Suite struct RunQuotaTests {
    @Test func anOrganisationAtItsRunQuotaIsRefusedWithARetryHintUntilARunEnds() async throws {
        // Each batch takes 30 s (cancelled runs stop at once): runs stay running while we look.
        let model = ScriptedModel(delay: .seconds(30))
        let harness = try await ServerHarness.start(
            models: ModelRegistry(providers: [model]), billing: RecordingBilling(),
            runQuota: RunQuota(maxActiveRuns: 2, retryAfterMilliseconds: 1500))
        let f = try await Fixture.make(harness, scripts: ["box", "box"])
        let first = try await f.create(requestID: "first")
        let second = try await f.create()
        let refused = await status { _ = try await f.create() }
        #expect(refused?.code == .resourceExhausted)
        #expect(refused?.message.contains("2 runs queued or running, its quota is 2") == true)
        #expect(refused.flatMap { RetryHint.milliseconds(in: $0.metadata) } == 1500)
        // A repeated request is not a new run: it returns the first one even at the quota.
        #expect(try await f.create(requestID: "first").id == first.id)
        // Another organisation has a quota of its own.
        let other = try await Fixture.make(harness, org: "other", scripts: ["box"])
        let theirs = try await other.create()
        // Once a run ends, there is room again.
        _ = try await f.client.unary(RunService.cancel, CancelRunRequest(id: first.id))
        let third = try await f.create()
        #expect(await status { _ = try await f.create() }?.code == .resourceExhausted)
        for id in [second.id, third.id] { _ = try await f.client.unary(RunService.cancel, CancelRunRequest(id: id)) }
        _ = try await other.client.unary(RunService.cancel, CancelRunRequest(id: theirs.id))
        await harness.stop()
    }

    @Test func concurrentCreatesDoNotBothTakeTheLastPlace() async throws {
        let model = ScriptedModel(delay: .seconds(30))
        let harness = try await ServerHarness.start(
            models: ModelRegistry(providers: [model]), billing: RecordingBilling(), runQuota: RunQuota(maxActiveRuns: 3)
        )
        let f = try await Fixture.make(harness, scripts: ["box"])
        let outcomes = await withTaskGroup(of: Result<String, RPCError>.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    do { return .success(try await f.create().id) } catch let e as RPCError { return .failure(e) } catch
                    {
                        return .failure(RPCError(.unknown, "\(error)"))
                    }
                }
            }
            var all: [Result<String, RPCError>] = []
            for await outcome in group { all.append(outcome) }
            return all
        }
        let created = outcomes.compactMap { try? $0.get() }
        #expect(created.count == 3)
        #expect(
            outcomes.allSatisfy { outcome in
                if case .failure(let e) = outcome { return e.code == .resourceExhausted }
                return true
            })
        for id in created { _ = try await f.client.unary(RunService.cancel, CancelRunRequest(id: id)) }
        await harness.stop()
    }
}
