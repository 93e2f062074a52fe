//! Scale benchmark: `cargo bench --bench scale`. Stores 1,000,000 images (100 accounts
//! with 10,000 each, in us-east-1) straight into a fresh database, then starts the
//! release binary on it and measures, with the client on the same machine: DescribeImages
//! by one id, a `name` prefix wildcard with `Owners=self` returning 10 images, the first
//! unfiltered page of 1,000, memory, and what the public catalog costs a region.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use ec2lite_test_support::{auth_header, form, temp_dir};

mod common;

const BIN: &str = env!("CARGO_BIN_EXE_ec2lite");
const ACCOUNTS: i64 = 100;
const PER_ACCOUNT: i64 = 10_000;
/// The caller: the 43rd account, owner of images `svc-0000-0` .. `svc-0999-9`.
const CALLER: &str = "000000000042";

fn start(data_dir: &std::path::Path, extra: &[&str]) -> (Child, String) {
    let mut child = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--log", "warn", "--data-dir"])
        .arg(data_dir)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start ec2lite");
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
    (child, line.trim().rsplit("http://").next().unwrap().to_string())
}

/// Fills the database with 1M images through SQL (the API would take minutes).
fn seed(data_dir: &std::path::Path) {
    let (mut child, _) = start(data_dir, &["--no-catalog"]);
    let _ = child.kill();
    let _ = child.wait();
    let started = Instant::now();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        use sqlx::ConnectOptions;
        let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(data_dir.join("ec2lite.db"))
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .connect()
            .await
            .unwrap();
        let total = ACCOUNTS * PER_ACCOUNT;
        sqlx::query(&format!(
            "with recursive n(i) as (select 0 union all select i + 1 from n where i < {total} - 1) \
             insert into image (image_id, account_id, region, name, image_location, state, architecture, platform_details, \
               usage_operation, root_device_type, root_device_name, virtualization_type, ena_support, creation_date, \
               block_device_mappings, created_at) \
             select printf('ami-%017x', (i * 2654435761) % 68719476736 * 1000 + i % 1000), \
               printf('%012d', i % {ACCOUNTS}), 'us-east-1', printf('svc-%04d-%d', (i / {ACCOUNTS}) / 10, (i / {ACCOUNTS}) % 10), \
               'x', 'available', case when i % 3 = 0 then 'arm64' else 'x86_64' end, 'Linux/UNIX', 'RunInstances', 'ebs', \
               '/dev/xvda', 'hvm', 1, printf('2025-%02d-%02dT00:00:00.000Z', 1 + i % 12, 1 + i % 28), \
               '[{{\"device_name\":\"/dev/xvda\",\"ebs\":{{\"snapshot_id\":\"snap-0123456789abcdef0\",\"volume_size\":8,\"volume_type\":\"gp3\",\"delete_on_termination\":true,\"encrypted\":false}}}}]', 0 \
             from n"
        ))
        .execute(&mut conn)
        .await
        .unwrap();
        sqlx::query("update image set image_location = account_id || '/' || name").execute(&mut conn).await.unwrap();
        // 1,000 images of another account are shared with the caller.
        sqlx::query(&format!(
            "insert into launch_permission (image_id, grantee_type, grantee, created_at) \
             select image_id, 'user', '{CALLER}', 0 from image where account_id = '000000000007' order by image_id limit 1000"
        ))
        .execute(&mut conn)
        .await
        .unwrap();
        // Closed, not dropped: the last close checkpoints the WAL (the update above left
        // the whole table in it) and removes it, as a server's clean stop does. Dropped, the
        // first start measured below would recover a WAL of hundreds of MB.
        sqlx::Connection::close(conn).await.unwrap();
    });
    println!("seeded {} images in {:.1} s", ACCOUNTS * PER_ACCOUNT, started.elapsed().as_secs_f64());
}

fn post(stream: &mut BufReader<TcpStream>, address: &str, body: &str) -> (u16, String) {
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/x-www-form-urlencoded\r\nAuthorization: {}\r\nContent-Length: {}\r\n\r\n{body}",
        auth_header(CALLER, "us-east-1"),
        body.len()
    );
    stream.get_mut().write_all(request.as_bytes()).unwrap();
    let mut status_line = String::new();
    stream.read_line(&mut status_line).unwrap();
    let mut length = 0;
    loop {
        let mut line = String::new();
        stream.read_line(&mut line).unwrap();
        if line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; length];
    stream.read_exact(&mut body).unwrap();
    (status_line.split(' ').nth(1).unwrap().parse().unwrap(), String::from_utf8(body).unwrap())
}

/// Sends `bodies(i)` from `threads` keep-alive connections for `per_thread` requests each.
fn throughput(
    address: &str,
    label: &str,
    threads: usize,
    per_thread: usize,
    body: impl Fn(usize) -> (String, usize) + Sync,
) {
    let started = Instant::now();
    std::thread::scope(|scope| {
        for t in 0..threads {
            let body = &body;
            scope.spawn(move || {
                let mut stream = BufReader::new(TcpStream::connect(address).unwrap());
                stream.get_ref().set_nodelay(true).unwrap();
                for i in 0..per_thread {
                    let (request, expected) = body(t * per_thread + i);
                    let (status, answer) = post(&mut stream, address, &request);
                    assert_eq!(status, 200, "{answer}");
                    assert_eq!(answer.matches("<imageId>").count(), expected, "{request}");
                }
            });
        }
    });
    let n = threads * per_thread;
    println!(
        "{label}: {n} requests in {:.2} s = {:.0} req/s ({threads} connections)",
        started.elapsed().as_secs_f64(),
        n as f64 / started.elapsed().as_secs_f64()
    );
}

