//! The rules of a security group: AuthorizeSecurityGroupIngress/Egress,
//! RevokeSecurityGroupIngress/Egress, DescribeSecurityGroupRules,
//! ModifySecurityGroupRules, UpdateSecurityGroupRuleDescriptionsIngress/Egress.

use super::{Ctx, FromParams};
use crate::access::own_group;
use crate::domain::filter::Filter;
use crate::domain::ids::{self, new_id, IdKind};
use crate::domain::network::security_group::{
    check_description, check_ipv4_cidr, check_ipv6_cidr, check_ports, check_rule_count, normalize_protocol, GroupRef,
    Peer, RuleSpec, SecurityGroup, SecurityGroupRule,
};
use crate::domain::tags::{self as tag_rules, Tag};
use crate::ec2_err;
use crate::error::{Ec2Error, Result};
use crate::store::filters::Page;
use crate::store::network::{not_found, security_groups as store, vpcs};
use crate::store::{tags, Conn};
use crate::wire::params::{Nested, Params};
use crate::wire::query::{dedup, parse_filters, parse_group_ref, parse_page, parse_tag_specs, write_next_token};
use crate::wire::shapes::security_group::{write_permissions, write_revoked_rule, write_security_group_rule};
use crate::wire::xml::Xml;

/// One rule as asked; a referenced group may be named rather than identified (only in
/// the default VPC, as on EC2).
#[derive(Debug, Clone)]
pub struct RuleRequest {
    pub spec: RuleSpec,
    pub group_name: Option<String>,
}

/// `IpPermissions.N.*`, or the flat members older clients send (`IpProtocol`,
/// `FromPort`, `ToPort`, `CidrIp`, `SourceSecurityGroupName`/`OwnerId`).
pub fn parse_permissions(p: &Params) -> Result<Vec<RuleRequest>> {
    let permissions = p.structs("IpPermissions")?;
    if permissions.is_empty() {
        return parse_flat_permission(p);
    }
    let mut rules = Vec::new();
    for permission in permissions {
        rules.extend(parse_permission(&permission)?);
    }
    Ok(rules)
}

fn parse_permission(perm: &Nested<'_>) -> Result<Vec<RuleRequest>> {
    let protocol =
        perm.str("IpProtocol").ok_or_else(|| Ec2Error::missing_parameter(&format!("{}.IpProtocol", perm.prefix())))?;
    let protocol = normalize_protocol(protocol)?;
    let (from_port, to_port) = check_ports(&protocol, perm.int("FromPort")?, perm.int("ToPort")?)?;
    let mut peers: Vec<(Peer, Option<String>, Option<String>)> = Vec::new();
    for range in perm.structs("IpRanges")? {
        let cidr = range.str("CidrIp").ok_or_else(|| Ec2Error::missing_parameter("CidrIp"))?;
        peers.push((Peer::Ipv4(check_ipv4_cidr(cidr)?), description_of(&range)?, None));
    }
    for range in perm.structs("Ipv6Ranges")? {
        let cidr = range.str("CidrIpv6").ok_or_else(|| Ec2Error::missing_parameter("CidrIpv6"))?;
        peers.push((Peer::Ipv6(check_ipv6_cidr(cidr)?), description_of(&range)?, None));
    }
    for list in perm.structs("PrefixListIds")? {
        let id = list.str("PrefixListId").ok_or_else(|| Ec2Error::missing_parameter("PrefixListId"))?;
        if !id.starts_with("pl-") {
            return Err(ec2_err!(InvalidPrefixListId_Malformed, "The prefix list ID '{id}' is malformed"));
        }
        peers.push((Peer::PrefixList(id.to_string()), description_of(&list)?, None));
    }
    for pair in perm.structs("Groups")? {
        let user_id = pair.str("UserId").map(str::to_string);
        let (group_id, name) = match (pair.str("GroupId"), pair.str("GroupName")) {
            (Some(id), _) => {
                ids::check(IdKind::SecurityGroup, id)?;
                (id.to_string(), None)
            }
            (None, Some(name)) => (String::new(), Some(name.to_string())),
            (None, None) => {
                return Err(ec2_err!(MissingParameter, "The request must contain the parameter groupName or groupId"))
            }
        };
        peers.push((Peer::Group { group_id, user_id }, description_of(&pair)?, name));
    }
    if peers.is_empty() {
        return Err(ec2_err!(
            InvalidParameterValue,
            "A rule must name its source or destination: a CIDR range, an IPv6 CIDR range, a prefix list or a security group"
        ));
    }
    Ok(peers
        .into_iter()
        .map(|(peer, description, group_name)| RuleRequest {
            spec: RuleSpec { protocol: protocol.clone(), from_port, to_port, peer, description },
            group_name,
        })
        .collect())
}

