// The selected unit's points at stake: one sentence per kind of stake, a bar per indicator, most to gain first.
"use strict";

/* ------------------------------------------------------------------------------------------------
 * Points at stake of the selected unit.
 * ---------------------------------------------------------------------------------------------- */

/** What it takes on a volume indicator: the total still needed, per user and per day left. */
function volumeText(key, s) {
  const needed = AMOUNTS.has(key) ? yuanUp(s.needed) : fmt(s.needed, 0);
  const perDay = s.per_day === null || s.per_day === undefined ? null : perUserText(key, s.per_day);
  return M.volume(needed, volumeUnit(key), perUserText(key, s.per_user), perDay, upToOne(s.gainable));
}

/** What it takes on a ranked indicator: each better tier, then the margin over the unit just below. */
function rankedText(key, s) {
  const [unit, unitShort] = rankedUnit(key);
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
