"""The data team's Python stack against the Postgres port: SQLAlchemy 2 with psycopg2 connects (its dialect
parses version()), its inspector lists the schemas, tables, views, columns and (no) keys, indexes and
constraints,
and pandas reads every table.
Prints what it saw as JSON for the Rust test to compare with the REST figures.

Usage: python sqlalchemy_pandas.py <port> <user> <password>
"""

import json
import sys

import pandas
import sqlalchemy


def main(port: str, user: str, password: str) -> None:
    engine = sqlalchemy.create_engine(
        f"postgresql+psycopg2://{user}:{password}@127.0.0.1:{port}/leaderboard"
    )
    seen = {}
    with engine.connect() as connection:
        seen["server_version_info"] = list(connection.dialect.server_version_info)
        seen["version"] = connection.execute(sqlalchemy.text("SELECT version()")).scalar()
    inspector = sqlalchemy.inspect(engine)
    seen["schemas"] = inspector.get_schema_names()
    seen["tables"] = sorted(inspector.get_table_names())
    seen["views"] = sorted(inspector.get_view_names())
    seen["columns"] = {
        name: {c["name"]: str(c["type"]) for c in inspector.get_columns(name)}
        for name in ["scorecard", "events"]
    }
    seen["foreign_keys"] = inspector.get_foreign_keys("scorecard")
    seen["primary_key"] = inspector.get_pk_constraint("scorecard")
    seen["unique_constraints"] = inspector.get_unique_constraints("scorecard")
    seen["indexes"] = {name: inspector.get_indexes(name) for name in ["scorecard", "events"]}
    seen["check_constraints"] = inspector.get_check_constraints("events")
    rows = {}
    for name in seen["tables"] + seen["views"]:
        frame = pandas.read_sql(f"SELECT * FROM {name}", engine)
        rows[name] = len(frame)
    seen["rows"] = rows
    month = pandas.read_sql(
        "SELECT branch_id, total FROM scorecard WHERE period = '2016-06' ORDER BY branch_id", engine
    )
    seen["june_totals"] = dict(zip(month["branch_id"], month["total"]))
    print(json.dumps(seen, default=str))


if __name__ == "__main__":
    main(*sys.argv[1:4])
