//! One handler per EC2 action, grouped by resource. Every action is one row of the
//! `operations!` table below: its name, its typed input (read from the query parameters
//! by `FromParams`, beside its handler) and its handler. The table generates the
//! `Operation` enum, its parser and its one exhaustive dispatch, so an action that is
//! routed nowhere does not compile.
//!
//! Adding an action: an `<Action>Input` with its `FromParams`, a handler
//! `async fn(&Ctx, <Action>Input) -> Result<Xml>`, one row here, and (if new) its XML
//! shape under `wire::shapes` with a golden test.

pub mod account;
pub mod addresses;
pub mod block_public_access;
pub mod console_output;
pub mod copy_image;
pub mod create_image;
pub mod ebs;
pub mod image_attributes;
pub mod image_lifecycle;
pub mod images;
pub mod imports;
pub mod instance_attributes;
pub mod instance_types;
pub mod instances;
pub mod key_pairs;
pub mod launch_templates;
pub mod machines;
pub mod network_interfaces;
pub mod regions;
pub mod routing;
pub mod security_group_rules;
pub mod security_groups;
pub mod snapshot_attributes;
pub mod snapshots;
pub mod ssm;
pub mod subnets;
pub mod tags;
pub mod volumes;
pub mod vpcs;

use crate::access::Scope;
use crate::app::App;
use crate::domain::ids::{self, IdKind};
use crate::domain::lifecycle::SnapshotState;
use crate::domain::snapshot::Snapshot;
use crate::domain::tags::Tag;
use crate::error::{Code, Ec2Error, Result};
use crate::store::{self, blocks};
use crate::wire::params::Params;
use crate::wire::xml::Xml;

/// The request as a handler sees it.
pub struct Ctx<'a> {
    pub app: &'a App,
    pub scope: Scope<'a>,
    pub now: i64,
    pub dry_run: bool,
}

impl Ctx<'_> {
    /// Creates the caller's default network in the region if this is its first use:
    /// every networking action and every launch calls it first.
    pub async fn ensure_default_network(&self) -> Result<()> {
        self.app.store.ensure_default_network(self.scope.account, self.scope.region, self.now).await
    }

    /// Call once the request has been validated and would succeed: with `DryRun` set,
    /// this is where the call stops.
    pub fn check_dry_run(&self) -> Result<()> {
        if self.dry_run {
            Err(Ec2Error::dry_run())
        } else {
            Ok(())
        }
    }
}

// Steps that several actions take.

/// Refuses the first id of `asked` that is not `known`.
pub fn check_known(kind: &str, code: Code, asked: &[String], known: &[String]) -> Result<()> {
    match asked.iter().find(|id| !known.contains(id)) {
        Some(missing) => Err(Ec2Error::new(code, format!("The {kind} ID '{missing}' does not exist"))),
        None => Ok(()),
    }
}

/// A new pending snapshot owned by the caller, due to complete after the configured time.
pub fn new_snapshot(ctx: &Ctx<'_>, volume_id: &str, volume_size: i64, description: String) -> Snapshot {
    Snapshot {
        snapshot_id: ids::new_id(IdKind::Snapshot),
        owner_id: ctx.scope.account.to_string(),
        region: ctx.scope.region.to_string(),
        volume_id: volume_id.to_string(),
        volume_size,
        description,
        state: SnapshotState::Pending,
        start_time: ctx.now,
        ready_at: Some(ctx.now + ctx.app.timings.snapshot_pending_ms),
        ..Default::default()
    }
}

/// Stores a new snapshot of the caller (in its final state at once when no pending time
/// is configured) with its tags and the blocks of `content_from` (the volume or snapshot
/// it is taken from), and schedules its completion. Returns whether it is still pending.
pub async fn store_new_snapshot(
    ctx: &Ctx<'_>,
    conn: &mut impl store::Exec,
    snapshot: &Snapshot,
    tags: &[Tag],
    content_from: &str,
) -> Result<bool> {
    let stored = snapshot.settled(ctx.now);
    store::snapshots::insert(conn, &stored, ctx.now).await?;
    blocks::copy(conn, content_from, &snapshot.snapshot_id).await?;
    store::tags::upsert(conn, ctx.scope.account, ctx.scope.region, &snapshot.snapshot_id, "snapshot", tags, ctx.now)
        .await?;
    ctx.app.store.schedule_transition(stored.ready_at);
    Ok(stored.state == SnapshotState::Pending)
}

