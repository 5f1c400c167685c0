#!/usr/bin/env bash
# C200K at several intervals: 200,000 connections (bench/mass/c200k.toml:
# 12 server processes, 11 client processes), each sending an UPDATE every
# INTERVAL ms, one run per interval, to find the shortest interval this
# machine carries at p99 <= 100 ms; during each run `perf record -a` says
# how the CPU time splits between the kernel and user space.
# Usage: bench/c200k.sh [SECONDS] [INTERVALS_MS...]   (defaults 60; 2000 3000 4000)
# Needs the kernel limits of the mass profile (target/release/tune apply
# --profile mass, as root) and perf (root). Appends to var/bench/c200k.jsonl
# (delete it to start afresh) and prints a table of all it holds; the CPU
# split of each interval goes to var/bench/c200k-INTERVAL-split.txt.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECONDS_PER_RUN=${1:-60}
shift || true
INTERVALS=${*:-2000 3000 4000}
BIN=$ROOT/target/release
CONFIG=$ROOT/bench/mass/c200k.toml
OUT=$ROOT/var/bench
mkdir -p "$OUT"
[ -x "$BIN/bench" ] && [ -x "$BIN/massd" ] || (cd "$ROOT" && cargo build --release -p bench -p massd)
cd "$ROOT"
command -v perf >/dev/null || { apt-get update -qq && apt-get install -y -qq linux-perf >/dev/null; }
perf stat -e raw_syscalls:sys_enter -o /dev/null true 2>/dev/null ||
    { echo "perf cannot read tracepoints here: run as root (or lower kernel.perf_event_paranoid)" >&2; exit 1; }
trap '"$BIN/massd" stop --config "$CONFIG" >/dev/null 2>&1 || true' EXIT

RESULTS=$OUT/c200k.jsonl
"$BIN/massd" launch --config "$CONFIG" --no-clients >&2
for interval in $INTERVALS; do
    echo "C200K every $interval ms for $SECONDS_PER_RUN s" >&2
    "$BIN/bench" run mass --mass-config "$CONFIG" --connections 200000 --interval-ms "$interval" \
        --duration "$SECONDS_PER_RUN" --label "c200k-every-${interval}ms" --json --quiet |
        tail -n 1 >>"$RESULTS" &
    LOAD=$!
    # Past the ramp-up (11 clients at 2,000 connects/s each): the steady state.
    sleep $((SECONDS_PER_RUN / 2))
    perf record -q -a -e cpu-clock -F 499 -o "$OUT/c200k-$interval.data" -- sleep 10
    wait "$LOAD"
    # Idle (swapper) apart; the servers (reactor-*) and the clients (fleet-*)
    # each split into kernel and user time.
    perf report -q -i "$OUT/c200k-$interval.data" --sort comm,dso --stdio 2>/dev/null | awk '
        { p = $1; sub("%", "", p); c = $2; k = ($3 ~ /kernel/) }
        c ~ /^swapper/ { idle += p; next }
        { busy += p; kern += k * p }
        c ~ /^reactor/ { srv += p; srvk += k * p }
        c ~ /^fleet/ { cli += p; clik += k * p }
        END {
            printf "idle %.1f %% of all CPU; of the busy time the kernel has %.1f %%\n", idle, 100 * kern / busy
            printf "servers %.1f %% of all CPU (kernel %.1f %% of theirs), clients %.1f %% (kernel %.1f %%)\n",
                srv, srv ? 100 * srvk / srv : 0, cli, cli ? 100 * clik / cli : 0
        }' >"$OUT/c200k-$interval-split.txt"
    echo "CPU by object, every $interval ms:" >&2
    cat "$OUT/c200k-$interval-split.txt" >&2
done
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr)"
"$BIN/bench" summarize "$RESULTS"
