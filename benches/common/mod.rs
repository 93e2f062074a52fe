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
    status_kib(pid, "VmRSS:")
}

/// A field of `/proc/<pid>/status` in KiB (0 if absent).
fn status_kib(pid: u32, field: &str) -> u64 {
    proc_kib(&format!("/proc/{pid}/status"), field)
}

/// A `<field> <n> kB` line of a `/proc` file, in KiB (0 if absent).
fn proc_kib(path: &str, field: &str) -> u64 {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Resident memory, split. Each read connection maps the database file, so a page that
/// several of them touched counts once per mapping in RSS, though it is one clean page of
/// the OS page cache (dropped under pressure); the proportional figure (PSS) counts it once.
pub fn memory(pid: u32) -> String {
    let mib = |kib: u64| kib as f64 / 1024.0;
    let rollup = format!("/proc/{pid}/smaps_rollup");
    format!(
        "{:.1} MiB RSS: {:.1} MiB anonymous, {:.1} MiB file-backed (code, mapped database pages; {:.1} MiB of it counted once, PSS)",
        mib(status_kib(pid, "VmRSS:")),
        mib(status_kib(pid, "RssAnon:")),
        mib(status_kib(pid, "RssFile:")),
        mib(proc_kib(&rollup, "Pss_File:"))
    )
}

/// Runs `work(connection, index)` for indices 0..total over `CONNECTIONS` connections.
pub async fn run_parallel<F, Fut>(address: &str, total: usize, work: F) -> (Duration, Vec<Duration>)
where
    F: Fn(Connection, usize) -> Fut + Send + Sync + Copy + 'static,
    Fut: std::future::Future<Output = (Connection, Duration)> + Send,
{
    run_with(address, CONNECTIONS, total, work).await
}

/// Runs `work(connection, index)` for indices 0..total over `connections` connections;
/// answers the wall time and the sorted latencies.
pub async fn run_with<F, Fut>(address: &str, connections: usize, total: usize, work: F) -> (Duration, Vec<Duration>)
where
    F: Fn(Connection, usize) -> Fut + Send + Sync + Copy + 'static,
    Fut: std::future::Future<Output = (Connection, Duration)> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
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

/// The ceiling every figure is set against: a no-op axum handler that reads the same
/// form POST and answers a fixed EC2-shaped XML body, in its own process with the same
/// two worker threads as ec2lite, driven by the same client in the same run.
pub mod ceiling {
    use std::io::{BufRead, BufReader};
    use std::process::{Child, Command, Stdio};

    /// The flag that makes a bench binary serve the no-op handler instead of measuring.
    pub const FLAG: &str = "--noop-server";

    /// Serves the no-op handler if this process was started as the ceiling server.
    pub fn serve_if_asked() -> bool {
        if !std::env::args().any(|a| a == FLAG) {
            return false;
        }
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(async {
            let app = axum::Router::new().route("/", axum::routing::post(noop));
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            println!("listening on http://{}", listener.local_addr().unwrap());
            axum::serve(listener, app).await.unwrap();
        });
        true
    }

    async fn noop(body: bytes::Bytes) -> axum::response::Response {
        let action = form_urlencoded::parse(&body).find(|(k, _)| k == "Action").map(|(_, v)| v.into_owned());
        let xml = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{0}Response xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">\
             <requestId>00000000-0000-0000-0000-000000000000</requestId><imagesSet/></{0}Response>",
            action.unwrap_or_default()
        );
        axum::response::Response::builder().header("content-type", "text/xml;charset=UTF-8").body(xml.into()).unwrap()
    }

    /// Starts the ceiling server: this bench binary again, with [`FLAG`].
    pub fn start() -> (Child, String) {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .arg(FLAG)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the no-op server");
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
        (child, line.trim().rsplit("http://").next().unwrap().to_string())
    }
}

/// A throughput figure: the median of several runs.
#[derive(Debug, Clone, Copy)]
pub struct Rate {
    pub per_second: f64,
    pub p50: Duration,
}

/// Runs `runs` rounds of `total` requests with `connections` connections and prints the
/// median rate, the runs' range and, if given, its share of the ceiling.
pub async fn measure<F, Fut>(
    label: &str,
    address: &str,
    connections: usize,
    total: usize,
    ceiling: Option<Rate>,
    work: F,
) -> Rate
where
    F: Fn(Connection, usize) -> Fut + Send + Sync + Copy + 'static,
    Fut: std::future::Future<Output = (Connection, Duration)> + Send,
{
    const RUNS: usize = 3;
    let profile = profile::start(label, connections);
    let mut rates = Vec::new();
    for _ in 0..RUNS {
        let (elapsed, latencies) = run_with(address, connections, total, work).await;
        rates.push(Rate {
            per_second: latencies.len() as f64 / elapsed.as_secs_f64(),
            p50: percentile(&latencies, 0.5),
        });
    }
    profile::stop(profile);
    rates.sort_by(|a, b| a.per_second.total_cmp(&b.per_second));
    let median = rates[RUNS / 2];
    let share = ceiling
        .map(|c| {
            format!(
                "; {:.0}% of the no-op ceiling's {:.0} req/s (p50 {:.0} µs)",
                100.0 * median.per_second / c.per_second,
                c.per_second,
                c.p50.as_secs_f64() * 1e6
            )
        })
        .unwrap_or_default();
    println!(
        "{label}: median {:.0} req/s of {RUNS} runs ({:.0}–{:.0}), p50 {:.0} µs, {connections} connection(s){share}",
        median.per_second,
        rates[0].per_second,
        rates[RUNS - 1].per_second,
        median.p50.as_secs_f64() * 1e6
    );
    median
}

/// Optional profiles: with `EC2LITE_BENCH_PERF=<dir>`, each measure of the server whose
/// pid is in [`profile::SERVER`] is recorded with `perf record --call-graph dwarf` into `<dir>/<label>.data`.
pub mod profile {
    use std::process::{Child, Command, Stdio};
    use std::sync::atomic::{AtomicU32, Ordering};

    pub static SERVER: AtomicU32 = AtomicU32::new(0);

    pub fn start(label: &str, connections: usize) -> Option<Child> {
        let dir = std::env::var_os("EC2LITE_BENCH_PERF")?;
        let pid = SERVER.load(Ordering::Relaxed);
        if pid == 0 {
            return None;
        }
        let slug: String =
            label.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
        let file = std::path::Path::new(&dir).join(format!("{slug}-{connections}.data"));
        Command::new("perf")
            .args(["record", "-F", "999", "--call-graph", "dwarf,16384", "-p", &pid.to_string(), "-o"])
            .arg(file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()
    }

    pub fn stop(child: Option<Child>) {
        if let Some(mut child) = child {
            unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
            let _ = child.wait();
        }
    }
}
