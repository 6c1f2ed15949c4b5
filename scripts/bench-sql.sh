#!/usr/bin/env bash
# Three typical ad hoc queries over 10M archived events (the Parquet archive `leaderboard replay
# --state-dir` writes, the same the live pipeline writes), through the leaderboard's SQL engine, and in the same
# run the same queries (scripts/sql-bench-queries.sql) in DuckDB on the same Parquet files. 2 threads each.
# Usage: scripts/bench-sql.sh [size]   (default 10M). Data is kept in bench-data/ between runs.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/leaderboard/target}"
size="${1:-10M}"
data=bench-data
mkdir -p "$data"
python3 -c 'import duckdb' 2>/dev/null || pip install -q duckdb
cargo build --release --workspace --all-targets
bin="$CARGO_TARGET_DIR/release/leaderboard"

# About 10.1M accepted events for 10M (the replay benchmark's 10M shape archives 9.26M).
declare -A shape=([1M]="--branches 13 --users-per-branch 125 --days 68" [10M]="--branches 20 --users-per-branch 240 --days 214")
events="$data/sql-events-$size.ndjson"; org="$data/sql-org-$size.csv"; state="$data/sql-state-$size"
[ -s "$events" ] || "$bin" simulate --out "$events" --org-out "$org" --from 2016-06-01 --seed 11 ${shape[$size]}
if [ ! -s "$state/checkpoint.bin" ]; then
  rm -rf "$state"
  "$bin" replay --org "$org" --events "$events" --period assessment --state-dir "$state" > /dev/null
fi
files=$(find "$state/archive/events" -name '*.parquet' | wc -l)
rows=$("$bin" sql "SELECT count(*) AS n FROM events" --state-dir "$state" --format csv | tail -1)
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "leaderboard $(git rev-parse --short HEAD), duckdb $(python3 -c 'import duckdb; print(duckdb.__version__)')"
echo "archive: $rows events in $files Parquet files, $(du -sh "$state/archive/events" | cut -f1)"
cat $(find "$state/archive/events" -name '*.parquet') > /dev/null # warm the page cache for both contenders
"$CARGO_TARGET_DIR/release/sql_bench" "$state" scripts/sql-bench-queries.sql 5
python3 - "$state/archive/events" scripts/sql-bench-queries.sql <<'PY'
import sys, time, duckdb
root, queries = sys.argv[1], open(sys.argv[2]).read()
con = duckdb.connect()
con.execute("SET threads TO 2")
con.execute("SET TimeZone = 'UTC'")
con.execute(f"CREATE VIEW events AS SELECT * FROM read_parquet('{root}/*/*.parquet')")
name, sql = None, []
for line in queries.splitlines():
    if line.startswith("-- "):
        name = line[3:].strip()
        continue
    sql.append(line)
    if line.rstrip().endswith(";"):
        statement = "\n".join(sql).strip().rstrip(";")
        sql = []
        runs, rows = [], 0
        for _ in range(5):
            start = time.perf_counter()
            rows = len(con.execute(statement).fetchall())
            runs.append(time.perf_counter() - start)
        runs.sort()
        shown = " ".join(f"{r:.3f}" for r in runs)
        print(f"duckdb {name}: median {runs[2]:.3f}s of 5 (runs {shown}), {rows} rows")
PY
