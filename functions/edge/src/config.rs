//! The edge's settings, from the host's environment (`wasmtime serve -Sinherit-env`, Spin
//! variables, Fastly config): names in ../shared/ARCHITECTURE.md where it has one.

use rag_contract::limits::DEFAULT_TOKEN_TTL_SECS;
use rag_contract::routes::Function;
use rag_contract::token::PublicKeys;
use rag_contract::{TokenError, Verifier};

/// At most `max` requests per `window_secs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub max: u32,
    pub window_secs: u64,
}

impl Rate {
    /// `"N/SECS"`, e.g. `10/60`.
    fn parse(setting: &str, value: &str) -> Result<Rate, String> {
        let bad = || format!("{setting}: expected N/SECONDS, e.g. 10/60, got {value:?}");
        let (max, window) = value.split_once('/').ok_or_else(bad)?;
        let rate = Rate {
            max: max.trim().parse().map_err(|_| bad())?,
            window_secs: window.trim().parse().map_err(|_| bad())?,
        };
        if rate.max == 0 || rate.window_secs == 0 {
            return Err(bad());
        }
        Ok(rate)
    }
}

pub struct Config {
    /// `EDGE_ORIGIN`: the API's base URL, for every function without its own.
    origin: Option<String>,
    /// `EDGE_ORIGIN_LOGIN`, `EDGE_ORIGIN_QUERY`, ...: one function's base URL.
    function_origins: Vec<(Function, String)>,
    pub verifier: Verifier,
    /// `EDGE_LOGIN_RATE`: login attempts per client address (default 10/60).
    pub login_rate: Rate,
    /// `EDGE_USER_RATE`: requests per user, by the token's `sub` (default 120/60).
    pub user_rate: Rate,
    /// `EDGE_SECRET`: proves the edge to the origin, which keeps the rate counters; rate
    /// limits are off without it.
    pub secret: Option<String>,
    /// `EDGE_CLIENT_IP_HEADER`: the header where the host or the load balancer in front puts
    /// the caller's address (wasi:http gives the component none).
    pub client_ip_header: Option<String>,
    /// `EDGE_CORS_ORIGINS`: web origins allowed to call the API from a browser.
    pub cors_origins: Vec<String>,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl Config {
    pub fn from_env() -> Result<Config, String> {
        let ttl = match var("JWT_TTL_SECS") {
            Some(v) => v
                .parse()
                .map_err(|_| format!("JWT_TTL_SECS: not a number: {v:?}"))?,
            None => DEFAULT_TOKEN_TTL_SECS,
        };
        let mut verifier = Verifier::new(ttl);
        if let Some(jwks) = var("JWT_PUBLIC_KEYS") {
            let keys = PublicKeys::parse(&jwks).map_err(|e: TokenError| e.to_string())?;
            verifier = verifier.with_public_keys(keys);
        }
        let rate = |name: &str, default: Rate| match var(name) {
            Some(v) => Rate::parse(name, &v),
            None => Ok(default),
        };
        let function_origins = Function::ALL
            .iter()
            .filter_map(|f| {
                let name = format!("EDGE_ORIGIN_{}", f.name().to_ascii_uppercase());
                Some((*f, trimmed(var(&name)?)))
            })
            .collect();
        Ok(Config {
            origin: var("EDGE_ORIGIN").map(trimmed),
            function_origins,
            verifier,
            login_rate: rate(
                "EDGE_LOGIN_RATE",
                Rate {
                    max: 10,
                    window_secs: 60,
                },
            )?,
            user_rate: rate(
                "EDGE_USER_RATE",
                Rate {
                    max: 120,
                    window_secs: 60,
                },
            )?,
            secret: var("EDGE_SECRET"),
            client_ip_header: var("EDGE_CLIENT_IP_HEADER").map(|h| h.to_ascii_lowercase()),
            cors_origins: var("EDGE_CORS_ORIGINS")
                .map(|v| v.split(',').map(|o| trimmed(o.to_string())).collect())
                .unwrap_or_default(),
        })
    }

    /// The base URL serving `function`.
    pub fn origin(&self, function: Function) -> Option<&str> {
        self.function_origins
            .iter()
            .find(|(f, _)| *f == function)
            .map(|(_, url)| url.as_str())
            .or(self.origin.as_deref())
    }
}

fn trimmed(url: String) -> String {
    url.trim().trim_end_matches('/').to_string()
}
