#!/usr/bin/env bash
# Herald side by side with nginx + nchan and with Pushpin (issue 10), driven by the same load generator
# (bench/loadgen.cpp, herald-loadgen) in one run, each server given one core.
#
# Usage: bash bench/compare.sh [OUT.md] [SCENARIO...]
#   OUT.md      default bench/results/compare-<UTC date and time>.md; the SVG charts go next to it
#   SCENARIO    any of A B C D E F G P (default all):
#     A  1,000 SSE subscribers on one topic, 200 events/s × 512 B for 10 s, 16 publisher connections:
#        deliveries, lost, duplicated, latency p50/p99/p99.9/max, server CPU, RSS
#     B  10,000 idle SSE connections: server RSS per connection, then one event to all of them
#     C  100 SSE subscribers, 16 connections publishing as fast as they are answered for 5 s: server CPU
#        per delivery
#     D  A over WebSocket (Herald: /v1/ws herald.v1; nchan: its websocket subscriber; Pushpin:
#        WebSocket-over-HTTP through the origin)
#     E  REST proxying, Herald vs nginx: runs bench/proxy.sh and quotes its table
#     F  reconnect storm: 1,000 SSE subscribers at 200 events/s drop at t+3.3 s and reconnect with
#        Last-Event-ID once 100 more events were published (Herald and nchan; Pushpin keeps no history)
#     G  push vs polling, Herald only: 20 events/s to 100 SSE streams, 100 long-poll clients
#        (?wait=30), 100 clients polling every second
#     P  publish-only: wrk, 16 connections, 5 s, a 1 KiB JSON body (Herald with fsync interval)
#   COMPARE_REPEAT=N   runs per server and scenario (default 1), the servers' order rotated each time;
#                      medians are reported
#   COMPARE_QUICK=1    a short development run (few connections, 2–3 s): checks that everything works,
#                      its figures are not measurements
#   HERALD_BIN, LOADGEN_BIN  the binaries (default build/herald, build/bench/herald-loadgen)
#   COMPARE_KEEP=1     keep the temporary directory (configs, server logs, every run's JSON and table)
#
# Layout: every server on core 0 (Herald --threads 1; nginx one worker; Pushpin's processes and its
# origin), the generator (and wrk) on core 1, everything on 127.0.0.1, a fresh server for every run,
# everything started here stopped by PID on exit, every run bounded by `timeout`. No access logs on any
# server. Needs: nginx (nginx-light) with libnginx-mod-nchan, pushpin (with condure and zurl), wrk, node,
# jq, curl, taskset:  apt-get install -y nginx-light libnginx-mod-nchan pushpin wrk
# (not part of scripts/install-deps.sh: `make test` needs none of them; on a machine with systemd the packages'
# own services start on install, which this script neither needs nor touches: it runs its own instances).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HERALD=${HERALD_BIN:-$ROOT/build/herald}
LOADGEN=${LOADGEN_BIN:-$ROOT/build/bench/herald-loadgen}
REPEAT=${COMPARE_REPEAT:-1}
QUICK=${COMPARE_QUICK:-0}
STAMP=$(date -u +%Y-%m-%d-%H%M)
OUT=$ROOT/bench/results/compare-$STAMP.md
ALL=(P A B C D F G E)
SELECTED=()
for arg in "$@"; do
    case $arg in
        *.md) OUT=$arg ;;
        all) SELECTED=("${ALL[@]}") ;;
        A | B | C | D | E | F | G | P) SELECTED+=("$arg") ;;
        -h | --help)
            sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "compare.sh: unknown argument $arg (see --help)" >&2
            exit 1
            ;;
    esac
