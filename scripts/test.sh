#!/usr/bin/env bash
# The whole test suite, from a fresh machine: checks formatting and lints, then runs every test in release
# mode (the property and end-to-end tests process hundreds of thousands of events).
# Installs what the tests need when missing; under CI=true a missing component is an error, never a skip.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# Keep build output in a cache under $HOME so repeated runs are quick; any fresh machine still works.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/leaderboard/target}"

step() { printf '\n=== %s\n' "$*"; }

step "toolchain"
command -v cargo >/dev/null || { echo "cargo is required (https://rustup.rs)"; exit 1; }
cargo --version
rustup component list --installed 2>/dev/null | grep -q rustfmt || rustup component add rustfmt clippy

step "kafka broker (tansu)"
# A real Kafka-protocol broker for the pipeline tests, installed once into the cache. Its default build has no
# storage engine; dynostore brings the memory engine the tests use. The tests start it on loopback ports.
TANSU_ROOT="${TANSU_ROOT:-$HOME/.cache/leaderboard/tansu}"
export TANSU="$TANSU_ROOT/bin/tansu"
if [ ! -x "$TANSU" ]; then
  echo "installing tansu into $TANSU_ROOT (once; several minutes)"
  cargo install tansu --version 0.6.0 --locked --features dynostore --root "$TANSU_ROOT"
fi
"$TANSU" --version

step "browser (chromium), SQL clients (psql, pgjdbc), openssl and curl"
# Real headless Chromium for the wall-screen tests: Debian's chromium and chromedriver, and CJK fonts so the
# Chinese screens render (and their screenshots show) real glyphs. The SQL tests use the real psql client;
# pgjdbc runs under Debian's JDK; the TLS tests make a test CA with openssl and fetch HTTPS with curl.
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null || ! command -v psql >/dev/null \
  || ! command -v openssl >/dev/null || ! command -v curl >/dev/null || ! command -v java >/dev/null \
  || [ ! -f /usr/share/java/postgresql.jar ] || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then
  echo "installing chromium, chromium-driver, fonts-noto-cjk, postgresql-client, openssl, curl, a JDK and"
  echo "pgjdbc (once)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q chromium chromium-driver fonts-noto-cjk \
    postgresql-client openssl curl default-jdk-headless libpostgresql-jdbc-java
fi
chromium --version
psql --version

step "python SQL drivers (SQLAlchemy, psycopg2, psycopg 3, pandas)"
# The data team's own tools, tested against the Postgres port: a virtualenv in the cache, from PyPI.
PY_ROOT="${PY_ROOT:-$HOME/.cache/leaderboard/py}"
export LEADERBOARD_PYTHON="$PY_ROOT/bin/python"
if ! "$LEADERBOARD_PYTHON" -c "import sqlalchemy, psycopg2, psycopg, pandas" 2>/dev/null; then
  echo "installing SQLAlchemy 2, psycopg2, psycopg 3 and pandas into $PY_ROOT (once)"
  python3 -m venv "$PY_ROOT"
  "$PY_ROOT/bin/pip" install -q "sqlalchemy==2.0.36" "psycopg2-binary==2.9.10" "psycopg[binary]==3.2.3" \
    "pandas==2.2.3"
fi
"$LEADERBOARD_PYTHON" -c "import sqlalchemy; print('SQLAlchemy', sqlalchemy.__version__)"

step "node-postgres"
# The Node.js driver (`pg` from npm), tested against the Postgres port like the Python ones.
NODE_ROOT="${NODE_ROOT:-$HOME/.cache/leaderboard/node}"
export LEADERBOARD_NODE_MODULES="$NODE_ROOT/node_modules"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "installing Node.js and npm (once)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q nodejs npm
fi
if [ ! -f "$LEADERBOARD_NODE_MODULES/pg/package.json" ]; then
  echo "installing pg (node-postgres) into $NODE_ROOT (once)"
  mkdir -p "$NODE_ROOT"
  npm install --silent --no-audit --no-fund --prefix "$NODE_ROOT" "pg@8.23.1"
fi
node --version

step "format"
cargo fmt --all --check

step "clippy"
cargo clippy --release --workspace --all-targets -- -D warnings

step "tests"
# The end-to-end tests run the leaderboard binary, which `cargo test --workspace` builds with the same features
# (a separate `cargo build -p` would resolve other features and compile DataFusion a second time).
cargo test --release --workspace --no-fail-fast
