//! Competition ranking ("1224"): equal values share the better rank.

/// Ranks `values` from highest to lowest; `None` values get no rank.
///
/// ```
/// use analytics::competition_ranks;
/// assert_eq!(competition_ranks(&[Some(5.0), Some(9.0), Some(5.0), None, Some(1.0)]),
///            vec![Some(2), Some(1), Some(2), None, Some(4)]);
/// ```
pub fn competition_ranks(values: &[Option<f64>]) -> Vec<Option<u32>> {
    values
        .iter()
        .map(|v| {
            let v = (*v)?;
            Some(1 + values.iter().filter(|o| o.is_some_and(|o| o > v)).count() as u32)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_share_the_better_rank_and_skip_the_next() {
        let ranks = competition_ranks(&[Some(3.0), Some(3.0), Some(2.0), Some(3.0), Some(1.0)]);
        assert_eq!(ranks, vec![Some(1), Some(1), Some(4), Some(1), Some(5)]);
        assert_eq!(competition_ranks(&[]), vec![]);
    }
}
