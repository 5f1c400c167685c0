#!/usr/bin/env bash
# C1M: 1,000,000 connections (bench/mass/c1m.toml: 6 ports x 10 server
# processes; 53 client processes from `bench run mass`) held for SECONDS,
# each sending an UPDATE every 20 s, with every figure the run is judged by:
# connections held and ramp-up time (from the clients' summaries), updates/s
# against the schedule, latency, lost/doubled/reconnects, server and client
# user-space memory per connection, kernel memory per socket (/proc/meminfo,
# /proc/net/sockstat and /proc/slabinfo before and during), CPU split
# user/kernel (/proc/stat over a minute of the steady state), how long
# `massd ctl stats` takes over the fleet, `ctl dump --out` against the
# clients' records, and how long `massd stop` takes.
#
# Usage: bench/c1m.sh [SECONDS] [CONNECTIONS] [INTERVAL_MS]
#        (defaults 600, 1000000, 20000; KILL_AT=S kills one server process
#        S seconds into the run, to see only its connections reconnect;
#        UPDATES_DURING_RAMP=1: connections update as soon as they are up,
#        instead of from the moment the whole fleet is)
# SECONDS counts from the moment every connection of the fleet is up (the
# client processes tell each other), however long the ramp takes.
# Needs the mass profile first (target/release/tune apply --profile mass;
# tune revert afterwards) and root. Writes var/bench/c1m/ and appends a line
# to var/bench/c1m.jsonl.
#
# The fleet runs in a network namespace of its own (throng-c1m, only its
# loopback): the initial namespace's established-connection hash table is
# sized at boot (262,144 buckets on this host), and with 2 M sockets in it
# the socket lookup of every packet took 13 % of all CPU. A namespace made
# after the profile set net.ipv4.tcp_child_ehash_entries gets a table of
# that size. Its per-namespace knobs start at the kernel's defaults, so the
# profile's sysctl file is applied inside it too; it and they go when the
# run ends.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECONDS_PER_RUN=${1:-600}
CONNECTIONS=${2:-1000000}
INTERVAL=${3:-20000}
KILL_AT=${KILL_AT:-}
RAMP_FLAG=--updates-after-ramp
[ -z "${UPDATES_DURING_RAMP:-}" ] || RAMP_FLAG=
BIN=$ROOT/target/release
CONFIG=$ROOT/bench/mass/c1m.toml
OUT=$ROOT/var/bench/c1m
NS=throng-c1m
cd "$ROOT"
if [ -z "${C1M_IN_NETNS:-}" ]; then
    [ -x "$BIN/bench" ] && [ -x "$BIN/massd" ] && [ -x "$BIN/tune" ] ||
        cargo build --release -p bench -p massd -p tuning
    rm -rf "$OUT" && mkdir -p "$OUT"
    # In the initial namespace: the fleet's cannot see the global knobs
    # (tcp_mem, tcp_max_orphans, netdev_max_backlog). Exit 0: all good; 3:
    # only the per-process open-file limit, which the fleet works around
    # with many processes. Anything else: say what is short.
    set +e
    "$BIN/tune" check --profile mass >"$OUT/tune-check.txt"
    code=$?
    set -e
    if [ "$code" != 0 ] && [ "$code" != 3 ]; then
        cat "$OUT/tune-check.txt" >&2
        echo "the kernel is short of the mass profile: run target/release/tune apply --profile mass (root)" >&2
        exit 1
    fi
    [ "$(cat /proc/sys/net/ipv4/tcp_child_ehash_entries)" != 0 ] ||
        echo "net.ipv4.tcp_child_ehash_entries is 0: the namespace shares the boot-sized table (tune apply --profile mass sets it)" >&2
    ip netns del "$NS" 2>/dev/null || true
    ip netns add "$NS"
    trap 'ip netns del "$NS" 2>/dev/null || true' EXIT
    ip -n "$NS" link set lo up
    # The per-namespace knobs; global ones it may not write here were
    # checked above.
    ip netns exec "$NS" sysctl -q -e -p "$ROOT/tuning/profiles/mass/sysctl.d/60-throng-mass.conf" 2>/dev/null || true
    echo "fleet in netns $NS: $(ip netns exec "$NS" cat /proc/sys/net/ipv4/tcp_ehash_entries) established-hash buckets (the initial namespace: $(cat /proc/sys/net/ipv4/tcp_ehash_entries))" >&2
    set +e
    C1M_IN_NETNS=1 ip netns exec "$NS" "$ROOT/bench/c1m.sh" "$@"
    code=$?
    # Whatever is still inside (a client or server the inner run left on
    # an error) goes with the namespace, not into an unnamed one.
    ip netns pids "$NS" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    exit $code
fi
mkdir -p "$OUT/record"

LOAD=
trap '[ -n "$LOAD" ] && kill "$LOAD" 2>/dev/null; pkill -f "massd client.*c1m.toml" 2>/dev/null; "$BIN/massd" stop --config "$CONFIG" >/dev/null 2>&1 || true' EXIT

