//! The VM Import worker: runs ImportSnapshot / ImportImage tasks in the background.
//!
//! A task fetches each disk image (an `http(s)://` URL, or `s3://` from the configured
//! S3-compatible endpoint), tells its format from its headers, converts VMDK / VHD /
//! VHDX to raw with `qemu-img` (QEMU's block layer is the maintained reader of all
//! three), and stores the raw disk as content-addressed blocks. The blocks are staged
//! under the task id in `block_map`, so a crash leaves nothing half-visible: the
//! snapshot (and image) appear in one transaction at the end. Open tasks restart from
//! the beginning when the server does.

use crate::domain::lifecycle::{ImageState, ImportTaskState, SnapshotState};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

use crate::app::App;
use crate::domain::clock::{self, iso};
use crate::domain::disk_image::{self, failure, Detected, DiskFormat};
use crate::domain::ids::{self, IdKind};
use crate::domain::image::{BlockDeviceMapping, EbsBlockDevice, Image};
use crate::domain::import_task::{ImportTask, TaskDetail, TaskDisk, TaskKind};
use crate::domain::snapshot::Snapshot;
use crate::error::Ec2Error;
use crate::store::{blocks, images, import_tasks, snapshots};
use crate::workers::Stop;

/// Import tasks that run at once.
const CONCURRENT_TASKS: usize = 2;

/// How often a long download or conversion looks whether its task was cancelled.
const CANCEL_CHECK: Duration = Duration::from_secs(1);

/// The largest disk an import takes (EC2: 16 TiB for imported volumes).
const MAX_DISK_BYTES: u64 = 16 << 40;

const GIB: u64 = 1 << 30;

/// Why a task stopped short: EC2's message for the user, or a fault of ours.
enum Halt {
    Failed(String),
    Cancelled,
    Internal(Ec2Error),
}

impl From<Ec2Error> for Halt {
    fn from(err: Ec2Error) -> Self {
        Halt::Internal(err)
    }
}

impl From<sqlx::Error> for Halt {
    fn from(err: sqlx::Error) -> Self {
        Halt::Internal(err.into())
    }
}

impl From<std::io::Error> for Halt {
    fn from(err: std::io::Error) -> Self {
        tracing::error!(error = %err, "import scratch space");
        Halt::Internal(Ec2Error::internal())
    }
}

/// Runs the task ids sent on the queue, a few at a time (downloads and conversions
/// are heavy); the others wait in `pending`. At shutdown running tasks are dropped
/// (their qemu-img killed): open tasks start over at the next start.
pub async fn run_queue(app: Arc<App>, mut queue: mpsc::UnboundedReceiver<String>, mut stop: Stop) {
    let slots = Arc::new(tokio::sync::Semaphore::new(CONCURRENT_TASKS));
    let mut running = tokio::task::JoinSet::new();
    loop {
        let task_id = tokio::select! {
            task_id = queue.recv() => task_id,
            () = stop.requested() => None,
        };
        let Some(task_id) = task_id else { break };
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot,
            () = stop.requested() => break,
        };
        let Ok(slot) = slot else { break };
        let app = app.clone();
        running.spawn(async move {
            run_task(app, task_id).await;
            drop(slot);
        });
        while running.try_join_next().is_some() {}
    }
    running.shutdown().await;
}

/// Queues the tasks a previous run left open.
pub async fn resume_open_tasks(app: &App) -> Result<(), Ec2Error> {
    let ids = import_tasks::open_task_ids(&mut *app.store.read().await?).await?;
    for id in ids {
        let _ = app.imports.queue.send(id);
    }
    Ok(())
}

async fn run_task(app: Arc<App>, task_id: String) {
    let Ok(Some(task)) = load(&app, &task_id).await else { return };
    let scratch = app.imports.work_dir.join(&task_id);
    // What the task learns of its disks (sizes, formats) is kept even if it fails.
    let mut detail = task.detail.clone();
    // A cancellation stops the work wherever it is (a dropped qemu-img is killed).
    let outcome = tokio::select! {
        outcome = process(&app, &task, &mut detail, &scratch) => outcome,
        () = cancelled(&app, &task_id) => Err(Halt::Cancelled),
    };
    let _ = tokio::fs::remove_dir_all(&scratch).await;
    let result = match outcome {
        Ok(()) => Ok(()),
        Err(Halt::Cancelled) => end(&app, &task, &detail, task.status_message.as_deref()).await,
        Err(Halt::Failed(message)) => end(&app, &task, &detail, Some(&message)).await,
        Err(Halt::Internal(err)) => {
            tracing::error!(task = %task_id, error = %err, "import task failed");
            end(&app, &task, &detail, Some("ServerError: An internal error has occurred.")).await
        }
    };
    if let Err(err) = result {
        tracing::error!(task = %task_id, error = %err, "import task could not be closed");
    }
}

