#!/usr/bin/env bash
# Runs every built fuzzer for a few seconds over its seed corpus and dictionary.
# Usage: run-fuzzers.sh BUILD_DIR SECONDS
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=$(realpath "$1")
SECONDS_EACH=${2:-20}
found=0
for dir in "$ROOT"/fuzz/*/; do
  dir=${dir%/}
  name=$(basename "$dir")
  bin=$(find "$BUILD/fuzz/$name" -maxdepth 1 -type f -executable -name '*_fuzzer' 2>/dev/null | head -1 || true)
  [[ -n $bin ]] || continue
  found=$((found + 1))
  work=$(mktemp -d)
  args=(-max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1)
  dict=$(find "$dir" -maxdepth 1 -name '*.dict' | head -1)
  [[ -n $dict ]] && args+=(-dict="$dict")
  corpus=()
  [[ -d $dir/corpus ]] && corpus+=("$dir/corpus")
  echo "-- $name: $SECONDS_EACH s"
  # The fuzzer runs in its own directory so crash files land there; every path is absolute.
  mkdir "$work/new"
  (cd "$work" && "$bin" "${args[@]}" "$work/new" "${corpus[@]}" >"$work/log" 2>&1) || true
  grep -E 'stat::number_of_executed_units|ERROR|SUMMARY' "$work/log" || true
  if ! grep -q 'stat::number_of_executed_units' "$work/log"; then
    echo "fuzzer $name did not run:" >&2
    tail -20 "$work/log" >&2
    exit 1
  fi
  # libFuzzer writes crash-* files into the working directory on a finding.
  if compgen -G "$work/crash-*" >/dev/null || compgen -G "$work/leak-*" >/dev/null || compgen -G "$work/timeout-*" >/dev/null; then
    echo "fuzzer $name found a failing input:" "$work"/crash-* "$work"/leak-* "$work"/timeout-* >&2
    exit 1
  fi
  rm -rf "$work"
done
echo "ran $found fuzzers"
