//! The HTTP front of the EBS direct APIs (service `ebs`, REST-JSON), on the same port
//! as EC2: coldsnap's `--endpoint` and a bare `AWS_ENDPOINT_URL` send both services to
//! one address, told apart here by path (`/snapshots...`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::body::{to_bytes, Body};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Serialize;

use crate::actions::ebs::{self, CompleteInput, ListInput, PutBlockInput, StartSnapshotInput};
use crate::actions::Ctx;
use crate::app::App;
use crate::domain::block::BLOCK_SIZE;
use crate::domain::clock;
use crate::error::EbsError;
use crate::wire::auth::{resolve_caller, Caller};
use crate::wire::signature;

/// A block plus room for a JSON body; anything larger is refused before it is read.
const MAX_BODY_BYTES: usize = BLOCK_SIZE + 64 * 1024;

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/snapshots", post(start_snapshot))
        .route("/snapshots/completion/{snapshot_id}", post(complete_snapshot))
        .route("/snapshots/{snapshot_id}/blocks", get(list_snapshot_blocks))
        .route("/snapshots/{snapshot_id}/blocks/{block_index}", get(get_snapshot_block).put(put_snapshot_block))
        .route("/snapshots/{snapshot_id}/changedblocks", get(list_changed_blocks))
}

type Params = Query<HashMap<String, String>>;

/// One EBS request: its body read, its signature checked (with `--verify-signatures`)
/// and its caller resolved, ready for the action.
struct Request {
    caller: Caller,
    body: bytes::Bytes,
    started: Instant,
}

async fn accept(app: &App, method: &Method, uri: &Uri, headers: &HeaderMap, body: Body) -> Result<Request, EbsError> {
    let started = Instant::now();
    let body = to_bytes(body, MAX_BODY_BYTES).await.map_err(|_| {
        EbsError::validation("INVALID_BLOCK", format!("The request body exceeds {MAX_BODY_BYTES} bytes."))
    })?;
    if app.verify_signatures {
        let target = uri.path_and_query().map(|pq| pq.as_str()).unwrap_or("/");
        signature::verify(&app.directory, method.as_str(), target, headers, &body)?;
    }
    let caller = resolve_caller(
        headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()),
        None,
        app.default_region,
        &app.directory,
    )?;
    let region = crate::domain::regions::find(caller.region).expect("resolved regions are known");
    if !app.directory.region_enabled(&caller.account, region) {
        return Err(EbsError::from(crate::ec2_err!(
            "AuthFailure",
            "The security token included in the request is invalid."
        )));
    }
    let now = clock::now_ms();
    app.store.settle(now, app.timings.terminated_retention_ms).await?;
    Ok(Request { caller, body, started })
}

fn ctx<'a>(app: &'a App, request: &'a Request) -> Ctx<'a> {
    Ctx { app, account: &request.caller.account, region: request.caller.region, now: clock::now_ms(), dry_run: false }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn with_request_id(mut response: Response) -> Response {
    if let Ok(id) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
        response.headers_mut().insert("x-amzn-requestid", id);
    }
    response
}

fn json(status: StatusCode, value: &impl Serialize) -> Response {
    let body = serde_json::to_vec(value).expect("EBS outputs serialize");
    let mut response = (status, body).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    with_request_id(response)
}

