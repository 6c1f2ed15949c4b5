// The manager view (/manager): every unit's month-to-date indicators, points, rank and pace, with the
// key columns pinned; the selected unit's points at stake, day-by-day charts and people; CSV export of
// what is on screen. Refreshes every 30 s without losing the selection, the sort or the chart switches.
"use strict";

/* ------------------------------------------------------------------------------------------------
 * The scheme: indicators from the server's catalog (catalog.js), and what the view knows about them.
 * ---------------------------------------------------------------------------------------------- */

/** Every indicator in display order: {key, zh, en, is_rate, is_volume}. */
const INDICATORS = CATALOG.indicators;
const NAME = Object.fromEntries(INDICATORS.map((i) => [i.key, i[LANG]]));
const RATES = new Set(INDICATORS.filter((i) => i.is_rate).map((i) => i.key));
/** Indicators in yuan: shown without decimals. */
const AMOUNTS = new Set(["deal_premium_per_user", "mobile_payment_per_user"]);
/** Indicators scored by rank among in-scope units: their points are provisional until the period is final. */
const RANKED = ["mobile_quotes_per_user", "mobile_payment_per_user"];
/** The month-to-date curves of the volume chart. */
const CURVES = ["quotes_per_user", "proposals_per_user", "deal_premium_per_user"];
/** The rankings of the bump chart: the total's, then the ranked indicators'. */
const BUMPS = ["total", ...RANKED];
/** Stakes with nothing to do: listed last. */
const END_KINDS = new Set(["full", "settled", "not_ranked", "no_users"]);
/** Login outlooks from best to worst, for sorting people. */
const LOGIN_ORDER = { reached: 0, can_reach: 1, must_login_every_day: 2, cannot_reach: 3 };

const LOCALE = LANG === "zh" ? "zh-CN" : "en-US";
const ONE = new Intl.NumberFormat(LOCALE, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const UP_TO_ONE = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 1 });
const COMPACT = new Intl.NumberFormat(LOCALE, { notation: "compact", maximumFractionDigits: 1 });

/* ------------------------------------------------------------------------------------------------
 * Words, in the scheme's wording (营销管理系统运营管理考核方案) and in English.
 * ---------------------------------------------------------------------------------------------- */

