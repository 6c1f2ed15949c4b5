//! Competition ranking ("1224"): equal values share the better rank.

/// Ranks `values` from highest to lowest; `None` values get no rank.
///
/// ```
/// use analytics::competition_ranks;
/// assert_eq!(competition_ranks(&[Some(5.0), Some(9.0), Some(5.0), None, Some(1.0)]),
///            vec![Some(2), Some(1), Some(2), None, Some(4)]);
/// ```
pub fn competition_ranks(values: &[Option<f64>]) -> Vec<Option<u32>> {
    // A value's rank is one more than the number of values above it: its place in the values sorted
    // from highest to lowest (a sort and a binary search each, not a count over all values).
    let mut descending: Vec<f64> = values.iter().flatten().copied().collect();
    descending.sort_unstable_by(|a, b| b.total_cmp(a));
    values
        .iter()
        .map(|v| {
            let v = (*v)?;
            Some(1 + descending.partition_point(|above| *above > v) as u32)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The rank is one more than the number of values strictly above, whatever the values (ties,
        /// negative zero, missing ones).
        #[test]
        fn one_more_than_the_values_above(values in prop::collection::vec(
            prop::option::of(prop_oneof![(-3i32..3).prop_map(f64::from), prop::num::f64::NORMAL, Just(-0.0)]),
            0..60,
        )) {
            let expected: Vec<Option<u32>> = values
                .iter()
                .map(|v| {
                    let v = (*v)?;
                    Some(1 + values.iter().flatten().filter(|o| **o > v).count() as u32)
                })
                .collect();
            prop_assert_eq!(competition_ranks(&values), expected);
        }
    }

    #[test]
    fn ties_share_the_better_rank_and_skip_the_next() {
        let ranks = competition_ranks(&[Some(3.0), Some(3.0), Some(2.0), Some(3.0), Some(1.0)]);
        assert_eq!(ranks, vec![Some(1), Some(1), Some(4), Some(1), Some(5)]);
        assert_eq!(competition_ranks(&[]), vec![]);
    }
}