/// Returns once the task is no longer active (cancelled, or gone after a reset).
async fn cancelled(app: &App, task_id: &str) {
    loop {
        tokio::time::sleep(CANCEL_CHECK).await;
        if let Ok(task) = load(app, task_id).await {
            if task.is_none_or(|t| t.state != ImportTaskState::Active) {
                return;
            }
        }
    }
}

async fn load(app: &App, task_id: &str) -> Result<Option<ImportTask>, Ec2Error> {
    import_tasks::find(&mut *app.store.read().await?, task_id).await
}

/// Ends a task that did not complete (`deleted`): its staged blocks go, the reason stays.
async fn end(app: &App, task: &ImportTask, detail: &TaskDetail, message: Option<&str>) -> Result<(), Ec2Error> {
    let mut tx = app.store.write().await?;
    blocks::delete_staged(&mut tx, &task.task_id).await?;
    let current = import_tasks::find(&mut tx, &task.task_id).await?;
    // A cancellation keeps its own reason.
    let message = match &current {
        Some(t) if t.state == ImportTaskState::Deleting => t.status_message.clone(),
        _ => message.map(str::to_string),
    };
    import_tasks::finish(&mut tx, &task.task_id, ImportTaskState::Deleted, message.as_deref(), detail, clock::now_ms())
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Reports the task's next step; stops if it was cancelled meanwhile.
async fn step(app: &App, task: &ImportTask, index: usize) -> Result<(), Halt> {
    let steps = task.kind.steps();
    let (message, progress) = steps[index.min(steps.len() - 1)];
    if app.imports.step_ms > 0 {
        tokio::time::sleep(Duration::from_millis(app.imports.step_ms)).await;
    }
    let mut tx = app.store.write().await?;
    let active = import_tasks::advance(&mut tx, &task.task_id, message, progress, clock::now_ms()).await?;
    tx.commit().await?;
    if active {
        Ok(())
    } else {
        Err(Halt::Cancelled)
    }
}

async fn process(app: &App, task: &ImportTask, detail: &mut TaskDetail, scratch: &Path) -> Result<(), Halt> {
    if task.state != ImportTaskState::Active {
        return Err(Halt::Cancelled);
    }
    tokio::fs::create_dir_all(scratch).await?;
    // Blocks staged by an earlier, interrupted run of this task.
    let mut tx = app.store.write().await?;
    blocks::delete_staged(&mut tx, &task.task_id).await?;
    tx.commit().await?;
    let staging: Vec<String> = (0..detail.disks.len()).map(|i| format!("{}/{i}", task.task_id)).collect();
    let mut sizes = Vec::new();
    for (index, disk) in detail.disks.iter_mut().enumerate() {
        step(app, task, 1).await?;
        let size = if let Some(snapshot_id) = disk.source_snapshot_id.clone() {
            copy_snapshot_disk(app, task, &snapshot_id, &staging[index]).await?
        } else {
            let raw = fetch_and_convert(app, disk, scratch, index).await?;
            if task.kind == TaskKind::Image && index == 0 {
                check_boot_sector(&raw).await?;
            }
            step(app, task, 2).await?;
            store_blocks(app, &raw, &staging[index]).await?
        };
        sizes.push(size);
    }
    for later in 3..task.kind.steps().len() {
        step(app, task, later).await?;
    }
    complete(app, task, detail, &staging, &sizes).await
}

/// A disk given as an existing snapshot (ImportImage `DiskContainer.N.SnapshotId`).
async fn copy_snapshot_disk(app: &App, task: &ImportTask, snapshot_id: &str, staging: &str) -> Result<u64, Halt> {
    let mut tx = app.store.write().await?;
    let snapshot = snapshots::find_visible(&mut tx, &task.account_id, &task.region, snapshot_id).await?;
    let Some(snapshot) = snapshot.filter(|s| s.settled(clock::now_ms()).state == SnapshotState::Completed) else {
        return Err(Halt::Failed(format!(
            "ClientError: The snapshot {snapshot_id} does not exist or is not completed."
        )));
    };
    blocks::copy(&mut tx, snapshot_id, staging).await?;
    tx.commit().await?;
    Ok(snapshot.volume_size as u64 * GIB)
}

/// Downloads one disk image and makes it a raw disk file; fills in the disk's size and
/// detected format.
async fn fetch_and_convert(app: &App, disk: &mut TaskDisk, scratch: &Path, index: usize) -> Result<PathBuf, Halt> {
    // OVA archives (ImportImage) are not unpacked by ec2lite.
    if disk.format.as_deref() == Some("OVA") {
        return Err(Halt::Failed(failure::UNSUPPORTED_FORMAT.to_string()));
    }
    let source = scratch.join(format!("disk{index}.source"));
    let size = download(app, disk, &source).await?;
    disk.disk_image_size = size as f64;
    if size == 0 {
        return Err(Halt::Failed(failure::EMPTY_DISK.to_string()));
    }
    let format = match detect(&source, size).await? {
        Detected::Disk(format) => format,
        Detected::UnsupportedVmdk => return Err(Halt::Failed(failure::UNSUPPORTED_VMDK.to_string())),
        Detected::Unsupported(_) => return Err(Halt::Failed(failure::UNSUPPORTED_FORMAT.to_string())),
    };
    // A format named in the request must be the one the file has.
    if disk.format.as_deref().and_then(DiskFormat::parse).is_some_and(|asked| asked != format) {
        return Err(Halt::Failed(failure::UNSUPPORTED_FORMAT.to_string()));
    }
    disk.format = Some(format.name().to_string());
    if format == DiskFormat::Raw {
        return Ok(source);
    }
    let raw = scratch.join(format!("disk{index}.raw"));
    convert(format, &source, &raw).await?;
    tokio::fs::remove_file(&source).await?;
    Ok(raw)
}

async fn download(app: &App, disk: &TaskDisk, dest: &Path) -> Result<u64, Halt> {
    let request = match (&disk.url, disk.s3_location()) {
        (_, Some((bucket, key))) => s3_request(app, bucket, key)?,
        (Some(url), None) => http(app)?.get(url),
        (None, None) => return Err(Halt::Failed(failure::inaccessible("400 Bad Request"))),
    };
    let mut response = request.send().await.map_err(|err| {
        tracing::info!(error = %err, "import download failed");
        Halt::Failed(failure::inaccessible("connection failed"))
    })?;
    let status = response.status();
    if !status.is_success() {
        let reason = format!("{} {}", status.as_u16(), status.canonical_reason().unwrap_or(""));
        return Err(Halt::Failed(failure::inaccessible(reason.trim())));
    }
    let mut file = tokio::fs::File::create(dest).await?;
    let mut size = 0u64;
    loop {
        let chunk = response.chunk().await.map_err(|err| {
            tracing::info!(error = %err, "import download interrupted");
            Halt::Failed(failure::inaccessible("connection interrupted"))
        })?;
        let Some(chunk) = chunk else { break };
        size += chunk.len() as u64;
        if size > MAX_DISK_BYTES {
            return Err(Halt::Failed(failure::TOO_LARGE.to_string()));
        }
        file.write_all(&chunk).await?;
    }
    file.flush().await?;
    Ok(size)
}

fn http(app: &App) -> Result<&reqwest::Client, Halt> {
    if let Some(client) = app.imports.http.get() {
        return Ok(client);
    }
    // A source that stops sending for a minute fails the task (EC2's own limit is unknown).
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .read_timeout(Duration::from_secs(60))
        .build()
        .map_err(|err| {
            tracing::error!(error = %err, "HTTP client for imports");
            Halt::Internal(Ec2Error::internal())
        })?;
    Ok(app.imports.http.get_or_init(|| client))
}

/// A SigV4-signed GET of `bucket/key` (path style) from the configured endpoint.
fn s3_request(app: &App, bucket: &str, key: &str) -> Result<reqwest::RequestBuilder, Halt> {
    use aws_sigv4::http_request::{sign, SignableBody, SignableRequest};
    use aws_sigv4::sign::v4;

    let Some(s3) = &app.imports.s3 else {
        return Err(Halt::Failed(failure::inaccessible("no S3 endpoint is configured (--s3-endpoint)")));
    };
    let url = format!("{}/{}/{}", s3.endpoint.trim_end_matches('/'), s3_encode(bucket), s3_encode(key));
    let identity =
        aws_credential_types::Credentials::new(&s3.access_key_id, &s3.secret_access_key, None, None, "ec2lite-s3")
            .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(&s3.region)
        .name("s3")
        .time(SystemTime::now())
        .settings(s3_settings())
        .build()
        .map_err(|_| Halt::Internal(Ec2Error::internal()))?
        .into();
    let headers = [("x-amz-content-sha256", "UNSIGNED-PAYLOAD")];
    let signable = SignableRequest::new("GET", &url, headers.into_iter(), SignableBody::UnsignedPayload)
        .map_err(|_| Halt::Failed(failure::inaccessible("400 Bad Request")))?;
    let (instructions, _) = sign(signable, &params).map_err(|_| Halt::Internal(Ec2Error::internal()))?.into_parts();
    let mut request = http(app)?.get(&url).header("x-amz-content-sha256", "UNSIGNED-PAYLOAD");
    for (name, value) in instructions.headers() {
        request = request.header(name, value);
    }
    Ok(request)
}

/// S3 signs the path as sent, encoded once and not normalised.
fn s3_settings() -> aws_sigv4::http_request::SigningSettings {
    use aws_sigv4::http_request::{PercentEncodingMode, SigningSettings, UriPathNormalizationMode};
    let mut settings = SigningSettings::default();
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    settings
}

/// S3's UriEncode of a path: unreserved characters and `/` stay, the rest is %XX.
fn s3_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => out.push(byte as char),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

async fn detect(path: &Path, size: u64) -> Result<Detected, Halt> {
    let path = path.to_path_buf();
    let detected = tokio::task::spawn_blocking(move || -> std::io::Result<Detected> {
        use std::io::{Read, Seek, SeekFrom};
        let mut file = std::fs::File::open(path)?;
        let mut head = vec![0u8; disk_image::HEAD_BYTES.min(size as usize)];
        file.read_exact(&mut head)?;
        let mut tail = vec![0u8; 512.min(size as usize)];
        file.seek(SeekFrom::Start(size - tail.len() as u64))?;
        file.read_exact(&mut tail)?;
        Ok(disk_image::detect(&head, &tail))
    })
    .await
    .map_err(|_| Halt::Internal(Ec2Error::internal()))??;
    Ok(detected)
}

async fn convert(format: DiskFormat, source: &Path, raw: &Path) -> Result<(), Halt> {
    // Named through qemu's JSON syntax with `"backing": null`: a disk that names a parent
    // file (VMDK parentFileNameHint, differencing VHD) must not make the server read it.
    let source = serde_json::json!({
        "driver": format.qemu_name(),
        "file": { "driver": "file", "filename": source },
        "backing": null,
    });
    let output = tokio::process::Command::new("qemu-img")
        .args(["convert", "-O", "raw"])
        .arg(format!("json:{source}"))
        .arg(raw)
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|err| {
            tracing::error!(error = %err, "qemu-img (from qemu-utils) is needed to import VMDK, VHD and VHDX disks");
            Halt::Internal(Ec2Error::internal())
        })?;
    if output.status.success() {
        Ok(())
    } else {
        Err(Halt::Failed(failure::corrupt(format, &String::from_utf8_lossy(&output.stderr))))
    }
}

