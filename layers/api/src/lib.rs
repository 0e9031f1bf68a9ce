//! The HTTP face of the assistant. Each function binary under `functions/` serves one of these
//! routers; `rag serve` mounts them all. The same router runs in AWS Lambda (API Gateway v2,
//! REST v1 and ALB events through lambda_http) or as a plain HTTP server on `$PORT`.

pub mod caller;
pub mod config;
pub mod dto;
pub mod error;
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

/// Largest request body accepted (a question is at most 1000 characters).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Finishes a router: state, body limit, JSON 404.
pub fn finish(routes: Router<App>, app: App) -> Router {
    routes
        .fallback(|| async { ApiError::not_found() })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(app)
}

/// Every route, as the local gateway serves them.
pub fn all_routes() -> Router<App> {
    Router::new()
        .merge(routes::auth::router())
        .merge(routes::query::router())
        .merge(routes::history::router())
        .merge(routes::health::router())
        .merge(routes::admin::router())
        .merge(routes::documents::router())
        .merge(routes::clusters::router())
        .merge(routes::docs::router())
}

/// What a function loads at start besides the store and the token signer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    /// The models and the live index, to answer questions.
    pub engine: bool,
    /// The models and the collection's documents, to ingest.
    pub ingest: bool,
}

impl Needs {
    pub const NOTHING: Needs = Needs {
        engine: false,
        ingest: false,
    };
    pub const ENGINE: Needs = Needs {
        engine: true,
        ingest: false,
    };
    pub const INGEST: Needs = Needs {
        engine: false,
        ingest: true,
    };
    pub const EVERYTHING: Needs = Needs {
        engine: true,
        ingest: true,
    };
}

/// How stale the cached cluster centroids may be: a new clustering run applies to new
/// questions within this delay.
const CENTROIDS_REFRESH: std::time::Duration = std::time::Duration::from_secs(60);

impl App {
    /// Builds what the routes share, once per process (kept warm across invocations); the
    /// models and the object-store client are built once even when both the engine and
    /// ingestion use them.
    pub async fn from_config(config: &Config, needs: Needs) -> Result<App, ConfigError> {
        let models = if needs.engine || needs.ingest {
            Some(config.models().await?)
        } else {
            None
        };
        let tracker = rag_core::track::Tracker::from_env();
        let (engine, ingest) = match models {
            Some(models) => {
                let objects = rag_core::objects::from_env(&config.data_dir).await;
                (
                    match needs.engine {
                        true => Some(config.engine(models.clone(), objects.clone()).await?),
                        false => None,
                    },
                    match needs.ingest {
                        true => Some(config.ingest(models, objects, tracker.clone())),
                        false => None,
                    },
                )
            }
            None => (None, None),
        };
        Ok(App {
            store: config.store().await?,
            tokens: config.tokens()?,
            engine,
            ingest,
            generator: config
                .llm
                .clone()
                .map(|(provider, endpoint)| rag_core::generate::connect(provider, endpoint)),
            tracker,
            assigner: std::sync::Arc::new(Assigner::new(CENTROIDS_REFRESH)),
        })
    }
}

/// The whole life of an HTTP function binary: configuration from the environment, clients
/// built once, then [`serve`].
pub async fn run_function(routes: Router<App>, needs: Needs) -> Result<(), lambda_http::Error> {
    init_logging();
    let config = Config::from_env()?;
    let app = App::from_config(&config, needs).await?;
    let tracker = app.tracker.clone();
    serve(finish(routes, app), config.address(), tracker).await
}

/// The ingest function: in Lambda, the bucket's S3 event trigger; elsewhere an HTTP service
/// with the event webhook, the admin upload and health.
pub async fn run_ingest_function() -> Result<(), lambda_http::Error> {
    init_logging();
    let config = Config::from_env()?;
    let app = App::from_config(&config, Needs::INGEST).await?;
    if !in_lambda() {
        let routes = routes::documents::router().merge(routes::health::router());
        let tracker = app.tracker.clone();
        return serve(finish(routes, app), config.address(), tracker).await;
    }
    let handler = lambda_http::service_fn(
        move |event: lambda_http::LambdaEvent<aws_lambda_events::s3::S3Event>| {
            let app = app.clone();
            async move {
                let done = on_s3_event(&app, &event.payload).await;
                flush(app.tracker.as_ref()).await;
                done
            }
        },
    );
    lambda_http::lambda_runtime::run(handler).await
}

/// The cluster function: in Lambda, its EventBridge schedule (any non-HTTP event) and the
/// admin routes `POST /clusters/run`, `GET /clusters`; elsewhere an HTTP service with those
/// routes and health (a CronJob calls `POST /clusters/run`).
pub async fn run_cluster_function() -> Result<(), lambda_http::Error> {
    init_logging();
    let config = Config::from_env()?;
    let app = App::from_config(&config, Needs::NOTHING).await?;
    let tracker = app.tracker.clone();
    let router = finish(
        routes::clusters::router().merge(routes::health::router()),
        app.clone(),
    );
    if !in_lambda() {
        return serve(router, config.address(), tracker).await;
    }
    let handler = lambda_http::service_fn(move |request: lambda_http::Request| {
        let (router, app) = (router.clone(), app.clone());
        async move {
            let response = if is_scheduled(&request) {
                on_schedule(&app).await
            } else {
                handle_event(router, request).await?
            };
            flush(app.tracker.as_ref()).await;
            Ok::<_, std::convert::Infallible>(response)
        }
    });
    lambda_http::run(handler).await
}

/// True for an event that is not an HTTP request (lambda_http passes it through): the
/// cluster function's EventBridge schedule.
pub fn is_scheduled(request: &lambda_http::Request) -> bool {
    use lambda_http::RequestExt;
    matches!(
        request.request_context_ref(),
        Some(lambda_http::request::RequestContext::PassThrough)
    )
}

/// One scheduled clustering run, with the default parameters; the summary (or the error body,
/// e.g. too few questions yet) is the invocation's result.
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

/// Handles one Lambda HTTP event (API Gateway v2, REST v1 or ALB) with the router.
pub async fn handle_event(
    router: Router,
    request: lambda_http::Request,
) -> Result<axum::response::Response, std::convert::Infallible> {
    use tower::ServiceExt;
    router.oneshot(strip_stage(request)).await
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
/// limits until SIGTERM or Ctrl-C.
pub async fn serve(
    router: Router,
    address: std::net::SocketAddr,
    tracker: Option<rag_core::track::Tracker>,
) -> Result<(), lambda_http::Error> {
    if in_lambda() {
        let handler = lambda_http::service_fn(move |request| {
            let (router, tracker) = (router.clone(), tracker.clone());
            async move {
                let response = handle_event(router, request).await;
                flush(tracker.as_ref()).await;
                response
            }
        });
        return lambda_http::run(handler).await;
    }
    server::serve_http(router, address).await?;
    Ok(())
}
