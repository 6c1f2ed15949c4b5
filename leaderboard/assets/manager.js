// The manager view (/manager): the page state, loading and the 30-second refresh (keeping the selection,
// sort and switches), the period selector, the address, CSV export and start; manager-*.js draw the parts.
"use strict";

/* ------------------------------------------------------------------------------------------------
 * State. Kept across the 30-second refreshes; lookups into it.
 * ---------------------------------------------------------------------------------------------- */

const state = {
  periods: null,          // /api/v1/periods
  card: null,             // /api/v1/scorecard of the selected period
  selected: null,         // the selected unit's id
  sort: { key: null, dir: "asc" }, // the people table's sort; null = the scorecard's order
  curve: CURVES[0],       // the volume chart's indicator
  bump: BUMPS[0],         // the bump chart's ranking
  history: new Map(),     // month -> /api/v1/history
  days: null,             // {cur, last}: the histories the charts show
  seq: 0,                 // the latest load; older answers are dropped
};

const branchRow = (id) => state.card.branches.find((b) => b.branch_id === id);
const branchName = (id) => (branchRow(id) || {}).branch_name || id;
function personName(id) {
  const u = (state.card.users || []).find((p) => p.user_id === id);
  return (u && u.display_name) || id;
}
/** The rank of a unit on the total ("total") or on a ranked indicator. */
const rankOn = (key, b) => (key === "total" ? b.rank : (b.indicator_ranks || {})[key]);
/** Whether another unit shares the unit's rank. */
function isTied(key, b) {
  const r = rankOn(key, b);
  return r !== null && r !== undefined && state.card.branches.some((o) => o !== b && rankOn(key, o) === r);
}
/** Whether the unit's stake on the indicator is pending (no score given yet): shown as "pending", not 0. */
const isPending = (b, key) => b.at_stake?.indicators?.[key]?.kind === "pending";
/** Whether any of the unit's indicators is pending. */
const hasPending = (b) => INDICATORS.some((i) => isPending(b, i.key));

function showError(message) {
  $("error").hidden = false;
  $("error").textContent = message;
}
const hideError = () => { $("error").hidden = true; };

/* ------------------------------------------------------------------------------------------------
 * CSV export of what is on screen: the units, the selected unit's stakes and people.
 * ---------------------------------------------------------------------------------------------- */

const csvQuote = (v) => {
  const s = v === null || v === undefined ? "" : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};
const round = (v, digits = 4) => (typeof v === "number" ? Number(v.toFixed(digits)) : v);

function branchesCsv() {
  const card = state.card;
  const monthly = isMonth(card.period);
  const head = [M.col.rank[0], M.col.branch[0], M.col.total[0]];
  if (monthly) head.push(M.col.status[0], M.csvProjected, M.csvStake);
  head.push(M.users, ...INDICATORS.flatMap((i) => [NAME[i.key], M.csvPoints(NAME[i.key])]));
  const rows = card.branches.map((b) => {
    const row = [b.in_scope ? b.rank : M.outOfScope, b.branch_name, round(b.total)];
    if (monthly) row.push(b.pace ? M.status[b.pace.status] : "", b.pace ? round(b.pace.projected_total) : "", b.at_stake ? round(b.at_stake.gainable) : "");
    row.push(b.users);
    for (const i of INDICATORS) {
      const pending = isPending(b, i.key);
      const v = b.indicators[i.key];
      const value = RATES.has(i.key) && v !== null ? `${round(v * 100, 2)}%` : round(v);
      row.push(pending ? M.pending : value, pending ? M.pending : round(b.points[i.key]));
    }
    return row;
  });
  return [[`${$("branches-title").textContent} (${card.period})`], head, ...rows];
}

function stakeCsv() {
  const b = branchRow(state.selected);
  if (!b || !b.at_stake || $("stake").hidden) return [];
  const rows = stakeOrder(b.at_stake.indicators).map(([key, s]) =>
    [NAME[key], round(s.points), round(s.max_points), round(s.gainable), stakeText(key, s)]);
  return [[`${$("stake-title").textContent} · ${$("stake-total").textContent}`],
    [M.csvIndicator, M.csvNow, M.csvMax, M.csvStake, M.csvHow], ...rows];
}

function peopleCsv() {
  if ($("drill").hidden) return [];
  const cols = peopleColumns();
  const value = (c, u) => (c.text ? c.text(u) : round(c.sort(u), 2));
  return [[$("drill-title").textContent], cols.map((c) => (c.sub ? `${c.sub} ${c.label}` : c.label)),
    ...sortPeople(selectedPeople()).map((u) => cols.map((c) => value(c, u)))];
}

