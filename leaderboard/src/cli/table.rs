//! Renders a scorecard and the rewards as aligned tables for people (`--format table`).

use analytics::{Indicator, RewardReport, Scorecard};
use comfy_table::{CellAlignment, ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};

/// Formats a value for a cell: "—" for null, two decimals otherwise.
fn value_cell(value: Option<f64>) -> String {
    value.map_or_else(|| "—".to_string(), |v| format!("{v:.2}"))
}

/// The scorecard (and per-user rows, if present) as text tables.
pub fn render(card: &Scorecard) -> String {
    let mut out = format!(
        "期间 period {} ({}..{})  截至 as of {}  {}\n",
        card.period,
        card.months[0],
        card.months[1],
        card.as_of,
        if card.is_final {
            "final"
        } else {
            "provisional"
        }
    );
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled);
    let mut header = vec![
        "排名 rank".to_string(),
        "单位 branch".into(),
        "用户 users".into(),
        "总分 total".into(),
    ];
    header.extend(
        Indicator::ALL
            .iter()
            .map(|i| format!("{}\nvalue / pts", i.label_zh())),
    );
    table.set_header(header);
    for row in &card.branches {
        let mut cells = vec![
            row.rank.map_or_else(|| "—".into(), |r| r.to_string()),
            format!(
                "{}{}",
                row.branch_name,
                if row.in_scope { "" } else { " (不参评)" }
            ),
            row.users.to_string(),
            format!("{:.2}", row.total),
        ];
        cells.extend(Indicator::ALL.iter().map(|i| {
            let value = row.indicators.get(*i).flatten();
            format!(
                "{} / {:.2}",
                value_cell(value),
                row.points.get(*i).unwrap_or(0.0)
            )
        }));
        table.add_row(cells);
    }
    for column in table.column_iter_mut().skip(2) {
        column.set_cell_alignment(CellAlignment::Right);
    }
    out.push_str(&table.to_string());
    out.push('\n');
    if let Some(users) = &card.users {
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED);
        t.set_header(vec![
            "单位 branch",
            "用户 user",
            "姓名 name",
            "报价 quotes",
            "移动报价 mobile",
            "投保 proposals",
            "成交保费 premium",
            "移动支付 mobile pay",
            "登录天数 login days",
            "任务 tasks",
            "城市排名 city rank",
        ]);
        for u in users {
            t.add_row(vec![
                u.branch_id.clone(),
                u.user_id.clone(),
                u.display_name.clone().unwrap_or_default(),
                u.quotes.to_string(),
                u.mobile_quotes.to_string(),
                u.proposals.to_string(),
                format!("{:.2}", u.deal_premium),
                format!("{:.2}", u.mobile_payment),
                u.login_days.to_string(),
                u.tasks_executed.to_string(),
                u.mobile_quotes_rank
                    .city
                    .map_or_else(|| "—".into(), |r| r.to_string()),
            ]);
        }
        out.push_str(&t.to_string());
        out.push('\n');
    }
    out
}

/// The rewards as text tables: the assessment's branch awards (推广先进单位), the specialist bonuses
/// (推广先进专员) and the salesperson payouts (出单奖励), with names.
pub fn render_rewards(report: &RewardReport) -> String {
    let status = |is_final: bool| if is_final { "final" } else { "provisional" };
    let mut out = format!(
        "期间 period {}  截至 as of {}  {}\n\n推广先进单位 branch awards (assessment to date, {})\n",
        report.period,
        report.as_of,
        status(report.is_final),
        status(report.branch_awards.is_final)
    );
    let mut awards = new_table([
        "排名 rank",
        "单位 branch",
        "总分 total",
        "奖项 prize",
        "奖金 yuan",
    ]);
    for award in &report.branch_awards.awards {
        awards.add_row(vec![
            award.rank.to_string(),
            award.branch_name.clone(),
            format!("{:.2}", award.total),
            prize_name(award.prize),
            format!("{:.0}", award.yuan),
        ]);
    }
    out.push_str(&format!(
        "{}\n\n推广先进专员 specialist bonuses\n",
        with_rows(awards)
    ));
    let mut bonuses = new_table([
        "月份 month",
        "单位 branch",
        "总分 total",
        "专员 specialists",
        "奖金 yuan",
    ]);
    for bonus in &report.specialist_bonuses {
        bonuses.add_row(vec![
            bonus.month.clone(),
            bonus.branch_name.clone(),
            format!("{:.2}", bonus.total),
            people(&bonus.specialists, &bonus.specialist_names),
            format!("{:.0}", bonus.yuan),
        ]);
    }
    out.push_str(&format!(
        "{}\n\n出单奖励 salesperson payouts\n",
        with_rows(bonuses)
    ));
    let mut payouts = new_table([
        "月份 month",
        "兑现 paid in",
        "单位 branch",
        "销售人员 salesperson",
        "保单 policies",
        "奖金 yuan",
    ]);
    for payout in &report.salesperson_payouts {
        payouts.add_row(vec![
            payout.month.clone(),
            payout.payable_month.clone(),
            payout.branch_name.clone(),
            person(&payout.user_id, payout.display_name.as_deref()),
            payout.policies.to_string(),
            format!("{:.0}", payout.yuan),
        ]);
    }
    let total: f64 = report.salesperson_payouts.iter().map(|p| p.yuan).sum();
    out.push_str(&format!(
        "{}\n合计 total {total:.0} yuan\n",
        with_rows(payouts)
    ));
    out
}

/// A table with `header`.
fn new_table<const N: usize>(header: [&str; N]) -> Table {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).set_header(header);
    table
}

/// The table as text, with a row saying so when it has no rows.
fn with_rows(mut table: Table) -> String {
    if table.row_count() == 0 {
        table.add_row(vec!["无 none"]);
    }
    table.to_string()
}

/// 一等奖, 二等奖, … for prize 1, 2, ….
fn prize_name(prize: u32) -> String {
    const NUMERALS: [&str; 9] = ["一", "二", "三", "四", "五", "六", "七", "八", "九"];
    match (prize as usize)
        .checked_sub(1)
        .and_then(|i| NUMERALS.get(i))
    {
        Some(numeral) => format!("{numeral}等奖"),
        None => format!("prize {prize}"),
    }
}

/// "name (id)" for each person, one a line.
fn people(ids: &[String], names: &[String]) -> String {
    ids.iter()
        .zip(names)
        .map(|(id, name)| person(id, Some(name)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// "name (id)", or the id alone when the person has no name of their own.
fn person(id: &str, name: Option<&str>) -> String {
    match name {
        Some(name) if name != id => format!("{name} ({id})"),
        _ => id.to_string(),
    }
}
