#!/usr/bin/env bash
# Scale-out runs for humans (too long for CI), each one command:
#
#   scripts/scale-test.sh [COUNT]   a throwaway PostgreSQL cluster, two `inkseal serve` replicas
#                                   on it, `inkseal bench cosign --target A,B --count COUNT`
#                                   (default 100000), then `inkseal audit verify` on the database.
#                                   Prints errors (must be 0), p50/p99, co-signatures/s and the
#                                   replicas' CPU per co-signature.
#   scripts/scale-test.sh fault     the SIGKILL fault test (cli/tests/postgres_fault.rs), which CI
#                                   also runs: two replicas, load, replica A killed mid-run and
#                                   restarted, then every check of that test.
#
# Environment: CLIENTS (16), USERS (64), POOL (16 connections per replica),
# INKSEAL_PG_BINDIR (else the newest /usr/lib/postgresql/*/bin), CARGO_TARGET_DIR, INKSEAL_BIN (an
# inkseal binary to measure instead of building this checkout's: before/after comparisons).
# Needs Debian's postgresql package (scripts/test.sh installs it). As root, PostgreSQL runs as
# the `postgres` user (else `nobody`). Everything it starts is stopped, and its directory
# removed, when it exits.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = fault ]; then
    exec cargo test --locked -p inkseal-cli --test postgres_fault -- --nocapture
fi

COUNT="${1:-100000}"
CLIENTS="${CLIENTS:-16}"
USERS="${USERS:-64}"
POOL="${POOL:-16}"

step() { printf '\n==> %s\n' "$*"; }

if [ -n "${INKSEAL_BIN:-}" ]; then
    INKSEAL="$INKSEAL_BIN"
else
    step "building inkseal (release)"
    cargo build --release --locked -q -p inkseal-cli
    INKSEAL="${CARGO_TARGET_DIR:-target}/release/inkseal"
fi

# --- A throwaway PostgreSQL cluster (the shape of tests/src/postgres.rs). ---
bindir="${INKSEAL_PG_BINDIR:-}"
if [ -z "$bindir" ]; then
    bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
fi
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
    echo "PostgreSQL is not installed (apt-get install postgresql, or set INKSEAL_PG_BINDIR)" >&2
    exit 1
fi
work="$(mktemp -d /tmp/inkseal-scale-XXXXXX)"
run_as=()
if [ "$(id -u)" -eq 0 ]; then
    pg_user=postgres
    id postgres >/dev/null 2>&1 || pg_user=nobody
    run_as=(runuser -u "$pg_user" --)
    chown "$pg_user:" "$work"
fi
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
pg_port="$(free_port)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    "${run_as[@]}" "$bindir/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

step "throwaway PostgreSQL cluster in $work (port $pg_port)"
"${run_as[@]}" "$bindir/initdb" -D "$work/data" -U inkseal --auth=trust -E UTF8 --locale=C \
    >"$work/initdb.log"
"${run_as[@]}" "$bindir/pg_ctl" -D "$work/data" -l "$work/server.log" -w -t 60 \
    -o "-p $pg_port -k $work -c listen_addresses=127.0.0.1 -c max_connections=200" start \
    >/dev/null
"$bindir/psql" -X -q -h 127.0.0.1 -p "$pg_port" -U inkseal -d postgres -c 'CREATE DATABASE scale'
DB="postgres://inkseal@127.0.0.1:$pg_port/scale"
DATA="$work/server"

# --- Two replicas on it (one vault: the same master key file). ---
start_replica() { # NAME PORT
    "$INKSEAL" serve --data-dir "$DATA" --database "$DB" --database-pool-size "$POOL" \
        --listen "127.0.0.1:$2" \
        --rate-limit sign-per-address=0 --rate-limit sign-per-key=0 \
        --rate-limit enroll-per-address=0 --rate-limit operator-per-address=0 \
        >"$work/$1.out" 2>"$work/$1.log" &
    pids+=("$!")
    for _ in $(seq 600); do
        grep -q 'listening on' "$work/$1.out" 2>/dev/null && return 0
        kill -0 "${pids[-1]}" 2>/dev/null || { cat "$work/$1.log" >&2; exit 1; }
        sleep 0.1
    done
    echo "replica $1 did not start" >&2
    exit 1
}
port_a="$(free_port)"
port_b="$(free_port)"
step "two inkseal serve replicas on 127.0.0.1:$port_a and 127.0.0.1:$port_b"
start_replica a "$port_a"
pid_a="${pids[-1]}"
start_replica b "$port_b"
pid_b="${pids[-1]}"
api_key="$("$INKSEAL" admin credential create --data-dir "$DATA" --database "$DB" \
    --name scale-test --role enroll --json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["api_key"])')"

step "inkseal bench cosign: $COUNT co-signatures, $CLIENTS clients, $USERS users, through both"
status=0
nice -n 5 "$INKSEAL" bench cosign --target "http://127.0.0.1:$port_a,http://127.0.0.1:$port_b" \
    --api-key "$api_key" --server-pid "$pid_a,$pid_b" \
    --clients "$CLIENTS" --users "$USERS" --count "$COUNT" || status=$?

step "stopping the replicas (each signs a checkpoint), then inkseal audit verify"
for pid in "${pids[@]}"; do kill -INT "$pid"; done
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
pids=()
"$INKSEAL" audit verify --data-dir "$DATA" --database "$DB" || status=1
signed="$("$bindir/psql" -X -q -At -h 127.0.0.1 -p "$pg_port" -U inkseal -d scale \
    -c "SELECT count(*) FROM signatures")"
echo "signatures stored: $signed (plus one warm-up per user)"
exit "$status"
