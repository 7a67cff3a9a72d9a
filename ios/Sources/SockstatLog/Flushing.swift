// Hand-written glue (not generated).
import Foundation

/// Something that uploads a log directory's buffered lines within a
/// deadline: a ``Logger`` (in the Network Extension) or a flush-only
/// `LogUploader` (in the containing app, on the shared container).
public protocol Flushing: AnyObject, Sendable {
    /// Uploads what is buffered, within `deadlineMs`, and sums up what it
    /// did. Blocks the calling thread; use ``flush(within:)`` from Swift
    /// concurrency.
    func flushSummary(deadlineMs: UInt64) throws -> FlushSummary
}

extension Logger: Flushing {
    /// ``Logger/flush(deadlineMs:)``, summed up.
    public func flushSummary(deadlineMs: UInt64) throws -> FlushSummary {
        FlushSummary(try flush(deadlineMs: deadlineMs))
    }
}

extension Flushing {
    /// Uploads what is buffered, within `deadline`, on a background thread:
    /// the caller's thread or actor is never blocked.
    ///
    /// - Throws: ``SockstatError`` with the core's message.
    public func flush(within deadline: Duration) async throws -> FlushSummary {
        let ms = deadline.milliseconds
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .utility).async {
                continuation.resume(with: Result { try self.flushSummary(deadlineMs: ms) })
            }
        }
    }
}

extension Duration {
    /// Whole milliseconds, negative durations as zero.
    var milliseconds: UInt64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0 else { return 0 }
        return UInt64(seconds) * 1_000 + UInt64(attoseconds / 1_000_000_000_000_000)
    }
}

extension SockstatError {
    /// The core's message, for example
    /// `log ID must be 64 hex characters, got 3`.
    public var message: String {
        switch self {
        case .ShutDown(let message), .InvalidLogId(let message), .InvalidOption(let message),
             .LogDirectory(let message), .InvalidLine(let message), .Buffer(let message),
             .DeadlineExceeded(let message), .WorkerThread(let message):
            return message
        }
    }
}

/// Errors of the glue itself (the core's are ``SockstatError``).
public enum SockstatGlueError: Error, Sendable, Equatable, LocalizedError {
    /// The tunnel's logging was started twice.
    case alreadyStarted
    /// The tunnel's logging is not running: call `start` first, or it was stopped.
    case notRunning
    /// The app group has no container: check the App Groups entitlement of
    /// both the app and the extension.
    case noAppGroupContainer(String)
    /// The log directory cannot be prepared.
    case logDirectory(String)
    /// A provider message is not a flush request this glue understands.
    case badMessage(String)
    /// The extension answered a flush request with an error.
    case remoteFlushFailed(String)

    /// A message a developer can act on.
    public var errorDescription: String? {
        switch self {
        case .alreadyStarted: return "tunnel logging is already started"
        case .notRunning: return "tunnel logging is not running: call start first (or it was stopped)"
        case .noAppGroupContainer(let group):
            return "no container for app group \(group): add it to the App Groups entitlement of the app and the extension"
        case .logDirectory(let reason): return "cannot prepare the log directory: \(reason)"
        case .badMessage(let reason): return "not a sockstatlog flush message: \(reason)"
        case .remoteFlushFailed(let reason): return "the extension's flush failed: \(reason)"
        }
    }
}