/// An action's typed input, read from the request's query parameters before its
/// handler runs: every parameter error is found here, before the store is touched.
pub trait FromParams: Sized {
    fn from_params(p: &Params) -> Result<Self>;
}

macro_rules! operations {
    ($($name:ident($input:ty) => $handler:path;)+) => {
        /// One EC2 action with its parsed input.
        pub enum Operation {
            $($name($input),)+
        }

        impl Operation {
            /// The name of every action ec2lite implements.
            pub const NAMES: &'static [&'static str] = &[$(stringify!($name),)+];

            /// Reads `action`'s input from the parameters. Actions of the EC2 API that
            /// ec2lite does not implement answer `UnsupportedOperation`, others
            /// `InvalidAction`.
            pub fn parse(action: &str, p: &Params) -> Result<Operation> {
                match action {
                    $(stringify!($name) => Ok(Operation::$name(<$input as FromParams>::from_params(p)?)),)+
                    other if is_ec2_action(other) => Err(crate::ec2_err!(
                        UnsupportedOperation,
                        "The action {other} is not implemented by ec2lite yet."
                    )),
                    other => Err(crate::ec2_err!(InvalidAction, "The action {other} is not valid for this web service.")),
                }
            }

            pub fn name(&self) -> &'static str {
                match self {
                    $(Operation::$name(_) => stringify!($name),)+
                }
            }

            /// Runs the handler of this operation.
            pub async fn run(self, ctx: &Ctx<'_>) -> Result<Xml> {
                match self {
                    $(Operation::$name(input) => $handler(ctx, input).await,)+
                }
            }
        }
    };
}