async fn check_boot_sector(raw: &Path) -> Result<(), Halt> {
    let mut first = vec![0u8; 512];
    let mut file = tokio::fs::File::open(raw).await?;
    use tokio::io::AsyncReadExt;
    let read = file.read(&mut first).await?;
    if read == 512 && disk_image::has_boot_sector(&first) {
        Ok(())
    } else {
        Err(Halt::Failed(failure::UNKNOWN_OS.to_string()))
    }
}

/// Cuts a raw disk into blocks, stores the ones with data and stages their rows under
/// `staging`. Returns the disk's size in bytes.
async fn store_blocks(app: &App, raw: &Path, staging: &str) -> Result<u64, Halt> {
    let size = tokio::fs::metadata(raw).await?.len();
    if size > MAX_DISK_BYTES {
        return Err(Halt::Failed(failure::TOO_LARGE.to_string()));
    }
    super::raw_disk::store(&app.store, &app.blobs, raw, staging).await?;
    Ok(size)
}

/// Makes the snapshots (and the image) of a task, in one transaction with its completion.
async fn complete(
    app: &App,
    task: &ImportTask,
    detail: &mut TaskDetail,
    staging: &[String],
    sizes: &[u64],
) -> Result<(), Halt> {
    let now = clock::now_ms();
    let mut tx = app.store.write().await?;
    let current = import_tasks::find(&mut tx, &task.task_id).await?;
    if current.is_none_or(|t| t.state != ImportTaskState::Active) {
        return Err(Halt::Cancelled);
    }
    for (index, disk) in detail.disks.iter_mut().enumerate() {
        let snapshot = Snapshot {
            snapshot_id: ids::new_id(IdKind::Snapshot),
            owner_id: task.account_id.clone(),
            region: task.region.clone(),
            volume_id: "vol-ffffffff".to_string(),
            volume_size: (sizes[index].div_ceil(GIB) as i64).max(1),
            description: format!("Created by AWS-VMImport service for {}", task.task_id),
            encrypted: detail.encrypted,
            kms_key_id: detail.kms_key_id.clone(),
            state: SnapshotState::Completed,
            start_time: task.created_at,
            completion_time: Some(now),
            ..Default::default()
        };
        snapshots::insert(&mut tx, &snapshot, now).await?;
        blocks::copy(&mut tx, &staging[index], &snapshot.snapshot_id).await?;
        blocks::delete_all(&mut tx, &staging[index]).await?;
        disk.snapshot_id = Some(snapshot.snapshot_id);
        if task.kind == TaskKind::Image {
            disk.device_name.get_or_insert_with(|| device_name(index));
        }
    }
    if task.kind == TaskKind::Image {
        let image = imported_image(task, detail, sizes, now);
        images::insert(&mut tx, &image, now).await?;
        detail.image_id = Some(image.image_id);
    }
    import_tasks::finish(&mut tx, &task.task_id, ImportTaskState::Completed, None, detail, now).await?;
    tx.commit().await?;
    Ok(())
}

