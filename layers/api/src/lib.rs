//! The HTTP face of the assistant. Each function binary under `functions/` serves one of these
//! routers; `rag serve` mounts them all. The same router runs in AWS Lambda (API Gateway v2,
//! REST v1 and ALB events through lambda_http) or as a plain HTTP server on `$PORT`.

pub mod caller;
pub mod config;
pub mod dto;
pub mod error;
#[cfg(feature = "ingest")]
pub mod events;
pub mod routes;
pub mod server;
pub mod state;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use rag_core::cluster::runs::Assigner;

pub use config::{Config, ConfigError};
pub use state::App;

use crate::error::ApiError;

pub use rag_contract::limits::MAX_BODY_BYTES;

/// Finishes a router: state, body limit, JSON 404.
pub fn finish(routes: Router<App>, app: App) -> Router {
    routes
        .fallback(|| async { ApiError::not_found() })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(app)
}

/// Every route, as the local gateway serves them.
#[cfg(all(feature = "engine", feature = "ingest", feature = "kmeans"))]
pub fn all_routes() -> Router<App> {
    Router::new()
        .merge(routes::auth::router())
        .merge(routes::edge::router())
        .merge(routes::query::router())
        .merge(routes::history::router())
        .merge(routes::health::router())
        .merge(routes::admin::router())
        .merge(routes::documents::router())
        .merge(routes::clusters::router())
        .merge(routes::docs::router())
}

/// What a function loads at start besides the store and the token signer (each part only
/// where its feature is built in).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    /// The models and the live index, to answer questions.
    pub engine: bool,
    /// The models and the collection's documents, to ingest.
    pub ingest: bool,
    /// A signing key, to issue tokens (login).
    pub sign: bool,
}

impl Needs {
    pub const NOTHING: Needs = Needs {
        engine: false,
        ingest: false,
        sign: false,
    };
    pub const SIGN: Needs = Needs {
        engine: false,
        ingest: false,
        sign: true,
    };
    #[cfg(feature = "engine")]
    pub const ENGINE: Needs = Needs {
        engine: true,
        ingest: false,
        sign: false,
    };
    #[cfg(feature = "ingest")]
    pub const INGEST: Needs = Needs {
        engine: false,
        ingest: true,
        sign: false,
    };
    #[cfg(feature = "ingest")]
    pub const EVERYTHING: Needs = Needs {
        engine: true,
        ingest: true,
        sign: true,
    };
}

impl Needs {
    /// Refuses a need this binary was built without (a function asking for the models must
    /// enable rag-api's `engine` or `ingest` feature).
    fn built_in(self) -> Result<(), ConfigError> {
        if self.engine && !cfg!(feature = "engine") || self.ingest && !cfg!(feature = "ingest") {
            return Err(ConfigError::Engine(format!(
                "{self:?}: this binary was built without the feature that loads it"
            )));
        }
        Ok(())
    }
}

/// How stale the cached cluster centroids may be: a new clustering run applies to new
/// questions within this delay.
const CENTROIDS_REFRESH: std::time::Duration = std::time::Duration::from_secs(60);

impl App {
    /// Builds what the routes share, once per process (kept warm across invocations); the
    /// models and the object-store client are built once even when both the engine and
    /// ingestion use them.
    pub async fn from_config(config: &Config, needs: Needs) -> Result<App, ConfigError> {
        needs.built_in()?;
        let tracker = rag_core::track::Tracker::from_env();
        #[cfg(feature = "engine")]
        let loaded = match needs.engine || needs.ingest {
            true => Some((
                config.models().await?,
                rag_core::objects::from_env(&config.data_dir).await,
            )),
            false => None,
        };
        #[cfg(feature = "engine")]
        let engine = match (&loaded, needs.engine) {
            (Some((models, objects)), true) => {
                Some(config.engine(models.clone(), objects.clone()).await?)
            }
            _ => None,
        };
        #[cfg(not(feature = "engine"))]
        let engine = None;
        let tokens = config.tokens()?;
        if needs.sign && !tokens.can_sign() {
            return Err(ConfigError::Invalid(
                "this function issues tokens: set JWT_PRIVATE_KEY (its public key in JWT_PUBLIC_KEYS) or JWT_SECRET".into(),
            ));
        }
        Ok(App {
            store: config.store().await?,
            tokens,
            engine,
            #[cfg(feature = "ingest")]
            ingest: match (loaded, needs.ingest) {
                (Some((models, objects)), true) => {
                    Some(config.ingest(models, objects, tracker.clone()))
                }
                _ => None,
            },
            generator: config
                .llm
                .clone()
                .map(|(provider, endpoint)| rag_core::generate::connect(provider, endpoint)),
            tracker,
            assigner: std::sync::Arc::new(Assigner::new(CENTROIDS_REFRESH)),
            edge: std::sync::Arc::new(state::Edge::new(config.edge_secret.clone())),
        })
    }
}