operations! {
    DescribeAccountAttributes(account::DescribeAccountAttributesInput) => account::describe_account_attributes;
    DescribeRegions(regions::DescribeRegionsInput) => regions::describe_regions;
    DescribeAvailabilityZones(regions::DescribeAvailabilityZonesInput) => regions::describe_availability_zones;
    CreateVolume(volumes::CreateVolumeInput) => volumes::create_volume;
    DescribeVolumes(volumes::DescribeVolumesInput) => volumes::describe_volumes;
    DeleteVolume(volumes::DeleteVolumeInput) => volumes::delete_volume;
    CreateSnapshot(snapshots::CreateSnapshotInput) => snapshots::create_snapshot;
    CreateSnapshots(snapshots::CreateSnapshotsInput) => snapshots::create_snapshots;
    CreateKeyPair(key_pairs::CreateKeyPairInput) => key_pairs::create_key_pair;
    ImportKeyPair(key_pairs::ImportKeyPairInput) => key_pairs::import_key_pair;
    DescribeKeyPairs(key_pairs::DescribeKeyPairsInput) => key_pairs::describe_key_pairs;
    DeleteKeyPair(key_pairs::DeleteKeyPairInput) => key_pairs::delete_key_pair;
    ImportSnapshot(imports::ImportSnapshotInput) => imports::import_snapshot;
    ImportImage(imports::ImportImageInput) => imports::import_image;
    DescribeImportSnapshotTasks(imports::DescribeImportSnapshotTasksInput) => imports::describe_import_snapshot_tasks;
    DescribeImportImageTasks(imports::DescribeImportImageTasksInput) => imports::describe_import_image_tasks;
    CancelImportTask(imports::CancelImportTaskInput) => imports::cancel_import_task;
    DescribeSnapshots(snapshots::DescribeSnapshotsInput) => snapshots::describe_snapshots;
    DeleteSnapshot(snapshots::DeleteSnapshotInput) => snapshots::delete_snapshot;
    CopySnapshot(snapshots::CopySnapshotInput) => snapshots::copy_snapshot;
    ModifySnapshotAttribute(snapshot_attributes::ModifySnapshotAttributeInput) => snapshot_attributes::modify_snapshot_attribute;
    DescribeSnapshotAttribute(snapshot_attributes::DescribeSnapshotAttributeInput) => snapshot_attributes::describe_snapshot_attribute;
    ResetSnapshotAttribute(snapshot_attributes::ResetSnapshotAttributeInput) => snapshot_attributes::reset_snapshot_attribute;
    RegisterImage(images::RegisterImageInput) => images::register_image;
    DescribeImages(images::DescribeImagesInput) => images::describe_images;
    DeregisterImage(images::DeregisterImageInput) => images::deregister_image;
    ModifyImageAttribute(image_attributes::ModifyImageAttributeInput) => image_attributes::modify_image_attribute;
    DescribeImageAttribute(image_attributes::DescribeImageAttributeInput) => image_attributes::describe_image_attribute;
    ResetImageAttribute(image_attributes::ResetImageAttributeInput) => image_attributes::reset_image_attribute;
    EnableImageDeprecation(image_lifecycle::EnableImageDeprecationInput) => image_lifecycle::enable_image_deprecation;
    DisableImageDeprecation(image_lifecycle::DisableImageDeprecationInput) => image_lifecycle::disable_image_deprecation;
    EnableImage(image_lifecycle::EnableImageInput) => image_lifecycle::enable_image;
    DisableImage(image_lifecycle::DisableImageInput) => image_lifecycle::disable_image;
    EnableImageDeregistrationProtection(image_lifecycle::EnableImageDeregistrationProtectionInput) => image_lifecycle::enable_image_deregistration_protection;
    DisableImageDeregistrationProtection(image_lifecycle::DisableImageDeregistrationProtectionInput) => image_lifecycle::disable_image_deregistration_protection;
    RunInstances(instances::RunInstancesRequest) => instances::run_instances;
    DescribeInstances(instances::DescribeInstancesInput) => instances::describe_instances;
    StartInstances(instances::StartInstancesInput) => instances::start_instances;
    StopInstances(instances::StopInstancesInput) => instances::stop_instances;
    RebootInstances(instances::RebootInstancesInput) => instances::reboot_instances;
    TerminateInstances(instances::TerminateInstancesInput) => instances::terminate_instances;
    DescribeInstanceStatus(instances::DescribeInstanceStatusInput) => instances::describe_instance_status;
    GetConsoleOutput(console_output::GetConsoleOutputInput) => console_output::get_console_output;
    DescribeInstanceAttribute(instance_attributes::DescribeInstanceAttributeInput) => instance_attributes::describe_instance_attribute;
    ModifyInstanceAttribute(instance_attributes::ModifyInstanceAttributeInput) => instance_attributes::modify_instance_attribute;
    AttachVolume(volumes::AttachVolumeInput) => volumes::attach_volume;
    DetachVolume(volumes::DetachVolumeInput) => volumes::detach_volume;
    CreateImage(create_image::CreateImageInput) => create_image::create_image;
    CopyImage(copy_image::CopyImageInput) => copy_image::copy_image;
    EnableImageBlockPublicAccess(block_public_access::EnableImageBlockPublicAccessInput) => block_public_access::enable_image_block_public_access;
    DisableImageBlockPublicAccess(block_public_access::DisableImageBlockPublicAccessInput) => block_public_access::disable_image_block_public_access;
    GetImageBlockPublicAccessState(block_public_access::GetImageBlockPublicAccessStateInput) => block_public_access::get_image_block_public_access_state;
    EnableSnapshotBlockPublicAccess(block_public_access::EnableSnapshotBlockPublicAccessInput) => block_public_access::enable_snapshot_block_public_access;
    DisableSnapshotBlockPublicAccess(block_public_access::DisableSnapshotBlockPublicAccessInput) => block_public_access::disable_snapshot_block_public_access;
    GetSnapshotBlockPublicAccessState(block_public_access::GetSnapshotBlockPublicAccessStateInput) => block_public_access::get_snapshot_block_public_access_state;
    CreateTags(tags::CreateTagsInput) => tags::create_tags;
    DeleteTags(tags::DeleteTagsInput) => tags::delete_tags;
    DescribeTags(tags::DescribeTagsInput) => tags::describe_tags;

    // VPCs and subnets.
    CreateVpc(vpcs::CreateVpcInput) => vpcs::create_vpc;
    DescribeVpcs(vpcs::DescribeVpcsInput) => vpcs::describe_vpcs;
    DeleteVpc(vpcs::DeleteVpcInput) => vpcs::delete_vpc;
    ModifyVpcAttribute(vpcs::ModifyVpcAttributeInput) => vpcs::modify_vpc_attribute;
    DescribeVpcAttribute(vpcs::DescribeVpcAttributeInput) => vpcs::describe_vpc_attribute;
    CreateDefaultVpc(vpcs::CreateDefaultVpcInput) => vpcs::create_default_vpc;
    // --
    CreateSubnet(subnets::CreateSubnetInput) => subnets::create_subnet;
    DescribeSubnets(subnets::DescribeSubnetsInput) => subnets::describe_subnets;
    DeleteSubnet(subnets::DeleteSubnetInput) => subnets::delete_subnet;
    ModifySubnetAttribute(subnets::ModifySubnetAttributeInput) => subnets::modify_subnet_attribute;
    // --

    // Security groups.
    CreateSecurityGroup(security_groups::CreateSecurityGroupInput) => security_groups::create_security_group;
    DescribeSecurityGroups(security_groups::DescribeSecurityGroupsInput) => security_groups::describe_security_groups;
    DeleteSecurityGroup(security_groups::DeleteSecurityGroupInput) => security_groups::delete_security_group;
    AuthorizeSecurityGroupIngress(security_group_rules::AuthorizeSecurityGroupIngressInput) => security_group_rules::authorize_security_group_ingress;
    AuthorizeSecurityGroupEgress(security_group_rules::AuthorizeSecurityGroupEgressInput) => security_group_rules::authorize_security_group_egress;
    RevokeSecurityGroupIngress(security_group_rules::RevokeSecurityGroupIngressInput) => security_group_rules::revoke_security_group_ingress;
    RevokeSecurityGroupEgress(security_group_rules::RevokeSecurityGroupEgressInput) => security_group_rules::revoke_security_group_egress;
    DescribeSecurityGroupRules(security_group_rules::DescribeSecurityGroupRulesInput) => security_group_rules::describe_security_group_rules;
    ModifySecurityGroupRules(security_group_rules::ModifySecurityGroupRulesInput) => security_group_rules::modify_security_group_rules;
    UpdateSecurityGroupRuleDescriptionsIngress(security_group_rules::UpdateSecurityGroupRuleDescriptionsIngressInput) => security_group_rules::update_security_group_rule_descriptions_ingress;
    UpdateSecurityGroupRuleDescriptionsEgress(security_group_rules::UpdateSecurityGroupRuleDescriptionsEgressInput) => security_group_rules::update_security_group_rule_descriptions_egress;
    // --

    // Internet gateways and route tables.
    CreateInternetGateway(routing::CreateInternetGatewayInput) => routing::create_internet_gateway;
    AttachInternetGateway(routing::AttachInternetGatewayInput) => routing::attach_internet_gateway;
    DetachInternetGateway(routing::DetachInternetGatewayInput) => routing::detach_internet_gateway;
    DeleteInternetGateway(routing::DeleteInternetGatewayInput) => routing::delete_internet_gateway;
    DescribeInternetGateways(routing::DescribeInternetGatewaysInput) => routing::describe_internet_gateways;
    CreateRouteTable(routing::CreateRouteTableInput) => routing::create_route_table;
    DeleteRouteTable(routing::DeleteRouteTableInput) => routing::delete_route_table;
    DescribeRouteTables(routing::DescribeRouteTablesInput) => routing::describe_route_tables;
    AssociateRouteTable(routing::AssociateRouteTableInput) => routing::associate_route_table;
    DisassociateRouteTable(routing::DisassociateRouteTableInput) => routing::disassociate_route_table;
    ReplaceRouteTableAssociation(routing::ReplaceRouteTableAssociationInput) => routing::replace_route_table_association;
    CreateRoute(routing::CreateRouteInput) => routing::create_route;
    ReplaceRoute(routing::ReplaceRouteInput) => routing::replace_route;
    DeleteRoute(routing::DeleteRouteInput) => routing::delete_route;
    DescribeNetworkAcls(routing::DescribeNetworkAclsInput) => routing::describe_network_acls;
    // --

    // Network interfaces.
    CreateNetworkInterface(network_interfaces::CreateNetworkInterfaceInput) => network_interfaces::create_network_interface;
    DescribeNetworkInterfaces(network_interfaces::DescribeNetworkInterfacesInput) => network_interfaces::describe_network_interfaces;
    DeleteNetworkInterface(network_interfaces::DeleteNetworkInterfaceInput) => network_interfaces::delete_network_interface;
    AttachNetworkInterface(network_interfaces::AttachNetworkInterfaceInput) => network_interfaces::attach_network_interface;
    DetachNetworkInterface(network_interfaces::DetachNetworkInterfaceInput) => network_interfaces::detach_network_interface;
    ModifyNetworkInterfaceAttribute(network_interfaces::ModifyNetworkInterfaceAttributeInput) => network_interfaces::modify_network_interface_attribute;
    DescribeNetworkInterfaceAttribute(network_interfaces::DescribeNetworkInterfaceAttributeInput) => network_interfaces::describe_network_interface_attribute;
    // --

    // Instance types.
    DescribeInstanceTypes(instance_types::DescribeInstanceTypesInput) => instance_types::describe_instance_types;
    DescribeInstanceTypeOfferings(instance_types::DescribeInstanceTypeOfferingsInput) => instance_types::describe_instance_type_offerings;
    DescribeInstanceCreditSpecifications(instance_types::DescribeInstanceCreditSpecificationsInput) => instance_types::describe_instance_credit_specifications;
    ModifyInstanceCreditSpecification(instance_types::ModifyInstanceCreditSpecificationInput) => instance_types::modify_instance_credit_specification;
    // --

    // Launch templates.
    CreateLaunchTemplate(launch_templates::CreateLaunchTemplateInput) => launch_templates::create_launch_template;
    CreateLaunchTemplateVersion(launch_templates::CreateLaunchTemplateVersionInput) => launch_templates::create_launch_template_version;
    DescribeLaunchTemplates(launch_templates::DescribeLaunchTemplatesInput) => launch_templates::describe_launch_templates;
    DescribeLaunchTemplateVersions(launch_templates::DescribeLaunchTemplateVersionsInput) => launch_templates::describe_launch_template_versions;
    ModifyLaunchTemplate(launch_templates::ModifyLaunchTemplateInput) => launch_templates::modify_launch_template;
    DeleteLaunchTemplate(launch_templates::DeleteLaunchTemplateInput) => launch_templates::delete_launch_template;
    DeleteLaunchTemplateVersions(launch_templates::DeleteLaunchTemplateVersionsInput) => launch_templates::delete_launch_template_versions;
    GetLaunchTemplateData(launch_templates::GetLaunchTemplateDataInput) => launch_templates::get_launch_template_data;

    // Elastic IPs.
    AllocateAddress(addresses::AllocateAddressInput) => addresses::allocate_address;
    AssociateAddress(addresses::AssociateAddressInput) => addresses::associate_address;
    DisassociateAddress(addresses::DisassociateAddressInput) => addresses::disassociate_address;
    ReleaseAddress(addresses::ReleaseAddressInput) => addresses::release_address;
    DescribeAddresses(addresses::DescribeAddressesInput) => addresses::describe_addresses;
    DescribeAddressesAttribute(addresses::DescribeAddressesAttributeInput) => addresses::describe_addresses_attribute;
    // --
}

