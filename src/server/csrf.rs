//! Cross-site request forgery protection for every state-changing request, server functions included.
//!
//! Browsers label each request with where it came from: `Sec-Fetch-Site` (all current browsers) and
//! `Origin` (sent on every POST since 2020). A request whose labels say another site is refused. A request
//! with neither label did not come from a current browser, so it cannot be a forged one, unless it carries
//! our session cookie: then an old browser may have been tricked, and it is refused too. This follows the
//! OWASP CSRF cheat sheet's Fetch Metadata defence, with SameSite=Lax cookies as a second layer, and needs
//! no token, so plain HTML forms keep working with JavaScript off.

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::Response,
};
use http::{header, HeaderMap, Method};

use crate::error::{AppError, ErrorKind};

#[derive(Clone)]
pub struct CsrfPolicy {
    /// `scheme://host[:port]` of the public URL.
    pub origin: String,
    pub session_cookie: &'static str,
    /// Paths other sites may POST to by design: OAuth endpoints that apps call (authenticated by client
    /// credentials or bearer tokens, never by our cookie) or send browsers to (authorization and logout
    /// requests, which change nothing before the person acts on our own pages).
    pub exempt: &'static [&'static str],
}

pub async fn middleware(State(policy): State<CsrfPolicy>, req: Request, next: Next) -> Response {
    if is_safe(req.method()) || policy.exempt.contains(&req.uri().path()) || allowed(req.headers(), &policy) {
        return next.run(req).await;
    }
    tracing::warn!(
        origin = ?req.headers().get(header::ORIGIN),
        sec_fetch_site = ?req.headers().get("sec-fetch-site"),
        "cross-site request refused"
    );
    crate::server::router::error_response(&AppError::new(ErrorKind::Forbidden), req.headers())
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn allowed(headers: &HeaderMap, policy: &CsrfPolicy) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        return site.as_bytes() == b"same-origin";
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        return origin.as_bytes() == policy.origin.as_bytes();
    }
    !carries_cookie(headers, policy.session_cookie)
}

fn carries_cookie(headers: &HeaderMap, name: &str) -> bool {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .any(|pair| pair.trim_start().split('=').next() == Some(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn policy() -> CsrfPolicy {
        CsrfPolicy { origin: "https://id.example.com".into(), session_cookie: "__Host-vestibule", exempt: &[] }
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn fetch_metadata_decides_when_present() {
        assert!(allowed(&headers(&[("sec-fetch-site", "same-origin")]), &policy()));
        for site in ["cross-site", "same-site", "none"] {
            let h = headers(&[("sec-fetch-site", site), ("origin", "https://id.example.com")]);
            assert!(!allowed(&h, &policy()), "{site}");
        }
    }

    #[test]
    fn origin_must_match_exactly() {
        assert!(allowed(&headers(&[("origin", "https://id.example.com")]), &policy()));
        for o in [
            "https://evil.example",
            "null",
            "https://id.example.com.evil.example",
            "http://id.example.com",
            "https://id.example.com:444",
        ] {
            let mut h = HeaderMap::new();
            h.insert("origin", HeaderValue::from_str(o).unwrap_or(HeaderValue::from_static("x")));
            assert!(!allowed(&h, &policy()), "{o}");
        }
    }

    #[test]
    fn unlabelled_requests_pass_only_without_the_session_cookie() {
        assert!(allowed(&headers(&[]), &policy()));
        assert!(allowed(&headers(&[("cookie", "other=1")]), &policy()));
        assert!(!allowed(&headers(&[("cookie", "a=1; __Host-vestibule=xyz")]), &policy()));
    }

    #[test]
    fn safe_methods_are_not_checked() {
        assert!(is_safe(&Method::GET) && is_safe(&Method::HEAD));
        assert!(!is_safe(&Method::POST) && !is_safe(&Method::DELETE) && !is_safe(&Method::PUT));
    }
}