fn description_of(member: &Nested<'_>) -> Result<Option<String>> {
    let description = member.str("Description");
    if let Some(d) = description {
        check_description("Description", d)?;
    }
    Ok(description.map(str::to_string))
}

fn parse_flat_permission(p: &Params) -> Result<Vec<RuleRequest>> {
    let protocol = normalize_protocol(p.str("IpProtocol").unwrap_or("-1"))?;
    let (from_port, to_port) = check_ports(&protocol, p.int("FromPort")?, p.int("ToPort")?)?;
    let spec = |peer| RuleSpec { protocol: protocol.clone(), from_port, to_port, peer, description: None };
    if let Some(cidr) = p.str("CidrIp") {
        return Ok(vec![RuleRequest { spec: spec(Peer::Ipv4(check_ipv4_cidr(cidr)?)), group_name: None }]);
    }
    if let Some(name) = p.str("SourceSecurityGroupName") {
        let user_id = p.str("SourceSecurityGroupOwnerId").map(str::to_string);
        let peer = Peer::Group { group_id: String::new(), user_id };
        return Ok(vec![RuleRequest { spec: spec(peer), group_name: Some(name.to_string()) }]);
    }
    Err(ec2_err!(MissingParameter, "The request must contain the parameter ipPermissions"))
}

/// Resolves the group peers of `requests` for rules of `target`: a group of the caller
/// must be in the target's VPC; another account's must exist in its region.
async fn resolve_peers(
    ctx: &Ctx<'_>,
    conn: &mut Conn,
    target: &SecurityGroup,
    requests: Vec<RuleRequest>,
) -> Result<Vec<RuleSpec>> {
    let (account, region) = (ctx.scope.account, ctx.scope.region);
    let mut specs = Vec::with_capacity(requests.len());
    for request in requests {
        let mut spec = request.spec;
        if let Peer::Group { group_id, user_id } = &mut spec.peer {
            let owner = user_id.clone().filter(|u| u != account);
            let found = match (&owner, request.group_name) {
                (None, Some(name)) => store::find_group_by_name(conn, account, region, &target.vpc_id, &name)
                    .await?
                    .ok_or_else(|| ec2_err!(InvalidGroup_NotFound, "The security group '{name}' does not exist"))?,
                (Some(_), Some(name)) => {
                    return Err(ec2_err!(
                        InvalidGroup_NotFound,
                        "You have specified two resources that belong to different networks: use the id of '{name}'."
                    ))
                }
                (_, None) => {
                    let owner = owner.as_deref().unwrap_or(account);
                    store::find_group(conn, owner, region, group_id)
                        .await?
                        .ok_or_else(|| not_found(IdKind::SecurityGroup, group_id))?
                }
            };
            if owner.is_none() && found.vpc_id != target.vpc_id {
                return Err(ec2_err!(
                    InvalidGroup_NotFound,
                    "You have specified two resources that belong to different networks."
                ));
            }
            *group_id = found.group_id;
            *user_id = Some(found.owner_id);
        }
        specs.push(spec);
    }
    Ok(specs)
}

/// Ingress or egress: the two halves of each rule action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Ingress,
    Egress,
}

impl Direction {
    fn is_egress(self) -> bool {
        self == Direction::Egress
    }

    /// The group a rule call changes: by id or name for ingress; egress rules exist in
    /// VPCs only, where groups are named by id.
    fn target(self, p: &Params) -> Result<GroupRef> {
        match self {
            Direction::Ingress => parse_group_ref(p, "GroupId", "GroupName"),
            Direction::Egress => {
                let id = p.required("GroupId")?;
                ids::check(IdKind::SecurityGroup, id)?;
                Ok(GroupRef::Id(id.to_string()))
            }
        }
    }
}

