//! Instance types: what each one is (vCPUs, memory, architectures, virtualization,
//! boot modes, storage, network, GPUs), where it is offered, and what RunInstances checks
//! against it. The one source of truth is `instance_types.tsv` beside this file: real
//! answers of EC2's DescribeInstanceTypes, one type per line.

use std::collections::HashMap;
use std::sync::LazyLock;

use crate::domain::regions::REGIONS;
use crate::ec2_err;
use crate::error::Result;

static DATA: &str = include_str!("instance_types.tsv");

/// Every known type, in the order of the data file (by family, then size).
pub static INSTANCE_TYPES: LazyLock<Vec<InstanceType>> = LazyLock::new(|| parse(DATA));

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceType {
    pub name: &'static str,
    pub current_generation: bool,
    pub free_tier_eligible: bool,
    pub usage_classes: Vec<&'static str>,
    pub root_device_types: Vec<&'static str>,
    pub virtualization_types: Vec<&'static str>,
    pub bare_metal: bool,
    /// `xen` or `nitro`; none for bare metal.
    pub hypervisor: Option<&'static str>,
    pub architectures: Vec<&'static str>,
    pub manufacturer: &'static str,
    /// As EC2 writes it (`2.5`, `3.1`).
    pub clock_ghz: Option<&'static str>,
    pub processor_features: Vec<&'static str>,
    pub vcpus: i64,
    pub cores: Option<i64>,
    pub threads_per_core: Option<i64>,
    pub valid_cores: Vec<&'static str>,
    pub valid_threads_per_core: Vec<&'static str>,
    pub memory_mib: i64,
    pub instance_storage: Option<InstanceStorage>,
    pub ebs: EbsInfo,
    pub network: NetworkInfo,
    pub gpus: Vec<Gpu>,
    pub placement_strategies: Vec<&'static str>,
    pub hibernation: bool,
    pub burstable: bool,
    pub dedicated_hosts: bool,
    pub auto_recovery: bool,
    pub boot_modes: Vec<&'static str>,
    pub nitro_enclaves: &'static str,
    pub nitro_tpm: &'static str,
    pub nitro_tpm_versions: Vec<&'static str>,
    pub phc: &'static str,
    pub reboot_migration: &'static str,
    pub offered: Offered,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceStorage {
    pub disks: Vec<Disk>,
    pub nvme_support: &'static str,
    pub encryption_support: &'static str,
}

impl InstanceStorage {
    pub fn total_size_gb(&self) -> i64 {
        self.disks.iter().map(|d| d.count * d.size_gb).sum()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disk {
    pub count: i64,
    pub size_gb: i64,
    /// `hdd` or `ssd`.
    pub kind: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EbsInfo {
    pub optimized_support: &'static str,
    pub encryption_support: &'static str,
    pub nvme_support: &'static str,
    /// Baseline Mbps, MB/s and IOPS, then the maximum ones, as EC2 writes them.
    pub bandwidth: Option<[&'static str; 6]>,
    pub max_attachments: Option<&'static str>,
    pub attachment_limit_type: Option<&'static str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkInfo {
    pub performance: &'static str,
    pub max_network_cards: i64,
    pub max_interfaces: i64,
    pub ipv4_per_interface: i64,
    pub ipv6_per_interface: i64,
    pub ipv6_supported: bool,
    /// `unsupported`, `supported` or `required`.
    pub ena_support: &'static str,
    pub efa_supported: bool,
    pub max_efa_interfaces: Option<&'static str>,
    pub encryption_in_transit: bool,
    pub ena_srd: bool,
    pub flexible_ena_queues: &'static str,
    /// Network card 0: baseline and peak Gbps, default ENA queues per interface.
    pub card_baseline_gbps: &'static str,
    pub card_peak_gbps: &'static str,
    pub card_default_ena_queues: Option<&'static str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gpu {
    pub count: i64,
    pub manufacturer: &'static str,
    pub name: &'static str,
    pub memory_mib: i64,
}

/// The regions that offer a type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Offered {
    Everywhere,
    EverywhereBut(Vec<&'static str>),
    Only(Vec<&'static str>),
}

impl InstanceType {
    /// `t3` of `t3.micro`, `mac2-m2` of `mac2-m2.metal`.
    pub fn family(&self) -> &'static str {
        self.name.split('.').next().unwrap_or(self.name)
    }

    pub fn offered_in(&self, region: &str) -> bool {
        match &self.offered {
            Offered::Everywhere => true,
            Offered::EverywhereBut(regions) => !regions.contains(&region),
            Offered::Only(regions) => regions.contains(&region),
        }
    }

    pub fn supports_architecture(&self, architecture: &str) -> bool {
        self.architectures.contains(&architecture)
    }

    pub fn supports_virtualization(&self, virtualization_type: &str) -> bool {
        self.virtualization_types.contains(&virtualization_type)
    }

    pub fn supports_boot_mode(&self, boot_mode: &str) -> bool {
        self.boot_modes.contains(&boot_mode)
    }

    /// The architecture EC2 names for the type in its errors: its 64-bit one.
    pub fn architecture(&self) -> &'static str {
        self.architectures.iter().copied().rfind(|a| *a != "i386").unwrap_or("x86_64")
    }

    pub fn total_gpu_memory_mib(&self) -> i64 {
        self.gpus.iter().map(|g| g.count * g.memory_mib).sum()
    }

    /// The CPU credit option a burstable instance of this type launches with: T2
    /// instances `standard`, the later T families `unlimited`; none for other types.
    pub fn default_cpu_credits(&self) -> Option<&'static str> {
        match (self.burstable, self.family()) {
            (false, _) => None,
            (true, "t2") => Some("standard"),
            (true, _) => Some("unlimited"),
        }
    }
}

/// The type named `name`; an unknown name is refused as RunInstances refuses it.
pub fn instance_type(name: &str) -> Result<&'static InstanceType> {
    find(name).ok_or_else(|| ec2_err!(InvalidParameterValue, "Invalid value '{name}' for InstanceType."))
}

pub fn find(name: &str) -> Option<&'static InstanceType> {
    static BY_NAME: LazyLock<HashMap<&'static str, &'static InstanceType>> =
        LazyLock::new(|| INSTANCE_TYPES.iter().map(|t| (t.name, t)).collect());
    BY_NAME.get(name).copied()
}

/// Whether an image of this architecture and virtualization may run on `itype`,
/// answered with the errors EC2 gives. (The boot mode is not checked: EC2 launches a
/// UEFI image on a BIOS-only type, which then fails to boot.)
pub fn check_compatible(itype: &InstanceType, architecture: &str, virtualization_type: &str) -> Result<()> {
    if !itype.supports_architecture(architecture) {
        return Err(ec2_err!(
            InvalidParameterValue,
            "The architecture '{}' of the specified instance type does not match the architecture '{architecture}' of the specified AMI. Specify an instance type and an AMI that have matching architectures, and try again. You can use 'describe-instance-types' or 'describe-images' to discover the architecture of the instance type or AMI.",
            itype.architecture()
        ));
    }
    if !itype.supports_virtualization(virtualization_type) {
        return Err(ec2_err!(
            InvalidParameterCombination,
            "Virtualization type 'hvm' is required for instances of type '{}'.",
            itype.name
        ));
    }
    Ok(())
}

/// Whether the data file names a region of `domain::regions` (a misspelt one would
/// silently offer a type nowhere, or everywhere).
fn known_region(name: &str) -> bool {
    REGIONS.iter().any(|r| r.name == name)
}

// The data file ---------------------------------------------------------------------------

/// One line of the data file, its fields by column name.
struct Row<'h> {
    header: &'h [&'static str],
    fields: Vec<&'static str>,
}

