//! Renders a scorecard as an aligned table for people (`--format table`).

use analytics::{Indicator, Scorecard};
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
