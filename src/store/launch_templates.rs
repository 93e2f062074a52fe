//! Launch templates and their versions (each version's data a JSON object of its
//! `LaunchTemplateData.*` parameters).

use crate::store::sql::Sql;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use crate::domain::filter::Filter;
use crate::domain::launch_template::{LaunchTemplate, LaunchTemplateVersion, TemplateData, TemplateRef};
use crate::ec2_err;
use crate::error::Result;
use crate::store::filters::{push_in, FilterSpec, Page, Target};
use crate::store::{is_unique_violation, parse_tags, push_tags_column, Conn};

/// The filters of DescribeLaunchTemplates.
pub static TEMPLATE_FILTERS: FilterSpec = FilterSpec {
    id_column: "t.launch_template_id",
    fields: &[
        ("create-time", Target::Text("strftime('%Y-%m-%dT%H:%M:%fZ', t.created_at / 1000.0, 'unixepoch')")),
        ("launch-template-name", Target::Text("t.launch_template_name")),
        ("launch-template-id", Target::Text("t.launch_template_id")),
    ],
};

/// A member of a version's data, by its parameter name.
macro_rules! data {
    ($key:literal) => {
        Target::Text(concat!("json_extract(v.data, '$.\"", $key, "\"')"))
    };
}

/// A member of any item of a list in a version's data (`$list.N.$member`).
macro_rules! data_any {
    ($list:literal, $member:literal) => {
        Target::Any {
            from: "json_each(v.data) j",
            expr: concat!("(case when j.key glob '", $list, ".*.", $member, "' then j.value end)"),
        }
    };
}

/// The filters of DescribeLaunchTemplateVersions: the version's own fields and members
/// of its data.
pub static VERSION_FILTERS: FilterSpec = FilterSpec {
    id_column: "v.launch_template_id",
    fields: &[
        ("create-time", Target::Text("strftime('%Y-%m-%dT%H:%M:%fZ', v.created_at / 1000.0, 'unixepoch')")),
        ("ebs-optimized", data!("EbsOptimized")),
        ("http-endpoint", data!("MetadataOptions.HttpEndpoint")),
        ("http-protocol-ipv6", data!("MetadataOptions.HttpProtocolIpv6")),
        ("http-tokens", data!("MetadataOptions.HttpTokens")),
        ("host-resource-group-arn", data!("Placement.HostResourceGroupArn")),
        ("iam-instance-profile", data!("IamInstanceProfile.Arn")),
        ("image-id", data!("ImageId")),
        ("instance-type", data!("InstanceType")),
        ("is-default-version", Target::Bool("v.version_number = t.default_version")),
        ("kernel-id", data!("KernelId")),
        ("key-name", data!("KeyName")),
        ("license-configuration-arn", data_any!("LicenseSpecification", "LicenseConfigurationArn")),
        ("network-card-index", data_any!("NetworkInterface", "NetworkCardIndex")),
        ("ram-disk-id", data!("RamDiskId")),
    ],
};

fn select_templates<'a>(account: &'a str, region: &'a str) -> Sql {
    let mut qb = Sql::new(
        "select t.launch_template_id, t.account_id, t.region, t.launch_template_name, t.default_version, \
         (select max(lv.version_number) from launch_template_version lv \
           where lv.launch_template_id = t.launch_template_id), \
         t.last_version_number, t.created_by, t.created_at, ",
    );
    push_tags_column(&mut qb, account, "t.launch_template_id");
    qb.push(" from launch_template t where t.account_id = ").push_bind(account);
    qb.push(" and t.region = ").push_bind(region);
    qb
}

fn template_from_row(r: &SqliteRow) -> LaunchTemplate {
    LaunchTemplate {
        launch_template_id: r.get(0),
        owner_id: r.get(1),
        region: r.get(2),
        name: r.get(3),
        default_version: r.get(4),
        latest_version: r.get::<Option<i64>, _>(5).unwrap_or_default(),
        last_version_number: r.get(6),
        created_by: r.get(7),
        create_time: r.get(8),
        tags: parse_tags(r.get(9)),
    }
}

