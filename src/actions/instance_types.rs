//! DescribeInstanceTypes, DescribeInstanceTypeOfferings, DescribeInstanceCreditSpecifications
//! and ModifyInstanceCreditSpecification, over the instance types of `domain::instance_types`.

use super::{Ctx, FromParams};
use crate::domain::filter::{filter_in_memory, Filter};
use crate::domain::ids::{self, IdKind};
use crate::domain::instance::Instance;
use crate::domain::instance_types::{self as types, check_credits, not_burstable, InstanceType, INSTANCE_TYPES};
use crate::domain::lifecycle::InstanceState;
use crate::domain::regions;
use crate::ec2_err;
use crate::error::{Ec2Error, Result};
use crate::store::filters::Page;
use crate::store::instances::{self as instance_store, InstanceQuery};
use crate::wire::params::Params;
use crate::wire::query::{check_filter_names, dedup, parse_filters, parse_page, write_next_token};
use crate::wire::shapes::instance_type::{
    write_credit_changes, write_credit_specification, write_instance_type, write_offering,
};
use crate::wire::xml::Xml;

/// The items of one page of a list sorted by `key`, and the key to continue after.
/// `default_limit` is the page EC2 answers when no `MaxResults` is given.
fn page_of<T>(
    mut items: Vec<T>,
    page: &Page,
    default_limit: usize,
    key: impl Fn(&T) -> String,
) -> (Vec<T>, Option<String>) {
    items.sort_by_key(&key);
    if let Some(after) = &page.after {
        items.retain(|item| key(item) > *after);
    }
    let limit = page.limit.unwrap_or(default_limit);
    if items.len() <= limit {
        return (items, None);
    }
    items.truncate(limit);
    let next = items.last().map(&key);
    (items, next)
}

// DescribeInstanceTypes -------------------------------------------------------------------

const TYPE_FILTERS: &[&str] = &[
    "auto-recovery-supported",
    "bare-metal",
    "burstable-performance-supported",
    "current-generation",
    "dedicated-hosts-supported",
    "ebs-info.attachment-limit-type",
    "ebs-info.ebs-optimized-info.baseline-bandwidth-in-mbps",
    "ebs-info.ebs-optimized-info.baseline-iops",
    "ebs-info.ebs-optimized-info.baseline-throughput-in-mbps",
    "ebs-info.ebs-optimized-info.maximum-bandwidth-in-mbps",
    "ebs-info.ebs-optimized-info.maximum-iops",
    "ebs-info.ebs-optimized-info.maximum-throughput-in-mbps",
    "ebs-info.ebs-optimized-support",
    "ebs-info.encryption-support",
    "ebs-info.maximum-ebs-attachments",
    "ebs-info.nvme-support",
    "free-tier-eligible",
    "hibernation-supported",
    "hypervisor",
    "instance-storage-info.disk.count",
    "instance-storage-info.disk.size-in-gb",
    "instance-storage-info.disk.type",
    "instance-storage-info.encryption-support",
    "instance-storage-info.nvme-support",
    "instance-storage-info.total-size-in-gb",
    "instance-storage-supported",
    "instance-type",
    "memory-info.size-in-mib",
    "network-info.bandwidth-weightings",
    "network-info.efa-info.maximum-efa-interfaces",
    "network-info.efa-supported",
    "network-info.ena-support",
    "network-info.encryption-in-transit-supported",
    "network-info.flexible-ena-queues-support",
    "network-info.ipv4-addresses-per-interface",
    "network-info.ipv6-addresses-per-interface",
    "network-info.ipv6-supported",
    "network-info.maximum-network-cards",
    "network-info.maximum-network-interfaces",
    "network-info.network-performance",
    "nitro-enclaves-support",
    "nitro-tpm-info.supported-versions",
    "nitro-tpm-support",
    "processor-info.supported-architecture",
    "processor-info.supported-features",
    "processor-info.sustained-clock-speed-in-ghz",
    "reboot-migration-support",
    "supported-boot-mode",
    "supported-root-device-type",
    "supported-usage-class",
    "supported-virtualization-type",
    "vcpu-info.default-cores",
    "vcpu-info.default-threads-per-core",
    "vcpu-info.default-vcpus",
    "vcpu-info.valid-cores",
    "vcpu-info.valid-threads-per-core",
];

