// Hand-written glue (not generated).
import Foundation

/// The kind of a network interface, as `NWInterface.InterfaceType` names it.
public enum InterfaceKind: Sendable, Equatable {
    /// Cellular data.
    case cellular
    /// Wi-Fi.
    case wifi
    /// Wired Ethernet.
    case wiredEthernet
    /// Loopback.
    case loopback
    /// Anything else, including tunnels (`utun`, `ipsec`).
    case other
}

/// What `NWPathMonitor` said about the current path, without Network.framework
/// types, so the decision can be tested anywhere.
public struct PathFacts: Sendable, Equatable {
    /// Whether the path can carry traffic (`path.status == .satisfied`).
    public var isSatisfied: Bool
    /// The path's interfaces, most preferred first (`path.availableInterfaces`).
    public var interfaces: [InterfaceKind]

    /// Creates the facts of one path update.
    public init(isSatisfied: Bool, interfaces: [InterfaceKind]) {
        self.isSatisfied = isSatisfied
        self.interfaces = interfaces
    }

    /// The interface that carries the traffic: the most preferred physical
    /// one (tunnels and loopback are skipped), `nil` when the path is not
    /// satisfied.
    public var carrier: InterfaceKind? {
        guard isSatisfied else { return nil }
        return interfaces.first { $0 != .other && $0 != .loopback }
    }

    /// Whether traffic goes over cellular: the carrier is cellular. With
    /// Wi-Fi and cellular both up (Wi-Fi Assist), the order decides.
    public var isCellular: Bool { carrier == .cellular }
}

/// The underlying network's state, fed by path updates, read by the counter
/// table once per poll.
///
/// Inside a Network Extension, an `NWPathMonitor` sees the physical path:
/// the extension's own sockets do not go through its tunnel. (In the
/// containing app, the same monitor would see the tunnel, `.other`.)
public final class UnderlyingPath: @unchecked Sendable {
    private let lock = NSLock()
    private var facts = PathFacts(isSatisfied: false, interfaces: [])

    /// Creates a state with no path yet (not cellular).
    public init() {}

    /// Records a path update; the last update wins.
    public func update(_ facts: PathFacts) {
        lock.lock()
        self.facts = facts
        lock.unlock()
    }

    /// The last path update's facts.
    public var current: PathFacts {
        lock.lock()
        defer { lock.unlock() }
        return facts
    }

    /// Whether the last path update's carrier is cellular.
    public var isCellular: Bool { current.isCellular }
}
