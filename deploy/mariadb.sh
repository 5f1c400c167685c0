#!/usr/bin/env bash
# The private MariaDB under ./var: its own data dir, socket, port (13306),
# log and generated password. The machine's own MySQL/MariaDB is never
# touched. Usage: mariadb.sh start|stop|status|url
. "$(dirname "$0")/lib.sh"

DIR=$VAR/mariadb
DATA=$DIR/data
SOCK=$DIR/mysqld.sock
OS_USER=$(id -un)

sql_root() { mariadb --no-defaults --socket="$SOCK" -u"$OS_USER" "$@"; }

find_bin() {
    local name
    for name in "$@"; do
        command -v "$name" 2>/dev/null && return 0
        [ -x "/usr/sbin/$name" ] && { echo "/usr/sbin/$name"; return 0; }
    done
    return 1
}

start() {
    if live_pid mariadb >/dev/null; then
        say "mariadb already running on port $MARIADB_PORT"
        return 0
    fi
    local mariadbd install_db
    mariadbd=$(find_bin mariadbd mysqld) || die "mariadbd not found (run deploy/deps.sh stores)"
    install_db=$(find_bin mariadb-install-db mysql_install_db) || die "mariadb-install-db not found"
    mkdir -p "$DATA"
    if [ ! -d "$DATA/mysql" ]; then
        say "initialising MariaDB data dir $DATA"
        "$install_db" --no-defaults --datadir="$DATA" --user="$OS_USER" \
            --auth-root-authentication-method=socket --skip-test-db >"$LOGS/mariadb-install.log" 2>&1 \
            || { tail -20 "$LOGS/mariadb-install.log" >&2; die "mariadb-install-db failed"; }
    fi
    say "starting MariaDB on 127.0.0.1:$MARIADB_PORT"
    nohup "$mariadbd" --no-defaults --datadir="$DATA" --socket="$SOCK" \
        --port="$MARIADB_PORT" --bind-address=127.0.0.1 --skip-name-resolve \
        --pid-file="$RUN/mariadb.pid" --log-error="$LOGS/mariadb.log" --user="$OS_USER" \
        --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
        --max-connections=2000 --local-infile=1 --innodb-buffer-pool-size=1G \
        --innodb-flush-log-at-trx-commit=2 >/dev/null 2>&1 &
    local i
    for ((i = 0; i < 600; i++)); do
        mariadb-admin --no-defaults --socket="$SOCK" -u"$OS_USER" ping >/dev/null 2>&1 && break
        sleep 0.1
    done
    mariadb-admin --no-defaults --socket="$SOCK" -u"$OS_USER" ping >/dev/null 2>&1 \
        || { tail -20 "$LOGS/mariadb.log" >&2; die "MariaDB did not start (log: $LOGS/mariadb.log)"; }
    local pw
    pw=$(secret mariadb.password)
    # The service account may create and drop databases named throng*, so
    # each test run gets a database of its own.
    sql_root <<SQL
CREATE USER IF NOT EXISTS 'throng'@'127.0.0.1' IDENTIFIED BY '$pw';
CREATE USER IF NOT EXISTS 'throng'@'localhost' IDENTIFIED BY '$pw';
ALTER USER 'throng'@'127.0.0.1' IDENTIFIED BY '$pw';
ALTER USER 'throng'@'localhost' IDENTIFIED BY '$pw';
GRANT ALL PRIVILEGES ON \`throng%\`.* TO 'throng'@'127.0.0.1';
GRANT ALL PRIVILEGES ON \`throng%\`.* TO 'throng'@'localhost';
CREATE DATABASE IF NOT EXISTS throng CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
SQL
    wait_port "$MARIADB_PORT" 10 || die "MariaDB is not listening on $MARIADB_PORT"
}

stop() {
    if live_pid mariadb >/dev/null; then
        stop_pid mariadb 60
    fi
}

url() {
    printf 'mysql://throng:%s@127.0.0.1:%s/throng\n' "$(secret mariadb.password)" "$MARIADB_PORT"
}

case ${1:-} in
    start) start ;;
    stop) stop ;;
    status) status_line mariadb "$MARIADB_PORT" ;;
    url) url ;;
    *) die "usage: $0 start|stop|status|url" ;;
esac