/// The caller's template named by id or name.
pub async fn find_template(
    conn: &mut Conn,
    account: &str,
    region: &str,
    template: &TemplateRef,
) -> Result<Option<LaunchTemplate>> {
    let mut qb = select_templates(account, region);
    match template {
        TemplateRef::Id(id) => qb.push(" and t.launch_template_id = ").push_bind(id.as_str()),
        TemplateRef::Name(name) => qb.push(" and t.launch_template_name = ").push_bind(name.as_str()),
    };
    Ok(qb.query().fetch_optional(&mut *conn).await?.as_ref().map(template_from_row))
}

pub struct TemplateQuery<'a> {
    pub account: &'a str,
    pub region: &'a str,
    pub ids: &'a [String],
    pub names: &'a [String],
    pub filters: &'a [Filter],
    pub page: &'a Page,
}

pub async fn describe_templates(
    conn: &mut Conn,
    q: &TemplateQuery<'_>,
) -> Result<(Vec<LaunchTemplate>, Option<String>)> {
    let mut qb = select_templates(q.account, q.region);
    if !q.ids.is_empty() {
        push_in(&mut qb, "t.launch_template_id", q.ids);
    }
    if !q.names.is_empty() {
        push_in(&mut qb, "t.launch_template_name", q.names);
    }
    TEMPLATE_FILTERS.push(&mut qb, q.filters, q.account)?;
    q.page.push(&mut qb, "t.launch_template_id");
    let rows = qb.query().fetch_all(&mut *conn).await?;
    let mut templates: Vec<LaunchTemplate> = rows.iter().map(template_from_row).collect();
    let next = q.page.finish(&mut templates, |t| t.launch_template_id.clone());
    Ok((templates, next))
}

