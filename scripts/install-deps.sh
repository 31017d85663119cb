#!/usr/bin/env bash
# Installs every build, test and workload dependency of wirespan from Debian's archive.
# Idempotent: packages already present are skipped by apt. Needs root.
set -euo pipefail

BUILD_PKGS=(
  build-essential cmake ninja-build pkg-config git
  clang llvm libclang-rt-14-dev bpftool libbpf-dev libelf-dev zlib1g-dev
  libprotobuf-dev protobuf-compiler libcurl4-openssl-dev
  libspdlog-dev libfmt-dev libyaml-cpp-dev nlohmann-json3-dev libcli11-dev libpcap-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
)
# Real servers and unmodified Python clients the integration tests drive.
WORKLOAD_PKGS=(
  tcpdump iproute2 procps curl
  postgresql redis-server redis-tools rabbitmq-server nginx-light
  python3 python3-asyncpg python3-psycopg2 python3-psycopg python3-sqlalchemy
  python3-redis python3-pika python3-aio-pika python3-fastapi python3-uvicorn
  python3-protobuf python3-requests
)

if [[ ${1:-} == --build-only ]]; then
  PKGS=("${BUILD_PKGS[@]}")
else
  PKGS=("${BUILD_PKGS[@]}" "${WORKLOAD_PKGS[@]}")
fi

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  # Services must not start on install: tests start their own instances on loopback.
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
