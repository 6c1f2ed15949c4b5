#!/usr/bin/env python3
"""Fault campaign: runs hostile inputs and operational accidents against a live `leaderboard serve` on a
real Kafka-protocol broker (tansu) and compares what it observes with `leaderboard replay` of the clean data.

Probes:
  1  poison messages are dead-lettered, figures unchanged
  2  one event with a wrong clock does not move July's close
  3  kill -9 restarts while events flow lose nothing and count nothing twice
  4  flipped bits in checkpoint.bin are detected and the previous checkpoint is used
  5  a lost checkpoint sets the archive aside instead of deleting it
  6  the Postgres port survives silent connections and slows wrong passwords
  7  HTTP closes half-sent headers, answers /health under 1,000 idle connections, refuses 50 MB bodies
  8  a 25,000-term SQL expression is refused in time and stops using CPU

Prints a Markdown report (header, table `probe | expected | observed | ok`, figures) on stdout and exits
non-zero when a probe fails. Python 3.11 standard library only. `scripts/fault-campaign.sh` is the entry.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

# ---------------------------------------------------------------------------------------------------------
# Settings: every number the probes use.
# ---------------------------------------------------------------------------------------------------------

# The simulated data: small, so the whole campaign takes a few minutes.
DATA_FROM = "2016-07-01"
DATA_DAYS = 10
DATA_BRANCHES = 4
DATA_USERS_PER_BRANCH = 6
DATA_SEED = 7
# The month the data falls in, and the periods whose scorecards are compared with the replay.
MONTH = "2016-07"
PERIODS = [MONTH, "assessment"]
PARTITIONS = 3

# Configuration every `serve` gets. Optional keys are only written when the binary accepts them (a binary
# without the feature refuses unknown keys); the probes' expectations use the values below either way.
CHECKPOINT_INTERVAL_SECS = 1
SQL_TIMEOUT_SECS = 5
HTTP_HEADER_TIMEOUT_SECS = 5
OPTIONAL_CONFIG = [
    ("server", "header_timeout_secs", HTTP_HEADER_TIMEOUT_SECS),
]
SQL_USER = "analyst"
SQL_PASSWORD = "fault-campaign-pw"

# Probe 2: the wrong clock.
WRONG_CLOCK_AT = "2016-11-15T10:00:00+08:00"

# Probe 3: restarts while the simulator sends the same data live for about FLOW_SECS seconds.
RESTARTS = 3
FLOW_SECS = 12
KILL_SEED = 3  # each kill comes 0.2-1.2 s after the new process has made progress

# Probe 4: single-bit flips of checkpoint.bin (a few in the header, the rest anywhere).
CORRUPT_BITS = 24
CORRUPT_HEADER_BITS = 4
CORRUPT_HEADER_BYTES = 32
CORRUPT_SEED = 28
# What the offline query prints; its output must not change when the previous checkpoint is used.
FIGURES_QUERY = (
    "SELECT (SELECT count(*) FROM events) AS archived_events, s.* FROM scorecard s "
    "ORDER BY s.period, s.branch_id"
)
# Words by which a damaged checkpoint is recognised as reported (stderr of `sql`, log of `serve`).
DAMAGE_WORDS = re.compile(r"damaged|corrupt|checksum|not a readable checkpoint", re.I)

# Probe 5: how long the set-aside archive may take to empty once the topic has been read again.
ASIDE_EMPTY_SECS = 30

# Probe 6: Postgres.
PG_SILENT_CONNECTIONS = 40
PG_LOGIN_WITHIN_SECS = 5.0
PG_WRONG_PASSWORDS = 20
PG_WRONG_PASSWORD_BUDGET_SECS = 120
PG_SLOWDOWN_FACTOR = 2.0  # median of the last 5 attempts >= this x median of the first 5
PG_SLOWDOWN_MIN_SECS = 0.1  # and at least this long

# Probe 7: HTTP.
HTTP_IDLE_CONNECTIONS = 1000
HTTP_HEADER_SLACK_SECS = 2.0
HTTP_BIG_BODY_BYTES = 50 * 1024 * 1024
HTTP_BIG_BODY_PATHS = ["/api/v1/sql", "/api/v1/clearing-scores"]

# Probe 8: SQL planning.
SQL_TERMS = 25_000
SQL_ANSWER_SLACK_SECS = 2.0
SQL_CPU_SETTLE_SECS = 3.0  # CPU is measured from this long after the answer ...
SQL_CPU_WINDOW_SECS = 2.0  # ... for this long
SQL_CPU_MAX_SECS = 0.25  # and may grow by at most this much

# Time limits of the harness itself.
SERVE_START_SECS = 30
CATCH_UP_SECS = 180

# ---------------------------------------------------------------------------------------------------------
# Processes, ports, HTTP.
# ---------------------------------------------------------------------------------------------------------


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def child_env() -> dict:
    """The environment of every child: the project's default log levels, no stray broker or PG settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    for key in ("RUST_LOG", "STORAGE_ENGINE", "LISTENER_URL", "ADVERTISED_LISTENER_URL"):
        env.pop(key, None)
    return env


