//! Security groups and their rules (one row per rule, `sgr-` id).

use crate::store::sql::Sql;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use crate::domain::filter::Filter;
use crate::domain::network::security_group::{Peer, RuleSpec, SecurityGroup, SecurityGroupRule};
use crate::error::Result;
use crate::store::filters::{push_in, FilterSpec, Page, Target};
use crate::store::{parse_tags, push_tags_column, Conn};

/// `exists (select 1 from <RULES> where <expr> matches)`: every expression is null for
/// rules of other groups or of the other direction, so they never match.
const RULES: &str = "security_group_rule r";

macro_rules! rule_field {
    ($egress:literal, $expr:literal) => {
        Target::Any {
            from: RULES,
            expr: concat!("(case when r.group_id = g.group_id and r.is_egress = ", $egress, " then ", $expr, " end)"),
        }
    };
}

/// The filters of DescribeSecurityGroups: the group's own fields and those of any of
/// its inbound (`ip-permission.*`) or outbound (`egress.ip-permission.*`) rules.
pub static SECURITY_GROUP_FILTERS: FilterSpec = FilterSpec {
    id_column: "g.group_id",
    fields: &[
        ("description", Target::Text("g.description")),
        ("group-id", Target::Text("g.group_id")),
        ("group-name", Target::Text("g.group_name")),
        ("owner-id", Target::Text("g.account_id")),
        ("vpc-id", Target::Text("g.vpc_id")),
        ("ip-permission.cidr", rule_field!(0, "r.cidr_ipv4")),
        ("ip-permission.from-port", rule_field!(0, "cast(r.from_port as text)")),
        ("ip-permission.group-id", rule_field!(0, "r.referenced_group_id")),
        (
            "ip-permission.group-name",
            rule_field!(0, "(select rg.group_name from security_group rg where rg.group_id = r.referenced_group_id)"),
        ),
        ("ip-permission.ipv6-cidr", rule_field!(0, "r.cidr_ipv6")),
        ("ip-permission.prefix-list-id", rule_field!(0, "r.prefix_list_id")),
        ("ip-permission.protocol", rule_field!(0, "r.ip_protocol")),
        ("ip-permission.to-port", rule_field!(0, "cast(r.to_port as text)")),
        ("ip-permission.user-id", rule_field!(0, "r.referenced_user_id")),
        ("egress.ip-permission.cidr", rule_field!(1, "r.cidr_ipv4")),
        ("egress.ip-permission.from-port", rule_field!(1, "cast(r.from_port as text)")),
        ("egress.ip-permission.group-id", rule_field!(1, "r.referenced_group_id")),
        (
            "egress.ip-permission.group-name",
            rule_field!(1, "(select rg.group_name from security_group rg where rg.group_id = r.referenced_group_id)"),
        ),
        ("egress.ip-permission.ipv6-cidr", rule_field!(1, "r.cidr_ipv6")),
        ("egress.ip-permission.prefix-list-id", rule_field!(1, "r.prefix_list_id")),
        ("egress.ip-permission.protocol", rule_field!(1, "r.ip_protocol")),
        ("egress.ip-permission.to-port", rule_field!(1, "cast(r.to_port as text)")),
        ("egress.ip-permission.user-id", rule_field!(1, "r.referenced_user_id")),
    ],
};

/// The filters of DescribeSecurityGroupRules.
pub static RULE_FILTERS: FilterSpec = FilterSpec {
    id_column: "r.rule_id",
    fields: &[("group-id", Target::Text("r.group_id")), ("security-group-rule-id", Target::Text("r.rule_id"))],
};

fn select_groups<'a>(account: &'a str, region: &'a str) -> Sql {
    let mut qb = Sql::new("select g.group_id, g.account_id, g.region, g.vpc_id, g.group_name, g.description, ");
    push_tags_column(&mut qb, account, "g.group_id");
    qb.push(" from security_group g where g.account_id = ").push_bind(account);
    qb.push(" and g.region = ").push_bind(region);
    qb
}

