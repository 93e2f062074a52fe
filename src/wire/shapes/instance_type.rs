//! The `InstanceTypeInfo` (DescribeInstanceTypes), `InstanceTypeOffering`
//! (DescribeInstanceTypeOfferings) and `InstanceCreditSpecification` shapes, and
//! ModifyInstanceCreditSpecification's answer.

use crate::domain::instance_types::{EbsInfo, InstanceStorage, InstanceType, NetworkInfo};
use crate::wire::xml::Xml;

/// `<tag><item>a</item>..</tag>` of plain values.
fn values(x: &mut Xml, tag: &str, items: &[&str]) {
    if items.is_empty() {
        x.empty(tag);
        return;
    }
    x.open(tag);
    for item in items {
        x.text("item", item);
    }
    x.close(tag);
}

/// An instance type as EC2 describes it; `supported_in_region` answers whether the
/// caller's region offers it.
pub fn write_instance_type(x: &mut Xml, t: &InstanceType, supported_in_region: bool) {
    x.text("instanceType", t.name)
        .bool("currentGeneration", t.current_generation)
        .bool("freeTierEligible", t.free_tier_eligible);
    values(x, "supportedUsageClasses", &t.usage_classes);
    values(x, "supportedRootDeviceTypes", &t.root_device_types);
    values(x, "supportedVirtualizationTypes", &t.virtualization_types);
    x.bool("bareMetal", t.bare_metal).opt_text("hypervisor", t.hypervisor);
    write_processor(x, t);
    write_vcpus(x, t);
    x.open("memoryInfo").num("sizeInMiB", t.memory_mib).close("memoryInfo");
    x.bool("instanceStorageSupported", t.instance_storage.is_some());
    if let Some(storage) = &t.instance_storage {
        write_storage(x, storage);
    }
    write_ebs(x, &t.ebs);
    write_network(x, &t.network);
    write_gpus(x, t);
    x.open("placementGroupInfo");
    values(x, "supportedStrategies", &t.placement_strategies);
    x.close("placementGroupInfo")
        .bool("hibernationSupported", t.hibernation)
        .bool("burstablePerformanceSupported", t.burstable)
        .bool("dedicatedHostsSupported", t.dedicated_hosts)
        .bool("autoRecoverySupported", t.auto_recovery);
    values(x, "supportedBootModes", &t.boot_modes);
    x.text("nitroEnclavesSupport", t.nitro_enclaves).text("nitroTpmSupport", t.nitro_tpm);
    if !t.nitro_tpm_versions.is_empty() {
        x.open("nitroTpmInfo");
        values(x, "supportedVersions", &t.nitro_tpm_versions);
        x.close("nitroTpmInfo");
    }
    x.text("phcSupport", t.phc)
        .text("rebootMigrationSupport", t.reboot_migration)
        .bool("supportedInRegion", supported_in_region);
}

fn write_processor(x: &mut Xml, t: &InstanceType) {
    x.open("processorInfo");
    values(x, "supportedArchitectures", &t.architectures);
    x.opt_text("sustainedClockSpeedInGhz", t.clock_ghz);
    if !t.processor_features.is_empty() {
        values(x, "supportedFeatures", &t.processor_features);
    }
    x.text("manufacturer", t.manufacturer).close("processorInfo");
}

fn write_vcpus(x: &mut Xml, t: &InstanceType) {
    x.open("vCpuInfo")
        .num("defaultVCpus", t.vcpus)
        .opt_num("defaultCores", t.cores)
        .opt_num("defaultThreadsPerCore", t.threads_per_core);
    if !t.valid_cores.is_empty() {
        values(x, "validCores", &t.valid_cores);
    }
    if !t.valid_threads_per_core.is_empty() {
        values(x, "validThreadsPerCore", &t.valid_threads_per_core);
    }
    x.close("vCpuInfo");
}

fn write_storage(x: &mut Xml, storage: &InstanceStorage) {
    x.open("instanceStorageInfo").num("totalSizeInGB", storage.total_size_gb());
    x.list("disks", &storage.disks, |x, d| {
        x.num("sizeInGB", d.size_gb).num("count", d.count).text("type", d.kind);
    });
    x.text("nvmeSupport", storage.nvme_support)
        .text("encryptionSupport", storage.encryption_support)
        .close("instanceStorageInfo");
}