/// Stores a new template (without versions); a name the account already uses in the
/// region is EC2's AlreadyExists, decided by the unique index.
pub async fn insert_template(conn: &mut Conn, t: &LaunchTemplate) -> Result<()> {
    let inserted = sqlx::query(
        "insert into launch_template (launch_template_id, account_id, region, launch_template_name, \
         default_version, last_version_number, created_by, created_at) values (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&t.launch_template_id)
    .bind(&t.owner_id)
    .bind(&t.region)
    .bind(&t.name)
    .bind(t.default_version)
    .bind(t.last_version_number)
    .bind(&t.created_by)
    .bind(t.create_time)
    .execute(&mut *conn)
    .await;
    match inserted {
        Err(e) if is_unique_violation(&e, "launch_template.launch_template_name") => {
            Err(ec2_err!(InvalidLaunchTemplateName_AlreadyExistsException, "Launch template name already in use."))
        }
        other => other.map(|_| ()).map_err(Into::into),
    }
}

/// Stores a version and makes its number the template's highest ever given.
pub async fn insert_version(conn: &mut Conn, v: &LaunchTemplateVersion) -> Result<()> {
    let data = serde_json::to_string(&v.data).expect("a map of strings serializes");
    sqlx::query(
        "insert into launch_template_version (launch_template_id, version_number, version_description, data, \
         created_by, created_at) values (?, ?, ?, ?, ?, ?)",
    )
    .bind(&v.launch_template_id)
    .bind(v.version_number)
    .bind(&v.description)
    .bind(data)
    .bind(&v.created_by)
    .bind(v.create_time)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "update launch_template set last_version_number = max(last_version_number, ?) where launch_template_id = ?",
    )
    .bind(v.version_number)
    .bind(&v.launch_template_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn set_default_version(conn: &mut Conn, template_id: &str, version: i64) -> Result<()> {
    sqlx::query("update launch_template set default_version = ? where launch_template_id = ?")
        .bind(version)
        .bind(template_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Deletes a template with all its versions and its tags.
pub async fn delete_template(conn: &mut Conn, template_id: &str) -> Result<()> {
    sqlx::query("delete from launch_template_version where launch_template_id = ?")
        .bind(template_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("delete from launch_template where launch_template_id = ?")
        .bind(template_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("delete from tag where resource_id = ?").bind(template_id).execute(&mut *conn).await?;
    Ok(())
}

/// Deletes one version; whether it existed.
pub async fn delete_version(conn: &mut Conn, template_id: &str, version: i64) -> Result<bool> {
    let done = sqlx::query("delete from launch_template_version where launch_template_id = ? and version_number = ?")
        .bind(template_id)
        .bind(version)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Which versions DescribeLaunchTemplateVersions asks for: of one template or of all
/// the caller's, by number, `$Latest`, `$Default` (any of them), within a range.
#[derive(Default)]
pub struct VersionQuery<'a> {
    pub account: &'a str,
    pub region: &'a str,
    pub template_id: Option<&'a str>,
    pub numbers: Vec<i64>,
    pub latest: bool,
    pub default: bool,
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub filters: &'a [Filter],
    pub page: Page,
}

/// The paging key of a version: its template, then its number.
const VERSION_KEY: &str = "printf('%s:%012d', v.launch_template_id, v.version_number)";

pub async fn describe_versions(
    conn: &mut Conn,
    q: &VersionQuery<'_>,
) -> Result<(Vec<LaunchTemplateVersion>, Option<String>)> {
    let mut qb = Sql::new(
        "select v.launch_template_id, t.launch_template_name, v.version_number, v.version_description, \
         v.created_by, v.created_at, v.version_number = t.default_version, v.data \
         from launch_template_version v join launch_template t on t.launch_template_id = v.launch_template_id \
         where t.account_id = ",
    );
    qb.push_bind(q.account).push(" and t.region = ").push_bind(q.region);
    if let Some(id) = q.template_id {
        qb.push(" and v.launch_template_id = ").push_bind(id);
    }
    push_version_choice(&mut qb, q);
    if let Some(min) = q.min {
        qb.push(" and v.version_number >= ").push_bind(min);
    }
    if let Some(max) = q.max {
        qb.push(" and v.version_number <= ").push_bind(max);
    }
    VERSION_FILTERS.push(&mut qb, q.filters, q.account)?;
    q.page.push(&mut qb, VERSION_KEY);
    let rows = qb.query().fetch_all(&mut *conn).await?;
    let mut versions: Vec<LaunchTemplateVersion> = rows.iter().map(version_from_row).collect();
    let next = q.page.finish(&mut versions, |v| format!("{}:{:012}", v.launch_template_id, v.version_number));
    Ok((versions, next))
}

/// ` and (number in (..) or is latest or is default)` when any is asked for.
fn push_version_choice(qb: &mut Sql, q: &VersionQuery<'_>) {
    let mut choices: Vec<&str> = Vec::new();
    if q.latest {
        choices.push(
            "v.version_number = (select max(lv.version_number) from launch_template_version lv \
             where lv.launch_template_id = v.launch_template_id)",
        );
    }
    if q.default {
        choices.push("v.version_number = t.default_version");
    }
    if choices.is_empty() && q.numbers.is_empty() {
        return;
    }
    qb.push(" and (").push(&choices.join(" or "));
    if !q.numbers.is_empty() {
        if !choices.is_empty() {
            qb.push(" or ");
        }
        qb.push("v.version_number in (");
        let mut separated = qb.separated(", ");
        for n in &q.numbers {
            separated.push_bind(*n);
        }
        qb.push(")");
    }
    qb.push(")");
}

fn version_from_row(r: &SqliteRow) -> LaunchTemplateVersion {
    let data: String = r.get(7);
    LaunchTemplateVersion {
        launch_template_id: r.get(0),
        launch_template_name: r.get(1),
        version_number: r.get(2),
        description: r.get(3),
        created_by: r.get(4),
        create_time: r.get(5),
        default_version: r.get(6),
        data: serde_json::from_str::<TemplateData>(&data).unwrap_or_default(),
    }
}

/// One version of a template of the caller's.
pub async fn find_version(
    conn: &mut Conn,
    template: &LaunchTemplate,
    version: i64,
) -> Result<Option<LaunchTemplateVersion>> {
    let q = VersionQuery {
        account: &template.owner_id,
        region: &template.region,
        template_id: Some(&template.launch_template_id),
        numbers: vec![version],
        ..Default::default()
    };
    Ok(describe_versions(conn, &q).await?.0.into_iter().next())
}
