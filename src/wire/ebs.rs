//! The HTTP front of the EBS direct APIs (service `ebs`, REST-JSON), on the same port
//! as EC2: coldsnap's `--endpoint` and a bare `AWS_ENDPOINT_URL` send both services to
//! one address, told apart here by path (`/snapshots...`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Serialize;

use crate::access::Scope;
use crate::actions::ebs::{self, CompleteInput, ListInput, PutBlockInput, StartSnapshotInput};
use crate::actions::Ctx;
use crate::app::App;
use crate::domain::clock;
use crate::error::EbsError;
use crate::wire::auth::Caller;
use crate::wire::intake::{self, Front, Refusal};

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/snapshots", post(start_snapshot))
        .route("/snapshots/completion/{snapshot_id}", post(complete_snapshot))
        .route("/snapshots/{snapshot_id}/blocks", get(list_snapshot_blocks))
        .route("/snapshots/{snapshot_id}/blocks/{block_index}", get(get_snapshot_block).put(put_snapshot_block))
        .route("/snapshots/{snapshot_id}/changedblocks", get(list_changed_blocks))
}

/// One EBS request, accepted: its body read, its signature checked (with
/// `--verify-signatures`) and its caller resolved. Refusals are answered as EBS errors.
struct Accepted {
    caller: Caller,
    headers: HeaderMap,
    query: HashMap<String, String>,
    body: bytes::Bytes,
    started: Instant,
}

impl Accepted {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn query(&self, name: &str) -> Option<&str> {
        self.query.get(name).map(String::as_str)
    }
}

impl FromRequest<Arc<App>> for Accepted {
    type Rejection = Response;

    async fn from_request(request: Request, app: &Arc<App>) -> Result<Self, Response> {
        let (parts, body) = request.into_parts();
        match intake::accept(app, Front::Ebs, &parts.method, &parts.uri, &parts.headers, body).await {
            Ok(accepted) => Ok(Accepted {
                caller: accepted.caller,
                query: Query::<HashMap<String, String>>::try_from_uri(&parts.uri).map(|q| q.0).unwrap_or_default(),
                headers: parts.headers,
                body: accepted.body,
                started: accepted.started,
            }),
            Err(refusal) => {
                let err = match refusal {
                    Refusal::TooLarge { limit } => {
                        EbsError::validation("INVALID_BLOCK", format!("The request body exceeds {limit} bytes."))
                    }
                    Refusal::Unreadable => EbsError::malformed_request(intake::UNREADABLE_BODY),
                    Refusal::Denied(err) => EbsError::from(err),
                };
                tracing::info!(path = parts.uri.path(), outcome = err.kind, "EBS request refused");
                Err(error_response(&err))
            }
        }
    }
}

/// A path's parameters, a malformed one (not UTF-8) refused as an EBS error.
struct EbsPath<T>(T);

impl<T: serde::de::DeserializeOwned + Send> FromRequestParts<Arc<App>> for EbsPath<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, Response> {
        match Path::<T>::from_request_parts(parts, app).await {
            Ok(Path(value)) => Ok(EbsPath(value)),
            Err(rejection) => Err(error_response(&EbsError::malformed_request(rejection.body_text()))),
        }
    }
}

fn ctx<'a>(app: &'a App, request: &'a Accepted) -> Ctx<'a> {
    Ctx {
        app,
        scope: Scope { account: &request.caller.account, region: request.caller.region },
        now: clock::now_ms(),
        dry_run: false,
    }
}