/** Downloads the tables as CSV (UTF-8 with a byte-order mark, so spreadsheets read the Chinese). */
function exportCsv() {
  if (!state.card) return;
  const blocks = [branchesCsv(), stakeCsv(), peopleCsv()].filter((b) => b.length);
  const text = blocks.map((rows) => rows.map((r) => r.map(csvQuote).join(",")).join("\r\n")).join("\r\n\r\n");
  const blob = new Blob(["\ufeff" + text + "\r\n"], { type: "text/csv;charset=utf-8" });
  const a = h("a", { href: URL.createObjectURL(blob), download: `leaderboard-${state.card.period}${state.selected ? `-${state.selected}` : ""}.csv` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

/* ------------------------------------------------------------------------------------------------
 * Loading, selection, refresh.
 * ---------------------------------------------------------------------------------------------- */

/** Keeps the selection when the unit still exists, else the first row. */
function ensureSelected() {
  if (!state.card.branches.some((b) => b.branch_id === state.selected)) {
    state.selected = state.card.branches.length ? state.card.branches[0].branch_id : null;
  }
}

/** Writes the user's choices into the address, so that a reload or a shared link shows the same. */
function syncUrl(changes) {
  const q = new URLSearchParams(location.search);
  for (const [k, v] of Object.entries(changes)) q.set(k, v);
  history.replaceState(null, "", `${location.pathname}?${q}`);
}

function select(id) {
  if (id === state.selected) return;
  state.selected = id;
  syncUrl({ branch: id });
  markSelected();
  renderStake();
  renderPeople();
  renderCharts();
}

function renderAll() {
  const monthly = isMonth(state.card.period);
  $("layout").classList.toggle("monthly", monthly);
  $("as-of").textContent = `${M.asOf} ${eventTime(state.card.as_of)}${state.card.final ? ` · ${T.final}` : ""}`;
  renderBranches();
  renderStake();
  renderPeople();
}

/** Loads the period's scorecard (and for a month its histories), then renders; stale answers are dropped. */
async function load() {
  const seq = ++state.seq;
  const period = $("period").value;
  let card;
  try {
    card = await getJson("/api/v1/scorecard", { period, users: "true" });
  } catch (e) {
    if (seq === state.seq) showError(e.message);
    return;
  }
  if (seq !== state.seq) return;
  hideError();
  state.card = card;
  ensureSelected();
  renderAll();
  document.body.dataset.loaded = card.period;
  if (isMonth(card.period)) {
    try {
      const days = await loadHistories(card);
      if (seq !== state.seq) return;
      state.days = days;
    } catch (e) {
      if (seq !== state.seq) return;
      state.days = null;
      showError(e.message);
      renderCharts();
      document.body.dataset.charts = "error";
      return;
    }
  }
  renderCharts();
  document.body.dataset.charts = "ready";
}

/** Fills the period selector (months, quarters, the assessment), keeping the current choice. */
function fillPeriods(periods, value) {
  const select = $("period");
  const option = (v, label) => h("option", { value: v }, label);
  select.replaceChildren(
    ...[...periods.months].reverse().map((m) => option(m, LABELS[LANG].month(m))),
    ...[...periods.quarters].reverse().map((q) => option(q, M.quarter(q))),
    option(periods.assessment || "assessment", M.assessment));
  select.value = value;
  if (select.value !== value) select.value = periods.current;
}

/** The 30-second refresh: the periods (a new month may have begun), then the scorecard. */
async function refresh() {
  try {
    const periods = await getJson("/api/v1/periods");
    const changed = JSON.stringify([periods.months, periods.quarters]) !== JSON.stringify([state.periods.months, state.periods.quarters]);
    state.periods = periods;
    if (changed) fillPeriods(periods, $("period").value);
  } catch (e) {
    // The scorecard's own load reports the error.
  }
  await load();
}

function renderStaticText() {
  document.documentElement.lang = LANG === "zh" ? "zh-CN" : "en";
  document.title = `${M.title[1]} · ${M.title[0]}`;
  $("title").replaceChildren(h("span", {}, M.title[0]), h("span", { className: "sub" }, M.title[1]));
  $("period-label").textContent = M.period;
  $("export").textContent = M.export;
  $("branches-title").textContent = M.branches;
  $("must-title").textContent = M.must;
  $("unbound-title").textContent = M.unbound;
  for (const id of ["cannot", "must", "unbound"]) $(id).dataset.empty = M.none;
}

async function start() {
  renderStaticText();
  $("export").onclick = exportCsv;
  try {
    state.periods = await getJson("/api/v1/periods");
  } catch (e) {
    showError(e.message);
    setTimeout(start, 5000);
    return;
  }
  $("cannot-title").textContent = M.cannot(state.periods.active_login_days);
  fillPeriods(state.periods, PARAMS.get("period") || state.periods.current);
  $("period").onchange = () => {
    syncUrl({ period: $("period").value });
    document.body.dataset.charts = "loading";
    load();
  };
  state.selected = PARAMS.get("branch");
  let resizeTimer = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    // Re-render rather than only resize: the legend's room depends on the width.
    resizeTimer = setTimeout(() => { pinKeyColumns($("branches")); if (state.card) renderCharts(); }, 100);
  });
  document.body.dataset.charts = "loading";
  startScreens();
  await load();
  setInterval(refresh, 30000);
}

start();
