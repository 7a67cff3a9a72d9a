// Hand-written glue (not generated): the Apple-only adapters. Each only
// forwards framework callbacks into the state holders, which are compiled
// and tested on Linux; these lines need Xcode (see ios/README.md).
import Foundation

#if canImport(Network)
import Network

extension InterfaceKind {
    /// The kind of a Network.framework interface type.
    public init(_ type: NWInterface.InterfaceType) {
        switch type {
        case .cellular: self = .cellular
        case .wifi: self = .wifi
        case .wiredEthernet: self = .wiredEthernet
        case .loopback: self = .loopback
        default: self = .other
        }
    }
}

extension PathFacts {
    /// The facts of a path update.
    public init(_ path: NWPath) {
        self.init(isSatisfied: path.status == .satisfied,
                  interfaces: path.availableInterfaces.map { InterfaceKind($0.type) })
    }
}

extension TunnelLogging {
    /// Feeds ``path`` from an `NWPathMonitor` until logging stops. Inside
    /// the extension the monitor sees the physical network.
    public func monitorPath(queue: DispatchQueue = DispatchQueue(label: "sockstatlog.path")) {
        let monitor = NWPathMonitor()
        let path = self.path
        monitor.pathUpdateHandler = { update in path.update(PathFacts(update)) }
        monitor.start(queue: queue)
        onStop { monitor.cancel() }
    }
}
#endif

#if canImport(Darwin)
extension TunnelLogging {
    /// The one call for `startTunnel`: opens the logger in `appGroup`'s
    /// container (``LogDirectory/inAppGroup(_:name:)``), starts polling and
    /// the path monitor. Keep the result for the provider's other callbacks.
    public static func start(appGroup: String, publicLogId: String,
                             options: LoggerOptions = defaultLoggerOptions()) throws -> TunnelLogging {
        let directory = try LogDirectory.inAppGroup(appGroup)
        let logging = TunnelLogging(logDirectory: directory, publicLogId: publicLogId, options: options)
        try logging.start()
        #if canImport(Network)
        logging.monitorPath()
        #endif
        return logging
    }
}
#endif

#if canImport(NetworkExtension)
import NetworkExtension

/// The containing app's message channel to its running packet tunnel.
public struct TunnelProviderMessaging: ProviderMessaging, @unchecked Sendable {
    private let session: NETunnelProviderSession

    /// Messages `manager`'s extension (`manager.connection` of a
    /// `NETunnelProviderManager`).
    public init(session: NETunnelProviderSession) {
        self.session = session
    }

    /// Sends `message`; throws ``SockstatGlueError/notRunning`` when the
    /// tunnel is not connected.
    public func send(_ message: Data) async throws -> Data? {
        guard session.status == .connected else { throw SockstatGlueError.notRunning }
        return try await withCheckedThrowingContinuation { continuation in
            do {
                try session.sendProviderMessage(message) { answer in continuation.resume(returning: answer) }
            } catch {
                continuation.resume(throwing: error)
            }
        }
    }
}
#endif

#if canImport(UIKit) && !os(watchOS)
import UIKit

/// `UIApplication`'s background tasks.
@MainActor
public final class UIKitBackgroundTasks: BackgroundTasks {
    /// The shared application's tasks.
    public init() {}

    /// `beginBackgroundTask(withName:expirationHandler:)`.
    public func begin(name: String, expiration: @escaping @MainActor @Sendable () -> Void) -> Int? {
        let id = UIApplication.shared.beginBackgroundTask(withName: name, expirationHandler: expiration)
        return id == .invalid ? nil : id.rawValue
    }

    /// `endBackgroundTask(_:)`.
    public func end(_ task: Int) {
        UIApplication.shared.endBackgroundTask(UIBackgroundTaskIdentifier(rawValue: task))
    }

    /// `backgroundTimeRemaining` (an hour when in the foreground, where it
    /// is unbounded).
    public var timeRemaining: Duration {
        let seconds = UIApplication.shared.backgroundTimeRemaining
        return seconds < 3_600 ? .milliseconds(Int64(seconds * 1_000)) : .seconds(3_600)
    }
}

extension BackgroundFlusher {
    /// Flushes each time the app enters the background. Keep the returned
    /// token while the flusher should observe.
    public func observeDidEnterBackground() -> NSObjectProtocol {
        NotificationCenter.default.addObserver(
            forName: UIApplication.didEnterBackgroundNotification, object: nil, queue: .main
        ) { [weak self] _ in
            MainActor.assumeIsolated {
                guard let self else { return }
                Task { await self.didEnterBackground() }
            }
        }
    }
}
#endif
