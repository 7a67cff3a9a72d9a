import XCTest
@testable import SockstatLog

final class LogIdTests: XCTestCase {
    func testPublicLogIdIsTheSha256OfThePrivateId() throws {
        // sha256 of the bytes 00 01 ... 1f (computed independently with Python's hashlib).
        let privateId = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
        XCTAssertEqual(try publicLogId(privateLogId: privateId),
                       "630dcd2966c4336691125448bbb25b4ff412a49c732db2c8abc1b8581bd710dd")
    }

    func testSockstatLogIdIsWhatTheLoggerLogsUnder() throws {
        // sha256(sha256("<node id>sockstat")), computed independently.
        XCTAssertEqual(try sockstatLogId(publicLogId: nodeId),
                       "f69763992d3d185ade582077e7838e74fcc25e3b1ff9b1e0c4eda9757efa500b")
        let logger = try Logger(logDir: try temporaryDirectory(self).path, publicLogId: nodeId,
                                source: CounterTable(), options: pollOnDemandOptions())
        XCTAssertEqual(logger.logId(), try sockstatLogId(publicLogId: nodeId))
    }

    func testABadLogIdThrowsInvalidLogIdWithTheCoresMessage() {
        XCTAssertThrowsError(try sockstatLogId(publicLogId: "xyz")) { error in
            guard case SockstatError.InvalidLogId(let message) = error else {
                return XCTFail("expected InvalidLogId, got \(error)")
            }
            XCTAssertTrue(message.contains("64 hex"), message)
            XCTAssertEqual((error as? SockstatError)?.message, message)
        }
        XCTAssertThrowsError(try Logger(logDir: "/tmp/unused", publicLogId: "00", source: CounterTable(),
                                        options: defaultLoggerOptions())) { error in
            guard case SockstatError.InvalidLogId = error else { return XCTFail("expected InvalidLogId, got \(error)") }
        }
    }

    func testEveryCoreErrorsMessageIsItsText() {
        let errors: [SockstatError] = [.ShutDown(message: "a"), .InvalidLogId(message: "b"),
                                       .InvalidOption(message: "c"), .LogDirectory(message: "d"),
                                       .InvalidLine(message: "e"), .Buffer(message: "f"),
                                       .DeadlineExceeded(message: "g")]
        XCTAssertEqual(errors.map(\.message), ["a", "b", "c", "d", "e", "f", "g"])
    }
}
