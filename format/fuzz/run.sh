#!/usr/bin/env bash
# Runs every parser's fuzz target for a bounded time (seconds, default 30 each).
# cargo-fuzz needs nightly features; RUSTC_BOOTSTRAP=1 enables them on stable.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-30}"
for target in parse_json parse_jsonl parse_syslog parse_text parse_csv parse_obl; do
  mkdir -p "corpus/$target"
  echo "== $target (${seconds}s)"
  RUSTC_BOOTSTRAP=1 cargo fuzz run "$target" "corpus/$target" ../tests/fixtures -- \
    -max_total_time="$seconds" -max_len=4096
done
