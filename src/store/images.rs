//! Images, their launch permissions and the snapshots they reference.

use crate::domain::lifecycle::ImageState;
use crate::store::sql::Sql;
use sqlx::Row;

use super::exec::{Columns, Cursor, DbError};
use super::filters::{FilterSpec, Found, Page, Target};
use super::reader::Db;
use super::{Conn, Exec};
use crate::domain::filter::Filter;
use crate::domain::image::{Image, LaunchPermission, StateReason};
use crate::ec2_err;
use crate::error::Result;

/// An image's columns, in the order [`image_from_columns`] reads them. Decoding columns
/// in place costs far less than building a JSON document per row in SQL and parsing it.
const IMAGE_COLUMNS: &str = "i.image_id, i.account_id, i.region, i.name, i.description, i.image_location, \
    i.state, i.state_reason_code, i.state_reason_message, i.ready_at, i.architecture, i.image_type, i.platform, \
    i.platform_details, i.usage_operation, i.root_device_type, i.root_device_name, i.virtualization_type, \
    i.hypervisor, i.kernel_id, i.ramdisk_id, i.ena_support, i.sriov_net_support, i.boot_mode, i.tpm_support, \
    i.uefi_data, i.imds_support, i.owner_alias, i.source_instance_id, i.source_image_id, i.source_image_region, \
    i.deprecation_time, i.last_launched_time, i.deregistration_protection, i.protected_until, i.client_token, \
    i.creation_date, i.block_device_mappings, i.product_codes, \
    exists (select 1 from launch_permission p where p.image_id = i.image_id \
        and p.grantee_type = 'group' and p.grantee = 'all'), \
    (select json_group_array(json_array(t.key, t.value)) from \
        (select key, value from tag where tag.account_id = ";

/// Completes [`IMAGE_COLUMNS`] after the bound account id of the caller's tags.
const IMAGE_COLUMNS_END: &str = " and tag.resource_id = i.image_id order by key) t)";

/// An image from a row of [`IMAGE_COLUMNS`].
fn image_from_columns(c: &mut Cursor<'_, dyn Columns + '_>) -> Result<Image, DbError> {
    Ok(Image {
        image_id: c.string()?,
        owner_id: c.string()?,
        region: c.string()?,
        name: c.string()?,
        description: c.string_or_null()?,
        image_location: c.string()?,
        state: c.parsed(ImageState::parse)?,
        state_reason: match (c.string_or_null()?, c.string_or_null()?) {
            (Some(code), message) => Some(StateReason { code, message: message.unwrap_or_default() }),
            (None, _) => None,
        },
        ready_at: c.int_or_null()?,
        architecture: c.string()?,
        image_type: c.string()?,
        platform: c.string_or_null()?,
        platform_details: c.string()?,
        usage_operation: c.string()?,
        root_device_type: c.string()?,
        root_device_name: c.string_or_null()?,
        virtualization_type: c.string()?,
        hypervisor: c.string()?,
        kernel_id: c.string_or_null()?,
        ramdisk_id: c.string_or_null()?,
        ena_support: c.bool_or_null()?,
        sriov_net_support: c.string_or_null()?,
        boot_mode: c.string_or_null()?,
        tpm_support: c.string_or_null()?,
        uefi_data: c.string_or_null()?,
        imds_support: c.string_or_null()?,
        owner_alias: c.string_or_null()?,
        source_instance_id: c.string_or_null()?,
        source_image_id: c.string_or_null()?,
        source_image_region: c.string_or_null()?,
        deprecation_time: c.string_or_null()?,
        last_launched_time: c.string_or_null()?,
        deregistration_protection: c.string()?,
        protected_until: c.int_or_null()?,
        client_token: c.string_or_null()?,
        creation_date: c.string()?,
        block_device_mappings: c.json()?,
        product_codes: c.json()?,
        is_public: c.bool_or_null()?.unwrap_or(false),
        tags: c.json_list()?,
    })
}

const BDM: &str = "json_each(i.block_device_mappings) b";

