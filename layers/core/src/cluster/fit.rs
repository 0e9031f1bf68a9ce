//! One clustering of the questions: k-means for each k in the range, the best silhouette kept,
//! then labels and representatives.

use super::kmeans::{self, Fit};
use super::silhouette::Sample;
use super::{
    Cluster, ClusterError, ClusterParams, Clustering, KScore, QuestionPoint, labels,
    squared_distance,
};

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
                id: q.id.clone(),
                expected,
                found: q.embedding.len(),
            });
        }
        if q.embedding.iter().any(|x| !x.is_finite()) {
            return Err(ClusterError::NotFinite { id: q.id.clone() });
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
            .map(|(q, &label)| (q.id.clone(), new_id[label]))
            .collect(),
    }
}
