#!/usr/bin/env bash
# Creates the example's webhook subscription through Herald's API (herald.yaml declares none: subscriptions are
# made at run time and kept in meta.db). Safe to run twice: an existing subscription to the same URL is kept.
#
# Environment (defaults match herald.yaml and webhook-receiver.js):
#   HERALD_URL      http://127.0.0.1:8080
#   HERALD_API_KEY  the demo client key (subscribe:orders)
#   RECEIVER_URL    http://127.0.0.1:9100/hooks/orders
#   WEBHOOK_SECRET  the demo secret the receiver verifies with
set -euo pipefail

HERALD_URL=${HERALD_URL:-http://127.0.0.1:8080}
HERALD_API_KEY=${HERALD_API_KEY:-hk_demo_client_key_0000000000000000000000000}
RECEIVER_URL=${RECEIVER_URL:-http://127.0.0.1:9100/hooks/orders}
WEBHOOK_SECRET=${WEBHOOK_SECRET:-whsec_aGVyYWxkLWRlbW8td2ViaG9vay1zZWNyZXQhIQ==}

auth=(-H "Authorization: Bearer ${HERALD_API_KEY}")

existing=$(curl -sS --fail-with-body "${auth[@]}" "${HERALD_URL}/v1/subscriptions?topic=orders")
if grep -qF "\"url\":\"${RECEIVER_URL}\"" <<<"${existing}"; then
    echo "a subscription to ${RECEIVER_URL} exists already:"
    echo "${existing}"
    exit 0
fi

body=$(cat <<JSON
{"topic": "orders", "url": "${RECEIVER_URL}", "types": ["shop.order*"], "secret": "${WEBHOOK_SECRET}",
 "mode": "ordered", "from": "latest", "timeout": "5s"}
JSON
)
echo "creating the webhook subscription: orders -> ${RECEIVER_URL}"
curl -sS --fail-with-body "${auth[@]}" -H 'Content-Type: application/json' -d "${body}" \
    "${HERALD_URL}/v1/subscriptions"
echo
