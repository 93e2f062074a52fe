//! ImportSnapshot, ImportImage, DescribeImportSnapshotTasks, DescribeImportImageTasks,
//! CancelImportTask. The work itself runs in `crate::import`.

use super::{Ctx, FromParams};
use crate::domain::ids::{self, IdKind};
use crate::domain::import_task::{self, ImportTask, TaskDetail, TaskDisk, TaskKind};
use crate::domain::lifecycle::ImportTaskState;
use crate::domain::tags::{self as tag_rules, Tag};
use crate::domain::volume::default_kms_key;
use crate::ec2_err;
use crate::error::{Code, Ec2Error, Result};
use crate::store::filters::Page;
use crate::store::import_tasks::{self, TaskQuery};
use crate::store::tags;
use crate::wire::params::{Nested, Params};
use crate::wire::query::{dedup, parse_filters, parse_page, parse_tag_specs, write_next_token};
use crate::wire::shapes::import_task::{write_import_image_task, write_import_snapshot_task};
use crate::wire::xml::Xml;

/// Disks of one ImportImage: one per device name `/dev/sda1`, `/dev/sdb` ... `/dev/sdz`.
const MAX_DISKS: usize = 26;

const SNAPSHOT_FORMATS: &[&str] = &["VHD", "VHDX", "VMDK", "RAW"];
const IMAGE_FORMATS: &[&str] = &["OVA", "VHD", "VHDX", "VMDK", "RAW"];

fn invalid_parameter(message: impl Into<String>) -> Ec2Error {
    Ec2Error::new(Code::InvalidParameter, message)
}

fn unknown_task(task_id: &str) -> Ec2Error {
    ec2_err!(InvalidConversionTaskId_Malformed, "The conversion task ID '{task_id}' is malformed or does not exist.")
}

/// One `DiskContainer`: a URL (`http(s)://`, `s3://`), a `UserBucket`, or (ImportImage)
/// an existing snapshot.
fn parse_disk(c: &Nested<'_>, formats: &[&str], allow_snapshot: bool) -> Result<TaskDisk> {
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
        check_url(url)?;
    }
    if let Some(id) = &source_snapshot_id {
        ids::check(IdKind::Snapshot, id)?;
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

fn check_url(url: &str) -> Result<()> {
    let s3 = import_task::parse_s3_url(url).is_some();
    if url.starts_with("http://") || url.starts_with("https://") || s3 {
        Ok(())
    } else {
        Err(invalid_parameter(format!("The URL '{url}' is not valid: use an https:// URL or an s3://bucket/key URL.")))
    }
}

/// `Encrypted` and `KmsKeyId` as asked (the handler supplies the default key).
fn parse_encryption(p: &Params) -> Result<(bool, Option<String>)> {
    let encrypted = p.bool("Encrypted")?.unwrap_or(false);
    let kms_key_id = p.str("KmsKeyId").map(str::to_string);
    if kms_key_id.is_some() && !encrypted {
        return Err(Ec2Error::kms_key_without_encryption());
    }
    Ok((encrypted, kms_key_id))
}

fn one_of(p: &Params, name: &str, allowed: &[&str]) -> Result<Option<String>> {
    match p.str(name) {
        None => Ok(None),
        Some(v) if allowed.contains(&v) => Ok(Some(v.to_string())),
        Some(v) => Err(Ec2Error::invalid_value(name, v)),
    }
}

/// What both imports carry beside the disks: the task's description and tags, and
/// the client token with the fingerprint of the request it stands for.
pub struct ImportRequest {
    pub description: Option<String>,
    pub tags: Vec<Tag>,
    pub client_token: Option<String>,
    pub fingerprint: String,
}

impl ImportRequest {
    fn parse(p: &Params, resource_type: &str) -> Result<ImportRequest> {
        let tags = tag_rules::for_type(&parse_tag_specs(p)?, &[resource_type], resource_type)?;
        Ok(ImportRequest {
            description: p.str("Description").map(str::to_string),
            tags,
            client_token: p.str("ClientToken").map(str::to_string),
            fingerprint: p.fingerprint(&["ClientToken", "DryRun"]),
        })
    }
}

/// The tag resource type of each kind's tasks.
fn task_resource_type(kind: TaskKind) -> &'static str {
    match kind {
        TaskKind::Snapshot => "import-snapshot-task",
        TaskKind::Image => "import-image-task",
    }
}

