//! GET and POST /admin/users, PATCH /admin/users/{username}, GET /admin/audit

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use rag_core::accounts;
use rag_core::store::Role;

use crate::caller::Admin;
use crate::dto::{
    AuditItem, AuditResponse, NewUserRequest, Page, PageParams, UserList, UserPatch, UserResponse,
};
use crate::error::{ApiError, ErrorBody};
use crate::state::App;

pub fn router() -> Router<App> {
    Router::new()
        .route("/admin/users", post(create).get(list))
        .route("/admin/users/{username}", patch(update))
        .route("/admin/audit", get(audit))
}

/// Creates an account (administrators only).
#[utoipa::path(post, path = "/admin/users", tag = "admin", request_body = NewUserRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, body = UserResponse, description = "the account"),
        (status = 400, body = ErrorBody, description = "malformed JSON, or a missing field"), (status = 401, body = ErrorBody, description = "missing, invalid or expired token"),
        (status = 403, body = ErrorBody, description = "not an administrator, or deactivated"), (status = 409, body = ErrorBody, description = "username taken"),
        (status = 422, body = ErrorBody, description = "invalid username or password"),
    ))]
pub async fn create(
    Admin(caller): Admin,
    State(app): State<App>,
    body: Result<Json<NewUserRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<UserResponse>), ApiError> {
    let Json(req) = body?;
    let user = accounts::create_user(
        app.store.as_ref(),
        &caller.username,
        &req.username,
        &req.password,
        req.role.unwrap_or(Role::User),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(user.into())))
}

/// Every account, by username (administrators only).
#[utoipa::path(get, path = "/admin/users", tag = "admin", operation_id = "list_users", security(("bearer" = [])),
    responses(
        (status = 200, body = UserList, description = "the accounts"),
        (status = 401, body = ErrorBody, description = "missing, invalid or expired token"),
        (status = 403, body = ErrorBody, description = "not an administrator, or deactivated"),
    ))]
pub async fn list(_: Admin, State(app): State<App>) -> Result<Json<UserList>, ApiError> {
    let mut users = app.store.users().await?;
    users.sort_by(|a, b| a.username.cmp(&b.username));
    Ok(Json(UserList {
        users: users.into_iter().map(UserResponse::from).collect(),
    }))
}

/// Activates or deactivates an account, or changes its role (administrators only). A
/// deactivated user's tokens stop working on their next request.
#[utoipa::path(patch, path = "/admin/users/{username}", tag = "admin", request_body = UserPatch,
    params(("username" = String, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = UserResponse, description = "the account as changed"),
        (status = 400, body = ErrorBody, description = "malformed JSON, or a missing field"), (status = 401, body = ErrorBody, description = "missing, invalid or expired token"),
        (status = 403, body = ErrorBody, description = "not an administrator, or deactivated"), (status = 404, body = ErrorBody, description = "no such account"),
    ))]
pub async fn update(
    Admin(caller): Admin,
    State(app): State<App>,
    Path(username): Path<String>,
    body: Result<Json<UserPatch>, JsonRejection>,
) -> Result<Json<UserResponse>, ApiError> {
    let Json(req) = body?;
    let user = accounts::update_user(
        app.store.as_ref(),
        &caller.username,
        &username,
        req.active,
        req.role,
    )
    .await?;
    Ok(Json(user.into()))
}

/// The audit trail, newest first: who created, (de)activated or promoted accounts, uploaded or
/// removed documents, and which index versions were published (administrators only).
#[utoipa::path(get, path = "/admin/audit", tag = "admin", params(PageParams),
    security(("bearer" = [])),
    responses(
        (status = 200, body = AuditResponse, description = "a page of the trail"),
        (status = 400, body = ErrorBody, description = "invalid cursor"),
        (status = 401, body = ErrorBody, description = "missing, invalid or expired token"), (status = 403, body = ErrorBody, description = "not an administrator, or deactivated"),
        (status = 422, body = ErrorBody, description = "limit out of range"),
    ))]
pub async fn audit(
    _: Admin,
    State(app): State<App>,
    params: Result<Query<PageParams>, QueryRejection>,
) -> Result<Json<AuditResponse>, ApiError> {
    let Query(p) =
        params.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", e.body_text()))?;
    let page = Page::parse(p.limit, p.cursor.as_deref())?;
    let entries = app.store.audit(page.limit, page.before.as_deref()).await?;
    let next_cursor = page.next_cursor(entries.last().map(|e| e.id.as_str()), entries.len());
    Ok(Json(AuditResponse {
        entries: entries.into_iter().map(AuditItem::from).collect(),
        next_cursor,
    }))
}
