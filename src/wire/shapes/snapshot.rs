//! The `Snapshot` shape (CreateSnapshot, DescribeSnapshots) and the
//! `createVolumePermission` attribute (DescribeSnapshotAttribute).

use crate::domain::clock::iso;
use crate::domain::snapshot::{CreateVolumePermission, Snapshot};
use crate::wire::xml::Xml;

/// One snapshot as it is at `now` (its progress depends on the time).
pub fn write_snapshot(x: &mut Xml, s: &Snapshot, now: i64) {
    x.text("snapshotId", &s.snapshot_id)
        .text("volumeId", &s.volume_id)
        .text("status", s.state.as_str())
        .opt_text("statusMessage", s.state_message.as_deref())
        .text("startTime", &iso(s.start_time))
        .text("progress", &s.progress(now))
        .text("ownerId", &s.owner_id)
        .num("volumeSize", s.volume_size)
        .text("description", &s.description)
        .bool("encrypted", s.encrypted)
        .opt_text("kmsKeyId", s.kms_key_id.as_deref())
        .opt_text("ownerAlias", s.owner_alias.as_deref());
    if !s.tags.is_empty() {
        x.tag_set(&s.tags);
    }
    x.text("storageTier", "standard").opt_text("completionTime", s.completion_time.map(iso).as_deref());
}

/// The `SnapshotInfo` shape of CreateSnapshots (`state`, where Snapshot says `status`).
pub fn write_snapshot_info(x: &mut Xml, s: &Snapshot, availability_zone: &str, now: i64) {
    x.text("description", &s.description)
        .tag_set(&s.tags)
        .bool("encrypted", s.encrypted)
        .text("volumeId", &s.volume_id)
        .text("state", s.state.as_str())
        .num("volumeSize", s.volume_size)
        .text("startTime", &iso(s.start_time))
        .text("progress", &s.progress(now))
        .text("ownerId", &s.owner_id)
        .text("snapshotId", &s.snapshot_id)
        .text("availabilityZone", availability_zone);
}

pub fn write_create_volume_permissions(x: &mut Xml, permissions: &[CreateVolumePermission]) {
    x.list("createVolumePermission", permissions, |x, g| match g {
        CreateVolumePermission::User(id) => {
            x.text("userId", id);
        }
        CreateVolumePermission::Group(group) => {
            x.text("group", group);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::lifecycle::SnapshotState;

    #[test]
    fn golden_snapshot() {
        let s = Snapshot {
            snapshot_id: "snap-0123456789abcdef0".into(),
            owner_id: "123456789012".into(),
            volume_id: "vol-0123456789abcdef0".into(),
            volume_size: 8,
            description: "root & data".into(),
            state: SnapshotState::Completed,
            start_time: 0,
            completion_time: Some(1000),
            ..Default::default()
        };
        let mut x = Xml::new();
        write_snapshot(&mut x, &s, 5000);
        assert_eq!(
            x.as_str(),
            "<snapshotId>snap-0123456789abcdef0</snapshotId><volumeId>vol-0123456789abcdef0</volumeId><status>completed</status>\
             <startTime>1970-01-01T00:00:00.000Z</startTime><progress>100%</progress><ownerId>123456789012</ownerId>\
             <volumeSize>8</volumeSize><description>root &amp; data</description><encrypted>false</encrypted>\
             <storageTier>standard</storageTier><completionTime>1970-01-01T00:00:01.000Z</completionTime>"
        );
    }

    #[test]
    fn golden_pending_encrypted_tagged_snapshot() {
        let s = Snapshot {
            snapshot_id: "snap-0123456789abcdef0".into(),
            owner_id: "123456789012".into(),
            volume_id: "vol-ffffffff".into(),
            volume_size: 1,
            description: String::new(),
            encrypted: true,
            kms_key_id: Some("arn:aws:kms:us-east-1:123456789012:key/k".into()),
            state: SnapshotState::Pending,
            start_time: 0,
            ready_at: Some(1000),
            owner_alias: Some("amazon".into()),
            tags: vec![("Name".into(), "copy".into())],
            ..Default::default()
        };
        let mut x = Xml::new();
        write_snapshot(&mut x, &s, 500);
        assert_eq!(
            x.as_str(),
            "<snapshotId>snap-0123456789abcdef0</snapshotId><volumeId>vol-ffffffff</volumeId><status>pending</status>\
             <startTime>1970-01-01T00:00:00.000Z</startTime><progress>50%</progress><ownerId>123456789012</ownerId>\
             <volumeSize>1</volumeSize><description></description><encrypted>true</encrypted>\
             <kmsKeyId>arn:aws:kms:us-east-1:123456789012:key/k</kmsKeyId><ownerAlias>amazon</ownerAlias>\
             <tagSet><item><key>Name</key><value>copy</value></item></tagSet><storageTier>standard</storageTier>"
        );
    }

    #[test]
    fn golden_create_volume_permissions() {
        let mut x = Xml::new();
        write_create_volume_permissions(
            &mut x,
            &[CreateVolumePermission::User("123456789012".into()), CreateVolumePermission::Group("all".into())],
        );
        assert_eq!(
            x.as_str(),
            "<createVolumePermission><item><userId>123456789012</userId></item><item><group>all</group></item></createVolumePermission>"
        );
    }
}
