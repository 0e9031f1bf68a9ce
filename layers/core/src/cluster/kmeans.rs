//! One k-means fit through linfa, seeded so that a given seed always gives the same clusters.

use linfa::DatasetBase;
use linfa::traits::{Fit as _, Predict as _};
use linfa_clustering::{KMeans, KMeansError};
use ndarray::Array2;
use rand_xoshiro::Xoshiro256Plus;
use rand_xoshiro::rand_core::SeedableRng;

use super::{ClusterParams, squared_distance};

/// Centroids, the cluster of each point (k-means order) and the inertia.
pub(super) struct Fit {
    pub centroids: Vec<Vec<f32>>,
    pub labels: Vec<usize>,
    pub inertia: f64,
}

/// Fits k clusters. Callers have checked that the embeddings are non-empty, finite and of one
/// dimension.
pub(super) fn fit(
    embeddings: &[&[f32]],
    k: usize,
    params: &ClusterParams,
) -> Result<Fit, KMeansError> {
    let dim = embeddings[0].len();
    let flat: Vec<f32> = embeddings.iter().flat_map(|e| e.iter().copied()).collect();
    let records =
        Array2::from_shape_vec((embeddings.len(), dim), flat).expect("rows of equal length");
    let rng = Xoshiro256Plus::seed_from_u64(params.seed);
    let model = KMeans::params_with_rng(k, rng)
        .max_n_iterations(params.max_iter)
        .n_runs(params.runs)
        .fit(&DatasetBase::from(records.view()))?;
    let labels = model.predict(&records).to_vec();
    let centroids: Vec<Vec<f32>> = model
        .centroids()
        .rows()
        .into_iter()
        .map(|r| r.to_vec())
        .collect();
    let inertia = embeddings
        .iter()
        .zip(&labels)
        .map(|(e, &c)| f64::from(squared_distance(e, &centroids[c])))
        .sum();
    Ok(Fit {
        centroids,
        labels,
        inertia,
    })
}
