//! Raw disk files to and from a snapshot's content-addressed blocks: what VM Import
//! stores, what CreateImage captures from a running instance, and what a launch from a
//! captured image reads back. Identical blocks are stored once, whoever wrote them.

use std::path::Path;
use std::sync::Arc;

use crate::domain::block::{self, Digest, BLOCK_SIZE};
use crate::error::Ec2Error;
use crate::store::blobs::BlobStore;
use crate::store::{blocks, Store};

/// Blocks hashed and stored per batch (and per transaction).
const BATCH_BLOCKS: usize = 64;

fn io_error(err: std::io::Error) -> Ec2Error {
    tracing::error!(error = %err, "raw disk file");
    Ec2Error::internal()
}

/// Cuts the raw disk `raw` into blocks, stores the ones with data and records them
/// under `owner` (a snapshot, or a staging id).
pub async fn store(store: &Store, blobs: &Arc<BlobStore>, raw: &Path, owner: &str) -> Result<(), Ec2Error> {
    let size = tokio::fs::metadata(raw).await.map_err(io_error)?.len();
    let file = Arc::new(std::fs::File::open(raw).map_err(io_error)?);
    let total = size.div_ceil(BLOCK_SIZE as u64);
    let mut next = 0u64;
    while next < total {
        // Holes of the (sparse) raw file are skipped rather than read as zeros.
        let Some(data) = next_data(&file, next * BLOCK_SIZE as u64).map_err(io_error)? else { break };
        next = next.max(data / BLOCK_SIZE as u64);
        if next >= total {
            break;
        }
        let end = (next + BATCH_BLOCKS as u64).min(total);
        let _gate = blobs.gate.read().await;
        let (file, blobs) = (file.clone(), blobs.clone());
        let batch = tokio::task::spawn_blocking(move || store_batch(&file, &blobs, next, end))
            .await
            .map_err(|_| Ec2Error::internal())?
            .map_err(io_error)?;
        let mut tx = store.write().await?;
        for (index, digest) in &batch {
            blocks::put(&mut tx, owner, *index, digest).await?;
        }
        tx.commit().await?;
        next = end;
    }
    Ok(())
}

/// Stores blocks `first..end` of `file` that hold data; returns them by index.
fn store_batch(file: &std::fs::File, blobs: &BlobStore, first: u64, end: u64) -> std::io::Result<Vec<(i64, Digest)>> {
    use std::os::unix::fs::FileExt;
    let mut found = Vec::new();
    let mut buffer = vec![0u8; BLOCK_SIZE];
    for index in first..end {
        buffer.fill(0);
        let mut filled = 0;
        while filled < BLOCK_SIZE {
            let n = file.read_at(&mut buffer[filled..], index * BLOCK_SIZE as u64 + filled as u64)?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        // Sparse regions stay unlisted, as in a snapshot of a fresh volume.
        if buffer.iter().all(|b| *b == 0) {
            continue;
        }
        let digest = block::sha256(&buffer);
        blobs.put(&digest, &buffer)?;
        found.push((index as i64, digest));
    }
    Ok(found)
}

/// Writes the blocks of `owner` into a new sparse file `dest` of `size` bytes (blocks
/// never written stay holes, read as zeros).
pub async fn write(store: &Store, blobs: &Arc<BlobStore>, owner: &str, size: u64, dest: &Path) -> Result<(), Ec2Error> {
    let file = std::fs::File::create(dest).map_err(io_error)?;
    file.set_len(size).map_err(io_error)?;
    let file = Arc::new(file);
    let mut start = 0;
    loop {
        let listed = blocks::list(&mut *store.read().await?, owner, start, 1000).await?;
        let Some((last, _)) = listed.last() else { return Ok(()) };
        start = last + 1;
        let (file, blobs) = (file.clone(), blobs.clone());
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            use std::os::unix::fs::FileExt;
            for (index, digest) in listed {
                file.write_all_at(&blobs.get(&digest)?, index as u64 * BLOCK_SIZE as u64)?;
            }
            Ok(())
        })
        .await
        .map_err(|_| Ec2Error::internal())?
        .map_err(io_error)?;
    }
}

/// The offset of the first data at or after `offset` (None: only a hole follows), by
/// `SEEK_DATA`; where the file system cannot tell, `offset` itself.
fn next_data(file: &std::fs::File, offset: u64) -> std::io::Result<Option<u64>> {
    use std::os::fd::AsRawFd;
    let Ok(start) = libc::off_t::try_from(offset) else { return Ok(None) };
    // SAFETY: lseek on a descriptor this function borrows; it only moves the file offset,
    // which nothing here relies on (blocks are read with read_at).
    let found = unsafe { libc::lseek(file.as_raw_fd(), start, libc::SEEK_DATA) };
    if found >= 0 {
        return Ok(Some(found as u64));
    }
    match std::io::Error::last_os_error() {
        err if err.raw_os_error() == Some(libc::ENXIO) => Ok(None),
        err if err.raw_os_error() == Some(libc::EINVAL) => Ok(Some(offset)),
        err => Err(err),
    }
}