/// The whole life of an HTTP function binary: configuration from the environment, clients
/// built once, then [`serve`]. Every function also answers `GET /health` and
/// `GET /health/ready`, its container's liveness and readiness probes (in Lambda, API Gateway
/// routes them to the health and query functions only).
pub async fn run_function(routes: Router<App>, needs: Needs) -> Result<(), lambda_http::Error> {
    init_logging();
    let config = Config::load(needs).await?;
    let app = App::from_config(&config, needs).await?;
    let routes = routes.merge(routes::health::router());
    serve(finish(routes, app.clone()), config.address(), app).await
}

/// The ingest function: the admin upload and document list, health, and the bucket's events:
/// in Lambda its S3 trigger, elsewhere the webhook (MinIO-style notifications).
#[cfg(feature = "ingest")]
pub async fn run_ingest_function() -> Result<(), lambda_http::Error> {
    init_logging();
    let config = Config::load(Needs::INGEST).await?;
    let app = App::from_config(&config, Needs::INGEST).await?;
    let routes = routes::documents::router().merge(routes::health::router());
    serve_with_events(routes, &config, app, |app, event| async move {
        use axum::response::IntoResponse;
        let event: aws_lambda_events::s3::S3Event = serde_json::from_slice(&event)?;
        Ok(axum::Json(on_s3_event(&app, &event).await?).into_response())
    })
    .await
}

/// The cluster function: the admin routes `POST /clusters/run` and `GET /clusters`, health,
/// and in Lambda its EventBridge schedule. With `--once` (a Kubernetes CronJob), one scheduled
/// run, its summary (or why there is none) on stdout, then exit: no token to hold, no port.
#[cfg(feature = "kmeans")]
pub async fn run_cluster_function() -> Result<(), lambda_http::Error> {
    init_logging();
    let config = Config::load(Needs::NOTHING).await?;
    let app = App::from_config(&config, Needs::NOTHING).await?;
    if std::env::args().nth(1).as_deref() == Some("--once") {
        let response = on_schedule(&app).await;
        // Too few questions yet is an answer, not a failure of the job.
        let ok = !response.status().is_server_error();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await?;
        println!("{}", String::from_utf8_lossy(&body));
        app.settle().await;
        return if ok {
            Ok(())
        } else {
            Err("clustering failed".into())
        };
    }
    let routes = routes::clusters::router().merge(routes::health::router());
    serve_with_events(routes, &config, app, |app, _| async move {
        Ok(on_schedule(&app).await)
    })
    .await
}

/// Serves the routes like [`serve`]; in AWS Lambda, an event that is not an HTTP request (the
/// function's trigger: a bucket notification, a schedule) goes to `on_event` with its JSON. An
/// error makes Lambda retry the event.
#[cfg(any(feature = "ingest", feature = "kmeans"))]
async fn serve_with_events<F, Fut>(
    routes: Router<App>,
    config: &Config,
    app: App,
    on_event: F,
) -> Result<(), lambda_http::Error>
where
    F: Fn(App, Vec<u8>) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<axum::response::Response, lambda_http::Error>> + Send,
{
    let router = finish(routes, app.clone());
    if !in_lambda() {
        return serve(router, config.address(), app).await;
    }
    let handler = lambda_http::service_fn(move |request: lambda_http::Request| {
        let (router, app, on_event) = (router.clone(), app.clone(), on_event.clone());
        async move {
            let response = if is_scheduled(&request) {
                let started = std::time::Instant::now();
                let done = on_event(app.clone(), request.body().to_vec()).await;
                tracing::info!(
                    ok = done.is_ok(),
                    ms = started.elapsed().as_secs_f64() * 1e3,
                    "event"
                );
                done
            } else {
                let Ok(response) = handle_event(router, request).await;
                Ok(response)
            };
            flush(app.tracker.as_ref()).await;
            response
        }
    });
    lambda_http::run(handler).await
}

/// True for an event that is not an HTTP request (lambda_http passes it through): the
/// cluster function's EventBridge schedule, the ingest function's S3 notification.
pub fn is_scheduled(request: &lambda_http::Request) -> bool {
    use lambda_http::RequestExt;
    matches!(
        request.request_context_ref(),
        Some(lambda_http::request::RequestContext::PassThrough)
    )
}

/// One scheduled clustering run, with the default parameters; the summary (or the error body,
/// e.g. too few questions yet) is the invocation's result.
#[cfg(feature = "kmeans")]
pub async fn on_schedule(app: &App) -> axum::response::Response {
    use axum::response::IntoResponse;
    let params = rag_core::cluster::ClusterParams::default();
    match routes::clusters::cluster_now(app, &params).await {
        Ok(topics) => axum::Json(topics).into_response(),
        Err(e) => e.into_response(),
    }
}

