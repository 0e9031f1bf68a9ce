use rand_xoshiro::Xoshiro256Plus;
use rand_xoshiro::rand_core::{RngCore, SeedableRng};

use super::labels::distinctive_terms;
use super::*;

const DIM: usize = 16;

fn unit(v: Vec<f32>) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.into_iter().map(|x| x / norm).collect()
}

/// `per_blob` noisy unit vectors around each of the first `blobs` axes; ids count up from 0,
/// blob by blob, and each question's text names its blob.
fn blobs(blobs: usize, per_blob: usize, seed: u64) -> Vec<QuestionPoint> {
    let mut rng = Xoshiro256Plus::seed_from_u64(seed);
    let mut noise = move || (rng.next_u32() as f32 / u32::MAX as f32 - 0.5) * 0.2;
    let topics = ["vpn tunnel", "imprimante bourrage", "password reset"];
    (0..blobs * per_blob)
        .map(|i| {
            let blob = i / per_blob;
            let mut v: Vec<f32> = (0..DIM).map(|_| noise()).collect();
            v[blob] += 1.0;
            QuestionPoint {
                id: i.to_string(),
                text: format!("{} question {i}", topics[blob % topics.len()]),
                embedding: unit(v),
                created_at: 0,
            }
        })
        .collect()
}

fn cluster_of(clustering: &Clustering, id: usize) -> usize {
    clustering
        .assignments
        .iter()
        .find(|(q, _)| *q == id.to_string())
        .map(|&(_, c)| c)
        .expect("assigned")
}

#[test]
fn three_separated_blobs_give_k_3_and_are_recovered() {
    let points = blobs(3, 30, 1);
    let result = cluster(&points, &ClusterParams::default()).expect("clustered");
    assert_eq!(result.k, 3);
    assert_eq!(result.clusters.len(), 3);
    assert!(result.silhouette > 0.5, "silhouette {}", result.silhouette);
    assert_eq!(result.elbow.len(), 11, "k = 2..=12");
    assert!(result.elbow.windows(2).all(|w| w[0].k + 1 == w[1].k));
    for blob in 0..3 {
        let first = cluster_of(&result, blob * 30);
        for id in blob * 30..(blob + 1) * 30 {
            assert_eq!(cluster_of(&result, id), first, "question {id}");
        }
    }
    let mut distinct: Vec<usize> = (0..3).map(|b| cluster_of(&result, b * 30)).collect();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), 3);
    for c in &result.clusters {
        assert_eq!(c.size, 30);
        assert_eq!(c.representatives.len(), 3);
        assert_eq!(c.centroid.len(), DIM);
        assert_eq!(
            c.terms[2], "question",
            "found everywhere, so last: {:?}",
            c.terms
        );
    }
}

#[test]
fn clusters_are_numbered_by_size() {
    let mut points = blobs(3, 30, 2);
    points.truncate(30 + 30 + 12);
    let result = cluster(&points, &ClusterParams::default()).expect("clustered");
    let sizes: Vec<usize> = result.clusters.iter().map(|c| c.size).collect();
    assert_eq!(sizes, [30, 30, 12]);
    assert_eq!(cluster_of(&result, 70), 2, "the small blob is last");
    assert!(result.clusters.iter().enumerate().all(|(i, c)| c.id == i));
}

#[test]
fn same_seed_same_result_and_the_seed_is_used() {
    let points = blobs(3, 40, 3);
    let params = ClusterParams {
        k_min: 5,
        k_max: 8,
        ..ClusterParams::default()
    };
    let json = |p: &ClusterParams| serde_json::to_string(&cluster(&points, p).unwrap()).unwrap();
    assert_eq!(json(&params), json(&params));
    let other = ClusterParams {
        seed: 7,
        ..params.clone()
    };
    assert_ne!(
        json(&params),
        json(&other),
        "k > blobs: the split depends on the seed"
    );
}

#[test]
fn representatives_are_most_central_first() {
    let mut points = blobs(2, 10, 4);
    // Exactly on the first blob's axis: the most central question of its cluster.
    let mut axis = vec![0.0; DIM];
    axis[0] = 1.0;
    points[3].embedding = axis;
    points[3].text = "the centre".into();
    let result = cluster(&points, &ClusterParams::default()).expect("clustered");
    let own = &result.clusters[cluster_of(&result, 3)];
    assert_eq!(own.representatives[0], "the centre");
}

#[test]
fn nearest_picks_the_closest_centroid() {
    let centroids = vec![vec![1.0, 0.0], vec![0.0, 1.0], vec![-1.0, 0.0]];
    assert_eq!(nearest(&centroids, &[0.1, 0.9]), Some(1));
    assert_eq!(nearest(&centroids, &[-0.8, 0.1]), Some(2));
    assert_eq!(nearest(&[], &[1.0, 0.0]), None);
    assert_eq!(nearest(&centroids, &[1.0, 0.0, 0.0]), None);

    let points = blobs(3, 20, 5);
    let result = cluster(&points, &ClusterParams::default()).expect("clustered");
    let centroids: Vec<Vec<f32>> = result.clusters.iter().map(|c| c.centroid.clone()).collect();
    for (q, &(_, c)) in points.iter().zip(&result.assignments) {
        assert_eq!(nearest(&centroids, &q.embedding), Some(c));
    }
}