pub struct AuthorizeInput {
    pub group: GroupRef,
    pub rules: Vec<RuleRequest>,
    pub tags: Vec<Tag>,
}

impl AuthorizeInput {
    fn parse(p: &Params, direction: Direction) -> Result<Self> {
        let group = direction.target(p)?;
        Ok(AuthorizeInput {
            group,
            rules: parse_permissions(p)?,
            tags: tag_rules::for_type(&parse_tag_specs(p)?, &["security-group-rule"], "security-group-rule")?,
        })
    }
}

pub struct AuthorizeSecurityGroupIngressInput(AuthorizeInput);
pub struct AuthorizeSecurityGroupEgressInput(AuthorizeInput);

impl FromParams for AuthorizeSecurityGroupIngressInput {
    fn from_params(p: &Params) -> Result<Self> {
        AuthorizeInput::parse(p, Direction::Ingress).map(Self)
    }
}

impl FromParams for AuthorizeSecurityGroupEgressInput {
    fn from_params(p: &Params) -> Result<Self> {
        AuthorizeInput::parse(p, Direction::Egress).map(Self)
    }
}

pub async fn authorize_security_group_ingress(ctx: &Ctx<'_>, input: AuthorizeSecurityGroupIngressInput) -> Result<Xml> {
    authorize(ctx, input.0, Direction::Ingress).await
}

pub async fn authorize_security_group_egress(ctx: &Ctx<'_>, input: AuthorizeSecurityGroupEgressInput) -> Result<Xml> {
    authorize(ctx, input.0, Direction::Egress).await
}

/// Adds rules to a group: none may repeat a rule it has or another of the request.
async fn authorize(ctx: &Ctx<'_>, input: AuthorizeInput, direction: Direction) -> Result<Xml> {
    ctx.ensure_default_network().await?;
    let (account, region) = (ctx.scope.account, ctx.scope.region);
    let mut tx = ctx.app.store.write().await?;
    let group = own_group(ctx.scope, &mut tx, &input.group).await?;
    let specs = resolve_peers(ctx, &mut tx, &group, input.rules).await?;
    let existing = group.rules(direction.is_egress());
    for (i, spec) in specs.iter().enumerate() {
        let repeated = existing.iter().any(|r| r.spec.same_traffic(spec))
            || specs[..i].iter().any(|earlier| earlier.same_traffic(spec));
        if repeated {
            return Err(ec2_err!(
                InvalidPermission_Duplicate,
                "the specified rule \"{}\" already exists",
                spec.describe()
            ));
        }
    }
    check_rule_count(existing, &specs)?;
    ctx.check_dry_run()?;
    let mut added = Vec::with_capacity(specs.len());
    for spec in specs {
        let rule = SecurityGroupRule {
            rule_id: new_id(IdKind::SecurityGroupRule),
            group_id: group.group_id.clone(),
            group_owner_id: account.to_string(),
            region: region.to_string(),
            is_egress: direction.is_egress(),
            spec,
            tags: input.tags.iter().map(|t| (t.key.clone(), t.value.clone())).collect(),
        };
        store::insert_rule(&mut tx, &rule, ctx.now).await?;
        tags::upsert(&mut tx, account, region, &rule.rule_id, "security-group-rule", &input.tags, ctx.now).await?;
        added.push(rule);
    }
    tx.commit().await?;
    let mut x = Xml::return_true();
    x.list("securityGroupRuleSet", &added, write_security_group_rule);
    Ok(x)
}

pub struct RevokeInput {
    pub group: GroupRef,
    pub rule_ids: Vec<String>,
    pub rules: Vec<RuleRequest>,
}

impl RevokeInput {
    fn parse(p: &Params, direction: Direction) -> Result<Self> {
        let group = direction.target(p)?;
        let rule_ids = dedup(p.list("SecurityGroupRuleId")?);
        ids::check_all(IdKind::SecurityGroupRule, &rule_ids)?;
        let rules = if rule_ids.is_empty() { parse_permissions(p)? } else { Vec::new() };
        if !rule_ids.is_empty() && p.has("IpPermissions") {
            return Err(ec2_err!(
                InvalidParameterCombination,
                "The parameter SecurityGroupRuleIds cannot be used with the parameter IpPermissions"
            ));
        }
        Ok(RevokeInput { group, rule_ids, rules })
    }
}

