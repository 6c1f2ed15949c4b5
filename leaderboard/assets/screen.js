// The wall screen: a TV across a room. Holds what it shows (the programme, the turns of boards and views, last
// month's final standings while a month opens) and shows it when due; celebrates big deals (never more than 3
// flashes a second), runs the ticker and starts. screen-link.js keeps the boards current, screen-rows.js draws,
// screen-moments.js shows the moments (an overtake, a tier, a month's close) between celebrations.
"use strict";

const ALL_BOARDS = CATALOG.boards.map((b) => b.key);
const URL_BRANCH = PARAMS.get("branch");
const MAX_FLASHES_PER_SEC = 3;
const ALTERNATE_MS = 15000; // last month's standings and the live month take turns this often on a fixed board

/** The boards the URL asks for: `board=a,b`, turning every `rotate=S` seconds (all boards when one is named). */
function urlProgramme() {
  const rotate = Number(PARAMS.get("rotate")) || 0;
  const requested = (PARAMS.get("board") || ALL_BOARDS[0]).split(",").filter(Boolean);
  const list = rotate && requested.length === 1 ? ALL_BOARDS : requested;
  return { boards: list.map((board) => ({ board, seconds: rotate })), branch: URL_BRANCH, ticker: null };
}

/** What the screen shows: `boards` ({board, seconds}, in turn), the people boards' `branch`, the `ticker` line. */
let programme = urlProgramme();
/** The month before, while a new month opens (the heartbeats' `opening`), else null. */
let opening = null;
/** Per followed board: its final standings of `opening` (null while they load). */
const finals = new Map();
/** The programme's entry on screen, and which of its views: "live" (this month) or "final" (`opening`'s). */
const slot = { index: 0, phase: "live", since: Date.now() };
const flashes = [];

/* ------------------------------------------------------------------------------------------------
 * The turns of boards and views.
 * ---------------------------------------------------------------------------------------------- */

/** The programme's entry on screen. */
const current = () => programme.boards[slot.index % programme.boards.length];

/** Whether the screen turns through its boards (more than one, each with its seconds). */
const rotating = () => programme.boards.length > 1 && programme.boards.every((b) => b.seconds > 0);

/** Whether rows say something: one above 0 (a new month's all-zero ties mean nothing). */
const anyValue = (rows) => rows.some((r) => r.value);

/** The views of a board's turn: last month's final standings first while a month opens (alone while the
 * new month has nothing to show), then the live month. */
function phases(board) {
  const last = opening && finals.get(board);
  if (!last || !anyValue(last.rows)) return ["live"];
  return anyValue([...boards.get(board).rows.values()]) ? ["final", "live"] : ["final"];
}

/** How long a view stays: its share of the board's seconds when rotating, else ALTERNATE_MS between two views. */
function phaseMs(count) {
  if (rotating()) return (current().seconds * 1000) / count;
  return count > 1 ? ALTERNATE_MS : Infinity;
}

/** Moves on to the next view or board when the current one's time is up, or when it has nothing to show. */
function tick() {
  const views = phases(current().board);
  if (!views.includes(slot.phase)) {
    slot.phase = views[0];
    show();
    return;
  }
  if (Date.now() - slot.since < phaseMs(views.length)) return;
  const next = views.indexOf(slot.phase) + 1;
  if (next < views.length) {
    slot.phase = views[next];
  } else {
    if (rotating()) slot.index = (slot.index + 1) % programme.boards.length;
    slot.phase = phases(current().board)[0];
  }
  slot.since = Date.now();
  show();
}

/** Shows the current view from scratch, and tells the server when the board on screen changed. */
function show() {
  render(true);
  showRotation();
  const board = current().board;
  if (window.__leaderboard.showing !== board) {
    window.__leaderboard.showing = board;
    send({ type: "showing", board });
  }
}

/** What is on screen: the live month's board, or `opening`'s final standings of it. */
function currentView() {
  const { board } = current();
  const state = boards.get(board);
  if (slot.phase === "final") {
    const v = finals.get(board);
    return { board, branch: state.branch, live: false, period: v.period, final: v.final, rows: v.rows };
  }
  const rows = state.order.map((k) => state.rows.get(k)).filter(Boolean);
  return { board, branch: state.branch, live: true, period: state.period, final: state.final, rows };
}

/* ------------------------------------------------------------------------------------------------
 * The month that opens: last month's final standings.
 * ---------------------------------------------------------------------------------------------- */

