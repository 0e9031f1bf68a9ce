//! Accounts: Argon2id password hashes, JWTs with expiry (HS256, or EdDSA/ES256 with public keys
//! the edge can check), login, request authentication and account management.

use std::time::{SystemTime, UNIX_EPOCH};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rag_contract::token::{PublicKeys, Verifier};
use serde::{Deserialize, Serialize};

use crate::audit;
use crate::store::{NewUser, Role, Store, StoreError, User, UserStore};
use crate::throttle::{self, Keys, Throttled};

pub use rag_contract::Claims;
pub use rag_contract::limits::DEFAULT_TOKEN_TTL_SECS as DEFAULT_TTL_SECS;
pub use rag_contract::token::MIN_SECRET_BYTES;
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
    /// The signing or verifying keys are unusable (a start-up error).
    #[error("{0}")]
    Keys(String),
    #[error("this service holds no signing key (JWT_PRIVATE_KEY or JWT_SECRET)")]
    CannotSign,
    #[error("too many failed logins: try again in {} s", .0.retry_after_secs)]
    Throttled(Throttled),
    #[error("this would leave no active administrator")]
    LastAdmin,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An issued token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Token {
    pub token: String,
    pub token_type: String,
    pub expires_in: u64,
}

/// Signs (where this service logs people in) and verifies tokens.
pub struct Tokens {
    signer: Option<Signer>,
    verifier: Verifier,
}

