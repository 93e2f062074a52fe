//! Start-up on a damaged database, or on a data directory it cannot write: ec2lite exits
//! non-zero with a message naming the file and saying why, and leaves the file as it
//! found it (nothing is lost silently). A torn tail of the write-ahead log (a crash in
//! the middle of appending) loses no acknowledged write.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ec2lite_test_support::{ec2, Server, TempDir, Tmpfs};

/// Runs the binary on `data_dir` and returns its exit code and stderr; fails if it is
/// still running after 20 s (it started serving).
fn start_on(data_dir: &std::path::Path) -> (i32, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ec2lite"))
        .args(["--listen", "127.0.0.1:0", "--no-catalog", "--data-dir"])
        .arg(data_dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start");
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("ec2lite started on a damaged database");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().expect("output");
    (output.status.code().unwrap_or(-1), String::from_utf8_lossy(&output.stderr).into_owned())
}

#[test]
fn a_file_of_garbage_stops_start_up_with_its_name() {
    let dir = TempDir::new("garbage");
    let db = dir.join("ec2lite.db");
    let garbage: Vec<u8> = (0..64 * 1024u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    std::fs::write(&db, &garbage).unwrap();
    let (code, stderr) = start_on(&dir);
    assert_ne!(code, 0, "{stderr}");
    assert!(stderr.contains(&db.to_string_lossy().into_owned()), "{stderr}");
    assert_eq!(std::fs::read(&db).unwrap(), garbage, "the damaged file is left as it was");
}

/// A server that stored 200 images (a database of several pages), stopped.
fn stopped_server_with_images() -> Server {
    let mut s = server_with_images(200, &"x".repeat(100));
    s.stop();
    s
}

/// A server that has stored `count` images, their names ending in `suffix`.
fn server_with_images(count: usize, suffix: &str) -> Server {
    let s = Server::start(env!("CARGO_BIN_EXE_ec2lite").as_ref(), &["--no-catalog"]);
    for i in 0..count {
        let name = format!("image-{i:04}-{suffix}");
        let r = ec2(
            s.address(),
            "test",
            "us-east-1",
            &[("Action", "RegisterImage"), ("Name", &name), ("ImageLocation", "b/m.xml")],
        );
        assert_eq!(r.status, 200, "{}", r.body);
    }
    s
}

#[test]
fn a_damaged_page_stops_start_up_instead_of_serving_what_is_left() {
    let s = stopped_server_with_images();
    let db = s.data_dir.join("ec2lite.db");
    let mut bytes = std::fs::read(&db).unwrap();
    let page = u16::from_be_bytes([bytes[16], bytes[17]]) as usize;
    assert!(bytes.len() > page * 8, "{} bytes", bytes.len());
    // Scribble over the middle of the file, past the pages the schema lives in.
    let middle = bytes.len() / page / 2 * page;
    bytes[middle..middle + page].fill(0xA5);
    std::fs::write(&db, &bytes).unwrap();
    let (code, stderr) = start_on(&s.data_dir);
    assert_ne!(code, 0, "{stderr}");
    assert!(stderr.contains("ec2lite.db"), "{stderr}");
}

#[test]
fn a_truncated_file_stops_start_up_from_its_header_alone() {
    let s = stopped_server_with_images();
    let db = s.data_dir.join("ec2lite.db");
    let bytes = std::fs::read(&db).unwrap();
    let _ = std::fs::remove_file(s.data_dir.join("ec2lite.db-wal"));
    std::fs::write(&db, &bytes[..bytes.len() / 2]).unwrap();
    let (code, stderr) = start_on(&s.data_dir);
    assert_ne!(code, 0, "{stderr}");
    assert!(stderr.contains("truncated"), "{stderr}");
}

fn image_count(s: &Server) -> usize {
    let r = ec2(s.address(), "test", "us-east-1", &[("Action", "DescribeImages"), ("Owner.1", "self")]);
    assert_eq!(r.status, 200, "{}", r.body);
    r.count("<imageId>")
}

#[test]
fn a_read_only_data_directory_stops_start_up_saying_so() {
    let Some(disk) = Tmpfs::mount("64m") else { return };
    let data_dir = disk.data_dir();
    let mut s = Server::start_in(env!("CARGO_BIN_EXE_ec2lite").as_ref(), data_dir.clone(), &["--no-catalog"]);
    assert_eq!(image_count(&s), 0);
    s.stop();
    let db = data_dir.join("ec2lite.db");
    let before = std::fs::read(&db).unwrap();

    disk.remount("ro");
    let (code, stderr) = start_on(&data_dir);
    disk.remount("rw");
    assert_ne!(code, 0, "{stderr}");
    assert!(stderr.contains("is not writable") && stderr.contains("ead-only file system"), "{stderr}");
    assert!(stderr.contains(&data_dir.to_string_lossy().into_owned()), "{stderr}");
    assert_eq!(std::fs::read(&db).unwrap(), before, "the database is left as it was");
}

#[test]
fn a_full_disk_stops_start_up_saying_so() {
    let Some(disk) = Tmpfs::mount("256k") else { return };
    let data_dir = disk.data_dir();
    // Fill every byte of it first.
    let filler = disk.0.join("filler");
    let chunk = vec![7u8; 4096];
    let mut file = std::fs::File::create(&filler).unwrap();
    while std::io::Write::write_all(&mut file, &chunk).is_ok() {}
    drop(file);
    let (code, stderr) = start_on(&data_dir);
    assert_ne!(code, 0, "{stderr}");
    assert!(stderr.contains("no space left"), "{stderr}");
}

#[test]
fn a_torn_write_ahead_log_tail_loses_no_acknowledged_write() {
    let mut s = server_with_images(50, "torn");
    s.kill_9();
    // A crash in the middle of appending a frame leaves bytes no commit covers.
    let wal = s.data_dir.join("ec2lite.db-wal");
    let mut tail = std::fs::OpenOptions::new().append(true).create(true).open(&wal).unwrap();
    let garbage: Vec<u8> = (0..6000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8).collect();
    std::io::Write::write_all(&mut tail, &garbage).unwrap();
    drop(tail);

    s.start_again();
    assert_eq!(image_count(&s), 50, "every acknowledged image is there");
    let r = ec2(
        s.address(),
        "test",
        "us-east-1",
        &[("Action", "RegisterImage"), ("Name", "after"), ("ImageLocation", "b/m.xml")],
    );
    assert_eq!(r.status, 200, "writes go on after the torn tail: {}", r.body);
    assert_eq!(image_count(&s), 51);
}
