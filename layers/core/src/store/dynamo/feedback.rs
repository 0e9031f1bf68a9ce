//! Users' feedback in DynamoDB: on the question's own item (history reads it there) and, for
//! admins, a copy in one partition sorted by question id.

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

use super::item::{self, Builder, Item};
use super::keys::{self, PK, SK};
use super::{DynamoStore, attrs, condition_failed, n, s};
use crate::store::{Feedback, FeedbackRecord, FeedbackStore, StoreError};

/// The feedback held by an item (a question or its copy), if any.
pub(super) fn feedback_of(item: &Item) -> Result<Option<Feedback>, StoreError> {
    let Some(at) = item::opt_n::<i64>(item, attrs::FEEDBACK_AT)? else {
        return Ok(None);
    };
    Ok(Some(Feedback {
        useful: item::bool(item, attrs::USEFUL)?,
        comment: item::opt_s(item, attrs::COMMENT)?,
        at,
    }))
}

#[async_trait::async_trait]
impl FeedbackStore for DynamoStore {
    async fn record_feedback(
        &self,
        user_id: i64,
        query_id: &str,
        feedback: Feedback,
    ) -> Result<bool, StoreError> {
        match keys::parse_query_id(query_id) {
            Ok((owner, _)) if owner == user_id => {}
            _ => return Ok(false),
        }
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(keys::queries(user_id)))
            .key(SK, s(query_id))
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#useful", attrs::USEFUL)
            .expression_attribute_names("#comment", attrs::COMMENT)
            .expression_attribute_names("#at", attrs::FEEDBACK_AT)
            .expression_attribute_values(":useful", AttributeValue::Bool(feedback.useful))
            .expression_attribute_values(":at", n(feedback.at))
            .return_values(ReturnValue::AllNew);
        let expression = match &feedback.comment {
            Some(comment) => {
                update = update.expression_attribute_values(":comment", s(comment));
                "SET #useful = :useful, #comment = :comment, #at = :at"
            }
            None => "SET #useful = :useful, #at = :at REMOVE #comment",
        };
        let question = match update.update_expression(expression).send().await {
            Ok(out) => item::s(&out.attributes.unwrap_or_default(), attrs::QUESTION)?,
            Err(e) if condition_failed(&e) => return Ok(false),
            Err(e) => return Err(self.err(&e)),
        };
        // Second, so that the admins' list never names feedback the question does not hold; a
        // failure here fails the call, and giving the feedback again completes it.
        let copy = Builder::key(keys::FEEDBACK.to_string(), query_id)
            .n(attrs::USER_ID, user_id)
            .s(attrs::QUESTION, &question)
            .bool(attrs::USEFUL, feedback.useful)
            .opt_s(attrs::COMMENT, feedback.comment.as_deref())
            .n(attrs::FEEDBACK_AT, feedback.at)
            .build();
        self.put(copy).await?;
        Ok(true)
    }

    async fn feedback(
        &self,
        limit: usize,
        before: Option<&str>,
    ) -> Result<Vec<FeedbackRecord>, StoreError> {
        let before = before
            .map(keys::parse_query_id)
            .transpose()?
            .map(|(_, id)| id);
        let query = self
            .partition(keys::FEEDBACK, before)
            .scan_index_forward(false);
        self.collect(query, Some(limit))
            .await?
            .iter()
            .map(|item| {
                Ok(FeedbackRecord {
                    query_id: item::s(item, SK)?,
                    user_id: item::n(item, attrs::USER_ID)?,
                    question: item::s(item, attrs::QUESTION)?,
                    feedback: feedback_of(item)?.ok_or_else(|| {
                        StoreError::Invalid("a feedback item without its time".into())
                    })?,
                })
            })
            .collect()
    }
}
