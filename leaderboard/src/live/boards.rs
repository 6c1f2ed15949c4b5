//! The leaderboards of the wall screens: which boards exist and how their rows come out of a scorecard.
//!
//! The same rows serve `GET /api/v1/boards/{board}` and the websocket's snapshots and patches, so a screen
//! and the REST API can never disagree.

use analytics::{BranchRow, Indicator, Scorecard, UserRank, UserRow};
use schemas::{Config, Organisation, RankTier};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// A ranking a wall screen can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Board {
    /// Branches by mobile quotes per user (人均移动端报价量).
    BranchMobileQuotes,
    /// Branches by mobile payment per user (人均移动支付金额).
    BranchMobilePayment,
    /// Branches by total score.
    BranchTotalScore,
    /// People by mobile quotes.
    UserMobileQuotes,
    /// People by mobile payment amount.
    UserMobilePayment,
}

/// How many people a user board lists.
pub const USER_BOARD_ROWS: usize = 50;

impl Board {
    /// Every board, in the order a rotating screen shows them.
    pub const ALL: [Board; 5] = [
        Board::BranchMobileQuotes,
        Board::BranchMobilePayment,
        Board::BranchTotalScore,
        Board::UserMobileQuotes,
        Board::UserMobilePayment,
    ];

    /// The board's name in URLs and frames.
    pub fn as_str(self) -> &'static str {
        match self {
            Board::BranchMobileQuotes => "branch_mobile_quotes",
            Board::BranchMobilePayment => "branch_mobile_payment",
            Board::BranchTotalScore => "branch_total_score",
            Board::UserMobileQuotes => "user_mobile_quotes",
            Board::UserMobilePayment => "user_mobile_payment",
        }
    }

    /// The board's title on the Chinese screens (the scheme's wording).
    pub fn title_zh(self) -> &'static str {
        match self {
            Board::BranchMobileQuotes => "人均移动端报价量排名",
            Board::BranchMobilePayment => "人均移动支付金额排名",
            Board::BranchTotalScore => "考评总分排名",
            Board::UserMobileQuotes => "个人移动端报价量排名",
            Board::UserMobilePayment => "个人移动支付金额排名",
        }
    }

    /// The board's title on the English screens.
    pub fn title_en(self) -> &'static str {
        match self {
            Board::BranchMobileQuotes => "Mobile quotes per user",
            Board::BranchMobilePayment => "Mobile payment per user",
            Board::BranchTotalScore => "Total score",
            Board::UserMobileQuotes => "Mobile quotes by salesperson",
            Board::UserMobilePayment => "Mobile payment by salesperson",
        }
    }

    /// What a row's value counts, for the screens to format it: `count_per_user`, `yuan_per_user`,
    /// `points`, `count` or `yuan`.
    pub fn unit(self) -> &'static str {
        match self {
            Board::BranchMobileQuotes => "count_per_user",
            Board::BranchMobilePayment => "yuan_per_user",
            Board::BranchTotalScore => "points",
            Board::UserMobileQuotes => "count",
            Board::UserMobilePayment => "yuan",
        }
    }

    /// Returns true if and only if the board ranks people (and can be filtered by branch).
    pub fn ranks_people(self) -> bool {
        matches!(self, Board::UserMobileQuotes | Board::UserMobilePayment)
    }
}

impl fmt::Display for Board {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Board {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Board::ALL
            .into_iter()
            .find(|b| b.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Board::ALL.iter().map(|b| b.as_str()).collect();
                format!(
                    "unknown board {:?}; boards are {}",
                    schemas::excerpt(s),
                    names.join(", ")
                )
            })
    }
}

/// A board, and for the people boards optionally one branch's people only.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BoardKey {
    /// The board.
    pub board: Board,
    /// Only this branch's people (people boards only).
    pub branch: Option<String>,
}

impl BoardKey {
    /// Checks `branch` against the board and the organisation.
    pub fn new(board: Board, branch: Option<String>, org: &Organisation) -> Result<Self, String> {
        if let Some(branch) = &branch {
            if !board.ranks_people() {
                return Err(format!(
                    "board {board} ranks branches; branch= only filters the people boards"
                ));
            }
            if org.branch(branch).is_none() {
                return Err(format!("unknown branch {branch:?}"));
            }
        }
        Ok(Self { board, branch })
    }
}