fn write_ebs(x: &mut Xml, ebs: &EbsInfo) {
    x.open("ebsInfo")
        .text("ebsOptimizedSupport", ebs.optimized_support)
        .text("encryptionSupport", ebs.encryption_support);
    if let Some([base_mbps, base_mb_s, base_iops, max_mbps, max_mb_s, max_iops]) = ebs.bandwidth {
        x.open("ebsOptimizedInfo")
            .text("baselineBandwidthInMbps", base_mbps)
            .text("baselineThroughputInMBps", base_mb_s)
            .text("baselineIops", base_iops)
            .text("maximumBandwidthInMbps", max_mbps)
            .text("maximumThroughputInMBps", max_mb_s)
            .text("maximumIops", max_iops)
            .close("ebsOptimizedInfo");
    }
    x.text("nvmeSupport", ebs.nvme_support)
        .opt_text("maximumEbsAttachments", ebs.max_attachments)
        .opt_text("attachmentLimitType", ebs.attachment_limit_type)
        .close("ebsInfo");
}

fn write_network(x: &mut Xml, n: &NetworkInfo) {
    x.open("networkInfo")
        .text("networkPerformance", n.performance)
        .num("maximumNetworkInterfaces", n.max_interfaces)
        .num("maximumNetworkCards", n.max_network_cards)
        .num("defaultNetworkCardIndex", 0)
        .open("networkCards")
        .open("item")
        .num("networkCardIndex", 0)
        .text("networkPerformance", n.performance)
        .num("maximumNetworkInterfaces", n.max_interfaces)
        .text("baselineBandwidthInGbps", n.card_baseline_gbps)
        .text("peakBandwidthInGbps", n.card_peak_gbps)
        .opt_text("defaultEnaQueueCountPerInterface", n.card_default_ena_queues)
        .close("item")
        .close("networkCards")
        .num("ipv4AddressesPerInterface", n.ipv4_per_interface)
        .num("ipv6AddressesPerInterface", n.ipv6_per_interface)
        .bool("ipv6Supported", n.ipv6_supported)
        .text("enaSupport", n.ena_support)
        .bool("efaSupported", n.efa_supported);
    if let Some(max) = n.max_efa_interfaces {
        x.open("efaInfo").text("maximumEfaInterfaces", max).close("efaInfo");
    }
    x.bool("encryptionInTransitSupported", n.encryption_in_transit)
        .bool("enaSrdSupported", n.ena_srd)
        .text("flexibleEnaQueuesSupport", n.flexible_ena_queues)
        // The same for every type: 5 days for established TCP, 180 s UDP streams, 30 s UDP.
        .open("connectionTrackingConfiguration")
        .num("defaultTcpEstablishedTimeout", 432_000)
        .num("defaultUdpTimeout", 30)
        .num("defaultUdpStreamTimeout", 180)
        .close("connectionTrackingConfiguration")
        .close("networkInfo");
}

fn write_gpus(x: &mut Xml, t: &InstanceType) {
    if t.gpus.is_empty() {
        return;
    }
    x.open("gpuInfo");
    x.list("gpus", &t.gpus, |x, g| {
        x.text("name", g.name)
            .text("manufacturer", g.manufacturer)
            .num("count", g.count)
            .open("memoryInfo")
            .num("sizeInMiB", g.memory_mib)
            .close("memoryInfo");
    });
    x.num("totalGpuMemoryInMiB", t.total_gpu_memory_mib()).close("gpuInfo");
}

/// One offering: a type at a location (a region, zone name or zone id).
pub fn write_offering(x: &mut Xml, instance_type: &str, location_type: &str, location: &str) {
    x.text("instanceType", instance_type).text("locationType", location_type).text("location", location);
}

/// An instance's CPU credit option.
pub fn write_credit_specification(x: &mut Xml, instance_id: &str, cpu_credits: &str) {
    x.text("instanceId", instance_id).text("cpuCredits", cpu_credits);
}

