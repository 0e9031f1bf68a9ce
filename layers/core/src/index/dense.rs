//! Dense retrieval: one HNSW graph per passage language, scores made comparable across
//! languages.
//!
//! Most multilingual embedders (e5) score same-language pairs higher than cross-language pairs
//! of equal relevance (a French question ranks loosely related French passages above the
//! English page that answers it). For such models each language's similarities are
//! standardised against that language's own distribution for the question: z = (s − μ) / σ,
//! where μ = q·mean and σ² = qᵀSq − μ² come exactly from the partition's mean vector and
//! second-moment matrix. Language-neutral models (USE-m3) keep raw cosine: standardising them
//! measured worse.

use instant_distance::{Builder, HnswMap, Point, Search};
use serde::{Deserialize, Serialize};

use crate::embed::dot;
use crate::text::Lang;

/// A unit vector; distance is 1 - cosine.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Vector(pub Vec<f32>);

impl Point for Vector {
    fn distance(&self, other: &Self) -> f32 {
        1.0 - dot(&self.0, &other.0)
    }
}

/// Below this many passages a language's own statistics are too noisy: use the global ones.
const MIN_PARTITION_FOR_STATS: usize = 30;

/// First and second moments of a set of vectors.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Moments {
    mean: Vec<f32>,
    /// Row-major dim × dim.
    second: Vec<f32>,
}

impl Moments {
    fn of<'a>(vectors: impl Iterator<Item = &'a Vec<f32>>, dim: usize) -> Moments {
        let mut mean = vec![0f64; dim];
        let mut second = vec![0f64; dim * dim];
        let mut n = 0usize;
        for v in vectors {
            n += 1;
            for i in 0..dim {
                mean[i] += f64::from(v[i]);
                let row = &mut second[i * dim..(i + 1) * dim];
                let vi = f64::from(v[i]);
                for (acc, &vj) in row.iter_mut().zip(v.iter()) {
                    *acc += vi * f64::from(vj);
                }
            }
        }
        let n = n.max(1) as f64;
        Moments {
            mean: mean.iter().map(|x| (x / n) as f32).collect(),
            second: second.iter().map(|x| (x / n) as f32).collect(),
        }
    }

    /// Mean and standard deviation of q·x over the set.
    fn similarity_stats(&self, q: &[f32]) -> (f32, f32) {
        let dim = q.len();
        let mu = dot(q, &self.mean);
        let mut qsq = 0f32;
        for (i, &qi) in q.iter().enumerate() {
            qsq += qi * dot(&self.second[i * dim..(i + 1) * dim], q);
        }
        (mu, (qsq - mu * mu).max(1e-8).sqrt())
    }
}

#[derive(Serialize, Deserialize)]
struct Partition {
    lang: Lang,
    hnsw: HnswMap<Vector, u32>,
    moments: Moments,
}

/// HNSW graphs by language with their similarity statistics.
#[derive(Serialize, Deserialize)]
pub struct DenseIndex {
    partitions: Vec<Partition>,
    /// Standardise scores per language (false for language-neutral models).
    standardize: bool,
}

impl DenseIndex {
    /// Builds the graphs; `langs[i]` and `vectors[i]` belong to chunk `i`.
    pub fn build(
        langs: &[Lang],
        vectors: &[Vec<f32>],
        ef_search: usize,
        language_neutral: bool,
    ) -> DenseIndex {
        let dim = vectors.first().map_or(0, Vec::len);
        let mut partitions = Vec::new();
        for lang in [Lang::En, Lang::Fr] {
            let ids: Vec<u32> = (0..vectors.len() as u32)
                .filter(|&i| langs[i as usize] == lang)
                .collect();
            if ids.is_empty() {
                continue;
            }
            let members = || ids.iter().map(|&i| &vectors[i as usize]);
            let moments = if ids.len() >= MIN_PARTITION_FOR_STATS {
                Moments::of(members(), dim)
            } else {
                Moments::of(vectors.iter(), dim)
            };
            let points: Vec<Vector> = members().cloned().map(Vector).collect();
            let hnsw = Builder::default()
                .seed(0x5eed)
                .ef_construction(200)
                .ef_search(ef_search)
                .build(points, ids);
            partitions.push(Partition {
                lang,
                hnsw,
                moments,
            });
        }
        DenseIndex {
            partitions,
            standardize: !language_neutral,
        }
    }

    /// Up to `n` chunks per language, ranked together by (standardised) similarity, best first.
    /// `exact` scans every vector instead of walking the graphs (to measure HNSW recall).
    pub fn ranking(&self, query: &[f32], n: usize, exact: bool) -> Vec<(usize, f32)> {
        let mut all = Vec::new();
        let q = Vector(query.to_vec());
        for p in &self.partitions {
            let (mu, sigma) = if self.standardize {
                p.moments.similarity_stats(query)
            } else {
                (0.0, 1.0)
            };
            let candidates: Vec<(usize, f32)> = if exact {
                let mut scored: Vec<(usize, f32)> = p
                    .hnsw
                    .iter()
                    .map(|(pid, point)| (pid, dot(query, &point.0)))
                    .map(|(pid, s)| (p.hnsw.values[pid.into_inner() as usize] as usize, s))
                    .collect();
                scored.sort_by(|a, b| b.1.total_cmp(&a.1));
                scored.truncate(n);
                scored
            } else {
                let mut search = Search::default();
                p.hnsw
                    .search(&q, &mut search)
                    .take(n)
                    .map(|item| (*item.value as usize, 1.0 - item.distance))
                    .collect()
            };
            all.extend(candidates.into_iter().map(|(c, s)| (c, (s - mu) / sigma)));
        }
        all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        all
    }

    /// Whether scores are left raw across languages.
    pub fn language_neutral(&self) -> bool {
        !self.standardize
    }

    /// Every chunk's vector, by chunk number; `None` if the graphs do not cover `chunks` exactly.
    pub fn vectors(&self, chunks: usize) -> Option<Vec<Vec<f32>>> {
        let mut out = vec![Vec::new(); chunks];
        let mut seen = 0;
        for p in &self.partitions {
            for ((_, point), &chunk) in p.hnsw.iter().zip(&p.hnsw.values) {
                let slot = out.get_mut(chunk as usize)?;
                if !slot.is_empty() {
                    return None;
                }
                *slot = point.0.clone();
                seen += 1;
            }
        }
        (seen == chunks).then_some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_give_exact_mean_and_spread() {
        let vs = [vec![1.0, 0.0], vec![0.0, 1.0], vec![0.6, 0.8]];
        let m = Moments::of(vs.iter(), 2);
        let q = [0.8, 0.6];
        let sims: Vec<f32> = vs.iter().map(|v| dot(&q, v)).collect();
        let mean = sims.iter().sum::<f32>() / 3.0;
        let var = sims.iter().map(|s| (s - mean).powi(2)).sum::<f32>() / 3.0;
        let (mu, sigma) = m.similarity_stats(&q);
        assert!((mu - mean).abs() < 1e-5);
        assert!((sigma - var.sqrt()).abs() < 1e-4);
    }
}
