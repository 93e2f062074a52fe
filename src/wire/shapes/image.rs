//! The `Image` shape (DescribeImages), the block-device mappings images and instances
//! share, and the answers of DescribeImageAttribute and DeregisterImage.

use crate::domain::image::{protection_shown, BlockDeviceMapping, Image, LaunchPermission, ProductCode};
use crate::wire::xml::Xml;

/// `i` as DescribeImages shows it at `now` (a protection cooldown still running is shown).
pub fn write_image(x: &mut Xml, i: &Image, now: i64) {
    x.text("imageId", &i.image_id)
        .text("imageLocation", &i.image_location)
        .text("imageState", i.state.as_str())
        .text("imageOwnerId", &i.owner_id)
        .text("creationDate", &i.creation_date)
        .bool("isPublic", i.is_public);
    write_product_codes(x, &i.product_codes);
    x.text("architecture", &i.architecture)
        .text("imageType", &i.image_type)
        .opt_text("kernelId", i.kernel_id.as_deref())
        .opt_text("ramdiskId", i.ramdisk_id.as_deref())
        .opt_text("platform", i.platform.as_deref())
        .text("platformDetails", &i.platform_details)
        .text("usageOperation", &i.usage_operation)
        .opt_text("imageOwnerAlias", i.owner_alias.as_deref())
        .text("name", &i.name)
        .opt_text("description", i.description.as_deref())
        .text("rootDeviceType", &i.root_device_type)
        .opt_text("rootDeviceName", i.root_device_name.as_deref());
    write_block_device_mappings(x, &i.block_device_mappings);
    x.text("virtualizationType", &i.virtualization_type).tag_set(&i.tags).text("hypervisor", &i.hypervisor);
    if let Some(reason) = &i.state_reason {
        x.open("stateReason").text("code", &reason.code).text("message", &reason.message).close("stateReason");
    }
    x.opt_bool("enaSupport", i.ena_support)
        .opt_text("sriovNetSupport", i.sriov_net_support.as_deref())
        .opt_text("bootMode", i.boot_mode.as_deref())
        .opt_text("tpmSupport", i.tpm_support.as_deref())
        .opt_text("imdsSupport", i.imds_support.as_deref())
        .opt_text("deprecationTime", i.deprecation_time.as_deref())
        .opt_text("sourceInstanceId", i.source_instance_id.as_deref())
        .opt_text("sourceImageId", i.source_image_id.as_deref())
        .opt_text("sourceImageRegion", i.source_image_region.as_deref())
        .text("deregistrationProtection", &protection_shown(i, now))
        .opt_text("lastLaunchedTime", i.last_launched_time.as_deref())
        .bool("imageAllowed", true)
        .bool("freeTierEligible", false);
}

pub fn write_block_device_mappings(x: &mut Xml, mappings: &[BlockDeviceMapping]) {
    x.list("blockDeviceMapping", mappings, |x, m| {
        x.text("deviceName", &m.device_name).opt_text("virtualName", m.virtual_name.as_deref());
        if let Some(ebs) = &m.ebs {
            x.open("ebs")
                .opt_text("snapshotId", ebs.snapshot_id.as_deref())
                .opt_num("volumeSize", ebs.volume_size)
                .opt_bool("deleteOnTermination", ebs.delete_on_termination)
                .opt_text("volumeType", ebs.volume_type.as_deref())
                .opt_num("iops", ebs.iops)
                .opt_num("throughput", ebs.throughput)
                .opt_bool("encrypted", ebs.encrypted)
                .close("ebs");
        }
        if m.no_device {
            x.empty("noDevice");
        }
    });
}

/// The attributes DescribeImageAttribute answers, by the names the request and the
/// answer give them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageAttribute {
    Description,
    Kernel,
    Ramdisk,
    LaunchPermission,
    ProductCodes,
    BlockDeviceMapping,
    SriovNetSupport,
    BootMode,
    TpmSupport,
    UefiData,
    LastLaunchedTime,
    ImdsSupport,
    DeregistrationProtection,
}

