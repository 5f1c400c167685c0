#!/usr/bin/env bash
# Where one reactor thread's time goes, side by side with one Redis thread:
# the core ping server (one reactor) against redis-server PING, and massd
# (one reactor) against redis-server INCR, each at 1, 50, 100 and 1,000
# connections, under the same load client. Per request it counts, from the
# kernel's own tracepoints while the load runs (`perf stat -p`, which costs
# the server almost nothing, unlike strace): system calls, `epoll_wait`
# calls, reads and writes, context switches and CPU time. A second, shorter
# pass under `strace -c -f` gives the mix of calls (strace slows the server
# several times over, so its per-request figures are the slowed server's),
# and a third records where user time goes (`perf record`, cpu-clock) at 50
# connections.
# Usage: bench/syscalls-vs-redis.sh [SECONDS] [REPEATS]   (defaults 8 and 1)
#   CONNECTIONS="50 100" PASSES="stat strace profile" choose the counts and passes;
#   SERVER_CPUS=1 pins the servers (not the load) to CPU 1.
# Writes var/bench/syscalls/*.{csv,txt} and prints one table.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECONDS_PER_RUN=${1:-8}
REPEATS=${2:-1}
BIN=$ROOT/target/release
OUT=$ROOT/var/bench/syscalls
PING_PORT=17071
MASS_PORT=17677
REDIS_PORT=17380
CONNECTIONS=${CONNECTIONS:-1 50 100 1000}
# Which passes run: perf stat, strace, perf record.
PASSES=${PASSES:-stat strace profile}
# SERVER_CPUS=1 pins every server to those CPUs (taskset), the load stays free.
PIN=()
[ -n "${SERVER_CPUS:-}" ] && PIN=(taskset -c "$SERVER_CPUS")
mkdir -p "$OUT"
[ -x "$BIN/bench" ] && [ -x "$BIN/massd" ] || (cd "$ROOT" && cargo build --release -p bench -p massd)
command -v redis-server >/dev/null || "$ROOT/deploy/deps.sh" stores
command -v perf >/dev/null && command -v strace >/dev/null ||
    { apt-get update -qq && apt-get install -y -qq linux-perf strace >/dev/null; }
perf stat -e raw_syscalls:sys_enter -o /dev/null true 2>/dev/null ||
    { echo "perf cannot read tracepoints here: run as root (or lower kernel.perf_event_paranoid)" >&2; exit 1; }

PIDS=""
cleanup() {
    for pid in $PIDS; do kill "$pid" 2>/dev/null || true; done
    REDISCLI_AUTH=${THRONG_BENCH_REDIS_PASSWORD:-} redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
}
trap cleanup EXIT

"${PIN[@]}" "$BIN/bench" serve-ping --listen "127.0.0.1:$PING_PORT" --threads 1 >"$OUT/ping.log" 2>&1 &
PING_PID=$!
PIDS="$PIDS $PING_PID"
"${PIN[@]}" "$BIN/massd" serve --config "$ROOT/deploy/config/mass.toml" --set log_switch=false \
    --set "reactor.listen=[\"127.0.0.1:$MASS_PORT\"]" --threads 1 \
    --set 'admin.listen="127.0.0.1:17690"' --set 'admin.token="bench"' \
    --set client_num_per_host=1000 >"$OUT/massd.log" 2>&1 &
MASS_PID=$!
PIDS="$PIDS $MASS_PID"
THRONG_BENCH_REDIS_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr '+/' 'xy')
export THRONG_BENCH_REDIS_PASSWORD
printf 'requirepass %s\n' "$THRONG_BENCH_REDIS_PASSWORD" | "${PIN[@]}" redis-server - --bind 127.0.0.1 \
    --port "$REDIS_PORT" --save '' --appendonly no --maxclients 19000 --tcp-backlog 4096 \
    --io-threads 1 --daemonize yes --logfile "$OUT/redis.log" --pidfile "$OUT/redis.pid"
for _ in $(seq 50); do
    REDISCLI_AUTH=$THRONG_BENCH_REDIS_PASSWORD redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && break
    sleep 0.1
done
REDIS_PID=$(cat "$OUT/redis.pid")

