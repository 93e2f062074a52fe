//! What the load drivers share: keep-alive EC2 Query connections, a parallel runner and
//! the report line.

#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ec2lite_test_support::auth_header;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader as AsyncBufReader};
use tokio::net::TcpStream;

pub const CONNECTIONS: usize = 16;

/// One keep-alive HTTP/1.1 connection sending EC2 Query POSTs.
pub struct Connection {
    stream: AsyncBufReader<TcpStream>,
    address: String,
    pub auth: String,
}

impl Connection {
    pub async fn open(address: &str) -> Connection {
        let stream = TcpStream::connect(address).await.expect("connect");
        stream.set_nodelay(true).unwrap();
        Connection {
            stream: AsyncBufReader::new(stream),
            address: address.to_string(),
            auth: auth_header("123456789012", "us-east-1"),
        }
    }

    pub async fn post(&mut self, body: &str) -> (u16, String) {
        let request = format!(
            "POST / HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nAuthorization: {}\r\nContent-Length: {}\r\n\r\n{body}",
            self.address,
            self.auth,
            body.len()
        );
        self.stream.get_mut().write_all(request.as_bytes()).await.unwrap();
        let mut status_line = String::new();
        self.stream.read_line(&mut status_line).await.unwrap();
        let status = status_line.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let mut length = 0;
        loop {
            let mut line = String::new();
            self.stream.read_line(&mut line).await.unwrap();
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap();
                }
            }
        }
        let mut body = vec![0; length];
        self.stream.read_exact(&mut body).await.unwrap();
        (status, String::from_utf8(body).unwrap())
    }
}

pub fn element<'a>(body: &'a str, tag: &str) -> &'a str {
    let open = format!("<{tag}>");
    let start = body.find(&open).map(|i| i + open.len()).unwrap_or_else(|| panic!("no <{tag}> in {body}"));
    &body[start..start + body[start..].find('<').unwrap()]
}

pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Runs `work(connection, index)` for indices 0..total over `CONNECTIONS` connections.
pub async fn run_parallel<F, Fut>(address: &str, total: usize, work: F) -> (Duration, Vec<Duration>)
where
    F: Fn(Connection, usize) -> Fut + Send + Sync + Copy + 'static,
    Fut: std::future::Future<Output = (Connection, Duration)> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CONNECTIONS {
        let next = next.clone();
        let address = address.to_string();
        tasks.push(tokio::spawn(async move {
            let mut connection = Connection::open(&address).await;
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let (c, latency) = work(connection, i).await;
                connection = c;
                latencies.push(latency);
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    latencies.sort();
    (started.elapsed(), latencies)
}

pub fn report(label: &str, elapsed: Duration, latencies: &[Duration]) {
    println!(
        "{label}: {} requests in {:.2} s = {:.0} req/s (p50 {:.0} µs, p99 {:.0} µs, {CONNECTIONS} connections)",
        latencies.len(),
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        percentile(latencies, 0.5).as_secs_f64() * 1e6,
        percentile(latencies, 0.99).as_secs_f64() * 1e6
    );
}

