#!/usr/bin/env bash
# The log-in rate of the cluster stack against the single stack's, in one
# run: the same load client, the same seeded users, the same scenario
# (`bench run http-login`), each stack brought up in turn (they share ports
# and cannot run together). Per stack: the users seeded, two warm-up runs
# (the first log-ins of a fresh stack are cold argon2 verifications), then
# REPEATS measured runs; the cluster is measured through the one HAProxy
# (127.0.0.1:9090) and through the VRRP pair's address. Beside throughput
# it reports the CPU each kind of process spent per log-in (from /proc),
# which shows where the cluster's extra work goes.
#
#   bench/cluster-vs-single.sh [SECONDS] [REPEATS] [CONNECTIONS]
#
# Needs both stacks down at the start; leaves both down. Writes
# var/bench/cluster-vs-single.tsv (one line per run) and prints medians.
# STACKS="cluster" (or "single") measures one of them only, appending to
# the runs already in the file.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECONDS_PER_RUN=${1:-10}
REPEATS=${2:-3}
CONNECTIONS=${3:-200}
USERS=1000
BIN=$ROOT/target/release
OUT=$ROOT/var/bench
mkdir -p "$OUT"
TSV=$OUT/cluster-vs-single.tsv
cd "$ROOT"

# CPU seconds (user + system) per process name, summed over processes.
cpu_by_name() {
    local stat comm
    for stat in /proc/[0-9]*/stat; do
        read -r line 2>/dev/null <"$stat" || continue
        comm=${line#*(}
        comm=${comm%%)*}
        case $comm in webd | authd | mariadbd | redis-server | haproxy) ;; *) continue ;; esac
        # Fields after the command: state is 3rd; utime 14th, stime 15th.
        set -- ${line##*) }
        echo "$comm $(( ${12} + ${13} ))"
    done | awk '{t[$1]+=$2} END {for (k in t) print k, t[k]}'
}

measure() { # TARGET LABEL
    local target=$1 label=$2 i before after json rate last=0
    # Warm: until a run's rate is within 20 % of the one before (the cold
    # log-ins of a fresh stack go through argon2), at most 8 runs.
    for ((i = 1; i <= 8; i++)); do
        json=$("$BIN/bench" run http-login -c "$CONNECTIONS" -d 5 --users "$USERS" --target "$target" --json --quiet | tail -1)
        rate=$(python3 -c 'import json,sys; print(int(json.loads(sys.argv[1])["throughput"]))' "$json")
        [ "$last" -gt 0 ] && [ $((rate * 10)) -ge $((last * 8)) ] && [ $((rate * 10)) -le $((last * 12)) ] && break
        last=$rate
    done
    for ((i = 1; i <= REPEATS; i++)); do
        before=$(cpu_by_name)
        json=$("$BIN/bench" run http-login -c "$CONNECTIONS" -d "$SECONDS_PER_RUN" --users "$USERS" \
            --target "$target" --json --quiet | tail -1)
        after=$(cpu_by_name)
        python3 - "$label" "$json" "$before" "$after" "$(getconf CLK_TCK)" >>"$TSV" <<'PY'
import json, sys
label, run, before, after, hz = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
parse = lambda t: {l.split()[0]: int(l.split()[1]) for l in t.splitlines() if l.strip()}
b, a = parse(before), parse(after)
ops = run["ops"]
cpu = {k: (a[k] - b.get(k, 0)) / hz / max(ops, 1) * 1e6 for k in a}
print("\t".join([label, str(run["throughput"]), str(run["errors"]), str(run["latency_ms"]["p99"])]
      + ["%s=%.1f" % (k, cpu[k]) for k in sorted(cpu)]))
PY
        tail -1 "$TSV" >&2
    done
}

[ -x "$BIN/bench" ] || (cargo build --release --workspace --bins --quiet)

# Brings a stack up or down, its output in var/bench/stack.log (shown when
# it fails).
quietly() {
    "$@" >>"$OUT/stack.log" 2>&1 || { tail -20 "$OUT/stack.log" >&2; exit 1; }
}
: >"$OUT/stack.log"

read -r -a STACK_LIST <<<"${STACKS:-single cluster}"
[ "${STACKS:-}" ] || : >"$TSV"
for stack in "${STACK_LIST[@]}"; do case $stack in
single)
echo "single stack (make up)" >&2
quietly deploy/stack.sh up
(set -a && . "$ROOT/var/stack.env" && "$BIN/bench" seed --users "$USERS" >/dev/null)
measure 127.0.0.1:9090 single
quietly deploy/stack.sh down
;;
cluster)
echo "cluster stack (make cluster-up)" >&2
THRONG_BIN=$BIN quietly deploy/cluster.sh up
THRONG_MYSQL_URL=$(deploy/cluster.sh url mysql | cut -d, -f1) "$BIN/bench" seed --users "$USERS" >/dev/null
measure 127.0.0.1:9090 cluster-haproxy
measure 10.231.0.10:9090 cluster-vrrp-pair
quietly deploy/cluster.sh down
;;
*) echo "STACKS: single or cluster, not $stack" >&2; exit 2 ;;
esac; done

python3 - "$TSV" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    f = line.rstrip("\n").split("\t")
    rows.setdefault(f[0], []).append(f)
single = statistics.median(float(r[1]) for r in rows.get("single", [["", "0"]]))
print("%-18s %10s %7s %9s  %s" % ("stack", "log-ins/s", "ratio", "p99 ms", "CPU µs per log-in (median)"))
for label, rs in rows.items():
    tput = statistics.median(float(r[1]) for r in rs)
    p99 = statistics.median(float(r[3]) for r in rs)
    cpu = {}
    for r in rs:
        for kv in r[4:]:
            k, v = kv.split("=")
            cpu.setdefault(k, []).append(float(v))
    per = " ".join("%s %.0f" % (k, statistics.median(v)) for k, v in sorted(cpu.items()))
    print("%-18s %10.0f %6.2fx %9.1f  %s" % (label, tput, tput / single if single else 0, p99, per))
PY
