#!/usr/bin/env bash
# Builds ios/SockstatLogFFI.xcframework from the Rust static library and
# copies the generated Swift bindings into the Swift package. Needs macOS,
# Xcode and the rustup targets aarch64-apple-ios, aarch64-apple-ios-sim and
# aarch64-apple-darwin. Not run in this repository's CI.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/regen-bindings
targets=(aarch64-apple-ios aarch64-apple-ios-sim aarch64-apple-darwin)
for t in "${targets[@]}"; do
  cargo build --release --lib -p sockstatlog --target "$t"
done
headers="$(mktemp -d)"
cp bindings/swift/SockstatLogFFI.h "$headers/"
# Xcode looks for module.modulemap inside an XCFramework's Headers.
cp bindings/swift/SockstatLogFFI.modulemap "$headers/module.modulemap"
rm -rf ios/SockstatLogFFI.xcframework
args=()
for t in "${targets[@]}"; do
  args+=(-library "target/$t/release/libsockstatlog.a" -headers "$headers")
done
xcodebuild -create-xcframework "${args[@]}" -output ios/SockstatLogFFI.xcframework
cp bindings/swift/SockstatLog.swift ios/Sources/SockstatLog/SockstatLog.swift
