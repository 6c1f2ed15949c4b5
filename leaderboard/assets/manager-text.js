// The manager view's words (zh/en), number formats and small formatting helpers, the h() element builder,
// and the constants the other manager-*.js files share, taken from the server's catalog (catalog.js).
"use strict";

/* ------------------------------------------------------------------------------------------------
 * The scheme: indicators from the server's catalog (catalog.js), and what the view knows about them.
 * ---------------------------------------------------------------------------------------------- */

/**
 * Every indicator in display order: {key, zh, en, is_rate, is_volume, is_amount, is_ranked, has_target}.
 * The view names no indicator itself: every list below is a filter on the catalog's flags.
 */
const INDICATORS = CATALOG.indicators;
const NAME = Object.fromEntries(INDICATORS.map((i) => [i.key, i[LANG]]));
const keysWhere = (flag) => INDICATORS.filter((i) => i[flag]).map((i) => i.key);
const RATES = new Set(keysWhere("is_rate"));
/** Indicators in yuan per user: shown without decimals. */
const AMOUNTS = new Set(keysWhere("is_amount"));
/** Indicators scored by rank among in-scope units: their points are provisional until the period is final. */
const RANKED = keysWhere("is_ranked");
/** The month-to-date curves of the volume chart: the indicators scored against a monthly target. */
const CURVES = keysWhere("has_target");
/** The rankings of the bump chart: the total's ("total" is no indicator), then the ranked indicators'. */
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
    outOfScope: LABELS.zh.outOfScope, pending: "待评",
    projected: (v) => `预计 ${v}`,
    status: { on_track: "正常", behind: "落后", at_risk: "有风险" },
    // Words per indicator that the catalog does not give (short labels, units), by the catalog's keys; where
    // one is missing the catalog's name stands in (see shortName, volumeUnit, rankedUnit).
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
    kinds: { full: "满分", pending: "待评：市公司尚未给出清分得分，不计入可争取分", settled: "已定", not_ranked: LABELS.zh.outOfScope, no_users: "本月无用户" },
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
    // Screens.
    screens: "大屏", screensDark: (n) => `${n} 块黑屏`,
    screenOnline: "在线", screenDark: "黑屏", screenShows: (b) => `正在显示 ${b}`,
    lastFrame: (t) => `最后通信 ${t}`, neverSeen: "从未连接", needsReload: "需刷新页面",
    otherConnections: (n) => `另有 ${n} 个未配置的连接`,
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
    outOfScope: LABELS.en.outOfScope, pending: "pending",
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
      outOfScope: "Not assessed: a unit outside the assessment's scope, not ranked.",
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
    kinds: { full: "full points", pending: "pending: the city company has not given the clearing score yet; not counted", settled: "settled", not_ranked: LABELS.en.outOfScope, no_users: "no users this month" },
    maxOnly: (max) => `max ${max} pts`,
    sep: "; ", list: ", ",
    volumeTitle: (b) => `${b} · month to date`,
    bumpTitle: "Ranks by day",
    bumpTotal: "Total rank", bumpOutOfScope: (b) => `${b} is not assessed (outside the scope); click a line to pick another unit.`,
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
    screens: "Screens", screensDark: (n) => `${n} dark`,
    screenOnline: "online", screenDark: "dark", screenShows: (b) => `showing ${b}`,
    lastFrame: (t) => `last frame ${t}`, neverSeen: "never connected", needsReload: "needs reload",
    otherConnections: (n) => `${n} other ${n === 1 ? "connection" : "connections"} (no configured screen)`,
  },
}[LANG];

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

/** An indicator's short label (the status column's losers), else its name. */
const shortName = (key) => M.short[key] || NAME[key];
/** What a volume indicator counts ("次报价"), else its name. */
const volumeUnit = (key) => M.volumeUnit[key] || NAME[key];
/** What a ranked indicator counts: [long, short] ("单移动端报价", "单"), else its name twice. */
const rankedUnit = (key) => M.rankedUnit[key] || [NAME[key], NAME[key]];
