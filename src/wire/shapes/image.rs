//! The `Image` shape (DescribeImages) and the block-device mappings images and
//! instances share.

use crate::domain::image::{BlockDeviceMapping, Image};
use crate::wire::xml::Xml;

pub fn write_image(x: &mut Xml, i: &Image) {
    x.text("imageId", &i.image_id)
        .text("imageLocation", &i.image_location)
        .text("imageState", &i.state)
        .text("imageOwnerId", &i.owner_id)
        .text("creationDate", &i.creation_date)
        .bool("isPublic", i.is_public);
    x.list("productCodes", &i.product_codes, |x, c| {
        x.text("productCode", &c.id).text("type", &c.code_type);
    });
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
        .text("deregistrationProtection", &i.deregistration_protection)
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
