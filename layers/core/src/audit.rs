//! The audit trail: who changed accounts, documents and the index, and when, so that an
//! unexpected index change can be explained.

use crate::store::{AuditStore, NewAuditEntry};

/// Who acted when no administrator did: the bucket's notifications.
pub const BUCKET_EVENT: &str = "bucket event";
/// Who acted from the command line (an operator with access to the store).
pub const CLI: &str = "cli";

/// Records a change that has already been made. A failure is logged, not returned: the change
/// stands, and failing its request now would make the caller retry what is done.
pub async fn record(
    store: &dyn AuditStore,
    actor: &str,
    action: &str,
    target: &str,
    detail: Option<String>,
) {
    let entry = NewAuditEntry {
        actor: actor.to_string(),
        action: action.to_string(),
        target: target.to_string(),
        detail,
    };
    if let Err(e) = store.record_audit(entry.clone()).await {
        tracing::error!(error = %e, ?entry, "audit entry not recorded");
    }
}
