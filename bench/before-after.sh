#!/usr/bin/env bash
# This build's webd and authd against another build's (an earlier commit),
# side by side on the same stores, the same machine and the same load
# client: warm sign-in over the protocol (rpc-signin), `GET /login`
# (http-static) and the log-in form (http-login). Each round runs every
# scenario against both, alternating which goes first, so drift on a shared
# machine lands on both sides. Needs the stack (`make up`); the other build
# runs on ports 19090 (webd) and 19998 (authd) beside it.
#
#   git worktree add ../before <commit>
#   (cd ../before && CARGO_TARGET_DIR=../before-target cargo build --release -p authd -p webd)
#   bench/before-after.sh ../before-target/release [SECONDS] [REPEATS]
#
# Writes var/bench/before-after.jsonl and prints medians and their ratios.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OTHER=$(cd "$1" && pwd)
SECONDS_PER_RUN=${2:-10}
REPEATS=${3:-3}
BIN=$ROOT/target/release
OUT=$ROOT/var/bench
OTHER_AUTHD=127.0.0.1:19998
OTHER_WEBD=127.0.0.1:19090
mkdir -p "$OUT"
set -a
. "$ROOT/var/stack.env"
set +a

"$BIN/bench" seed --users 10000 >&2

"$OTHER/authd" --config "$ROOT/deploy/config/authd.toml" --listen "$OTHER_AUTHD" \
    >"$OUT/other-authd.log" 2>&1 &
PIDS=$!
"$OTHER/webd" --config "$ROOT/deploy/config/webd.toml" --listen "$OTHER_WEBD" \
    --set "authd.backends=[\"$OTHER_AUTHD\"]" >"$OUT/other-webd.log" 2>&1 &
PIDS="$PIDS $!"
trap 'kill $PIDS 2>/dev/null || true' EXIT
for port in 19998 19090; do
    for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
done

# The fast verifiers live in the shared Redis: one sweep warms both sides.
echo "warming the fast verifiers (not counted)" >&2
"$BIN/bench" run rpc-signin --connections 100 --duration 20 --quiet >/dev/null

RESULTS=$OUT/before-after.jsonl
: >"$RESULTS"
run() { # label scenario target connections [extra args]
    local label=$1 scenario=$2 target=$3 connections=$4
    shift 4
    "$BIN/bench" run "$scenario" --target "$target" --connections "$connections" \
        --duration "$SECONDS_PER_RUN" --json --quiet "$@" \
        | tail -n 1 | sed "s/\"scenario\":\"$scenario\"/\"scenario\":\"$scenario $label\"/" >>"$RESULTS"
}
both() { # round scenario this-target other-target connections [extra args]
    local round=$1 scenario=$2 this=$3 other=$4
    shift 4
    echo "$scenario, round $round" >&2
    if ((round % 2)); then
        run this "$scenario" "$this" "$@"
        run other "$scenario" "$other" "$@"
    else
        run other "$scenario" "$other" "$@"
        run this "$scenario" "$this" "$@"
    fi
}
for ((i = 1; i <= REPEATS; i++)); do
    both "$i" rpc-signin 127.0.0.1:9999 "$OTHER_AUTHD" 100
    both "$i" http-static 127.0.0.1:9090 "$OTHER_WEBD" 100
    both "$i" http-login 127.0.0.1:9090 "$OTHER_WEBD" 1000 --users 1000
done
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr)"
"$BIN/bench" summarize "$RESULTS"