pub struct DescribeInstanceTypesInput {
    pub names: Vec<String>,
    pub filters: Vec<Filter>,
    pub page: Page,
    /// `IncludeUnsupportedInRegion`: the types the caller's region does not offer too.
    pub include_unsupported: bool,
}

impl FromParams for DescribeInstanceTypesInput {
    fn from_params(p: &Params) -> Result<Self> {
        let names = dedup(p.list("InstanceType")?);
        let filters = parse_filters(p, "Filter")?;
        check_filter_names(&filters, TYPE_FILTERS)?;
        let page = parse_page(p, false, "instanceTypes", 5, 100)?;
        let include_unsupported = p.flag("IncludeUnsupportedInRegion")?;
        Ok(DescribeInstanceTypesInput { names, filters, page, include_unsupported })
    }
}

pub async fn describe_instance_types(ctx: &Ctx<'_>, input: DescribeInstanceTypesInput) -> Result<Xml> {
    let region = ctx.scope.region;
    let visible = |t: &InstanceType| input.include_unsupported || t.offered_in(region);
    let listed: Vec<&InstanceType> = if input.names.is_empty() {
        INSTANCE_TYPES.iter().filter(|t| visible(t)).collect()
    } else {
        named_types(&input.names, visible)?
    };
    let matching = filter_in_memory(listed, &input.filters, TYPE_FILTERS, |t, name| type_field(t, name))?;
    ctx.check_dry_run()?;
    let (shown, next) = page_of(matching, &input.page, 100, |t| t.name.to_string());
    let mut x = Xml::new();
    x.list("instanceTypeSet", &shown, |x, t| write_instance_type(x, t, t.offered_in(region)));
    write_next_token(&mut x, next);
    Ok(x)
}

/// The types named, each known and visible in the caller's region.
fn named_types(names: &[String], visible: impl Fn(&InstanceType) -> bool) -> Result<Vec<&'static InstanceType>> {
    let found: Vec<Option<&'static InstanceType>> =
        names.iter().map(|name| types::find(name).filter(|t| visible(t))).collect();
    let missing: Vec<&str> =
        names.iter().zip(&found).filter(|(_, t)| t.is_none()).map(|(name, _)| name.as_str()).collect();
    if !missing.is_empty() {
        return Err(ec2_err!(
            InvalidInstanceType,
            "The following supplied instance types do not exist: [{}]",
            missing.join(", ")
        ));
    }
    Ok(found.into_iter().flatten().collect())
}

