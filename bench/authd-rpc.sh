#!/usr/bin/env bash
# authd's benchmark: the binary protocol straight to authd over 10,000
# seeded users — cold sign-in (argon2 every time), warm sign-in (fast
# verifiers), session validation and lookup at 100 and 1,000 connections —
# plus the argon2 pool alone, the ceiling of cold sign-ins.
# Needs the stack (`make up`). Usage: bench/authd-rpc.sh [SECONDS] [REPEATS]
# Writes var/bench/authd-rpc.jsonl and prints the median table.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECONDS_PER_RUN=${1:-10}
REPEATS=${2:-3}
BIN=$ROOT/target/release
OUT=$ROOT/var/bench
COLD_PORT=19999
mkdir -p "$OUT"
set -a
. "$ROOT/var/stack.env"
set +a

"$BIN/bench" seed --users 10000

echo "== argon2 alone" >&2
"$BIN/bench" argon2 --duration 10 | tee "$OUT/argon2.txt"

# A second authd on the same stores with fast verifiers off: every sign-in
# runs argon2.
"$BIN/authd" --config "$ROOT/deploy/config/authd.toml" --listen "127.0.0.1:$COLD_PORT" \
    --set 'argon2.verifier_ttl="0s"' >"$OUT/authd-cold.log" 2>&1 &
COLD_PID=$!
trap 'kill $COLD_PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$COLD_PORT) 2>/dev/null && break; sleep 0.1; done

RESULTS=$OUT/authd-rpc.jsonl
: >"$RESULTS"
run() { # scenario target connections
    "$BIN/bench" run "$1" --target "$2" --connections "$3" --duration "$SECONDS_PER_RUN" --json --quiet \
        | tail -n 1 | sed "s/\"scenario\":\"$1\"/\"scenario\":\"$1$4\"/" >>"$RESULTS"
}
for c in 100 1000; do
    for ((i = 1; i <= REPEATS; i++)); do
        echo "cold sign-in, $c connections, run $i" >&2
        run rpc-signin "127.0.0.1:$COLD_PORT" "$c" "-cold"
        # The closed loop leaves up to $c sign-ins queued for argon2 when a
        # run ends; let them drain (~100/s) so the next run starts clean
        # instead of meeting a full queue and its busy answers.
        sleep $((c / 80 + 2))
    done
done
kill $COLD_PID; wait $COLD_PID 2>/dev/null || true

echo "warming the fast verifiers of all 10,000 users (the sweep signs each in once)" >&2
"$BIN/bench" run rpc-signin --connections 100 --duration 120 --quiet >/dev/null
for c in 100 1000; do
    for ((i = 1; i <= REPEATS; i++)); do
        for s in rpc-signin rpc-session rpc-lookup; do
            echo "$s, $c connections, run $i" >&2
            run "$s" 127.0.0.1:9999 "$c" ""
        done
    done
done
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr)"
"$BIN/bench" summarize "$RESULTS"
