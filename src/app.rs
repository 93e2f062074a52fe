//! What every request handler shares: the store, the settings and the catalog.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use crate::config::Timings;
use crate::domain::block::Digest;
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
    /// Who may call ec2lite's mutating endpoints (`--admin-token`).
    pub admin: crate::wire::admin::AdminAccess,
    /// Snapshot block contents.
    pub blobs: Arc<BlobStore>,
    /// VM Import: where disk images come from and the queue of tasks to run.
    pub imports: ImportSettings,
    /// `--runtime podman`: the containers instances run in; none: instances are rows.
    pub machines: Option<Arc<crate::machines::Machines>>,
}

impl App {
    /// Removes the stored blocks no snapshot or volume refers to any more.
    ///
    /// The slow part (listing the files and the referenced blocks) runs beside uploads;
    /// only the final check and the removal hold the gate that writers of new blocks
    /// take, so no block is taken between its file and its row.
    pub async fn sweep_blocks(&self) -> Result<Usage> {
        let blobs = self.blobs.clone();
        let stored = tokio::task::spawn_blocking(move || blobs.inventory()).await.map_err(|_| Ec2Error::internal())?;
        let stored = stored.map_err(storage_error)?;
        if stored.is_empty() {
            // Nothing to sweep (a fresh data directory): no read of the block table.
            return Ok(Usage { blocks: 0, bytes: 0, removed: 0 });
        }
        let referenced = crate::store::blocks::referenced(&mut *self.store.read().await?).await?;
        let candidates: Vec<Digest> = stored.iter().map(|(d, _)| *d).filter(|d| !referenced.contains(d)).collect();
        let _gate = self.blobs.gate.write().await;
        // Written again or copied since the listing: kept.
        let reused = crate::store::blocks::referenced_among(&mut *self.store.read().await?, &candidates).await?;
        let doomed: Vec<Digest> = candidates.into_iter().filter(|d| !reused.contains(d)).collect();
        let blobs = self.blobs.clone();
        let gone = doomed.clone();
        let removed =
            tokio::task::spawn_blocking(move || blobs.remove(&gone)).await.map_err(|_| Ec2Error::internal())?;
        let removed = removed.map_err(storage_error)?;
        let doomed: HashSet<Digest> = doomed.into_iter().collect();
        let kept: Vec<&(Digest, u64)> = stored.iter().filter(|(d, _)| !doomed.contains(d)).collect();
        Ok(Usage { blocks: kept.len() as u64, bytes: kept.iter().map(|(_, size)| size).sum(), removed })
    }
}

fn storage_error(err: std::io::Error) -> Ec2Error {
    tracing::error!(error = %err, "block sweep");
    Ec2Error::internal()
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

/// Where and how tasks read their disk images.
pub struct ImportSettings {
    /// Scratch space for downloads and conversions.
    pub work_dir: std::path::PathBuf,
    pub s3: Option<S3Source>,
    /// Time each step of a task takes at least (to watch a task go through its states).
    pub step_ms: u64,
    /// Built on the first download: loading TLS roots would cost every start-up.
    pub http: std::sync::OnceLock<reqwest::Client>,
    pub queue: tokio::sync::mpsc::UnboundedSender<String>,
}

pub struct S3Source {
    pub endpoint: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub region: String,
}