pub struct RevokeSecurityGroupIngressInput(RevokeInput);
pub struct RevokeSecurityGroupEgressInput(RevokeInput);

impl FromParams for RevokeSecurityGroupIngressInput {
    fn from_params(p: &Params) -> Result<Self> {
        RevokeInput::parse(p, Direction::Ingress).map(Self)
    }
}

impl FromParams for RevokeSecurityGroupEgressInput {
    fn from_params(p: &Params) -> Result<Self> {
        RevokeInput::parse(p, Direction::Egress).map(Self)
    }
}

pub async fn revoke_security_group_ingress(ctx: &Ctx<'_>, input: RevokeSecurityGroupIngressInput) -> Result<Xml> {
    revoke(ctx, input.0, Direction::Ingress).await
}

pub async fn revoke_security_group_egress(ctx: &Ctx<'_>, input: RevokeSecurityGroupEgressInput) -> Result<Xml> {
    revoke(ctx, input.0, Direction::Egress).await
}

/// Removes rules by id or by what they allow. A rule that does not exist fails the call
/// in a non-default VPC; in the default VPC it is answered back as unknown, as on EC2.
async fn revoke(ctx: &Ctx<'_>, input: RevokeInput, direction: Direction) -> Result<Xml> {
    ctx.ensure_default_network().await?;
    let mut tx = ctx.app.store.write().await?;
    let group = own_group(ctx.scope, &mut tx, &input.group).await?;
    let existing = group.rules(direction.is_egress());
    let mut revoked: Vec<&SecurityGroupRule> = Vec::new();
    let mut unknown: Vec<RuleSpec> = Vec::new();
    for id in &input.rule_ids {
        let rule =
            existing.iter().find(|r| &r.rule_id == id).ok_or_else(|| not_found(IdKind::SecurityGroupRule, id))?;
        revoked.push(rule);
    }
    if !input.rules.is_empty() {
        let in_default_vpc = vpcs::find_vpc(&mut tx, ctx.scope.account, ctx.scope.region, &group.vpc_id)
            .await?
            .is_some_and(|v| v.is_default);
        for spec in resolve_peers_lenient(ctx, &mut tx, &group, input.rules).await? {
            match existing.iter().find(|r| r.spec.same_traffic(&spec)) {
                Some(rule) => revoked.push(rule),
                None if in_default_vpc => unknown.push(spec),
                None => {
                    return Err(ec2_err!(
                        InvalidPermission_NotFound,
                        "The specified rule does not exist in this security group."
                    ))
                }
            }
        }
    }
    ctx.check_dry_run()?;
    let ids: Vec<String> = revoked.iter().map(|r| r.rule_id.clone()).collect();
    store::delete_rules(&mut tx, &ids).await?;
    tx.commit().await?;
    let mut x = Xml::return_true();
    if !unknown.is_empty() {
        write_permissions(&mut x, "unknownIpPermissionSet", unknown.iter());
    }
    x.list("revokedSecurityGroupRuleSet", &revoked, |x, r| write_revoked_rule(x, r));
    Ok(x)
}

/// Peers of a revocation: a group that no longer exists can still be named in a rule.
async fn resolve_peers_lenient(
    ctx: &Ctx<'_>,
    conn: &mut Conn,
    target: &SecurityGroup,
    requests: Vec<RuleRequest>,
) -> Result<Vec<RuleSpec>> {
    let mut specs = Vec::with_capacity(requests.len());
    for request in requests {
        let by_id = request.group_name.is_none();
        match resolve_peers(ctx, conn, target, vec![request.clone()]).await {
            Ok(mut resolved) => specs.append(&mut resolved),
            Err(err) if by_id && err.code == "InvalidGroup.NotFound" => specs.push(request.spec),
            Err(err) => return Err(err),
        }
    }
    Ok(specs)
}

pub struct DescribeSecurityGroupRulesInput {
    pub rule_ids: Vec<String>,
    pub filters: Vec<Filter>,
    pub page: Page,
}

