//! Users' feedback on answers in the embedded store.

use rusqlite::params;

use super::{SqliteStore, err};
use crate::store::{Feedback, FeedbackRecord, FeedbackStore, StoreError, records};

#[async_trait::async_trait]
impl FeedbackStore for SqliteStore {
    async fn record_feedback(
        &self,
        user_id: i64,
        query_id: &str,
        feedback: Feedback,
    ) -> Result<bool, StoreError> {
        let Ok(query_id) = records::row_id(query_id) else {
            return Ok(false);
        };
        self.with(move |c| {
            let written = c
                .execute(
                    "INSERT INTO feedback (query_id, useful, comment, at)
                     SELECT id, ?3, ?4, ?5 FROM queries WHERE id = ?1 AND user_id = ?2
                     ON CONFLICT (query_id) DO UPDATE
                     SET useful = excluded.useful, comment = excluded.comment, at = excluded.at",
                    params![
                        query_id,
                        user_id,
                        feedback.useful,
                        feedback.comment,
                        feedback.at
                    ],
                )
                .map_err(err)?;
            Ok(written == 1)
        })
        .await
    }

    async fn feedback(
        &self,
        limit: usize,
        before: Option<&str>,
    ) -> Result<Vec<FeedbackRecord>, StoreError> {
        let before = before.map(records::row_id).transpose()?;
        self.with(move |c| {
            let mut stmt = c
                .prepare(
                    "SELECT f.query_id, q.user_id, q.question, f.useful, f.comment, f.at
                     FROM feedback f JOIN queries q ON q.id = f.query_id
                     WHERE f.query_id < ?1 ORDER BY f.query_id DESC LIMIT ?2",
                )
                .map_err(err)?;
            let rows = stmt
                .query_map(params![before.unwrap_or(i64::MAX), limit as i64], |r| {
                    Ok(FeedbackRecord {
                        query_id: r.get::<_, i64>(0)?.to_string(),
                        user_id: r.get(1)?,
                        question: r.get(2)?,
                        feedback: Feedback {
                            useful: r.get(3)?,
                            comment: r.get(4)?,
                            at: r.get(5)?,
                        },
                    })
                })
                .map_err(err)?;
            rows.map(|r| r.map_err(err)).collect()
        })
        .await
    }
}