const M = {
  zh: {
    title: ["营销管理系统运营管理考评", "月中进度"],
    period: "考评期间", export: "导出 CSV", asOf: "数据截至", assessment: "考评至今",
    quarter: (q) => `${q.slice(0, 4)}年第${q.slice(-1)}季度`,
    branches: "各单位指标与得分",
    // Key columns: [laptop label, phone label].
    col: { rank: ["名次", "名次"], branch: ["单位", "单位"], total: ["总分", "总分"], status: ["进度", "进度"], stake: ["可争取分", "可争取"] },
    users: "用户数",
    target: (t) => `目标${t}`, pts: (p) => `${p}分`, perQuarter: (p) => `每季${p}分`, provisional: "暂定",
    provisionalTip: "暂定：月末前名次仍会变化，得分随之变化",
    rankOf: (r, tied) => (tied ? `并列第${r}名` : `第${r}名`), tied: "并列",
    outOfScope: "不参评", pending: "待评",
    projected: (v) => `预计 ${v}`,
    status: { on_track: "正常", behind: "落后", at_risk: "有风险" },
    short: {
      quotes_per_user: "报价", proposals_per_user: "投保", deal_premium_per_user: "保费", clearing_score: "清分",
      renewal_index: "续保", task_execution_rate: "任务", active_user_rate: "活跃", mobile_quotes_per_user: "移动报价",
      wechat_binding_rate: "微信", mobile_payment_per_user: "移动支付", reports_accepted: "报送",
    },
    notes: {
      status: "进度：按当前速度推算的月末总分与专员奖励线90分相比（正常/落后/有风险），并列出失分最多的指标。",
      provisional: "暂定：人均移动端报价量、人均移动支付金额按名次计分，考评期结束前随名次变化。",
      pending: "待评：保单清分工作尚未评分。",
      outOfScope: "不参评：不在考评范围内的单位，不排名。",
    },
    // Points at stake.
    stakeTitle: (b) => b,
    stakeTotal: (g, d) => (d > 0 ? `可争取 ${g} 分 · 剩余 ${d} 天` : `可争取 ${g} 分 · 本月已结束`),
    stakeNote: "假设其他单位保持不变；待评的清分得分不计入。",
    now: (p, max) => `现 ${p} / ${max}分`, got: (p, max) => `得 ${p} / ${max}分`,
    gainBadge: (g) => `+${g}`,
    volumeUnit: { quotes_per_user: "次报价", proposals_per_user: "次投保", deal_premium_per_user: "元成交保费" },
    volume: (needed, unit, perUser, perDay, gain) =>
      `还差 ${needed} ${unit}（人均 ${perUser}${perDay ? `，每天 ${perDay}` : ""}）→ +${gain}分`,
    pace: (projected, target) => `按当前进度月末人均 ${projected}（目标 ${target}）`,
    rankedUnit: { mobile_quotes_per_user: ["单移动端报价", "单"], mobile_payment_per_user: ["元移动支付", "元"] },
    rankNow: (r) => `第${r}名`,
    topTier: "已在最高档",
    better: (needed, unit, holder, rank, gain) => `再增 ${needed} ${unit}（追平 ${holder}）进第${rank}名 → +${gain}分`,
    below: (name, lead, toPass, unit, after) =>
      `领先 ${name} 人均 ${lead}，对方再 ${toPass} ${unit}即超越（${after}）`,
    tiedBelow: (name, toPass, unit, after) => `与 ${name} 并列，对方再 ${toPass} ${unit}即超越（${after}）`,
    dropTo: (p) => `降为 ${p}分`, keep: (p) => `仍得 ${p}分`,
    logins: (can, days) => `${can} 人仍可达 ${days} 天`,
    mustLogin: (names, n) => `须每天登录：${names} (${n})`,
    cannotLogin: (n) => `${n} 人已无法达到`,
    binding: (more, rate, gain) => `再绑定 ${more} 人达 ${rate}% → +${gain}分`,
    tasks: (n, gain) => `还有 ${n} 项任务未执行 → +${gain}分`,
    renewals: (n, gain) => `今日还有 ${n} 单应续保家自车未分配 → +${gain}分`,
    reports: (n, gain) => `再报送 ${n} 篇 → +${gain}分`,
    gainTail: (gain) => ` → +${gain}分`,
    kinds: { full: "满分", pending: "待评：市公司尚未给出清分得分，不计入可争取分", settled: "已定", not_ranked: "不参评", no_users: "本月无用户" },
    maxOnly: (max) => `满分 ${max}分`,
    sep: "；", list: "、",
    // Charts.
    volumeTitle: (b) => `${b} · 月累计走势`,
    bumpTitle: "各单位逐日名次",
    bumpTotal: "总分名次", bumpOutOfScope: (b) => `${b}不参评，不参与排名；点击曲线可选择其他单位。`,
    thisMonth: "本月", lastMonth: "上月", targetLine: "目标进度", projection: "按当前进度",
    day: (d) => `${d}日`, inProgress: "（进行中）", rankAxis: "名次",
    noHistory: "暂无逐日数据",
    // People.
    people: (b, n) => `${b} · 人员明细（${n}人）`,
    cannot: (n) => `已无法达到${n}天登录`, must: "剩余每天都必须登录", unbound: "未绑定微信",
    loginDaysShort: (n) => `${n}天`,
    person: "姓名", id: "工号", quotes: "报价", mobileQuotes: "移动端报价", proposals: "投保", dealPremium: "成交保费",
    mobilePayment: "移动支付", loginDays: "登录天数", loginStatus: "登录情况", tasksExecuted: "执行任务", wechat: "微信",
    rankBranch: "支公司内名次", rankCity: "全市名次",
    login: { reached: "已达标", can_reach: "可达标", must_login_every_day: "须每天登录", cannot_reach: "无法达标" },
    bound: "已绑定", notBound: "未绑定", moved: "已调出", movedTip: "期末已不在本单位",
    none: "无",
    // CSV.
    csvPoints: (name) => `${name} 得分`, csvProjected: "预计总分", csvStake: "可争取分",
    csvIndicator: "指标", csvNow: "得分", csvMax: "满分", csvHow: "说明",
  },
  en: {
    title: ["Sales system assessment", "mid-month progress"],
    period: "Period", export: "Export CSV", asOf: "Data as of", assessment: "Assessment to date",
    quarter: (q) => q,
    branches: "Units: indicators and points",
    col: { rank: ["Rank", "#"], branch: ["Unit", "Unit"], total: ["Total", "Total"], status: ["Status", "Pace"], stake: ["At stake", "+Pts"] },
    users: "Users",
    target: (t) => `target ${t}`, pts: (p) => `${p} pts`, perQuarter: (p) => `${p} pts a quarter`, provisional: "provisional",
    provisionalTip: "Provisional: ranks, and so points, can change until the month is final",
    rankOf: (r, tied) => (tied ? `tied #${r}` : `#${r}`), tied: "tied",
    outOfScope: "not ranked", pending: "pending",
    projected: (v) => `proj. ${v}`,
    status: { on_track: "on track", behind: "behind", at_risk: "at risk" },
    short: {
      quotes_per_user: "quotes", proposals_per_user: "proposals", deal_premium_per_user: "premium", clearing_score: "clearing",
      renewal_index: "renewals", task_execution_rate: "tasks", active_user_rate: "active", mobile_quotes_per_user: "mob. quotes",
      wechat_binding_rate: "WeChat", mobile_payment_per_user: "mob. pay", reports_accepted: "reports",
    },
    notes: {
      status: "Status: the month-end total projected at the current pace against the 90-point specialist bonus line, with the indicators losing most.",
      provisional: "Provisional: mobile quotes and mobile payment per user score by rank, which can change until the period is final.",
      pending: "Pending: no clearing score given yet.",
      outOfScope: "Not ranked: a unit outside the assessment's scope.",
    },
    stakeTitle: (b) => b,
    stakeTotal: (g, d) => (d > 0 ? `${g} pts to gain · ${d} days left` : `${g} pts to gain · month over`),
    stakeNote: "Assuming the other units stay where they are; a pending clearing score is not counted.",
    now: (p, max) => `${p} / ${max} pts now`, got: (p, max) => `${p} / ${max} pts`,
    gainBadge: (g) => `+${g}`,
    volumeUnit: { quotes_per_user: "quotes", proposals_per_user: "proposals", deal_premium_per_user: "yuan of deal premium" },
    volume: (needed, unit, perUser, perDay, gain) =>
      `${needed} more ${unit} (${perUser} per user${perDay ? `, ${perDay} a day` : ""}) → +${gain} pts`,
    pace: (projected, target) => `At this pace ${projected} per user by month end (target ${target})`,
    rankedUnit: { mobile_quotes_per_user: ["mobile quotes", "quotes"], mobile_payment_per_user: ["yuan of mobile payment", "yuan"] },
    rankNow: (r) => `Rank ${r}`,
    topTier: "top tier",
    better: (needed, unit, holder, rank, gain) => `${needed} more ${unit} (to equal ${holder}) for rank ${rank} → +${gain} pts`,
    below: (name, lead, toPass, unit, after) =>
      `ahead of ${name} by ${lead} per user; ${toPass} more ${unit} and they pass (${after})`,
    tiedBelow: (name, toPass, unit, after) => `tied with ${name}; ${toPass} more ${unit} and they pass (${after})`,
    dropTo: (p) => `down to ${p} pts`, keep: (p) => `still ${p} pts`,
    logins: (can, days) => `${can} can still reach ${days} days`,
    mustLogin: (names, n) => `must log in every day: ${names} (${n})`,
    cannotLogin: (n) => `${n} can no longer reach it`,
    binding: (more, rate, gain) => `bind ${more} more for ${rate}% → +${gain} pts`,
    tasks: (n, gain) => `${n} tasks not acted on yet → +${gain} pts`,
    renewals: (n, gain) => `${n} due renewals to assign today → +${gain} pts`,
    reports: (n, gain) => `${n} more accepted reports → +${gain} pts`,
    gainTail: (gain) => ` → +${gain} pts`,
    kinds: { full: "full points", pending: "pending: the city company has not given the clearing score yet; not counted", settled: "settled", not_ranked: "not ranked", no_users: "no users this month" },
    maxOnly: (max) => `max ${max} pts`,
    sep: "; ", list: ", ",
    volumeTitle: (b) => `${b} · month to date`,
    bumpTitle: "Ranks by day",
    bumpTotal: "Total rank", bumpOutOfScope: (b) => `${b} is not ranked (outside the scope); click a line to pick another unit.`,
    thisMonth: "This month", lastMonth: "Last month", targetLine: "Target pace", projection: "At this pace",
    day: (d) => `${d}`, inProgress: " (in progress)", rankAxis: "Rank",
    noHistory: "No day-by-day data",
    people: (b, n) => `${b} · people (${n})`,
    cannot: (n) => `Can no longer reach ${n} login days`, must: "Must log in every remaining day", unbound: "Not bound to WeChat",
    loginDaysShort: (n) => `${n} d`,
    person: "Name", id: "ID", quotes: "Quotes", mobileQuotes: "Mobile quotes", proposals: "Proposals", dealPremium: "Deal premium",
    mobilePayment: "Mobile payment", loginDays: "Login days", loginStatus: "Login outlook", tasksExecuted: "Tasks executed", wechat: "WeChat",
    rankBranch: "Rank in unit", rankCity: "Rank in city",
    login: { reached: "reached", can_reach: "can reach", must_login_every_day: "must log in daily", cannot_reach: "cannot reach" },
    bound: "bound", notBound: "not bound", moved: "moved", movedTip: "No longer in this unit at the period's end",
    none: "none",
    csvPoints: (name) => `${name} points`, csvProjected: "Projected total", csvStake: "At stake",
    csvIndicator: "Indicator", csvNow: "Points", csvMax: "Max", csvHow: "What it takes",
  },
}[LANG];

