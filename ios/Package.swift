// swift-tools-version:6.0
// SockstatLog for iOS/macOS: the generated Swift bindings (copied from
// bindings/swift by build-xcframework.sh), the glue in Sources/SockstatLog,
// and the Rust static library as an XCFramework. Swift 6 language mode.
// Built with Xcode only; the glue and bindings are compiled and tested on
// Linux by scripts/swift-tests (see README.md).
import PackageDescription

let package = Package(
    name: "SockstatLog",
    // iOS 16 / macOS 13: `Duration` in the async flush API.
    platforms: [.iOS(.v16), .macOS(.v13)],
    products: [
        .library(name: "SockstatLog", targets: ["SockstatLog"]),
    ],
    targets: [
        // libsockstatlog.a per platform, with SockstatLogFFI.h and its module map.
        .binaryTarget(name: "SockstatLogFFI", path: "SockstatLogFFI.xcframework"),
        .target(
            name: "SockstatLog",
            dependencies: ["SockstatLogFFI"],
            path: "Sources/SockstatLog"
        ),
    ]
)
