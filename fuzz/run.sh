#!/usr/bin/env bash
# Runs one fuzz target, built by `cargo fuzz build -s none -a`, for a while (default 10 min):
#   fuzz/run.sh <target> [seconds]
# New inputs go to fuzz/target/corpus/<target> (the committed seeds in fuzz/corpus/<target> are
# read, never written), crashes to fuzz/artifacts/<target>/, the log to fuzz/logs/<target>.log.
# One process, one job: the fuzzer runs on one core.
set -euo pipefail
cd "$(dirname "$0")"
target="${1:?usage: fuzz/run.sh <target> [seconds]}"
seconds="${2:-600}"
binary="target/x86_64-unknown-linux-gnu/release/$target"
[[ -x "$binary" ]] || { echo "build it first: cargo +stable fuzz build -s none -a $target" >&2; exit 1; }
mkdir -p "target/corpus/$target" "artifacts/$target" logs
# Provider step files are up to ~20 KB; the rest are short texts and requests.
case "$target" in
  fifa|livescore|football_data|api_football) max_len=65536 ;;
  *) max_len=8192 ;;
esac
dict=()
[[ -f "dictionaries/$target.dict" ]] && dict=("-dict=dictionaries/$target.dict")
exec "$binary" "target/corpus/$target" "corpus/$target" "${dict[@]}" \
  -artifact_prefix="artifacts/$target/" -max_total_time="$seconds" -max_len="$max_len" \
  -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  >"logs/$target.log" 2>&1
