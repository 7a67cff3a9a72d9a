import Foundation
import XCTest
@testable import SockstatLog

/// The generated bindings against the library, fed by the glue's counter table.
final class LoggerTests: XCTestCase {
    func testALoggerFedByTheCounterTableLogsExactDeltasAndTheCellularFlagPerPoll() throws {
        let path = UnderlyingPath()
        let table = CounterTable(isCellular: { path.isCellular })
        table.add(label: 1, tx: 1_000, rx: 1_000)  // before the baseline: never logged
        let logger = try Logger(logDir: try temporaryDirectory(self).path, publicLogId: nodeId,
                                source: table, options: pollOnDemandOptions())
        try enableAndWait(logger)  // baseline poll

        table.add(label: 1, tx: 100, rx: 200)
        _ = try logger.flush(deadlineMs: 5_000)  // poll 2
        path.update(PathFacts(isSatisfied: true, interfaces: [.cellular]))
        table.add(label: 1, tx: 5)
        table.add(label: 11, rx: 7)
        _ = try logger.flush(deadlineMs: 5_000)  // poll 3
        _ = try logger.flush(deadlineMs: 5_000)  // poll 4: nothing moved, no event
        path.update(PathFacts(isSatisfied: true, interfaces: [.wifi]))
        table.add(label: 2, tx: 9, rx: 9)
        try disableAndWait(logger)  // the last poll closes the interval

        XCTAssertEqual(try bufferedEvents(logger), [
            DecodedEvent(stats: ["1": [100, 200]], cellular: false),
            DecodedEvent(stats: ["1": [5, 0], "11": [0, 7]], cellular: true),
            DecodedEvent(stats: ["2": [9, 9]], cellular: false),
        ])
        XCTAssertEqual(logger.stats().events, 3)
    }

    func testAThrowingSourceIsACountedSkippedPollNeverFatal() throws {
        struct Unplugged: Error {}
        let table = CounterTable()
        let failing = ManagedFlag()
        let source = ClosureCounterSource {
            if failing.value { throw Unplugged() }
            return try table.snapshot()
        }
        let logger = try Logger(logDir: try temporaryDirectory(self).path, publicLogId: nodeId,
                                source: source, options: pollOnDemandOptions())
        try enableAndWait(logger)
        table.add(label: 4, tx: 10)
        failing.value = true
        _ = try logger.flush(deadlineMs: 5_000)
        XCTAssertEqual(logger.stats().sourceErrors, 1)
        XCTAssertEqual(try bufferedEvents(logger), [])

        failing.value = false
        table.add(label: 4, tx: 1)
        _ = try logger.flush(deadlineMs: 5_000)
        // The failed poll kept the baseline: the next one covers both adds.
        XCTAssertEqual(try bufferedEvents(logger), [DecodedEvent(stats: ["4": [11, 0]], cellular: false)])
        XCTAssertEqual(logger.stats().sourceErrors, 1)
        XCTAssertTrue(logger.isLoggingEnabled())
    }

    func testAnHttpClientInSwiftCarriesTheUploadsAndTheServersAnswerRemovesTheLines() throws {
        let client = RecordingHttpClient(status: 200)
        var options = pollOnDemandOptions()
        options.serverUrl = "http://127.0.0.1:9"
        options.httpClient = client
        let logger = try Logger(logDir: try temporaryDirectory(self).path, publicLogId: nodeId,
                                source: CounterTable(), options: options)
        for i in 0..<3 { try logger.write(text: "{\"line\":\(i)}") }

        let report = try logger.flush(deadlineMs: 5_000)

        XCTAssertEqual(report.linesSent, 3)
        XCTAssertTrue(report.complete)
        XCTAssertEqual(report.linesStillBuffered, 0)
        XCTAssertEqual(client.requests.count, 1)
        let url = try XCTUnwrap(client.requests.first?.url)
        XCTAssertTrue(url.hasPrefix("http://127.0.0.1:9/c/sockstats.log.tailscale.io/"), url)
        XCTAssertEqual(try logger.bufferedLines(maxBytes: 1 << 20), [])
    }

    func testAnHttpClientThatThrowsKeepsTheLinesForTheNextFlush() throws {
        let client = RecordingHttpClient(error: .Connect(reason: "no route"))
        var options = pollOnDemandOptions()
        options.serverUrl = "http://127.0.0.1:9"
        options.httpClient = client
        let logger = try Logger(logDir: try temporaryDirectory(self).path, publicLogId: nodeId,
                                source: CounterTable(), options: options)
        try logger.write(text: "{\"kept\":true}")

        let report = try logger.flush(deadlineMs: 300)

        XCTAssertFalse(report.complete)
        XCTAssertEqual(report.linesSent, 0)
        XCTAssertEqual(report.linesStillBuffered, 1)
        XCTAssertNotNil(report.lastError)
        XCTAssertGreaterThanOrEqual(client.requests.count, 1)
        XCTAssertEqual(try logger.bufferedLines(maxBytes: 1 << 20), ["{\"kept\":true}"])
    }

    func testAfterShutdownEveryCallThrowsShutDownAndShutdownIsIdempotent() throws {
        let logger = try Logger(logDir: try temporaryDirectory(self).path, publicLogId: nodeId,
                                source: CounterTable(), options: pollOnDemandOptions())
        try logger.shutdown(deadlineMs: 1_000)
        try logger.shutdown(deadlineMs: 1_000)
        for call in [{ try logger.write(text: "late") },
                     { _ = try logger.flush(deadlineMs: 100) },
                     { try logger.setLoggingEnabled(enabled: true) }] {
            XCTAssertThrowsError(try call()) { error in
                guard case SockstatError.ShutDown(let message) = error else {
                    return XCTFail("expected ShutDown, got \(error)")
                }
                XCTAssertFalse(message.isEmpty)
            }
        }
        XCTAssertFalse(logger.isLoggingEnabled())
    }

    func testABadOptionThrowsInvalidOptionWithTheCoresMessage() throws {
        var options = defaultLoggerOptions()
        options.pollPeriodMs = 1
        XCTAssertThrowsError(try Logger(logDir: try temporaryDirectory(self).path, publicLogId: nodeId,
                                        source: CounterTable(), options: options)) { error in
            guard case SockstatError.InvalidOption(let message) = error else {
                return XCTFail("expected InvalidOption, got \(error)")
            }
            XCTAssertTrue(message.contains("poll_period"), message)
        }
    }
}

/// Enables polling and waits until the worker took its baseline: a flush
/// is handled after the change of state it follows.
func enableAndWait(_ logger: Logger) throws {
    try logger.setLoggingEnabled(enabled: true)
    _ = try logger.flush(deadlineMs: 5_000)
}

/// Disables polling and waits until the closing poll's event is stored.
func disableAndWait(_ logger: Logger) throws {
    try logger.setLoggingEnabled(enabled: false)
    _ = try logger.flush(deadlineMs: 5_000)
}

/// A flag shared with a counter source on the worker thread.
final class ManagedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false
    var value: Bool {
        get { lock.lock(); defer { lock.unlock() }; return flag }
        set { lock.lock(); flag = newValue; lock.unlock() }
    }
}
