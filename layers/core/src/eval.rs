//! Retrieval evaluation: hit@k and MRR per language over a question set with expected pages.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::query::Source;

/// Pages of one document where the answer is.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExpectedPages {
    pub document: String,
    pub pages: Vec<u32>,
}

/// One line of a question set (JSONL).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Question {
    pub id: String,
    pub question: String,
    #[serde(default)]
    pub lang: Option<String>,
    #[serde(default = "yes")]
    pub in_scope: bool,
    #[serde(default)]
    pub expected: Vec<ExpectedPages>,
}

fn yes() -> bool {
    true
}

impl Question {
    /// 1-based rank of the first source on an expected page.
    pub fn first_hit(&self, sources: &[Source]) -> Option<usize> {
        sources
            .iter()
            .position(|s| {
                self.expected
                    .iter()
                    .any(|e| e.document == s.document && e.pages.contains(&s.page))
            })
            .map(|i| i + 1)
    }
}

/// Retrieval quality of a group of in-scope questions.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Scores {
    pub questions: usize,
    pub hit1: f64,
    pub hit3: f64,
    pub hit5: f64,
    pub mrr: f64,
}

/// Accumulates ranks into [`Scores`].
#[derive(Debug, Default)]
pub struct Tally {
    ranks: Vec<Option<usize>>,
}

impl Tally {
    pub fn add(&mut self, rank: Option<usize>) {
        self.ranks.push(rank);
    }

    pub fn scores(&self) -> Scores {
        let n = self.ranks.len();
        if n == 0 {
            return Scores::default();
        }
        let hit = |k: usize| {
            self.ranks
                .iter()
                .filter(|r| r.is_some_and(|r| r <= k))
                .count() as f64
                / n as f64
        };
        let mrr = self
            .ranks
            .iter()
            .map(|r| r.map_or(0.0, |r| 1.0 / r as f64))
            .sum::<f64>()
            / n as f64;
        Scores {
            questions: n,
            hit1: hit(1),
            hit3: hit(3),
            hit5: hit(5),
            mrr,
        }
    }
}

/// Scores grouped by a key (language, category), plus "all".
pub fn group_scores(results: &[(String, Option<usize>)]) -> BTreeMap<String, Scores> {
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    for (key, rank) in results {
        tallies.entry(key.clone()).or_default().add(*rank);
        tallies.entry("all".into()).or_default().add(*rank);
    }
    tallies.into_iter().map(|(k, t)| (k, t.scores())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hit_rates_and_mrr() {
        let results = vec![
            ("en".to_string(), Some(1)),
            ("en".to_string(), Some(3)),
            ("fr".to_string(), None),
            ("fr".to_string(), Some(2)),
        ];
        let s = group_scores(&results);
        let en = &s["en"];
        assert_eq!((en.hit1, en.hit3, en.hit5), (0.5, 1.0, 1.0));
        assert!((en.mrr - (1.0 + 1.0 / 3.0) / 2.0).abs() < 1e-9);
        assert_eq!(s["all"].questions, 4);
        assert_eq!(s["fr"].hit1, 0.0);
    }

    #[test]
    fn first_hit_matches_document_and_page() {
        let q: Question = serde_json::from_str(
            r#"{"id":"a","question":"q","expected":[{"document":"d.pdf","pages":[3,4]}]}"#,
        )
        .expect("parse");
        let src = |d: &str, p| Source {
            document: d.into(),
            page: p,
            score: 0.0,
            excerpt: String::new(),
        };
        assert_eq!(
            q.first_hit(&[src("d.pdf", 2), src("x.pdf", 3), src("d.pdf", 4)]),
            Some(3)
        );
        assert_eq!(q.first_hit(&[src("d.pdf", 1)]), None);
        assert!(q.in_scope);
    }
}
