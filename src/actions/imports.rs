//! ImportSnapshot, ImportImage, DescribeImportSnapshotTasks, DescribeImportImageTasks,
//! CancelImportTask. The work itself runs in `crate::import`.

use super::Ctx;
use crate::domain::import_task::{self, state, ImportTask, TaskDetail, TaskDisk, TaskKind};
use crate::domain::tags::{self as tag_rules, Tag};
use crate::ec2_err;
use crate::error::{Ec2Error, Result};
use crate::store::import_tasks::{self, TaskQuery};
use crate::store::tags;
use crate::wire::params::{Nested, Params};
use crate::wire::query::{dedup, parse_filters, parse_page, parse_tag_specs, write_next_token};
use crate::wire::xml::Xml;

/// Disks of one ImportImage: one per device name `/dev/sda1`, `/dev/sdb` ... `/dev/sdz`.
const MAX_DISKS: usize = 26;

fn invalid_parameter(message: impl Into<String>) -> Ec2Error {
    Ec2Error::new(crate::error::Code::InvalidParameter, message)
}

fn unknown_task(task_id: &str) -> Ec2Error {
    ec2_err!(InvalidConversionTaskId_Malformed, "The conversion task ID '{task_id}' is malformed or does not exist.")
}

/// One `DiskContainer`: a URL (`http(s)://`, `s3://`), a `UserBucket`, or (ImportImage)
/// an existing snapshot.
fn parse_disk(ctx: &Ctx<'_>, c: &Nested<'_>, formats: &[&str], allow_snapshot: bool) -> Result<TaskDisk> {
    let url = c.str("Url").map(str::to_string);
    let bucket = c.nested("UserBucket");
    let (s3_bucket, s3_key) = (bucket.str("S3Bucket").map(str::to_string), bucket.str("S3Key").map(str::to_string));
    let source_snapshot_id = c.str("SnapshotId").filter(|_| allow_snapshot).map(str::to_string);
    let sources =
        usize::from(url.is_some()) + usize::from(s3_bucket.is_some()) + usize::from(source_snapshot_id.is_some());
    if sources != 1 {
        return Err(invalid_parameter(format!(
            "{} must name exactly one of Url, UserBucket{}.",
            c.prefix(),
            if allow_snapshot { " or SnapshotId" } else { "" }
        )));
    }
    if s3_bucket.is_some() && s3_key.is_none() {
        return Err(invalid_parameter(format!("{}.UserBucket.S3Key is required with S3Bucket.", c.prefix())));
    }
    if let Some(url) = &url {
        let s3 = import_task::parse_s3_url(url).is_some();
        if !(url.starts_with("http://") || url.starts_with("https://") || s3) {
            return Err(invalid_parameter(format!(
                "The URL '{url}' is not valid: use an https:// URL or an s3://bucket/key URL."
            )));
        }
    }
    let reads_s3 = s3_bucket.is_some() || url.as_deref().is_some_and(|u| u.starts_with("s3://"));
    if reads_s3 && ctx.app.imports.s3.is_none() {
        return Err(invalid_parameter(
            "This ec2lite has no S3 endpoint to read s3:// disk images from: start it with --s3-endpoint URL \
             (or EC2LITE_S3_ENDPOINT), or give the disk image as an http(s):// URL.",
        ));
    }
    if let Some(id) = &source_snapshot_id {
        crate::domain::ids::check(crate::domain::ids::IdKind::Snapshot, id)?;
    }
    let format = c.str("Format").map(|f| f.to_ascii_uppercase());
    if let Some(f) = &format {
        if !formats.contains(&f.as_str()) {
            return Err(invalid_parameter(format!(
                "The disk image format '{f}' is not valid; use one of {}.",
                formats.join(", ")
            )));
        }
    }
    Ok(TaskDisk {
        url,
        s3_bucket,
        s3_key,
        format,
        description: c.str("Description").map(str::to_string),
        device_name: c.str("DeviceName").map(str::to_string),
        source_snapshot_id,
        ..Default::default()
    })
}

/// `Encrypted` and the key: the account's default EBS key unless `KmsKeyId` names one.
fn parse_encryption(ctx: &Ctx<'_>, p: &Params) -> Result<(bool, Option<String>)> {
    let encrypted = p.bool("Encrypted")?.unwrap_or(false);
    let kms_key_id = p.str("KmsKeyId").map(str::to_string);
    if kms_key_id.is_some() && !encrypted {
        return Err(ec2_err!(InvalidParameterDependency, "KmsKeyId requires Encrypted to be true."));
    }
    Ok((
        encrypted,
        kms_key_id
            .or_else(|| encrypted.then(|| crate::domain::volume::default_kms_key(ctx.scope.account, ctx.scope.region))),
    ))
}

