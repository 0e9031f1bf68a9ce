//! Questions per cluster per UTC day or ISO week, with the calendar of [`crate::dates`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::dates::{civil_from_days, days_from_civil};

const MS_PER_DAY: i64 = 86_400_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    /// "YYYY-MM-DD", UTC.
    Day,
    /// ISO 8601 week, "YYYY-Www": weeks start on Monday, and week 1 holds the year's first
    /// Thursday (so 2024-12-30 is in 2025-W01).
    Week,
}

impl Period {
    /// The period holding an instant given in epoch milliseconds.
    pub fn key(self, epoch_ms: i64) -> String {
        let days = epoch_ms.div_euclid(MS_PER_DAY);
        match self {
            Period::Day => {
                let (y, m, d) = civil_from_days(days);
                format!("{y:04}-{m:02}-{d:02}")
            }
            Period::Week => {
                let monday_based = (days + 3).rem_euclid(7); // 1970-01-01 was a Thursday
                let thursday = days - monday_based + 3;
                let (year, _, _) = civil_from_days(thursday);
                let week = (thursday - days_from_civil(year, 1, 1)) / 7 + 1;
                format!("{year:04}-W{week:02}")
            }
        }
    }
}

/// Question counts of one period, indexed by cluster id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bucket {
    pub period: String,
    pub counts: Vec<usize>,
}

/// Counts (epoch ms, cluster) events per period, oldest period first; periods without a
/// question are absent, and so are events naming a cluster beyond `clusters`.
pub(super) fn count(
    events: impl IntoIterator<Item = (i64, usize)>,
    clusters: usize,
    period: Period,
) -> Vec<Bucket> {
    let mut buckets: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (at, cluster) in events.into_iter().filter(|&(_, c)| c < clusters) {
        buckets
            .entry(period.key(at))
            .or_insert_with(|| vec![0; clusters])[cluster] += 1;
    }
    buckets
        .into_iter()
        .map(|(period, counts)| Bucket { period, counts })
        .collect()
}
