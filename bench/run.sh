#!/usr/bin/env bash
# Herald benchmarks: starts Herald itself (a fresh data dir and server per run, port 0 + ready
# file), drives it with herald-loadgen, and prints a markdown table of the figures next to the
# project's floors.
#
# Usage: bash bench/run.sh [OUT.md] [GROUP...]   (default bench/results/latest.md, all groups)
#   e.g. bash bench/run.sh ws webhooks auth
#
# Groups (about 4 minutes for all; a 1 s baseline without Herald precedes every run):
#   publish  1 KiB events, 16 keep-alive connections, 5 s, closed loop: fsync interval, fsync
#            always, and batches of 100 events per request (fsync interval); each 3 times
#            (BENCH_REPEAT), the median is reported because the machine is shared and noisy.
#   fanout   1,000 SSE subscribers, 200 events/s of 512 B for 10 s: deliveries/s, latency, lost,
#            duplicated, server CPU and RSS; for comparison the same at 100 events/s, and at
#            200 events/s from one closed-loop publisher.
#   idle     10,000 idle SSE connections: server RSS per connection, then one event to all.
#   ws       the fan-out scenario with 1,000 WebSocket subscribers (/v1/ws, herald.v1), run right
#            after the SSE one, and their p99 ratio; publishing over one WebSocket connection
#            (32 ops in flight, 1 KiB, 5 s, 3 times).
#   webhooks a receiver in the generator (answers 204): 1 concurrent subscription (max_in_flight
#            32) fed as fast as 4 publishers go for 5 s; the same paused while 50,000 events are
#            published, then resumed (delivering a backlog); 100 ordered subscriptions at
#            120 events/s for 10 s (12,000 deliveries/s). Deliveries/s, latency, loss, the
#            receiver thread's CPU.
#   auth     JWT (RS256, key pair and token made here with the openssl CLI) and a publish rate
#            limit: publishing as in `publish` with and without the token, alternated (ABBA),
#            3 times each; the SSE fan-out scenario with JWT-authenticated subscribers and
#            publishers.
#   observability  the cost of the access log and of span export: publishing as in `publish` with
#            neither ("off"), the access log to a file ("access"), every span exported to a minimal
#            local OTLP/HTTP collector (node, on the generator's core; "trace"), spans sampled at 0.1
#            ("sampled") and both ("full"), in rotated order; the SSE fan-out scenario off and full.
#            Reported as server CPU per publish and per delivery (and publish throughput). Metrics
#            are counters that are always on: every variant has them.
#   schemas  publishing a realistic order event (bench/schemas: 16 properties, nested objects, enums,
#            patterns, an array of line items) with its JSON Schema registered for the type, against
#            the same events with no schema: single events (16 connections) and batches of 100,
#            alternated, 3 times each.
# The ws and auth groups compare with the SSE fan-out run, which they start if `fanout` is not
# selected.
#
# The server runs on core 0 and the generator on core 1 (taskset), one worker thread. Everything
# this script starts is stopped by PID on exit (trap), and every generator run has a hard deadline.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/bench/results/latest.md
ALL_GROUPS=(publish fanout idle ws webhooks auth schemas observability)
GROUPS_SELECTED=()
for arg in "$@"; do
    case $arg in
        *.md) OUT=$arg ;;
        all) GROUPS_SELECTED+=("${ALL_GROUPS[@]}") ;;
        publish | fanout | idle | ws | webhooks | auth | schemas | observability) GROUPS_SELECTED+=("$arg") ;;
        -h | --help)
            sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d'
            exit 0
            ;;
        *)
            echo "run.sh: unknown argument '$arg' (groups: ${ALL_GROUPS[*]} all; or OUT.md)" >&2
            exit 1
            ;;
    esac
