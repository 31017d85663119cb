#!/usr/bin/env bash
# One command from a fresh machine to spans on the terminal: installs what is needed (Debian
# packages), builds, and runs the agent with console output. Extra arguments go to `wirespan run`
# (e.g. --exe 'uvicorn' --print json). Needs root: the agent loads eBPF programs.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${WIRESPAN_BUILD_DIR:-build}
bash scripts/install-deps.sh --build-only
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" --target wirespan -j "$(nproc)"
echo "wirespan built: $BUILD/agent/cli/wirespan. Tracing; make some HTTP/SQL/Redis/AMQP traffic." >&2
exec "$BUILD/agent/cli/wirespan" run "$@"
