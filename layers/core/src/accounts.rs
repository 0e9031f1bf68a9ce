//! Accounts: Argon2id password hashes, HS256 JWTs with expiry, login, request authentication
//! and account management.

use std::time::{SystemTime, UNIX_EPOCH};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::store::{NewUser, Role, StoreError, User, UserStore};

/// Shortest accepted signing secret, in bytes.
pub const MIN_SECRET_BYTES: usize = 32;
/// Default token lifetime.
pub const DEFAULT_TTL_SECS: u64 = 3600;
/// Clock skew tolerated when checking `exp`.
const LEEWAY_SECS: u64 = 30;
const MIN_PASSWORD_CHARS: usize = 8;
const MAX_PASSWORD_CHARS: usize = 256;

/// Why a login, a token or an account operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Unknown user or wrong password (deliberately the same answer).
    #[error("invalid username or password")]
    InvalidCredentials,
    #[error("missing bearer token")]
    MissingToken,
    #[error("invalid or expired token")]
    InvalidToken,
    #[error("this account is deactivated")]
    Deactivated,
    #[error("administrator role required")]
    NotAdmin,
    #[error("invalid account data: {0}")]
    InvalidAccount(String),
    #[error("user {0} not found")]
    UnknownUser(String),
    #[error("the JWT secret must be at least {MIN_SECRET_BYTES} bytes")]
    WeakSecret,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Token contents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: Role,
    pub iat: u64,
    pub exp: u64,
}

/// An issued token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Token {
    pub token: String,
    pub token_type: String,
    pub expires_in: u64,
}

/// Signs and verifies tokens.
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl_secs: u64,
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Tokens {
    /// Refuses secrets shorter than [`MIN_SECRET_BYTES`].
    pub fn new(secret: &[u8], ttl_secs: u64) -> Result<Tokens, AuthError> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(AuthError::WeakSecret);
        }
        // Pinned to HS256: tokens with another "alg" (including "none") are rejected.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = LEEWAY_SECS;
        validation.set_required_spec_claims(&["exp", "sub", "iat"]);
        Ok(Tokens {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl_secs: ttl_secs.max(1),
        })
    }

    pub fn issue(&self, user: &User) -> Result<Token, AuthError> {
        let iat = now_secs();
        let claims = Claims {
            sub: user.username.clone(),
            role: user.role,
            iat,
            exp: iat + self.ttl_secs,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|_| AuthError::InvalidToken)?;
        Ok(Token {
            token,
            token_type: "Bearer".into(),
            expires_in: self.ttl_secs,
        })
    }

    pub fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|d| d.claims)
            .map_err(|_| AuthError::InvalidToken)
    }
}

/// An Argon2id PHC string for a password.
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AuthError::InvalidAccount(e.to_string()))
}

fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A valid hash of no real password: unknown users are checked against it so that their
/// answer takes as long as a wrong password.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password never issued").unwrap_or_default())
}

/// Checks credentials and issues a token. Unknown user and wrong password answer the same,
/// after the same amount of hashing work.
pub async fn login(
    store: &dyn UserStore,
    tokens: &Tokens,
    username: &str,
    password: &str,
) -> Result<Token, AuthError> {
    let user = store.user(username).await?;
    let hash = user
        .as_ref()
        .map_or(decoy_hash(), |u| u.password_hash.as_str());
    let password_ok = verify_password(hash, password);
    let user = match user {
        Some(u) if password_ok => u,
        _ => return Err(AuthError::InvalidCredentials),
    };
    if !user.active {
        return Err(AuthError::Deactivated);
    }
    tokens.issue(&user)
}

/// The active user a bearer token belongs to. Looked up on every request, so deactivation
/// takes effect on the next request even for tokens already issued.
pub async fn authenticate(
    store: &dyn UserStore,
    tokens: &Tokens,
    bearer: Option<&str>,
) -> Result<User, AuthError> {
    let token = bearer.ok_or(AuthError::MissingToken)?;
    let claims = tokens.verify(token)?;
    let user = store
        .user(&claims.sub)
        .await?
        .ok_or(AuthError::InvalidToken)?;
    if !user.active {
        return Err(AuthError::Deactivated);
    }
    Ok(user)
}

/// Refuses anyone but an administrator.
pub fn require_admin(user: &User) -> Result<(), AuthError> {
    if user.role == Role::Admin {
        Ok(())
    } else {
        Err(AuthError::NotAdmin)
    }
}

fn check_username(username: &str) -> Result<(), AuthError> {
    let ok = (2..=64).contains(&username.len())
        && username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c));
    if ok {
        Ok(())
    } else {
        Err(AuthError::InvalidAccount(
            "username: 2-64 characters among letters, digits and . _ - @".into(),
        ))
    }
}

/// Creates an account with a hashed password.
pub async fn create_user(
    store: &dyn UserStore,
    username: &str,
    password: &str,
    role: Role,
) -> Result<User, AuthError> {
    check_username(username)?;
    let n = password.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&n) {
        return Err(AuthError::InvalidAccount(format!(
            "password: {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters"
        )));
    }
    let user = NewUser {
        username: username.to_string(),
        password_hash: hash_password(password)?,
        role,
    };
    Ok(store.create_user(user).await?)
}

