// Hand-written glue (not generated).
import Foundation

/// What a flush did, in a form that crosses the app/extension boundary
/// (`Codable`) and is the same whichever process flushed.
public struct FlushSummary: Sendable, Equatable, Codable {
    /// Lines the server accepted.
    public var linesSent: UInt64
    /// Lines the server refused for good (dropped and counted).
    public var linesDropped: UInt64
    /// Lines still waiting in the buffer after the flush.
    public var linesStillBuffered: UInt64
    /// Whether everything buffered when the flush began was sent.
    public var complete: Bool
    /// Whether another process (the extension, or the app) was uploading
    /// the same directory, so this flush sent nothing and returned at once.
    public var otherUploaderActive: Bool
    /// The last error met, if any (never contains the private log ID).
    public var lastError: String?

    /// Creates a summary.
    public init(linesSent: UInt64, linesDropped: UInt64 = 0, linesStillBuffered: UInt64 = 0,
                complete: Bool = true, otherUploaderActive: Bool = false, lastError: String? = nil) {
        self.linesSent = linesSent
        self.linesDropped = linesDropped
        self.linesStillBuffered = linesStillBuffered
        self.complete = complete
        self.otherUploaderActive = otherUploaderActive
        self.lastError = lastError
    }

    /// The summary of a core flush report.
    public init(_ report: FlushReport) {
        self.init(linesSent: report.linesSent, linesDropped: report.linesDropped,
                  linesStillBuffered: report.linesStillBuffered, complete: report.complete,
                  otherUploaderActive: report.otherUploaderActive,
                  lastError: report.lastError)
    }
}

/// The provider messages between the containing app and the extension:
/// a flush request and its answer, as small JSON documents. Messages that
/// are not ours decode to `nil`, so an app can route its own messages too.
public enum FlushMessage {
    private struct Request: Codable {
        var sockstatlog: String
        var deadlineMs: UInt64
    }

    private struct Reply: Codable {
        var sockstatlog: String
        var summary: FlushSummary?
        var error: String?
    }

    /// A request to flush within `deadline`.
    public static func request(within deadline: Duration) -> Data {
        // Encoding a struct of a string and an integer cannot fail.
        (try? JSONEncoder().encode(Request(sockstatlog: "flush", deadlineMs: deadline.milliseconds))) ?? Data()
    }

    /// The deadline of a flush request, or `nil` when `data` is not one.
    public static func flushDeadline(of data: Data) -> Duration? {
        guard let request = try? JSONDecoder().decode(Request.self, from: data),
              request.sockstatlog == "flush" else { return nil }
        return .milliseconds(Int64(clamping: request.deadlineMs))
    }

    /// The answer to a flush request: its summary, or the error that ended it.
    public static func reply(_ result: Result<FlushSummary, Error>) -> Data {
        let reply: Reply
        switch result {
        case .success(let summary): reply = Reply(sockstatlog: "flushed", summary: summary, error: nil)
        case .failure(let error): reply = Reply(sockstatlog: "flushed", summary: nil, error: describe(error))
        }
        return (try? JSONEncoder().encode(reply)) ?? Data()
    }

    /// Reads an answer to a flush request.
    ///
    /// - Throws: ``SockstatGlueError/remoteFlushFailed(_:)`` with the
    ///   extension's error, ``SockstatGlueError/badMessage(_:)`` when `data`
    ///   is not an answer.
    public static func summary(ofReply data: Data) throws -> FlushSummary {
        guard let reply = try? JSONDecoder().decode(Reply.self, from: data), reply.sockstatlog == "flushed" else {
            throw SockstatGlueError.badMessage("not an answer to a flush request (\(data.count) bytes)")
        }
        if let summary = reply.summary { return summary }
        throw SockstatGlueError.remoteFlushFailed(reply.error ?? "no reason given")
    }

    /// The message of an error: the core's text for ``SockstatError``.
    static func describe(_ error: Error) -> String {
        if let error = error as? SockstatError { return error.message }
        if let error = error as? LocalizedError, let text = error.errorDescription { return text }
        return String(describing: error)
    }
}
