#!/usr/bin/env bash
# REST proxying, Herald vs nginx (issue 7): keep-alive proxying of a small JSON answer from the same upstream,
# measured with wrk in the same run, each proxy given one core.
#
# Usage: bash bench/proxy.sh [OUT.md]      (default bench/results/proxy-latest.md)
#   BENCH_REPEAT=3 runs per proxy, alternated (nginx, herald, herald, nginx, ...); the median is reported.
#
# Layout: the proxy under test on core 0 (nginx: worker_processes 1; Herald: --threads 1); the upstream (an nginx
# answering a 60-byte JSON document from memory) and wrk (1 thread, 16 connections, 5 s) on core 1. Both proxies
# keep connections to the upstream alive. Everything started here is stopped by PID on exit; loopback only.
# Needs the Debian packages nginx-light (or nginx) and wrk: `apt-get install nginx-light wrk`.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${1:-$ROOT/bench/results/proxy-latest.md}
HERALD=${HERALD_BIN:-$ROOT/build/herald}
REPEAT=${BENCH_REPEAT:-3}
DURATION=${BENCH_DURATION:-5}
for tool in nginx wrk taskset jq; do
    command -v "$tool" >/dev/null || { echo "proxy.sh: $tool is missing (apt-get install nginx-light wrk jq util-linux)" >&2; exit 1; }
done
[[ -x $HERALD ]] || { echo "proxy.sh: $HERALD not built (make build)" >&2; exit 1; }

WORK=$(mktemp -d)  # a fresh directory under $TMPDIR
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
    || node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
UP_PORT=$(free_port)
NGINX_PORT=$(free_port)
BODY='{"id":42,"name":"Ada Lovelace","email":"ada@example.org"}'

nginx_conf() {  # nginx_conf DIR BODY_OF_SERVER_BLOCK
    mkdir -p "$1"
    cat >"$1/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $1/nginx.pid;
error_log $1/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $1/body;
    proxy_temp_path $1/proxy;
    fastcgi_temp_path $1/fastcgi;
    uwsgi_temp_path $1/uwsgi;
    scgi_temp_path $1/scgi;
    keepalive_requests 1000000;
    $2
}
EOF
}

# The upstream, on the generator's core.
nginx_conf "$WORK/upstream" "server { listen 127.0.0.1:$UP_PORT; location / { default_type application/json; return 200 '$BODY'; } }"
taskset -c 1 nginx -c "$WORK/upstream/nginx.conf" -e "$WORK/upstream/error.log" &
PIDS+=($!)

# nginx as the proxy under test.
nginx_conf "$WORK/proxy" "upstream app { server 127.0.0.1:$UP_PORT; keepalive 64; }
    server { listen 127.0.0.1:$NGINX_PORT; location / { proxy_pass http://app; proxy_http_version 1.1;
        proxy_set_header Connection \"\"; proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for; } }"

# Herald as the proxy under test: one route, same upstream.
mkdir -p "$WORK/herald"
cat >"$WORK/herald/herald.yaml" <<EOF
upstreams:
  app:
    targets: ["127.0.0.1:$UP_PORT"]
    max_idle_connections: 64
routes:
  - name: all
    match: {prefix: /}
    upstream: app
log:
  access: false
EOF

sleep 0.5
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
run_wrk() {  # run_wrk NAME URL
    taskset -c 1 wrk -t1 -c16 -d"${DURATION}s" --latency "$2/users/42" >"$WORK/$1.txt" 2>&1 || true
    local rps p99
    rps=$(awk '/^Requests\/sec/ {print $2}' "$WORK/$1.txt")
    p99=$(awk '$1 == "99%" {print $2}' "$WORK/$1.txt")
    echo "$1 $rps $p99" >>"$WORK/results"
    echo "== $1: $rps requests/s, p99 $p99" >&2
}

for i in $(seq "$REPEAT"); do
    order=(nginx herald)
    ((i % 2 == 0)) && order=(herald nginx)
    for kind in "${order[@]}"; do
        if [[ $kind == nginx ]]; then
            taskset -c 0 nginx -c "$WORK/proxy/nginx.conf" -e "$WORK/proxy/error.log" &
            pid=$!
            sleep 0.5
            run_wrk "nginx-$i" "http://127.0.0.1:$NGINX_PORT"
        else
            rm -rf "$WORK/herald/data" "$WORK/herald/ready"
            taskset -c 0 "$HERALD" serve --config "$WORK/herald/herald.yaml" --listen 127.0.0.1:0 \
                --admin-listen 127.0.0.1:0 --data-dir "$WORK/herald/data" --ready-file "$WORK/herald/ready" \
                --threads 1 >"$WORK/herald/log" 2>&1 &
            pid=$!
            for _ in $(seq 100); do [[ -s $WORK/herald/ready ]] && break; sleep 0.05; done
            run_wrk "herald-$i" "http://$(jq -r .listen "$WORK/herald/ready")"
        fi
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
done

median() { grep "^$1-" "$WORK/results" | awk '{print $2}' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
all() { grep "^$1-" "$WORK/results" | awk '{printf "%s%s (p99 %s)", (NR>1?", ":""), $2, $3}'; }
H=$(median herald)
N=$(median nginx)
RATIO=$(awk -v h="$H" -v n="$N" 'BEGIN{ if (n > 0) printf "%.2f", h / n; else print "n/a" }')
mkdir -p "$(dirname "$OUT")"
{
    echo "# REST proxying: Herald vs nginx ($(date -u +%Y-%m-%dT%H:%M:%SZ))"
    echo
    echo "- command: \`bash bench/proxy.sh\` (wrk -t1 -c16 -d${DURATION}s, ${REPEAT} alternated runs each; proxy on core 0, upstream nginx and wrk on core 1)"
    echo "- herald $(git -C "$ROOT" describe --always --dirty 2>/dev/null), $(nginx -v 2>&1), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)"
    echo "- load average before: $LOAD_BEFORE; other processes on the machine are not controlled"
    echo
    echo "| proxy | requests/s (median) | runs (requests/s, p99) |"
    echo "|---|---|---|"
    echo "| nginx | $N | $(all nginx) |"
    echo "| Herald | $H | $(all herald) |"
    echo
    echo "Herald / nginx: **$RATIO ×** (floor 0.8 ×, goal ≥ 1 ×)."
    echo
    echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$OUT"
cat "$OUT"