impl Row<'_> {
    fn get(&self, column: &str) -> &'static str {
        let i = self.header.iter().position(|c| *c == column).unwrap_or_else(|| panic!("no column {column}"));
        self.fields[i]
    }

    fn opt(&self, column: &str) -> Option<&'static str> {
        Some(self.get(column)).filter(|v| *v != "-")
    }

    fn list(&self, column: &str) -> Vec<&'static str> {
        self.opt(column).map(|v| v.split(',').collect()).unwrap_or_default()
    }

    fn flag(&self, column: &str) -> bool {
        match self.get(column) {
            "true" => true,
            "false" => false,
            other => panic!("{}: {column} is {other}", self.get("instance_type")),
        }
    }

    fn int(&self, column: &str) -> i64 {
        self.get(column).parse().unwrap_or_else(|_| panic!("{}: {column} is not a number", self.get("instance_type")))
    }
}

fn parse(data: &'static str) -> Vec<InstanceType> {
    let mut lines = data.lines().filter(|l| !l.starts_with('#') && !l.is_empty());
    let header: Vec<&'static str> = lines.next().expect("a header line").split('\t').collect();
    lines
        .map(|line| {
            let fields: Vec<&'static str> = line.split('\t').collect();
            assert_eq!(fields.len(), header.len(), "{line}");
            instance_type_of(&Row { header: &header, fields })
        })
        .collect()
}