/* ------------------------------------------------------------------------------------------------
 * State. Kept across the 30-second refreshes.
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
const charts = { volume: null, bump: null };

/* ------------------------------------------------------------------------------------------------
 * Small helpers.
 * ---------------------------------------------------------------------------------------------- */

const $ = (id) => document.getElementById(id);

/** A new element: h("td", {className: "key", dataset: {branch: "b01"}}, "text", child, …). */
function h(tag, props, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "dataset") Object.assign(e.dataset, v);
    else if (k in e) e[k] = v;
    else e.setAttribute(k, v);
  }
  e.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return e;
}

const isMonth = (period) => /^\d{4}-\d{2}$/.test(period);
const one = (v) => (v === null || v === undefined ? "—" : ONE.format(v));
const upToOne = (v) => (v === null || v === undefined ? "—" : UP_TO_ONE.format(v));
/** Yuan still needed, rounded up so that the figure really suffices. */
const yuanUp = (v) => fmt(Math.ceil(v - 1e-9), 0);

/** An indicator's value as people read it: a share in %, yuan without decimals, else two decimals. */
function valueText(key, value) {
  if (value === null || value === undefined) return "—";
  if (RATES.has(key)) return `${UP_TO_ONE.format(value * 100)}%`;
  if (AMOUNTS.has(key)) return fmt(value, 0);
  return fmt(value);
}

