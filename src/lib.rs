//! ec2lite: an AWS-compatible EC2/AMI control-plane emulator.
//!
//! Layers, each depending only on the ones below it:
//! `server` / `wire` (HTTP, query parameters, XML) → `actions` (one handler per EC2
//! action) → `domain` (entities and rules) → `store` (SQLite through sqlx).

pub mod access;
pub mod actions;
pub mod app;
pub mod config;
pub mod domain;
pub mod error;
pub mod import;
pub mod server;
pub mod store;
pub mod wire;

use std::sync::Arc;

use tokio::net::TcpListener;

use crate::app::App;
use crate::config::{Config, Timings};
use crate::store::blobs::BlobStore;
use crate::store::{Location, Store};

/// Opens the store named by `config`, creating the data directory if needed.
pub async fn open_store(config: &Config) -> Result<Store, Box<dyn std::error::Error>> {
    let location = config.location();
    if let (Location::Url(_), None, false) = (&location, &config.database_url, config.in_memory) {
        std::fs::create_dir_all(&config.data_dir)?;
    }
    Ok(Store::open(&location).await?)
}

/// Serves the EC2 API on `listener` until `shutdown` resolves.
pub async fn serve(
    config: &Config,
    store: Store,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), Box<dyn std::error::Error>> {
    let region = domain::regions::find(&config.default_region.to_ascii_lowercase())
        .ok_or_else(|| format!("unknown default region '{}'", config.default_region))?;
    let catalog = load_catalog(config)?;
    let directory = match &config.accounts {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| format!("accounts {}: {e}", path.display()))?;
            domain::accounts::Directory::parse(&text).map_err(|e| format!("accounts {}: {e}", path.display()))?
        }
        None => domain::accounts::Directory::default(),
    };
    store.replace_memberships(&directory.memberships()).await?;
    let blobs = if config.in_memory {
        BlobStore::in_memory()
    } else {
        BlobStore::on_disk(&config.data_dir)
            .map_err(|e| format!("block storage in {}: {e}", config.data_dir.display()))?
    };
    let (import_queue, import_jobs) = tokio::sync::mpsc::unbounded_channel();
    let app = Arc::new(App {
        store: store.clone(),
        timings: Timings::from(config),
        default_region: region.name,
        catalog,
        directory,
        verify_signatures: config.verify_signatures,
        blobs: Arc::new(blobs),
        imports: import_settings(config, import_queue)?,
    });
    // Blocks left by a crash between writing a block and recording it go now.
    app.sweep_blocks().await?;
    spawn_block_sweeper(app.clone(), config.block_sweep_secs);
    tokio::spawn(import::run_queue(app.clone(), import_jobs));
    import::resume_open_tasks(&app).await?;
    axum::serve(listener, server::router(app)).with_graceful_shutdown(shutdown).await?;
    store.close().await;
    Ok(())
}

fn import_settings(
    config: &Config,
    queue: tokio::sync::mpsc::UnboundedSender<String>,
) -> Result<import::ImportSettings, Box<dyn std::error::Error>> {
    let work_dir = if config.in_memory {
        std::env::temp_dir().join(format!("ec2lite-imports-{}", std::process::id()))
    } else {
        config.data_dir.join("imports")
    };
    let s3 = config.s3_endpoint.as_ref().map(|endpoint| import::S3Source {
        endpoint: endpoint.clone(),
        access_key_id: config.s3_access_key_id.clone(),
        secret_access_key: config.s3_secret_access_key.clone(),
        region: config.s3_region.clone(),
    });
    Ok(import::ImportSettings { work_dir, s3, step_ms: config.import_step_ms, http: Default::default(), queue })
}

fn spawn_block_sweeper(app: Arc<App>, every_secs: u64) {
    if every_secs == 0 {
        return;
    }
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(std::time::Duration::from_secs(every_secs));
        ticks.tick().await;
        loop {
            ticks.tick().await;
            if let Err(err) = app.sweep_blocks().await {
                tracing::warn!(error = %err, "periodic block sweep failed");
            }
        }
    });
}

/// The built-in catalog (unless `--no-catalog`) plus every `--catalog` file.
pub fn load_catalog(config: &Config) -> Result<app::Catalog, Box<dyn std::error::Error>> {
    let mut texts = Vec::new();
    if !config.no_catalog {
        texts.push(domain::catalog::DEFAULT_CATALOG.to_string());
    }
    for path in &config.catalog_files {
        let text = std::fs::read_to_string(path).map_err(|e| format!("catalog {}: {e}", path.display()))?;
        texts.push(text);
    }
    let mut entries = Vec::new();
    for (text, source) in
        texts.iter().zip(std::iter::once("built-in").chain(config.catalog_files.iter().map(|_| "file")))
    {
        let file = domain::catalog::parse(text).map_err(|e| format!("{source} catalog: {e}"))?;
        for entry in &file.images {
            domain::image::validate_name(&entry.name).map_err(|e| format!("catalog image {}: {e}", entry.name))?;
        }
        entries.extend(file.images);
    }
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    Ok(app::Catalog::new(entries, domain::catalog::fingerprint(&refs)))
}
