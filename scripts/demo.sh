#!/usr/bin/env bash
# The demo on the embedded source (no broker): simulates a month of activity for 11 branches and prints the
# June scorecard as a table, then the top of the JSON scorecard and the rewards.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/leaderboard/target}"
cargo build --release -p leaderboard
bin="$CARGO_TARGET_DIR/release/leaderboard"
work="${DEMO_DIR:-$(mktemp -d)}"
"$bin" simulate --out "$work/events.ndjson" --org-out "$work/org.csv" --from 2016-06-01 --days 35 --branches 13 --users-per-branch 50 --seed 7
"$bin" replay --org "$work/org.csv" --events "$work/events.ndjson" --period 2016-06 --format table
"$bin" rewards --org "$work/org.csv" --events "$work/events.ndjson" --period 2016-06 > "$work/rewards.json"
echo "JSON scorecard: $bin replay --org $work/org.csv --events $work/events.ndjson --period 2016-06 [--users]"
echo "rewards written to $work/rewards.json"
