import Foundation
import XCTest
@testable import SockstatLog

/// A clock the test moves.
final class FakeClock: UptimeClock, @unchecked Sendable {
    private let lock = NSLock()
    private var time: Duration = .seconds(1_000)
    func now() -> Duration {
        lock.lock()
        defer { lock.unlock() }
        return time
    }
    func advance(_ by: Duration) {
        lock.lock()
        time += by
        lock.unlock()
    }
}

/// Background tasks as the system grants them, recorded.
@MainActor
final class FakeBackgroundTasks: BackgroundTasks {
    var granted = true
    var timeRemaining: Duration = .seconds(30)
    private(set) var begun: [Int] = []
    private(set) var ended: [Int] = []
    private var expirations: [Int: @MainActor @Sendable () -> Void] = [:]
    private var next = 1

    func begin(name: String, expiration: @escaping @MainActor @Sendable () -> Void) -> Int? {
        guard granted else { return nil }
        defer { next += 1 }
        begun.append(next)
        expirations[next] = expiration
        return next
    }

    func end(_ task: Int) { ended.append(task) }

    /// The system runs out of background time.
    func expire(_ task: Int) { expirations[task]?() }
}

/// A flush target that records deadlines; optionally waits until released.
final class FakeFlushing: Flushing, @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [UInt64] = []
    private let gate = DispatchSemaphore(value: 0)
    private let started = DispatchSemaphore(value: 0)
    var holds = false
    var error: SockstatError?
    var linesSent: UInt64 = 5

    var deadlines: [UInt64] {
        lock.lock()
        defer { lock.unlock() }
        return recorded
    }

    func flushSummary(deadlineMs: UInt64) throws -> FlushSummary {
        lock.lock()
        recorded.append(deadlineMs)
        lock.unlock()
        started.signal()
        if holds { gate.wait() }
        if let error { throw error }
        return FlushSummary(linesSent: linesSent)
    }

    /// Waits (off the main actor) until a flush has begun.
    func waitUntilStarted() async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                self.started.wait()
                done.resume()
            }
        }
    }

    func release() { gate.signal() }
}

/// The extension's side of the message channel: a `TunnelLogging`, or gone.
final class FakeProvider: ProviderMessaging, @unchecked Sendable {
    let logging: TunnelLogging?
    init(logging: TunnelLogging?) { self.logging = logging }
    func send(_ message: Data) async throws -> Data? {
        guard let logging else { throw SockstatGlueError.notRunning }
        return await logging.handleAppMessage(message)
    }
}

// XCTest on Linux runs @MainActor async tests from its generated entry point,
// which needs the test case to be Sendable; it holds no state.
final class BackgroundFlushTests: XCTestCase, @unchecked Sendable {
    private var summary5: FlushSummary { FlushSummary(linesSent: 5) }

    @MainActor
    func testEnteringTheBackgroundFlushesTheSharedContainerInsideABackgroundTask() async {
        let tasks = FakeBackgroundTasks()
        let container = FakeFlushing()
        let flusher = BackgroundFlusher(container: container, tasks: tasks, clock: FakeClock())

        let outcome = await flusher.didEnterBackground()

        XCTAssertEqual(outcome, .flushed(summary5, via: .sharedContainer))
        // 30 s left minus the 2 s margin, capped at 10 s.
        XCTAssertEqual(container.deadlines, [10_000])
        XCTAssertEqual(tasks.begun, [1])
        XCTAssertEqual(tasks.ended, [1])
    }

    @MainActor
    func testTheDeadlineLeavesTheSafetyMarginOfTheBackgroundTimeLeft() async {
        let tasks = FakeBackgroundTasks()
        tasks.timeRemaining = .milliseconds(4_500)
        let container = FakeFlushing()
        let flusher = BackgroundFlusher(container: container, tasks: tasks, clock: FakeClock())
        _ = await flusher.didEnterBackground()
        XCTAssertEqual(container.deadlines, [2_500])
    }

    @MainActor
    func testTooLittleBackgroundTimeSkipsTheFlushAndEndsTheTask() async {
        let tasks = FakeBackgroundTasks()
        tasks.timeRemaining = .milliseconds(2_400)
        let container = FakeFlushing()
        let flusher = BackgroundFlusher(container: container, tasks: tasks, clock: FakeClock())
        let outcome = await flusher.didEnterBackground()
        XCTAssertEqual(outcome, .skipped(.noBackgroundTime))
        XCTAssertEqual(container.deadlines, [])
        XCTAssertEqual(tasks.ended, tasks.begun)
    }

    @MainActor
    func testNoBackgroundTaskGrantedMeansNoFlush() async {
        let tasks = FakeBackgroundTasks()
        tasks.granted = false
        let container = FakeFlushing()
        let flusher = BackgroundFlusher(container: container, tasks: tasks, clock: FakeClock())
        let outcome = await flusher.didEnterBackground()
        XCTAssertEqual(outcome, .skipped(.noBackgroundTime))
        XCTAssertEqual(container.deadlines, [])
    }

