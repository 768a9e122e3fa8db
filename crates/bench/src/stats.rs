//! Percentiles and summaries of measured times.

use serde::Serialize;

/// The `p`-th percentile of sorted values, interpolating linearly between the closest ranks
/// (numpy's default); `None` for no values.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let rank = last as f64 * p / 100.0;
    let low = (rank.floor() as usize).min(last);
    let high = (low + 1).min(last);
    let (a, b) = (sorted.get(low)?, sorted.get(high)?);
    Some(a + (b - a) * (rank - low as f64))
}

/// The median of unsorted values.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    percentile(&sorted, 50.0)
}

/// Milliseconds rounded to three decimals (microseconds), as the results file keeps them.
pub fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

/// A distribution of milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub n: usize,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub min: f64,
    pub max: f64,
    pub mean: f64,
}

impl Summary {
    /// `None` for no values.
    pub fn of(values: &[f64]) -> Option<Self> {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let at = |p| percentile(&sorted, p).map(round3);
        Some(Self {
            n: sorted.len(),
            p50: at(50.0)?,
            p90: at(90.0)?,
            p99: at(99.0)?,
            min: round3(*sorted.first()?),
            max: round3(*sorted.last()?),
            mean: round3(sorted.iter().sum::<f64>() / sorted.len() as f64),
        })
    }
}

/// `a / b` to two decimals, as the ratios to a floor are reported.
pub fn ratio(a: f64, b: f64) -> Option<f64> {
    (b > 0.0).then(|| (a / b * 100.0).round() / 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_interpolate_between_closest_ranks() {
        let values = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(percentile(&values, 50.0), Some(2.5));
        assert_eq!(percentile(&values, 0.0), Some(1.0));
        assert_eq!(percentile(&values, 100.0), Some(4.0));
        assert_eq!(percentile(&[7.0], 99.0), Some(7.0));
        assert_eq!(percentile(&[], 50.0), None);
        let p99 = percentile(&(1..=100).map(f64::from).collect::<Vec<_>>(), 99.0);
        assert_eq!(p99.map(round3), Some(99.01));
    }

    #[test]
    fn a_summary_sorts_and_rounds() {
        let summary = Summary::of(&[3.0, 1.0, 2.0004]);
        assert_eq!(
            summary,
            Some(Summary {
                n: 3,
                p50: 2.0,
                p90: 2.8,
                p99: 2.98,
                min: 1.0,
                max: 3.0,
                mean: 2.0
            })
        );
        assert_eq!(Summary::of(&[]), None);
        assert_eq!(median(&[5.0, 1.0, 3.0]), Some(3.0));
    }

    #[test]
    fn ratios_have_two_decimals_and_need_a_floor() {
        assert_eq!(ratio(181.0, 100.0), Some(1.81));
        assert_eq!(ratio(1.0, 3.0), Some(0.33));
        assert_eq!(ratio(1.0, 0.0), None);
    }
}
