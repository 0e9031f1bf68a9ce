//! The DynamoDB store (aws-sdk-dynamodb): one table, single-table design (the access patterns
//! and keys are in docs/decisions.md, "The DynamoDB store"). Endpoint, region and credentials
//! come from the standard AWS chain, so `AWS_ENDPOINT_URL` points it at a local server.
//!
//! No operation uses a transaction: uniqueness comes from conditional writes, ids from
//! time-ordered keys (and two counters for the rare ones), and a clustering run from a header
//! written after its assignments. So DynamoDB Local, moto and dynalite all serve it.

mod clusters;
mod documents;
mod feedback;
mod item;
mod keys;
mod queries;
mod security;
mod table;
mod users;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, ReturnValue, WriteRequest};

use self::item::Item;
use self::keys::{COUNTERS, PK, SK};
use super::{Store, StoreError};

/// Attribute names, one place for each.
mod attrs {
    pub const N: &str = "n";
    pub const ID: &str = "id";
    pub const USERNAME: &str = "username";
    pub const PASSWORD_HASH: &str = "password_hash";
    pub const ROLE: &str = "role";
    pub const ACTIVE: &str = "active";
    pub const CREATED_AT: &str = "created_at";
    pub const USER_ID: &str = "user_id";
    pub const QUESTION: &str = "question";
    pub const ANSWER: &str = "answer";
    pub const SOURCES: &str = "sources";
    pub const BEST_SCORE: &str = "best_score";
    pub const GROUNDED: &str = "grounded";
    pub const LATENCY_MS: &str = "latency_ms";
    pub const INDEX_VERSION: &str = "index_version";
    pub const GENERATOR: &str = "generator";
    pub const MODEL: &str = "model";
    pub const EMBEDDING: &str = "embedding";
    pub const RUN: &str = "run";
    pub const CLUSTER: &str = "cluster";
    pub const PREV_RUN: &str = "prev_run";
    pub const PREV_CLUSTER: &str = "prev_cluster";
    /// Set when a clustering run wrote the assignment (not the query, placing itself).
    pub const BY_RUN: &str = "by_run";
    pub const PREV_BY_RUN: &str = "prev_by_run";
    pub const SUMMARY: &str = "summary";
    pub const COLLECTION: &str = "collection";
    pub const NAME: &str = "name";
    pub const STATUS: &str = "status";
    pub const REASON: &str = "reason";
    pub const SHA256: &str = "sha256";
    pub const PAGES: &str = "pages";
    pub const CHUNKS: &str = "chunks";
    pub const UPDATED_AT: &str = "updated_at";
    pub const AT: &str = "at";
    pub const ACTOR: &str = "actor";
    pub const ACTION: &str = "action";
    pub const TARGET: &str = "target";
    pub const DETAIL: &str = "detail";
    pub const USEFUL: &str = "useful";
    pub const COMMENT: &str = "comment";
    pub const FEEDBACK_AT: &str = "feedback_at";
}

/// Throttled and transient failures are retried with the SDK's exponential backoff and jitter,
/// starting small (DynamoDB answers in milliseconds) and within a request's patience.
fn retry() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(10)
        .with_initial_backoff(Duration::from_millis(25))
        .with_max_backoff(Duration::from_secs(2))
}

/// BatchWriteItem takes at most 25 requests.
const BATCH: usize = 25;

/// A DynamoDB table.
#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    /// Runs known to be committed (they never become uncommitted).
    committed_runs: Arc<Mutex<HashSet<i64>>>,
}

fn unavailable<E: std::error::Error + 'static, R: std::fmt::Debug>(
    table: &str,
    e: &SdkError<E, R>,
) -> StoreError {
    StoreError::Unavailable(format!(
        "DynamoDB table {table}: {}",
        DisplayErrorContext(e)
    ))
}

/// Whether a conditional write's condition failed.
fn condition_failed<E, R>(e: &SdkError<E, R>) -> bool
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    e.as_service_error()
        .and_then(|s| s.code())
        .is_some_and(|c| c == "ConditionalCheckFailedException")
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

impl DynamoStore {
    /// Opens `table` at the endpoint the AWS chain names. A missing table is created when
    /// `create_missing` (outside Lambda), else refused with a clear error.
    pub async fn open(table: &str, create_missing: bool) -> Result<DynamoStore, StoreError> {
        Self::with_config(&crate::aws::shared_config().await, table, create_missing).await
    }

    /// [`DynamoStore::open`] with an explicit AWS configuration.
    pub async fn with_config(
        shared: &aws_config::SdkConfig,
        table: &str,
        create_missing: bool,
    ) -> Result<DynamoStore, StoreError> {
        let config = aws_sdk_dynamodb::config::Builder::from(shared)
            .retry_config(retry())
            .build();
        let store = DynamoStore {
            client: Client::from_conf(config),
            table: table.to_string(),
            committed_runs: Arc::default(),
        };
        if !store.exists().await? {
            if !create_missing {
                return Err(StoreError::Unavailable(format!(
                    "DynamoDB table {table} does not exist (the SAM template creates it)"
                )));
            }
            tracing::info!(table, "creating the DynamoDB table");
            table::create(&store.client, table).await?;
        }
        Ok(store)
    }

