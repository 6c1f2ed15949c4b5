//! The live indicator tables of SQL: `branch_monthly`, `user_monthly`, `branch_daily`, `user_daily`,
//! `branch_at_stake`, `scorecard` and `rewards`, built
//! from the engine's state when the query runs, one period at a time, with the same code as the scorecard
//! JSON, so SQL and REST can never disagree.

use crate::engine::Figures;
use crate::error::EngineError;
use crate::indicators::Indicator;
use crate::period::PeriodSpec;
use crate::scorecard::Scorecard;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// A live table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveTable {
    /// Per month and branch: every indicator with its numerator and denominator.
    BranchMonthly,
    /// Per month and user: the person's counts and ranks.
    UserMonthly,
    /// Per day and branch: the month to date at the day's end, every indicator with its points.
    BranchDaily,
    /// Per day and user: the person's month to date at the day's end.
    UserDaily,
    /// Per month, branch and indicator: the points at stake and the month-end projection.
    BranchAtStake,
    /// Per period (each month, quarter and the assessment to date) and branch: indicators, points, rank.
    Scorecard,
    /// Branch awards, specialist bonuses and salesperson payouts of the assessment to date.
    Rewards,
}

impl LiveTable {
    /// All live tables.
    pub const ALL: [LiveTable; 7] = [
        LiveTable::BranchMonthly,
        LiveTable::UserMonthly,
        LiveTable::BranchDaily,
        LiveTable::UserDaily,
        LiveTable::BranchAtStake,
        LiveTable::Scorecard,
        LiveTable::Rewards,
    ];

