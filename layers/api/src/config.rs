//! Configuration from the environment, read in one place (names: ../shared/ARCHITECTURE.md).

use std::path::PathBuf;
use std::sync::Arc;

use rag_core::accounts::{self, DEFAULT_TTL_SECS, Tokens};
#[cfg(feature = "ingest")]
use rag_core::chunk::ChunkParams;
use rag_core::collection::DEFAULT_COLLECTION;
#[cfg(feature = "ingest")]
use rag_core::documents::Documents;
#[cfg(feature = "engine")]
use rag_core::embed::Models;
use rag_core::embed::Precision;
use rag_core::generate::{Endpoint, Provider};
#[cfg(feature = "engine")]
use rag_core::live::LiveIndex;
#[cfg(feature = "engine")]
use rag_core::objects::ObjectStore;
use rag_core::store::{DynamoStore, PostgresStore, SqliteStore, Store};

#[cfg(feature = "ingest")]
use crate::state::Ingest;
#[cfg(feature = "ingest")]
use rag_core::track::Tracker;

/// Default model per provider: the original project's Gemini model, a small OpenAI one.
fn default_model(provider: Provider) -> &'static str {
    match provider {
        Provider::Gemini => "gemini-flash-latest",
        Provider::OpenAi => "gpt-4o-mini",
    }
}

/// The LLM settings (`LLM_*`); `None` when `LLM_PROVIDER` is unset or `extractive`.
pub fn llm_from_env() -> Result<Option<(Provider, Endpoint)>, ConfigError> {
    let Some(provider) =
        Provider::parse(&var("LLM_PROVIDER").unwrap_or_default()).map_err(ConfigError::Invalid)?
    else {
        return Ok(None);
    };
    Ok(Some((
        provider,
        Endpoint {
            base_url: var("LLM_BASE_URL").unwrap_or_else(|| provider.default_base_url().into()),
            model: var("LLM_MODEL").unwrap_or_else(|| default_model(provider).into()),
            api_key: var("LLM_API_KEY"),
            temperature: parsed("LLM_TEMPERATURE", 0.0)?,
            timeout: std::time::Duration::from_millis(parsed("LLM_TIMEOUT_MS", 15_000)?),
        },
    )))
}

/// Why the service cannot start.
#[derive(thiserror::Error)]
pub enum ConfigError {
    #[error("{0}")]
    Invalid(String),
    #[error(
        "JWT_SECRET is missing or shorter than {} bytes: refusing to start",
        accounts::MIN_SECRET_BYTES
    )]
    Secret,
    #[error("database: {0}")]
    Store(#[from] rag_core::store::StoreError),
    #[error("engine: {0}")]
    Engine(String),
    #[error(transparent)]
    Parameter(#[from] rag_core::secrets::SecretError),
}

/// The message itself: a function's `main` returns this error, and Rust prints it with `{:?}`
/// (an operator reading a container's log should see what to fix, not a variant name).
impl std::fmt::Debug for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

/// Service settings.
#[derive(Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub model_dir: PathBuf,
    pub models: Vec<String>,
    pub precision: Precision,
    pub threads: usize,
    pub database_url: Option<String>,
    /// `DYNAMODB_TABLE`: the DynamoDB store, instead of PostgreSQL or the embedded file.
    pub dynamodb_table: Option<String>,
    pub jwt_secret: Option<String>,
    /// `JWT_PRIVATE_KEY`: the login side's PEM key (EdDSA or ES256).
    pub jwt_private_key: Option<String>,
    /// `JWT_PUBLIC_KEYS`: the JWKS that verifies tokens, published at
    /// `/.well-known/jwks.json`.
    pub jwt_public_keys: Option<String>,
    pub jwt_ttl_secs: u64,
    /// `EDGE_SECRET`: shared with the edge tier in front (see [`crate::state::Edge`]).
    pub edge_secret: Option<String>,
    pub port: u16,
    /// The interface to listen on outside Lambda (`RAG_HOST`): every interface by default, as a
    /// container needs; `rag serve` defaults to loopback.
    pub host: std::net::IpAddr,
    pub collection: String,
    /// How often a warm process checks for a newer index version.
    pub index_refresh_secs: u64,
    /// First administrator, created when the store has no account.
    pub admin: Option<(String, String)>,
    /// The bucket holding PDFs and indexes; `None`: the data directory.
    pub bucket: Option<String>,
    /// Shared secret of the S3-event webhook.
    pub webhook_token: Option<String>,
    /// The LLM (LLM_PROVIDER, LLM_MODEL, LLM_BASE_URL, LLM_API_KEY, LLM_TEMPERATURE,
    /// LLM_TIMEOUT_MS); `None`: the extractive answer.
    pub llm: Option<(Provider, Endpoint)>,
}

