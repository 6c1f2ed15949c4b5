#!/usr/bin/env bash
# Fault campaign: runs poison messages, a wrong clock, kill -9 restarts, checkpoint bit flips, a
# lost checkpoint and hostile Postgres, HTTP and SQL clients against a live `leaderboard serve` on a tansu
# broker, compares the figures with `leaderboard replay`, and prints a Markdown table
# (probe | expected | observed | ok) with a figures line. Exits non-zero when a probe fails.
#
#   bash scripts/fault-campaign.sh [--build] [--keep] [--only 1,6] [--out report.md]
#
# Uses the binary at $LEADERBOARD_BIN (default: the test suite's release build) and builds nothing unless
# --build is given. The probes and their settings are in scripts/fault_campaign.py; docs/fault-campaign.md
# describes them.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/leaderboard/target}"
export LEADERBOARD_BIN="${LEADERBOARD_BIN:-$CARGO_TARGET_DIR/release/leaderboard}"
export TANSU="${TANSU:-$HOME/.cache/leaderboard/tansu/bin/tansu}"

build=0
keep=0
args=()
for arg in "$@"; do
  case "$arg" in
    --build) build=1 ;;
    --keep) keep=1; args+=("$arg") ;;
    *) args+=("$arg") ;;
  esac
done

if [ "$build" = 1 ]; then
  # The test suite's build: it makes the same binary without resolving other features.
  cargo test --release --workspace --no-run
fi
[ -x "$LEADERBOARD_BIN" ] || { echo "no leaderboard binary at $LEADERBOARD_BIN (set LEADERBOARD_BIN or pass --build)" >&2; exit 2; }
[ -x "$TANSU" ] || { echo "no tansu broker at $TANSU (bash scripts/test.sh installs it)" >&2; exit 2; }
command -v psql >/dev/null || { echo "psql is not installed (bash scripts/test.sh installs it)" >&2; exit 2; }

# Room for the idle-connection probe: a thousand sockets on each side of loopback. The broker and the
# server inherit the limit.
hard="$(ulimit -Hn)"
want=8192
if [ "$hard" != unlimited ] && [ "$hard" -lt "$want" ]; then want="$hard"; fi
[ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$want" ] && ulimit -n "$want"

# Data, state directories and logs live in one temporary directory. On any exit the processes the driver
# started (their ids are in $work/pids) are ended and the directory is removed (kept with --keep).
work="$(mktemp -d "${TMPDIR:-/tmp}/fault-campaign.XXXXXX")"
cleanup() {
  if [ -f "$work/pids" ]; then
    while read -r pid; do
      kill -9 "$pid" 2>/dev/null || true
    done <"$work/pids"
  fi
  if [ "$keep" = 1 ]; then
    echo "work directory kept: $work" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

# The driver runs in the background so that a signal reaches it: on SIGINT or SIGTERM it is told to stop,
# ends its processes and prints what it has so far.
python3 scripts/fault_campaign.py --binary "$LEADERBOARD_BIN" --tansu "$TANSU" --workdir "$work" "${args[@]}" &
driver=$!
trap 'kill -TERM "$driver" 2>/dev/null || true; wait "$driver" || true; exit 130' INT TERM
status=0
wait "$driver" || status=$?
exit "$status"