    /// The SQL name.
    pub fn name(self) -> &'static str {
        match self {
            LiveTable::BranchMonthly => "branch_monthly",
            LiveTable::UserMonthly => "user_monthly",
            LiveTable::BranchDaily => "branch_daily",
            LiveTable::UserDaily => "user_daily",
            LiveTable::BranchAtStake => "branch_at_stake",
            LiveTable::Scorecard => "scorecard",
            LiveTable::Rewards => "rewards",
        }
    }

    /// The Arrow schema.
    pub fn schema(self) -> SchemaRef {
        let text = |name: &str| Field::new(name, DataType::Utf8, true);
        let float = |name: &str| Field::new(name, DataType::Float64, true);
        let int = |name: &str| Field::new(name, DataType::Int64, true);
        let boolean = |name: &str| Field::new(name, DataType::Boolean, true);
        let date = |name: &str| Field::new(name, DataType::Date32, true);
        let branch = [text("branch_id"), text("branch_name"), boolean("in_scope")];
        // A month's branch: the columns `branch_monthly` and `branch_at_stake` start with.
        let month_branch = [text("month"), boolean("is_final")]
            .into_iter()
            .chain(branch.clone())
            .chain([int("users")]);
        let day = [
            text("month"),
            date("date"),
            boolean("is_final"),
            boolean("complete"),
        ];
        let fields: Vec<Field> = match self {
            LiveTable::BranchMonthly => month_branch
                .chain(Indicator::ALL.iter().flat_map(|i| {
                    [
                        float(i.key()),
                        float(&format!("{}_numerator", i.key())),
                        float(&format!("{}_denominator", i.key())),
                    ]
                }))
                .collect(),
            LiveTable::UserMonthly => [
                text("month"),
                text("user_id"),
                text("display_name"),
                text("branch_id"),
                boolean("registered"),
                boolean("current"),
                boolean("wechat_bound"),
            ]
            .into_iter()
            .chain(USER_COUNTS.iter().map(|(name, _)| int(name)))
            .chain(USER_AMOUNTS.iter().map(|name| float(name)))
            .chain(USER_RANKS.iter().map(|name| int(name)))
            .collect(),
            LiveTable::BranchDaily => day
                .into_iter()
                .chain(branch)
                .chain([int("users"), int("rank"), float("total")])
                .chain(Indicator::ALL.iter().flat_map(|i| {
                    [
                        float(i.key()),
                        float(&format!("{}_numerator", i.key())),
                        float(&format!("{}_denominator", i.key())),
                        float(&format!("{}_points", i.key())),
                    ]
                }))
                .collect(),
            LiveTable::UserDaily => day
                .into_iter()
                .chain([
                    text("user_id"),
                    text("display_name"),
                    text("branch_id"),
                    boolean("registered"),
                ])
                .chain(DAY_COUNTS.iter().map(|(name, _)| int(name)))
                .chain(DAY_AMOUNTS.iter().map(|name| float(name)))
                .chain(USER_RANKS.iter().map(|name| int(name)))
                .collect(),
            LiveTable::BranchAtStake => month_branch
                .chain([
                    text("indicator"),
                    text("indicator_name"),
                    float("points"),
                    float("max_points"),
                    float("gainable"),
                    float("projected_points"),
                    text("status"),
                    text("kind"),
                    float("needed"),
                    float("per_user"),
                    float("per_day"),
                    int("rank"),
                    int("next_rank"),
                    float("next_points"),
                    text("below_branch_id"),
                    float("below_per_user"),
                    float("below_to_pass"),
                    float("points_if_passed"),
                ])
                .collect(),
            LiveTable::Scorecard => [
                text("period"),
                text("period_kind"),
                boolean("is_final"),
                Field::new(
                    "as_of",
                    DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
                    true,
                ),
            ]
            .into_iter()
            .chain(branch)
            .chain([int("users"), int("rank"), float("total")])
            .chain(Indicator::ALL.iter().map(|i| float(i.key())))
            .chain(
                Indicator::ALL
                    .iter()
                    .map(|i| float(&format!("{}_points", i.key()))),
            )
            .collect(),
            LiveTable::Rewards => vec![
                text("kind"),
                text("month"),
                text("payable_month"),
                text("branch_id"),
                text("branch_name"),
                text("user_id"),
                int("rank"),
                int("policies"),
                float("total"),
                float("yuan"),
            ],
        };
        Arc::new(Schema::new(fields))
    }

    /// The table's rows in `engine`'s state now (no rows before the first event).
    pub fn rows(self, engine: &Figures) -> Result<RecordBatch, TableError> {
        let mut rows = Vec::new();
        for part in self.parts(engine)? {
            part.add_rows(engine, &mut rows)?;
        }
        Ok(to_batch(self.schema(), &rows)?)
    }

    /// The pieces the table is built from: one per period (the rewards in one piece), each added to the
    /// rows by [`TablePart::add_rows`] from the same figures.
    fn parts(self, engine: &Figures) -> Result<Vec<TablePart>, TableError> {
        Ok(match self {
            LiveTable::BranchMonthly => month_specs(engine)?
                .into_iter()
                .map(TablePart::BranchMonth)
                .collect(),
            LiveTable::UserMonthly => month_specs(engine)?
                .into_iter()
                .map(TablePart::UserMonth)
                .collect(),
            LiveTable::BranchDaily => month_specs(engine)?
                .into_iter()
                .map(TablePart::BranchDays)
                .collect(),
            LiveTable::UserDaily => month_specs(engine)?
                .into_iter()
                .map(TablePart::UserDays)
                .collect(),
            LiveTable::BranchAtStake => month_specs(engine)?
                .into_iter()
                .map(TablePart::BranchStakes)
                .collect(),
            LiveTable::Scorecard => all_specs(engine)?
                .into_iter()
                .map(|(spec, kind)| TablePart::Scorecard(spec, kind))
                .collect(),
            LiveTable::Rewards => vec![TablePart::Rewards],
        })
    }
}

/// A piece of a live table: see [`LiveTable::parts`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TablePart {
    /// One month of `branch_monthly`.
    BranchMonth(PeriodSpec),
    /// One month of `user_monthly`.
    UserMonth(PeriodSpec),
    /// One month's days of `branch_daily`.
    BranchDays(PeriodSpec),
    /// One month's days of `user_daily`.
    UserDays(PeriodSpec),
    /// One month of `branch_at_stake`.
    BranchStakes(PeriodSpec),
    /// One period of `scorecard`, with its kind (`month`, `quarter`, `assessment`).
    Scorecard(PeriodSpec, &'static str),
    /// The `rewards` of the assessment to date.
    Rewards,
}

