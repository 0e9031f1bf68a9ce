//! GET /openapi.json and GET /docs (a self-contained page: no CDN, works offline).

use axum::response::Html;
use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::state::App;

#[derive(OpenApi)]
#[openapi(
    info(title = "IT-support RAG assistant", description = "Cited answers from the IT procedures; every question kept in the caller's history."),
    paths(
        super::auth::login,
        super::query::ask,
        super::history::history,
        super::health::health,
        super::admin::create,
        super::admin::update,
        super::admin::audit,
        super::documents::upload,
        super::documents::list,
        super::documents::webhook,
        super::clusters::run,
        super::clusters::latest,
    ),
    components(schemas(crate::dto::TokenEvent)),
    modifiers(&Bearer),
    tags((name = "auth"), (name = "query"), (name = "history"), (name = "health"), (name = "admin"), (name = "documents"), (name = "clusters"))
)]
pub struct ApiDoc;

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "basic",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Basic).build()),
        );
    }
}

pub fn router() -> Router<App> {
    Router::new()
        .route("/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
        .route("/docs", get(|| async { Html(DOCS_PAGE) }))
}

/// Lists every operation of /openapi.json with its parameters, bodies and answers.
const DOCS_PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>IT-support RAG assistant — API</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}
.op{border:1px solid #ccc;border-radius:6px;margin:1rem 0;padding:.5rem 1rem}
.m{font-weight:bold;text-transform:uppercase;margin-right:.5rem}pre{background:#f6f6f6;padding:.5rem;overflow:auto}</style>
</head><body><h1>IT-support RAG assistant — API</h1><p>Machine-readable: <a href="openapi.json">openapi.json</a></p>
<div id="ops">Loading…</div>
<script>
fetch('openapi.json').then(r => r.json()).then(spec => {
  const ops = document.getElementById('ops'); ops.textContent = '';
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const div = document.createElement('div'); div.className = 'op';
      const h = document.createElement('h2');
      h.innerHTML = '<span class="m"></span><code></code>';
      h.querySelector('.m').textContent = method; h.querySelector('code').textContent = path;
      div.appendChild(h);
      const p = document.createElement('p'); p.textContent = op.description || op.summary || ''; div.appendChild(p);
      const pre = document.createElement('pre');
      pre.textContent = JSON.stringify({parameters: op.parameters, requestBody: op.requestBody, responses: op.responses}, null, 2);
      div.appendChild(pre); ops.appendChild(div);
    }
  }
  const s = document.createElement('h2'); s.textContent = 'Schemas'; ops.appendChild(s);
  const pre = document.createElement('pre'); pre.textContent = JSON.stringify(spec.components.schemas, null, 2); ops.appendChild(pre);
});
</script></body></html>"#;
