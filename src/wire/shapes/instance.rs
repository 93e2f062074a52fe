//! The instance shapes: `Instance` in its reservation (RunInstances, DescribeInstances),
//! `InstanceStateChange` (Start/Stop/TerminateInstances), `InstanceStatus`
//! (DescribeInstanceStatus), the answer of DescribeInstanceAttribute, and the
//! block-device mappings of a running instance that the last two share.

use crate::domain::clock::iso;
use crate::domain::instance::{instance_type, Instance, InstanceInterface};
use crate::domain::lifecycle::InstanceState;
use crate::domain::network;
use crate::wire::shapes::image::write_product_codes;
use crate::wire::xml::Xml;

/// A reservation: the instances of one launch. The body of RunInstances, and each
/// `reservationSet` item of DescribeInstances.
pub fn write_reservation<I: std::borrow::Borrow<Instance>>(x: &mut Xml, owner_id: &str, region: &str, instances: &[I]) {
    x.text("reservationId", instances.first().map(|i| i.borrow().reservation_id.as_str()).unwrap_or_default())
        .text("ownerId", owner_id)
        .empty("groupSet");
    x.list("instancesSet", instances, |x, i| write_instance(x, i.borrow(), region));
}

/// One instance. Its public address shows only while it is pending or running (an
/// Elastic IP on its primary interface always), and a terminated instance no longer
/// shows its network.
pub fn write_instance(x: &mut Xml, i: &Instance, region: &str) {
    let shows_public = matches!(i.state, InstanceState::Pending | InstanceState::Running);
    let elastic = i.interfaces.iter().find(|n| n.device_index == 0).and_then(|n| n.elastic_ip.as_deref());
    let public_ip = elastic.or(i.public_ip.as_deref().filter(|_| shows_public));
    let private_dns = if i.state == InstanceState::Terminated {
        String::new()
    } else {
        network::private_dns_name(&i.private_ip, region)
    };
    x.text("instanceId", &i.instance_id)
        .text("imageId", &i.image_id)
        .open("instanceState")
        .num("code", i.state.code())
        .text("name", i.state.as_str())
        .close("instanceState")
        .text("privateDnsName", &private_dns)
        .text("dnsName", &public_ip.map(|ip| network::public_dns_name(ip, region)).unwrap_or_default())
        .text("reason", &i.state_transition_reason)
        .opt_text("keyName", i.key_name.as_deref())
        .num("amiLaunchIndex", i.ami_launch_index);
    write_product_codes(x, &i.product_codes);
    x.text("instanceType", &i.instance_type)
        .text("launchTime", &iso(i.launch_time))
        .open("placement")
        .text("availabilityZone", &i.availability_zone)
        .empty("groupName")
        .text("tenancy", "default")
        .close("placement")
        .opt_text("kernelId", i.kernel_id.as_deref())
        .opt_text("platform", i.platform.as_deref())
        .text("platformDetails", &i.platform_details)
        .text("usageOperation", &i.usage_operation)
        .open("monitoring")
        .text("state", "disabled")
        .close("monitoring");
    if i.state != InstanceState::Terminated {
        x.text("subnetId", &i.subnet_id).text("vpcId", &i.vpc_id).text("privateIpAddress", &i.private_ip);
    }
    let source_dest_check = i.interfaces.first().is_none_or(|n| n.source_dest_check);
    x.opt_text("ipAddress", public_ip).bool("sourceDestCheck", source_dest_check);
    x.list("groupSet", &i.groups, |x, (id, name)| {
        x.text("groupId", id).text("groupName", name);
    });
    x.list("networkInterfaceSet", &i.interfaces, |x, n| write_instance_interface(x, i, n, public_ip, region));
    if let Some(code) = &i.state_reason_code {
        x.open("stateReason")
            .text("code", code)
            .text("message", i.state_reason_message.as_deref().unwrap_or_default())
            .close("stateReason");
    }
    x.text("architecture", &i.architecture)
        .text("rootDeviceType", &i.root_device_type)
        .opt_text("rootDeviceName", i.root_device_name.as_deref());
    write_instance_block_device_mappings(x, &i.volumes);
    x.text("virtualizationType", &i.virtualization_type)
        .opt_text("clientToken", i.client_token.as_deref())
        .tag_set(&i.tags)
        .text("hypervisor", "xen")
        .bool("ebsOptimized", i.ebs_optimized)
        .opt_bool("enaSupport", i.ena_support);
    write_fixed_options(x);
    x.opt_text("bootMode", i.boot_mode.as_deref()).text("currentInstanceBootMode", current_boot_mode(i));
}

