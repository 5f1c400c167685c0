#!/usr/bin/env bash
# webd's benchmark with wrk: GET /login against nginx serving the same bytes
# (config generated here, nginx started and stopped here), log-in through
# 10,000 seeded users, /home with a session, all at 1,000 connections, then
# 10,000 keep-alive connections held by one webd (bench run http-static).
# Needs the stack (`make up`). Usage: bench/http-vs-nginx.sh [SECONDS] [REPEATS]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECS=${1:-10}
REPEATS=${2:-3}
BIN=$ROOT/target/release
OUT=$ROOT/var/bench
NGX=$OUT/nginx
NGINX_PORT=17080
cd "$ROOT"
"$ROOT/deploy/deps.sh" bench
set -a
. "$ROOT/var/stack.env"
set +a
mkdir -p "$NGX/html" "$NGX/logs"

# The same bytes: the body webd answers to GET /login.
curl -s http://127.0.0.1:9090/login >"$NGX/html/login.html"
cat >"$NGX/nginx.conf" <<CONF
worker_processes auto;
pid $NGX/nginx.pid;
error_log $NGX/logs/error.log warn;
events { worker_connections 20000; }
http {
    access_log off;
    keepalive_requests 10000000;
    server {
        listen 127.0.0.1:$NGINX_PORT reuseport backlog=4096;
        location = /login {
            default_type "text/html; charset=utf-8";
            alias $NGX/html/login.html;
        }
    }
}
CONF
nginx -c "$NGX/nginx.conf" -p "$NGX"
trap 'nginx -c "$NGX/nginx.conf" -p "$NGX" -s stop 2>/dev/null || true' EXIT
sleep 0.5

measure() { # label url script
    local line
    line=$(wrk -t2 -c1000 -d"${SECS}s" --timeout 10s -s "$3" "$2" 2>&1 | tee -a "$OUT/wrk.log" | grep -E '^(Requests/sec|throng:)' | tr '\n' ' ')
    echo "$1 $line"
}

: >"$OUT/wrk.log"
echo "== GET /login, webd vs nginx, -c1000, ${SECS}s x $REPEATS (alternating)"
for ((i = 1; i <= REPEATS; i++)); do
    measure "webd " http://127.0.0.1:9090 bench/wrk/static.lua
    measure "nginx" "http://127.0.0.1:$NGINX_PORT" bench/wrk/static.lua
done

"$BIN/bench" seed --users 10000 >/dev/null
echo "== warming the fast verifiers of the 10,000 users (120 s sign-in sweep)"
"$BIN/bench" run rpc-signin --connections 100 --duration 120 --quiet >/dev/null
echo "== POST /login cycling through 10,000 users, -c1000"
for ((i = 1; i <= REPEATS; i++)); do
    measure "login" http://127.0.0.1:9090 bench/wrk/login.lua
done

SESSION=$(curl -s -o /dev/null -D - -X POST http://127.0.0.1:9090/login \
    -H 'Cookie: throng_csrf=0123456789abcdef0123456789abcdef' \
    --data 'csrf=0123456789abcdef0123456789abcdef&username=user00000001&password=seed-password-0001' \
    | sed -n 's/^Set-Cookie: throng_session=\([^;]*\).*/\1/p' | tr -d '\r')
export SESSION
echo "== GET /home with a session, -c1000"
for ((i = 1; i <= REPEATS; i++)); do
    measure "home " http://127.0.0.1:9090 bench/wrk/home.lua
done

echo "== 10,000 keep-alive connections on one webd (bench run http-static)"
"$BIN/bench" run http-static --connections 10000 --duration "$SECS" --json --quiet | tail -n 1
