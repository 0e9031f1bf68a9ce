//! The web page (`/`, its `/assets/…`) and the API explorer (`/docs`), built from `ui/` by
//! `build.sh` (npm packages, esbuild) and embedded at compile time. `rag serve`, the health
//! function and the edge component all serve these same bytes, and none of them fetches
//! anything from another host: the page works offline.
//!
//! No dependency: the crate builds for wasm32-wasip2 (the edge) as for the functions.

/// One file of the page.
#[derive(Debug)]
pub struct Asset {
    /// Where it is served: `/`, `/docs` or `/assets/<name>-<hash>.<ext>`.
    pub path: &'static str,
    pub content_type: &'static str,
    /// Its name carries its content hash: it never changes, so caches keep it for a year.
    pub immutable: bool,
    pub bytes: &'static [u8],
}

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// What the pages may load: their own origin's scripts, styles, data and the PDFs they open
/// as blobs. No inline script, no other host.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data: blob:; \
     object-src 'none'; frame-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; \
     form-action 'self'";

impl Asset {
    /// `Cache-Control`: hashed files forever, the pages that name them revalidated each time.
    pub fn cache_control(&self) -> &'static str {
        if self.immutable {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        }
    }
}

/// The file served at `path` (without the query string).
pub fn find(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.path == path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_and_the_explorer_are_embedded_with_hashed_assets() {
        let page = find("/").expect("the page");
        assert!(page.content_type.starts_with("text/html") && !page.immutable);
        let docs = find("/docs").expect("the API explorer");
        assert!(
            std::str::from_utf8(docs.bytes)
                .expect("utf-8")
                .contains("/assets/")
        );
        let html = std::str::from_utf8(page.bytes).expect("utf-8");
        for asset in ASSETS.iter().filter(|a| a.path.starts_with("/assets/")) {
            assert!(asset.immutable, "{} is not content-hashed", asset.path);
        }
        let scripts: Vec<&str> = html
            .split("src=\"")
            .skip(1)
            .filter_map(|s| s.split('"').next())
            .collect();
        assert!(!scripts.is_empty(), "the page loads no script");
        for src in scripts {
            assert!(
                find(src).is_some(),
                "the page names {src}, which is not embedded"
            );
        }
        assert!(
            !html.contains("http://") && !html.contains("https://"),
            "no other host"
        );
        assert!(find("/assets/nothing.js").is_none());
    }
}
