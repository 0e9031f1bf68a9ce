//! Finding a question in a user's history by its words.
//!
//! Every store pages a user's history by id; searching reads those pages and keeps the
//! questions that contain the text, compared folded (case and accents ignored: "reinitialiser"
//! finds "Réinitialiser"). One implementation for SQLite, PostgreSQL and DynamoDB, and a
//! user's history is small; each call reads at most [`SCAN_LIMIT`] questions and says where it
//! stopped, so a long history is searched page by page.

use crate::store::{QueryRecord, Store, StoreError};
use crate::text::fold;

/// Questions read per search call at most.
pub const SCAN_LIMIT: usize = 2_000;
/// Questions read per store call.
const BATCH: usize = 100;

/// A page of matches.
#[derive(Debug)]
pub struct Found {
    /// Newest first, at most the limit asked.
    pub items: Vec<QueryRecord>,
    /// Where the next call resumes: the id of the last question read, `None` when the history
    /// was read to its end.
    pub next: Option<String>,
}

/// Up to `limit` of `user_id`'s questions containing `text`, newest first, after the question
/// whose id is `before` when given.
pub async fn search(
    store: &dyn Store,
    user_id: i64,
    text: &str,
    limit: usize,
    before: Option<&str>,
) -> Result<Found, StoreError> {
    let needle = fold(text.trim());
    let mut cursor = before.map(str::to_string);
    let mut items = Vec::new();
    let mut read = 0;
    loop {
        let page = store
            .history(user_id, BATCH.min(SCAN_LIMIT - read), cursor.as_deref())
            .await?;
        let full = page.len() == BATCH.min(SCAN_LIMIT - read);
        for record in page {
            read += 1;
            cursor = Some(record.id.clone());
            if fold(&record.query.question).contains(&needle) {
                items.push(record);
                if items.len() == limit {
                    return Ok(Found {
                        items,
                        next: cursor,
                    });
                }
            }
        }
        if !full {
            return Ok(Found { items, next: None });
        }
        if read >= SCAN_LIMIT {
            return Ok(Found {
                items,
                next: cursor,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::conformance::{query, user};
    use crate::store::{QueryStore, SqliteStore, UserStore};

    async fn store_with(questions: &[&str]) -> (SqliteStore, i64, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(&dir.path().join("rag.db")).expect("open");
        let alice = store.create_user(user("alice")).await.expect("alice");
        let bob = store.create_user(user("bob")).await.expect("bob");
        for (n, q) in questions.iter().enumerate() {
            let mut asked = query(alice.id, n);
            asked.question = q.to_string();
            store.record_query(asked).await.expect("record");
            let mut theirs = query(bob.id, n);
            theirs.question = q.to_string();
            store.record_query(theirs).await.expect("record");
        }
        (store, alice.id, dir)
    }

    fn questions(found: &Found) -> Vec<&str> {
        found
            .items
            .iter()
            .map(|r| r.query.question.as_str())
            .collect()
    }

    #[tokio::test]
    async fn finds_the_users_own_questions_ignoring_case_and_accents() {
        let (store, alice, _dir) = store_with(&[
            "Comment réinitialiser mon mot de passe ?",
            "VPN refuse la connexion",
            "RÉINITIALISER le PIN de la carte",
        ])
        .await;
        let found = search(&store, alice, "reinitialiser", 10, None)
            .await
            .expect("search");
        assert_eq!(
            questions(&found),
            [
                "RÉINITIALISER le PIN de la carte",
                "Comment réinitialiser mon mot de passe ?"
            ]
        );
        assert_eq!(found.next, None, "the whole history was read");
        let none = search(&store, alice, "imprimante", 10, None)
            .await
            .expect("search");
        assert!(none.items.is_empty() && none.next.is_none());
    }

    #[tokio::test]
    async fn pages_resume_where_the_last_one_stopped() {
        let many: Vec<String> = (0..250)
            .map(|n| format!("question {n} {}", if n % 3 == 0 { "vpn" } else { "wifi" }))
            .collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        let (store, alice, _dir) = store_with(&refs).await;
        let mut seen = Vec::new();
        let mut before: Option<String> = None;
        loop {
            let page = search(&store, alice, "VPN", 30, before.as_deref())
                .await
                .expect("search");
            assert!(page.items.len() <= 30);
            seen.extend(page.items.iter().map(|r| r.query.question.clone()));
            match page.next {
                Some(next) => before = Some(next),
                None => break,
            }
        }
        let expected: Vec<String> = (0..250)
            .rev()
            .filter(|n| n % 3 == 0)
            .map(|n| format!("question {n} vpn"))
            .collect();
        assert_eq!(seen, expected);
    }
}
