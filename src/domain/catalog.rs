//! The public image catalog: a data file of publishers' images (`catalog/default.json`),
//! placed into every region with ids that are the same on every machine and every start.

use super::lifecycle::{ImageState, SnapshotState};
use serde::Deserialize;

use super::ids::{fnv1a, stable_id};
use super::image::{BlockDeviceMapping, EbsBlockDevice, Image, ProductCode};
use super::snapshot::Snapshot;

/// The built-in catalog, compiled into the binary.
pub const DEFAULT_CATALOG: &str = include_str!("../../catalog/default.json");

#[derive(Debug, Clone, Deserialize)]
pub struct CatalogFile {
    pub images: Vec<CatalogImage>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CatalogImage {
    pub name: String,
    pub description: Option<String>,
    pub owner_id: String,
    pub owner_alias: Option<String>,
    pub architecture: String,
    pub virtualization_type: String,
    pub root_device_type: String,
    pub root_device_name: String,
    pub image_location: String,
    pub volume_size: Option<i64>,
    pub volume_type: Option<String>,
    pub ena_support: Option<bool>,
    pub sriov_net_support: Option<String>,
    pub boot_mode: Option<String>,
    pub tpm_support: Option<String>,
    pub imds_support: Option<String>,
    pub platform: Option<String>,
    pub platform_details: String,
    pub usage_operation: String,
    pub kernel_id: Option<String>,
    pub ramdisk_id: Option<String>,
    pub creation_date: String,
    pub deprecation_time: Option<String>,
    #[serde(default)]
    pub product_codes: Vec<ProductCode>,
    #[serde(default)]
    pub extra_mappings: Vec<BlockDeviceMapping>,
}

pub fn parse(text: &str) -> Result<CatalogFile, serde_json::Error> {
    serde_json::from_str(text)
}

/// A fingerprint of the catalog's content, to tell when a region must be re-seeded.
pub fn fingerprint(texts: &[&str]) -> String {
    // The version of how entries become rows: bump it when `materialize` changes.
    const MATERIALIZE_VERSION: &str = "3";
    let mut parts = vec![MATERIALIZE_VERSION];
    parts.extend_from_slice(texts);
    format!("{:016x}", fnv1a(0, &parts))
}

/// A deprecation time as EC2 shows one, in whole seconds. DescribeImages compares them
/// with the current second (`store::images::ImageQuery::now_iso`), which is the same as
/// comparing with the current instant only for whole-second times.
fn whole_second(time: &str) -> String {
    match super::clock::parse_iso(time) {
        Some(ms) => super::clock::iso(ms - ms.rem_euclid(1000)),
        None => time.to_string(),
    }
}

impl CatalogImage {
    /// The image (and its root snapshot, for EBS images) as it exists in `region`.
    pub fn materialize(&self, region: &str) -> (Image, Option<Snapshot>) {
        let image_id = stable_id("ami", &[region, &self.owner_id, &self.name]);
        let snapshot = (self.root_device_type == "ebs").then(|| Snapshot {
            snapshot_id: stable_id("snap", &[region, &self.owner_id, &self.name, "root-snapshot"]),
            owner_id: self.owner_id.clone(),
            region: region.to_string(),
            volume_id: "vol-ffffffff".to_string(),
            volume_size: self.volume_size.unwrap_or(8),
            description: format!("Snapshot of {}", self.name),
            state: SnapshotState::Completed,
            start_time: 0,
            completion_time: Some(0),
            owner_alias: self.owner_alias.clone(),
            is_public: true,
            ..Default::default()
        });
        let mut mappings: Vec<BlockDeviceMapping> = snapshot
            .iter()
            .map(|s| BlockDeviceMapping {
                device_name: self.root_device_name.clone(),
                ebs: Some(EbsBlockDevice {
                    snapshot_id: Some(s.snapshot_id.clone()),
                    volume_size: Some(s.volume_size),
                    volume_type: self.volume_type.clone().or(Some("gp2".into())),
                    delete_on_termination: Some(true),
                    iops: (self.volume_type.as_deref() == Some("gp3")).then_some(3000),
                    throughput: (self.volume_type.as_deref() == Some("gp3")).then_some(125),
                    encrypted: Some(false),
                    kms_key_id: None,
                }),
                ..Default::default()
            })
            .collect();
        mappings.extend(self.extra_mappings.iter().cloned());
        let image = Image {
            image_id,
            owner_id: self.owner_id.clone(),
            region: region.to_string(),
            name: self.name.clone(),
            description: self.description.clone(),
            image_location: self.image_location.clone(),
            state: ImageState::Available,
            architecture: self.architecture.clone(),
            image_type: "machine".to_string(),
            platform: self.platform.clone(),
            platform_details: self.platform_details.clone(),
            usage_operation: self.usage_operation.clone(),
            root_device_type: self.root_device_type.clone(),
            root_device_name: Some(self.root_device_name.clone()),
            virtualization_type: self.virtualization_type.clone(),
            hypervisor: "xen".to_string(),
            kernel_id: self.kernel_id.clone(),
            ramdisk_id: self.ramdisk_id.clone(),
            ena_support: self.ena_support,
            sriov_net_support: self.sriov_net_support.clone(),
            boot_mode: self.boot_mode.clone(),
            tpm_support: self.tpm_support.clone(),
            imds_support: self.imds_support.clone(),
            owner_alias: self.owner_alias.clone(),
            deprecation_time: self.deprecation_time.as_deref().map(whole_second),
            deregistration_protection: "disabled".to_string(),
            creation_date: self.creation_date.clone(),
            block_device_mappings: mappings,
            product_codes: self.product_codes.clone(),
            is_public: true,
            ..Default::default()
        };
        (image, snapshot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::stable_id;
    use crate::domain::ids::{is_well_formed, IdKind};

    #[test]
    fn ids_are_stable_well_formed_and_distinct_per_region() {
        let a = stable_id("ami", &["us-east-1", "137112412989", "al2023"]);
        assert_eq!(a, stable_id("ami", &["us-east-1", "137112412989", "al2023"]));
        assert_ne!(a, stable_id("ami", &["eu-west-1", "137112412989", "al2023"]));
        assert!(is_well_formed(IdKind::Image, &a), "{a}");
    }

    #[test]
    fn the_default_catalog_parses_and_its_images_are_valid() {
        let catalog = parse(DEFAULT_CATALOG).expect("catalog/default.json parses");
        assert!(catalog.images.len() >= 30);
        for entry in &catalog.images {
            crate::domain::image::validate_name(&entry.name).unwrap_or_else(|e| panic!("{}: {e}", entry.name));
            let (image, snapshot) = entry.materialize("us-east-1");
            assert_eq!(snapshot.is_some(), image.root_device_type == "ebs", "{}", entry.name);
            assert!(crate::domain::clock::parse_iso(&image.creation_date).is_some(), "{}", entry.name);
        }
    }

    #[test]
    fn deprecation_times_are_whole_seconds() {
        let mut entry = parse(DEFAULT_CATALOG).unwrap().images.remove(0);
        entry.deprecation_time = Some("2030-01-01T00:00:00.999Z".into());
        assert_eq!(entry.materialize("us-east-1").0.deprecation_time.as_deref(), Some("2030-01-01T00:00:00.000Z"));
    }
}
