//! Failed logins and the audit trail in the embedded store.

use rusqlite::{params, params_from_iter};

use super::{SqliteStore, err};
use crate::store::{
    AttemptStore, AuditEntry, AuditStore, NewAuditEntry, StoreError, now_ms, records,
};

#[async_trait::async_trait]
impl AttemptStore for SqliteStore {
    async fn record_failures(
        &self,
        keys: &[String],
        at: i64,
        forget_before: i64,
    ) -> Result<(), StoreError> {
        let keys = keys.to_vec();
        self.with(move |c| {
            let tx = c.transaction().map_err(err)?;
            tx.execute("DELETE FROM login_failures WHERE at < ?1", [forget_before])
                .map_err(err)?;
            for key in &keys {
                tx.execute(
                    "INSERT INTO login_failures (key, at) VALUES (?1, ?2)",
                    params![key, at],
                )
                .map_err(err)?;
            }
            tx.commit().map_err(err)
        })
        .await
    }

    async fn failures(&self, key: &str, since: i64) -> Result<(u32, Option<i64>), StoreError> {
        let key = key.to_string();
        self.with(move |c| {
            c.query_row(
                "SELECT COUNT(*), MIN(at) FROM login_failures WHERE key = ?1 AND at >= ?2",
                params![key, since],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(err)
        })
        .await
    }

    async fn clear_failures(&self, key: &str) -> Result<(), StoreError> {
        let key = key.to_string();
        self.with(move |c| {
            c.execute("DELETE FROM login_failures WHERE key = ?1", [key])
                .map_err(err)?;
            Ok(())
        })
        .await
    }
}

#[async_trait::async_trait]
impl AuditStore for SqliteStore {
    async fn record_audit(&self, e: NewAuditEntry) -> Result<(), StoreError> {
        self.with(move |c| {
            c.execute(
                "INSERT INTO audit (at, actor, action, target, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![now_ms(), e.actor, e.action, e.target, e.detail],
            )
            .map_err(err)?;
            Ok(())
        })
        .await
    }

    async fn audit(
        &self,
        limit: usize,
        before: Option<&str>,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let before = before.map(records::row_id).transpose()?;
        self.with(move |c| {
            let mut stmt = c
                .prepare(
                    "SELECT id, at, actor, action, target, detail FROM audit
                     WHERE id < ?1 ORDER BY id DESC LIMIT ?2",
                )
                .map_err(err)?;
            let bounds = [before.unwrap_or(i64::MAX), limit as i64];
            let rows = stmt
                .query_map(params_from_iter(bounds), |r| {
                    Ok(AuditEntry {
                        id: r.get::<_, i64>(0)?.to_string(),
                        at: r.get(1)?,
                        entry: NewAuditEntry {
                            actor: r.get(2)?,
                            action: r.get(3)?,
                            target: r.get(4)?,
                            detail: r.get(5)?,
                        },
                    })
                })
                .map_err(err)?;
            rows.map(|r| r.map_err(err)).collect()
        })
        .await
    }
}
