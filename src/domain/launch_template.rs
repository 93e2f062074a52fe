//! Launch templates: a named, versioned set of launch parameters. A version's data is
//! kept as the `LaunchTemplateData.*` parameters it was created with, canonical (lists
//! renumbered from 1, booleans lower-case, integers checked), so that Describe gives
//! back exactly what was sent and RunInstances reads it as its own parameters.

use std::collections::BTreeMap;

use crate::domain::ids::{self, IdKind};
use crate::domain::instance::Instance;
use crate::domain::volume::Volume;
use crate::ec2_err;
use crate::error::{Ec2Error, Result};
use crate::wire::params::{Nested, Params};

/// Most versions one template may have.
pub const MAX_VERSIONS: i64 = 10_000;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LaunchTemplate {
    pub launch_template_id: String,
    pub owner_id: String,
    pub region: String,
    pub name: String,
    pub default_version: i64,
    /// The highest version that still exists.
    pub latest_version: i64,
    /// The highest version number ever given (the next one is one more).
    pub last_version_number: i64,
    pub created_by: String,
    pub create_time: i64,
    pub tags: Vec<(String, String)>,
}

impl LaunchTemplate {
    /// The version a `$Latest` / `$Default` / number names.
    pub fn version_number(&self, version: &VersionRef) -> i64 {
        match version {
            VersionRef::Latest => self.latest_version,
            VersionRef::Default => self.default_version,
            VersionRef::Number(n) => *n,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LaunchTemplateVersion {
    pub launch_template_id: String,
    pub launch_template_name: String,
    pub version_number: i64,
    pub description: Option<String>,
    pub created_by: String,
    pub create_time: i64,
    pub default_version: bool,
    pub data: TemplateData,
}

/// `createdBy`: the account's root user, the only principal ec2lite knows.
pub fn created_by(account: &str) -> String {
    format!("arn:aws:iam::{account}:root")
}

/// `LaunchTemplateName`: 3 to 128 of letters, digits and `( ) . - / _`.
pub fn check_name(name: &str) -> Result<()> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "().-/_".contains(c);
    if (3..=128).contains(&name.len()) && name.chars().all(allowed) {
        return Ok(());
    }
    Err(ec2_err!(
        InvalidLaunchTemplateName_MalformedException,
        "A launch template name must be between 3 and 128 characters, and may contain letters, numbers, and the following characters: - ( ) . / _.'"
    ))
}

/// `VersionDescription`: at most 255 characters.
pub fn check_description(description: &str) -> Result<()> {
    if description.chars().count() > 255 {
        return Err(ec2_err!(
            InvalidParameterValue,
            "Value ({description}) for parameter versionDescription is invalid. Length exceeds maximum of 255 characters."
        ));
    }
    Ok(())
}

/// A template named by id or by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateRef {
    Id(String),
    Name(String),
}

impl TemplateRef {
    /// `{prefix}LaunchTemplateId` or `{prefix}LaunchTemplateName` (not both); `None`
    /// when neither is given.
    pub fn parse(p: &Params, prefix: &str) -> Result<Option<TemplateRef>> {
        let id = p.str(&format!("{prefix}LaunchTemplateId"));
        let name = p.str(&format!("{prefix}LaunchTemplateName"));
        match (id, name) {
            (Some(_), Some(_)) => Err(ec2_err!(
                InvalidParameterCombination,
                "Both a launch template ID and a launch template name were specified. Specify one or the other, not both."
            )),
            (Some(id), None) => {
                ids::check(IdKind::LaunchTemplate, id)?;
                Ok(Some(TemplateRef::Id(id.to_string())))
            }
            (None, Some(name)) => Ok(Some(TemplateRef::Name(name.to_string()))),
            (None, None) => Ok(None),
        }
    }

    /// As `parse`, one of the two being required.
    pub fn required(p: &Params, prefix: &str) -> Result<TemplateRef> {
        TemplateRef::parse(p, prefix)?.ok_or_else(|| {
            ec2_err!(
                MissingParameter,
                "The request must include either the launch template ID or the launch template name."
            )
        })
    }

    pub fn not_found(&self) -> Ec2Error {
        match self {
            TemplateRef::Id(id) => ec2_err!(
                InvalidLaunchTemplateId_NotFound,
                "The specified launch template, with template ID {id}, does not exist."
            ),
            TemplateRef::Name(name) => ec2_err!(
                InvalidLaunchTemplateName_NotFoundException,
                "The specified launch template, with template name {name}, does not exist."
            ),
        }
    }
}

/// A version as requests name it: a number, `$Latest` or `$Default`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionRef {
    Number(i64),
    Latest,
    Default,
}

impl VersionRef {
    pub fn parse(value: &str) -> Result<VersionRef> {
        match value {
            "$Latest" => Ok(VersionRef::Latest),
            "$Default" => Ok(VersionRef::Default),
            number => match number.parse::<i64>() {
                Ok(n) if n >= 1 => Ok(VersionRef::Number(n)),
                _ => Err(ec2_err!(
                    InvalidLaunchTemplateId_VersionNotFound,
                    "Invalid launch template version: '{value}'. Specify a version number, $Latest or $Default."
                )),
            },
        }
    }
}

pub fn version_not_found(template_id: &str, version: impl std::fmt::Display) -> Ec2Error {
    ec2_err!(
        InvalidLaunchTemplateId_VersionNotFound,
        "The specified launch template version {version} does not exist for launch template {template_id}."
    )
}

