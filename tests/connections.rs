//! Connection guards: a stalled request is cut off after `--read-timeout-secs`, and past
//! `--max-connections` a new connection waits until one closes.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use ec2lite_test_support::Server;

const REQUEST: &str = "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
    Content-Length: 22\r\n\r\nAction=DescribeRegions";

fn connect(s: &Server) -> TcpStream {
    let stream = TcpStream::connect(s.address()).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    stream
}

/// Reads one answer's status line (keep-alive: the connection stays open).
fn status_line(stream: &mut TcpStream) -> String {
    let mut buffer = [0u8; 4096];
    let n = stream.read(&mut buffer).unwrap_or(0);
    String::from_utf8_lossy(&buffer[..n]).lines().next().unwrap_or_default().to_string()
}

#[test]
fn a_stalled_request_is_cut_off_after_the_read_timeout() {
    let s = Server::start(env!("CARGO_BIN_EXE_ec2lite").as_ref(), &["--no-catalog", "--read-timeout-secs", "1"]);
    let mut stalled = connect(&s);
    stalled.write_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Le").unwrap();
    let started = Instant::now();
    let mut rest = Vec::new();
    let _ = stalled.read_to_end(&mut rest);
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(900) && waited < Duration::from_secs(5), "closed after {waited:?}");
    // The server still answers everyone else.
    let mut fresh = connect(&s);
    fresh.write_all(REQUEST.as_bytes()).unwrap();
    assert_eq!(status_line(&mut fresh), "HTTP/1.1 200 OK");
}

#[test]
fn past_the_connection_cap_a_new_connection_waits_for_a_free_one() {
    let s = Server::start(env!("CARGO_BIN_EXE_ec2lite").as_ref(), &["--no-catalog", "--max-connections", "2"]);
    let mut first = connect(&s);
    let mut second = connect(&s);
    for held in [&mut first, &mut second] {
        held.write_all(REQUEST.as_bytes()).unwrap();
        assert_eq!(status_line(held), "HTTP/1.1 200 OK");
    }
    let mut third = connect(&s);
    third.write_all(REQUEST.as_bytes()).unwrap();
    third.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
    let mut buffer = [0u8; 64];
    assert!(third.read(&mut buffer).is_err(), "no answer while two connections hold both slots");
    drop(first);
    third.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    assert_eq!(status_line(&mut third), "HTTP/1.1 200 OK");
}
