//! Failed logins and the audit trail in PostgreSQL.

use super::{PostgresStore, err, pool_err};
use crate::store::{
    AttemptStore, AuditEntry, AuditStore, NewAuditEntry, StoreError, now_ms, records,
};

#[async_trait::async_trait]
impl AttemptStore for PostgresStore {
    async fn record_failures(
        &self,
        keys: &[String],
        at: i64,
        forget_before: i64,
    ) -> Result<(), StoreError> {
        let mut client = self.pool.get().await.map_err(pool_err)?;
        let tx = client.transaction().await.map_err(err)?;
        tx.execute(
            "DELETE FROM login_failures WHERE at < $1",
            &[&forget_before],
        )
        .await
        .map_err(err)?;
        tx.execute(
            "INSERT INTO login_failures (key, at) SELECT k, $2 FROM unnest($1::text[]) AS k",
            &[&keys, &at],
        )
        .await
        .map_err(err)?;
        tx.commit().await.map_err(err)
    }

    async fn failures(&self, key: &str, since: i64) -> Result<(u32, Option<i64>), StoreError> {
        let client = self.pool.get().await.map_err(pool_err)?;
        let row = client
            .query_one(
                "SELECT COUNT(*), MIN(at) FROM login_failures WHERE key = $1 AND at >= $2",
                &[&key, &since],
            )
            .await
            .map_err(err)?;
        let count: i64 = row.try_get(0).map_err(err)?;
        Ok((count as u32, row.try_get(1).map_err(err)?))
    }

    async fn clear_failures(&self, key: &str) -> Result<(), StoreError> {
        let client = self.pool.get().await.map_err(pool_err)?;
        client
            .execute("DELETE FROM login_failures WHERE key = $1", &[&key])
            .await
            .map_err(err)?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl AuditStore for PostgresStore {
    async fn record_audit(&self, e: NewAuditEntry) -> Result<(), StoreError> {
        let client = self.pool.get().await.map_err(pool_err)?;
        client
            .execute(
                "INSERT INTO audit (at, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5)",
                &[&now_ms(), &e.actor, &e.action, &e.target, &e.detail],
            )
            .await
            .map_err(err)?;
        Ok(())
    }

    async fn audit(
        &self,
        limit: usize,
        before: Option<&str>,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let before = before.map(records::row_id).transpose()?;
        let client = self.pool.get().await.map_err(pool_err)?;
        let rows = client
            .query(
                "SELECT id, at, actor, action, target, detail FROM audit
                 WHERE id < $1 ORDER BY id DESC LIMIT $2",
                &[&before.unwrap_or(i64::MAX), &(limit as i64)],
            )
            .await
            .map_err(err)?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    id: r.try_get::<_, i64>(0).map_err(err)?.to_string(),
                    at: r.try_get(1).map_err(err)?,
                    entry: NewAuditEntry {
                        actor: r.try_get(2).map_err(err)?,
                        action: r.try_get(3).map_err(err)?,
                        target: r.try_get(4).map_err(err)?,
                        detail: r.try_get(5).map_err(err)?,
                    },
                })
            })
            .collect()
    }
}