#[test]
fn c_tf_idf_prefers_a_term_unique_to_the_cluster() {
    let clusters = vec![
        vec!["réseau VPN lent", "VPN coupé sur le réseau"],
        vec!["imprimante hors réseau", "imprimante en bourrage"],
    ];
    let terms = distinctive_terms(&clusters, 5);
    // "réseau" is as frequent in cluster 0 as "VPN", but found everywhere.
    assert_eq!(terms[0][0], "vpn");
    assert!(terms[0].contains(&"réseau".to_string()));
    assert!(terms[0].iter().position(|t| t == "vpn") < terms[0].iter().position(|t| t == "réseau"));
    assert_eq!(terms[1][0], "imprimante");
}

#[test]
fn labels_fold_accents_and_drop_stop_and_short_words() {
    let clusters = vec![
        vec![
            "Pourquoi la sécurité est-elle importante ?",
            "What is securite about?",
            "Comment gérer la sécurité du SI ?",
            "How is the security of IT handled?",
        ],
        vec!["Quels sont les outils de sauvegarde ?"],
    ];
    let terms = distinctive_terms(&clusters, 5);
    assert_eq!(
        terms[0][0], "sécurité",
        "one term, shown with its accents: {:?}",
        terms[0]
    );
    for dropped in [
        "pourquoi",
        "what",
        "how",
        "est",
        "elle",
        "importante",
        "si",
        "it",
        "the",
    ] {
        assert!(
            !terms[0].iter().any(|t| t == dropped),
            "{dropped} in {:?}",
            terms[0]
        );
    }
    assert!(!terms[0].iter().any(|t| t == "securite"));
    assert_eq!(terms[1], ["outils", "sauvegarde"]);
}

#[test]
fn refuses_bad_input() {
    let points = blobs(2, 5, 6);
    let params = ClusterParams::default();
    assert!(matches!(
        cluster(&points[..2], &params),
        Err(ClusterError::TooFewQuestions {
            found: 2,
            needed: 3
        })
    ));
    let wide = ClusterParams {
        k_min: 5,
        ..ClusterParams::default()
    };
    assert!(matches!(
        cluster(&points[..5], &wide),
        Err(ClusterError::TooFewQuestions {
            found: 5,
            needed: 6
        })
    ));
    for (k_min, k_max) in [(1, 5), (6, 5)] {
        let bad = ClusterParams {
            k_min,
            k_max,
            ..ClusterParams::default()
        };
        assert!(matches!(
            cluster(&points, &bad),
            Err(ClusterError::InvalidK { .. })
        ));
    }
    let mut short = points.clone();
    short[4].embedding.pop();
    assert!(matches!(
        cluster(&short, &params),
        Err(ClusterError::Dimensions {
            id,
            expected: DIM,
            found
        }) if found == DIM - 1 && id == "4"
    ));
    let mut nan = points.clone();
    nan[7].embedding[2] = f32::NAN;
    assert!(matches!(
        cluster(&nan, &params),
        Err(ClusterError::NotFinite { id }) if id == "7"
    ));
}

#[test]
fn k_max_is_capped_below_the_number_of_questions() {
    let points = blobs(2, 3, 7);
    let result = cluster(&points, &ClusterParams::default()).expect("clustered");
    assert_eq!(result.elbow.last().map(|s| s.k), Some(5));
}

/// 12:00 UTC on a date, in epoch milliseconds.
const JAN_1_2026: i64 = 1_767_268_800_000;
const DEC_30_2024: i64 = 1_735_560_000_000;
const JAN_3_2021: i64 = 1_609_675_200_000;
const FEB_29_2024: i64 = 1_709_208_000_000;
const HOUR: i64 = 3_600_000;

#[test]
fn days_and_iso_weeks() {
    assert_eq!(Period::Day.key(JAN_1_2026), "2026-01-01");
    assert_eq!(Period::Week.key(JAN_1_2026), "2026-W01");
    assert_eq!(Period::Day.key(DEC_30_2024), "2024-12-30");
    assert_eq!(Period::Week.key(DEC_30_2024), "2025-W01");
    assert_eq!(Period::Week.key(JAN_3_2021), "2020-W53");
    assert_eq!(Period::Day.key(FEB_29_2024), "2024-02-29");
    assert_eq!(Period::Week.key(FEB_29_2024), "2024-W09");
    assert_eq!(Period::Day.key(JAN_1_2026 + 11 * HOUR), "2026-01-01");
    assert_eq!(Period::Day.key(JAN_1_2026 + 12 * HOUR), "2026-01-02");
    assert_eq!(Period::Day.key(-1), "1969-12-31");
    assert_eq!(Period::Week.key(-1), "1970-W01");
}

#[test]
fn trend_counts_per_cluster_and_period() {
    let mut points = blobs(2, 4, 8);
    let days = [JAN_1_2026, JAN_1_2026 + HOUR, DEC_30_2024, JAN_1_2026];
    for (i, p) in points.iter_mut().enumerate() {
        p.created_at = days[i % 4];
    }
    let result = cluster(&points, &ClusterParams::default()).expect("clustered");
    assert_eq!(result.k, 2);
    let (a, b) = (cluster_of(&result, 0), cluster_of(&result, 4));
    let mut expected_day = vec![0; 2];
    expected_day[a] = 3;
    expected_day[b] = 3;
    let daily = result.trend(&points, Period::Day);
    assert_eq!(
        daily,
        [
            Bucket {
                period: "2024-12-30".into(),
                counts: vec![1, 1]
            },
            Bucket {
                period: "2026-01-01".into(),
                counts: expected_day
            },
        ]
    );
    let weekly = result.trend(&points, Period::Week);
    assert_eq!(weekly[0].period, "2025-W01");
    assert_eq!(weekly[1].period, "2026-W01");
}
