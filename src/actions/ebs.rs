//! The EBS direct APIs: StartSnapshot, PutSnapshotBlock, CompleteSnapshot,
//! ListSnapshotBlocks, ListChangedBlocks, GetSnapshotBlock. Inputs arrive typed from
//! `wire::ebs`; outputs are the JSON shapes of the EBS model.

use crate::domain::lifecycle::SnapshotState;
use serde::{Deserialize, Serialize};

use super::Ctx;
use crate::domain::block::{self, Digest, BLOCKS_PER_GIB, BLOCK_SIZE, MAX_VOLUME_SIZE_GIB, TOKEN_LIFETIME_MS};
use crate::domain::ids::{self, IdKind};
use crate::domain::snapshot::Snapshot;
use crate::domain::tags::{self as tag_rules, Tag};
use crate::error::EbsError;
use crate::store::{blocks, snapshots, tags, Conn};

type Result<T> = std::result::Result<T, EbsError>;

/// The timeout of an upload when StartSnapshot names none (EBS: 60 minutes).
const DEFAULT_TIMEOUT_MINUTES: i64 = 60;

fn invalid(message: impl Into<String>) -> EbsError {
    EbsError::validation("INVALID_PARAMETER_VALUE", message)
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct JsonTag {
    #[serde(default)]
    pub key: String,
    #[serde(default)]
    pub value: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StartSnapshotInput {
    pub volume_size: Option<i64>,
    pub parent_snapshot_id: Option<String>,
    #[serde(default)]
    pub tags: Vec<JsonTag>,
    pub description: Option<String>,
    pub client_token: Option<String>,
    pub encrypted: Option<bool>,
    pub kms_key_arn: Option<String>,
    pub timeout: Option<i64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StartSnapshotOutput {
    pub snapshot_id: String,
    pub owner_id: String,
    pub status: String,
    pub start_time: f64,
    pub volume_size: i64,
    pub block_size: usize,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<JsonTag>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_snapshot_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms_key_arn: Option<String>,
    pub sse_type: &'static str,
}

fn epoch_seconds(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

fn check_snapshot_id(snapshot_id: &str) -> Result<()> {
    if ids::is_well_formed(IdKind::Snapshot, snapshot_id) {
        Ok(())
    } else {
        Err(EbsError::validation("INVALID_SNAPSHOT_ID", format!("The snapshot ID '{snapshot_id}' is not valid.")))
    }
}

/// A snapshot the caller may read (its own, shared with it, or public).
async fn visible(ctx: &Ctx<'_>, conn: &mut Conn, snapshot_id: &str) -> Result<Snapshot> {
    check_snapshot_id(snapshot_id)?;
    let snapshot = snapshots::find_visible(conn, ctx.scope.account, ctx.scope.region, snapshot_id)
        .await?
        .ok_or_else(|| EbsError::snapshot_not_found(snapshot_id))?;
    Ok(snapshot.settled(ctx.now))
}

/// A snapshot the caller may read blocks of: visible and completed.
async fn readable(ctx: &Ctx<'_>, conn: &mut Conn, snapshot_id: &str) -> Result<Snapshot> {
    let snapshot = visible(ctx, conn, snapshot_id).await?;
    if snapshot.state != SnapshotState::Completed {
        return Err(EbsError::validation(
            "INVALID_SNAPSHOT_ID",
            format!(
                "The snapshot '{snapshot_id}' is in state '{}'; blocks can be read once it is completed.",
                snapshot.state
            ),
        ));
    }
    Ok(snapshot)
}

/// The caller's own snapshot with its upload still open.
async fn open_upload(ctx: &Ctx<'_>, conn: &mut Conn, snapshot_id: &str) -> Result<Snapshot> {
    let snapshot = visible(ctx, conn, snapshot_id).await?;
    if snapshot.owner_id != ctx.scope.account {
        return Err(EbsError::access_denied(format!("You do not own the snapshot '{snapshot_id}'.")));
    }
    if !snapshot.is_uploading() {
        return Err(EbsError::validation(
            "INVALID_SNAPSHOT_ID",
            format!("The snapshot '{snapshot_id}' is in state '{}' and accepts no more blocks.", snapshot.state),
        ));
    }
    Ok(snapshot)
}

fn validate_start(input: &StartSnapshotInput) -> Result<(i64, i64, Vec<Tag>)> {
    let size = input.volume_size.ok_or_else(|| invalid("VolumeSize is required."))?;
    if !(1..=MAX_VOLUME_SIZE_GIB).contains(&size) {
        return Err(EbsError::validation(
            "INVALID_VOLUME_SIZE",
            format!("The volume size must be between 1 and {MAX_VOLUME_SIZE_GIB} GiB."),
        ));
    }
    let timeout = input.timeout.unwrap_or(DEFAULT_TIMEOUT_MINUTES);
    if !(10..=4320).contains(&timeout) {
        return Err(invalid("Timeout must be between 10 and 4320 minutes."));
    }
    if input.description.as_deref().is_some_and(|d| d.chars().count() > 255) {
        return Err(invalid("Description must be at most 255 characters."));
    }
    check_texts(input)?;
    if input.parent_snapshot_id.is_some() && (input.encrypted.is_some() || input.kms_key_arn.is_some()) {
        // The child of a snapshot takes its parent's encryption.
        return Err(invalid("Encrypted and KmsKeyArn cannot be specified with ParentSnapshotId."));
    }
    if input.kms_key_arn.is_some() && input.encrypted != Some(true) {
        return Err(invalid("KmsKeyArn can be specified only when Encrypted is true."));
    }
    let tags: Vec<Tag> = input.tags.iter().map(|t| Tag { key: t.key.clone(), value: t.value.clone() }).collect();
    for tag in &tags {
        tag_rules::validate(tag).map_err(|e| EbsError::validation("INVALID_TAG", e.message))?;
    }
    tag_rules::check_count(tags.len()).map_err(|e| EbsError::validation("INVALID_TAG", e.message))?;
    Ok((size, timeout, tags))
}

/// The free texts of StartSnapshot are stored and later answered in EC2's XML: none
/// may hold a character XML cannot carry, nor be longer than EC2 keeps.
fn check_texts(input: &StartSnapshotInput) -> Result<()> {
    let texts = [
        ("Description", input.description.as_deref(), 255),
        ("ClientToken", input.client_token.as_deref(), 255),
        ("KmsKeyArn", input.kms_key_arn.as_deref(), 2048),
        ("ParentSnapshotId", input.parent_snapshot_id.as_deref(), 64),
    ];
    for (member, value, max_chars) in texts {
        let Some(value) = value else { continue };
        if value.chars().count() > max_chars {
            return Err(invalid(format!("{member} must be at most {max_chars} characters.")));
        }
        if let Some(c) = crate::domain::text::first_non_xml_char(value) {
            return Err(invalid(format!("{member} may not contain the character U+{:04X}.", c as u32)));
        }
    }
    Ok(())
}

pub async fn start_snapshot(ctx: &Ctx<'_>, input: StartSnapshotInput) -> Result<StartSnapshotOutput> {
    let (volume_size, timeout_minutes, tags) = validate_start(&input)?;
    let mut tx = ctx.app.store.write().await?;
    if let Some(token) = &input.client_token {
        if let Some(earlier) =
            snapshots::find_by_client_token(&mut tx, ctx.scope.account, ctx.scope.region, token).await?
        {
            // A child's encryption is its parent's, so only a parentless request names it.
            let same = earlier.volume_size == volume_size
                && earlier.parent_snapshot_id == input.parent_snapshot_id
                && earlier.description == input.description.clone().unwrap_or_default()
                && (input.parent_snapshot_id.is_some() || earlier.encrypted == input.encrypted.unwrap_or(false))
                && (input.kms_key_arn.is_none() || earlier.kms_key_id == input.kms_key_arn);
            if !same {
                return Err(EbsError::conflict(
                    "The request uses the same client token as a previous, but non-identical request.",
                ));
            }
            return Ok(start_output(&earlier.settled(ctx.now)));
        }
    }
    let mut encrypted = input.encrypted.unwrap_or(false);
    let mut kms_key_id = input.kms_key_arn.clone();
    if let Some(parent_id) = &input.parent_snapshot_id {
        let parent = readable(ctx, &mut tx, parent_id).await?;
        if volume_size < parent.volume_size {
            return Err(EbsError::validation(
                "INVALID_VOLUME_SIZE",
                format!("The volume size must be at least the parent's {} GiB.", parent.volume_size),
            ));
        }
        encrypted = parent.encrypted;
        kms_key_id = parent.kms_key_id;
    }
    if encrypted && kms_key_id.is_none() {
        kms_key_id = Some(crate::domain::volume::default_kms_key(ctx.scope.account, ctx.scope.region));
    }
    let timeout_ms = timeout_minutes * 60_000;
    let snapshot = Snapshot {
        snapshot_id: ids::new_id(IdKind::Snapshot),
        owner_id: ctx.scope.account.to_string(),
        region: ctx.scope.region.to_string(),
        // EBS direct snapshots belong to no volume: EC2 reports this placeholder id.
        volume_id: "vol-ffffffff".to_string(),
        volume_size,
        description: input.description.unwrap_or_default(),
        encrypted,
        kms_key_id,
        state: SnapshotState::Pending,
        start_time: ctx.now,
        parent_snapshot_id: input.parent_snapshot_id,
        upload_deadline: Some(ctx.now + timeout_ms),
        upload_timeout_ms: Some(timeout_ms),
        upload_progress: Some(0),
        client_token: input.client_token,
        tags: tags.iter().map(|t| (t.key.clone(), t.value.clone())).collect(),
        ..Default::default()
    };
    snapshots::insert(&mut tx, &snapshot, ctx.now).await?;
    tags::upsert(&mut tx, ctx.scope.account, ctx.scope.region, &snapshot.snapshot_id, "snapshot", &tags, ctx.now)
        .await?;
    if let Some(parent_id) = &snapshot.parent_snapshot_id {
        blocks::copy(&mut tx, parent_id, &snapshot.snapshot_id).await?;
    }
    tx.commit().await?;
    ctx.app.store.schedule_transition(snapshot.upload_deadline);
    Ok(start_output(&snapshot))
}

fn start_output(s: &Snapshot) -> StartSnapshotOutput {
    StartSnapshotOutput {
        snapshot_id: s.snapshot_id.clone(),
        owner_id: s.owner_id.clone(),
        status: s.state.to_string(),
        start_time: epoch_seconds(s.start_time),
        volume_size: s.volume_size,
        block_size: BLOCK_SIZE,
        tags: s.tags.iter().map(|(key, value)| JsonTag { key: key.clone(), value: value.clone() }).collect(),
        description: s.description.clone(),
        parent_snapshot_id: s.parent_snapshot_id.clone(),
        kms_key_arn: s.kms_key_id.clone(),
        sse_type: if s.encrypted { "sse-kms" } else { "none" },
    }
}

/// PutSnapshotBlock, as parsed from its path and headers.
pub struct PutBlockInput<'a> {
    pub snapshot_id: &'a str,
    pub block_index: &'a str,
    pub data_length: Option<&'a str>,
    pub checksum: Option<&'a str>,
    pub checksum_algorithm: Option<&'a str>,
    pub progress: Option<&'a str>,
    pub data: bytes::Bytes,
}

fn parse_block_index(text: &str) -> Result<i64> {
    text.parse::<i64>()
        .ok()
        .filter(|i| (0..=i64::from(i32::MAX)).contains(i))
        .ok_or_else(|| EbsError::validation("INVALID_BLOCK", format!("The block index '{text}' is not valid.")))
}

fn check_algorithm(algorithm: Option<&str>) -> Result<()> {
    match algorithm {
        Some("SHA256") => Ok(()),
        Some(other) => Err(invalid(format!("The checksum algorithm '{other}' is not supported; use SHA256."))),
        None => Err(invalid("x-amz-Checksum-Algorithm is required.")),
    }
}

/// The checks that need no store: the block's size, checksum and progress.
fn validate_block(input: &PutBlockInput<'_>) -> Result<(i64, Option<i64>)> {
    check_snapshot_id(input.snapshot_id)?;
    let block_index = parse_block_index(input.block_index)?;
    let data_length = input.data_length.ok_or_else(|| invalid("x-amz-Data-Length is required."))?;
    if input.checksum.is_none() {
        return Err(invalid("x-amz-Checksum is required."));
    }
    check_algorithm(input.checksum_algorithm)?;
    if data_length.parse::<usize>().ok() != Some(BLOCK_SIZE) {
        return Err(invalid(format!("The data length must be {BLOCK_SIZE} bytes, not '{data_length}'.")));
    }
    if input.data.len() != BLOCK_SIZE {
        return Err(EbsError::validation(
            "INVALID_BLOCK",
            format!("The block data is {} bytes; x-amz-Data-Length says {BLOCK_SIZE}.", input.data.len()),
        ));
    }
    let progress = match input.progress {
        None => None,
        Some(text) => Some(
            text.parse::<i64>()
                .ok()
                .filter(|p| (0..=100).contains(p))
                .ok_or_else(|| invalid(format!("The progress '{text}' must be between 0 and 100.")))?,
        ),
    };
    Ok((block_index, progress))
}

/// Stores one block: checked against its checksum, written once per distinct content,
/// then recorded. Returns the block's checksum.
pub async fn put_snapshot_block(ctx: &Ctx<'_>, input: PutBlockInput<'_>) -> Result<String> {
    let (block_index, progress) = validate_block(&input)?;
    let snapshot = open_upload(ctx, &mut *ctx.app.store.read().await?, input.snapshot_id).await?;
    if block_index >= snapshot.volume_size * BLOCKS_PER_GIB {
        return Err(EbsError::validation(
            "INVALID_BLOCK",
            format!(
                "The block index {block_index} is beyond the end of the {} GiB volume (last index {}).",
                snapshot.volume_size,
                snapshot.volume_size * BLOCKS_PER_GIB - 1
            ),
        ));
    }
    let expected = input.checksum.unwrap_or_default().to_string();
    let data = input.data;
    let blobs = ctx.app.blobs.clone();
    // Held until the row naming the block is committed: the sweep must not take it first.
    let _gate = ctx.app.blobs.gate.read().await;
    let digest = tokio::task::spawn_blocking(move || -> Result<Digest> {
        let digest = block::sha256(&data);
        if block::checksum_base64(&digest) != expected {
            return Err(EbsError::validation(
                "INVALID_BLOCK",
                "The checksum of the block data does not match the x-amz-Checksum sent with it.",
            ));
        }
        blobs.put(&digest, &data)?;
        Ok(digest)
    })
    .await
    .map_err(|_| EbsError::internal())??;
    let mut tx = ctx.app.store.write().await?;
    if !snapshots::touch_upload(&mut tx, &snapshot.snapshot_id, ctx.now, progress).await? {
        return Err(EbsError::validation(
            "INVALID_SNAPSHOT_ID",
            format!("The snapshot '{}' accepts no more blocks.", snapshot.snapshot_id),
        ));
    }
    blocks::put(&mut tx, &snapshot.snapshot_id, block_index, &digest).await?;
    tx.commit().await?;
    Ok(block::checksum_base64(&digest))
}

/// CompleteSnapshot, as parsed from its path and headers.
pub struct CompleteInput<'a> {
    pub snapshot_id: &'a str,
    pub changed_blocks_count: Option<&'a str>,
    pub checksum: Option<&'a str>,
    pub checksum_algorithm: Option<&'a str>,
    pub aggregation_method: Option<&'a str>,
}

/// The checks of CompleteSnapshot's headers that need no store: the block count.
fn validate_completion(input: &CompleteInput<'_>) -> Result<usize> {
    let count = input
        .changed_blocks_count
        .ok_or_else(|| invalid("x-amz-ChangedBlocksCount is required."))?
        .parse::<usize>()
        .map_err(|_| invalid("x-amz-ChangedBlocksCount must be a number of at least 0."))?;
    if input.checksum.is_some() {
        check_algorithm(input.checksum_algorithm)?;
        match input.aggregation_method {
            Some("LINEAR") => {}
            Some(other) => {
                return Err(invalid(format!("The aggregation method '{other}' is not supported; use LINEAR.")))
            }
            None => return Err(invalid("x-amz-Checksum-Aggregation-Method is required with x-amz-Checksum.")),
        }
    }
    Ok(count)
}

/// Seals an upload. A block count or aggregate checksum that disagrees with the blocks
/// received fails the snapshot (status `error`), as EBS does.
pub async fn complete_snapshot(ctx: &Ctx<'_>, input: CompleteInput<'_>) -> Result<&'static str> {
    let count = validate_completion(&input)?;
    let mut tx = ctx.app.store.write().await?;
    let current = visible(ctx, &mut tx, input.snapshot_id).await?;
    if current.owner_id == ctx.scope.account && current.upload_timeout_ms.is_some() && !current.is_uploading() {
        // A retried CompleteSnapshot: the upload is sealed already.
        return Ok(status_name(&current));
    }
    let snapshot = open_upload(ctx, &mut tx, input.snapshot_id).await?;
    let written = blocks::written(&mut tx, &snapshot.snapshot_id).await?;
    let failure = if written.len() != count {
        Some(format!("ChangedBlocksCount is {count} but {} blocks were written.", written.len()))
    } else if input.checksum.is_some_and(|c| c != block::checksum_base64(&block::linear_aggregate(&written))) {
        Some("The aggregated checksum does not match the checksums of the blocks written.".to_string())
    } else {
        None
    };
    let mut closed = snapshot.clone();
    closed.upload_deadline = None;
    closed.upload_progress = None;
    match &failure {
        Some(message) => {
            closed.state = SnapshotState::Error;
            closed.state_message = Some(message.clone());
            blocks::delete_all(&mut tx, &snapshot.snapshot_id).await?;
        }
        None => closed.ready_at = Some(ctx.now + ctx.app.timings.snapshot_pending_ms),
    }
    let closed = closed.settled(ctx.now);
    snapshots::close_upload(&mut tx, &closed).await?;
    tx.commit().await?;
    ctx.app.store.schedule_transition(closed.ready_at);
    Ok(status_name(&closed))
}

/// The `Status` EBS reports for a snapshot.
fn status_name(snapshot: &Snapshot) -> &'static str {
    match snapshot.state {
        SnapshotState::Completed => "completed",
        SnapshotState::Error => "error",
        _ => "pending",
    }
}