/// One S3 trigger invocation. An error makes Lambda retry the event, which is harmless: the
/// bucket decides what each key means.
#[cfg(feature = "ingest")]
pub async fn on_s3_event(
    app: &App,
    event: &aws_lambda_events::s3::S3Event,
) -> Result<serde_json::Value, lambda_http::Error> {
    let ingest = app.ingest.as_ref().ok_or("ingest not configured")?;
    let keys = events::keys(event, ingest.bucket.as_deref());
    let synced = ingest
        .documents
        .sync(app.store.as_ref(), rag_core::audit::BUCKET_EVENT, &keys)
        .await?;
    Ok(serde_json::json!({
        "published": synced.published,
        "index_version": synced.version,
        "documents": synced.documents.iter().map(|d| (&d.name, d.status)).collect::<Vec<_>>(),
    }))
}

/// True inside AWS Lambda.
pub fn in_lambda() -> bool {
    std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some()
}

/// Whether logs are JSON lines (one object per line, for CloudWatch and cluster log
/// collectors): `RAG_LOG_FORMAT=json` or `text`; by default JSON in Lambda, text elsewhere.
pub fn json_logs() -> bool {
    std::env::var("RAG_LOG_FORMAT").map_or_else(|_| in_lambda(), |f| f.eq_ignore_ascii_case("json"))
}

/// Logs to stdout as [`json_logs`] says; filter from `RAG_LOG` (default `info`). Lambda adds its
/// own timestamps.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("RAG_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match (json_logs(), in_lambda()) {
        (true, true) => builder.json().without_time().init(),
        (true, false) => builder.json().init(),
        (false, _) => builder.init(),
    }
}

/// REST API (v1) events carry the stage in the path ("/prod/query"); routes do not.
fn strip_stage(mut request: lambda_http::Request) -> lambda_http::Request {
    use lambda_http::RequestExt;
    use lambda_http::request::RequestContext;
    let stage = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV1(ctx)) => ctx.stage.clone(),
        _ => None,
    };
    let Some(stage) = stage else { return request };
    let prefix = format!("/{stage}");
    let path = request.uri().path();
    if let Some(rest) = path
        .strip_prefix(&prefix)
        .filter(|r| r.is_empty() || r.starts_with('/'))
    {
        let rest = if rest.is_empty() { "/" } else { rest };
        let query = request
            .uri()
            .query()
            .map(|q| format!("?{q}"))
            .unwrap_or_default();
        if let Ok(uri) = format!("{rest}{query}").parse() {
            *request.uri_mut() = uri;
        }
    }
    request
}

/// Handles one Lambda HTTP event (API Gateway v2, REST v1 or ALB) with the router, and logs it
/// in one line: inside the runtime's span, the line carries the invocation's `requestId`.
pub async fn handle_event(
    router: Router,
    request: lambda_http::Request,
) -> Result<axum::response::Response, std::convert::Infallible> {
    use tower::ServiceExt;
    let started = std::time::Instant::now();
    let request = strip_stage(request);
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let response = router.oneshot(request).await?;
    tracing::info!(
        %method,
        path,
        status = response.status().as_u16(),
        ms = started.elapsed().as_secs_f64() * 1e3,
        "request"
    );
    Ok(response)
}

/// How long a Lambda invocation waits for its MLflow runs before returning (the sandbox is
/// frozen afterwards, with whatever is still queued).
const FLUSH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

async fn flush(tracker: Option<&rag_core::track::Tracker>) {
    if let Some(tracker) = tracker
        && !tracker.flush(FLUSH_TIMEOUT).await
    {
        tracing::warn!(stats = ?tracker.stats(), "MLflow runs still pending at the end of the invocation");
    }
}

/// Serves the router: the Lambda runtime when `AWS_LAMBDA_RUNTIME_API` is set (flushing the
/// tracker before each invocation returns), otherwise HTTP on `address` with the server's
/// limits until SIGTERM or Ctrl-C, then lets `app` settle its background work.
pub async fn serve(
    router: Router,
    address: std::net::SocketAddr,
    app: App,
) -> Result<(), lambda_http::Error> {
    if in_lambda() {
        let handler = lambda_http::service_fn(move |request| {
            let (router, tracker) = (router.clone(), app.tracker.clone());
            async move {
                let response = handle_event(router, request).await;
                flush(tracker.as_ref()).await;
                response
            }
        });
        return lambda_http::run(handler).await;
    }
    server::serve_http(router, address).await?;
    app.settle().await;
    Ok(())
}