/** A per-user figure: yuan without decimals, counts with one. */
const perUserText = (key, v) => (AMOUNTS.has(key) ? fmt(v, 0) : upToOne(v));

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
const isPending = (b) => ((b.at_stake || {}).indicators || {}).clearing_score?.kind === "pending";

function showError(message) {
  $("error").hidden = false;
  $("error").textContent = message;
}
const hideError = () => { $("error").hidden = true; };

/* ------------------------------------------------------------------------------------------------
 * The units table: key columns pinned left, users and every indicator behind them.
 * ---------------------------------------------------------------------------------------------- */

/** A key column's header: the long label on a laptop, the short one on a phone. */
function keyHead(cls, [long, short]) {
  return h("th", { scope: "col", className: `key ${cls}` },
    h("span", { className: "long" }, long), h("span", { className: "short" }, short));
}

/** An indicator's header: its name, then target and maximum points ("目标200 · 15分"), provisional if ranked. */
function indicatorHead(key) {
  const spec = (state.periods.indicators || {})[key] || {};
  const sub = [];
  if (spec.target !== null && spec.target !== undefined) sub.push(M.target(fmt(spec.target, 0)));
  // The assessment's points are the sum of its quarters': the maximum is per quarter there.
  if (spec.max_points !== undefined) {
    sub.push((state.card.period === state.periods.assessment ? M.perQuarter : M.pts)(fmt(spec.max_points)));
  }
  const provisional = RANKED.includes(key) && !state.card.final;
  return h("th", { scope: "col", className: "ind", dataset: { indicator: key } },
    h("span", { className: "th-name" }, NAME[key]),
    h("small", {}, sub.join(" · "), provisional ? [" · ", h("span", { className: "prov", title: M.provisionalTip }, M.provisional)] : null));
}

function branchHead(monthly) {
  const row = h("tr", {},
    keyHead("k-rank", M.col.rank), keyHead("k-branch", M.col.branch), keyHead("k-total", M.col.total),
    monthly ? [keyHead("k-status", M.col.status), keyHead("k-stake", M.col.stake)] : null,
    h("th", { scope: "col" }, M.users),
    INDICATORS.map((i) => indicatorHead(i.key)));
  row.querySelectorAll(".key")[row.querySelectorAll(".key").length - 1].classList.add("key-last");
  return h("thead", {}, row);
}

function rankCell(b) {
  if (!b.in_scope) return h("td", { className: "key k-rank oos" }, M.outOfScope);
  return h("td", { className: "key k-rank" }, String(b.rank ?? "—"),
    isTied("total", b) ? h("small", { className: "tie" }, M.tied) : null);
}

