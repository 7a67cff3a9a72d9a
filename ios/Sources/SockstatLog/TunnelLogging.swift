// Hand-written glue (not generated).
import Foundation

/// What ``TunnelLogging`` needs of a logger; ``Logger`` is one.
public protocol TunnelLogger: Flushing {
    /// Turns polling on or off; returns at once.
    func setLoggingEnabled(enabled: Bool) throws
    /// Stops logging for good, within `deadlineMs`.
    func shutdown(deadlineMs: UInt64) throws
}

extension Logger: TunnelLogger {}

/// Sockstat logging for an `NEPacketTunnelProvider`: the extension's
/// lifecycle turned into logger calls.
///
/// | provider callback | call | effect |
/// |---|---|---|
/// | `startTunnel` | ``start()`` | opens the logger, polling starts |
/// | `sleep` | ``sleep()`` | a last poll, then no wakeups while the device sleeps |
/// | `wake` | ``wake()`` | polling resumes with a fresh baseline |
/// | `handleAppMessage` | ``handleAppMessage(_:)`` | a flush request is flushed and answered |
/// | `stopTunnel` | ``stop(within:)`` | a bounded flush, then shutdown |
///
/// The tunnel's networking code adds bytes to ``counters``; the extension's
/// `NWPathMonitor` feeds ``path`` (see `NetworkPathMonitor`). All methods are
/// safe from any thread; ``start()``, ``sleep()`` and ``wake()`` return at
/// once, flushes run on a background thread.
public final class TunnelLogging: @unchecked Sendable {
    /// Where the extension's logging is.
    public enum State: Sendable, Equatable {
        /// Created, not started.
        case idle
        /// Polling.
        case running
        /// Started, polling paused while the device sleeps.
        case asleep
        /// Stopped for good.
        case stopped
    }

    /// The longest flush a provider message may ask for.
    public static let maxMessageFlush: Duration = .seconds(25)

    /// The per-label counters the tunnel adds bytes to: the logger's source.
    public let counters: CounterTable
    /// The underlying network's state; its cellular flag goes into each poll.
    public let path: UnderlyingPath

    private let openLogger: @Sendable (CounterTable) throws -> any TunnelLogger
    // Guarded by `lock`; never held across a flush or a shutdown.
    private let lock = NSLock()
    private var logger: (any TunnelLogger)?
    private var currentState = State.idle
    private var stopActions: [@Sendable () -> Void] = []

    /// Logging into `logDirectory` (prepared with ``LogDirectory/prepare(_:)``
    /// on start) under the node's public log ID (64 hex characters).
    public convenience init(logDirectory: URL, publicLogId: String,
                            options: LoggerOptions = defaultLoggerOptions()) {
        self.init { counters in
            let directory = try LogDirectory.prepare(logDirectory)
            return try Logger(logDir: directory.path, publicLogId: publicLogId, source: counters, options: options)
        }
    }

    /// Logging through the logger `openLogger` creates on ``start()``, fed by
    /// the counter table it is given. For tests and custom wiring.
    public init(openLogger: @escaping @Sendable (CounterTable) throws -> any TunnelLogger) {
        let path = UnderlyingPath()
        self.path = path
        self.counters = CounterTable(isCellular: { path.isCellular })
        self.openLogger = openLogger
    }

    /// Where the logging is.
    public var state: State {
        lock.lock()
        defer { lock.unlock() }
        return currentState
    }

    /// Opens the logger and starts polling. Call from `startTunnel`.
    ///
    /// - Throws: ``SockstatGlueError/alreadyStarted``, or the error opening
    ///   the logger (``SockstatError`` with the core's message,
    ///   ``SockstatGlueError/logDirectory(_:)``); the state stays idle.
    public func start() throws {
        lock.lock()
        defer { lock.unlock() }
        guard currentState == .idle else { throw SockstatGlueError.alreadyStarted }
        let logger = try openLogger(counters)
        try logger.setLoggingEnabled(enabled: true)
        self.logger = logger
        currentState = .running
    }

    /// Runs `action` when logging stops (for example, cancels the path
    /// monitor); at once if it already stopped.
    public func onStop(_ action: @escaping @Sendable () -> Void) {
        lock.lock()
        guard currentState != .stopped else {
            lock.unlock()
            action()
            return
        }
        stopActions.append(action)
        lock.unlock()
    }

    /// Pauses polling (a last poll closes the interval): no wakeups while the
    /// device sleeps. Call from the provider's `sleep`. Ignored unless running.
    public func sleep() {
        setPolling(from: .running, to: .asleep)
    }

    /// Resumes polling. Call from the provider's `wake`. Ignored unless asleep.
    public func wake() {
        setPolling(from: .asleep, to: .running)
    }

    private func setPolling(from: State, to: State) {
        lock.lock()
        defer { lock.unlock() }
        guard currentState == from, let logger else { return }
        // Only fails once the logger is shut down, which `stop` does after
        // leaving these states.
        try? logger.setLoggingEnabled(enabled: to == .running)
        currentState = to
    }

    /// Uploads what is buffered, within `deadline`, off the caller's thread.
    ///
    /// - Throws: ``SockstatGlueError/notRunning`` before ``start()`` and after
    ///   ``stop(within:)``; ``SockstatError`` from the flush.
    public func flush(within deadline: Duration) async throws -> FlushSummary {
        guard let logger = startedLogger() else { throw SockstatGlueError.notRunning }
        return try await logger.flush(within: deadline)
    }

    /// Answers a provider message: a flush request (see ``FlushMessage``) is
    /// flushed, within its deadline capped at ``maxMessageFlush``, and
    /// answered with the summary or the error. Returns `nil` for messages
    /// that are not ours. Call from `handleAppMessage`.
    public func handleAppMessage(_ message: Data) async -> Data? {
        guard let requested = FlushMessage.flushDeadline(of: message) else { return nil }
        do {
            return FlushMessage.reply(.success(try await flush(within: min(requested, Self.maxMessageFlush))))
        } catch {
            return FlushMessage.reply(.failure(error))
        }
    }

    /// Flushes within `deadline`, then shuts the logger down (what is
    /// queued is stored first). Call from `stopTunnel`, before its
    /// completion handler. Later calls do nothing and return `nil`.
    ///
    /// - Returns: what the flush did, `nil` if logging was not started.
    /// - Throws: the flush's error, after the shutdown.
    @discardableResult
    public func stop(within deadline: Duration = .seconds(3)) async throws -> FlushSummary? {
        let logger = enterStopped()
        guard let logger else { return nil }
        let flushed: Result<FlushSummary, Error>
        do {
            flushed = .success(try await logger.flush(within: deadline))
        } catch {
            flushed = .failure(error)
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global(qos: .utility).async {
                try? logger.shutdown(deadlineMs: 1_000)
                continuation.resume()
            }
        }
        return try flushed.get()
    }

    /// Leaves every other state for good; runs the stop actions; returns the
    /// logger to stop, if it was started.
    private func enterStopped() -> (any TunnelLogger)? {
        lock.lock()
        let logger = self.logger
        self.logger = nil
        currentState = .stopped
        let actions = stopActions
        stopActions = []
        lock.unlock()
        for action in actions { action() }
        return logger
    }

    private func startedLogger() -> (any TunnelLogger)? {
        lock.lock()
        defer { lock.unlock() }
        return logger
    }
}
