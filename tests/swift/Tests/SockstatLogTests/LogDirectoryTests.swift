import Foundation
import XCTest
@testable import SockstatLog

final class LogDirectoryTests: XCTestCase {
    func testPrepareCreatesTheDirectoryAndItsParentsAndIsIdempotent() throws {
        let url = try temporaryDirectory(self).appendingPathComponent("group/sockstatlog", isDirectory: true)
        XCTAssertEqual(try LogDirectory.prepare(url), url)
        XCTAssertEqual(try LogDirectory.prepare(url), url)
        var isDirectory: ObjCBool = false
        XCTAssertTrue(FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory))
        XCTAssertTrue(isDirectory.boolValue)
    }

    func testAFileInTheWayIsAClearError() throws {
        let url = try temporaryDirectory(self).appendingPathComponent("sockstatlog")
        try Data("x".utf8).write(to: url)
        XCTAssertThrowsError(try LogDirectory.prepare(url)) { error in
            XCTAssertEqual(error as? SockstatGlueError,
                           .logDirectory("\(url.path) exists and is not a directory"))
            XCTAssertEqual((error as? LocalizedError)?.errorDescription,
                           "cannot prepare the log directory: \(url.path) exists and is not a directory")
        }
    }
}
