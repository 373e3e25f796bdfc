#!/usr/bin/env bash
# Builds InksealFFIFFI.xcframework on a Mac (Xcode, rustup). NOT RUN on the project's Linux
# machines. Usage: ios/build-xcframework.sh   (from anywhere)
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios aarch64-apple-darwin x86_64-apple-darwin)
rustup target add "${targets[@]}"

# The crate is a cdylib + rlib; Apple platforms link a static archive instead. The mobile
# library's features: two-party P-256 keys, no demo sample captures nor file device keys.
for t in "${targets[@]}"; do
    cargo rustc --locked -p inkseal-bindings --lib --profile release-mobile --target "$t" \
        --no-default-features --features p256-cosign --crate-type staticlib
done

# Bindings and headers from the same sources (the committed ones must match: check-api).
scripts/bindings.sh generate

out=target/ios
rm -rf "$out" ios/InksealFFIFFI.xcframework
mkdir -p "$out/headers" "$out/sim" "$out/macos"
cp ios/Sources/InksealFFI/InksealFFIFFI.h "$out/headers/"
cp ios/Sources/InksealFFI/InksealFFIFFI.modulemap "$out/headers/module.modulemap"

lib=libinkseal_ffi.a
lipo -create target/aarch64-apple-ios-sim/release-mobile/$lib \
    target/x86_64-apple-ios/release-mobile/$lib -output "$out/sim/$lib"
lipo -create target/aarch64-apple-darwin/release-mobile/$lib \
    target/x86_64-apple-darwin/release-mobile/$lib -output "$out/macos/$lib"

xcodebuild -create-xcframework \
    -library target/aarch64-apple-ios/release-mobile/$lib -headers "$out/headers" \
    -library "$out/sim/$lib" -headers "$out/headers" \
    -library "$out/macos/$lib" -headers "$out/headers" \
    -output ios/InksealFFIFFI.xcframework
echo "built ios/InksealFFIFFI.xcframework"
