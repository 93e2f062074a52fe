//! Who may touch what: every lookup of a resource on behalf of a caller, and the one
//! table of the answers EC2 gives when the caller may not.
//!
//! | the resource is ...                          | owner-only action          | launch            |
//! |----------------------------------------------|----------------------------|-------------------|
//! | malformed id                                 | `*.Malformed`              | `*.Malformed`     |
//! | not in the region, or never visible          | `*.NotFound`               | `*.NotFound`      |
//! | another account's image, visible (shared)    | `AuthFailure`              | allowed           |
//! | another account's image, not shared          | `*.NotFound`               | `AuthFailure`     |
//! | another account's snapshot, visible          | `UnauthorizedOperation`    | n/a               |
//! | another account's volume, instance, key pair | `*.NotFound`               | n/a               |
//!
//! Lookups run on the connection (or transaction) the action goes on with, so what was
//! checked is what is changed.

use std::collections::BTreeMap;

use crate::app::App;
use crate::domain::ids::{self, IdKind};
use crate::domain::image::{BlockDeviceMapping, EbsBlockDevice, Image};
use crate::domain::instance::Instance;
use crate::domain::launch_template::{
    version_not_found, LaunchTemplate, LaunchTemplateVersion, TemplateRef, VersionRef,
};
use crate::domain::lifecycle::ImageState;
use crate::domain::network::security_group::{group_name_not_found, GroupRef, SecurityGroup};
use crate::domain::snapshot::Snapshot;
use crate::domain::ssm::{self, ParameterVersion, SsmError};
use crate::domain::volume::Volume;
use crate::error::{Ec2Error, Result};
use crate::store::network::{self, security_groups};
use crate::store::{images, instances, launch_templates, snapshots, ssm as ssm_store, volumes, Conn, Exec};

/// The account and region a request acts in.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub account: &'a str,
    pub region: &'static str,
}

/// An image the caller may see (its own, shared with it, or public), deregistered ones
/// included.
pub async fn visible_image(scope: Scope<'_>, conn: &mut Conn, image_id: &str) -> Result<Image> {
    ids::check(IdKind::Image, image_id)?;
    images::find_visible(conn, scope.account, scope.region, image_id)
        .await?
        .ok_or_else(|| Ec2Error::image_not_found(&[image_id]))
}

/// The caller's own image.
pub async fn own_image(scope: Scope<'_>, conn: &mut Conn, image_id: &str) -> Result<Image> {
    let image = visible_image(scope, conn, image_id).await?;
    if image.owner_id != scope.account {
        return Err(Ec2Error::image_not_owned(image_id));
    }
    Ok(image)
}

/// An image the caller may launch: visible to it and available. With
/// `accept_unknown`, an id the store has never seen launches a stand-in image.
pub async fn launchable_image(
    scope: Scope<'_>,
    conn: &mut Conn,
    image_id: &str,
    accept_unknown: bool,
) -> Result<Image> {
    ids::check(IdKind::Image, image_id)?;
    match images::find_visible(conn, scope.account, scope.region, image_id).await? {
        Some(image) if image.state == ImageState::Available => Ok(image),
        Some(image) if image.state == ImageState::Deregistered => Err(Ec2Error::image_not_found(&[image_id])),
        Some(image) => Err(Ec2Error::image_unavailable(image_id, image.state.as_str())),
        None if images::exists_for_anyone(conn, scope.region, image_id).await? => {
            Err(Ec2Error::images_not_launchable(&[image_id]))
        }
        None if accept_unknown => Ok(stand_in_image(scope, image_id)),
        None => Err(Ec2Error::image_not_found(&[image_id])),
    }
}

