use clap::Parser;
use tokio::net::TcpListener;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::prelude::*;

use ec2lite::config::Config;

// Rows are built on sqlx's SQLite worker threads and freed on tokio's: glibc malloc spends
// most of a large DescribeImages in cross-thread frees; mimalloc does not.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let config = Config::parse();
    if config.health_check {
        std::process::exit(if health_check(config.listen).await { 0 } else { 1 });
    }
    // `Targets` rather than `EnvFilter`: the same `level,target=level` syntax without a
    // regex engine in the binary (a smaller binary keeps less of itself resident).
    let filter = config.log.parse::<Targets>().unwrap_or_else(|_| Targets::new().with_default(tracing::Level::INFO));
    let logs = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let registry = tracing_subscriber::registry();
    if config.log_format == "json" {
        registry.with(logs.json().flatten_event(true).with_filter(filter)).init();
    } else {
        registry.with(logs.with_filter(filter)).init();
    }
    if let Err(err) = run(config).await {
        eprintln!("ec2lite: {err}");
        std::process::exit(1);
    }
}

/// One HTTP/1.0 GET of `/_ec2lite/health` on the listening address (loopback when it
/// listens on every interface), within two seconds.
async fn health_check(listen: std::net::SocketAddr) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut target = listen;
    if target.ip().is_unspecified() {
        target.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let ask = async {
        let mut stream = tokio::net::TcpStream::connect(target).await?;
        stream.write_all(b"GET /_ec2lite/health HTTP/1.0\r\nHost: localhost\r\n\r\n").await?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await?;
        Ok::<_, std::io::Error>(answer.starts_with("HTTP/1.0 200") && answer.contains("\"ok\""))
    };
    matches!(tokio::time::timeout(std::time::Duration::from_secs(2), ask).await, Ok(Ok(true)))
}

async fn run(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    let store = ec2lite::open_store(&config).await?;
    let listener = TcpListener::bind(config.listen).await?;
    let address = listener.local_addr()?;
    // Tests and scripts read this line to learn the port when listening on port 0.
    println!("ec2lite listening on http://{address}");
    tracing::info!(%address, location = ?config.location(), "ec2lite started");
    ec2lite::serve(&config, store, listener, shutdown_signal()).await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