/// The values a DescribeInstanceTypes filter compares against.
fn type_field(t: &InstanceType, name: &str) -> Vec<String> {
    let one = |v: &str| vec![v.to_string()];
    let flag = |b: bool| one(if b { "true" } else { "false" });
    let all = |vs: &[&str]| vs.iter().map(|v| v.to_string()).collect::<Vec<_>>();
    let ebs_bandwidth = |i: usize| t.ebs.bandwidth.map(|b| one(b[i])).unwrap_or_default();
    let storage = t.instance_storage.as_ref();
    match name {
        "auto-recovery-supported" => flag(t.auto_recovery),
        "bare-metal" => flag(t.bare_metal),
        "burstable-performance-supported" => flag(t.burstable),
        "current-generation" => flag(t.current_generation),
        "dedicated-hosts-supported" => flag(t.dedicated_hosts),
        "ebs-info.attachment-limit-type" => t.ebs.attachment_limit_type.map(one).unwrap_or_default(),
        "ebs-info.ebs-optimized-info.baseline-bandwidth-in-mbps" => ebs_bandwidth(0),
        "ebs-info.ebs-optimized-info.baseline-throughput-in-mbps" => ebs_bandwidth(1),
        "ebs-info.ebs-optimized-info.baseline-iops" => ebs_bandwidth(2),
        "ebs-info.ebs-optimized-info.maximum-bandwidth-in-mbps" => ebs_bandwidth(3),
        "ebs-info.ebs-optimized-info.maximum-throughput-in-mbps" => ebs_bandwidth(4),
        "ebs-info.ebs-optimized-info.maximum-iops" => ebs_bandwidth(5),
        "ebs-info.ebs-optimized-support" => one(t.ebs.optimized_support),
        "ebs-info.encryption-support" => one(t.ebs.encryption_support),
        "ebs-info.maximum-ebs-attachments" => t.ebs.max_attachments.map(one).unwrap_or_default(),
        "ebs-info.nvme-support" => one(t.ebs.nvme_support),
        "free-tier-eligible" => flag(t.free_tier_eligible),
        "hibernation-supported" => flag(t.hibernation),
        "hypervisor" => t.hypervisor.map(one).unwrap_or_default(),
        "instance-storage-info.disk.count" => {
            storage.map(|s| s.disks.iter().map(|d| d.count.to_string()).collect()).unwrap_or_default()
        }
        "instance-storage-info.disk.size-in-gb" => {
            storage.map(|s| s.disks.iter().map(|d| d.size_gb.to_string()).collect()).unwrap_or_default()
        }
        "instance-storage-info.disk.type" => {
            storage.map(|s| s.disks.iter().map(|d| d.kind.to_string()).collect()).unwrap_or_default()
        }
        "instance-storage-info.encryption-support" => storage.map(|s| one(s.encryption_support)).unwrap_or_default(),
        "instance-storage-info.nvme-support" => storage.map(|s| one(s.nvme_support)).unwrap_or_default(),
        "instance-storage-info.total-size-in-gb" => {
            storage.map(|s| one(&s.total_size_gb().to_string())).unwrap_or_default()
        }
        "instance-storage-supported" => flag(storage.is_some()),
        "instance-type" => one(t.name),
        "memory-info.size-in-mib" => one(&t.memory_mib.to_string()),
        "nitro-enclaves-support" => one(t.nitro_enclaves),
        "nitro-tpm-info.supported-versions" => all(&t.nitro_tpm_versions),
        "nitro-tpm-support" => one(t.nitro_tpm),
        "processor-info.supported-architecture" => all(&t.architectures),
        "processor-info.supported-features" => all(&t.processor_features),
        "processor-info.sustained-clock-speed-in-ghz" => t.clock_ghz.map(one).unwrap_or_default(),
        "reboot-migration-support" => one(t.reboot_migration),
        "supported-boot-mode" => all(&t.boot_modes),
        "supported-root-device-type" => all(&t.root_device_types),
        "supported-usage-class" => all(&t.usage_classes),
        "supported-virtualization-type" => all(&t.virtualization_types),
        "vcpu-info.default-cores" => t.cores.map(|c| one(&c.to_string())).unwrap_or_default(),
        "vcpu-info.default-threads-per-core" => t.threads_per_core.map(|c| one(&c.to_string())).unwrap_or_default(),
        "vcpu-info.default-vcpus" => one(&t.vcpus.to_string()),
        // Each value, and the whole list as `1,2` (the API reference's example).
        "vcpu-info.valid-cores" => with_joined(&t.valid_cores),
        "vcpu-info.valid-threads-per-core" => with_joined(&t.valid_threads_per_core),
        other => network_field(t, other),
    }
}

fn with_joined(values: &[&str]) -> Vec<String> {
    let mut all: Vec<String> = values.iter().map(|v| v.to_string()).collect();
    all.push(values.join(","));
    all
}

fn network_field(t: &InstanceType, name: &str) -> Vec<String> {
    let n = &t.network;
    let value = match name {
        "network-info.efa-info.maximum-efa-interfaces" => {
            return n.max_efa_interfaces.map(|m| vec![m.into()]).unwrap_or_default()
        }
        "network-info.efa-supported" => n.efa_supported.to_string(),
        "network-info.ena-support" => n.ena_support.to_string(),
        "network-info.encryption-in-transit-supported" => n.encryption_in_transit.to_string(),
        "network-info.flexible-ena-queues-support" => n.flexible_ena_queues.to_string(),
        "network-info.ipv4-addresses-per-interface" => n.ipv4_per_interface.to_string(),
        "network-info.ipv6-addresses-per-interface" => n.ipv6_per_interface.to_string(),
        "network-info.ipv6-supported" => n.ipv6_supported.to_string(),
        "network-info.maximum-network-cards" => n.max_network_cards.to_string(),
        "network-info.maximum-network-interfaces" => n.max_interfaces.to_string(),
        "network-info.network-performance" => n.performance.to_string(),
        // No type of the data file has bandwidth weightings.
        _ => return Vec::new(),
    };
    vec![value]
}

// DescribeInstanceTypeOfferings -----------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocationType {
    Region,
    AvailabilityZone,
    AvailabilityZoneId,
    Outpost,
}

impl LocationType {
    fn name(self) -> &'static str {
        match self {
            LocationType::Region => "region",
            LocationType::AvailabilityZone => "availability-zone",
            LocationType::AvailabilityZoneId => "availability-zone-id",
            LocationType::Outpost => "outpost",
        }
    }
}

