// Shared by the wall screen and the manager view: the page's parameters, the token, labels, formatting.
"use strict";

const PARAMS = new URLSearchParams(location.search);
const LANG = PARAMS.get("lang") === "en" ? "en" : "zh";
const TOKEN = PARAMS.get("token");

/** The URL of an API path, carrying the page's token. */
function apiUrl(path, query) {
  const q = new URLSearchParams(query || {});
  if (TOKEN) q.set("token", TOKEN);
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

/** GET a JSON document; rejects with the server's error message. */
async function getJson(path, query) {
  const response = await fetch(apiUrl(path, query), { cache: "no-store" });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error || `${response.status} ${response.statusText}`);
  return body;
}

const LABELS = {
  zh: {
    title: "营销管理系统运营管理考评",
    rank: "名次", value: "数值", points: "得分", tier: (a, b, p) => b > 999 ? `${a}名以后 · ${p}分` : `${a}–${b}名 · ${p}分`,
    outOfScope: "不参与排名",
    updatedAt: "更新于", asOf: "数据截至",
    reconnecting: "连接中断，正在重新连接…",
    stale: "数据可能已过时：事件时间停留在",
    waiting: "等待数据…",
    deal: "大单喜报",
    mobileQuotes: "移动端报价", users: "用户", yuan: "元", quotes: "次",
    month: (p) => /^\d{4}-\d{2}$/.test(p) ? `${p.slice(0, 4)}年${Number(p.slice(5))}月` : p,
    final: "已定稿",
  },
  en: {
    title: "Sales system adoption assessment",
    rank: "Rank", value: "Value", points: "Points", tier: (a, b, p) => b > 999 ? `rank ${a}+ · ${p} pts` : `ranks ${a}–${b} · ${p} pts`,
    outOfScope: "not ranked",
    updatedAt: "Updated", asOf: "Data as of",
    reconnecting: "Connection lost, reconnecting…",
    stale: "Data may be stale: event time stuck at",
    waiting: "Waiting for data…",
    deal: "Big deal",
    mobileQuotes: "mobile quotes", users: "users", yuan: "yuan", quotes: "quotes",
    month: (p) => p,
    final: "final",
  },
};
const T = LABELS[LANG];
/** Each board's title in the page's language, from the server's catalog (catalog.js). */
const BOARD_TITLES = Object.fromEntries(CATALOG.boards.map((b) => [b.key, b[LANG]]));

const NUMBER = new Intl.NumberFormat(LANG === "zh" ? "zh-CN" : "en-US", { maximumFractionDigits: 2 });
const INTEGER = new Intl.NumberFormat(LANG === "zh" ? "zh-CN" : "en-US", { maximumFractionDigits: 0 });

/** A number for people: "—" for null (a ratio without users). */
function fmt(value, digits) {
  if (value === null || value === undefined) return "—";
  if (digits === 0) return INTEGER.format(value);
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
