#!/usr/bin/env bash
# Builds everything and runs every test: unit tests, the real-kernel BPF and end-to-end tests
# (root), and each decoder's fuzzer briefly. The README's second command; .ci/run calls it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${WIRESPAN_BUILD_DIR:-$ROOT/build}
FUZZ_BUILD=${WIRESPAN_FUZZ_BUILD_DIR:-$ROOT/build-fuzz}
JOBS=${JOBS:-$(nproc)}

bash scripts/install-deps.sh

if [[ $(id -u) -ne 0 ]]; then
  echo "test.sh: the BPF and end-to-end tests load eBPF programs and need root" >&2
  exit 2
fi

echo "== configure and build (warnings are errors) =="
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWIRESPAN_WERROR=ON
cmake --build "$BUILD" -j "$JOBS"

echo "== tests =="
# Unit tests first (fast feedback), then tests that load BPF programs and start real servers.
ctest --test-dir "$BUILD" -L unit --output-on-failure -j "$JOBS"
ctest --test-dir "$BUILD" -L 'bpf|e2e' --output-on-failure -j 1

echo "== fuzzers (brief) =="
CC=clang CXX=clang++ cmake -S . -B "$FUZZ_BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DWIRESPAN_FUZZ=ON -DWIRESPAN_BUILD_BPF=OFF -DWIRESPAN_BUILD_TESTS=OFF -DWIRESPAN_BUILD_BENCH=OFF
cmake --build "$FUZZ_BUILD" -j "$JOBS"
bash scripts/run-fuzzers.sh "$FUZZ_BUILD" "${FUZZ_SECONDS:-20}"

echo "== all tests passed =="
