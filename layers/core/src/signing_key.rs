//! New Ed25519 signing keys for `JWT_PRIVATE_KEY`, with the public JWK to add to
//! `JWT_PUBLIC_KEYS` (`rag keys new`, and the tests' keys).

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

/// The fixed PKCS#8 v1 prefix of an Ed25519 private key (RFC 8410): the 32-byte seed follows.
const PKCS8_ED25519_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// A signing key and its public half.
#[derive(Debug, Clone)]
pub struct KeyPair {
    /// PKCS#8 PEM, the value of `JWT_PRIVATE_KEY`.
    pub private_pem: String,
    /// The public JWK, one entry of `JWT_PUBLIC_KEYS`' `keys`.
    pub public_jwk: serde_json::Value,
}

/// A fresh Ed25519 key pair named `kid`.
pub fn generate(kid: &str) -> KeyPair {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    let mut seed = [0u8; 32];
    OsRng.fill_bytes(&mut seed);
    let public = ed25519_dalek::SigningKey::from_bytes(&seed)
        .verifying_key()
        .to_bytes();
    let der: Vec<u8> = PKCS8_ED25519_PREFIX.iter().chain(&seed).copied().collect();
    let body = STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .filter_map(|c| std::str::from_utf8(c).ok())
        .collect();
    KeyPair {
        private_pem: format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            lines.join("\n")
        ),
        public_jwk: serde_json::json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "x": URL_SAFE_NO_PAD.encode(public),
            "kid": kid,
            "alg": "EdDSA",
            "use": "sig",
        }),
    }
}

/// A JWKS document holding `jwks`' keys.
pub fn jwks(keys: &[&KeyPair]) -> String {
    let keys: Vec<&serde_json::Value> = keys.iter().map(|k| &k.public_jwk).collect();
    serde_json::json!({ "keys": keys }).to_string()
}