struct Signer {
    key: EncodingKey,
    header: Header,
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Tokens {
    /// HS256: one secret signs and verifies. Refuses secrets shorter than
    /// [`MIN_SECRET_BYTES`].
    pub fn new(secret: &[u8], ttl_secs: u64) -> Result<Tokens, AuthError> {
        let verifier = Verifier::new(ttl_secs)
            .with_secret(secret)
            .map_err(|_| AuthError::WeakSecret)?;
        Ok(Tokens {
            signer: Some(Signer {
                key: EncodingKey::from_secret(secret),
                header: Header::new(Algorithm::HS256),
            }),
            verifier,
        })
    }

    /// Public-key tokens: `jwks` (`JWT_PUBLIC_KEYS`) verifies, by `kid`; `private_key`
    /// (`JWT_PRIVATE_KEY`, an Ed25519 or P-256 PKCS#8 PEM), where given, signs under the `kid`
    /// of the JWKS entry holding its public half (found by signing a probe, so a key missing
    /// from the JWKS is a start-up error, not tokens nobody accepts). `secret`, where given,
    /// keeps HS256 tokens valid, and signs when there is no private key: the migration from
    /// a shared secret.
    pub fn with_keys(
        jwks: &str,
        private_key: Option<&str>,
        secret: Option<&[u8]>,
        ttl_secs: u64,
    ) -> Result<Tokens, AuthError> {
        let keys = PublicKeys::parse(jwks).map_err(|e| AuthError::Keys(e.to_string()))?;
        let mut tokens = match secret {
            Some(secret) => Tokens::new(secret, ttl_secs)?,
            None => Tokens {
                signer: None,
                verifier: Verifier::new(ttl_secs),
            },
        };
        tokens.verifier = tokens.verifier.with_public_keys(keys);
        if let Some(pem) = private_key {
            tokens.signer = Some(tokens.signer_for(pem)?);
        }
        Ok(tokens)
    }

    fn signer_for(&self, pem: &str) -> Result<Signer, AuthError> {
        let (key, algorithm) = EncodingKey::from_ed_pem(pem.as_bytes())
            .map(|k| (k, Algorithm::EdDSA))
            .or_else(|_| EncodingKey::from_ec_pem(pem.as_bytes()).map(|k| (k, Algorithm::ES256)))
            .map_err(|_| {
                AuthError::Keys(
                    "JWT_PRIVATE_KEY: expected an Ed25519 or P-256 private key in PKCS#8 PEM"
                        .into(),
                )
            })?;
        let probe = Claims {
            sub: "probe".into(),
            role: Role::User,
            iat: now_secs(),
            exp: now_secs() + 1,
        };
        for kid in self.verifier.public_keys().kids() {
            let mut header = Header::new(algorithm);
            header.kid = Some(kid.to_string());
            let signed = jsonwebtoken::encode(&header, &probe, &key);
            if signed.is_ok_and(|t| self.verifier.verify(&t).is_ok()) {
                return Ok(Signer { key, header });
            }
        }
        Err(AuthError::Keys(
            "JWT_PRIVATE_KEY's public key is not in JWT_PUBLIC_KEYS".into(),
        ))
    }

    /// Whether this service can issue tokens.
    pub fn can_sign(&self) -> bool {
        self.signer.is_some()
    }

    /// The `kid` new tokens carry (`None`: HS256).
    pub fn signing_kid(&self) -> Option<&str> {
        self.signer.as_ref()?.header.kid.as_deref()
    }

    /// The public keys as a JWKS document, `None` with HS256 only.
    pub fn jwks(&self) -> Option<&str> {
        let keys = self.verifier.public_keys();
        (!keys.is_empty()).then(|| keys.document())
    }

    pub fn issue(&self, user: &User) -> Result<Token, AuthError> {
        let signer = self.signer.as_ref().ok_or(AuthError::CannotSign)?;
        let iat = now_secs();
        let ttl_secs = self.verifier.ttl_secs();
        let claims = Claims {
            sub: user.username.clone(),
            role: user.role,
            iat,
            exp: iat + ttl_secs,
        };
        let token = jsonwebtoken::encode(&signer.header, &claims, &signer.key)
            .map_err(|_| AuthError::InvalidToken)?;
        Ok(Token {
            token,
            token_type: "Bearer".into(),
            expires_in: ttl_secs,
        })
    }

    /// Checks signature (the algorithm pinned by the key), expiry, and that the token is one
    /// this service could have issued (see [`Verifier::verify`]).
    pub fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        self.verifier
            .verify(token)
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
/// after the same amount of hashing work. Failures are counted per account and per client
/// address (`client`, when known); past the limits the answer is `Throttled`, without hashing.
pub async fn login(
    store: &dyn Store,
    tokens: &Tokens,
    username: &str,
    password: &str,
    client: Option<&str>,
) -> Result<Token, AuthError> {
    let keys = Keys::new(username, client);
    let _turn = throttle::hash_turn().await?;
    let standing = throttle::check(store, &keys).await?;
    if let Some(throttled) = standing.throttled {
        return Err(AuthError::Throttled(throttled));
    }
    let user = store.user(username).await?;
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let password = password.to_string();
    let password_ok = throttle::off_workers(move || match &hash {
        Some(hash) => verify_password(hash, &password),
        None => verify_password(decoy_hash(), &password),
    })
    .await?;
    let user = match user {
        Some(u) if password_ok => u,
        _ => {
            throttle::failed(store, &keys).await?;
            return Err(AuthError::InvalidCredentials);
        }
    };
    throttle::succeeded(store, &keys, &standing).await?;
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

/// Creates an account with a hashed password, recorded in the audit trail as `actor`'s doing.
pub async fn create_user(
    store: &dyn Store,
    actor: &str,
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
    let password_hash = {
        let _turn = throttle::hash_turn().await?;
        let password = password.to_string();
        throttle::off_workers(move || hash_password(&password)).await??
    };
    let user = store
        .create_user(NewUser {
            username: username.to_string(),
            password_hash,
            role,
        })
        .await?;
    audit::record(
        store,
        actor,
        "user.create",
        username,
        Some(format!("role {}", role.as_str())),
    )
    .await;
    Ok(user)
}

/// Activates or deactivates an account and/or changes its role, recorded in the audit trail.
/// Refuses to deactivate or demote the last active administrator: nobody could manage
/// accounts afterwards.
pub async fn update_user(
    store: &dyn Store,
    actor: &str,
    username: &str,
    active: Option<bool>,
    role: Option<Role>,
) -> Result<User, AuthError> {
    let current = store
        .user(username)
        .await?
        .ok_or_else(|| AuthError::UnknownUser(username.to_string()))?;
    let removes_an_admin = current.active
        && current.role == Role::Admin
        && (active == Some(false) || role == Some(Role::User));
    if removes_an_admin {
        let admins = store
            .users()
            .await?
            .iter()
            .filter(|u| u.active && u.role == Role::Admin)
            .count();
        if admins <= 1 {
            return Err(AuthError::LastAdmin);
        }
    }
    let user = store
        .update_user(username, active, role)
        .await?
        .ok_or_else(|| AuthError::UnknownUser(username.to_string()))?;
    if let Some(active) = active.filter(|a| *a != current.active) {
        let action = if active {
            "user.activate"
        } else {
            "user.deactivate"
        };
        audit::record(store, actor, action, username, None).await;
    }
    if let Some(role) = role.filter(|r| *r != current.role) {
        let detail = format!("{} -> {}", current.role.as_str(), role.as_str());
        audit::record(store, actor, "user.role", username, Some(detail)).await;
    }
    Ok(user)
}

/// Creates the first administrator when the store has no account yet (from the CLI or
/// `RAG_ADMIN_USERNAME`/`RAG_ADMIN_PASSWORD` at first start). Returns whether it created one.
pub async fn bootstrap_admin(
    store: &dyn Store,
    username: &str,
    password: &str,
) -> Result<bool, AuthError> {
    if !store.users().await?.is_empty() {
        return Ok(false);
    }
    match create_user(store, "bootstrap", username, password, Role::Admin).await {
        Ok(_) => Ok(true),
        Err(AuthError::Store(StoreError::Conflict(_))) => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{AttemptStore, AuditStore, SqliteStore};

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
        create_user(&store, "test", "alice", "correct horse", Role::User)
            .await
            .expect("create");
        assert!(matches!(
            login(&store, &tokens, "alice", "wrong password", None).await,
            Err(AuthError::InvalidCredentials)
        ));
        assert!(matches!(
            login(&store, &tokens, "nobody", "correct horse", None).await,
            Err(AuthError::InvalidCredentials)
        ));
        let t = login(&store, &tokens, "alice", "correct horse", None)
            .await
            .expect("login");
        assert_eq!((t.token_type.as_str(), t.expires_in), ("Bearer", 60));
        let user = authenticate(&store, &tokens, Some(&t.token))
            .await
            .expect("auth");
        assert_eq!(user.username, "alice");

        update_user(&store, "test", "alice", Some(false), None)
            .await
            .expect("deactivate");
        assert!(matches!(
            authenticate(&store, &tokens, Some(&t.token)).await,
            Err(AuthError::Deactivated)
        ));
        assert!(matches!(
            login(&store, &tokens, "alice", "correct horse", None).await,
            Err(AuthError::Deactivated)
        ));
    }

    #[tokio::test]
    async fn forged_expired_and_unsigned_tokens_are_refused() {
        let (_d, store) = store();
        let tokens = Tokens::new(SECRET, 60).expect("tokens");
        let user = create_user(&store, "test", "bob", "long enough", Role::User)
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
        create_user(&store, "test", "alice", "correct horse", Role::User)
            .await
            .expect("create");
        let median = |user: &'static str| {
            let store = &store;
            let tokens = &tokens;
            async move {
                let mut times = Vec::new();
                for _ in 0..5 {
                    let t = std::time::Instant::now();
                    let _ = login(store, tokens, user, "wrong password", None).await;
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

    /// A token signed with the right key but not as this service issues them.
    fn signed(claims: &Claims) -> String {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &EncodingKey::from_secret(SECRET),
        )
        .expect("encode")
    }

    #[test]
    fn tokens_from_the_future_or_living_too_long_are_refused() {
        let tokens = Tokens::new(SECRET, 600).expect("tokens");
        let now = now_secs();
        let claims = |iat: u64, exp: u64| Claims {
            sub: "bob".into(),
            role: Role::Admin,
            iat,
            exp,
        };
        assert!(tokens.verify(&signed(&claims(now, now + 600))).is_ok());
        assert!(
            tokens
                .verify(&signed(&claims(now + 3600, now + 3700)))
                .is_err(),
            "issued in the future"
        );
        assert!(
            tokens
                .verify(&signed(&claims(now, now + 10 * 365 * 86_400)))
                .is_err(),
            "ten-year lifetime"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn failed_logins_are_throttled_per_account_and_per_address() {
        let (_d, store) = store();
        let tokens = Tokens::new(SECRET, 60).expect("tokens");
        create_user(&store, "test", "alice", "correct horse", Role::User)
            .await
            .expect("create");
        for _ in 0..throttle::PER_ACCOUNT {
            assert!(matches!(
                login(&store, &tokens, "alice", "wrong", Some("10.0.0.1")).await,
                Err(AuthError::InvalidCredentials)
            ));
        }
        // Even the right password waits now, from any address: the account is being guessed.
        match login(&store, &tokens, "alice", "correct horse", Some("10.0.0.2")).await {
            Err(AuthError::Throttled(t)) => {
                assert!((850..=900).contains(&t.retry_after_secs), "{t:?}")
            }
            other => panic!("expected Throttled, got {other:?}"),
        }
        // One address trying many accounts hits its own limit.
        let mut refused_at = None;
        for n in 0..=throttle::PER_ADDRESS {
            let user = format!("guess{n}");
            match login(&store, &tokens, &user, "wrong", Some("10.0.0.3")).await {
                Err(AuthError::InvalidCredentials) => {}
                Err(AuthError::Throttled(_)) => {
                    refused_at = Some(n);
                    break;
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(refused_at, Some(throttle::PER_ADDRESS));
        // Another address and account are not affected, and success clears the account.
        create_user(&store, "test", "carol", "correct horse", Role::User)
            .await
            .expect("create");
        for _ in 0..3 {
            let _ = login(&store, &tokens, "carol", "wrong", Some("10.0.0.4")).await;
        }
        login(&store, &tokens, "carol", "correct horse", Some("10.0.0.4"))
            .await
            .expect("login");
        assert_eq!(store.failures("user:carol", 0).await.expect("count").0, 0);
    }

    #[tokio::test]
    async fn the_last_administrator_stays() {
        let (_d, store) = store();
        create_user(&store, "test", "root", "administrator", Role::Admin)
            .await
            .expect("create");
        for (active, role) in [(Some(false), None), (None, Some(Role::User))] {
            assert!(matches!(
                update_user(&store, "root", "root", active, role).await,
                Err(AuthError::LastAdmin)
            ));
        }
        create_user(&store, "root", "second", "administrator", Role::Admin)
            .await
            .expect("create");
        update_user(&store, "root", "root", None, Some(Role::User))
            .await
            .expect("another admin remains");
        assert!(matches!(
            update_user(&store, "second", "second", Some(false), None).await,
            Err(AuthError::LastAdmin)
        ));
        let trail: Vec<String> = store
            .audit(10, None)
            .await
            .expect("audit")
            .into_iter()
            .map(|e| format!("{} {} {}", e.entry.actor, e.entry.action, e.entry.target))
            .collect();
        assert_eq!(
            trail,
            [
                "root user.role root",
                "root user.create second",
                "test user.create root"
            ]
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
            create_user(&store, "test", "x", "pw", Role::User).await,
            Err(AuthError::InvalidAccount(_))
        ));
    }

    fn alice() -> User {
        User {
            id: 1,
            username: "alice".into(),
            password_hash: String::new(),
            role: Role::User,
            active: true,
            created_at: 0,
        }
    }

    #[test]
    fn public_key_tokens_verify_by_kid_through_a_rotation() {
        use crate::signing_key::{generate, jwks};
        let (old, new) = (generate("2026-11"), generate("2026-12"));
        let before =
            Tokens::with_keys(&jwks(&[&old]), Some(&old.private_pem), None, 60).expect("old key");
        let during = Tokens::with_keys(&jwks(&[&old, &new]), Some(&new.private_pem), None, 60)
            .expect("both keys");
        let after =
            Tokens::with_keys(&jwks(&[&new]), Some(&new.private_pem), None, 60).expect("new key");
        assert_eq!(during.signing_kid(), Some("2026-12"));
        let old_token = before.issue(&alice()).expect("issue").token;
        let new_token = during.issue(&alice()).expect("issue").token;
        assert_eq!(
            during.verify(&old_token).expect("old accepted").sub,
            "alice"
        );
        assert_eq!(
            during.verify(&new_token).expect("new accepted").sub,
            "alice"
        );
        assert!(after.verify(&new_token).is_ok());
        assert!(matches!(
            after.verify(&old_token),
            Err(AuthError::InvalidToken)
        ));

        let verify_only = Tokens::with_keys(&jwks(&[&new]), None, None, 60).expect("verifier");
        assert!(verify_only.verify(&new_token).is_ok());
        assert!(matches!(
            verify_only.issue(&alice()),
            Err(AuthError::CannotSign)
        ));
        let jwks_doc = verify_only.jwks().expect("published");
        assert!(jwks_doc.contains("2026-12") && !jwks_doc.contains("PRIVATE"));
    }

    #[test]
    fn keys_that_cannot_work_are_refused_at_start() {
        use crate::signing_key::{generate, jwks};
        let (a, b) = (generate("a"), generate("b"));
        let mismatch = Tokens::with_keys(&jwks(&[&a]), Some(&b.private_pem), None, 60);
        assert!(
            matches!(mismatch, Err(AuthError::Keys(m)) if m.contains("not in JWT_PUBLIC_KEYS"))
        );
        let mut private = a.public_jwk.clone();
        private["d"] = "c2VjcmV0".into();
        let leaked = serde_json::json!({ "keys": [private] }).to_string();
        assert!(matches!(
            Tokens::with_keys(&leaked, None, None, 60),
            Err(AuthError::Keys(_))
        ));
        let no_kid = serde_json::json!({ "keys": [{"kty": "OKP", "crv": "Ed25519", "x": a.public_jwk["x"]}] });
        assert!(Tokens::with_keys(&no_kid.to_string(), None, None, 60).is_err());
        assert!(Tokens::with_keys("not json", None, None, 60).is_err());
        assert!(Tokens::with_keys(&jwks(&[&a]), Some("not a key"), None, 60).is_err());
    }

    #[test]
    fn algorithm_confusion_and_unknown_kids_are_refused() {
        use crate::signing_key::{generate, jwks};
        use base64::Engine;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let key = generate("k1");
        let tokens = Tokens::with_keys(&jwks(&[&key]), Some(&key.private_pem), Some(SECRET), 60)
            .expect("keys and secret");
        let claims = Claims {
            sub: "alice".into(),
            role: Role::Admin,
            iat: now_secs(),
            exp: now_secs() + 30,
        };
        // HS256 keyed with the published public key, under its kid.
        let public = URL_SAFE_NO_PAD
            .decode(key.public_jwk["x"].as_str().unwrap_or_default())
            .expect("x");
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("k1".into());
        let confused = jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(&public))
            .expect("sign");
        assert!(matches!(
            tokens.verify(&confused),
            Err(AuthError::InvalidToken)
        ));
        // An EdDSA token naming a kid nobody published.
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some("k2".into());
        let pem = EncodingKey::from_ed_pem(key.private_pem.as_bytes()).expect("pem");
        let unknown = jsonwebtoken::encode(&header, &claims, &pem).expect("sign");
        assert!(matches!(
            tokens.verify(&unknown),
            Err(AuthError::InvalidToken)
        ));
        // HS256 tokens from before the migration still pass while the secret is kept.
        let legacy = Tokens::new(SECRET, 60)
            .expect("hs256")
            .issue(&alice())
            .expect("issue");
        assert!(tokens.verify(&legacy.token).is_ok());
        let without_secret = Tokens::with_keys(&jwks(&[&key]), None, None, 60).expect("keys");
        assert!(without_secret.verify(&legacy.token).is_err());
    }
}
