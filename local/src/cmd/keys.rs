//! `rag keys new`: an Ed25519 signing key for `JWT_PRIVATE_KEY`, and the JWKS for
//! `JWT_PUBLIC_KEYS` with its public half (added to the current keys during a rotation).

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context as _;
use rag_core::signing_key;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Create a signing key; print the JWKS that verifies it.
    New {
        /// The key's id, carried by every token it signs (e.g. the month: 2026-12).
        #[arg(long)]
        kid: String,
        /// Where to write the private key (PKCS#8 PEM, readable by its owner only).
        #[arg(long)]
        private_key: PathBuf,
        /// The JWKS in use: the printed document holds its keys and the new one.
        #[arg(long)]
        add_to: Option<PathBuf>,
    },
}

pub fn run(command: Command) -> anyhow::Result<()> {
    let Command::New {
        kid,
        private_key,
        add_to,
    } = command;
    let mut keys: Vec<serde_json::Value> = match &add_to {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            rag_contract::token::PublicKeys::parse(&text)?;
            let jwks: serde_json::Value = serde_json::from_str(&text)?;
            jwks["keys"].as_array().cloned().unwrap_or_default()
        }
        None => Vec::new(),
    };
    anyhow::ensure!(
        !keys.iter().any(|k| k["kid"] == kid.as_str()),
        "kid {kid:?} is already in use"
    );
    let pair = signing_key::generate(&kid);
    let mut file =
        owner_only(&private_key).with_context(|| format!("creating {}", private_key.display()))?;
    file.write_all(pair.private_pem.as_bytes())?;
    keys.push(pair.public_jwk);
    println!(
        "{}",
        serde_json::to_string_pretty(&serde_json::json!({ "keys": keys }))?
    );
    eprintln!(
        "private key written to {}: set it as JWT_PRIVATE_KEY on the login function",
        private_key.display()
    );
    Ok(())
}

/// A new file only its owner can read; never overwrites a key.
fn owner_only(path: &PathBuf) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}