/// The DescribeImages filters (`../shared/reference/ec2-api-digest.md` §B.7).
pub static FILTERS: FilterSpec = FilterSpec {
    id_column: "i.image_id",
    fields: &[
        ("architecture", Target::Text("i.architecture")),
        ("boot-mode", Target::Text("i.boot_mode")),
        (
            "block-device-mapping.delete-on-termination",
            Target::Any {
                from: BDM,
                expr: "(case json_extract(b.value, '$.ebs.delete_on_termination') when 1 then 'true' when 0 then 'false' end)",
            },
        ),
        ("block-device-mapping.device-name", Target::Any { from: BDM, expr: "json_extract(b.value, '$.device_name')" }),
        (
            "block-device-mapping.snapshot-id",
            Target::Any { from: BDM, expr: "json_extract(b.value, '$.ebs.snapshot_id')" },
        ),
        (
            "block-device-mapping.volume-size",
            Target::Any { from: BDM, expr: "cast(json_extract(b.value, '$.ebs.volume_size') as text)" },
        ),
        (
            "block-device-mapping.volume-type",
            Target::Any { from: BDM, expr: "json_extract(b.value, '$.ebs.volume_type')" },
        ),
        (
            "block-device-mapping.encrypted",
            Target::Any {
                from: BDM,
                expr: "(case json_extract(b.value, '$.ebs.encrypted') when 1 then 'true' when 0 then 'false' end)",
            },
        ),
        ("creation-date", Target::Text("i.creation_date")),
        ("description", Target::Text("i.description")),
        ("ena-support", Target::Bool("i.ena_support")),
        ("free-tier-eligible", Target::Text("'false'")),
        ("hypervisor", Target::Text("i.hypervisor")),
        ("image-allowed", Target::Text("'true'")),
        ("image-id", Target::Text("i.image_id")),
        ("image-type", Target::Text("i.image_type")),
        (
            "is-public",
            Target::Bool(
                "exists (select 1 from launch_permission p where p.image_id = i.image_id and p.grantee_type = 'group' and p.grantee = 'all')",
            ),
        ),
        ("kernel-id", Target::Text("i.kernel_id")),
        ("manifest-location", Target::Text("i.image_location")),
        ("name", Target::Text("i.name")),
        ("owner-alias", Target::Text("i.owner_alias")),
        ("owner-id", Target::Text("i.account_id")),
        ("platform", Target::Text("i.platform")),
        // Not in the API model, but EC2 accepts them and scripts rely on them.
        ("platform-details", Target::Text("i.platform_details")),
        ("usage-operation", Target::Text("i.usage_operation")),
        ("product-code", Target::Any { from: "json_each(i.product_codes) c", expr: "json_extract(c.value, '$.id')" }),
        ("product-code.type", Target::Any { from: "json_each(i.product_codes) c", expr: "json_extract(c.value, '$.type')" }),
        ("ramdisk-id", Target::Text("i.ramdisk_id")),
        ("root-device-name", Target::Text("i.root_device_name")),
        ("root-device-type", Target::Text("i.root_device_type")),
        ("source-image-id", Target::Text("i.source_image_id")),
        ("source-image-region", Target::Text("i.source_image_region")),
        ("source-instance-id", Target::Text("i.source_instance_id")),
        ("state", Target::Text("i.state")),
        ("state-reason-code", Target::Text("i.state_reason_code")),
        ("state-reason-message", Target::Text("i.state_reason_message")),
        ("sriov-net-support", Target::Text("i.sriov_net_support")),
        ("virtualization-type", Target::Text("i.virtualization_type")),
        // Features ec2lite has no data for: accepted, and matched by no image.
        ("image-watermark.source-image-creation-time", Target::Text("null")),
        ("image-watermark.source-image-id", Target::Text("null")),
        ("image-watermark.source-image-region", Target::Text("null")),
        ("image-watermark.watermark-creation-time", Target::Text("null")),
        ("image-watermark.watermark-key", Target::Text("null")),
        ("instance-type-specification.supported-instance-type", Target::Text("null")),
        ("instance-type-specification.unsupported-instance-type", Target::Text("null")),
        ("public-ssm-parameter-name", Target::Text("null")),
        ("scan-result.critical-fix-available-since", Target::Text("null")),
        ("scan-result.finding-scan-date", Target::Text("null")),
        ("scan-result.high-fix-available-since", Target::Text("null")),
        ("scan-result.highest-finding-severity-label", Target::Text("null")),
        ("scan-result.informational-fix-available-since", Target::Text("null")),
        ("scan-result.low-fix-available-since", Target::Text("null")),
        ("scan-result.medium-fix-available-since", Target::Text("null")),
    ],
};

