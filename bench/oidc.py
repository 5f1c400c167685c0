"""Throng as an OpenID provider under load, with wrk, against the goals
of issue 18: userinfo and introspection >= 30,000/s at 100 connections,
the authorization step of a signed-in user whose consent is remembered
>= 10,000/s, code-for-token exchanges >= 2,000/s with RS256 ID tokens and
>= 10,000/s with EdDSA. A benchmark, not a test: it prints a table of
medians over --repeats runs and writes one JSON line to
var/bench/oidc.jsonl.

Usage (the stack up: make up, release build):
    var/venv/bin/python bench/oidc.py [--repeats 3] [--duration 8]

It registers two confidential clients (RS256 and EdDSA) with `authd client
add` (the stack's config), signs up and logs in a user through the real
forms, consents once per client, and gets an access token through the code
flow (Python's http.client). Then, side by side in each repeat: wrk on
userinfo (Bearer), introspection (Basic), the authorization step (303 with
a code), and, per algorithm, the token endpoint exchanging codes that an
authorization run just made (bench/wrk/oidc_*.lua; codes live 60 s).
At the end it removes its clients, which deletes their grants and tokens.
"""

import argparse
import base64
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

from console import stack_env

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REDIRECT = "http://127.0.0.1:9/cb"
USER, PASSWORD = "oidc-bench", "oidc-bench-password"


class Browser:
    def __init__(self, host, port):
        self.host, self.port, self.cookies = host, port, {}

    def send(self, method, path, form=None, headers=None):
        c = http.client.HTTPConnection(self.host, self.port, timeout=30)
        h = dict(headers or {})
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            h["Content-Type"] = "application/x-www-form-urlencoded"
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        text = r.read().decode("utf-8", "replace")
        for k, v in r.getheaders():
            if k.lower() == "set-cookie":
                name, value = v.split(";", 1)[0].split("=", 1)
                self.cookies[name] = value
        c.close()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), text


