#!/usr/bin/env bash
# Starts a 3-server JetStream cluster and 3 Herald nodes on loopback, all from this directory:
#   nats  127.0.0.1:4222-4224      Herald  127.0.0.1:8081-8083 (admin 9181-9183)
# Ctrl-C stops everything it started (by PID). Data goes to ./cluster-data.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
HERALD=${HERALD_BIN:-../../build/herald}
NATS=${NATS_SERVER:-/usr/sbin/nats-server}
[[ -x $HERALD ]] || { echo "run.sh: build Herald first (make build)" >&2; exit 1; }
[[ -x $NATS ]] || { echo "run.sh: nats-server is missing (scripts/install-deps.sh installs it)" >&2; exit 1; }
mkdir -p cluster-data
nats_pids=()
herald_pids=()
# Herald first (it writes its last webhook progress and hands over its lease through NATS), then NATS. The
# children run in their own sessions (setsid) so that Ctrl-C reaches only this script, which stops them in
# that order; with a shared process group NATS would die under the Herald nodes still shutting down.
stop_all() {
    kill "${herald_pids[@]}" 2>/dev/null || true
    for p in "${herald_pids[@]}"; do wait "$p" 2>/dev/null || true; done
    kill "${nats_pids[@]}" 2>/dev/null || true
    for p in "${nats_pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap stop_all EXIT
trap 'exit 130' INT TERM
for i in 1 2 3; do
    setsid "$NATS" -c "nats-$i.conf" >"cluster-data/nats-$i.log" 2>&1 &
    nats_pids+=($!)
done
# The cluster can take streams once it has a meta leader.
for _ in $(seq 100); do
    curl -sf 127.0.0.1:8222/jsz 2>/dev/null | grep -q '"leader"' && break
    sleep 0.1
done
for i in 1 2 3; do
    setsid "$HERALD" serve --config herald.yaml --listen "127.0.0.1:808$i" --admin-listen "127.0.0.1:918$i" \
        --data-dir "cluster-data/herald-$i" >"cluster-data/herald-$i.log" 2>&1 &
    herald_pids+=($!)
done
cat <<'TXT'
Three Herald nodes over a three-server JetStream cluster:
  publish on one node:    curl -H 'Content-Type: application/json' -d '{"id":1}' 'http://127.0.0.1:8081/v1/topics/orders/events?type=shop.orderPlaced.v1'
  subscribe on another:   curl -N -H 'Accept: text/event-stream' 'http://127.0.0.1:8083/v1/topics/orders/events?from=earliest'
Logs in cluster-data/. Ctrl-C stops everything.
TXT
wait
