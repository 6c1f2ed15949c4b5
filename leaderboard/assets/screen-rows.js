// The wall screen's rows: how the board on screen is drawn, sized from the viewport so that every unit shows
// at once, with its rank moves animated and each branch's month-to-date trend line.
"use strict";

/** A unit's name is at least this share of the viewport's height (≈49 px at 1080p: read from 6 m)… */
const MIN_NAME_VH = 4.5;
/** …and at most this, however few the rows. */
const MAX_NAME_VH = 7;
/** A row's height in name heights: the value is 1.12 names tall, plus some air. */
const ROW_EMS = 1.2;
/** Space between rows and between the two columns of a long board, as shares of the viewport's height. */
const ROW_GAP_VH = 0.55;
const COLUMN_GAP_VH = 3;
const TREND_MS = 60000; // the month-to-date trends are fetched at most this often
/** The live month's days (`GET /api/v1/history`: the branch boards' trend lines) and when they were asked for. */
let history = { month: null, days: [], fetchedAt: 0 };

/* ------------------------------------------------------------------------------------------------
 * Rendering: the rows sized to the viewport, the FLIP move animation.
 * ---------------------------------------------------------------------------------------------- */

/** How a row's value reads on this board, by the unit of its values; the ratios tell what they are made of. */
function describe(board, row) {
  switch (UNITS.get(board)) {
    case "count_per_user":
      return { value: fmt(row.value, 2), detail: row.denominator ? `${fmt(row.numerator, 0)} ${T.mobileQuotes} / ${fmt(row.denominator, 0)} ${T.users}` : "" };
    case "yuan_per_user":
      return { value: yuan(row.value), detail: row.denominator ? `${yuan(row.numerator)} / ${fmt(row.denominator, 0)} ${T.users}` : "" };
    case "points":
      return { value: fmt(row.value, 2), detail: "" };
    case "count":
      return { value: fmt(row.value, 0), detail: "" };
    default:
      return { value: yuan(row.value), detail: "" };
  }
}

/** An amount in yuan ("¥1,200"), or "—" for none. */
const yuan = (v) => (v === null || v === undefined ? "—" : `¥${fmt(v, 0)}`);

/** What it takes to reach the next points tier ("差 7 单进前三"), on the live month of a board scored by rank. */
function gapText(view, row) {
  const next = row.next_tier;
  if (!view.live || !row.in_scope || !next) return "";
  const needed = Math.ceil(next.needed - 1e-9);
  return UNITS.get(view.board) === "yuan_per_user" ? T.toTierYuan(needed, next.to_rank) : T.toTierCount(needed, next.to_rank);
}

/** The board's title; a people board of one branch names the branch. */
function titleOf(view) {
  const title = BOARD_TITLES[view.board];
  return view.branch ? T.titleOfBranch(branchNames.get(view.branch) || view.branch, title) : title;
}

/** Writes the board's name into the title, smaller when it would not fit (a branch's name and a long English
 * title). */
function fitTitle(text) {
  const title = $("board-name");
  title.textContent = text;
  shrinkToFit(title, innerHeight * 0.028);
}

/** Makes a line of text smaller than its style says, down to `least` px, while it is wider than its box. */
function shrinkToFit(element, least) {
  element.style.fontSize = "";
  let size = parseFloat(getComputedStyle(element).fontSize);
  while (element.scrollWidth > element.clientWidth && size > least) {
    size = Math.max(size * 0.95, least);
    element.style.fontSize = `${size}px`;
  }
}

/** The rows the screen has room for: every unit of a branch board; the people above 0 that fit. */
function visibleRows(view) {
  if (!PEOPLE_BOARDS.has(view.board)) return view.rows;
  const list = $("rows");
  const vh = innerHeight / 100;
  const room = Math.floor((list.clientHeight + ROW_GAP_VH * vh) / (MIN_NAME_VH * vh * ROW_EMS + ROW_GAP_VH * vh));
  return view.rows.filter((r) => r.value > 0).slice(0, Math.max(room, 1));
}

/** Sizes `n` rows from the room on screen: the largest name (MIN_NAME_VH…MAX_NAME_VH) at which they fit in one
 * column, else two; sets the list's --fs, --row-h, columns, and returns the rows per column. */
