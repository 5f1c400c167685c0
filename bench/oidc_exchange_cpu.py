"""Where the CPU of an OpenID code exchange goes: per process (authd,
webd, MariaDB, Redis, wrk), the CPU time one EdDSA (or RS256) code-for-token
exchange costs, from the processes' CPU times (psutil) before and after a
wrk run of exchanges alone. A benchmark, not a test; it finds what to make
cheaper when the exchange rate of bench/oidc.py falls short.

Usage (the stack up: make up, release build):
    var/venv/bin/python bench/oidc_exchange_cpu.py [--alg EdDSA] [--repeats 3] [--duration 6]

Each repeat makes codes with an authorization run (not measured), then
exchanges them for --duration seconds at 100 connections. Prints one row
per repeat and the medians; the machine has 2 cores, so the sum of the
columns bounds the rate at 2 s of CPU per second.
"""

import argparse
import os
import statistics
import tempfile

import psutil

from oidc import ROOT, exchange_codes, make_codes, remove_clients, sign_in_and_consent

# The stack's daemons, by the pid files deploy/stack.sh writes.
DAEMONS = ("authd", "webd", "mariadb", "redis")


def daemon_processes():
    procs = {}
    for name in DAEMONS:
        with open(os.path.join(ROOT, "var", "run", f"{name}.pid")) as f:
            procs[name] = psutil.Process(int(f.read().strip()))
    return procs


def cpu_seconds(proc):
    t = proc.cpu_times()
    return t.user + t.system


def wrk_cpu_seconds():
    """CPU time of finished wrk children of this process."""
    t = psutil.Process().cpu_times()
    return t.children_user + t.children_system


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--web", default="127.0.0.1:9090")
    ap.add_argument("--alg", default="EdDSA", choices=("EdDSA", "RS256"))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--duration", type=int, default=6)
    args = ap.parse_args()
    clients, session, _ = sign_in_and_consent(args.web)
    try:
        client = clients[args.alg]
        procs = daemon_processes()
        codes_dir = tempfile.mkdtemp(prefix="oidc-cpu-")
        columns = DAEMONS + ("wrk",)
        rows = []
        print(f"| repeat | exchanges/s | errors | " + " | ".join(f"{c} µs" for c in columns) + " | sum µs |")
        print("|---:|---:|---:|" + "---:|" * (len(columns) + 1))
        for r in range(args.repeats):
            prefix = os.path.join(codes_dir, f"{args.alg}-{r}")
            make_codes(client, session, prefix, args.duration * 2, args.web)
            before = {n: cpu_seconds(p) for n, p in procs.items()}
            before["wrk"] = wrk_cpu_seconds()
            run = exchange_codes(client, prefix, args.duration, args.web)
            after = {n: cpu_seconds(p) for n, p in procs.items()}
            after["wrk"] = wrk_cpu_seconds()
            done = run["requests"] - run["errors"]
            per = {c: (after[c] - before[c]) * 1e6 / max(done, 1) for c in columns}
            rows.append((run["rate"], per))
            print(f"| {r + 1} | {run['rate']:,.0f} | {run['errors']} | "
                  + " | ".join(f"{per[c]:.1f}" for c in columns) + f" | {sum(per.values()):.1f} |", flush=True)
    finally:
        remove_clients(clients)
    med = {c: statistics.median(p[c] for _, p in rows) for c in columns}
    print(f"| median | {statistics.median(r for r, _ in rows):,.0f} | | "
          + " | ".join(f"{med[c]:.1f}" for c in columns) + f" | {sum(med.values()):.1f} |")


if __name__ == "__main__":
    main()
