//! VM Import tasks: the `ImportSnapshotTask` shape (ImportSnapshot,
//! DescribeImportSnapshotTasks) and the `ImportImageTask` shape (ImportImage,
//! DescribeImportImageTasks), with the user bucket and per-disk snapshot detail they
//! share.

use crate::domain::import_task::{ImportTask, TaskDisk};
use crate::domain::lifecycle::ImportTaskState;
use crate::wire::xml::Xml;

pub fn write_import_snapshot_task(x: &mut Xml, task: &ImportTask) {
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
    x.text("status", task.state.as_str());
    x.opt_text("statusMessage", message);
    x.opt_text("url", disk.url.as_deref());
    write_user_bucket(x, &disk);
    x.close("snapshotTaskDetail");
    x.tag_set(&task.tags);
}

pub fn write_import_image_task(x: &mut Xml, task: &ImportTask) {
    let detail = &task.detail;
    let (progress, message) = open_fields(task);
    // A completed task reports what the image got, defaults included.
    let done = task.state == ImportTaskState::Completed;
    let shown = |default: &'static str, value: Option<&str>| {
        value.map(str::to_string).or_else(|| done.then(|| default.to_string()))
    };
    x.opt_text("architecture", shown("x86_64", detail.architecture.as_deref()).as_deref());
    x.opt_text("description", task.description.as_deref());
    x.bool("encrypted", detail.encrypted);
    x.opt_text("hypervisor", detail.hypervisor.as_deref());
    x.opt_text("imageId", detail.image_id.as_deref());
    x.text("importTaskId", &task.task_id);
    x.opt_text("kmsKeyId", detail.kms_key_id.as_deref());
    x.opt_text("licenseType", shown("BYOL", detail.license_type.as_deref()).as_deref());
    x.opt_text("platform", shown("Linux", detail.platform.as_deref()).as_deref());
    x.opt_text("progress", progress.as_deref());
    x.list("snapshotDetailSet", &detail.disks, |x, disk| write_snapshot_detail(x, disk, task.state.as_str()));
    x.text("status", task.state.as_str());
    x.opt_text("statusMessage", message);
    x.list("licenseSpecifications", &detail.license_configuration_arns, |x, arn| {
        x.text("licenseConfigurationArn", arn);
    });
    x.tag_set(&task.tags);
    x.opt_text("usageOperation", detail.usage_operation.as_deref());
    x.opt_text("bootMode", detail.boot_mode.as_deref());
}

/// One disk of an image task; each disk shows the task's status.
fn write_snapshot_detail(x: &mut Xml, disk: &TaskDisk, status: &str) {
    x.opt_text("description", disk.description.as_deref());
    x.opt_text("deviceName", disk.device_name.as_deref());
    x.num("diskImageSize", format!("{:.1}", disk.disk_image_size));
    x.opt_text("format", disk.format.as_deref());
    x.opt_text("snapshotId", disk.snapshot_id.as_deref());
    x.text("status", status);
    x.opt_text("url", disk.url.as_deref());
    write_user_bucket(x, disk);
}

/// Where an S3-sourced disk is read from (a `UserBucket`, or an `s3://` URL).
fn write_user_bucket(x: &mut Xml, disk: &TaskDisk) {
    if let Some((bucket, key)) = disk.s3_location() {
        x.open("userBucket").text("s3Bucket", bucket).text("s3Key", key).close("userBucket");
    }
}

