//! The `LaunchTemplate`, `LaunchTemplateVersion` and `ResponseLaunchTemplateData`
//! shapes (Create/Describe/Modify/DeleteLaunchTemplate*, GetLaunchTemplateData).

use crate::domain::clock::iso;
use crate::domain::launch_template::{Kind, LaunchTemplate, LaunchTemplateVersion, Member, TemplateData, DATA_MEMBERS};
use crate::wire::xml::Xml;

pub fn write_launch_template(x: &mut Xml, t: &LaunchTemplate) {
    x.text("launchTemplateId", &t.launch_template_id)
        .text("launchTemplateName", &t.name)
        .text("createTime", &iso(t.create_time))
        .text("createdBy", &t.created_by)
        .num("defaultVersionNumber", t.default_version)
        .num("latestVersionNumber", t.latest_version);
    if !t.tags.is_empty() {
        x.tag_set(&t.tags);
    }
}

pub fn write_version(x: &mut Xml, v: &LaunchTemplateVersion) {
    x.text("launchTemplateId", &v.launch_template_id)
        .text("launchTemplateName", &v.launch_template_name)
        .num("versionNumber", v.version_number)
        .opt_text("versionDescription", v.description.as_deref())
        .text("createTime", &iso(v.create_time))
        .text("createdBy", &v.created_by)
        .bool("defaultVersion", v.default_version);
    x.open("launchTemplateData");
    write_data(x, &v.data);
    x.close("launchTemplateData");
}

/// The members of a version's data, in EC2's order and with its element names.
pub fn write_data(x: &mut Xml, data: &TemplateData) {
    write_members(x, data, DATA_MEMBERS, "");
}

fn write_members(x: &mut Xml, data: &TemplateData, members: &[Member], prefix: &str) {
    for member in members {
        let key = if prefix.is_empty() { member.request.to_string() } else { format!("{prefix}.{}", member.request) };
        write_value(x, data, member.response, &member.kind, &key);
    }
}

fn write_value(x: &mut Xml, data: &TemplateData, element: &str, kind: &Kind, key: &str) {
    match kind {
        Kind::Struct(members) => {
            if data.has_under(key) {
                x.open(element);
                write_members(x, data, members, key);
                x.close(element);
            }
        }
        Kind::List(item, item_kind) => {
            let indices = data.indices(key);
            if indices.is_empty() {
                return;
            }
            x.open(element);
            for i in indices {
                write_value(x, data, item, item_kind, &format!("{key}.{i}"));
            }
            x.close(element);
        }
        _ => {
            if let Some(value) = data.get(key) {
                x.text(element, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::params::Params;

    fn data(pairs: &[(&str, &str)]) -> TemplateData {
        TemplateData::from_params(&Params::from_pairs(pairs.iter().copied()), "LaunchTemplateData").unwrap()
    }

    #[test]
    fn golden_launch_template() {
        let t = LaunchTemplate {
            launch_template_id: "lt-0123456789abcdef0".into(),
            owner_id: "000000000000".into(),
            region: "us-east-1".into(),
            name: "web".into(),
            default_version: 1,
            latest_version: 2,
            last_version_number: 2,
            created_by: "arn:aws:iam::000000000000:root".into(),
            create_time: 0,
            tags: vec![("team".into(), "a".into())],
        };
        let mut x = Xml::new();
        write_launch_template(&mut x, &t);
        assert_eq!(
            x.as_str(),
            "<launchTemplateId>lt-0123456789abcdef0</launchTemplateId><launchTemplateName>web</launchTemplateName>\
             <createTime>1970-01-01T00:00:00.000Z</createTime><createdBy>arn:aws:iam::000000000000:root</createdBy>\
             <defaultVersionNumber>1</defaultVersionNumber><latestVersionNumber>2</latestVersionNumber>\
             <tagSet><item><key>team</key><value>a</value></item></tagSet>"
        );
    }

    #[test]
    fn golden_version_with_data() {
        let v = LaunchTemplateVersion {
            launch_template_id: "lt-0123456789abcdef0".into(),
            launch_template_name: "web".into(),
            version_number: 2,
            description: Some("new AMI".into()),
            created_by: "arn:aws:iam::000000000000:root".into(),
            create_time: 0,
            default_version: false,
            data: data(&[
                ("LaunchTemplateData.ImageId", "ami-0123456789abcdef0"),
                ("LaunchTemplateData.InstanceType", "t3.micro"),
                ("LaunchTemplateData.SecurityGroupId.1", "sg-0123456789abcdef0"),
                ("LaunchTemplateData.NetworkInterface.1.DeviceIndex", "0"),
                ("LaunchTemplateData.NetworkInterface.1.SecurityGroupId.1", "sg-0123456789abcdef1"),
                ("LaunchTemplateData.BlockDeviceMapping.1.DeviceName", "/dev/xvda"),
                ("LaunchTemplateData.BlockDeviceMapping.1.Ebs.VolumeSize", "12"),
                ("LaunchTemplateData.BlockDeviceMapping.1.Ebs.DeleteOnTermination", "TRUE"),
                ("LaunchTemplateData.TagSpecification.1.ResourceType", "instance"),
                ("LaunchTemplateData.TagSpecification.1.Tag.1.Key", "Name"),
                ("LaunchTemplateData.TagSpecification.1.Tag.1.Value", "web"),
                ("LaunchTemplateData.MetadataOptions.HttpTokens", "required"),
                ("LaunchTemplateData.UnknownMember", "ignored"),
            ]),
        };
        let mut x = Xml::new();
        write_version(&mut x, &v);
        assert_eq!(
            x.as_str(),
            "<launchTemplateId>lt-0123456789abcdef0</launchTemplateId><launchTemplateName>web</launchTemplateName>\
             <versionNumber>2</versionNumber><versionDescription>new AMI</versionDescription>\
             <createTime>1970-01-01T00:00:00.000Z</createTime><createdBy>arn:aws:iam::000000000000:root</createdBy>\
             <defaultVersion>false</defaultVersion><launchTemplateData>\
             <blockDeviceMappingSet><item><deviceName>/dev/xvda</deviceName><ebs>\
             <deleteOnTermination>true</deleteOnTermination><volumeSize>12</volumeSize></ebs></item>\
             </blockDeviceMappingSet><networkInterfaceSet><item><deviceIndex>0</deviceIndex>\
             <groupSet><groupId>sg-0123456789abcdef1</groupId></groupSet></item></networkInterfaceSet>\
             <imageId>ami-0123456789abcdef0</imageId><instanceType>t3.micro</instanceType>\
             <tagSpecificationSet><item><resourceType>instance</resourceType><tagSet><item><key>Name</key>\
             <value>web</value></item></tagSet></item></tagSpecificationSet>\
             <securityGroupIdSet><item>sg-0123456789abcdef0</item></securityGroupIdSet>\
             <metadataOptions><httpTokens>required</httpTokens></metadataOptions></launchTemplateData>"
        );
    }
}
