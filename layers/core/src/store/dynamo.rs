//! The DynamoDB store (aws-sdk-dynamodb): one table, single-table design (the access patterns
//! and keys are in docs/decisions.md, "The DynamoDB store"). Endpoint, region and credentials
//! come from the standard AWS chain, so `AWS_ENDPOINT_URL` points it at a local server.
//!
//! No operation uses a transaction: uniqueness comes from conditional writes, ids from
//! time-ordered keys (and two counters for the rare ones), and a clustering run from a header
//! written after its assignments. So DynamoDB Local, moto and dynalite all serve it.

mod clusters;
mod item;
mod keys;
mod security;
mod table;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, ReturnValue, WriteRequest};

use self::item::{Builder, Item};
use self::keys::{COUNTERS, PK, SK, USERS};
use super::{
    ClusterRef, DocumentRecord, DocumentStatus, DocumentStore, NewQuery, NewUser, QueryRecord,
    QueryStore, Role, Store, StoreError, User, UserStore, now_ms, records,
};

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

fn to_user(item: &Item) -> Result<User, StoreError> {
    Ok(User {
        id: item::n(item, attrs::ID)?,
        username: item::s(item, attrs::USERNAME)?,
        password_hash: item::s(item, attrs::PASSWORD_HASH)?,
        role: super::parse_role(&item::s(item, attrs::ROLE)?)?,
        active: item::bool(item, attrs::ACTIVE)?,
        created_at: item::n(item, attrs::CREATED_AT)?,
    })
}

#[async_trait::async_trait]
impl UserStore for DynamoStore {
    async fn create_user(&self, user: NewUser) -> Result<User, StoreError> {
        let id = self.next("user").await?;
        let created = now_ms();
        let item = Builder::key(USERS, &user.username)
            .n(attrs::ID, id)
            .s(attrs::USERNAME, &user.username)
            .s(attrs::PASSWORD_HASH, &user.password_hash)
            .s(attrs::ROLE, user.role.as_str())
            .bool(attrs::ACTIVE, true)
            .n(attrs::CREATED_AT, created)
            .build();
        if !self.put_new(item).await? {
            return Err(StoreError::Conflict(format!("user {}", user.username)));
        }
        Ok(User {
            id,
            username: user.username,
            password_hash: user.password_hash,
            role: user.role,
            active: true,
            created_at: created,
        })
    }

    async fn user(&self, username: &str) -> Result<Option<User>, StoreError> {
        self.get(USERS, username)
            .await?
            .as_ref()
            .map(to_user)
            .transpose()
    }

    async fn users(&self) -> Result<Vec<User>, StoreError> {
        let query = self
            .query()
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(USERS))
            .consistent_read(true);
        self.collect(query, None)
            .await?
            .iter()
            .map(to_user)
            .collect()
    }

    async fn update_user(
        &self,
        username: &str,
        active: Option<bool>,
        role: Option<Role>,
    ) -> Result<Option<User>, StoreError> {
        let mut sets = Vec::new();
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(USERS))
            .key(SK, s(username))
            .condition_expression("attribute_exists(pk)")
            .return_values(ReturnValue::AllNew);
        if let Some(active) = active {
            sets.push("active = :active");
            update = update.expression_attribute_values(":active", AttributeValue::Bool(active));
        }
        if let Some(role) = role {
            sets.push("#role = :role");
            update = update
                .expression_attribute_names("#role", attrs::ROLE)
                .expression_attribute_values(":role", s(role.as_str()));
        }
        if sets.is_empty() {
            return self.user(username).await;
        }
        match update
            .update_expression(format!("SET {}", sets.join(", ")))
            .send()
            .await
        {
            Ok(out) => to_user(&out.attributes.unwrap_or_default()).map(Some),
            Err(e) if condition_failed(&e) => Ok(None),
            Err(e) => Err(self.err(&e)),
        }
    }
}

fn query_item(id: &str, created: i64, q: &NewQuery) -> Result<Item, StoreError> {
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
    })
}

/// An item's (run, cluster) pair under the two names given.
fn assignment(item: &Item, run: &str, cluster: &str) -> Result<Option<ClusterRef>, StoreError> {
    let run: Option<i64> = item::opt_n(item, run)?;
    let cluster: Option<usize> = item::opt_n(item, cluster)?;
    Ok(run
        .zip(cluster)
        .filter(|(run, _)| *run > 0)
        .map(|(run, cluster)| ClusterRef { run, cluster }))
}

/// Whether a flag attribute is set.
fn flag(item: &Item, name: &str) -> bool {
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
        let mut query = self
            .query()
            .expression_attribute_values(":pk", s(keys::queries(user_id)))
            .scan_index_forward(false)
            .consistent_read(true);
        query = match before {
            Some(cursor) => {
                let (owner, sk) = keys::parse_query_id(cursor)?;
                if owner != user_id {
                    return Err(StoreError::BadCursor);
                }
                query
                    .key_condition_expression("pk = :pk AND sk < :before")
                    .expression_attribute_values(":before", s(sk))
            }
            None => query.key_condition_expression("pk = :pk"),
        };
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

fn to_document(item: &Item) -> Result<DocumentRecord, StoreError> {
    Ok(DocumentRecord {
        collection: item::s(item, attrs::COLLECTION)?,
        name: item::s(item, attrs::NAME)?,
        status: DocumentStatus::parse(&item::s(item, attrs::STATUS)?)?,
        reason: item::opt_s(item, attrs::REASON)?,
        sha256: item::opt_s(item, attrs::SHA256)?,
        pages: item::n(item, attrs::PAGES)?,
        chunks: item::n(item, attrs::CHUNKS)?,
        index_version: item::opt_s(item, attrs::INDEX_VERSION)?,
        updated_at: item::n(item, attrs::UPDATED_AT)?,
    })
}

#[async_trait::async_trait]
impl DocumentStore for DynamoStore {
    async fn record_document(&self, d: DocumentRecord) -> Result<(), StoreError> {
        let item = Builder::key(keys::documents(&d.collection), &d.name)
            .s(attrs::COLLECTION, &d.collection)
            .s(attrs::NAME, &d.name)
            .s(attrs::STATUS, d.status.as_str())
            .opt_s(attrs::REASON, d.reason.as_deref())
            .opt_s(attrs::SHA256, d.sha256.as_deref())
            .n(attrs::PAGES, d.pages)
            .n(attrs::CHUNKS, d.chunks)
            .opt_s(attrs::INDEX_VERSION, d.index_version.as_deref())
            .n(attrs::UPDATED_AT, d.updated_at)
            .build();
        self.put(item).await
    }

    async fn documents(&self, collection: &str) -> Result<Vec<DocumentRecord>, StoreError> {
        let query = self
            .query()
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(keys::documents(collection)))
            .consistent_read(true);
        self.collect(query, None)
            .await?
            .iter()
            .map(to_document)
            .collect()
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
