//! ec2lite: an AWS-compatible EC2/AMI control-plane emulator.
//!
//! Layers, each depending only on the ones below it:
//! `server` / `wire` (HTTP, query parameters, XML) → `actions` (one handler per EC2
//! action) → `domain` (entities and rules) → `store` (SQLite through sqlx).

pub mod actions;
pub mod app;
pub mod config;
pub mod domain;
pub mod error;
pub mod server;
pub mod store;
pub mod wire;

use std::sync::Arc;

use tokio::net::TcpListener;

use crate::app::App;
use crate::config::{Config, Timings};
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
    let app = Arc::new(App {
        store: store.clone(),
        timings: Timings::from(config),
        default_region: region.name,
        catalog,
        directory,
        verify_signatures: config.verify_signatures,
    });
    axum::serve(listener, server::router(app)).with_graceful_shutdown(shutdown).await?;
    store.close().await;
    Ok(())
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