    @MainActor
    func testAtMostOneFlushPerMinimumIntervalByTheClock() async {
        let tasks = FakeBackgroundTasks()
        let container = FakeFlushing()
        let clock = FakeClock()
        let flusher = BackgroundFlusher(container: container, tasks: tasks, clock: clock)
        _ = await flusher.didEnterBackground()
        clock.advance(.seconds(59))
        let early = await flusher.didEnterBackground()
        XCTAssertEqual(early, .skipped(.recentlyFlushed))
        clock.advance(.seconds(1))
        let due = await flusher.didEnterBackground()
        XCTAssertEqual(due, .flushed(summary5, via: .sharedContainer))
        XCTAssertEqual(container.deadlines.count, 2)
    }

    @MainActor
    func testASecondBackgroundingWhileAFlushRunsStartsNoOther() async {
        let tasks = FakeBackgroundTasks()
        let container = FakeFlushing()
        container.holds = true
        let clock = FakeClock()
        let flusher = BackgroundFlusher(container: container, tasks: tasks, clock: clock)
        flusher.minimumInterval = .zero
        let first = Task { await flusher.didEnterBackground() }
        await container.waitUntilStarted()
        let second = await flusher.didEnterBackground()
        XCTAssertEqual(second, .skipped(.alreadyFlushing))
        container.release()
        let firstOutcome = await first.value
        XCTAssertEqual(firstOutcome, .flushed(summary5, via: .sharedContainer))
        XCTAssertEqual(container.deadlines.count, 1)
        XCTAssertEqual(tasks.ended, [1])
    }

    @MainActor
    func testWhenTimeExpiresTheTaskEndsAtOnceAndOnlyOnce() async {
        let tasks = FakeBackgroundTasks()
        let container = FakeFlushing()
        container.holds = true
        let flusher = BackgroundFlusher(container: container, tasks: tasks, clock: FakeClock())
        let flush = Task { await flusher.didEnterBackground() }
        await container.waitUntilStarted()
        tasks.expire(1)
        XCTAssertEqual(tasks.ended, [1])
        container.release()
        _ = await flush.value
        XCTAssertEqual(tasks.ended, [1])
    }

    @MainActor
    func testAFailedFlushReportsTheCoresMessage() async {
        let tasks = FakeBackgroundTasks()
        let container = FakeFlushing()
        container.error = .Buffer(message: "disk full")
        let flusher = BackgroundFlusher(container: container, tasks: tasks, clock: FakeClock())
        let outcome = await flusher.didEnterBackground()
        XCTAssertEqual(outcome, .failed("disk full"))
        XCTAssertEqual(tasks.ended, [1])
    }

    @MainActor
    func testTheProviderRouteAsksTheRunningExtensionToFlush() async throws {
        let tunnelSide = FakeTunnelLogger()
        let logging = TunnelLogging(openLogger: { _ in tunnelSide })
        try logging.start()
        let container = FakeFlushing()
        let flusher = BackgroundFlusher(route: .providerMessage, container: container,
                                        provider: FakeProvider(logging: logging), tasks: FakeBackgroundTasks(),
                                        clock: FakeClock())
        let outcome = await flusher.didEnterBackground()
        XCTAssertEqual(outcome, .flushed(FlushSummary(linesSent: 12), via: .providerMessage))
        XCTAssertEqual(tunnelSide.calls.last, .flush(deadlineMs: 10_000))
        XCTAssertEqual(container.deadlines, [])
    }

    @MainActor
    func testTheProviderRouteFlushesTheSharedContainerWhenTheExtensionIsNotRunning() async {
        let container = FakeFlushing()
        let flusher = BackgroundFlusher(route: .providerMessage, container: container,
                                        provider: FakeProvider(logging: nil), tasks: FakeBackgroundTasks(),
                                        clock: FakeClock())
        let outcome = await flusher.didEnterBackground()
        XCTAssertEqual(outcome, .flushed(summary5, via: .sharedContainer))
        XCTAssertEqual(container.deadlines, [10_000])
    }

    @MainActor
    func testWithoutAnyWayToFlushTheOutcomeSaysWhy() async {
        let flusher = BackgroundFlusher(route: .providerMessage, container: nil, provider: FakeProvider(logging: nil),
                                        tasks: FakeBackgroundTasks(), clock: FakeClock())
        let outcome = await flusher.didEnterBackground()
        guard case .failed(let reason) = outcome else { return XCTFail("expected a failure, got \(outcome)") }
        XCTAssertTrue(reason.contains("flush-only handle"), reason)
    }
}