/// An interface of an instance; the primary one carries the instance's public address.
/// An Elastic IP is owned by the account, an address given at launch by `amazon`.
fn write_instance_interface(x: &mut Xml, i: &Instance, n: &InstanceInterface, public_ip: Option<&str>, region: &str) {
    let (public_ip, ip_owner) = match &n.elastic_ip {
        Some(elastic) => (Some(elastic.as_str()), i.owner_id.as_str()),
        None => (public_ip.filter(|_| n.device_index == 0), "amazon"),
    };
    let private_dns = network::private_dns_name(&n.private_ip, region);
    let association = |x: &mut Xml| {
        if let Some(ip) = public_ip {
            x.open("association")
                .text("publicIp", ip)
                .text("publicDnsName", &network::public_dns_name(ip, region))
                .text("ipOwnerId", ip_owner)
                .close("association");
        }
    };
    x.text("networkInterfaceId", &n.network_interface_id)
        .text("subnetId", &n.subnet_id)
        .text("vpcId", &n.vpc_id)
        .text("description", &n.description)
        .text("ownerId", &i.owner_id)
        .text("status", "in-use")
        .text("macAddress", &n.mac_address)
        .text("privateIpAddress", &n.private_ip)
        .text("privateDnsName", &private_dns)
        .bool("sourceDestCheck", n.source_dest_check);
    x.list("groupSet", &n.groups, |x, (id, name)| {
        x.text("groupId", id).text("groupName", name);
    });
    x.open("attachment")
        .text("attachmentId", &n.attachment_id)
        .num("deviceIndex", n.device_index)
        .text("status", "attached")
        .text("attachTime", &iso(n.attach_time))
        .bool("deleteOnTermination", n.delete_on_termination)
        .num("networkCardIndex", 0)
        .close("attachment");
    association(x);
    x.open("privateIpAddressesSet")
        .open("item")
        .text("privateIpAddress", &n.private_ip)
        .text("privateDnsName", &private_dns)
        .bool("primary", true);
    association(x);
    x.close("item").close("privateIpAddressesSet").empty("ipv6AddressesSet").text("interfaceType", "interface");
}

/// The options every instance shows with EC2's defaults: there is no hardware,
/// reservation or metadata service behind them to configure.
fn write_fixed_options(x: &mut Xml) {
    x.open("cpuOptions")
        .num("coreCount", 1)
        .num("threadsPerCore", 2)
        .close("cpuOptions")
        .open("capacityReservationSpecification")
        .text("capacityReservationPreference", "open")
        .close("capacityReservationSpecification")
        .open("hibernationOptions")
        .bool("configured", false)
        .close("hibernationOptions")
        .open("metadataOptions")
        .text("state", "applied")
        .text("httpTokens", "required")
        .num("httpPutResponseHopLimit", 2)
        .text("httpEndpoint", "enabled")
        .text("httpProtocolIpv6", "disabled")
        .text("instanceMetadataTags", "disabled")
        .close("metadataOptions")
        .open("enclaveOptions")
        .bool("enabled", false)
        .close("enclaveOptions");
}

/// The boot mode the instance actually uses: UEFI when the image asks for it, or prefers
/// it and the instance type (Nitro) supports it; legacy BIOS otherwise.
fn current_boot_mode(i: &Instance) -> &'static str {
    let supports_uefi = instance_type(&i.instance_type).is_ok_and(|t| t.supports_boot_mode("uefi"));
    match i.boot_mode.as_deref() {
        Some("uefi") => "uefi",
        Some("uefi-preferred") if supports_uefi => "uefi",
        _ => "legacy-bios",
    }
}