/// What `--accept-unknown-images` launches for an id it has never seen.
fn stand_in_image(scope: Scope<'_>, image_id: &str) -> Image {
    Image {
        image_id: image_id.to_string(),
        owner_id: scope.account.to_string(),
        architecture: "x86_64".into(),
        virtualization_type: "hvm".into(),
        root_device_type: "ebs".into(),
        root_device_name: Some("/dev/xvda".into()),
        platform_details: "Linux/UNIX".into(),
        usage_operation: "RunInstances".into(),
        block_device_mappings: vec![BlockDeviceMapping {
            device_name: "/dev/xvda".into(),
            ebs: Some(EbsBlockDevice {
                volume_size: Some(8),
                volume_type: Some("gp2".into()),
                delete_on_termination: Some(true),
                encrypted: Some(false),
                ..Default::default()
            }),
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// A snapshot the caller may see (its own, shared with it, or public).
pub async fn visible_snapshot(scope: Scope<'_>, conn: &mut impl Exec, snapshot_id: &str) -> Result<Snapshot> {
    ids::check(IdKind::Snapshot, snapshot_id)?;
    snapshots::find_visible(conn, scope.account, scope.region, snapshot_id)
        .await?
        .ok_or_else(|| Ec2Error::snapshot_not_found(snapshot_id))
}

/// The caller's own snapshot.
pub async fn own_snapshot(scope: Scope<'_>, conn: &mut Conn, snapshot_id: &str) -> Result<Snapshot> {
    let snapshot = visible_snapshot(scope, conn, snapshot_id).await?;
    if snapshot.owner_id != scope.account {
        return Err(Ec2Error::not_owner());
    }
    Ok(snapshot)
}

/// The caller's own volume (other accounts' volumes are never visible).
pub async fn own_volume(scope: Scope<'_>, conn: &mut impl Exec, volume_id: &str) -> Result<Volume> {
    ids::check(IdKind::Volume, volume_id)?;
    volumes::find_owned(conn, scope.account, scope.region, volume_id)
        .await?
        .ok_or_else(|| Ec2Error::volume_not_found(volume_id))
}

/// The caller's own instance in its current state.
/// The caller's security group (with its rules) named by id, or by name in its default
/// VPC; EC2's NotFound otherwise.
pub async fn own_group(scope: Scope<'_>, conn: &mut Conn, group: &GroupRef) -> Result<SecurityGroup> {
    let (account, region) = (scope.account, scope.region);
    match group {
        GroupRef::Id(id) => security_groups::find_group(conn, account, region, id)
            .await?
            .ok_or_else(|| network::not_found(IdKind::SecurityGroup, id)),
        GroupRef::Name(name) => {
            let vpc = network::vpcs::default_vpc(conn, account, region).await?;
            let found = match &vpc {
                Some(vpc) => security_groups::find_group_by_name(conn, account, region, &vpc.vpc_id, name).await?,
                None => None,
            };
            found.ok_or_else(|| group_name_not_found(name, vpc.map(|v| v.vpc_id).as_deref()))
        }
    }
}

pub async fn own_instance(scope: Scope<'_>, conn: &mut impl Exec, instance_id: &str) -> Result<Instance> {
    ids::check(IdKind::Instance, instance_id)?;
    instances::find_owned(conn, scope.account, scope.region, instance_id)
        .await?
        .ok_or_else(|| Ec2Error::instance_not_found(&[instance_id]))
}

/// Every version of an SSM parameter the caller can read: its own, or a public one of
/// the region (empty: none).
pub async fn parameter_history(
    app: &App,
    scope: Scope<'_>,
    conn: &mut Conn,
    name: &str,
) -> ssm::Result<Vec<ParameterVersion>> {
    if ssm::is_public(name) {
        return Ok(public_parameters(app, scope, conn).await?.remove(name).unwrap_or_default());
    }
    Ok(ssm_store::history(conn, scope.account, scope.region, name).await?)
}

/// The region's public parameters (derived from its catalog), by name.
pub async fn public_parameters(
    app: &App,
    scope: Scope<'_>,
    conn: &mut Conn,
) -> ssm::Result<BTreeMap<String, Vec<ParameterVersion>>> {
    if app.catalog.is_empty() {
        return Ok(BTreeMap::new());
    }
    let images = ssm_store::catalog_images(conn, scope.region).await?;
    Ok(ssm::public_parameters(&images))
}

/// The AMI id an `ImageId` of `resolve:ssm:<name>[:<version>]` stands for (the
/// `resolve:ssm:` prefix is optional here). The parameter is the caller's own (of data
/// type `aws:ec2:image`) or a public one of the region; whether the image can be
/// launched is left to the launch, as on EC2 (a parameter may point at an AMI that was
/// deregistered since).
pub async fn resolve_ssm_image(app: &App, scope: Scope<'_>, conn: &mut Conn, reference: &str) -> Result<String> {
    let text = reference.strip_prefix("resolve:ssm:").unwrap_or(reference);
    let invalid = || crate::ec2_err!(SsmInvalidParameter, "The following aliases are invalid: {text}");
    let parsed = ssm::parse_reference(text).map_err(|_| invalid())?;
    let history = parameter_history(app, scope, conn, parsed.name).await.map_err(ssm_to_ec2)?;
    let parameter = ssm::select(&history, &parsed).map_err(|_| invalid())?;
    if parameter.owner.is_some() && parameter.data_type != "aws:ec2:image" {
        return Err(crate::ec2_err!(
            SsmInvalidParameter,
            "Unsupported data type. The following parameter data types are supported: aws:ec2:image"
        ));
    }
    Ok(parameter.value.clone())
}

fn ssm_to_ec2(err: SsmError) -> Ec2Error {
    if err.kind == "InternalServerError" {
        Ec2Error::internal()
    } else {
        crate::ec2_err!(SsmInvalidParameter, "{}", err.message)
    }
}

/// One of the caller's launch templates, by id or name, or EC2's NotFound for the kind
/// of reference given.
pub async fn owned_launch_template(
    scope: Scope<'_>,
    conn: &mut Conn,
    template: &TemplateRef,
) -> Result<LaunchTemplate> {
    launch_templates::find_template(conn, scope.account, scope.region, template)
        .await?
        .ok_or_else(|| template.not_found())
}

/// The version `version` of `template`, or EC2's VersionNotFound.
pub async fn launch_template_version(
    conn: &mut Conn,
    template: &LaunchTemplate,
    version: VersionRef,
) -> Result<LaunchTemplateVersion> {
    let number = template.version_number(&version);
    launch_templates::find_version(conn, template, number)
        .await?
        .ok_or_else(|| version_not_found(&template.launch_template_id, number))
}
