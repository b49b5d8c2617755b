#!/usr/bin/env bash
# Installs the Node packages the integration tests use (eventsource, ws), from the lock file, once.
set -euo pipefail
cd "$(dirname "$0")/../tests/integration"
if [ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ]; then
    exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
