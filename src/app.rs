//! What every request handler shares: the store, the settings and the catalog.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use crate::config::Timings;
use crate::domain::catalog::CatalogImage;
use crate::error::{Ec2Error, Result};
use crate::store::blobs::{BlobStore, Usage};
use crate::store::Store;

pub struct App {
    pub store: Store,
    pub timings: Timings,
    pub default_region: &'static str,
    pub catalog: Catalog,
    /// Accounts, keys and organizations from `--accounts`.
    pub directory: crate::domain::accounts::Directory,
    pub verify_signatures: bool,
    /// Snapshot block contents.
    pub blobs: Arc<BlobStore>,
    /// VM Import: where disk images come from and the queue of tasks to run.
    pub imports: crate::import::ImportSettings,
}

impl App {
    /// Removes the stored blocks no snapshot or volume refers to any more.
    pub async fn sweep_blocks(&self) -> Result<Usage> {
        let _gate = self.blobs.gate.write().await;
        let referenced = crate::store::blocks::referenced(&mut *self.store.read().await?).await?;
        let blobs = self.blobs.clone();
        let usage =
            tokio::task::spawn_blocking(move || blobs.sweep(&referenced)).await.map_err(|_| Ec2Error::internal())?;
        usage.map_err(|err| {
            tracing::error!(error = %err, "block sweep");
            Ec2Error::internal()
        })
    }
}

/// The public images every region holds, seeded into a region on its first request.
pub struct Catalog {
    entries: Vec<CatalogImage>,
    fingerprint: String,
    /// Regions known to hold this catalog version (checked without touching the store).
    seeded: Mutex<HashSet<&'static str>>,
}

impl Catalog {
    pub fn new(entries: Vec<CatalogImage>, fingerprint: String) -> Catalog {
        Catalog { entries, fingerprint, seeded: Mutex::new(HashSet::new()) }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Seeds `region` unless it already holds this catalog. Must not be called while the
    /// caller holds a write transaction (there is one writer connection).
    pub async fn ensure(&self, store: &Store, region: &'static str, now: i64) -> Result<()> {
        if self.entries.is_empty() || self.seeded.lock().expect("lock").contains(region) {
            return Ok(());
        }
        let mut tx = store.write().await?;
        crate::store::catalog::ensure_region(&mut tx, region, &self.fingerprint, &self.entries, now).await?;
        tx.commit().await?;
        self.seeded.lock().expect("lock").insert(region);
        Ok(())
    }

    /// After a reset the store holds no catalog anywhere.
    pub fn forget_seeded_regions(&self) {
        self.seeded.lock().expect("lock").clear();
    }
}
