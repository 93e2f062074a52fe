//! ec2lite: an AWS-compatible EC2/AMI control-plane emulator.
//!
//! Layers, each depending only on the ones below it:
//! `server` / `wire` (HTTP intake, query parameters, typed inputs, XML shapes) →
//! `actions` (one handler per EC2 action, routed by one `Operation` table) → `access`
//! (who may touch what) → `domain` (entities and rules) → `store` (SQLite through sqlx).
//! `runtime` starts and stops it all; `workers` run beside the requests.

pub mod access;
pub mod actions;
pub mod app;
pub mod config;
pub mod domain;
pub mod error;
pub mod machines;
pub mod metrics;
pub mod runtime;
pub mod server;
pub mod store;
pub mod wire;
pub mod workers;

pub use runtime::{load_catalog, open_store, serve};