/// `/dev/sda1` for the root disk, then `/dev/sdb` ... (ImportImage takes at most 26 disks).
fn device_name(index: usize) -> String {
    match index {
        0 => "/dev/sda1".to_string(),
        n => format!("/dev/sd{}", char::from(b'a' + (n.min(25) as u8))),
    }
}

/// The AMI an ImportImage task makes: HVM, EBS-backed, its first disk the root.
fn imported_image(task: &ImportTask, detail: &TaskDetail, sizes: &[u64], now: i64) -> Image {
    let windows = detail.platform.as_deref() == Some("Windows");
    let platform_name = if windows { "Windows" } else { "Linux" };
    let mappings = detail
        .disks
        .iter()
        .zip(sizes)
        .map(|(disk, size)| BlockDeviceMapping {
            device_name: disk.device_name.clone().unwrap_or_default(),
            ebs: Some(EbsBlockDevice {
                snapshot_id: disk.snapshot_id.clone(),
                volume_size: Some((size.div_ceil(GIB) as i64).max(1)),
                volume_type: Some("gp2".to_string()),
                delete_on_termination: Some(true),
                encrypted: Some(detail.encrypted),
                ..Default::default()
            }),
            ..Default::default()
        })
        .collect();
    Image {
        image_id: ids::new_id(IdKind::Image),
        owner_id: task.account_id.clone(),
        region: task.region.clone(),
        name: task.task_id.clone(),
        description: Some(
            task.description
                .clone()
                .unwrap_or_else(|| format!("AWS-VMImport service: {platform_name} - Other {platform_name}")),
        ),
        image_location: format!("{}/{}", task.account_id, task.task_id),
        state: ImageState::Available,
        architecture: detail.architecture.clone().unwrap_or_else(|| "x86_64".to_string()),
        image_type: "machine".to_string(),
        platform: windows.then(|| "windows".to_string()),
        platform_details: if windows { "Windows" } else { "Linux/UNIX" }.to_string(),
        usage_operation: if windows { "RunInstances:0002" } else { "RunInstances" }.to_string(),
        root_device_type: "ebs".to_string(),
        root_device_name: detail.disks.first().and_then(|d| d.device_name.clone()),
        virtualization_type: "hvm".to_string(),
        hypervisor: "xen".to_string(),
        ena_support: Some(true),
        boot_mode: detail.boot_mode.clone(),
        deregistration_protection: "disabled".to_string(),
        creation_date: iso(now),
        block_device_mappings: mappings,
        ..Default::default()
    }
}
