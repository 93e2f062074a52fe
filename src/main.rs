use clap::Parser;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

use ec2lite::config::Config;

// Rows are built on sqlx's SQLite worker threads and freed on tokio's: glibc malloc spends
// most of a large DescribeImages in cross-thread frees; mimalloc does not.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let config = Config::parse();
    let logs = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_new(&config.log).unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr);
    if config.log_format == "json" {
        logs.json().flatten_event(true).init();
    } else {
        logs.init();
    }
    if let Err(err) = run(config).await {
        eprintln!("ec2lite: {err}");
        std::process::exit(1);
    }
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
