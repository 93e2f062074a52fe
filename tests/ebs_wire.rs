//! The EBS direct APIs on the wire, over raw HTTP against the real binary: the status
//! codes, headers and JSON shapes of the EBS model (201 / 201 / 202), and restJson1
//! errors (`x-amzn-ErrorType`, `__type`, `Message`, `Reason`).

use ec2lite::domain::block::{checksum_base64, linear_aggregate, sha256, BLOCK_SIZE};
use ec2lite_test_support::{http, HttpResponse, Server};

fn auth() -> String {
    "AWS4-HMAC-SHA256 Credential=test/20261127/us-east-1/ebs/aws4_request, SignedHeaders=host;x-amz-date, Signature=00"
        .to_string()
}

fn json(r: &HttpResponse) -> serde_json::Value {
    serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{e}: {}", r.body))
}

fn start(s: &Server, body: &str) -> HttpResponse {
    http(
        s.address(),
        "POST",
        "/snapshots",
        &[("Authorization", &auth()), ("Content-Type", "application/json")],
        body.as_bytes(),
    )
}

fn put(s: &Server, snapshot: &str, index: u32, data: &[u8], checksum: &str) -> HttpResponse {
    let length = data.len().to_string();
    http(
        s.address(),
        "PUT",
        &format!("/snapshots/{snapshot}/blocks/{index}"),
        &[
            ("Authorization", &auth()),
            ("x-amz-Data-Length", &length),
            ("x-amz-Checksum", checksum),
            ("x-amz-Checksum-Algorithm", "SHA256"),
            ("x-amz-Progress", "50"),
            ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
        ],
        data,
    )
}

fn assert_ebs_error(r: &HttpResponse, status: u16, kind: &str, reason: Option<&str>) {
    assert_eq!(r.status, status, "{}", r.body);
    assert_eq!(r.header("x-amzn-ErrorType"), Some(kind), "{}", r.body);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let body = json(r);
    assert_eq!(body["__type"], kind);
    assert!(body["Message"].as_str().is_some_and(|m| !m.is_empty()), "{}", r.body);
    assert_eq!(body["Reason"].as_str(), reason, "{}", r.body);
}

