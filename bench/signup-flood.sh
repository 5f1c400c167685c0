#!/usr/bin/env bash
# Sign-in latency under a sign-up flood: does making hashes (sign-ups,
# which anyone can ask for) starve verifying them (sign-ins)? An authd of
# its own on the stack's stores, fast verifiers off (every sign-in is one
# argon2 verification) and the sign-up flood limits lifted (so every
# flood request reaches argon2). Alternating runs of cold sign-ins at
# SIGNIN_CONNS connections, alone and beside `rpc-signup` at FLOOD_CONNS.
# Needs the stack (`make up`, `bench seed`).
# Usage: bench/signup-flood.sh [SECONDS] [REPEATS]
# Writes var/bench/signup-flood.jsonl and prints the runs and the medians.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECONDS_PER_RUN=${1:-10}
REPEATS=${2:-3}
SIGNIN_CONNS=${SIGNIN_CONNS:-8}
FLOOD_CONNS=${FLOOD_CONNS:-64}
BIN=${BIN:-$ROOT/target/release}
OUT=$ROOT/var/bench
PORT=19996
mkdir -p "$OUT"
set -a
. "$ROOT/var/stack.env"
set +a

"$BIN/authd" --config "$ROOT/deploy/config/authd.toml" --listen "127.0.0.1:$PORT" \
    --set 'argon2.verifier_ttl="0s"' --set limits.sign_ups_per_minute=100000000 \
    >"$OUT/authd-flood.log" 2>&1 &
AUTHD=$!
FLOOD=
trap 'kill $AUTHD $FLOOD 2>/dev/null || true' EXIT
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done

RESULTS=$OUT/signup-flood.jsonl
: >"$RESULTS"
signins() { # label
    "$BIN/bench" run rpc-signin --target "127.0.0.1:$PORT" --connections "$SIGNIN_CONNS" \
        --duration "$SECONDS_PER_RUN" --json --quiet \
        | tail -n 1 | sed "s/\"scenario\":\"rpc-signin\"/\"scenario\":\"rpc-signin$1\"/" >>"$RESULTS"
}
for ((i = 1; i <= REPEATS; i++)); do
    echo "cold sign-ins alone, run $i" >&2
    signins "-alone"
    sleep 2
    echo "cold sign-ins beside a sign-up flood of $FLOOD_CONNS connections, run $i" >&2
    "$BIN/bench" run rpc-signup --target "127.0.0.1:$PORT" --connections "$FLOOD_CONNS" \
        --duration $((SECONDS_PER_RUN + 4)) --json --quiet | tail -n 1 >>"$RESULTS" &
    FLOOD=$!
    sleep 2
    signins "-flooded"
    wait $FLOOD || true
    FLOOD=
    sleep 2
done
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr)"
"$BIN/bench" summarize "$RESULTS"
