// The units table of the manager view: headers, cells, the key columns pinned on the left, the selected
// row's mark and the legend under the table.
"use strict";

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
      losing.map((l) => h("span", {}, `${shortName(l.indicator)} −${one(l.points)}`))) : null);
}

function stakeCell(b) {
  const g = b.at_stake ? b.at_stake.gainable : null;
  return h("td", { className: `key k-stake${g ? "" : " zero"}` }, g === null ? "—" : one(g));
}

/** An indicator's cell: the value, then the points (ranked: provisional, with the rank and any tie). */
function indicatorCell(key, b) {
  if (isPending(b, key)) {
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
    card.branches.some(hasPending) ? M.notes.pending : null,
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
