#!/usr/bin/env python3
"""Turns bench/syscalls-vs-redis.sh's perf-stat CSV into one Markdown table:
per server and connection count, the medians over repeats of requests/s and,
per request, system calls, epoll_wait calls, reads, writes, context switches
and CPU microseconds. A request count is the load's throughput times the
perf window in seconds (the second argument)."""

import csv
import statistics
import sys
from collections import defaultdict

READS = ("syscalls:sys_enter_read", "syscalls:sys_enter_recvfrom")
WRITES = ("syscalls:sys_enter_write", "syscalls:sys_enter_sendto", "syscalls:sys_enter_writev")


def main(path, window_s):
    runs = defaultdict(lambda: defaultdict(dict))
    for row in csv.DictReader(open(path)):
        key = (row["server"], int(row["connections"]))
        run = runs[key][row["repeat"]]
        run["rate"] = float(row["requests_per_s"])
        run[row["event"]] = float(row["count"])

    def per_request(run, events):
        requests = run["rate"] * window_s
        return sum(run.get(e, 0.0) for e in events) / requests if requests else float("nan")

    columns = [
        ("syscalls", ("raw_syscalls:sys_enter",)),
        ("epoll_wait", ("syscalls:sys_enter_epoll_wait",)),
        ("reads", READS),
        ("writes", WRITES),
        ("ctx switches", ("context-switches",)),
        ("sleeps", ("voluntary-switches",)),
        ("preempted", ("involuntary-switches",)),
    ]
    print("| server | conns | requests/s | " + " | ".join(c for c, _ in columns) + " | CPU µs |")
    print("|---|---:|---:|" + "---:|" * len(columns) + "---:|")
    for (server, conns) in sorted(runs, key=lambda k: (k[1], k[0])):
        reps = list(runs[(server, conns)].values())
        rate = statistics.median(r["rate"] for r in reps)
        cells = []
        for _, events in columns:
            cells.append(statistics.median(per_request(r, events) for r in reps))
        # task-clock is in milliseconds of CPU over the window.
        cpu = statistics.median(
            r.get("task-clock", 0.0) * 1000.0 / (r["rate"] * window_s) for r in reps if r["rate"]
        )
        print(
            f"| {server} | {conns} | {rate:,.0f} | "
            + " | ".join(f"{c:.3f}" for c in cells)
            + f" | {cpu:.2f} |"
        )


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 5.0)
