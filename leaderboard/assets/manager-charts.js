// The day-by-day charts (ECharts) of the selected unit: the histories they need, the volume curves, the
// bump chart of ranks, their switches and resizing.
"use strict";

/* ------------------------------------------------------------------------------------------------
 * Charts (ECharts): month-to-date curves against the target line and last month; the ranks by day.
 * ---------------------------------------------------------------------------------------------- */

const COLORS = { accent: "#1f5fbf", target: "#8a97a8", last: "#c0894a", projection: "#7fa6e0", muted: "#c3cad5", text: "#4a5868" };
const FONT = getComputedStyle(document.body).fontFamily;
/** The chart instances, created on first use. */
const charts = { volume: null, bump: null };

/** The chart on a container, created on first use (the container must be visible). */
function chartOn(name, id) {
  if (!charts[name]) {
    charts[name] = echarts.init($(id), null, { renderer: "canvas" });
    if (name === "bump") {
      charts.bump.on("click", (p) => { if (p.seriesId && branchRow(p.seriesId)) select(p.seriesId); });
    }
  }
  return charts[name];
}

const daysInMonth = (month) => new Date(Number(month.slice(0, 4)), Number(month.slice(5, 7)), 0).getDate();
const dayOf = (date) => Number(date.slice(8, 10));