done
((${#SELECTED[@]})) || SELECTED=("${ALL[@]}")
selected() { [[ " ${SELECTED[*]} " == *" $1 "* ]]; }

# ---------------------------------------------------------------------------------------------------
# What is needed, and where the nchan module is.
NCHAN_MODULE=""
for m in /usr/lib/nginx/modules/ngx_nchan_module.so /usr/share/nginx/modules/ngx_nchan_module.so; do
    [[ -f $m ]] && NCHAN_MODULE=$m && break
done
missing=()
for tool in nginx pushpin condure zurl wrk node jq curl taskset timeout; do
    command -v "$tool" >/dev/null || missing+=("$tool")
done
[[ -n $NCHAN_MODULE ]] || missing+=("the nchan module (libnginx-mod-nchan)")
if ((${#missing[@]})); then
    echo "compare.sh: missing: ${missing[*]}" >&2
    echo "  install: apt-get install -y nginx-light libnginx-mod-nchan pushpin wrk jq nodejs" >&2
    exit 1
fi
for bin in "$HERALD" "$LOADGEN"; do
    [[ -x $bin ]] || { echo "compare.sh: $bin is not built (ninja -C build herald herald-loadgen)" >&2; exit 1; }
done
(($(nproc) >= 2)) || { echo "compare.sh: needs two cores (server on 0, generator on 1)" >&2; exit 1; }
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"

# Sizes: the issue's, or a quick development run.
if [[ $QUICK == 1 ]]; then
    A_SUBS=100 A_RATE=200 A_DUR=2 B_SUBS=500 C_SUBS=20 C_DUR=2 F_SUBS=100 F_RATE=200 F_DUR=3
    G_SUBS=20 G_DUR=3 P_DUR=2 E_REPEAT=1 E_DUR=2 DRAIN=3
else
    A_SUBS=1000 A_RATE=200 A_DUR=10 B_SUBS=10000 C_SUBS=100 C_DUR=5 F_SUBS=1000 F_RATE=200 F_DUR=10
    G_SUBS=100 G_DUR=10 P_DUR=5 E_REPEAT=3 E_DUR=5 DRAIN=10
fi
# Subscribers are opened this many at a time on every server. Pushpin 1.36 (condure 1.9) on one core
# answers part of a burst of 100–200 stream requests with 502 (its proxy's request to the origin fails
# with a timeout condition) or cancels them ("received message out of sequence"); 50 at a time keeps
# that rare, and costs the others nothing but connection time.
CONNECT_CONCURRENCY=${COMPARE_CONNECT_CONCURRENCY:-50}
SIZE=512
TOPIC="cmp"

WORK=$(mktemp -d)
PIDS=()         # every process started here and not stopped yet, stopped by PID on exit
SERVER_PIDS=""  # the current server's processes, comma-separated (for --server-pid)
SERVER_MAIN=""  # the process to signal to stop it
ORIGIN_PID=""   # Pushpin's origin
cleanup() {
    local rc=$?
    trap - INT TERM
    stop_server 2>/dev/null || true
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    sleep 0.3
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [[ ${COMPARE_KEEP:-0} == 1 ]]; then echo "compare.sh: kept $WORK" >&2; else rm -rf "$WORK"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
        node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}
wait_port() {  # wait_port PORT: up to 10 s for something to accept on 127.0.0.1:PORT
    for _ in $(seq 200); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.05
    done
    echo "compare.sh: nothing listens on 127.0.0.1:$1" >&2
    return 1
}
children_of() { pgrep -P "$1" | paste -sd, -; }  # direct children, by parent PID
stop_pid() {  # stop_pid PID: TERM, then KILL after 5 s; then forgotten (a PID is never signalled once gone)
    local p=$1 keep=() q
    if kill -TERM "$p" 2>/dev/null; then
        for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
        kill -KILL "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    fi
    for q in "${PIDS[@]}"; do [[ $q != "$p" ]] && keep+=("$q"); done
    PIDS=("${keep[@]}")
}
cpu_ticks() {  # cpu_ticks PID,PID…: utime + stime of them all, in clock ticks
    local sum=0 p f
    for p in ${1//,/ }; do
        f=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null) || continue
        sum=$((sum + $(echo "$f" | awk '{print $12 + $13}')))
    done
    echo "$sum"
}
TICKS=$(getconf CLK_TCK)

# ---------------------------------------------------------------------------------------------------
# The three servers. start_<server> NAME sets SERVER_PIDS / SERVER_MAIN and the loadgen arguments in
# SUB_ARGS (SSE subscribers and publishing), WS_ARGS (WebSocket subscribers and publishing) and PUB_URL
# (where wrk publishes).
HERALD_CFG=$WORK/herald.yaml
cat >"$HERALD_CFG" <<'EOF'
topics:
  defaults:
    fsync: interval
  declared:
    - name: cmp
http:
  max_connections: 10100
log:
  access: false
EOF
start_herald() {
    local dir=$WORK/run-$1
    rm -rf "$dir" && mkdir -p "$dir"
    taskset -c 0 "$HERALD" serve --config "$HERALD_CFG" --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 \
        --data-dir "$dir/data" --ready-file "$dir/ready" --threads 1 >"$dir/log" 2>&1 &
    SERVER_MAIN=$!
    PIDS+=("$SERVER_MAIN")
    for _ in $(seq 200); do [[ -s $dir/ready ]] && break; sleep 0.05; done
    [[ -s $dir/ready ]] || { echo "compare.sh: Herald did not start (see $dir/log)" >&2; tail -5 "$dir/log" >&2; return 1; }
    local addr
    addr=$(jq -r .listen "$dir/ready")
    SERVER_PIDS=$SERVER_MAIN
    SUB_ARGS=(--url "http://$addr")
    WS_ARGS=(--url "http://$addr" --transport ws)
    PUB_URL="http://$addr/v1/topics/$TOPIC/events?type=bench.tick.v1"
}
start_nchan() {
    local dir=$WORK/run-$1 port
    rm -rf "$dir" && mkdir -p "$dir"
    port=$(free_port)
    sed -e "s|@DIR@|$dir|g" -e "s|@PORT@|$port|g" -e "s|@MODULE@|$NCHAN_MODULE|g" \
        "$ROOT/bench/compare/nginx.conf.in" >"$dir/nginx.conf"
    taskset -c 0 nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" >"$dir/log" 2>&1 &
    SERVER_MAIN=$!
    PIDS+=("$SERVER_MAIN")
    wait_port "$port"
    local worker=""
    for _ in $(seq 100); do worker=$(children_of "$SERVER_MAIN"); [[ -n $worker ]] && break; sleep 0.05; done
    SERVER_PIDS=$SERVER_MAIN${worker:+,$worker}
    SUB_ARGS=(--publish-url "http://127.0.0.1:$port/pub/{topic}" --subscribe-url "http://127.0.0.1:$port/sub/{topic}")
    WS_ARGS=(--publish-url "http://127.0.0.1:$port/pub/{topic}" --ws-subscribe-url "ws://127.0.0.1:$port/ws/{topic}")
    PUB_URL="http://127.0.0.1:$port/pub/$TOPIC"
}
start_pushpin() {
    local dir=$WORK/run-$1 http control origin zb
    rm -rf "$dir" && mkdir -p "$dir/run" "$dir/log"
    http=$(free_port) control=$(free_port) origin=$(free_port) zb=$(free_port)
    sed -e "s|@DIR@|$dir|g" -e "s|@HTTP_PORT@|$http|g" -e "s|@CONTROL_PORT@|$control|g" \
        -e "s|@ZMQ_BASE@|$zb|g" -e "s|@ZMQ_SUB@|$(free_port)|g" -e "s|@ZMQ_CMD@|$(free_port)|g" \
        "$ROOT/bench/compare/pushpin.conf.in" >"$dir/pushpin.conf"
    echo "* 127.0.0.1:$origin,over_http" >"$dir/routes"
    taskset -c 0 node "$ROOT/bench/compare/pushpin-origin.js" "$origin" >"$dir/origin.log" 2>&1 &
    ORIGIN_PID=$!
    PIDS+=("$ORIGIN_PID")
    taskset -c 0 pushpin --config "$dir/pushpin.conf" --merge-output >"$dir/log/pushpin.out" 2>&1 &
    SERVER_MAIN=$!
    PIDS+=("$SERVER_MAIN")
    wait_port "$origin"
    wait_port "$http"
    wait_port "$control"
    # The runner's services: condure, zurl, pushpin-proxy, pushpin-handler.
    local kids=""
    for _ in $(seq 100); do
        kids=$(children_of "$SERVER_MAIN")
        [[ $(tr ',' '\n' <<<"$kids" | grep -c .) -ge 4 ]] && break
        sleep 0.05
    done
    SERVER_PIDS=$SERVER_MAIN${kids:+,$kids}
    # The proxy, zurl and the handler connect their ZeroMQ sockets after listening: wait until a request
    # goes all the way to the origin and back.
    local up=0
    for _ in $(seq 100); do
        [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$http/ready") == 200 ]] && up=1 && break
        sleep 0.1
    done
    ((up)) || { echo "compare.sh: Pushpin does not reach its origin (see $dir)" >&2; return 1; }
    SUB_ARGS=(--publish-url "http://127.0.0.1:$control/publish/"
        --publish-template "@$ROOT/bench/compare/pushpin-publish-sse.json"
        --subscribe-url "http://127.0.0.1:$http/sub/{topic}")
    WS_ARGS=(--publish-url "http://127.0.0.1:$control/publish/"
        --publish-template "@$ROOT/bench/compare/pushpin-publish-ws.json"
        --ws-subscribe-url "ws://127.0.0.1:$http/ws/{topic}")
    PUB_URL="http://127.0.0.1:$control/publish/"
}
stop_server() {
    local p
    [[ -n $SERVER_MAIN ]] && stop_pid "$SERVER_MAIN"
    # Pushpin's runner stops its services (nginx's master its worker); anything still alive is stopped by
    # its own PID (read from the running server when it started).
    for p in ${SERVER_PIDS//,/ }; do
        [[ $p == "$SERVER_MAIN" ]] && continue
        kill -0 "$p" 2>/dev/null && stop_pid "$p"
    done
    [[ -n $ORIGIN_PID ]] && stop_pid "$ORIGIN_PID"
    SERVER_MAIN="" SERVER_PIDS="" ORIGIN_PID=""
    return 0
}
server_label() { case $1 in herald) echo Herald ;; nchan) echo "nginx+nchan" ;; pushpin) echo Pushpin ;; esac; }
server_version() {
    case $1 in
        herald) echo "Herald: \`$(basename "$(dirname "$HERALD")")/herald\` built $(date -u -r "$HERALD" +%Y-%m-%dT%H:%MZ) (the tree is now at $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo '?'))" ;;
        nchan) echo "$(nginx -v 2>&1 | sed 's/.*: //'), nchan $(dpkg-query -W -f='${Version}' libnginx-mod-nchan 2>/dev/null || echo '?')" ;;
        pushpin) echo "pushpin $(dpkg-query -W -f='${Version}' pushpin 2>/dev/null || echo '?') (condure $(dpkg-query -W -f='${Version}' condure 2>/dev/null || echo '?'), zurl $(dpkg-query -W -f='${Version}' zurl 2>/dev/null || echo '?'))" ;;
    esac
}

# One generator run against the running server: loadgen NAME ARGS…; the JSON line goes to NAME.json,
# the human table to NAME.txt. Bounded by timeout (the generator has its own hard deadline too).
loadgen() {
    local name=$1
    shift
    echo "== $name" >&2
    timeout 300 taskset -c 1 "$LOADGEN" --server-pid "$SERVER_PIDS" --json --label "$name" --topic "$TOPIC" \
        --connect-concurrency "$CONNECT_CONCURRENCY" "$@" \
        >"$WORK/$name.json" 2>"$WORK/$name.txt" || true
    grep -E 'deliveries |integrity|delivery latency|one event|server RSS|server  |publish rate|reconnect storm|receiving side|WARNING' \
        "$WORK/$name.txt" | sed 's/^/   /' >&2 || true
    [[ -s $WORK/$name.json ]] || { echo "   (no JSON: see below)" >&2; tail -5 "$WORK/$name.txt" >&2; }
}

# The servers in rotated order for repetition i (1-based): herald nchan pushpin, nchan pushpin herald, …
order() {
    local list=("$@")
    local i=$REP n=${#list[@]} out=()
    for ((k = 0; k < n; k++)); do out+=("${list[$(((k + i - 1) % n))]}"); done
    echo "${out[@]}"
}
run_on() {  # run_on SCENARIO SERVER ARGS… (with SUB/WS args chosen by the caller through $ARGS_KIND)
    local scen=$1 srv=$2
    shift 2
    "start_$srv" "$scen-$srv-$REP" || { echo "compare.sh: $srv did not start for $scen" >&2; stop_server; return 0; }
    local base=("${SUB_ARGS[@]}")
    [[ $ARGS_KIND == ws ]] && base=("${WS_ARGS[@]}")
    loadgen "$scen-$srv-$REP" "${base[@]}" "$@"
    stop_server
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
T_START=$(date +%s)
echo "compare.sh: load average $LOAD_BEFORE; scenarios ${SELECTED[*]}; repeat $REPEAT$([[ $QUICK == 1 ]] && echo ', QUICK (development) sizes')" >&2
taskset -c 1 "$LOADGEN" --baseline --baseline-core 0 --json >"$WORK/baseline-before.json" 2>/dev/null || true

for REP in $(seq "$REPEAT"); do
    ARGS_KIND=sse
    if selected P; then
        # Publish-only with wrk: the same 1 KiB JSON body, 16 keep-alive connections (Pushpin's control API
        # closes the connection after every answer: wrk reconnects).
        pad=$(head -c 1000 /dev/zero | tr '\0' x)
        printf '{"seq":1,"t":1,"pad":"%s"}' "$pad" >"$WORK/body.json"
        printf '{"items":[{"channel":"%s","formats":{"http-stream":{"content":"data: {\\"seq\\":1,\\"t\\":1,\\"pad\\":\\"%s\\"}\\n\\n"}}}]}' \
            "$TOPIC" "$pad" >"$WORK/body-pushpin.json"
        for srv in $(order herald nchan pushpin); do
            name=P-$srv-$REP
            "start_$srv" "$name" || { stop_server; continue; }
            body=$WORK/body.json
            [[ $srv == pushpin ]] && body=$WORK/body-pushpin.json
            c0=$(cpu_ticks "$SERVER_PIDS")
            echo "== $name (wrk)" >&2
            WRK_BODY_FILE=$body WRK_CONTENT_TYPE=application/json timeout 60 taskset -c 1 \
                wrk -t1 -c16 -d"${P_DUR}s" --latency -s "$ROOT/bench/compare/wrk-post.lua" "$PUB_URL" \
                >"$WORK/$name.wrk" 2>&1 || true
            c1=$(cpu_ticks "$SERVER_PIDS")
            stop_server
            rps=$(awk '/^Requests\/sec/ {print $2}' "$WORK/$name.wrk")
            total=$(awk '/requests in/ {print $1}' "$WORK/$name.wrk")
            non2xx=$(awk '/Non-2xx or 3xx responses/ {print $NF}' "$WORK/$name.wrk")
            errs=$(awk '/Socket errors/ {print}' "$WORK/$name.wrk")
            # wrk prints 812.00us, 1.20ms or 1.02s: in ms.
            p99=$(awk '$1 == "99%" { v = $2 + 0; if ($2 ~ /us$/) v /= 1000; else if ($2 ~ /[0-9]s$/) v *= 1000; print v }' "$WORK/$name.wrk")
            jq -n --arg rps "${rps:-0}" --arg total "${total:-0}" --arg non "${non2xx:-0}" --arg p99 "${p99:-}" \
                --arg errs "$errs" --argjson cpu "$(((c1 - c0)))" --argjson ticks "$TICKS" \
                '{rps: ($rps|tonumber), requests: ($total|tonumber), non2xx: ($non|tonumber), p99_ms: ($p99|tonumber? // null),
                  socket_errors: $errs, cpu_s: ($cpu / $ticks)}' >"$WORK/$name.json"
            echo "   $(jq -c . "$WORK/$name.json")" >&2
        done
    fi
    if selected A; then
        for srv in $(order herald nchan pushpin); do
            run_on A "$srv" --subscribers "$A_SUBS" --rate "$A_RATE" --publishers 16 --size "$SIZE" \
                --duration "$A_DUR" --drain "$DRAIN"
        done
    fi
    if selected D; then
        ARGS_KIND=ws
        for srv in $(order herald nchan pushpin); do
            run_on D "$srv" --subscribers "$A_SUBS" --rate "$A_RATE" --publishers 16 --size "$SIZE" \
                --duration "$A_DUR" --drain "$DRAIN"
        done
        ARGS_KIND=sse
    fi
    if selected B; then
        for srv in $(order herald nchan pushpin); do
            run_on B "$srv" --idle --subscribers "$B_SUBS" --size "$SIZE" --settle 2 --drain 10 --connect-timeout 60
        done
    fi
    if selected C; then
        for srv in $(order herald nchan pushpin); do
            run_on C "$srv" --subscribers "$C_SUBS" --max --publishers 16 --size "$SIZE" --duration "$C_DUR" \
                --drain "$DRAIN" --max-events 2000000
        done
    fi
    if selected F; then
        # Pushpin is not run: it keeps no history, so Last-Event-ID cannot resume anything.
        for srv in $(order herald nchan); do
            run_on F "$srv" --subscribers "$F_SUBS" --rate "$F_RATE" --publishers 16 --size "$SIZE" \
                --duration "$F_DUR" --drain "$DRAIN" --reconnect-storm 100
        done
    fi
    if selected G; then
        modes=(sse long interval)
        for mode in $(order "${modes[@]}"); do
            extra=()
            [[ $mode == long ]] && extra=(--poll long --poll-wait 30 --poll-limit 100)
            [[ $mode == interval ]] && extra=(--poll interval --poll-every 1 --poll-limit 100)
            run_on "G$mode" herald --subscribers "$G_SUBS" --rate 20 --publishers 1 --size "$SIZE" \
                --duration "$G_DUR" --drain "$DRAIN" "${extra[@]}"
        done
    fi
done
if selected E; then
    echo "== E: bench/proxy.sh" >&2
    HERALD_BIN=$HERALD BENCH_REPEAT=$E_REPEAT BENCH_DURATION=$E_DUR timeout 600 bash "$ROOT/bench/proxy.sh" \
        "$WORK/proxy.md" >"$WORK/proxy.out" 2>&1 || echo "   proxy.sh failed: $(tail -3 "$WORK/proxy.out")" >&2
fi
taskset -c 1 "$LOADGEN" --baseline --baseline-core 0 --json >"$WORK/baseline-after.json" 2>/dev/null || true
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
T_END=$(date +%s)

# ---------------------------------------------------------------------------------------------------
# The report.
ok() { [[ -s $WORK/$1.json ]] && jq -e '.mode // .rps' "$WORK/$1.json" >/dev/null 2>&1; }
# med SCEN SERVER EXPR: the median of EXPR over the repetitions that produced JSON ("" when none; the mean of
# the two middle values for an even count).
med() {
    local vals
    vals=$(for f in "$WORK/$1-$2-"*.json; do [[ -s $f ]] && jq -r "$3 // empty" "$f" 2>/dev/null; done | sort -g)
    [[ -n $vals ]] || { echo ""; return; }
    awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2] + a[NR/2+1]) / 2}' <<<"$vals"
}
# maxv SCEN SERVER EXPR: the largest value over the repetitions (losses: one lossy run must show)
maxv() {
    for f in "$WORK/$1-$2-"*.json; do [[ -s $f ]] && jq -r "$3 // empty" "$f" 2>/dev/null; done | sort -g | tail -1
}
# runs SCEN SERVER EXPR: every repetition's value, "a; b; c"
runs() {
    for f in "$WORK/$1-$2-"*.json; do [[ -s $f ]] && jq -r "$3 // \"?\"" "$f" 2>/dev/null; done | paste -sd';' - | sed 's|;|; |g'
}
num() {  # num VALUE DECIMALS: formatted, thousands separated; "n/a" when empty
    [[ -z $1 || $1 == null ]] && { echo "n/a"; return; }
    LC_ALL=en_US.UTF-8 awk -v v="$1" -v d="$2" 'BEGIN {
        s = sprintf("%." d "f", v); split(s, p, "."); i = p[1]; neg = (substr(i,1,1) == "-"); if (neg) i = substr(i, 2)
        o = ""; while (length(i) > 3) { o = "," substr(i, length(i) - 2) o; i = substr(i, 1, length(i) - 3) }
        o = i o; if (neg) o = "-" o; if (d > 0) o = o "." p[2]; print o }'
}
ratio() {  # ratio A B: A / B with 2 decimals and a ×, or n/a
    awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "n/a"; else printf "%.2f ×\n", a / b }'
}
verdict() { [[ $1 == 1 ]] && echo "met" || echo "**missed**"; }
row() {  # row LABEL SCEN EXPR DECIMALS [noratio|max]: one table row with Herald ÷ peer ratios (max: the
    # largest value over the runs, no ratio)
    local label=$1 scen=$2 expr=$3 dec=$4 h n p rn rp stat=med
    [[ ${5:-} == max ]] && stat=maxv
    h=$($stat "$scen" herald "$expr")
    n=$($stat "$scen" nchan "$expr")
    p=$($stat "$scen" pushpin "$expr")
    rn=$(ratio "$h" "$n") rp=$(ratio "$h" "$p")
    [[ ${5:-} == noratio || ${5:-} == max ]] && rn="" rp=""
    echo "| $label | $(num "$h" "$dec") | $(num "$n" "$dec") | $(num "$p" "$dec") | $rn | $rp |"
}
subs_row() {  # subs_row SCEN: connected / failed / dropped subscribers per server
    local cells=""
    for s in herald nchan pushpin; do
        cells+="$(med "$1" "$s" .subscribers_ready) / $(med "$1" "$s" .subscribers_failed) / $(med "$1" "$s" .subscribers_dropped) | "
    done
    echo "| $1: subscribers ready / failed to connect / dropped during the run | $cells | |"
}
CPU_US='(if .deliveries > 0 then .server.cpu_s / .deliveries * 1e6 else empty end)'
CPU_PCT='(.server.cpu_s / ((.window_s + .drain_ms / 1000) + 1e-9) * 100)'

