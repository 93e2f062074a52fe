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
    let app = Arc::new(App { store: store.clone(), timings: Timings::from(config), default_region: region.name });
    axum::serve(listener, server::router(app)).with_graceful_shutdown(shutdown).await?;
    store.close().await;
    Ok(())
}