impl ImageAttribute {
    const ALL: [ImageAttribute; 13] = [
        ImageAttribute::Description,
        ImageAttribute::Kernel,
        ImageAttribute::Ramdisk,
        ImageAttribute::LaunchPermission,
        ImageAttribute::ProductCodes,
        ImageAttribute::BlockDeviceMapping,
        ImageAttribute::SriovNetSupport,
        ImageAttribute::BootMode,
        ImageAttribute::TpmSupport,
        ImageAttribute::UefiData,
        ImageAttribute::LastLaunchedTime,
        ImageAttribute::ImdsSupport,
        ImageAttribute::DeregistrationProtection,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ImageAttribute::Description => "description",
            ImageAttribute::Kernel => "kernel",
            ImageAttribute::Ramdisk => "ramdisk",
            ImageAttribute::LaunchPermission => "launchPermission",
            ImageAttribute::ProductCodes => "productCodes",
            ImageAttribute::BlockDeviceMapping => "blockDeviceMapping",
            ImageAttribute::SriovNetSupport => "sriovNetSupport",
            ImageAttribute::BootMode => "bootMode",
            ImageAttribute::TpmSupport => "tpmSupport",
            ImageAttribute::UefiData => "uefiData",
            ImageAttribute::LastLaunchedTime => "lastLaunchedTime",
            ImageAttribute::ImdsSupport => "imdsSupport",
            ImageAttribute::DeregistrationProtection => "deregistrationProtection",
        }
    }

    pub fn from_name(name: &str) -> Option<ImageAttribute> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }
}

/// The DescribeImageAttribute answer: the image id and the one attribute asked for
/// (`permissions` are the image's launch permissions, read only for that attribute).
pub fn write_attribute(x: &mut Xml, image: &Image, attribute: ImageAttribute, permissions: &[LaunchPermission]) {
    x.text("imageId", &image.image_id);
    let value = match attribute {
        ImageAttribute::LaunchPermission => {
            x.list("launchPermission", permissions, write_launch_permission);
            return;
        }
        ImageAttribute::ProductCodes => {
            write_product_codes(x, &image.product_codes);
            return;
        }
        ImageAttribute::BlockDeviceMapping => {
            write_block_device_mappings(x, &image.block_device_mappings);
            return;
        }
        ImageAttribute::Description => image.description.as_deref(),
        ImageAttribute::Kernel => image.kernel_id.as_deref(),
        ImageAttribute::Ramdisk => image.ramdisk_id.as_deref(),
        ImageAttribute::SriovNetSupport => image.sriov_net_support.as_deref(),
        ImageAttribute::BootMode => image.boot_mode.as_deref(),
        ImageAttribute::TpmSupport => image.tpm_support.as_deref(),
        ImageAttribute::UefiData => image.uefi_data.as_deref(),
        ImageAttribute::LastLaunchedTime => image.last_launched_time.as_deref(),
        ImageAttribute::ImdsSupport => image.imds_support.as_deref(),
        ImageAttribute::DeregistrationProtection => Some(image.deregistration_protection.as_str()),
    };
    x.attribute_value(attribute.name(), value);
}

fn write_launch_permission(x: &mut Xml, grant: &LaunchPermission) {
    let element = match grant {
        LaunchPermission::User(_) => "userId",
        LaunchPermission::Group(_) => "group",
        LaunchPermission::Organization(_) => "organizationArn",
        LaunchPermission::OrganizationalUnit(_) => "organizationalUnitArn",
    };
    x.text(element, grant.parts().1);
}

pub fn write_product_codes(x: &mut Xml, codes: &[ProductCode]) {
    x.list("productCodes", codes, |x, c| {
        x.text("productCode", &c.id).text("type", &c.code_type);
    });
}