fn group_from_row(r: &SqliteRow) -> SecurityGroup {
    SecurityGroup {
        group_id: r.get(0),
        owner_id: r.get(1),
        region: r.get(2),
        vpc_id: r.get(3),
        group_name: r.get(4),
        description: r.get(5),
        tags: parse_tags(r.get(6)),
        ingress: Vec::new(),
        egress: Vec::new(),
    }
}

/// Rules in the order they were added (rowid), with the caller's tags on them.
fn select_rules(account: &str) -> Sql {
    let mut qb = Sql::new(
        "select r.rule_id, r.group_id, r.account_id, r.region, r.is_egress, r.ip_protocol, r.from_port, r.to_port, \
         r.cidr_ipv4, r.cidr_ipv6, r.prefix_list_id, r.referenced_group_id, r.referenced_user_id, r.description, ",
    );
    push_tags_column(&mut qb, account, "r.rule_id");
    qb.push(" from security_group_rule r where 1 = 1");
    qb
}

fn rule_from_row(r: &SqliteRow) -> SecurityGroupRule {
    let peer = match (r.get::<Option<String>, _>(8), r.get::<Option<String>, _>(9), r.get::<Option<String>, _>(10)) {
        (Some(cidr), _, _) => Peer::Ipv4(cidr),
        (_, Some(cidr), _) => Peer::Ipv6(cidr),
        (_, _, Some(list)) => Peer::PrefixList(list),
        _ => Peer::Group { group_id: r.get(11), user_id: r.get(12) },
    };
    SecurityGroupRule {
        rule_id: r.get(0),
        group_id: r.get(1),
        group_owner_id: r.get(2),
        region: r.get(3),
        is_egress: r.get(4),
        spec: RuleSpec { protocol: r.get(5), from_port: r.get(6), to_port: r.get(7), peer, description: r.get(13) },
        tags: parse_tags(r.get(14)),
    }
}

/// Loads the rules of `groups` into them.
async fn attach_rules(conn: &mut Conn, account: &str, groups: &mut [SecurityGroup]) -> Result<()> {
    if groups.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = groups.iter().map(|g| g.group_id.clone()).collect();
    let mut qb = select_rules(account);
    push_in(&mut qb, "r.group_id", &ids);
    qb.push(" order by r.rowid");
    for rule in qb.query().fetch_all(&mut *conn).await?.iter().map(rule_from_row) {
        if let Some(group) = groups.iter_mut().find(|g| g.group_id == rule.group_id) {
            if rule.is_egress {
                group.egress.push(rule);
            } else {
                group.ingress.push(rule);
            }
        }
    }
    Ok(())
}

pub struct GroupQuery<'a> {
    pub account: &'a str,
    pub region: &'a str,
    pub ids: &'a [String],
    /// Names of groups in `names_vpc` (the default VPC).
    pub names: &'a [String],
    pub names_vpc: Option<&'a str>,
    pub filters: &'a [Filter],
    pub page: &'a Page,
}

pub async fn describe_groups(conn: &mut Conn, q: &GroupQuery<'_>) -> Result<(Vec<SecurityGroup>, Option<String>)> {
    let mut qb = select_groups(q.account, q.region);
    if !q.ids.is_empty() {
        push_in(&mut qb, "g.group_id", q.ids);
    }
    if !q.names.is_empty() {
        qb.push(" and g.vpc_id = ").push_bind(q.names_vpc.unwrap_or(""));
        push_in(&mut qb, "g.group_name", q.names);
    }
    SECURITY_GROUP_FILTERS.push(&mut qb, q.filters, q.account)?;
    q.page.push(&mut qb, "g.group_id");
    let rows = qb.query().fetch_all(&mut *conn).await?;
    let mut groups: Vec<SecurityGroup> = rows.iter().map(group_from_row).collect();
    let next = q.page.finish(&mut groups, |g| g.group_id.clone());
    attach_rules(conn, q.account, &mut groups).await?;
    Ok((groups, next))
}