// Template data ----------------------------------------------------------------------------

/// The data of a version: `LaunchTemplateData.*` parameters without the prefix, e.g.
/// `ImageId`, `SecurityGroupId.1`, `BlockDeviceMapping.1.Ebs.VolumeSize`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct TemplateData(pub BTreeMap<String, String>);

impl TemplateData {
    /// Reads the members of `prefix` (`LaunchTemplateData`) the model defines; others
    /// are ignored, as EC2 ignores parameters it does not know.
    pub fn from_params(p: &Params, prefix: &str) -> Result<TemplateData> {
        let mut data = TemplateData::default();
        read_members(&p.nested(prefix), DATA_MEMBERS, "", &mut data.0)?;
        Ok(data)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// Whether any key lies under `prefix` (`prefix.*`).
    pub fn has_under(&self, prefix: &str) -> bool {
        let dotted = format!("{prefix}.");
        self.0.range(dotted.clone()..).next().is_some_and(|(k, _)| k.starts_with(&dotted))
    }

    /// The list indices under `prefix`, in order.
    pub fn indices(&self, prefix: &str) -> Vec<u32> {
        let dotted = format!("{prefix}.");
        let mut found: Vec<u32> = self
            .0
            .range(dotted.clone()..)
            .take_while(|(k, _)| k.starts_with(&dotted))
            .filter_map(|(k, _)| k[dotted.len()..].split('.').next()?.parse().ok())
            .collect();
        found.sort_unstable();
        found.dedup();
        found
    }

    /// This data with every top-level member that `over` sets replaced by `over`'s (a
    /// new version from a source version; a launch's own parameters over a template).
    pub fn overlay(&self, over: &TemplateData) -> TemplateData {
        let members: Vec<&str> = over.0.keys().map(|k| top_member(k)).collect();
        let mut merged: BTreeMap<String, String> = self
            .0
            .iter()
            .filter(|(k, _)| !members.contains(&top_member(k)))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        merged.extend(over.0.iter().map(|(k, v)| (k.clone(), v.clone())));
        TemplateData(merged)
    }

    /// The data as RunInstances parameters, but the members `skip` names. RunInstances
    /// spells `RamDiskId` as `RamdiskId`; every other member has the same name.
    pub fn as_run_params(&self, skip: impl Fn(&str) -> bool) -> Vec<(String, String)> {
        self.0
            .iter()
            .filter(|(k, _)| !skip(top_member(k)))
            .map(|(k, v)| match k.as_str() {
                "RamDiskId" => ("RamdiskId".to_string(), v.clone()),
                _ => (k.clone(), v.clone()),
            })
            .collect()
    }

    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.0.insert(key.into(), value.into());
    }
}

/// `Member` of `Member.1.X`.
pub fn top_member(key: &str) -> &str {
    key.split('.').next().unwrap_or(key)
}

fn join(prefix: &str, member: &str) -> String {
    if prefix.is_empty() {
        member.to_string()
    } else {
        format!("{prefix}.{member}")
    }
}

fn read_members(n: &Nested<'_>, members: &[Member], prefix: &str, out: &mut BTreeMap<String, String>) -> Result<()> {
    for member in members {
        read_value(n, member.request, &member.kind, &join(prefix, member.request), out)?;
    }
    Ok(())
}

fn read_value(n: &Nested<'_>, name: &str, kind: &Kind, key: &str, out: &mut BTreeMap<String, String>) -> Result<()> {
    match kind {
        Kind::Struct(members) => read_members(&n.nested(name), members, key, out),
        Kind::List(_, Kind::Struct(members)) => {
            for (i, item) in n.structs(name)?.iter().enumerate() {
                read_members(item, members, &format!("{key}.{}", i + 1), out)?;
            }
            Ok(())
        }
        Kind::List(_, scalar) => {
            for (i, value) in n.list(name)?.iter().enumerate() {
                let item_key = format!("{key}.{}", i + 1);
                out.insert(item_key.clone(), canonical(scalar, &item_key, value)?);
            }
            Ok(())
        }
        scalar => {
            if let Some(value) = n.str(name) {
                out.insert(key.to_string(), canonical(scalar, key, value)?);
            }
            Ok(())
        }
    }
}

/// A scalar in the form EC2 gives it back, or EC2's refusal of its form.
fn canonical(kind: &Kind, key: &str, value: &str) -> Result<String> {
    let invalid = |expected: &str| {
        ec2_err!(
            InvalidParameterValue,
            "Value ({value}) for parameter LaunchTemplateData.{key} is invalid. Expected: {expected}."
        )
    };
    match kind {
        Kind::Bool if value.eq_ignore_ascii_case("true") => Ok("true".into()),
        Kind::Bool if value.eq_ignore_ascii_case("false") => Ok("false".into()),
        Kind::Bool => Err(invalid("'true' or 'false'")),
        Kind::Int => value.parse::<i64>().map(|n| n.to_string()).map_err(|_| invalid("an integer")),
        Kind::Float => value.parse::<f64>().map(|_| value.to_string()).map_err(|_| invalid("a number")),
        _ => Ok(value.to_string()),
    }
}

