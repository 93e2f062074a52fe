//! SIGTERM: ec2lite stops taking connections, finishes the requests in flight, and
//! exits 0; a client that stalls mid-request holds it up no longer than
//! `--shutdown-grace-secs`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ec2lite_test_support::TempDir;

/// Starts the binary; returns it, its `host:port` and its data directory.
fn start(grace_secs: &str) -> (Child, String, TempDir) {
    let dir = TempDir::new("shutdown");
    let mut child = Command::new(env!("CARGO_BIN_EXE_ec2lite"))
        .args(["--listen", "127.0.0.1:0", "--no-catalog", "--shutdown-grace-secs", grace_secs, "--data-dir"])
        .arg(&dir)
        .env("EC2LITE_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start");
    let mut banner = String::new();
    BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut banner).unwrap();
    let address = banner.trim().rsplit("http://").next().unwrap().to_string();
    (child, address, dir)
}

fn terminate(child: &Child) {
    assert!(Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().unwrap().success());
}

/// Waits for the exit, at most `limit`; returns its code and how long it took.
fn exit_within(child: &mut Child, limit: Duration) -> (i32, Duration) {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return (status.code().unwrap_or(-1), started.elapsed());
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("still running {limit:?} after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Opens a request whose body is only half sent.
fn half_sent(address: &str, body: &str) -> TcpStream {
    let mut stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let head = format!(
        "POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&body.as_bytes()[..body.len() / 2]).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    stream
}

#[test]
fn sigterm_finishes_the_request_in_flight_then_exits_0() {
    let (mut child, address, _dir) = start("30");
    let body = "Action=CreateVolume&AvailabilityZone=us-east-1a&Size=1";
    let mut in_flight = half_sent(&address, body);
    terminate(&child);
    std::thread::sleep(Duration::from_millis(300));
    assert!(TcpStream::connect(&address).is_err(), "no new connection is taken while stopping");
    in_flight.write_all(&body.as_bytes()[body.len() / 2..]).unwrap();
    let mut answer = String::new();
    in_flight.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("<volumeId>vol-"), "{answer}");
    let (code, _) = exit_within(&mut child, Duration::from_secs(10));
    assert_eq!(code, 0);
}

#[test]
fn a_stalled_client_holds_up_shutdown_only_for_the_grace_period() {
    let (mut child, address, _dir) = start("1");
    let _stalled = half_sent(&address, "Action=DescribeRegions&Version=2016-11-15");
    terminate(&child);
    let (code, took) = exit_within(&mut child, Duration::from_secs(10));
    assert_eq!(code, 0);
    assert!(took >= Duration::from_millis(900), "stopped after {took:?}, before the grace period");
}
