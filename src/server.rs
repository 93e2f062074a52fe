//! The HTTP front: one EC2 Query endpoint at `/` (GET or POST; SSM JSON requests to `/`
//! go to `wire::ssm`), plus `/_ec2lite/*`
//! endpoints for health, reset and test control.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

use crate::access::Scope;
use crate::actions::{Ctx, Operation};
use crate::app::App;
use crate::domain::clock;
use crate::ec2_err;
use crate::error::{Ec2Error, Result};
use crate::wire::admin::{admin_refusal, AdminPath};
use crate::wire::intake::{self, Accepted, Front, Refusal};
use crate::wire::xml;

pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/_ec2lite/health", get(health))
        .merge(admin_reads(app.clone()))
        .merge(admin_mutations(app.clone()))
        .merge(crate::wire::ebs::routes())
        .merge(crate::wire::dashboard::routes(app.clone()))
        .fallback(no_route)
        // After every route: it applies to the routes registered so far.
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(app)
}

/// The endpoints that tell what is stored, behind `--admin-token` when one is set.
fn admin_reads(app: Arc<App>) -> Router<Arc<App>> {
    Router::new()
        .route("/_ec2lite/metrics", get(metrics))
        .route("/_ec2lite/marketplace/{account}", get(marketplace_subscriptions))
        .route_layer(axum::middleware::from_fn_with_state(app, crate::wire::admin::require_admin_read))
}

/// The endpoints that change or wipe state, behind `--admin-token` (see `AdminAccess`).
fn admin_mutations(app: Arc<App>) -> Router<Arc<App>> {
    Router::new()
        .route("/_ec2lite/reset", post(reset))
        // moto's server-mode fixtures reset through this path.
        .route("/moto-api/reset", post(reset))
        .route("/_ec2lite/fail/{resource_id}", post(fail))
        .route("/_ec2lite/sweep", post(sweep))
        .route(
            "/_ec2lite/marketplace/{account}/{product_code}",
            axum::routing::put(marketplace_subscribe).delete(marketplace_unsubscribe),
        )
        .route_layer(axum::middleware::from_fn_with_state(app, crate::wire::admin::require_admin))
}

/// The EBS direct APIs' paths, whose errors are REST-JSON.
fn is_ebs_path(path: &str) -> bool {
    path == "/snapshots" || path.starts_with("/snapshots/")
}

/// ec2lite's own endpoints, whose errors are JSON.
fn is_admin_path(path: &str) -> bool {
    path.starts_with("/_ec2lite/") || path.starts_with("/moto-api/")
}

/// A request no route takes: an unknown EBS or ec2lite path is answered in its API's
/// format; anything else is an EC2 Query request (which may come to any path).
async fn no_route(State(app): State<Arc<App>>, method: Method, uri: Uri, headers: HeaderMap, body: Body) -> Response {
    let path = uri.path();
    if is_ebs_path(path) {
        return crate::wire::ebs::no_such_operation(&method, path, StatusCode::NOT_FOUND);
    }
    if is_admin_path(path) {
        return admin_refusal(StatusCode::NOT_FOUND, "NotFound", &format!("No ec2lite endpoint {method} {path}."));
    }
    ec2_query(State(app), method, uri, headers, body).await
}

/// A known path asked with a method it does not take.
async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    let path = uri.path();
    let status = StatusCode::METHOD_NOT_ALLOWED;
    if is_ebs_path(path) {
        return crate::wire::ebs::no_such_operation(&method, path, status);
    }
    let message = format!("The method {method} is not allowed on {path}.");
    if is_admin_path(path) {
        return admin_refusal(status, "MethodNotAllowed", &message);
    }
    let mut response = error_response(&ec2_err!(InvalidRequest, "{message}"), &crate::wire::request_id());
    *response.status_mut() = status;
    response
}

/// `GET /_ec2lite/metrics`: Prometheus text, with what is stored counted at each scrape.
async fn metrics(State(app): State<Arc<App>>) -> Response {
    let gathered = async {
        let counts = crate::store::inventory::resource_counts(&mut *app.store.read().await?).await?;
        let blobs = app.blobs.clone();
        let blocks = tokio::task::spawn_blocking(move || blobs.inventory())
            .await
            .map_err(|_| crate::error::Ec2Error::internal())?
            .map_err(|e| ec2_err!(InternalError, "block inventory: {e}"))?;
        Ok::<_, crate::error::Ec2Error>((counts, blocks))
    };
    let (counts, blocks) = match gathered.await {
        Ok(gathered) => gathered,
        Err(err) => return admin_error("metrics", err.message),
    };
    let mut out = String::new();
    app.store.metrics().render(&mut out);
    let rows: Vec<_> = counts.into_iter().map(|(kind, state, n)| (vec![("type", kind), ("state", state)], n)).collect();
    crate::metrics::render_gauges(&mut out, "ec2lite_resources", "Stored resources by type and state.", &rows);
    let bytes: u64 = blocks.iter().map(|(_, size)| size).sum();
    let block_rows = [(vec![("kind", "stored".to_string())], bytes as i64)];
    crate::metrics::render_gauges(&mut out, "ec2lite_block_bytes", "Bytes of snapshot blocks on disk.", &block_rows);
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}