/// Progress and status message show only while a task is open.
fn open_fields(task: &ImportTask) -> (Option<String>, Option<&str>) {
    let progress = task.is_open().then(|| task.progress.map(|p| p.to_string())).flatten();
    let message = if task.state == ImportTaskState::Completed { None } else { task.status_message.as_deref() };
    (progress, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::import_task::{TaskDetail, TaskKind};

    fn task(kind: TaskKind, task_state: &str, detail: TaskDetail) -> ImportTask {
        ImportTask {
            task_id: "import-snap-0123456789abcdef0".into(),
            account_id: "123456789012".into(),
            region: "us-east-1".into(),
            kind,
            state: ImportTaskState::parse(task_state).unwrap(),
            status_message: Some("converting".into()),
            progress: Some(42),
            description: Some("disk & co".into()),
            detail,
            client_token: None,
            request_fingerprint: None,
            created_at: 0,
            updated_at: 0,
            tags: vec![("k".into(), "v".into())],
        }
    }

    #[test]
    fn golden_active_snapshot_task_from_a_user_bucket() {
        let disk = TaskDisk {
            s3_bucket: Some("imports".into()),
            s3_key: Some("disk.vhdx".into()),
            format: Some("VHDX".into()),
            ..Default::default()
        };
        let detail =
            TaskDetail { disks: vec![disk], encrypted: true, kms_key_id: Some("alias/k".into()), ..Default::default() };
        let mut x = Xml::new();
        write_import_snapshot_task(&mut x, &task(TaskKind::Snapshot, "active", detail));
        assert_eq!(
            x.as_str(),
            "<description>disk &amp; co</description><importTaskId>import-snap-0123456789abcdef0</importTaskId>\
             <snapshotTaskDetail><description>disk &amp; co</description><diskImageSize>0.0</diskImageSize>\
             <encrypted>true</encrypted><format>VHDX</format><kmsKeyId>alias/k</kmsKeyId><progress>42</progress>\
             <status>active</status><statusMessage>converting</statusMessage>\
             <userBucket><s3Bucket>imports</s3Bucket><s3Key>disk.vhdx</s3Key></userBucket></snapshotTaskDetail>\
             <tagSet><item><key>k</key><value>v</value></item></tagSet>"
        );
    }

    #[test]
    fn golden_completed_snapshot_task_from_a_url() {
        let disk = TaskDisk {
            url: Some("https://example.com/disk.raw".into()),
            format: Some("RAW".into()),
            disk_image_size: 1048576.0,
            snapshot_id: Some("snap-0123456789abcdef0".into()),
            ..Default::default()
        };
        let detail = TaskDetail { disks: vec![disk], ..Default::default() };
        let mut x = Xml::new();
        write_import_snapshot_task(&mut x, &task(TaskKind::Snapshot, "completed", detail));
        assert_eq!(
            x.as_str(),
            "<description>disk &amp; co</description><importTaskId>import-snap-0123456789abcdef0</importTaskId>\
             <snapshotTaskDetail><description>disk &amp; co</description><diskImageSize>1048576.0</diskImageSize>\
             <encrypted>false</encrypted><format>RAW</format><snapshotId>snap-0123456789abcdef0</snapshotId>\
             <status>completed</status><url>https://example.com/disk.raw</url></snapshotTaskDetail>\
             <tagSet><item><key>k</key><value>v</value></item></tagSet>"
        );
    }

    #[test]
    fn golden_completed_image_task_shows_defaults() {
        let disks = vec![
            TaskDisk {
                url: Some("s3://imports/root.vmdk".into()),
                format: Some("VMDK".into()),
                device_name: Some("/dev/sda1".into()),
                disk_image_size: 512.0,
                snapshot_id: Some("snap-0123456789abcdef0".into()),
                ..Default::default()
            },
            TaskDisk {
                description: Some("data".into()),
                device_name: Some("/dev/sdb".into()),
                source_snapshot_id: Some("snap-0fedcba9876543210".into()),
                snapshot_id: Some("snap-0fedcba9876543210".into()),
                ..Default::default()
            },
        ];
        let detail = TaskDetail {
            disks,
            boot_mode: Some("uefi".into()),
            usage_operation: Some("RunInstances".into()),
            license_configuration_arns: vec!["arn:aws:license-manager:lc".into()],
            image_id: Some("ami-0123456789abcdef0".into()),
            ..Default::default()
        };
        let mut x = Xml::new();
        write_import_image_task(&mut x, &task(TaskKind::Image, "completed", detail));
        assert_eq!(
            x.as_str(),
            "<architecture>x86_64</architecture><description>disk &amp; co</description><encrypted>false</encrypted>\
             <imageId>ami-0123456789abcdef0</imageId><importTaskId>import-snap-0123456789abcdef0</importTaskId>\
             <licenseType>BYOL</licenseType><platform>Linux</platform>\
             <snapshotDetailSet><item><deviceName>/dev/sda1</deviceName><diskImageSize>512.0</diskImageSize>\
             <format>VMDK</format><snapshotId>snap-0123456789abcdef0</snapshotId><status>completed</status>\
             <url>s3://imports/root.vmdk</url><userBucket><s3Bucket>imports</s3Bucket><s3Key>root.vmdk</s3Key></userBucket></item>\
             <item><description>data</description><deviceName>/dev/sdb</deviceName><diskImageSize>0.0</diskImageSize>\
             <snapshotId>snap-0fedcba9876543210</snapshotId><status>completed</status></item></snapshotDetailSet>\
             <status>completed</status>\
             <licenseSpecifications><item><licenseConfigurationArn>arn:aws:license-manager:lc</licenseConfigurationArn></item></licenseSpecifications>\
             <tagSet><item><key>k</key><value>v</value></item></tagSet><usageOperation>RunInstances</usageOperation>\
             <bootMode>uefi</bootMode>"
        );
    }

    #[test]
    fn golden_active_image_task_shows_only_what_was_asked() {
        let detail = TaskDetail {
            disks: vec![TaskDisk { url: Some("https://example.com/a.ova".into()), ..Default::default() }],
            architecture: Some("arm64".into()),
            hypervisor: Some("xen".into()),
            ..Default::default()
        };
        let mut x = Xml::new();
        write_import_image_task(&mut x, &task(TaskKind::Image, "active", detail));
        assert_eq!(
            x.as_str(),
            "<architecture>arm64</architecture><description>disk &amp; co</description><encrypted>false</encrypted>\
             <hypervisor>xen</hypervisor><importTaskId>import-snap-0123456789abcdef0</importTaskId><progress>42</progress>\
             <snapshotDetailSet><item><diskImageSize>0.0</diskImageSize><status>active</status>\
             <url>https://example.com/a.ova</url></item></snapshotDetailSet>\
             <status>active</status><statusMessage>converting</statusMessage><licenseSpecifications/>\
             <tagSet><item><key>k</key><value>v</value></item></tagSet>"
        );
    }
}