fn one_of(p: &Params, name: &str, allowed: &[&str]) -> Result<Option<String>> {
    match p.str(name) {
        None => Ok(None),
        Some(v) if allowed.contains(&v) => Ok(Some(v.to_string())),
        Some(v) => Err(Ec2Error::invalid_value(name, v)),
    }
}

/// Stores a new task (or finds the one with the same client token) and queues it.
async fn start(
    ctx: &Ctx<'_>,
    p: &Params,
    kind: TaskKind,
    detail: TaskDetail,
    resource_type: &str,
) -> Result<ImportTask> {
    let tag_specs = parse_tag_specs(p)?;
    let tags: Vec<Tag> = tag_rules::for_type(&tag_specs, &[resource_type], resource_type)?;
    let client_token = p.str("ClientToken").map(str::to_string);
    let fingerprint = p.fingerprint(&["ClientToken", "DryRun"]);
    ctx.check_dry_run()?;
    let mut tx = ctx.app.store.write().await?;
    if let Some(token) = &client_token {
        if let Some(task) =
            import_tasks::find_by_client_token(&mut tx, ctx.scope.account, ctx.scope.region, kind, token).await?
        {
            if task.request_fingerprint.as_deref() != Some(fingerprint.as_str()) {
                return Err(ec2_err!(
                    IdempotentParameterMismatch,
                    "The client token '{token}' was already used with a different request."
                ));
            }
            return Ok(task);
        }
    }
    let (message, progress) = kind.steps()[0];
    let task = ImportTask {
        task_id: import_task::new_task_id(kind),
        account_id: ctx.scope.account.to_string(),
        region: ctx.scope.region.to_string(),
        kind,
        state: state::ACTIVE.to_string(),
        status_message: Some(message.to_string()),
        progress: Some(progress),
        description: p.str("Description").map(str::to_string),
        detail,
        client_token,
        request_fingerprint: Some(fingerprint),
        created_at: ctx.now,
        updated_at: ctx.now,
        tags: tags.iter().map(|t| (t.key.clone(), t.value.clone())).collect(),
    };
    import_tasks::insert(&mut tx, &task).await?;
    tags::upsert(&mut tx, ctx.scope.account, ctx.scope.region, &task.task_id, resource_type, &tags, ctx.now).await?;
    tx.commit().await?;
    let _ = ctx.app.imports.queue.send(task.task_id.clone());
    Ok(task)
}

/// Read by the handler until this action has a typed input.
pub type ImportSnapshotInput = Params;

pub async fn import_snapshot(ctx: &Ctx<'_>, p: ImportSnapshotInput) -> Result<Xml> {
    let p = &p;
    let container = p.nested("DiskContainer");
    let disk = parse_disk(ctx, &container, &["VHD", "VHDX", "VMDK", "RAW"], false)?;
    let (encrypted, kms_key_id) = parse_encryption(ctx, p)?;
    let detail = TaskDetail { disks: vec![disk], encrypted, kms_key_id, ..Default::default() };
    let task = start(ctx, p, TaskKind::Snapshot, detail, "import-snapshot-task").await?;
    let mut x = Xml::new();
    write_snapshot_task(&mut x, &task);
    Ok(x)
}

/// Read by the handler until this action has a typed input.
pub type ImportImageInput = Params;

