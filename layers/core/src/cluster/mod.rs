//! Groups technicians' questions by topic: k-means over their embeddings, k chosen by mean
//! silhouette, each group labelled by its most distinctive words, and counted per day or week.

#[cfg(feature = "kmeans")]
mod fit;
#[cfg(feature = "kmeans")]
mod kmeans;
#[cfg(feature = "kmeans")]
mod labels;
pub mod runs;
#[cfg(feature = "kmeans")]
mod silhouette;
mod trend;

use serde::{Deserialize, Serialize};

#[cfg(feature = "kmeans")]
pub use fit::cluster;
pub use trend::{Bucket, Period};

/// One question to cluster.
#[derive(Debug, Clone)]
pub struct QuestionPoint {
    /// The recorded query's id.
    pub id: String,
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
    pub assignments: Vec<(String, usize)>,
}

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("{found} questions to cluster, at least {needed} needed")]
    TooFewQuestions { found: usize, needed: usize },
    #[error("invalid k range {k_min}..={k_max} (k_min must be at least 2)")]
    InvalidK { k_min: usize, k_max: usize },
    #[error("question {id}: embedding has {found} dimensions, expected {expected}")]
    Dimensions {
        id: String,
        expected: usize,
        found: usize,
    },
    #[error("question {id}: embedding has a NaN or infinite value")]
    NotFinite { id: String },
    #[cfg(feature = "kmeans")]
    #[error("k-means: {0}")]
    KMeans(#[from] linfa_clustering::KMeansError),
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

#[cfg(all(test, feature = "kmeans"))]
mod tests;
