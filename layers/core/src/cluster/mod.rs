//! Groups technicians' questions by topic: k-means over their embeddings, k chosen by mean
//! silhouette, each group labelled by its most distinctive words, and counted per day or week.

mod kmeans;
mod labels;
pub mod runs;
mod silhouette;
mod trend;

use serde::{Deserialize, Serialize};

use kmeans::Fit;
use silhouette::Sample;

pub use trend::{Bucket, Period};

/// One question to cluster.
#[derive(Debug, Clone)]
pub struct QuestionPoint {
    pub id: i64,
    pub text: String,
    /// Unit-length query embedding (e5: "query: " prefix), used as it is: euclidean distance
    /// between unit vectors ranks like cosine similarity.
    pub embedding: Vec<f32>,
    /// Epoch milliseconds.
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct ClusterParams {
    /// Smallest k tried (at least 2: silhouette is undefined for one cluster).
    pub k_min: usize,
    /// Largest k tried; capped at n - 1.
    pub k_max: usize,
    /// Seeds k-means++ and the silhouette sample: the same seed gives the same clustering.
    pub seed: u64,
    /// Lloyd iterations per run before giving up on convergence.
    pub max_iter: u64,
    /// k-means runs per k, each from its own k-means++ start; the lowest inertia is kept. One is
    /// the default: on 10,000 questions three runs took five times as long for the same result.
    pub runs: usize,
}

impl Default for ClusterParams {
    fn default() -> Self {
        ClusterParams {
            k_min: 2,
            k_max: 12,
            seed: 42,
            max_iter: 100,
            runs: 1,
        }
    }
}

/// Quality of the clustering with k groups: one point of the elbow curve.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KScore {
    pub k: usize,
    /// Sum of squared distances to the assigned centroid.
    pub inertia: f64,
    /// Mean silhouette (-1..1, higher is better), over a sample when n is large.
    pub silhouette: f32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cluster {
    /// 0-based, by size: the biggest cluster is 0.
    pub id: usize,
    pub size: usize,
    /// Most distinctive words (c-TF-IDF), best first.
    pub terms: Vec<String>,
    /// The questions closest to the centroid, most central first.
    pub representatives: Vec<String>,
    pub centroid: Vec<f32>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Clustering {
    /// The k chosen. `clusters` has fewer only if identical points left a centroid empty.
    pub k: usize,
    pub silhouette: f32,
    pub inertia: f64,
    /// Every k tried, ascending.
    pub elbow: Vec<KScore>,
    pub clusters: Vec<Cluster>,
    /// (question id, cluster id), in the order the questions were given. Stored per question, so
    /// left out of a stored summary (and empty when read back from one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assignments: Vec<(i64, usize)>,
}

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("{found} questions to cluster, at least {needed} needed")]
    TooFewQuestions { found: usize, needed: usize },
    #[error("invalid k range {k_min}..={k_max} (k_min must be at least 2)")]
    InvalidK { k_min: usize, k_max: usize },
    #[error("question {id}: embedding has {found} dimensions, expected {expected}")]
    Dimensions {
        id: i64,
        expected: usize,
        found: usize,
    },
    #[error("question {id}: embedding has a NaN or infinite value")]
    NotFinite { id: i64 },
    #[error("k-means: {0}")]
    KMeans(#[from] linfa_clustering::KMeansError),
}

/// Representatives shown per cluster.
const REPRESENTATIVES: usize = 3;
/// Label terms per cluster.
const TERMS: usize = 5;

/// Clusters the questions, trying every k in `k_min..=k_max` and keeping the best silhouette
/// (the smaller k on a tie).
pub fn cluster(
    questions: &[QuestionPoint],
    params: &ClusterParams,
) -> Result<Clustering, ClusterError> {
    if params.k_min < 2 || params.k_min > params.k_max {
        return Err(ClusterError::InvalidK {
            k_min: params.k_min,
            k_max: params.k_max,
        });
    }
    let needed = (params.k_min + 1).max(3);
    if questions.len() < needed {
        return Err(ClusterError::TooFewQuestions {
            found: questions.len(),
            needed,
        });
    }
    check_embeddings(questions)?;

    let embeddings: Vec<&[f32]> = questions.iter().map(|q| q.embedding.as_slice()).collect();
    let sample = Sample::new(&embeddings, params.seed);
    let k_max = params.k_max.min(questions.len() - 1);
    let mut elbow = Vec::new();
    let mut best: Option<(f32, Fit)> = None;
    for k in params.k_min..=k_max {
        let fit = kmeans::fit(&embeddings, k, params)?;
        let silhouette = sample.score(&fit.labels, k);
        elbow.push(KScore {
            k,
            inertia: fit.inertia,
            silhouette,
        });
        if best.as_ref().is_none_or(|(s, _)| silhouette > *s) {
            best = Some((silhouette, fit));
        }
    }
    let (silhouette, fit) = best.expect("k_min <= k_max, so at least one k was tried");
    Ok(describe(questions, &embeddings, fit, silhouette, elbow))
}

fn check_embeddings(questions: &[QuestionPoint]) -> Result<(), ClusterError> {
    let expected = questions[0].embedding.len();
    for q in questions {
        if q.embedding.len() != expected || expected == 0 {
            return Err(ClusterError::Dimensions {
                id: q.id,
                expected,
                found: q.embedding.len(),
            });
        }
        if q.embedding.iter().any(|x| !x.is_finite()) {
            return Err(ClusterError::NotFinite { id: q.id });
        }
    }
    Ok(())
}

/// Renumbers the clusters by size, then labels them and picks their representatives.
fn describe(
    questions: &[QuestionPoint],
    embeddings: &[&[f32]],
    fit: Fit,
    silhouette: f32,
    elbow: Vec<KScore>,
) -> Clustering {
    let k = fit.centroids.len();
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); k];
    for (i, &label) in fit.labels.iter().enumerate() {
        members[label].push(i);
    }
    // Stable sort: equal sizes keep k-means order. A centroid left without members (identical
    // points) is not a topic and is dropped.
    let mut order: Vec<usize> = (0..k).filter(|&c| !members[c].is_empty()).collect();
    order.sort_by_key(|&c| std::cmp::Reverse(members[c].len()));
    let mut new_id = vec![0; k];
    for (id, &c) in order.iter().enumerate() {
        new_id[c] = id;
    }

    let texts: Vec<Vec<&str>> = order
        .iter()
        .map(|&c| {
            members[c]
                .iter()
                .map(|&i| questions[i].text.as_str())
                .collect()
        })
        .collect();
    let terms = labels::distinctive_terms(&texts, TERMS);
    let clusters = order
        .iter()
        .zip(terms)
        .enumerate()
        .map(|(id, (&c, terms))| {
            let centroid = &fit.centroids[c];
            let mut central = members[c].clone();
            central.sort_by(|&a, &b| {
                squared_distance(embeddings[a], centroid)
                    .total_cmp(&squared_distance(embeddings[b], centroid))
            });
            Cluster {
                id,
                size: members[c].len(),
                terms,
                representatives: central
                    .iter()
                    .take(REPRESENTATIVES)
                    .map(|&i| questions[i].text.clone())
                    .collect(),
                centroid: centroid.clone(),
            }
        })
        .collect();
    Clustering {
        k,
        silhouette,
        inertia: fit.inertia,
        elbow,
        clusters,
        assignments: questions
            .iter()
            .zip(&fit.labels)
            .map(|(q, &label)| (q.id, new_id[label]))
            .collect(),
    }
}

/// The cluster a new question belongs to: the nearest centroid. `None` when there is no
/// centroid or the dimensions differ.
pub fn nearest(centroids: &[Vec<f32>], embedding: &[f32]) -> Option<usize> {
    if centroids.iter().any(|c| c.len() != embedding.len()) {
        return None;
    }
    centroids
        .iter()
        .enumerate()
        .min_by(|(_, a), (_, b)| {
            squared_distance(a, embedding).total_cmp(&squared_distance(b, embedding))
        })
        .map(|(i, _)| i)
}

fn squared_distance(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

impl Clustering {
    /// Questions per cluster per day or ISO week, oldest first; `questions` are those given to
    /// [`cluster`], in the same order.
    pub fn trend(&self, questions: &[QuestionPoint], period: Period) -> Vec<Bucket> {
        let events = questions
            .iter()
            .zip(&self.assignments)
            .map(|(q, &(_, cluster))| (q.created_at, cluster));
        trend::count(events, self.clusters.len(), period)
    }
}

#[cfg(test)]
mod tests;