/// GetLaunchTemplateData: an instance's launch parameters as template data, as EC2
/// derives them (its interfaces with their groups, its volumes, its tags).
pub fn data_of_instance(i: &Instance, volumes: &[(String, Volume)]) -> TemplateData {
    let mut d = TemplateData::default();
    d.insert("ImageId", &i.image_id);
    d.insert("InstanceType", &i.instance_type);
    if let Some(key) = &i.key_name {
        d.insert("KeyName", key);
    }
    if let Some(kernel) = &i.kernel_id {
        d.insert("KernelId", kernel);
    }
    d.insert("EbsOptimized", "false");
    d.insert("Monitoring.Enabled", "false");
    d.insert("Placement.AvailabilityZone", &i.availability_zone);
    d.insert("Placement.Tenancy", "default");
    d.insert("DisableApiTermination", i.disable_api_termination.to_string());
    d.insert("InstanceInitiatedShutdownBehavior", &i.shutdown_behavior);
    if let Some(user_data) = &i.user_data {
        d.insert("UserData", user_data);
    }
    for (n, (device, volume)) in volumes.iter().enumerate() {
        let key = format!("BlockDeviceMapping.{}", n + 1);
        let delete = i.volumes.iter().find(|v| v.1 == volume.volume_id).is_some_and(|v| v.3);
        d.insert(format!("{key}.DeviceName"), device);
        d.insert(format!("{key}.Ebs.Encrypted"), volume.encrypted.to_string());
        d.insert(format!("{key}.Ebs.DeleteOnTermination"), delete.to_string());
        if let Some(iops) = volume.iops {
            d.insert(format!("{key}.Ebs.Iops"), iops.to_string());
        }
        if let Some(snapshot) = volume.snapshot_id.as_deref().filter(|s| !s.is_empty()) {
            d.insert(format!("{key}.Ebs.SnapshotId"), snapshot);
        }
        d.insert(format!("{key}.Ebs.VolumeSize"), volume.size.to_string());
        d.insert(format!("{key}.Ebs.VolumeType"), &volume.volume_type);
        if let Some(throughput) = volume.throughput {
            d.insert(format!("{key}.Ebs.Throughput"), throughput.to_string());
        }
    }
    for (n, interface) in i.interfaces.iter().enumerate() {
        let key = format!("NetworkInterface.{}", n + 1);
        if interface.device_index == 0 {
            d.insert(format!("{key}.AssociatePublicIpAddress"), i.public_ip.is_some().to_string());
        }
        d.insert(format!("{key}.DeleteOnTermination"), interface.delete_on_termination.to_string());
        d.insert(format!("{key}.Description"), &interface.description);
        d.insert(format!("{key}.DeviceIndex"), interface.device_index.to_string());
        for (g, (group_id, _)) in interface.groups.iter().enumerate() {
            d.insert(format!("{key}.SecurityGroupId.{}", g + 1), group_id);
        }
        d.insert(format!("{key}.InterfaceType"), "interface");
        d.insert(format!("{key}.NetworkInterfaceId"), &interface.network_interface_id);
        d.insert(format!("{key}.PrivateIpAddress"), &interface.private_ip);
        d.insert(format!("{key}.SubnetId"), &interface.subnet_id);
        d.insert(format!("{key}.NetworkCardIndex"), "0");
    }
    if !i.tags.is_empty() {
        d.insert("TagSpecification.1.ResourceType", "instance");
        for (n, (key, value)) in i.tags.iter().enumerate() {
            d.insert(format!("TagSpecification.1.Tag.{}.Key", n + 1), key);
            d.insert(format!("TagSpecification.1.Tag.{}.Value", n + 1), value);
        }
    }
    if let Some(credits) = &i.cpu_credits {
        d.insert("CreditSpecification.CpuCredits", credits);
    }
    d.insert("MetadataOptions.HttpTokens", "optional");
    d.insert("MetadataOptions.HttpPutResponseHopLimit", "1");
    d.insert("MetadataOptions.HttpEndpoint", "enabled");
    d.insert("MetadataOptions.HttpProtocolIpv6", "disabled");
    d.insert("MetadataOptions.InstanceMetadataTags", "disabled");
    d.insert("EnclaveOptions.Enabled", "false");
    d.insert("HibernationOptions.Configured", "false");
    d.insert("MaintenanceOptions.AutoRecovery", "default");
    d.insert("DisableApiStop", "false");
    d
}

// The shape of LaunchTemplateData --------------------------------------------------------

/// One member of RequestLaunchTemplateData and its ResponseLaunchTemplateData
/// counterpart: its query name (`SecurityGroupId` for the list `SecurityGroupIds`), its
/// XML element (`securityGroupIdSet`) and its kind.
#[derive(Debug)]
pub struct Member {
    pub request: &'static str,
    pub response: &'static str,
    pub kind: Kind,
}

