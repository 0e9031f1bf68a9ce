//! POST /admin/users, PATCH /admin/users/{username}

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{patch, post};
use axum::{Json, Router};
use rag_core::accounts;
use rag_core::store::Role;

use super::admin;
use crate::dto::{NewUserRequest, UserPatch, UserResponse};
use crate::error::{ApiError, ErrorBody};
use crate::state::App;

pub fn router() -> Router<App> {
    Router::new()
        .route("/admin/users", post(create))
        .route("/admin/users/{username}", patch(update))
}

/// Creates an account (administrators only).
#[utoipa::path(post, path = "/admin/users", tag = "admin", request_body = NewUserRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, body = UserResponse),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody, description = "username taken"),
        (status = 422, body = ErrorBody, description = "invalid username or password"),
    ))]
pub async fn create(
    State(app): State<App>,
    headers: HeaderMap,
    body: Result<Json<NewUserRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<UserResponse>), ApiError> {
    admin(&app, &headers).await?;
    let Json(req) = body?;
    let user = accounts::create_user(
        app.store.as_ref(),
        &req.username,
        &req.password,
        req.role.unwrap_or(Role::User),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(user.into())))
}

/// Activates or deactivates an account, or changes its role (administrators only). A
/// deactivated user's tokens stop working on their next request.
#[utoipa::path(patch, path = "/admin/users/{username}", tag = "admin", request_body = UserPatch,
    params(("username" = String, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = UserResponse),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ))]
pub async fn update(
    State(app): State<App>,
    headers: HeaderMap,
    Path(username): Path<String>,
    body: Result<Json<UserPatch>, JsonRejection>,
) -> Result<Json<UserResponse>, ApiError> {
    admin(&app, &headers).await?;
    let Json(req) = body?;
    let user = accounts::update_user(app.store.as_ref(), &username, req.active, req.role).await?;
    Ok(Json(user.into()))
}
