//! A full disk: writes are refused with a clean EC2 server error and nothing half
//! written, reads keep working, and writes succeed again once there is room. The data
//! directory is a small tmpfs, so the test needs root (it says so and passes otherwise).

use std::path::Path;

use ec2lite::domain::block::{checksum_base64, linear_aggregate, sha256, Digest, BLOCK_SIZE};
use ec2lite_test_support::{ec2, http, HttpResponse, Server, Tmpfs};

fn call(s: &Server, pairs: &[(&str, &str)]) -> HttpResponse {
    ec2(s.address(), "123456789012", "us-east-1", pairs)
}

fn register(s: &Server, n: usize) -> HttpResponse {
    let name = format!("full-{n:06}");
    let description = "d".repeat(255);
    call(
        s,
        &[("Action", "RegisterImage"), ("Name", &name), ("Description", &description), ("ImageLocation", "b/m.xml")],
    )
}

fn own_image_count(s: &Server) -> usize {
    let r = call(s, &[("Action", "DescribeImages"), ("Owner.1", "self")]);
    assert_eq!(r.status, 200, "{}", r.body);
    r.count("<imageId>")
}

#[test]
fn a_full_disk_refuses_writes_cleanly_and_recovers_when_space_returns() {
    let Some(disk) = Tmpfs::mount("3m") else { return };
    let data_dir = disk.data_dir();
    let s = Server::start_in(env!("CARGO_BIN_EXE_ec2lite").as_ref(), data_dir, &["--no-catalog"]);
    // Write until three writes in a row are refused (a nearly full disk may still take
    // a small one now and then).
    let (mut acknowledged, mut refused_in_a_row, mut n) = (0, 0, 0);
    while refused_in_a_row < 3 {
        let r = register(&s, n);
        n += 1;
        if r.status == 200 {
            acknowledged += 1;
            refused_in_a_row = 0;
        } else {
            assert_eq!(r.status, 500, "{}", r.body);
            assert_eq!(r.element("Code"), Some("InternalError"), "{}", r.body);
            assert!(r.body.starts_with("<?xml") && r.body.contains("<RequestID>"), "{}", r.body);
            refused_in_a_row += 1;
        }
        assert!(n < 100_000, "the disk never filled");
    }

    // Reads keep working and show exactly the acknowledged writes: a refused one left
    // nothing behind.
    assert_eq!(own_image_count(&s), acknowledged);

    disk.remount("size=64m");
    let r = register(&s, n);
    assert_eq!(r.status, 200, "writes succeed again once there is room: {}", r.body);
    assert_eq!(own_image_count(&s), acknowledged + 1);
    println!("disk full after {acknowledged} acknowledged writes; refused cleanly; recovered");
    drop(s);
    assert!(Path::new(&disk.0).exists());
}

const EBS_AUTH: &str =
    "AWS4-HMAC-SHA256 Credential=test/20261127/us-east-1/ebs/aws4_request, SignedHeaders=host, Signature=00";

fn json(r: &HttpResponse) -> serde_json::Value {
    serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{e}: {}", r.body))
}

/// Block `index`: printable bytes (the test client reads bodies as text), each block
/// different, so that no two share a stored file.
fn numbered_block(index: usize) -> Vec<u8> {
    let mut data: Vec<u8> = (0..BLOCK_SIZE).map(|i| b'a' + ((i / 13 + index) % 26) as u8).collect();
    data[..8].copy_from_slice(format!("{index:08}").as_bytes());
    data
}

fn put_block(s: &Server, snapshot: &str, index: usize, data: &[u8]) -> HttpResponse {
    let length = data.len().to_string();
    http(
        s.address(),
        "PUT",
        &format!("/snapshots/{snapshot}/blocks/{index}"),
        &[
            ("Authorization", EBS_AUTH),
            ("x-amz-Data-Length", &length),
            ("x-amz-Checksum", &checksum_base64(&sha256(data))),
            ("x-amz-Checksum-Algorithm", "SHA256"),
            ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
        ],
        data,
    )
}

