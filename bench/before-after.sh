#!/usr/bin/env bash
# This build's webd and authd against another build's (an earlier commit),
# side by side on the same stores, machine and load client: warm sign-in
# over the protocol (rpc-signin), `GET /login` (http-static) and the log-in
# form (http-login). Each round runs every scenario against both builds,
# alternating which goes first, so drift on a shared machine lands on both.
# Besides throughput it reports the CPU time each daemon spent per
# operation (from /proc, user + system), which the noise of a shared
# machine disturbs far less than throughput.
#
# Needs the stack (`make up`) for its stores; both builds run beside it,
# started the same way on ports of their own (this one: webd 19190, authd
# 19997; the other: webd 19090, authd 19998).
#
#   git worktree add ../before <commit>
#   (cd ../before && CARGO_TARGET_DIR=../before-target cargo build --release -p authd -p webd)
#   bench/before-after.sh ../before-target/release [SECONDS] [REPEATS]
#   SCENARIOS="rpc-signin rpc-session" bench/before-after.sh …   # others
#   LOGIN_CONNECTIONS=200 …                                     # http-login over 200, not 1,000
#
# The other build runs with its own checkout's deploy/config (OTHER_CONFIG,
# default <OTHER>/../../deploy/config when it exists) and without the
# secrets it may not know (caller key, CSRF key, massd token key): an older
# build refuses settings it has no field for. Each side has its own Redis
# prefix, so their caches and fast verifiers (whose keys differ between
# builds) never overwrite each other's.
#
# Writes var/bench/before-after.tsv (one line per run) and prints medians.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OTHER=$(cd "$1" && pwd)
OTHER_CONFIG=${OTHER_CONFIG:-$OTHER/../../deploy/config}
[ -d "$OTHER_CONFIG" ] || OTHER_CONFIG=$ROOT/deploy/config
SECONDS_PER_RUN=${2:-10}
REPEATS=${3:-3}
read -r -a SCENARIO_LIST <<<"${SCENARIOS:-rpc-signin http-static http-login}"
BIN=$ROOT/target/release
OUT=$ROOT/var/bench
mkdir -p "$OUT"
set -a
. "$ROOT/var/stack.env"
set +a
declare -A AUTHD_PORT=([this]=19997 [other]=19998) WEBD_PORT=([this]=19190 [other]=19090)
declare -A DIR=([this]=$BIN [other]=$OTHER) CONFIG=([this]=$ROOT/deploy/config [other]=$OTHER_CONFIG)
declare -A AUTHD_PID WEBD_PID
NEW_SECRETS=(THRONG_AUTHD_CALLER_KEY THRONG_AUTHD_MASSD__TOKEN_SECRET THRONG_WEBD_AUTHD__KEY THRONG_WEBD_CSRF_KEY THRONG_BENCH_AUTHD_KEY)
# The environment of one side: the other build gets none of the new secrets.
side_env() { # side (env's options first, then the assignment)
    local args=()
    if [ "$1" = other ]; then for v in "${NEW_SECRETS[@]}"; do args+=(-u "$v"); done; fi
    args+=(THRONG_AUTHD_REDIS__PREFIX="throng:ba-$1:")
    printf '%s\n' "${args[@]}"
}
on_side() { # side command...
    local side=$1; shift
    local envs; mapfile -t envs < <(side_env "$side")
    env "${envs[@]}" "$@"
}
# A daemon of one side in the background; $! is the daemon itself (the
# subshell execs env, which execs the daemon), so /proc/$!/stat is its CPU.
start_side() { # side log command...
    local side=$1 log=$2; shift 2
    (
        mapfile -t envs < <(side_env "$side")
        exec env "${envs[@]}" "$@" >"$log" 2>&1
    ) &
}

"$BIN/bench" seed --users 10000 >&2
for side in this other; do
    start_side "$side" "$OUT/$side-authd.log" "${DIR[$side]}/authd" --config "${CONFIG[$side]}/authd.toml" \
        --listen "127.0.0.1:${AUTHD_PORT[$side]}"
    AUTHD_PID[$side]=$!
    extra_webd=()
    grep -q '^metrics_listen' "${CONFIG[$side]}/webd.toml" && extra_webd=(--set 'metrics_listen="127.0.0.1:0"')
    start_side "$side" "$OUT/$side-webd.log" "${DIR[$side]}/webd" --config "${CONFIG[$side]}/webd.toml" \
        --listen "127.0.0.1:${WEBD_PORT[$side]}" "${extra_webd[@]}" \
        --set "authd.backends=[\"127.0.0.1:${AUTHD_PORT[$side]}\"]"
    WEBD_PID[$side]=$!