kernel_snapshot() { # NAME: meminfo, sockstat and the socket slabs
    cp /proc/meminfo "$OUT/meminfo-$1.txt"
    cp /proc/net/sockstat "$OUT/sockstat-$1.txt"
    grep -E '^(TCP|tcp_bind_bucket|sock_inode_cache|dentry|filp|eventpoll_epi|eventpoll_pwq|request_sock_TCP|skbuff_head_cache|kmalloc-(64|128|192|256|512|1k)|inode_cache|nf_conntrack|pid) ' \
        /proc/slabinfo >"$OUT/slabinfo-$1.txt" 2>/dev/null || true
}
rss_of() { # COMM-pattern ROLE: summed RSS in KiB of massd processes of a role
    local total=0 pid
    for pid in $(pgrep -f "massd $1.*c1m.toml"); do
        total=$((total + $(awk '/^VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)))
    done
    echo "$total"
}
cpu_line() { awk '/^cpu / {print $2, $3, $4, $5, $6, $7, $8}' /proc/stat; }
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN {printf "%.2f", b - a}'; }

kernel_snapshot before
start=$(date +%s.%N)
"$BIN/massd" launch --config "$CONFIG" --no-clients >"$OUT/launch.txt"
launched=$(date +%s.%N)
echo "launched $(grep -c '"role": "server"' "$ROOT/var/massd-c1m/state.json") server processes in $(awk -v a="$start" -v b="$launched" 'BEGIN {printf "%.1f", b - a}') s" | tee "$OUT/notes.txt" >&2
"$BIN/massd" ctl --config "$CONFIG" stats >"$OUT/stats-idle.txt"
server_idle_kib=$(rss_of serve)
kernel_snapshot idle

echo "C1M: $CONNECTIONS connections, an UPDATE every $INTERVAL ms, $SECONDS_PER_RUN s" >&2
"$BIN/bench" run mass --mass-config "$CONFIG" --connections "$CONNECTIONS" --interval-ms "$INTERVAL" \
    --duration "$SECONDS_PER_RUN" --threads 1 --record-dir "$OUT/record" --label c1m --json \
    $RAMP_FLAG \
    >"$OUT/report.json" 2>"$OUT/run.err" &
LOAD=$!

# The ramp: until the servers hold every connection (or 20 minutes).
ramp_start=$(date +%s.%N)
for _ in $(seq 1 2400); do
    # Both ends are TCP sockets in use; the 60 listeners are not counted.
    held=$(awk '/^TCP:/ {print $3 - 60}' /proc/net/sockstat)
    [ "$held" -ge $((2 * CONNECTIONS)) ] && break
    kill -0 "$LOAD" 2>/dev/null || break
    sleep 0.5
done
echo "sockets in use reached $held $(since "$ramp_start") s after the clients started" | tee -a "$OUT/notes.txt" >&2
kill -0 "$LOAD" 2>/dev/null || echo "the run ended before every connection was up: the figures below are of the ramp" | tee -a "$OUT/notes.txt" >&2

if [ -n "$KILL_AT" ]; then
    sleep "$KILL_AT"
    "$BIN/massd" ctl --config "$CONFIG" stats >"$OUT/stats-before-kill.txt" || true
    victim=$(pgrep -f 'massd serve.*c1m.toml' | head -n 1)
    echo "killing server process $victim $KILL_AT s after the ramp (its connections: stats-before-kill.txt)" | tee -a "$OUT/notes.txt" >&2
    kill -9 "$victim"
fi

# The steady state: a minute of CPU, then the memory and the console.
sleep 30
c0=$(cpu_line)
sleep 60
c1=$(cpu_line)
kill -0 "$LOAD" 2>/dev/null ||
    echo "the clients ended before the steady-state snapshot: its memory and CPU figures are not of the run (give SECONDS > KILL_AT + 100)" | tee -a "$OUT/notes.txt" >&2
kernel_snapshot during
server_kib=$(rss_of serve)
client_kib=$(rss_of client)
t0=$(date +%s.%N)
"$BIN/massd" ctl --config "$CONFIG" stats >"$OUT/stats-during.txt" || true
echo "ctl stats over the fleet took $(since "$t0") s" | tee -a "$OUT/notes.txt" >&2

wait "$LOAD" || { cat "$OUT/run.err" >&2; exit 1; }
"$BIN/massd" ctl --config "$CONFIG" stats >"$OUT/stats-after.txt" || true

# The dump against what the clients sent (key, server, count).
t0=$(date +%s.%N)
"$BIN/massd" ctl --config "$CONFIG" dump --out "$OUT/dump.txt" >"$OUT/dump-said.txt" || true
echo "ctl dump --out: $(cat "$OUT/dump-said.txt") in $(since "$t0") s" | tee -a "$OUT/notes.txt" >&2
cut -d' ' -f1-3 "$OUT/dump.txt" | LC_ALL=C sort >"$OUT/dump-sorted.txt"
cat "$OUT/record"/client-*.txt | LC_ALL=C sort >"$OUT/record-sorted.txt"
if cmp -s "$OUT/dump-sorted.txt" "$OUT/record-sorted.txt"; then
    echo "dump equals the clients' records: $(wc -l <"$OUT/record-sorted.txt") entries" | tee -a "$OUT/notes.txt" >&2
else
    echo "dump and records differ: $(LC_ALL=C comm -3 "$OUT/dump-sorted.txt" "$OUT/record-sorted.txt" | wc -l) lines (dump $(wc -l <"$OUT/dump-sorted.txt"), records $(wc -l <"$OUT/record-sorted.txt"))" | tee -a "$OUT/notes.txt" >&2
fi

t0=$(date +%s.%N)
"$BIN/massd" stop --config "$CONFIG" >"$OUT/stop.txt" 2>&1
took=$(since "$t0")
left=$(pgrep -fc 'massd serve.*c1m.toml' || true)
echo "massd stop took $took s; $left server processes left" | tee -a "$OUT/notes.txt" >&2
trap - EXIT

python3 - "$OUT" "$CONNECTIONS" "$INTERVAL" "$server_idle_kib" "$server_kib" "$client_kib" "$c0" "$c1" <<'PY' | tee "$OUT/summary.txt"
import json, sys
out, conns, interval = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
idle_kib, server_kib, client_kib = (int(x) for x in sys.argv[4:7])
c0, c1 = ([int(x) for x in a.split()] for a in sys.argv[7:9])
r = json.loads(open(f"{out}/report.json").read().strip().splitlines()[-1])

def meminfo(name):
    return {l.split(':')[0]: int(l.split()[1]) for l in open(f"{out}/meminfo-{name}.txt")}

def slabs(name):
    rows = {}
    for line in open(f"{out}/slabinfo-{name}.txt"):
        f = line.split()
        rows[f[0]] = int(f[1]) * int(f[3])  # active objects x object size
    return rows

def sockstat(name):
    for line in open(f"{out}/sockstat-{name}.txt"):
        if line.startswith("TCP:"):
            f = line.split()
            return {f[i]: int(f[i + 1]) for i in range(1, len(f), 2)}

m0, m1 = meminfo("idle"), meminfo("during")
s0, s1 = slabs("idle"), slabs("during")
k0, k1 = sockstat("idle"), sockstat("during")
sockets = k1["inuse"] - k0["inuse"]
used = lambda m: m["MemTotal"] - m["MemAvailable"]
d = [b - a for a, b in zip(c0, c1)]
busy = sum(d) - d[3] - d[4]
up = r["connections_up"]
print(f"C1M: {r['connections']} connections, {r['processes']} client processes, an UPDATE every {interval} ms")
print(f"held: all up after {r.get('ramp_s')} s; fewest after that {r.get('held_min')} (peak {up}); "
      f"the whole fleet up together for {r.get('held_together_s')} s"
      f"{' (no UPDATE until then)' if r.get('updates_after_ramp') else ''}")
print(f"updates/s: {r['throughput']:.0f} (median second) against {conns * 1000 / interval:.0f} scheduled")
l = r["latency_ms"]
print(f"latency ms: p50 {l['p50']:.2f}  p99 {l['p99']:.2f}  p999 {l['p999']:.2f}  max {l['max']:.2f}")
print(f"lost {r['lost']}  doubled {r['doubled']}  reconnects {r['reconnects']}  errors {r['errors']}  unanswered {r['unanswered']}")
print(f"server RSS: {idle_kib/1024:.1f} MiB idle fleet, {server_kib/1024:.1f} MiB with the connections: "
      f"{(server_kib - idle_kib) * 1024 / max(up, 1):.0f} B per connection")
print(f"client RSS: {client_kib/1024:.1f} MiB: {client_kib * 1024 / max(up, 1):.0f} B per connection")
print(f"kernel: {sockets} more TCP sockets in use; memory used {(used(m1) - used(m0)) / 1024:.0f} MiB more "
      f"({(used(m1) - used(m0)) * 1024 / max(sockets, 1):.0f} B per socket, user space included), "
      f"Slab {(m1['Slab'] - m0['Slab']) / 1024:.0f} MiB more ({(m1['Slab'] - m0['Slab']) * 1024 / max(sockets, 1):.0f} B per socket), "
      f"TCP buffers {k1['mem'] * 4} KiB")
for name in sorted(s1, key=lambda n: -(s1[n] - s0.get(n, 0))):
    grown = s1[name] - s0.get(name, 0)
    if grown > 1 << 20:
        print(f"  slab {name:<20} +{grown / 1048576:8.1f} MiB  {grown / max(sockets, 1):6.0f} B per socket")
print(f"CPU over 60 s of the steady state: user {100 * (d[0] + d[1]) / sum(d):.1f} %, "
      f"system {100 * d[2] / sum(d):.1f} %, softirq {100 * d[6] / sum(d):.1f} %, idle {100 * d[3] / sum(d):.1f} % "
      f"(kernel {100 * (d[2] + d[5] + d[6]) / max(busy, 1):.0f} % of the busy time)")
PY
line=$(tail -n 1 "$OUT/report.json")
echo "$line" >>"$ROOT/var/bench/c1m.jsonl"
