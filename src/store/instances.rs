//! Instances, and what happens to their volumes when they go.

use crate::domain::lifecycle::InstanceState;
use crate::store::sql::Sql;
use sqlx::Row;

use super::exec::{Columns, Cursor, DbError};
use super::filters::{FilterSpec, Found, Page, Target};
use super::reader::Db;
use super::{Conn, Exec};
use crate::domain::filter::Filter;
use crate::domain::instance::Instance;
use crate::error::Result;

/// An instance's columns, then its security groups, interfaces, volumes and the caller's
/// tags as JSON arrays; the caller's account id is bound between this and
/// [`INSTANCE_COLUMNS_END`]. Read by [`instance_from_columns`], in this order.
const INSTANCE_COLUMNS: &str = "i.instance_id, i.account_id, i.region, i.reservation_id, i.image_id, \
    i.instance_type, i.availability_zone, i.subnet_id, i.vpc_id, i.private_ip, i.public_ip, i.key_name, \
    i.user_data, i.state, i.state_transition_reason, i.state_reason_code, i.state_reason_message, i.ready_at, \
    i.launch_time, i.ami_launch_index, i.architecture, i.virtualization_type, i.root_device_type, \
    i.root_device_name, i.platform, i.platform_details, i.usage_operation, i.boot_mode, i.ena_support, \
    i.kernel_id, i.ramdisk_id, i.sriov_net_support, i.ebs_optimized, i.disable_api_stop, i.client_token, \
    i.shutdown_behavior, i.disable_api_termination, i.security_group_ids, \
    (select json_group_array(json_array(j.value, coalesce(sg.group_name, ''))) \
        from json_each(i.security_group_ids) j left join security_group sg on sg.group_id = j.value), \
    (select json_group_array(json_object('network_interface_id', n.network_interface_id, \
        'subnet_id', n.subnet_id, 'vpc_id', n.vpc_id, 'private_ip', n.private_ip_address, \
        'mac_address', n.mac_address, 'description', n.description, \
        'source_dest_check', case when n.source_dest_check then json('true') else json('false') end, \
        'attachment_id', n.attachment_id, 'device_index', n.device_index, 'attach_time', n.attach_time, \
        'delete_on_termination', case when n.delete_on_termination then json('true') else json('false') end, \
        'elastic_ip', (select a.public_ip from address a where a.network_interface_id = n.network_interface_id), \
        'groups', json((select json_group_array(json_array(j.value, coalesce(sg.group_name, ''))) \
            from json_each(n.security_group_ids) j left join security_group sg on sg.group_id = j.value)))) \
        from (select * from network_interface where instance_id = i.instance_id order by device_index) n), \
    i.product_codes, i.cpu_credits, \
    (select json_group_array(json_array(t.key, t.value)) from \
        (select key, value from tag where tag.account_id = ";
/// Completes [`INSTANCE_COLUMNS`] after the bound account id of the caller's tags.
const INSTANCE_COLUMNS_END: &str = " and tag.resource_id = i.instance_id order by key) t), \
    (select json_group_array(json_array(v.attached_device, v.volume_id, v.attach_time, \
        case when v.delete_on_termination then json('true') else json('false') end)) \
        from (select * from volume where attached_instance_id = i.instance_id order by attached_device) v)";