/// The volumes attached to an instance, as `Instance.blockDeviceMapping` and the
/// `blockDeviceMapping` instance attribute both show them: (device, volume id, attach
/// time, delete on termination).
pub fn write_instance_block_device_mappings(x: &mut Xml, volumes: &[(String, String, i64, bool)]) {
    x.list("blockDeviceMapping", volumes, |x, (device, volume_id, attach_time, delete_on_termination)| {
        x.text("deviceName", device)
            .open("ebs")
            .text("volumeId", volume_id)
            .text("status", "attached")
            .text("attachTime", &iso(*attach_time))
            .bool("deleteOnTermination", *delete_on_termination)
            .close("ebs");
    });
}

/// What one Start/Stop/TerminateInstances call did to one instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateChange {
    pub instance_id: String,
    pub previous_state: InstanceState,
    pub current_state: InstanceState,
}

/// The `instancesSet` of Start/Stop/TerminateInstances.
pub fn write_state_changes(x: &mut Xml, changes: &[StateChange]) {
    x.list("instancesSet", changes, |x, change| {
        x.text("instanceId", &change.instance_id);
        write_state(x, "currentState", change.current_state);
        write_state(x, "previousState", change.previous_state);
    });
}

fn write_state(x: &mut Xml, tag: &str, state: InstanceState) {
    x.open(tag).num("code", state.code()).text("name", state.as_str()).close(tag);
}

/// The system and instance status checks: `ok` while running, not applicable otherwise.
/// Both the status shape and the `*-status.status` filters read it.
pub fn status_check(i: &Instance) -> &'static str {
    if i.state == InstanceState::Running {
        "ok"
    } else {
        "not-applicable"
    }
}

/// One `instanceStatusSet` item of DescribeInstanceStatus.
pub fn write_instance_status(x: &mut Xml, i: &Instance) {
    let status = status_check(i);
    x.text("instanceId", &i.instance_id).text("availabilityZone", &i.availability_zone);
    write_state(x, "instanceState", i.state);
    for tag in ["systemStatus", "instanceStatus"] {
        x.open(tag).text("status", status);
        if status == "ok" {
            x.open("details")
                .open("item")
                .text("name", "reachability")
                .text("status", "passed")
                .close("item")
                .close("details");
        } else {
            x.empty("details");
        }
        x.close(tag);
    }
}

/// The attributes DescribeInstanceAttribute answers, by the names requests use.
pub const INSTANCE_ATTRIBUTES: &[&str] = &[
    "instanceType",
    "kernel",
    "ramdisk",
    "userData",
    "disableApiTermination",
    "instanceInitiatedShutdownBehavior",
    "rootDeviceName",
    "blockDeviceMapping",
    "productCodes",
    "sourceDestCheck",
    "groupSet",
    "ebsOptimized",
    "sriovNetSupport",
    "enaSupport",
    "enclaveOptions",
    "disableApiStop",
];

