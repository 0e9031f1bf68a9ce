//! The table's keys: how each entity is named in `pk`/`sk` and in the two sparse indexes, and the
//! time-ordered ids that stand in for SQL's auto-increment.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::store::StoreError;

pub const PK: &str = "pk";
pub const SK: &str = "sk";
/// Questions that have an embedding, by month: what clustering reads.
pub const GSI1: &str = "gsi1";
pub const GSI1_PK: &str = "gsi1pk";
pub const GSI1_SK: &str = "gsi1sk";
/// Questions assigned to a clustering run: the run's members.
pub const GSI2: &str = "gsi2";
pub const GSI2_PK: &str = "gsi2pk";
pub const GSI2_SK: &str = "gsi2sk";
/// Epoch seconds after which DynamoDB's TTL deletes an item (failed logins).
pub const EXPIRES_AT: &str = "expires_at";

pub const USERS: &str = "USER";
pub const COUNTERS: &str = "COUNTER";
pub const RUNS: &str = "RUN";
pub const AUDIT: &str = "AUDIT";
pub const FEEDBACK: &str = "FEEDBACK";

/// DynamoDB refuses a sort key over 1,024 bytes. A name that long cannot have been stored (the
/// store takes usernames of at most 64 bytes), so looking it up finds nothing rather than failing.
pub fn fits_sort_key(sk: &str) -> bool {
    sk.len() <= 1024
}

pub fn queries(user_id: i64) -> String {
    format!("Q#{user_id}")
}

pub fn documents(collection: &str) -> String {
    format!("DOC#{collection}")
}

pub fn failures(key: &str) -> String {
    format!("FAIL#{key}")
}

/// A run's header, and its members' index partition.
pub fn run(run: i64) -> String {
    format!("{run:012}")
}

pub fn run_members(run: i64) -> String {
    format!("RUN#{run}")
}

/// The month partition of the embedded questions asked at `ms`: `EMB#2026-12`.
pub fn embedded_month(ms: i64) -> String {
    let (y, m) = month_of(ms);
    format!("EMB#{y:04}-{m:02}")
}

pub fn month_of(ms: i64) -> (i64, i64) {
    let (y, m, _) = crate::dates::civil_from_days(ms.div_euclid(86_400_000));
    (y, m)
}

/// The month before (y, m).
pub fn previous_month((y, m): (i64, i64)) -> (i64, i64) {
    if m == 1 { (y - 1, 12) } else { (y, m - 1) }
}

pub fn month_partition((y, m): (i64, i64)) -> String {
    format!("EMB#{y:04}-{m:02}")
}

/// A millisecond timestamp as a sort key prefix: fixed width, so strings sort as numbers.
pub fn at(ms: i64) -> String {
    format!("{:013}", ms.max(0))
}

/// Sort keys written in the same millisecond by one process keep their order; two processes
/// differ by their random prefix (and a conditional write catches the rest).
static SEQUENCE: AtomicU64 = AtomicU64::new(0);

fn process_tag() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    static TAG: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *TAG.get_or_init(|| {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u32(std::process::id());
        h.finish() & 0xff_ffff
    })
}

/// A new time-ordered id, `<13-digit ms>-<12 hex digits>`: an audit entry's id, and the start of
/// a query's.
pub fn time_id(ms: i64) -> String {
    let seq = SEQUENCE.fetch_add(1, Ordering::Relaxed) & 0xff_ffff;
    format!("{}-{:06x}{seq:06x}", at(ms), process_tag())
}

fn is_time_id(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 26
        && b[..13].iter().all(u8::is_ascii_digit)
        && b[13] == b'-'
        && b[14..]
            .iter()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c))
}

/// A query's id: its sort key followed by its owner, so that the id alone locates the item
/// (clustering assigns questions by id).
pub fn query_id(ms: i64, user_id: i64) -> String {
    format!("{}-{user_id}", time_id(ms))
}

/// (owner, sort key) of a query id this store handed out.
pub fn parse_query_id(id: &str) -> Result<(i64, &str), StoreError> {
    let (sk, user) = id.rsplit_once('-').ok_or(StoreError::BadCursor)?;
    let owner: i64 = user.parse().map_err(|_| StoreError::BadCursor)?;
    if !is_time_id(sk) || owner < 1 || owner.to_string() != user {
        return Err(StoreError::BadCursor);
    }
    Ok((owner, id))
}

/// An audit id this store handed out.
pub fn check_time_id(id: &str) -> Result<&str, StoreError> {
    is_time_id(id).then_some(id).ok_or(StoreError::BadCursor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_by_time_and_round_trip() {
        let a = query_id(1_764_000_000_000, 7);
        let b = query_id(1_764_000_000_000, 7);
        let c = query_id(1_764_000_000_001, 7);
        assert!(a < b && b < c, "{a} {b} {c}");
        assert_eq!(parse_query_id(&a).expect("parse"), (7, a.as_str()));
        assert_eq!(check_time_id(&time_id(5)).expect("audit id").len(), 26);
        for bad in [
            "",
            "7",
            "abc-7",
            &format!("{a}x"),
            &a.replace("-7", "-0"),
            &a.replace("-7", "-07"),
            &a[..20],
        ] {
            assert!(parse_query_id(bad).is_err(), "{bad}");
        }
        assert!(check_time_id(&a).is_err(), "a query id is not an audit id");
    }

    #[test]
    fn months_partition_the_embedded_questions() {
        // 2026-12-07 and 2024-01-31 (UTC).
        assert_eq!(embedded_month(1_796_680_000_000), "EMB#2026-12");
        assert_eq!(month_of(1_706_700_000_000), (2024, 1));
        assert_eq!(previous_month((2024, 1)), (2023, 12));
        assert_eq!(month_partition(previous_month((2026, 12))), "EMB#2026-11");
    }
}
