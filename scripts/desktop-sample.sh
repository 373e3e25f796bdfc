#!/usr/bin/env bash
# The Kotlin desktop sample (sample-apps/desktop), end to end against a real server:
#
#   scripts/desktop-sample.sh
#
#  1. installs what is missing (Debian, as root): Xvfb + xauth, poppler-utils, openssl, curl,
#     a JDK with AWT, a CJK font, JNA, npm and the kotlin-compiler npm package
#  2. scripts/bindings.sh generate: the debug cdylib and the generated Kotlin
#  3. cargo build -p inkseal-cli (the server)
#  4. kotlinc: generated bindings + façade (io/inkseal/*.kt) + the sample into one jar (reused
#     while no source changed)
#  5. an institution key pair (openssl, SM2, else P-256)
#  6. inkseal serve --require-liveness --insecure-test-liveness-vendor on a free loopback port
#     with a temporary INKSEAL_DATA; the bank's backend: an operator API key
#     (inkseal admin credential create) and an enrollment ticket for customer-zhangsan (POST
#     /v1/admin/tickets, the sample card's ID number bound), handed to the sample
#  7. the sample in --scripted mode under xvfb-run: enroll with the ticket (device key in a
#     PKCS12 file), verify identity (ID card + face liveness from a sample capture folder,
#     presented with the certificate request), replay sample-apps/desktop/strokes/zhangsan.json
#     through the pad, prepare the loan contract's signature at 借款人（签字）： on page 3,
#     capture liveness bound to its digest, co-sign it, verify, render the page with pdftoppm,
#     screenshot the window
#  8. checks: the screenshot (a 1360x860 PNG, not blank, ink on the pad and on the page, the
#     green "valid" banner) and the signed PDF with `inkseal verify`
#
# Output: target/desktop-sample/screenshot.png, contract-signed.pdf, contract-signed-page3.png.
# Exits non-zero on any failure.
#
#   scripts/desktop-sample.sh --interactive
#
# does steps 1-6, then opens the window on $DISPLAY for you to use with the mouse (the server
# stops when the window closes; the ticket is filled in, and valid for an hour).
#
# Cargo's outputs are read from $CARGO_TARGET_DIR when it is set (default: target); the
# sample's outputs stay under target/desktop-sample.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

TARGET_DIR=${CARGO_TARGET_DIR:-target}
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR=$ROOT/$TARGET_DIR ;; esac
INKSEAL=$TARGET_DIR/debug/inkseal
OUT=target/desktop-sample
BUILD=$OUT/.build
# The façade's plain-JVM files (io/inkseal/android/ needs the Android SDK).
FACADE=android/inkseal/src/main/kotlin/io/inkseal
GENERATED=android/inkseal/src/main/kotlin/generated
SAMPLE=sample-apps/desktop
STROKES=$SAMPLE/strokes/zhangsan.json
CONTRACT=tests/data/loan-contract-zh.pdf
WINDOW_SIZE=1360x860
SECONDS=0
INTERACTIVE=no
case "${1:-}" in
"") ;;
--interactive) INTERACTIVE=yes ;;
*) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 2 ;;
esac

step() { printf '\n==> [%3ds] %s\n' "$SECONDS" "$*"; }
die() { echo "desktop-sample.sh: $*" >&2; exit 1; }

# --- 1. tools -----------------------------------------------------------------------------------

