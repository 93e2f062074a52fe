//! VM Import tasks: what ImportSnapshot / ImportImage asked for, and how far the task
//! has got. States and messages follow what DescribeImport*Tasks shows on EC2.

use super::lifecycle::ImportTaskState;
use serde::{Deserialize, Serialize};

/// How long finished tasks stay listed (EC2: 7 days).
pub const RETENTION_MS: i64 = 7 * 24 * 3600 * 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskKind {
    Snapshot,
    Image,
}

impl TaskKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskKind::Snapshot => "snapshot",
            TaskKind::Image => "image",
        }
    }

    pub fn id_prefix(self) -> &'static str {
        match self {
            TaskKind::Snapshot => "import-snap",
            TaskKind::Image => "import-ami",
        }
    }

    /// The steps an active task reports (`statusMessage`) and the progress at each.
    pub fn steps(self) -> &'static [(&'static str, i64)] {
        match self {
            TaskKind::Snapshot => &[("pending", 0), ("validated", 32), ("converting", 42)],
            TaskKind::Image => &[
                ("pending", 2),
                ("validated", 6),
                ("converting", 19),
                ("updating", 34),
                ("booting", 58),
                ("preparing ami", 76),
            ],
        }
    }
}

/// One disk of a task: where it comes from and what became of it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskDisk {
    pub url: Option<String>,
    pub s3_bucket: Option<String>,
    pub s3_key: Option<String>,
    /// As requested (upper-cased); the detected one replaces it once read.
    pub format: Option<String>,
    pub description: Option<String>,
    pub device_name: Option<String>,
    /// Size of the disk image file in bytes (EC2 reports it as a double).
    pub disk_image_size: f64,
    /// ImportImage from an existing snapshot (`DiskContainer.N.SnapshotId`).
    #[serde(default)]
    pub source_snapshot_id: Option<String>,
    /// The snapshot the task made of this disk.
    pub snapshot_id: Option<String>,
}

impl TaskDisk {
    /// The bucket and key the disk is read from: its `UserBucket`, or an `s3://` URL.
    pub fn s3_location(&self) -> Option<(&str, &str)> {
        match (&self.s3_bucket, &self.s3_key, &self.url) {
            (Some(bucket), Some(key), _) => Some((bucket, key)),
            (_, _, Some(url)) => parse_s3_url(url),
            _ => None,
        }
    }
}

/// `s3://bucket/key` → (bucket, key), both non-empty.
pub fn parse_s3_url(url: &str) -> Option<(&str, &str)> {
    let (bucket, key) = url.strip_prefix("s3://")?.split_once('/')?;
    (!bucket.is_empty() && !key.is_empty()).then_some((bucket, key))
}

/// What the request set beyond its disks.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskDetail {
    pub disks: Vec<TaskDisk>,
    pub encrypted: bool,
    pub kms_key_id: Option<String>,
    pub architecture: Option<String>,
    pub platform: Option<String>,
    pub license_type: Option<String>,
    pub hypervisor: Option<String>,
    pub boot_mode: Option<String>,
    pub usage_operation: Option<String>,
    pub license_configuration_arns: Vec<String>,
    pub image_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ImportTask {
    pub task_id: String,
    pub account_id: String,
    pub region: String,
    pub kind: TaskKind,
    pub state: ImportTaskState,
    pub status_message: Option<String>,
    pub progress: Option<i64>,
    pub description: Option<String>,
    pub detail: TaskDetail,
    pub client_token: Option<String>,
    pub request_fingerprint: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub tags: Vec<(String, String)>,
}

impl ImportTask {
    pub fn is_open(&self) -> bool {
        matches!(self.state, ImportTaskState::Active | ImportTaskState::Deleting)
    }
}

/// A new task id: `import-snap-` / `import-ami-` and 17 hex digits.
pub fn new_task_id(kind: TaskKind) -> String {
    let hex = uuid::Uuid::new_v4().simple().to_string();
    format!("{}-{}", kind.id_prefix(), &hex[..17])
}

/// Whether `id` is shaped like a task id of either kind.
pub fn is_task_id(id: &str) -> bool {
    ["import-snap-", "import-ami-"].iter().any(|prefix| {
        id.strip_prefix(prefix).is_some_and(|rest| {
            (8..=17).contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_hexdigit() || b.is_ascii_lowercase())
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_locations_come_from_the_bucket_or_the_url() {
        let url = TaskDisk { url: Some("s3://images/os/disk 1.vmdk".into()), ..Default::default() };
        assert_eq!(url.s3_location(), Some(("images", "os/disk 1.vmdk")));
        let bucket = TaskDisk { s3_bucket: Some("b".into()), s3_key: Some("k".into()), ..Default::default() };
        assert_eq!(bucket.s3_location(), Some(("b", "k")));
        assert_eq!(parse_s3_url("s3://bucket-only"), None);
        assert_eq!(parse_s3_url("https://example.com/x"), None);
    }

    #[test]
    fn task_ids_have_the_ec2_shape() {
        let id = new_task_id(TaskKind::Snapshot);
        assert!(id.starts_with("import-snap-") && id.len() == "import-snap-".len() + 17);
        assert!(is_task_id(&id));
        assert!(is_task_id(&new_task_id(TaskKind::Image)));
        assert!(!is_task_id("import-vol-0123456789abcdef0"));
        assert!(!is_task_id("snap-0123"));
    }
}
