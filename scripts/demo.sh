#!/usr/bin/env bash
# The demo on a fresh Debian 12 machine: installs what it draws and renders with (the seal
# font fonts-wqy-microhei, poppler-utils for the page picture) when missing and run as root,
# then runs `inkseal demo` (release build). Arguments go to the demo, e.g. --dir out --flow policy.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
[ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || [ -n "${INKSEAL_SEAL_FONT:-}" ] || need+=(fonts-wqy-microhei)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "demo: installing ${need[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    else
        echo "demo: not root, so not installing ${need[*]}; the demo says what it misses" >&2
    fi
fi
exec cargo run --release -p inkseal-cli -- demo "$@"
