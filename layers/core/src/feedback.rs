//! Users' verdicts on answers: stored with the question (history shows them, admins list them)
//! and logged to MLflow, so that the share of useful answers can be followed over time.

use crate::store::{Feedback, Store, StoreError, User, now_ms};
use crate::track::{Kind, Run, Tracker};

/// Longer comments are refused rather than cut: the user sees what was kept.
pub const MAX_COMMENT_CHARS: usize = 1_000;

#[derive(Debug, thiserror::Error)]
pub enum FeedbackError {
    #[error("the comment is longer than {MAX_COMMENT_CHARS} characters")]
    CommentTooLong,
    #[error("no question {0} in your history")]
    UnknownQuery(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Records `user`'s verdict on their own question `query_id` (replacing an earlier one) and
/// hands an MLflow run to the tracker. A blank comment is no comment.
pub async fn give(
    store: &dyn Store,
    tracker: Option<&Tracker>,
    user: &User,
    query_id: &str,
    useful: bool,
    comment: Option<&str>,
) -> Result<Feedback, FeedbackError> {
    let comment = comment.map(str::trim).filter(|c| !c.is_empty());
    if comment.is_some_and(|c| c.chars().count() > MAX_COMMENT_CHARS) {
        return Err(FeedbackError::CommentTooLong);
    }
    let feedback = Feedback {
        useful,
        comment: comment.map(str::to_string),
        at: now_ms(),
    };
    if !store
        .record_feedback(user.id, query_id, feedback.clone())
        .await?
    {
        return Err(FeedbackError::UnknownQuery(query_id.to_string()));
    }
    if let Some(tracker) = tracker {
        tracker.track(
            Run::new(Kind::Feedback, format!("feedback-{query_id}"))
                .metric("useful", f64::from(u8::from(useful)))
                .metric("commented", f64::from(u8::from(comment.is_some())))
                .tag("rag.query_id", query_id),
        );
    }
    Ok(feedback)
}
