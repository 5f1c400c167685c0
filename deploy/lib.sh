# Shared helpers of the deploy scripts: paths under ./var, pid files, port
# waits and secret generation. Sourced, never run.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VAR=${THRONG_VAR:-$ROOT/var}
RUN=$VAR/run
LOGS=$VAR/log
SECRETS=$VAR/secrets
STACK_ENV=$VAR/stack.env

MARIADB_PORT=${THRONG_MARIADB_PORT:-13306}
REDIS_PORT=${THRONG_REDIS_PORT:-16379}

mkdir -p "$RUN" "$LOGS" "$SECRETS"
chmod 700 "$SECRETS"

say() { printf '%s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# A random secret of BYTES (default 24) random bytes, base64 without
# symbols, kept in $SECRETS/NAME (created once, mode 600).
secret() {
    local file=$SECRETS/$1
    if [ ! -s "$file" ]; then
        (umask 077; head -c "${2:-24}" /dev/urandom | base64 | tr -d '/+=\n' > "$file")
    fi
    cat "$file"
}

# The pid in RUN/NAME.pid if that process is alive, else nothing.
live_pid() {
    local file=$RUN/$1.pid pid
    [ -s "$file" ] || return 1
    pid=$(cat "$file")
    kill -0 "$pid" 2>/dev/null || return 1
    # A process killed a moment ago lingers as a zombie until it is
    # reaped: it is dead for every purpose here.
    case $(ps -o stat= -p "$pid" 2>/dev/null) in Z*) return 1 ;; esac
    printf '%s' "$pid"
}

# Whether something accepts TCP connections on 127.0.0.1:PORT.
port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Waits up to SECONDS for PORT to accept connections.
wait_port() {
    local port=$1 seconds=${2:-30} i
    for ((i = 0; i < seconds * 10; i++)); do
        port_open "$port" && return 0
        sleep 0.1
    done
    return 1
}

# Sends SIGTERM to the process of RUN/NAME.pid, waits up to SECONDS, then
# SIGKILL; removes the pid file.
stop_pid() {
    local name=$1 seconds=${2:-20} pid i
    if pid=$(live_pid "$name"); then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < seconds * 10; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            say "$name (pid $pid) ignored SIGTERM for ${seconds}s; killing it"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        say "stopped $name (pid $pid)"
    fi
    rm -f "$RUN/$1.pid"
}

# One status line: NAME PID PORT up|down.
status_line() {
    local name=$1 port=$2 pid state
    pid=$(live_pid "$name" || true)
    if [ -n "$pid" ] && port_open "$port"; then state=up; else state=down; fi
    printf '%-10s %-8s %-6s %s\n' "$name" "${pid:--}" "$port" "$state"
}
