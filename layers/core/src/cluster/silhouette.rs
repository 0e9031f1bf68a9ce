//! Mean silhouette over a fixed sample of the points.
//!
//! The exact score needs every pairwise distance: O(n²·d), about 4·10¹⁰ operations for 10,000
//! 384-dimensional questions, for every k tried. Instead at most [`SAMPLE`] points, drawn once
//! with the seed, are scored against each other: their distances are computed once and reused
//! for every k, so each k then costs O(SAMPLE²).

use rand_xoshiro::Xoshiro256Plus;
use rand_xoshiro::rand_core::{RngCore, SeedableRng};

use crate::embed::dot;

/// Points in the silhouette sample.
pub(super) const SAMPLE: usize = 2000;

pub(super) struct Sample {
    /// Indices of the sampled points, ascending.
    points: Vec<usize>,
    /// Euclidean distances between sampled points, row-major.
    distances: Vec<f32>,
}

impl Sample {
    /// All points when there are at most [`SAMPLE`], else a seeded draw without replacement.
    pub fn new(embeddings: &[&[f32]], seed: u64) -> Sample {
        let points = draw(embeddings.len(), SAMPLE, seed);
        let s = points.len();
        let norms: Vec<f32> = points
            .iter()
            .map(|&i| dot(embeddings[i], embeddings[i]))
            .collect();
        let mut distances = vec![0f32; s * s];
        for a in 0..s {
            for b in a + 1..s {
                let d2 =
                    norms[a] + norms[b] - 2.0 * dot(embeddings[points[a]], embeddings[points[b]]);
                let d = d2.max(0.0).sqrt();
                distances[a * s + b] = d;
                distances[b * s + a] = d;
            }
        }
        Sample { points, distances }
    }

    /// Mean silhouette of the sampled points under `labels` (one per point, below `k`). A point
    /// alone in its cluster scores 0, as does a sample that falls in a single cluster.
    pub fn score(&self, labels: &[usize], k: usize) -> f32 {
        let s = self.points.len();
        let sample_labels: Vec<usize> = self.points.iter().map(|&i| labels[i]).collect();
        let mut sizes = vec![0usize; k];
        for &c in &sample_labels {
            sizes[c] += 1;
        }
        let mut sums = vec![0f64; k];
        let mut total = 0f64;
        for a in 0..s {
            sums.fill(0.0);
            for (b, &c) in sample_labels.iter().enumerate() {
                sums[c] += f64::from(self.distances[a * s + b]);
            }
            let own = sample_labels[a];
            if sizes[own] < 2 {
                continue;
            }
            let within = sums[own] / (sizes[own] - 1) as f64;
            let nearest_other = (0..k)
                .filter(|&c| c != own && sizes[c] > 0)
                .map(|c| sums[c] / sizes[c] as f64)
                .min_by(f64::total_cmp);
            if let Some(between) = nearest_other {
                let spread = within.max(between);
                if spread > 0.0 {
                    total += (between - within) / spread;
                }
            }
        }
        (total / s as f64) as f32
    }
}

/// `count` distinct indices below `n` (all of them when `n <= count`), ascending: a partial
/// Fisher–Yates shuffle.
fn draw(n: usize, count: usize, seed: u64) -> Vec<usize> {
    let mut all: Vec<usize> = (0..n).collect();
    if n > count {
        let mut rng = Xoshiro256Plus::seed_from_u64(seed);
        for i in 0..count {
            let j = i + (rng.next_u64() % (n - i) as u64) as usize;
            all.swap(i, j);
        }
        all.truncate(count);
        all.sort_unstable();
    }
    all
}
