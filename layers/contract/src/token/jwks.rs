//! Public keys from a JWKS document (`JWT_PUBLIC_KEYS`, served at `/.well-known/jwks.json`).
//! Several keys may be live at once during a rotation; each must name its `kid`.

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey};

use super::TokenError;

/// Members that only a private JWK carries: publishing one would hand out the signing key.
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// The verifying keys by `kid`, each with the one algorithm it accepts.
#[derive(Clone, Default)]
pub struct PublicKeys {
    keys: Vec<(String, DecodingKey, Algorithm)>,
    /// The document as published: the parsed keys, re-serialized.
    document: String,
}

impl PublicKeys {
    /// Parses a JWKS. Accepts Ed25519 (`EdDSA`) and P-256 (`ES256`) keys only, each with a
    /// unique `kid`, and refuses a document holding private key material.
    pub fn parse(jwks: &str) -> Result<PublicKeys, TokenError> {
        let bad = |m: String| TokenError::Keys(m);
        let raw: serde_json::Value =
            serde_json::from_str(jwks).map_err(|e| bad(format!("not JSON: {e}")))?;
        let entries = raw
            .get("keys")
            .and_then(|k| k.as_array())
            .ok_or_else(|| bad("expected a JWKS: {\"keys\": [...]}".into()))?;
        for entry in entries {
            if let Some(member) = PRIVATE_MEMBERS.iter().find(|m| entry.get(**m).is_some()) {
                return Err(bad(format!(
                    "a key holds the private member {member:?}: publish public keys only"
                )));
            }
        }
        let set: JwkSet =
            serde_json::from_value(raw.clone()).map_err(|e| bad(format!("invalid JWKS: {e}")))?;
        if set.keys.is_empty() {
            return Err(bad("no key".into()));
        }
        let mut keys: Vec<(String, DecodingKey, Algorithm)> = Vec::new();
        for jwk in &set.keys {
            let kid = jwk
                .common
                .key_id
                .clone()
                .filter(|k| !k.is_empty())
                .ok_or_else(|| bad("every key needs a \"kid\"".into()))?;
            if keys.iter().any(|(k, _, _)| *k == kid) {
                return Err(bad(format!("kid {kid:?} appears twice")));
            }
            let algorithm = algorithm_of(jwk).map_err(|m| bad(format!("kid {kid:?}: {m}")))?;
            let key = DecodingKey::from_jwk(jwk)
                .map_err(|e| bad(format!("kid {kid:?}: unusable key: {e}")))?;
            keys.push((kid, key, algorithm));
        }
        let document = serde_json::to_string(&set).map_err(|e| bad(e.to_string()))?;
        Ok(PublicKeys { keys, document })
    }

    pub fn get(&self, kid: &str) -> Option<(&DecodingKey, Algorithm)> {
        self.keys
            .iter()
            .find(|(k, _, _)| k == kid)
            .map(|(_, key, alg)| (key, *alg))
    }

    pub fn kids(&self) -> Vec<&str> {
        self.keys.iter().map(|(k, _, _)| k.as_str()).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The JWKS to publish.
    pub fn document(&self) -> &str {
        &self.document
    }
}

/// The algorithm a key verifies, from its type and curve; a declared `alg` must agree.
fn algorithm_of(jwk: &Jwk) -> Result<Algorithm, String> {
    let algorithm = match &jwk.algorithm {
        AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => {
            Algorithm::EdDSA
        }
        AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => Algorithm::ES256,
        _ => return Err("only Ed25519 (EdDSA) and P-256 (ES256) keys are accepted".into()),
    };
    if let Some(declared) = jwk.common.key_algorithm {
        let agrees = matches!(
            (declared, algorithm),
            (jsonwebtoken::jwk::KeyAlgorithm::EdDSA, Algorithm::EdDSA)
                | (jsonwebtoken::jwk::KeyAlgorithm::ES256, Algorithm::ES256)
        );
        if !agrees {
            return Err(format!("\"alg\" {declared:?} does not fit the key"));
        }
    }
    Ok(algorithm)
}