# server label, pid, and the load command that drives it
load() { # label connections seconds
    case $1 in
    ping) "$BIN/bench" run ping --target "127.0.0.1:$PING_PORT" --connections "$2" --duration "$3" --json --quiet ;;
    redis-ping) "$BIN/bench" run resp-ping --target "127.0.0.1:$REDIS_PORT" --connections "$2" --duration "$3" --json --quiet ;;
    massd) "$BIN/bench" run mass --wire massd --target "127.0.0.1:$MASS_PORT" --connections "$2" --duration "$3" --json --quiet ;;
    redis-incr) "$BIN/bench" run mass --wire resp --target "127.0.0.1:$REDIS_PORT" --connections "$2" --duration "$3" --json --quiet ;;
    esac | tail -n 1
}
pid_of() {
    case $1 in ping) echo "$PING_PID" ;; massd) echo "$MASS_PID" ;; *) echo "$REDIS_PID" ;; esac
}
# Voluntary and involuntary context switches of all the process's threads
# (a voluntary one is a sleep: each is a wake-up later).
switches() {
    cat /proc/"$1"/task/*/status | awk '/^voluntary_ctxt/ { v += $2 } /^nonvoluntary_ctxt/ { n += $2 }
        END { print v, n }'
}
throughput() { python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["throughput"])'; }

EVENTS=raw_syscalls:sys_enter,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_read,syscalls:sys_enter_recvfrom
EVENTS=$EVENTS,syscalls:sys_enter_write,syscalls:sys_enter_sendto,syscalls:sys_enter_writev
EVENTS=$EVENTS,context-switches,cpu-migrations,task-clock
WINDOW=$((SECONDS_PER_RUN - 3))
[ "$WINDOW" -ge 1 ] || { echo "SECONDS must be at least 4" >&2; exit 1; }
RESULTS=$OUT/perf-stat.csv
# A run without the stat pass keeps the last one's figures.
[[ " $PASSES " == *" stat "* ]] && echo "server,connections,repeat,requests_per_s,event,count" >"$RESULTS"
for connections in $CONNECTIONS; do
    [[ " $PASSES " == *" stat "* ]] || break
    for ((i = 1; i <= REPEATS; i++)); do
        for server in ping redis-ping massd redis-incr; do
            echo "perf stat: $server, $connections connections, run $i/$REPEATS" >&2
            load "$server" "$connections" "$SECONDS_PER_RUN" >"$OUT/load.json" &
            LOAD=$!
            sleep 2
            before=$(switches "$(pid_of "$server")")
            perf stat -x, -e "$EVENTS" -p "$(pid_of "$server")" -o "$OUT/stat.txt" -- sleep "$WINDOW"
            after=$(switches "$(pid_of "$server")")
            wait "$LOAD"
            rate=$(throughput <"$OUT/load.json")
            {
                awk -F, '/^[0-9.]+,/ { printf "%s,%s\n", $3, $1 }' "$OUT/stat.txt"
                set -- $before $after
                echo "voluntary-switches,$(($3 - $1))"
                echo "involuntary-switches,$(($4 - $2))"
            } | sed "s/^/$server,$connections,$i,$rate,/" >>"$RESULTS"
        done
    done
done

# strace: the mix of calls, one short run per server at 50 and 1,000 connections.
for connections in 50 1000; do
    [[ " $PASSES " == *" strace "* ]] || break
    for server in ping redis-ping massd redis-incr; do
        echo "strace -c -f: $server, $connections connections" >&2
        load "$server" "$connections" 6 >"$OUT/load.json" &
        LOAD=$!
        sleep 2
        timeout -s INT 3 strace -c -f -p "$(pid_of "$server")" -o "$OUT/strace-$server-$connections.txt" || true
        wait "$LOAD"
        echo "requests/s under strace (whole run): $(throughput <"$OUT/load.json")" >>"$OUT/strace-$server-$connections.txt"
    done
done

# Where user time goes at 50 connections.
for server in ping redis-ping massd redis-incr; do
    [[ " $PASSES " == *" profile "* ]] || break
    echo "perf record: $server, 50 connections" >&2
    load "$server" 50 6 >/dev/null &
    LOAD=$!
    sleep 2
    perf record -q -e cpu-clock -F 2000 -p "$(pid_of "$server")" -o "$OUT/perf-$server.data" -- sleep 3 2>/dev/null
    wait "$LOAD"
    {
        echo "# share of samples by object (kernel vs user)"
        perf report -q -i "$OUT/perf-$server.data" --no-children --sort dso --stdio 2>/dev/null | sed '/^$/d' | head -6
        echo "# user-space symbols over 0.5 % of all samples"
        perf report -q -i "$OUT/perf-$server.data" --no-children --sort dso,symbol --percent-limit 0.5 \
            --stdio 2>/dev/null | grep -F '[.]' | head -15
    } >"$OUT/profile-$server.txt"
done

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr)"
echo "redis:   $(redis-server --version | cut -d' ' -f3)"
python3 "$ROOT/bench/syscalls-table.py" "$RESULTS" "$WINDOW"
echo "strace mixes: $OUT/strace-*.txt; profiles: $OUT/profile-*.txt"
