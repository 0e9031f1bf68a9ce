//! Which function serves which route, and who may call it: the table the edge routes and
//! checks by, kept beside the functions' own routers (a test in rag-api holds them together).

/// The function behind a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    Login,
    Query,
    History,
    Health,
    Ingest,
    Cluster,
}

impl Function {
    pub const ALL: [Function; 6] = [
        Function::Login,
        Function::Query,
        Function::History,
        Function::Health,
        Function::Ingest,
        Function::Cluster,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Function::Login => "login",
            Function::Query => "query",
            Function::History => "history",
            Function::Health => "health",
            Function::Ingest => "ingest",
            Function::Cluster => "cluster",
        }
    }
}

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Public,
    /// Any active account with a valid token.
    User,
    Admin,
    /// Only from inside (the bucket's webhook): the edge never forwards it.
    Internal,
}

/// What the edge checks in a body before forwarding it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyCheck {
    /// Passed through as it streams (a PDF upload); the function applies its own limit.
    Stream,
    Login,
    Query,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    /// Segments; `{name}` matches any one non-empty segment.
    pub path: &'static str,
    pub function: Function,
    pub access: Access,
    pub body: BodyCheck,
    /// The same for every caller: a shared cache may keep it (public GETs only).
    pub cacheable: bool,
}

const fn route(
    method: &'static str,
    path: &'static str,
    function: Function,
    access: Access,
) -> Route {
    Route {
        method,
        path,
        function,
        access,
        body: BodyCheck::Stream,
        cacheable: false,
    }
}

const fn checked(mut r: Route, body: BodyCheck) -> Route {
    r.body = body;
    r
}

const fn cacheable(mut r: Route) -> Route {
    r.cacheable = true;
    r
}

use Access::{Admin, Internal, Public, User};
use Function::{Cluster, Health, History, Ingest, Login, Query};

/// Every route of the API.
pub const ROUTES: &[Route] = &[
    checked(
        route("POST", "/auth/login", Login, Public),
        BodyCheck::Login,
    ),
    cacheable(route("GET", "/.well-known/jwks.json", Login, Public)),
    route("GET", "/admin/users", Login, Admin),
    route("POST", "/admin/users", Login, Admin),
    route("PATCH", "/admin/users/{username}", Login, Admin),
    route("GET", "/admin/audit", Login, Admin),
    checked(route("POST", "/query", Query, User), BodyCheck::Query),
    route("GET", "/health/ready", Query, Public),
    route("GET", "/history", History, User),
    route("POST", "/queries/{query_id}/feedback", History, User),
    route("GET", "/admin/feedback", History, Admin),
    route("GET", "/health", Health, Public),
    cacheable(route("GET", "/openapi.json", Health, Public)),
    cacheable(route("GET", "/docs", Health, Public)),
    cacheable(route("GET", "/", Health, Public)),
    cacheable(route("GET", "/assets/{file}", Health, Public)),
    route("GET", "/documents", Ingest, Admin),
    route("POST", "/documents", Ingest, Admin),
    route("GET", "/documents/{name}", Ingest, User),
    route("DELETE", "/documents/{name}", Ingest, Admin),
    route("GET", "/index/versions", Ingest, Admin),
    route("POST", "/index/rollback", Ingest, Admin),
    route("POST", "/events/s3", Ingest, Internal),
    route("POST", "/edge/hits", Login, Internal),
    route("GET", "/clusters", Cluster, Admin),
    route("POST", "/clusters/run", Cluster, Admin),
];

/// Why no route matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Miss {
    NotFound,
    /// The path exists with other methods (the `Allow` header lists them).
    MethodNotAllowed,
}

fn matches(pattern: &str, path: &str) -> bool {
    let mut want = pattern.split('/');
    let mut got = path.split('/');
    loop {
        match (want.next(), got.next()) {
            (None, None) => return true,
            (Some(w), Some(g)) if w.starts_with('{') && w.ends_with('}') && !g.is_empty() => {}
            (Some(w), Some(g)) if w == g => {}
            _ => return false,
        }
    }
}

/// The route serving `method` on `path` (without its query string).
pub fn find(method: &str, path: &str) -> Result<&'static Route, Miss> {
    let mut same_path = ROUTES.iter().filter(|r| matches(r.path, path)).peekable();
    if same_path.peek().is_none() {
        return Err(Miss::NotFound);
    }
    if let Some(r) = ROUTES
        .iter()
        .find(|r| matches(r.path, path) && r.method.eq_ignore_ascii_case(method))
    {
        return Ok(r);
    }
    Err(Miss::MethodNotAllowed)
}

/// The methods `path` answers, for an `Allow` header.
pub fn allowed_methods(path: &str) -> Vec<&'static str> {
    ROUTES
        .iter()
        .filter(|r| matches(r.path, path))
        .map(|r| r.method)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_found_by_method_and_path() {
        let query = find("POST", "/query").expect("query");
        assert_eq!((query.function, query.access), (Query, User));
        assert_eq!(query.body, BodyCheck::Query);
        assert_eq!(
            find("PATCH", "/admin/users/alice").expect("user").access,
            Admin
        );
        assert_eq!(find("GET", "/admin/users/"), Err(Miss::NotFound));
        assert_eq!(find("GET", "/admin/users/a/b"), Err(Miss::NotFound));
        assert_eq!(find("GET", "/nowhere"), Err(Miss::NotFound));
        assert!(matches!(find("GET", "/query"), Err(Miss::MethodNotAllowed)));
        assert_eq!(allowed_methods("/documents"), vec!["GET", "POST"]);
    }

    #[test]
    fn a_query_is_never_cacheable() {
        assert!(!find("POST", "/query").expect("query").cacheable);
        assert!(
            ROUTES
                .iter()
                .all(|r| !r.cacheable || (r.method == "GET" && r.access == Public))
        );
    }
}