fn with_request_id(mut response: Response) -> Response {
    if let Ok(id) = HeaderValue::from_str(&crate::wire::request_id()) {
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

/// A path or method no EBS operation has, answered with `status` (404 or 405).
pub fn no_such_operation(method: &axum::http::Method, path: &str, status: StatusCode) -> Response {
    let err = EbsError::malformed_request(format!("No EBS direct API operation takes {method} {path}."));
    tracing::info!(path, %method, "EBS request to no operation");
    let mut response = error_response(&err);
    *response.status_mut() = status;
    response
}

/// Logs the outcome and renders it.
fn finish(operation: &str, request: &Accepted, outcome: Result<Response, EbsError>) -> Response {
    let (account, region) = (request.caller.account.as_str(), request.caller.region);
    let latency_us = request.started.elapsed().as_micros() as u64;
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

async fn start_snapshot(State(app): State<Arc<App>>, request: Accepted) -> Response {
    let outcome = match parse_start(&request.body) {
        Ok(input) => ebs::start_snapshot(&ctx(&app, &request), input).await,
        Err(err) => Err(err),
    };
    finish("StartSnapshot", &request, outcome.map(|output| json(StatusCode::CREATED, &output)))
}

fn parse_start(body: &[u8]) -> Result<StartSnapshotInput, EbsError> {
    if body.is_empty() {
        return Ok(StartSnapshotInput::default());
    }
    serde_json::from_slice(body).map_err(|e| EbsError {
        kind: "SerializationException",
        reason: None,
        message: format!("The request body is not valid JSON for StartSnapshot: {e}"),
    })
}

async fn put_snapshot_block(
    State(app): State<Arc<App>>,
    EbsPath((snapshot_id, block_index)): EbsPath<(String, String)>,
    request: Accepted,
) -> Response {
    let input = PutBlockInput {
        snapshot_id: &snapshot_id,
        block_index: &block_index,
        data_length: request.header("x-amz-data-length"),
        checksum: request.header("x-amz-checksum"),
        checksum_algorithm: request.header("x-amz-checksum-algorithm"),
        progress: request.header("x-amz-progress"),
        data: request.body.clone(),
    };
    let outcome = ebs::put_snapshot_block(&ctx(&app, &request), input).await.map(|checksum| {
        let mut response = json(StatusCode::CREATED, &serde_json::json!({}));
        set_checksum(response.headers_mut(), &checksum);
        response
    });
    finish("PutSnapshotBlock", &request, outcome)
}

fn set_checksum(headers: &mut HeaderMap, checksum: &str) {
    if let Ok(value) = HeaderValue::from_str(checksum) {
        headers.insert("x-amz-checksum", value);
    }
    headers.insert("x-amz-checksum-algorithm", HeaderValue::from_static("SHA256"));
}

async fn complete_snapshot(
    State(app): State<Arc<App>>,
    EbsPath(snapshot_id): EbsPath<String>,
    request: Accepted,
) -> Response {
    let input = CompleteInput {
        snapshot_id: &snapshot_id,
        changed_blocks_count: request.header("x-amz-changedblockscount"),
        checksum: request.header("x-amz-checksum"),
        checksum_algorithm: request.header("x-amz-checksum-algorithm"),
        aggregation_method: request.header("x-amz-checksum-aggregation-method"),
    };
    let outcome = ebs::complete_snapshot(&ctx(&app, &request), input)
        .await
        .map(|status| json(StatusCode::ACCEPTED, &serde_json::json!({ "Status": status })));
    finish("CompleteSnapshot", &request, outcome)
}

fn list_input(request: &Accepted) -> ListInput<'_> {
    ListInput {
        page_token: request.query("pageToken"),
        max_results: request.query("maxResults"),
        starting_block_index: request.query("startingBlockIndex"),
    }
}

async fn list_snapshot_blocks(
    State(app): State<Arc<App>>,
    EbsPath(snapshot_id): EbsPath<String>,
    request: Accepted,
) -> Response {
    let outcome = ebs::list_snapshot_blocks(&ctx(&app, &request), &snapshot_id, list_input(&request)).await;
    finish("ListSnapshotBlocks", &request, outcome.map(|output| json(StatusCode::OK, &output)))
}

async fn list_changed_blocks(
    State(app): State<Arc<App>>,
    EbsPath(second_id): EbsPath<String>,
    request: Accepted,
) -> Response {
    let first_id = request.query("firstSnapshotId");
    let outcome = ebs::list_changed_blocks(&ctx(&app, &request), &second_id, first_id, list_input(&request)).await;
    finish("ListChangedBlocks", &request, outcome.map(|output| json(StatusCode::OK, &output)))
}

async fn get_snapshot_block(
    State(app): State<Arc<App>>,
    EbsPath((snapshot_id, block_index)): EbsPath<(String, String)>,
    request: Accepted,
) -> Response {
    let token = request.query("blockToken");
    let outcome = ebs::get_snapshot_block(&ctx(&app, &request), &snapshot_id, &block_index, token).await.map(|block| {
        let length = block.data.len();
        let mut response = (StatusCode::OK, block.data).into_response();
        let h = response.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
        h.insert("x-amz-data-length", HeaderValue::from(length));
        set_checksum(h, &block.checksum);
        with_request_id(response)
    });
    finish("GetSnapshotBlock", &request, outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Any JSON value, nested a few levels, under StartSnapshot's member names or others.
    fn json_value() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<f64>().prop_map(serde_json::Value::from),
            "\\PC{0,12}".prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            let name = prop_oneof![
                Just("VolumeSize".to_string()),
                Just("Tags".to_string()),
                Just("Key".to_string()),
                Just("Timeout".to_string()),
                Just("Encrypted".to_string()),
                Just("Description".to_string()),
                "[A-Za-z]{1,8}",
            ];
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
                prop::collection::btree_map(name, inner, 0..4)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn assert_refused_as_bad_json(err: &EbsError) {
        assert_eq!((err.kind, err.status()), ("SerializationException", 400), "{}", err.message);
    }

    proptest! {
        // 2,000 cases each: well under a second.
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        #[test]
        fn start_snapshot_bytes_parse_or_are_refused_with_a_400(body in prop::collection::vec(any::<u8>(), 0..200)) {
            if let Err(err) = parse_start(&body) {
                assert_refused_as_bad_json(&err);
            }
        }

        #[test]
        fn start_snapshot_json_parses_or_is_refused_with_a_400(value in json_value()) {
            let body = serde_json::to_vec(&value).expect("JSON");
            if let Err(err) = parse_start(&body) {
                assert_refused_as_bad_json(&err);
            }
        }
    }
}
