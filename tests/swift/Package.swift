// swift-tools-version:6.0
// The Linux test package for the Swift side. scripts/swift-tests assembles it
// in a staging directory: Sources/SockstatLogFFI (the generated header and
// its module map), Sources/SockstatLog (the generated bindings and every
// glue source of ios/Sources/SockstatLog), and this directory's Sources and
// Tests. SOCKSTATLOG_LIB_DIR holds libsockstatlog.so or libsockstatlog.a.
// Swift 6 language mode (tools version 6.0), warnings as errors.
import Foundation
import PackageDescription

let libDir = ProcessInfo.processInfo.environment["SOCKSTATLOG_LIB_DIR"] ?? "SOCKSTATLOG_LIB_DIR-is-not-set"
let strict: [SwiftSetting] = [.unsafeFlags(["-warnings-as-errors"])]

let package = Package(
    name: "SockstatLogLinuxTests",
    targets: [
        .systemLibrary(name: "SockstatLogFFI", path: "Sources/SockstatLogFFI"),
        .target(
            name: "SockstatLog",
            dependencies: ["SockstatLogFFI"],
            swiftSettings: strict,
            linkerSettings: [
                .unsafeFlags(["-L", libDir, "-Xlinker", "-rpath", "-Xlinker", libDir]),
                .linkedLibrary("sockstatlog"),
            ]
        ),
        // A second process writing a log directory (the extension's side of
        // the cross-process tests).
        .executableTarget(name: "LogWriter", dependencies: ["SockstatLog"], swiftSettings: strict),
        // The counter-table cost harness (scripts/swift-tests --bench).
        .executableTarget(name: "CounterBench", dependencies: ["SockstatLog"], swiftSettings: strict),
        .testTarget(name: "SockstatLogTests", dependencies: ["SockstatLog", "LogWriter"], swiftSettings: strict),
    ]
)
