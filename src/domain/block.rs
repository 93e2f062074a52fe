//! Snapshot blocks as the EBS direct APIs define them: 512 KiB each, named by their
//! SHA-256, read back with a block token.

use std::sync::LazyLock;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use sha2::{Digest as _, Sha256};

/// The only block size EBS supports.
pub const BLOCK_SIZE: usize = 524_288;

/// Blocks per GiB of volume size.
pub const BLOCKS_PER_GIB: i64 = 2048;

/// The largest volume a snapshot may describe, in GiB (64 TiB).
pub const MAX_VOLUME_SIZE_GIB: i64 = 65_536;

/// How long block tokens returned by the List calls stay valid (EBS: 7 days).
pub const TOKEN_LIFETIME_MS: i64 = 7 * 24 * 3600 * 1000;

pub type Digest = [u8; 32];

pub fn sha256(data: &[u8]) -> Digest {
    Sha256::digest(data).into()
}

/// The digest of an all-zero block: such blocks are never stored, they read as zeros.
pub static ZERO_DIGEST: LazyLock<Digest> = LazyLock::new(|| sha256(&[0u8; BLOCK_SIZE]));

pub fn checksum_base64(digest: &Digest) -> String {
    STANDARD.encode(digest)
}

/// The `LINEAR` aggregate CompleteSnapshot checks: the SHA-256 of the written blocks'
/// digests, concatenated in block-index order.
pub fn linear_aggregate<'a>(digests: impl IntoIterator<Item = &'a Digest>) -> Digest {
    let mut hasher = Sha256::new();
    for digest in digests {
        hasher.update(digest);
    }
    hasher.finalize().into()
}

/// A block token: the snapshot, the block index and the block's digest at listing time,
/// with an expiry. Opaque to clients; a token for another block, or for content since
/// overwritten, is refused.
pub fn block_token(snapshot_id: &str, block_index: i64, digest: &Digest, expires_at: i64) -> String {
    let text = format!("{snapshot_id}:{block_index}:{}:{expires_at}", hex(digest));
    URL_SAFE_NO_PAD.encode(text)
}

/// Whether `token` names this block with this content and has not expired at `now`.
pub fn token_matches(token: &str, snapshot_id: &str, block_index: i64, digest: &Digest, now: i64) -> bool {
    let Ok(bytes) = URL_SAFE_NO_PAD.decode(token.trim_end_matches('=')) else { return false };
    let Ok(text) = String::from_utf8(bytes) else { return false };
    let mut parts = text.split(':');
    let (Some(id), Some(index), Some(hash), Some(expiry), None) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    id == snapshot_id
        && index.parse::<i64>() == Ok(block_index)
        && hash == hex(digest)
        && expiry.parse::<i64>().is_ok_and(|e| e > now)
}

/// A list page token: where the next page starts.
pub fn page_token(next_index: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("next:{next_index}"))
}

pub fn parse_page_token(token: &str) -> Option<i64> {
    let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
    String::from_utf8(bytes).ok()?.strip_prefix("next:")?.parse().ok().filter(|i| *i >= 0)
}

pub fn hex(digest: &Digest) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn from_hex(text: &str) -> Option<Digest> {
    if text.len() != 64 {
        return None;
    }
    let mut digest = [0u8; 32];
    for (i, byte) in digest.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_tokens_name_one_block_and_its_content() {
        let digest = sha256(b"data");
        let token = block_token("snap-0123", 7, &digest, 1000);
        assert!(token_matches(&token, "snap-0123", 7, &digest, 999));
        assert!(!token_matches(&token, "snap-0123", 7, &digest, 1000), "expired");
        assert!(!token_matches(&token, "snap-0123", 8, &digest, 0), "other index");
        assert!(!token_matches(&token, "snap-9999", 7, &digest, 0), "other snapshot");
        assert!(!token_matches(&token, "snap-0123", 7, &sha256(b"new"), 0), "overwritten");
        assert!(!token_matches("garbage", "snap-0123", 7, &digest, 0));
    }

    #[test]
    fn linear_aggregate_hashes_digests_in_order() {
        let (a, b) = (sha256(b"a"), sha256(b"b"));
        let mut joined = a.to_vec();
        joined.extend_from_slice(&b);
        assert_eq!(linear_aggregate([&a, &b]), sha256(&joined));
        assert_ne!(linear_aggregate([&b, &a]), linear_aggregate([&a, &b]));
    }

    #[test]
    fn hex_round_trips_and_page_tokens_parse() {
        let digest = sha256(b"x");
        assert_eq!(from_hex(&hex(&digest)), Some(digest));
        assert_eq!(parse_page_token(&page_token(4096)), Some(4096));
        assert_eq!(parse_page_token("bm9wZQ"), None);
        assert_eq!(checksum_base64(&ZERO_DIGEST).len(), 44);
    }
}
