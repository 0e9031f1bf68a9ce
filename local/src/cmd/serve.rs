//! `rag serve`: every handler in one process on one port, the way API Gateway routes them
//! (the local gateway), with the embedded defaults unless DATABASE_URL, DYNAMODB_TABLE etc.
//! say otherwise.

use rag_api::{App, Config, Needs, all_routes, finish, serve};

use crate::context::Context;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, env = "PORT", default_value_t = 8000)]
    port: u16,
    /// Interface to listen on: loopback unless told otherwise (0.0.0.0 for every interface).
    #[arg(long, env = "RAG_HOST", default_value = "127.0.0.1")]
    host: std::net::IpAddr,
    #[arg(long, env = "RAG_COLLECTION", default_value = rag_core::collection::DEFAULT_COLLECTION)]
    collection: String,
}

/// The service configuration: the environment, with the CLI's data and model settings.
pub fn config(ctx: &Context) -> anyhow::Result<Config> {
    let mut config = Config::from_env()?;
    config.data_dir = ctx.data_dir.clone();
    config.model_dir = ctx.model.model_dir.clone();
    config.models = ctx.model.model.clone();
    config.precision = ctx.precision();
    config.threads = ctx.threads();
    Ok(config)
}

pub async fn run(ctx: &Context, args: Args) -> anyhow::Result<()> {
    let mut config = config(ctx)?;
    config.port = args.port;
    config.host = args.host;
    config.collection = args.collection;
    let app = App::from_config(&config, Needs::EVERYTHING).await?;
    if app.index_version().is_none() {
        eprintln!(
            "warning: no index for collection {:?} yet: POST /query answers 503 until one is published",
            config.collection
        );
    }
    eprintln!(
        "serving on http://{} (store: {}; docs: /docs)",
        config.address(),
        app.store.kind()
    );
    serve(finish(all_routes(), app.clone()), config.address(), app)
        .await
        .map_err(|e| anyhow::anyhow!(e))
}