/// Where a List call starts and how many blocks it returns.
pub struct ListInput<'a> {
    pub page_token: Option<&'a str>,
    pub max_results: Option<&'a str>,
    pub starting_block_index: Option<&'a str>,
}

/// Lists return at most this many blocks when MaxResults is not given.
const DEFAULT_MAX_RESULTS: i64 = 10_000;

impl ListInput<'_> {
    fn range(&self) -> Result<(i64, i64)> {
        let limit = match self.max_results {
            None => DEFAULT_MAX_RESULTS,
            Some(text) => text
                .parse::<i64>()
                .ok()
                .filter(|n| (100..=10_000).contains(n))
                .ok_or_else(|| invalid(format!("MaxResults must be between 100 and 10000, not '{text}'.")))?,
        };
        let mut start = match self.starting_block_index {
            None => 0,
            Some(text) => parse_block_index(text)?,
        };
        if let Some(token) = self.page_token {
            let next = block::parse_page_token(token)
                .ok_or_else(|| EbsError::validation("INVALID_PAGE_TOKEN", "The page token is not valid."))?;
            start = start.max(next);
        }
        Ok((start, limit))
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BlockEntry {
    pub block_index: i64,
    pub block_token: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListBlocksOutput {
    pub blocks: Vec<BlockEntry>,
    pub expiry_time: f64,
    pub volume_size: i64,
    pub block_size: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// Cuts one extra fetched row off a page and names where the next page starts.
fn next_page<T>(rows: &mut Vec<T>, limit: i64, index: impl Fn(&T) -> i64) -> Option<String> {
    if rows.len() as i64 <= limit {
        return None;
    }
    rows.truncate(limit as usize);
    rows.last().map(|last| block::page_token(index(last) + 1))
}

pub async fn list_snapshot_blocks(ctx: &Ctx<'_>, snapshot_id: &str, list: ListInput<'_>) -> Result<ListBlocksOutput> {
    let (start, limit) = list.range()?;
    let mut conn = ctx.app.store.read().await?;
    let snapshot = readable(ctx, &mut conn, snapshot_id).await?;
    let mut rows = blocks::list(&mut conn, snapshot_id, start, limit + 1).await?;
    let next_token = next_page(&mut rows, limit, |(index, _)| *index);
    let expires_at = ctx.now + TOKEN_LIFETIME_MS;
    Ok(ListBlocksOutput {
        blocks: rows
            .iter()
            .map(|(index, digest)| BlockEntry {
                block_index: *index,
                block_token: block::block_token(snapshot_id, *index, digest, expires_at),
            })
            .collect(),
        expiry_time: epoch_seconds(expires_at),
        volume_size: snapshot.volume_size,
        block_size: BLOCK_SIZE,
        next_token,
    })
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ChangedBlockEntry {
    pub block_index: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_block_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub second_block_token: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListChangedOutput {
    pub changed_blocks: Vec<ChangedBlockEntry>,
    pub expiry_time: f64,
    pub volume_size: i64,
    pub block_size: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// The snapshots `snapshot` descends from: its upload parents, and the snapshot its
/// volume was made from, with theirs.
async fn ancestors(conn: &mut Conn, snapshot: &Snapshot) -> Result<Vec<String>> {
    let mut found = Vec::new();
    let mut queue = vec![snapshot.clone()];
    while let Some(current) = queue.pop() {
        let mut parents = Vec::new();
        parents.extend(current.parent_snapshot_id.clone());
        parents.extend(crate::store::volumes::source_snapshot(conn, &current.volume_id).await?);
        for parent in parents {
            if found.contains(&parent) || found.len() > 1000 {
                continue;
            }
            found.push(parent.clone());
            if let Some(next) = snapshots::find_any(conn, &parent).await? {
                queue.push(next);
            }
        }
    }
    Ok(found)
}

/// EBS compares only snapshots of one lineage: one descends from the other, or both
/// were taken of the same volume.
async fn related(conn: &mut Conn, first: &Snapshot, second: &Snapshot) -> Result<bool> {
    if first.snapshot_id == second.snapshot_id
        || (first.volume_id == second.volume_id && first.volume_id != "vol-ffffffff")
    {
        return Ok(true);
    }
    Ok(ancestors(conn, second).await?.contains(&first.snapshot_id)
        || ancestors(conn, first).await?.contains(&second.snapshot_id))
}

pub async fn list_changed_blocks(
    ctx: &Ctx<'_>,
    second_id: &str,
    first_id: Option<&str>,
    list: ListInput<'_>,
) -> Result<ListChangedOutput> {
    let (start, limit) = list.range()?;
    let mut conn = ctx.app.store.read().await?;
    let second = readable(ctx, &mut conn, second_id).await?;
    if let Some(first_id) = first_id {
        let first = readable(ctx, &mut conn, first_id).await?;
        if !related(&mut conn, &first, &second).await? {
            return Err(EbsError::validation(
                "UNRELATED_SNAPSHOTS",
                format!("The snapshots '{first_id}' and '{second_id}' are not of the same lineage."),
            ));
        }
    }
    // Without a first snapshot every block of the second one counts as changed.
    let first_owner = first_id.unwrap_or("");
    let mut rows = blocks::changed(&mut conn, first_owner, second_id, start, limit + 1).await?;
    let next_token = next_page(&mut rows, limit, |(index, _, _)| *index);
    let expires_at = ctx.now + TOKEN_LIFETIME_MS;
    let token = |id: &str, index: i64, digest: &Option<Digest>| {
        digest.as_ref().map(|d| block::block_token(id, index, d, expires_at))
    };
    Ok(ListChangedOutput {
        changed_blocks: rows
            .iter()
            .map(|(index, first, second)| ChangedBlockEntry {
                block_index: *index,
                first_block_token: token(first_owner, *index, first),
                second_block_token: token(second_id, *index, second),
            })
            .collect(),
        expiry_time: epoch_seconds(expires_at),
        volume_size: second.volume_size,
        block_size: BLOCK_SIZE,
        next_token,
    })
}

/// A block's content and its base64 SHA-256.
pub struct BlockData {
    pub data: Vec<u8>,
    pub checksum: String,
}

pub async fn get_snapshot_block(
    ctx: &Ctx<'_>,
    snapshot_id: &str,
    block_index: &str,
    block_token: Option<&str>,
) -> Result<BlockData> {
    let block_index = parse_block_index(block_index)?;
    let token = block_token.ok_or_else(|| invalid("blockToken is required."))?;
    let mut conn = ctx.app.store.read().await?;
    readable(ctx, &mut conn, snapshot_id).await?;
    let digest = blocks::get(&mut conn, snapshot_id, block_index).await?;
    drop(conn);
    let invalid_token = || EbsError::validation("INVALID_BLOCK_TOKEN", "The block token is not valid.");
    let digest = digest.ok_or_else(invalid_token)?;
    if !block::token_matches(token, snapshot_id, block_index, &digest, ctx.now) {
        return Err(invalid_token());
    }
    let blobs = ctx.app.blobs.clone();
    let data = tokio::task::spawn_blocking(move || blobs.get(&digest)).await.map_err(|_| EbsError::internal())?;
    // The snapshot was deleted (and its blocks swept) since the lookup.
    let data = data.map_err(|err| match err.kind() {
        std::io::ErrorKind::NotFound => EbsError::snapshot_not_found(snapshot_id),
        std::io::ErrorKind::InvalidData => {
            tracing::error!(error = %err, snapshot_id, block_index, "damaged block refused");
            EbsError::damaged_block(snapshot_id, block_index)
        }
        _ => err.into(),
    })?;
    Ok(BlockData { data, checksum: block::checksum_base64(&digest) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A refusal of bad input: an EBS error answered with a 4xx, never a 5xx.
    fn assert_client_error(err: &EbsError) {
        assert!((400..500).contains(&err.status()), "{} answers {}: {}", err.kind, err.status(), err.message);
    }

    /// Header texts: mostly near-valid (numbers, the one algorithm), some arbitrary.
    fn header() -> impl Strategy<Value = Option<String>> {
        prop::option::of(prop_oneof![
            "-?[0-9]{1,22}",
            Just(BLOCK_SIZE.to_string()),
            Just("SHA256".to_string()),
            Just("LINEAR".to_string()),
            "[A-Za-z0-9+/=]{0,48}",
            "\\PC{0,12}",
        ])
    }

    fn block_data() -> impl Strategy<Value = bytes::Bytes> {
        prop_oneof![Just(0), Just(1), Just(BLOCK_SIZE - 1), Just(BLOCK_SIZE), Just(BLOCK_SIZE + 1)]
            .prop_map(|len| bytes::Bytes::from(vec![0u8; len]))
    }

    fn snapshot_id() -> impl Strategy<Value = String> {
        prop_oneof!["snap-[0-9a-f]{17}", "snap-[0-9a-f]{8}", "\\PC{0,20}"]
    }

    proptest! {
        // 2,000 cases each: about a second in all in a debug build.
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        #[test]
        fn put_block_headers_are_accepted_or_refused_with_a_4xx(
            snapshot_id in snapshot_id(),
            block_index in prop_oneof!["-?[0-9]{1,20}", "\\PC{0,8}"],
            data_length in header(),
            checksum in header(),
            checksum_algorithm in header(),
            progress in header(),
            data in block_data(),
        ) {
            let input = PutBlockInput {
                snapshot_id: &snapshot_id,
                block_index: &block_index,
                data_length: data_length.as_deref(),
                checksum: checksum.as_deref(),
                checksum_algorithm: checksum_algorithm.as_deref(),
                progress: progress.as_deref(),
                data,
            };
            match validate_block(&input) {
                Ok((index, progress)) => {
                    prop_assert!((0..=i64::from(i32::MAX)).contains(&index));
                    prop_assert!(progress.is_none_or(|p| (0..=100).contains(&p)));
                    prop_assert_eq!(input.data.len(), BLOCK_SIZE);
                    prop_assert_eq!(input.checksum_algorithm, Some("SHA256"));
                    prop_assert!(input.checksum.is_some());
                }
                Err(err) => assert_client_error(&err),
            }
        }

        #[test]
        fn complete_headers_are_accepted_or_refused_with_a_4xx(
            changed_blocks_count in header(),
            checksum in header(),
            checksum_algorithm in header(),
            aggregation_method in header(),
        ) {
            let input = CompleteInput {
                snapshot_id: "snap-0123456789abcdef0",
                changed_blocks_count: changed_blocks_count.as_deref(),
                checksum: checksum.as_deref(),
                checksum_algorithm: checksum_algorithm.as_deref(),
                aggregation_method: aggregation_method.as_deref(),
            };
            match validate_completion(&input) {
                Ok(count) => {
                    prop_assert_eq!(changed_blocks_count.and_then(|c| c.parse::<usize>().ok()), Some(count));
                }
                Err(err) => assert_client_error(&err),
            }
        }

        #[test]
        fn list_ranges_are_accepted_or_refused_with_a_4xx(
            page_token in header(),
            max_results in header(),
            starting_block_index in header(),
        ) {
            let input = ListInput {
                page_token: page_token.as_deref(),
                max_results: max_results.as_deref(),
                starting_block_index: starting_block_index.as_deref(),
            };
            match input.range() {
                Ok((start, limit)) => {
                    prop_assert!(start >= 0);
                    prop_assert!((100..=10_000).contains(&limit));
                }
                Err(err) => assert_client_error(&err),
            }
        }

        #[test]
        fn start_snapshot_bodies_are_accepted_or_refused_with_a_4xx(
            volume_size in prop::option::of(prop_oneof![any::<i64>(), -2i64..70_000]),
            timeout in prop::option::of(prop_oneof![any::<i64>(), 0i64..5000]),
            description in prop::option::of("\\PC{0,300}|[\\x00-\\x1f]{1,3}"),
            client_token in prop::option::of("\\PC{0,8}"),
            parent in prop::option::of(snapshot_id()),
            encrypted in prop::option::of(any::<bool>()),
            kms_key_arn in prop::option::of("\\PC{0,8}"),
            tags in prop::collection::vec(("\\PC{0,10}|aws:[a-z]{0,3}", "\\PC{0,10}"), 0..3),
        ) {
            let body = serde_json::json!({
                "VolumeSize": volume_size,
                "Timeout": timeout,
                "Description": description,
                "ClientToken": client_token,
                "ParentSnapshotId": parent,
                "Encrypted": encrypted,
                "KmsKeyArn": kms_key_arn,
                "Tags": tags.iter().map(|(k, v)| serde_json::json!({"Key": k, "Value": v})).collect::<Vec<_>>(),
            });
            let input: StartSnapshotInput = serde_json::from_value(body).expect("the model's shape");
            match validate_start(&input) {
                Ok((size, timeout, _)) => {
                    prop_assert!((1..=MAX_VOLUME_SIZE_GIB).contains(&size));
                    prop_assert!((10..=4320).contains(&timeout));
                }
                Err(err) => assert_client_error(&err),
            }
        }
    }
}
