#!/usr/bin/env bash
# massd against redis-server doing INCR, driven by the same client (the
# massd client fleet, which speaks RESP to Redis) in the same run,
# alternating servers, at 50 and 1,000 connections, unpipelined and with 16
# UPDATEs in flight per connection. massd runs as one process with one
# reactor thread, like Redis; a second massd row uses one reactor per core.
# Usage: bench/mass-vs-redis.sh [SECONDS] [REPEATS]   (defaults 10 and 3)
# Writes var/bench/mass-vs-redis.jsonl and prints the median table.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECONDS_PER_RUN=${1:-10}
REPEATS=${2:-3}
BIN=$ROOT/target/release
OUT=$ROOT/var/bench
MASS_PORT=17677
MASS_CORES_PORT=17678
REDIS_PORT=17380
mkdir -p "$OUT"
[ -x "$BIN/bench" ] && [ -x "$BIN/massd" ] || (cd "$ROOT" && cargo build --release -p bench -p massd)
command -v redis-server >/dev/null || "$ROOT/deploy/deps.sh" stores

cleanup() {
    for pid in ${MASS_PIDS:-}; do kill "$pid" 2>/dev/null || true; done
    REDISCLI_AUTH=${THRONG_BENCH_REDIS_PASSWORD:-} redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
}
trap cleanup EXIT

serve() { # port threads admin-port
    "$BIN/massd" serve --config "$ROOT/deploy/config/mass.toml" --set log_switch=false \
        --set "reactor.listen=[\"127.0.0.1:$1\"]" --threads "$2" \
        --set "admin.listen=\"127.0.0.1:$3\"" --set "admin.token=\"bench\"" \
        --set client_num_per_host=1000 >>"$OUT/massd-bench.log" 2>&1 &
    MASS_PIDS="${MASS_PIDS:-} $!"
}
serve "$MASS_PORT" 1 17690
serve "$MASS_CORES_PORT" 0 17691
# A password, as any Redis reachable by a fleet should have; it also keeps
# protected mode from refusing the fleet's 127.0.0.2-16 source addresses.
THRONG_BENCH_REDIS_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr '+/' 'xy')
export THRONG_BENCH_REDIS_PASSWORD
# The password goes in through stdin, never on a command line.
printf 'requirepass %s\n' "$THRONG_BENCH_REDIS_PASSWORD" | redis-server - --bind 127.0.0.1 \
    --port "$REDIS_PORT" --save '' --appendonly no --maxclients 19000 --tcp-backlog 4096 \
    --daemonize yes --logfile "$OUT/redis-mass.log"
for _ in $(seq 50); do
    REDISCLI_AUTH=$THRONG_BENCH_REDIS_PASSWORD redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && break
    sleep 0.1
done

RESULTS=$OUT/mass-vs-redis.jsonl
: >"$RESULTS"
for connections in 50 1000; do
    for pipeline in 1 16; do
        for ((i = 1; i <= REPEATS; i++)); do
            for target in "massd 127.0.0.1:$MASS_PORT mass" "resp 127.0.0.1:$REDIS_PORT mass-resp" \
                "massd 127.0.0.1:$MASS_CORES_PORT mass-per-core"; do
                set -- $target
                echo "run $i/$REPEATS: $1 at $2, $connections connections, pipeline $pipeline" >&2
                "$BIN/bench" run mass --wire "$1" --target "$2" --connections "$connections" \
                    --pipeline "$pipeline" --duration "$SECONDS_PER_RUN" --label "$3" --json --quiet \
                    | tail -n 1 >>"$RESULTS"
            done
        done
    done
done
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr)"
echo "redis:   $(redis-server --version | cut -d' ' -f3)"
"$BIN/bench" summarize "$RESULTS"
