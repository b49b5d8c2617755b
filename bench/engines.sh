#!/usr/bin/env bash
# Engine benchmarks (issue "Scale-out"): the same load on the embedded log, on NATS JetStream and on Kafka, and
# fan-out from one Herald node vs three Herald nodes over one shared engine, with the same subscriber count.
#
# Usage: bash bench/engines.sh [OUT.md]     (default bench/results/engines.md; about 4 minutes)
#
# Runs, each with fresh servers and data directories:
#   publish-embedded   1 KiB events, 16 keep-alive connections, 5 s, closed loop, embedded log (fsync interval)
#   publish-js1        the same on JetStream: one nats-server, streams with 1 replica
#   publish-js3        the same on a 3-node JetStream cluster, 3 replicas (the deployment of docs/deployment.md)
#   publish-js3-shared the same with `streams: shared` (every topic a subject of one stream)
#   fanout-embedded    1,000 SSE subscribers, 200 events/s of 512 B for 10 s, embedded log
#   fanout-js3-1node   the same, one Herald node over the 3-node cluster (R3)
#   fanout-js3-3nodes  the same subscriber count spread over three Herald nodes (R3); events published on node 1
#   fanout-js3-3nodes-shared   the same with `streams: shared`
#   publish-kafka      the publish load on Kafka: librdkafka's MOCK cluster (3 brokers, herald-kafka-mock; there
#                      is no Kafka broker in Debian) — it shows Herald's producer path, not a real broker's disk
#   fanout-kafka-1node / fanout-kafka-3nodes   the fan-out runs over the mock cluster
# Every Herald node and every nats-server runs on core 0 (taskset), the generator on core 1: on this two-core
# machine three nodes cannot add capacity, so the multi-node figures show what sharing the stream costs (the
# extra consumers, the replication), not how it scales. Server CPU is summed over every Herald and nats-server
# process of the run. Everything started here is stopped by PID on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${1:-$ROOT/bench/results/engines.md}
HERALD=${HERALD_BIN:-$ROOT/build/herald}
LOADGEN=${LOADGEN_BIN:-$ROOT/build/bench/herald-loadgen}
NATS=${NATS_SERVER:-/usr/sbin/nats-server}
KAFKA_MOCK=${HERALD_KAFKA_MOCK:-$ROOT/build/tests/herald-kafka-mock}
SERVER_CPU=${BENCH_SERVER_CPU:-0}
GEN_CPU=${BENCH_GEN_CPU:-1}
for bin in "$HERALD" "$LOADGEN" "$NATS" "$KAFKA_MOCK"; do
    [[ -x $bin ]] || { echo "engines.sh: $bin is missing (build: ninja -C build herald herald-loadgen herald-kafka-mock; nats-server: scripts/install-deps.sh)" >&2; exit 1; }
done
for tool in jq taskset timeout curl; do
    command -v "$tool" >/dev/null || { echo "engines.sh: $tool is required" >&2; exit 1; }
done