/// Start-up on the seeded database: spawn to the first answer, median of 5.
fn cold_start(dir: &std::path::Path) {
    let mut samples = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let (mut child, address) = start(dir, &["--no-catalog"]);
        let mut stream = BufReader::new(TcpStream::connect(&address).unwrap());
        let (status, _) = post(&mut stream, &address, &form(&[("Action", "DescribeRegions")]));
        samples.push(started.elapsed());
        assert_eq!(status, 200);
        let _ = child.kill();
        let _ = child.wait();
    }
    samples.sort();
    println!(
        "cold start to first answer with 1,000,000 images (5 runs): median {:.1} ms, max {:.1} ms",
        samples[2].as_secs_f64() * 1e3,
        samples[4].as_secs_f64() * 1e3
    );
}

fn main() {
    if common::ceiling::serve_if_asked() || std::env::args().any(|a| a == "--list") {
        return;
    }
    // The ceiling, with this bench's own client: a no-op axum handler (see common::ceiling).
    let (mut noop, noop_address) = common::ceiling::start();
    throughput(&noop_address, "no-op axum ceiling", 8, 5_000, |_| {
        (form(&[("Action", "DescribeImages"), ("ImageId.1", "ami-0123456789abcdef0")]), 0)
    });
    let _ = noop.kill();
    let _ = noop.wait();
    let dir = temp_dir("bench-scale");
    seed(&dir);
    cold_start(&dir);
    let (mut child, address) = start(&dir, &["--no-catalog"]);
    let mut stream = BufReader::new(TcpStream::connect(&address).unwrap());
    let (_, own) = post(
        &mut stream,
        &address,
        &form(&[("Action", "DescribeImages"), ("Owner.1", "self"), ("MaxResults", "1000")]),
    );
    let ids: Vec<String> = own.split("<imageId>").skip(1).map(|s| s[..s.find('<').unwrap()].to_string()).collect();
    assert_eq!(ids.len(), 1000);

    throughput(&address, "DescribeImages by one id (1,000,000 stored)", 8, 5_000, |i| {
        (form(&[("Action", "DescribeImages"), ("ImageId.1", &ids[(i * 7919) % ids.len()])]), 1)
    });
    throughput(&address, "DescribeImages Owners=self name=svc-NNNN-* (10 of 1,000,000)", 8, 1_000, |i| {
        let pattern = format!("svc-{:04}-*", (i * 7) % 1000);
        (
            form(&[
                ("Action", "DescribeImages"),
                ("Owner.1", "self"),
                ("Filter.1.Name", "name"),
                ("Filter.1.Value.1", &pattern),
            ]),
            10,
        )
    });
    throughput(&address, "DescribeImages ExecutableUsers=self (1,000 shared of 1,000,000)", 4, 25, |_| {
        (form(&[("Action", "DescribeImages"), ("ExecutableBy.1", "self")]), 1000)
    });
    throughput(
        &address,
        "DescribeImages ExecutableUsers=self MaxResults=10 (first page of the 1,000 shared)",
        8,
        1_000,
        |_| (form(&[("Action", "DescribeImages"), ("ExecutableBy.1", "self"), ("MaxResults", "10")]), 10),
    );
    let mut samples = Vec::new();
    for _ in 0..20 {
        let started = Instant::now();
        let (status, page) =
            post(&mut stream, &address, &form(&[("Action", "DescribeImages"), ("MaxResults", "1000")]));
        samples.push(started.elapsed());
        assert_eq!(status, 200);
        assert_eq!(page.matches("<imageId>").count(), 1000);
        assert!(page.contains("<nextToken>"));
    }
    samples.sort();
    println!(
        "DescribeImages unfiltered first page of 1,000: median {:.1} ms, max {:.1} ms",
        samples[samples.len() / 2].as_secs_f64() * 1e3,
        samples.last().unwrap().as_secs_f64() * 1e3
    );
    println!("memory with 1,000,000 images, after the runs: {}", common::memory(child.id()));
    let _ = child.kill();
    let _ = child.wait();

    // The public catalog: nothing at start-up; a region is seeded on its first request.
    let (mut child, address) = start(&dir, &[]);
    let mut stream = BufReader::new(TcpStream::connect(&address).unwrap());
    let body = form(&[("Action", "DescribeRegions")]);
    let first = Instant::now();
    post(&mut stream, &address, &body);
    let first = first.elapsed();
    let second = Instant::now();
    post(&mut stream, &address, &body);
    let second = second.elapsed();
    println!(
        "catalog: first request in a region (seeds it) {:.1} ms, next request {:.2} ms",
        first.as_secs_f64() * 1e3,
        second.as_secs_f64() * 1e3
    );
    let _ = child.kill();
    let _ = child.wait();
    if std::env::var_os("EC2LITE_BENCH_KEEP").is_some() {
        println!("database kept in {}", dir.display());
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
}