REPORT=$WORK/report.md
SVG_BASE=${OUT%.md}
{
    echo "# Herald vs nginx+nchan and Pushpin (issue 10): $(date -u +%Y-%m-%dT%H:%MZ)"
    echo
    [[ $QUICK == 1 ]] && echo "**QUICK development run (COMPARE_QUICK=1): small sizes and 2–3 s runs; these are not measurements.**" && echo
    echo "- command: \`bash bench/compare.sh ${*}\` (COMPARE_REPEAT=$REPEAT$([[ $QUICK == 1 ]] && echo ', COMPARE_QUICK=1')), $((T_END - T_START)) s"
    for s in herald nchan pushpin; do echo "- $(server_version "$s")"; done
    echo "- $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2), node $(node --version), generator \`$(basename "$(dirname "$(dirname "$LOADGEN")")")/bench/herald-loadgen\`"
    echo "- machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), load average $LOAD_BEFORE before, $LOAD_AFTER after;" \
        "baseline round trips/s $(jq -r '.roundtrips_per_s // "?"' "$WORK/baseline-before.json" 2>/dev/null) before, $(jq -r '.roundtrips_per_s // "?"' "$WORK/baseline-after.json" 2>/dev/null) after"
    echo "- layout: each server alone on core 0 (Herald \`--threads 1\`, fsync interval; nginx 1 worker; Pushpin's runner, condure, zurl, proxy, handler and the origin), the generator and wrk on core 1; a fresh server per run; no access logs; order rotated between repetitions"
    echo "- server CPU and RSS: summed over the server's processes (nginx: master + worker; Pushpin: its five processes, not the origin); CPU is counted from the first publish to the end of the drain"
    echo
    echo "## Results (median of $REPEAT run$([[ $REPEAT == 1 ]] || echo s))"
    echo
    echo "| scenario / measure | Herald | nginx+nchan | Pushpin | Herald ÷ nchan | Herald ÷ Pushpin |"
    echo "|---|---|---|---|---|---|"
    if selected P; then
        echo "| **P** publish-only, wrk 16 conns, ${P_DUR} s, 1 KiB: requests/s (higher is better) | $(num "$(med P herald .rps)" 0) | $(num "$(med P nchan .rps)" 0) | $(num "$(med P pushpin .rps)" 0) | $(ratio "$(med P herald .rps)" "$(med P nchan .rps)") | $(ratio "$(med P herald .rps)" "$(med P pushpin .rps)") |"
        row "P: non-2xx answers" P .non2xx 0 noratio
        row "P: latency p99 ms (wrk)" P '.p99_ms' 2
        row "P: server CPU µs per publish" P '(if .requests > 0 then .cpu_s / .requests * 1e6 else empty end)' 1
    fi
    if selected A; then
        echo "| **A** $A_SUBS SSE subscribers × $A_RATE events/s × ${SIZE} B, ${A_DUR} s: deliveries (received of expected) | $(med A herald .received_deliveries) of $(med A herald .expected_deliveries) | $(med A nchan .received_deliveries) of $(med A nchan .expected_deliveries) | $(med A pushpin .received_deliveries) of $(med A pushpin .expected_deliveries) | | |"
        subs_row A
        row "A: events published/s (offered $A_RATE)" A .publish_rate 1
        row "A: lost (acknowledged, not received by the end of the ${DRAIN} s drain; max of runs)" A .lost 0 max
        row "A: duplicated (max of runs)" A .duplicated 0 max
        row "A: latency p50 ms" A .latency_ms.p50 2
        row "A: latency p99 ms" A .latency_ms.p99 2
        row "A: latency p99.9 ms" A .latency_ms.p999 2
        row "A: latency max ms" A .latency_ms.max 2
        row "A: server CPU % of its core" A "$CPU_PCT" 0
        row "A: server CPU µs per delivery" A "$CPU_US" 2
        row "A: server RSS peak MiB" A '(.server.rss_peak_bytes / 1048576)' 1
        row "A: generator CPU %" A .generator.cpu_pct 0
    fi
    if selected B; then
        row "**B** $B_SUBS idle SSE connections: server RSS per connection, B (lower is better)" B .server.rss_per_connection_bytes 0
        subs_row B
        row "B: one event to all, ms" B .latency_ms.max 1
        row "B: lost (not received by the end of the 10 s drain; max of runs)" B .lost 0 max
    fi
    if selected C; then
        row "**C** $C_SUBS SSE subscribers, 16 conns publishing at most, ${C_DUR} s: server CPU µs per delivery (lower is better)" C "$CPU_US" 2
        row "C: publishes/s acknowledged" C .publish_rate 0
        row "C: deliveries/s" C .deliveries_per_s 0
        subs_row C
        row "C: lost (max of runs)" C .lost 0 max
        row "C: server CPU % of its core" C "$CPU_PCT" 0
        row "C: generator CPU %" C .generator.cpu_pct 0
    fi
    if selected D; then
        row "**D** A over WebSocket: latency p99 ms" D .latency_ms.p99 2
        row "D: latency p50 ms" D .latency_ms.p50 2
        row "D: latency p99.9 / max ms" D .latency_ms.p999 2
        subs_row D
        row "D: events published/s (offered $A_RATE)" D .publish_rate 1
        row "D: lost (acknowledged, not received by the end of the ${DRAIN} s drain; max of runs)" D .lost 0 max
        row "D: duplicated (max of runs)" D .duplicated 0 max
        row "D: server CPU µs per delivery" D "$CPU_US" 2
        row "D: server RSS peak MiB" D '(.server.rss_peak_bytes / 1048576)' 1
    fi
    if selected F; then
        # The median over the runs where every stream was live again; the others are counted apart.
        live_expr='(if .storm.all_live_s >= 0 then .storm.all_live_s else empty end)'
        notall() { for f in "$WORK/F-$1-"*.json; do [[ -s $f ]] && jq -r '.storm.all_live_s' "$f"; done | awk '$1 < 0 {n++} END {print n + 0}'; }
        fh=$(med F herald "$live_expr") fn=$(med F nchan "$live_expr")
        echo "| **F** reconnect storm, $F_SUBS SSE subscribers, 100 events behind: all live again after, s (lower is better; runs where not all were: Herald $(notall herald), nchan $(notall nchan)) | $(num "$fh" 3) | $(num "$fn" 3) | not supported (no history) | $(ratio "$fh" "$fn") | — |"
        echo "| F: every run: all live again after, s (-1: not all) | $(runs F herald .storm.all_live_s) | $(runs F nchan .storm.all_live_s) | — | | |"
        echo "| F: every run: live again of dropped | $(runs F herald '"\(.storm.live_again) of \(.storm.dropped)"') | $(runs F nchan '"\(.storm.live_again) of \(.storm.dropped)"') | — | | |"
        echo "| F: events behind when they reconnected | $(med F herald .storm.behind) | $(med F nchan .storm.behind) | — | | |"
        echo "| F: every run: lost / duplicated (whole run) | $(runs F herald '"\(.lost)/\(.duplicated)"') | $(runs F nchan '"\(.lost)/\(.duplicated)"') | — | | |"
        echo "| F: reconnects failed (max of runs) | $(maxv F herald .storm.failed) | $(maxv F nchan .storm.failed) | — | | |"
    fi
    if selected E; then
        if [[ -s $WORK/proxy.md ]]; then
            hp=$(awk -F'|' '$2 ~ /Herald/ {gsub(/ /, "", $3); print $3}' "$WORK/proxy.md")
            np=$(awk -F'|' '$2 ~ /nginx/ {gsub(/ /, "", $3); print $3}' "$WORK/proxy.md")
            echo "| **E** REST proxying (bench/proxy.sh, wrk 16 conns, median of $E_REPEAT): requests/s; the peer is plain nginx | $(num "$hp" 0) | $(num "$np" 0) (nginx, no nchan) | — | $(ratio "$hp" "$np") | — |"
        else
            echo "| **E** REST proxying (bench/proxy.sh) | failed | | | | |"
        fi
    fi
    echo
    # Targets of the issue.
    echo "## Against the issue's targets"
    echo
    echo "| target | measured | |"
    echo "|---|---|---|"
    if selected A; then
        hl=$(maxv A herald .lost) h99=$(med A herald .latency_ms.p99) n99=$(med A nchan .latency_ms.p99)
        v=$(awk -v l="$hl" -v h="$h99" -v n="$n99" 'BEGIN{print (l != "" && l == 0 && h != "" && h <= 5 && n != "" && h <= n / 3) ? 1 : 0}')
        echo "| A: 0 lost, p99 ≤ 5 ms and ≤ 1/3 of nchan's p99 | Herald lost $(num "$hl" 0), p99 $(num "$h99" 2) ms; nchan p99 $(num "$n99" 2) ms (Herald ÷ nchan $(ratio "$h99" "$n99")) | $(verdict "$v") |"
    fi
    if selected B; then
        hb=$(med B herald .server.rss_per_connection_bytes) nb=$(med B nchan .server.rss_per_connection_bytes)
        v=$(awk -v h="$hb" -v n="$nb" 'BEGIN{print (h != "" && h <= 8192 && n != "" && h < n) ? 1 : 0}')
        echo "| B: ≤ 8 KiB per idle connection and below nchan's | Herald $(num "$hb" 0) B, nchan $(num "$nb" 0) B | $(verdict "$v") |"
    fi
    if selected C; then
        hc=$(med C herald "$CPU_US") nc=$(med C nchan "$CPU_US")
        v=$(awk -v h="$hc" -v n="$nc" 'BEGIN{print (h != "" && h <= 1.5 && n != "" && h < n) ? 1 : 0}')
        echo "| C: ≤ 1.5 µs server CPU per delivery and below nchan's | Herald $(num "$hc" 2) µs, nchan $(num "$nc" 2) µs | $(verdict "$v") |"
    fi
    if selected D && selected A; then
        hd=$(med D herald .latency_ms.p99) ha=$(med A herald .latency_ms.p99)
        v=$(awk -v d="$hd" -v a="$ha" 'BEGIN{print (d != "" && a != "" && a > 0 && d <= 1.5 * a) ? 1 : 0}')
        echo "| D: Herald's WebSocket p99 within 1.5 × its SSE p99 (A) | $(num "$hd" 2) vs $(num "$ha" 2) ms = $(ratio "$hd" "$ha"); lost $(num "$(maxv D herald .lost)" 0) (max of runs) | $(verdict "$v") |"
    fi
    if selected F; then
        # Every run must have them all live again with nothing lost or duplicated.
        bad=$(maxv F herald '(if .storm.dropped > 0 and .storm.live_again == .storm.dropped and .lost == 0 and .duplicated == 0 then 0 else 1 end)')
        v=$([[ $bad == 0 ]] && echo 1 || echo 0)
        echo "| F: all live again, 0 lost, 0 duplicated (every run) | Herald: all live again after $(runs F herald .storm.all_live_s) s, live $(runs F herald .storm.live_again) of $(runs F herald .storm.dropped), lost $(runs F herald .lost), duplicated $(runs F herald .duplicated) (nchan: $(runs F nchan .storm.all_live_s) s, lost $(runs F nchan .lost)) | $(verdict "$v") |"
    fi
    if selected P; then
        hp=$(med P herald .rps) np=$(med P nchan .rps)
        v=$(awk -v h="$hp" -v n="$np" 'BEGIN{print (h != "" && n != "" && h >= n) ? 1 : 0}')
        echo "| publish-only: Herald (fsync interval) ≥ nchan's publish rate, wrk 16 conns | $(num "$hp" 0) vs $(num "$np" 0) requests/s = $(ratio "$hp" "$np") | $(verdict "$v") |"
    fi
    if selected E && [[ -s $WORK/proxy.md ]]; then
        hp=$(awk -F'|' '$2 ~ /Herald/ {gsub(/ /, "", $3); print $3}' "$WORK/proxy.md")
        np=$(awk -F'|' '$2 ~ /nginx/ {gsub(/ /, "", $3); print $3}' "$WORK/proxy.md")
        v=$(awk -v h="$hp" -v n="$np" 'BEGIN{print (n > 0 && h / n >= 0.8) ? 1 : 0}')
        echo "| E (issue 7's floor): proxying ≥ 0.8 × nginx | $(ratio "$hp" "$np") | $(verdict "$v") |"
    fi
    echo
    if selected G; then
        echo "## G: push vs polling (Herald only; $G_SUBS consumers, 20 events/s × ${SIZE} B, ${G_DUR} s)"
        echo
        echo "| consumer | latency mean ms | p99 ms | max ms | requests per delivered event | bytes received per delivered event | server CPU µs per delivery | server CPU % | lost / duplicated |"
        echo "|---|---|---|---|---|---|---|---|---|"
        for mode in sse long interval; do
            case $mode in
                sse) label="SSE stream (one GET each)" req='(if .deliveries > 0 then .subscribers_ready / .deliveries else empty end)' ;;
                long) label="long-poll (?wait=30, again at once)" req='(if .deliveries > 0 then .transfer.requests / .deliveries else empty end)' ;;
                interval) label="polling every 1 s (no wait)" req='(if .deliveries > 0 then .transfer.requests / .deliveries else empty end)' ;;
            esac
            echo "| $label | $(num "$(med "G$mode" herald .latency_ms.mean)" 2) | $(num "$(med "G$mode" herald .latency_ms.p99)" 2) | $(num "$(med "G$mode" herald .latency_ms.max)" 2) | $(num "$(med "G$mode" herald "$req")" 3) | $(num "$(med "G$mode" herald '(if .deliveries > 0 then .transfer.bytes_in / .deliveries else empty end)')" 0) | $(num "$(med "G$mode" herald "$CPU_US")" 1) | $(num "$(med "G$mode" herald "$CPU_PCT")" 1) | $(num "$(med "G$mode" herald .lost)" 0) / $(num "$(med "G$mode" herald .duplicated)" 0) |"
        done
        echo
        echo "Bytes are what the consumers read (response heads included) from the first publish to the end of the drain;"
        echo "the SSE streams' one request each was made before publishing started. ![G](./$(basename "$SVG_BASE")-G.svg)"
        echo
    fi
    if selected A; then
        echo "![A: SSE fan-out latency](./$(basename "$SVG_BASE")-A.svg)"
        echo
    fi
    if selected E && [[ -s $WORK/proxy.md ]]; then
        echo "## E: bench/proxy.sh's table"
        echo
        sed -e '1s/^# /### /' "$WORK/proxy.md"
        echo
    fi
    echo "## Every run"
    echo
    echo "| run | ended | figures | warnings |"
    echo "|---|---|---|---|"
    for f in "$WORK"/[A-G]*-*-*.json; do
        [[ -s $f ]] || continue
        n=$(basename "$f" .json)
        jq -r --arg n "$n" '"| \($n) | \(.ended) | published \(.published_ok) (\(.publish_rate | floor)/s), deliveries \(.deliveries), lost \(.lost), dup \(.duplicated), p50/p99/max \(.latency_ms.p50)/\(.latency_ms.p99)/\(.latency_ms.max) ms, server \(.server.cpu_s) s CPU, RSS peak \(.server.rss_peak_bytes / 1048576 * 10 | floor / 10) MiB, generator \(.generator.cpu_pct)%, others on server core \(.cores.server_others_pct)% / generator core \(.cores.generator_others_pct)% | \(.warnings | join("; ")) |"' "$f" 2>/dev/null
    done
    for f in "$WORK"/P-*.json; do
        [[ -s $f ]] || continue
        jq -r --arg n "$(basename "$f" .json)" '"| \($n) | wrk | \(.rps) requests/s, \(.requests) requests, p99 \(.p99_ms) ms, non-2xx \(.non2xx), server \(.cpu_s) s CPU | \(.socket_errors) |"' "$f"
    done
    missing_runs=$(for s in "${SELECTED[@]}"; do
        if [[ $s == E ]]; then [[ -s $WORK/proxy.md ]] || echo E; else compgen -G "$WORK/$s*" >/dev/null || echo "$s"; fi
    done | paste -sd' ' -)
    [[ -n $missing_runs ]] && echo && echo "Scenarios without any run: $missing_runs"
} >"$REPORT"

