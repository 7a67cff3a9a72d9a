// Hand-written glue (not generated).
import Foundation

/// The containing app's background tasks (`UIApplication` in the app; a
/// fake in tests).
@MainActor
public protocol BackgroundTasks: AnyObject {
    /// Begins a background task; `expiration` runs, on the main actor, when
    /// the system is about to suspend the app. `nil`: no task was granted.
    func begin(name: String, expiration: @escaping @MainActor @Sendable () -> Void) -> Int?
    /// Ends a task `begin` returned.
    func end(_ task: Int)
    /// The time left before the app is suspended
    /// (`UIApplication.backgroundTimeRemaining`).
    var timeRemaining: Duration { get }
}

/// A monotonic clock (`ContinuousClock` in the app, a fake in tests).
public protocol UptimeClock: Sendable {
    /// The time since an arbitrary fixed point.
    func now() -> Duration
}

/// The process's monotonic clock.
public struct SystemUptimeClock: UptimeClock {
    private let origin = ContinuousClock.now
    /// Creates a clock starting now.
    public init() {}
    /// The time since the clock was created.
    public func now() -> Duration { ContinuousClock.now - origin }
}

/// Sends a provider message to the running extension and returns its
/// answer (`NETunnelProviderSession.sendProviderMessage`).
public protocol ProviderMessaging: Sendable {
    /// The extension's answer, `nil` when it gave none; throws when it is
    /// not running.
    func send(_ message: Data) async throws -> Data?
}

/// How the containing app gets the shared log directory flushed.
public enum BackgroundFlushRoute: Sendable, Equatable {
    /// Through the flush-only handle on the shared container, in the app's
    /// own process. Works whether or not the extension runs; when the
    /// extension is uploading at the same moment, one of them waits
    /// (`upload.lock`) and the lines are sent once. The default.
    case sharedContainer
    /// By asking the running extension (a provider message); when it does
    /// not answer, through the shared container if there is a handle.
    case providerMessage
}

/// What a background flush did.
public enum BackgroundFlushOutcome: Sendable, Equatable {
    /// Why no flush ran.
    public enum SkipReason: Sendable, Equatable {
        /// A flush is still running.
        case alreadyFlushing
        /// The last one began less than the minimum interval ago.
        case recentlyFlushed
        /// The system granted no background time (or too little).
        case noBackgroundTime
    }
    /// Flushed, by the given route.
    case flushed(FlushSummary, via: BackgroundFlushRoute)
    /// Not flushed.
    case skipped(SkipReason)
    /// The flush failed; the lines stay buffered for the next one.
    case failed(String)
}

/// Flushes the shared log directory when the containing app goes to the
/// background, inside a background task, at most one flush at a time and
/// at most once per ``minimumInterval``.
///
/// The flush never runs on the main thread; its deadline is the smaller of
/// ``maximumDeadline`` and the background time left minus ``safetyMargin``,
/// and the task is ended when the flush returns or the time expires,
/// whichever comes first.
@MainActor
public final class BackgroundFlusher {
    /// The shortest flush worth starting.
    public static let minimumDeadline: Duration = .milliseconds(500)

    /// The longest a background flush may take.
    public var maximumDeadline: Duration = .seconds(10)
    /// Time kept back from the background time left.
    public var safetyMargin: Duration = .seconds(2)
    /// The least time between the starts of two flushes.
    public var minimumInterval: Duration = .seconds(60)

    private let route: BackgroundFlushRoute
    private let container: (any Flushing)?
    private let provider: (any ProviderMessaging)?
    private let tasks: any BackgroundTasks
    private let clock: any UptimeClock
    private var flushing = false
    private var lastStart: Duration?

    /// Creates a flusher.
    ///
    /// - Parameters:
    ///   - route: ``BackgroundFlushRoute/sharedContainer`` by default.
    ///   - container: the flush-only handle on the shared directory
    ///     (`LogUploader`); needed by the shared-container route and the
    ///     provider route's fallback.
    ///   - provider: the extension's message channel, for the provider route.
    ///   - tasks: `UIApplication.shared` through `UIKitBackgroundTasks`.
    ///   - clock: the monotonic clock.
    public init(route: BackgroundFlushRoute = .sharedContainer, container: (any Flushing)?,
                provider: (any ProviderMessaging)? = nil, tasks: any BackgroundTasks,
                clock: any UptimeClock = SystemUptimeClock()) {
        self.route = route
        self.container = container
        self.provider = provider
        self.tasks = tasks
        self.clock = clock
    }

    /// Call when the app enters the background
    /// (`didEnterBackgroundNotification`).
    @discardableResult
    public func didEnterBackground() async -> BackgroundFlushOutcome {
        if flushing { return .skipped(.alreadyFlushing) }
        let now = clock.now()
        if let lastStart, now - lastStart < minimumInterval { return .skipped(.recentlyFlushed) }
        let task = TaskSlot(tasks: tasks)
        task.id = tasks.begin(name: "sockstatlog flush") {
            // The system is suspending the app: end the task now; the flush
            // itself ends by its deadline and keeps what it did not send.
            task.end()
        }
        guard task.id != nil else { return .skipped(.noBackgroundTime) }
        defer { task.end() }
        let deadline = min(maximumDeadline, tasks.timeRemaining - safetyMargin)
        guard deadline >= Self.minimumDeadline else { return .skipped(.noBackgroundTime) }
        flushing = true
        lastStart = now
        defer { flushing = false }
        return await flush(within: deadline)
    }

    private func flush(within deadline: Duration) async -> BackgroundFlushOutcome {
        if route == .providerMessage, let provider {
            if let answer = try? await provider.send(FlushMessage.request(within: deadline)) {
                do {
                    return .flushed(try FlushMessage.summary(ofReply: answer), via: .providerMessage)
                } catch {
                    return .failed(FlushMessage.describe(error))
                }
            }
            // No answer: the extension is not running; flush here instead.
        }
        guard let container else { return .failed("no flush-only handle on the shared container to flush with") }
        do {
            return .flushed(try await container.flush(within: deadline), via: .sharedContainer)
        } catch {
            return .failed(FlushMessage.describe(error))
        }
    }
}

/// One background task, ended exactly once.
@MainActor
private final class TaskSlot {
    var id: Int?
    private let tasks: any BackgroundTasks

    init(tasks: any BackgroundTasks) {
        self.tasks = tasks
    }

    func end() {
        if let id { tasks.end(id) }
        id = nil
    }
}