/// Whose images a DescribeImages call asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    Account(String),
    Alias(String),
}

/// Who must be able to launch the images (`ExecutableBy.N`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Executor {
    Public,
    /// Explicit grants to this account id.
    Account(String),
    /// The caller (`self`): explicit grants, and grants to its organization or OUs.
    Caller(String),
}

#[derive(Debug, Default)]
pub struct ImageQuery<'a> {
    pub account: &'a str,
    pub region: &'a str,
    pub image_ids: Vec<String>,
    pub owners: Vec<Owner>,
    pub executors: Vec<Executor>,
    pub filters: &'a [Filter],
    pub include_deprecated: bool,
    pub include_disabled: bool,
    pub now_iso: String,
    pub page: Page,
}

/// `select <image json> from image i where 1`, with `account`'s tags.
fn select_images(account: &str) -> Sql {
    let mut qb = Sql::new("select ");
    qb.push(IMAGE_COLUMNS);
    qb.push_bind(account);
    qb.push(IMAGE_COLUMNS_END);
    qb.push(" from image i where 1");
    qb
}

/// Images `account` may see and launch: its own, and those shared with it, with its
/// organization or one of its OUs, or with everyone. The one place that decides it.
///
/// `few` says the candidates are already a handful (looked up by id): then a grant is
/// probed per image; otherwise the grants drive the query through their index.
fn push_visible(qb: &mut Sql, account: &str, few: bool) {
    qb.push(" and (i.account_id = ");
    qb.push_bind(account);
    if few {
        qb.push(" or exists (select 1 from launch_permission p where p.image_id = i.image_id and (p.grantee in (");
        qb.push_bind(account);
        qb.push(", 'all') or p.grantee in (select m.grantee from account_membership m where m.account_id = ");
        qb.push_bind(account);
        qb.push("))))");
    } else {
        qb.push(" or i.image_id in (select p.image_id from launch_permission p where p.grantee in (");
        qb.push_bind(account);
        qb.push(", 'all')) or i.image_id in (select p.image_id from launch_permission p where p.grantee in ");
        qb.push("(select m.grantee from account_membership m where m.account_id = ");
        qb.push_bind(account);
        qb.push(")))");
    }
}

pub fn describe(db: &Db<'_>, q: &ImageQuery<'_>) -> Result<(Found<Image>, Option<String>)> {
    // The inner query picks the page by id; only its rows are turned into documents,
    // found again by rowid (the id's index would be one more B-tree walk per row).
    let mut qb = Sql::new("select ");
    qb.push(IMAGE_COLUMNS);
    qb.push_bind(q.account);
    qb.push(IMAGE_COLUMNS_END);
    let everything = q.executors.is_empty() && q.image_ids.is_empty() && q.owners.is_empty();
    if everything || !q.executors.is_empty() {
        // One arm per way in (the caller's own images, each grantee's grants), each read
        // in image id order through its index and merged, so that a page stops after its
        // rows instead of sorting every candidate first.
        let arms = arms(db, q)?;
        qb.push(" from (");
        for (n, arm) in arms.iter().enumerate() {
            if n > 0 {
                qb.push(" union ");
            }
            push_arm(&mut qb, q, arm)?;
        }
        qb.push(" order by 1");
        if let Some(limit) = q.page.limit {
            qb.push(" limit ").push_bind(limit as i64 + 1);
        }
    } else {
        qb.push(" from (select i.rowid as page_row from image i where 1");
        push_scoped(&mut qb, q)?;
    }
    qb.push(") page join image i on i.rowid = page.page_row");
    let rows = db.records_sorted(&qb, image_from_columns, |i: &Image| &i.image_id)?;
    let (found, next) = q.page.finish_shared(rows, |i: &Image| i.image_id.clone());
    Ok((found, next))
}