/** The pace: status pill, projected total, and for behind/at risk the 1–2 indicators losing most. */
function statusCell(b) {
  const p = b.pace;
  if (!p) return h("td", { className: "key k-status" }, "—");
  // Once the month is final the projection is the total itself: not repeated.
  const projected = state.card.final ? null : M.projected(one(p.projected_total));
  const losing = p.status === "on_track" ? [] : p.losing.slice(0, 2);
  return h("td", { className: "key k-status" },
    h("div", { className: "pace" }, h("span", { className: `status ${p.status}` }, M.status[p.status]),
      projected ? h("span", { className: "proj" }, projected) : null),
    losing.length ? h("small", { className: "losing" },
      losing.map((l) => h("span", {}, `${M.short[l.indicator]} −${one(l.points)}`))) : null);
}

function stakeCell(b) {
  const g = b.at_stake ? b.at_stake.gainable : null;
  return h("td", { className: `key k-stake${g ? "" : " zero"}` }, g === null ? "—" : one(g));
}

/** An indicator's cell: the value, then the points (ranked: provisional, with the rank and any tie). */
function indicatorCell(key, b) {
  if (key === "clearing_score" && isPending(b)) {
    return h("td", { className: "ind pending", dataset: { indicator: key } }, h("span", { className: "v" }, M.pending));
  }
  const value = h("span", { className: "v" }, valueText(key, b.indicators[key]));
  let sub;
  if (RANKED.includes(key) && !b.in_scope) {
    sub = h("small", {}, M.outOfScope);
  } else if (RANKED.includes(key)) {
    const r = b.indicator_ranks[key];
    const provisional = !state.card.final;
    sub = h("small", { className: provisional ? "prov" : "", title: provisional ? M.provisionalTip : undefined },
      M.pts(fmt(b.points[key])), r === null ? "" : ` · ${M.rankOf(r, isTied(key, b))}`);
  } else {
    sub = h("small", {}, M.pts(fmt(b.points[key])));
  }
  return h("td", { className: "ind", dataset: { indicator: key } }, value, sub);
}

function branchBodyRow(b, monthly) {
  const tr = h("tr", {
    dataset: { branch: b.branch_id }, tabIndex: 0,
    className: [b.branch_id === state.selected ? "selected" : "", b.in_scope ? "" : "out"].join(" ").trim(),
    "aria-current": b.branch_id === state.selected ? "true" : null,
  },
  rankCell(b),
  h("td", { className: "key k-branch" }, b.branch_name),
  h("td", { className: "key k-total" }, fmt(b.total)),
  monthly ? [statusCell(b), stakeCell(b)] : null,
  h("td", {}, fmt(b.users, 0)),
  INDICATORS.map((i) => indicatorCell(i.key, b)));
  const last = tr.querySelectorAll(".key");
  last[last.length - 1].classList.add("key-last");
  tr.onclick = () => select(b.branch_id);
  tr.onkeydown = (e) => {
    if (e.key === "Enter" || e.key === " ") { e.preventDefault(); select(b.branch_id); }
  };
  return tr;
}

function renderBranches() {
  const monthly = isMonth(state.card.period);
  const table = $("branches");
  table.replaceChildren(branchHead(monthly), h("tbody", {}, state.card.branches.map((b) => branchBodyRow(b, monthly))));
  table.classList.toggle("monthly", monthly);
  $("branches-note").textContent = branchesNote(monthly);
  pinKeyColumns(table);
}

/** The legend under the table: only the marks that the table shows. */
function branchesNote(monthly) {
  const { card } = state;
  return [
    monthly && !card.final ? M.notes.status : null,
    card.final ? null : M.notes.provisional,
    card.branches.some(isPending) ? M.notes.pending : null,
    card.branches.some((b) => !b.in_scope) ? M.notes.outOfScope : null,
  ].filter(Boolean).join(LANG === "zh" ? "" : " ");
}

/** Pins the key columns: each one's left offset is the width of the key columns before it. */
function pinKeyColumns(table) {
  if (!table.tHead) return;
  const heads = [...table.tHead.rows[0].cells].filter((c) => c.classList.contains("key"));
  const lefts = [];
  let x = 0;
  for (const th of heads) { lefts.push(x); x += th.getBoundingClientRect().width; }
  for (const row of table.rows) {
    let i = 0;
    for (const c of row.cells) if (c.classList.contains("key")) c.style.left = `${lefts[i++]}px`;
  }
}

