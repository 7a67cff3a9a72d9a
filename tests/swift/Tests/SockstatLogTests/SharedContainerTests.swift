import Foundation
import XCTest
@testable import SockstatLog

/// The containing app flushing the shared container the extension writes.
final class SharedContainerTests: XCTestCase {
    /// Runs the LogWriter product: another process writing `directory`, as
    /// the extension does; it keeps its logger open until `finish()`.
    private final class Writer {
        let process = Process()
        let input = Pipe()
        let output = Pipe()

        init(directory: URL, first: Int, count: Int) throws {
            let products = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            process.executableURL = products.appendingPathComponent("LogWriter")
            process.arguments = [directory.path, nodeId, String(first), String(count)]
            process.standardInput = input
            process.standardOutput = output
            try process.run()
        }

        /// Waits until the writer's lines are in the buffer.
        func waitUntilStored() throws {
            let line = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
            XCTAssertEqual(line, "stored\n")
        }

        /// Lets the writer shut down, and waits for it to exit.
        func finish() -> Int32 {
            input.fileHandleForWriting.closeFile()
            process.waitUntilExit()
            return process.terminationStatus
        }
    }

    private func uploader(_ directory: URL, _ client: HttpClient) throws -> LogUploader {
        try LogUploader(logDir: directory.path, publicLogId: nodeId,
                        options: LogUploaderOptions(serverUrl: "http://127.0.0.1:9", collection: nil,
                                                    httpClient: client, bufferCapBytes: nil))
    }

    func testTheAppFlushesWhatAnotherProcessWroteWhileThatProcessRuns() async throws {
        let directory = try temporaryDirectory(self)
        let writer = try Writer(directory: directory, first: 0, count: 50)
        try writer.waitUntilStored()
        let client = RecordingHttpClient(status: 200)
        let app = try uploader(directory, client)

        let first = try await app.flush(within: .seconds(5))
        XCTAssertEqual(first, FlushSummary(linesSent: 50))
        XCTAssertEqual(writer.finish(), 0)

        let later = try Writer(directory: directory, first: 50, count: 10)
        try later.waitUntilStored()
        XCTAssertEqual(later.finish(), 0)
        let second = try await app.flush(within: .seconds(5))
        XCTAssertEqual(second, FlushSummary(linesSent: 10))
        XCTAssertEqual(client.requests.count, 2)
    }

    func testAFlushWhileAnotherUploaderIsUploadingReturnsAtOnceAndSaysSo() async throws {
        let directory = try temporaryDirectory(self)
        let writer = try Writer(directory: directory, first: 0, count: 3)
        try writer.waitUntilStored()
        XCTAssertEqual(writer.finish(), 0)
        let blocking = BlockingHttpClient()
        let busy = try uploader(directory, blocking)
        let other = try uploader(directory, RecordingHttpClient(status: 200))

        let running = Task { try await busy.flush(within: .seconds(10)) }
        await blocking.waitUntilPosting()
        let skipped = try await other.flush(within: .seconds(5))
        XCTAssertEqual(skipped.linesSent, 0)
        XCTAssertTrue(skipped.otherUploaderActive)
        blocking.release()
        let done = try await running.value
        XCTAssertEqual(done, FlushSummary(linesSent: 3))
    }
}

/// An HTTP client whose first request waits until released, then succeeds.
final class BlockingHttpClient: HttpClient, @unchecked Sendable {
    private let posting = DispatchSemaphore(value: 0)
    private let gate = DispatchSemaphore(value: 0)

    func post(request: HttpPostRequest) throws -> HttpPostResponse {
        posting.signal()
        gate.wait()
        return HttpPostResponse(status: 200, headers: [], body: Data())
    }

    func waitUntilPosting() async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                self.posting.wait()
                done.resume()
            }
        }
    }

    func release() { gate.signal() }
}
