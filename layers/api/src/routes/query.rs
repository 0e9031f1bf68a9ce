//! POST /query: a JSON answer, or with `Accept: text/event-stream` the answer streamed as
//! the model writes it.

use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderMap, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use rag_core::assistant::{self, Asked};
use rag_core::query::{DEFAULT_TOP_K, QueryOptions};
use tokio::sync::mpsc;
use tokio_stream::wrappers::UnboundedReceiverStream;

use crate::caller::AuthUser;
use crate::dto::{QueryRequest, QueryResponse, SourceDto, TokenEvent};
use crate::error::{ApiError, ErrorBody};
use crate::state::App;

pub fn router() -> Router<App> {
    Router::new().route("/query", post(ask))
}

/// Answers a question from the documentation, with cited pages; the question is recorded in
/// the caller's history.
///
/// With `Accept: text/event-stream` the reply is a stream of `token` events (`{"text"}`, pieces
/// of the answer as the model writes them), then one `done` event carrying the whole
/// `QueryResponse`, whose `answer` is the one that stands (citations checked, or the extractive
/// answer if the model failed mid-way), or an `error` event (`ErrorBody`).
#[utoipa::path(post, path = "/query", tag = "query", request_body = QueryRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, body = QueryResponse,
         description = "the answer; with `Accept: text/event-stream`, `token` events then a `done` event carrying it"),
        (status = 400, body = ErrorBody, description = "malformed body"),
        (status = 401, body = ErrorBody, description = "missing, invalid or expired token"),
        (status = 403, body = ErrorBody, description = "account deactivated"),
        (status = 413, body = ErrorBody, description = "body too large"),
        (status = 422, body = ErrorBody, description = "empty or too long question, bad top_k"),
        (status = 503, body = ErrorBody, description = "store or engine unavailable"),
    ))]
pub async fn ask(
    AuthUser(user): AuthUser,
    State(app): State<App>,
    headers: HeaderMap,
    body: Result<Json<QueryRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(req) = body?;
    let engine = app.engine.clone().ok_or_else(|| {
        assistant::AskError::NoIndex("this function does not answer questions".into())
    })?;
    let options = QueryOptions {
        top_k: req.top_k.unwrap_or(DEFAULT_TOP_K),
        ..QueryOptions::default()
    };
    let draft = assistant::draft(&engine, &req.question, options).await?;
    if !wants_stream(&headers) {
        let asked = assistant::complete(draft, app.services(), user.id, None).await?;
        return Ok(Json(response(asked)).into_response());
    }
    let (events, received) = mpsc::unbounded_channel();
    // The answer is completed and recorded even if the client goes away mid-stream.
    tokio::spawn(async move {
        let tokens = events.clone();
        let mut on_delta = move |text: &str| {
            let event = Event::default().event("token").json_data(TokenEvent {
                text: text.to_string(),
            });
            let _ = tokens.send(event);
        };
        let done = assistant::complete(draft, app.services(), user.id, Some(&mut on_delta)).await;
        let last = match done {
            Ok(asked) => Event::default().event("done").json_data(response(asked)),
            Err(e) => Event::default()
                .event("error")
                .json_data(ApiError::from(e).body()),
        };
        let _ = events.send(last);
    });
    Ok(Sse::new(UnboundedReceiverStream::new(received))
        .keep_alive(KeepAlive::default())
        .into_response())
}

/// True when the client asked for server-sent events.
fn wants_stream(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/event-stream"))
}

fn response(asked: Asked) -> QueryResponse {
    let Asked {
        query_id,
        answer,
        index_version,
        ..
    } = asked;
    QueryResponse {
        query_id,
        answer: answer.answer,
        sources: answer.sources.into_iter().map(SourceDto::from).collect(),
        latency_ms: answer.latency_ms,
        index_version,
        grounded: answer.grounded,
        generator: answer.generator,
        model: answer.model,
    }
}