WORK=$(mktemp -d)
PIDS=()
cleanup() {
    local rc=$?
    stop_all
    rm -rf "$WORK"
    exit "$rc"
}
stop_all() {
    local p
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do
        for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    PIDS=()
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

NATS_URLS=""
# start_nats NAME N: N nats-servers with JetStream (a cluster when N > 1); sets NATS_URLS.
start_nats() {
    local name=$1 n=$2 i
    local -a client cluster monitor
    for i in $(seq "$n"); do client[i]=$(free_port); cluster[i]=$(free_port); monitor[i]=$(free_port); done
    NATS_URLS=""
    for i in $(seq "$n"); do
        local dir=$WORK/$name/nats$i args=()
        mkdir -p "$dir"
        args=(-a 127.0.0.1 -p "${client[i]}" -m "${monitor[i]}" -n "n$i" -js -sd "$dir")
        if [[ $n -gt 1 ]]; then
            local routes="" j
            for j in $(seq "$n"); do [[ $j == "$i" ]] || routes+="${routes:+,}nats://127.0.0.1:${cluster[j]}"; done
            args+=(--cluster_name bench --cluster "nats://127.0.0.1:${cluster[i]}" --routes "$routes")
        fi
        taskset -c "$SERVER_CPU" "$NATS" "${args[@]}" >"$dir/log" 2>&1 &
        PIDS+=($!)
        NATS_URLS+="${NATS_URLS:+, }nats://127.0.0.1:${client[i]}"
    done
    for _ in $(seq 200); do
        if [[ $n == 1 ]]; then
            curl -sf "127.0.0.1:${monitor[1]}/jsz" >/dev/null && return 0
        else
            curl -sf "127.0.0.1:${monitor[1]}/jsz" | jq -e '.meta_cluster.leader // empty' >/dev/null 2>&1 && return 0
        fi
        sleep 0.1
    done
    echo "engines.sh: the JetStream cluster did not elect a leader" >&2
    exit 1
}

KAFKA_BROKERS=""
# start_kafka NAME: the mock Kafka cluster (3 brokers) on the server core; sets KAFKA_BROKERS. Its stdin is a
# FIFO held open by this script, so it lives until stopped by PID.
start_kafka() {
    local dir=$WORK/$1
    mkdir -p "$dir"
    mkfifo "$dir/in"
    taskset -c "$SERVER_CPU" "$KAFKA_MOCK" --brokers 3 --ready-file "$dir/ready" <"$dir/in" >"$dir/log" 2>&1 &
    PIDS+=($!)
    exec {KAFKA_IN}>"$dir/in"
    for _ in $(seq 100); do [[ -s $dir/ready ]] && break; sleep 0.05; done
    KAFKA_BROKERS=$(sed -n 's/^bootstrap=//p' "$dir/ready" | sed 's/,/, /g')
    [[ -n $KAFKA_BROKERS ]] || { echo "engines.sh: the Kafka mock did not start" >&2; exit 1; }
}

URLS=()
HERALD_PIDS=()
# start_herald NAME CONFIG: one Herald node; appends to URLS and HERALD_PIDS.
start_herald() {
    local name=$1 config=$2 dir=$WORK/$1
    mkdir -p "$dir"
    printf '%s\n' "$config" >"$dir/herald.yaml"
    ulimit -n "$(ulimit -Hn)"
    taskset -c "$SERVER_CPU" "$HERALD" serve --config "$dir/herald.yaml" --listen 127.0.0.1:0 \
        --admin-listen 127.0.0.1:0 --data-dir "$dir/data" --ready-file "$dir/ready" --threads 1 \
        >"$dir/server.log" 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    HERALD_PIDS+=("$pid")
    for _ in $(seq 200); do
        [[ -s $dir/ready ]] && break
        kill -0 "$pid" 2>/dev/null || { echo "engines.sh: herald $name exited:" >&2; cat "$dir/server.log" >&2; exit 1; }
        sleep 0.05
    done
    URLS+=("http://$(jq -r .listen "$dir/ready")")
}

# run NAME ARGS...: one generator run against the servers started; the JSON result in $WORK/NAME.json.
run() {
    local name=$1
    shift
    local pids
    pids=$(IFS=,; echo "${PIDS[*]}")
    echo "== $name: herald-loadgen $*" >&2
    timeout --foreground -k 5 300 taskset -c "$GEN_CPU" "$LOADGEN" --server-pid "$pids" --label "$name" --json "$@" \
        >"$WORK/$name.json" 2> >(tee "$WORK/$name.txt" >&2) || echo '{"failed":true}' >"$WORK/$name.json"
}

reset() { stop_all; URLS=(); HERALD_PIDS=(); }

PUBLISH=(--topic bench --max --publishers 16 --size 1024 --duration 5)
FANOUT=(--topic fanout --subscribers 1000 --rate 200 --publishers 16 --size 512 --duration 10 --drain 5)
EMBEDDED=$'topics:\n  defaults:\n    fsync: interval'
kafka_config() { printf 'engine:\n  kind: kafka\n  kafka:\n    brokers: [%s]\n    create_topics: broker\n' "$1"; }
js_config() { printf 'engine:\n  kind: jetstream\n  jetstream:\n    servers: [%s]\n    replicas: %s\n    streams: %s\n' "$1" "$2" "${3:-per_topic}"; }

# Topics exist before the subscribers open (as the core benchmarks do: the fan-out topic is created first).
make_topic() { curl -sf -o /dev/null -H 'Content-Type: application/json' -d '{"warm":true}' "$1/v1/topics/$2/events?type=bench.warmedUp.v1" || true; }

start_herald publish-embedded "$EMBEDDED"
run publish-embedded --url "${URLS[0]}" "${PUBLISH[@]}"
reset

start_nats js1 1
start_herald publish-js1 "$(js_config "$NATS_URLS" 1)"
run publish-js1 --url "${URLS[0]}" "${PUBLISH[@]}"
reset

start_nats js3 3
start_herald publish-js3 "$(js_config "$NATS_URLS" 3)"
run publish-js3 --url "${URLS[0]}" "${PUBLISH[@]}"
reset

start_nats js3s 3
start_herald publish-js3-shared "$(js_config "$NATS_URLS" 3 shared)"
run publish-js3-shared --url "${URLS[0]}" "${PUBLISH[@]}"
reset

start_herald fanout-embedded "$EMBEDDED"
make_topic "${URLS[0]}" fanout
run fanout-embedded --url "${URLS[0]}" "${FANOUT[@]}"
reset

start_nats fanout1 3
start_herald fanout-js3-1node "$(js_config "$NATS_URLS" 3)"
make_topic "${URLS[0]}" fanout
run fanout-js3-1node --url "${URLS[0]}" "${FANOUT[@]}"
reset

start_nats fanout3 3
for i in 1 2 3; do start_herald "fanout-js3-node$i" "$(js_config "$NATS_URLS" 3)"; done
make_topic "${URLS[0]}" fanout
ports=$(for u in "${URLS[@]}"; do echo "${u##*:}"; done | paste -sd,)
run fanout-js3-3nodes --url "${URLS[0]}" --subscribe-ports "$ports" "${FANOUT[@]}"
reset

start_nats fanout3s 3
for i in 1 2 3; do start_herald "fanout-js3s-node$i" "$(js_config "$NATS_URLS" 3 shared)"; done
make_topic "${URLS[0]}" fanout
ports=$(for u in "${URLS[@]}"; do echo "${u##*:}"; done | paste -sd,)
run fanout-js3-3nodes-shared --url "${URLS[0]}" --subscribe-ports "$ports" "${FANOUT[@]}"
reset

start_kafka publish-kafka-mock
start_herald publish-kafka "$(kafka_config "$KAFKA_BROKERS")"
run publish-kafka --url "${URLS[0]}" "${PUBLISH[@]}"
reset

start_kafka fanout-kafka-1
start_herald fanout-kafka-1node "$(kafka_config "$KAFKA_BROKERS")"
make_topic "${URLS[0]}" fanout
run fanout-kafka-1node --url "${URLS[0]}" "${FANOUT[@]}"
reset

start_kafka fanout-kafka-3
for i in 1 2 3; do start_herald "fanout-kafka-node$i" "$(kafka_config "$KAFKA_BROKERS")"; done
make_topic "${URLS[0]}" fanout
ports=$(for u in "${URLS[@]}"; do echo "${u##*:}"; done | paste -sd,)
run fanout-kafka-3nodes --url "${URLS[0]}" --subscribe-ports "$ports" "${FANOUT[@]}"
reset

j() { jq -r "$2" "$WORK/$1.json" 2>/dev/null || echo "n/a"; }
publish_row() {
    if [[ $(j "$1" '.failed // false') == true ]]; then echo "| $2 | run failed | | | |"; return; fi
    echo "| $2 | $(j "$1" '.publish_rate | round') | $(j "$1" '.ack_ms.p50') / $(j "$1" '.ack_ms.p99') | $(j "$1" '.publish_failed // 0') | $(j "$1" '(.server.cpu_s / .window_s * 100 | round)')% ($(j "$1" '(.server.cpu_s / (.published_ok + 0.001) * 1e6 * 10 | round / 10)') µs per event) |"
}
fanout_row() {
    if [[ $(j "$1" '.failed // false') == true ]]; then echo "| $2 | run failed | | | |"; return; fi
    echo "| $2 | $(j "$1" '.latency_ms.p50') / $(j "$1" '.latency_ms.p99') / $(j "$1" '.latency_ms.max') | $(j "$1" '.lost') / $(j "$1" '.duplicated') of $(j "$1" '.expected_deliveries') | $(j "$1" '.deliveries_per_s | round') | $(j "$1" '(.server.cpu_s / .window_s * 100 | round)')% ($(j "$1" '(.server.cpu_s / (.deliveries + 0.001) * 1e6 * 100 | round / 100)') µs per delivery), RSS $(j "$1" '(.server.rss_peak_bytes / 1048576 | round)') MiB |"
}

{
    echo "# Engines: embedded log vs NATS JetStream vs Kafka (mock), one node vs three"
    echo
    echo "Measured $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(nproc) cores, revision $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown),"
    echo "nats-server $("$NATS" --version | awk '{print $2}'). Command: \`bash bench/engines.sh\`. Every server process on core $SERVER_CPU,"
    echo "the generator on core $GEN_CPU; server CPU sums every Herald, nats-server and Kafka-mock process (the engine's own work included)."
    echo "Kafka rows run on librdkafka's MOCK cluster (in-memory brokers, no disk, no network hop): they measure Herald's"
    echo "Kafka path (idempotent producer with acks=all, delivery reports, the consumer), not a production Kafka."
    echo
    echo "| publishing: 1 KiB events, 16 connections, closed loop, 5 s | events/s | ack p50 / p99 ms | failed | server CPU |"
    echo "|---|---|---|---|---|"
    publish_row publish-embedded "embedded log (fsync interval)"
    publish_row publish-js1 "JetStream, 1 server, R1"
    publish_row publish-js3 "JetStream, 3-server cluster, R3"
    publish_row publish-js3-shared "JetStream, 3-server cluster, R3, streams: shared"
    publish_row publish-kafka "Kafka MOCK cluster, 3 brokers, acks=all"
    echo
    echo "| fan-out: 1,000 SSE subscribers, 200 events/s × 512 B, 10 s | latency p50 / p99 / max ms | lost / duplicated | deliveries/s | server CPU |"
    echo "|---|---|---|---|---|"
    fanout_row fanout-embedded "embedded log, 1 Herald node"
    fanout_row fanout-js3-1node "JetStream R3, 1 Herald node"
    fanout_row fanout-js3-3nodes "JetStream R3, 3 Herald nodes (333/333/334 subscribers; published on node 1)"
    fanout_row fanout-js3-3nodes-shared "JetStream R3, streams: shared, 3 Herald nodes (as above)"
    fanout_row fanout-kafka-1node "Kafka MOCK, 1 Herald node"
    fanout_row fanout-kafka-3nodes "Kafka MOCK, 3 Herald nodes (333/333/334 subscribers; published on node 1)"
} >"$OUT"
cat "$OUT"
