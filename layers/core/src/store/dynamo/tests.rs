//! The DynamoDB store against local servers that speak DynamoDB's protocol: moto and dynalite
//! (skipped when absent, failed under CI=true).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use aws_config::BehaviorVersion;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::task::JoinSet;

use super::item::Item;
use super::queries::query_item;
use super::*;
use crate::query::Source;
use crate::store::test_support::ScratchTable;
use crate::store::{ClusterRef, ClusterStore, NewQuery, QueryStore, UserStore, conformance};

async fn config(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "test", "test", None, None, "test",
        ))
        .load()
        .await
}

/// The store on a new table on moto, or `None` (skipped) without moto.
async fn fresh_table(label: &str) -> Option<DynamoStore> {
    let scratch = ScratchTable::moto(label)?;
    let shared = config(&scratch.endpoint).await;
    let store = DynamoStore::with_config(&shared, &scratch.table, true)
        .await
        .expect("table");
    Some(store)
}

async fn conformance_on(scratch: ScratchTable) {
    let shared = config(&scratch.endpoint).await;
    match DynamoStore::with_config(&shared, &scratch.table, false).await {
        Err(StoreError::Unavailable(m)) => assert!(m.contains("does not exist"), "{m}"),
        other => panic!("a missing table must be refused: {:?}", other.err()),
    }
    let store = DynamoStore::with_config(&shared, &scratch.table, true)
        .await
        .expect("create the table");
    conformance::run(&store).await;
    let again = DynamoStore::with_config(&shared, &scratch.table, false)
        .await
        .expect("reopen");
    assert_eq!(conformance::recorded(&again).await, 13);
}

#[tokio::test]
async fn conformance_on_moto() {
    let Some(table) = ScratchTable::moto("conformance") else {
        return;
    };
    conformance_on(table).await;
}

#[tokio::test]
async fn conformance_on_dynalite() {
    let Some(table) = ScratchTable::dynalite("conformance") else {
        return;
    };
    conformance_on(table).await;
}

/// The suite's question `n`, with or without an embedding and never placed in a cluster.
fn question(user_id: i64, n: usize, embedding: Option<Vec<f32>>) -> NewQuery {
    NewQuery {
        embedding,
        cluster: None,
        ..conformance::query(user_id, n)
    }
}

/// A run is seen whole or not at all: assignments written without their header (a run still
/// being written, or one that failed half-way) change nothing readers see, until a later run
/// commits.
#[tokio::test]
async fn a_run_is_invisible_until_its_header_is_written() {
    let Some(store) = fresh_table("runs").await else {
        return;
    };
    let user = store
        .create_user(conformance::user("dana"))
        .await
        .expect("user");
    let mut ids = Vec::new();
    for n in 0..60 {
        let q = question(user.id, n, Some(vec![n as f32, 1.0]));
        ids.push(store.record_query(q).await.expect("record"));
    }
    let points = store.question_points(1_000).await.expect("points");
    assert_eq!(
        points.iter().map(|p| p.id.clone()).collect::<Vec<_>>(),
        ids,
        "all, oldest first"
    );

    let first = store
        .record_clustering(&conformance::clustering(
            2,
            ids.iter().map(|id| (id.clone(), 0)).collect(),
        ))
        .await
        .expect("run");
    let everyone = store.cluster_members(first).await.expect("members");
    assert_eq!(everyone.len(), 60);

    // A second run that stops after moving ten questions to cluster 1.
    let stopped = store.next("run").await.expect("run id");
    for id in &ids[..10] {
        store.assign(stopped, id, 1).await.expect("assign");
    }
    let latest = store
        .latest_clustering()
        .await
        .expect("latest")
        .expect("run");
    assert_eq!(latest.id, first, "the unfinished run is not the latest");
    assert_eq!(
        store.cluster_members(first).await.expect("members"),
        everyone,
        "the first run keeps every member"
    );
    let history = store.history(user.id, 100, None).await.expect("history");
    assert_eq!(history.len(), 60);
    assert!(
        history.iter().all(|q| q.query.cluster
            == Some(ClusterRef {
                run: first,
                cluster: 0
            })),
        "history shows the committed run only"
    );

    // The next complete run takes over, including the questions the stopped one touched.
    let third = store
        .record_clustering(&conformance::clustering(
            2,
            ids.iter().map(|id| (id.clone(), 1)).collect(),
        ))
        .await
        .expect("run");
    assert!(third > stopped);
    assert!(
        store
            .cluster_members(first)
            .await
            .expect("members")
            .is_empty()
    );
    assert_eq!(
        store.cluster_members(third).await.expect("members").len(),
        60
    );
    let history = store.history(user.id, 100, None).await.expect("history");
    assert!(history.iter().all(|q| q.query.cluster
        == Some(ClusterRef {
            run: third,
            cluster: 1
        })));
}