/// A way an image reaches a DescribeImages answer driven by grants.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Arm {
    /// The caller's own images.
    Own,
    /// Grants to `grantee` (of `kind`, if given).
    Grant { grantee: String, kind: Option<&'static str> },
}

/// The arms of a grant-driven query: the executors' grants, or, for everything the
/// caller may see, its own images and the grants to it, to everyone and to its
/// organization and OUs.
fn arms(db: &Db<'_>, q: &ImageQuery<'_>) -> Result<Vec<Arm>> {
    let mut memberships = Sql::new("select grantee from account_membership where account_id = ");
    memberships.push_bind(q.account);
    let memberships = db.texts(&memberships)?;
    let grant = |grantee: &str, kind| Arm::Grant { grantee: grantee.to_string(), kind };
    let mut arms = Vec::new();
    if q.executors.is_empty() {
        arms.push(Arm::Own);
        arms.push(grant(q.account, None));
        arms.push(grant("all", None));
        arms.extend(memberships.iter().map(|m| grant(m, None)));
    }
    for executor in &q.executors {
        match executor {
            Executor::Public => arms.push(grant("all", Some("group"))),
            Executor::Account(id) => arms.push(grant(id, Some("user"))),
            Executor::Caller(id) => {
                arms.push(grant(id, Some("user")));
                // Memberships are the caller's own (`self` is the caller).
                arms.extend(memberships.iter().map(|m| grant(m, None)));
            }
        }
    }
    arms.dedup();
    Ok(arms)
}

/// `select <image id> ...` of one arm, with every condition and the page's start.
fn push_arm(qb: &mut Sql, q: &ImageQuery<'_>, arm: &Arm) -> Result<()> {
    match arm {
        Arm::Own => {
            qb.push("select i.image_id, i.rowid as page_row from image i where i.account_id = ");
            qb.push_bind(q.account);
        }
        Arm::Grant { grantee, kind } => {
            // The grant drives the loop (CROSS JOIN): its index gives image id order.
            qb.push(
                "select e.image_id, i.rowid as page_row from launch_permission e cross join image i where e.grantee = ",
            );
            qb.push_bind(grantee.as_str());
            if let Some(kind) = kind {
                qb.push(" and e.grantee_type = ").push_bind(*kind);
            }
            qb.push(" and i.image_id = e.image_id");
        }
    }
    push_region_and_conditions(qb, q)?;
    // Without executors every arm is the caller's own or granted to it: visible by definition.
    if !q.executors.is_empty() {
        push_visible(qb, q.account, true);
        push_owners(qb, &q.owners);
        if !q.image_ids.is_empty() {
            super::filters::push_in(qb, "i.image_id", &q.image_ids);
        }
    }
    if let Some(after) = &q.page.after {
        qb.push(" and i.image_id > ").push_bind(after.as_str());
    }
    Ok(())
}

/// The conditions of a scoped lookup (by id, owner or executor): visibility checked per
/// image, then the page.
fn push_scoped<'a>(qb: &mut Sql, q: &'a ImageQuery<'a>) -> Result<()> {
    push_region_and_conditions(qb, q)?;
    push_visible(qb, q.account, !q.image_ids.is_empty());
    push_owners(qb, &q.owners);
    if !q.image_ids.is_empty() {
        super::filters::push_in(qb, "i.image_id", &q.image_ids);
    }
    q.page.push(qb, "i.image_id");
    Ok(())
}

