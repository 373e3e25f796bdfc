#!/usr/bin/env bash
# PDF signing benchmark: `inkseal sign` vs. `pyhanko sign addsig` vs. `sha256sum`, whole-process
# wall time and peak memory, on generated 2 MiB (20-page contract), 1, 10 and 100 MiB PDFs.
# With `verify` as the first argument: `inkseal verify` vs. `pyhanko sign validate` on the
# contract carrying three signatures (`inkseal bench verify`).
# Needs /usr/bin/time (Debian package `time`, installed here when missing and running as root),
# openssl and qpdf; pyHanko is measured when `pyhanko` is on PATH.
# Usage: scripts/bench-pdf.sh [--sizes 1,10,100] [--runs 3] [--keep DIR] [--time-stamped | --long-term]
#        scripts/bench-pdf.sh verify [--runs 5] [--keep DIR]
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/time ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "need /usr/bin/time: install the Debian package 'time' (as root)" >&2
        exit 1
    fi
    echo "==> installing the Debian package 'time'"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends time
fi
for tool in openssl qpdf; do
    command -v "$tool" >/dev/null 2>&1 || { echo "need $tool (scripts/install-validators.sh installs qpdf)" >&2; exit 1; }
done

echo "==> cargo build --release -p inkseal-cli"
cargo build --release -p inkseal-cli
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])' 2>/dev/null || echo target)"
if [ "${1:-}" = verify ]; then
    shift
    exec "$target_dir/release/inkseal" bench verify "$@"
fi
exec "$target_dir/release/inkseal" bench pdf "$@"