/// An instance from a row of [`INSTANCE_COLUMNS`].
fn instance_from_columns(c: &mut Cursor<'_, dyn Columns + '_>) -> Result<Instance, DbError> {
    Ok(Instance {
        instance_id: c.string()?,
        owner_id: c.string()?,
        region: c.string()?,
        reservation_id: c.string()?,
        image_id: c.string()?,
        instance_type: c.string()?,
        availability_zone: c.string()?,
        subnet_id: c.string()?,
        vpc_id: c.string()?,
        private_ip: c.string()?,
        public_ip: c.string_or_null()?,
        key_name: c.string_or_null()?,
        user_data: c.string_or_null()?,
        state: c.parsed(InstanceState::parse)?,
        state_transition_reason: c.string()?,
        state_reason_code: c.string_or_null()?,
        state_reason_message: c.string_or_null()?,
        ready_at: c.int_or_null()?,
        launch_time: c.int()?,
        ami_launch_index: c.int()?,
        architecture: c.string()?,
        virtualization_type: c.string()?,
        root_device_type: c.string()?,
        root_device_name: c.string_or_null()?,
        platform: c.string_or_null()?,
        platform_details: c.string()?,
        usage_operation: c.string()?,
        boot_mode: c.string_or_null()?,
        ena_support: c.bool_or_null()?,
        kernel_id: c.string_or_null()?,
        ramdisk_id: c.string_or_null()?,
        sriov_net_support: c.string_or_null()?,
        ebs_optimized: c.bool()?,
        disable_api_stop: c.bool()?,
        client_token: c.string_or_null()?,
        shutdown_behavior: c.string()?,
        disable_api_termination: c.bool()?,
        security_group_ids: c.json()?,
        groups: c.json()?,
        interfaces: c.json()?,
        product_codes: c.json()?,
        cpu_credits: c.string_or_null()?,
        tags: c.json_list()?,
        volumes: c.json_list()?,
    })
}

/// A field of any interface attached to the instance.
macro_rules! interface_field {
    ($expr:literal) => {
        Target::Any { from: "(select * from network_interface where instance_id = i.instance_id) n", expr: $expr }
    };
}

const GROUP_NAME: Target = Target::Any {
    from: "json_each(i.security_group_ids) g join security_group fg on fg.group_id = g.value",
    expr: "fg.group_name",
};

pub static FILTERS: FilterSpec = FilterSpec {
    id_column: "i.instance_id",
    fields: &[
        ("architecture", Target::Text("i.architecture")),
        ("availability-zone", Target::Text("i.availability_zone")),
        ("client-token", Target::Text("i.client_token")),
        ("image-id", Target::Text("i.image_id")),
        ("instance-id", Target::Text("i.instance_id")),
        ("instance-state-code", Target::Text(STATE_CODE)),
        ("instance-state-name", Target::Text("i.state")),
        ("instance-type", Target::Text("i.instance_type")),
        ("ip-address", Target::Text("i.public_ip")),
        ("key-name", Target::Text("i.key_name")),
        ("launch-time", Target::Text("strftime('%Y-%m-%dT%H:%M:%fZ', i.launch_time / 1000.0, 'unixepoch')")),
        ("owner-id", Target::Text("i.account_id")),
        ("placement-group-name", Target::Text("''")),
        ("platform", Target::Text("i.platform")),
        ("platform-details", Target::Text("i.platform_details")),
        ("usage-operation", Target::Text("i.usage_operation")),
        ("private-dns-name", Target::Text("'ip-' || replace(i.private_ip, '.', '-') || '%'")),
        ("private-ip-address", Target::Text("i.private_ip")),
        ("reservation-id", Target::Text("i.reservation_id")),
        ("root-device-name", Target::Text("i.root_device_name")),
        ("root-device-type", Target::Text("i.root_device_type")),
        ("state-reason-code", Target::Text("i.state_reason_code")),
        ("subnet-id", Target::Text("i.subnet_id")),
        ("tenancy", Target::Text("'default'")),
        ("virtualization-type", Target::Text("i.virtualization_type")),
        ("vpc-id", Target::Text("i.vpc_id")),
        (
            "block-device-mapping.volume-id",
            Target::Any {
                from: "(select volume_id from volume where attached_instance_id = i.instance_id) bv",
                expr: "bv.volume_id",
            },
        ),
        ("instance.group-id", Target::Any { from: "json_each(i.security_group_ids) g", expr: "g.value" }),
        ("group-id", Target::Any { from: "json_each(i.security_group_ids) g", expr: "g.value" }),
        ("instance.group-name", GROUP_NAME),
        ("group-name", GROUP_NAME),
        ("network-interface.network-interface-id", interface_field!("n.network_interface_id")),
        ("network-interface.attachment.attachment-id", interface_field!("n.attachment_id")),
        ("network-interface.attachment.device-index", interface_field!("cast(n.device_index as text)")),
        ("network-interface.addresses.private-ip-address", interface_field!("n.private_ip_address")),
        ("network-interface.private-ip-address", interface_field!("n.private_ip_address")),
        ("network-interface.mac-address", interface_field!("n.mac_address")),
        ("network-interface.subnet-id", interface_field!("n.subnet_id")),
        ("network-interface.vpc-id", interface_field!("n.vpc_id")),
        ("network-interface.description", interface_field!("n.description")),
    ],
};

