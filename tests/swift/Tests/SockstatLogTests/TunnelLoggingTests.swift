import Foundation
import XCTest
@testable import SockstatLog

/// A logger that records the calls the lifecycle makes.
final class FakeTunnelLogger: TunnelLogger, @unchecked Sendable {
    enum Call: Equatable {
        case enable(Bool)
        case flush(deadlineMs: UInt64)
        case shutdown
    }

    private let lock = NSLock()
    private var recorded: [Call] = []
    var flushError: SockstatError?

    var calls: [Call] {
        lock.lock()
        defer { lock.unlock() }
        return recorded
    }

    private func record(_ call: Call) {
        lock.lock()
        recorded.append(call)
        lock.unlock()
    }

    func setLoggingEnabled(enabled: Bool) throws { record(.enable(enabled)) }

    func flushSummary(deadlineMs: UInt64) throws -> FlushSummary {
        record(.flush(deadlineMs: deadlineMs))
        if let flushError { throw flushError }
        return FlushSummary(linesSent: 12)
    }

    func shutdown(deadlineMs: UInt64) throws { record(.shutdown) }
}

final class TunnelLoggingTests: XCTestCase {
    private func makeLogging() -> (TunnelLogging, FakeTunnelLogger) {
        let fake = FakeTunnelLogger()
        return (TunnelLogging(openLogger: { _ in fake }), fake)
    }

    func testStartOpensTheLoggerAndStartsPolling() throws {
        let (logging, fake) = makeLogging()
        XCTAssertEqual(logging.state, .idle)
        try logging.start()
        XCTAssertEqual(logging.state, .running)
        XCTAssertEqual(fake.calls, [.enable(true)])
        XCTAssertThrowsError(try logging.start()) { XCTAssertEqual($0 as? SockstatGlueError, .alreadyStarted) }
        XCTAssertEqual(fake.calls, [.enable(true)])
    }

    func testAFailedOpenLeavesTheLoggingIdleWithTheCoresError() throws {
        let logging = TunnelLogging(openLogger: { _ in throw SockstatError.LogDirectory(message: "read-only") })
        XCTAssertThrowsError(try logging.start()) {
            XCTAssertEqual($0 as? SockstatError, .LogDirectory(message: "read-only"))
        }
        XCTAssertEqual(logging.state, .idle)
    }

    func testSleepStopsPollingAndWakeResumesIt() throws {
        let (logging, fake) = makeLogging()
        try logging.start()
        logging.sleep()
        XCTAssertEqual(logging.state, .asleep)
        logging.sleep()
        logging.wake()
        XCTAssertEqual(logging.state, .running)
        logging.wake()
        XCTAssertEqual(fake.calls, [.enable(true), .enable(false), .enable(true)])
    }

    func testSleepAndWakeBeforeStartDoNothing() {
        let (logging, fake) = makeLogging()
        logging.sleep()
        logging.wake()
        XCTAssertEqual(logging.state, .idle)
        XCTAssertEqual(fake.calls, [])
    }

    func testStopFlushesWithinItsDeadlineThenShutsDownOnce() async throws {
        let (logging, fake) = makeLogging()
        try logging.start()
        let stopped = ManagedFlag()
        logging.onStop { stopped.value = true }
        let report = try await logging.stop(within: .milliseconds(2_500))
        XCTAssertEqual(report?.linesSent, 12)
        XCTAssertEqual(fake.calls, [.enable(true), .flush(deadlineMs: 2_500), .shutdown])
        XCTAssertEqual(logging.state, .stopped)
        XCTAssertTrue(stopped.value)

        let again = try await logging.stop()
        XCTAssertNil(again)
        logging.wake()
        XCTAssertEqual(fake.calls.count, 3)
    }

    func testAFailedFlushOnStopStillShutsDownAndReportsTheError() async throws {
        let (logging, fake) = makeLogging()
        fake.flushError = .Buffer(message: "disk full")
        try logging.start()
        do {
            try await logging.stop()
            XCTFail("stop should report the flush error")
        } catch {
            XCTAssertEqual(error as? SockstatError, .Buffer(message: "disk full"))
        }
        XCTAssertEqual(fake.calls.last, .shutdown)
        XCTAssertEqual(logging.state, .stopped)
    }

    func testAFlushRequestFromTheAppIsFlushedAndAnsweredWithItsSummary() async throws {
        let (logging, fake) = makeLogging()
        try logging.start()
        logging.sleep()  // flushing works while asleep too
        let answer = await logging.handleAppMessage(FlushMessage.request(within: .seconds(4)))
        let summary = try FlushMessage.summary(ofReply: try XCTUnwrap(answer))
        XCTAssertEqual(summary, FlushSummary(linesSent: 12))
        XCTAssertEqual(fake.calls, [.enable(true), .enable(false), .flush(deadlineMs: 4_000)])
    }

    func testAFlushRequestsDeadlineIsCapped() async throws {
        let (logging, fake) = makeLogging()
        try logging.start()
        _ = await logging.handleAppMessage(FlushMessage.request(within: .seconds(3_600)))
        XCTAssertEqual(fake.calls.last, .flush(deadlineMs: 25_000))
    }

    func testAFlushRequestBeforeStartIsAnsweredWithAnError() async throws {
        let (logging, fake) = makeLogging()
        let reply = await logging.handleAppMessage(FlushMessage.request(within: .seconds(1)))
        let answer = try XCTUnwrap(reply)
        XCTAssertThrowsError(try FlushMessage.summary(ofReply: answer)) { error in
            XCTAssertEqual(error as? SockstatGlueError,
                           .remoteFlushFailed(SockstatGlueError.notRunning.errorDescription!))
        }
        XCTAssertEqual(fake.calls, [])
    }

    func testMessagesThatAreNotOursGetNoAnswerAndNoFlush() async throws {
        let (logging, fake) = makeLogging()
        try logging.start()
        for message in [Data(), Data("hello".utf8), Data("{\"sockstatlog\":\"reboot\",\"deadlineMs\":1}".utf8)] {
            let answer = await logging.handleAppMessage(message)
            XCTAssertNil(answer)
        }
        XCTAssertEqual(fake.calls, [.enable(true)])
    }

    /// The same lifecycle against the real library: what each transition
    /// does to the logged traffic.
    func testWithTheLibraryBytesWhileAsleepAreNotPolledAndNothingBeforeStopIsLost() async throws {
        let directory = try temporaryDirectory(self).appendingPathComponent("shared/sockstatlog")
        let logging = TunnelLogging(logDirectory: directory, publicLogId: nodeId, options: pollOnDemandOptions())
        // Each flush waits until the worker handled the change before it.
        try logging.start()
        _ = try await logging.flush(within: .seconds(5))  // baseline taken
        logging.counters.add(label: 1, tx: 10, rx: 20)
        logging.sleep()  // a last poll closes the interval: one event
        _ = try await logging.flush(within: .seconds(5))
        logging.counters.add(label: 1, tx: 1_000)  // while asleep: no poll sees it
        logging.wake()  // a new baseline
        _ = try await logging.flush(within: .seconds(5))
        logging.path.update(PathFacts(isSatisfied: true, interfaces: [.cellular]))
        logging.counters.add(label: 3, rx: 5)
        try await logging.stop(within: .seconds(2))

        let reader = try Logger(logDir: directory.path, publicLogId: nodeId, source: CounterTable(),
                                options: pollOnDemandOptions())
        XCTAssertEqual(try bufferedEvents(reader), [
            DecodedEvent(stats: ["1": [10, 20]], cellular: false),
            DecodedEvent(stats: ["3": [0, 5]], cellular: true),
        ])
    }

}
