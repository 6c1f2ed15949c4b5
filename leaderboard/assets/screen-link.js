// The wall screen's link to the server (docs/websocket.md): connecting and reconnecting with backoff, the
// subscriptions to the programme's boards and the frames that keep them current (snapshots, patches,
// heartbeats with the data's freshness, playlists; moments go to screen-moments.js). Loaded first: it also
// holds the shared lookups and `$`.
"use strict";

const UNITS = new Map(CATALOG.boards.map((b) => [b.key, b.unit]));
const PEOPLE_BOARDS = new Set(CATALOG.boards.filter((b) => b.ranks_people).map((b) => b.key));
const URL_LANG = LANG;
const SCREEN = PARAMS.get("screen");
const SILENCE_MS = 25000; // heartbeats come every 10 s: this long without a frame means a dead link

/** Per followed board: the branch it is followed for, where the client stands and the rows it holds. */
const boards = new Map();
/** Branch names by id, learnt from the rows: the title of a people board of one branch names it. */
const branchNames = new Map();
let socket = null;
let lastFrameAt = 0;
let retryMs = 1000;
let freshness = { as_of: null, updated_at: null, stale: false };
// For tests and diagnostics: `playlist` is the last playlist frame (null without) and `playlistAppliedAt` when
// it was taken (ms since the epoch), `showing` the board on screen, `moments` the last moment frames (at most 50).
window.__leaderboard = { boards, frames: 0, resyncs: 0, connects: 0, playlist: null, playlistAppliedAt: null, showing: null, moments: [] };

const $ = (id) => document.getElementById(id);

/* ------------------------------------------------------------------------------------------------
 * The link: subscriptions, frames, reconnecting.
 * ---------------------------------------------------------------------------------------------- */

/** The branch a board is followed for: the programme's, on the people boards only. */
const branchOf = (board) => (PEOPLE_BOARDS.has(board) ? programme.branch || null : null);

/** A message about one board (subscribe, unsubscribe, resync), with the branch it is followed for. */
function message(type, board, branch) {
  const m = { type, board };
  if (branch) m.branch = branch;
  return m;
}

/** Sends a message when the link is up (on connecting, the screen subscribes to all it follows anyway). */
function send(m) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(m));
}

/** Follows exactly the programme's boards: unsubscribes from the others, subscribes to the new ones. */
function follow() {
  const wanted = new Map(programme.boards.map(({ board }) => [board, branchOf(board)]));
  for (const [board, state] of boards) {
    if (wanted.get(board) === state.branch) continue;
    send(message("unsubscribe", board, state.branch));
    boards.delete(board);
    finals.delete(board);
  }
  for (const [board, branch] of wanted) {
    if (boards.has(board)) continue;
    boards.set(board, { branch, epoch: null, seq: null, period: "", final: false, rows: new Map(), order: [] });
    send(message("subscribe", board, branch));
  }
}

function connect() {
  const q = new URLSearchParams();
  // A page that names its boards is not a managed screen, even with a screen's token.
  if (SCREEN) q.set("screen", SCREEN);
  else if (PARAMS.has("board")) q.set("screen", "");
  q.set("version", CATALOG.version);
  if (TOKEN) q.set("token", TOKEN);
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws?${q}`;
  socket = new WebSocket(url);
  let opened = false;
  socket.onopen = () => {
    opened = true;
    $("reconnecting").textContent = T.reconnecting;
    window.__leaderboard.connects++;
    retryMs = 1000;
    lastFrameAt = Date.now();
    for (const [board, state] of boards) {
      const s = message("subscribe", board, state.branch);
      if (state.epoch !== null) { s.epoch = state.epoch; s.seq = state.seq; }
      socket.send(JSON.stringify(s));
    }
    send({ type: "showing", board: current().board });
    setConnected(true);
  };
  socket.onmessage = (event) => {
    lastFrameAt = Date.now();
    window.__leaderboard.frames++;
    onFrame(JSON.parse(event.data));
  };
  socket.onclose = () => {
    setConnected(false);
    if (!opened) explainRefusal();
    socket = null;
    const wait = retryMs * (0.75 + Math.random() * 0.5);
    retryMs = Math.min(retryMs * 2, 10000);
    setTimeout(connect, wait);
  };
}

/** A websocket refused before it opened says nothing to the page: asks the API whether the token is the cause,
 * and says so in the banner instead of "reconnecting". */
function explainRefusal() {
  getJson("/api/v1/status").catch((e) => {
    if (e.status === 401) $("reconnecting").textContent = T.badToken;
  });
}

/** Shows what the server said about this screen's own request (an unknown screen name or board) for a minute:
 * whoever sets up the TV sees it. */
function showNotice(text) {
  const notice = $("notice");
  notice.textContent = text;
  notice.hidden = false;
  clearTimeout(showNotice.timer);
  showNotice.timer = setTimeout(() => { notice.hidden = true; }, 60000);
}

function setConnected(connected) {
  document.body.dataset.connected = String(connected);
  $("reconnecting").hidden = connected;
}

/** Whether a board's frame is on screen now (the live view of the board shown). */
const onScreen = (board) => board === current().board && slot.phase === "live";

function onFrame(f) {
  switch (f.type) {
    case "snapshot": {
      const state = boards.get(f.board);
      if (!state) return;
      Object.assign(state, { epoch: f.epoch, seq: f.seq, period: f.period, final: f.final, order: f.rows.map((r) => r.key) });
      state.rows = new Map(f.rows.map((r) => [r.key, r]));
      learnNames(f.rows);
      freshen(f);
      if (onScreen(f.board)) render(true);
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
      learnNames(f.rows);
      freshen(f);
      if (onScreen(f.board)) render(false, f.rows.map((r) => r.key));
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
      setOpening(f.opening || null);
      break;
    case "playlist":
      onPlaylist(f);
      break;
    case "celebrate":
      celebrate(f);
      break;
    case "moment":
      onMoment(f);
      break;
    case "error":
      console.warn("server:", f.message);
      showNotice(f.message);
      break;
  }
}

function resync(board) {
  window.__leaderboard.resyncs++;
  send(message("resync", board, boards.get(board).branch));
}

function learnNames(rows) {
  for (const r of rows) branchNames.set(r.branch_id, r.branch_name);
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

/* ------------------------------------------------------------------------------------------------
 * The playlist (from the server).
 * ---------------------------------------------------------------------------------------------- */

/** Takes the server's playlist for this screen: its boards, their seconds, branch, language and ticker, at once. */
function onPlaylist(f) {
  const known = f.boards.filter((b) => UNITS.has(b.board));
  const next = {
    boards: known.length ? known : urlProgramme().boards,
    branch: f.branch || URL_BRANCH,
    ticker: f.ticker || null,
  };
  // The same playlist comes again after each reconnection: nothing to change then.
  if (JSON.stringify(next) !== JSON.stringify(programme) || (f.lang || URL_LANG) !== LANG) {
    programme = next;
    setLanguage(f.lang || URL_LANG);
    follow();
    fetchFinals();
    Object.assign(slot, { index: 0, phase: "live", since: Date.now() });
    showStaticText();
    showTicker();
    show();
  }
  Object.assign(window.__leaderboard, { playlist: f, playlistAppliedAt: Date.now() });
}
