//! Question history in DynamoDB: each user's questions in one partition, sorted by their
//! time-ordered ids.

use aws_sdk_dynamodb::types::AttributeValue;

use super::item::{self, Builder, Item};
use super::keys::{self, SK};
use super::{DynamoStore, attrs};
use crate::store::{ClusterRef, NewQuery, QueryRecord, QueryStore, StoreError, now_ms, records};

pub(super) fn query_item(id: &str, created: i64, q: &NewQuery) -> Result<Item, StoreError> {
    let mut item = Builder::key(keys::queries(q.user_id), id)
        .n(attrs::USER_ID, q.user_id)
        .s(attrs::QUESTION, &q.question)
        .s(attrs::ANSWER, &q.answer)
        .s(
            attrs::SOURCES,
            records::sources_to_json(&q.sources)?.to_string(),
        )
        .n(attrs::BEST_SCORE, q.best_score)
        .bool(attrs::GROUNDED, q.grounded)
        .n(attrs::LATENCY_MS, q.latency_ms)
        .s(attrs::INDEX_VERSION, &q.index_version)
        .n(attrs::CREATED_AT, created)
        .s(attrs::GENERATOR, &q.generator)
        .opt_s(attrs::MODEL, q.model.as_deref());
    if let Some(embedding) = &q.embedding {
        item = item
            .floats(attrs::EMBEDDING, embedding)
            .s(keys::GSI1_PK, keys::embedded_month(created))
            .s(keys::GSI1_SK, id);
    }
    if let Some(c) = q.cluster {
        item = item
            .n(attrs::RUN, c.run)
            .n(attrs::CLUSTER, c.cluster)
            .s(keys::GSI2_PK, keys::run_members(c.run))
            .s(keys::GSI2_SK, id);
    }
    Ok(item.build())
}

fn to_query(item: &Item) -> Result<QueryRecord, StoreError> {
    Ok(QueryRecord {
        id: item::s(item, SK)?,
        created_at: item::n(item, attrs::CREATED_AT)?,
        query: NewQuery {
            user_id: item::n(item, attrs::USER_ID)?,
            question: item::s(item, attrs::QUESTION)?,
            answer: item::s(item, attrs::ANSWER)?,
            sources: records::sources_from_json(item::json(item, attrs::SOURCES)?)?,
            best_score: item::n(item, attrs::BEST_SCORE)?,
            grounded: item::bool(item, attrs::GROUNDED)?,
            latency_ms: item::n(item, attrs::LATENCY_MS)?,
            index_version: item::s(item, attrs::INDEX_VERSION)?,
            generator: item::s(item, attrs::GENERATOR)?,
            model: item::opt_s(item, attrs::MODEL)?,
            embedding: item::opt_floats(item, attrs::EMBEDDING)?,
            cluster: None,
        },
        feedback: super::feedback::feedback_of(item)?,
    })
}

/// An item's (run, cluster) pair under the two names given.
pub(super) fn assignment(
    item: &Item,
    run: &str,
    cluster: &str,
) -> Result<Option<ClusterRef>, StoreError> {
    let run: Option<i64> = item::opt_n(item, run)?;
    let cluster: Option<usize> = item::opt_n(item, cluster)?;
    Ok(run
        .zip(cluster)
        .filter(|(run, _)| *run > 0)
        .map(|(run, cluster)| ClusterRef { run, cluster }))
}

/// Whether a flag attribute is set.
pub(super) fn flag(item: &Item, name: &str) -> bool {
    matches!(item.get(name), Some(AttributeValue::Bool(true)))
}

#[async_trait::async_trait]
impl QueryStore for DynamoStore {
    async fn record_query(&self, q: NewQuery) -> Result<String, StoreError> {
        let created = now_ms();
        // Ids are unique by construction; the condition turns the improbable collision into a
        // second try rather than an overwrite.
        for _ in 0..3 {
            let id = keys::query_id(created, q.user_id);
            if self.put_new(query_item(&id, created, &q)?).await? {
                return Ok(id);
            }
        }
        Err(StoreError::Conflict("query id".into()))
    }

    async fn history(
        &self,
        user_id: i64,
        limit: usize,
        before: Option<&str>,
    ) -> Result<Vec<QueryRecord>, StoreError> {
        let before = match before {
            Some(cursor) => {
                let (owner, sk) = keys::parse_query_id(cursor)?;
                if owner != user_id {
                    return Err(StoreError::BadCursor);
                }
                Some(sk)
            }
            None => None,
        };
        let query = self
            .partition(&keys::queries(user_id), before)
            .scan_index_forward(false);
        let items = self.collect(query, Some(limit)).await?;
        let mut records = Vec::with_capacity(items.len());
        for item in &items {
            let mut record = to_query(item)?;
            record.query.cluster = self.visible_assignment(item).await?;
            records.push(record);
        }
        Ok(records)
    }
}