/// Activates or deactivates an account and/or changes its role.
pub async fn update_user(
    store: &dyn UserStore,
    username: &str,
    active: Option<bool>,
    role: Option<Role>,
) -> Result<User, AuthError> {
    store
        .update_user(username, active, role)
        .await?
        .ok_or_else(|| AuthError::UnknownUser(username.to_string()))
}

/// Creates the first administrator when the store has no account yet (from the CLI or
/// `RAG_ADMIN_USERNAME`/`RAG_ADMIN_PASSWORD` at first start). Returns whether it created one.
pub async fn bootstrap_admin(
    store: &dyn UserStore,
    username: &str,
    password: &str,
) -> Result<bool, AuthError> {
    if !store.users().await?.is_empty() {
        return Ok(false);
    }
    match create_user(store, username, password, Role::Admin).await {
        Ok(_) => Ok(true),
        Err(AuthError::Store(StoreError::Conflict(_))) => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SqliteStore;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(&dir.path().join("db")).expect("open");
        (dir, store)
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(matches!(
            Tokens::new(b"short", 60),
            Err(AuthError::WeakSecret)
        ));
    }

    #[tokio::test]
    async fn login_issues_a_token_that_authenticates() {
        let (_d, store) = store();
        let tokens = Tokens::new(SECRET, 60).expect("tokens");
        create_user(&store, "alice", "correct horse", Role::User)
            .await
            .expect("create");
        assert!(matches!(
            login(&store, &tokens, "alice", "wrong password").await,
            Err(AuthError::InvalidCredentials)
        ));
        assert!(matches!(
            login(&store, &tokens, "nobody", "correct horse").await,
            Err(AuthError::InvalidCredentials)
        ));
        let t = login(&store, &tokens, "alice", "correct horse")
            .await
            .expect("login");
        assert_eq!((t.token_type.as_str(), t.expires_in), ("Bearer", 60));
        let user = authenticate(&store, &tokens, Some(&t.token))
            .await
            .expect("auth");
        assert_eq!(user.username, "alice");

        update_user(&store, "alice", Some(false), None)
            .await
            .expect("deactivate");
        assert!(matches!(
            authenticate(&store, &tokens, Some(&t.token)).await,
            Err(AuthError::Deactivated)
        ));
        assert!(matches!(
            login(&store, &tokens, "alice", "correct horse").await,
            Err(AuthError::Deactivated)
        ));
    }

    #[tokio::test]
    async fn forged_expired_and_unsigned_tokens_are_refused() {
        let (_d, store) = store();
        let tokens = Tokens::new(SECRET, 60).expect("tokens");
        let user = create_user(&store, "bob", "long enough", Role::User)
            .await
            .expect("create");
        let valid = tokens.issue(&user).expect("issue").token;

        let other = Tokens::new(b"another secret of thirty-two bytes!!", 60).expect("tokens");
        assert!(matches!(other.verify(&valid), Err(AuthError::InvalidToken)));

        let mut parts: Vec<String> = valid.split('.').map(String::from).collect();
        parts[1].push('A');
        assert!(tokens.verify(&parts.join(".")).is_err(), "tampered payload");

        // {"alg":"none"} with the same claims and no signature.
        let none_header = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0";
        let unsigned = format!(
            "{none_header}.{}.",
            valid.split('.').nth(1).unwrap_or_default()
        );
        assert!(tokens.verify(&unsigned).is_err(), "alg none");

        let claims = Claims {
            sub: "bob".into(),
            role: Role::User,
            iat: now_secs() - 7200,
            exp: now_secs() - 3600,
        };
        let expired = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(SECRET),
        )
        .expect("encode");
        assert!(tokens.verify(&expired).is_err(), "expired");
        assert!(matches!(
            authenticate(&store, &tokens, None).await,
            Err(AuthError::MissingToken)
        ));
    }

    #[tokio::test]
    async fn unknown_users_take_as_long_as_wrong_passwords() {
        let (_d, store) = store();
        let tokens = Tokens::new(SECRET, 60).expect("tokens");
        create_user(&store, "alice", "correct horse", Role::User)
            .await
            .expect("create");
        let median = |user: &'static str| {
            let store = &store;
            let tokens = &tokens;
            async move {
                let mut times = Vec::new();
                for _ in 0..5 {
                    let t = std::time::Instant::now();
                    let _ = login(store, tokens, user, "wrong password").await;
                    times.push(t.elapsed());
                }
                times.sort();
                times[2]
            }
        };
        let wrong = median("alice").await;
        let unknown = median("nobody").await;
        // Without the decoy hash an unknown user is answered ~1000x faster.
        assert!(
            unknown * 3 > wrong,
            "unknown {unknown:?} vs wrong password {wrong:?}"
        );
    }

    #[tokio::test]
    async fn first_admin_is_created_once() {
        let (_d, store) = store();
        assert!(
            bootstrap_admin(&store, "admin", "administrator")
                .await
                .expect("bootstrap")
        );
        assert!(
            !bootstrap_admin(&store, "admin2", "administrator")
                .await
                .expect("again")
        );
        let admin = store.user("admin").await.expect("get").expect("exists");
        assert_eq!(admin.role, Role::Admin);
        assert!(require_admin(&admin).is_ok());
        assert!(matches!(
            create_user(&store, "x", "pw", Role::User).await,
            Err(AuthError::InvalidAccount(_))
        ));
    }
}
