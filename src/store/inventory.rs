//! What is stored, counted by resource type and state (for `/_ec2lite/metrics`).

use super::Conn;
use crate::error::Result;

/// (resource type, state, count) over every account and region. Resources without
/// states of their own count under the state EC2 shows for them.
const COUNTS: &str = "\
    select 'image', state, count(*) from image group by state \
    union all select 'snapshot', state, count(*) from snapshot group by state \
    union all select 'volume', state, count(*) from volume group by state \
    union all select 'instance', state, count(*) from instance group by state \
    union all select 'vpc', state, count(*) from vpc group by state \
    union all select 'subnet', state, count(*) from subnet group by state \
    union all select 'security-group', 'available', count(*) from security_group \
    union all select 'network-interface', \
        case when instance_id is null then 'available' else 'in-use' end, count(*) \
        from network_interface group by 2 \
    union all select 'elastic-ip', case when association_id is null then 'unassociated' else 'associated' end, \
        count(*) from address group by 2 \
    union all select 'internet-gateway', case when vpc_id is null then 'detached' else 'attached' end, count(*) \
        from internet_gateway group by 2 \
    union all select 'route-table', 'available', count(*) from route_table \
    union all select 'key-pair', 'available', count(*) from key_pair \
    union all select 'launch-template', 'available', count(*) from launch_template \
    union all select 'ssm-parameter', 'available', count(*) \
        from (select distinct account_id, region, name from ssm_parameter) \
    union all select 'import-task', state, count(*) from import_task group by state";

pub async fn resource_counts(conn: &mut Conn) -> Result<Vec<(String, String, i64)>> {
    let rows: Vec<(String, String, i64)> = sqlx::query_as(COUNTS).fetch_all(&mut *conn).await?;
    Ok(rows.into_iter().filter(|(_, _, n)| *n > 0).collect())
}