const STATE_CODE: &str =
    "(case i.state when 'pending' then '0' when 'running' then '16' when 'shutting-down' then '32' \
    when 'terminated' then '48' when 'stopping' then '64' else '80' end)";

fn select_instances(account: &str) -> Sql {
    let mut qb = Sql::new("select ");
    qb.push(INSTANCE_COLUMNS);
    qb.push_bind(account);
    qb.push(INSTANCE_COLUMNS_END);
    qb.push(" from instance i where 1");
    qb
}

#[derive(Debug, Default)]
pub struct InstanceQuery<'a> {
    pub account: &'a str,
    pub region: &'a str,
    pub instance_ids: Vec<String>,
    pub filters: &'a [Filter],
    pub page: Page,
}

pub fn describe(db: &Db<'_>, q: &InstanceQuery<'_>) -> Result<(Found<Instance>, Option<String>)> {
    let mut qb = select_instances(q.account);
    qb.push(" and i.region = ");
    qb.push_bind(q.region);
    qb.push(" and i.account_id = ");
    qb.push_bind(q.account);
    if !q.instance_ids.is_empty() {
        super::filters::push_in(&mut qb, "i.instance_id", &q.instance_ids);
    }
    FILTERS.push(&mut qb, q.filters, q.account)?;
    q.page.push(&mut qb, "i.instance_id");
    let (found, next) =
        q.page.finish_shared(db.records(&qb, instance_from_columns)?, |i: &Instance| i.instance_id.clone());
    Ok((found, next))
}

pub async fn find_owned(
    conn: &mut impl Exec,
    account: &str,
    region: &str,
    instance_id: &str,
) -> Result<Option<Instance>> {
    let mut qb = select_instances(account);
    qb.push(" and i.instance_id = ");
    qb.push_bind(instance_id);
    qb.push(" and i.region = ");
    qb.push_bind(region);
    qb.push(" and i.account_id = ");
    qb.push_bind(account);
    Ok(conn.records(&qb, instance_from_columns).await?.pop())
}

/// The instances an earlier RunInstances with this client token launched.
pub async fn find_by_client_token(conn: &mut Conn, account: &str, region: &str, token: &str) -> Result<Vec<Instance>> {
    let mut qb = select_instances(account);
    qb.push(" and i.account_id = ");
    qb.push_bind(account);
    qb.push(" and i.region = ");
    qb.push_bind(region);
    qb.push(" and i.client_token = ");
    qb.push_bind(token);
    qb.push(" order by i.ami_launch_index");
    Ok(conn.records(&qb, instance_from_columns).await?)
}

