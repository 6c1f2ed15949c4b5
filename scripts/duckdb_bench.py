"""DuckDB on the same NDJSON file as `leaderboard replay`, for docs/BENCHMARKS.md (Replay).

Two queries, each run three times (median reported):
  1. the issue's comparison: per-branch monthly quote, mobile-quote and mobile-payment sums, reading only
     the five columns they need, as text;
  2. the same sums with every field of an event (docs/scoring.md#events) read and typed (timestamps with their offsets, dates,
     numbers, booleans), duplicate event_ids dropped and the month taken in Asia/Shanghai, which is closer
     to what the replay has to do before it can count anything.
Usage: python3 scripts/duckdb_bench.py EVENTS.ndjson
"""
import sys
import time

import duckdb

MOBILE = "('pad','phone','wechat')"

SUMS = f"""
       count(*) FILTER (WHERE event_type = 'quote_created') AS quotes,
       count(*) FILTER (WHERE event_type = 'quote_created' AND terminal IN {MOBILE}) AS mobile_quotes,
       sum(amount) FILTER (WHERE event_type = 'payment_completed' AND terminal IN {MOBILE}) AS mobile_payment"""

FIVE_COLUMNS = {
    "event_type": "VARCHAR", "occurred_at": "VARCHAR", "branch_id": "VARCHAR", "terminal": "VARCHAR",
    "amount": "DOUBLE",
}

EVERY_FIELD = {
    "event_id": "VARCHAR", "event_type": "VARCHAR", "occurred_at": "TIMESTAMPTZ", "branch_id": "VARCHAR",
    "user_id": "VARCHAR", "terminal": "VARCHAR", "channel": "VARCHAR", "display_name": "VARCHAR",
    "is_specialist": "BOOLEAN", "quote_id": "VARCHAR", "quoted_premium": "DOUBLE", "proposal_id": "VARCHAR",
    "kind": "VARCHAR", "policy_id": "VARCHAR", "premium": "DOUBLE", "deal_type": "VARCHAR",
    "payment_id": "VARCHAR", "amount": "DOUBLE", "task_id": "VARCHAR", "subject_id": "VARCHAR",
    "valid_from": "DATE", "valid_until": "DATE", "action": "VARCHAR", "due_month": "VARCHAR",
    "vehicle_use": "VARCHAR", "ecommerce_direct": "BOOLEAN", "report_id": "VARCHAR", "report_type": "VARCHAR",
    "accepted": "BOOLEAN", "month": "VARCHAR", "score": "DOUBLE",
}


def read_json(path, columns):
    spec = ", ".join(f"{name}: '{kind}'" for name, kind in columns.items())
    return f"read_json('{path}', format = 'newline_delimited', columns = {{{spec}}})"


def queries(path):
    yield "duckdb per-branch monthly sums", f"""
SELECT branch_id, left(occurred_at, 7) AS month, {SUMS}
FROM {read_json(path, FIVE_COLUMNS)}
GROUP BY ALL ORDER BY ALL"""
    yield "duckdb, every field typed, duplicates dropped", f"""
WITH events AS (
  SELECT * FROM {read_json(path, EVERY_FIELD)}
  QUALIFY row_number() OVER (PARTITION BY event_id) = 1)
SELECT branch_id, strftime(timezone('Asia/Shanghai', occurred_at), '%Y-%m') AS month, {SUMS}
FROM events GROUP BY ALL ORDER BY ALL"""


def main(path):
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    with open(path, "rb") as f:
        lines = sum(1 for _ in f)
    for name, query in queries(path):
        runs = []
        for _ in range(3):
            start = time.perf_counter()
            rows = con.execute(query).fetchall()
            runs.append(time.perf_counter() - start)
        secs = sorted(runs)[1]
        shown = " ".join(f"{r:.2f}" for r in runs)
        print(f"{name} (median of 3: {shown}s): {secs:.2f}s, {lines / secs:,.0f} events/s, {len(rows)} groups")


if __name__ == "__main__":
    main(sys.argv[1])
