// Hand-written glue (not generated). The generated SockstatLog.swift is
// copied next to this file by ios/build-xcframework.sh.
import Foundation

/// A counter source from a closure. A thrown Swift error becomes
/// `CounterSourceError.Failed`: the poll is skipped and counted in
/// `LoggerStats.sourceErrors`. (Swift traps such as `fatalError` or a failed
/// force-unwrap cannot be caught by anyone: keep the closure trap-free.)
public final class ClosureCounterSource: CounterSource, @unchecked Sendable {
    private let read: @Sendable () throws -> CounterSnapshot

    public init(_ read: @escaping @Sendable () throws -> CounterSnapshot) {
        self.read = read
    }

    public func snapshot() throws -> CounterSnapshot {
        do {
            return try read()
        } catch let error as CounterSourceError {
            throw error
        } catch {
            throw CounterSourceError.Failed(reason: String(describing: error))
        }
    }
}