/** Marks the selected row without rebuilding the table (keeps its sideways scroll). */
function markSelected() {
  for (const tr of $("branches").tBodies[0]?.rows || []) {
    const on = tr.dataset.branch === state.selected;
    tr.classList.toggle("selected", on);
    if (on) tr.setAttribute("aria-current", "true");
    else tr.removeAttribute("aria-current");
  }
}

/* ------------------------------------------------------------------------------------------------
 * Points at stake of the selected unit.
 * ---------------------------------------------------------------------------------------------- */

/** What it takes on a volume indicator: the total still needed, per user and per day left. */
function volumeText(key, s) {
  const needed = AMOUNTS.has(key) ? yuanUp(s.needed) : fmt(s.needed, 0);
  const perDay = s.per_day === null || s.per_day === undefined ? null : perUserText(key, s.per_day);
  return M.volume(needed, M.volumeUnit[key], perUserText(key, s.per_user), perDay, upToOne(s.gainable));
}

/** What it takes on a ranked indicator: each better tier, then the margin over the unit just below. */
function rankedText(key, s) {
  const [unit, unitShort] = M.rankedUnit[key];
  const amount = (v) => (AMOUNTS.has(key) ? yuanUp(v) : fmt(v, 0));
  const parts = s.better.map((t) =>
    M.better(amount(t.needed), unit, branchName(t.holder), t.rank, upToOne(t.points - s.points)));
  if (!s.better.length && s.points >= s.max_points) parts.push(M.topTier);
  if (s.below) {
    const after = s.below.points_if_passed < s.points ? M.dropTo(fmt(s.below.points_if_passed)) : M.keep(fmt(s.below.points_if_passed));
    const name = branchName(s.below.branch_id);
    parts.push(s.below.per_user > 0
      ? M.below(name, perUserText(key, s.below.per_user), amount(s.below.to_pass), unitShort, after)
      : M.tiedBelow(name, amount(s.below.to_pass), unitShort, after));
  }
  return `${M.rankNow(s.rank)}${LANG === "zh" ? "：" : ": "}${parts.join(M.sep)}`;
}

function loginsText(s) {
  const parts = [M.logins(s.can_reach, state.periods.active_login_days)];
  const must = s.must_login_every_day || [];
  if (must.length) parts.push(M.mustLogin(must.map(personName).join(M.list), must.length));
  if (s.cannot_reach) parts.push(M.cannotLogin(s.cannot_reach));
  return parts.join(M.sep) + (s.gainable > 0 ? M.gainTail(upToOne(s.gainable)) : "");
}

/** The sentence of one indicator's stake. */
function stakeText(key, s) {
  switch (s.kind) {
    case "volume": return volumeText(key, s);
    case "ranked": return rankedText(key, s);
    case "logins": return loginsText(s);
    case "binding":
      return s.better.map((t) => M.binding(t.more, fmt(t.min_rate * 100, 0), upToOne(t.points - s.points))).join(M.sep);
    case "tasks": return M.tasks(s.not_acted, upToOne(s.gainable));
    case "renewals": return M.renewals(s.not_assigned, upToOne(s.gainable));
    case "reports": return M.reports(s.more, upToOne(s.gainable));
    default: return M.kinds[s.kind] || s.kind;
  }
}

/** A bar of the indicator's maximum: the points now, then the points to gain. */
function stakeBar(s) {
  const bar = h("div", { className: "bar", "aria-hidden": "true" },
    h("span", { className: "now" }), h("span", { className: "gain" }));
  const max = s.max_points || 1;
  bar.children[0].style.width = `${Math.min(100, (100 * s.points) / max)}%`;
  bar.children[1].style.width = `${Math.min(100, (100 * s.gainable) / max)}%`;
  return bar;
}

function stakeItem(key, s, b) {
  // Nothing to do (full, settled, not ranked): one quiet line with the verdict where the gain would be.
  const quiet = END_KINDS.has(s.kind);
  const extra = s.kind === "volume" && b.pace && b.pace.projected[key] !== undefined
    ? M.pace(perUserText(key, b.pace.projected[key]), fmt((state.periods.indicators[key] || {}).target, 0)) : null;
  const now = s.kind === "pending" ? M.maxOnly(fmt(s.max_points))
    : (b.at_stake.days_left > 0 ? M.now : M.got)(fmt(s.points), fmt(s.max_points));
  const right = quiet ? h("span", { className: "stake-verdict" }, stakeText(key, s))
    : h("span", { className: `stake-gain${s.gainable > 0 ? "" : " none"}` }, s.gainable > 0 ? M.gainBadge(one(s.gainable)) : "");
  return h("li", {
    className: `stake-row kind-${s.kind}${quiet || s.kind === "pending" ? " quiet" : ""}`,
    dataset: { indicator: key, gainable: String(s.gainable), kind: s.kind },
  },
  h("div", { className: "stake-head" },
    h("span", { className: "stake-name" }, NAME[key]), h("span", { className: "stake-now" }, now), right),
  stakeBar(s),
  quiet ? null : h("p", { className: "stake-text" }, stakeText(key, s)),
  extra ? h("p", { className: "stake-extra" }, extra) : null);
}