java_home() { java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.home = //p'; }

install_tools() {
    local pkgs=()
    command -v xvfb-run >/dev/null 2>&1 || pkgs+=(xvfb)
    command -v xauth >/dev/null 2>&1 || pkgs+=(xauth)
    command -v pdftoppm >/dev/null 2>&1 || pkgs+=(poppler-utils)
    [ -d /usr/share/poppler/cMap ] || pkgs+=(poppler-data)
    command -v openssl >/dev/null 2>&1 || pkgs+=(openssl)
    command -v curl >/dev/null 2>&1 || pkgs+=(curl)
    command -v npm >/dev/null 2>&1 || pkgs+=(npm)
    [ -e /usr/share/java/jna.jar ] || pkgs+=(libjna-java)
    # Swing needs a JDK with AWT (libawt_xawt.so), not only a headless one.
    if ! command -v java >/dev/null 2>&1 || [ ! -e "$(java_home)/lib/libawt_xawt.so" ]; then
        pkgs+=(openjdk-17-jdk)
    fi
    # Chinese text: Swing's labels and poppler's rendering of the non-embedded STSong-Light label.
    fc-list :lang=zh 2>/dev/null | grep -q . || pkgs+=(fonts-wqy-microhei fontconfig)
    if [ ${#pkgs[@]} -gt 0 ]; then
        step "installing Debian packages: ${pkgs[*]}"
        [ "$(id -u)" -eq 0 ] || die "need root to install ${pkgs[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
    fi
    [ -e "$(java_home)/lib/libawt_xawt.so" ] ||
        die "java at $(java_home) has no AWT (libawt_xawt.so): put a full JDK 17 first on PATH"
    # kotlinc exactly as scripts/bindings.sh finds it: the npm package kotlin-compiler, which
    # ships kotlinx-coroutines-core-jvm.jar and the standard library in its lib/.
    KOTLIN_HOME="$(npm root -g 2>/dev/null)/kotlin-compiler"
    if [ ! -x "$KOTLIN_HOME/bin/kotlinc" ]; then
        step "npm install -g kotlin-compiler"
        npm install -g --silent kotlin-compiler 2>&1 | grep -v '^npm warn' || true
        KOTLIN_HOME="$(npm root -g 2>/dev/null)/kotlin-compiler"
    fi
    [ -x "$KOTLIN_HOME/bin/kotlinc" ] || die "kotlinc not found in $KOTLIN_HOME"
    LIBDIR=$KOTLIN_HOME/lib
    CP="/usr/share/java/jna.jar:$LIBDIR/kotlinx-coroutines-core-jvm.jar"
    for jar in /usr/share/java/jna.jar "$LIBDIR/kotlinx-coroutines-core-jvm.jar" "$LIBDIR/kotlin-stdlib.jar"; do
        [ -e "$jar" ] || die "missing $jar"
    done
}

# --- 4. the sample jar --------------------------------------------------------------------------

compile_sample() {
    local sources hash jar
    sources=$(find "$GENERATED" "$SAMPLE/src/main" -name '*.kt'; find "$FACADE" -maxdepth 1 -name '*.kt')
    sources=$(echo "$sources" | LC_ALL=C sort)
    hash=$({
        # shellcheck disable=SC2086
        sha256sum $sources
        "$KOTLIN_HOME/bin/kotlinc" -version 2>&1 | grep -v '^npm warn'
    } | sha256sum | cut -c1-16)
    jar=$BUILD/desktop-sample-$hash.jar
    if [ -s "$jar" ]; then
        echo "sources unchanged: reusing $jar"
    else
        mkdir -p "$BUILD"
        rm -f "$BUILD"/desktop-sample-*.jar
        # shellcheck disable=SC2086
        "$KOTLIN_HOME/bin/kotlinc" -nowarn -jvm-target 17 -cp "$CP" -d "$jar.tmp.jar" $sources 2>&1 |
            grep -v '^npm warn' || true
        [ -s "$jar.tmp.jar" ] || die "kotlinc failed"
        mv "$jar.tmp.jar" "$jar"
    fi
    JAR=$jar
}

# --- 6. the server ------------------------------------------------------------------------------

WORK=""
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    [ -n "$WORK" ] && rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_server() {
    # The test liveness vendor judges the sample capture folder (its verdicts are forgeable:
    # demos and tests only).
    local args=(serve --listen 127.0.0.1:0 --require-liveness --insecure-test-liveness-vendor) i
    mkdir -p "$WORK/server"
    INKSEAL_DATA="$WORK/server" "$INKSEAL" "${args[@]}" >"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    SERVER_URL=""
    for i in $(seq 1 300); do
        SERVER_URL=$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' "$WORK/server.log" | head -n 1)
        [ -n "$SERVER_URL" ] && curl -fsS "$SERVER_URL/v1/health" >/dev/null 2>&1 && break
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log"; die "the server died"; }
        SERVER_URL=""
        sleep 0.1
    done
    [ -n "$SERVER_URL" ] || { cat "$WORK/server.log"; die "the server did not come up"; }
    echo "inkseal serve ${args[*]:1} → $SERVER_URL (pid $SERVER_PID, data in $WORK/server)"
}

# --- the bank's backend: an operator key and an enrollment ticket -------------------------------

# The GB 11643 check character of the sample ID card's number (FileHooks::write_sample).
sample_id_number() {
    local first17=11010119900307123 weights=(7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2) sum=0 i
    for i in $(seq 0 16); do sum=$((sum + ${first17:i:1} * weights[i])); done
    local checks=10X98765432
    echo "$first17${checks:sum % 11:1}"
}

issue_ticket() {
    local api_key answer
    api_key=$("$INKSEAL" admin credential create --data-dir "$WORK/server" --name "desktop sample bank backend" \
        --role enroll --json | sed -n 's/^ *"api_key": *"\([^"]*\)".*/\1/p')
    [ -n "$api_key" ] || die "inkseal admin credential create gave no API key"
    answer=$(curl -fsS -X POST "$SERVER_URL/v1/admin/tickets" -H "Authorization: Bearer $api_key" \
        -H 'Content-Type: application/json' \
        -d "{\"user_id\": \"customer-zhangsan\", \"certificate_name\": \"张三\", \"id_number\": \"$(sample_id_number)\"}") ||
        die "POST /v1/admin/tickets failed"
    TICKET=$(printf '%s' "$answer" | sed -n 's/.*"ticket":"\([^"]*\)".*/\1/p')
    [ -n "$TICKET" ] || die "no ticket in $answer"
    echo "operator ${api_key%%.*} issued ticket ${TICKET%%.*} for customer-zhangsan (张三, ID number bound)"
}

# --- main ---------------------------------------------------------------------------------------

step "tools"
install_tools
echo "java $(java -version 2>&1 | head -n 1 | cut -d'"' -f2), $("$KOTLIN_HOME/bin/kotlinc" -version 2>&1 | grep -o 'kotlinc-jvm [^ ]*'), $(pdftoppm -v 2>&1 | head -n 1)"

step "scripts/bindings.sh generate"
scripts/bindings.sh generate

step "cargo build -p inkseal-cli (the server)"
cargo build --locked -q -p inkseal-cli

step "kotlinc: generated bindings + façade + desktop sample"
compile_sample

WORK=$(mktemp -d)
step "institution key (openssl)"
if ! openssl genpkey -algorithm SM2 -out "$WORK/institution.key" 2>/dev/null; then
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$WORK/institution.key"
fi
openssl pkey -in "$WORK/institution.key" -pubout -out "$WORK/institution.pub.pem"
openssl pkey -pubin -in "$WORK/institution.pub.pem" -noout -text 2>/dev/null | sed -n 1p || true

step "inkseal serve"
start_server

step "the bank's backend: operator API key, enrollment ticket"
issue_ticket

if [ "$INTERACTIVE" = yes ]; then
    step "the sample, interactive, on DISPLAY=${DISPLAY:-}"
    [ -n "${DISPLAY:-}" ] || die "--interactive needs a display (DISPLAY is not set)"
    mkdir -p "$OUT/interactive"
    INKSEAL_TICKET="$TICKET" java -Djna.library.path="$TARGET_DIR/debug" -Dawt.useSystemAAFontSettings=on \
        -Dfile.encoding=UTF-8 -cp "$ROOT/$JAR:$CP:$LIBDIR/kotlin-stdlib.jar" io.inkseal.sample.desktop.MainKt \
        --server "$SERVER_URL" --institution-key "$WORK/institution.pub.pem" --contract "$ROOT/$CONTRACT" \
        --out "$ROOT/$OUT/interactive"
    exit 0
fi

step "the sample, scripted, under xvfb-run"
# Fresh outputs every run (the compiled jar under .build is kept).
find "$OUT" -mindepth 1 -maxdepth 1 ! -name .build -exec rm -rf {} +
mkdir -p "$OUT"
sample_args=(--scripted "$ROOT/$STROKES" --out "$ROOT/$OUT" --screenshot "$ROOT/$OUT/screenshot.png"
    --server "$SERVER_URL" --institution-key "$WORK/institution.pub.pem" --contract "$ROOT/$CONTRACT"
    --keyword '借款人（签字）：' --page 3)
JAVA_OPTS=(-Djna.library.path="$TARGET_DIR/debug" -Dawt.useSystemAAFontSettings=on
    -Dfile.encoding=UTF-8 -Dsun.stdout.encoding=UTF-8 -Dsun.stderr.encoding=UTF-8)
RUN_CP="$ROOT/$JAR:$CP:$LIBDIR/kotlin-stdlib.jar"
status=0
INKSEAL_TICKET="$TICKET" timeout --kill-after=10 300 xvfb-run -a -s "-screen 0 1400x900x24" \
    java "${JAVA_OPTS[@]}" -cp "$RUN_CP" io.inkseal.sample.desktop.MainKt "${sample_args[@]}" || status=$?
if [ "$status" -ne 0 ]; then
    echo "--- server log (tail) ---" >&2
    tail -n 20 "$WORK/server.log" >&2
    die "the sample failed (exit $status)$([ -e "$OUT/screenshot.failed.png" ] && echo "; see $OUT/screenshot.failed.png")"
fi

step "checks"
java -Djava.awt.headless=true "${JAVA_OPTS[@]}" -cp "$RUN_CP" io.inkseal.sample.desktop.MainKt \
    --check-screenshot "$OUT/screenshot.png" --expect-size "$WINDOW_SIZE" ||
    die "the screenshot check failed"
[ -s "$OUT/contract-signed.pdf" ] || die "no signed PDF"
"$INKSEAL" verify "$OUT/contract-signed.pdf" >"$WORK/verify.txt" 2>&1 ||
    { cat "$WORK/verify.txt"; die "inkseal verify does not accept $OUT/contract-signed.pdf"; }
echo "inkseal verify $OUT/contract-signed.pdf: $(grep -m1 -i 'valid' "$WORK/verify.txt" || head -n 1 "$WORK/verify.txt")"

step "done in ${SECONDS}s"
echo "screenshot: $OUT/screenshot.png"
echo "signed PDF: $OUT/contract-signed.pdf (page image $OUT/contract-signed-page3.png)"
