//! Block contents, content-addressed: each distinct 512 KiB block is one file named by
//! its SHA-256 under `<data-dir>/blocks/<first byte>/`, so identical blocks (across
//! snapshots, copies and volumes) are stored once. All-zero blocks are never stored.
//!
//! Which blocks a snapshot or volume holds is in SQLite (`block_map`); a block file no
//! row refers to is an orphan, reclaimed by [`BlobStore::sweep`]. Files are written to a
//! temporary name and renamed, so a crash never leaves a partial block under its name.
//! Like the database they survive a crash of the process; with `Durability::Full` each
//! file and its directory are also synced before the row naming the block commits, so
//! they survive a power loss.

use std::collections::HashMap;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::domain::block::{from_hex, hex, sha256, Digest, BLOCK_SIZE, ZERO_DIGEST};
use crate::store::durability::Durability;

pub struct BlobStore {
    place: Place,
    /// Writers of new blocks hold it shared from the file write to the commit of the row
    /// that refers to the block; the sweep holds it exclusively, so it never takes a
    /// block whose row is about to be committed.
    pub gate: tokio::sync::RwLock<()>,
}

enum Place {
    Disk { root: PathBuf, durability: Durability },
    Memory(Mutex<HashMap<Digest, Arc<[u8]>>>),
}

/// What a sweep found and removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Usage {
    pub blocks: u64,
    pub bytes: u64,
    pub removed: u64,
}

impl BlobStore {
    pub fn on_disk(data_dir: &Path, durability: Durability) -> std::io::Result<BlobStore> {
        let root = data_dir.join("blocks");
        std::fs::create_dir_all(root.join("tmp"))?;
        Ok(BlobStore { place: Place::Disk { root, durability }, gate: Default::default() })
    }

    pub fn in_memory() -> BlobStore {
        BlobStore { place: Place::Memory(Mutex::new(HashMap::new())), gate: Default::default() }
    }

    /// Stores `data` under `digest` unless a block with that content is already there.
    /// Blocking: call from `spawn_blocking`.
    pub fn put(&self, digest: &Digest, data: &[u8]) -> std::io::Result<()> {
        if digest == &*ZERO_DIGEST {
            return Ok(());
        }
        match &self.place {
            Place::Memory(map) => {
                map.lock().expect("lock").entry(*digest).or_insert_with(|| Arc::from(data));
                Ok(())
            }
            Place::Disk { root, durability } => {
                let path = block_path(root, digest);
                // A file of another size or content is not this block (cut short by a full
                // disk, damaged): it is written again.
                if std::fs::metadata(&path).is_ok_and(|m| m.len() == data.len() as u64) && std::fs::read(&path)? == data
                {
                    return Ok(());
                }
                let synced = *durability == Durability::Full;
                let temp = root.join("tmp").join(uuid::Uuid::new_v4().simple().to_string());
                let mut file = std::fs::File::create(&temp)?;
                file.write_all(data)?;
                if synced {
                    file.sync_all()?;
                }
                drop(file);
                let dir = path.parent().expect("block paths have a parent");
                match std::fs::rename(&temp, &path) {
                    Err(e) if e.kind() == ErrorKind::NotFound => {
                        std::fs::create_dir_all(dir)?;
                        if synced {
                            sync_dir(root)?;
                        }
                        std::fs::rename(&temp, &path)?;
                    }
                    other => other?,
                }
                if synced {
                    // The rename is durable once the directory holding the new name is.
                    sync_dir(dir)?;
                }
                Ok(())
            }
        }
    }

    /// The content of the block `digest`, checked against it: a damaged file is an
    /// `InvalidData` error, never wrong bytes. Blocking: call from `spawn_blocking`.
    pub fn get(&self, digest: &Digest) -> std::io::Result<Vec<u8>> {
        if digest == &*ZERO_DIGEST {
            return Ok(vec![0; BLOCK_SIZE]);
        }
        match &self.place {
            Place::Memory(map) => map
                .lock()
                .expect("lock")
                .get(digest)
                .map(|data| data.to_vec())
                .ok_or_else(|| std::io::Error::new(ErrorKind::NotFound, format!("block {}", hex(digest)))),
            Place::Disk { root, .. } => {
                let data = std::fs::read(block_path(root, digest))?;
                if sha256(&data) != *digest {
                    let message = format!("block {} is damaged: its content does not match its checksum", hex(digest));
                    return Err(std::io::Error::new(ErrorKind::InvalidData, message));
                }
                Ok(data)
            }
        }
    }