fn instance_type_of(r: &Row<'_>) -> InstanceType {
    InstanceType {
        name: r.get("instance_type"),
        current_generation: r.flag("current_generation"),
        free_tier_eligible: r.flag("free_tier_eligible"),
        usage_classes: r.list("usage_classes"),
        root_device_types: r.list("root_device_types"),
        virtualization_types: r.list("virtualization_types"),
        bare_metal: r.flag("bare_metal"),
        hypervisor: r.opt("hypervisor"),
        architectures: r.list("architectures"),
        manufacturer: r.get("manufacturer"),
        clock_ghz: r.opt("clock_ghz"),
        processor_features: r.list("processor_features"),
        vcpus: r.int("vcpus"),
        cores: r.opt("cores").map(|_| r.int("cores")),
        threads_per_core: r.opt("threads_per_core").map(|_| r.int("threads_per_core")),
        valid_cores: r.list("valid_cores"),
        valid_threads_per_core: r.list("valid_threads_per_core"),
        memory_mib: r.int("memory_mib"),
        instance_storage: r.opt("instance_storage").map(|disks| InstanceStorage {
            disks: disks.split('+').map(disk).collect(),
            nvme_support: r.get("storage_nvme"),
            encryption_support: r.get("storage_encryption"),
        }),
        ebs: EbsInfo {
            optimized_support: r.get("ebs_optimized"),
            encryption_support: r.get("ebs_encryption"),
            nvme_support: r.get("ebs_nvme"),
            bandwidth: r.opt("ebs_bandwidth").map(|b| {
                let parts: Vec<&'static str> = b.split('/').collect();
                parts.try_into().unwrap_or_else(|_| panic!("ebs_bandwidth {b}"))
            }),
            max_attachments: r.opt("max_ebs_attachments"),
            attachment_limit_type: r.opt("attachment_limit_type"),
        },
        network: network_of(r),
        gpus: r.opt("gpus").map(|g| g.split('+').map(gpu).collect()).unwrap_or_default(),
        placement_strategies: r.list("placement_strategies"),
        hibernation: r.flag("hibernation"),
        burstable: r.flag("burstable"),
        dedicated_hosts: r.flag("dedicated_hosts"),
        auto_recovery: r.flag("auto_recovery"),
        boot_modes: r.list("boot_modes"),
        nitro_enclaves: r.get("nitro_enclaves"),
        nitro_tpm: r.get("nitro_tpm"),
        nitro_tpm_versions: r.list("nitro_tpm_versions"),
        phc: r.get("phc"),
        reboot_migration: r.get("reboot_migration"),
        offered: offered(r.get("regions")),
    }
}

fn network_of(r: &Row<'_>) -> NetworkInfo {
    let card: Vec<&'static str> = r.get("card_bandwidth").split('/').collect();
    assert_eq!(card.len(), 3, "card_bandwidth of {}", r.get("instance_type"));
    NetworkInfo {
        performance: r.get("network_performance"),
        max_network_cards: r.int("max_network_cards"),
        max_interfaces: r.int("max_enis"),
        ipv4_per_interface: r.int("ipv4_per_eni"),
        ipv6_per_interface: r.int("ipv6_per_eni"),
        ipv6_supported: r.flag("ipv6_supported"),
        ena_support: r.get("ena_support"),
        efa_supported: r.flag("efa_supported"),
        max_efa_interfaces: r.opt("max_efa_interfaces"),
        encryption_in_transit: r.flag("encryption_in_transit"),
        ena_srd: r.flag("ena_srd"),
        flexible_ena_queues: r.get("flexible_ena_queues"),
        card_baseline_gbps: card[0],
        card_peak_gbps: card[1],
        card_default_ena_queues: Some(card[2]).filter(|q| *q != "-"),
    }
}

/// `1x475:ssd`
fn disk(text: &'static str) -> Disk {
    let (count, rest) = text.split_once('x').expect("COUNTxGB:TYPE");
    let (size, kind) = rest.split_once(':').expect("COUNTxGB:TYPE");
    Disk { count: count.parse().expect("disk count"), size_gb: size.parse().expect("disk size"), kind }
}

/// `1xNVIDIA:A10G:22888`
fn gpu(text: &'static str) -> Gpu {
    let (count, rest) = text.split_once('x').expect("COUNTxMAKER:NAME:MiB");
    let mut parts = rest.split(':');
    let (Some(manufacturer), Some(name), Some(memory)) = (parts.next(), parts.next(), parts.next()) else {
        panic!("gpu {text}")
    };
    Gpu {
        count: count.parse().expect("gpu count"),
        manufacturer,
        name,
        memory_mib: memory.parse().expect("gpu memory"),
    }
}