/// The rank range of a points tier and its points (`1–3 → 6`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Tier {
    /// First rank of the tier.
    pub from_rank: u32,
    /// Last rank of the tier; none for the last tier (every rank from `from_rank` on).
    pub to_rank: Option<u32>,
    /// Points the tier earns.
    pub points: f64,
}

/// What a ranked branch needs to enter the nearest better points tier.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct NextTier {
    /// The tier's last rank (3: the top 3).
    pub to_rank: u32,
    /// The tier's points.
    pub points: f64,
    /// More mobile quotes, or yuan of mobile payment, with the branch's users now: enough to equal the
    /// branch now at `to_rank` (ties share the better rank).
    pub needed: f64,
}

/// One line of a board.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BoardRow {
    /// Branch id (branch boards) or user id (people boards): what patches refer to.
    pub key: String,
    /// The branch's name or the person's display name.
    pub name: String,
    /// The branch (the person's branch on people boards).
    pub branch_id: String,
    /// Its name.
    pub branch_name: String,
    /// Competition rank; none out of scope.
    pub rank: Option<u32>,
    /// The ranked value (none when the denominator is 0).
    pub value: Option<f64>,
    /// The value's numerator, for ratios.
    pub numerator: Option<f64>,
    /// The value's denominator (users), for ratios.
    pub denominator: Option<f64>,
    /// Points earned by the ranked indicator (the total on the total-score board).
    pub points: Option<f64>,
    /// The points tier the rank sits in, on boards scored by rank.
    pub tier: Option<Tier>,
    /// What it takes to enter the nearest better tier, on boards scored by rank, for an in-scope branch
    /// below the best tier.
    pub next_tier: Option<NextTier>,
    /// Whether the branch is ranked and awarded.
    pub in_scope: bool,
}

/// A board's rows for one period.
#[derive(Debug, Clone, Serialize)]
pub struct BoardView {
    /// The board.
    pub board: Board,
    /// The branch filter, if any.
    pub branch: Option<String>,
    /// The scorecard's period.
    pub period: String,
    /// The event-time watermark the figures reach.
    pub as_of: String,
    /// Whether the period is final.
    #[serde(rename = "final")]
    pub is_final: bool,
    /// The lines, best first.
    pub rows: Vec<BoardRow>,
}

impl BoardView {
    /// The view of `key` over `card` (which must hold user rows for the people boards).
    pub fn of(key: &BoardKey, card: &Scorecard, config: &Config) -> Self {
        Self {
            board: key.board,
            branch: key.branch.clone(),
            period: card.period.clone(),
            as_of: card.as_of.clone(),
            is_final: card.is_final,
            rows: rows(key, card, config),
        }
    }
}

/// The rows of `key` over `card`, best first.
pub fn rows(key: &BoardKey, card: &Scorecard, config: &Config) -> Vec<BoardRow> {
    match key.board {
        Board::BranchMobileQuotes => ranked_branch_rows(
            card,
            Indicator::MobileQuotesPerUser,
            &config.tiers.mobile_quotes_per_user,
        ),
        Board::BranchMobilePayment => ranked_branch_rows(
            card,
            Indicator::MobilePaymentPerUser,
            &config.tiers.mobile_payment_per_user,
        ),
        Board::BranchTotalScore => card
            .branches
            .iter()
            .map(|b| BoardRow {
                rank: b.rank,
                value: Some(b.total),
                numerator: None,
                denominator: None,
                points: Some(b.total),
                tier: None,
                ..branch_identity(b)
            })
            .collect(),
        Board::UserMobileQuotes => user_rows(card, key.branch.as_deref(), |u| {
            (u.mobile_quotes as f64, u.mobile_quotes_rank)
        }),
        Board::UserMobilePayment => user_rows(card, key.branch.as_deref(), |u| {
            (u.mobile_payment, u.mobile_payment_rank)
        }),
    }
}

fn branch_identity(b: &BranchRow) -> BoardRow {
    BoardRow {
        key: b.branch_id.clone(),
        name: b.branch_name.clone(),
        branch_id: b.branch_id.clone(),
        branch_name: b.branch_name.clone(),
        rank: None,
        value: None,
        numerator: None,
        denominator: None,
        points: None,
        tier: None,
        next_tier: None,
        in_scope: b.in_scope,
    }
}