/// Settings as logs may show them: secrets, the admin password and the database URL (which
/// may carry a password) redacted.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redacted = |set: bool| if set { "<redacted>" } else { "<unset>" };
        f.debug_struct("Config")
            .field("data_dir", &self.data_dir)
            .field("model_dir", &self.model_dir)
            .field("models", &self.models)
            .field("precision", &self.precision)
            .field("threads", &self.threads)
            .field("database_url", &redacted(self.database_url.is_some()))
            .field("dynamodb_table", &self.dynamodb_table)
            .field("jwt_secret", &redacted(self.jwt_secret.is_some()))
            .field("jwt_private_key", &redacted(self.jwt_private_key.is_some()))
            .field("jwt_public_keys", &self.jwt_public_keys.is_some())
            .field("edge_secret", &redacted(self.edge_secret.is_some()))
            .field("jwt_ttl_secs", &self.jwt_ttl_secs)
            .field("address", &self.address())
            .field("collection", &self.collection)
            .field("index_refresh_secs", &self.index_refresh_secs)
            .field(
                "admin",
                &self.admin.as_ref().map(|(user, _)| (user, "<redacted>")),
            )
            .field("bucket", &self.bucket)
            .field("webhook_token", &redacted(self.webhook_token.is_some()))
            .field("llm", &self.llm)
            .finish()
    }
}