function layout(n) {
  const list = $("rows");
  const vh = innerHeight / 100;
  const gap = ROW_GAP_VH * vh;
  let columns = 1;
  let perColumn = Math.max(n, 1);
  let size = (list.clientHeight - gap * (perColumn - 1)) / perColumn / ROW_EMS;
  if (size < MIN_NAME_VH * vh) {
    columns = 2;
    perColumn = Math.ceil(n / 2);
    size = (list.clientHeight - gap * (perColumn - 1)) / perColumn / ROW_EMS;
  }
  size = Math.min(size, MAX_NAME_VH * vh);
  list.dataset.columns = String(columns);
  list.style.setProperty("--fs", `${size}px`);
  list.style.setProperty("--row-h", `${size * ROW_EMS}px`);
  list.style.setProperty("--gap", `${gap}px`);
  list.style.setProperty("--column-gap", `${COLUMN_GAP_VH * vh}px`);
  return perColumn;
}

/** Makes every row fit its place (very long names on a narrow screen): first without the meters, then
 * with smaller rows; then hides the details that do not fit whole. No text overflows its row. */
function fit() {
  const list = $("rows");
  const right = list.getBoundingClientRect().right;
  const tooWide = () => [...list.children].some((li) => li.getBoundingClientRect().right > right + 1 ||
    li.scrollWidth > li.clientWidth + 1 || li.querySelector(".name").scrollWidth > li.querySelector(".name").clientWidth + 1);
  list.dataset.compact = "false";
  if (tooWide()) list.dataset.compact = "true";
  let size = parseFloat(list.style.getPropertyValue("--fs"));
  for (let i = 0; i < 12 && tooWide(); i++) {
    size *= 0.95;
    list.style.setProperty("--fs", `${size}px`);
  }
  for (const detail of list.querySelectorAll(".detail")) {
    detail.classList.remove("clipped");
    detail.classList.toggle("clipped", detail.scrollWidth > detail.clientWidth + 1);
  }
}

const elements = new Map(); // row key → <li>, reused so rank moves can be animated

function render(full, changedKeys) {
  const view = currentView();
  document.body.dataset.view = view.live ? "live" : "final";
  fitTitle(titleOf(view));
  $("standing").hidden = view.live;
  // Last month stays provisional through its grace days: "final" only once it is.
  $("standing").textContent = view.live ? "" : view.final ? T.finalStandings(view.period) : T.provisionalStandings(view.period);
  $("period").textContent = view.period ? T.month(view.period) + (view.final && view.live ? ` · ${T.final}` : "") : "";
  const list = $("rows");
  const rows = visibleRows(view);
  const received = !view.live || boards.get(view.board).epoch !== null;
  $("waiting").textContent = rows.length ? "" : received ? T.nothingYet : T.waiting;
  // A month's first hours: every value 0 ranks everyone first. Such ranks and tiers mean nothing: not shown.
  list.dataset.blank = String(!anyValue(rows));
  const perColumn = layout(rows.length);
  const top = leaderValue(view.rows);
  const seen = new Set();
  const twins = new Set(rows.map((r) => r.name).filter((n) => seen.has(n) || !seen.add(n)));
  // FLIP: remember where each row was, move the elements, then animate from the old place to the new.
  const before = new Map();
  for (const [key, li] of elements) before.set(key, li.getBoundingClientRect());
  if (full) { list.textContent = ""; elements.clear(); }
  const keep = new Set(rows.map((r) => r.key));
  for (const [key, li] of elements) if (!keep.has(key)) { li.remove(); elements.delete(key); }
  rows.forEach((row, i) => {
    let li = elements.get(row.key);
    if (!li) { li = newRow(); elements.set(row.key, li); }
    fill(li, view, row, { top, twins });
    li.style.gridRow = String((i % perColumn) + 1);
    li.style.gridColumn = i < perColumn ? "1 / span 6" : "8 / span 6";
    if (list.children[i] !== li) list.insertBefore(li, list.children[i] || null);
  });
  fit();
  const changed = new Set(changedKeys || []);
  for (const [key, li] of elements) {
    const old = before.get(key);
    const now = li.getBoundingClientRect();
    if (old && !full && (old.top !== now.top || old.left !== now.left)) {
      li.animate([{ transform: `translate(${old.left - now.left}px, ${old.top - now.top}px)` }, { transform: "none" }],
        { duration: 800, easing: "ease-in-out" });
    }
    if (changed.has(key)) { li.classList.add("changed"); setTimeout(() => li.classList.remove("changed"), 1500); }
  }
}

/** The bars' full length: the leader's value (the best in scope), else the largest. */
function leaderValue(rows) {
  const first = rows.find((r) => r.rank === 1);
  return first && first.value > 0 ? first.value : Math.max(0, ...rows.map((r) => r.value || 0));
}