#[test]
fn a_full_disk_refuses_block_uploads_cleanly_and_keeps_the_acknowledged_ones() {
    let Some(disk) = Tmpfs::mount("6m") else { return };
    let data_dir = disk.data_dir();
    let s = Server::start_in(env!("CARGO_BIN_EXE_ec2lite").as_ref(), data_dir, &["--no-catalog"]);
    let started = http(s.address(), "POST", "/snapshots", &[("Authorization", EBS_AUTH)], br#"{"VolumeSize":1}"#);
    assert_eq!(started.status, 201, "{}", started.body);
    let snapshot = json(&started)["SnapshotId"].as_str().unwrap().to_string();

    let mut acknowledged: Vec<(usize, Digest)> = Vec::new();
    let mut index = 0;
    loop {
        let data = numbered_block(index);
        let put = put_block(&s, &snapshot, index, &data);
        if put.status == 201 {
            acknowledged.push((index, sha256(&data)));
            index += 1;
            assert!(index < 64, "6 MiB never filled");
            continue;
        }
        assert_eq!(put.status, 500, "{}", put.body);
        assert_eq!(put.header("x-amzn-ErrorType"), Some("InternalServerException"), "{}", put.body);
        assert_eq!(json(&put)["Message"].as_str().map(|m| !m.is_empty()), Some(true), "{}", put.body);
        break;
    }
    assert!(!acknowledged.is_empty(), "no block fitted at all");

    // Once there is room, the upload goes on and completes with every acknowledged block.
    disk.remount("size=64m");
    let data = numbered_block(index);
    assert_eq!(put_block(&s, &snapshot, index, &data).status, 201);
    acknowledged.push((index, sha256(&data)));
    let aggregate = linear_aggregate(acknowledged.iter().map(|(_, d)| d));
    let count = acknowledged.len().to_string();
    let completed = http(
        s.address(),
        "POST",
        &format!("/snapshots/completion/{snapshot}"),
        &[
            ("Authorization", EBS_AUTH),
            ("x-amz-ChangedBlocksCount", &count),
            ("x-amz-Checksum", &checksum_base64(&aggregate)),
            ("x-amz-Checksum-Algorithm", "SHA256"),
            ("x-amz-Checksum-Aggregation-Method", "LINEAR"),
        ],
        b"",
    );
    assert_eq!(completed.status, 202, "{}", completed.body);

    let listed =
        http(s.address(), "GET", &format!("/snapshots/{snapshot}/blocks"), &[("Authorization", EBS_AUTH)], b"");
    let blocks = json(&listed)["Blocks"].as_array().cloned().unwrap_or_default();
    assert_eq!(blocks.len(), acknowledged.len(), "{}", listed.body);
    for (block, (index, _)) in blocks.iter().zip(&acknowledged) {
        assert_eq!(block["BlockIndex"].as_u64(), Some(*index as u64));
        let token = block["BlockToken"].as_str().unwrap();
        let target = format!("/snapshots/{snapshot}/blocks/{index}?blockToken={token}");
        let got = http(s.address(), "GET", &target, &[("Authorization", EBS_AUTH)], b"");
        assert_eq!(got.status, 200, "{}", got.body);
        assert!(got.body.as_bytes() == numbered_block(*index).as_slice(), "block {index} reads back different");
    }
    println!("disk full after {} acknowledged blocks; refused cleanly; upload completed after", acknowledged.len() - 1);
}

#[test]
fn a_removed_data_directory_refuses_writes_rather_than_lose_them() {
    let s = Server::start(env!("CARGO_BIN_EXE_ec2lite").as_ref(), &["--no-catalog"]);
    assert_eq!(register(&s, 0).status, 200);
    std::fs::remove_dir_all(&s.data_dir).unwrap();

    // A write now would go to a file no later start can see: refused, with a server error.
    let r = register(&s, 1);
    assert_eq!(r.status, 500, "{}", r.body);
    assert_eq!(r.element("Code"), Some("InternalError"), "{}", r.body);
    // Reads answer what was acknowledged, or (SQLite reports an I/O error once the
    // companion files are gone too) a clean server error: never a wrong answer.
    let r = call(&s, &[("Action", "DescribeImages"), ("Owner.1", "self")]);
    match r.status {
        200 => assert_eq!(r.count("<imageId>"), 1, "{}", r.body),
        _ => assert_eq!((r.status, r.element("Code")), (500, Some("InternalError")), "{}", r.body),
    }
    // The server is still up and says so.
    assert_eq!(register(&s, 2).status, 500);
}