/// ModifyInstanceCreditSpecification's answer: the instances changed, and the others with
/// why (code, message).
pub fn write_credit_changes(x: &mut Xml, changed: &[String], refused: &[(String, &str, String)]) {
    x.list("successfulInstanceCreditSpecificationSet", changed, |x, id| {
        x.text("instanceId", id);
    });
    x.list("unsuccessfulInstanceCreditSpecificationSet", refused, |x, (id, code, message)| {
        x.text("instanceId", id).open("error").text("code", code).text("message", message).close("error");
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::instance_types::instance_type;

    fn written(name: &str) -> String {
        let mut x = Xml::new();
        write_instance_type(&mut x, instance_type(name).unwrap(), true);
        x.into_string()
    }

    #[test]
    fn golden_t3_micro() {
        assert_eq!(
            written("t3.micro"),
            "<instanceType>t3.micro</instanceType><currentGeneration>true</currentGeneration>\
             <freeTierEligible>true</freeTierEligible>\
             <supportedUsageClasses><item>on-demand</item><item>spot</item></supportedUsageClasses>\
             <supportedRootDeviceTypes><item>ebs</item></supportedRootDeviceTypes>\
             <supportedVirtualizationTypes><item>hvm</item></supportedVirtualizationTypes>\
             <bareMetal>false</bareMetal><hypervisor>nitro</hypervisor>\
             <processorInfo><supportedArchitectures><item>x86_64</item></supportedArchitectures>\
             <sustainedClockSpeedInGhz>2.5</sustainedClockSpeedInGhz><manufacturer>Intel</manufacturer></processorInfo>\
             <vCpuInfo><defaultVCpus>2</defaultVCpus><defaultCores>1</defaultCores><defaultThreadsPerCore>2</defaultThreadsPerCore>\
             <validCores><item>1</item></validCores><validThreadsPerCore><item>1</item><item>2</item></validThreadsPerCore></vCpuInfo>\
             <memoryInfo><sizeInMiB>1024</sizeInMiB></memoryInfo><instanceStorageSupported>false</instanceStorageSupported>\
             <ebsInfo><ebsOptimizedSupport>default</ebsOptimizedSupport><encryptionSupport>supported</encryptionSupport>\
             <ebsOptimizedInfo><baselineBandwidthInMbps>87</baselineBandwidthInMbps>\
             <baselineThroughputInMBps>10.875</baselineThroughputInMBps><baselineIops>500</baselineIops>\
             <maximumBandwidthInMbps>2085</maximumBandwidthInMbps><maximumThroughputInMBps>260.625</maximumThroughputInMBps>\
             <maximumIops>11800</maximumIops></ebsOptimizedInfo><nvmeSupport>required</nvmeSupport>\
             <maximumEbsAttachments>27</maximumEbsAttachments><attachmentLimitType>shared</attachmentLimitType></ebsInfo>\
             <networkInfo><networkPerformance>Up to 5 Gigabit</networkPerformance>\
             <maximumNetworkInterfaces>2</maximumNetworkInterfaces><maximumNetworkCards>1</maximumNetworkCards>\
             <defaultNetworkCardIndex>0</defaultNetworkCardIndex><networkCards><item><networkCardIndex>0</networkCardIndex>\
             <networkPerformance>Up to 5 Gigabit</networkPerformance><maximumNetworkInterfaces>2</maximumNetworkInterfaces>\
             <baselineBandwidthInGbps>0.064</baselineBandwidthInGbps><peakBandwidthInGbps>5.0</peakBandwidthInGbps>\
             <defaultEnaQueueCountPerInterface>2</defaultEnaQueueCountPerInterface></item></networkCards>\
             <ipv4AddressesPerInterface>2</ipv4AddressesPerInterface><ipv6AddressesPerInterface>2</ipv6AddressesPerInterface>\
             <ipv6Supported>true</ipv6Supported><enaSupport>required</enaSupport><efaSupported>false</efaSupported>\
             <encryptionInTransitSupported>false</encryptionInTransitSupported><enaSrdSupported>false</enaSrdSupported>\
             <flexibleEnaQueuesSupport>unsupported</flexibleEnaQueuesSupport>\
             <connectionTrackingConfiguration><defaultTcpEstablishedTimeout>432000</defaultTcpEstablishedTimeout>\
             <defaultUdpTimeout>30</defaultUdpTimeout><defaultUdpStreamTimeout>180</defaultUdpStreamTimeout>\
             </connectionTrackingConfiguration></networkInfo>\
             <placementGroupInfo><supportedStrategies><item>partition</item><item>spread</item></supportedStrategies></placementGroupInfo>\
             <hibernationSupported>true</hibernationSupported><burstablePerformanceSupported>true</burstablePerformanceSupported>\
             <dedicatedHostsSupported>true</dedicatedHostsSupported><autoRecoverySupported>true</autoRecoverySupported>\
             <supportedBootModes><item>legacy-bios</item><item>uefi</item></supportedBootModes>\
             <nitroEnclavesSupport>unsupported</nitroEnclavesSupport><nitroTpmSupport>supported</nitroTpmSupport>\
             <nitroTpmInfo><supportedVersions><item>2.0</item></supportedVersions></nitroTpmInfo>\
             <phcSupport>unsupported</phcSupport><rebootMigrationSupport>supported</rebootMigrationSupport>\
             <supportedInRegion>true</supportedInRegion>"
        );
    }

    #[test]
    fn golden_instance_storage_and_gpus() {
        let g5 = written("g5.xlarge");
        assert!(g5.contains(
            "<instanceStorageSupported>true</instanceStorageSupported><instanceStorageInfo><totalSizeInGB>250</totalSizeInGB>\
             <disks><item><sizeInGB>250</sizeInGB><count>1</count><type>ssd</type></item></disks>\
             <nvmeSupport>required</nvmeSupport><encryptionSupport>required</encryptionSupport></instanceStorageInfo>"
        ));
        assert!(g5.contains(
            "<gpuInfo><gpus><item><name>A10G</name><manufacturer>NVIDIA</manufacturer><count>1</count>\
             <memoryInfo><sizeInMiB>22888</sizeInMiB></memoryInfo></item></gpus><totalGpuMemoryInMiB>22888</totalGpuMemoryInMiB></gpuInfo>"
        ));
        let mac = written("mac1.metal");
        assert!(mac.contains("<bareMetal>true</bareMetal><processorInfo>"), "no hypervisor for bare metal");
        assert!(mac.contains("<supportedArchitectures><item>x86_64_mac</item></supportedArchitectures>"));
    }

    #[test]
    fn golden_offering_and_credits() {
        let mut x = Xml::new();
        x.list("instanceTypeOfferingSet", &["t3.micro"], |x, t| {
            write_offering(x, t, "availability-zone", "us-east-1a")
        });
        assert_eq!(
            x.as_str(),
            "<instanceTypeOfferingSet><item><instanceType>t3.micro</instanceType>\
             <locationType>availability-zone</locationType><location>us-east-1a</location></item></instanceTypeOfferingSet>"
        );
        let mut x = Xml::new();
        write_credit_specification(&mut x, "i-0123456789abcdef0", "unlimited");
        assert_eq!(x.as_str(), "<instanceId>i-0123456789abcdef0</instanceId><cpuCredits>unlimited</cpuCredits>");
        let mut x = Xml::new();
        let refused = [(
            "i-0123456789abcdef1".to_string(),
            "InstanceCreditSpecification.NotSupported",
            "The m5.large instance type does not support T2 Unlimited.".to_string(),
        )];
        write_credit_changes(&mut x, &["i-0123456789abcdef0".to_string()], &refused);
        assert_eq!(
            x.as_str(),
            "<successfulInstanceCreditSpecificationSet><item><instanceId>i-0123456789abcdef0</instanceId></item>\
             </successfulInstanceCreditSpecificationSet><unsuccessfulInstanceCreditSpecificationSet><item>\
             <instanceId>i-0123456789abcdef1</instanceId><error><code>InstanceCreditSpecification.NotSupported</code>\
             <message>The m5.large instance type does not support T2 Unlimited.</message></error></item>\
             </unsuccessfulInstanceCreditSpecificationSet>"
        );
    }
}
