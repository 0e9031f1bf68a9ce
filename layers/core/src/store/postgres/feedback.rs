//! Users' feedback on answers in PostgreSQL.

use super::{PostgresStore, err, pool_err};
use crate::store::{Feedback, FeedbackRecord, FeedbackStore, StoreError, records};

#[async_trait::async_trait]
impl FeedbackStore for PostgresStore {
    async fn record_feedback(
        &self,
        user_id: i64,
        query_id: &str,
        feedback: Feedback,
    ) -> Result<bool, StoreError> {
        let Ok(query_id) = records::row_id(query_id) else {
            return Ok(false);
        };
        let client = self.pool.get().await.map_err(pool_err)?;
        let written = client
            .execute(
                "INSERT INTO feedback (query_id, useful, comment, at)
                 SELECT id, $3, $4, $5 FROM queries WHERE id = $1 AND user_id = $2
                 ON CONFLICT (query_id) DO UPDATE
                 SET useful = excluded.useful, comment = excluded.comment, at = excluded.at",
                &[
                    &query_id,
                    &user_id,
                    &feedback.useful,
                    &feedback.comment,
                    &feedback.at,
                ],
            )
            .await
            .map_err(err)?;
        Ok(written == 1)
    }

    async fn feedback(
        &self,
        limit: usize,
        before: Option<&str>,
    ) -> Result<Vec<FeedbackRecord>, StoreError> {
        let before = before.map(records::row_id).transpose()?;
        let client = self.pool.get().await.map_err(pool_err)?;
        let rows = client
            .query(
                "SELECT f.query_id, q.user_id, q.question, f.useful, f.comment, f.at
                 FROM feedback f JOIN queries q ON q.id = f.query_id
                 WHERE f.query_id < $1 ORDER BY f.query_id DESC LIMIT $2",
                &[&before.unwrap_or(i64::MAX), &(limit as i64)],
            )
            .await
            .map_err(err)?;
        rows.iter()
            .map(|r| {
                Ok(FeedbackRecord {
                    query_id: r.try_get::<_, i64>(0).map_err(err)?.to_string(),
                    user_id: r.try_get(1).map_err(err)?,
                    question: r.try_get(2).map_err(err)?,
                    feedback: Feedback {
                        useful: r.try_get(3).map_err(err)?,
                        comment: r.try_get(4).map_err(err)?,
                        at: r.try_get(5).map_err(err)?,
                    },
                })
            })
            .collect()
    }
}
