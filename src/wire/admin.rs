//! ec2lite's own endpoints (`/_ec2lite/*`, `/moto-api/*`): who may call the mutating
//! ones, their JSON errors and extractors.

use std::sync::Arc;

use axum::extract::{FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use subtle::ConstantTimeEq;

use crate::app::App;

/// Who may call ec2lite's own endpoints: reset, sweep, fail resources or change
/// subscriptions (mutations), and read metrics, subscriptions and the dashboard's data
/// (reads). Health and the dashboard page are open to all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminAccess {
    /// Anyone: a local emulator without `--verify-signatures` trusts its callers.
    Open,
    /// Callers presenting this token, for reads and mutations.
    Token(String),
    /// Signatures are checked but no token was configured: mutations are off, so an
    /// unsigned reset cannot wipe what signed callers stored; reads stay open.
    Off,
}

impl AdminAccess {
    pub fn new(token: Option<&str>, verify_signatures: bool) -> AdminAccess {
        match token.filter(|t| !t.is_empty()) {
            Some(token) => AdminAccess::Token(token.to_string()),
            None if verify_signatures => AdminAccess::Off,
            None => AdminAccess::Open,
        }
    }

    /// Whether `headers` may call a reading endpoint; the refusal says why not.
    fn check_read(&self, headers: &HeaderMap) -> Result<(), &'static str> {
        match self {
            AdminAccess::Open | AdminAccess::Off => Ok(()),
            AdminAccess::Token(_) => self.check(headers),
        }
    }

    /// Whether `headers` may call a mutating endpoint; the refusal says why not.
    fn check(&self, headers: &HeaderMap) -> Result<(), &'static str> {
        match self {
            AdminAccess::Open => Ok(()),
            AdminAccess::Off => Err("ec2lite's mutating endpoints are off under --verify-signatures; start it with --admin-token <token> (or EC2LITE_ADMIN_TOKEN) and send the token as 'Authorization: Bearer <token>' or 'X-Ec2lite-Admin-Token'."),
            AdminAccess::Token(expected) => match presented_token(headers) {
                Some(given) if same_token(given, expected) => Ok(()),
                Some(_) => Err("The admin token is not valid."),
                None => Err("This endpoint requires the admin token, as 'Authorization: Bearer <token>' or 'X-Ec2lite-Admin-Token'."),
            },
        }
    }
}

/// Compares the SHA-256 digests in constant time: the answer's timing tells nothing of
/// the token, not even its length.
fn same_token(given: &str, expected: &str) -> bool {
    use sha2::{Digest, Sha256};
    bool::from(Sha256::digest(given.as_bytes()).ct_eq(&Sha256::digest(expected.as_bytes())))
}

/// The token of `Authorization: Bearer <token>` or `X-Ec2lite-Admin-Token`.
fn presented_token(headers: &HeaderMap) -> Option<&str> {
    let value = |name| headers.get(name).and_then(|v| v.to_str().ok());
    value(header::AUTHORIZATION.as_str())
        .and_then(|v| v.strip_prefix("Bearer "))
        .or_else(|| value("x-ec2lite-admin-token"))
        .map(str::trim)
}

/// Middleware of the mutating endpoints: refuses callers `App::admin` does not allow.
pub async fn require_admin(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let allowed = app.admin.check(request.headers());
    serve_or_refuse(allowed, request, next).await
}

/// Middleware of the reading endpoints (metrics, subscriptions, the dashboard's data).
pub async fn require_admin_read(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let allowed = app.admin.check_read(request.headers());
    serve_or_refuse(allowed, request, next).await
}

async fn serve_or_refuse(allowed: Result<(), &'static str>, request: Request, next: Next) -> Response {
    match allowed {
        Ok(()) => next.run(request).await,
        Err(message) => {
            tracing::info!(path = request.uri().path(), "admin request refused");
            admin_refusal(StatusCode::FORBIDDEN, "AccessDenied", message)
        }
    }
}

/// A path's parameters, a malformed one (not UTF-8) refused as a JSON error.
pub struct AdminPath<T>(pub T);

impl<T: serde::de::DeserializeOwned + Send> FromRequestParts<Arc<App>> for AdminPath<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> std::result::Result<Self, Response> {
        match Path::<T>::from_request_parts(parts, app).await {
            Ok(Path(value)) => Ok(AdminPath(value)),
            Err(rejection) => Err(admin_refusal(StatusCode::BAD_REQUEST, "InvalidPath", &rejection.body_text())),
        }
    }
}

/// An error of ec2lite's own endpoints: `{"error": code, "message": ..}`.
pub fn admin_refusal(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(serde_json::json!({ "error": code, "message": message }))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        pairs.iter().map(|(k, v)| (header::HeaderName::from_static(k), v.parse().unwrap())).collect()
    }

    #[test]
    fn access_follows_the_token_and_the_signature_setting() {
        assert_eq!(AdminAccess::new(None, false), AdminAccess::Open);
        assert_eq!(AdminAccess::new(None, true), AdminAccess::Off);
        assert_eq!(AdminAccess::new(Some(""), true), AdminAccess::Off);
        let token = AdminAccess::new(Some("s3cret"), true);
        assert!(token.check(&headers(&[("authorization", "Bearer s3cret")])).is_ok());
        assert!(token.check(&headers(&[("x-ec2lite-admin-token", "s3cret")])).is_ok());
        assert!(token.check(&headers(&[("authorization", "Bearer s3cre")])).is_err());
        assert!(token.check(&headers(&[("authorization", "s3cret")])).is_err());
        assert!(token.check(&headers(&[])).is_err());
        assert!(AdminAccess::Off.check(&headers(&[("x-ec2lite-admin-token", "s3cret")])).is_err());
        assert!(AdminAccess::Off.check_read(&headers(&[])).is_ok());
        assert!(token.check_read(&headers(&[])).is_err());
        assert!(token.check_read(&headers(&[("authorization", "Bearer s3cret")])).is_ok());
    }
}
