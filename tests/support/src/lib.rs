//! Test support: start the real `ec2lite` binary on an ephemeral port with its own data
//! directory, stop it gently or with `kill -9`, restart it on the same data, and send
//! raw HTTP requests to it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// The binary under test: `EC2LITE_BIN`, or `ec2lite` beside the running test's target dir.
pub fn locate_binary() -> PathBuf {
    if let Ok(bin) = std::env::var("EC2LITE_BIN") {
        return PathBuf::from(bin);
    }
    let exe = std::env::current_exe().expect("current exe");
    // target/<profile>/deps/<test> → target/<profile>/ec2lite
    let profile_dir = exe.parent().and_then(Path::parent).expect("target profile dir");
    profile_dir.join("ec2lite")
}

/// A fresh, empty directory under the system temp dir.
pub fn temp_dir(label: &str) -> PathBuf {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "ec2lite-test-{label}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// A [`temp_dir`] removed with everything in it when dropped: test runs leave no
/// litter in the system temp dir.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        TempDir(temp_dir(label))
    }
}

impl std::ops::Deref for TempDir {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<std::ffi::OsStr> for TempDir {
    fn as_ref(&self) -> &std::ffi::OsStr {
        self.0.as_os_str()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub struct Server {
    binary: PathBuf,
    child: Option<Child>,
    pub data_dir: PathBuf,
    pub endpoint: String,
    args: Vec<String>,
}

impl Server {
    /// Starts `binary` with a new data directory and `args`.
    pub fn start(binary: &Path, args: &[&str]) -> Server {
        Server::start_in(binary, temp_dir("data"), args)
    }

    /// Starts `binary` on `data_dir` (removed when the server is dropped) with `args`.
    pub fn start_in(binary: &Path, data_dir: PathBuf, args: &[&str]) -> Server {
        let mut server = Server {
            binary: binary.to_path_buf(),
            child: None,
            data_dir,
            endpoint: String::new(),
            args: args.iter().map(|a| a.to_string()).collect(),
        };
        server.spawn();
        server
    }

    /// Starts `binary` with `--accounts` naming a file of `accounts_json` kept in the
    /// server's data directory (so removed with it), then `args`.
    pub fn start_with_accounts(binary: &Path, accounts_json: &str, args: &[&str]) -> Server {
        let data_dir = temp_dir("data");
        let file = data_dir.join("accounts.json");
        std::fs::write(&file, accounts_json).expect("writing the accounts file");
        let mut all = vec!["--accounts", file.to_str().expect("a UTF-8 temp path")];
        all.extend_from_slice(args);
        Server::start_in(binary, data_dir, &all)
    }

    /// Starts the binary found by [`locate_binary`].
    pub fn start_default(args: &[&str]) -> Server {
        Server::start(&locate_binary(), args)
    }

    fn spawn(&mut self) {
        let stderr = if std::env::var_os("EC2LITE_TEST_LOG").is_some() { Stdio::inherit() } else { Stdio::null() };
        let mut child = Command::new(&self.binary)
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(&self.data_dir)
            .args(&self.args)
            .env("EC2LITE_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.binary.display()));
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().expect("stdout")).read_line(&mut line).expect("read banner");
        let url = line.trim().rsplit(' ').next().unwrap_or_default().to_string();
        assert!(url.starts_with("http://"), "unexpected banner {line:?}");
        self.endpoint = url;
        self.child = Some(child);
    }

    /// Stops the server with SIGTERM and waits for it to exit.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
            let _ = child.wait();
        }
    }

    /// Kills the server with SIGKILL: no chance to flush or close anything.
    pub fn kill_9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same data directory (on a new port).
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    pub fn start_again(&mut self) {
        assert!(self.child.is_none(), "server still running");
        self.spawn();
    }

    /// The server's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// `host:port` of the endpoint.
    pub fn address(&self) -> &str {
        self.endpoint.trim_start_matches("http://")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill_9();
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The text of the first `<tag>...</tag>` in the body.
    pub fn element(&self, tag: &str) -> Option<&str> {
        let open = format!("<{tag}>");
        let start = self.body.find(&open)? + open.len();
        let end = self.body[start..].find(&format!("</{tag}>"))? + start;
        Some(&self.body[start..end])
    }

    pub fn count(&self, needle: &str) -> usize {
        self.body.matches(needle).count()
    }
}

/// Sends one HTTP/1.1 request and reads the whole answer (`Connection: close`).
pub fn http(address: &str, method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> HttpResponse {
    let mut stream = TcpStream::connect(address).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
    let mut request = format!(
        "{method} {target} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).expect("write head");
    // The server may answer (e.g. 413) before reading a large body; ignore a broken pipe.
    let _ = stream.write_all(body);
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> HttpResponse {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).unwrap_or(0);
    let headers: Vec<(String, String)> =
        lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_string(), v.trim().to_string())).collect();
    let chunked = headers.iter().any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let body = if chunked { dechunk(body) } else { body.to_string() };
    HttpResponse { status, headers, body }
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size_line, after)) = rest.split_once("\r\n") {
        let size = usize::from_str_radix(size_line.trim(), 16).unwrap_or(0);
        if size == 0 || after.len() < size {
            break;
        }
        out.push_str(&after[..size]);
        rest = after[size..].trim_start_matches("\r\n");
    }
    out
}

/// Form-encodes pairs as an EC2 Query body.
pub fn form(pairs: &[(&str, &str)]) -> String {
    pairs.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&")
}

fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A SigV4 `Authorization` header naming `access_key` and `region` (the signature is
/// not checked by ec2lite).
pub fn auth_header(access_key: &str, region: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential={access_key}/20261126/{region}/ec2/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=0000"
    )
}

/// POSTs an EC2 Query request as `access_key` in `region`.
pub fn ec2(address: &str, access_key: &str, region: &str, pairs: &[(&str, &str)]) -> HttpResponse {
    let auth = auth_header(access_key, region);
    let body = form(pairs);
    http(
        address,
        "POST",
        "/",
        &[("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"), ("Authorization", &auth)],
        body.as_bytes(),
    )
}

/// A small tmpfs mounted on a fresh temp dir (needs root), unmounted when dropped:
/// a disk that fills up, or turns read-only, on demand.
pub struct Tmpfs(pub PathBuf);

impl Tmpfs {
    /// `None` where mounting is not allowed (not root), said on stderr: callers skip.
    pub fn mount(size: &str) -> Option<Tmpfs> {
        let dir = temp_dir("tmpfs");
        let mounted =
            Command::new("mount").args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"]).arg(&dir).status();
        let disk = mounted.ok().filter(|s| s.success()).map(|_| Tmpfs(dir));
        if disk.is_none() {
            eprintln!("skipped: mounting a tmpfs needs root");
        }
        disk
    }

    /// `<mount>/data`, made: a data directory on this file system.
    pub fn data_dir(&self) -> PathBuf {
        let dir = self.0.join("data");
        std::fs::create_dir_all(&dir).expect("creating the data directory");
        dir
    }

    /// Remounts with `options` (e.g. `size=64m`, `ro`, `rw`).
    pub fn remount(&self, options: &str) {
        let status =
            Command::new("mount").args(["-o", &format!("remount,{options}")]).arg(&self.0).status().expect("mount");
        assert!(status.success(), "remount,{options}");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
