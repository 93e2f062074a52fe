//! The EBS snapshot: states and how far a pending one has got.

use super::lifecycle::SnapshotState;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub snapshot_id: String,
    pub owner_id: String,
    pub region: String,
    pub volume_id: String,
    pub volume_size: i64,
    pub description: String,
    pub encrypted: bool,
    pub kms_key_id: Option<String>,
    pub state: SnapshotState,
    pub state_message: Option<String>,
    pub start_time: i64,
    pub ready_at: Option<i64>,
    pub completion_time: Option<i64>,
    pub owner_alias: Option<String>,
    pub is_public: bool,
    pub tags: Vec<(String, String)>,
    /// EBS direct uploads (StartSnapshot): the snapshot this one continues.
    pub parent_snapshot_id: Option<String>,
    /// While an upload is open: when it fails unless a block or CompleteSnapshot comes.
    pub upload_deadline: Option<i64>,
    pub upload_timeout_ms: Option<i64>,
    /// The last `x-amz-Progress` a client reported for its upload.
    pub upload_progress: Option<i64>,
    pub client_token: Option<String>,
}

impl Snapshot {
    /// The snapshot as it is at `now` (see `Image::settled`).
    pub fn settled(&self, now: i64) -> Snapshot {
        let mut snapshot = self.clone();
        if let (SnapshotState::Pending, Some(ready_at)) = (snapshot.state, snapshot.ready_at) {
            if ready_at <= now {
                snapshot.state = SnapshotState::Completed;
                snapshot.completion_time = Some(ready_at);
                snapshot.ready_at = None;
            }
        }
        snapshot
    }

    /// Whether an EBS direct upload into this snapshot is still open.
    pub fn is_uploading(&self) -> bool {
        self.state == SnapshotState::Pending && self.upload_deadline.is_some()
    }

    /// `100%` when done; while uploading, what the client last reported; otherwise while
    /// pending, the share of its configured duration elapsed.
    pub fn progress(&self, now: i64) -> String {
        if self.is_uploading() {
            return format!("{}%", self.upload_progress.unwrap_or(0).clamp(0, 99));
        }
        match (self.state, self.ready_at) {
            (SnapshotState::Completed, _) => "100%".to_string(),
            (SnapshotState::Pending, Some(ready_at)) if ready_at > self.start_time => {
                let done = (now - self.start_time).clamp(0, ready_at - self.start_time) * 100;
                format!("{}%", (done / (ready_at - self.start_time)).min(99))
            }
            _ => "0%".to_string(),
        }
    }
}

/// The vocabulary of `createVolumePermission`: an account id or the group `all`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum CreateVolumePermission {
    User(String),
    Group(String),
}

impl CreateVolumePermission {
    pub fn grantee(&self) -> &str {
        match self {
            CreateVolumePermission::User(v) | CreateVolumePermission::Group(v) => v,
        }
    }

    pub fn from_grantee(grantee: String) -> CreateVolumePermission {
        if grantee == "all" {
            CreateVolumePermission::Group(grantee)
        } else {
            CreateVolumePermission::User(grantee)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_tracks_elapsed_time() {
        let mut s =
            Snapshot { state: SnapshotState::Pending, start_time: 1000, ready_at: Some(2000), ..Default::default() };
        assert_eq!(s.progress(1500), "50%");
        assert_eq!(s.progress(5000), "99%");
        s.state = SnapshotState::Completed;
        assert_eq!(s.progress(1500), "100%");
    }
}
