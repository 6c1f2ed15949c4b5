// Shared by the wall screen and the manager view: the page's parameters, the token, labels, formatting.
"use strict";

const PARAMS = new URLSearchParams(location.search);
/** The page's language: the URL's (`lang=en`, else Chinese); a screen's playlist may change it (setLanguage). */
let LANG = PARAMS.get("lang") === "en" ? "en" : "zh";
const TOKEN = PARAMS.get("token");

/** The URL of an API path, carrying the page's token. */
function apiUrl(path, query) {
  const q = new URLSearchParams(query || {});
  if (TOKEN) q.set("token", TOKEN);
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

/** GET a JSON document; rejects with the server's error message (and the HTTP status as `status`). */
async function getJson(path, query) {
  const response = await fetch(apiUrl(path, query), { cache: "no-store" });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw Object.assign(new Error(body.error || `${response.status} ${response.statusText}`), { status: response.status });
  }
  return body;
}

/** A month's English name ("2016-06" → "June"). */
const monthName = (p) => new Intl.DateTimeFormat("en-GB", { month: "long", timeZone: "UTC" }).format(new Date(`${p}-01T00:00:00Z`));
/** Chinese numerals for 1–10 (进前三), digits with 名 beyond (进前12名). */
const topZh = (n) => (n >= 1 && n <= 10 ? `前${"一二三四五六七八九十"[n - 1]}` : `前${n}名`);

const LABELS = {
  zh: {
    title: "营销管理系统运营管理考评",
    tier: (a, b, p) => b === null ? `${a}名以后 · ${p}分` : `${a}–${b}名 · ${p}分`,
    outOfScope: "不参评",
    updatedAt: "更新于", asOf: "数据截至",
    reconnecting: "连接中断，正在重新连接…",
    badToken: "无法连接：屏幕网址中的令牌缺失或无效",
    stale: "数据可能已过时：事件时间停留在",
    waiting: "等待数据…", nothingYet: "本月暂无数据",
    deal: "大单喜报",
    mobileQuotes: "移动端报价", users: "用户",
    month: (p) => /^\d{4}-\d{2}$/.test(p) ? `${p.slice(0, 4)}年${Number(p.slice(5))}月` : p,
    final: "已定稿",
    // The gap to the next points tier: quotes (单) or yuan ("¥1,200").
    toTierCount: (n, rank) => `差 ${fmt(n, 0)} 单进${topZh(rank)}`,
    toTierYuan: (yuan, rank) => `差 ¥${fmt(yuan, 0)} 进${topZh(rank)}`,
    finalStandings: (p) => `${Number(p.slice(5))}月最终排名`,
    provisionalStandings: (p) => `${Number(p.slice(5))}月排名 · 待定`,
    titleOfBranch: (branch, title) => `${branch} · ${title}`,
    // Moments (screen-moments.js): the banner's tag, headline and the line below; a month's close.
    momentTag: { overtake: "超越", tierUp: "升档", tierDown: "掉档", loginDays: "登录达标", quoteTarget: "目标达成" },
    overtook: (who, passed) => `${who} 超过 ${passed}`,
    passedList: (names) => (names.length <= 2 ? names.join("、") : `${names.slice(0, 2).join("、")} 等 ${names.length} 家`),
    nowRank: (board, rank) => `${board} · 升至第 ${rank} 名`,
    tierIn: (who, points) => `${who} 升入 ${points} 分档`,
    tierOut: (who, points) => `${who} 跌出 ${points} 分档`,
    tierMove: (board, rank, from, to) => `${board} · 第 ${rank} 名 · 得分 ${from} → ${to} 分`,
    loginDays: (who, days) => `${who} 本月登录满 ${days} 天`,
    quoteTarget: (who, quotes) => `${who} 完成本月报价目标 ${quotes} 单`,
    byTotal: "考评总分", pts: "分",
    notAssessed: (list) => `不参评：${list}`,
    awardsTitle: (final) => (final ? "考评最终获奖名次" : "考评获奖名次 · 截至本季度"),
    prize: (n) => `${"一二三"[n - 1]}等奖`,
  },
  en: {
    title: "Sales system adoption assessment",
    tier: (a, b, p) => `${b === null ? `rank ${a}+` : `ranks ${a}–${b}`} · ${p} ${p === 1 ? "pt" : "pts"}`,
    outOfScope: "not assessed",
    updatedAt: "Updated", asOf: "Data as of",
    reconnecting: "Connection lost, reconnecting…",
    badToken: "Cannot connect: the token in this screen's URL is missing or wrong",
    stale: "Data may be stale: event time stuck at",
    waiting: "Waiting for data…", nothingYet: "Nothing yet this month",
    deal: "Big deal",
    mobileQuotes: "mobile quotes", users: "users",
    month: (p) => /^\d{4}-\d{2}$/.test(p) ? `${monthName(p)} ${p.slice(0, 4)}` : p,
    final: "final",
    toTierCount: (n, rank) => `${fmt(n, 0)} more ${n === 1 ? "quote" : "quotes"} to reach top ${rank}`,
    toTierYuan: (yuan, rank) => `¥${fmt(yuan, 0)} more to reach top ${rank}`,
    finalStandings: (p) => `${monthName(p)} final standings`,
    provisionalStandings: (p) => `${monthName(p)} standings (provisional)`,
    titleOfBranch: (branch, title) => `${branch} · ${title}`,
    momentTag: { overtake: "Overtake", tierUp: "Tier up", tierDown: "Tier down", loginDays: "Login days", quoteTarget: "Target met" },
    overtook: (who, passed) => `${who} passes ${passed}`,
    passedList: (names) => (names.length <= 2 ? names.join(" and ") : `${names.slice(0, 2).join(", ")} and ${names.length - 2} more`),
    nowRank: (board, rank) => `${board} · now rank ${rank}`,
    tierIn: (who, points) => `${who} moves up to the ${points}-point tier`,
    tierOut: (who, points) => `${who} drops out of the ${points}-point tier`,
    tierMove: (board, rank, from, to) => `${board} · rank ${rank} · ${from} → ${to} pts`,
    loginDays: (who, days) => `${who} logged in on ${days} days this month`,
    quoteTarget: (who, quotes) => `${who} reached this month's target of ${quotes} quotes`,
    byTotal: "Total score", pts: "pts",
    notAssessed: (list) => `Not assessed: ${list}`,
    awardsTitle: (final) => (final ? "Final award places" : "Award places to date"),
    prize: (n) => `${["1st", "2nd", "3rd"][n - 1]} prize`,
  },
};
/** The page's words, each board's title (from the server's catalog, catalog.js) and number formats. */
let T, BOARD_TITLES, NUMBER, INTEGER, TWO;