function previousMonth(month) {
  const d = new Date(Number(month.slice(0, 4)), Number(month.slice(5, 7)) - 2, 1);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}`;
}

/** A month's history, from the cache while it is final or nothing has happened since. */
async function historyOf(month, asOf) {
  const cached = state.history.get(month);
  if (cached && (cached.final || cached.as_of === asOf)) return cached;
  const doc = await getJson("/api/v1/history", { month, users: "false" });
  state.history.set(month, doc);
  return doc;
}

/** This month's history and last month's (null before the assessment: the periods list says). */
async function loadHistories(card) {
  const prev = previousMonth(card.period);
  const hasPrev = state.periods.months.includes(prev);
  const [cur, last] = await Promise.all([
    historyOf(card.period, card.as_of),
    hasPrev ? historyOf(prev, card.as_of).catch(() => null) : null,
  ]);
  return { cur, last };
}

/** A unit's value of an indicator on each day 0..length-1 (day 0 = 0; null where there is no day yet). */
function curve(doc, branchId, key, length) {
  const data = new Array(length).fill(null);
  if (!doc) return data;
  data[0] = 0;
  for (const day of doc.days) {
    const d = dayOf(day.date);
    const row = day.branches.find((r) => r.branch_id === branchId);
    if (d < length && row) data[d] = row.indicators[key];
  }
  return data;
}

/** A row of toggle buttons (the chart switches); the pressed one is the current choice. */
function segButtons(id, keys, label, current, onPick) {
  $(id).setAttribute("aria-label", $(id).previousElementSibling?.textContent || "");
  $(id).replaceChildren(...keys.map((k) => h("button", {
    type: "button", dataset: { key: k }, "aria-pressed": String(k === current), onclick: () => onPick(k),
  }, label(k))));
}

function baseOption() {
  return {
    animationDuration: 400,
    animationDurationUpdate: 300,
    textStyle: { fontFamily: FONT, color: COLORS.text },
    tooltip: { trigger: "axis", confine: true, textStyle: { fontSize: 12 } },
  };
}

/** The volume chart: this month, the straight line to the target, last month (dashed), the pace. */
function volumeOption() {
  const { cur, last } = state.days;
  const key = state.curve;
  const b = branchRow(state.selected);
  const dim = daysInMonth(cur.month);
  const n = dim + 1;
  const target = (state.periods.indicators[key] || {}).target;
  const thisMonth = curve(cur, state.selected, key, n);
  const lastMonth = last ? curve(last, state.selected, key, n) : null;
  const series = [{
    name: M.thisMonth, type: "line", data: thisMonth, color: COLORS.accent, z: 5,
    lineStyle: { width: 2.5 }, symbolSize: 5, showSymbol: true, connectNulls: false,
  }];
  if (target !== null && target !== undefined) {
    series.push({
      name: M.targetLine, type: "line", data: thisMonth.map((_, d) => (target * d) / dim), color: COLORS.target,
      lineStyle: { type: "dotted", width: 1.5 }, showSymbol: false, symbol: "none",
    });
  }
  if (lastMonth) {
    series.push({
      name: M.lastMonth, type: "line", data: lastMonth, color: COLORS.last,
      lineStyle: { type: "dashed", width: 1.5 }, showSymbol: false, symbol: "none",
    });
  }
  const elapsed = b.pace ? b.pace.days_elapsed : 0;
  const now = b.indicators[key];
  if (!state.card.final && elapsed > 0 && elapsed < dim && now !== null) {
    series.push({
      name: M.projection, type: "line", color: COLORS.projection, symbol: "none",
      data: thisMonth.map((_, d) => (d >= elapsed ? (now * d) / elapsed : null)),
      lineStyle: { type: [2, 4], width: 1.5 },
    });
  }
  const inProgress = cur.days.find((d) => !d.complete);
  const today = inProgress ? dayOf(inProgress.date) : null;
  return {
    ...baseOption(),
    legend: { top: 0, left: 0, itemWidth: 16, itemHeight: 8, itemGap: 10, textStyle: { fontSize: 11 } },
    // The English legend wraps to a second line on a phone: leave room for it.
    grid: { left: 4, right: 12, top: legendLines(series) > 1 ? 54 : 34, bottom: 4, containLabel: true },
    xAxis: {
      type: "category", boundaryGap: false, data: thisMonth.map((_, d) => String(d)),
      axisLabel: { fontSize: 11, formatter: (d) => M.day(d) }, axisTick: { alignWithLabel: true },
    },
    yAxis: { type: "value", axisLabel: { fontSize: 11, formatter: (v) => COMPACT.format(v) }, splitLine: { lineStyle: { color: "#eef1f5" } } },
    tooltip: {
      ...baseOption().tooltip,
      formatter: (items) => tooltipList(`${M.day(items[0].axisValue)}${Number(items[0].axisValue) === today ? M.inProgress : ""}`,
        items.filter((i) => i.value !== null && i.value !== undefined).map((i) => [i.marker, i.seriesName, valueText(key, i.value)])),
    },
    series,
  };
}

/** About how many lines the volume chart's legend takes: ~6.5 px a character at 11 px, plus the symbol. */
function legendLines(series) {
  const width = $("chart-volume").clientWidth || 600;
  const needed = series.reduce((sum, s) => sum + 16 + 5 + 10 + [...s.name].reduce((w, c) => w + (c.charCodeAt(0) > 255 ? 11 : 6.5), 0), 0);
  return needed > width ? 2 : 1;
}

/** Escapes text for the tooltips' HTML. */
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
function tooltipList(title, rows) {
  return `<b>${esc(title)}</b><br>${rows.map(([marker, name, value]) =>
    `${marker}${esc(name)} <b style="float:right;margin-left:12px">${esc(value)}</b>`).join("<br>")}`;
}

/** The ranked indicators' scoring tiers as observed (rank range → points), for the bump chart's bands. */
function tierBands(key) {
  const bands = new Map();
  for (const b of state.card.branches) {
    const r = b.indicator_ranks[key];
    if (!b.in_scope || r === null || r === undefined) continue;
    const p = b.points[key];
    const band = bands.get(p) || { from: r, to: r, points: p };
    band.from = Math.min(band.from, r);
    band.to = Math.max(band.to, r);
    bands.set(p, band);
  }
  return [...bands.values()].sort((a, b) => a.from - b.from);
}

/** The bump chart: every in-scope unit's rank by day, the selected one highlighted. */
function bumpOption() {
  const { cur } = state.days;
  const key = state.bump;
  const units = state.card.branches.filter((b) => b.in_scope);
  const count = Math.max(1, units.length);
  const days = cur.days.map((d) => String(dayOf(d.date)));
  const ranks = (id) => cur.days.map((d) => {
    const row = d.branches.find((r) => r.branch_id === id);
    return row ? rankOn(key, row) ?? null : null;
  });
  // Muted lines first, the selected unit's last so that it is drawn on top.
  const ordered = [...units.filter((b) => b.branch_id !== state.selected), ...units.filter((b) => b.branch_id === state.selected)];
  const series = ordered.map((b) => {
    const on = b.branch_id === state.selected;
    return {
      id: b.branch_id, name: b.branch_name, type: "line", data: ranks(b.branch_id), z: on ? 10 : 2,
      color: on ? COLORS.accent : COLORS.muted, symbolSize: on ? 7 : 4, showSymbol: on,
      lineStyle: { width: on ? 3.5 : 1.5 },
      endLabel: { show: true, formatter: "{a}", fontSize: on ? 12 : 10, fontWeight: on ? "bold" : "normal", color: on ? COLORS.accent : "#8a97a8", distance: 6 },
      labelLayout: { moveOverlap: "shiftY" },
      emphasis: { focus: "series", lineStyle: { width: on ? 3.5 : 2.5 } },
    };
  });
  if (key !== "total" && series.length) series[0].markArea = bandArea(tierBands(key), count);
  return {
    ...baseOption(),
    // Room on the left for the tier labels ("6分") beside the rank numbers.
    grid: { left: key === "total" ? 4 : 34, right: 78, top: 12, bottom: 4, containLabel: true },
    xAxis: { type: "category", boundaryGap: false, data: days, axisLabel: { fontSize: 11, formatter: (d) => M.day(d) } },
    yAxis: {
      type: "value", inverse: true, min: 0.5, max: count + 0.5, interval: 0.5, name: "",
      axisLabel: { fontSize: 11, formatter: (v) => (Number.isInteger(v) ? String(v) : "") }, axisTick: { show: false },
      splitLine: { show: false },
    },
    tooltip: {
      ...baseOption().tooltip,
      formatter: (items) => tooltipList(M.day(items[0].axisValue),
        items.filter((i) => i.value !== null && i.value !== undefined)
          .sort((a, b) => a.value - b.value)
          .map((i) => [i.marker, i.seriesName, String(i.value)])),
    },
    series,
  };
}

/** Shaded bands of the rank tiers, labelled with their points; edges halfway between tiers. */
function bandArea(bands, count) {
  const edges = bands.map((b, i) => {
    const next = bands[i + 1];
    return next ? (b.to + next.from) / 2 : count + 0.5;
  });
  const fills = ["rgba(31,95,191,0.07)", "rgba(31,95,191,0.03)"];
  return {
    silent: true,
    label: { position: "left", distance: 22, fontSize: 10, color: COLORS.accent },
    data: bands.map((b, i) => [
      { yAxis: i ? edges[i - 1] : 0.5, name: M.pts(fmt(b.points)), itemStyle: { color: fills[i % 2] } },
      { yAxis: Math.min(edges[i], count + 0.5) },
    ]),
  };
}

function renderSwitches() {
  segButtons("volume-switch", CURVES, (k) => NAME[k], state.curve, (k) => { state.curve = k; renderCharts(); });
  segButtons("bump-switch", BUMPS, (k) => (k === "total" ? M.bumpTotal : NAME[k]), state.bump, (k) => { state.bump = k; renderCharts(); });
}

function renderCharts() {
  const ready = isMonth(state.card.period) && state.days && state.days.cur && state.days.cur.month === state.card.period;
  $("charts").hidden = !ready;
  if (!ready) return;
  const b = branchRow(state.selected);
  $("volume-title").textContent = M.volumeTitle(b ? b.branch_name : "");
  $("bump-title").textContent = M.bumpTitle;
  $("bump-note").textContent = b && !b.in_scope ? M.bumpOutOfScope(b.branch_name) : "";
  renderSwitches();
  if (!state.days.cur.days.length || !b) {
    for (const name of ["volume", "bump"]) chartOn(name, `chart-${name}`).setOption({ title: { text: M.noHistory } }, { notMerge: true });
    return;
  }
  chartOn("volume", "chart-volume").setOption(volumeOption(), { notMerge: false, replaceMerge: ["series"] });
  chartOn("bump", "chart-bump").setOption(bumpOption(), { notMerge: false, replaceMerge: ["series"] });
  resizeCharts();
}

function resizeCharts() {
  for (const c of Object.values(charts)) if (c) c.resize();
}
