// The wall screen's moments (`moment` frames, docs/websocket.md): an overtake, a points tier entered or left, a
// person reaching a threshold, each shown for a few seconds as a banner over part of the rows; a month's close
// as its final standings (and the award places) over the board. One at a time, never during a celebration,
// a few at most waiting their turn.
"use strict";

const MOMENT_MS = 6000;
const MONTH_CLOSE_MS = 15000;
const MOMENT_GAP_MS = 1500; // the rows alone between two moments
const MOMENTS_KEPT = 50; // in window.__leaderboard.moments
const MOMENTS_WAITING = 5;
/** The final standings' row height in names, their largest name (vh) and the gap between rows (vh). */
const CLOSE_ROW_EMS = 1.2;
const CLOSE_MAX_VH = 7;
const CLOSE_GAP_VH = 0.5;
/** The moments waiting their turn (oldest first), and whether one (or the pause after it) holds the screen. */
const moments = { waiting: [], busy: false, retry: null };

/** Takes a moment frame: keeps it for tests, queues it, drops the oldest overtakes and tiers past the most
 * that may wait (a month's close always stays). */
function onMoment(f) {
  const kept = window.__leaderboard.moments;
  kept.push(f);
  if (kept.length > MOMENTS_KEPT) kept.shift();
  moments.waiting.push(f);
  while (moments.waiting.length > MOMENTS_WAITING) {
    const i = droppable(moments.waiting);
    if (i < 0) break;
    moments.waiting.splice(i, 1);
  }
  nextMoment();
}

/** Which waiting moment goes first when too many wait: the oldest overtake or tier, else the oldest that is no
 * month's close (-1: none). */
function droppable(list) {
  const i = list.findIndex((m) => m.kind === "overtake" || m.kind === "tier");
  return i >= 0 ? i : list.findIndex((m) => m.kind !== "month_close");
}

/** Shows the next waiting moment when the screen is free: no moment, and no celebration (it waits for that). */
function nextMoment() {
  if (moments.busy || !moments.waiting.length) return;
  if (!$("celebration").hidden) {
    clearTimeout(moments.retry);
    moments.retry = setTimeout(nextMoment, 400);
    return;
  }
  const f = moments.waiting.shift();
  const box = f.kind === "month_close" ? showMonthClose(f) : showBanner(f);
  if (!box) { nextMoment(); return; } // a kind this page does not know
  moments.busy = true;
  setTimeout(() => {
    box.hidden = true;
    setTimeout(() => { moments.busy = false; nextMoment(); }, MOMENT_GAP_MS);
  }, f.kind === "month_close" ? MONTH_CLOSE_MS : MOMENT_MS);
}

/* ------------------------------------------------------------------------------------------------
 * The banner.
 * ---------------------------------------------------------------------------------------------- */

/** A banner's words: its tag, headline and the line below, and whether the news is good (`up`); null for a kind
 * this page does not know. */
function momentWords(f) {
  const board = BOARD_TITLES[f.board];
  const who = f.name || f.user_id;
  switch (f.kind) {
    case "overtake": {
      const passed = T.passedList(f.passed.map((p) => p.branch_name));
      return { tag: T.momentTag.overtake, up: true, head: T.overtook(f.branch_name, passed), sub: T.nowRank(board, f.rank) };
    }
    case "tier": {
      const sub = T.tierMove(board, f.rank, fmt(f.from), fmt(f.to));
      return f.entered
        ? { tag: T.momentTag.tierUp, up: true, head: T.tierIn(f.branch_name, fmt(f.to)), sub }
        : { tag: T.momentTag.tierDown, up: false, head: T.tierOut(f.branch_name, fmt(f.from)), sub };
    }
    case "login_days":
      return { tag: T.momentTag.loginDays, up: true, head: T.loginDays(who, f.days), sub: f.branch_name };
    case "quote_target":
      return { tag: T.momentTag.quoteTarget, up: true, head: T.quoteTarget(who, fmt(f.quotes, 0)), sub: f.branch_name };
    default:
      return null;
  }
}

/** Shows a moment's banner (null for a kind this page does not know); the row of the branch it is about, on the
 * board on screen, stands out meanwhile. */
