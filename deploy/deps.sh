#!/usr/bin/env bash
# Makes sure the Debian packages Throng needs are installed: installs the
# missing ones with apt-get when running as root, otherwise prints the exact
# command and fails. Usage: deps.sh [stores] [bench] [browser] [cluster] [python]
. "$(dirname "$0")/lib.sh"

want=()
for group in "${@:-stores}"; do
    case $group in
        stores) want+=(mariadb-server:mariadbd redis-server:redis-server mariadb-client:mariadb redis-tools:redis-cli) ;;
        bench) want+=(wrk:wrk nginx:nginx hyperfine:hyperfine fonts-dejavu-core:/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf) ;;
        # The screenshots show CJK and emoji nicknames: without these fonts
        # they were empty boxes.
        browser) want+=(chromium:chromium fonts-noto-cjk:/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
                        fonts-noto-color-emoji:/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf) ;;
        # The tests' Python clients live in a virtual environment under
        # ./var (deploy/pyenv.sh), made with Debian's python3.
        python) want+=(python3:/usr/bin/python3 python3-venv:/usr/lib/python3.11/ensurepip/__init__.py) ;;
        cluster) want+=(galera-4:/usr/lib/galera/libgalera_smm.so mariadb-backup:mariabackup socat:socat
                        haproxy:haproxy prometheus:prometheus prometheus-mysqld-exporter:prometheus-mysqld-exporter
                        prometheus-redis-exporter:prometheus-redis-exporter curl:curl python3:python3
                        keepalived:keepalived iproute2:ip) ;;
        *) die "unknown package group $group" ;;
    esac
done

missing=()
for item in "${want[@]}"; do
    pkg=${item%%:*} cmd=${item#*:}
    # A command, or a file the package ships (a font has no command).
    if [[ $cmd == /* ]]; then
        [ -e "$cmd" ] || missing+=("$pkg")
    else
        command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || missing+=("$pkg")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    say "missing packages: ${missing[*]}"
    say "install them with:  sudo apt-get update && sudo apt-get install -y ${missing[*]}"
    exit 1
fi
command -v apt-get >/dev/null || die "no apt-get here; install ${missing[*]} by hand"
say "installing ${missing[*]} with apt-get"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$LOGS/apt.log" 2>&1 \
    || { tail -20 "$LOGS/apt.log" >&2; die "apt-get install failed (log: $LOGS/apt.log)"; }