fn ranked_branch_rows(card: &Scorecard, indicator: Indicator, tiers: &[RankTier]) -> Vec<BoardRow> {
    let mut rows: Vec<BoardRow> = card
        .branches
        .iter()
        .map(|b| {
            let rank = b.indicator_ranks.get(indicator).flatten();
            let fraction = b.fractions.get(indicator);
            BoardRow {
                rank,
                value: b.indicators.get(indicator).flatten(),
                numerator: fraction.map(|f| f.numerator),
                denominator: fraction.map(|f| f.denominator),
                points: b.points.get(indicator),
                tier: rank.and_then(|r| tier_of(r, tiers)),
                ..branch_identity(b)
            }
        })
        .collect();
    // Ranked first by rank, then the unranked; the scorecard's order (file order) breaks ties.
    rows.sort_by_key(|r| (r.rank.is_none(), r.rank));
    let next: Vec<Option<NextTier>> = rows
        .iter()
        .map(|row| next_tier(row, &rows, indicator, tiers))
        .collect();
    for (row, next) in rows.iter_mut().zip(next) {
        row.next_tier = next;
    }
    rows
}

/// The nearest better tier than `row`'s and what entering it takes: equalling the value of the branch at
/// the tier's last place in the order of the other ranked branches (`rows` is in rank order).
fn next_tier(
    row: &BoardRow,
    rows: &[BoardRow],
    indicator: Indicator,
    tiers: &[RankTier],
) -> Option<NextTier> {
    let rank = row.rank?;
    let points = row.tier.map_or(0.0, |t| t.points);
    let better = tiers
        .iter()
        .filter(|t| t.max_rank < rank && t.points > points)
        .max_by_key(|t| t.max_rank)?;
    let holder = rows
        .iter()
        .filter(|r| r.rank.is_some() && r.key != row.key)
        .nth((better.max_rank as usize).checked_sub(1)?)?;
    let fraction = |r: &BoardRow| Some((r.numerator?, r.denominator?));
    Some(NextTier {
        to_rank: better.max_rank,
        points: better.points,
        needed: analytics::needed_to_equal(indicator, fraction(row)?, fraction(holder)?),
    })
}

/// The tier holding `rank`; ranks past the last tier form a tier of 0 points.
fn tier_of(rank: u32, tiers: &[RankTier]) -> Option<Tier> {
    let mut from_rank = 1;
    for tier in tiers {
        if rank <= tier.max_rank {
            return Some(Tier {
                from_rank,
                to_rank: Some(tier.max_rank),
                points: tier.points,
            });
        }
        from_rank = tier.max_rank + 1;
    }
    Some(Tier {
        from_rank,
        to_rank: None,
        points: 0.0,
    })
    .filter(|_| !tiers.is_empty())
}