/** Switches the words, titles and number formats to `lang` ("zh" or "en"). */
function setLanguage(lang) {
  LANG = lang === "en" ? "en" : "zh";
  T = LABELS[LANG];
  BOARD_TITLES = Object.fromEntries(CATALOG.boards.map((b) => [b.key, b[LANG]]));
  const locale = LANG === "zh" ? "zh-CN" : "en-US";
  NUMBER = new Intl.NumberFormat(locale, { maximumFractionDigits: 2 });
  INTEGER = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
  TWO = new Intl.NumberFormat(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}
setLanguage(LANG);

/** A number for people: "—" for null (a ratio without users); `digits` 0 (none) or 2 (always two, for columns
 * of figures), else up to two. */
function fmt(value, digits) {
  if (value === null || value === undefined) return "—";
  if (digits === 0) return INTEGER.format(value);
  if (digits === 2) return TWO.format(value);
  return NUMBER.format(Math.round(value * 100) / 100);
}

/** A timestamp as local wall time (HH:MM:SS), or the date and time when not today. */
function clock(rfc3339) {
  if (!rfc3339) return "—";
  const d = new Date(rfc3339);
  const sameDay = d.toDateString() === new Date().toDateString();
  const locale = LANG === "zh" ? "zh-CN" : "en-GB";
  return sameDay ? d.toLocaleTimeString(locale, { hour12: false }) : d.toLocaleString(locale, { hour12: false });
}

/** An event-time timestamp as written (the configured zone's local time). */
function eventTime(rfc3339) {
  return rfc3339 ? rfc3339.replace("T", " ").replace(/(\.\d+)?([+-]\d\d:\d\d|Z)$/, "") : "—";
}