done
trap 'kill ${AUTHD_PID[*]} ${WEBD_PID[*]} 2>/dev/null || true' EXIT
for port in "${AUTHD_PORT[@]}" "${WEBD_PORT[@]}"; do
    for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
done

# Each side's fast verifiers live under its own prefix: one sweep of the
# 1,000 users the sign-in scenarios use warms each. Through the log-in form,
# which every build speaks alike (a change of authd's wire would make this
# build's rpc client fail against an older authd).
for side in this other; do
    echo "warming $side's fast verifiers (not counted)" >&2
    on_side "$side" "$BIN/bench" run http-login --target "127.0.0.1:${WEBD_PORT[$side]}" --connections 100 \
        --users 1000 --duration 20 --quiet >/dev/null
done

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
TSV=$OUT/before-after.tsv
printf 'scenario\tside\tops_per_s\terrors\tauthd_cpu_us_per_op\twebd_cpu_us_per_op\n' >"$TSV"
run() { # side scenario
    local side=$1 scenario=$2 target connections=100 extra=(--users 1000)
    case $scenario in
        rpc-signin | rpc-session) target=127.0.0.1:${AUTHD_PORT[$side]} ;;
        http-static) target=127.0.0.1:${WEBD_PORT[$side]}; extra=() ;;
        http-login) target=127.0.0.1:${WEBD_PORT[$side]}; connections=${LOGIN_CONNECTIONS:-1000} ;;
    esac
    local a0 w0 a1 w1 report
    a0=$(cpu_ticks "${AUTHD_PID[$side]}"); w0=$(cpu_ticks "${WEBD_PID[$side]}")
    report=$(on_side "$side" "$BIN/bench" run "$scenario" --target "$target" --connections "$connections" \
        --duration "$SECONDS_PER_RUN" --json --quiet "${extra[@]}" | tail -n 1)
    a1=$(cpu_ticks "${AUTHD_PID[$side]}"); w1=$(cpu_ticks "${WEBD_PID[$side]}")
    local ops errors
    ops=$(sed -E 's/.*"ops":([0-9]+).*/\1/' <<<"$report")
    errors=$(sed -E 's/.*"errors":([0-9]+).*/\1/' <<<"$report")
    awk -v s="$scenario" -v side="$side" -v ops="$ops" -v err="$errors" -v secs="$SECONDS_PER_RUN" \
        -v a=$((a1 - a0)) -v w=$((w1 - w0)) -v hz="$(getconf CLK_TCK)" 'BEGIN {
            n = ops > 0 ? ops : 1
            printf "%s\t%s\t%.0f\t%d\t%.1f\t%.1f\n", s, side, ops / secs, err, a * 1e6 / hz / n, w * 1e6 / hz / n
        }' >>"$TSV"
}
for ((i = 1; i <= REPEATS; i++)); do
    for scenario in "${SCENARIO_LIST[@]}"; do
        echo "$scenario, round $i" >&2
        if ((i % 2)); then run this "$scenario"; run other "$scenario"; else run other "$scenario"; run this "$scenario"; fi
    done
done
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr); $REPEATS runs of $SECONDS_PER_RUN s each"
printf '| scenario | side | median ops/s | median authd CPU µs/op | median webd CPU µs/op | errors |\n|---|---|---:|---:|---:|---:|\n'
median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
for scenario in "${SCENARIO_LIST[@]}"; do
    for side in this other; do
        rows=$(awk -F'\t' -v s="$scenario" -v d="$side" '$1 == s && $2 == d' "$TSV")
        printf '| %s | %s | %s | %s | %s | %s |\n' "$scenario" "$side" \
            "$(cut -f3 <<<"$rows" | median)" "$(cut -f5 <<<"$rows" | median)" \
            "$(cut -f6 <<<"$rows" | median)" "$(cut -f4 <<<"$rows" | awk '{s += $1} END {print s}')"
    done
done
