//! Bearer tokens as both sides check them: claims, roles, and verification by an HS256 secret
//! or by public keys (a JWKS, keys chosen by `kid`). Signing stays with the login side.

mod jwks;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};

pub use jwks::PublicKeys;

/// Shortest accepted HS256 secret, in bytes.
pub const MIN_SECRET_BYTES: usize = 32;
/// Clock skew tolerated when checking `exp` and `iat`.
pub const LEEWAY_SECS: u64 = 30;

/// What an account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "user" => Some(Role::User),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// Token contents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: Role,
    pub iat: u64,
    pub exp: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("invalid or expired token")]
    Invalid,
    #[error("the JWT secret must be at least {MIN_SECRET_BYTES} bytes")]
    WeakSecret,
    #[error("JWT_PUBLIC_KEYS: {0}")]
    Keys(String),
}

/// Checks tokens: their signature (algorithm pinned by the key, never taken from the token),
/// `exp`, and that they are ones this service could have issued (not issued in the future,
/// not living longer than the configured lifetime: a token minted with a leaked key and a
/// ten-year `exp` is refused).
#[derive(Clone)]
pub struct Verifier {
    secret: Option<DecodingKey>,
    keys: PublicKeys,
    ttl_secs: u64,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("secret", &self.secret.is_some())
            .field("keys", &self.keys.kids())
            .field("ttl_secs", &self.ttl_secs)
            .finish()
    }
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Verifier {
    /// A verifier that accepts nothing yet.
    pub fn new(ttl_secs: u64) -> Verifier {
        Verifier {
            secret: None,
            keys: PublicKeys::default(),
            ttl_secs: ttl_secs.max(1),
        }
    }

    /// Also accepts HS256 tokens without `kid` signed with `secret`.
    pub fn with_secret(mut self, secret: &[u8]) -> Result<Verifier, TokenError> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(TokenError::WeakSecret);
        }
        self.secret = Some(DecodingKey::from_secret(secret));
        Ok(self)
    }

    /// Also accepts tokens signed by one of these public keys, chosen by the token's `kid`.
    pub fn with_public_keys(mut self, keys: PublicKeys) -> Verifier {
        self.keys = keys;
        self
    }

    pub fn public_keys(&self) -> &PublicKeys {
        &self.keys
    }

    pub fn ttl_secs(&self) -> u64 {
        self.ttl_secs
    }

    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Invalid)?;
        let (key, algorithm) = match &header.kid {
            Some(kid) => self.keys.get(kid).ok_or(TokenError::Invalid)?,
            None => (
                self.secret.as_ref().ok_or(TokenError::Invalid)?,
                Algorithm::HS256,
            ),
        };
        let mut validation = Validation::new(algorithm);
        validation.leeway = LEEWAY_SECS;
        validation.set_required_spec_claims(&["exp", "sub", "iat"]);
        let claims = jsonwebtoken::decode::<Claims>(token, key, &validation)
            .map(|d| d.claims)
            .map_err(|_| TokenError::Invalid)?;
        let issued_in_future = claims.iat > now_secs() + LEEWAY_SECS;
        let too_long = claims.exp.saturating_sub(claims.iat) > self.ttl_secs;
        if issued_in_future || too_long {
            return Err(TokenError::Invalid);
        }
        Ok(claims)
    }
}
