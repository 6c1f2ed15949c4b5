// The manager view: every branch's month-to-date indicators, points, rank and pace; drill-down to each
// person; who can no longer reach the login-day threshold; CSV export of what is on screen.
"use strict";

// Every indicator as [key, Chinese, English], and which are shares, from the server's catalog (catalog.js).
const INDICATORS = CATALOG.indicators.map((i) => [i.key, i.zh, i.en]);
const RATES = new Set(CATALOG.indicators.filter((i) => i.is_rate).map((i) => i.key));
const M = {
  zh: {
    title: "营销管理系统运营管理考评 · 月中进度", period: "考评期间", export: "导出 CSV", branches: "各单位指标与得分",
    rank: "名次", branch: "单位", users: "用户数", total: "总分", pace: "进度", projected: "预计月末人均报价",
    active: "活跃（已达/可达/无法达到）", assessment: "考评至今", quarter: (q) => q.replace("-Q", "年第") + "季度",
    status: { on_track: "正常", behind: "落后", at_risk: "有风险" },
    people: (b) => `${b} · 人员明细`, cannot: (n) => `已无法达到${n}天登录的用户`, must: "剩余每天都必须登录的用户",
    person: "人员", quotes: "报价", mobileQuotes: "移动端报价", proposals: "投保", dealPremium: "成交保费",
    mobilePayment: "移动支付", loginDays: "登录天数", loginStatus: "登录情况", tasks: "执行任务", rankBranch: "支公司内名次", rankCity: "全市名次",
    login: { reached: "已达标", can_reach: "可达标", must_login_every_day: "须每天登录", cannot_reach: "无法达标" },
    asOf: "数据截至", none: "无",
  },
  en: {
    title: "Sales system assessment · mid-month progress", period: "Period", export: "Export CSV", branches: "Branches",
    rank: "Rank", branch: "Branch", users: "Users", total: "Total", pace: "Pace", projected: "Projected quotes / user",
    active: "Active (reached / can / cannot)", assessment: "Assessment to date", quarter: (q) => q,
    status: { on_track: "on track", behind: "behind", at_risk: "at risk" },
    people: (b) => `${b} · people`, cannot: (n) => `Can no longer reach ${n} login days`, must: "Must log in every remaining day",
    person: "Person", quotes: "Quotes", mobileQuotes: "Mobile quotes", proposals: "Proposals", dealPremium: "Deal premium",
    mobilePayment: "Mobile payment", loginDays: "Login days", loginStatus: "Login status", tasks: "Tasks executed", rankBranch: "Rank in branch", rankCity: "Rank in city",
    login: { reached: "reached", can_reach: "can reach", must_login_every_day: "must log in daily", cannot_reach: "cannot reach" },
    asOf: "Data as of", none: "none",
  },
}[LANG];
let loginThreshold = 20;

let card = null;
let selected = null;
const $ = (id) => document.getElementById(id);

function cell(tr, text, small, tag = "td") {
  const td = document.createElement(tag);
  td.textContent = text;
  if (small !== undefined && small !== "") {
    const s = document.createElement("small");
    s.textContent = small;
    td.append(s);
  }
  tr.append(td);
  return td;
}

function indicatorText(key, value) {
  if (value === null || value === undefined) return "—";
  return RATES.has(key) ? `${fmt(value * 100)}%` : fmt(value);
}

function renderBranches() {
  const table = $("branches");
  table.textContent = "";
  const monthly = card.branches.some((b) => b.pace);
  const head = table.createTHead().insertRow();
  for (const h of [M.rank, M.branch, M.users, M.total]) cell(head, h, undefined, "th");
  for (const [, zh, en] of INDICATORS) cell(head, LANG === "zh" ? zh : en, undefined, "th");
  if (monthly) for (const h of [M.pace, M.projected, M.active]) cell(head, h, undefined, "th");
  const body = table.createTBody();
  for (const b of card.branches) {
    const tr = body.insertRow();
    tr.dataset.branch = b.branch_id;
    if (b.branch_id === selected) tr.className = "selected";
    cell(tr, b.rank ?? "—");
    cell(tr, b.branch_name);
    cell(tr, fmt(b.users, 0));
    cell(tr, fmt(b.total));
    for (const [key] of INDICATORS) cell(tr, indicatorText(key, b.indicators[key]), fmt(b.points[key]));
    if (monthly) {
      const td = cell(tr, "");
      if (b.pace) {
        const span = document.createElement("span");
        span.className = `status ${b.pace.status}`;
        span.textContent = M.status[b.pace.status];
        td.append(span);
      }
      cell(tr, b.pace ? fmt(b.pace.projected.quotes_per_user) : "—");
      const a = b.pace && b.pace.active_users;
      cell(tr, a ? `${a.reached} / ${a.can_reach} / ${a.cannot_reach}` : "—");
    }
    tr.onclick = () => { selected = b.branch_id; renderBranches(); renderPeople(); };
  }
}