/** The rows, most to gain first; full points and settled ones last, else in the catalog's order. */
function stakeOrder(stakes) {
  const order = new Map(INDICATORS.map((i, n) => [i.key, n]));
  return Object.entries(stakes).sort(([ka, a], [kb, b]) =>
    (END_KINDS.has(a.kind) - END_KINDS.has(b.kind)) || (b.gainable - a.gainable) || (order.get(ka) - order.get(kb)));
}

function renderStake() {
  const b = branchRow(state.selected);
  const stake = b && b.at_stake;
  $("stake").hidden = !stake;
  if (!stake) return;
  $("stake-title").textContent = M.stakeTitle(b.branch_name);
  $("stake-total").textContent = M.stakeTotal(one(stake.gainable), stake.days_left);
  $("stake-note").textContent = stake.days_left > 0 ? M.stakeNote : "";
  $("stake-list").replaceChildren(...stakeOrder(stake.indicators).map(([key, s]) => stakeItem(key, s, b)));
}

/* ------------------------------------------------------------------------------------------------
 * People of the selected unit: who to chase, then a sortable table.
 * ---------------------------------------------------------------------------------------------- */

const rankText = (r) => (r === null || r === undefined ? "—" : String(r));
/** The people table's columns: label, sort value (numbers sort numerically; null last) and text. */
const PEOPLE_COLUMNS = [
  {
    key: "name", label: M.person, sort: (u) => u.display_name || u.user_id, text: (u) => u.display_name || u.user_id, cls: "key",
    extra: (u) => (u.current === false ? h("small", { className: "moved", title: M.movedTip }, M.moved) : null),
  },
  { key: "id", label: M.id, sort: (u) => u.user_id, text: (u) => u.user_id, cls: "id" },
  { key: "quotes", label: M.quotes, sort: (u) => u.quotes },
  { key: "mobile_quotes", label: M.mobileQuotes, sort: (u) => u.mobile_quotes },
  { key: "proposals", label: M.proposals, sort: (u) => u.proposals },
  { key: "deal_premium", label: M.dealPremium, sort: (u) => u.deal_premium },
  { key: "mobile_payment", label: M.mobilePayment, sort: (u) => u.mobile_payment },
  { key: "login_days", label: M.loginDays, sort: (u) => u.login_days },
  {
    key: "login_status", label: M.loginStatus, monthOnly: true,
    sort: (u) => (u.pace ? LOGIN_ORDER[u.pace.login_status] : null),
    text: (u) => (u.pace ? M.login[u.pace.login_status] : "—"),
    cls: (u) => (u.pace ? `login ${u.pace.login_status}` : ""),
  },
  { key: "tasks", label: M.tasksExecuted, sort: (u) => u.tasks_executed },
  {
    key: "wechat", label: M.wechat, sort: (u) => (u.wechat_bound ? 1 : 0),
    text: (u) => (u.wechat_bound ? M.bound : M.notBound), cls: (u) => (u.wechat_bound ? "bound" : "unbound"),
  },
  { key: "mq_rank_branch", label: M.rankBranch, sub: M.mobileQuotes, sort: (u) => u.mobile_quotes_rank.branch, text: (u) => rankText(u.mobile_quotes_rank.branch) },
  { key: "mq_rank_city", label: M.rankCity, sub: M.mobileQuotes, sort: (u) => u.mobile_quotes_rank.city, text: (u) => rankText(u.mobile_quotes_rank.city) },
  { key: "mp_rank_branch", label: M.rankBranch, sub: M.mobilePayment, sort: (u) => u.mobile_payment_rank.branch, text: (u) => rankText(u.mobile_payment_rank.branch) },
  { key: "mp_rank_city", label: M.rankCity, sub: M.mobilePayment, sort: (u) => u.mobile_payment_rank.city, text: (u) => rankText(u.mobile_payment_rank.city) },
];
const peopleColumns = () => PEOPLE_COLUMNS.filter((c) => !c.monthOnly || isMonth(state.card.period));
const cellText = (c, u) => (c.text ? c.text(u) : fmt(c.sort(u), 0));

