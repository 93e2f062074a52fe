//! Read-only views for the dashboard (`/_ec2lite/api/...`): each query answers one JSON
//! document built by SQLite, so the views cost one statement each.

use super::Conn;
use crate::error::Result;

/// Every (account, region) that holds something of its own.
const SCOPES: &str = "select coalesce(json_group_array(json_array(account_id, region)), '[]') from ( \
    select account_id, region from network_scope \
    union select account_id, region from image where catalog = 0 \
    union select account_id, region from snapshot where catalog = 0 \
    union select account_id, region from volume \
    union select account_id, region from key_pair \
    union select account_id, region from import_task \
    order by 1, 2)";

/// One scope's resources, as `{"images": [...], "snapshots": [...], ...}`.
const RESOURCES: &str = "select json_object( \
    'image_block_public_access', coalesce((select value from account_setting where account_id = ?1 and region = ?2 \
        and key = 'image-block-public-access'), 'unblocked'), \
    'snapshot_block_public_access', coalesce((select value from account_setting where account_id = ?1 \
        and region = ?2 and key = 'snapshot-block-public-access'), 'unblocked'), \
    'images', (select coalesce(json_group_array(json_object('id', i.image_id, 'name', i.name, 'state', i.state, \
        'owner', i.account_id, 'alias', i.owner_alias, 'deprecation_time', i.deprecation_time, \
        'source_image_id', i.source_image_id, 'source_region', i.source_image_region, \
        'public', json(case when exists (select 1 from launch_permission p where p.image_id = i.image_id \
            and p.grantee_type = 'group' and p.grantee = 'all') then 'true' else 'false' end), \
        'shared_with', (select json_group_array(p.grantee) from launch_permission p where p.image_id = i.image_id \
            and not (p.grantee_type = 'group' and p.grantee = 'all')), \
        'snapshots', (select json_group_array(s.snapshot_id) from image_snapshot s where s.image_id = i.image_id))), '[]') \
        from (select * from image where account_id = ?1 and region = ?2 and catalog = 0 order by image_id) i), \
    'snapshots', (select coalesce(json_group_array(json_object('id', s.snapshot_id, 'state', s.state, \
        'size_gib', s.volume_size, 'volume_id', s.volume_id, 'encrypted', json(case when s.encrypted then 'true' else 'false' end), \
        'stored_blocks', (select count(*) from block_map b where b.owner_id = s.snapshot_id))), '[]') \
        from (select * from snapshot where account_id = ?1 and region = ?2 and catalog = 0 order by snapshot_id) s), \
    'volumes', (select coalesce(json_group_array(json_object('id', v.volume_id, 'state', v.state, 'size_gib', v.size, \
        'zone', v.availability_zone, 'instance_id', v.attached_instance_id)), '[]') \
        from (select * from volume where account_id = ?1 and region = ?2 order by volume_id) v), \
    'instances', (select coalesce(json_group_array(json_object('id', i.instance_id, 'state', i.state, \
        'type', i.instance_type, 'image_id', i.image_id, 'private_ip', i.private_ip, 'subnet_id', i.subnet_id)), '[]') \
        from (select * from instance where account_id = ?1 and region = ?2 order by launch_time, instance_id) i), \
    'key_pairs', (select coalesce(json_group_array(json_object('name', k.key_name, 'id', k.key_pair_id, \
        'type', k.key_type)), '[]') from (select * from key_pair where account_id = ?1 and region = ?2 order by key_name) k), \
    'import_tasks', (select coalesce(json_group_array(json_object('id', t.task_id, 'kind', t.kind, 'state', t.state, \
        'progress', t.progress, 'message', t.status_message)), '[]') \
        from (select * from import_task where account_id = ?1 and region = ?2 order by task_id) t), \
    'vpcs', (select coalesce(json_group_array(json_object('id', v.vpc_id, 'cidr', v.cidr_block, \
        'default', json(case when v.is_default then 'true' else 'false' end), \
        'subnets', (select count(*) from subnet s where s.vpc_id = v.vpc_id), \
        'groups', (select count(*) from security_group g where g.vpc_id = v.vpc_id))), '[]') \
        from (select * from vpc where account_id = ?1 and region = ?2 order by is_default desc, vpc_id) v))";

/// Who may launch one image, and its copies in other regions.
const SHARING: &str = "select json_object('id', i.image_id, 'owner', i.account_id, 'region', i.region, \
    'grants', (select coalesce(json_group_array(json_object('type', p.grantee_type, 'grantee', p.grantee)), '[]') \
        from launch_permission p where p.image_id = i.image_id), \
    'copies', (select coalesce(json_group_array(json_object('id', c.image_id, 'region', c.region, 'owner', c.account_id)), '[]') \
        from image c where c.source_image_id = i.image_id)) from image i where i.image_id = ?1";

pub async fn scopes(conn: &mut Conn) -> Result<String> {
    Ok(sqlx::query_scalar(SCOPES).fetch_one(&mut *conn).await?)
}

pub async fn resources(conn: &mut Conn, account: &str, region: &str) -> Result<String> {
    Ok(sqlx::query_scalar(RESOURCES).bind(account).bind(region).fetch_one(&mut *conn).await?)
}

pub async fn sharing(conn: &mut Conn, image_id: &str) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(SHARING).bind(image_id).fetch_optional(&mut *conn).await?)
}
