//! The dashboard: `GET /_ec2lite/ui` (one page embedded in the binary, no network needed)
//! and the JSON read endpoints behind it under `/_ec2lite/api/`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::app::App;
use crate::domain::clock;
use crate::store::dashboard;
use crate::wire::admin::AdminPath;

const PAGE: &str = include_str!("dashboard/index.html");

/// The page is open to all; its data, like the other reads, needs the admin token
/// when one is set (the page asks for it).
pub fn routes(app: Arc<App>) -> Router<Arc<App>> {
    let data = Router::new()
        .route("/_ec2lite/api/scopes", get(scopes))
        .route("/_ec2lite/api/resources", get(resources))
        .route("/_ec2lite/api/images/{image_id}/sharing", get(sharing))
        .route_layer(axum::middleware::from_fn_with_state(app, crate::wire::admin::require_admin_read));
    Router::new().route("/_ec2lite/ui", get(page)).merge(data)
}

async fn page() -> Html<&'static str> {
    Html(PAGE)
}

fn json(body: String) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn failed(err: crate::error::Ec2Error) -> Response {
    tracing::error!(error = %err.message, "dashboard read failed");
    (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(serde_json::json!({ "error": err.code.as_str() }))).into_response()
}

/// `[[account, region], ...]`: every scope that holds something of its own.
async fn scopes(State(app): State<Arc<App>>) -> Response {
    let read = async { dashboard::scopes(&mut *app.store.read().await?).await };
    read.await.map_or_else(failed, json)
}

/// One scope's images, snapshots, volumes, instances, key pairs, import tasks and VPCs,
/// in their current states (`?account=&region=`).
async fn resources(State(app): State<Arc<App>>, Query(q): Query<HashMap<String, String>>) -> Response {
    let account = q.get("account").map_or(crate::wire::auth::DEFAULT_ACCOUNT, String::as_str);
    let region = q.get("region").map_or(app.default_region, String::as_str);
    let read = async {
        app.store.settle(clock::now_ms(), app.timings.terminated_retention_ms).await?;
        dashboard::resources(&mut *app.store.read().await?, account, region).await
    };
    read.await.map_or_else(failed, json)
}

/// Who may launch one image, and its copies.
async fn sharing(State(app): State<Arc<App>>, AdminPath(image_id): AdminPath<String>) -> Response {
    let read = async { dashboard::sharing(&mut *app.store.read().await?, &image_id).await };
    match read.await {
        Ok(Some(body)) => json(body),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(err) => failed(err),
    }
}
