#!/usr/bin/env bash
# The placement experiments of issue 15: the core ping server with one
# reactor per core, started once per variant (none, pinned, pinned and
# steered by CPU), each driven by the same load client in the same run,
# variants alternating, at 100 and 1,000 connections. What each variant
# sets is throng_core::reactor::Placement (RESULTS, "Placement", says why
# TCP_QUICKACK and busy polling, also tried, are not among them).
# Usage: bench/placement.sh [SECONDS] [REPEATS]   (defaults 8 and 3)
# Writes var/bench/placement.jsonl and prints the median table.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECONDS_PER_RUN=${1:-8}
REPEATS=${2:-3}
BIN=$ROOT/target/release/bench
OUT=$ROOT/var/bench
mkdir -p "$OUT"
[ -x "$BIN" ] || (cd "$ROOT" && cargo build --release -p bench)

declare -A FLAGS=(
    [none]=""
    [pinned]="--pin-threads"
    [pinned-steered]="--pin-threads --steer-by-cpu"
)
VARIANTS="none pinned pinned-steered"
PID=""
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null || true' EXIT
start() { # variant
    if (exec 3<>/dev/tcp/127.0.0.1/17072) 2>/dev/null; then
        # Another listener there would share the port (SO_REUSEPORT) and the load.
        echo "127.0.0.1:17072 is already in use; stop what listens there first" >&2
        exit 1
    fi
    # shellcheck disable=SC2086 # the flags are words
    "$BIN" serve-ping --listen 127.0.0.1:17072 --threads 0 ${FLAGS[$1]} >>"$OUT/placement-server.log" 2>&1 &
    PID=$!
    for _ in $(seq 50); do
        (exec 3<>/dev/tcp/127.0.0.1/17072) 2>/dev/null && return
        sleep 0.1
    done
    echo "ping server ($1) did not start" >&2
    exit 1
}

RESULTS=$OUT/placement.jsonl
: >"$RESULTS"
for connections in 100 1000; do
    for ((i = 1; i <= REPEATS; i++)); do
        for variant in $VARIANTS; do
            start "$variant"
            echo "run $i/$REPEATS: $variant, $connections connections" >&2
            "$BIN" run ping --target 127.0.0.1:17072 --connections "$connections" \
                --duration "$SECONDS_PER_RUN" --json --quiet | tail -n 1 |
                python3 -c 'import json,sys; r=json.loads(sys.stdin.read()); r["scenario"]="ping-"+sys.argv[1]; print(json.dumps(r))' "$variant" >>"$RESULTS"
            kill "$PID"
            wait "$PID" 2>/dev/null || true
            PID=""
        done
    done
done
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr)"
"$BIN" summarize "$RESULTS"