function renderPeople() {
  const branch = card.branches.find((b) => b.branch_id === selected);
  $("drill").hidden = !branch;
  if (!branch) return;
  $("drill-title").textContent = M.people(branch.branch_name);
  const people = (card.users || []).filter((u) => u.branch_id === selected && u.registered);
  const list = (id, status) => {
    const ul = $(id);
    ul.textContent = "";
    const who = people.filter((u) => u.pace && u.pace.login_status === status);
    for (const u of who) {
      const li = document.createElement("li");
      li.textContent = `${u.display_name || u.user_id} (${u.login_days})`;
      ul.append(li);
    }
    if (!who.length) { const li = document.createElement("li"); li.textContent = M.none; ul.append(li); }
  };
  list("cannot", "cannot_reach");
  list("must", "must_login_every_day");
  const table = $("people");
  table.textContent = "";
  const head = table.createTHead().insertRow();
  for (const h of [M.person, "ID", M.quotes, M.mobileQuotes, M.proposals, M.dealPremium, M.mobilePayment, M.loginDays, M.loginStatus, M.tasks, M.rankBranch, M.rankCity]) cell(head, h, undefined, "th");
  const body = table.createTBody();
  for (const u of people) {
    const tr = body.insertRow();
    tr.dataset.user = u.user_id;
    cell(tr, u.display_name || u.user_id);
    cell(tr, u.user_id);
    cell(tr, fmt(u.quotes, 0));
    cell(tr, fmt(u.mobile_quotes, 0));
    cell(tr, fmt(u.proposals, 0));
    cell(tr, fmt(u.deal_premium, 0));
    cell(tr, fmt(u.mobile_payment, 0));
    cell(tr, fmt(u.login_days, 0));
    cell(tr, u.pace ? M.login[u.pace.login_status] : "—");
    cell(tr, fmt(u.tasks_executed, 0));
    cell(tr, u.mobile_quotes_rank.branch ?? "—");
    cell(tr, u.mobile_quotes_rank.city ?? "—");
  }
}

/** The visible tables as CSV (UTF-8 with a byte-order mark, so spreadsheets read the Chinese). */
function exportCsv() {
  const quote = (s) => /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  const lines = [];
  const tables = [["branches", $("branches-title").textContent]];
  if (!$("drill").hidden) tables.push(["people", $("drill-title").textContent]);
  for (const [id, title] of tables) {
    lines.push(quote(`${title} (${card.period})`));
    for (const tr of $(id).querySelectorAll("tr")) {
      lines.push([...tr.cells].map((c) => {
        const small = c.querySelector("small");
        const main = small ? c.firstChild.textContent : c.textContent;
        return small ? `${quote(main)},${quote(small.textContent)}` : quote(main);
      }).join(","));
    }
    lines.push("");
  }
  const blob = new Blob(["\ufeff" + lines.join("\r\n")], { type: "text/csv;charset=utf-8" });
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = `leaderboard-${card.period}.csv`;
  a.click();
  URL.revokeObjectURL(a.href);
}

async function load() {
  try {
    card = await getJson("/api/v1/scorecard", { period: $("period").value, users: "true" });
    $("error").hidden = true;
    $("as-of").textContent = `${M.asOf} ${eventTime(card.as_of)}`;
    renderBranches();
    renderPeople();
    document.body.dataset.loaded = card.period;
  } catch (e) {
    $("error").hidden = false;
    $("error").textContent = e.message;
  }
}

async function start() {
  document.documentElement.lang = LANG === "zh" ? "zh-CN" : "en";
  $("title").textContent = M.title;
  $("period-label").textContent = M.period;
  $("export").textContent = M.export;
  $("branches-title").textContent = M.branches;
    $("must-title").textContent = M.must;
  $("export").onclick = exportCsv;
  try {
    const periods = await getJson("/api/v1/periods");
    loginThreshold = periods.active_login_days;
    $("cannot-title").textContent = M.cannot(loginThreshold);
    const select = $("period");
    const add = (value, label) => { const o = document.createElement("option"); o.value = value; o.textContent = label; select.append(o); };
    for (const m of [...periods.months].reverse()) add(m, LABELS[LANG].month(m));
    for (const q of [...periods.quarters].reverse()) add(q, M.quarter(q));
    add("assessment", M.assessment);
    select.value = PARAMS.get("period") || periods.current;
    select.onchange = () => { selected = null; load(); };
  } catch (e) {
    $("error").hidden = false;
    $("error").textContent = e.message;
    setTimeout(start, 5000);
    return;
  }
  selected = PARAMS.get("branch");
  await load();
  setInterval(load, 30000);
}

start();