done
[[ ${#GROUPS_SELECTED[@]} -gt 0 ]] || GROUPS_SELECTED=("${ALL_GROUPS[@]}")
selected() {  # selected GROUP: was it asked for?
    local g
    for g in "${GROUPS_SELECTED[@]}"; do [[ $g == "$1" ]] && return 0; done
    return 1
}
HERALD=${HERALD_BIN:-$ROOT/build/herald}
LOADGEN=${LOADGEN_BIN:-$ROOT/build/bench/herald-loadgen}
SERVER_CPU=${BENCH_SERVER_CPU:-0}
GEN_CPU=${BENCH_GEN_CPU:-1}
REPEAT=${BENCH_REPEAT:-3}
for bin in "$HERALD" "$LOADGEN"; do
    if [[ ! -x $bin ]]; then
        echo "run.sh: $bin is missing; build first: ninja -C build -j1 herald herald-loadgen" >&2
        exit 1
    fi
done
TOOLS=(jq taskset timeout)
selected auth && TOOLS+=(openssl)
selected observability && TOOLS+=(node)
for tool in "${TOOLS[@]}"; do
    command -v "$tool" >/dev/null || { echo "run.sh: $tool is required" >&2; exit 1; }
done

# What was measured; set BENCH_REVISION when HERALD_BIN was built from another tree.
if [[ -z ${BENCH_REVISION:-} ]]; then
    REVISION=$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)
    # A dirty tree is named by a hash of its diff, so two results can be told apart.
    if [[ $REVISION == *-dirty ]]; then
        REVISION+=" (diff $(git -C "$ROOT" diff HEAD 2>/dev/null | sha256sum | cut -c1-12))"
    fi
    REVISION+=", binary built $(date -u -r "$HERALD" +%Y-%m-%dT%H:%M:%SZ)"
else
    REVISION=$BENCH_REVISION
fi

WORK=$(mktemp -d)  # under $TMPDIR or /tmp
SERVER_PID=""
URL=""

stop_server() {
    [[ -n $SERVER_PID ]] || return 0
    if kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        # Graceful shutdown flushes logs and says goodbye to streams; give it 10 s, then force.
        for _ in $(seq 100); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$SERVER_PID" 2>/dev/null; then
            echo "run.sh: server $SERVER_PID ignored SIGTERM for 10 s; killing it" >&2
            kill -KILL "$SERVER_PID" 2>/dev/null || true
        fi
    fi
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}

COLLECTOR_PID=""
cleanup() {
    local rc=$?
    stop_server
    [[ -n $COLLECTOR_PID ]] && kill -TERM "$COLLECTOR_PID" 2>/dev/null
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_server NAME CONFIG_YAML: a fresh server with its own data dir; sets SERVER_PID and URL.
start_server() {
    local name=$1 config=$2 dir=$WORK/$1
    mkdir -p "$dir"
    printf '%s\n' "$config" >"$dir/herald.yaml"
    # Herald holds one fd per connection: give it the hard limit (20000 here).
    ulimit -n "$(ulimit -Hn)"
    taskset -c "$SERVER_CPU" "$HERALD" serve --config "$dir/herald.yaml" \
        --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 --data-dir "$dir/data" \
        --ready-file "$dir/ready" --threads 1 >"$dir/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 200); do
        [[ -s $dir/ready ]] && break
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            echo "run.sh: herald exited during start; its log:" >&2
            cat "$dir/server.log" >&2
            exit 1
        fi
        sleep 0.05
    done
    [[ -s $dir/ready ]] || { echo "run.sh: herald not ready after 10 s" >&2; exit 1; }
    URL="http://$(jq -r .listen "$dir/ready")"
}

# loadgen NAME ARGS...: one generator run against the current server; its JSON line goes to
# $WORK/NAME.json and its table to stderr (and $WORK/NAME.txt); a baseline goes to NAME.baseline.
loadgen() {
    local name=$1
    shift
    # The token is a throwaway made for this run; still, it is not printed.
    local shown="$*"
    [[ -n ${JWT:-} ]] && shown=${shown//"$JWT"/<JWT>}
    echo "== $name: herald-loadgen $shown" >&2
    local rc=0
    # A baseline without Herald just before each run: on a shared machine, figures from different
    # moments compare only as ratios to what the machine could do at that moment.
    taskset -c "$GEN_CPU" "$LOADGEN" --baseline --baseline-core "$SERVER_CPU" --json \
        --label "$name" >"$WORK/$name.baseline" || echo '{}' >"$WORK/$name.baseline"
    # The generator ends itself by its own hard deadline; timeout(1) only backs that up.
    timeout --foreground -k 5 300 taskset -c "$GEN_CPU" "$LOADGEN" --url "$URL" \
        --server-pid "$SERVER_PID" --label "$name" --json "$@" \
        >"$WORK/$name.json" 2> >(tee "$WORK/$name.txt" >&2) || rc=$?
    if [[ $rc -ne 0 || ! -s $WORK/$name.json ]]; then
        echo "run.sh: $name: herald-loadgen failed (exit $rc)" >&2
        echo '{"failed":true}' >"$WORK/$name.json"
    fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        echo "run.sh: $name: THE SERVER DIED; its log:" >&2
        tail -20 "$WORK/$name/server.log" >&2 || true
    fi
}

CFG_INTERVAL=$'topics:\n  defaults:\n    fsync: interval'
CFG_ALWAYS=$'topics:\n  defaults:\n    fsync: always'
# 10,000 streams plus the publisher's connection exceed the default http.max_connections (10000).
CFG_IDLE=$'http:\n  max_connections: 10100\ntopics:\n  defaults:\n    fsync: interval'

PUBLISH_ARGS=(--max --publishers 16 --size 1024 --duration 5)
FANOUT_ARGS=(--topic fanout --subscribers 1000 --rate 200 --publishers 16 --size 512 --duration 10
    --drain 5)

run_publish() {  # run_publish NAME CONFIG EXTRA_ARGS...
    local name=$1 cfg=$2
    shift 2
    for i in $(seq "$REPEAT"); do
        start_server "$name-$i" "$cfg"
        loadgen "$name-$i" --topic bench "${PUBLISH_ARGS[@]}" "$@"
        stop_server
    done
}

# The SSE fan-out scenario; the ws and auth groups compare with it, so it runs once for any of the
# three. Enough publisher connections that the 200/s schedule is kept even when acknowledgements
# are slow (each connection has one request in flight): arrivals then do not depend on the
# server's speed.
run_fanout_sse() {
    [[ -e $WORK/fanout.json ]] && return 0
    start_server fanout "$CFG_INTERVAL"
    loadgen fanout "${FANOUT_ARGS[@]}"
    stop_server
}

# make_jwt DIR: an RSA key pair and an RS256 token signed with the openssl CLI (issuer bench,
# audience herald, every publish and subscribe scope, valid for an hour); sets JWT and JWT_PUB.
make_jwt() {
    local dir=$1 now header payload sig
    mkdir -p "$dir"
    b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$dir/key.pem" 2>/dev/null
    openssl pkey -in "$dir/key.pem" -pubout -out "$dir/pub.pem"
    now=$(date +%s)
    header=$(printf '{"alg":"RS256","typ":"JWT"}' | b64url)
    payload=$(printf '{"iss":"bench","aud":"herald","sub":"bench","iat":%d,"exp":%d,"scope":"publish:* subscribe:*"}' \
        "$now" "$((now + 3600))" | b64url)
    sig=$(printf '%s.%s' "$header" "$payload" | openssl dgst -sha256 -sign "$dir/key.pem" -binary | b64url)
    JWT="$header.$payload.$sig"
    JWT_PUB=$dir/pub.pem
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
T_START=$(date +%s)

if selected publish; then
    run_publish publish-interval "$CFG_INTERVAL"
    run_publish publish-always "$CFG_ALWAYS"
    run_publish batch-interval "$CFG_INTERVAL" --batch 100
fi

if selected fanout; then
    run_fanout_sse

    # Half the rate, to show how latency depends on how busy the server's core is.
    start_server fanout-half "$CFG_INTERVAL"
    loadgen fanout-half --topic fanout --subscribers 1000 --rate 100 --publishers 16 --size 512 \
        --duration 10 --drain 5
    stop_server

    # The same with one closed-loop publisher, for comparison: it cannot send the next event
    # before the previous one is acknowledged, so when the server is slow the publisher falls
    # behind its schedule instead of the events queueing in the server (coordinated omission),
    # and latency looks better than what producers would see.
    start_server fanout-1pub "$CFG_INTERVAL"
    loadgen fanout-1pub --topic fanout --subscribers 1000 --rate 200 --publishers 1 --size 512 \
        --duration 10 --drain 5
    stop_server
fi

if selected idle; then
    start_server idle "$CFG_IDLE"
    loadgen idle --topic idle --idle --subscribers 10000 --size 512 --settle 2 --drain 10 \
        --connect-timeout 60
    stop_server
fi

if selected ws; then
    # The same fan-out with WebSocket subscribers, right after the SSE run it is compared with.
    run_fanout_sse
    start_server fanout-ws "$CFG_INTERVAL"
    loadgen fanout-ws "${FANOUT_ARGS[@]}" --transport ws
    stop_server
    # Publishing over one WebSocket connection, ops pipelined (32 in flight; Herald allows 64).
    for i in $(seq "$REPEAT"); do
        start_server "ws-publish-$i" "$CFG_INTERVAL"
        loadgen "ws-publish-$i" --topic bench --ws-publish --ws-inflight 32 --max --size 1024 \
            --duration 5
        stop_server
    done
fi

if selected webhooks; then
    # The receiver is 127.0.0.1, which the SSRF guard refuses unless allow-listed.
    CFG_WEBHOOKS=$'topics:\n  defaults:\n    fsync: interval\nwebhooks:\n  allow_destinations: ["127.0.0.1/32"]'
    # One subscription, concurrent with 32 in flight, fed as fast as 4 publisher connections go
    # for 5 s: the server's one core publishes and delivers at the same time.
    start_server webhook-1 "$CFG_WEBHOOKS"
    loadgen webhook-1 --topic hooks --webhook-receiver --webhooks 1 --webhook-mode concurrent \
        --webhook-max-in-flight 32 --max --publishers 4 --size 512 --duration 5 --drain 30
    stop_server
    # The same subscription paused while 50,000 events are published, then resumed: delivering a
    # backlog from the log with the server doing nothing else.
    start_server webhook-1-backlog "$CFG_WEBHOOKS"
    loadgen webhook-1-backlog --topic hooks --webhook-receiver --webhooks 1 \
        --webhook-mode concurrent --webhook-max-in-flight 32 --webhook-backlog --max \
        --publishers 4 --max-events 50000 --size 512 --duration 5 --drain 30
    stop_server
    # 100 receivers: 100 subscriptions to 100 ports of the generator's receiver (100 origins, each its
    # own connection pool in Herald), ordered (Herald's default mode: one
    # delivery in flight each), 120 events/s: 12,000 deliveries/s offered, which one server core
    # sustains (150/s did too on a quiet machine, at about 80% of the core).
    start_server webhook-100 "$CFG_WEBHOOKS"
    loadgen webhook-100 --topic hooks --webhook-receiver --webhooks 100 --receiver-ports 100 \
        --webhook-mode ordered --rate 120 --publishers 4 --size 512 --duration 10 --drain 30
    stop_server
fi

if selected auth; then
    make_jwt "$WORK/jwt"
    CFG_AUTH=$(printf '%s\n' "topics:" "  defaults:" "    fsync: interval" "auth:" "  enabled: true" \
        "  jwt:" "    - issuer: bench" "      audiences: [herald]" \
        "      keys: [{pem_file: \"$JWT_PUB\"}]" \
        "rate_limits:" "  publish: {rate: 1000000, burst: 1000000}")
    # Alternated with the same scenario without authentication (none, JWT, JWT, none, none, …:
    # a drift of the machine's speed during the series then affects both about equally).
    for i in $(seq "$REPEAT"); do
        order=(none jwt)
        ((i % 2 == 0)) && order=(jwt none)
        for kind in "${order[@]}"; do
            if [[ $kind == none ]]; then
                start_server "auth-publish-none-$i" "$CFG_INTERVAL"
                loadgen "auth-publish-none-$i" --topic bench "${PUBLISH_ARGS[@]}"
            else
                start_server "auth-publish-jwt-$i" "$CFG_AUTH"
                loadgen "auth-publish-jwt-$i" --topic bench "${PUBLISH_ARGS[@]}" \
                    --header "Authorization: Bearer $JWT"
            fi
            stop_server
        done
    done
    run_fanout_sse
    start_server fanout-jwt "$CFG_AUTH"
    loadgen fanout-jwt "${FANOUT_ARGS[@]}" --header "Authorization: Bearer $JWT"
    stop_server
fi

if selected schemas; then
    # The schema is registered at start from the config; the unvalidated runs publish the same
    # events (same type, same data) to a server that knows no schema for the type.
    CFG_SCHEMA=$(printf '%s\n' "topics:" "  defaults:" "    fsync: interval" "schemas:" "  files:" \
        "    - {type: shop.orderPlaced.v1, file: \"$ROOT/bench/schemas/order-placed.schema.json\"}")
    SCHEMA_ARGS=(--topic orders --type shop.orderPlaced.v1 --data-fields "$ROOT/bench/schemas/order-placed.data.json")
    for i in $(seq "$REPEAT"); do
        order=(none schema)
        ((i % 2 == 0)) && order=(schema none)
        for kind in "${order[@]}"; do
            cfg=$CFG_INTERVAL
            [[ $kind == schema ]] && cfg=$CFG_SCHEMA
            start_server "schema-publish-$kind-$i" "$cfg"
            loadgen "schema-publish-$kind-$i" "${SCHEMA_ARGS[@]}" "${PUBLISH_ARGS[@]}"
            stop_server
            start_server "schema-batch-$kind-$i" "$cfg"
            loadgen "schema-batch-$kind-$i" "${SCHEMA_ARGS[@]}" --max --publishers 16 --batch 100 \
                --size 1024 --duration 5
            stop_server
        done
    done
fi

if selected observability; then
    # A minimal OTLP/HTTP collector: reads each export request whole and answers 200 {}, counting spans'
    # bytes so that a run with nothing exported would show. On the generator's core.
    taskset -c "$GEN_CPU" node -e '
        let requests = 0, bytes = 0;
        const s = require("http").createServer((q, r) => {
            q.on("data", (c) => { bytes += c.length; });
            q.on("end", () => { requests++; r.setHeader("Content-Type", "application/json"); r.end("{}"); });
        });
        s.listen(0, "127.0.0.1", () => require("fs").writeFileSync(process.argv[1], String(s.address().port)));
        process.on("SIGTERM", () => { require("fs").writeFileSync(process.argv[2], JSON.stringify({ requests, bytes })); process.exit(0); });
    ' "$WORK/collector.port" "$WORK/collector.stats" &
    COLLECTOR_PID=$!
    for _ in $(seq 100); do [[ -s $WORK/collector.port ]] && break; sleep 0.05; done
    # obs_config KIND NAME: the server configuration of a variant.
    #   off      no access log, no span export (metrics, always on, are in every variant)
    #   access   the access log to a file (buffered, the default)
    #   trace    every request's spans exported (sample ratio 1)
    #   sampled  spans of 10% of new traces exported (sample ratio 0.1)
    #   full     the access log and every span
    obs_config() {
        local kind=$1 name=$2 access=false ratio=""
        case $kind in
            access) access=true ;;
            trace) ratio=1.0 ;;
            sampled) ratio=0.1 ;;
            full) access=true ratio=1.0 ;;
        esac
        printf '%s\n' "log:" "  access: $access" "  output: $WORK/$name.access.log"
        if [[ -n $ratio ]]; then
            printf '%s\n' "tracing:" "  otlp_endpoint: http://127.0.0.1:$(cat "$WORK/collector.port")" \
                "  sample_ratio: $ratio" "  flush_interval: 1s"
        fi
        printf '%s\n' "topics:" "  defaults:" "    fsync: interval"
    }
    # Publishing in all five variants, fan-out off and full; the order rotates every round so that no variant
    # always runs first or last.
    PUB_KINDS=(off access trace sampled full)
    for i in $(seq "$REPEAT"); do
        order=("${PUB_KINDS[@]:$(((i - 1) % 5))}" "${PUB_KINDS[@]:0:$(((i - 1) % 5))}")
        for kind in "${order[@]}"; do
            name=obs-publish-$kind-$i
            start_server "$name" "$(obs_config "$kind" "$name")"
            loadgen "$name" --topic bench "${PUBLISH_ARGS[@]}"
            stop_server
        done
        fan=(off full)
        ((i % 2 == 0)) && fan=(full off)
        for kind in "${fan[@]}"; do
            name=obs-fanout-$kind-$i
            start_server "$name" "$(obs_config "$kind" "$name")"
            loadgen "$name" "${FANOUT_ARGS[@]}"
            stop_server
        done
    done
    kill -TERM "$COLLECTOR_PID" 2>/dev/null || true
    wait "$COLLECTOR_PID" 2>/dev/null || true
fi

T_END=$(date +%s)
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- the table -----------------------------------------------------------------------------
j() { jq -r "$2" "$WORK/$1.json" 2>/dev/null || echo "n/a"; }
fmt_int() {  # 1234567.8 → 1,234,568
    local n
    n=$(awk -v v="$1" 'BEGIN{ if (v ~ /^-?[0-9.]+$/) printf "%.0f", v; else print v }')
    sed -e ':a' -e 's/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/' -e 'ta' <<<"$n"
}

# median_of NAME JQ_EXPR: median over the repetitions, plus "min–max".
median_of() {
    local name=$1 expr=$2 values
    values=$(for i in $(seq "$REPEAT"); do j "$name-$i" "$expr"; done | grep -E '^[0-9.]+$' | sort -n)
    [[ -n $values ]] || { echo "n/a"; return; }
    local n mid
    n=$(wc -l <<<"$values")
    mid=$(sed -n "$(((n + 1) / 2))p" <<<"$values")
    echo "$mid $(head -1 <<<"$values") $(tail -1 <<<"$values")"
}

have() { [[ -s $WORK/$1.json ]]; }
ok_run() { have "$1" && [[ $(j "$1" '.failed // false') != true ]]; }

verdict() {  # verdict OK? → met / missed
    if [[ $1 == 1 ]]; then echo "met"; else echo "**missed**"; fi
}

publish_row() {  # publish_row NAME LABEL FLOOR_EVENTS_PER_S (0 = none)
    local name=$1 label=$2 floor=$3 m lo hi cpu ack
    read -r m lo hi <<<"$(median_of "$name" '.publish_rate')"
    cpu=$(median_of "$name" '(.server.cpu_s / .window_s * 100)' | cut -d' ' -f1)
    ack=$(median_of "$name" '.ack_ms.p99' | cut -d' ' -f1)
    local gen noise iowait ratio
    gen=$(median_of "$name" '.generator.cpu_pct' | cut -d' ' -f1)
    noise=$(median_of "$name" '(.cores.server_others_pct + .cores.server_steal_pct)' | cut -d' ' -f3)
    iowait=$(median_of "$name" '.cores.server_iowait_pct' | cut -d' ' -f3)
    ratio=$(for i in $(seq "$REPEAT"); do
        jq -rs '(.[0].publish_rate // 0) / ((.[1].roundtrips_per_s // 0) + 1e-9)
                | if . > 0 and . < 1e6 then (. * 100 | round / 100) else empty end' \
            "$WORK/$name-$i.json" "$WORK/$name-$i.baseline" 2>/dev/null
    done | sort -n | awk '{v[NR]=$1} END {if (NR) print v[int((NR+1)/2)]}')
    local measured="n/a" floor_text="—" met="—"
    if [[ $m != n/a ]]; then
        measured="$(fmt_int "$m") events/s (runs: $(fmt_int "$lo")–$(fmt_int "$hi"); ${ratio:-n/a} × baseline; ack p99 ${ack} ms;"
        measured+=" server CPU ${cpu%.*}%, generator ${gen%.*}%; other work on the server's core ≤ ${noise%.*}%, iowait ≤ ${iowait%.*}%)"
    fi
    if [[ $floor != 0 ]]; then
        floor_text="≥ $(fmt_int "$floor") events/s"
        if [[ $m == n/a ]]; then met="**missed**"; else
            met=$(verdict "$(awk -v a="$m" -v b="$floor" 'BEGIN{print (a>=b)?1:0}')"); fi
    fi
    echo "| $label | $measured | $floor_text | $met |"
}

{
    echo "# Herald benchmark results"
    echo
    echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ), herald $REVISION ($HERALD)"
    echo "- machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load average $LOAD_BEFORE before, $LOAD_AFTER after"
    echo "- server on core $SERVER_CPU (\`--threads 1\`), generator on core $GEN_CPU; run time $((T_END - T_START)) s"
    rts=$(cat "$WORK"/*.baseline | jq -r '.roundtrips_per_s // empty' | sort -n)
    cpus=$(cat "$WORK"/*.baseline | jq -r '.cpu_ns_per_iter // empty' | sort -n)
    if [[ -n $rts ]]; then
        echo "- baseline without Herald, taken before each run (\`herald-loadgen --baseline\`): loopback TCP ping-pong of 1 KiB requests and 64 B answers between the two cores, median $(fmt_int "$(awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}' <<<"$rts")") round trips/s (range $(fmt_int "$(head -1 <<<"$rts")")–$(fmt_int "$(tail -1 <<<"$rts")")); CPU loop on the server's core $(awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}' <<<"$cpus") ns/iteration (range $(head -1 <<<"$cpus")–$(tail -1 <<<"$cpus")). Publish rates are also given as a ratio to the baseline of their own run."
    fi
    echo
    echo "| scenario | measured | floor | |"
    echo "|---|---|---|---|"
    if selected publish; then
        publish_row publish-interval "publish 1 KiB, 16 keep-alive conns, fsync interval (median of $REPEAT × 5 s)" 20000
        publish_row publish-always "publish 1 KiB, 16 keep-alive conns, fsync always (median of $REPEAT × 5 s)" 0
        publish_row batch-interval "batch publish 100 × 1 KiB per request, 16 conns, fsync interval (median of $REPEAT × 5 s)" 200000

    fi

    if have fanout; then
        if [[ $(j fanout '.failed // false') == true ]]; then
            echo "| fan-out 1,000 SSE × 200 events/s × 512 B, 10 s | run failed | p99 < 10 ms, 0 lost | **missed** |"
        else
            p99=$(j fanout '.latency_ms.p99')
            lost=$(j fanout '.lost')
            echo "| fan-out 1,000 SSE × 200 events/s × 512 B, 10 s, 16 publisher conns: latency p50 / p99 / p99.9 / max | $(j fanout '.latency_ms.p50') / $p99 / $(j fanout '.latency_ms.p999') / $(j fanout '.latency_ms.max') ms (schedule lag max $(j fanout '.schedule_lag_max_ms') ms) | p99 < 10 ms | $(verdict "$(awk -v p="$p99" 'BEGIN{print (p<10)?1:0}')") |"
            echo "| fan-out: lost / duplicated (of $(fmt_int "$(j fanout '.expected_deliveries')") expected deliveries) | $lost / $(j fanout '.duplicated') ($(j fanout '.subscribers_ready') subscribers ready, $(j fanout '.subscribers_dropped') dropped) | 0 lost | $(verdict "$(awk -v l="$lost" 'BEGIN{print (l==0)?1:0}')") |"
            echo "| fan-out: deliveries/s | $(fmt_int "$(j fanout '.deliveries_per_s')") ($(j fanout '.published_ok') events published) | — | — |"
            echo "| fan-out: server CPU, RSS peak | $(j fanout '.server.cpu_s') s ($(j fanout '(.server.cpu_s / .window_s * 100 | floor)')% of a core; $(j fanout '(.server.cpu_s / (.deliveries + 0.001) * 1e6 * 100 | round / 100)') µs per delivery), $(j fanout '(.server.rss_peak_bytes / 1048576 * 10 | round / 10)') MiB | — | — |"
            echo "| fan-out: generator CPU; other load on the server's core | $(j fanout '.generator.cpu_pct')% of a core; $(j fanout '(.cores.server_others_pct + .cores.server_steal_pct) * 10 | round / 10')% | — | — |"
        fi
        if ok_run fanout-half; then
            echo "| fan-out at half the rate (100 events/s, 16 conns; comparison): latency p50 / p99 / p99.9 / max | $(j fanout-half '.latency_ms.p50') / $(j fanout-half '.latency_ms.p99') / $(j fanout-half '.latency_ms.p999') / $(j fanout-half '.latency_ms.max') ms; lost $(j fanout-half '.lost'); server CPU $(j fanout-half '(.server.cpu_s / .window_s * 100 | floor)')% of a core, generator $(j fanout-half '.generator.cpu_pct | floor')% | — | — |"
        fi
        if ok_run fanout-1pub; then
            echo "| fan-out, same load from 1 closed-loop publisher (comparison): latency p50 / p99 / p99.9 / max | $(j fanout-1pub '.latency_ms.p50') / $(j fanout-1pub '.latency_ms.p99') / $(j fanout-1pub '.latency_ms.p999') / $(j fanout-1pub '.latency_ms.max') ms; lost $(j fanout-1pub '.lost'); but it published only $(j fanout-1pub '.publish_rate | round') events/s and fell up to $(j fanout-1pub '.schedule_lag_max_ms | round') ms behind its schedule | — | — |"
        fi

    fi

    if selected idle; then
        if [[ $(j idle '.failed // false') == true ]]; then
            echo "| idle 10,000 SSE | run failed | < 16 KiB per connection | **missed** |"
        else
            per=$(j idle '.server.rss_per_connection_bytes')
            echo "| idle $(fmt_int "$(j idle '.subscribers_ready')") SSE connections: server RSS per connection | $(fmt_int "$per") B ($(j idle '(.server.rss_before_bytes / 1048576 * 10 | round / 10)') → $(j idle '(.server.rss_connected_bytes / 1048576 * 10 | round / 10)') MiB) | < 16 KiB | $(verdict "$(awk -v p="$per" 'BEGIN{print (p<16384)?1:0}')") |"
            echo "| idle: one event to all connections (time until the last one has it) | $(j idle '.time_to_all_ms') ms (lost $(j idle '.lost'); RSS after delivery $(j idle '(.server.rss_end_bytes / 1048576 * 10 | round / 10)') MiB; the $(fmt_int "$(j idle '.subscribers_ready')") streams were opened in $(j idle '.subscribers_connect_s') s, 200 at a time) | — | — |"
        fi
    fi

    if selected ws; then
        if ok_run fanout-ws; then
            p99w=$(j fanout-ws '.latency_ms.p99')
            p99s=$(j fanout '.latency_ms.p99')
            lost=$(j fanout-ws '.lost')
            ratio=$(awk -v a="$p99w" -v b="$p99s" 'BEGIN{ if (b > 0) printf "%.2f", a / b; else print "n/a" }')
            echo "| fan-out 1,000 WebSocket subscribers (/v1/ws, herald.v1) × 200 events/s × 512 B, 10 s, 16 publisher conns: latency p50 / p99 / p99.9 / max | $(j fanout-ws '.latency_ms.p50') / $p99w / $(j fanout-ws '.latency_ms.p999') / $(j fanout-ws '.latency_ms.max') ms (SSE in this run: $(j fanout '.latency_ms.p50') / $p99s / $(j fanout '.latency_ms.p999') / $(j fanout '.latency_ms.max') ms) | — | — |"
            echo "| WebSocket fan-out p99 / SSE fan-out p99 (same run) | $p99w / $p99s ms = **${ratio} ×** | ≤ 1.5 × | $(verdict "$(awk -v r="$ratio" 'BEGIN{print (r != "n/a" && r <= 1.5)?1:0}')") |"
            echo "| WebSocket fan-out: lost / duplicated (of $(fmt_int "$(j fanout-ws '.expected_deliveries')") expected deliveries) | $lost / $(j fanout-ws '.duplicated') ($(j fanout-ws '.subscribers_ready') subscribers ready, $(j fanout-ws '.subscribers_dropped') dropped) | 0 lost | $(verdict "$(awk -v l="$lost" 'BEGIN{print (l==0)?1:0}')") |"
            echo "| WebSocket fan-out: deliveries/s; server CPU; generator CPU; other load on the server's core | $(fmt_int "$(j fanout-ws '.deliveries_per_s')"); $(j fanout-ws '(.server.cpu_s / .window_s * 100 | floor)')% of a core, $(j fanout-ws '(.server.cpu_s / (.deliveries + 0.001) * 1e6 * 100 | round / 100)') µs per delivery (SSE: $(j fanout '(.server.cpu_s / (.deliveries + 0.001) * 1e6 * 100 | round / 100)') µs); $(j fanout-ws '.generator.cpu_pct')% (SSE: $(j fanout '.generator.cpu_pct')%); $(j fanout-ws '(.cores.server_others_pct + .cores.server_steal_pct) * 10 | round / 10')% (SSE run: $(j fanout '(.cores.server_others_pct + .cores.server_steal_pct) * 10 | round / 10')%) | — | — |"
        else
            echo "| fan-out 1,000 WebSocket subscribers × 200 events/s × 512 B, 10 s | run failed | p99 ≤ 1.5 × SSE, 0 lost | **missed** |"
        fi
        publish_row ws-publish "publish over ONE WebSocket connection, 32 ops in flight, 1 KiB, fsync interval (median of $REPEAT × 5 s)" 0
    fi

    if selected webhooks; then
        for name in webhook-1 webhook-1-backlog webhook-100; do
            case $name in
                webhook-1) label="webhooks: 1 subscription (concurrent, max_in_flight 32), 4 publisher conns as fast as they go for 5 s, 512 B: signed deliveries/s, first publish → last receipt (the core publishes and delivers)" ;;
                webhook-1-backlog) label="webhooks: the same subscription paused while 50,000 events are published, then resumed: signed deliveries/s delivering the backlog (the core only delivers)" ;;
                *) label="webhooks: 100 receivers (100 subscriptions, ordered, to 100 ports), 120 events/s × 512 B for 10 s (12,000 deliveries/s offered): signed deliveries/s, first publish → last receipt" ;;
            esac
            if ! ok_run $name; then
                echo "| $label | run failed | ≥ 10,000 deliveries/s, receiver not the bottleneck | **missed** |"
                continue
            fi
            rcpu=$(j $name '.webhooks.receiver_cpu_pct')
            lost=$(j $name '.lost')
            if [[ $name == webhook-1-backlog ]]; then
                rate=$(j $name '.webhooks.deliveries_after_publish_per_s')
                # Latency is the time the events waited in the paused backlog: not a figure.
                lat="published in $(j $name '.window_s * 100 | round / 100') s, delivered in $(j $name '.drain_ms / 10 | round / 100') s after resuming"
                srv="server $(j $name '(.server.cpu_s / ((.drain_ms / 1000) + .window_s) * 100 | floor)')% of its core over the whole run"
            else
                rate=$(j $name '.webhooks.deliveries_per_s')
                lat="latency publish → receipt p50 / p99 / max $(j $name '.latency_ms.p50') / $(j $name '.latency_ms.p99') / $(j $name '.latency_ms.max') ms; published $(fmt_int "$(j $name '.publish_rate')") events/s"
                srv="server $(j $name '(.server.cpu_s / .window_s * 100 | floor)')% of its core over the publishing window"
            fi
            echo "| $label | **$(fmt_int "$rate")/s**; $(fmt_int "$(j $name '.webhooks.deliveries')") deliveries, lost $lost, duplicated $(j $name '.duplicated'); $lat; receiver thread $rcpu% of a core (whole generator $(j $name '.generator.cpu_pct')%); $srv, $(j $name '(.server.cpu_s / (.webhooks.deliveries + 0.001) * 1e6 * 10 | round / 10)') µs per delivery (publishing included); the receiver accepted $(fmt_int "$(j $name '.webhooks.connections_accepted')") connections for $(fmt_int "$(j $name '.webhooks.requests')") requests; other load on the server's core $(j $name '(.cores.server_others_pct + .cores.server_steal_pct) * 10 | round / 10')% | ≥ 10,000/s, 0 lost, receiver < 90% | $(verdict "$(awk -v r="$rate" -v c="$rcpu" -v l="$lost" 'BEGIN{print (r >= 10000 && c < 90 && l == 0)?1:0}')") |"
        done
    fi

    if selected auth; then
        read -r mj loj hij <<<"$(median_of auth-publish-jwt '.publish_rate')"
        read -r mn lon hin <<<"$(median_of auth-publish-none '.publish_rate')"
        if [[ $mj != n/a && $mn != n/a ]]; then
            ratio=$(awk -v a="$mj" -v b="$mn" 'BEGIN{printf "%.3f", a / b}')
            pairs=$(for i in $(seq "$REPEAT"); do
                jq -rs '(.[0].publish_rate // 0) / ((.[1].publish_rate // 0) + 1e-9) | . * 100 | round / 100' \
                    "$WORK/auth-publish-jwt-$i.json" "$WORK/auth-publish-none-$i.json" 2>/dev/null
            done | paste -sd' ')
            echo "| publish 1 KiB, 16 conns, fsync interval, with an RS256 JWT and a publish rate limit vs without (alternated, median of $REPEAT × 5 s each) | JWT $(fmt_int "$mj") events/s (runs $(fmt_int "$loj")–$(fmt_int "$hij")), none $(fmt_int "$mn") events/s (runs $(fmt_int "$lon")–$(fmt_int "$hin")): **$ratio ×** (pairs: $pairs); ack p99 JWT $(median_of auth-publish-jwt '.ack_ms.p99' | cut -d' ' -f1) / none $(median_of auth-publish-none '.ack_ms.p99' | cut -d' ' -f1) ms; failed publishes with JWT $(median_of auth-publish-jwt '.published_failed' | cut -d' ' -f3) | ≥ 0.85 × | $(verdict "$(awk -v r="$ratio" 'BEGIN{print (r >= 0.85)?1:0}')") |"
        else
            echo "| publish with an RS256 JWT vs without | run failed | ≥ 0.85 × | **missed** |"
        fi
        if ok_run fanout-jwt; then
            echo "| fan-out 1,000 JWT-authenticated SSE subscribers × 200 events/s × 512 B, JWT publishers: latency p50 / p99 / p99.9 / max | $(j fanout-jwt '.latency_ms.p50') / $(j fanout-jwt '.latency_ms.p99') / $(j fanout-jwt '.latency_ms.p999') / $(j fanout-jwt '.latency_ms.max') ms (without auth in this run: $(j fanout '.latency_ms.p50') / $(j fanout '.latency_ms.p99') / $(j fanout '.latency_ms.p999') / $(j fanout '.latency_ms.max') ms); lost $(j fanout-jwt '.lost') of $(fmt_int "$(j fanout-jwt '.expected_deliveries')"), duplicated $(j fanout-jwt '.duplicated'); $(j fanout-jwt '.subscribers_ready') subscribers ready; server $(j fanout-jwt '(.server.cpu_s / (.deliveries + 0.001) * 1e6 * 100 | round / 100)') µs per delivery (without: $(j fanout '(.server.cpu_s / (.deliveries + 0.001) * 1e6 * 100 | round / 100)')) | — | — |"
        else
            echo "| fan-out with JWT-authenticated SSE subscribers | run failed | — | — |"
        fi
    fi
    if selected observability; then
        # Publishing: the server's CPU per acknowledged publish (its capacity: a core saturates at 1 / that),
        # steadier on a shared machine than throughput, which is shown too.
        read -r poff polo pohi <<<"$(median_of obs-publish-off '.publish_rate')"
        read -r uoff _ _ <<<"$(median_of obs-publish-off '(.server.cpu_s / (.published_ok + 0.001) * 1e6)')"
        for kind in access trace sampled full; do
            read -r pon plo phi <<<"$(median_of obs-publish-$kind '.publish_rate')"
            read -r uon _ _ <<<"$(median_of obs-publish-$kind '(.server.cpu_s / (.published_ok + 0.001) * 1e6)')"
            case $kind in
                access) what="the access log to a file (buffered)" ;;
                trace) what="every request's spans exported over OTLP/HTTP (sample ratio 1)" ;;
                sampled) what="spans of 10% of traces exported (sample ratio 0.1)" ;;
                full) what="the access log and every span exported" ;;
            esac
            if [[ $pon != n/a && $poff != n/a && $uon != n/a && $uoff != n/a ]]; then
                ratio=$(awk -v a="$pon" -v b="$poff" 'BEGIN{printf "%.3f", a / b}')
                cratio=$(awk -v a="$uoff" -v b="$uon" 'BEGIN{printf "%.3f", a / b}')
                echo "| publish 1 KiB, 16 conns, fsync interval: $what vs neither (rotated order, median of $REPEAT × 5 s each) | server CPU per publish $(awk -v v="$uon" 'BEGIN{printf "%.1f", v}') µs vs $(awk -v v="$uoff" 'BEGIN{printf "%.1f", v}') µs: publishes per CPU second **$cratio ×**; throughput $(fmt_int "$pon") events/s (runs $(fmt_int "$plo")–$(fmt_int "$phi")) vs $(fmt_int "$poff") (runs $(fmt_int "$polo")–$(fmt_int "$pohi")): $ratio × | ≥ 0.95 × | $(verdict "$(awk -v r="$cratio" 'BEGIN{print (r >= 0.95)?1:0}')") |"
            else
                echo "| publish with $what vs without | run failed | ≥ 0.95 × | **missed** |"
            fi
        done
        exported=$(jq -r '"\(.requests) export requests, \(.bytes / 1048576 * 10 | round / 10) MiB"' "$WORK/collector.stats" 2>/dev/null || echo "n/a")
        echo "| (the collector received $exported over the whole group) | | | |"
        # Fan-out at a fixed rate: the cost shows as server CPU per delivery, not as throughput.
        read -r coff _ _ <<<"$(median_of obs-fanout-off '(.server.cpu_s / (.deliveries + 0.001) * 1e6)')"
        read -r con _ _ <<<"$(median_of obs-fanout-full '(.server.cpu_s / (.deliveries + 0.001) * 1e6)')"
        if [[ $con != n/a && $coff != n/a ]]; then
            ratio=$(awk -v a="$coff" -v b="$con" 'BEGIN{printf "%.3f", a / b}')
            echo "| fan-out 1,000 SSE × 200 events/s × 512 B, 10 s: server CPU per delivery with the access log and every span exported vs neither (alternated, median of $REPEAT) | $(awk -v v="$con" 'BEGIN{printf "%.2f", v}') µs vs $(awk -v v="$coff" 'BEGIN{printf "%.2f", v}') µs per delivery: deliveries per CPU second **$ratio ×**; p99 latency $(median_of obs-fanout-full '.latency_ms.p99' | cut -d' ' -f1) vs $(median_of obs-fanout-off '.latency_ms.p99' | cut -d' ' -f1) ms; lost $(median_of obs-fanout-full '.lost' | cut -d' ' -f3) / $(median_of obs-fanout-off '.lost' | cut -d' ' -f3) (max of runs) | ≥ 0.95 × | $(verdict "$(awk -v r="$ratio" 'BEGIN{print (r >= 0.95)?1:0}')") |"
        else
            echo "| fan-out with the access log and span export vs without | run failed | ≥ 0.95 × | **missed** |"
        fi
    fi
    if selected schemas; then
        for mode in publish batch; do
            read -r ms los his <<<"$(median_of schema-$mode-schema '.publish_rate')"
            read -r mn lon hin <<<"$(median_of schema-$mode-none '.publish_rate')"
            what="single events, 16 conns"
            [[ $mode == batch ]] && what="batches of 100 events, 16 conns"
            if [[ $ms != n/a && $mn != n/a ]]; then
                ratio=$(awk -v a="$ms" -v b="$mn" 'BEGIN{printf "%.3f", a / b}')
                failed=$(median_of schema-$mode-schema '.published_failed' | cut -d' ' -f3)
                echo "| publish a 1 KiB order event ($what, fsync interval) validated against its JSON Schema vs the same events with no schema (alternated, median of $REPEAT × 5 s each) | schema $(fmt_int "$ms") events/s (runs $(fmt_int "$los")–$(fmt_int "$his")), none $(fmt_int "$mn") events/s (runs $(fmt_int "$lon")–$(fmt_int "$hin")): **$ratio ×**; failed publishes with the schema (max of runs) $failed | ≥ 0.8 × | $(verdict "$(awk -v r="$ratio" -v f="$failed" 'BEGIN{print (r >= 0.8 && f == 0)?1:0}')") |"
            else
                echo "| publish validated against a JSON Schema vs none ($what) | run failed | ≥ 0.8 × | **missed** |"
            fi
        done
    fi
    echo
    warnings=$(for f in "$WORK"/*.json; do
        jq -r --arg n "$(basename "$f" .json)" '.warnings[]? | "- \($n): \(.)"' "$f" 2>/dev/null
    done)
    if [[ -n $warnings ]]; then
        echo "Warnings from the generator:"
        echo
        echo "$warnings"
    else
        echo "No warnings from the generator (it was never the bottleneck, nothing failed)."
    fi
} >"$WORK/table.md"

mkdir -p "$(dirname "$OUT")"
cp "$WORK/table.md" "$OUT"
# The raw JSON lines, for anyone who wants more than the table.
cat "$WORK"/*.json "$WORK"/*.baseline >"${OUT%.md}.jsonl"
echo
cat "$OUT"
echo
echo "written to $OUT (raw: ${OUT%.md}.jsonl)"