/// DeregisterImage's `deleteSnapshotResultSet`: what became of each snapshot of the
/// image (`success`, `skipped`, `missing-permissions`, `client-error`).
pub fn write_snapshot_deletions(x: &mut Xml, results: &[(String, &str)]) {
    x.list("deleteSnapshotResultSet", results, |x, (snapshot_id, code)| {
        x.text("snapshotId", snapshot_id).text("returnCode", code);
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::image::{EbsBlockDevice, StateReason};
    use crate::domain::lifecycle::ImageState;

    fn image() -> Image {
        Image {
            image_id: "ami-0123456789abcdef0".into(),
            owner_id: "123456789012".into(),
            region: "us-east-1".into(),
            name: "my-ami".into(),
            image_location: "123456789012/my-ami".into(),
            state: ImageState::Available,
            architecture: "x86_64".into(),
            image_type: "machine".into(),
            platform_details: "Linux/UNIX".into(),
            usage_operation: "RunInstances".into(),
            root_device_type: "ebs".into(),
            root_device_name: Some("/dev/xvda".into()),
            virtualization_type: "hvm".into(),
            hypervisor: "xen".into(),
            ena_support: Some(true),
            deregistration_protection: "disabled".into(),
            creation_date: "2024-05-01T12:00:00.000Z".into(),
            block_device_mappings: vec![
                BlockDeviceMapping {
                    device_name: "/dev/xvda".into(),
                    ebs: Some(EbsBlockDevice {
                        snapshot_id: Some("snap-0123456789abcdef0".into()),
                        volume_size: Some(8),
                        volume_type: Some("gp3".into()),
                        delete_on_termination: Some(true),
                        iops: Some(3000),
                        throughput: Some(125),
                        encrypted: Some(false),
                        kms_key_id: None,
                    }),
                    ..Default::default()
                },
                BlockDeviceMapping {
                    device_name: "/dev/sdb".into(),
                    virtual_name: Some("ephemeral0".into()),
                    ..Default::default()
                },
                BlockDeviceMapping { device_name: "/dev/sdc".into(), no_device: true, ..Default::default() },
            ],
            ..Default::default()
        }
    }

    fn written(write: impl FnOnce(&mut Xml)) -> String {
        let mut x = Xml::new();
        write(&mut x);
        x.into_string()
    }

    const MAPPINGS_XML: &str = "<blockDeviceMapping><item><deviceName>/dev/xvda</deviceName><ebs><snapshotId>snap-0123456789abcdef0</snapshotId>\
        <volumeSize>8</volumeSize><deleteOnTermination>true</deleteOnTermination><volumeType>gp3</volumeType><iops>3000</iops>\
        <throughput>125</throughput><encrypted>false</encrypted></ebs></item><item><deviceName>/dev/sdb</deviceName>\
        <virtualName>ephemeral0</virtualName></item><item><deviceName>/dev/sdc</deviceName><noDevice/></item></blockDeviceMapping>";

    #[test]
    fn golden_image() {
        let expected = format!(
            "<imageId>ami-0123456789abcdef0</imageId><imageLocation>123456789012/my-ami</imageLocation><imageState>available</imageState>\
             <imageOwnerId>123456789012</imageOwnerId><creationDate>2024-05-01T12:00:00.000Z</creationDate><isPublic>false</isPublic>\
             <productCodes/><architecture>x86_64</architecture><imageType>machine</imageType><platformDetails>Linux/UNIX</platformDetails>\
             <usageOperation>RunInstances</usageOperation><name>my-ami</name><rootDeviceType>ebs</rootDeviceType><rootDeviceName>/dev/xvda</rootDeviceName>\
             {MAPPINGS_XML}<virtualizationType>hvm</virtualizationType>\
             <tagSet/><hypervisor>xen</hypervisor><enaSupport>true</enaSupport><deregistrationProtection>disabled</deregistrationProtection>\
             <imageAllowed>true</imageAllowed><freeTierEligible>false</freeTierEligible>"
        );
        assert_eq!(written(|x| write_image(x, &image(), 0)), expected);
    }

    #[test]
    fn golden_image_optional_fields() {
        let mut i = image();
        i.block_device_mappings.clear();
        i.product_codes = vec![ProductCode { id: "abc123".into(), code_type: "marketplace".into() }];
        i.owner_alias = Some("aws-marketplace".into());
        i.platform = Some("windows".into());
        i.description = Some("d".into());
        i.kernel_id = Some("aki-12345678".into());
        i.state = ImageState::Failed;
        i.state_reason = Some(StateReason { code: "Server.InternalError".into(), message: "boom".into() });
        i.tags = vec![("Name".into(), "x".into())];
        i.deprecation_time = Some("2030-01-01T00:00:00.000Z".into());
        i.source_image_id = Some("ami-0fedcba9876543210".into());
        i.source_image_region = Some("us-west-2".into());
        assert_eq!(
            written(|x| write_image(x, &i, 0)),
            "<imageId>ami-0123456789abcdef0</imageId><imageLocation>123456789012/my-ami</imageLocation><imageState>failed</imageState>\
             <imageOwnerId>123456789012</imageOwnerId><creationDate>2024-05-01T12:00:00.000Z</creationDate><isPublic>false</isPublic>\
             <productCodes><item><productCode>abc123</productCode><type>marketplace</type></item></productCodes>\
             <architecture>x86_64</architecture><imageType>machine</imageType><kernelId>aki-12345678</kernelId><platform>windows</platform>\
             <platformDetails>Linux/UNIX</platformDetails><usageOperation>RunInstances</usageOperation>\
             <imageOwnerAlias>aws-marketplace</imageOwnerAlias><name>my-ami</name><description>d</description>\
             <rootDeviceType>ebs</rootDeviceType><rootDeviceName>/dev/xvda</rootDeviceName><blockDeviceMapping/>\
             <virtualizationType>hvm</virtualizationType><tagSet><item><key>Name</key><value>x</value></item></tagSet>\
             <hypervisor>xen</hypervisor><stateReason><code>Server.InternalError</code><message>boom</message></stateReason>\
             <enaSupport>true</enaSupport><deprecationTime>2030-01-01T00:00:00.000Z</deprecationTime>\
             <sourceImageId>ami-0fedcba9876543210</sourceImageId><sourceImageRegion>us-west-2</sourceImageRegion>\
             <deregistrationProtection>disabled</deregistrationProtection><imageAllowed>true</imageAllowed>\
             <freeTierEligible>false</freeTierEligible>"
        );
    }

    #[test]
    fn golden_block_device_mappings() {
        assert_eq!(written(|x| write_block_device_mappings(x, &image().block_device_mappings)), MAPPINGS_XML);
        assert_eq!(written(|x| write_block_device_mappings(x, &[])), "<blockDeviceMapping/>");
    }

    #[test]
    fn golden_launch_permission_attribute() {
        let grants = [
            LaunchPermission::Group("all".into()),
            LaunchPermission::User("123456789012".into()),
            LaunchPermission::Organization("arn:aws:organizations::123456789012:organization/o-abcdefghij".into()),
            LaunchPermission::OrganizationalUnit(
                "arn:aws:organizations::123456789012:ou/o-abcdefghij/ou-ab12-cdefgh34".into(),
            ),
        ];
        assert_eq!(
            written(|x| write_attribute(x, &image(), ImageAttribute::LaunchPermission, &grants)),
            "<imageId>ami-0123456789abcdef0</imageId><launchPermission><item><group>all</group></item>\
             <item><userId>123456789012</userId></item>\
             <item><organizationArn>arn:aws:organizations::123456789012:organization/o-abcdefghij</organizationArn></item>\
             <item><organizationalUnitArn>arn:aws:organizations::123456789012:ou/o-abcdefghij/ou-ab12-cdefgh34</organizationalUnitArn></item>\
             </launchPermission>"
        );
        assert_eq!(
            written(|x| write_attribute(x, &image(), ImageAttribute::LaunchPermission, &[])),
            "<imageId>ami-0123456789abcdef0</imageId><launchPermission/>"
        );
    }

    #[test]
    fn golden_list_attributes() {
        let mut i = image();
        i.product_codes = vec![ProductCode { id: "abc123".into(), code_type: "marketplace".into() }];
        assert_eq!(
            written(|x| write_attribute(x, &i, ImageAttribute::ProductCodes, &[])),
            "<imageId>ami-0123456789abcdef0</imageId>\
             <productCodes><item><productCode>abc123</productCode><type>marketplace</type></item></productCodes>"
        );
        assert_eq!(
            written(|x| write_attribute(x, &i, ImageAttribute::BlockDeviceMapping, &[])),
            format!("<imageId>ami-0123456789abcdef0</imageId>{MAPPINGS_XML}")
        );
    }

    #[test]
    fn golden_scalar_attributes() {
        let mut i = image();
        i.description = Some("d".into());
        assert_eq!(
            written(|x| write_attribute(x, &i, ImageAttribute::Description, &[])),
            "<imageId>ami-0123456789abcdef0</imageId><description><value>d</value></description>"
        );
        assert_eq!(
            written(|x| write_attribute(x, &i, ImageAttribute::Kernel, &[])),
            "<imageId>ami-0123456789abcdef0</imageId><kernel/>"
        );
        assert_eq!(
            written(|x| write_attribute(x, &i, ImageAttribute::DeregistrationProtection, &[])),
            "<imageId>ami-0123456789abcdef0</imageId><deregistrationProtection><value>disabled</value></deregistrationProtection>"
        );
    }

    #[test]
    fn attribute_names_round_trip() {
        for attribute in ImageAttribute::ALL {
            assert_eq!(ImageAttribute::from_name(attribute.name()), Some(attribute));
        }
        assert_eq!(ImageAttribute::from_name("Description"), None);
    }

    #[test]
    fn golden_snapshot_deletions() {
        let results =
            [("snap-0123456789abcdef0".to_string(), "success"), ("snap-0fedcba9876543210".to_string(), "skipped")];
        assert_eq!(
            written(|x| write_snapshot_deletions(x, &results)),
            "<deleteSnapshotResultSet><item><snapshotId>snap-0123456789abcdef0</snapshotId><returnCode>success</returnCode></item>\
             <item><snapshotId>snap-0fedcba9876543210</snapshotId><returnCode>skipped</returnCode></item></deleteSnapshotResultSet>"
        );
    }
}