/// A group of `account` in the region, with its rules.
pub async fn find_group(conn: &mut Conn, account: &str, region: &str, group_id: &str) -> Result<Option<SecurityGroup>> {
    let mut qb = select_groups(account, region);
    qb.push(" and g.group_id = ").push_bind(group_id);
    load_one(conn, account, qb).await
}

pub async fn find_group_by_name(
    conn: &mut Conn,
    account: &str,
    region: &str,
    vpc_id: &str,
    name: &str,
) -> Result<Option<SecurityGroup>> {
    let mut qb = select_groups(account, region);
    qb.push(" and g.vpc_id = ").push_bind(vpc_id);
    qb.push(" and g.group_name = ").push_bind(name);
    load_one(conn, account, qb).await
}

async fn load_one(conn: &mut Conn, account: &str, qb: Sql) -> Result<Option<SecurityGroup>> {
    let Some(row) = qb.query().fetch_optional(&mut *conn).await? else { return Ok(None) };
    let mut groups = [group_from_row(&row)];
    attach_rules(conn, account, &mut groups).await?;
    let [group] = groups;
    Ok(Some(group))
}

/// The VPC of each of `group_ids` the caller owns in the region.
pub async fn group_vpcs(
    conn: &mut Conn,
    account: &str,
    region: &str,
    group_ids: &[String],
) -> Result<Vec<(String, String)>> {
    if group_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut qb = Sql::new("select group_id, vpc_id from security_group where account_id = ");
    qb.push_bind(account).push(" and region = ").push_bind(region);
    push_in(&mut qb, "group_id", group_ids);
    let rows = qb.query().fetch_all(&mut *conn).await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

pub async fn count_groups(conn: &mut Conn, account: &str, region: &str) -> Result<i64> {
    let n = sqlx::query_scalar("select count(*) from security_group where account_id = ? and region = ?")
        .bind(account)
        .bind(region)
        .fetch_one(&mut *conn)
        .await?;
    Ok(n)
}

/// Stores a new group (without rules: the caller adds the default egress one).
pub async fn insert_group(conn: &mut Conn, g: &SecurityGroup, now: i64) -> Result<()> {
    sqlx::query(
        "insert into security_group (group_id, account_id, region, vpc_id, group_name, description, created_at) \
         values (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&g.group_id)
    .bind(&g.owner_id)
    .bind(&g.region)
    .bind(&g.vpc_id)
    .bind(&g.group_name)
    .bind(&g.description)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The peer columns of a rule: (cidr_ipv4, cidr_ipv6, prefix_list_id, group, user).
type PeerColumns<'a> = (Option<&'a str>, Option<&'a str>, Option<&'a str>, Option<&'a str>, Option<&'a str>);

fn peer_columns(peer: &Peer) -> PeerColumns<'_> {
    match peer {
        Peer::Ipv4(c) => (Some(c), None, None, None, None),
        Peer::Ipv6(c) => (None, Some(c), None, None, None),
        Peer::PrefixList(p) => (None, None, Some(p), None, None),
        Peer::Group { group_id, user_id } => (None, None, None, Some(group_id), user_id.as_deref()),
    }
}

pub async fn insert_rule(conn: &mut Conn, rule: &SecurityGroupRule, now: i64) -> Result<()> {
    let (v4, v6, list, group, user) = peer_columns(&rule.spec.peer);
    sqlx::query(
        "insert into security_group_rule (rule_id, group_id, account_id, region, is_egress, ip_protocol, from_port, \
         to_port, cidr_ipv4, cidr_ipv6, prefix_list_id, referenced_group_id, referenced_user_id, description, \
         created_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&rule.rule_id)
    .bind(&rule.group_id)
    .bind(&rule.group_owner_id)
    .bind(&rule.region)
    .bind(rule.is_egress)
    .bind(&rule.spec.protocol)
    .bind(rule.spec.from_port)
    .bind(rule.spec.to_port)
    .bind(v4)
    .bind(v6)
    .bind(list)
    .bind(group)
    .bind(user)
    .bind(&rule.spec.description)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Rewrites a rule's traffic and description in place (ModifySecurityGroupRules,
/// UpdateSecurityGroupRuleDescriptions*).
pub async fn update_rule(conn: &mut Conn, rule: &SecurityGroupRule) -> Result<()> {
    let (v4, v6, list, group, user) = peer_columns(&rule.spec.peer);
    sqlx::query(
        "update security_group_rule set ip_protocol = ?, from_port = ?, to_port = ?, cidr_ipv4 = ?, cidr_ipv6 = ?, \
         prefix_list_id = ?, referenced_group_id = ?, referenced_user_id = ?, description = ? where rule_id = ?",
    )
    .bind(&rule.spec.protocol)
    .bind(rule.spec.from_port)
    .bind(rule.spec.to_port)
    .bind(v4)
    .bind(v6)
    .bind(list)
    .bind(group)
    .bind(user)
    .bind(&rule.spec.description)
    .bind(&rule.rule_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn delete_rules(conn: &mut Conn, rule_ids: &[String]) -> Result<()> {
    if rule_ids.is_empty() {
        return Ok(());
    }
    for table_column in ["security_group_rule where rule_id", "tag where resource_id"] {
        let mut qb = Sql::new(&format!("delete from {table_column} in ("));
        let mut separated = qb.separated(", ");
        for id in rule_ids {
            separated.push_bind(id.as_str());
        }
        qb.push(")");
        qb.query().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Whether something still uses the group: an interface or a live instance in it, or a
/// rule of another group that references it.
pub async fn group_in_use(conn: &mut Conn, group_id: &str) -> Result<bool> {
    let found: Option<i64> = sqlx::query_scalar(
        "select 1 where exists (select 1 from network_interface n, json_each(n.security_group_ids) j \
           where j.value = ?1) \
         or exists (select 1 from instance i, json_each(i.security_group_ids) j \
           where j.value = ?1 and i.state != 'terminated') \
         or exists (select 1 from security_group_rule r where r.referenced_group_id = ?1 and r.group_id != ?1)",
    )
    .bind(group_id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(found.is_some())
}

/// Deletes a group with its rules and every tag on them.
pub async fn delete_group(conn: &mut Conn, group: &SecurityGroup) -> Result<()> {
    let rule_ids: Vec<String> = group.ingress.iter().chain(&group.egress).map(|r| r.rule_id.clone()).collect();
    delete_rules(conn, &rule_ids).await?;
    sqlx::query("delete from security_group where group_id = ?").bind(&group.group_id).execute(&mut *conn).await?;
    sqlx::query("delete from tag where resource_id = ?").bind(&group.group_id).execute(&mut *conn).await?;
    Ok(())
}

pub struct RuleQuery<'a> {
    pub account: &'a str,
    pub region: &'a str,
    pub ids: &'a [String],
    pub filters: &'a [Filter],
    pub page: &'a Page,
}

pub async fn describe_rules(conn: &mut Conn, q: &RuleQuery<'_>) -> Result<(Vec<SecurityGroupRule>, Option<String>)> {
    let mut qb = select_rules(q.account);
    qb.push(" and r.account_id = ").push_bind(q.account);
    qb.push(" and r.region = ").push_bind(q.region);
    if !q.ids.is_empty() {
        push_in(&mut qb, "r.rule_id", q.ids);
    }
    RULE_FILTERS.push(&mut qb, q.filters, q.account)?;
    q.page.push(&mut qb, "r.rule_id");
    let rows = qb.query().fetch_all(&mut *conn).await?;
    let mut rules: Vec<SecurityGroupRule> = rows.iter().map(rule_from_row).collect();
    let next = q.page.finish(&mut rules, |r| r.rule_id.clone());
    Ok((rules, next))
}
