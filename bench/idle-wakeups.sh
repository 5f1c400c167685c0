#!/bin/sh
# Wake-ups per second of each thread of an idle daemon: the growth of its
# voluntary context switches (each return from epoll_wait that slept is
# one) over SECONDS, read from /proc. An idle reactor should sleep until
# something happens, not wake on a fixed tick.
#
#   bench/idle-wakeups.sh PID [SECONDS]
set -eu
pid=$1
secs=${2:-10}
snapshot() {
    for task in /proc/"$pid"/task/*; do
        printf '%s %s %s\n' "${task##*/}" "$(cat "$task/comm")" \
            "$(awk '/^voluntary_ctxt_switches/ {print $2}' "$task/status")"
    done
}
before=$(snapshot)
sleep "$secs"
after=$(snapshot)
printf '%s\n' "$before" | while read -r tid name count; do
    now=$(printf '%s\n' "$after" | awk -v t="$tid" '$1 == t {print $3}')
    [ -n "$now" ] || continue
    awk -v n="$name" -v a="$count" -v b="$now" -v s="$secs" \
        'BEGIN { printf "%-12s %8.1f wake-ups/s\n", n, (b - a) / s }'
done