/** The selected unit's registered people. */
const selectedPeople = () => (state.card.users || []).filter((u) => u.branch_id === state.selected && u.registered);

/** People in the table's order: the user's sort, stable; people without a value last either way. */
function sortPeople(people) {
  const col = PEOPLE_COLUMNS.find((c) => c.key === state.sort.key);
  if (!col) return people;
  const sign = state.sort.dir === "asc" ? 1 : -1;
  const collator = new Intl.Collator(LOCALE, { numeric: true });
  return people.map((u, i) => ({ u, i, v: col.sort(u) }))
    .sort((a, b) => {
      const na = a.v === null || a.v === undefined;
      const nb = b.v === null || b.v === undefined;
      if (na || nb) return (na - nb) || (a.i - b.i);
      const c = typeof a.v === "number" ? a.v - b.v : collator.compare(a.v, b.v);
      return c * sign || a.i - b.i;
    })
    .map((x) => x.u);
}

function toggleSort(key) {
  state.sort = state.sort.key === key ? { key, dir: state.sort.dir === "asc" ? "desc" : "asc" } : { key, dir: "asc" };
  renderPeopleTable(selectedPeople());
}

function peopleHead() {
  return h("thead", {}, h("tr", {}, peopleColumns().map((c) => {
    const sorted = state.sort.key === c.key;
    return h("th", {
      scope: "col", className: c.cls === "key" ? "key" : "", dataset: { key: c.key },
      "aria-sort": sorted ? (state.sort.dir === "asc" ? "ascending" : "descending") : "none",
    }, h("button", { type: "button", className: "sort", onclick: () => toggleSort(c.key) },
      h("span", {}, c.label), c.sub ? h("small", {}, c.sub) : null, h("span", { className: "arrow", "aria-hidden": "true" })));
  })));
}

function renderPeopleTable(people) {
  const cols = peopleColumns();
  const rows = sortPeople(people).map((u) => h("tr", { dataset: { user: u.user_id } }, cols.map((c) => {
    const cls = typeof c.cls === "function" ? c.cls(u) : c.cls;
    return h("td", { className: cls || (c.text ? "" : "num") }, cellText(c, u), c.extra ? c.extra(u) : null);
  })));
  $("people").replaceChildren(peopleHead(), h("tbody", {}, rows));
}

/** Scrolls to a person's row and flashes it (from the lists above the table). */
function revealPerson(id) {
  const tr = $("people").querySelector(`tr[data-user="${CSS.escape(id)}"]`);
  if (!tr) return;
  tr.scrollIntoView({ block: "center", behavior: "smooth" });
  tr.classList.remove("flash");
  void tr.offsetWidth; // restart the animation
  tr.classList.add("flash");
}

/** Fills one of the lists (#cannot, #must, #unbound) and its count. */
function fillList(id, people, detail) {
  $(id).replaceChildren(...people.map((u) => h("li", {
    dataset: { user: u.user_id }, tabIndex: 0, title: u.user_id,
    onclick: () => revealPerson(u.user_id),
    onkeydown: (e) => { if (e.key === "Enter") revealPerson(u.user_id); },
  }, u.display_name || u.user_id, detail ? h("small", {}, detail(u)) : null)));
  $(`${id}-count`).textContent = String(people.length);
}

function renderPeople() {
  const b = branchRow(state.selected);
  $("drill").hidden = !b;
  if (!b) return;
  const people = selectedPeople();
  const monthly = isMonth(state.card.period);
  const status = (s) => people.filter((u) => u.pace && u.pace.login_status === s);
  $("drill-title").textContent = M.people(b.branch_name, people.length);
  $("cannot-box").hidden = !monthly;
  $("must-box").hidden = !monthly;
  const days = (u) => M.loginDaysShort(u.login_days);
  fillList("cannot", monthly ? status("cannot_reach") : [], days);
  fillList("must", monthly ? status("must_login_every_day") : [], days);
  fillList("unbound", people.filter((u) => u.wechat_bound === false), null);
  renderPeopleTable(people);
}

/* ------------------------------------------------------------------------------------------------
 * Charts (ECharts): month-to-date curves against the target line and last month; the ranks by day.
 * ---------------------------------------------------------------------------------------------- */

const COLORS = { accent: "#1f5fbf", target: "#8a97a8", last: "#c0894a", projection: "#7fa6e0", muted: "#c3cad5", text: "#4a5868" };
const FONT = getComputedStyle(document.body).fontFamily;

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
      const pending = i.key === "clearing_score" && isPending(b);
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
  await load();
  setInterval(refresh, 30000);
}

start();
