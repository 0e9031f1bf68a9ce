//! POST /query

use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use rag_core::accounts;
use rag_core::generate::{self, CONTEXT_TOKENS};
use rag_core::query::{self, DEFAULT_TOP_K, QueryOptions};
use rag_core::store::NewQuery;

use super::bearer;
use crate::dto::{QueryRequest, QueryResponse, SourceDto};
use crate::error::{ApiError, ErrorBody};
use crate::state::App;

pub fn router() -> Router<App> {
    Router::new().route("/query", post(ask))
}

/// Answers a question from the documentation, with cited pages; the question is recorded in
/// the caller's history.
#[utoipa::path(post, path = "/query", tag = "query", request_body = QueryRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, body = QueryResponse),
        (status = 400, body = ErrorBody, description = "malformed body"),
        (status = 401, body = ErrorBody, description = "missing, invalid or expired token"),
        (status = 403, body = ErrorBody, description = "account deactivated"),
        (status = 413, body = ErrorBody, description = "body too large"),
        (status = 422, body = ErrorBody, description = "empty or too long question, bad top_k"),
        (status = 503, body = ErrorBody, description = "store or engine unavailable"),
    ))]
pub async fn ask(
    State(app): State<App>,
    headers: HeaderMap,
    body: Result<Json<QueryRequest>, JsonRejection>,
) -> Result<Json<QueryResponse>, ApiError> {
    let user = accounts::authenticate(app.store.as_ref(), &app.tokens, bearer(&headers)).await?;
    let Json(req) = body?;
    let unavailable = |why: Option<String>| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "engine_unavailable",
            match why {
                Some(why) => format!("no index loaded: {why}"),
                None => "no index loaded: no version published yet".into(),
            },
        )
    };
    let engine = app.engine.clone().ok_or_else(|| unavailable(None))?;
    engine.refresh_if_due().await;
    let index = engine
        .current()
        .ok_or_else(|| unavailable(engine.last_failure().map(|f| f.message)))?;
    let options = QueryOptions {
        top_k: req.top_k.unwrap_or(DEFAULT_TOP_K),
        ..QueryOptions::default()
    };
    query::validate(&req.question, options.top_k)?;
    let question = req.question.trim().to_string();
    let asked = question.clone();
    let (worker, searched) = (engine.clone(), index.clone());
    // Embedding is CPU-bound: keep it off the async workers. The request keeps its snapshot of
    // the index even if a newer version is swapped in meanwhile.
    let answer = tokio::task::spawn_blocking(move || {
        query::ask(&searched, &worker.models, &asked, &options)
    })
    .await
    .map_err(|e| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "engine_unavailable",
            e.to_string(),
        )
    })??;
    // An LLM, when configured, rewrites a grounded answer; if it fails the extractive one stands.
    let answer = match &app.generator {
        Some(generator) => {
            generate::ground(answer, &question, generator.as_ref(), CONTEXT_TOKENS).await
        }
        None => answer,
    };
    let index_version = index.version();
    let query_id = app
        .store
        .record_query(NewQuery {
            user_id: user.id,
            question,
            answer: answer.answer.clone(),
            sources: answer.sources.clone(),
            best_score: answer.best_score,
            grounded: answer.grounded,
            latency_ms: answer.latency_ms,
            index_version: index_version.clone(),
            generator: answer.generator.clone(),
            model: answer.model.clone(),
        })
        .await?;
    Ok(Json(QueryResponse {
        query_id,
        answer: answer.answer,
        sources: answer.sources.into_iter().map(SourceDto::from).collect(),
        latency_ms: answer.latency_ms,
        index_version,
        grounded: answer.grounded,
        generator: answer.generator,
        model: answer.model,
    }))
}