#[test]
fn an_upload_answers_with_the_status_codes_and_shapes_of_the_ebs_model() {
    let s = Server::start(env!("CARGO_BIN_EXE_ec2lite").as_ref(), &[]);
    let started =
        start(&s, r#"{"VolumeSize":1,"Description":"disk","Tags":[{"Key":"Name","Value":"up"}],"Timeout":10}"#);
    assert_eq!(started.status, 201, "{}", started.body);
    assert_eq!(started.header("content-type"), Some("application/json"));
    assert!(started.header("x-amzn-RequestId").is_some());
    let body = json(&started);
    assert_eq!(body["BlockSize"], BLOCK_SIZE);
    assert_eq!(body["Status"], "pending");
    assert_eq!(body["VolumeSize"], 1);
    assert_eq!(body["OwnerId"], "000000000000");
    assert_eq!(body["Tags"][0]["Key"], "Name");
    assert!(body["StartTime"].is_number(), "timestamps are epoch seconds in restJson1");
    let snapshot = body["SnapshotId"].as_str().unwrap().to_string();

    let data = vec![b'e'; BLOCK_SIZE];
    let digest = sha256(&data);
    let stored = put(&s, &snapshot, 3, &data, &checksum_base64(&digest));
    assert_eq!(stored.status, 201, "{}", stored.body);
    assert_eq!(stored.header("x-amz-Checksum"), Some(checksum_base64(&digest).as_str()));
    assert_eq!(stored.header("x-amz-Checksum-Algorithm"), Some("SHA256"));

    let aggregate = checksum_base64(&linear_aggregate([&digest]));
    let completed = http(
        s.address(),
        "POST",
        &format!("/snapshots/completion/{snapshot}"),
        &[
            ("Authorization", &auth()),
            ("x-amz-ChangedBlocksCount", "1"),
            ("x-amz-Checksum", &aggregate),
            ("x-amz-Checksum-Algorithm", "SHA256"),
            ("x-amz-Checksum-Aggregation-Method", "LINEAR"),
        ],
        b"",
    );
    assert_eq!(completed.status, 202, "{}", completed.body);
    assert_eq!(json(&completed)["Status"], "completed");

    let listed = http(
        s.address(),
        "GET",
        &format!("/snapshots/{snapshot}/blocks?maxResults=100"),
        &[("Authorization", &auth())],
        b"",
    );
    assert_eq!(listed.status, 200, "{}", listed.body);
    let list = json(&listed);
    assert_eq!(list["Blocks"][0]["BlockIndex"], 3, "an integer, as the Rust SDK requires");
    assert_eq!(list["BlockSize"], BLOCK_SIZE);
    let token = list["Blocks"][0]["BlockToken"].as_str().unwrap();
    let got = http(
        s.address(),
        "GET",
        &format!("/snapshots/{snapshot}/blocks/3?blockToken={token}"),
        &[("Authorization", &auth())],
        b"",
    );
    assert_eq!(got.status, 200);
    assert_eq!(got.header("x-amz-Data-Length"), Some(BLOCK_SIZE.to_string().as_str()));
    assert_eq!(got.header("x-amz-Checksum"), Some(checksum_base64(&digest).as_str()));
    assert_eq!(got.body.as_bytes(), &data[..]);
}

#[test]
fn refused_requests_get_restjson_errors_and_store_nothing() {
    let s = Server::start(env!("CARGO_BIN_EXE_ec2lite").as_ref(), &[]);
    assert_ebs_error(&start(&s, r#"{"VolumeSize":0}"#), 400, "ValidationException", Some("INVALID_VOLUME_SIZE"));
    assert_ebs_error(&start(&s, "{not json"), 400, "SerializationException", None);
    let snapshot = json(&start(&s, r#"{"VolumeSize":1}"#))["SnapshotId"].as_str().unwrap().to_string();
    let data = vec![1u8; BLOCK_SIZE];
    let right = checksum_base64(&sha256(&data));
    let wrong = checksum_base64(&sha256(b"other"));
    assert_ebs_error(&put(&s, &snapshot, 0, &data, &wrong), 400, "ValidationException", Some("INVALID_BLOCK"));
    assert_ebs_error(&put(&s, &snapshot, 2048, &data, &right), 400, "ValidationException", Some("INVALID_BLOCK"));
    assert_ebs_error(
        &put(&s, &snapshot, 0, &data[..1000], &right),
        400,
        "ValidationException",
        Some("INVALID_PARAMETER_VALUE"),
    );
    assert_ebs_error(
        &put(&s, "snap-0123456789abcdef0", 0, &data, &right),
        404,
        "ResourceNotFoundException",
        Some("SNAPSHOT_NOT_FOUND"),
    );
    assert_ebs_error(&put(&s, "vol-123", 0, &data, &right), 400, "ValidationException", Some("INVALID_SNAPSHOT_ID"));
    let missing =
        http(s.address(), "GET", "/snapshots/snap-0123456789abcdef0/blocks", &[("Authorization", &auth())], b"");
    assert_ebs_error(&missing, 404, "ResourceNotFoundException", Some("SNAPSHOT_NOT_FOUND"));
    let pending =
        http(s.address(), "GET", &format!("/snapshots/{snapshot}/blocks"), &[("Authorization", &auth())], b"");
    assert_ebs_error(&pending, 400, "ValidationException", Some("INVALID_SNAPSHOT_ID"));

    let completed = http(
        s.address(),
        "POST",
        &format!("/snapshots/completion/{snapshot}"),
        &[("Authorization", &auth()), ("x-amz-ChangedBlocksCount", "0")],
        b"",
    );
    assert_eq!(json(&completed)["Status"], "completed", "{}", completed.body);
    let listed = http(s.address(), "GET", &format!("/snapshots/{snapshot}/blocks"), &[("Authorization", &auth())], b"");
    assert_eq!(json(&listed)["Blocks"], serde_json::json!([]), "no refused block was stored");
    assert_ebs_error(&put(&s, &snapshot, 0, &data, &right), 400, "ValidationException", Some("INVALID_SNAPSHOT_ID"));
}