/// Stores a new task (or finds the one with the same client token) and queues it.
async fn start(ctx: &Ctx<'_>, kind: TaskKind, mut detail: TaskDetail, request: ImportRequest) -> Result<ImportTask> {
    if ctx.app.imports.s3.is_none() && detail.disks.iter().any(|d| d.s3_location().is_some()) {
        return Err(invalid_parameter(
            "This ec2lite has no S3 endpoint to read s3:// disk images from: start it with --s3-endpoint URL \
             (or EC2LITE_S3_ENDPOINT), or give the disk image as an http(s):// URL.",
        ));
    }
    if detail.encrypted && detail.kms_key_id.is_none() {
        detail.kms_key_id = Some(default_kms_key(ctx.scope.account, ctx.scope.region));
    }
    ctx.check_dry_run()?;
    let mut tx = ctx.app.store.write().await?;
    if let Some(token) = &request.client_token {
        if let Some(task) =
            import_tasks::find_by_client_token(&mut tx, ctx.scope.account, ctx.scope.region, kind, token).await?
        {
            if task.request_fingerprint.as_deref() != Some(request.fingerprint.as_str()) {
                return Err(Ec2Error::client_token_reused(token));
            }
            return Ok(task);
        }
    }
    let task = new_task(ctx, kind, detail, &request);
    let resource_type = task_resource_type(kind);
    import_tasks::insert(&mut tx, &task).await?;
    tags::upsert(&mut tx, ctx.scope.account, ctx.scope.region, &task.task_id, resource_type, &request.tags, ctx.now)
        .await?;
    tx.commit().await?;
    let _ = ctx.app.imports.queue.send(task.task_id.clone());
    Ok(task)
}

/// A task at its first step.
fn new_task(ctx: &Ctx<'_>, kind: TaskKind, detail: TaskDetail, request: &ImportRequest) -> ImportTask {
    let (message, progress) = kind.steps()[0];
    ImportTask {
        task_id: import_task::new_task_id(kind),
        account_id: ctx.scope.account.to_string(),
        region: ctx.scope.region.to_string(),
        kind,
        state: ImportTaskState::Active,
        status_message: Some(message.to_string()),
        progress: Some(progress),
        description: request.description.clone(),
        detail,
        client_token: request.client_token.clone(),
        request_fingerprint: Some(request.fingerprint.clone()),
        created_at: ctx.now,
        updated_at: ctx.now,
        tags: request.tags.iter().map(|t| (t.key.clone(), t.value.clone())).collect(),
    }
}

pub struct ImportSnapshotInput {
    /// One disk; `kms_key_id` as asked.
    pub detail: TaskDetail,
    pub request: ImportRequest,
}

impl FromParams for ImportSnapshotInput {
    fn from_params(p: &Params) -> Result<Self> {
        let disk = parse_disk(&p.nested("DiskContainer"), SNAPSHOT_FORMATS, false)?;
        let (encrypted, kms_key_id) = parse_encryption(p)?;
        let detail = TaskDetail { disks: vec![disk], encrypted, kms_key_id, ..Default::default() };
        let request = ImportRequest::parse(p, task_resource_type(TaskKind::Snapshot))?;
        Ok(ImportSnapshotInput { detail, request })
    }
}

pub async fn import_snapshot(ctx: &Ctx<'_>, input: ImportSnapshotInput) -> Result<Xml> {
    let task = start(ctx, TaskKind::Snapshot, input.detail, input.request).await?;
    let mut x = Xml::new();
    write_import_snapshot_task(&mut x, &task);
    Ok(x)
}

pub struct ImportImageInput {
    /// The disks and image settings; `kms_key_id` as asked.
    pub detail: TaskDetail,
    pub request: ImportRequest,
}