/** A row's element: rank, name, meter (detail, gap to the next tier, bar), trend line, value, tier. */
function newRow() {
  const li = document.createElement("li");
  li.innerHTML = '<span class="rank"></span><span class="name"></span>' +
    '<span class="meter"><span class="line"><span class="detail"></span><span class="gap"></span></span>' +
    '<span class="bar"><span class="fill"></span></span></span>' +
    '<svg class="trend" viewBox="0 0 100 30" preserveAspectRatio="none" aria-hidden="true"><polyline/></svg>' +
    '<span class="value"></span><span class="tier"></span>';
  return li;
}

/** The small text after a person's name: the branch on a city-wide board; the id when another person shown
 * has the same name. */
function personNote(view, row, twins) {
  return [view.branch ? null : row.branch_name, twins.has(row.name) ? row.key : null].filter(Boolean).join(" · ");
}

/** Writes a row into its element; `top` is the leader's value (the bars' full length), `twins` the names that
 * more than one row shows. */
function fill(li, view, row, { top, twins }) {
  const { value, detail } = describe(view.board, row);
  li.dataset.key = row.key;
  li.dataset.rank = row.rank ?? "";
  li.className = row.rank && row.rank <= 3 ? `top${row.rank}` : row.rank ? "" : "unranked";
  li.querySelector(".rank").textContent = row.rank ?? "—";
  const name = li.querySelector(".name");
  name.textContent = row.name;
  const note = PEOPLE_BOARDS.has(view.board) ? personNote(view, row, twins) : "";
  if (note) {
    const small = document.createElement("small");
    small.textContent = note;
    name.append(small);
  }
  li.querySelector(".detail").textContent = detail;
  li.querySelector(".gap").textContent = gapText(view, row);
  li.querySelector(".fill").style.width = `${top > 0 ? Math.min(1, Math.max(0, (row.value || 0) / top)) * 100 : 0}%`;
  li.querySelector(".value").textContent = value;
  const points = trendPoints(view, row.key);
  li.querySelector(".trend").classList.toggle("none", !points);
  li.querySelector(".trend polyline").setAttribute("points", points);
  const tier = li.querySelector(".tier");
  if (!row.in_scope) tier.textContent = T.outOfScope;
  else if (row.tier) tier.innerHTML = `<span class="pts">${T.tier(row.tier.from_rank, row.tier.to_rank, row.tier.points)}</span>`;
  else tier.textContent = "";
}

/* ------------------------------------------------------------------------------------------------
 * The month-to-date trend of each branch: its rank day by day (branch boards).
 * ---------------------------------------------------------------------------------------------- */

/** A branch's rank on a branch board in a history row: the total's, or that of the board's ranked indicator
 * (the ranked indicator of the board's unit). */
function rankIn(board) {
  const unit = UNITS.get(board);
  if (unit === "points") return (row) => row.rank;
  const indicator = CATALOG.indicators.find((i) => i.is_ranked && i.is_amount === (unit === "yuan_per_user"));
  return (row) => (row.indicator_ranks || {})[indicator.key];
}

/** Fetches the live month's history when the last copy is over a minute old (a branch board is on screen). */
function fetchHistory() {
  if (PEOPLE_BOARDS.has(current().board) || Date.now() - history.fetchedAt < TREND_MS) return;
  history.fetchedAt = Date.now();
  getJson("/api/v1/history", { users: "false" }).then((doc) => {
    history = { month: doc.month, days: doc.days, fetchedAt: history.fetchedAt };
    if (slot.phase === "live") render(false);
  }).catch(() => {}); // no history yet (before the assessment): no trend lines
}

/** A branch's rank day by day as an SVG polyline's points (viewBox 0 0 100 30, first place at the top, on
 * the same scale for every row), or "" before its second day or out of scope. */
function trendPoints(view, key) {
  if (!view.live || history.month !== view.period) return "";
  const rankOf = rankIn(view.board);
  const ranks = history.days.map((d) => {
    const row = d.branches.find((b) => b.branch_id === key);
    return row ? rankOf(row) : null;
  }).filter((r) => r !== null && r !== undefined);
  if (ranks.length < 2) return "";
  const last = Math.max(2, ...view.rows.map((r) => r.rank || 0));
  return ranks.map((r, i) => `${(i / (ranks.length - 1)) * 100},${2 + ((r - 1) / (last - 1)) * 26}`).join(" ");
}