impl TablePart {
    /// Adds this piece's rows in `engine`'s state now to `rows`.
    fn add_rows(self, engine: &Figures, rows: &mut Vec<Value>) -> Result<(), TableError> {
        match self {
            TablePart::BranchMonth(spec) => {
                let card = engine.standings(spec, false)?;
                rows.extend(card.branches.iter().map(|b| branch_monthly(&card, b)));
            }
            TablePart::UserMonth(spec) => {
                let card = engine.standings(spec, true)?;
                let users = card.users.iter().flatten();
                rows.extend(users.map(|user| user_monthly(&card.period, user)));
            }
            TablePart::BranchDays(PeriodSpec::Month(month))
            | TablePart::UserDays(PeriodSpec::Month(month)) => {
                let history = engine.history(month, None)?;
                for day in &history.days {
                    let columns = day_columns(&history, day);
                    if matches!(self, TablePart::BranchDays(_)) {
                        rows.extend(day.branches.iter().map(|b| branch_daily(&columns, b)));
                    } else {
                        rows.extend(day.users.iter().map(|u| user_daily(&columns, u)));
                    }
                }
            }
            TablePart::BranchDays(_) | TablePart::UserDays(_) => {}
            TablePart::BranchStakes(spec) => {
                let card = engine.scorecard(spec, false)?;
                for b in &card.branches {
                    rows.extend(branch_at_stake(&card, b));
                }
            }
            TablePart::Scorecard(spec, kind) => {
                let card = engine.standings(spec, false)?;
                rows.extend(card.branches.iter().map(|b| scorecard_row(&card, kind, b)));
            }
            TablePart::Rewards => rows.extend(rewards(engine)?),
        }
        Ok(())
    }
}

/// A problem building a live table.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    /// The engine refused a period.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The rows did not fit the schema.
    #[error("building a live table: {0}")]
    Arrow(#[from] ArrowError),
}

