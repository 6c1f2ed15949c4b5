// The selected unit's people: the three lists of who to chase, and the sortable table of everyone.
"use strict";

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
