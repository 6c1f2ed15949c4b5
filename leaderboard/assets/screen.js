// The wall screen: follows boards over the websocket (docs/websocket.md), animates rank moves, rotates
// boards, celebrates big deals (never more than 3 flashes a second) and says when it is reconnecting or
// when the data is stale.
"use strict";

const ALL_BOARDS = CATALOG.boards.map((b) => b.key);
const UNITS = new Map(CATALOG.boards.map((b) => [b.key, b.unit]));
const BRANCH = PARAMS.get("branch");
const ROTATE_SECS = Number(PARAMS.get("rotate")) || 0;
const requested = (PARAMS.get("board") || ALL_BOARDS[0]).split(",").filter(Boolean);
const BOARDS = ROTATE_SECS && requested.length === 1 ? ALL_BOARDS : requested;
const MAX_FLASHES_PER_SEC = 3;
const SILENCE_MS = 25000; // heartbeats come every 10 s: this long without a frame means a dead link

/** Per board: where the client stands and the rows it holds. */
const boards = new Map(BOARDS.map((b) => [b, { epoch: null, seq: null, period: "", final: false, rows: new Map(), order: [] }]));
let shown = 0;
let socket = null;
let lastFrameAt = 0;
let retryMs = 1000;
let freshness = { as_of: null, updated_at: null, stale: false };
const flashes = [];
// For tests and diagnostics.
window.__leaderboard = { boards, frames: 0, resyncs: 0, connects: 0 };

const $ = (id) => document.getElementById(id);

function subscription(board) {
  const s = { type: "subscribe", board };
  if (BRANCH && board.startsWith("user_")) s.branch = BRANCH;
  return s;
}