/// Every operation of the EC2 API (botocore's `ec2/2016-11-15` model), one per line.
static EC2_ACTIONS: &str = include_str!("ec2_actions.txt");

/// Whether `name` is an EC2 action (asked on every request, by the metrics too: a set,
/// not a scan of 830 lines).
pub fn is_ec2_action(name: &str) -> bool {
    static ACTIONS: std::sync::LazyLock<std::collections::HashSet<&'static str>> =
        std::sync::LazyLock::new(|| EC2_ACTIONS.lines().collect());
    ACTIONS.contains(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_ids_are_refused_by_kind() {
        let known = ["vpc-1".to_string()];
        assert!(check_known("vpc", Code::InvalidVpcID_NotFound, &["vpc-1".into()], &known).is_ok());
        let err =
            check_known("vpc", Code::InvalidVpcID_NotFound, &["vpc-1".into(), "vpc-2".into()], &known).unwrap_err();
        assert_eq!(
            (err.code, err.message.as_str()),
            (Code::InvalidVpcID_NotFound, "The vpc ID 'vpc-2' does not exist")
        );
    }

    /// README's list of actions is this table's, sorted: a new action fails here until
    /// README names it.
    #[test]
    fn readme_lists_every_action() {
        let readme = include_str!("../../README.md");
        let start = readme.find("<!-- actions:begin -->\n").expect("README marks the list") + 23;
        let end = readme.find("\n<!-- actions:end -->").expect("README marks the list's end");
        let mut names = Operation::NAMES.to_vec();
        names.sort_unstable();
        let expected = names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ");
        assert_eq!(&readme[start..end], expected, "README's action list should read:\n{expected}");
    }

    #[test]
    fn every_implemented_action_is_a_real_ec2_action() {
        for action in Operation::NAMES {
            assert!(is_ec2_action(action), "{action}");
        }
        assert!(!is_ec2_action("FrobnicateImages"));
    }

    #[test]
    fn unknown_and_unimplemented_actions_are_refused_by_name() {
        let p = Params::default();
        assert_eq!(Operation::parse("FrobnicateImages", &p).err().unwrap().code, "InvalidAction");
        assert_eq!(Operation::parse("CreateFleet", &p).err().unwrap().code, "UnsupportedOperation");
        assert_eq!(Operation::parse("DescribeRegions", &p).ok().unwrap().name(), "DescribeRegions");
    }
}