impl FromParams for ImportImageInput {
    fn from_params(p: &Params) -> Result<Self> {
        let containers = p.structs("DiskContainer")?;
        if containers.is_empty() {
            return Err(Ec2Error::missing_parameter("DiskContainer"));
        }
        if containers.len() > MAX_DISKS {
            return Err(invalid_parameter(format!("An image can be imported from at most {MAX_DISKS} disks.")));
        }
        let disks = containers.iter().map(|c| parse_disk(c, IMAGE_FORMATS, true)).collect::<Result<Vec<_>>>()?;
        let (encrypted, kms_key_id) = parse_encryption(p)?;
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
        let request = ImportRequest::parse(p, task_resource_type(TaskKind::Image))?;
        Ok(ImportImageInput { detail, request })
    }
}

pub async fn import_image(ctx: &Ctx<'_>, input: ImportImageInput) -> Result<Xml> {
    let task = start(ctx, TaskKind::Image, input.detail, input.request).await?;
    let mut x = Xml::new();
    write_import_image_task(&mut x, &task);
    Ok(x)
}

/// DescribeImportSnapshotTasks and DescribeImportImageTasks take the same parameters.
pub struct DescribeImportTasksInput {
    pub task_ids: Vec<String>,
    /// Values of the `task-state` filter, the only one there is.
    pub states: Vec<String>,
    pub page: Page,
}

pub type DescribeImportSnapshotTasksInput = DescribeImportTasksInput;
pub type DescribeImportImageTasksInput = DescribeImportTasksInput;

impl FromParams for DescribeImportTasksInput {
    fn from_params(p: &Params) -> Result<Self> {
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
        Ok(DescribeImportTasksInput { task_ids, states, page })
    }
}

/// One page of the caller's tasks of `kind`, and the key of the next.
async fn describe(
    ctx: &Ctx<'_>,
    input: DescribeImportTasksInput,
    kind: TaskKind,
) -> Result<(Vec<ImportTask>, Option<String>)> {
    ctx.check_dry_run()?;
    let limit = input.page.limit.unwrap_or(1000) as i64;
    let query = TaskQuery {
        account: ctx.scope.account,
        region: ctx.scope.region,
        kind: Some(kind),
        task_ids: &input.task_ids,
        states: &input.states,
        after: input.page.after,
        limit: limit + 1,
        now: ctx.now,
    };
    let mut tasks = import_tasks::describe(&mut *ctx.app.store.read().await?, &query).await?;
    if input.states.is_empty() {
        if let Some(missing) = input.task_ids.iter().find(|id| !tasks.iter().any(|t| &t.task_id == *id)) {
            return Err(unknown_task(missing));
        }
    }
    let next = (tasks.len() as i64 > limit).then(|| {
        tasks.truncate(limit as usize);
        tasks.last().map(|t| t.task_id.clone()).unwrap_or_default()
    });
    Ok((tasks, next))
}

pub async fn describe_import_snapshot_tasks(ctx: &Ctx<'_>, input: DescribeImportSnapshotTasksInput) -> Result<Xml> {
    let (tasks, next) = describe(ctx, input, TaskKind::Snapshot).await?;
    let mut x = Xml::new();
    x.list("importSnapshotTaskSet", &tasks, write_import_snapshot_task);
    write_next_token(&mut x, next);
    Ok(x)
}

pub async fn describe_import_image_tasks(ctx: &Ctx<'_>, input: DescribeImportImageTasksInput) -> Result<Xml> {
    let (tasks, next) = describe(ctx, input, TaskKind::Image).await?;
    let mut x = Xml::new();
    x.list("importImageTaskSet", &tasks, write_import_image_task);
    write_next_token(&mut x, next);
    Ok(x)
}

pub struct CancelImportTaskInput {
    pub task_id: String,
    pub reason: Option<String>,
}

impl FromParams for CancelImportTaskInput {
    fn from_params(p: &Params) -> Result<Self> {
        let task_id = p.required("ImportTaskId")?;
        if !import_task::is_task_id(task_id) {
            return Err(unknown_task(task_id));
        }
        Ok(CancelImportTaskInput { task_id: task_id.to_string(), reason: p.str("CancelReason").map(str::to_string) })
    }
}