impl FromParams for DescribeSecurityGroupRulesInput {
    fn from_params(p: &Params) -> Result<Self> {
        let rule_ids = dedup(p.list("SecurityGroupRuleId")?);
        ids::check_all(IdKind::SecurityGroupRule, &rule_ids)?;
        let filters = parse_filters(p, "Filter")?;
        store::RULE_FILTERS.validate(&filters)?;
        let page = parse_page(p, !rule_ids.is_empty(), "securityGroupRuleIds", 5, 1000)?;
        Ok(DescribeSecurityGroupRulesInput { rule_ids, filters, page })
    }
}

pub async fn describe_security_group_rules(ctx: &Ctx<'_>, input: DescribeSecurityGroupRulesInput) -> Result<Xml> {
    ctx.ensure_default_network().await?;
    ctx.check_dry_run()?;
    let query = store::RuleQuery {
        account: ctx.scope.account,
        region: ctx.scope.region,
        ids: &input.rule_ids,
        filters: &input.filters,
        page: &input.page,
    };
    let (rules, next) = store::describe_rules(&mut *ctx.app.store.read().await?, &query).await?;
    if let Some(missing) = input.rule_ids.iter().find(|id| !rules.iter().any(|r| &r.rule_id == *id)) {
        return Err(not_found(IdKind::SecurityGroupRule, missing));
    }
    let mut x = Xml::new();
    x.list("securityGroupRuleSet", &rules, write_security_group_rule);
    write_next_token(&mut x, next);
    Ok(x)
}

/// `SecurityGroupRule.N.SecurityGroupRuleId` with its new `SecurityGroupRule.N.SecurityGroupRule.*`.
pub struct ModifySecurityGroupRulesInput {
    pub group_id: String,
    pub changes: Vec<(String, RuleRequest)>,
}

impl FromParams for ModifySecurityGroupRulesInput {
    fn from_params(p: &Params) -> Result<Self> {
        let group_id = p.required("GroupId")?.to_string();
        ids::check(IdKind::SecurityGroup, &group_id)?;
        let mut changes = Vec::new();
        for change in p.structs("SecurityGroupRule")? {
            let rule_id =
                change.str("SecurityGroupRuleId").ok_or_else(|| Ec2Error::missing_parameter("SecurityGroupRuleId"))?;
            ids::check(IdKind::SecurityGroupRule, rule_id)?;
            changes.push((rule_id.to_string(), parse_rule_request(&change.nested("SecurityGroupRule"))?));
        }
        if changes.is_empty() {
            return Err(Ec2Error::missing_parameter("SecurityGroupRule"));
        }
        Ok(ModifySecurityGroupRulesInput { group_id, changes })
    }
}

/// The `SecurityGroupRuleRequest` shape: one peer among CidrIpv4, CidrIpv6,
/// PrefixListId and ReferencedGroupId.
fn parse_rule_request(r: &Nested<'_>) -> Result<RuleRequest> {
    let protocol = normalize_protocol(r.str("IpProtocol").ok_or_else(|| Ec2Error::missing_parameter("IpProtocol"))?)?;
    let (from_port, to_port) = check_ports(&protocol, r.int("FromPort")?, r.int("ToPort")?)?;
    let peers = [
        r.str("CidrIpv4").map(|c| check_ipv4_cidr(c).map(Peer::Ipv4)),
        r.str("CidrIpv6").map(|c| check_ipv6_cidr(c).map(Peer::Ipv6)),
        r.str("PrefixListId").map(|id| Ok(Peer::PrefixList(id.to_string()))),
        r.str("ReferencedGroupId").map(|id| {
            ids::check(IdKind::SecurityGroup, id).map(|_| Peer::Group { group_id: id.to_string(), user_id: None })
        }),
    ];
    let mut given = peers.into_iter().flatten();
    let (Some(peer), None) = (given.next(), given.next()) else {
        return Err(ec2_err!(
            InvalidParameterCombination,
            "Exactly one of CidrIpv4, CidrIpv6, PrefixListId and ReferencedGroupId must be specified"
        ));
    };
    Ok(RuleRequest {
        spec: RuleSpec { protocol, from_port, to_port, peer: peer?, description: description_of(r)? },
        group_name: None,
    })
}

