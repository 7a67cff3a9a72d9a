// swift-tools-version:5.9
// SockstatLog for iOS/macOS: the generated Swift bindings (copied from
// bindings/swift by build-xcframework.sh), a little glue, and the Rust
// static library as an XCFramework. Not built in this repository's CI.
import PackageDescription

let package = Package(
    name: "SockstatLog",
    platforms: [.iOS(.v15), .macOS(.v12)],
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