function showBanner(f) {
  const words = momentWords(f);
  if (!words) return null;
  const box = $("moment");
  Object.assign(box.dataset, { kind: f.kind, tone: words.up ? "up" : "down", place: "bottom" });
  box.querySelector(".tag").textContent = words.tag;
  box.querySelector(".headline").textContent = words.head;
  box.querySelector(".subline").textContent = words.sub;
  box.hidden = false;
  shrinkToFit(box.querySelector(".headline"), innerHeight * MIN_NAME_VH / 100);
  const row = f.board === current().board && slot.phase === "live" ? elements.get(f.branch_id) : null;
  if (row) {
    row.dataset.moment = "";
    setTimeout(() => { delete row.dataset.moment; }, MOMENT_MS);
    if (overlaps(box, row)) box.dataset.place = "top";
  }
  return box;
}

/** Whether two elements overlap on screen (from top to bottom). */
function overlaps(a, b) {
  const r = a.getBoundingClientRect();
  const s = b.getBoundingClientRect();
  return s.bottom > r.top && s.top < r.bottom;
}

/* ------------------------------------------------------------------------------------------------
 * A month's close: its final standings over the board.
 * ---------------------------------------------------------------------------------------------- */

/** Shows a month's final standings (the units in scope; the others on a line below) and, when it closes a
 * quarter, the award places. */
function showMonthClose(f) {
  const box = $("month-close");
  box.dataset.month = f.month;
  box.querySelector(".mc-title").textContent = T.finalStandings(f.month);
  box.querySelector(".mc-sub").textContent = `${T.byTotal} · ${T.month(f.month)}`;
  const ranked = f.standings.filter((p) => p.rank !== null);
  const out = f.standings.filter((p) => p.rank === null);
  const list = box.querySelector(".mc-standings");
  list.replaceChildren(...ranked.map((p) =>
    closeRow(p.rank <= 3 ? `top${p.rank}` : "", String(p.rank), p.branch_name, fmt(p.total, 2), T.pts)));
  const others = out.map((p) => `${p.branch_name} ${fmt(p.total, 2)}`).join(" · ");
  box.querySelector(".mc-out").textContent = out.length ? T.notAssessed(others) : "";
  const pane = box.querySelector(".mc-awards");
  pane.hidden = !f.awards;
  if (f.awards) {
    pane.querySelector("h3").textContent = T.awardsTitle(f.awards.final);
    pane.querySelector("ol").replaceChildren(...f.awards.awards.map((a) =>
      closeRow(`prize${a.prize}`, T.prize(a.prize), a.branch_name, yuan(a.yuan), "")));
  }
  box.hidden = false;
  sizeStandings(list, pane.querySelector("ol"));
  return box;
}

/** A row of the final standings or of the award places: a badge (rank or prize), a name, a figure and its unit. */
function closeRow(className, badge, name, figure, unit) {
  const li = document.createElement("li");
  li.className = className;
  for (const [cls, text] of [["badge", badge], ["mc-name", name], ["figure", figure]]) {
    const span = document.createElement("span");
    span.className = cls;
    span.textContent = text;
    li.append(span);
  }
  if (unit) {
    const small = document.createElement("small");
    small.textContent = unit;
    li.lastChild.append(small);
  }
  return li;
}

/** Sizes the standings from the room they have: the largest name (MIN_NAME_VH…CLOSE_MAX_VH) at which they fit
 * in one column, else two; the award places alike; then smaller where a row is too wide. */
function sizeStandings(list, awards) {
  const vh = innerHeight / 100;
  const gap = CLOSE_GAP_VH * vh;
  const n = Math.max(list.children.length, 1);
  const sizeFor = (rows) => (list.clientHeight - gap * (rows - 1)) / rows / CLOSE_ROW_EMS;
  const columns = sizeFor(n) < MIN_NAME_VH * vh ? 2 : 1;
  const perColumn = Math.ceil(n / columns);
  list.style.setProperty("--per", String(perColumn));
  list.dataset.columns = String(columns);
  for (const ol of [list, awards]) {
    ol.style.setProperty("--gap", `${gap}px`);
    narrowToFit(ol, Math.min(sizeFor(perColumn), CLOSE_MAX_VH * vh));
  }
}

/** Sets a list's name size (--fs, and --row-h) to `size` px, smaller (a few steps at most) while a row is
 * wider than its place. */
function narrowToFit(ol, size) {
  const set = (s) => {
    ol.style.setProperty("--fs", `${s}px`);
    ol.style.setProperty("--row-h", `${s * CLOSE_ROW_EMS}px`);
  };
  const cut = (e) => e.scrollWidth > e.clientWidth + 1;
  const tooWide = () => [...ol.children].some((li) => cut(li) || cut(li.querySelector(".mc-name")));
  set(size);
  for (let i = 0; i < 12 && tooWide(); i++) set((size *= 0.95));
}