fn offered(regions: &'static str) -> Offered {
    let checked = |list: &'static str| {
        let names: Vec<&'static str> = list.split(',').filter(|r| !r.is_empty()).collect();
        assert!(names.iter().all(|r| known_region(r)), "unknown region in {list}");
        names
    };
    match regions {
        "*" => Offered::Everywhere,
        "-" => Offered::Only(Vec::new()),
        _ => match regions.strip_prefix("*-") {
            Some(but) => Offered::EverywhereBut(checked(but)),
            None => Offered::Only(checked(regions)),
        },
    }
}

/// The CPU credit options of burstable types.
const CPU_CREDITS: &[&str] = &["standard", "unlimited"];

/// RunInstances' `CreditSpecification.CpuCredits`: the option an instance of `itype`
/// launches with (its type's default when not given). Only burstable types take one.
pub fn launch_credits(requested: Option<&str>, itype: &InstanceType) -> Result<Option<String>> {
    let Some(credits) = requested else {
        return Ok(itype.default_cpu_credits().map(str::to_string));
    };
    check_credits(credits)?;
    if !itype.burstable {
        return Err(not_burstable(itype.name));
    }
    Ok(Some(credits.to_string()))
}

pub fn check_credits(credits: &str) -> Result<()> {
    if CPU_CREDITS.contains(&credits) {
        Ok(())
    } else {
        Err(crate::error::Ec2Error::invalid_value("CpuCredits", credits))
    }
}