/// The restJson1 error: the type in `x-amzn-ErrorType` and `__type`, with the model's
/// `Message` and `Reason` members.
fn error_response(err: &EbsError) -> Response {
    let mut body = serde_json::json!({ "__type": err.kind, "Message": err.message });
    if let Some(reason) = err.reason {
        body["Reason"] = reason.into();
    }
    let status = StatusCode::from_u16(err.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let mut response = json(status, &body);
    response.headers_mut().insert("x-amzn-errortype", HeaderValue::from_static(err.kind));
    response
}

/// Logs the outcome and renders it.
fn finish(operation: &str, request: Option<&Request>, outcome: Result<Response, EbsError>) -> Response {
    let (account, region) = request.map(|r| (r.caller.account.as_str(), r.caller.region)).unwrap_or(("-", "-"));
    let latency_us = request.map(|r| r.started.elapsed().as_micros() as u64).unwrap_or(0);
    match outcome {
        Ok(response) => {
            tracing::info!(action = operation, account, region, outcome = "ok", latency_us, "request");
            response
        }
        Err(err) => {
            tracing::info!(action = operation, account, region, outcome = err.kind, latency_us, "request");
            error_response(&err)
        }
    }
}

/// Accepts the request, then runs `handle` on it.
macro_rules! serve {
    ($operation:literal, $app:expr, $method:expr, $uri:expr, $headers:expr, $body:expr, |$request:ident| $handle:expr) => {{
        match accept(&$app, &$method, &$uri, &$headers, $body).await {
            Ok($request) => {
                let outcome = $handle;
                finish($operation, Some(&$request), outcome)
            }
            Err(err) => finish($operation, None, Err(err)),
        }
    }};
}

async fn start_snapshot(
    State(app): State<Arc<App>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    serve!("StartSnapshot", app, method, uri, headers, body, |request| {
        let input = if request.body.is_empty() {
            Ok(StartSnapshotInput::default())
        } else {
            serde_json::from_slice::<StartSnapshotInput>(&request.body).map_err(|e| EbsError {
                kind: "SerializationException",
                reason: None,
                message: format!("The request body is not valid JSON for StartSnapshot: {e}"),
            })
        };
        match input {
            Ok(input) => {
                ebs::start_snapshot(&ctx(&app, &request), input).await.map(|output| json(StatusCode::CREATED, &output))
            }
            Err(err) => Err(err),
        }
    })
}

async fn put_snapshot_block(
    State(app): State<Arc<App>>,
    Path((snapshot_id, block_index)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    serve!("PutSnapshotBlock", app, method, uri, headers, body, |request| {
        let input = PutBlockInput {
            snapshot_id: &snapshot_id,
            block_index: &block_index,
            data_length: header(&headers, "x-amz-data-length"),
            checksum: header(&headers, "x-amz-checksum"),
            checksum_algorithm: header(&headers, "x-amz-checksum-algorithm"),
            progress: header(&headers, "x-amz-progress"),
            data: request.body.clone(),
        };
        ebs::put_snapshot_block(&ctx(&app, &request), input).await.map(|checksum| {
            let mut response = json(StatusCode::CREATED, &serde_json::json!({}));
            let h = response.headers_mut();
            if let Ok(value) = HeaderValue::from_str(&checksum) {
                h.insert("x-amz-checksum", value);
            }
            h.insert("x-amz-checksum-algorithm", HeaderValue::from_static("SHA256"));
            response
        })
    })
}

async fn complete_snapshot(
    State(app): State<Arc<App>>,
    Path(snapshot_id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    serve!("CompleteSnapshot", app, method, uri, headers, body, |request| {
        let input = CompleteInput {
            snapshot_id: &snapshot_id,
            changed_blocks_count: header(&headers, "x-amz-changedblockscount"),
            checksum: header(&headers, "x-amz-checksum"),
            checksum_algorithm: header(&headers, "x-amz-checksum-algorithm"),
            aggregation_method: header(&headers, "x-amz-checksum-aggregation-method"),
        };
        ebs::complete_snapshot(&ctx(&app, &request), input)
            .await
            .map(|status| json(StatusCode::ACCEPTED, &serde_json::json!({ "Status": status })))
    })
}

fn list_input(query: &HashMap<String, String>) -> ListInput<'_> {
    ListInput {
        page_token: query.get("pageToken").map(String::as_str),
        max_results: query.get("maxResults").map(String::as_str),
        starting_block_index: query.get("startingBlockIndex").map(String::as_str),
    }
}

async fn list_snapshot_blocks(
    State(app): State<Arc<App>>,
    Path(snapshot_id): Path<String>,
    Query(query): Params,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    serve!("ListSnapshotBlocks", app, method, uri, headers, body, |request| {
        ebs::list_snapshot_blocks(&ctx(&app, &request), &snapshot_id, list_input(&query))
            .await
            .map(|output| json(StatusCode::OK, &output))
    })
}

async fn list_changed_blocks(
    State(app): State<Arc<App>>,
    Path(second_id): Path<String>,
    Query(query): Params,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    serve!("ListChangedBlocks", app, method, uri, headers, body, |request| {
        let first_id = query.get("firstSnapshotId").map(String::as_str);
        ebs::list_changed_blocks(&ctx(&app, &request), &second_id, first_id, list_input(&query))
            .await
            .map(|output| json(StatusCode::OK, &output))
    })
}

async fn get_snapshot_block(
    State(app): State<Arc<App>>,
    Path((snapshot_id, block_index)): Path<(String, String)>,
    Query(query): Params,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    serve!("GetSnapshotBlock", app, method, uri, headers, body, |request| {
        let token = query.get("blockToken").map(String::as_str);
        ebs::get_snapshot_block(&ctx(&app, &request), &snapshot_id, &block_index, token).await.map(|block| {
            let length = block.data.len();
            let mut response = (StatusCode::OK, block.data).into_response();
            let h = response.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
            h.insert("x-amz-data-length", HeaderValue::from(length));
            if let Ok(value) = HeaderValue::from_str(&block.checksum) {
                h.insert("x-amz-checksum", value);
            }
            h.insert("x-amz-checksum-algorithm", HeaderValue::from_static("SHA256"));
            with_request_id(response)
        })
    })
}