/// Where the models are: the model layer's `/opt/models` in AWS Lambda, `./models` elsewhere.
fn default_model_dir() -> PathBuf {
    match crate::in_lambda() {
        true => "/opt/models".into(),
        false => "models".into(),
    }
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn parsed<T: std::str::FromStr>(name: &str, default: T) -> Result<T, ConfigError> {
    match var(name) {
        Some(v) => v
            .parse()
            .map_err(|_| ConfigError::Invalid(format!("{name}={v:?} is not valid"))),
        None => Ok(default),
    }
}

/// How long a server outside Lambda waits for PostgreSQL at start. Containers start together
/// (compose, a Kubernetes rollout): a function that gave up at once would only be restarted,
/// with a growing back-off. In Lambda the cold start fails fast instead.
const STORE_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// Connects to PostgreSQL, retrying while the connection fails (for up to [`STORE_WAIT`]
/// outside Lambda). Each failure is logged with its reason, so a wrong password or a refused
/// certificate shows at once; a malformed URL fails without retrying.
async fn connect_postgres(url: &str) -> Result<PostgresStore, rag_core::store::StoreError> {
    use rag_core::store::StoreError;
    let deadline = tokio::time::Instant::now() + STORE_WAIT;
    loop {
        match PostgresStore::connect(url).await {
            Err(StoreError::Unavailable(reason))
                if !crate::in_lambda() && tokio::time::Instant::now() < deadline =>
            {
                tracing::warn!(%reason, "PostgreSQL not reachable yet; retrying");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
            done => return done,
        }
    }
}

/// Shortest accepted webhook secret, in bytes.
pub const MIN_WEBHOOK_TOKEN_BYTES: usize = 16;

/// `INGEST_WEBHOOK_TOKEN`, refused when guessable.
fn webhook_token() -> Result<Option<String>, ConfigError> {
    match var("INGEST_WEBHOOK_TOKEN") {
        Some(t) if t.len() < MIN_WEBHOOK_TOKEN_BYTES => Err(ConfigError::Invalid(format!(
            "INGEST_WEBHOOK_TOKEN must be at least {MIN_WEBHOOK_TOKEN_BYTES} bytes"
        ))),
        token => Ok(token),
    }
}

impl Config {
    pub fn from_env() -> Result<Config, ConfigError> {
        if var("DYNAMODB_TABLE").is_some() && var("DATABASE_URL").is_some() {
            return Err(ConfigError::Invalid(
                "DATABASE_URL and DYNAMODB_TABLE are both set: choose one store".into(),
            ));
        }
        Ok(Config {
            data_dir: var("RAG_DATA_DIR").map_or_else(|| "data".into(), PathBuf::from),
            model_dir: var("RAG_MODEL_DIR").map_or_else(default_model_dir, PathBuf::from),
            models: var("RAG_MODEL")
                .unwrap_or_else(|| "multilingual-e5-small,use-m3".into())
                .split(',')
                .map(|s| s.trim().to_string())
                .collect(),
            precision: match var("RAG_MODEL_PRECISION").as_deref() {
                Some("fp32") => Precision::Fp32,
                _ => Precision::Int8,
            },
            threads: parsed(
                "RAG_THREADS",
                std::thread::available_parallelism().map_or(1, |n| n.get()),
            )?,
            database_url: var("DATABASE_URL"),
            dynamodb_table: var("DYNAMODB_TABLE"),
            jwt_secret: var("JWT_SECRET"),
            // A PEM may arrive on one line, its newlines written `\n` (an env file, a Secret).
            jwt_private_key: var("JWT_PRIVATE_KEY").map(|k| k.replace("\\n", "\n")),
            jwt_public_keys: var("JWT_PUBLIC_KEYS"),
            edge_secret: var("EDGE_SECRET"),
            jwt_ttl_secs: parsed("JWT_TTL_SECS", DEFAULT_TTL_SECS)?,
            port: parsed("PORT", 8000)?,
            host: parsed("RAG_HOST", std::net::Ipv4Addr::UNSPECIFIED.into())?,
            collection: var("RAG_COLLECTION").unwrap_or_else(|| DEFAULT_COLLECTION.into()),
            index_refresh_secs: parsed("INDEX_REFRESH_SECS", 30)?,
            admin: var("RAG_ADMIN_USERNAME").zip(var("RAG_ADMIN_PASSWORD")),
            bucket: var("S3_BUCKET"),
            webhook_token: webhook_token()?,
            llm: llm_from_env()?,
        })
    }

    /// Where the HTTP server listens outside Lambda.
    /// What a function starts from: [`Config::from_env`], the secrets that `*_PARAMETER`
    /// settings name read from Parameter Store, and in AWS Lambda the settings without which
    /// a function would lose data.
    pub async fn load(needs: crate::Needs) -> Result<Config, ConfigError> {
        let mut config = Config::from_env()?;
        config.read_parameters().await?;
        if crate::in_lambda() {
            config.check_durable(needs)?;
        }
        Ok(config)
    }

    /// Fills each secret left unset from the SecureString parameter its `*_PARAMETER` setting
    /// names: `JWT_SECRET_PARAMETER`, `JWT_PRIVATE_KEY_PARAMETER`, `EDGE_SECRET_PARAMETER`,
    /// `DATABASE_URL_PARAMETER`, `LLM_API_KEY_PARAMETER`, and
    /// `RAG_ADMIN_PASSWORD_PARAMETER` (with `RAG_ADMIN_USERNAME`, the first administrator).
    async fn read_parameters(&mut self) -> Result<(), ConfigError> {
        let mut admin_password = None;
        let mut wanted = vec![
            ("JWT_SECRET_PARAMETER", &mut self.jwt_secret),
            ("JWT_PRIVATE_KEY_PARAMETER", &mut self.jwt_private_key),
            ("EDGE_SECRET_PARAMETER", &mut self.edge_secret),
            ("DATABASE_URL_PARAMETER", &mut self.database_url),
        ];
        if let Some((_, endpoint)) = &mut self.llm {
            wanted.push(("LLM_API_KEY_PARAMETER", &mut endpoint.api_key));
        }
        if self.admin.is_none() && var("RAG_ADMIN_USERNAME").is_some() {
            wanted.push(("RAG_ADMIN_PASSWORD_PARAMETER", &mut admin_password));
        }
        let wanted: Vec<_> = wanted
            .into_iter()
            .filter(|(_, secret)| secret.is_none())
            .filter_map(|(setting, secret)| Some((var(setting)?, secret)))
            .collect();
        if !wanted.is_empty() {
            let parameters = rag_core::secrets::ParameterStore::from_env().await;
            for (name, secret) in wanted {
                *secret = Some(parameters.get(&name).await?);
            }
        }
        if let Some(password) = admin_password {
            self.admin = var("RAG_ADMIN_USERNAME").map(|user| (user, password));
        }
        Ok(())
    }

    /// A Lambda sandbox's disk is read-only but for a `/tmp` that disappears with it: the
    /// embedded database and the local object store would lose every write, so a function
    /// refuses to start without a real store and, when it reads or writes the index, a bucket.
    pub fn check_durable(&self, needs: crate::Needs) -> Result<(), ConfigError> {
        if self.database_url.is_none() && self.dynamodb_table.is_none() {
            return Err(ConfigError::Invalid(
                "in AWS Lambda the store must be set: DYNAMODB_TABLE, DATABASE_URL or DATABASE_URL_PARAMETER (the embedded database would be lost with the sandbox)".into(),
            ));
        }
        if (needs.engine || needs.ingest) && self.bucket.is_none() {
            return Err(ConfigError::Invalid(
                "in AWS Lambda S3_BUCKET must be set: the index and the documents live in the bucket".into(),
            ));
        }
        Ok(())
    }

    pub fn address(&self) -> std::net::SocketAddr {
        (self.host, self.port).into()
    }

    /// DynamoDB when DYNAMODB_TABLE is set (the table created if missing, outside Lambda),
    /// PostgreSQL when DATABASE_URL is, else the embedded file `<data>/rag.db`; the first
    /// administrator is created if configured and no account exists.
    pub async fn store(&self) -> Result<Arc<dyn Store>, ConfigError> {
        let store: Arc<dyn Store> = match (&self.dynamodb_table, &self.database_url) {
            (Some(table), _) => Arc::new(DynamoStore::open(table, !crate::in_lambda()).await?),
            (None, Some(url)) => Arc::new(connect_postgres(url).await?),
            (None, None) => Arc::new(SqliteStore::open(&self.data_dir.join("rag.db"))?),
        };
        if let Some((user, password)) = &self.admin
            && accounts::bootstrap_admin(store.as_ref(), user, password)
                .await
                .map_err(|e| ConfigError::Invalid(format!("first administrator: {e}")))?
        {
            tracing::info!(username = %user, "created the first administrator");
        }
        Ok(store)
    }

    /// Token signer and verifier: public keys (`JWT_PUBLIC_KEYS`, with `JWT_PRIVATE_KEY` where
    /// tokens are issued) or the HS256 `JWT_SECRET`; refuses a missing or short secret, keys
    /// that do not parse, and a private key without its public half in the JWKS.
    pub fn tokens(&self) -> Result<Arc<Tokens>, ConfigError> {
        let secret = self.jwt_secret.as_deref().map(str::as_bytes);
        let tokens = match (&self.jwt_public_keys, &self.jwt_private_key) {
            (Some(jwks), private) => {
                Tokens::with_keys(jwks, private.as_deref(), secret, self.jwt_ttl_secs)
            }
            (None, Some(_)) => {
                return Err(ConfigError::Invalid(
                    "JWT_PRIVATE_KEY needs JWT_PUBLIC_KEYS, the JWKS holding its public key".into(),
                ));
            }
            (None, None) => Tokens::new(secret.ok_or(ConfigError::Secret)?, self.jwt_ttl_secs),
        };
        tokens.map(Arc::new).map_err(|e| match e {
            accounts::AuthError::WeakSecret => ConfigError::Secret,
            other => ConfigError::Invalid(other.to_string()),
        })
    }

    /// Loads the embedding models (once per process: they are the cold start's largest cost).
    #[cfg(feature = "engine")]
    pub async fn models(&self) -> Result<Arc<Models>, ConfigError> {
        let (dir, names, precision, threads) = (
            self.model_dir.clone(),
            self.models.clone(),
            self.precision,
            self.threads,
        );
        tokio::task::spawn_blocking(move || {
            rag_core::embed::load_models(&dir, &names, precision, threads)
        })
        .await
        .map_err(|e| ConfigError::Engine(e.to_string()))?
        .map(Arc::new)
        .map_err(|e| ConfigError::Engine(e.to_string()))
    }

    /// The collection's current index over `models`, loaded now (the cold start) and refreshed
    /// while the process lives. A collection not yet published, or an unreachable store, leaves
    /// the process up, answering 503 until an index loads.
    #[cfg(feature = "engine")]
    pub async fn engine(
        &self,
        models: Arc<Models>,
        objects: Arc<dyn ObjectStore>,
    ) -> Result<Arc<LiveIndex>, ConfigError> {
        let live = Arc::new(LiveIndex::new(
            models,
            objects,
            &self.collection,
            std::time::Duration::from_secs(self.index_refresh_secs),
        ));
        if live.refresh().await.is_none() {
            tracing::warn!(collection = %self.collection, failure = ?live.last_failure(), "no index loaded yet");
        }
        live.spawn_refresher();
        Ok(live)
    }

    /// The collection's documents in `objects`, ingested with `models`.
    #[cfg(feature = "ingest")]
    pub fn ingest(
        &self,
        models: Arc<Models>,
        objects: Arc<dyn ObjectStore>,
        tracker: Option<Tracker>,
    ) -> Arc<Ingest> {
        Arc::new(Ingest {
            documents: Arc::new(
                Documents::new(objects, models, &self.collection, ChunkParams::default())
                    .tracked(tracker),
            ),
            bucket: self.bucket.clone(),
            webhook_token: self.webhook_token.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_redacts_secrets() {
        let config = Config {
            data_dir: "data".into(),
            model_dir: "models".into(),
            models: vec!["use-m3".into()],
            precision: Precision::Int8,
            threads: 1,
            database_url: Some("postgres://rag:db-password@db/rag".into()),
            dynamodb_table: None,
            jwt_secret: Some("jwt-secret-value-of-32-bytes-long".into()),
            jwt_private_key: Some("-----BEGIN PRIVATE KEY-----private-key-bytes".into()),
            jwt_public_keys: None,
            edge_secret: Some("edge-secret-value".into()),
            jwt_ttl_secs: 60,
            port: 8000,
            host: std::net::Ipv4Addr::LOCALHOST.into(),
            collection: "default".into(),
            index_refresh_secs: 30,
            admin: Some(("admin".into(), "admin-password".into())),
            bucket: None,
            webhook_token: Some("webhook-secret-value".into()),
            llm: None,
        };
        let shown = format!("{config:?}");
        for secret in [
            "db-password",
            "jwt-secret-value",
            "admin-password",
            "webhook-secret",
            "private-key-bytes",
            "edge-secret-value",
        ] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(shown.contains("127.0.0.1:8000") && shown.contains("\"admin\""));
    }
}