/// Answers like DynamoDB under load: some requests throttled, the rest passed to the server.
struct ThrottlingProxy {
    target: String,
    client: reqwest::Client,
    seen: AtomicUsize,
    throttled: AtomicUsize,
    refuse_all: AtomicBool,
}

async fn throttle(
    State(proxy): State<Arc<ThrottlingProxy>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let n = proxy.seen.fetch_add(1, Ordering::Relaxed);
    if proxy.refuse_all.load(Ordering::Relaxed) || n % 3 == 1 {
        proxy.throttled.fetch_add(1, Ordering::Relaxed);
        let kind = if n % 2 == 0 {
            "ThrottlingException"
        } else {
            "ProvisionedThroughputExceededException"
        };
        let body = serde_json::json!({
            "__type": format!("com.amazonaws.dynamodb.v20120810#{kind}"),
            "message": "injected by the test",
        });
        return (
            StatusCode::BAD_REQUEST,
            [("content-type", "application/x-amz-json-1.0")],
            body.to_string(),
        )
            .into_response();
    }
    let mut request = proxy.client.post(&proxy.target).body(body);
    for (name, value) in &headers {
        if name != "host" && name != "content-length" {
            request = request.header(name.as_str(), value.as_bytes());
        }
    }
    match request.send().await {
        Ok(r) => {
            let status =
                StatusCode::from_u16(r.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
            let bytes = r.bytes().await.unwrap_or_default();
            (
                status,
                [("content-type", "application/x-amz-json-1.0")],
                bytes,
            )
                .into_response()
        }
        Err(e) => (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    }
}

/// Throttled writes are retried with backoff; one that still fails is an error to the caller,
/// so every acknowledged write is stored and nothing else is.
#[tokio::test]
async fn throttled_writes_are_retried_and_never_acknowledged_unless_stored() {
    let Some(scratch) = ScratchTable::moto("throttling") else {
        return;
    };
    let proxy = Arc::new(ThrottlingProxy {
        target: scratch.endpoint.clone(),
        client: reqwest::Client::new(),
        seen: AtomicUsize::new(0),
        throttled: AtomicUsize::new(0),
        refuse_all: AtomicBool::new(false),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let app = axum::Router::new()
        .fallback(throttle)
        .with_state(proxy.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let shared = config(&format!("http://{address}")).await;
    let store = DynamoStore::with_config(&shared, &scratch.table, true)
        .await
        .expect("table");
    let user = store
        .create_user(conformance::user("erin"))
        .await
        .expect("user");

    let mut writers = JoinSet::new();
    for worker in 0..16 {
        let store = store.clone();
        writers.spawn(async move {
            let mut acknowledged = Vec::new();
            for n in 0..6 {
                let q = question(user.id, worker * 6 + n, None);
                acknowledged.push(store.record_query(q).await.expect("retried until stored"));
            }
            acknowledged
        });
    }
    let mut acknowledged = Vec::new();
    while let Some(ids) = writers.join_next().await {
        acknowledged.extend(ids.expect("writer"));
    }
    assert!(
        proxy.throttled.load(Ordering::Relaxed) >= 30,
        "throttling was injected: {}",
        proxy.throttled.load(Ordering::Relaxed)
    );

    proxy.refuse_all.store(true, Ordering::Relaxed);
    let refused = store.record_query(question(user.id, 999, None)).await;
    assert!(
        matches!(refused, Err(StoreError::Unavailable(_))),
        "a write that stays throttled fails: {refused:?}"
    );
    proxy.refuse_all.store(false, Ordering::Relaxed);

    let mut stored: Vec<String> = store
        .history(user.id, 100, None)
        .await
        .expect("history")
        .into_iter()
        .map(|q| q.id)
        .collect();
    stored.sort();
    acknowledged.sort();
    assert_eq!(stored.len(), 96);
    assert_eq!(stored, acknowledged, "exactly the acknowledged writes");
}

/// DynamoDB's size of an item (attribute names plus values), which its bill counts.
fn billed_bytes(item: &Item) -> usize {
    item.iter()
        .map(|(name, value)| {
            name.len()
                + match value {
                    AttributeValue::S(s) => s.len(),
                    AttributeValue::N(n) => n.len().div_ceil(2) + 1,
                    AttributeValue::B(b) => b.as_ref().len(),
                    _ => 1,
                }
        })
        .sum()
}

/// What recording one question costs in write units (1 unit per started KB, for the table and
/// for each index the item lands in): a typical answer, five cited passages, a 384-dimension
/// embedding, placed in a cluster.
#[test]
fn a_recorded_question_costs_at_most_nine_write_units() {
    let q = NewQuery {
        question: "Comment réinitialiser mon mot de passe Windows depuis le VPN ?".into(),
        answer: "Ouvrez le portail libre-service et suivez les étapes. ".repeat(12),
        sources: (1..=5)
            .map(|page| Source {
                document: "procedures-support-it.pdf".into(),
                page,
                score: 0.873_215,
                excerpt: "é".repeat(200) + &"x".repeat(100),
            })
            .collect(),
        embedding: Some(vec![0.051_234_5; 384]),
        cluster: Some(ClusterRef {
            run: 12,
            cluster: 3,
        }),
        ..question(42, 0, None)
    };
    let id = keys::query_id(1_796_680_000_000, 42);
    let item = query_item(&id, 1_796_680_000_000, &q).expect("item");
    let table = billed_bytes(&item);
    let projected = |names: &[&str]| -> usize {
        item.iter()
            .filter(|(k, _)| names.contains(&k.as_str()) || ["pk", "sk"].contains(&k.as_str()))
            .map(|(k, v)| billed_bytes(&Item::from([(k.clone(), v.clone())])))
            .sum()
    };
    let gsi1 = projected(&[
        keys::GSI1_PK,
        keys::GSI1_SK,
        attrs::QUESTION,
        attrs::EMBEDDING,
        attrs::CREATED_AT,
    ]);
    let gsi2 = projected(&[
        keys::GSI2_PK,
        keys::GSI2_SK,
        attrs::CLUSTER,
        attrs::CREATED_AT,
        attrs::PREV_RUN,
        attrs::PREV_CLUSTER,
    ]);
    let units = |bytes: usize| bytes.div_ceil(1024);
    let total = units(table) + units(gsi1) + units(gsi2);
    eprintln!(
        "recorded question: table {table} B ({} WCU), gsi1 {gsi1} B ({} WCU), gsi2 {gsi2} B ({} WCU): {total} WCU",
        units(table),
        units(gsi1),
        units(gsi2)
    );
    assert!(total <= 9, "{total} write units per question");
    // Reading it back in a history page: strongly consistent, 4 KB per read unit.
    assert!(table.div_ceil(4096) <= 2);
}

/// A history cursor names its owner: another user's is refused rather than read as a position
/// in this user's history.
#[tokio::test]
async fn a_cursor_from_another_users_history_is_refused() {
    let Some(store) = fresh_table("cursors").await else {
        return;
    };
    let frank = store
        .create_user(conformance::user("frank"))
        .await
        .expect("user");
    let gina = store
        .create_user(conformance::user("gina"))
        .await
        .expect("user");
    let franks = store
        .record_query(question(frank.id, 1, None))
        .await
        .expect("record");
    store
        .record_query(question(gina.id, 2, None))
        .await
        .expect("record");
    assert!(matches!(
        store.history(gina.id, 10, Some(&franks)).await,
        Err(StoreError::BadCursor)
    ));
    assert!(
        store
            .history(frank.id, 10, Some(&franks))
            .await
            .expect("own cursor")
            .is_empty()
    );
}
