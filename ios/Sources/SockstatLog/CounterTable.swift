// Hand-written glue (not generated).
import Foundation

/// The tunnel's per-label byte counters: the logger's counter source.
///
/// The tunnel's own networking code calls ``add(label:tx:rx:)`` from any
/// queue or thread for every packet or read/write it handles; the logger's
/// worker thread reads the cumulative totals every poll through
/// ``snapshot()``. An add takes one uncontended lock and two additions: no
/// allocation, no call into Rust. (`tests/swift/Sources/CounterBench`
/// compares this with atomics and with a call into Rust per add; see
/// `ios/README.md` for the figures.)
///
/// Only labels that were ever added to are reported. Totals wrap at 2^64,
/// which the core treats as a counter reset.
///
/// ```swift
/// let path = UnderlyingPath()
/// let table = CounterTable(isCellular: { path.isCellular })
/// table.add(label: 1, tx: 1_280, rx: 0)   // e.g. magicsock UDP4
/// ```
public final class CounterTable: CounterSource, @unchecked Sendable {
    // Guarded by `lock`: 256 labels x (tx, rx) totals, and 256 bits saying
    // which labels were ever added to. Allocated once, never resized.
    private let lock = NSLock()
    private let totals: UnsafeMutablePointer<UInt64>
    private let seen: UnsafeMutablePointer<UInt64>
    private let isCellular: @Sendable () -> Bool

    /// Creates an empty table.
    ///
    /// - Parameter isCellular: asked once per poll whether the underlying
    ///   (physical) network is cellular, for example
    ///   ``UnderlyingPath/isCellular`` of the path the tunnel's
    ///   `NWPathMonitor` feeds. It runs on the logger's worker thread.
    public init(isCellular: @escaping @Sendable () -> Bool = { false }) {
        totals = .allocate(capacity: 512)
        totals.initialize(repeating: 0, count: 512)
        seen = .allocate(capacity: 4)
        seen.initialize(repeating: 0, count: 4)
        self.isCellular = isCellular
    }

    deinit {
        totals.deallocate()
        seen.deallocate()
    }

    /// Adds bytes sent (`tx`) and received (`rx`) on `label`.
    ///
    /// Safe from any thread; cheap enough to call per packet.
    public func add(label: UInt8, tx: UInt64 = 0, rx: UInt64 = 0) {
        let index = Int(label)
        lock.lock()
        totals[2 * index] &+= tx
        totals[2 * index + 1] &+= rx
        seen[index >> 6] |= 1 << UInt64(index & 63)
        lock.unlock()
    }

    /// The cumulative totals of `label` (zero if never added to).
    public func totals(label: UInt8) -> (tx: UInt64, rx: UInt64) {
        let index = Int(label)
        lock.lock()
        defer { lock.unlock() }
        return (totals[2 * index], totals[2 * index + 1])
    }

    /// The cumulative totals of every label added to so far, and the cellular
    /// state. Called by the logger on its worker thread once per poll.
    public func snapshot() throws -> CounterSnapshot {
        let cellular = isCellular()
        var counters: [LabelCounters] = []
        lock.lock()
        for index in 0..<256 where seen[index >> 6] & (1 << UInt64(index & 63)) != 0 {
            counters.append(LabelCounters(
                label: UInt8(index),
                tx: Int64(truncatingIfNeeded: totals[2 * index] & UInt64(Int64.max)),
                rx: Int64(truncatingIfNeeded: totals[2 * index + 1] & UInt64(Int64.max))
            ))
        }
        lock.unlock()
        return CounterSnapshot(cellular: cellular, counters: counters)
    }
}