pub async fn import_image(ctx: &Ctx<'_>, p: ImportImageInput) -> Result<Xml> {
    let p = &p;
    let containers = p.structs("DiskContainer")?;
    if containers.is_empty() {
        return Err(Ec2Error::missing_parameter("DiskContainer"));
    }
    if containers.len() > MAX_DISKS {
        return Err(invalid_parameter(format!("An image can be imported from at most {MAX_DISKS} disks.")));
    }
    let disks = containers
        .iter()
        .map(|c| parse_disk(ctx, c, &["OVA", "VHD", "VHDX", "VMDK", "RAW"], true))
        .collect::<Result<Vec<_>>>()?;
    let (encrypted, kms_key_id) = parse_encryption(ctx, p)?;
    let license_configuration_arns = p
        .structs("LicenseSpecifications")?
        .iter()
        .filter_map(|l| l.str("LicenseConfigurationArn").map(str::to_string))
        .collect();
    let detail = TaskDetail {
        disks,
        encrypted,
        kms_key_id,
        architecture: one_of(p, "Architecture", &["i386", "x86_64", "arm64"])?,
        platform: one_of(p, "Platform", &["Windows", "Linux"])?,
        license_type: one_of(p, "LicenseType", &["AWS", "BYOL"])?,
        hypervisor: one_of(p, "Hypervisor", &["xen"])?,
        boot_mode: one_of(p, "BootMode", &["legacy-bios", "uefi", "uefi-preferred"])?,
        usage_operation: p.str("UsageOperation").map(str::to_string),
        license_configuration_arns,
        image_id: None,
    };
    let task = start(ctx, p, TaskKind::Image, detail, "import-image-task").await?;
    let mut x = Xml::new();
    write_image_task_body(&mut x, &task);
    Ok(x)
}

async fn describe(ctx: &Ctx<'_>, p: &Params, kind: TaskKind) -> Result<(Vec<ImportTask>, Option<String>)> {
    let task_ids = dedup(p.list("ImportTaskId")?);
    if let Some(bad) = task_ids.iter().find(|id| !import_task::is_task_id(id)) {
        return Err(unknown_task(bad));
    }
    let mut states = Vec::new();
    for filter in parse_filters(p, "Filters")? {
        if filter.name != "task-state" {
            return Err(ec2_err!(InvalidParameterValue, "The filter '{}' is invalid", filter.name));
        }
        states.extend(filter.values);
    }
    let page = parse_page(p, false, "importTaskId", 1, 1000)?;
    ctx.check_dry_run()?;
    let limit = page.limit.unwrap_or(1000) as i64;
    let query = TaskQuery {
        account: ctx.scope.account,
        region: ctx.scope.region,
        kind: Some(kind),
        task_ids: &task_ids,
        states: &states,
        after: page.after,
        limit: limit + 1,
        now: ctx.now,
    };
    let mut tasks = import_tasks::describe(&mut *ctx.app.store.read().await?, &query).await?;
    if let Some(missing) = task_ids.iter().find(|id| states.is_empty() && !tasks.iter().any(|t| &t.task_id == *id)) {
        return Err(unknown_task(missing));
    }
    let next = (tasks.len() as i64 > limit).then(|| {
        tasks.truncate(limit as usize);
        tasks.last().map(|t| t.task_id.clone()).unwrap_or_default()
    });
    Ok((tasks, next))
}

/// Read by the handler until this action has a typed input.
pub type DescribeImportSnapshotTasksInput = Params;

pub async fn describe_import_snapshot_tasks(ctx: &Ctx<'_>, p: DescribeImportSnapshotTasksInput) -> Result<Xml> {
    let p = &p;
    let (tasks, next) = describe(ctx, p, TaskKind::Snapshot).await?;
    let mut x = Xml::new();
    x.list("importSnapshotTaskSet", &tasks, write_snapshot_task);
    write_next_token(&mut x, next);
    Ok(x)
}

/// Read by the handler until this action has a typed input.
pub type DescribeImportImageTasksInput = Params;

pub async fn describe_import_image_tasks(ctx: &Ctx<'_>, p: DescribeImportImageTasksInput) -> Result<Xml> {
    let p = &p;
    let (tasks, next) = describe(ctx, p, TaskKind::Image).await?;
    let mut x = Xml::new();
    x.list("importImageTaskSet", &tasks, write_image_task_body);
    write_next_token(&mut x, next);
    Ok(x)
}

/// Read by the handler until this action has a typed input.
pub type CancelImportTaskInput = Params;