pub async fn modify_security_group_rules(ctx: &Ctx<'_>, input: ModifySecurityGroupRulesInput) -> Result<Xml> {
    ctx.ensure_default_network().await?;
    let mut tx = ctx.app.store.write().await?;
    let group = own_group(ctx.scope, &mut tx, &GroupRef::Id(input.group_id)).await?;
    let mut updated: Vec<SecurityGroupRule> = Vec::new();
    for (rule_id, request) in input.changes {
        let rule = group
            .ingress
            .iter()
            .chain(&group.egress)
            .find(|r| r.rule_id == rule_id)
            .ok_or_else(|| not_found(IdKind::SecurityGroupRule, &rule_id))?;
        let spec = resolve_peers(ctx, &mut tx, &group, vec![request]).await?.remove(0);
        let siblings = group.rules(rule.is_egress).iter().filter(|r| r.rule_id != rule_id);
        if siblings.clone().any(|r| r.spec.same_traffic(&spec)) {
            return Err(ec2_err!(
                InvalidPermission_Duplicate,
                "the specified rule \"{}\" already exists",
                spec.describe()
            ));
        }
        updated.push(SecurityGroupRule { spec, ..rule.clone() });
    }
    ctx.check_dry_run()?;
    for rule in &updated {
        store::update_rule(&mut tx, rule).await?;
    }
    tx.commit().await?;
    Ok(Xml::return_true())
}

pub struct UpdateDescriptionsInput {
    pub group: GroupRef,
    pub by_rule_id: Vec<(String, Option<String>)>,
    pub by_permission: Vec<RuleRequest>,
}

impl UpdateDescriptionsInput {
    fn parse(p: &Params) -> Result<Self> {
        let group = parse_group_ref(p, "GroupId", "GroupName")?;
        let mut by_rule_id = Vec::new();
        for d in p.structs("SecurityGroupRuleDescriptions")? {
            let id = d.str("SecurityGroupRuleId").ok_or_else(|| Ec2Error::missing_parameter("SecurityGroupRuleId"))?;
            ids::check(IdKind::SecurityGroupRule, id)?;
            by_rule_id.push((id.to_string(), description_of(&d)?));
        }
        let by_permission = if by_rule_id.is_empty() { parse_permissions(p)? } else { Vec::new() };
        Ok(UpdateDescriptionsInput { group, by_rule_id, by_permission })
    }
}

pub struct UpdateSecurityGroupRuleDescriptionsIngressInput(UpdateDescriptionsInput);
pub struct UpdateSecurityGroupRuleDescriptionsEgressInput(UpdateDescriptionsInput);

impl FromParams for UpdateSecurityGroupRuleDescriptionsIngressInput {
    fn from_params(p: &Params) -> Result<Self> {
        UpdateDescriptionsInput::parse(p).map(Self)
    }
}

impl FromParams for UpdateSecurityGroupRuleDescriptionsEgressInput {
    fn from_params(p: &Params) -> Result<Self> {
        UpdateDescriptionsInput::parse(p).map(Self)
    }
}

pub async fn update_security_group_rule_descriptions_ingress(
    ctx: &Ctx<'_>,
    input: UpdateSecurityGroupRuleDescriptionsIngressInput,
) -> Result<Xml> {
    update_descriptions(ctx, input.0, Direction::Ingress).await
}

pub async fn update_security_group_rule_descriptions_egress(
    ctx: &Ctx<'_>,
    input: UpdateSecurityGroupRuleDescriptionsEgressInput,
) -> Result<Xml> {
    update_descriptions(ctx, input.0, Direction::Egress).await
}

