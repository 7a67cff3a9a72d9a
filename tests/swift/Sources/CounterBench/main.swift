// The counter-table cost harness: what one add costs, per option, on this
// machine (scripts/swift-tests --bench; release build).
//   lock:   CounterTable.add (the glue: NSLock + two additions + a bit set)
//   atomic: three relaxed atomic read-modify-writes (Synchronization.Atomic;
//           needs iOS 18 / macOS 15 on Apple platforms)
//   rust:   one call into Rust through the generated bindings per add
//           (Logger.isLoggingEnabled: the cheapest exported call, a lower
//           bound for a Rust-side table's add)
// Each is timed single-threaded and with 8 threads adding at once.
import Foundation
import SockstatLog
import Synchronization

let adds = Int(ProcessInfo.processInfo.environment["SOCKSTATLOG_BENCH_ADDS"] ?? "") ?? 4_000_000

final class AtomicTable: @unchecked Sendable {
    private let totals: UnsafeMutablePointer<Atomic<UInt64>>
    private let seen: UnsafeMutablePointer<Atomic<UInt64>>

    init() {
        totals = .allocate(capacity: 512)
        for i in 0..<512 { (totals + i).initialize(to: Atomic(0)) }
        seen = .allocate(capacity: 4)
        for i in 0..<4 { (seen + i).initialize(to: Atomic(0)) }
    }

    func add(label: UInt8, tx: UInt64, rx: UInt64) {
        let index = Int(label)
        (totals + 2 * index).pointee.wrappingAdd(tx, ordering: .relaxed)
        (totals + 2 * index + 1).pointee.wrappingAdd(rx, ordering: .relaxed)
        (seen + (index >> 6)).pointee.bitwiseOr(1 << UInt64(index & 63), ordering: .relaxed)
    }

    func tx(_ label: UInt8) -> UInt64 { (totals + 2 * Int(label)).pointee.load(ordering: .relaxed) }
}

/// Nanoseconds per add of `body` run `adds` times on each of `threads` threads.
func measure(threads: Int, _ body: @escaping @Sendable (Int) -> Void) -> Double {
    let start = ContinuousClock.now
    DispatchQueue.concurrentPerform(iterations: threads) { _ in
        for i in 0..<adds { body(i) }
    }
    let elapsed = ContinuousClock.now - start
    let ns = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
    return ns / Double(adds)
}

let table = CounterTable()
let atomics = AtomicTable()
let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sockstatlog-bench-\(getpid())")
let logger = try Logger(logDir: directory.path, publicLogId: String(repeating: "ab", count: 32),
                        source: table, options: defaultLoggerOptions())
defer {
    try? logger.shutdown(deadlineMs: 1_000)
    try? FileManager.default.removeItem(at: directory)
}
let sink = Atomic<Int>(0)

print("counter add cost, \(adds) adds per thread (ns per add; with 8 threads: wall time per add of one thread)")
for threads in [1, 8] {
    let lock = measure(threads: threads) { i in table.add(label: UInt8(i & 7), tx: 1, rx: 2) }
    let atomic = measure(threads: threads) { i in atomics.add(label: UInt8(i & 7), tx: 1, rx: 2) }
    let rust = measure(threads: threads) { _ in if logger.isLoggingEnabled() { sink.add(1, ordering: .relaxed) } }
    print(String(format: "swift_counter_add_ns threads=%d lock=%.1f atomic=%.1f rust_call=%.1f",
                 threads, lock, atomic, rust))
}
precondition(table.totals(label: 0).tx > 0 && atomics.tx(0) > 0 && sink.load(ordering: .relaxed) == 0)
