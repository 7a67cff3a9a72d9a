import Foundation
import XCTest
@testable import SockstatLog

final class CounterTableTests: XCTestCase {
    func testASnapshotHoldsTheTotalsOfTheLabelsAddedToInLabelOrder() throws {
        let table = CounterTable()
        table.add(label: 7, tx: 10)
        table.add(label: 1, tx: 100, rx: 200)
        table.add(label: 7, rx: 5)
        table.add(label: 255, tx: 1, rx: 1)
        XCTAssertEqual(try table.snapshot(), CounterSnapshot(cellular: false, counters: [
            LabelCounters(label: 1, tx: 100, rx: 200),
            LabelCounters(label: 7, tx: 10, rx: 5),
            LabelCounters(label: 255, tx: 1, rx: 1),
        ]))
    }

    func testAnEmptyTableReportsNoLabels() throws {
        XCTAssertEqual(try CounterTable().snapshot(), CounterSnapshot(cellular: false, counters: []))
    }

    func testEachSnapshotAsksForTheCellularState() throws {
        let path = UnderlyingPath()
        let table = CounterTable(isCellular: { path.isCellular })
        XCTAssertFalse(try table.snapshot().cellular)
        path.update(PathFacts(isSatisfied: true, interfaces: [.cellular]))
        XCTAssertTrue(try table.snapshot().cellular)
    }

    func testAddsFromEightThreadsSumExactly() {
        let table = CounterTable()
        let addsPerThread = 100_000
        DispatchQueue.concurrentPerform(iterations: 8) { thread in
            for i in 0..<addsPerThread {
                table.add(label: UInt8(i % 4), tx: 1, rx: UInt64(thread + 1))
            }
        }
        // Each label gets a quarter of every thread's adds.
        let perLabel = UInt64(8 * addsPerThread / 4)
        let rxPerLabel = UInt64(addsPerThread / 4) * (1...8).reduce(0, +)
        for label in UInt8(0)..<4 {
            XCTAssertEqual(table.totals(label: label).tx, perLabel)
            XCTAssertEqual(table.totals(label: label).rx, rxPerLabel)
        }
        XCTAssertEqual(table.totals(label: 4).tx, 0)
    }

    func testTotalsPastInt64ReportAsTheCoreExpectsAReset() throws {
        let table = CounterTable()
        table.add(label: 3, tx: UInt64(Int64.max), rx: 0)
        table.add(label: 3, tx: 2, rx: 0)
        // 2^63 + 1 is 1 in the 63 bits a snapshot carries: a counter that
        // went backwards, which the core counts as a reset, never a crash.
        XCTAssertEqual(try table.snapshot().counters, [LabelCounters(label: 3, tx: 1, rx: 0)])
    }
}

final class UnderlyingPathTests: XCTestCase {
    func testTheCarrierIsTheFirstPhysicalInterfaceOfASatisfiedPath() {
        XCTAssertTrue(PathFacts(isSatisfied: true, interfaces: [.cellular]).isCellular)
        XCTAssertFalse(PathFacts(isSatisfied: true, interfaces: [.wifi, .cellular]).isCellular)
        XCTAssertTrue(PathFacts(isSatisfied: true, interfaces: [.cellular, .wifi]).isCellular)
        XCTAssertTrue(PathFacts(isSatisfied: true, interfaces: [.other, .loopback, .cellular]).isCellular)
        XCTAssertEqual(PathFacts(isSatisfied: true, interfaces: [.other, .wiredEthernet]).carrier, .wiredEthernet)
    }

    func testAnUnsatisfiedPathIsNotCellular() {
        XCTAssertNil(PathFacts(isSatisfied: false, interfaces: [.cellular]).carrier)
        XCTAssertFalse(PathFacts(isSatisfied: false, interfaces: [.cellular]).isCellular)
        XCTAssertFalse(PathFacts(isSatisfied: true, interfaces: []).isCellular)
    }

    func testTheLastUpdateWins() {
        let path = UnderlyingPath()
        XCTAssertFalse(path.isCellular)
        path.update(PathFacts(isSatisfied: true, interfaces: [.cellular]))
        XCTAssertTrue(path.isCellular)
        path.update(PathFacts(isSatisfied: true, interfaces: [.wifi]))
        XCTAssertFalse(path.isCellular)
        XCTAssertEqual(path.current, PathFacts(isSatisfied: true, interfaces: [.wifi]))
    }
}
