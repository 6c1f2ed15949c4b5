"""Connects to the Postgres port with a real driver and runs one query.

Usage: connect.py DRIVER CONNINFO SQL
DRIVER is psycopg2 (libpq 16, simple protocol) or psycopg (psycopg 3, libpq 17, the extended protocol with
binary results). Prints the rows as tab-separated lines; on failure prints the driver's message to stderr
and exits 1.
"""
import sys


def main():
    driver, conninfo, sql = sys.argv[1:4]
    try:
        if driver == "psycopg2":
            import psycopg2

            connection = psycopg2.connect(conninfo)
            cursor = connection.cursor()
            cursor.execute(sql)
        else:
            import psycopg

            connection = psycopg.connect(conninfo)
            cursor = connection.cursor(binary=True)
            cursor.execute(sql, prepare=True)
        for row in cursor.fetchall():
            print("\t".join(str(value) for value in row))
        connection.close()
    except Exception as error:  # the driver's own message is what the test checks
        print(f"{type(error).__name__}: {error}", file=sys.stderr)
        sys.exit(1)


main()