# ---------------------------------------------------------------------------------------------------
# SVG charts, built here with awk (no other tool).
svg_bars() {  # svg_bars FILE TITLE UNIT LOG(0/1) < lines "group|series|value"
    awk -F'|' -v title="$2" -v unit="$3" -v logscale="$4" '
    { g[NR] = $1; s[NR] = $2; v[NR] = $3 + 0; n = NR
      if (!($1 in gi)) { gi[$1] = ++ng; gname[ng] = $1 }
      if (!($2 in si)) { si[$2] = ++ns; sname[ns] = $2 }
      if (v[NR] > vmax) vmax = v[NR]; if (v[NR] > 0 && (vmin == 0 || v[NR] < vmin)) vmin = v[NR] }
    END {
      W = 760; H = 360; L = 70; R = 20; T = 40; B = 70; pw = W - L - R; ph = H - T - B
      color[1] = "#1f77b4"; color[2] = "#ff7f0e"; color[3] = "#2ca02c"; color[4] = "#d62728"
      if (logscale) { lo = 10 ^ int(log(vmin) / log(10) - (vmin < 1 ? 1 : 0)); hi = 10 ^ (int(log(vmax) / log(10)) + 1)
                      if (lo <= 0) lo = 0.001 } else { lo = 0; hi = vmax * 1.15; if (hi == 0) hi = 1 }
      printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"12\">\n", W, H
      printf "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
      printf "<text x=\"%d\" y=\"22\" font-size=\"15\" font-weight=\"bold\">%s</text>\n", L, title
      # axis and grid
      if (logscale) { for (t = lo; t <= hi * 1.0001; t *= 10) { y = T + ph - ph * (log(t / lo) / log(hi / lo))
          printf "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/><text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n", L, L + pw, y, y, L - 6, y + 4, t } }
      else { for (k = 0; k <= 5; k++) { t = hi * k / 5; y = T + ph - ph * k / 5
          printf "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/><text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.3g</text>\n", L, L + pw, y, y, L - 6, y + 4, t } }
      printf "<text x=\"16\" y=\"%d\" transform=\"rotate(-90 16 %d)\" text-anchor=\"middle\">%s%s</text>\n", T + ph / 2, T + ph / 2, unit, logscale ? " (log scale)" : ""
      gw = pw / ng; bw = gw * 0.8 / ns
      for (i = 1; i <= n; i++) { gx = L + (gi[g[i]] - 1) * gw + gw * 0.1 + (si[s[i]] - 1) * bw
        if (logscale) h = (v[i] > lo) ? ph * (log(v[i] / lo) / log(hi / lo)) : 0; else h = ph * v[i] / hi
        printf "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>%s, %s: %g</title></rect>\n", gx, T + ph - h, bw - 2, h, color[si[s[i]]], g[i], s[i], v[i]
        label = (v[i] >= 100) ? sprintf("%.0f", v[i]) : sprintf("%.3g", v[i])
        printf "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"10\">%s</text>\n", gx + (bw - 2) / 2, T + ph - h - 3, label }
      for (k = 1; k <= ng; k++) printf "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", L + (k - 0.5) * gw, T + ph + 18, gname[k]
      for (k = 1; k <= ns; k++) { x = L + (k - 1) * 200
        printf "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/><text x=\"%d\" y=\"%d\">%s</text>\n", x, H - 22, color[k], x + 16, H - 12, sname[k] }
      printf "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"black\"/>\n</svg>\n", L, L + pw, T + ph, T + ph
    }' >"$1"
}
mkdir -p "$(dirname "$OUT")"
if selected G; then
    {
        for mode in sse long interval; do
            case $mode in sse) g="SSE stream" ;; long) g="long-poll" ;; interval) g="poll every 1 s" ;; esac
            m=$(med "G$mode" herald .latency_ms.mean) p=$(med "G$mode" herald .latency_ms.p99)
            [[ -n $m ]] && echo "$g|latency mean (ms)|$m" && echo "$g|latency p99 (ms)|$p"
        done
    } | svg_bars "$SVG_BASE-G.svg" "G: push vs polling, Herald, $G_SUBS consumers × 20 events/s: delivery latency" "ms" 1
    {
        for mode in sse long interval; do
            case $mode in sse) g="SSE stream" ;; long) g="long-poll" ;; interval) g="poll every 1 s" ;; esac
            b=$(med "G$mode" herald '(if .deliveries > 0 then .transfer.bytes_in / .deliveries else empty end)')
            c=$(med "G$mode" herald "$CPU_US")
            r=$(med "G$mode" herald "(if .deliveries > 0 then (if .mode == \"fanout\" then .subscribers_ready else .transfer.requests end) / .deliveries * 1000 else empty end)")
            [[ -n $b ]] && echo "$g|bytes received per event|$b" && echo "$g|requests per 1,000 events|$r" &&
                echo "$g|server CPU µs per event|$c"
        done
    } | svg_bars "$SVG_BASE-G-cost.svg" "G: what a delivered event costs (Herald; three units, one log axis)" "bytes, requests, µs" 1
    sed -i "s|!\[G\](./$(basename "$SVG_BASE")-G.svg)|![G latency](./$(basename "$SVG_BASE")-G.svg) ![G cost](./$(basename "$SVG_BASE")-G-cost.svg)|" "$REPORT"
fi
if selected A; then
    for s in herald nchan pushpin; do
        for q in p50 p99 p999 max; do
            v=$(med A "$s" ".latency_ms.$q")
            [[ -n $v ]] && echo "$(server_label "$s")|$q|$v"
        done
    done | sed 's/|p999|/|p99.9|/' |
        svg_bars "$SVG_BASE-A.svg" "A: $A_SUBS SSE subscribers × $A_RATE events/s × ${SIZE} B: delivery latency" "ms" 1
fi
cp "$REPORT" "$OUT"
cat "$WORK"/*.json >"${OUT%.md}.jsonl" 2>/dev/null || true
echo >&2
cat "$OUT"
echo >&2
echo "written to $OUT (raw JSON lines: ${OUT%.md}.jsonl)" >&2
