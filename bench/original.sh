#!/usr/bin/env bash
# The original's mass_connect scenario (100 clients x 10 servers, an UPDATE
# every 10 ms per connection: 100,000 updates/s scheduled) two ways, in one
# run, alternating: as the original runs it, ten server processes (`massd
# launch`), and as one massd process listening on all ten ports with one
# reactor per core. Same client (`bench run mass`), same ports (29101-29110,
# their own: neither make up's nor the cluster's).
# Usage: bench/original.sh [SECONDS] [REPEATS]   (defaults 30 and 2)
# Writes var/bench/original.jsonl and prints the median table.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECONDS_PER_RUN=${1:-30}
REPEATS=${2:-2}
BIN=$ROOT/target/release
CONFIG=$ROOT/bench/mass/original.toml
OUT=$ROOT/var/bench
mkdir -p "$OUT"
[ -x "$BIN/bench" ] && [ -x "$BIN/massd" ] || (cd "$ROOT" && cargo build --release -p bench -p massd)
cd "$ROOT"

ONE=""
cleanup() {
    [ -n "$ONE" ] && kill "$ONE" 2>/dev/null || true
    "$BIN/massd" stop --config "$CONFIG" >/dev/null 2>&1 || true
}
trap cleanup EXIT

drive() { # label
    "$BIN/bench" run mass --mass-config "$CONFIG" --connections 1000 --interval-ms 10 \
        --duration "$SECONDS_PER_RUN" --label "$1" --json --quiet | tail -n 1 >>"$RESULTS"
}

RESULTS=$OUT/original.jsonl
: >"$RESULTS"
for ((i = 1; i <= REPEATS; i++)); do
    echo "run $i/$REPEATS: ten processes" >&2
    "$BIN/massd" launch --config "$CONFIG" --no-clients >&2
    drive original-10-processes
    "$BIN/massd" stop --config "$CONFIG" >&2

    echo "run $i/$REPEATS: one process, ten ports" >&2
    "$BIN/massd" serve --config "$CONFIG" --threads 0 >>"$OUT/original-one.log" 2>&1 &
    ONE=$!
    # Its admin port opens after the counter ports; a probe of a counter
    # port would leave a key in the server's table.
    for _ in $(seq 100); do
        (exec 3<>/dev/tcp/127.0.0.1/29200) 2>/dev/null && break
        sleep 0.1
    done
    (exec 3<>/dev/tcp/127.0.0.1/29200) 2>/dev/null ||
        { echo "massd on the ten ports did not start (var/bench/original-one.log)" >&2; exit 1; }
    drive original-1-process
    kill "$ONE"
    wait "$ONE" 2>/dev/null || true
    ONE=""
done
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr)"
"$BIN/bench" summarize "$RESULTS"