pub async fn cancel_import_task(ctx: &Ctx<'_>, input: CancelImportTaskInput) -> Result<Xml> {
    let task_id = input.task_id.as_str();
    let mut tx = ctx.app.store.write().await?;
    let ids = [input.task_id.clone()];
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
    if task.state != ImportTaskState::Active {
        return Err(ec2_err!(
            InvalidParameterValue,
            "The import task '{task_id}' is {} and can no longer be cancelled.",
            task.state
        ));
    }
    ctx.check_dry_run()?;
    let reason = input.reason.as_deref().unwrap_or("User initiated task cancelation");
    import_tasks::cancel(&mut tx, task_id, Some(reason), ctx.now).await?;
    tx.commit().await?;
    let mut x = Xml::new();
    x.text("importTaskId", task_id)
        .text("previousState", task.state.as_str())
        .text("state", ImportTaskState::Deleting.as_str());
    Ok(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params::from_pairs(pairs.iter().copied())
    }

    fn snapshot_error(pairs: &[(&str, &str)]) -> Ec2Error {
        ImportSnapshotInput::from_params(&params(pairs)).err().expect("refused")
    }

    fn image_error(pairs: &[(&str, &str)]) -> Ec2Error {
        ImportImageInput::from_params(&params(pairs)).err().expect("refused")
    }

    #[test]
    fn import_snapshot_reads_disk_encryption_tags_and_token() {
        let input = ImportSnapshotInput::from_params(&params(&[
            ("DiskContainer.UserBucket.S3Bucket", "imports"),
            ("DiskContainer.UserBucket.S3Key", "disk.vhdx"),
            ("DiskContainer.Format", "vhdx"),
            ("Encrypted", "true"),
            ("Description", "nightly"),
            ("ClientToken", "t-1"),
            ("TagSpecification.1.ResourceType", "import-snapshot-task"),
            ("TagSpecification.1.Tag.1.Key", "k"),
        ]))
        .unwrap();
        let disk = &input.detail.disks[0];
        assert_eq!(disk.s3_location(), Some(("imports", "disk.vhdx")));
        assert_eq!(disk.format.as_deref(), Some("VHDX"));
        assert_eq!((input.detail.encrypted, input.detail.kms_key_id.as_deref()), (true, None));
        assert_eq!(input.request.description.as_deref(), Some("nightly"));
        assert_eq!(input.request.client_token.as_deref(), Some("t-1"));
        assert_eq!(input.request.tags.len(), 1);
    }

    #[test]
    fn the_fingerprint_ignores_token_and_dry_run() {
        let disk = ("DiskContainer.Url", "https://example.com/disk.raw");
        let fingerprint =
            |pairs: &[(&str, &str)]| ImportSnapshotInput::from_params(&params(pairs)).unwrap().request.fingerprint;
        let plain = fingerprint(&[disk]);
        assert_eq!(fingerprint(&[disk, ("ClientToken", "a"), ("DryRun", "true")]), plain);
        assert_ne!(fingerprint(&[disk, ("DiskContainer.Format", "RAW")]), plain);
    }

    #[test]
    fn import_snapshot_refusals() {
        let url = ("DiskContainer.Url", "https://example.com/disk.raw");
        assert_eq!(snapshot_error(&[]).code, "InvalidParameter");
        assert_eq!(snapshot_error(&[url, ("DiskContainer.UserBucket.S3Bucket", "b")]).code, "InvalidParameter");
        assert_eq!(snapshot_error(&[("DiskContainer.UserBucket.S3Bucket", "b")]).code, "InvalidParameter");
        assert_eq!(snapshot_error(&[("DiskContainer.Url", "ftp://host/disk")]).code, "InvalidParameter");
        assert_eq!(snapshot_error(&[("DiskContainer.Url", "s3://bucket-only")]).code, "InvalidParameter");
        assert_eq!(snapshot_error(&[url, ("DiskContainer.Format", "OVA")]).code, "InvalidParameter");
        // Only ImportImage takes an existing snapshot.
        assert_eq!(snapshot_error(&[("DiskContainer.SnapshotId", "snap-0123456789abcdef0")]).code, "InvalidParameter");
        assert_eq!(snapshot_error(&[url, ("KmsKeyId", "alias/k")]), Ec2Error::kms_key_without_encryption());
        let wrong_tags = [url, ("TagSpecification.1.ResourceType", "snapshot"), ("TagSpecification.1.Tag.1.Key", "k")];
        assert_eq!(snapshot_error(&wrong_tags).code, "InvalidParameterValue");
    }

    #[test]
    fn import_image_reads_several_disks_and_settings() {
        let input = ImportImageInput::from_params(&params(&[
            ("DiskContainer.1.Url", "https://example.com/root.ova"),
            ("DiskContainer.2.SnapshotId", "snap-0123456789abcdef0"),
            ("DiskContainer.2.DeviceName", "/dev/sdb"),
            ("Architecture", "arm64"),
            ("BootMode", "uefi"),
            ("LicenseSpecifications.1.LicenseConfigurationArn", "arn:lc"),
        ]))
        .unwrap();
        let detail = &input.detail;
        assert_eq!(detail.disks.len(), 2);
        assert_eq!(detail.disks[1].source_snapshot_id.as_deref(), Some("snap-0123456789abcdef0"));
        assert_eq!((detail.architecture.as_deref(), detail.boot_mode.as_deref()), (Some("arm64"), Some("uefi")));
        assert_eq!(detail.license_configuration_arns, ["arn:lc"]);
    }

    #[test]
    fn import_image_refusals() {
        assert_eq!(image_error(&[]).code, "MissingParameter");
        let urls: Vec<(String, String)> =
            (1..=27).map(|i| (format!("DiskContainer.{i}.Url"), format!("https://example.com/{i}.raw"))).collect();
        let too_many: Vec<(&str, &str)> = urls.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(image_error(&too_many).code, "InvalidParameter");
        let url = ("DiskContainer.1.Url", "https://example.com/root.ova");
        assert_eq!(image_error(&[("DiskContainer.1.SnapshotId", "snap-x")]).code, "InvalidSnapshotID.Malformed");
        assert_eq!(image_error(&[url, ("Platform", "BeOS")]).code, "InvalidParameterValue");
        assert_eq!(
            image_error(&[url, ("Encrypted", "false"), ("KmsKeyId", "k")]),
            Ec2Error::kms_key_without_encryption()
        );
    }

    #[test]
    fn describe_tasks_take_ids_and_the_state_filter() {
        let input = DescribeImportTasksInput::from_params(&params(&[
            ("ImportTaskId.1", "import-snap-0123456789abcdef0"),
            ("ImportTaskId.2", "import-snap-0123456789abcdef0"),
            ("Filters.1.Name", "task-state"),
            ("Filters.1.Value.1", "active"),
            ("MaxResults", "1"),
        ]))
        .unwrap();
        assert_eq!(input.task_ids, ["import-snap-0123456789abcdef0"]);
        assert_eq!(input.states, ["active"]);
        assert_eq!(input.page.limit, Some(1));
        let code = |pairs: &[(&str, &str)]| DescribeImportTasksInput::from_params(&params(pairs)).err().unwrap().code;
        assert_eq!(code(&[("ImportTaskId.1", "snap-1")]), "InvalidConversionTaskId.Malformed");
        assert_eq!(code(&[("Filters.1.Name", "state"), ("Filters.1.Value.1", "x")]), "InvalidParameterValue");
    }

    #[test]
    fn cancel_needs_a_task_id() {
        let code = |pairs: &[(&str, &str)]| CancelImportTaskInput::from_params(&params(pairs)).err().unwrap().code;
        assert_eq!(code(&[]), "MissingParameter");
        assert_eq!(code(&[("ImportTaskId", "import-x")]), "InvalidConversionTaskId.Malformed");
        let input = CancelImportTaskInput::from_params(&params(&[("ImportTaskId", "import-ami-0123456789abcdef0")]));
        assert_eq!(input.unwrap().reason, None);
    }
}
