//! What the stores write as JSON: record types of their own, so that renaming a field of a domain
//! type (`Source`, `Clustering`) cannot break the rows already stored. The field names are those
//! the first stored rows used; a change to them needs a migration.

use serde::{Deserialize, Serialize};

use super::StoreError;
use crate::cluster::{Cluster, Clustering, KScore};
use crate::query::Source;

/// A cited passage of a recorded answer.
#[derive(Serialize, Deserialize)]
struct SourceRecord {
    document: String,
    page: u32,
    score: f32,
    excerpt: String,
}

/// A clustering run's summary; the assignments are stored per question.
#[derive(Serialize, Deserialize)]
struct ClusteringRecord {
    k: usize,
    silhouette: f32,
    inertia: f64,
    elbow: Vec<KScoreRecord>,
    clusters: Vec<ClusterRecord>,
}

#[derive(Serialize, Deserialize)]
struct KScoreRecord {
    k: usize,
    inertia: f64,
    silhouette: f32,
}

#[derive(Serialize, Deserialize)]
struct ClusterRecord {
    id: usize,
    size: usize,
    terms: Vec<String>,
    representatives: Vec<String>,
    centroid: Vec<f32>,
}

fn invalid(e: serde_json::Error) -> StoreError {
    StoreError::Invalid(e.to_string())
}

pub(super) fn sources_to_json(sources: &[Source]) -> Result<serde_json::Value, StoreError> {
    let records: Vec<SourceRecord> = sources
        .iter()
        .map(|s| SourceRecord {
            document: s.document.clone(),
            page: s.page,
            score: s.score,
            excerpt: s.excerpt.clone(),
        })
        .collect();
    serde_json::to_value(records).map_err(invalid)
}

pub(super) fn sources_from_json(json: serde_json::Value) -> Result<Vec<Source>, StoreError> {
    let records: Vec<SourceRecord> = serde_json::from_value(json).map_err(invalid)?;
    Ok(records
        .into_iter()
        .map(|r| Source {
            document: r.document,
            page: r.page,
            score: r.score,
            excerpt: r.excerpt,
        })
        .collect())
}

/// A clustering's stored summary: everything but the assignments.
pub(super) fn clustering_to_json(c: &Clustering) -> Result<serde_json::Value, StoreError> {
    let record = ClusteringRecord {
        k: c.k,
        silhouette: c.silhouette,
        inertia: c.inertia,
        elbow: c
            .elbow
            .iter()
            .map(|s| KScoreRecord {
                k: s.k,
                inertia: s.inertia,
                silhouette: s.silhouette,
            })
            .collect(),
        clusters: c
            .clusters
            .iter()
            .map(|c| ClusterRecord {
                id: c.id,
                size: c.size,
                terms: c.terms.clone(),
                representatives: c.representatives.clone(),
                centroid: c.centroid.clone(),
            })
            .collect(),
    };
    serde_json::to_value(record).map_err(invalid)
}

/// A stored summary, its `assignments` empty.
pub(super) fn clustering_from_json(json: serde_json::Value) -> Result<Clustering, StoreError> {
    let r: ClusteringRecord = serde_json::from_value(json).map_err(invalid)?;
    Ok(Clustering {
        k: r.k,
        silhouette: r.silhouette,
        inertia: r.inertia,
        elbow: r
            .elbow
            .into_iter()
            .map(|s| KScore {
                k: s.k,
                inertia: s.inertia,
                silhouette: s.silhouette,
            })
            .collect(),
        clusters: r
            .clusters
            .into_iter()
            .map(|c| Cluster {
                id: c.id,
                size: c.size,
                terms: c.terms,
                representatives: c.representatives,
                centroid: c.centroid,
            })
            .collect(),
        assignments: Vec::new(),
    })
}

/// A SQL row id handed out as a cursor, read back.
pub(super) fn row_id(cursor: &str) -> Result<i64, StoreError> {
    cursor
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or(StoreError::BadCursor)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows written before the record types existed still read back.
    #[test]
    fn reads_the_rows_already_stored() {
        let sources = serde_json::json!([
            {"document": "guide.pdf", "page": 3, "score": 0.75, "excerpt": "Ouvrez « Paramètres »"}
        ]);
        let read = sources_from_json(sources.clone()).expect("sources");
        assert_eq!(read[0].document, "guide.pdf");
        assert_eq!(sources_to_json(&read).expect("json"), sources);

        let summary = serde_json::json!({
            "k": 2, "silhouette": 0.5, "inertia": 1.25,
            "elbow": [{"k": 2, "inertia": 1.25, "silhouette": 0.5}],
            "clusters": [{"id": 0, "size": 3, "terms": ["vpn"], "representatives": ["VPN ?"], "centroid": [0.5, -0.25]}]
        });
        let clustering = clustering_from_json(summary.clone()).expect("summary");
        assert_eq!(clustering.clusters[0].terms, ["vpn"]);
        assert_eq!(clustering_to_json(&clustering).expect("json"), summary);
    }

    #[test]
    fn cursors_are_row_ids() {
        assert_eq!(row_id("42").expect("id"), 42);
        for bad in ["", "abc", "-1", "0", "1e3", "99999999999999999999"] {
            assert!(matches!(row_id(bad), Err(StoreError::BadCursor)), "{bad}");
        }
    }
}