function connect() {
  const q = new URLSearchParams();
  if (TOKEN) q.set("token", TOKEN);
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws?${q}`;
  socket = new WebSocket(url);
  socket.onopen = () => {
    window.__leaderboard.connects++;
    retryMs = 1000;
    lastFrameAt = Date.now();
    for (const [board, state] of boards) {
      const s = subscription(board);
      if (state.epoch !== null) { s.epoch = state.epoch; s.seq = state.seq; }
      socket.send(JSON.stringify(s));
    }
    setConnected(true);
  };
  socket.onmessage = (event) => {
    lastFrameAt = Date.now();
    window.__leaderboard.frames++;
    onFrame(JSON.parse(event.data));
  };
  socket.onclose = () => {
    setConnected(false);
    socket = null;
    const wait = retryMs * (0.75 + Math.random() * 0.5);
    retryMs = Math.min(retryMs * 2, 10000);
    setTimeout(connect, wait);
  };
}

function setConnected(connected) {
  document.body.dataset.connected = String(connected);
  $("reconnecting").hidden = connected;
}

function onFrame(f) {
  switch (f.type) {
    case "snapshot": {
      const state = boards.get(f.board);
      if (!state) return;
      Object.assign(state, { epoch: f.epoch, seq: f.seq, period: f.period, final: f.final, order: f.rows.map((r) => r.key) });
      state.rows = new Map(f.rows.map((r) => [r.key, r]));
      freshen(f);
      if (f.board === BOARDS[shown]) render(true);
      break;
    }
    case "patch": {
      const state = boards.get(f.board);
      if (!state) return;
      if (state.epoch === f.epoch && f.seq <= state.seq) return; // already have it
      if (state.epoch !== f.epoch || state.seq !== f.base) { resync(f.board); return; }
      for (const row of f.rows) state.rows.set(row.key, row);
      for (const key of f.removed) state.rows.delete(key);
      state.order = f.order;
      state.seq = f.seq;
      state.final = f.final;
      freshen(f);
      if (f.board === BOARDS[shown]) render(false, f.rows.map((r) => r.key));
      break;
    }
    case "rollover": {
      const state = boards.get(f.board);
      if (state) state.period = f.period; // the new month's snapshot follows
      break;
    }
    case "hb":
      freshen(f);
      freshness.stale = f.stale;
      showFreshness();
      break;
    case "celebrate":
      celebrate(f);
      break;
    case "error":
      console.warn("server:", f.message);
      break;
  }
}

function resync(board) {
  window.__leaderboard.resyncs++;
  const s = { type: "resync", board };
  if (BRANCH && board.startsWith("user_")) s.branch = BRANCH;
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(s));
}

function freshen(f) {
  if (f.as_of) freshness.as_of = f.as_of;
  if (f.updated_at) freshness.updated_at = f.updated_at;
  showFreshness();
}

function showFreshness() {
  $("updated-at").textContent = clock(freshness.updated_at);
  $("as-of").textContent = eventTime(freshness.as_of);
  const stale = $("stale");
  stale.hidden = !freshness.stale;
  stale.textContent = `${T.stale} ${eventTime(freshness.as_of)}`;
}

/** How a row's value reads on this board, by the unit of its values. */
function describe(board, row) {
  switch (UNITS.get(board)) {
    case "count_per_user":
      return { value: fmt(row.value), detail: row.denominator ? `${fmt(row.numerator, 0)} ${T.mobileQuotes} / ${fmt(row.denominator, 0)} ${T.users}` : "" };
    case "yuan_per_user":
      return { value: `¥${fmt(row.value, 0)}`, detail: row.denominator ? `¥${fmt(row.numerator, 0)} / ${fmt(row.denominator, 0)} ${T.users}` : "" };
    case "points":
      return { value: fmt(row.value), detail: T.points };
    case "count":
      return { value: fmt(row.value, 0), detail: T.mobileQuotes };
    default:
      return { value: `¥${fmt(row.value, 0)}`, detail: T.yuan };
  }
}

const elements = new Map(); // row key → <li>, reused so rank moves can be animated

function render(full, changedKeys) {
  const board = BOARDS[shown];
  const state = boards.get(board);
  $("board-title").textContent = BOARD_TITLES[board];
  $("period").textContent = state.period ? T.month(state.period) + (state.final ? ` · ${T.final}` : "") : "";
  const list = $("rows");
  const rows = state.order.map((k) => state.rows.get(k)).filter(Boolean).slice(0, 15);
  $("waiting").textContent = rows.length ? "" : T.waiting;
  list.parentElement.style.setProperty("--rows", Math.max(rows.length, 8));
  // FLIP: remember where each row was, move the elements, then animate from the old place to the new.
  const before = new Map();
  for (const [key, li] of elements) before.set(key, li.getBoundingClientRect().top);
  if (full) { list.textContent = ""; elements.clear(); }
  const keep = new Set(rows.map((r) => r.key));
  for (const [key, li] of elements) if (!keep.has(key)) { li.remove(); elements.delete(key); }
  rows.forEach((row, i) => {
    let li = elements.get(row.key);
    if (!li) { li = document.createElement("li"); elements.set(row.key, li); }
    fill(li, board, row);
    if (list.children[i] !== li) list.insertBefore(li, list.children[i] || null);
  });
  const changed = new Set(changedKeys || []);
  for (const [key, li] of elements) {
    const old = before.get(key);
    const now = li.getBoundingClientRect().top;
    if (old !== undefined && old !== now && !full) {
      li.animate([{ transform: `translateY(${old - now}px)` }, { transform: "translateY(0)" }], { duration: 800, easing: "ease-in-out" });
    }
    if (changed.has(key)) { li.classList.add("changed"); setTimeout(() => li.classList.remove("changed"), 1200); }
  }
}

function fill(li, board, row) {
  const { value, detail } = describe(board, row);
  li.dataset.key = row.key;
  li.dataset.rank = row.rank ?? "";
  li.className = row.rank && row.rank <= 3 ? `top${row.rank}` : row.rank ? "" : "unranked";
  const person = board.startsWith("user_");
  const tier = row.tier ? `<span class="pts">${T.tier(row.tier.from_rank, row.tier.to_rank, row.tier.points)}</span>` : "";
  li.innerHTML = `<span class="rank">${row.rank ?? "—"}</span>` +
    `<span class="name"></span>` +
    `<span class="value">${value}<small>${detail}</small></span>` +
    `<span class="tier">${row.in_scope ? tier : T.outOfScope}</span>`;
  const name = li.querySelector(".name");
  name.textContent = row.name;
  if (person) { const small = document.createElement("small"); small.textContent = row.branch_name; name.appendChild(small); }
}

/** Shows a big deal, at most MAX_FLASHES_PER_SEC a second (the server limits them too). */
function celebrate(f) {
  const now = Date.now();
  while (flashes.length && now - flashes[0] >= 1000) flashes.shift();
  if (flashes.length >= MAX_FLASHES_PER_SEC) return;
  flashes.push(now);
  const box = $("celebration");
  box.hidden = false;
  box.innerHTML = "";
  box.append(`🎉 ${T.deal} ¥${fmt(f.premium, 0)}`);
  const who = document.createElement("small");
  who.textContent = `${f.branch_name} · ${f.name || f.user_id || ""}`;
  box.append(who);
  box.style.animation = "none";
  void box.offsetWidth; // restart the animation
  box.style.animation = "";
  clearTimeout(celebrate.timer);
  celebrate.timer = setTimeout(() => { box.hidden = true; }, 1600);
}

function showRotation() {
  const footer = $("rotation");
  footer.textContent = "";
  if (BOARDS.length < 2) return;
  BOARDS.forEach((b, i) => {
    const span = document.createElement("span");
    span.textContent = BOARD_TITLES[b];
    if (i === shown) span.className = "current";
    footer.append(span);
  });
}

function start() {
  document.documentElement.lang = LANG === "zh" ? "zh-CN" : "en";
  $("org-title").textContent = T.title;
  $("updated-label").textContent = T.updatedAt;
  $("as-of-label").textContent = T.asOf;
  $("reconnecting").textContent = T.reconnecting;
  render(true);
  showRotation();
  if (ROTATE_SECS && BOARDS.length > 1) {
    setInterval(() => { shown = (shown + 1) % BOARDS.length; render(true); showRotation(); }, ROTATE_SECS * 1000);
  }
  // A link that went silent (no heartbeat) is dead even if the socket has not noticed.
  setInterval(() => {
    if (socket && socket.readyState === WebSocket.OPEN && Date.now() - lastFrameAt > SILENCE_MS) socket.close();
  }, 5000);
  connect();
}

start();
