#!/usr/bin/env bash
# The Kotlin/Swift bindings (crate bindings/, library libinkseal_ffi.so).
#
#   scripts/bindings.sh generate     build the debug cdylib, regenerate the committed Kotlin and
#                                    Swift (android/inkseal/src/main/kotlin/generated,
#                                    ios/Sources/InksealFFI) with the crate's own uniffi-bindgen
#   scripts/bindings.sh check-api    regenerate into a temporary directory; fail with a diff when
#                                    the exported API differs from bindings/api-snapshot.txt or
#                                    the committed generated code has drifted
#   scripts/bindings.sh bless-api    rewrite bindings/api-snapshot.txt (a deliberate API change)
#   scripts/bindings.sh size [PROF]  release cdylib for x86_64 Linux (fat LTO, stripped), by default
#                                    with the mobile profile release-mobile: size vs 6 MB
#   scripts/bindings.sh test-kotlin  install kotlinc/JNA if missing (Debian, as root), generate,
#                                    compile the bindings + façade + JVM tests, start a real
#                                    `inkseal serve --insecure-test-liveness-vendor
#                                    --enable-unaudited-p256-cosign` on loopback,
#                                    create an operator API key for it, run the tests against it
#
# Cargo's outputs are read from $CARGO_TARGET_DIR when it is set (default: target).
set -euo pipefail
cd "$(dirname "$0")/.."