    /// A read of a key that is never written: cheap, and it tells a missing table apart.
    async fn exists(&self) -> Result<bool, StoreError> {
        match self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, s(COUNTERS))
            .key(SK, s("ping"))
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(unavailable(&self.table, &e)),
        }
    }

    fn err<E: std::error::Error + 'static, R: std::fmt::Debug>(
        &self,
        e: &SdkError<E, R>,
    ) -> StoreError {
        unavailable(&self.table, e)
    }

    async fn put(&self, item: Item) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| self.err(&e))?;
        Ok(())
    }

    /// Puts `item` unless its key exists; `false` when it did.
    async fn put_new(&self, item: Item) -> Result<bool, StoreError> {
        match self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(self.err(&e)),
        }
    }

    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, s(pk))
            .key(SK, s(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.err(&e))?;
        Ok(out.item)
    }

    fn query(&self) -> QueryFluentBuilder {
        self.client.query().table_name(&self.table)
    }

    /// A strongly consistent query of partition `pk`, of the sort keys below `before` when given.
    fn partition(&self, pk: &str, before: Option<&str>) -> QueryFluentBuilder {
        let query = self
            .query()
            .expression_attribute_values(":pk", s(pk))
            .consistent_read(true);
        match before {
            Some(sk) => query
                .key_condition_expression("pk = :pk AND sk < :before")
                .expression_attribute_values(":before", s(sk)),
            None => query.key_condition_expression("pk = :pk"),
        }
    }

    /// Runs `query` page by page until `limit` items (all of them when `None`).
    async fn collect(
        &self,
        query: QueryFluentBuilder,
        limit: Option<usize>,
    ) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        if limit == Some(0) {
            return Ok(items);
        }
        let mut start = None;
        loop {
            let mut page = query.clone().set_exclusive_start_key(start);
            if let Some(limit) = limit {
                page = page.limit((limit - items.len()) as i32);
            }
            let out = page.send().await.map_err(|e| self.err(&e))?;
            items.extend(out.items.unwrap_or_default());
            start = out.last_evaluated_key;
            if start.is_none() || limit.is_some_and(|l| items.len() >= l) {
                return Ok(items);
            }
        }
    }

    /// The next value of a counter: for the rare ids that must stay numbers (users, runs).
    async fn next(&self, counter: &str) -> Result<i64, StoreError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(COUNTERS))
            .key(SK, s(counter))
            .update_expression("ADD #n :one")
            .expression_attribute_names("#n", attrs::N)
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|e| self.err(&e))?;
        item::n(&out.attributes.unwrap_or_default(), attrs::N)
    }

    /// The current value of a counter (0 before its first use).
    async fn counter(&self, counter: &str) -> Result<i64, StoreError> {
        match self.get(COUNTERS, counter).await? {
            Some(item) => item::n(&item, attrs::N),
            None => Ok(0),
        }
    }

    /// Deletes items by key, 25 at a time, retrying what DynamoDB leaves unprocessed.
    async fn delete(&self, keys: Vec<(String, String)>) -> Result<(), StoreError> {
        for chunk in keys.chunks(BATCH) {
            let requests = chunk
                .iter()
                .map(|(pk, sk)| {
                    let delete = DeleteRequest::builder()
                        .key(PK, s(pk))
                        .key(SK, s(sk))
                        .build()
                        .map_err(|e| StoreError::Invalid(e.to_string()))?;
                    Ok(WriteRequest::builder().delete_request(delete).build())
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            self.batch_write(requests).await?;
        }
        Ok(())
    }

    async fn batch_write(&self, mut requests: Vec<WriteRequest>) -> Result<(), StoreError> {
        let mut backoff = Duration::from_millis(25);
        for _ in 0..10 {
            let out = self
                .client
                .batch_write_item()
                .request_items(&self.table, requests)
                .send()
                .await
                .map_err(|e| self.err(&e))?;
            requests = out
                .unprocessed_items
                .and_then(|mut u| u.remove(&self.table))
                .unwrap_or_default();
            if requests.is_empty() {
                return Ok(());
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(2));
        }
        Err(StoreError::Unavailable(format!(
            "DynamoDB table {}: {} writes still unprocessed after retries",
            self.table,
            requests.len()
        )))
    }
}

#[async_trait::async_trait]
impl Store for DynamoStore {
    async fn ping(&self) -> Result<(), StoreError> {
        match self.exists().await? {
            true => Ok(()),
            false => Err(StoreError::Unavailable(format!(
                "DynamoDB table {} does not exist",
                self.table
            ))),
        }
    }

    fn kind(&self) -> &'static str {
        "dynamodb"
    }
}

#[cfg(test)]
mod tests;