def http(method: str, url: str, body: bytes | None = None, headers: dict | None = None,
         timeout: float = 10) -> tuple[int, dict, bytes]:
    """One request; status 0 when nothing answered."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()
    except (urllib.error.URLError, OSError) as e:
        return 0, {}, str(e).encode()


def get_json(url: str, timeout: float = 10):
    status, _, body = http("GET", url, timeout=timeout)
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body.decode(errors="replace")


def short(value, limit: int = 60) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def keyed(items: list):
    """Scorecard rows by their ids (`branch_id`, `branch_id/user_id`), so an order change shows as what it
    is; None for other lists."""
    if not items or not all(isinstance(x, dict) and "branch_id" in x for x in items):
        return None
    rows = {f"{x['branch_id']}/{x['user_id']}" if "user_id" in x else x["branch_id"]: x for x in items}
    return rows if len(rows) == len(items) else None


def diff_paths(a, b, path: str = "", out: list | None = None, limit: int = 3) -> list:
    """Up to `limit` places where `a` (observed) and `b` (the replay) differ."""
    out = [] if out is None else out
    if len(out) >= limit:
        return out
    if isinstance(a, list) and isinstance(b, list) and keyed(a) is not None and keyed(b) is not None:
        a, b = keyed(a), keyed(b)
        if list(a) != list(b) and set(a) == set(b):
            out.append(f"{path}: order {', '.join(list(a)[:4])}, replay {', '.join(list(b)[:4])}")
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            if key not in a or key not in b:
                out.append(f"{path}.{key} only in {'replay' if key in b else 'live'}")
            else:
                diff_paths(a[key], b[key], f"{path}.{key}", out, limit)
            if len(out) >= limit:
                break
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            diff_paths(x, y, f"{path}[{i}]", out, limit)
            if len(out) >= limit:
                break
    elif a != b:
        if isinstance(a, list) and isinstance(b, list):
            out.append(f"{path}: {len(a)} items, replay {len(b)}")
        else:
            out.append(f"{path}: {short(a, 30)}, replay {short(b, 30)}")
    return out


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def parquet_files(directory: Path) -> list[Path]:
    return sorted(directory.rglob("*.parquet")) if directory.is_dir() else []


class Children:
    """Every process the campaign starts, recorded in `pids` so the shell's trap can end them too."""

    def __init__(self, pid_file: Path):
        self.pid_file = pid_file
        self.procs: list[subprocess.Popen] = []

    def spawn(self, args: list, stderr_to: Path, env: dict | None = None,
              cwd: Path | None = None) -> subprocess.Popen:
        """Starts `args` with stdout discarded and stderr appended to `stderr_to`."""
        with open(stderr_to, "ab") as stderr:
            proc = subprocess.Popen([str(a) for a in args], env=dict(child_env(), **(env or {})), cwd=cwd,
                                    stdout=subprocess.DEVNULL, stderr=stderr)
        self.procs.append(proc)
        with open(self.pid_file, "a") as f:
            f.write(f"{proc.pid}\n")
        return proc

    def end_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


# ---------------------------------------------------------------------------------------------------------
# Kafka: the broker, and how many messages a topic holds (Fetch requests).
# ---------------------------------------------------------------------------------------------------------


class Broker:
    def __init__(self, tansu: Path, workdir: Path, children: Children):
        workdir.mkdir(parents=True)
        self.log = workdir / "tansu.log"
        failures = []
        for _ in range(5):
            port = free_port()
            # The flags of tests/src/broker.rs: loopback listener advertising itself, memory storage.
            proc = children.spawn(
                [tansu, "broker", "--listener-url", f"tcp://127.0.0.1:{port}",
                 "--advertised-listener-url", f"tcp://127.0.0.1:{port}",
                 "--storage-engine", "memory://tansu/"],
                # tansu reads a .env in its working directory: an empty one of its own.
                stderr_to=self.log, env={"RUST_LOG": "warn"}, cwd=workdir,
            )
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and proc.poll() is None:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    time.sleep(0.3)  # a port taken by someone else: ours exits instead of listening
                    if proc.poll() is None:
                        self.port, self.proc = port, proc
                        return
                except OSError:
                    time.sleep(0.05)
            proc.kill()
            proc.wait()
            failures.append(f"port {port}: exit {proc.returncode}")
        raise RuntimeError(f"tansu did not start: {failures}; see {self.log}")

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _request(self, api_key: int, version: int, body: bytes) -> bytes:
        """One Kafka request on a fresh connection; the response after its correlation id."""
        client = b"fault-campaign"
        request = struct.pack(">hhih", api_key, version, 28, len(client)) + client + body
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
            s.sendall(struct.pack(">i", len(request)) + request)
            data = b""
            while len(data) < 4 or len(data) < 4 + struct.unpack(">i", data[:4])[0]:
                chunk = s.recv(1 << 20)
                if not chunk:
                    raise ConnectionError("the broker closed the connection")
                data += chunk
        return data[8:]

    def messages_in(self, topic: str) -> int:
        """How many messages `topic` holds: every record batch of every partition fetched from offset 0
        (Fetch v4), its records counted from the batch headers. (tansu's ListOffsets answers the last
        batch's first offset + 1, not the log end, so the offsets cannot be used.)"""
        name = topic.encode()
        total = 0
        for partition in range(PARTITIONS):
            offset = 0
            while True:
                body = struct.pack(">iiiib", -1, 100, 0, 64 << 20, 0)
                body += struct.pack(">ih", 1, len(name)) + name
                body += struct.pack(">iiqi", 1, partition, offset, 64 << 20)
                data = self._request(1, 4, body)
                pos = 4 + 4  # throttle time, one topic
                (length,) = struct.unpack_from(">h", data, pos)
                pos += 2 + length + 4  # the topic's name, one partition
                _, error, _, _, aborted = struct.unpack_from(">ihqqi", data, pos)
                pos += 26 + max(aborted, 0) * 16
                if error:
                    raise RuntimeError(f"Fetch {topic}/{partition}: error {error}")
                (size,) = struct.unpack_from(">i", data, pos)
                records = data[pos + 4: pos + 4 + max(size, 0)]
                batches = 0
                at = 0
                while at + 61 <= len(records):
                    base, batch_length = struct.unpack_from(">qi", records, at)
                    if at + 12 + batch_length > len(records):
                        break  # a batch cut short by the size limit: fetched again from its offset
                    (last_delta,) = struct.unpack_from(">i", records, at + 23)
                    (count,) = struct.unpack_from(">i", records, at + 57)
                    if base + last_delta >= offset:
                        total += count
                        offset = base + last_delta + 1
                        batches += 1
                    at += 12 + batch_length
                if batches == 0:
                    break
        return total


# ---------------------------------------------------------------------------------------------------------
# `leaderboard serve`.
# ---------------------------------------------------------------------------------------------------------