def hidden(text):
    import html
    return {k: html.unescape(v) for k, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', text)}


def register(env, alg):
    out = subprocess.run(
        [os.path.join(ROOT, "target/release/authd"), "--config", os.path.join(ROOT, "deploy/config/authd.toml"),
         "client", "add", "--name", f"bench {alg}", "--redirect-uri", REDIRECT, "--alg", alg],
        env=env, capture_output=True, text=True, check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def remove_clients(clients):
    """Removes the clients a run registered, and with them (the foreign
    keys) every grant and refresh token it made. Left behind, they grew
    the OpenID tables by about 250,000 rows of each per run; past the
    buffer pool that slowed every later run's inserts (bench/RESULTS.md)."""
    env = stack_env()
    for client in clients.values():
        subprocess.run(
            [os.path.join(ROOT, "target/release/authd"), "--config", os.path.join(ROOT, "deploy/config/authd.toml"),
             "client", "remove", client["client_id"]],
            env=env, capture_output=True, text=True, check=True,
        )


def basic(client):
    raw = f"{client['client_id']}:{client['client_secret']}"
    return base64.b64encode(raw.encode()).decode()


def authorize_query(client):
    return urllib.parse.urlencode({
        "response_type": "code", "client_id": client["client_id"], "redirect_uri": REDIRECT,
        "scope": "openid profile", "state": "bench",
    })


def wrk(script, env_extra, duration, host, threads=2, connections=100):
    env = dict(os.environ)
    env.update(env_extra)
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "-s", script, f"http://{host}"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    m = re.search(r"throng: (\d+) requests, (\d+) answers .*p50 ([\d.]+) ms, p99 ([\d.]+) ms", out)
    return {"rate": rate, "requests": int(m.group(1)), "errors": int(m.group(2)),
            "p50_ms": float(m.group(3)), "p99_ms": float(m.group(4))}


def sign_in_and_consent(web):
    """Registers an RS256 and an EdDSA client, signs a user up and in
    through the real forms, consents once per client and runs one code flow
    each. Gives the clients, the session cookie and the tokens by alg."""
    host, port = web.split(":")
    env = stack_env()
    clients = {alg: register(env, alg) for alg in ("RS256", "EdDSA")}

    b = Browser(host, int(port))
    _, _, page = b.send("GET", "/signup")
    b.send("POST", "/signup", {"csrf": hidden(page)["csrf"], "username": USER, "nickname": USER,
                               "password": PASSWORD, "password2": PASSWORD})
    _, _, page = b.send("GET", "/login")
    status, _, _ = b.send("POST", "/login", {"csrf": hidden(page)["csrf"], "username": USER, "password": PASSWORD})
    assert status == 303, f"log-in: {status}"
    session = b.cookies["throng_session"]

    tokens = {}
    for alg, client in clients.items():
        status, headers, page = b.send("GET", "/oauth/authorize?" + authorize_query(client))
        if status == 200:
            fields = hidden(page)
            fields["decision"] = "allow"
            status, headers, page = b.send("POST", "/oauth/authorize", fields)
        assert status == 303, f"authorize: {status} {page[:200]}"
        code = urllib.parse.parse_qs(urllib.parse.urlparse(headers["location"]).query)["code"][0]
        status, _, answer = b.send(
            "POST", "/oauth/token", {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
            headers={"Authorization": "Basic " + basic(client)},
        )
        assert status == 200, answer
        tokens[alg] = json.loads(answer)
    return clients, session, tokens


def make_codes(client, session, prefix, duration, web):
    """One authorization run writing its codes to prefix.N; gives how many."""
    made = wrk("bench/wrk/oidc_authorize.lua",
               {"SESSION": session, "QUERY": authorize_query(client), "CODES_OUT": prefix},
               duration, web)
    return made["requests"] - made["errors"]


def exchange_codes(client, prefix, duration, web):
    """One token-endpoint run exchanging the codes in prefix.N (then
    deleted); gives the run."""
    got = wrk("bench/wrk/oidc_token.lua",
              {"BASIC": basic(client), "REDIRECT": REDIRECT, "CODES": prefix, "THREADS": "2"},
              duration, web)
    for f in range(2):
        try:
            os.remove(f"{prefix}.{f}")
        except FileNotFoundError:
            pass
    return got


def exchange_run(client, session, prefix, duration, web):
    """Codes from an authorization run, then an exchange run half as long
    (codes are made about three times faster than exchanged)."""
    made = make_codes(client, session, prefix, duration + 4, web)
    got = exchange_codes(client, prefix, max(2, duration // 2), web)
    got["codes_made"] = made
    return got


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--web", default="127.0.0.1:9090")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--duration", type=int, default=8)
    args = ap.parse_args()
    clients, session, tokens = sign_in_and_consent(args.web)
    try:
        rs = clients["RS256"]
        access = tokens["RS256"]["access_token"]
        runs = {k: [] for k in ("userinfo", "introspect", "authorize", "token_RS256", "token_EdDSA")}
        codes_dir = tempfile.mkdtemp(prefix="oidc-codes-")
        for r in range(args.repeats):
            runs["userinfo"].append(wrk("bench/wrk/oidc_userinfo.lua", {"ACCESS_TOKEN": access}, args.duration, args.web))
            runs["introspect"].append(wrk("bench/wrk/oidc_introspect.lua", {"BASIC": basic(rs), "TOKEN": access}, args.duration, args.web))
            runs["authorize"].append(wrk("bench/wrk/oidc_authorize.lua", {"SESSION": session, "QUERY": authorize_query(rs)}, args.duration, args.web))
            for alg, client in clients.items():
                prefix = os.path.join(codes_dir, f"{alg}-{r}")
                runs[f"token_{alg}"].append(exchange_run(client, session, prefix, args.duration, args.web))
            print(f"repeat {r + 1}: " + ", ".join(f"{k} {v[-1]['rate']:.0f}/s" for k, v in runs.items()), flush=True)
    finally:
        remove_clients(clients)

    goals = {"userinfo": 30000, "introspect": 30000, "authorize": 10000, "token_RS256": 2000, "token_EdDSA": 10000}
    print("\n| what | median /s | runs /s | p50 ms | p99 ms | errors | goal /s |")
    print("|---|---:|---|---:|---:|---:|---:|")
    summary = {}
    for k, v in runs.items():
        med = statistics.median(x["rate"] for x in v)
        summary[k] = {"median": med, "runs": [x["rate"] for x in v]}
        each = " / ".join(format(x["rate"], ",.0f") for x in v)
        print(f"| {k} | {med:,.0f} | {each} | "
              f"{statistics.median(x['p50_ms'] for x in v):.2f} | {statistics.median(x['p99_ms'] for x in v):.2f} | "
              f"{sum(x['errors'] for x in v)} | {goals[k]:,} |")
    os.makedirs(os.path.join(ROOT, "var", "bench"), exist_ok=True)
    with open(os.path.join(ROOT, "var", "bench", "oidc.jsonl"), "a") as f:
        f.write(json.dumps({"at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "runs": runs}) + "\n")


if __name__ == "__main__":
    sys.exit(main())
