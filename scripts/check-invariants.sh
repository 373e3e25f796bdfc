#!/usr/bin/env bash
# Architecture invariants (ARCHITECTURE.md): the sans-IO core crates depend on no async
# runtime, no HTTP client and no FFI generator.
set -euo pipefail
cd "$(dirname "$0")/.."
forbidden='^(tokio|reqwest|hyper|axum|uniffi|async-std|smol|mio)$'
status=0
for crate in inkseal-cosign inkseal-pki inkseal-pdf inkseal-ink inkseal-capture inkseal-httpsig; do
    deps=$(cargo tree -p "$crate" -e normal --prefix none --format '{p}' --locked | awk '{print $1}' | sort -u)
    bad=$(echo "$deps" | grep -E "$forbidden" || true)
    if [ -n "$bad" ]; then
        echo "invariant broken: $crate depends on: $bad" >&2
        status=1
    else
        echo "ok: $crate has no async runtime, HTTP client or uniffi among its $(echo "$deps" | wc -l) dependencies"
    fi
done
# Only bindings/ depends on uniffi.
for crate in inkseal-sdk inkseal-server inkseal-cli; do
    if cargo tree -p "$crate" -e normal --prefix none --format '{p}' --locked | awk '{print $1}' | grep -qx uniffi; then
        echo "invariant broken: $crate depends on uniffi (only inkseal-bindings may)" >&2
        status=1
    else
        echo "ok: $crate does not depend on uniffi"
    fi
done
exit $status