class Serve:
    """A `leaderboard serve` on its own topic and state directory; killed and started again at will."""

    def __init__(self, campaign: "Campaign", name: str, postgres: bool = False):
        self.campaign = campaign
        self.topic = f"fc-{name}"
        self.dir = campaign.work / name
        self.dir.mkdir()
        self.state = self.dir / "state"
        self.log = self.dir / "serve.log"
        self.pg_port = free_port() if postgres else None
        self.config = self.dir / "leaderboard.toml"
        self.config.write_text(campaign.config_text(self.pg_port))
        self.port = 0
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.port = free_port()
        with open(self.log, "a") as f:
            f.write(f"--- start {time.strftime('%H:%M:%S')}\n")
        self.proc = self.campaign.children.spawn(
            [self.campaign.bin, "serve", "--config", self.config, "--org", self.campaign.org,
             "--brokers", self.campaign.broker.address, "--topic", self.topic,
             "--group", f"{self.topic}-group", "--state-dir", self.state,
             "--listen", f"127.0.0.1:{self.port}"],
            stderr_to=self.log,
        )
        deadline = time.monotonic() + SERVE_START_SECS
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"serve exited with {self.proc.returncode}: {self.log_tail()}")
            if http("GET", self.url("/health"), timeout=1)[0] == 200:
                return
            time.sleep(0.05)
        raise RuntimeError(f"serve did not answer /health in {SERVE_START_SECS} s: {self.log_tail()}")

    def log_tail(self, lines: int = 3) -> str:
        text = self.log.read_text(errors="replace").strip().splitlines() if self.log.exists() else []
        return " / ".join(text[-lines:])

    def kill9(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def terminate(self) -> int:
        """SIGTERM and the exit status (a clean exit writes a last checkpoint)."""
        if not self.proc:
            return 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self.proc = None
        return code

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def status(self) -> dict | None:
        code, body = get_json(self.url("/api/v1/status"), timeout=5)
        return body if code == 200 and isinstance(body, dict) else None

    def counts(self) -> dict | None:
        status = self.status()
        return status["counts"] if status else None

    def wait_for_total(self, total: int, timeout: float = CATCH_UP_SECS) -> dict:
        """Waits until the state has taken `total` messages (every disposition); returns the counts."""
        deadline = time.monotonic() + timeout
        counts = None
        while time.monotonic() < deadline:
            counts = self.counts()
            if counts and total_of(counts) >= total:
                return counts
            time.sleep(0.1)
        raise RuntimeError(f"the state did not reach {total} messages in {timeout:.0f} s: {counts}")

    def wait_for_checkpoints(self, n: int, timeout: float = 15) -> None:
        """Waits until `n` more checkpoints have been written (the status' checkpoint time moves n times)."""
        last = (self.status() or {}).get("checkpoint_saved_at")
        deadline = time.monotonic() + timeout
        while n > 0 and time.monotonic() < deadline:
            time.sleep(0.1)
            now = (self.status() or {}).get("checkpoint_saved_at")
            if now != last:
                n, last = n - 1, now

    def scorecard(self, period: str):
        return get_json(self.url(f"/api/v1/scorecard?period={period}&users=true"))

    def sql(self, statement: str, timeout: float = 30) -> dict:
        status, _, body = http("POST", self.url("/api/v1/sql"), statement.encode(),
                               {"Accept": "application/json", "Content-Type": "text/plain"}, timeout)
        if status != 200:
            raise RuntimeError(f"POST /api/v1/sql: {status} {short(body.decode(errors='replace'))}")
        return json.loads(body)


def total_of(counts: dict) -> int:
    return sum(counts.get(k, 0) for k in ("accepted", "duplicate", "late", "rejected"))


def counts_text(counts: dict) -> str:
    return " ".join(f"{k}={counts.get(k)}" for k in ("accepted", "duplicate", "late", "rejected"))


# ---------------------------------------------------------------------------------------------------------
# The campaign.
# ---------------------------------------------------------------------------------------------------------


class Campaign:
    def __init__(self, args):
        self.bin = Path(args.binary)
        self.tansu = Path(args.tansu)
        self.work = Path(args.workdir)
        self.repo = Path(__file__).resolve().parent.parent
        self.children = Children(self.work / "pids")
        self.rows: list[tuple[str, str, str, bool]] = []
        self.figures: dict[str, str] = {}
        self.lost: list[int] = []
        self.notes: list[str] = []
        self.accepted_keys: list[tuple[str, str, object]] = []
        self.only = args.only

    # --- helpers ------------------------------------------------------------------------------------

    def run(self, *args, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
        result = subprocess.run([str(self.bin), *map(str, args)], env=child_env(),
                                capture_output=True, timeout=timeout)
        if check and result.returncode != 0:
            raise RuntimeError(f"leaderboard {args[0]} failed: {result.stderr.decode(errors='replace')[-400:]}")
        return result

    def row(self, probe: str, expected: str, observed: str, ok: bool) -> None:
        observed = re.sub(r"[\x00-\x1f\x7f]", lambda m: f"\\u{ord(m.group()):04x}", observed)
        log(f"{probe}: {'ok' if ok else 'NOT OK'}: {observed}")
        self.rows.append((probe, expected, observed, ok))

    def wanted(self, *probes: int) -> bool:
        return not self.only or any(p in self.only for p in probes)

    def config_text(self, pg_port: int | None) -> str:
        sections: dict[str, list[str]] = {
            "server": [f"checkpoint_interval_secs = {CHECKPOINT_INTERVAL_SECS}"],
            "sql": [f"timeout_secs = {SQL_TIMEOUT_SECS}"],
        }
        for section, key, value in self.accepted_keys:
            sections.setdefault(section, []).append(f"{key} = {json.dumps(value)}")
        if pg_port:
            sections["sql"].append(f'listen = "127.0.0.1:{pg_port}"')
        text = "".join(f"[{name}]\n" + "\n".join(lines) + "\n\n" for name, lines in sections.items())
        if pg_port:
            text += f'[[sql.users]]\nname = "{SQL_USER}"\npassword = "{SQL_PASSWORD}"\n'
        return text

    def check_optional_config(self) -> None:
        """Keeps the optional keys this binary accepts (an unknown key is a configuration error)."""
        empty = self.work / "config-check"
        empty.mkdir()
        for section, key, value in OPTIONAL_CONFIG:
            path = empty / "check.toml"
            path.write_text(f"[{section}]\n{key} = {json.dumps(value)}\n")
            result = self.run("sql", "select 1", "--config", path, "--state-dir", empty / "state", check=False)
            stderr = result.stderr.decode(errors="replace")
            if "unknown field" in stderr or "unknown key" in stderr:
                self.notes.append(f"`{section}.{key}` is not a setting of this binary: left out")
            else:
                self.accepted_keys.append((section, key, value))

    def replay(self, events: Path, period: str):
        result = self.run("replay", "--org", self.org, "--events", events, "--config", self.replay_config,
                          "--period", period, "--users")
        return json.loads(result.stdout)

    def replay_counts(self, events: Path) -> dict:
        result = self.run("replay", "--org", self.org, "--events", events, "--config", self.replay_config,
                          "--period", "assessment")
        for line in result.stderr.decode().splitlines():
            if line.startswith("accepted="):
                return {k: int(v) for k, v in (pair.split("=") for pair in line.split())}
        raise RuntimeError("replay printed no summary line")

    def compare_cards(self, serve: Serve, periods: list[str]) -> list[str]:
        """Differences between the live scorecards of `periods` and the replay of the clean file."""
        notes = []
        for period in periods:
            status, live = serve.scorecard(period)
            if status != 200:
                notes.append(f"{period}: HTTP {status}")
                continue
            paths = diff_paths(live, self.reference[period])
            if paths:
                notes.append(f"{period} ≠ replay ({'; '.join(paths)})")
        return notes

    def produce(self, topic: str, path: Path) -> None:
        self.run("produce", "--brokers", self.broker.address, "--topic", topic,
                 "--partitions", PARTITIONS, path)

    # --- setup --------------------------------------------------------------------------------------

    def setup(self) -> None:
        self.broker = Broker(self.tansu, self.work / "broker", self.children)
        log(f"tansu on {self.broker.address}")
        self.data = self.work / "data"
        self.data.mkdir()
        self.events = self.data / "events.ndjson"
        self.org = self.data / "org.csv"
        self.simulation = ["--from", DATA_FROM, "--days", DATA_DAYS, "--branches", DATA_BRANCHES,
                           "--users-per-branch", DATA_USERS_PER_BRANCH, "--seed", DATA_SEED]
        self.run("simulate", "--out", self.events, "--org-out", self.org, *self.simulation)
        self.lines = [line for line in self.events.read_bytes().split(b"\n") if line]
        self.check_optional_config()
        self.replay_config = self.data / "replay.toml"
        self.replay_config.write_text(self.config_text(None))
        self.expected_counts = self.replay_counts(self.events)
        self.reference = {period: self.replay(self.events, period) for period in PERIODS}
        self.quotes = [i for i, line in enumerate(self.lines)
                       if b'"quote_created"' in line and json.loads(line).get("event_type") == "quote_created"]
        log(f"{len(self.lines)} events; replay {counts_text(self.expected_counts)}")

    # --- probe 1 ------------------------------------------------------------------------------------

    def poison_messages(self) -> list[tuple[str, bytes]]:
        template = json.loads(self.lines[self.quotes[0]])

        def variant(name: str, **changes) -> bytes:
            event = dict(template, event_id=f"fc-poison-{name}", quote_id=f"fc-poison-{name}")
            event.update(changes)
            return json.dumps(event).encode()

        return [
            ("not_json", b"fc-poison-not_json: this is not JSON {"),
            ("not_utf8", b'{"event_id": "fc-poison-not_utf8", "event_type": "login", "user_id": "\xff\xfe"}'),
            ("nul_in_user_id", variant("nul_in_user_id", user_id=template["user_id"] + "\u0000x")),
            ("year_1970", variant("year_1970", occurred_at="1970-01-01T08:00:00+08:00")),
            ("far_future", variant("far_future", occurred_at="2099-07-01T10:00:00+08:00")),
            ("over_1_mib", variant("over_1_mib", padding="x" * 1_100_000)),
            ("unknown_event_type", variant("unknown_event_type", event_type="quote_teleported")),
        ]

    def probe_poison(self, serve: Serve) -> None:
        poison = self.poison_messages()
        name = "1 poison messages"
        expected = f"{len(poison)} dead-lettered (rejected +{len(poison)}, .dlq +{len(poison)}); counts, figures = replay"
        self.figures["poison"] = f"poison messages tried {len(poison)}"
        try:
            before = serve.counts()
            dlq = f"{serve.topic}.dlq"
            dlq_before = self.broker.messages_in(dlq)
            path = serve.dir / "poison.ndjson"
            path.write_bytes(b"\n".join(payload for _, payload in poison) + b"\n")
            self.produce(serve.topic, path)
            after = serve.wait_for_total(total_of(before) + len(poison), 60)
            time.sleep(1)  # dead letters are awaited before a batch counts; the metric and topic follow
            dlq_after = self.broker.messages_in(dlq)
            delta = {k: after[k] - before[k] for k in after if k in before}
            observed = [f"rejected +{delta.get('rejected')}", f".dlq +{dlq_after - dlq_before}"]
            where = {}
            for table in ("events", "late_events"):
                rows = serve.sql(f"SELECT event_id FROM {table} WHERE event_id LIKE 'fc-poison-%'")["rows"]
                for r in rows:
                    where[r["event_id"].removeprefix("fc-poison-")] = "accepted" if table == "events" else "late"
            if where:
                observed.append("not dead-lettered: " + ", ".join(f"{k} ({v})" for k, v in sorted(where.items())))
            cards = self.compare_cards(serve, PERIODS)
            observed += cards
            dead = min(delta.get("rejected", 0), dlq_after - dlq_before)
            self.figures["poison"] += f", dead-lettered {dead}"
            ok = (delta.get("rejected") == len(poison) and dlq_after - dlq_before == len(poison)
                  and not where and all(delta.get(k) == 0 for k in ("accepted", "duplicate", "late"))
                  and not cards)
            if ok:
                observed.append("figures = replay")
            self.row(name, expected, "; ".join(observed), ok)
        except Exception as e:  # noqa: BLE001 - a probe that cannot run is a failed probe
            self.row(name, expected, f"error: {e}", False)

    # --- probe 2 ------------------------------------------------------------------------------------

    def probe_wrong_clock(self) -> None:
        name = "2 bad clock"
        expected = f"{MONTH} scorecard = replay, late unchanged, watermark_outliers = 1"
        self.figures["clock"] = "bad-clock messages tried 1"
        serve = Serve(self, "clock")
        try:
            middle = len(self.lines) // 2
            source = next(i for i in self.quotes if i >= middle)
            wrong = dict(json.loads(self.lines[source]), event_id="fc-wrong-clock", quote_id="fc-wrong-clock",
                         occurred_at=WRONG_CLOCK_AT)
            lines = self.lines[:middle] + [json.dumps(wrong).encode()] + self.lines[middle:]
            path = serve.dir / "skewed.ndjson"
            path.write_bytes(b"\n".join(lines) + b"\n")
            self.produce(serve.topic, path)
            serve.start()
            counts = serve.wait_for_total(len(lines))
            cards = self.compare_cards(serve, [MONTH])
            status = serve.status() or {}
            partitions = status.get("partitions", {})
            outliers = [p.get("watermark_outliers") for p in partitions.values()]
            outlier_sum = sum(o for o in outliers if isinstance(o, int)) if None not in outliers else None
            watermarks = sorted({(p.get("watermark") or "")[:10] for p in partitions.values()})
            late = counts.get("late")
            observed = [f"{MONTH} = replay" if not cards else cards[0],
                        f"late {late} (replay {self.expected_counts['late']})",
                        f"watermark_outliers {outlier_sum if outlier_sum is not None else 'absent'}",
                        f"accepted {counts.get('accepted')} (replay {self.expected_counts['accepted']})",
                        f"watermarks {', '.join(watermarks)}"]
            ok = not cards and late == self.expected_counts["late"] and outlier_sum == 1
            self.figures["clock"] += f", {MONTH} {'= replay' if not cards else '≠ replay'}"
            self.row(name, expected, "; ".join(observed), ok)
        except Exception as e:  # noqa: BLE001
            self.row(name, expected, f"error: {e}", False)
        finally:
            serve.kill9()

    # --- probes 3, 4, 5 -----------------------------------------------------------------------------

    def probe_restarts(self, serve: Serve) -> bool:
        name = f"3 kill -9 x{RESTARTS}"
        expected = "counts, figures = replay; archive rows = accepted, each once"
        self.figures["restarts"] = f"restarts survived 0 of {RESTARTS}"
        try:
            serve.start()
            rate = max(len(self.lines) // FLOW_SECS, 100)
            simulator = self.children.spawn(
                [self.bin, "simulate", "--brokers", self.broker.address, "--topic", serve.topic,
                 "--rate", rate, *self.simulation],
                stderr_to=serve.dir / "simulate.log",
            )
            rng = random.Random(KILL_SEED)
            killed_at = []
            for _ in range(RESTARTS):
                restored = (serve.counts() or {}).get("accepted", 0)
                deadline = time.monotonic() + 60
                while (serve.counts() or {}).get("accepted", 0) <= restored:
                    if time.monotonic() > deadline:
                        raise RuntimeError("a restarted serve made no progress")
                    time.sleep(0.05)
                time.sleep(rng.uniform(0.2, 1.2))
                killed_at.append((serve.counts() or {}).get("accepted", 0))
                serve.kill9()
                serve.start()
            if simulator.wait(timeout=CATCH_UP_SECS) != 0:
                raise RuntimeError(f"the live simulator failed: {(serve.dir / 'simulate.log').read_text()[-300:]}")
            counts = serve.wait_for_total(len(self.lines))
            cards = self.compare_cards(serve, PERIODS)
            serve.wait_for_checkpoints(2)  # the current and the previous checkpoint both hold everything
            code = serve.terminate()
            archived = self.offline_json(serve.state, "SELECT count(*) AS n, count(DISTINCT event_id) AS ids FROM events")
            row = archived["rows"][0]
            accepted = counts.get("accepted")
            self.lost.append(max(0, self.expected_counts["accepted"] - (accepted or 0)))
            self.lost.append(max(0, (accepted or 0) - row["ids"]))
            flowing = sum(1 for k in killed_at if k < self.expected_counts["accepted"])
            observed = [f"killed at accepted {', '.join(map(str, killed_at))} of {self.expected_counts['accepted']}",
                        "counts = replay" if counts == self.expected_counts else f"counts {counts_text(counts)}",
                        *(cards or ["figures = replay"]),
                        f"archive {row['n']} rows, {row['ids']} ids", f"SIGTERM exit {code}"]
            ok = (counts == self.expected_counts and not cards and row["n"] == row["ids"] == accepted
                  and code == 0 and flowing == RESTARTS)
            if ok:
                self.figures["restarts"] = f"restarts survived {RESTARTS} of {RESTARTS}"
            self.row(name, expected, "; ".join(observed), ok)
            return True
        except Exception as e:  # noqa: BLE001
            serve.kill9()
            self.row(name, expected, f"error: {e}", False)
            return False

    def offline(self, state: Path, query: str, fmt: str = "csv") -> subprocess.CompletedProcess:
        return self.run("sql", query, "--state-dir", state, "--config", self.replay_config, "--format", fmt,
                        check=False)

    def offline_json(self, state: Path, query: str) -> dict:
        result = self.offline(state, query, "json")
        if result.returncode != 0:
            raise RuntimeError(f"leaderboard sql: {result.stderr.decode(errors='replace')[-300:]}")
        return json.loads(result.stdout)

    def probe_corruption(self, serve: Serve) -> None:
        name = f"4 checkpoint bit flips x{CORRUPT_BITS}"
        expected = f"{CORRUPT_BITS}/{CORRUPT_BITS} reported, previous checkpoint used, figures identical"
        self.figures["corruption"] = f"corruptions detected 0 of {CORRUPT_BITS}"
        try:
            base = self.work / "corrupt-base"
            shutil.copytree(serve.state, base)
            current = (base / "checkpoint.bin").read_bytes()
            previous = base / "checkpoint.prev.bin"
            reference = self.offline(base, FIGURES_QUERY)
            if reference.returncode != 0:
                raise RuntimeError(f"the intact state does not answer: {reference.stderr.decode()[-300:]}")
            notes = []
            if not previous.exists():
                notes.append("no checkpoint.prev.bin")
            else:
                only_previous = self.work / "corrupt-prev"
                shutil.copytree(base, only_previous)
                (only_previous / "checkpoint.bin").unlink()
                if self.offline(only_previous, FIGURES_QUERY).stdout != reference.stdout:
                    notes.append("previous checkpoint's figures differ from the current one's")
            work = self.work / "corrupt-work"
            shutil.copytree(base, work)
            rng = random.Random(CORRUPT_SEED)
            header = rng.sample(range(min(CORRUPT_HEADER_BYTES, len(current)) * 8), CORRUPT_HEADER_BITS)
            body = rng.sample(range(CORRUPT_HEADER_BYTES * 8, len(current) * 8), CORRUPT_BITS - CORRUPT_HEADER_BITS)
            outcome = {"detected": 0, "refused": 0, "silent, same": 0, "SILENTLY DIFFERENT": 0,
                       "reported, different": 0}
            for bit in header + body:
                for leftover in work.glob("checkpoint*"):
                    leftover.unlink()
                damaged = bytearray(current)
                damaged[bit // 8] ^= 1 << (bit % 8)
                (work / "checkpoint.bin").write_bytes(bytes(damaged))
                if previous.exists():
                    shutil.copyfile(previous, work / "checkpoint.prev.bin")
                result = self.offline(work, FIGURES_QUERY)
                reported = bool(DAMAGE_WORDS.search(result.stderr.decode(errors="replace")))
                same = result.returncode == 0 and result.stdout == reference.stdout
                if result.returncode != 0:
                    outcome["refused" if reported else "SILENTLY DIFFERENT"] += 1
                elif same:
                    outcome["detected" if reported else "silent, same"] += 1
                else:
                    outcome["reported, different" if reported else "SILENTLY DIFFERENT"] += 1
            served = self.corrupt_and_serve(serve)
            observed = ", ".join(f"{k} {v}" for k, v in outcome.items() if v) + f" (of {len(current)} bytes)"
            detected = outcome["detected"] + outcome["refused"] + outcome["reported, different"]
            self.figures["corruption"] = f"corruptions detected {detected} of {CORRUPT_BITS}"
            ok = outcome["detected"] == CORRUPT_BITS and not notes and served[1]
            self.row(name, expected, "; ".join([observed, *notes, served[0]]), ok)
        except Exception as e:  # noqa: BLE001
            self.row(name, expected, f"error: {e}", False)

    def corrupt_and_serve(self, serve: Serve) -> tuple[str, bool]:
        """One flipped bit in the body of the real state's checkpoint, then `serve` on it: reported, and the
        figures equal the replay once the topic is read on."""
        path = serve.state / "checkpoint.bin"
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0x10
        path.write_bytes(bytes(data))
        mark = serve.log.stat().st_size
        try:
            serve.start()
        except RuntimeError as e:
            return f"serve on a flipped bit: {e}", False
        try:
            counts = serve.wait_for_total(len(self.lines), 60)
            cards = self.compare_cards(serve, PERIODS)
        finally:
            serve.terminate()
        with open(serve.log, "rb") as f:
            f.seek(mark)
            reported = bool(DAMAGE_WORDS.search(f.read().decode(errors="replace")))
        ok = reported and not cards and counts == self.expected_counts
        text = (f"serve on a flipped bit: {'reported' if reported else 'not reported'}, "
                f"{'figures = replay' if not cards and counts == self.expected_counts else 'figures ≠ replay'}")
        return text, ok

    def probe_lost_checkpoint(self, serve: Serve) -> None:
        name = "5 lost checkpoint"
        expected = "every archive file moved to archive/aside, none deleted; aside empties; events = accepted"
        try:
            archive = serve.state / "archive"
            aside = archive / "aside"
            before = [p for p in parquet_files(archive) if aside not in p.parents]
            for lost in ("checkpoint.bin", "checkpoint.prev.bin"):
                (serve.state / lost).unlink(missing_ok=True)
            seen = {"max_aside": 0, "stop": False}

            def watch() -> None:
                while not seen["stop"]:
                    seen["max_aside"] = max(seen["max_aside"], len(parquet_files(aside)))
                    time.sleep(0.02)

            watcher = threading.Thread(target=watch, daemon=True)
            watcher.start()
            mark = serve.log.stat().st_size
            started = time.monotonic()
            serve.start()
            counts = serve.wait_for_total(len(self.lines))
            deadline = time.monotonic() + ASIDE_EMPTY_SECS
            while parquet_files(aside) and time.monotonic() < deadline:
                time.sleep(0.1)
            emptied = time.monotonic() - started
            left = len(parquet_files(aside))
            seen["stop"] = True
            watcher.join()
            row = serve.sql("SELECT count(*) AS n, count(DISTINCT event_id) AS ids FROM events")["rows"][0]
            serve.terminate()
            with open(serve.log, "rb") as f:
                f.seek(mark)
                logged = b"aside" in f.read()
            accepted = counts.get("accepted")
            self.lost.append(max(0, (accepted or 0) - row["ids"]))
            observed = [f"{len(before)} archive files; aside held {seen['max_aside']} at most",
                        f"aside empty after {emptied:.1f} s" if not left else f"{left} still aside",
                        f"log {'names' if logged else 'does not name'} the aside",
                        f"events {row['n']} rows, {row['ids']} ids, accepted {accepted}"]
            ok = (seen["max_aside"] == len(before) > 0 and not left
                  and row["n"] == row["ids"] == accepted == self.expected_counts["accepted"])
            self.row(name, expected, "; ".join(observed), ok)
        except Exception as e:  # noqa: BLE001
            serve.kill9()
            self.row(name, expected, f"error: {e}", False)

    # --- probe 6 ------------------------------------------------------------------------------------

    def psql(self, serve: Serve, password: str, timeout: float = 30) -> tuple[int, str, float]:
        env = dict(child_env(), PGPASSWORD=password, PGSSLMODE="disable", PGCONNECT_TIMEOUT="30")
        started = time.monotonic()
        try:
            result = subprocess.run(
                ["psql", "-X", "-w", "-A", "-t", "-h", "127.0.0.1", "-p", str(serve.pg_port), "-U", SQL_USER,
                 "-d", "leaderboard", "-c", "select 1"],
                env=env, capture_output=True, timeout=timeout)
            output = (result.stdout + result.stderr).decode(errors="replace").strip()
            output = output[output.find("FATAL:"):] if "FATAL:" in output else output
            output = re.sub(r"\s+", " ", output)
            return result.returncode, output, time.monotonic() - started
        except subprocess.TimeoutExpired:
            return -1, f"no answer in {timeout:.0f} s", time.monotonic() - started

    def probe_postgres(self, serve: Serve) -> None:
        name = f"6a Postgres: {PG_SILENT_CONNECTIONS} silent connections"
        expected = f"psql logs in, select 1 within {PG_LOGIN_WITHIN_SECS:.0f} s"
        try:
            code, output, took = self.psql(serve, SQL_PASSWORD)
            if code != 0 or output != "1":
                raise RuntimeError(f"psql fails with no silent connections: {short(output, 120)}")
            silent = [socket.create_connection(("127.0.0.1", serve.pg_port), timeout=5)
                      for _ in range(PG_SILENT_CONNECTIONS)]
            time.sleep(0.3)
            code, output, took = self.psql(serve, SQL_PASSWORD, timeout=PG_LOGIN_WITHIN_SECS + 25)
            closed = 0
            for s in silent:
                s.setblocking(False)
                try:
                    closed += s.recv(1) == b""
                except BlockingIOError:
                    pass
                except OSError:
                    closed += 1
                s.close()
            answer = "select 1 = 1" if code == 0 and output == "1" else short(output, 80)
            ok = code == 0 and output == "1" and took <= PG_LOGIN_WITHIN_SECS
            self.row(name, expected, f"{answer} after {took:.1f} s; server closed {closed} silent", ok)
        except Exception as e:  # noqa: BLE001
            self.row(name, expected, f"error: {e}", False)

        name = f"6b Postgres: {PG_WRONG_PASSWORDS} wrong passwords"
        expected = f"refused, slower over time (last 5 >= {PG_SLOWDOWN_FACTOR:g}x first 5)"
        try:
            times, outputs = [], []
            budget = time.monotonic() + PG_WRONG_PASSWORD_BUDGET_SECS
            for _ in range(PG_WRONG_PASSWORDS):
                code, output, took = self.psql(serve, "not-the-password", timeout=60)
                times.append(took)
                outputs.append((code, output))
                if time.monotonic() > budget:
                    break
            refused = sum(1 for code, out in outputs if code != 0 and "password" in out.lower())
            first, last = statistics.median(times[:5]), statistics.median(times[-5:])
            ok = (refused == len(times) == PG_WRONG_PASSWORDS and last >= PG_SLOWDOWN_FACTOR * first
                  and last >= PG_SLOWDOWN_MIN_SECS)
            observed = (f"{refused}/{len(times)} refused; median first 5 {first * 1000:.0f} ms, "
                        f"last 5 {last * 1000:.0f} ms; total {sum(times):.1f} s")
            if refused < len(times):
                observed += f"; e.g. {short(next(o for c, o in outputs if c == 0 or 'password' not in o.lower()), 60)}"
            self.row(name, expected, observed, ok)
        except Exception as e:  # noqa: BLE001
            self.row(name, expected, f"error: {e}", False)

    # --- probe 7 ------------------------------------------------------------------------------------

    def probe_http(self, serve: Serve) -> None:
        name = f"7a HTTP: {HTTP_IDLE_CONNECTIONS} idle connections"
        expected = "/health answers 200"
        idle, failed = [], 0
        try:
            for _ in range(HTTP_IDLE_CONNECTIONS):
                try:
                    idle.append(socket.create_connection(("127.0.0.1", serve.port), timeout=5))
                except OSError:
                    failed += 1
            time.sleep(0.2)
            started = time.monotonic()
            status, _, _ = http("GET", serve.url("/health"), timeout=5)
            took = time.monotonic() - started
            self.row(name, expected, f"{len(idle)} open ({failed} failed to connect); /health {status} "
                                     f"in {took:.2f} s", status == 200 and len(idle) == HTTP_IDLE_CONNECTIONS)
        except Exception as e:  # noqa: BLE001
            self.row(name, expected, f"error: {e}", False)
        finally:
            for s in idle:
                s.close()

        name = "7b HTTP: 50 MB body"
        expected = "413 with a JSON body"
        try:
            observed, ok = [], True
            for path in HTTP_BIG_BODY_PATHS:
                status, content_type, body = big_post(serve.port, path, HTTP_BIG_BODY_BYTES)
                try:
                    is_json = isinstance(json.loads(body), dict)
                except ValueError:
                    is_json = False
                ok &= status == 413 and is_json
                observed.append(f"{path}: {status or 'no answer'} {content_type or '-'} {short(body.decode(errors='replace'), 40)}")
            self.row(name, expected, "; ".join(observed), ok)
        except Exception as e:  # noqa: BLE001
            self.row(name, expected, f"error: {e}", False)

        name = "7c HTTP: half a request header"
        limit = HTTP_HEADER_TIMEOUT_SECS + HTTP_HEADER_SLACK_SECS
        expected = f"closed within {limit:g} s (header timeout {HTTP_HEADER_TIMEOUT_SECS} s)"
        try:
            with socket.create_connection(("127.0.0.1", serve.port), timeout=5) as s:
                s.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: fault-campaign\r\n")
                started = time.monotonic()
                cap = HTTP_HEADER_TIMEOUT_SECS + 5
                closed_after, answer = None, b""
                while time.monotonic() - started < cap:
                    s.settimeout(max(0.1, cap - (time.monotonic() - started)))
                    try:
                        chunk = s.recv(65536)
                    except socket.timeout:
                        break
                    except OSError:
                        chunk = b""
                    if not chunk:
                        closed_after = time.monotonic() - started
                        break
                    answer += chunk
            status_line = answer.split(b"\r\n", 1)[0].decode(errors="replace") if answer else ""
            if closed_after is None:
                observed = f"still open after {cap} s"
            else:
                observed = f"closed after {closed_after:.1f} s" + (f" ({status_line})" if status_line else "")
            self.row(name, expected, observed, closed_after is not None and closed_after <= limit)
        except Exception as e:  # noqa: BLE001
            self.row(name, expected, f"error: {e}", False)

    # --- probe 8 ------------------------------------------------------------------------------------

    def probe_sql(self, serve: Serve) -> None:
        name = f"8 SQL: {SQL_TERMS:,}-term ||"
        limit = SQL_TIMEOUT_SECS + SQL_ANSWER_SLACK_SECS
        expected = (f"4xx within {limit:g} s; server CPU grows < {SQL_CPU_MAX_SECS:g} s over "
                    f"{SQL_CPU_WINDOW_SECS:g} s from {SQL_CPU_SETTLE_SECS:g} s after")
        try:
            statement = "SELECT " + " || ".join(["'a'"] * SQL_TERMS)
            pid = serve.proc.pid
            started = time.monotonic()
            status, _, body = http("POST", serve.url("/api/v1/sql"), statement.encode(),
                                   {"Accept": "application/json", "Content-Type": "text/plain"},
                                   timeout=SQL_TIMEOUT_SECS + 60)
            took = time.monotonic() - started
            time.sleep(SQL_CPU_SETTLE_SECS)
            cpu_from = cpu_seconds(pid)
            time.sleep(SQL_CPU_WINDOW_SECS)
            grown = cpu_seconds(pid) - cpu_from
            rss = next((line.split()[1] for line in open(f"/proc/{pid}/status") if line.startswith("VmRSS")), "?")
            ok = 400 <= status < 500 and took <= limit and grown < SQL_CPU_MAX_SECS
            self.row(name, expected,
                     f"{status or 'no answer'} after {took:.1f} s ({short(body.decode(errors='replace'), 50)}); "
                     f"CPU +{grown:.2f} s in the window; RSS {int(rss) // 1024 if rss.isdigit() else rss} MiB",
                     ok)
        except Exception as e:  # noqa: BLE001
            self.row(name, expected, f"error: {e}", False)

    # --- the whole campaign -------------------------------------------------------------------------

    def execute(self) -> None:
        self.setup()
        if self.wanted(1, 6, 7, 8):
            serve = Serve(self, "poison", postgres=True)
            try:
                self.produce(serve.topic, self.events)
                serve.start()
                counts = serve.wait_for_total(len(self.lines))
                if counts != self.expected_counts:
                    self.notes.append(f"the clean stream counts {counts_text(counts)} on serve, replay "
                                      f"{counts_text(self.expected_counts)}")
                if self.wanted(1):
                    self.probe_poison(serve)
                if self.wanted(6):
                    self.probe_postgres(serve)
                if self.wanted(7):
                    self.probe_http(serve)
                if self.wanted(8):
                    self.probe_sql(serve)  # last on this server: a planner that runs on burns a core
            except Exception as e:  # noqa: BLE001
                self.row("1/6/7/8 setup", "serve on the clean stream", f"error: {e}", False)
            finally:
                serve.kill9()
        if self.wanted(2):
            self.probe_wrong_clock()
        if self.wanted(3, 4, 5):
            serve = Serve(self, "restart")
            try:
                if self.probe_restarts(serve):
                    if self.wanted(4):
                        self.probe_corruption(serve)
                    if self.wanted(5):
                        self.probe_lost_checkpoint(serve)
            finally:
                serve.kill9()

    def report(self, started: dt.datetime) -> str:
        def git(*args: str) -> str:
            try:
                return subprocess.run(["git", "-C", str(self.repo), *args], capture_output=True, text=True,
                                      timeout=10).stdout.strip()
            except OSError:
                return ""

        commit = git("rev-parse", "--short", "HEAD") or "unknown"
        if git("status", "--porcelain", "--untracked-files=no"):
            commit += " (with uncommitted changes)"
        stat = self.bin.stat()
        digest = hashlib.sha256(self.bin.read_bytes()).hexdigest()[:12]
        version = self.run("--version", check=False).stdout.decode(errors="replace").strip()
        built = dt.datetime.fromtimestamp(stat.st_mtime, dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        took = (dt.datetime.now(dt.timezone.utc) - started).total_seconds()
        events = len(getattr(self, "lines", []))
        replayed = counts_text(self.expected_counts) if hasattr(self, "expected_counts") else "not run"
        lines = [
            f"Fault campaign of {started.strftime('%Y-%m-%d %H:%M UTC')} ({took:.0f} s)",
            "",
            f"- checkout: {git('rev-parse', '--abbrev-ref', 'HEAD') or '?'} at {commit}",
            f"- binary: `{self.bin}` ({version or 'no version'}, modified {built}, sha256 {digest}…)",
            f"- data: {DATA_BRANCHES} branches × {DATA_USERS_PER_BRANCH} users × {DATA_DAYS} days from "
            f"{DATA_FROM}, seed {DATA_SEED}: {events} events; replay {replayed}",
            *(f"- {note}" for note in self.notes),
            "",
            "| probe | expected | observed | ok |",
            "|---|---|---|---|",
        ]
        def order(row):
            number = re.match(r"(\d+)([a-z]?)", row[0])
            return (int(number.group(1)), number.group(2)) if number else (99, row[0])

        for probe, expected, observed, ok in sorted(self.rows, key=order):
            cells = [c.replace("|", "\\|").replace("\n", " ") for c in (probe, expected, observed)]
            lines.append(f"| {' | '.join(cells)} | {'yes' if ok else 'no'} |")
        passed = sum(1 for r in self.rows if r[3])
        figures = [self.figures[k] for k in ("poison", "clock", "restarts", "corruption") if k in self.figures]
        figures.append(f"events lost {sum(self.lost)}" if self.lost else "events lost: not measured")
        lines += ["", f"Figures: {'; '.join(figures)}; probes ok {passed} of {len(self.rows)}."]
        return "\n".join(lines) + "\n"


def big_post(port: int, path: str, size: int) -> tuple[int, str, bytes]:
    """POSTs `size` bytes to `path` while reading the answer (a server may answer before the body is in);
    returns the status, content type and body."""
    received = bytearray()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:

        def reader() -> None:
            while True:
                try:
                    chunk = s.recv(65536)
                except OSError:
                    return
                if not chunk:
                    return
                received.extend(chunk)

        thread = threading.Thread(target=reader, daemon=True)
        thread.start()
        head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                f"Accept: application/json\r\nContent-Length: {size}\r\nConnection: close\r\n\r\n").encode()
        chunk = b" " * (1 << 20)
        try:
            s.sendall(head)
            sent = 0
            while sent < size and not received:
                s.sendall(chunk[: min(len(chunk), size - sent)])
                sent += min(len(chunk), size - sent)
        except OSError:
            pass
        thread.join(30)
    head, _, body = bytes(received).partition(b"\r\n\r\n")
    lines = head.decode(errors="replace").split("\r\n")
    status = int(lines[0].split()[1]) if lines and len(lines[0].split()) > 1 else 0
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    if headers.get("transfer-encoding") == "chunked":
        body = dechunk(body)
    return status, headers.get("content-type", ""), body


def dechunk(data: bytes) -> bytes:
    out = bytearray()
    while data:
        size_line, _, rest = data.partition(b"\r\n")
        try:
            size = int(size_line.split(b";")[0], 16)
        except ValueError:
            break
        if size == 0:
            break
        out += rest[:size]
        data = rest[size + 2:]
    return bytes(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", default=os.environ.get("LEADERBOARD_BIN")
                        or str(Path.home() / ".cache/leaderboard/target/release/leaderboard"))
    parser.add_argument("--tansu", default=os.environ.get("TANSU")
                        or str(Path.home() / ".cache/leaderboard/tansu/bin/tansu"))
    parser.add_argument("--workdir", help="an empty directory for data, state and logs (default: a new one "
                                          "in $TMPDIR, removed at the end)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--only", type=lambda s: {int(p) for p in s.split(",")}, default=set(),
                        help="probe numbers to run, e.g. 1,6 (probes 4 and 5 run probe 3 first)")
    parser.add_argument("--out", help="also write the report to this file")
    args = parser.parse_args()
    for path, what in ((args.binary, "leaderboard binary"), (args.tansu, "tansu broker")):
        if not os.access(path, os.X_OK):
            print(f"fault campaign: no {what} at {path}", file=sys.stderr)
            return 2
    if not shutil.which("psql"):
        print("fault campaign: psql is not installed (scripts/test.sh installs it)", file=sys.stderr)
        return 2
    own_workdir = args.workdir is None
    args.workdir = args.workdir or tempfile.mkdtemp(prefix="fault-campaign.")
    campaign = Campaign(args)
    started = dt.datetime.now(dt.timezone.utc)

    def stop(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, stop)
    try:
        campaign.execute()
    except KeyboardInterrupt as e:
        campaign.row("campaign", "runs to the end", f"interrupted ({e})", False)
    except Exception as e:  # noqa: BLE001
        campaign.row("campaign", "runs to the end", f"error: {e}", False)
    finally:
        campaign.children.end_all()
        if own_workdir and not args.keep:
            shutil.rmtree(args.workdir, ignore_errors=True)
        elif own_workdir:
            log(f"work directory kept: {args.workdir}")
    report = campaign.report(started)
    print(report, end="")
    if args.out:
        Path(args.out).write_text(report)
    return 0 if campaign.rows and all(r[3] for r in campaign.rows) else 1


if __name__ == "__main__":
    sys.exit(main())
