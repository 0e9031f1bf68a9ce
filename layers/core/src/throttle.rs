//! Login throttling: failed attempts counted per account and per client address over a sliding
//! window, in the store, so that every process (each Lambda function too) sees the same counts.
//! Password hashing runs on blocking threads, a bounded number at a time, so a flood of logins
//! cannot stall the async workers that answer everything else.

use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};

use crate::store::{AttemptStore, StoreError, now_ms};

/// How long failures are remembered.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Failures per account within the window before its logins answer 429. A successful login
/// resets the count.
pub const PER_ACCOUNT: u32 = 10;
/// Failures per client address within the window (an office behind one NAT shares it).
pub const PER_ADDRESS: u32 = 100;

/// Too many failures: when to try again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    pub retry_after_secs: u64,
}

/// What one login attempt is counted against.
#[derive(Debug, Clone)]
pub struct Keys {
    account: String,
    address: Option<String>,
}

impl Keys {
    /// `client` is the caller's address when known (not known: only the account counts).
    pub fn new(username: &str, client: Option<&str>) -> Keys {
        // Bounded: a username is at most 64 characters, anything longer is not an account.
        let username: String = username.chars().take(64).collect();
        Keys {
            account: format!("user:{username}"),
            address: client.map(|c| format!("addr:{c}")),
        }
    }

    fn limits(&self) -> impl Iterator<Item = (&String, u32)> {
        std::iter::once((&self.account, PER_ACCOUNT))
            .chain(self.address.iter().map(|a| (a, PER_ADDRESS)))
    }
}

/// Where an attempt stands before its password is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    /// Set when the account or the address has used up its failures.
    pub throttled: Option<Throttled>,
    /// The account's failures in the window: a success only needs to forget them when some.
    account_failures: u32,
}

/// Reads the failures of an attempt's account and address.
pub async fn check(store: &dyn AttemptStore, keys: &Keys) -> Result<Standing, StoreError> {
    let now = now_ms();
    let window = WINDOW.as_millis() as i64;
    let mut standing = Standing {
        throttled: None,
        account_failures: 0,
    };
    for (key, limit) in keys.limits() {
        let (failures, oldest) = store.failures(key, now - window).await?;
        if *key == keys.account {
            standing.account_failures = failures;
        }
        if failures >= limit {
            let free_at = oldest.unwrap_or(now) + window;
            let retry_after_secs = ((free_at - now).max(1000) as u64).div_ceil(1000);
            standing.throttled = Some(Throttled { retry_after_secs });
            break;
        }
    }
    Ok(standing)
}

/// Counts a failed attempt against its account and address.
pub async fn failed(store: &dyn AttemptStore, keys: &Keys) -> Result<(), StoreError> {
    let now = now_ms();
    let keys: Vec<String> = keys.limits().map(|(k, _)| k.clone()).collect();
    store
        .record_failures(&keys, now, now - WINDOW.as_millis() as i64)
        .await
}

/// A successful login forgets its account's failures (not its address's); without any, it
/// writes nothing, so an ordinary login costs two reads.
pub async fn succeeded(
    store: &dyn AttemptStore,
    keys: &Keys,
    standing: &Standing,
) -> Result<(), StoreError> {
    if standing.account_failures == 0 {
        return Ok(());
    }
    store.clear_failures(&keys.account).await
}

/// A turn to hash a password: at most one fewer at a time than there are cores (at least
/// one), so that one core is always left for the async workers. Login takes its turn before it
/// checks the counts, so a flood is counted as it is hashed rather than all let through at once.
pub async fn hash_turn() -> Result<SemaphorePermit<'static>, StoreError> {
    static TURNS: std::sync::OnceLock<Semaphore> = std::sync::OnceLock::new();
    TURNS
        .get_or_init(|| {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            Semaphore::new(cores.saturating_sub(1).max(1))
        })
        .acquire()
        .await
        .map_err(|e| StoreError::Unavailable(e.to_string()))
}

/// Runs CPU-bound hashing on a blocking thread (call it holding a [`hash_turn`]).
pub async fn off_workers<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| StoreError::Unavailable(format!("password hashing: {e}")))
}
