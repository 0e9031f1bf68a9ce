//! Failed logins and the audit trail in DynamoDB.
//!
//! A failure is one item in its key's partition, sorted by time: counting a window is one query.
//! Its `expires_at` lets DynamoDB's TTL delete it after the window; servers without TTL
//! (dynalite) rely on the deletion done as each key records a new failure.

use super::item::{self, Builder};
use super::keys::{self, AUDIT, SK};
use super::{DynamoStore, attrs, s};
use crate::store::{AttemptStore, AuditEntry, AuditStore, NewAuditEntry, StoreError, now_ms};

impl DynamoStore {
    /// Keys of `key`'s failures, those before `before` when given.
    async fn failure_keys(
        &self,
        key: &str,
        before: Option<i64>,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let partition = keys::failures(key);
        let before = before.map(keys::at);
        let query = self
            .partition(&partition, before.as_deref())
            .projection_expression("sk");
        self.collect(query, None)
            .await?
            .iter()
            .map(|i| Ok((partition.clone(), item::s(i, SK)?)))
            .collect()
    }
}

#[async_trait::async_trait]
impl AttemptStore for DynamoStore {
    async fn record_failures(
        &self,
        keys: &[String],
        at: i64,
        forget_before: i64,
    ) -> Result<(), StoreError> {
        let window_ms = (at - forget_before).max(0);
        for key in keys {
            let failure = Builder::key(keys::failures(key), keys::time_id(at))
                .n(attrs::AT, at)
                .n(keys::EXPIRES_AT, (at + window_ms) / 1000 + 1)
                .build();
            self.put(failure).await?;
            let expired = self.failure_keys(key, Some(forget_before)).await?;
            self.delete(expired).await?;
        }
        Ok(())
    }

    async fn failures(&self, key: &str, since: i64) -> Result<(u32, Option<i64>), StoreError> {
        let query = self
            .query()
            .key_condition_expression("pk = :pk AND sk >= :since")
            .expression_attribute_values(":pk", s(keys::failures(key)))
            .expression_attribute_values(":since", s(keys::at(since)))
            .projection_expression("#at")
            .expression_attribute_names("#at", attrs::AT)
            .consistent_read(true);
        let items = self.collect(query, None).await?;
        let oldest = items
            .first()
            .map(|i| item::n::<i64>(i, attrs::AT))
            .transpose()?;
        Ok((items.len() as u32, oldest))
    }

    async fn clear_failures(&self, key: &str) -> Result<(), StoreError> {
        let all = self.failure_keys(key, None).await?;
        self.delete(all).await
    }
}

#[async_trait::async_trait]
impl AuditStore for DynamoStore {
    async fn record_audit(&self, e: NewAuditEntry) -> Result<(), StoreError> {
        let at = now_ms();
        let entry = Builder::key(AUDIT, keys::time_id(at))
            .n(attrs::AT, at)
            .s(attrs::ACTOR, e.actor)
            .s(attrs::ACTION, e.action)
            .s(attrs::TARGET, e.target)
            .opt_s(attrs::DETAIL, e.detail)
            .build();
        if self.put_new(entry).await? {
            Ok(())
        } else {
            Err(StoreError::Conflict("audit entry id".into()))
        }
    }

    async fn audit(
        &self,
        limit: usize,
        before: Option<&str>,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let before = before.map(keys::check_time_id).transpose()?;
        let query = self.partition(AUDIT, before).scan_index_forward(false);
        self.collect(query, Some(limit))
            .await?
            .iter()
            .map(|i| {
                Ok(AuditEntry {
                    id: item::s(i, SK)?,
                    at: item::n(i, attrs::AT)?,
                    entry: NewAuditEntry {
                        actor: item::s(i, attrs::ACTOR)?,
                        action: item::s(i, attrs::ACTION)?,
                        target: item::s(i, attrs::TARGET)?,
                        detail: item::opt_s(i, attrs::DETAIL)?,
                    },
                })
            })
            .collect()
    }
}
