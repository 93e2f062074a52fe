//! Snapshot blocks on disk: with `--durability full` an upload survives `kill -9`; a
//! block file damaged on disk is answered with an error, never with wrong bytes, and
//! uploading the same content again repairs it.

use ec2lite::domain::block::{checksum_base64, linear_aggregate, sha256, BLOCK_SIZE};
use ec2lite_test_support::{http, HttpResponse, Server};

const AUTH: &str =
    "AWS4-HMAC-SHA256 Credential=test/20261127/us-east-1/ebs/aws4_request, SignedHeaders=host, Signature=00";

fn json(r: &HttpResponse) -> serde_json::Value {
    serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{e}: {}", r.body))
}

/// Printable bytes (the test client reads bodies as text), different in every block.
fn block(seed: u8) -> Vec<u8> {
    (0..BLOCK_SIZE).map(|i| b'a' + ((i / 7 + seed as usize) % 26) as u8).collect()
}

/// Uploads `data` as block 0 of a new 1 GiB snapshot and completes it.
fn upload(s: &Server, data: &[u8]) -> String {
    let started = http(s.address(), "POST", "/snapshots", &[("Authorization", AUTH)], br#"{"VolumeSize":1}"#);
    assert_eq!(started.status, 201, "{}", started.body);
    let snapshot = json(&started)["SnapshotId"].as_str().unwrap().to_string();
    let digest = sha256(data);
    let length = data.len().to_string();
    let put = http(
        s.address(),
        "PUT",
        &format!("/snapshots/{snapshot}/blocks/0"),
        &[
            ("Authorization", AUTH),
            ("x-amz-Data-Length", &length),
            ("x-amz-Checksum", &checksum_base64(&digest)),
            ("x-amz-Checksum-Algorithm", "SHA256"),
            ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
        ],
        data,
    );
    assert_eq!(put.status, 201, "{}", put.body);
    let completed = http(
        s.address(),
        "POST",
        &format!("/snapshots/completion/{snapshot}"),
        &[
            ("Authorization", AUTH),
            ("x-amz-ChangedBlocksCount", "1"),
            ("x-amz-Checksum", &checksum_base64(&linear_aggregate([&digest]))),
            ("x-amz-Checksum-Algorithm", "SHA256"),
            ("x-amz-Checksum-Aggregation-Method", "LINEAR"),
        ],
        b"",
    );
    assert_eq!(completed.status, 202, "{}", completed.body);
    snapshot
}

/// GetSnapshotBlock of block 0, with a token from ListSnapshotBlocks.
fn read_block(s: &Server, snapshot: &str) -> HttpResponse {
    let listed = http(s.address(), "GET", &format!("/snapshots/{snapshot}/blocks"), &[("Authorization", AUTH)], b"");
    let token = json(&listed)["Blocks"][0]["BlockToken"].as_str().expect("a block").to_string();
    let target = format!("/snapshots/{snapshot}/blocks/0?blockToken={token}");
    http(s.address(), "GET", &target, &[("Authorization", AUTH)], b"")
}

#[test]
fn with_full_durability_an_upload_survives_kill_9() {
    let mut s = Server::start(env!("CARGO_BIN_EXE_ec2lite").as_ref(), &["--no-catalog", "--durability", "full"]);
    let data = block(1);
    let snapshot = upload(&s, &data);
    s.kill_9();
    s.start_again();
    let got = read_block(&s, &snapshot);
    assert_eq!(got.status, 200, "{}", got.body);
    assert!(got.body.as_bytes() == &data[..], "the block read back differs");
}

#[test]
fn a_damaged_block_file_is_refused_never_served() {
    let s = Server::start(env!("CARGO_BIN_EXE_ec2lite").as_ref(), &["--no-catalog"]);
    let data = block(2);
    let snapshot = upload(&s, &data);
    let name: String = sha256(&data).iter().map(|b| format!("{b:02x}")).collect();
    let file = s.data_dir.join("blocks").join(&name[..2]).join(&name);
    let mut bytes = std::fs::read(&file).expect("the block file");
    bytes[12_345] ^= 0x20;
    std::fs::write(&file, &bytes).unwrap();

    let got = read_block(&s, &snapshot);
    assert_eq!(got.status, 500, "{}", got.body);
    assert_eq!(got.header("x-amzn-ErrorType"), Some("InternalServerException"));
    assert!(json(&got)["Message"].as_str().unwrap().contains("damaged"), "{}", got.body);

    // The same content uploaded again is written again, not taken for the damaged file.
    upload(&s, &data);
    let repaired = read_block(&s, &snapshot);
    assert_eq!(repaired.status, 200, "{}", repaired.body);
    assert!(repaired.body.as_bytes() == &data[..], "the repaired block differs");
}