/// The answer of DescribeInstanceAttribute for one of `INSTANCE_ATTRIBUTES`. Attributes
/// ec2lite has no model of show EC2's defaults.
pub fn write_instance_attribute(x: &mut Xml, i: &Instance, attribute: &str) {
    x.text("instanceId", &i.instance_id);
    let value = |x: &mut Xml, v: &str| {
        x.open(attribute).text("value", v).close(attribute);
    };
    let boolean = |b: bool| if b { "true" } else { "false" };
    match attribute {
        "instanceType" => value(x, &i.instance_type),
        "kernel" => {
            x.attribute_value("kernel", i.kernel_id.as_deref());
        }
        "userData" => {
            x.attribute_value("userData", i.user_data.as_deref());
        }
        "disableApiTermination" => value(x, boolean(i.disable_api_termination)),
        "instanceInitiatedShutdownBehavior" => value(x, &i.shutdown_behavior),
        "rootDeviceName" => {
            x.attribute_value("rootDeviceName", i.root_device_name.as_deref());
        }
        "blockDeviceMapping" => write_instance_block_device_mappings(x, &i.volumes),
        "groupSet" => {
            x.list("groupSet", &i.security_group_ids, |x, id| {
                x.text("groupId", id);
            });
        }
        "enaSupport" => value(x, boolean(i.ena_support == Some(true))),
        "sourceDestCheck" => value(x, boolean(i.interfaces.first().is_none_or(|n| n.source_dest_check))),
        "ebsOptimized" => value(x, boolean(i.ebs_optimized)),
        "disableApiStop" => value(x, boolean(i.disable_api_stop)),
        "enclaveOptions" => {
            x.open("enclaveOptions").bool("enabled", false).close("enclaveOptions");
        }
        "productCodes" => write_product_codes(x, &i.product_codes),
        "ramdisk" => {
            x.attribute_value("ramdisk", i.ramdisk_id.as_deref());
        }
        "sriovNetSupport" => {
            x.attribute_value("sriovNetSupport", i.sriov_net_support.as_deref());
        }
        _ => value(x, "false"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2024-05-01T12:00:00.000Z
    const LAUNCHED: i64 = 1_714_564_800_000;

    fn running() -> Instance {
        Instance {
            instance_id: "i-0123456789abcdef0".into(),
            owner_id: "000000000000".into(),
            region: "us-east-1".into(),
            reservation_id: "r-0123456789abcdef0".into(),
            image_id: "ami-0123456789abcdef0".into(),
            instance_type: "t3.micro".into(),
            availability_zone: "us-east-1a".into(),
            subnet_id: "subnet-0123456789abcdef0".into(),
            vpc_id: "vpc-0123456789abcdef0".into(),
            private_ip: "172.31.0.10".into(),
            public_ip: Some("3.90.1.2".into()),
            key_name: Some("web-key".into()),
            user_data: Some("ZWNobw==".into()),
            state: InstanceState::Running,
            launch_time: LAUNCHED,
            architecture: "x86_64".into(),
            virtualization_type: "hvm".into(),
            root_device_type: "ebs".into(),
            root_device_name: Some("/dev/xvda".into()),
            platform_details: "Linux/UNIX".into(),
            usage_operation: "RunInstances".into(),
            boot_mode: Some("uefi-preferred".into()),
            ena_support: Some(true),
            client_token: Some("token-1".into()),
            shutdown_behavior: "stop".into(),
            security_group_ids: vec!["sg-0123456789abcdef0".into()],
            groups: vec![("sg-0123456789abcdef0".into(), "default".into())],
            interfaces: vec![InstanceInterface {
                network_interface_id: "eni-0123456789abcdef0".into(),
                subnet_id: "subnet-0123456789abcdef0".into(),
                vpc_id: "vpc-0123456789abcdef0".into(),
                private_ip: "172.31.0.10".into(),
                mac_address: "0e:01:02:03:04:05".into(),
                description: String::new(),
                source_dest_check: true,
                attachment_id: "eni-attach-0123456789abcdef0".into(),
                device_index: 0,
                attach_time: LAUNCHED,
                delete_on_termination: true,
                groups: vec![("sg-0123456789abcdef0".into(), "default".into())],
                elastic_ip: None,
            }],
            tags: vec![("Name".into(), "web".into())],
            volumes: vec![("/dev/xvda".into(), "vol-0123456789abcdef0".into(), LAUNCHED, true)],
            ..Default::default()
        }
    }

    const ROOT_MAPPING: &str = "<blockDeviceMapping><item><deviceName>/dev/xvda</deviceName><ebs><volumeId>vol-0123456789abcdef0</volumeId><status>attached</status><attachTime>2024-05-01T12:00:00.000Z</attachTime><deleteOnTermination>true</deleteOnTermination></ebs></item></blockDeviceMapping>";

    const FIXED_OPTIONS: &str = "<cpuOptions><coreCount>1</coreCount><threadsPerCore>2</threadsPerCore></cpuOptions><capacityReservationSpecification><capacityReservationPreference>open</capacityReservationPreference></capacityReservationSpecification><hibernationOptions><configured>false</configured></hibernationOptions><metadataOptions><state>applied</state><httpTokens>required</httpTokens><httpPutResponseHopLimit>2</httpPutResponseHopLimit><httpEndpoint>enabled</httpEndpoint><httpProtocolIpv6>disabled</httpProtocolIpv6><instanceMetadataTags>disabled</instanceMetadataTags></metadataOptions><enclaveOptions><enabled>false</enabled></enclaveOptions>";

    fn written(write: impl FnOnce(&mut Xml)) -> String {
        let mut x = Xml::new();
        write(&mut x);
        x.into_string()
    }

    #[test]
    fn running_instance_is_exact() {
        let expected = [
            "<instanceId>i-0123456789abcdef0</instanceId><imageId>ami-0123456789abcdef0</imageId>",
            "<instanceState><code>16</code><name>running</name></instanceState>",
            "<privateDnsName>ip-172-31-0-10.ec2.internal</privateDnsName>",
            "<dnsName>ec2-3-90-1-2.compute-1.amazonaws.com</dnsName><reason></reason>",
            "<keyName>web-key</keyName><amiLaunchIndex>0</amiLaunchIndex><productCodes/>",
            "<instanceType>t3.micro</instanceType><launchTime>2024-05-01T12:00:00.000Z</launchTime>",
            "<placement><availabilityZone>us-east-1a</availabilityZone><groupName/><tenancy>default</tenancy></placement>",
            "<platformDetails>Linux/UNIX</platformDetails><usageOperation>RunInstances</usageOperation>",
            "<monitoring><state>disabled</state></monitoring>",
            "<subnetId>subnet-0123456789abcdef0</subnetId><vpcId>vpc-0123456789abcdef0</vpcId>",
            "<privateIpAddress>172.31.0.10</privateIpAddress><ipAddress>3.90.1.2</ipAddress>",
            "<sourceDestCheck>true</sourceDestCheck>",
            "<groupSet><item><groupId>sg-0123456789abcdef0</groupId><groupName>default</groupName></item></groupSet>",
            "<networkInterfaceSet><item><networkInterfaceId>eni-0123456789abcdef0</networkInterfaceId>",
            "<subnetId>subnet-0123456789abcdef0</subnetId><vpcId>vpc-0123456789abcdef0</vpcId><description></description>",
            "<ownerId>000000000000</ownerId><status>in-use</status><macAddress>0e:01:02:03:04:05</macAddress>",
            "<privateIpAddress>172.31.0.10</privateIpAddress><privateDnsName>ip-172-31-0-10.ec2.internal</privateDnsName>",
            "<sourceDestCheck>true</sourceDestCheck>",
            "<groupSet><item><groupId>sg-0123456789abcdef0</groupId><groupName>default</groupName></item></groupSet>",
            "<attachment><attachmentId>eni-attach-0123456789abcdef0</attachmentId><deviceIndex>0</deviceIndex>",
            "<status>attached</status><attachTime>2024-05-01T12:00:00.000Z</attachTime>",
            "<deleteOnTermination>true</deleteOnTermination><networkCardIndex>0</networkCardIndex></attachment>",
            "<association><publicIp>3.90.1.2</publicIp><publicDnsName>ec2-3-90-1-2.compute-1.amazonaws.com</publicDnsName>",
            "<ipOwnerId>amazon</ipOwnerId></association>",
            "<privateIpAddressesSet><item><privateIpAddress>172.31.0.10</privateIpAddress>",
            "<privateDnsName>ip-172-31-0-10.ec2.internal</privateDnsName><primary>true</primary>",
            "<association><publicIp>3.90.1.2</publicIp><publicDnsName>ec2-3-90-1-2.compute-1.amazonaws.com</publicDnsName>",
            "<ipOwnerId>amazon</ipOwnerId></association></item></privateIpAddressesSet><ipv6AddressesSet/>",
            "<interfaceType>interface</interfaceType></item></networkInterfaceSet>",
            "<architecture>x86_64</architecture><rootDeviceType>ebs</rootDeviceType>",
            "<rootDeviceName>/dev/xvda</rootDeviceName>",
            ROOT_MAPPING,
            "<virtualizationType>hvm</virtualizationType><clientToken>token-1</clientToken>",
            "<tagSet><item><key>Name</key><value>web</value></item></tagSet>",
            "<hypervisor>xen</hypervisor><ebsOptimized>false</ebsOptimized><enaSupport>true</enaSupport>",
            FIXED_OPTIONS,
            "<bootMode>uefi-preferred</bootMode><currentInstanceBootMode>uefi</currentInstanceBootMode>",
        ]
        .concat();
        assert_eq!(written(|x| write_instance(x, &running(), "us-east-1")), expected);
    }

    #[test]
    fn an_elastic_ip_shows_while_stopped_and_is_owned_by_the_account() {
        let mut stopped = running();
        stopped.state = InstanceState::Stopped;
        stopped.public_ip = Some("44.200.1.2".into());
        let without = written(|x| write_instance(x, &stopped, "us-east-1"));
        assert!(without.contains("<dnsName></dnsName>") && !without.contains("<ipAddress>"), "{without}");
        stopped.interfaces[0].elastic_ip = Some("44.200.1.2".into());
        let with = written(|x| write_instance(x, &stopped, "us-east-1"));
        let association = "<association><publicIp>44.200.1.2</publicIp>\
            <publicDnsName>ec2-44-200-1-2.compute-1.amazonaws.com</publicDnsName>\
            <ipOwnerId>000000000000</ipOwnerId></association>";
        assert!(with.contains("<dnsName>ec2-44-200-1-2.compute-1.amazonaws.com</dnsName>"), "{with}");
        assert!(with.contains("<privateIpAddress>172.31.0.10</privateIpAddress><ipAddress>44.200.1.2</ipAddress>"));
        assert_eq!(with.matches(association).count(), 2, "{with}");
    }

    #[test]
    fn terminated_instance_hides_its_network_and_shows_why() {
        let terminated = Instance {
            instance_id: "i-0123456789abcdef1".into(),
            image_id: "ami-0123456789abcdef0".into(),
            instance_type: "m1.small".into(),
            availability_zone: "eu-west-1b".into(),
            subnet_id: "subnet-0123456789abcdef0".into(),
            vpc_id: "vpc-0123456789abcdef0".into(),
            private_ip: "172.31.16.4".into(),
            public_ip: Some("3.90.1.2".into()),
            state: InstanceState::Terminated,
            state_transition_reason: "User initiated (2024-05-01 12:00:00 GMT)".into(),
            state_reason_code: Some("Client.UserInitiatedShutdown".into()),
            state_reason_message: Some("Client.UserInitiatedShutdown: User initiated shutdown".into()),
            launch_time: LAUNCHED,
            ami_launch_index: 1,
            architecture: "x86_64".into(),
            virtualization_type: "paravirtual".into(),
            root_device_type: "instance-store".into(),
            kernel_id: Some("aki-0123456789abcdef0".into()),
            platform_details: "Linux/UNIX".into(),
            usage_operation: "RunInstances".into(),
            ..Default::default()
        };
        let expected = [
            "<instanceId>i-0123456789abcdef1</instanceId><imageId>ami-0123456789abcdef0</imageId>",
            "<instanceState><code>48</code><name>terminated</name></instanceState>",
            "<privateDnsName></privateDnsName><dnsName></dnsName>",
            "<reason>User initiated (2024-05-01 12:00:00 GMT)</reason>",
            "<amiLaunchIndex>1</amiLaunchIndex><productCodes/>",
            "<instanceType>m1.small</instanceType><launchTime>2024-05-01T12:00:00.000Z</launchTime>",
            "<placement><availabilityZone>eu-west-1b</availabilityZone><groupName/><tenancy>default</tenancy></placement>",
            "<kernelId>aki-0123456789abcdef0</kernelId>",
            "<platformDetails>Linux/UNIX</platformDetails><usageOperation>RunInstances</usageOperation>",
            "<monitoring><state>disabled</state></monitoring>",
            "<sourceDestCheck>true</sourceDestCheck><groupSet/><networkInterfaceSet/>",
            "<stateReason><code>Client.UserInitiatedShutdown</code>",
            "<message>Client.UserInitiatedShutdown: User initiated shutdown</message></stateReason>",
            "<architecture>x86_64</architecture><rootDeviceType>instance-store</rootDeviceType>",
            "<blockDeviceMapping/><virtualizationType>paravirtual</virtualizationType><tagSet/>",
            "<hypervisor>xen</hypervisor><ebsOptimized>false</ebsOptimized>",
            FIXED_OPTIONS,
            "<currentInstanceBootMode>legacy-bios</currentInstanceBootMode>",
        ]
        .concat();
        assert_eq!(written(|x| write_instance(x, &terminated, "eu-west-1")), expected);
    }

    #[test]
    fn reservation_is_exact() {
        let mut second = running();
        second.instance_id = "i-0123456789abcdef1".into();
        second.ami_launch_index = 1;
        let instances = [running(), second.clone()];
        let expected = [
            "<reservationId>r-0123456789abcdef0</reservationId><ownerId>000000000000</ownerId><groupSet/>",
            "<instancesSet><item>",
            &written(|x| write_instance(x, &instances[0], "us-east-1")),
            "</item><item>",
            &written(|x| write_instance(x, &second, "us-east-1")),
            "</item></instancesSet>",
        ]
        .concat();
        assert_eq!(written(|x| write_reservation(x, "000000000000", "us-east-1", &instances)), expected);
    }

    #[test]
    fn instance_block_device_mappings_are_exact() {
        assert_eq!(written(|x| write_instance_block_device_mappings(x, &running().volumes)), ROOT_MAPPING);
        assert_eq!(written(|x| write_instance_block_device_mappings(x, &[])), "<blockDeviceMapping/>");
    }

    #[test]
    fn state_changes_are_exact() {
        let changes = [StateChange {
            instance_id: "i-0123456789abcdef0".into(),
            previous_state: InstanceState::Running,
            current_state: InstanceState::Stopping,
        }];
        assert_eq!(
            written(|x| write_state_changes(x, &changes)),
            "<instancesSet><item><instanceId>i-0123456789abcdef0</instanceId><currentState><code>64</code><name>stopping</name></currentState><previousState><code>16</code><name>running</name></previousState></item></instancesSet>"
        );
    }

    #[test]
    fn status_of_running_and_stopped_instances_is_exact() {
        assert_eq!(
            written(|x| write_instance_status(x, &running())),
            "<instanceId>i-0123456789abcdef0</instanceId><availabilityZone>us-east-1a</availabilityZone><instanceState><code>16</code><name>running</name></instanceState><systemStatus><status>ok</status><details><item><name>reachability</name><status>passed</status></item></details></systemStatus><instanceStatus><status>ok</status><details><item><name>reachability</name><status>passed</status></item></details></instanceStatus>"
        );
        let stopped = Instance { state: InstanceState::Stopped, ..running() };
        assert_eq!(
            written(|x| write_instance_status(x, &stopped)),
            "<instanceId>i-0123456789abcdef0</instanceId><availabilityZone>us-east-1a</availabilityZone><instanceState><code>80</code><name>stopped</name></instanceState><systemStatus><status>not-applicable</status><details/></systemStatus><instanceStatus><status>not-applicable</status><details/></instanceStatus>"
        );
    }

    #[test]
    fn instance_attributes_are_exact() {
        let i = running();
        let attribute = |name: &str| written(|x| write_instance_attribute(x, &i, name));
        let id = "<instanceId>i-0123456789abcdef0</instanceId>";
        assert_eq!(attribute("instanceType"), format!("{id}<instanceType><value>t3.micro</value></instanceType>"));
        assert_eq!(attribute("userData"), format!("{id}<userData><value>ZWNobw==</value></userData>"));
        assert_eq!(attribute("kernel"), format!("{id}<kernel/>"));
        assert_eq!(
            attribute("disableApiTermination"),
            format!("{id}<disableApiTermination><value>false</value></disableApiTermination>")
        );
        assert_eq!(attribute("blockDeviceMapping"), format!("{id}{ROOT_MAPPING}"));
        assert_eq!(
            attribute("groupSet"),
            format!("{id}<groupSet><item><groupId>sg-0123456789abcdef0</groupId></item></groupSet>")
        );
        assert_eq!(attribute("enaSupport"), format!("{id}<enaSupport><value>true</value></enaSupport>"));
        assert_eq!(attribute("ramdisk"), format!("{id}<ramdisk/>"));
        assert_eq!(
            attribute("enclaveOptions"),
            format!("{id}<enclaveOptions><enabled>false</enabled></enclaveOptions>")
        );
        assert_eq!(attribute("disableApiStop"), format!("{id}<disableApiStop><value>false</value></disableApiStop>"));
    }
}