const OFFERING_FILTERS: &[&str] = &["instance-type", "location"];

pub struct DescribeInstanceTypeOfferingsInput {
    pub location_type: LocationType,
    pub filters: Vec<Filter>,
    pub page: Page,
}

impl FromParams for DescribeInstanceTypeOfferingsInput {
    fn from_params(p: &Params) -> Result<Self> {
        let location_type = match p.str("LocationType").unwrap_or("region") {
            "region" => LocationType::Region,
            "availability-zone" => LocationType::AvailabilityZone,
            "availability-zone-id" => LocationType::AvailabilityZoneId,
            "outpost" => LocationType::Outpost,
            other => return Err(Ec2Error::invalid_value("LocationType", other)),
        };
        let filters = parse_filters(p, "Filter")?;
        check_filter_names(&filters, OFFERING_FILTERS)?;
        let page = parse_page(p, false, "locationType", 5, 1000)?;
        Ok(DescribeInstanceTypeOfferingsInput { location_type, filters, page })
    }
}

/// (instance type, location) pairs.
type Offering = (&'static str, String);

pub async fn describe_instance_type_offerings(ctx: &Ctx<'_>, input: DescribeInstanceTypeOfferingsInput) -> Result<Xml> {
    let offerings = offerings_in(ctx.scope.region, input.location_type);
    let matching = filter_in_memory(offerings, &input.filters, OFFERING_FILTERS, |(t, location), name| {
        vec![if name == "location" { location.clone() } else { t.to_string() }]
    })?;
    ctx.check_dry_run()?;
    let (shown, next) = page_of(matching, &input.page, 1000, |(t, location)| format!("{t} {location}"));
    let mut x = Xml::new();
    x.list("instanceTypeOfferingSet", &shown, |x, (t, location)| {
        write_offering(x, t, input.location_type.name(), location)
    });
    write_next_token(&mut x, next);
    Ok(x)
}

/// Every type the region offers, at every location of the kind asked for: the region,
/// or each of its availability zones (by name or id). ec2lite has no Outposts.
fn offerings_in(region: &str, location_type: LocationType) -> Vec<Offering> {
    let zones = regions::find(region).map(regions::availability_zones).unwrap_or_default();
    let locations: Vec<String> = match location_type {
        LocationType::Region => vec![region.to_string()],
        LocationType::AvailabilityZone => zones.into_iter().map(|z| z.name).collect(),
        LocationType::AvailabilityZoneId => zones.into_iter().map(|z| z.id).collect(),
        LocationType::Outpost => Vec::new(),
    };
    INSTANCE_TYPES
        .iter()
        .filter(|t| t.offered_in(region))
        .flat_map(|t| locations.iter().map(move |l| (t.name, l.clone())))
        .collect()
}

// Credit specifications -------------------------------------------------------------------

/// The credit option an instance runs with: the one set at launch or since, else its
/// type's default; `standard` for a type that is not burstable.
pub fn cpu_credits_of(instance: &Instance) -> &str {
    instance
        .cpu_credits
        .as_deref()
        .or_else(|| types::find(&instance.instance_type).and_then(InstanceType::default_cpu_credits))
        .unwrap_or("standard")
}

pub struct DescribeInstanceCreditSpecificationsInput {
    pub instance_ids: Vec<String>,
    pub filters: Vec<Filter>,
    pub page: Page,
}

const CREDIT_FILTERS: &[&str] = &["instance-id"];

impl FromParams for DescribeInstanceCreditSpecificationsInput {
    fn from_params(p: &Params) -> Result<Self> {
        let instance_ids = dedup(p.list("InstanceId")?);
        ids::check_all(IdKind::Instance, &instance_ids)?;
        let filters = parse_filters(p, "Filter")?;
        check_filter_names(&filters, CREDIT_FILTERS)?;
        let page = parse_page(p, !instance_ids.is_empty(), "instanceIds", 5, 1000)?;
        Ok(DescribeInstanceCreditSpecificationsInput { instance_ids, filters, page })
    }
}

/// The instances named, with their option; with none named, the instances running
/// `unlimited` (as EC2 lists them, including those resized from a T type since).
pub async fn describe_instance_credit_specifications(
    ctx: &Ctx<'_>,
    input: DescribeInstanceCreditSpecificationsInput,
) -> Result<Xml> {
    ctx.check_dry_run()?;
    let query = InstanceQuery {
        account: ctx.scope.account,
        region: ctx.scope.region,
        instance_ids: input.instance_ids.clone(),
        filters: &input.filters,
        page: Page::default(),
    };
    let (found, _) = ctx.app.store.query(|db| instance_store::describe(db, &query))?;
    if input.filters.is_empty() {
        if let Some(missing) = input.instance_ids.iter().find(|id| !found.iter().any(|i| &i.instance_id == *id)) {
            return Err(Ec2Error::instance_not_found(&[missing]));
        }
    }
    let listed: Vec<(String, String)> = found
        .iter()
        .map(|i| (i.instance_id.clone(), cpu_credits_of(i).to_string()))
        .filter(|(_, credits)| !input.instance_ids.is_empty() || credits == "unlimited")
        .collect();
    let (shown, next) = page_of(listed, &input.page, 1000, |(id, _)| id.clone());
    let mut x = Xml::new();
    x.list("instanceCreditSpecificationSet", &shown, |x, (id, credits)| write_credit_specification(x, id, credits));
    write_next_token(&mut x, next);
    Ok(x)
}

pub struct ModifyInstanceCreditSpecificationInput {
    /// (instance id, credit option), in the order asked.
    pub changes: Vec<(String, String)>,
}

impl FromParams for ModifyInstanceCreditSpecificationInput {
    fn from_params(p: &Params) -> Result<Self> {
        let changes = p
            .structs("InstanceCreditSpecification")?
            .into_iter()
            .map(|spec| {
                let id = spec
                    .str("InstanceId")
                    .ok_or_else(|| Ec2Error::missing_parameter(&format!("{}.InstanceId", spec.prefix())))?;
                let credits = spec
                    .str("CpuCredits")
                    .ok_or_else(|| Ec2Error::missing_parameter(&format!("{}.CpuCredits", spec.prefix())))?;
                check_credits(credits)?;
                Ok((id.to_string(), credits.to_string()))
            })
            .collect::<Result<Vec<_>>>()?;
        if changes.is_empty() {
            return Err(Ec2Error::missing_parameter("InstanceCreditSpecification"));
        }
        Ok(ModifyInstanceCreditSpecificationInput { changes })
    }
}

/// Sets each instance's option; an instance that cannot take it is answered in the
/// unsuccessful set rather than failing the call.
pub async fn modify_instance_credit_specification(
    ctx: &Ctx<'_>,
    input: ModifyInstanceCreditSpecificationInput,
) -> Result<Xml> {
    let mut tx = ctx.app.store.write().await?;
    let mut accepted = Vec::new();
    let mut refused = Vec::new();
    for (instance_id, credits) in input.changes {
        let instance = if ids::check(IdKind::Instance, &instance_id).is_ok() {
            instance_store::find_owned(&mut tx, ctx.scope.account, ctx.scope.region, &instance_id).await?
        } else {
            None
        };
        match credit_change_refusal(&instance_id, instance.map(|i| i.settled(ctx.now)).as_ref()) {
            Some((code, message)) => refused.push((instance_id, code, message)),
            None => accepted.push((instance_id, credits)),
        }
    }
    ctx.check_dry_run()?;
    for (instance_id, credits) in &accepted {
        instance_store::set_cpu_credits(&mut tx, instance_id, credits).await?;
    }
    tx.commit().await?;
    let changed: Vec<String> = accepted.into_iter().map(|(id, _)| id).collect();
    let mut x = Xml::new();
    write_credit_changes(&mut x, &changed, &refused);
    Ok(x)
}

/// Why the option of `instance` (none: the caller has no such instance) cannot change:
/// (code, message).
fn credit_change_refusal(instance_id: &str, instance: Option<&Instance>) -> Option<(&'static str, String)> {
    if let Err(malformed) = ids::check(IdKind::Instance, instance_id) {
        return Some(("InvalidInstanceID.Malformed", malformed.message));
    }
    let Some(instance) = instance else {
        return Some(("InvalidInstanceID.NotFound", format!("The instance ID '{instance_id}' does not exist")));
    };
    if !matches!(instance.state, InstanceState::Running | InstanceState::Stopped) {
        return Some((
            "IncorrectInstanceState",
            format!("The instance '{instance_id}' is not in the 'running' or 'stopped' state."),
        ));
    }
    if !types::find(&instance.instance_type).is_some_and(|t| t.burstable) {
        return Some(("InstanceCreditSpecification.NotSupported", not_burstable(&instance.instance_type).message));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(filters: &[(&str, &str)]) -> Vec<&'static str> {
        let filters: Vec<Filter> =
            filters.iter().map(|(n, v)| Filter { name: n.to_string(), values: vec![v.to_string()] }).collect();
        let all: Vec<&InstanceType> = INSTANCE_TYPES.iter().collect();
        filter_in_memory(all, &filters, TYPE_FILTERS, |t, name| type_field(t, name))
            .unwrap()
            .iter()
            .map(|t| t.name)
            .collect()
    }

    #[test]
    fn type_filters_match_the_data() {
        assert_eq!(names(&[("free-tier-eligible", "true")]), ["t2.micro", "t3.micro"]);
        let graviton_burstable =
            names(&[("burstable-performance-supported", "true"), ("processor-info.supported-architecture", "arm64")]);
        assert!(graviton_burstable.iter().all(|n| n.starts_with("t4g.")) && graviton_burstable.len() == 7);
        assert_eq!(names(&[("instance-type", "t3.*"), ("vcpu-info.default-vcpus", "8")]), ["t3.2xlarge"]);
        assert_eq!(names(&[("instance-type", "m5.*"), ("memory-info.size-in-mib", "8192")]), ["m5.large"]);
        assert!(names(&[("supported-virtualization-type", "paravirtual")]).contains(&"m1.small"));
        assert!(names(&[("instance-storage-supported", "true")]).contains(&"i3.large"));
        assert!(!names(&[("instance-storage-supported", "true")]).contains(&"m5.large"));
        assert!(names(&[("supported-boot-mode", "uefi"), ("instance-type", "t2.*")]).is_empty());
        assert!(names(&[("hypervisor", "xen")]).contains(&"t2.micro"));
        assert_eq!(names(&[("bare-metal", "true"), ("instance-type", "mac*")]).len(), 4);
        assert!(names(&[("network-info.ena-support", "unsupported")]).contains(&"t2.nano"));
        assert!(names(&[("vcpu-info.valid-threads-per-core", "1,2"), ("instance-type", "t3.micro")]) == ["t3.micro"]);
    }

    #[test]
    fn unknown_filters_and_pages_are_refused_while_parsing() {
        let p = Params::from_pairs([("Filter.1.Name", "colour"), ("Filter.1.Value.1", "red")]);
        assert_eq!(
            DescribeInstanceTypesInput::from_params(&p).err().unwrap().message,
            "The filter 'colour' is invalid"
        );
        let p = Params::from_pairs([("MaxResults", "4")]);
        assert_eq!(DescribeInstanceTypesInput::from_params(&p).err().unwrap().code, "InvalidParameterValue");
        let p = Params::from_pairs([("MaxResults", "500"), ("InstanceType.1", "t3.micro")]);
        assert_eq!(DescribeInstanceTypesInput::from_params(&p).unwrap().page.limit, Some(100));
        let p = Params::from_pairs([("LocationType", "planet")]);
        assert_eq!(DescribeInstanceTypeOfferingsInput::from_params(&p).err().unwrap().code, "InvalidParameterValue");
        let p = Params::from_pairs([("InstanceId.1", "i-1234567890abcdef0"), ("MaxResults", "5")]);
        assert_eq!(
            DescribeInstanceCreditSpecificationsInput::from_params(&p).err().unwrap().code,
            "InvalidParameterCombination"
        );
    }

    #[test]
    fn named_types_must_exist_in_the_region() {
        let visible = |t: &InstanceType| t.offered_in("af-south-1");
        assert_eq!(named_types(&["t3.micro".into()], visible).unwrap()[0].name, "t3.micro");
        let err = named_types(&["t3.micro".into(), "z9.huge".into(), "mac1.metal".into()], visible).unwrap_err();
        assert_eq!(
            (err.code.as_str(), err.message.as_str()),
            ("InvalidInstanceType", "The following supplied instance types do not exist: [z9.huge, mac1.metal]")
        );
    }

    #[test]
    fn pages_continue_after_their_last_key() {
        let page = Page { after: None, limit: Some(2) };
        let (first, next) = page_of(vec!["c", "a", "b"], &page, 100, |s| s.to_string());
        assert_eq!((first, next.as_deref()), (vec!["a", "b"], Some("b")));
        let page = Page { after: Some("b".into()), limit: Some(2) };
        assert_eq!(page_of(vec!["c", "a", "b"], &page, 100, |s| s.to_string()), (vec!["c"], None));
        assert_eq!(page_of(vec!["c", "a", "b"], &Page::default(), 2, |s| s.to_string()).1.as_deref(), Some("b"));
    }

    #[test]
    fn offerings_cover_every_zone_of_the_region() {
        let zones = offerings_in("us-west-1", LocationType::AvailabilityZone);
        assert!(zones.contains(&("t3.micro", "us-west-1a".to_string())));
        assert!(zones.contains(&("t3.micro", "us-west-1c".to_string())));
        assert!(!zones.iter().any(|(t, _)| *t == "mac2.metal"));
        let ids = offerings_in("us-west-1", LocationType::AvailabilityZoneId);
        assert!(ids.contains(&("t3.micro", "usw1-az1".to_string())));
        assert_eq!(
            offerings_in("us-east-1", LocationType::Region).iter().filter(|(t, _)| *t == "mac2.metal").count(),
            1
        );
        assert!(offerings_in("us-east-1", LocationType::Outpost).is_empty());
    }

    #[test]
    fn credits_at_launch_follow_the_type() {
        let t2 = types::find("t2.micro").unwrap();
        let t3 = types::find("t3.micro").unwrap();
        let m5 = types::find("m5.large").unwrap();
        assert_eq!(types::launch_credits(None, t2).unwrap().as_deref(), Some("standard"));
        assert_eq!(types::launch_credits(None, t3).unwrap().as_deref(), Some("unlimited"));
        assert_eq!(types::launch_credits(None, m5).unwrap(), None);
        assert_eq!(types::launch_credits(Some("standard"), t3).unwrap().as_deref(), Some("standard"));
        let err = types::launch_credits(Some("standard"), m5).unwrap_err();
        assert_eq!(
            (err.code.as_str(), err.message.as_str()),
            ("InstanceCreditSpecification.NotSupported", "The m5.large instance type does not support T2 Unlimited.")
        );
        assert_eq!(types::launch_credits(Some("infinite"), t3).unwrap_err().code, "InvalidParameterValue");
    }

    #[test]
    fn credit_changes_are_refused_per_instance() {
        let instance = |itype: &str, state| Instance {
            instance_id: "i-0123456789abcdef0".into(),
            instance_type: itype.into(),
            state,
            ..Default::default()
        };
        let id = "i-0123456789abcdef0";
        assert_eq!(credit_change_refusal(id, Some(&instance("t3.micro", InstanceState::Stopped))), None);
        let code = |i: Option<&Instance>, id: &str| credit_change_refusal(id, i).map(|(c, _)| c);
        assert_eq!(
            code(Some(&instance("m5.large", InstanceState::Running)), id),
            Some("InstanceCreditSpecification.NotSupported")
        );
        assert_eq!(code(Some(&instance("t3.micro", InstanceState::Terminated)), id), Some("IncorrectInstanceState"));
        assert_eq!(code(None, id), Some("InvalidInstanceID.NotFound"));
        assert_eq!(code(None, "x-123"), Some("InvalidInstanceID.Malformed"));

        let p = Params::from_pairs([("InstanceCreditSpecification.1.InstanceId", id)]);
        assert_eq!(ModifyInstanceCreditSpecificationInput::from_params(&p).err().unwrap().code, "MissingParameter");
        let p = Params::from_pairs([
            ("InstanceCreditSpecification.1.InstanceId", id),
            ("InstanceCreditSpecification.1.CpuCredits", "unlimited"),
        ]);
        let input = ModifyInstanceCreditSpecificationInput::from_params(&p).unwrap();
        assert_eq!(input.changes, [(id.to_string(), "unlimited".to_string())]);
    }

    #[test]
    fn effective_credits_fall_back_to_the_type_default() {
        let instance = |itype: &str, credits: Option<&str>| Instance {
            instance_type: itype.into(),
            cpu_credits: credits.map(str::to_string),
            ..Default::default()
        };
        assert_eq!(cpu_credits_of(&instance("t2.micro", None)), "standard");
        assert_eq!(cpu_credits_of(&instance("t4g.micro", None)), "unlimited");
        assert_eq!(cpu_credits_of(&instance("m5.large", None)), "standard");
        assert_eq!(cpu_credits_of(&instance("m5.large", Some("unlimited"))), "unlimited");
    }
}
