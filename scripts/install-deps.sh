#!/usr/bin/env bash
# Installs every Debian 12 package Herald needs to build and test. Idempotent: it asks apt only for what is
# missing, so a second run costs a dpkg query and nothing else.
set -euo pipefail

packages=(
    build-essential cmake ninja-build ccache pkg-config git curl ca-certificates openssl
    libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
    libssl-dev libyaml-cpp-dev libsqlite3-dev zlib1g-dev
    libgtest-dev libgmock-dev libbenchmark-dev
    libnats-dev  # the NATS JetStream engine (docs/engines.md)
    nats-server  # its integration tests run a 3-node JetStream cluster on loopback
    librdkafka-dev  # the Kafka engine (docs/engines.md); rdkafka_mock.h serves its tests
    libgoogle-perftools-dev  # tcmalloc, the server's allocator (docs/architecture.md, "Memory allocation")
    kcat  # interop tests read and write Kafka topics with a client that is not Herald
    procps psmisc
    chromium  # headless browser tests (EventSource and WebSocket from a real page), driven by playwright-core
    prometheus  # for /usr/bin/promtool: the observability tests check /metrics with `promtool check metrics`
)
# Node.js runs the client-side integration tests (eventsource, ws). The base image may already carry a
# newer Node.js from another source; only install Debian's when there is none at all.
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm  >/dev/null 2>&1 || packages+=(npm)
# `install-deps.sh fuzz` (what `make fuzz` runs) adds the clang toolchain for libFuzzer: the fuzzer and
# sanitizer runtimes are in libclang-rt-14-dev. Not in the default list: about 40 MB to download and
# 200 MB installed that `make test` never uses.
if [ "${1:-}" = "fuzz" ]; then
    packages+=(clang-14 libclang-rt-14-dev)
fi

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

# cmake/valijson.cmake fetches libvalijson-dev with `apt-get download` (no install: it would pull in Qt), which
# only needs apt's package lists — but container images often ship without them. Refresh them when apt cannot
# see the package.
lists_ok=1
apt-cache show libvalijson-dev >/dev/null 2>&1 || lists_ok=0

if [ ${#missing[@]} -eq 0 ] && [ "$lists_ok" -eq 1 ]; then
    exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
if [ ${#missing[@]} -gt 0 ]; then
    echo "install-deps: installing ${missing[*]}"
    # Only promtool is wanted from `prometheus`, but its maintainer scripts enable and start a Prometheus server.
    # invoke-rc.d (no systemd: containers, CI) and deb-systemd-invoke both obey a policy-rc.d that answers 101
    # ("not allowed"); one is put in place for the install when the machine has none, and removed afterwards.
    policy=/usr/sbin/policy-rc.d
    if [[ " ${missing[*]} " == *" prometheus "* ]] && [ ! -e "$policy" ]; then
        trap '$sudo rm -f "$policy"' EXIT
        printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
        $sudo chmod 755 "$policy"
    fi
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    # Under systemd the unit was enabled (and perhaps started): Herald's tests need the tool, not the daemon.
    if [[ " ${missing[*]} " == *" prometheus "* ]] && [ -d /run/systemd/system ]; then
        $sudo systemctl disable --now prometheus.service >/dev/null 2>&1 || true
    fi
fi