pub async fn insert(conn: &mut Conn, i: &Instance, now: i64) -> Result<()> {
    sqlx::query(
        "insert into instance (instance_id, account_id, region, reservation_id, image_id, instance_type, \
         availability_zone, subnet_id, vpc_id, private_ip, public_ip, key_name, user_data, state, \
         state_transition_reason, state_reason_code, state_reason_message, ready_at, launch_time, ami_launch_index, \
         architecture, virtualization_type, root_device_type, root_device_name, platform, platform_details, \
         usage_operation, boot_mode, ena_support, kernel_id, client_token, shutdown_behavior, disable_api_termination, \
         security_group_ids, cpu_credits, product_codes, ramdisk_id, sriov_net_support, ebs_optimized, \
         disable_api_stop, created_at) \
         values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&i.instance_id)
    .bind(&i.owner_id)
    .bind(&i.region)
    .bind(&i.reservation_id)
    .bind(&i.image_id)
    .bind(&i.instance_type)
    .bind(&i.availability_zone)
    .bind(&i.subnet_id)
    .bind(&i.vpc_id)
    .bind(&i.private_ip)
    .bind(&i.public_ip)
    .bind(&i.key_name)
    .bind(&i.user_data)
    .bind(i.state)
    .bind(&i.state_transition_reason)
    .bind(&i.state_reason_code)
    .bind(&i.state_reason_message)
    .bind(i.ready_at)
    .bind(i.launch_time)
    .bind(i.ami_launch_index)
    .bind(&i.architecture)
    .bind(&i.virtualization_type)
    .bind(&i.root_device_type)
    .bind(&i.root_device_name)
    .bind(&i.platform)
    .bind(&i.platform_details)
    .bind(&i.usage_operation)
    .bind(&i.boot_mode)
    .bind(i.ena_support)
    .bind(&i.kernel_id)
    .bind(&i.client_token)
    .bind(&i.shutdown_behavior)
    .bind(i.disable_api_termination)
    .bind(serde_json::to_string(&i.security_group_ids).expect("json"))
    .bind(&i.cpu_credits)
    .bind(serde_json::to_string(&i.product_codes).expect("json"))
    .bind(&i.ramdisk_id)
    .bind(&i.sriov_net_support)
    .bind(i.ebs_optimized)
    .bind(i.disable_api_stop)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Records a state change with its reasons; a terminated instance releases its volumes.
/// An instance whose primary interface holds an Elastic IP keeps it as its public address
/// (a stopped instance starts again with it).
pub async fn set_state(conn: &mut Conn, i: &Instance, now: i64) -> Result<()> {
    sqlx::query(
        "update instance set state = ?, ready_at = ?, state_transition_reason = ?, state_reason_code = ?, \
         state_reason_message = ?, launch_time = ?, public_ip = coalesce((select a.public_ip from address a \
         where a.instance_id = instance.instance_id), ?), \
         terminated_at = case when ? = 'terminated' then ? end where instance_id = ?",
    )
    .bind(i.state)
    .bind(i.ready_at)
    .bind(&i.state_transition_reason)
    .bind(&i.state_reason_code)
    .bind(&i.state_reason_message)
    .bind(i.launch_time)
    .bind(&i.public_ip)
    .bind(i.state)
    .bind(now)
    .bind(&i.instance_id)
    .execute(&mut *conn)
    .await?;
    if i.state == InstanceState::Terminated {
        release_resources(conn, &i.instance_id).await?;
    }
    Ok(())
}

/// Sets the public address of an instance (an Elastic IP came or went).
pub async fn set_public_ip(conn: &mut Conn, instance_id: &str, public_ip: Option<&str>) -> Result<()> {
    sqlx::query("update instance set public_ip = ? where instance_id = ?")
        .bind(public_ip)
        .bind(instance_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Whether the instance's subnet gives instances a public address of Amazon's.
pub async fn subnet_maps_public_ip(conn: &mut Conn, instance_id: &str) -> Result<bool> {
    let maps: Option<bool> = sqlx::query_scalar(
        "select s.map_public_ip_on_launch from instance i join subnet s on s.subnet_id = i.subnet_id \
         where i.instance_id = ?",
    )
    .bind(instance_id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(maps.unwrap_or(false))
}

/// What a terminated instance lets go: the volumes marked delete-on-termination are
/// deleted and the others detached; so are its network interfaces.
pub async fn release_resources(conn: &mut impl Exec, instance_id: &str) -> Result<()> {
    super::network::interfaces::release_instance(conn, instance_id).await?;
    let sql = Sql::bound(
        "delete from tag where resource_id in \
         (select volume_id from volume where attached_instance_id = ? and delete_on_termination = 1)",
        [instance_id.into()],
    );
    conn.execute(&sql).await?;
    let sql = Sql::bound(
        "delete from volume where attached_instance_id = ? and delete_on_termination = 1",
        [instance_id.into()],
    );
    conn.execute(&sql).await?;
    let sql = Sql::bound(
        "update volume set state = 'available', attached_instance_id = null, attached_device = null, \
         attachment_state = null, attach_time = null, delete_on_termination = null where attached_instance_id = ?",
        [instance_id.into()],
    );
    conn.execute(&sql).await?;
    Ok(())
}

/// Sets one column of the instance's attributes.
pub async fn set_attribute(conn: &mut Conn, instance_id: &str, column: InstanceColumn, value: &str) -> Result<()> {
    let sql = match column {
        InstanceColumn::InstanceType => "update instance set instance_type = ? where instance_id = ?",
        InstanceColumn::UserData => "update instance set user_data = ? where instance_id = ?",
        InstanceColumn::ShutdownBehavior => "update instance set shutdown_behavior = ? where instance_id = ?",
        InstanceColumn::DisableApiTermination => {
            "update instance set disable_api_termination = (? = 'true') where instance_id = ?"
        }
        InstanceColumn::SecurityGroupIds => "update instance set security_group_ids = ? where instance_id = ?",
        InstanceColumn::KernelId => "update instance set kernel_id = ? where instance_id = ?",
        InstanceColumn::RamdiskId => "update instance set ramdisk_id = ? where instance_id = ?",
        InstanceColumn::SriovNetSupport => "update instance set sriov_net_support = ? where instance_id = ?",
        InstanceColumn::EbsOptimized => "update instance set ebs_optimized = (? = 'true') where instance_id = ?",
        InstanceColumn::EnaSupport => "update instance set ena_support = (? = 'true') where instance_id = ?",
        InstanceColumn::DisableApiStop => "update instance set disable_api_stop = (? = 'true') where instance_id = ?",
    };
    sqlx::query(sql).bind(value).bind(instance_id).execute(&mut *conn).await?;
    Ok(())
}

/// Sets the CPU credit option of an instance (ModifyInstanceCreditSpecification).
pub async fn set_cpu_credits(conn: &mut Conn, instance_id: &str, cpu_credits: &str) -> Result<()> {
    sqlx::query("update instance set cpu_credits = ? where instance_id = ?")
        .bind(cpu_credits)
        .bind(instance_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

#[derive(Debug, Clone, Copy)]
pub enum InstanceColumn {
    InstanceType,
    UserData,
    ShutdownBehavior,
    DisableApiTermination,
    /// A JSON array of group ids.
    SecurityGroupIds,
    KernelId,
    RamdiskId,
    SriovNetSupport,
    EbsOptimized,
    EnaSupport,
    DisableApiStop,
}

/// Whether the volume attached at `device` goes with the instance.
pub async fn set_delete_on_termination(conn: &mut Conn, instance_id: &str, device: &str, delete: bool) -> Result<()> {
    sqlx::query("update volume set delete_on_termination = ? where attached_instance_id = ? and attached_device = ?")
        .bind(delete)
        .bind(instance_id)
        .bind(device)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn attach_volume(
    conn: &mut Conn,
    volume_id: &str,
    instance_id: &str,
    device: &str,
    delete_on_termination: bool,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "update volume set state = 'in-use', attached_instance_id = ?, attached_device = ?, attachment_state = 'attached', \
         attach_time = ?, delete_on_termination = ? where volume_id = ?",
    )
    .bind(instance_id)
    .bind(device)
    .bind(now)
    .bind(delete_on_termination)
    .bind(volume_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn detach_volume(conn: &mut Conn, volume_id: &str) -> Result<()> {
    sqlx::query(
        "update volume set state = 'available', attached_instance_id = null, attached_device = null, \
         attachment_state = null, attach_time = null, delete_on_termination = null where volume_id = ?",
    )
    .bind(volume_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn set_image_last_launched(conn: &mut Conn, image_id: &str, time: &str) -> Result<()> {
    sqlx::query("update image set last_launched_time = ? where image_id = ?")
        .bind(time)
        .bind(image_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// An instance the container runtime looks after, found again at start-up.
pub struct LiveInstance {
    pub account: String,
    pub region: String,
    pub instance_id: String,
    pub state: InstanceState,
    pub public_ip: String,
    pub instance_type: String,
}

/// Every account's instances whose public IP starts with `prefix`.
pub async fn with_public_ip_prefix(conn: &mut Conn, prefix: &str) -> Result<Vec<LiveInstance>> {
    let rows = sqlx::query(
        "select account_id, region, instance_id, state, public_ip, instance_type from instance \
         where substr(public_ip, 1, length(?1)) = ?1",
    )
    .bind(prefix)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(LiveInstance {
                account: row.try_get("account_id")?,
                region: row.try_get("region")?,
                instance_id: row.try_get("instance_id")?,
                state: row.try_get("state")?,
                public_ip: row.try_get("public_ip")?,
                instance_type: row.try_get("instance_type")?,
            })
        })
        .collect()
}