/** Notes the month that is opening (from each heartbeat) and fetches the final standings still missing. */
function setOpening(period) {
  if (period !== opening) {
    opening = period;
    finals.clear();
    tick();
  }
  fetchFinals();
}

/** Fetches `opening`'s standings of every followed board that lacks them, or holds them provisional (through
 * last month's grace days corrections may still come: fetched again at each heartbeat until final). */
function fetchFinals() {
  if (!opening) return;
  for (const [board, state] of boards) {
    const held = finals.get(board);
    if (finals.has(board) && (held === null || held.final)) continue;
    if (!held) finals.set(board, null);
    const asked = opening;
    const query = { period: asked };
    if (state.branch) query.branch = state.branch;
    getJson(`/api/v1/boards/${board}`, query).then((view) => {
      if (asked !== opening || boards.get(board) !== state) return;
      finals.set(board, view);
      learnNames(view.rows);
      if (held || board !== current().board) return;
      // On screen now: its turn starts again, with last month's standings.
      Object.assign(slot, { phase: "final", since: Date.now() });
      show();
    }).catch(() => {
      if (asked === opening && finals.get(board) === null) finals.delete(board); // asked again at the next heartbeat
    });
  }
}

/* ------------------------------------------------------------------------------------------------
 * Celebrations, the footer, start.
 * ---------------------------------------------------------------------------------------------- */

/** Shows a big deal, at most MAX_FLASHES_PER_SEC a second (the server limits them too). */
function celebrate(f) {
  const now = Date.now();
  while (flashes.length && now - flashes[0] >= 1000) flashes.shift();
  if (flashes.length >= MAX_FLASHES_PER_SEC) return;
  flashes.push(now);
  const box = $("celebration");
  box.hidden = false;
  box.innerHTML = "";
  box.append(`★ ${T.deal} ${yuan(f.premium)}`);
  const who = document.createElement("small");
  who.textContent = `${f.branch_name} · ${f.name || f.user_id || ""}`;
  box.append(who);
  box.style.animation = "none";
  void box.offsetWidth; // restart the animation
  box.style.animation = "";
  clearTimeout(celebrate.timer);
  celebrate.timer = setTimeout(() => { box.hidden = true; }, 1600);
}

/** The footer's board names, the one on screen marked. */
function showRotation() {
  const nav = $("rotation");
  nav.textContent = "";
  if (programme.boards.length < 2) return;
  programme.boards.forEach(({ board }, i) => {
    const span = document.createElement("span");
    span.textContent = BOARD_TITLES[board];
    if (i === slot.index % programme.boards.length) span.className = "current";
    nav.append(span);
  });
}

/** The playlist's ticker line: still when it fits, else drifting slowly from right to left. */
function showTicker() {
  const box = $("ticker");
  const text = $("ticker-text");
  box.hidden = !programme.ticker;
  text.textContent = programme.ticker || "";
  for (const a of text.getAnimations()) a.cancel();
  if (!programme.ticker || text.scrollWidth <= box.clientWidth) return;
  const speed = innerHeight * 0.08; // px a second: about two characters
  const distance = text.scrollWidth + box.clientWidth;
  text.animate([{ transform: `translateX(${box.clientWidth}px)` }, { transform: `translateX(${-text.scrollWidth}px)` }],
    { duration: (distance / speed) * 1000, iterations: Infinity });
}

/** The words that do not depend on the data, in the current language. */
function showStaticText() {
  document.documentElement.lang = LANG === "zh" ? "zh-CN" : "en";
  $("org-title").textContent = T.title;
  $("updated-label").textContent = T.updatedAt;
  $("as-of-label").textContent = T.asOf;
  $("reconnecting").textContent = T.reconnecting;
  showFreshness();
}

function start() {
  follow();
  showStaticText();
  show();
  setInterval(() => { tick(); fetchHistory(); }, 500);
  // The room for the rows changes with the window and the ticker: size them again.
  let last = "";
  new ResizeObserver(() => {
    const size = `${innerWidth}x${$("board").clientHeight}`;
    if (size === last) return;
    last = size;
    render(true);
    showTicker();
  }).observe($("board"));
  // A link that went silent (no heartbeat) is dead even if the socket has not noticed.
  setInterval(() => {
    if (socket && socket.readyState === WebSocket.OPEN && Date.now() - lastFrameAt > SILENCE_MS) socket.close();
  }, 5000);
  connect();
}

start();
