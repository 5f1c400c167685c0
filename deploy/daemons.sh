#!/usr/bin/env bash
# Starts and stops Throng's daemons from target/release with the configs in
# deploy/config, logs in var/log and pid files in var/run.
# Usage: daemons.sh start|stop|status NAME...
. "$(dirname "$0")/lib.sh"

port_of() {
    case $1 in
        authd) echo 9999 ;;
        webd) echo 9090 ;;
        massd) echo 38677 ;;
        *) die "unknown daemon $1" ;;
    esac
}

# Each daemon keeps only its own variables of the stack's environment
# (THRONG_<NAME>_*): massd never sees authd's master key or the database
# password, webd no store password at all.
own_env() {
    local keep=THRONG_${1^^}_ v
    for v in $(compgen -e); do
        case $v in THRONG_*) [[ $v == "$keep"* ]] || unset "$v" ;; esac
    done
}

# massd is a fleet of processes: its own launcher starts and stops it.
massd_fleet() {
    (
        set -a
        # shellcheck disable=SC1090
        [ -f "$STACK_ENV" ] && . "$STACK_ENV"
        set +a
        own_env massd
        cd "$ROOT" && exec "$ROOT/target/release/massd" "$1" --config "$ROOT/deploy/config/mass.toml" "${@:2}"
    )
}

massd_start() {
    [ -x "$ROOT/target/release/massd" ] || die "target/release/massd is missing: build with 'cargo build --release' (make up does)"
    if [ -f "$ROOT/var/massd/state.json" ] && massd_fleet ctl stats >/dev/null 2>&1; then
        say "massd already running"
        return 0
    fi
    say "starting the massd fleet (logs: var/massd/logs)"
    massd_fleet launch
}

massd_stop() {
    [ -f "$ROOT/var/massd/state.json" ] || return 0
    massd_fleet stop
}

massd_status() {
    local pids state=$ROOT/var/massd/state.json
    if [ -f "$state" ]; then
        pids=$(grep -o '"pid": [0-9]*' "$state" | awk '{printf "%s%s", sep, $2; sep=","}')
        printf '%-10s %-8s %-6s %s\n' massd "$pids" 38677 "fleet (var/massd/logs)"
    else
        printf '%-10s %-8s %-6s %s\n' massd - 38677 down
    fi
}

start() {
    local name=$1 port bin=$ROOT/target/release/$1
    port=$(port_of "$name")
    if live_pid "$name" >/dev/null; then
        say "$name already running"
        return 0
    fi
    [ -x "$bin" ] || die "$bin is missing: build with 'cargo build --release' (make up does)"
    if port_open "$port"; then
        die "port $port is taken by another process; stop it or change deploy/config/$name.toml"
    fi
    say "starting $name on 127.0.0.1:$port (log: var/log/$name.log)"
    (
        # Store URLs and passwords reach the daemons through the environment.
        set -a
        # shellcheck disable=SC1090
        [ -f "$STACK_ENV" ] && . "$STACK_ENV"
        set +a
        own_env "$name"
        exec setsid "$bin" --config "$ROOT/deploy/config/$name.toml" >>"$LOGS/$name.log" 2>&1
    ) &
    echo $! >"$RUN/$name.pid"
    wait_port "$port" 30 || { tail -20 "$LOGS/$name.log" >&2; die "$name did not start listening on $port"; }
}

cmd=${1:-}
shift || true
for name in "$@"; do
    case $cmd in
        start) if [ "$name" = massd ]; then massd_start; else start "$name"; fi ;;
        stop) if [ "$name" = massd ]; then massd_stop; else stop_pid "$name" 20; fi ;;
        status) if [ "$name" = massd ]; then massd_status; else status_line "$name" "$(port_of "$name")"; fi ;;
        *) die "usage: $0 start|stop|status NAME..." ;;
    esac
done