KOTLIN_OUT=android/inkseal/src/main/kotlin/generated
SWIFT_OUT=ios/Sources/InksealFFI
SNAPSHOT=bindings/api-snapshot.txt
# Cargo's output directory: $CARGO_TARGET_DIR when set (e.g. a second checkout's own), else target.
TARGET_DIR=${CARGO_TARGET_DIR:-target}
LIB=$TARGET_DIR/debug/libinkseal_ffi.so
BINDGEN=$TARGET_DIR/debug/uniffi-bindgen
INKSEAL=$TARGET_DIR/debug/inkseal
case "$TARGET_DIR" in /*) LIB_ABS=$LIB ;; *) LIB_ABS=$PWD/$LIB ;; esac
case "$TARGET_DIR" in /*) INKSEAL_ABS=$INKSEAL ;; *) INKSEAL_ABS=$PWD/$INKSEAL ;; esac
# The Kotlin façade as the desktop JVM compiles it: io/inkseal/*.kt, not io/inkseal/android/.
FACADE=(android/inkseal/src/main/kotlin/io/inkseal/*.kt)
SIZE_LIMIT=6000000 # bytes (6 MB)

step() { printf '\n==> %s\n' "$*"; }

# The cdylib and the generator in one build (the generator is behind the bindgen-cli feature so
# that the mobile library never links it).
build_debug() {
    step "cargo build -p inkseal-bindings (debug cdylib + uniffi-bindgen)"
    cargo build --locked -q -p inkseal-bindings --features bindgen-cli
}

# generate_into KOTLIN_DIR SWIFT_DIR
generate_into() {
    rm -rf "$1"
    mkdir -p "$2"
    rm -f "$2/InksealFFI.swift" "$2/InksealFFIFFI.h" "$2/InksealFFIFFI.modulemap"
    "$BINDGEN" generate "$LIB" --language kotlin --out-dir "$1" --no-format >/dev/null
    "$BINDGEN" generate "$LIB" --language swift --out-dir "$2" --no-format >/dev/null
}

generate() {
    build_debug
    step "uniffi-bindgen generate (Kotlin → $KOTLIN_OUT, Swift → $SWIFT_OUT)"
    generate_into "$KOTLIN_OUT" "$SWIFT_OUT"
}

check_api() {
    build_debug
    local tmp status=0
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' RETURN
    step "API snapshot vs $SNAPSHOT"
    "$BINDGEN" api-snapshot "$LIB" >"$tmp/api-snapshot.txt"
    if ! diff -u "$SNAPSHOT" "$tmp/api-snapshot.txt"; then
        echo "the exported API changed: if that is deliberate, run scripts/bindings.sh bless-api" >&2
        status=1
    else
        echo "API unchanged ($(grep -vc '^#' "$SNAPSHOT") items)"
    fi
    step "committed generated code vs a fresh generation"
    generate_into "$tmp/kotlin" "$tmp/swift"
    if ! diff -ru "$KOTLIN_OUT" "$tmp/kotlin" >"$tmp/kotlin.diff" ||
        ! diff -ru "$SWIFT_OUT" "$tmp/swift" >"$tmp/swift.diff"; then
        head -n 80 "$tmp/kotlin.diff" "$tmp/swift.diff"
        echo "the committed bindings drifted: run scripts/bindings.sh generate" >&2
        status=1
    else
        echo "generated Kotlin and Swift are up to date"
    fi
    return $status
}

bless_api() {
    build_debug
    "$BINDGEN" api-snapshot "$LIB" >"$SNAPSHOT"
    echo "wrote $SNAPSHOT ($(grep -vc '^#' "$SNAPSHOT") items)"
}

# size [PROFILE]: PROFILE defaults to release-mobile, the profile the Android and iOS builds
# ship (the workspace's release profile, fat LTO, codegen-units 1, stripped, plus
# opt-level "z"); `size release` measures the plain release profile (opt-level 3).
size() {
    local profile=${1:-release-mobile}
    # `cargo rustc --crate-type cdylib`, not `cargo build`: the crate is also an rlib (for the
    # bindgen binary and the tests), and cargo silently drops LTO when one invocation makes
    # both (rust-lang/cargo#9672), which left the library 1.4 MB larger.
    # The mobile library's features: two-party P-256 keys, not the demo sample captures nor the
    # file device key store.
    step "cargo rustc --profile $profile -p inkseal-bindings --lib --no-default-features --features p256-cosign --crate-type cdylib (fat LTO, codegen-units 1, stripped; no demo sample captures)"
    cargo rustc --locked --profile "$profile" -p inkseal-bindings --lib --no-default-features \
        --features p256-cosign --crate-type cdylib
    local f=$TARGET_DIR/$profile/libinkseal_ffi.so bytes
    bytes=$(stat -c %s "$f")
    awk -v f="$f" -v b="$bytes" -v l="$SIZE_LIMIT" \
        'BEGIN { printf "%s: %d bytes (%.2f MB, %.2f MiB); limit %d bytes\n", f, b, b / 1e6, b / 1048576, l }'
    if [ "$bytes" -le "$SIZE_LIMIT" ]; then
        echo "PASS: under 6 MB"
    else
        echo "FAIL: over 6 MB" >&2
        return 1
    fi
}

# --- test-kotlin --------------------------------------------------------------------------------

install_kotlin_tools() {
    local pkgs=()
    command -v java >/dev/null 2>&1 || pkgs+=(openjdk-17-jdk-headless)
    [ -e /usr/share/java/jna.jar ] || pkgs+=(libjna-java)
    command -v openssl >/dev/null 2>&1 || pkgs+=(openssl)
    command -v curl >/dev/null 2>&1 || pkgs+=(curl)
    command -v npm >/dev/null 2>&1 || pkgs+=(npm)
    if [ ${#pkgs[@]} -gt 0 ]; then
        step "installing Debian packages: ${pkgs[*]}"
        [ "$(id -u)" -eq 0 ] || { echo "need root to install ${pkgs[*]}" >&2; exit 1; }
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${pkgs[@]}"
    fi
    KOTLIN_HOME="$(npm root -g 2>/dev/null)/kotlin-compiler"
    if [ ! -x "$KOTLIN_HOME/bin/kotlinc" ]; then
        step "npm install -g kotlin-compiler"
        npm install -g --silent kotlin-compiler 2>&1 | grep -v '^npm warn' || true
        KOTLIN_HOME="$(npm root -g 2>/dev/null)/kotlin-compiler"
    fi
    [ -x "$KOTLIN_HOME/bin/kotlinc" ] || { echo "kotlinc not found in $KOTLIN_HOME" >&2; exit 1; }
}

# The EXIT trap of test-kotlin: keeps the script's exit status.
stop_server_and_clean() {
    local status=$?
    if [ -n "${SERVER_PID:-}" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "${WORK:-}"
    exit "$status"
}

test_kotlin() {
    install_kotlin_tools
    generate
    step "cargo build -p inkseal-cli (the server)"
    cargo build --locked -q -p inkseal-cli

    # Globals, so that the EXIT trap still sees them.
    WORK=$(mktemp -d)
    SERVER_PID=""
    trap stop_server_and_clean EXIT
    local work=$WORK

    step "institution key (SM2, openssl)"
    if ! openssl genpkey -algorithm SM2 -out "$work/institution.key" 2>/dev/null; then
        openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/institution.key"
    fi
    openssl pkey -in "$work/institution.key" -pubout -out "$work/institution.pub.pem"

    # The test liveness vendor (its verdicts are forgeable: tests only) judges the sample
    # captures; the per-key and per-address rate limits are off because the tests make many
    # enrollments and captures in a few seconds from one address. Two-party P-256 keys are on
    # (off by default in the server) for the P-256 tests.
    step "inkseal serve on a free loopback port (--insecure-test-liveness-vendor --enable-unaudited-p256-cosign)"
    mkdir -p "$work/server" "$work/tests"
    local limit limits=()
    for limit in enroll-per-address challenge-per-address challenge-per-key evidence-per-address \
        evidence-per-key sign-per-address sign-per-key device-read-per-address operator-per-address; do
        limits+=(--rate-limit "$limit=0")
    done
    INKSEAL_DATA="$work/server" "$INKSEAL" serve --listen 127.0.0.1:0 --insecure-test-liveness-vendor \
        --enable-unaudited-p256-cosign "${limits[@]}" >"$work/server.log" 2>&1 &
    SERVER_PID=$!
    local url="" i
    for i in $(seq 1 300); do
        url=$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' "$work/server.log" | head -n 1)
        [ -n "$url" ] && curl -fsS "$url/v1/health" >/dev/null 2>&1 && break
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$work/server.log"; echo "the server died" >&2; exit 1; }
        url=""
        sleep 0.1
    done
    [ -n "$url" ] || { cat "$work/server.log"; echo "the server did not come up" >&2; exit 1; }
    echo "server at $url"

    # The institution's backend: an operator API key (enroll, policy, key management), created
    # offline against the running server's data directory; the tests get tickets with it.
    step "operator credential (inkseal admin credential create)"
    local api_key
    api_key=$("$INKSEAL" admin credential create --data-dir "$work/server" --name "kotlin tests backend" \
        --role enroll,policy:write,keys:manage,keys:read,login:issue,login:verify --json |
        sed -n 's/^ *"api_key": *"\([^"]*\)".*/\1/p')
    [ -n "$api_key" ] || { echo "no API key from inkseal admin credential create" >&2; exit 1; }
    echo "API key ${api_key%%.*}.… (roles enroll, policy:write, keys:manage, keys:read, login:issue, login:verify)"

    step "kotlinc: generated bindings + façade + JVM tests"
    local libdir="$KOTLIN_HOME/lib"
    local cp="/usr/share/java/jna.jar:$libdir/kotlinx-coroutines-core-jvm.jar:$libdir/kotlin-test.jar"
    # The façade's files in io/inkseal/ (plain JVM); io/inkseal/android/ needs the Android SDK.
    "$KOTLIN_HOME/bin/kotlinc" -nowarn -jvm-target 17 -cp "$cp" -d "$work/tests.jar" \
        "$KOTLIN_OUT" "${FACADE[@]}" android/jvm-tests/src

    step "JVM tests (Java $(java -version 2>&1 | head -n 1 | cut -d'"' -f2), JNA, $LIB)"
    INKSEAL_TEST_SERVER="$url" INKSEAL_TEST_API_KEY="$api_key" \
        java -Djna.library.path="$(dirname "$LIB_ABS")" \
        -Dinkseal.server="$url" \
        -Dinkseal.library="$LIB_ABS" \
        -Dinkseal.cli="$INKSEAL_ABS" \
        -Dinkseal.fixture="$PWD/tests/data/loan-contract-zh.pdf" \
        -Dinkseal.institutionKey="$work/institution.pub.pem" \
        -Dinkseal.workDir="$work/tests" \
        -cp "$work/tests.jar:$cp:$libdir/kotlin-stdlib.jar" \
        io.inkseal.jvmtest.MainKt
}

case "${1:-}" in
generate) generate ;;
check-api) check_api ;;
bless-api) bless_api ;;
size) size "${2:-}" ;;
test-kotlin) test_kotlin ;;
*)
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
    exit 2
    ;;
esac