    /// Every stored block with its size. Files that are not named like blocks are
    /// removed (writes in progress live in `tmp/`, never under such a name). Blocking.
    pub fn inventory(&self) -> std::io::Result<Vec<(Digest, u64)>> {
        let mut found = Vec::new();
        match &self.place {
            Place::Memory(map) => {
                found.extend(map.lock().expect("lock").iter().map(|(digest, data)| (*digest, data.len() as u64)));
            }
            Place::Disk { root, .. } => {
                for dir in std::fs::read_dir(root)? {
                    let dir = dir?;
                    if dir.file_name() == "tmp" || !dir.file_type()?.is_dir() {
                        continue;
                    }
                    for file in std::fs::read_dir(dir.path())? {
                        let file = file?;
                        match file.file_name().to_str().and_then(from_hex) {
                            Some(digest) => found.push((digest, file.metadata()?.len())),
                            None => std::fs::remove_file(file.path())?,
                        }
                    }
                }
            }
        }
        Ok(found)
    }

    /// Removes the blocks `digests` and any temporary file left by an interrupted write;
    /// returns how many files went. Blocking; the caller holds `gate` exclusively.
    pub fn remove(&self, digests: &[Digest]) -> std::io::Result<u64> {
        let mut removed = 0;
        match &self.place {
            Place::Memory(map) => {
                let mut map = map.lock().expect("lock");
                removed += digests.iter().filter(|d| map.remove(*d).is_some()).count() as u64;
            }
            Place::Disk { root, .. } => {
                for entry in std::fs::read_dir(root.join("tmp"))? {
                    std::fs::remove_file(entry?.path())?;
                    removed += 1;
                }
                for digest in digests {
                    match std::fs::remove_file(block_path(root, digest)) {
                        Ok(()) => removed += 1,
                        Err(e) if e.kind() == ErrorKind::NotFound => {}
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        Ok(removed)
    }
}

/// Makes the entries of `dir` (names created, renamed into it) durable.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

fn block_path(root: &Path, digest: &Digest) -> PathBuf {
    let name = hex(digest);
    root.join(&name[..2]).join(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_stored_once_and_swept_when_unreferenced() {
        let dir = std::env::temp_dir().join(format!("ec2lite-blobs-{}", uuid::Uuid::new_v4()));
        let blobs = BlobStore::on_disk(&dir, Durability::Full).unwrap();
        let (a, b) = (vec![1u8; BLOCK_SIZE], vec![2u8; BLOCK_SIZE]);
        let (da, db) = (sha256(&a), sha256(&b));
        blobs.put(&da, &a).unwrap();
        blobs.put(&da, &a).unwrap();
        blobs.put(&db, &b).unwrap();
        blobs.put(&ZERO_DIGEST, &vec![0u8; BLOCK_SIZE]).unwrap();
        assert_eq!(blobs.get(&da).unwrap(), a);
        assert_eq!(blobs.get(&ZERO_DIGEST).unwrap(), vec![0u8; BLOCK_SIZE]);
        let mut stored = blobs.inventory().unwrap();
        stored.sort();
        let mut expected = vec![(da, BLOCK_SIZE as u64), (db, BLOCK_SIZE as u64)];
        expected.sort();
        assert_eq!(stored, expected, "the zero block is never stored");
        std::fs::write(dir.join("blocks").join("tmp").join("partial"), b"cut short").unwrap();
        assert_eq!(blobs.remove(&[db]).unwrap(), 2, "the block and the temporary file");
        assert!(blobs.get(&db).is_err());
        assert_eq!(blobs.get(&da).unwrap(), a);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_damaged_block_is_an_error_and_a_new_put_repairs_it() {
        let dir = std::env::temp_dir().join(format!("ec2lite-blobs-{}", uuid::Uuid::new_v4()));
        let blobs = BlobStore::on_disk(&dir, Durability::Normal).unwrap();
        let data = vec![7u8; BLOCK_SIZE];
        let digest = sha256(&data);
        blobs.put(&digest, &data).unwrap();
        let path = block_path(&dir.join("blocks"), &digest);
        let mut damaged = data.clone();
        damaged[1000] ^= 0x01;
        std::fs::write(&path, &damaged).unwrap();
        assert_eq!(blobs.get(&digest).unwrap_err().kind(), ErrorKind::InvalidData);
        blobs.put(&digest, &data).unwrap();
        assert_eq!(blobs.get(&digest).unwrap(), data);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
