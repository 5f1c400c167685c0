#!/usr/bin/env bash
# The foundation benchmark: the core reactor's ping server against
# redis-server answering PING, driven by the same load client in the same
# run, alternating servers, at 1, 100 and 10,000 connections.
# Usage: bench/ping-vs-redis.sh [SECONDS] [REPEATS]   (defaults 10 and 3)
# Writes var/bench/ping-vs-redis.jsonl and prints the median table.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECONDS_PER_RUN=${1:-10}
REPEATS=${2:-3}
BIN=$ROOT/target/release/bench
OUT=$ROOT/var/bench
PING_PORT=17070
REDIS_PORT=17379
mkdir -p "$OUT"
[ -x "$BIN" ] || (cd "$ROOT" && cargo build --release -p bench)
command -v redis-server >/dev/null || "$ROOT/deploy/deps.sh" stores

cleanup() {
    [ -n "${PING_PID:-}" ] && kill "$PING_PID" 2>/dev/null || true
    redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
}
trap cleanup EXIT

"$BIN" serve-ping --listen "127.0.0.1:$PING_PORT" >"$OUT/ping-server.log" 2>&1 &
PING_PID=$!
# The anchor: a stock redis-server, no persistence, room for 10,000 clients.
redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no \
    --maxclients 19000 --tcp-backlog 4096 --daemonize yes --logfile "$OUT/redis.log"
for _ in $(seq 50); do
    redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break
    sleep 0.1
done

RESULTS=$OUT/ping-vs-redis.jsonl
: >"$RESULTS"
for connections in 1 100 10000; do
    for ((i = 1; i <= REPEATS; i++)); do
        for target in "ping 127.0.0.1:$PING_PORT" "resp-ping 127.0.0.1:$REDIS_PORT"; do
            set -- $target
            echo "run $i/$REPEATS: $1 with $connections connections" >&2
            "$BIN" run "$1" --target "$2" --connections "$connections" \
                --duration "$SECONDS_PER_RUN" --json --quiet | tail -n 1 >>"$RESULTS"
        done
    done
done
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr)"
echo "redis:   $(redis-server --version | cut -d' ' -f3)"
"$BIN" summarize "$RESULTS"
