"""The console's views against a large history: how long each page of
/admin (and the analysis as JSON) takes through webd, with the login
records `bench seed --login-records` made present. A benchmark, not a
test: it prints a table of medians and writes one JSON line to
var/bench/console.jsonl.

Usage (the stack up, users and records seeded):
    target/release/bench seed --users 10000000 --login-records 50000000
    var/venv/bin/python bench/console.py [--repeats 7] [--web 127.0.0.1:9090]

It makes user00000001 an admin (`authd admin grant`, with the stack's
config), signs in as it with its seeded password through the real log-in
form, and times every view with Python's http.client (a client nobody here
wrote), each `--repeats` times, reporting the median and the slowest.
"""

import argparse
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def stack_env():
    env = dict(os.environ)
    with open(os.path.join(ROOT, "var", "stack.env")) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                k, v = line.split("=", 1)
                env[k] = v
    return env


class Session:
    """Cookies and requests against webd, one connection per request."""

    def __init__(self, web):
        self.host, self.port = web.rsplit(":", 1)
        self.cookies = {}

    def request(self, method, path, form=None):
        conn = http.client.HTTPConnection(self.host, int(self.port), timeout=30)
        headers = {"User-Agent": "throng-console-bench/1"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        took = time.perf_counter() - started
        for header, value in resp.getheaders():
            if header.lower() == "set-cookie":
                pair = value.split(";", 1)[0]
                name, _, val = pair.partition("=")
                if "Max-Age=0" in value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = val
        conn.close()
        return resp.status, data.decode("utf-8", "replace"), took


def csrf(html):
    m = re.search(r'name="csrf" value="([0-9a-f]{32})"', html)
    if not m:
        sys.exit("no CSRF field on the page")
    return m.group(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--web", default="127.0.0.1:9090")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--user", default="user00000001")
    ap.add_argument("--password", default="seed-password-0001")
    args = ap.parse_args()

    env = stack_env()
    grant = subprocess.run(
        [os.path.join(ROOT, "target/release/authd"), "--config",
         os.path.join(ROOT, "deploy/config/authd.toml"), "admin", "grant", args.user, "admin"],
        env=env, capture_output=True, text=True)
    if grant.returncode != 0:
        sys.exit(f"authd admin grant failed: {grant.stderr}")

    s = Session(args.web)
    status, page, _ = s.request("GET", "/login")
    status, _, _ = s.request("POST", "/login", {
        "csrf": csrf(page), "username": args.user, "password": args.password})
    if status != 303:
        sys.exit(f"log-in as {args.user} answered {status}")

    count = subprocess.run(
        ["mariadb", f"--socket={ROOT}/var/mariadb/mysqld.sock", "-uroot", "-N", "-e",
         "SELECT COUNT(*) FROM throng.login_records; SELECT COUNT(*) FROM throng.users"],
        capture_output=True, text=True).stdout.split()
    records, users = (int(count[0]), int(count[1])) if len(count) == 2 else (None, None)

    # The busiest hour of the seeded month, for the per-hour lists.
    status, body, _ = s.request("GET", "/admin/insight.json?hours=168")
    by_hour = json.loads(body)["by_hour"] if status == 200 else []
    busy = max(by_hour, key=lambda h: h["attempts"])["hour"] if by_hour else 0
    _, found, _ = s.request("GET", "/admin/users?q=user0000004")
    m = re.search(r"/admin/user\?id=([0-9a-f]{32})", found)
    some_user = m.group(1) if m else "0" * 32

    views = [
        ("console", "/admin"),
        ("find by username prefix", "/admin/users?q=user0999"),
        ("find by exact username", "/admin/users?q=user09999999"),
        ("an account", f"/admin/user?id={some_user}"),
        ("audit log", "/admin/audit"),
        ("analysis, this hour, 24 h", "/admin/insight?hours=24"),
        ("analysis, busiest hour, 7 days", f"/admin/insight?hours=168&hour={busy}"),
        ("analysis JSON, busiest hour, 24 h", f"/admin/insight.json?hours=24&hour={busy}"),
        ("own security page", "/security"),
    ]
    rows = []
    for name, path in views:
        times = []
        for _ in range(args.repeats):
            status, _, took = s.request("GET", path)
            if status != 200:
                sys.exit(f"{path} answered {status}")
            times.append(took * 1000)
        rows.append({"view": name, "path": path, "median_ms": statistics.median(times),
                     "max_ms": max(times)})
    print(f"login_records {records}, users {users}, {args.repeats} runs each")
    print(f"{'view':<36} {'median ms':>10} {'max ms':>10}")
    for r in rows:
        print(f"{r['view']:<36} {r['median_ms']:>10.1f} {r['max_ms']:>10.1f}")
    os.makedirs(os.path.join(ROOT, "var", "bench"), exist_ok=True)
    with open(os.path.join(ROOT, "var", "bench", "console.jsonl"), "a") as f:
        f.write(json.dumps({"at": time.time(), "login_records": records, "users": users,
                            "repeats": args.repeats, "views": rows}) + "\n")


if __name__ == "__main__":
    main()