/// The region, and the conditions every branch of `describe` applies: not deregistered,
/// deprecated and disabled images as their rules say, and the filters.
fn push_region_and_conditions<'a>(qb: &mut Sql, q: &'a ImageQuery<'a>) -> Result<()> {
    qb.push(" and i.region = ");
    qb.push_bind(q.region);
    qb.push(" and i.state <> 'deregistered'");
    if q.image_ids.is_empty() && !q.include_deprecated {
        // Deprecated images are hidden from everyone but their owner unless asked for.
        qb.push(" and (i.account_id = ");
        qb.push_bind(q.account);
        qb.push(" or i.deprecation_time is null or i.deprecation_time > ");
        qb.push_bind(q.now_iso.as_str());
        qb.push(")");
    }
    // Disabled images are seen only by their owner, and only when asked for.
    qb.push(" and (i.state <> 'disabled' or (");
    qb.push_bind(q.include_disabled || !q.image_ids.is_empty());
    qb.push(" and i.account_id = ");
    qb.push_bind(q.account);
    qb.push("))");
    FILTERS.push(qb, q.filters, q.account)
}

/// `and (i.account_id in (..) or i.owner_alias in (..))`, written so that the common
/// single-kind case stays a plain indexed `in`.
fn push_owners<'a>(qb: &mut Sql, owners: &'a [Owner]) {
    let accounts: Vec<&str> =
        owners.iter().filter_map(|o| if let Owner::Account(id) = o { Some(id.as_str()) } else { None }).collect();
    let aliases: Vec<&str> =
        owners.iter().filter_map(|o| if let Owner::Alias(a) = o { Some(a.as_str()) } else { None }).collect();
    let mut terms: Vec<(&str, Vec<&'a str>)> = Vec::new();
    if !accounts.is_empty() {
        terms.push(("i.account_id", accounts));
    }
    if !aliases.is_empty() {
        terms.push(("i.owner_alias", aliases));
    }
    if terms.is_empty() {
        return;
    }
    qb.push(" and (");
    for (n, (column, values)) in terms.into_iter().enumerate() {
        if n > 0 {
            qb.push(" or ");
        }
        qb.push(&format!("{column} in ("));
        let mut list = qb.separated(", ");
        for value in values {
            list.push_bind(value);
        }
        qb.push(")");
    }
    qb.push(")");
}

/// Of `ids`, those that exist in `region` and are visible to `account`, deregistered
/// ones included (they are omitted from answers rather than unknown).
pub fn known_ids(db: &Db<'_>, account: &str, region: &str, ids: &[String]) -> Result<Vec<String>> {
    let mut qb = Sql::new("select i.image_id from image i where i.region = ");
    qb.push_bind(region);
    push_visible(&mut qb, account, true);
    super::filters::push_in(&mut qb, "i.image_id", ids);
    Ok(std::sync::Arc::unwrap_or_clone(db.texts(&qb)?))
}

/// One image in `region` that `account` may see, deregistered included.
pub async fn find_visible(conn: &mut impl Exec, account: &str, region: &str, image_id: &str) -> Result<Option<Image>> {
    let mut qb = select_images(account);
    qb.push(" and i.image_id = ");
    qb.push_bind(image_id);
    qb.push(" and i.region = ");
    qb.push_bind(region);
    push_visible(&mut qb, account, true);
    Ok(conn.records(&qb, image_from_columns).await?.pop())
}

/// Stores a new image (and, by trigger, the snapshots it references). A name already used by the
/// owner in the region is refused here, by the unique index, never by a prior read.
pub async fn insert(conn: &mut impl Exec, image: &Image, now: i64) -> Result<()> {
    let bdm_json = serde_json::to_string(&image.block_device_mappings).expect("serializable");
    let codes_json = serde_json::to_string(&image.product_codes).expect("serializable");
    let mut qb = Sql::new(
        "insert into image (image_id, account_id, region, name, description, image_location, state, \
         state_reason_code, state_reason_message, ready_at, architecture, image_type, platform, platform_details, \
         usage_operation, root_device_type, root_device_name, virtualization_type, hypervisor, kernel_id, ramdisk_id, \
         ena_support, sriov_net_support, boot_mode, tpm_support, uefi_data, imds_support, owner_alias, \
         source_instance_id, source_image_id, source_image_region, deprecation_time, last_launched_time, \
         deregistration_protection, creation_date, block_device_mappings, product_codes, client_token, created_at) \
         values (",
    );
    qb.separated(", ")
        .push_bind(&image.image_id)
        .push_bind(&image.owner_id)
        .push_bind(&image.region)
        .push_bind(&image.name)
        .push_bind(image.description.as_ref())
        .push_bind(&image.image_location)
        .push_bind(image.state.as_str())
        .push_bind(image.state_reason.as_ref().map(|r| r.code.as_str()))
        .push_bind(image.state_reason.as_ref().map(|r| r.message.as_str()))
        .push_bind(image.ready_at)
        .push_bind(&image.architecture)
        .push_bind(&image.image_type)
        .push_bind(image.platform.as_ref())
        .push_bind(&image.platform_details)
        .push_bind(&image.usage_operation)
        .push_bind(&image.root_device_type)
        .push_bind(image.root_device_name.as_ref())
        .push_bind(&image.virtualization_type)
        .push_bind(&image.hypervisor)
        .push_bind(image.kernel_id.as_ref())
        .push_bind(image.ramdisk_id.as_ref())
        .push_bind(image.ena_support)
        .push_bind(image.sriov_net_support.as_ref())
        .push_bind(image.boot_mode.as_ref())
        .push_bind(image.tpm_support.as_ref())
        .push_bind(image.uefi_data.as_ref())
        .push_bind(image.imds_support.as_ref())
        .push_bind(image.owner_alias.as_ref())
        .push_bind(image.source_instance_id.as_ref())
        .push_bind(image.source_image_id.as_ref())
        .push_bind(image.source_image_region.as_ref())
        .push_bind(image.deprecation_time.as_ref())
        .push_bind(image.last_launched_time.as_ref())
        .push_bind(&image.deregistration_protection)
        .push_bind(&image.creation_date)
        .push_bind(bdm_json)
        .push_bind(codes_json)
        .push_bind(image.client_token.as_ref())
        .push_bind(now);
    qb.push(")");
    let Err(err) = conn.execute(&qb).await else {
        // The trigger `image_snapshot_on_insert` records the snapshots the mappings reference.
        return Ok(());
    };
    if !err.is_unique_violation("image.name") {
        return Err(err.into());
    }
    let mut holder = Sql::new("select image_id from image where account_id = ");
    holder.push_bind(&image.owner_id).push(" and region = ").push_bind(&image.region);
    holder.push(" and name = ").push_bind(&image.name).push(" and state <> 'deregistered'");
    let holder = conn.texts(&holder).await?.pop().flatten();
    Err(ec2_err!(
        InvalidAMIName_Duplicate,
        "AMI name {} is already in use by AMI {}",
        image.name,
        holder.unwrap_or_default()
    ))
}

/// An image column that calls change one at a time.
#[derive(Debug, Clone, Copy)]
pub enum ImageField {
    Description,
    ImdsSupport,
    DeprecationTime,
    State,
}

/// Sets one field of an image (`None`: clears it).
pub async fn set_field(conn: &mut Conn, image_id: &str, field: ImageField, value: Option<&str>) -> Result<()> {
    let column = match field {
        ImageField::Description => "description",
        ImageField::ImdsSupport => "imds_support",
        ImageField::DeprecationTime => "deprecation_time",
        ImageField::State => "state",
    };
    sqlx::query(&format!("update image set {column} = ? where image_id = ?"))
        .bind(value)
        .bind(image_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn launch_permissions(conn: &mut Conn, image_id: &str) -> Result<Vec<LaunchPermission>> {
    let rows = sqlx::query(
        "select grantee_type, grantee from launch_permission where image_id = ? order by grantee_type, grantee",
    )
    .bind(image_id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.iter().filter_map(|r| LaunchPermission::from_parts(r.get::<&str, _>(0), r.get::<String, _>(1))).collect())
}

pub async fn add_launch_permission(conn: &mut Conn, image_id: &str, grant: &LaunchPermission, now: i64) -> Result<()> {
    let (kind, grantee) = grant.parts();
    sqlx::query(
        "insert or ignore into launch_permission (image_id, grantee_type, grantee, created_at) values (?, ?, ?, ?)",
    )
    .bind(image_id)
    .bind(kind)
    .bind(grantee)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn remove_launch_permission(conn: &mut Conn, image_id: &str, grant: &LaunchPermission) -> Result<()> {
    let (kind, grantee) = grant.parts();
    sqlx::query("delete from launch_permission where image_id = ? and grantee_type = ? and grantee = ?")
        .bind(image_id)
        .bind(kind)
        .bind(grantee)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn reset_launch_permissions(conn: &mut Conn, image_id: &str) -> Result<()> {
    sqlx::query("delete from launch_permission where image_id = ?").bind(image_id).execute(&mut *conn).await?;
    Ok(())
}

/// Marks the image deregistered and drops what hung on it (grants, tags, snapshot
/// references). The row stays as a tombstone so a second call can say "unavailable".
pub async fn deregister(conn: &mut Conn, image_id: &str, now: i64) -> Result<()> {
    sqlx::query("update image set state = ?, ready_at = null, deregistered_at = ? where image_id = ?")
        .bind(ImageState::Deregistered)
        .bind(now)
        .bind(image_id)
        .execute(&mut *conn)
        .await?;
    for sql in [
        "delete from launch_permission where image_id = ?",
        "delete from image_snapshot where image_id = ?",
        "delete from tag where resource_id = ?",
    ] {
        sqlx::query(sql).bind(image_id).execute(&mut *conn).await?;
    }
    Ok(())
}

/// The images (not deregistered) whose mappings reference the snapshot.
pub async fn images_using_snapshot(conn: &mut Conn, snapshot_id: &str) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar("select image_id from image_snapshot where snapshot_id = ? order by image_id")
        .bind(snapshot_id)
        .fetch_all(&mut *conn)
        .await?)
}

pub async fn set_deregistration_protection(
    conn: &mut Conn,
    image_id: &str,
    value: &str,
    protected_until: Option<i64>,
) -> Result<()> {
    sqlx::query("update image set deregistration_protection = ?, protected_until = ? where image_id = ?")
        .bind(value)
        .bind(protected_until)
        .bind(image_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The image an earlier CopyImage with this client token made, if any.
pub async fn find_by_client_token(conn: &mut Conn, account: &str, region: &str, token: &str) -> Result<Option<Image>> {
    let mut qb = select_images(account);
    qb.push(" and i.account_id = ");
    qb.push_bind(account);
    qb.push(" and i.region = ");
    qb.push_bind(region);
    qb.push(" and i.client_token = ");
    qb.push_bind(token);
    Ok(conn.records(&qb, image_from_columns).await?.pop())
}

/// A snapshot's size and encryption by id, whoever owns it (for copies of shared images).
pub async fn snapshot_facts(conn: &mut Conn, snapshot_id: &str) -> Result<Option<(i64, bool, Option<String>)>> {
    Ok(sqlx::query_as("select volume_size, encrypted, kms_key_id from snapshot where snapshot_id = ?")
        .bind(snapshot_id)
        .fetch_optional(&mut *conn)
        .await?)
}

/// Whether `image_id` exists in `region` (any owner) and is not deregistered: an image
/// the caller cannot see but that exists is refused with AuthFailure at launch.
pub async fn exists_for_anyone(conn: &mut Conn, region: &str, image_id: &str) -> Result<bool> {
    let row = sqlx::query("select 1 from image where image_id = ? and region = ? and state != 'deregistered'")
        .bind(image_id)
        .bind(region)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.is_some())
}
