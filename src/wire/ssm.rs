//! The HTTP front of SSM Parameter Store (service `ssm`, the JSON 1.1 protocol), on the
//! same port as EC2: `POST /` with `X-Amz-Target: AmazonSSM.<Operation>`, told apart
//! from EC2 Query requests by that header.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::access::Scope;
use crate::actions::ssm as actions;
use crate::actions::Ctx;
use crate::app::App;
use crate::domain::clock;
use crate::domain::ssm::SsmError;
use crate::wire::intake::{self, Front, Refusal};

const TARGET_PREFIX: &str = "AmazonSSM.";

/// The operation an SSM request names, if it is one.
pub fn target(headers: &HeaderMap) -> Option<&str> {
    headers.get("x-amz-target")?.to_str().ok()?.strip_prefix(TARGET_PREFIX)
}

pub async fn handle(app: Arc<App>, method: Method, uri: Uri, headers: HeaderMap, body: Body) -> Response {
    let operation = target(&headers).unwrap_or_default().to_string();
    let request = match intake::accept(&app, Front::Ssm, &method, &uri, &headers, body).await {
        Ok(request) => request,
        Err(refusal) => {
            let err = match refusal {
                Refusal::TooLarge { limit } => SsmError::validation(format!("The request body exceeds {limit} bytes.")),
                Refusal::Unreadable => SsmError::validation(crate::wire::intake::UNREADABLE_BODY),
                Refusal::Denied(err) => SsmError::from(err),
            };
            tracing::info!(action = %operation, outcome = err.kind, "SSM request refused");
            return error_response(&err);
        }
    };
    let ctx = Ctx {
        app: &app,
        scope: Scope { account: &request.caller.account, region: request.caller.region },
        now: clock::now_ms(),
        dry_run: false,
    };
    let outcome = dispatch(&ctx, &operation, &request.body).await;
    let (account, region) = (request.caller.account.as_str(), request.caller.region);
    let latency_us = request.started.elapsed().as_micros() as u64;
    match outcome {
        Ok(value) => {
            tracing::info!(action = %operation, account, region, outcome = "ok", latency_us, "request");
            json_response(StatusCode::OK, &value)
        }
        Err(err) => {
            tracing::info!(action = %operation, account, region, outcome = err.kind, latency_us, "request");
            error_response(&err)
        }
    }
}

/// Reads the operation's input from the body (`{}` when empty).
fn input<T: DeserializeOwned>(operation: &str, body: &[u8]) -> Result<T, SsmError> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) { b"{}" } else { body };
    serde_json::from_slice(body).map_err(|e| {
        let kind = if e.is_data() { "ValidationException" } else { "SerializationException" };
        SsmError::new(kind, format!("The request body is not valid for {operation}: {e}"))
    })
}

/// One row per operation served: its name and its handler.
macro_rules! operations {
    ($ctx:expr, $operation:expr, $body:expr, { $($name:literal => $handler:path,)+ }) => {
        match $operation {
            $($name => $handler($ctx, input($name, $body)?).await,)+
            other => Err(SsmError::new("UnknownOperationException", format!("Unknown operation {other}"))),
        }
    };
}

async fn dispatch(ctx: &Ctx<'_>, operation: &str, body: &[u8]) -> Result<Value, SsmError> {
    operations!(ctx, operation, body, {
        "GetParameter" => actions::get_parameter,
        "GetParameters" => actions::get_parameters,
        "GetParametersByPath" => actions::get_parameters_by_path,
        "GetParameterHistory" => actions::get_parameter_history,
        "DescribeParameters" => actions::describe_parameters,
        "PutParameter" => actions::put_parameter,
        "DeleteParameter" => actions::delete_parameter,
        "DeleteParameters" => actions::delete_parameters,
    })
}

fn json_response(status: StatusCode, value: &Value) -> Response {
    let body = serde_json::to_vec(value).expect("JSON values serialize");
    let mut response = (status, body).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-amz-json-1.1"));
    if let Ok(id) = HeaderValue::from_str(&crate::wire::request_id()) {
        h.insert("x-amzn-requestid", id);
    }
    response
}

/// The JSON 1.1 error: the type in `__type`, the message (when there is one) in `message`.
fn error_response(err: &SsmError) -> Response {
    let mut body = serde_json::json!({ "__type": err.kind });
    if !err.message.is_empty() {
        body["message"] = err.message.clone().into();
    }
    let status = StatusCode::from_u16(err.status()).unwrap_or(StatusCode::BAD_REQUEST);
    json_response(status, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_header_names_the_operation() {
        let mut headers = HeaderMap::new();
        assert_eq!(target(&headers), None);
        headers.insert("x-amz-target", HeaderValue::from_static("AmazonSSM.GetParameter"));
        assert_eq!(target(&headers), Some("GetParameter"));
        headers.insert("x-amz-target", HeaderValue::from_static("AmazonEC2.Foo"));
        assert_eq!(target(&headers), None);
    }

    #[test]
    fn inputs_read_from_json_and_empty_bodies() {
        let i: actions::GetParameterInput =
            input("GetParameter", br#"{"Name": "/a", "WithDecryption": true}"#).unwrap();
        assert_eq!(i.name, "/a");
        assert_eq!(input::<actions::GetParameterInput>("GetParameter", b"").unwrap_err().kind, "ValidationException");
        assert_eq!(
            input::<actions::GetParameterInput>("GetParameter", b"{").unwrap_err().kind,
            "SerializationException"
        );
    }

    #[tokio::test]
    async fn errors_are_json_with_type_and_message() {
        let response = error_response(&SsmError::not_found());
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/x-amz-json-1.1");
        let body = axum::body::to_bytes(response.into_body(), 1 << 16).await.unwrap();
        assert_eq!(serde_json::from_slice::<Value>(&body).unwrap(), serde_json::json!({"__type": "ParameterNotFound"}));
        let response = error_response(&SsmError::validation("bad"));
        let body = axum::body::to_bytes(response.into_body(), 1 << 16).await.unwrap();
        assert_eq!(
            serde_json::from_slice::<Value>(&body).unwrap(),
            serde_json::json!({"__type": "ValidationException", "message": "bad"})
        );
    }
}
