//! How large a statement's expressions are, bounded before planning.
//!
//! DataFusion works out the type of an operator's operands at every level of an expression, in several of
//! its planning steps, so planning a chain such as `'a' || 'a' || …` or `1 + 1 + …` takes time and memory
//! that grow with the square of its length: 25,000 terms (150 KB of SQL) planned for minutes and took
//! gigabytes, and one step (the analyzer's type coercion) of 4,000 `1 + 1 + …` took 19 s in one piece.
//! That work is proportional to the statement's *weight*: the sum, over its expressions, of how deeply each
//! is nested. Weighing the parsed statement is linear and cheap, so a statement heavier than
//! `sql.max_expression_weight` is refused before any planning, and no step of planning an accepted one runs
//! long between two checks of the deadline ([`super::planning`]).

use super::{Limit, SqlError};
use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::{Expr, Visit, Visitor};
use std::ops::ControlFlow;

/// Refuses `statement` (a [`SqlError::Limit`] naming the setting) when its expressions weigh more than
/// `max_weight`.
pub fn check(statement: &DFStatement, max_weight: u64) -> Result<(), SqlError> {
    let mut scale = Scale {
        max_weight,
        depth: 0,
        weight: 0,
    };
    let weighed = match statement {
        DFStatement::Statement(statement) => statement.visit(&mut scale),
        DFStatement::Explain(explain) => return check(&explain.statement, max_weight),
        // The guard refuses every other kind of statement; none of them is planned.
        _ => ControlFlow::Continue(()),
    };
    match weighed {
        ControlFlow::Continue(()) => Ok(()),
        ControlFlow::Break(()) => Err(SqlError::Limit(
            Limit::Size,
            format!(
                "the statement is too complex to plan: its expressions weigh more than {max_weight} \
                 (sql.max_expression_weight; each expression weighs as much as it is deeply nested, so a \
                 chain `a OR b OR …` of n terms weighs about 2n² and an IN list of n values about 2n): \
                 write a long chain of ORs as IN (…), or split the query"
            ),
        )),
    }
}

/// Adds up the depth of every expression, and stops as soon as the sum is over the bound (so weighing a
/// huge statement is short, and never goes deeper than the bound allows).
struct Scale {
    max_weight: u64,
    depth: u64,
    weight: u64,
}

impl Visitor for Scale {
    type Break = ();

    fn pre_visit_expr(&mut self, _expr: &Expr) -> ControlFlow<()> {
        self.depth += 1;
        self.weight += self.depth;
        if self.weight > self.max_weight {
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, _expr: &Expr) -> ControlFlow<()> {
        self.depth -= 1;
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::guard::check_sql;

    /// The weight of a chain of 100 terms: its 99 operators at depths 1 to 99, the right operand of each
    /// one deeper, and the first term at depth 100 (n² + n - 1).
    const MAX: u64 = 10_099;

    fn weigh(sql: &str) -> Result<(), String> {
        let (_, statement) = check_sql(sql).unwrap();
        check(&statement, MAX).map_err(|e| {
            assert!(matches!(e, SqlError::Limit(Limit::Size, _)), "{e:?}");
            e.to_string()
        })
    }

    fn chain(term: &str, operator: &str, n: usize) -> String {
        vec![term; n].join(operator)
    }

    #[test]
    fn long_chains_are_refused_by_their_weight_and_long_in_lists_are_not() {
        assert_eq!(
            weigh(&format!("SELECT {}", chain("'a'", " || ", 100))),
            Ok(())
        );
        for sql in [
            format!("SELECT {}", chain("'a'", " || ", 101)),
            format!("SELECT {}", chain("1", " + ", 25_000)),
            format!(
                "EXPLAIN SELECT count(*) FROM events WHERE {}",
                chain("user_id = 'u'", " OR ", 80)
            ),
            format!(
                "SELECT 1 WHERE 1 IN (SELECT 1 WHERE {})",
                chain("true", " AND ", 101)
            ),
            // Many shorter chains weigh as much as a long one.
            format!("SELECT {}", vec![chain("1", " + ", 40); 10].join(", ")),
        ] {
            let error = weigh(&sql).unwrap_err();
            assert!(
                error.contains("weigh more than 10099 (sql.max_expression_weight;"),
                "{error}"
            );
        }
        // The selected 1 (1), the IN list (1), its 5 and its n values (2 each): 4 + 2n.
        let list = |n: usize| {
            let values: Vec<String> = (0..n).map(|i| i.to_string()).collect();
            format!("SELECT 1 WHERE 5 IN ({})", values.join(", "))
        };
        assert_eq!(weigh(&list(5_047)), Ok(()));
        assert!(weigh(&list(5_048)).is_err());
        assert_eq!(weigh("SHOW TABLES"), Ok(()));
    }
}