async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}

/// Reclaims the stored blocks nothing refers to any more, and reports the blocks kept.
async fn sweep(State(app): State<Arc<App>>) -> Response {
    match app.sweep_blocks().await {
        Ok(usage) => Json(usage).into_response(),
        Err(err) => {
            tracing::error!(error = %err, "sweep failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// `GET /_ec2lite/marketplace/{account}`: the product codes it subscribed to here and in
/// the accounts file.
async fn marketplace_subscriptions(State(app): State<Arc<App>>, AdminPath(account): AdminPath<String>) -> Response {
    let stored = async {
        let mut conn = app.store.read().await?;
        crate::store::marketplace::subscriptions(&mut conn, &account).await
    };
    match stored.await {
        Ok(mut codes) => {
            let from_file = app.directory.accounts.iter().filter(|a| a.id == account);
            codes.extend(from_file.flat_map(|a| a.marketplace_subscriptions.iter().cloned()));
            codes.sort();
            codes.dedup();
            Json(serde_json::json!({ "account": account, "product_codes": codes })).into_response()
        }
        Err(err) => admin_error("marketplace", err),
    }
}

/// `PUT /_ec2lite/marketplace/{account}/{product_code}`: subscribes the account.
async fn marketplace_subscribe(
    State(app): State<Arc<App>>,
    AdminPath((account, product_code)): AdminPath<(String, String)>,
) -> Response {
    if !crate::domain::ids::is_account_id(&account) {
        return (StatusCode::BAD_REQUEST, Json(serde_json::json!({ "error": "account id must be 12 digits" })))
            .into_response();
    }
    let now = crate::domain::clock::now_ms();
    let stored = async {
        let mut tx = app.store.write().await?;
        crate::store::marketplace::subscribe(&mut tx, &account, &product_code, now).await?;
        tx.commit().await?;
        Ok::<_, crate::error::Ec2Error>(())
    };
    match stored.await {
        Ok(()) => Json(serde_json::json!({ "account": account, "subscribed": product_code })).into_response(),
        Err(err) => admin_error("marketplace", err),
    }
}

/// `DELETE /_ec2lite/marketplace/{account}/{product_code}`: ends a subscription made here.
async fn marketplace_unsubscribe(
    State(app): State<Arc<App>>,
    AdminPath((account, product_code)): AdminPath<(String, String)>,
) -> Response {
    let removed = async {
        let mut tx = app.store.write().await?;
        let removed = crate::store::marketplace::unsubscribe(&mut tx, &account, &product_code).await?;
        tx.commit().await?;
        Ok::<_, crate::error::Ec2Error>(removed)
    };
    match removed.await {
        Ok(true) => Json(serde_json::json!({ "account": account, "unsubscribed": product_code })).into_response(),
        Ok(false) => StatusCode::NOT_FOUND.into_response(),
        Err(err) => admin_error("marketplace", err),
    }
}

fn admin_error(what: &str, err: impl std::fmt::Display) -> Response {
    tracing::error!(error = %err, "{what} failed");
    (StatusCode::INTERNAL_SERVER_ERROR, Json(serde_json::json!({ "status": "error" }))).into_response()
}

async fn reset(State(app): State<Arc<App>>) -> Response {
    if let Some(machines) = &app.machines {
        // Containers first: the rows that name them go next.
        if let Err(err) = machines.remove_all().await {
            tracing::error!(error = %err, "removing the instances' containers failed");
        }
    }
    let outcome = match app.store.reset().await {
        Ok(()) => app.sweep_blocks().await.map(|_| ()),
        Err(err) => Err(err.into()),
    };
    match outcome {
        Ok(()) => {
            app.catalog.forget_seeded_regions();
            Json(serde_json::json!({ "status": "reset" })).into_response()
        }
        Err(err) => {
            tracing::error!(error = %err, "reset failed");
            (StatusCode::INTERNAL_SERVER_ERROR, Json(serde_json::json!({ "status": "error" }))).into_response()
        }
    }
}

/// Forces a pending image, snapshot or volume into its failure state (for tests of
/// failure handling).
async fn fail(
    State(app): State<Arc<App>>,
    AdminPath(resource_id): AdminPath<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let message = q.get("message").cloned().unwrap_or_else(|| "Failed by request".to_string());
    let outcome = async {
        let mut tx = app.store.write().await?;
        let failed = crate::store::lifecycle::fail(&mut tx, &resource_id, &message).await?;
        tx.commit().await?;
        Ok::<_, sqlx::Error>(failed)
    }
    .await;
    match outcome {
        Ok(true) => Json(serde_json::json!({ "status": "failed", "resource": resource_id })).into_response(),
        Ok(false) => {
            (StatusCode::CONFLICT, Json(serde_json::json!({ "status": "not-pending", "resource": resource_id })))
                .into_response()
        }
        Err(err) => {
            tracing::error!(error = %err, "fail endpoint");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

async fn ec2_query(State(app): State<Arc<App>>, method: Method, uri: Uri, headers: HeaderMap, body: Body) -> Response {
    // SSM's JSON requests come to the same `/`, named by their target header.
    if let Some(operation) = crate::wire::ssm::target(&headers) {
        let (action, started) = (format!("AmazonSSM.{operation}"), std::time::Instant::now());
        let response = crate::wire::ssm::handle(app.clone(), method, uri, headers, body).await;
        let outcome = if response.status().is_success() { "ok" } else { "error" };
        app.store.metrics().record_request(&action, outcome, started.elapsed());
        return response;
    }
    let request_id = crate::wire::request_id();
    let request = match intake::accept(&app, Front::Query, &method, &uri, &headers, body).await {
        Ok(request) => request,
        Err(refusal) => {
            let err = match refusal {
                Refusal::TooLarge { limit } => {
                    ec2_err!(RequestEntityTooLarge, "The request body exceeds {limit} bytes.")
                }
                Refusal::Unreadable => ec2_err!(InvalidRequest, "{}", intake::UNREADABLE_BODY),
                Refusal::Denied(err) => err,
            };
            tracing::info!(outcome = %err.code, "request refused");
            app.store.metrics().record_request("", err.code.as_str(), std::time::Duration::ZERO);
            return error_response(&err, &request_id);
        }
    };
    let action = request.params.str("Action").unwrap_or_default();
    let outcome = handle(&app, &request, action).await;
    let (account, region) = (request.caller.account.as_str(), request.caller.region);
    let elapsed = request.started.elapsed();
    let latency_us = elapsed.as_micros() as u64;
    let outcome_code = outcome.as_ref().map_or_else(|err| err.code.as_str(), |_| "ok");
    app.store.metrics().record_request(action, outcome_code, elapsed);
    match outcome {
        Ok(body) => {
            tracing::info!(action, account, region, outcome = "ok", latency_us, "request");
            success_response(action, &request_id, body.as_str())
        }
        Err(err) => {
            tracing::info!(action, account, region, outcome = %err.code, latency_us, "request");
            error_response(&err, &request_id)
        }
    }
}

async fn handle(app: &App, request: &Accepted, action: &str) -> Result<xml::Xml> {
    if action.is_empty() {
        return Err(ec2_err!(MissingAction, "The request must contain the parameter Action"));
    }
    let operation = Operation::parse(action, &request.params)?;
    request.params.check_values()?;
    let dry_run = request.params.flag("DryRun")?;
    let caller = &request.caller;
    let ctx =
        Ctx { app, scope: Scope { account: &caller.account, region: caller.region }, now: clock::now_ms(), dry_run };
    operation.run(&ctx).await
}

fn with_headers(status: StatusCode, request_id: &str, body: String) -> Response {
    let mut response = (status, body).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml;charset=UTF-8"));
    h.insert(header::SERVER, HeaderValue::from_static("AmazonEC2"));
    if let Ok(id) = HeaderValue::from_str(request_id) {
        h.insert("x-amzn-requestid", id);
    }
    response
}

fn success_response(action: &str, request_id: &str, body: &str) -> Response {
    with_headers(StatusCode::OK, request_id, xml::success_body(action, request_id, body))
}

fn error_response(err: &Ec2Error, request_id: &str) -> Response {
    let status = StatusCode::from_u16(err.status()).unwrap_or(StatusCode::BAD_REQUEST);
    with_headers(status, request_id, xml::error_body(err.code.as_str(), &err.message, request_id))
}