#[derive(Debug)]
pub enum Kind {
    Text,
    Bool,
    Int,
    Float,
    Struct(&'static [Member]),
    /// A list: the element of each item (`item`, or `groupId` for an interface's
    /// groups) and the kind of its items.
    List(&'static str, &'static Kind),
}

/// Every member of LaunchTemplateData, in the model's order (the order EC2 writes
/// them). Written from botocore's EC2 model (RequestLaunchTemplateData walked beside
/// ResponseLaunchTemplateData, member by member).
pub static DATA_MEMBERS: &[Member] = &[
    Member { request: "KernelId", response: "kernelId", kind: Kind::Text },
    Member { request: "EbsOptimized", response: "ebsOptimized", kind: Kind::Bool },
    Member {
        request: "IamInstanceProfile",
        response: "iamInstanceProfile",
        kind: Kind::Struct(&[
            Member { request: "Arn", response: "arn", kind: Kind::Text },
            Member { request: "Name", response: "name", kind: Kind::Text },
        ]),
    },
    Member {
        request: "BlockDeviceMapping",
        response: "blockDeviceMappingSet",
        kind: Kind::List(
            "item",
            &Kind::Struct(&[
                Member { request: "DeviceName", response: "deviceName", kind: Kind::Text },
                Member { request: "VirtualName", response: "virtualName", kind: Kind::Text },
                Member {
                    request: "Ebs",
                    response: "ebs",
                    kind: Kind::Struct(&[
                        Member { request: "Encrypted", response: "encrypted", kind: Kind::Bool },
                        Member { request: "DeleteOnTermination", response: "deleteOnTermination", kind: Kind::Bool },
                        Member { request: "Iops", response: "iops", kind: Kind::Int },
                        Member { request: "KmsKeyId", response: "kmsKeyId", kind: Kind::Text },
                        Member { request: "SnapshotId", response: "snapshotId", kind: Kind::Text },
                        Member { request: "VolumeSize", response: "volumeSize", kind: Kind::Int },
                        Member { request: "VolumeType", response: "volumeType", kind: Kind::Text },
                        Member { request: "Throughput", response: "throughput", kind: Kind::Int },
                        Member {
                            request: "VolumeInitializationRate",
                            response: "volumeInitializationRate",
                            kind: Kind::Int,
                        },
                        Member { request: "EbsCardIndex", response: "ebsCardIndex", kind: Kind::Int },
                    ]),
                },
                Member { request: "NoDevice", response: "noDevice", kind: Kind::Text },
            ]),
        ),
    },
    Member {
        request: "NetworkInterface",
        response: "networkInterfaceSet",
        kind: Kind::List(
            "item",
            &Kind::Struct(&[
                Member {
                    request: "AssociateCarrierIpAddress",
                    response: "associateCarrierIpAddress",
                    kind: Kind::Bool,
                },
                Member { request: "AssociatePublicIpAddress", response: "associatePublicIpAddress", kind: Kind::Bool },
                Member { request: "DeleteOnTermination", response: "deleteOnTermination", kind: Kind::Bool },
                Member { request: "Description", response: "description", kind: Kind::Text },
                Member { request: "DeviceIndex", response: "deviceIndex", kind: Kind::Int },
                Member { request: "SecurityGroupId", response: "groupSet", kind: Kind::List("groupId", &Kind::Text) },
                Member { request: "InterfaceType", response: "interfaceType", kind: Kind::Text },
                Member { request: "Ipv6AddressCount", response: "ipv6AddressCount", kind: Kind::Int },
                Member {
                    request: "Ipv6Addresses",
                    response: "ipv6AddressesSet",
                    kind: Kind::List(
                        "item",
                        &Kind::Struct(&[Member { request: "Ipv6Address", response: "ipv6Address", kind: Kind::Text }]),
                    ),
                },
                Member { request: "NetworkInterfaceId", response: "networkInterfaceId", kind: Kind::Text },
                Member { request: "PrivateIpAddress", response: "privateIpAddress", kind: Kind::Text },
                Member {
                    request: "PrivateIpAddresses",
                    response: "privateIpAddressesSet",
                    kind: Kind::List(
                        "item",
                        &Kind::Struct(&[
                            Member { request: "Primary", response: "primary", kind: Kind::Bool },
                            Member { request: "PrivateIpAddress", response: "privateIpAddress", kind: Kind::Text },
                        ]),
                    ),
                },
                Member {
                    request: "SecondaryPrivateIpAddressCount",
                    response: "secondaryPrivateIpAddressCount",
                    kind: Kind::Int,
                },
                Member { request: "SubnetId", response: "subnetId", kind: Kind::Text },
                Member { request: "NetworkCardIndex", response: "networkCardIndex", kind: Kind::Int },
                Member {
                    request: "Ipv4Prefix",
                    response: "ipv4PrefixSet",
                    kind: Kind::List(
                        "item",
                        &Kind::Struct(&[Member { request: "Ipv4Prefix", response: "ipv4Prefix", kind: Kind::Text }]),
                    ),
                },
                Member { request: "Ipv4PrefixCount", response: "ipv4PrefixCount", kind: Kind::Int },
                Member {
                    request: "Ipv6Prefix",
                    response: "ipv6PrefixSet",
                    kind: Kind::List(
                        "item",
                        &Kind::Struct(&[Member { request: "Ipv6Prefix", response: "ipv6Prefix", kind: Kind::Text }]),
                    ),
                },
                Member { request: "Ipv6PrefixCount", response: "ipv6PrefixCount", kind: Kind::Int },
                Member { request: "PrimaryIpv6", response: "primaryIpv6", kind: Kind::Bool },
                Member {
                    request: "EnaSrdSpecification",
                    response: "enaSrdSpecification",
                    kind: Kind::Struct(&[
                        Member { request: "EnaSrdEnabled", response: "enaSrdEnabled", kind: Kind::Bool },
                        Member {
                            request: "EnaSrdUdpSpecification",
                            response: "enaSrdUdpSpecification",
                            kind: Kind::Struct(&[Member {
                                request: "EnaSrdUdpEnabled",
                                response: "enaSrdUdpEnabled",
                                kind: Kind::Bool,
                            }]),
                        },
                    ]),
                },
                Member {
                    request: "ConnectionTrackingSpecification",
                    response: "connectionTrackingSpecification",
                    kind: Kind::Struct(&[
                        Member { request: "TcpEstablishedTimeout", response: "tcpEstablishedTimeout", kind: Kind::Int },
                        Member { request: "UdpStreamTimeout", response: "udpStreamTimeout", kind: Kind::Int },
                        Member { request: "UdpTimeout", response: "udpTimeout", kind: Kind::Int },
                    ]),
                },
                Member { request: "EnaQueueCount", response: "enaQueueCount", kind: Kind::Int },
            ]),
        ),
    },
    Member { request: "ImageId", response: "imageId", kind: Kind::Text },
    Member { request: "InstanceType", response: "instanceType", kind: Kind::Text },
    Member { request: "KeyName", response: "keyName", kind: Kind::Text },
    Member {
        request: "Monitoring",
        response: "monitoring",
        kind: Kind::Struct(&[
            Member { request: "Enabled", response: "enabled", kind: Kind::Bool },
            Member {
                request: "MetricCategoryId",
                response: "metricCategoryIdSet",
                kind: Kind::List("item", &Kind::Text),
            },
        ]),
    },
    Member {
        request: "Placement",
        response: "placement",
        kind: Kind::Struct(&[
            Member { request: "AvailabilityZone", response: "availabilityZone", kind: Kind::Text },
            Member { request: "AvailabilityZoneId", response: "availabilityZoneId", kind: Kind::Text },
            Member { request: "Affinity", response: "affinity", kind: Kind::Text },
            Member { request: "GroupName", response: "groupName", kind: Kind::Text },
            Member { request: "HostId", response: "hostId", kind: Kind::Text },
            Member { request: "Tenancy", response: "tenancy", kind: Kind::Text },
            Member { request: "SpreadDomain", response: "spreadDomain", kind: Kind::Text },
            Member { request: "HostResourceGroupArn", response: "hostResourceGroupArn", kind: Kind::Text },
            Member { request: "PartitionNumber", response: "partitionNumber", kind: Kind::Int },
            Member { request: "GroupId", response: "groupId", kind: Kind::Text },
        ]),
    },
    Member { request: "RamDiskId", response: "ramDiskId", kind: Kind::Text },
    Member { request: "DisableApiTermination", response: "disableApiTermination", kind: Kind::Bool },
    Member {
        request: "InstanceInitiatedShutdownBehavior",
        response: "instanceInitiatedShutdownBehavior",
        kind: Kind::Text,
    },
    Member { request: "UserData", response: "userData", kind: Kind::Text },
    Member {
        request: "TagSpecification",
        response: "tagSpecificationSet",
        kind: Kind::List(
            "item",
            &Kind::Struct(&[
                Member { request: "ResourceType", response: "resourceType", kind: Kind::Text },
                Member {
                    request: "Tag",
                    response: "tagSet",
                    kind: Kind::List(
                        "item",
                        &Kind::Struct(&[
                            Member { request: "Key", response: "key", kind: Kind::Text },
                            Member { request: "Value", response: "value", kind: Kind::Text },
                        ]),
                    ),
                },
            ]),
        ),
    },
    Member {
        request: "ElasticGpuSpecification",
        response: "elasticGpuSpecificationSet",
        kind: Kind::List("item", &Kind::Struct(&[Member { request: "Type", response: "type", kind: Kind::Text }])),
    },
    Member {
        request: "ElasticInferenceAccelerator",
        response: "elasticInferenceAcceleratorSet",
        kind: Kind::List(
            "item",
            &Kind::Struct(&[
                Member { request: "Type", response: "type", kind: Kind::Text },
                Member { request: "Count", response: "count", kind: Kind::Int },
            ]),
        ),
    },
    Member { request: "SecurityGroupId", response: "securityGroupIdSet", kind: Kind::List("item", &Kind::Text) },
    Member { request: "SecurityGroup", response: "securityGroupSet", kind: Kind::List("item", &Kind::Text) },
    Member {
        request: "InstanceMarketOptions",
        response: "instanceMarketOptions",
        kind: Kind::Struct(&[
            Member { request: "MarketType", response: "marketType", kind: Kind::Text },
            Member {
                request: "SpotOptions",
                response: "spotOptions",
                kind: Kind::Struct(&[
                    Member { request: "MaxPrice", response: "maxPrice", kind: Kind::Text },
                    Member { request: "SpotInstanceType", response: "spotInstanceType", kind: Kind::Text },
                    Member { request: "BlockDurationMinutes", response: "blockDurationMinutes", kind: Kind::Int },
                    Member { request: "ValidUntil", response: "validUntil", kind: Kind::Text },
                    Member {
                        request: "InstanceInterruptionBehavior",
                        response: "instanceInterruptionBehavior",
                        kind: Kind::Text,
                    },
                ]),
            },
        ]),
    },
    Member {
        request: "CreditSpecification",
        response: "creditSpecification",
        kind: Kind::Struct(&[Member { request: "CpuCredits", response: "cpuCredits", kind: Kind::Text }]),
    },
    Member {
        request: "CpuOptions",
        response: "cpuOptions",
        kind: Kind::Struct(&[
            Member { request: "CoreCount", response: "coreCount", kind: Kind::Int },
            Member { request: "ThreadsPerCore", response: "threadsPerCore", kind: Kind::Int },
            Member { request: "AmdSevSnp", response: "amdSevSnp", kind: Kind::Text },
            Member { request: "NestedVirtualization", response: "nestedVirtualization", kind: Kind::Text },
        ]),
    },
    Member {
        request: "CapacityReservationSpecification",
        response: "capacityReservationSpecification",
        kind: Kind::Struct(&[
            Member {
                request: "CapacityReservationPreference",
                response: "capacityReservationPreference",
                kind: Kind::Text,
            },
            Member {
                request: "CapacityReservationTarget",
                response: "capacityReservationTarget",
                kind: Kind::Struct(&[
                    Member { request: "CapacityReservationId", response: "capacityReservationId", kind: Kind::Text },
                    Member {
                        request: "CapacityReservationResourceGroupArn",
                        response: "capacityReservationResourceGroupArn",
                        kind: Kind::Text,
                    },
                ]),
            },
        ]),
    },
    Member {
        request: "LicenseSpecification",
        response: "licenseSet",
        kind: Kind::List(
            "item",
            &Kind::Struct(&[Member {
                request: "LicenseConfigurationArn",
                response: "licenseConfigurationArn",
                kind: Kind::Text,
            }]),
        ),
    },
    Member {
        request: "HibernationOptions",
        response: "hibernationOptions",
        kind: Kind::Struct(&[Member { request: "Configured", response: "configured", kind: Kind::Bool }]),
    },
    Member {
        request: "MetadataOptions",
        response: "metadataOptions",
        kind: Kind::Struct(&[
            Member { request: "HttpTokens", response: "httpTokens", kind: Kind::Text },
            Member { request: "HttpPutResponseHopLimit", response: "httpPutResponseHopLimit", kind: Kind::Int },
            Member { request: "HttpEndpoint", response: "httpEndpoint", kind: Kind::Text },
            Member { request: "HttpProtocolIpv6", response: "httpProtocolIpv6", kind: Kind::Text },
            Member { request: "InstanceMetadataTags", response: "instanceMetadataTags", kind: Kind::Text },
        ]),
    },
    Member {
        request: "EnclaveOptions",
        response: "enclaveOptions",
        kind: Kind::Struct(&[Member { request: "Enabled", response: "enabled", kind: Kind::Bool }]),
    },
    Member {
        request: "InstanceRequirements",
        response: "instanceRequirements",
        kind: Kind::Struct(&[
            Member {
                request: "VCpuCount",
                response: "vCpuCount",
                kind: Kind::Struct(&[
                    Member { request: "Min", response: "min", kind: Kind::Int },
                    Member { request: "Max", response: "max", kind: Kind::Int },
                ]),
            },
            Member {
                request: "MemoryMiB",
                response: "memoryMiB",
                kind: Kind::Struct(&[
                    Member { request: "Min", response: "min", kind: Kind::Int },
                    Member { request: "Max", response: "max", kind: Kind::Int },
                ]),
            },
            Member {
                request: "CpuManufacturer",
                response: "cpuManufacturerSet",
                kind: Kind::List("item", &Kind::Text),
            },
            Member {
                request: "MemoryGiBPerVCpu",
                response: "memoryGiBPerVCpu",
                kind: Kind::Struct(&[
                    Member { request: "Min", response: "min", kind: Kind::Float },
                    Member { request: "Max", response: "max", kind: Kind::Float },
                ]),
            },
            Member {
                request: "ExcludedInstanceType",
                response: "excludedInstanceTypeSet",
                kind: Kind::List("item", &Kind::Text),
            },
            Member {
                request: "InstanceGeneration",
                response: "instanceGenerationSet",
                kind: Kind::List("item", &Kind::Text),
            },
            Member {
                request: "SpotMaxPricePercentageOverLowestPrice",
                response: "spotMaxPricePercentageOverLowestPrice",
                kind: Kind::Int,
            },
            Member {
                request: "OnDemandMaxPricePercentageOverLowestPrice",
                response: "onDemandMaxPricePercentageOverLowestPrice",
                kind: Kind::Int,
            },
            Member { request: "BareMetal", response: "bareMetal", kind: Kind::Text },
            Member { request: "BurstablePerformance", response: "burstablePerformance", kind: Kind::Text },
            Member { request: "RequireHibernateSupport", response: "requireHibernateSupport", kind: Kind::Bool },
            Member {
                request: "NetworkInterfaceCount",
                response: "networkInterfaceCount",
                kind: Kind::Struct(&[
                    Member { request: "Min", response: "min", kind: Kind::Int },
                    Member { request: "Max", response: "max", kind: Kind::Int },
                ]),
            },
            Member { request: "LocalStorage", response: "localStorage", kind: Kind::Text },
            Member {
                request: "LocalStorageType",
                response: "localStorageTypeSet",
                kind: Kind::List("item", &Kind::Text),
            },
            Member {
                request: "TotalLocalStorageGB",
                response: "totalLocalStorageGB",
                kind: Kind::Struct(&[
                    Member { request: "Min", response: "min", kind: Kind::Float },
                    Member { request: "Max", response: "max", kind: Kind::Float },
                ]),
            },
            Member {
                request: "BaselineEbsBandwidthMbps",
                response: "baselineEbsBandwidthMbps",
                kind: Kind::Struct(&[
                    Member { request: "Min", response: "min", kind: Kind::Int },
                    Member { request: "Max", response: "max", kind: Kind::Int },
                ]),
            },
            Member {
                request: "AcceleratorType",
                response: "acceleratorTypeSet",
                kind: Kind::List("item", &Kind::Text),
            },
            Member {
                request: "AcceleratorCount",
                response: "acceleratorCount",
                kind: Kind::Struct(&[
                    Member { request: "Min", response: "min", kind: Kind::Int },
                    Member { request: "Max", response: "max", kind: Kind::Int },
                ]),
            },
            Member {
                request: "AcceleratorManufacturer",
                response: "acceleratorManufacturerSet",
                kind: Kind::List("item", &Kind::Text),
            },
            Member {
                request: "AcceleratorName",
                response: "acceleratorNameSet",
                kind: Kind::List("item", &Kind::Text),
            },
            Member {
                request: "AcceleratorTotalMemoryMiB",
                response: "acceleratorTotalMemoryMiB",
                kind: Kind::Struct(&[
                    Member { request: "Min", response: "min", kind: Kind::Int },
                    Member { request: "Max", response: "max", kind: Kind::Int },
                ]),
            },
            Member {
                request: "NetworkBandwidthGbps",
                response: "networkBandwidthGbps",
                kind: Kind::Struct(&[
                    Member { request: "Min", response: "min", kind: Kind::Float },
                    Member { request: "Max", response: "max", kind: Kind::Float },
                ]),
            },
            Member {
                request: "AllowedInstanceType",
                response: "allowedInstanceTypeSet",
                kind: Kind::List("item", &Kind::Text),
            },
            Member {
                request: "MaxSpotPriceAsPercentageOfOptimalOnDemandPrice",
                response: "maxSpotPriceAsPercentageOfOptimalOnDemandPrice",
                kind: Kind::Int,
            },
            Member {
                request: "BaselinePerformanceFactors",
                response: "baselinePerformanceFactors",
                kind: Kind::Struct(&[Member {
                    request: "Cpu",
                    response: "cpu",
                    kind: Kind::Struct(&[Member {
                        request: "Reference",
                        response: "referenceSet",
                        kind: Kind::List(
                            "item",
                            &Kind::Struct(&[Member {
                                request: "InstanceFamily",
                                response: "instanceFamily",
                                kind: Kind::Text,
                            }]),
                        ),
                    }]),
                }]),
            },
            Member { request: "RequireEncryptionInTransit", response: "requireEncryptionInTransit", kind: Kind::Bool },
        ]),
    },
    Member {
        request: "PrivateDnsNameOptions",
        response: "privateDnsNameOptions",
        kind: Kind::Struct(&[
            Member { request: "HostnameType", response: "hostnameType", kind: Kind::Text },
            Member {
                request: "EnableResourceNameDnsARecord",
                response: "enableResourceNameDnsARecord",
                kind: Kind::Bool,
            },
            Member {
                request: "EnableResourceNameDnsAAAARecord",
                response: "enableResourceNameDnsAAAARecord",
                kind: Kind::Bool,
            },
        ]),
    },
    Member {
        request: "MaintenanceOptions",
        response: "maintenanceOptions",
        kind: Kind::Struct(&[Member { request: "AutoRecovery", response: "autoRecovery", kind: Kind::Text }]),
    },
    Member { request: "DisableApiStop", response: "disableApiStop", kind: Kind::Bool },
    Member {
        request: "Operator",
        response: "operator",
        kind: Kind::Struct(&[Member { request: "Principal", response: "principal", kind: Kind::Text }]),
    },
    Member {
        request: "NetworkPerformanceOptions",
        response: "networkPerformanceOptions",
        kind: Kind::Struct(&[Member {
            request: "BandwidthWeighting",
            response: "bandwidthWeighting",
            kind: Kind::Text,
        }]),
    },
    Member {
        request: "SecondaryInterface",
        response: "secondaryInterfaceSet",
        kind: Kind::List(
            "item",
            &Kind::Struct(&[
                Member { request: "DeleteOnTermination", response: "deleteOnTermination", kind: Kind::Bool },
                Member { request: "DeviceIndex", response: "deviceIndex", kind: Kind::Int },
                Member {
                    request: "PrivateIpAddress",
                    response: "privateIpAddressesSet",
                    kind: Kind::List(
                        "item",
                        &Kind::Struct(&[Member {
                            request: "PrivateIpAddress",
                            response: "privateIpAddress",
                            kind: Kind::Text,
                        }]),
                    ),
                },
                Member { request: "PrivateIpAddressCount", response: "privateIpAddressCount", kind: Kind::Int },
                Member { request: "SecondarySubnetId", response: "secondarySubnetId", kind: Kind::Text },
                Member { request: "InterfaceType", response: "interfaceType", kind: Kind::Text },
                Member { request: "NetworkCardIndex", response: "networkCardIndex", kind: Kind::Int },
            ]),
        ),
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    fn data(pairs: &[(&str, &str)]) -> Result<TemplateData> {
        TemplateData::from_params(&Params::from_pairs(pairs.iter().copied()), "LaunchTemplateData")
    }

    #[test]
    fn data_is_kept_canonical() {
        let d = data(&[
            ("LaunchTemplateData.ImageId", "ami-0123456789abcdef0"),
            ("LaunchTemplateData.EbsOptimized", "TRUE"),
            ("LaunchTemplateData.SecurityGroupId.7", "sg-b"),
            ("LaunchTemplateData.SecurityGroupId.3", "sg-a"),
            ("LaunchTemplateData.BlockDeviceMapping.5.DeviceName", "/dev/xvda"),
            ("LaunchTemplateData.BlockDeviceMapping.5.Ebs.VolumeSize", "012"),
            ("LaunchTemplateData.Frobnicate", "ignored"),
            ("ImageId", "not-template-data"),
        ])
        .unwrap();
        let pairs: Vec<(&str, &str)> = d.0.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(
            pairs,
            [
                ("BlockDeviceMapping.1.DeviceName", "/dev/xvda"),
                ("BlockDeviceMapping.1.Ebs.VolumeSize", "12"),
                ("EbsOptimized", "true"),
                ("ImageId", "ami-0123456789abcdef0"),
                ("SecurityGroupId.1", "sg-a"),
                ("SecurityGroupId.2", "sg-b"),
            ]
        );
        assert_eq!(d.indices("SecurityGroupId"), [1, 2]);
        assert!(d.has_under("BlockDeviceMapping.1.Ebs") && !d.has_under("Placement"));
    }

    #[test]
    fn bad_scalars_are_refused() {
        let err = data(&[("LaunchTemplateData.DisableApiTermination", "yes")]).unwrap_err();
        assert_eq!(err.code, "InvalidParameterValue");
        assert_eq!(
            err.message,
            "Value (yes) for parameter LaunchTemplateData.DisableApiTermination is invalid. Expected: 'true' or 'false'."
        );
        let err = data(&[("LaunchTemplateData.BlockDeviceMapping.1.Ebs.Iops", "many")]).unwrap_err();
        assert_eq!(err.code, "InvalidParameterValue");
        let err = data(&[("LaunchTemplateData.SecurityGroupId.x", "sg-a")]).unwrap_err();
        assert_eq!(err.code, "InvalidParameter");
    }

    #[test]
    fn overlay_replaces_whole_members() {
        let base = data(&[
            ("LaunchTemplateData.ImageId", "ami-00000001"),
            ("LaunchTemplateData.InstanceType", "t3.micro"),
            ("LaunchTemplateData.SecurityGroupId.1", "sg-a"),
            ("LaunchTemplateData.SecurityGroupId.2", "sg-b"),
        ])
        .unwrap();
        let over =
            data(&[("LaunchTemplateData.ImageId", "ami-00000002"), ("LaunchTemplateData.SecurityGroupId.1", "sg-c")])
                .unwrap();
        let merged = base.overlay(&over);
        assert_eq!(merged.get("ImageId"), Some("ami-00000002"));
        assert_eq!(merged.get("InstanceType"), Some("t3.micro"));
        assert_eq!(merged.indices("SecurityGroupId"), [1]);
        assert_eq!(merged.get("SecurityGroupId.1"), Some("sg-c"));
    }

    #[test]
    fn run_params_use_run_instances_names() {
        let d = data(&[
            ("LaunchTemplateData.RamDiskId", "ari-12345678"),
            ("LaunchTemplateData.ImageId", "ami-12345678"),
            ("LaunchTemplateData.InstanceType", "t3.micro"),
        ])
        .unwrap();
        let params = d.as_run_params(|member| member == "InstanceType");
        assert_eq!(
            params,
            [
                ("ImageId".to_string(), "ami-12345678".to_string()),
                ("RamdiskId".to_string(), "ari-12345678".to_string())
            ]
        );
    }

    #[test]
    fn names_versions_and_references() {
        assert!(check_name("web-fleet_(v1)/a.b").is_ok());
        for bad in ["ab", "has space", &"x".repeat(129)] {
            assert_eq!(check_name(bad).unwrap_err().code, "InvalidLaunchTemplateName.MalformedException", "{bad}");
        }
        assert_eq!(VersionRef::parse("$Latest").unwrap(), VersionRef::Latest);
        assert_eq!(VersionRef::parse("$Default").unwrap(), VersionRef::Default);
        assert_eq!(VersionRef::parse("12").unwrap(), VersionRef::Number(12));
        for bad in ["0", "-1", "latest", ""] {
            assert_eq!(VersionRef::parse(bad).unwrap_err().code, "InvalidLaunchTemplateId.VersionNotFound");
        }
        let p = Params::from_pairs([("LaunchTemplate.LaunchTemplateName", "web")]);
        assert_eq!(TemplateRef::parse(&p, "LaunchTemplate.").unwrap(), Some(TemplateRef::Name("web".into())));
        let p = Params::from_pairs([("LaunchTemplateId", "lt-12")]);
        assert_eq!(TemplateRef::parse(&p, "").unwrap_err().code, "InvalidLaunchTemplateId.Malformed");
        let p = Params::from_pairs([("LaunchTemplateId", "lt-0123456789abcdef0"), ("LaunchTemplateName", "web")]);
        assert_eq!(TemplateRef::parse(&p, "").unwrap_err().code, "InvalidParameterCombination");
        assert_eq!(TemplateRef::required(&Params::default(), "").unwrap_err().code, "MissingParameter");
        assert_eq!(
            TemplateRef::Name("web".into()).not_found().message,
            "The specified launch template, with template name web, does not exist."
        );
    }
}