/// A count column of `user_monthly`: its name and how to read it from a user's row.
type UserCount = (&'static str, fn(&crate::UserRow) -> i64);

const USER_COUNTS: [UserCount; 7] = [
    ("quotes", |u| u.quotes),
    ("mobile_quotes", |u| u.mobile_quotes),
    ("proposals", |u| u.proposals),
    ("deals", |u| u.deals),
    ("login_days", |u| i64::from(u.login_days)),
    ("tasks_executed", |u| u.tasks_executed),
    ("reward_policies", |u| u.reward_policies),
];
const USER_AMOUNTS: [&str; 3] = ["deal_premium", "payment", "mobile_payment"];
const USER_RANKS: [&str; 4] = [
    "mobile_quotes_rank_branch",
    "mobile_quotes_rank_city",
    "mobile_payment_rank_branch",
    "mobile_payment_rank_city",
];

/// A count column of `user_daily`: its name and how to read it from a person's day.
type DayCount = (&'static str, fn(&crate::PersonToDate) -> i64);

const DAY_COUNTS: [DayCount; 5] = [
    ("quotes", |u| u.quotes),
    ("mobile_quotes", |u| u.mobile_quotes),
    ("proposals", |u| u.proposals),
    ("login_days", |u| i64::from(u.login_days)),
    ("tasks_executed", |u| u.tasks_executed),
];
const DAY_AMOUNTS: [&str; 2] = ["deal_premium", "mobile_payment"];

/// The months of the assessment so far, oldest first (none before the first event).
fn month_specs(engine: &Figures) -> Result<Vec<PeriodSpec>, EngineError> {
    match engine.resolve_period(PeriodSpec::Assessment) {
        Ok(period) => Ok(period.range.months().map(PeriodSpec::Month).collect()),
        Err(EngineError::NoData) => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// Every month, every quarter and the assessment, with the period kind.
fn all_specs(engine: &Figures) -> Result<Vec<(PeriodSpec, &'static str)>, EngineError> {
    let months = month_specs(engine)?;
    if months.is_empty() {
        return Ok(Vec::new());
    }
    let mut specs: Vec<(PeriodSpec, &str)> = months.iter().map(|m| (*m, "month")).collect();
    let mut quarters: Vec<PeriodSpec> = months
        .iter()
        .filter_map(|m| match m {
            PeriodSpec::Month(m) => Some(PeriodSpec::Quarter(m.year(), m.quarter())),
            _ => None,
        })
        .collect();
    quarters.dedup();
    specs.extend(quarters.into_iter().map(|q| (q, "quarter")));
    specs.push((PeriodSpec::Assessment, "assessment"));
    Ok(specs)
}

fn branch_columns(row: &mut Map<String, Value>, b: &crate::BranchRow) {
    row.insert("branch_id".into(), json!(b.branch_id));
    row.insert("branch_name".into(), json!(b.branch_name));
    row.insert("in_scope".into(), json!(b.in_scope));
    row.insert("users".into(), json!(b.users));
}

/// The columns a month's branch row starts with: month, is_final and the branch's.
fn month_branch_columns(card: &Scorecard, b: &crate::BranchRow) -> Map<String, Value> {
    let mut row = Map::new();
    row.insert("month".into(), json!(card.period));
    row.insert("is_final".into(), json!(card.is_final));
    branch_columns(&mut row, b);
    row
}

fn branch_monthly(card: &Scorecard, b: &crate::BranchRow) -> Value {
    let mut row = month_branch_columns(card, b);
    indicator_columns(&mut row, b);
    Value::Object(row)
}

/// Each indicator's `<key>`, `<key>_numerator` and `<key>_denominator`.
fn indicator_columns(row: &mut Map<String, Value>, b: &crate::BranchRow) {
    for i in Indicator::ALL {
        row.insert(i.key().into(), json!(b.indicators.get(i).flatten()));
        if let Some(f) = b.fractions.get(i) {
            row.insert(format!("{}_numerator", i.key()), json!(f.numerator));
            row.insert(format!("{}_denominator", i.key()), json!(f.denominator));
        }
    }
}

/// The four rank columns of a person ([`USER_RANKS`]).
fn rank_columns(row: &mut Map<String, Value>, quotes: crate::UserRank, payment: crate::UserRank) {
    let ranks = [quotes.branch, quotes.city, payment.branch, payment.city];
    for (name, rank) in USER_RANKS.iter().zip(ranks) {
        row.insert((*name).into(), json!(rank));
    }
}

fn user_monthly(month: &str, u: &crate::UserRow) -> Value {
    let mut row = Map::new();
    row.insert("month".into(), json!(month));
    row.insert("user_id".into(), json!(u.user_id));
    row.insert("display_name".into(), json!(u.display_name));
    row.insert("branch_id".into(), json!(u.branch_id));
    row.insert("registered".into(), json!(u.registered));
    row.insert("current".into(), json!(u.current));
    row.insert("wechat_bound".into(), json!(u.wechat_bound));
    for (name, count) in USER_COUNTS {
        row.insert(name.into(), json!(count(u)));
    }
    for (name, amount) in USER_AMOUNTS
        .iter()
        .zip([u.deal_premium, u.payment, u.mobile_payment])
    {
        row.insert((*name).into(), json!(amount));
    }
    rank_columns(&mut row, u.mobile_quotes_rank, u.mobile_payment_rank);
    Value::Object(row)
}

/// The columns every row of a day shares: month, date, is_final, complete.
fn day_columns(history: &crate::History, day: &crate::HistoryDay) -> Map<String, Value> {
    let mut row = Map::new();
    row.insert("month".into(), json!(history.month));
    row.insert("date".into(), json!(day.date));
    row.insert("is_final".into(), json!(history.is_final));
    row.insert("complete".into(), json!(day.complete));
    row
}

fn branch_daily(day: &Map<String, Value>, b: &crate::BranchRow) -> Value {
    let mut row = day.clone();
    branch_columns(&mut row, b);
    row.insert("rank".into(), json!(b.rank));
    row.insert("total".into(), json!(b.total));
    indicator_columns(&mut row, b);
    for i in Indicator::ALL {
        row.insert(format!("{}_points", i.key()), json!(b.points.get(i)));
    }
    Value::Object(row)
}

fn user_daily(day: &Map<String, Value>, u: &crate::PersonToDate) -> Value {
    let mut row = day.clone();
    row.insert("user_id".into(), json!(u.user_id));
    row.insert("display_name".into(), json!(u.display_name));
    row.insert("branch_id".into(), json!(u.branch_id));
    row.insert("registered".into(), json!(u.registered));
    for (name, count) in DAY_COUNTS {
        row.insert(name.into(), json!(count(u)));
    }
    for (name, amount) in DAY_AMOUNTS.iter().zip([u.deal_premium, u.mobile_payment]) {
        row.insert((*name).into(), json!(amount));
    }
    rank_columns(&mut row, u.mobile_quotes_rank, u.mobile_payment_rank);
    Value::Object(row)
}

/// A month's branch row as one row per indicator of `branch_at_stake`: the nearest step of a gap in
/// `needed` (and `next_rank`, `next_points`), the branch just below a ranked one in `below_*`.
fn branch_at_stake(card: &Scorecard, b: &crate::BranchRow) -> Vec<Value> {
    use crate::at_stake::Gap;
    let (Some(stakes), Some(pace)) = (&b.at_stake, &b.pace) else {
        return Vec::new();
    };
    stakes
        .indicators
        .0
        .iter()
        .map(|(i, stake)| {
            let mut row = month_branch_columns(card, b);
            row.insert("indicator".into(), json!(i.key()));
            row.insert("indicator_name".into(), json!(i.label_zh()));
            row.insert("points".into(), json!(stake.points));
            row.insert("max_points".into(), json!(stake.max_points));
            row.insert("gainable".into(), json!(stake.gainable));
            row.insert(
                "projected_points".into(),
                json!(pace.projected_points.get(*i)),
            );
            row.insert("status".into(), json!(pace.statuses.get(*i)));
            let gap = serde_json::to_value(&stake.gap).unwrap_or_default();
            row.insert("kind".into(), gap["kind"].clone());
            let mut put = |name: &str, value: Value| {
                row.insert(name.into(), value);
            };
            match &stake.gap {
                Gap::Volume {
                    needed,
                    per_user,
                    per_day,
                } => {
                    put("needed", json!(needed));
                    put("per_user", json!(per_user));
                    put("per_day", json!(per_day));
                }
                Gap::Ranked {
                    rank,
                    better,
                    below,
                } => {
                    put("rank", json!(rank));
                    if let Some(step) = better.first() {
                        put("needed", json!(step.needed));
                        put("per_user", json!(step.per_user));
                        put("next_rank", json!(step.rank));
                        put("next_points", json!(step.points));
                    }
                    if let Some(below) = below {
                        put("below_branch_id", json!(below.branch_id));
                        put("below_per_user", json!(below.per_user));
                        put("below_to_pass", json!(below.to_pass));
                        put("points_if_passed", json!(below.points_if_passed));
                    }
                }
                Gap::Logins {
                    must_login_every_day,
                    ..
                } => put("needed", json!(must_login_every_day.len())),
                Gap::Binding { better, .. } => {
                    if let Some(step) = better.first() {
                        put("needed", json!(step.more));
                        put("next_points", json!(step.points));
                    }
                }
                Gap::Tasks { not_acted } => put("needed", json!(not_acted)),
                Gap::Renewals { not_assigned } => put("needed", json!(not_assigned)),
                Gap::Reports { more } => put("needed", json!(more)),
                Gap::Full | Gap::Settled | Gap::Pending | Gap::NotRanked | Gap::NoUsers => {}
            }
            Value::Object(row)
        })
        .collect()
}

fn scorecard_row(card: &Scorecard, kind: &str, b: &crate::BranchRow) -> Value {
    let mut row = Map::new();
    row.insert("period".into(), json!(card.period));
    row.insert("period_kind".into(), json!(kind));
    row.insert("is_final".into(), json!(card.is_final));
    let as_of = chrono::DateTime::parse_from_rfc3339(&card.as_of)
        .ok()
        .map(|t| t.timestamp_millis());
    row.insert("as_of".into(), json!(as_of));
    branch_columns(&mut row, b);
    row.insert("rank".into(), json!(b.rank));
    row.insert("total".into(), json!(b.total));
    for i in Indicator::ALL {
        row.insert(i.key().into(), json!(b.indicators.get(i).flatten()));
        row.insert(format!("{}_points", i.key()), json!(b.points.get(i)));
    }
    Value::Object(row)
}

fn rewards(engine: &Figures) -> Result<Vec<Value>, EngineError> {
    let report = match engine.rewards(PeriodSpec::Assessment) {
        Ok(report) => report,
        Err(EngineError::NoData) => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut rows = Vec::new();
    for a in &report.branch_awards.awards {
        rows.push(
            json!({"kind": "branch_award", "branch_id": a.branch_id, "branch_name": a.branch_name,
            "rank": a.rank, "total": a.total, "yuan": a.yuan}),
        );
    }
    for s in &report.specialist_bonuses {
        rows.push(
            json!({"kind": "specialist_bonus", "month": s.month, "branch_id": s.branch_id,
            "branch_name": s.branch_name, "total": s.total, "yuan": s.yuan}),
        );
    }
    for p in &report.salesperson_payouts {
        rows.push(json!({"kind": "salesperson_payout", "month": p.month, "payable_month": p.payable_month,
            "branch_id": p.branch_id, "user_id": p.user_id, "policies": p.policies, "yuan": p.yuan}));
    }
    Ok(rows)
}

fn to_batch(schema: SchemaRef, rows: &[Value]) -> Result<RecordBatch, ArrowError> {
    let mut decoder = arrow::json::ReaderBuilder::new(schema.clone())
        .with_batch_size(rows.len().max(1))
        .build_decoder()?;
    decoder.serialize(rows)?;
    Ok(decoder
        .flush()?
        .unwrap_or_else(|| RecordBatch::new_empty(schema)))
}