async fn update_descriptions(ctx: &Ctx<'_>, input: UpdateDescriptionsInput, direction: Direction) -> Result<Xml> {
    ctx.ensure_default_network().await?;
    let mut tx = ctx.app.store.write().await?;
    let group = own_group(ctx.scope, &mut tx, &input.group).await?;
    let existing = group.rules(direction.is_egress());
    let mut updated = Vec::new();
    for (id, description) in input.by_rule_id {
        let rule =
            existing.iter().find(|r| r.rule_id == id).ok_or_else(|| not_found(IdKind::SecurityGroupRule, &id))?;
        updated.push(with_description(rule, description));
    }
    let descriptions: Vec<Option<String>> = input.by_permission.iter().map(|r| r.spec.description.clone()).collect();
    let specs = resolve_peers(ctx, &mut tx, &group, input.by_permission).await?;
    for (spec, description) in specs.iter().zip(descriptions) {
        let rule = existing.iter().find(|r| r.spec.same_traffic(spec)).ok_or_else(|| {
            ec2_err!(InvalidPermission_NotFound, "The specified rule does not exist in this security group.")
        })?;
        updated.push(with_description(rule, description));
    }
    ctx.check_dry_run()?;
    for rule in &updated {
        store::update_rule(&mut tx, rule).await?;
    }
    tx.commit().await?;
    Ok(Xml::return_true())
}

fn with_description(rule: &SecurityGroupRule, description: Option<String>) -> SecurityGroupRule {
    let mut rule = rule.clone();
    rule.spec.description = description;
    rule
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_expand_into_one_rule_per_peer() {
        let p = Params::from_pairs([
            ("IpPermissions.1.IpProtocol", "tcp"),
            ("IpPermissions.1.FromPort", "443"),
            ("IpPermissions.1.ToPort", "443"),
            ("IpPermissions.1.IpRanges.1.CidrIp", "10.0.0.0/8"),
            ("IpPermissions.1.IpRanges.1.Description", "office"),
            ("IpPermissions.1.Ipv6Ranges.1.CidrIpv6", "::/0"),
            ("IpPermissions.1.Groups.1.GroupId", "sg-0123456789abcdef0"),
            ("IpPermissions.2.IpProtocol", "-1"),
            ("IpPermissions.2.FromPort", "0"),
            ("IpPermissions.2.ToPort", "0"),
            ("IpPermissions.2.PrefixListIds.1.PrefixListId", "pl-63a5400a"),
        ]);
        let rules = parse_permissions(&p).unwrap();
        assert_eq!(rules.len(), 4);
        assert_eq!(rules[0].spec.description.as_deref(), Some("office"));
        assert_eq!((rules[3].spec.protocol.as_str(), rules[3].spec.from_port), ("-1", None));
    }

    #[test]
    fn flat_members_still_work() {
        let p =
            Params::from_pairs([("IpProtocol", "tcp"), ("FromPort", "22"), ("ToPort", "22"), ("CidrIp", "1.2.3.4/32")]);
        let rules = parse_permissions(&p).unwrap();
        assert_eq!(rules[0].spec.peer, Peer::Ipv4("1.2.3.4/32".into()));
    }

    #[test]
    fn hostile_permissions_get_ec2_errors() {
        let bad = |pairs: &[(&str, &str)]| parse_permissions(&Params::from_pairs(pairs.iter().copied())).unwrap_err();
        let err = bad(&[("IpPermissions.1.IpProtocol", "tcp"), ("IpPermissions.1.IpRanges.1.CidrIp", "0.0.0.0/0")]);
        assert_eq!(err.code, "InvalidParameterValue");
        let err = bad(&[
            ("IpPermissions.1.IpProtocol", "tcp"),
            ("IpPermissions.1.FromPort", "1"),
            ("IpPermissions.1.ToPort", "1"),
            ("IpPermissions.1.IpRanges.1.CidrIp", "300.0.0.0/8"),
        ]);
        assert_eq!(err.message, "CIDR block 300.0.0.0/8 is malformed");
        let err = bad(&[("IpPermissions.1.IpProtocol", "-1")]);
        assert_eq!(err.code, "InvalidParameterValue");
    }

    #[test]
    fn modified_rules_name_exactly_one_peer() {
        let p = Params::from_pairs([
            ("GroupId", "sg-0123456789abcdef0"),
            ("SecurityGroupRule.1.SecurityGroupRuleId", "sgr-0123456789abcdef0"),
            ("SecurityGroupRule.1.SecurityGroupRule.IpProtocol", "tcp"),
            ("SecurityGroupRule.1.SecurityGroupRule.FromPort", "80"),
            ("SecurityGroupRule.1.SecurityGroupRule.ToPort", "80"),
        ]);
        assert_eq!(ModifySecurityGroupRulesInput::from_params(&p).err().unwrap().code, "InvalidParameterCombination");
    }
}
