#!/usr/bin/env bash
# Run every cargo-fuzz target for a few seconds (default 20), seeded with the shared corpus.
# cargo-fuzz needs nightly flags; RUSTC_BOOTSTRAP lets the stable toolchain accept them.
# Usage: scripts/fuzz-smoke.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
secs="${1:-20}"
export RUSTC_BOOTSTRAP=1
shared="$(cd .. && pwd)/../shared"
for target in $(cargo fuzz list); do
    seeds=()
    case "$target" in
        pdf_verify) seeds=("$shared/corpus/pyhanko-test-pdfs" "$shared/fixtures") ;;
        tsp) seeds=("seeds/tsp") ;;
        # qpdf's /Encrypt dictionaries (empty user password): mutations start past the check.
        pdf_encrypt) seeds=("seeds/encrypt") ;;
        # Envelopes sealed to the SM2 and P-256 keys the target opens with (ours and openssl's).
        enveloped) seeds=("seeds/enveloped") ;;
        # One honest message of each two-party P-256 kind (core/cosign/tests/p256_cosign.rs,
        # write_fuzz_inputs): mutations start past the version and kind bytes.
        p256_messages) seeds=("seeds/p256") ;;
        # Debian's DejaVu fonts (fonts-dejavu-core) when present: real TrueType tables to mutate.
        seal_font) [ -d /usr/share/fonts/truetype/dejavu ] && seeds=("/usr/share/fonts/truetype/dejavu") ;;
    esac
    work="$(mktemp -d)"
    echo "fuzz: $target for ${secs}s"
    cargo fuzz run -O "$target" "$work" "${seeds[@]}" -- \
        -max_total_time="$secs" -rss_limit_mb=2048 -print_final_stats=0 2>&1 | grep -E "^Done|ERROR|panicked" || true
    rm -rf "$work"
    if ls "artifacts/$target"/crash-* >/dev/null 2>&1; then
        echo "fuzz: $target found a crash: fuzz/artifacts/$target" >&2
        exit 1
    fi
done
