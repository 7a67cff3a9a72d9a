import Foundation
import XCTest
@testable import SockstatLog

/// A node's public log ID (any 64 hex characters).
let nodeId = "5a41c0b600c88656cfe8678dca763899f7d5eafa0a8a01cbc7d4362175c9c82d"

/// A fresh empty directory, removed when the test ends.
func temporaryDirectory(_ test: XCTestCase) throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("sockstatlog-swift-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}

/// Options under which the worker polls only when asked (enable, flush,
/// disable): the polls of a test are exactly the ones it causes.
func pollOnDemandOptions() -> LoggerOptions {
    var options = defaultLoggerOptions()
    options.pollPeriodMs = 3_600_000
    options.batchPeriodMs = 3_600_000
    return options
}

/// One event line, decoded: per label (decimal text) `[tx, rx]`, and the
/// cellular flag.
struct DecodedEvent: Equatable {
    var stats: [String: [Int64]]
    var cellular: Bool
}

/// The event lines in a logger's buffer, decoded.
func bufferedEvents(_ logger: Logger) throws -> [DecodedEvent] {
    try logger.bufferedLines(maxBytes: 1 << 20).map { line in
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        let stats = try XCTUnwrap(object["s"] as? [String: [NSNumber]], "not an event: \(line)")
        return DecodedEvent(stats: stats.mapValues { $0.map(\.int64Value) }, cellular: object["c"] != nil)
    }
}

/// An HTTP client in Swift: records each request and answers `status`, or
/// throws `error`.
final class RecordingHttpClient: HttpClient, @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [HttpPostRequest] = []
    private let status: UInt16
    private let error: HttpClientError?

    init(status: UInt16 = 200, error: HttpClientError? = nil) {
        self.status = status
        self.error = error
    }

    var requests: [HttpPostRequest] {
        lock.lock()
        defer { lock.unlock() }
        return recorded
    }

    func post(request: HttpPostRequest) throws -> HttpPostResponse {
        lock.lock()
        recorded.append(request)
        lock.unlock()
        if let error { throw error }
        return HttpPostResponse(status: status, headers: [], body: Data())
    }
}