pub fn not_burstable(instance_type: &str) -> crate::error::Ec2Error {
    ec2_err!(
        InstanceCreditSpecification_NotSupported,
        "The {instance_type} instance type does not support T2 Unlimited."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAMILIES: &[&str] = &[
        "t2", "t3", "t3a", "t4g", "m5", "m6i", "m7g", "c5", "c6g", "c7i", "r5", "r6g", "i3", "p3", "g5", "mac1", "mac2",
    ];

    #[test]
    fn every_family_asked_for_is_present_with_its_sizes() {
        for family in FAMILIES {
            let sizes = INSTANCE_TYPES.iter().filter(|t| t.family() == *family).count();
            assert!(sizes >= 1, "{family}");
        }
        for name in [
            "t2.nano",
            "t2.2xlarge",
            "t3.micro",
            "t3a.2xlarge",
            "t4g.nano",
            "m5.24xlarge",
            "m5.metal",
            "m6i.32xlarge",
            "m7g.medium",
            "c5.18xlarge",
            "c6g.16xlarge",
            "c7i.metal-48xl",
            "r5.large",
            "r6g.metal",
            "i3.16xlarge",
            "i3.metal",
            "p3.2xlarge",
            "p3.16xlarge",
            "g5.48xlarge",
            "mac1.metal",
            "mac2.metal",
        ] {
            assert!(find(name).is_some(), "{name}");
        }
    }

    #[test]
    fn real_values_of_well_known_types() {
        let t3 = instance_type("t3.micro").unwrap();
        assert_eq!((t3.vcpus, t3.cores, t3.threads_per_core, t3.memory_mib), (2, Some(1), Some(2), 1024));
        assert_eq!((t3.network.max_interfaces, t3.network.ipv4_per_interface), (2, 2));
        assert_eq!((t3.hypervisor, t3.network.ena_support), (Some("nitro"), "required"));
        assert!(t3.burstable && t3.free_tier_eligible && t3.instance_storage.is_none());
        assert_eq!(t3.boot_modes, ["legacy-bios", "uefi"]);

        let t2 = instance_type("t2.micro").unwrap();
        assert_eq!(t2.architectures, ["i386", "x86_64"]);
        assert_eq!((t2.hypervisor, t2.boot_modes.as_slice()), (Some("xen"), &["legacy-bios"][..]));

        let i3 = instance_type("i3.large").unwrap().instance_storage.as_ref().unwrap();
        assert_eq!((i3.total_size_gb(), i3.disks[0].kind, i3.nvme_support), (475, "ssd", "required"));

        let p3 = instance_type("p3.8xlarge").unwrap();
        assert_eq!(p3.gpus, [Gpu { count: 4, manufacturer: "NVIDIA", name: "V100", memory_mib: 16384 }]);
        assert_eq!(p3.total_gpu_memory_mib(), 65536);
        assert_eq!(instance_type("g5.xlarge").unwrap().gpus[0].name, "A10G");

        let mac1 = instance_type("mac1.metal").unwrap();
        assert_eq!(
            (mac1.architectures.as_slice(), mac1.bare_metal, mac1.hypervisor),
            (&["x86_64_mac"][..], true, None)
        );
        assert_eq!(instance_type("mac2.metal").unwrap().architectures, ["arm64_mac"]);
        assert!(instance_type("m1.small").unwrap().supports_virtualization("paravirtual"));
    }

    #[test]
    fn graviton_families_are_arm64_and_others_are_not() {
        for t in INSTANCE_TYPES.iter() {
            let family = t.family();
            // A `g` after the generation digit (t4g, m7g, c6g, r6g, g5g) marks Graviton.
            let graviton = family.trim_start_matches(|c: char| c.is_ascii_lowercase()).contains('g');
            if family.starts_with("mac") {
                continue;
            }
            assert_eq!(t.architectures == ["arm64"], graviton || family == "a1", "{}", t.name);
        }
    }

    #[test]
    fn every_row_is_consistent() {
        for t in INSTANCE_TYPES.iter() {
            assert!(t.vcpus >= 1 && t.memory_mib >= 512, "{}", t.name);
            if let (Some(cores), Some(threads)) = (t.cores, t.threads_per_core) {
                assert_eq!(cores * threads, t.vcpus, "{}", t.name);
            }
            let t_family = ["t2", "t3", "t3a", "t4g"].contains(&t.family());
            assert_eq!(t.burstable, t_family, "{}", t.name);
            assert!(!t.boot_modes.is_empty() && t.virtualization_types.contains(&"hvm"), "{}", t.name);
            assert!(t.network.max_interfaces >= 1 && t.network.ipv4_per_interface >= 1, "{}", t.name);
            assert_eq!(t.bare_metal, t.hypervisor.is_none(), "{}", t.name);
        }
        let free: Vec<_> = INSTANCE_TYPES.iter().filter(|t| t.free_tier_eligible).map(|t| t.name).collect();
        assert_eq!(free, ["t2.micro", "t3.micro"]);
    }

    #[test]
    fn offerings_follow_the_regions_of_the_data() {
        assert!(instance_type("t3.micro").unwrap().offered_in("us-east-1"));
        assert!(instance_type("mac2.metal").unwrap().offered_in("us-east-1"));
        assert!(!instance_type("mac2.metal").unwrap().offered_in("af-south-1"));
        assert!(!instance_type("t2.micro").unwrap().offered_in("eu-north-1"));
        let in_us_east_1 = INSTANCE_TYPES.iter().filter(|t| t.offered_in("us-east-1")).count();
        assert!(in_us_east_1 > 200, "{in_us_east_1}");
    }

    #[test]
    fn credits_default_by_family() {
        let credits = |name| instance_type(name).unwrap().default_cpu_credits();
        assert_eq!(credits("t2.micro"), Some("standard"));
        assert_eq!(credits("t3.micro"), Some("unlimited"));
        assert_eq!(credits("t3a.small"), Some("unlimited"));
        assert_eq!(credits("t4g.nano"), Some("unlimited"));
        assert_eq!(credits("m5.large"), None);
        assert_eq!(credits("t1.micro"), None);
    }

    #[test]
    fn architecture_and_virtualization_are_checked() {
        let arm = instance_type("t4g.micro").unwrap();
        assert!(check_compatible(arm, "arm64", "hvm").is_ok());
        let err = check_compatible(arm, "x86_64", "hvm").unwrap_err();
        assert_eq!(err.code, "InvalidParameterValue");
        assert!(err.message.starts_with("The architecture 'arm64' of the specified instance type"));
        let t3 = instance_type("t3.micro").unwrap();
        assert!(check_compatible(t3, "arm64", "hvm").unwrap_err().message.contains("'x86_64' of the specified"));
        assert_eq!(check_compatible(t3, "x86_64", "paravirtual").unwrap_err().code, "InvalidParameterCombination");
        assert_eq!(check_compatible(t3, "i386", "hvm").unwrap_err().code, "InvalidParameterValue");
        assert!(check_compatible(instance_type("t2.micro").unwrap(), "i386", "hvm").is_ok());
        assert!(check_compatible(instance_type("m1.small").unwrap(), "i386", "paravirtual").is_ok());
        assert!(check_compatible(instance_type("mac2.metal").unwrap(), "arm64_mac", "hvm").is_ok());
        let err = instance_type("z9.huge").unwrap_err();
        assert_eq!(err.message, "Invalid value 'z9.huge' for InstanceType.");
    }
}
