#!/usr/bin/env bash
# Replay throughput and peak memory on 1M and 10M simulated events, and in the same run DuckDB computing
# the per-branch monthly quote, mobile-quote and mobile-payment sums from the same NDJSON files, once from
# the five columns they need and once with every field typed and duplicates dropped (scripts/duckdb_bench.py);
# and the replay's reading and decoding alone, without the engine (leaderboard/examples/replay_floor.rs).
# Usage: scripts/bench.sh [sizes...]   (default: 1M 10M). Data is kept in bench-data/ between runs.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/leaderboard/target}"
sizes=("${@:-1M 10M}")
data=bench-data
mkdir -p "$data"

command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
python3 -c 'import duckdb' 2>/dev/null || pip install -q duckdb
cargo build --release --workspace --all-targets
bin="$CARGO_TARGET_DIR/release/leaderboard"

# Simulation sizes: about 11.3 events per user per day.
declare -A shape=([1M]="--branches 13 --users-per-branch 125 --days 68" [10M]="--branches 20 --users-per-branch 210 --days 214")

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "leaderboard $(git rev-parse --short HEAD), duckdb $(python3 -c 'import duckdb; print(duckdb.__version__)')"
for size in ${sizes[*]}; do
  events="$data/events-$size.ndjson"; org="$data/org-$size.csv"
  if [ ! -s "$events" ]; then
    "$bin" simulate --out "$events" --org-out "$org" --from 2016-06-01 --seed 11 ${shape[$size]}
  fi
  lines=$(wc -l < "$events"); bytes=$(stat -c %s "$events")
  echo
  echo "## $size: $lines events, $((bytes / 1024 / 1024)) MiB"
  cat "$events" > /dev/null # warm the page cache for both contenders
  # The replay, and alternating with it the same replay keeping no day-by-day history (what the history costs).
  runs=(); bare=()
  for run in 1 2 3; do
    /usr/bin/time -f '%e %M' -o "$data/time.txt" "$bin" replay --org "$org" --events "$events" --period assessment > "$data/scorecard-$size.json" 2> "$data/replay-$size.err"
    runs+=("$(cat "$data/time.txt")")
    /usr/bin/time -f '%e %M' -o "$data/time.txt" "$bin" replay --org "$org" --events "$events" --period assessment --without-day-history > "$data/scorecard-bare-$size.json" 2> /dev/null
    bare+=("$(cat "$data/time.txt")")
  done
  cmp -s "$data/scorecard-$size.json" "$data/scorecard-bare-$size.json" || { echo "the scorecard without the history differs" >&2; exit 1; }
  read -r secs rss_kb < <(printf '%s\n' "${runs[@]}" | sort -n | sed -n 2p)
  echo "leaderboard replay (median of 3: $(printf '%s ' "${runs[@]%% *}")s): ${secs}s, $(python3 -c "print(f'{$lines/$secs:,.0f}')") events/s, peak RSS $((rss_kb / 1024)) MiB; $(tail -1 "$data/replay-$size.err")"
  read -r secs rss_kb < <(printf '%s\n' "${bare[@]}" | sort -n | sed -n 2p)
  echo "leaderboard replay --without-day-history (median of 3: $(printf '%s ' "${bare[@]%% *}")s): ${secs}s, $(python3 -c "print(f'{$lines/$secs:,.0f}')") events/s, peak RSS $((rss_kb / 1024)) MiB"
  "$CARGO_TARGET_DIR/release/examples/history_cost" "$org" "$events"
  # The least the replay's reading and decoding cost, without the engine (decode) and with only its
  # arrival pass (arrival): leaderboard/examples/replay_floor.rs.
  for mode in decode arrival; do
    runs=()
    for run in 1 2 3; do
      /usr/bin/time -f '%e %U %S' -o "$data/time.txt" "$CARGO_TARGET_DIR/release/examples/replay_floor" "$events" "$mode" 2> "$data/floor-$size-$mode.err"
      runs+=("$(cat "$data/time.txt")")
    done
    read -r secs user sys < <(printf '%s\n' "${runs[@]}" | sort -n | sed -n 2p)
    echo "replay floor, $mode only (median of 3: $(printf '%s ' "${runs[@]%% *}")s): ${secs}s, $(python3 -c "print(f'{$user + $sys:.2f}')") CPU-seconds"
  done
  python3 scripts/duckdb_bench.py "$events"
done

# Kafka pipeline against raw consumption, and produce-to-state latency at 20,000 events/s, one run.
export TANSU="${TANSU:-$HOME/.cache/leaderboard/tansu/bin/tansu}"
[ -x "$TANSU" ] || cargo install tansu --version 0.6.0 --locked --features dynostore --root "$HOME/.cache/leaderboard/tansu"
"$CARGO_TARGET_DIR/release/kafka_bench" 200 20000 40