fn user_rows(
    card: &Scorecard,
    branch: Option<&str>,
    measure: impl Fn(&UserRow) -> (f64, UserRank),
) -> Vec<BoardRow> {
    let names = |branch_id: &str| {
        card.branches
            .iter()
            .find(|b| b.branch_id == branch_id)
            .map(|b| (b.branch_name.clone(), b.in_scope))
            .unwrap_or_else(|| (branch_id.to_string(), false))
    };
    let shown: Vec<(&UserRow, f64, Option<u32>)> = match branch {
        Some(branch) => card
            .users
            .iter()
            .flatten()
            .filter(|u| u.registered && u.branch_id == branch)
            .map(|u| {
                let (value, ranks) = measure(u);
                (u, value, ranks.branch)
            })
            .collect(),
        None => city_people(card.users.iter().flatten(), |b| names(b).1, &measure),
    };
    let mut rows: Vec<BoardRow> = shown
        .into_iter()
        .map(|(u, value, rank)| {
            let (branch_name, in_scope) = names(&u.branch_id);
            BoardRow {
                key: u.user_id.clone(),
                name: u.display_name.clone().unwrap_or_else(|| u.user_id.clone()),
                branch_id: u.branch_id.clone(),
                branch_name,
                rank,
                value: Some(value),
                numerator: None,
                denominator: None,
                points: None,
                tier: None,
                next_tier: None,
                in_scope,
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        (a.rank.is_none(), a.rank, &a.key).cmp(&(b.rank.is_none(), b.rank, &b.key))
    });
    rows.truncate(USER_BOARD_ROWS);
    rows
}

/// The city-wide people: one row per registered person. A person who moved has a row per branch; they are
/// shown once, on their current branch's row when it is in scope (else on another in-scope row, else on the
/// current one), with their city rank and the total it is of: their counts in every in-scope branch.
fn city_people<'a>(
    rows: impl Iterator<Item = &'a UserRow>,
    in_scope: impl Fn(&str) -> bool,
    measure: &impl Fn(&UserRow) -> (f64, UserRank),
) -> Vec<(&'a UserRow, f64, Option<u32>)> {
    let mut shown: BTreeMap<&str, &UserRow> = BTreeMap::new();
    let preference = |row: &UserRow| (in_scope(&row.branch_id), row.current);
    for row in rows.filter(|row| row.registered) {
        let best = shown.entry(&row.user_id).or_insert(row);
        if preference(row) > preference(best) {
            *best = row;
        }
    }
    shown
        .into_values()
        .map(|row| {
            let (value, ranks) = measure(row);
            match ranks.city_total {
                Some(total) => (row, total, ranks.city),
                None => (row, value, None),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boards_parse_by_name_and_refuse_unknown_ones() {
        for board in Board::ALL {
            assert_eq!(board.as_str().parse::<Board>(), Ok(board));
        }
        let err = "branch_quotes".parse::<Board>().unwrap_err();
        assert!(err.contains("branch_mobile_quotes"), "{err}");
        let org =
            Organisation::from_csv("branch_id,branch_name,in_scope\nzd,张店,true\n".as_bytes())
                .unwrap();
        assert!(BoardKey::new(Board::BranchTotalScore, Some("zd".into()), &org).is_err());
        assert!(BoardKey::new(Board::UserMobileQuotes, Some("zd".into()), &org).is_ok());
        let err = BoardKey::new(Board::UserMobileQuotes, Some("xx".into()), &org).unwrap_err();
        assert!(err.contains("unknown branch"), "{err}");
    }

    fn ranked(key: &str, rank: u32, quotes: f64, users: f64) -> BoardRow {
        let tiers = Config::default().tiers.mobile_quotes_per_user;
        BoardRow {
            key: key.into(),
            name: key.into(),
            branch_id: key.into(),
            branch_name: key.into(),
            rank: Some(rank),
            value: Some(quotes / users),
            numerator: Some(quotes),
            denominator: Some(users),
            points: None,
            tier: tier_of(rank, &tiers),
            next_tier: None,
            in_scope: true,
        }
    }

    #[test]
    fn the_next_tier_is_the_nearest_better_one_and_its_gap_is_exact() {
        let tiers = Config::default().tiers.mobile_quotes_per_user;
        // 1–3: 6 points, 4–8: 3 points, from 9: 0 (the defaults).
        let mut rows: Vec<BoardRow> = (1..=10)
            .map(|r| ranked(&format!("b{r}"), r, f64::from(100 - r * 5), 10.0))
            .collect();
        rows.push(BoardRow {
            rank: None,
            in_scope: false,
            ..ranked("cs", 1, 500.0, 10.0)
        });
        let next_of = |rows: &[BoardRow], i: usize| {
            next_tier(&rows[i], rows, Indicator::MobileQuotesPerUser, &tiers)
        };
        let next = |i: usize| next_of(&rows, i);
        assert_eq!(next(0), None, "the leader has no better tier");
        assert_eq!(next(2), None, "3rd is in the best tier");
        // 4th (80 quotes / 10 users) equals 3rd (85 / 10) with 5 more: it then shares 3rd place.
        assert_eq!(
            next(3),
            Some(NextTier {
                to_rank: 3,
                points: 6.0,
                needed: 5.0
            })
        );
        // 9th (55) aims at the 4–8 tier: the 8th branch has 60.
        assert_eq!(next(8).map(|n| (n.to_rank, n.needed)), Some((8, 5.0)));
        assert_eq!(next(10), None, "out of scope: not ranked");
        // Other users: 9 more quotes for 7 users to reach 85/10 = 8.5 per user means 59.5, so 60.
        rows[3].numerator = Some(51.0);
        rows[3].denominator = Some(7.0);
        assert_eq!(next_of(&rows, 3).map(|n| n.needed), Some(9.0));
    }

    #[test]
    fn tiers_follow_the_configured_rank_ranges() {
        let tiers = Config::default().tiers.mobile_quotes_per_user;
        assert_eq!(
            tier_of(1, &tiers).map(|t| (t.from_rank, t.to_rank, t.points)),
            Some((1, Some(3), 6.0))
        );
        assert_eq!(
            tier_of(4, &tiers).map(|t| (t.from_rank, t.to_rank, t.points)),
            Some((4, Some(8), 3.0))
        );
        assert_eq!(
            tier_of(9, &tiers).map(|t| (t.from_rank, t.points)),
            Some((9, 0.0))
        );
    }
}
