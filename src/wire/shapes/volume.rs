//! The `Volume` shape (CreateVolume, DescribeVolumes) and the `VolumeAttachment` shape,
//! which a volume lists and AttachVolume / DetachVolume answer with.

use crate::domain::clock::iso;
use crate::domain::volume::{Attachment, Volume};
use crate::wire::xml::Xml;

pub fn write_volume(x: &mut Xml, v: &Volume) {
    x.text("volumeId", &v.volume_id).num("size", v.size);
    match &v.snapshot_id {
        Some(id) => x.text("snapshotId", id),
        None => x.empty("snapshotId"),
    };
    x.text("availabilityZone", &v.availability_zone)
        .text("availabilityZoneId", &v.availability_zone_id)
        .text("status", v.state.as_str())
        .text("createTime", &iso(v.create_time));
    let attachments: Vec<&Attachment> = v.attachment.iter().collect();
    x.list("attachmentSet", &attachments, |x, a| write_attachment(x, &v.volume_id, a));
    if !v.tags.is_empty() {
        x.tag_set(&v.tags);
    }
    x.text("volumeType", &v.volume_type)
        .opt_num("iops", v.iops)
        .opt_num("throughput", v.throughput)
        .bool("encrypted", v.encrypted)
        .opt_text("kmsKeyId", v.kms_key_id.as_deref())
        .bool("multiAttachEnabled", v.multi_attach_enabled)
        .bool("fastRestored", false);
}

/// One attachment of volume `volume_id`.
pub fn write_attachment(x: &mut Xml, volume_id: &str, a: &Attachment) {
    x.text("volumeId", volume_id)
        .text("instanceId", &a.instance_id)
        .text("device", &a.device)
        .text("status", a.state.as_str())
        .text("attachTime", &iso(a.attach_time))
        .bool("deleteOnTermination", a.delete_on_termination);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::lifecycle::VolumeState;

    fn volume() -> Volume {
        Volume {
            volume_id: "vol-0123456789abcdef0".into(),
            owner_id: "000000000000".into(),
            region: "us-east-1".into(),
            availability_zone: "us-east-1a".into(),
            availability_zone_id: "use1-az1".into(),
            size: 8,
            volume_type: "gp3".into(),
            iops: Some(3000),
            throughput: Some(125),
            encrypted: false,
            state: VolumeState::Creating,
            create_time: 0,
            tags: vec![("Name".into(), "root".into())],
            ..Default::default()
        }
    }

    fn attachment() -> Attachment {
        Attachment {
            instance_id: "i-0123456789abcdef0".into(),
            device: "/dev/sdf".into(),
            state: "attached".into(),
            attach_time: 1_000,
            delete_on_termination: true,
        }
    }

    #[test]
    fn golden_volume() {
        let mut x = Xml::new();
        write_volume(&mut x, &volume());
        assert_eq!(
            x.as_str(),
            "<volumeId>vol-0123456789abcdef0</volumeId><size>8</size><snapshotId/><availabilityZone>us-east-1a</availabilityZone>\
             <availabilityZoneId>use1-az1</availabilityZoneId><status>creating</status><createTime>1970-01-01T00:00:00.000Z</createTime>\
             <attachmentSet/><tagSet><item><key>Name</key><value>root</value></item></tagSet><volumeType>gp3</volumeType><iops>3000</iops>\
             <throughput>125</throughput><encrypted>false</encrypted><multiAttachEnabled>false</multiAttachEnabled><fastRestored>false</fastRestored>"
        );
    }

    #[test]
    fn golden_attached_encrypted_volume_from_a_snapshot() {
        let v = Volume {
            snapshot_id: Some("snap-0123456789abcdef0".into()),
            volume_type: "io2".into(),
            iops: Some(1000),
            throughput: None,
            encrypted: true,
            kms_key_id: Some("arn:aws:kms:us-east-1:000000000000:alias/aws/ebs".into()),
            multi_attach_enabled: true,
            state: VolumeState::InUse,
            attachment: Some(attachment()),
            tags: Vec::new(),
            ..volume()
        };
        let mut x = Xml::new();
        write_volume(&mut x, &v);
        assert_eq!(
            x.as_str(),
            "<volumeId>vol-0123456789abcdef0</volumeId><size>8</size><snapshotId>snap-0123456789abcdef0</snapshotId>\
             <availabilityZone>us-east-1a</availabilityZone><availabilityZoneId>use1-az1</availabilityZoneId><status>in-use</status>\
             <createTime>1970-01-01T00:00:00.000Z</createTime><attachmentSet><item><volumeId>vol-0123456789abcdef0</volumeId>\
             <instanceId>i-0123456789abcdef0</instanceId><device>/dev/sdf</device><status>attached</status>\
             <attachTime>1970-01-01T00:00:01.000Z</attachTime><deleteOnTermination>true</deleteOnTermination></item></attachmentSet>\
             <volumeType>io2</volumeType><iops>1000</iops><encrypted>true</encrypted>\
             <kmsKeyId>arn:aws:kms:us-east-1:000000000000:alias/aws/ebs</kmsKeyId><multiAttachEnabled>true</multiAttachEnabled>\
             <fastRestored>false</fastRestored>"
        );
    }

    #[test]
    fn golden_attachment() {
        let mut x = Xml::new();
        write_attachment(&mut x, "vol-0123456789abcdef0", &Attachment { state: "detaching".into(), ..attachment() });
        assert_eq!(
            x.as_str(),
            "<volumeId>vol-0123456789abcdef0</volumeId><instanceId>i-0123456789abcdef0</instanceId><device>/dev/sdf</device>\
             <status>detaching</status><attachTime>1970-01-01T00:00:01.000Z</attachTime><deleteOnTermination>true</deleteOnTermination>"
        );
    }
}