pub async fn cancel_import_task(ctx: &Ctx<'_>, p: CancelImportTaskInput) -> Result<Xml> {
    let p = &p;
    let task_id = p.required("ImportTaskId")?;
    if !import_task::is_task_id(task_id) {
        return Err(unknown_task(task_id));
    }
    let reason = p.str("CancelReason");
    let mut tx = ctx.app.store.write().await?;
    let ids = [task_id.to_string()];
    let query = TaskQuery {
        account: ctx.scope.account,
        region: ctx.scope.region,
        kind: None,
        task_ids: &ids,
        states: &[],
        after: None,
        limit: 1,
        now: ctx.now,
    };
    let task = import_tasks::describe(&mut tx, &query).await?.pop().ok_or_else(|| unknown_task(task_id))?;
    if task.state != state::ACTIVE {
        return Err(ec2_err!(
            InvalidParameterValue,
            "The import task '{task_id}' is {} and can no longer be cancelled.",
            task.state
        ));
    }
    ctx.check_dry_run()?;
    import_tasks::cancel(&mut tx, task_id, Some(reason.unwrap_or("User initiated task cancelation")), ctx.now).await?;
    tx.commit().await?;
    let mut x = Xml::new();
    x.text("importTaskId", task_id).text("previousState", &task.state).text("state", state::DELETING);
    Ok(x)
}

fn write_user_bucket(x: &mut Xml, disk: &TaskDisk) {
    if let Some((bucket, key)) = disk.s3_location() {
        x.open("userBucket").text("s3Bucket", bucket).text("s3Key", key).close("userBucket");
    }
}

/// Progress and status message show only while a task is open.
fn open_fields(task: &ImportTask) -> (Option<String>, Option<&str>) {
    let progress = task.is_open().then(|| task.progress.map(|p| p.to_string())).flatten();
    let message = if task.state == state::COMPLETED { None } else { task.status_message.as_deref() };
    (progress, message)
}

fn write_snapshot_task(x: &mut Xml, task: &ImportTask) {
    let disk = task.detail.disks.first().cloned().unwrap_or_default();
    let (progress, message) = open_fields(task);
    x.opt_text("description", task.description.as_deref());
    x.text("importTaskId", &task.task_id);
    x.open("snapshotTaskDetail");
    x.opt_text("description", task.description.as_deref());
    x.num("diskImageSize", format!("{:.1}", disk.disk_image_size));
    x.bool("encrypted", task.detail.encrypted);
    x.opt_text("format", disk.format.as_deref());
    x.opt_text("kmsKeyId", task.detail.kms_key_id.as_deref());
    x.opt_text("progress", progress.as_deref());
    x.opt_text("snapshotId", disk.snapshot_id.as_deref());
    x.text("status", &task.state);
    x.opt_text("statusMessage", message);
    x.opt_text("url", disk.url.as_deref());
    write_user_bucket(x, &disk);
    x.close("snapshotTaskDetail");
    x.tag_set(&task.tags);
}

fn write_image_task_body(x: &mut Xml, task: &ImportTask) {
    let detail = &task.detail;
    let (progress, message) = open_fields(task);
    // A completed task reports what the image got, defaults included.
    let done = task.state == state::COMPLETED;
    let shown = |asked: Option<&'static str>, value: Option<&str>| {
        value.map(str::to_string).or(asked.filter(|_| done).map(str::to_string))
    };
    x.opt_text("architecture", shown(Some("x86_64"), detail.architecture.as_deref()).as_deref());
    x.opt_text("description", task.description.as_deref());
    x.bool("encrypted", detail.encrypted);
    x.opt_text("hypervisor", detail.hypervisor.as_deref());
    x.opt_text("imageId", detail.image_id.as_deref());
    x.text("importTaskId", &task.task_id);
    x.opt_text("kmsKeyId", detail.kms_key_id.as_deref());
    x.opt_text("licenseType", shown(Some("BYOL"), detail.license_type.as_deref()).as_deref());
    x.opt_text("platform", shown(Some("Linux"), detail.platform.as_deref()).as_deref());
    x.opt_text("progress", progress.as_deref());
    x.list("snapshotDetailSet", &detail.disks, |x, disk| {
        x.opt_text("description", disk.description.as_deref());
        x.opt_text("deviceName", disk.device_name.as_deref());
        x.num("diskImageSize", format!("{:.1}", disk.disk_image_size));
        x.opt_text("format", disk.format.as_deref());
        x.opt_text("snapshotId", disk.snapshot_id.as_deref());
        x.text("status", &task.state);
        x.opt_text("url", disk.url.as_deref());
        write_user_bucket(x, disk);
    });
    x.text("status", &task.state);
    x.opt_text("statusMessage", message);
    x.list("licenseSpecifications", &detail.license_configuration_arns, |x, arn| {
        x.text("licenseConfigurationArn", arn);
    });
    x.tag_set(&task.tags);
    x.opt_text("usageOperation", detail.usage_operation.as_deref());
    x.opt_text("bootMode", detail.boot_mode.as_deref());
}
