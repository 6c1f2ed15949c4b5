#!/usr/bin/env bash
# The demo on the embedded source (no broker): the live pipeline and its HTTP server, fed by the simulator in
# real time (June 2016 replayed in three minutes, then live traffic at 60x). Prints the URLs to open; Ctrl-C
# stops it. Extra arguments go to `leaderboard demo` (e.g. --listen 0.0.0.0:8080 --catch-up-secs 60).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/leaderboard/target}"
# The whole workspace's features, as scripts/test.sh resolves them: either command reuses the other's build.
cargo build --release --workspace --bin leaderboard
exec "$CARGO_TARGET_DIR/release/leaderboard" demo "$@"
