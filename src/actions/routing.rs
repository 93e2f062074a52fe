//! Internet gateways (Create/Attach/Detach/Delete/DescribeInternetGateways), route tables
//! (Create/Delete/DescribeRouteTables, Associate/DisassociateRouteTable,
//! ReplaceRouteTableAssociation), routes (Create/Replace/DeleteRoute) and the default
//! network ACLs (DescribeNetworkAcls).

use super::{Ctx, FromParams};
use crate::domain::filter::Filter;
use crate::domain::ids::{self, IdKind};
use crate::domain::network::routing::{
    self as rules, check_association_id, different_networks, local_routes, new_association_id, Destination,
    InternetGateway, Route, RouteTable, RouteTableAssociation, RouteTarget, UNSUPPORTED_TARGETS,
};
use crate::domain::network::{Subnet, Vpc};
use crate::domain::tags::{self as tag_rules, Tag};
use crate::ec2_err;
use crate::error::{Ec2Error, Result};
use crate::store::filters::{FilterSpec, Page};
use crate::store::network::routing::{self as store, Query};
use crate::store::network::{not_found, vpcs};
use crate::store::{tags, Conn};
use crate::wire::params::Params;
use crate::wire::query::{dedup, parse_filters, parse_page, parse_tag_specs, write_next_token};
use crate::wire::shapes::routing::{
    write_association_state, write_internet_gateway, write_network_acl, write_route_table,
};
use crate::wire::xml::Xml;

/// The ids, filters and page of a Describe call.
pub struct DescribeInput {
    pub ids: Vec<String>,
    pub filters: Vec<Filter>,
    pub page: Page,
}

impl DescribeInput {
    /// `<member>.N` ids of `kind`, `Filter.N` checked against `spec`, and the page
    /// (`MaxResults` from 5 to `max`).
    fn parse(p: &Params, member: &str, kind: IdKind, spec: &FilterSpec, ids_element: &str, max: i64) -> Result<Self> {
        let ids = dedup(p.list(member)?);
        ids::check_all(kind, &ids)?;
        let filters = parse_filters(p, "Filter")?;
        spec.validate(&filters)?;
        let page = parse_page(p, !ids.is_empty(), ids_element, 5, max)?;
        Ok(DescribeInput { ids, filters, page })
    }

    fn query<'a>(&'a self, ctx: &'a Ctx<'_>) -> Query<'a> {
        Query {
            account: ctx.scope.account,
            region: ctx.scope.region,
            ids: &self.ids,
            filters: &self.filters,
            page: &self.page,
        }
    }

    /// Without filters, an id asked for that was not found is an error.
    fn check_found(&self, kind: IdKind, found: impl Fn(&str) -> bool) -> Result<()> {
        match self.ids.iter().find(|id| !found(id)) {
            Some(missing) if self.filters.is_empty() => Err(not_found(kind, missing)),
            _ => Ok(()),
        }
    }
}

/// `name`, required and a well-formed id of `kind`.
fn required_id(p: &Params, name: &str, kind: IdKind) -> Result<String> {
    let id = p.required(name)?;
    ids::check(kind, id)?;
    Ok(id.to_string())
}

async fn owned_vpc(ctx: &Ctx<'_>, conn: &mut Conn, vpc_id: &str) -> Result<Vpc> {
    vpcs::find_vpc(conn, ctx.scope.account, ctx.scope.region, vpc_id)
        .await?
        .ok_or_else(|| not_found(IdKind::Vpc, vpc_id))
}

async fn owned_subnet(ctx: &Ctx<'_>, conn: &mut Conn, subnet_id: &str) -> Result<Subnet> {
    vpcs::find_subnet(conn, ctx.scope.account, ctx.scope.region, subnet_id)
        .await?
        .ok_or_else(|| not_found(IdKind::Subnet, subnet_id))
}

async fn owned_gateway(ctx: &Ctx<'_>, conn: &mut Conn, id: &str) -> Result<InternetGateway> {
    store::find_gateway(conn, ctx.scope.account, ctx.scope.region, id)
        .await?
        .ok_or_else(|| not_found(IdKind::InternetGateway, id))
}

async fn owned_table(ctx: &Ctx<'_>, conn: &mut Conn, id: &str) -> Result<RouteTable> {
    store::find_route_table(conn, ctx.scope.account, ctx.scope.region, id)
        .await?
        .ok_or_else(|| not_found(IdKind::RouteTable, id))
}

async fn owned_association(ctx: &Ctx<'_>, conn: &mut Conn, id: &str) -> Result<RouteTableAssociation> {
    store::find_association(conn, ctx.scope.account, ctx.scope.region, id)
        .await?
        .ok_or_else(|| rules::association_not_found(id))
}

fn tags_of(tags: &[Tag]) -> Vec<(String, String)> {
    tags.iter().map(|t| (t.key.clone(), t.value.clone())).collect()
}

// Internet gateways.

pub struct CreateInternetGatewayInput {
    pub tags: Vec<Tag>,
}

impl FromParams for CreateInternetGatewayInput {
    fn from_params(p: &Params) -> Result<Self> {
        let tags = tag_rules::for_type(&parse_tag_specs(p)?, &["internet-gateway"], "internet-gateway")?;
        Ok(CreateInternetGatewayInput { tags })
    }
}

pub async fn create_internet_gateway(ctx: &Ctx<'_>, input: CreateInternetGatewayInput) -> Result<Xml> {
    ctx.ensure_default_network().await?;
    ctx.check_dry_run()?;
    let (account, region) = (ctx.scope.account, ctx.scope.region);
    let igw = InternetGateway {
        internet_gateway_id: ids::new_id(IdKind::InternetGateway),
        owner_id: account.to_string(),
        vpc_id: None,
        tags: tags_of(&input.tags),
    };
    let mut tx = ctx.app.store.write().await?;
    store::insert_gateway(&mut tx, &igw, region, ctx.now).await?;
    tags::upsert(&mut tx, account, region, &igw.internet_gateway_id, "internet-gateway", &input.tags, ctx.now).await?;
    tx.commit().await?;
    let mut x = Xml::new();
    x.open("internetGateway");
    write_internet_gateway(&mut x, &igw);
    x.close("internetGateway");
    Ok(x)
}

/// An internet gateway and a VPC (AttachInternetGateway, DetachInternetGateway).
pub struct InternetGatewayVpcInput {
    pub internet_gateway_id: String,
    pub vpc_id: String,
}

impl FromParams for InternetGatewayVpcInput {
    fn from_params(p: &Params) -> Result<Self> {
        Ok(InternetGatewayVpcInput {
            internet_gateway_id: required_id(p, "InternetGatewayId", IdKind::InternetGateway)?,
            vpc_id: required_id(p, "VpcId", IdKind::Vpc)?,
        })
    }
}

pub type AttachInternetGatewayInput = InternetGatewayVpcInput;
pub type DetachInternetGatewayInput = InternetGatewayVpcInput;

/// Attaches a detached gateway to a VPC without one.
pub async fn attach_internet_gateway(ctx: &Ctx<'_>, input: AttachInternetGatewayInput) -> Result<Xml> {
    ctx.ensure_default_network().await?;
    let mut tx = ctx.app.store.write().await?;
    let igw = owned_gateway(ctx, &mut tx, &input.internet_gateway_id).await?;
    let vpc = owned_vpc(ctx, &mut tx, &input.vpc_id).await?;
    if let Some(attached) = &igw.vpc_id {
        return Err(ec2_err!(
            Resource_AlreadyAssociated,
            "resource {} is already attached to network {attached}",
            igw.internet_gateway_id
        ));
    }
    if store::gateway_of_vpc(&mut tx, &vpc.vpc_id).await?.is_some() {
        return Err(ec2_err!(InvalidParameterValue, "Network {} already has an internet gateway attached", vpc.vpc_id));
    }
    ctx.check_dry_run()?;
    store::set_gateway_vpc(&mut tx, &igw.internet_gateway_id, Some(&vpc.vpc_id)).await?;
    tx.commit().await?;
    Ok(Xml::return_true())
}

/// Detaches a gateway from its VPC, unless something there still has a public address.
pub async fn detach_internet_gateway(ctx: &Ctx<'_>, input: DetachInternetGatewayInput) -> Result<Xml> {
    ctx.ensure_default_network().await?;
    let mut tx = ctx.app.store.write().await?;
    let igw = owned_gateway(ctx, &mut tx, &input.internet_gateway_id).await?;
    let vpc = owned_vpc(ctx, &mut tx, &input.vpc_id).await?;
    if igw.vpc_id.as_deref() != Some(vpc.vpc_id.as_str()) {
        return Err(ec2_err!(
            Gateway_NotAttached,
            "resource {} is not attached to network {}",
            igw.internet_gateway_id,
            vpc.vpc_id
        ));
    }
    if store::vpc_has_public_addresses(&mut tx, &vpc.vpc_id).await? {
        return Err(ec2_err!(
            DependencyViolation,
            "Network {} has some mapped public address(es). Please unmap those public address(es) before detaching \
             the gateway.",
            vpc.vpc_id
        ));
    }
    ctx.check_dry_run()?;
    store::set_gateway_vpc(&mut tx, &igw.internet_gateway_id, None).await?;
    tx.commit().await?;
    Ok(Xml::return_true())
}

pub struct DeleteInternetGatewayInput {
    pub internet_gateway_id: String,
}

impl FromParams for DeleteInternetGatewayInput {
    fn from_params(p: &Params) -> Result<Self> {
        Ok(DeleteInternetGatewayInput {
            internet_gateway_id: required_id(p, "InternetGatewayId", IdKind::InternetGateway)?,
        })
    }
}

pub async fn delete_internet_gateway(ctx: &Ctx<'_>, input: DeleteInternetGatewayInput) -> Result<Xml> {
    ctx.ensure_default_network().await?;
    let mut tx = ctx.app.store.write().await?;
    let igw = owned_gateway(ctx, &mut tx, &input.internet_gateway_id).await?;
    if igw.vpc_id.is_some() {
        return Err(ec2_err!(
            DependencyViolation,
            "The internetGateway '{}' has dependencies and cannot be deleted.",
            igw.internet_gateway_id
        ));
    }
    ctx.check_dry_run()?;
    store::delete_gateway(&mut tx, &igw.internet_gateway_id).await?;
    tx.commit().await?;
    Ok(Xml::return_true())
}

pub struct DescribeInternetGatewaysInput(pub DescribeInput);

impl FromParams for DescribeInternetGatewaysInput {
    fn from_params(p: &Params) -> Result<Self> {
        let spec = &store::INTERNET_GATEWAY_FILTERS;
        DescribeInput::parse(p, "InternetGatewayId", IdKind::InternetGateway, spec, "internetGatewayIds", 1000)
            .map(DescribeInternetGatewaysInput)
    }
}

pub async fn describe_internet_gateways(
    ctx: &Ctx<'_>,
    DescribeInternetGatewaysInput(input): DescribeInternetGatewaysInput,
) -> Result<Xml> {
    ctx.ensure_default_network().await?;
    ctx.check_dry_run()?;
    let (gateways, next) = store::describe_gateways(&mut *ctx.app.store.read().await?, &input.query(ctx)).await?;
    input.check_found(IdKind::InternetGateway, |id| gateways.iter().any(|g| g.internet_gateway_id == id))?;
    let mut x = Xml::new();
    x.list("internetGatewaySet", &gateways, write_internet_gateway);
    write_next_token(&mut x, next);
    Ok(x)
}

// Route tables and their associations.

pub struct CreateRouteTableInput {
    pub vpc_id: String,
    pub tags: Vec<Tag>,
    pub client_token: Option<String>,
}

impl FromParams for CreateRouteTableInput {
    fn from_params(p: &Params) -> Result<Self> {
        Ok(CreateRouteTableInput {
            vpc_id: required_id(p, "VpcId", IdKind::Vpc)?,
            tags: tag_rules::for_type(&parse_tag_specs(p)?, &["route-table"], "route-table")?,
            client_token: p.str("ClientToken").map(str::to_string),
        })
    }
}

/// A new route table of a VPC, with its local routes and no association.
pub async fn create_route_table(ctx: &Ctx<'_>, input: CreateRouteTableInput) -> Result<Xml> {
    ctx.ensure_default_network().await?;
    let (account, region) = (ctx.scope.account, ctx.scope.region);
    let mut tx = ctx.app.store.write().await?;
    let vpc = owned_vpc(ctx, &mut tx, &input.vpc_id).await?;
    if store::count_route_tables(&mut tx, &vpc.vpc_id).await? >= rules::MAX_ROUTE_TABLES_PER_VPC {
        return Err(ec2_err!(RouteTableLimitExceeded, "The maximum number of route tables has been reached."));
    }
    ctx.check_dry_run()?;
    let table = RouteTable {
        route_table_id: ids::new_id(IdKind::RouteTable),
        owner_id: account.to_string(),
        routes: local_routes(&vpc),
        vpc_id: vpc.vpc_id,
        associations: Vec::new(),
        tags: tags_of(&input.tags),
    };
    store::insert_route_table(&mut tx, &table, region, ctx.now).await?;
    tags::upsert(&mut tx, account, region, &table.route_table_id, "route-table", &input.tags, ctx.now).await?;
    tx.commit().await?;
    let mut x = Xml::new();
    x.open("routeTable");
    write_route_table(&mut x, &table);
    x.close("routeTable");
    x.opt_text("clientToken", input.client_token.as_deref());
    Ok(x)
}

pub struct DeleteRouteTableInput {
    pub route_table_id: String,
}

impl FromParams for DeleteRouteTableInput {
    fn from_params(p: &Params) -> Result<Self> {
        Ok(DeleteRouteTableInput { route_table_id: required_id(p, "RouteTableId", IdKind::RouteTable)? })
    }
}

/// Deletes a route table that nothing is associated with (so never a main one).
pub async fn delete_route_table(ctx: &Ctx<'_>, input: DeleteRouteTableInput) -> Result<Xml> {
    ctx.ensure_default_network().await?;
    let mut tx = ctx.app.store.write().await?;
    let table = owned_table(ctx, &mut tx, &input.route_table_id).await?;
    if !table.associations.is_empty() {
        return Err(ec2_err!(
            DependencyViolation,
            "The routeTable '{}' has dependencies and cannot be deleted.",
            table.route_table_id
        ));
    }
    ctx.check_dry_run()?;
    store::delete_route_table(&mut tx, &table.route_table_id).await?;
    tx.commit().await?;
    Ok(Xml::return_true())
}

pub struct DescribeRouteTablesInput(pub DescribeInput);

impl FromParams for DescribeRouteTablesInput {
    fn from_params(p: &Params) -> Result<Self> {
        DescribeInput::parse(p, "RouteTableId", IdKind::RouteTable, &store::ROUTE_TABLE_FILTERS, "routeTableIds", 100)
            .map(DescribeRouteTablesInput)
    }
}

pub async fn describe_route_tables(
    ctx: &Ctx<'_>,
    DescribeRouteTablesInput(input): DescribeRouteTablesInput,
) -> Result<Xml> {
    ctx.ensure_default_network().await?;
    ctx.check_dry_run()?;
    let (tables, next) = store::describe_route_tables(&mut *ctx.app.store.read().await?, &input.query(ctx)).await?;
    input.check_found(IdKind::RouteTable, |id| tables.iter().any(|t| t.route_table_id == id))?;
    let mut x = Xml::new();
    x.list("routeTableSet", &tables, write_route_table);
    write_next_token(&mut x, next);
    Ok(x)
}

pub struct AssociateRouteTableInput {
    pub route_table_id: String,
    pub subnet_id: String,
}

impl FromParams for AssociateRouteTableInput {
    fn from_params(p: &Params) -> Result<Self> {
        let route_table_id = required_id(p, "RouteTableId", IdKind::RouteTable)?;
        if p.has("GatewayId") {
            return Err(ec2_err!(UnsupportedOperation, "Gateway route tables are not implemented by ec2lite."));
        }
        let subnet_id = p.str("SubnetId").ok_or_else(|| {
            ec2_err!(MissingParameter, "The request must contain the parameter subnetId or gatewayId")
        })?;
        ids::check(IdKind::Subnet, subnet_id)?;
        Ok(AssociateRouteTableInput { route_table_id, subnet_id: subnet_id.to_string() })
    }
}

/// Associates a subnet that has no explicit association yet with a table of its VPC.
pub async fn associate_route_table(ctx: &Ctx<'_>, input: AssociateRouteTableInput) -> Result<Xml> {
    ctx.ensure_default_network().await?;
    let mut tx = ctx.app.store.write().await?;
    let table = owned_table(ctx, &mut tx, &input.route_table_id).await?;
    let subnet = owned_subnet(ctx, &mut tx, &input.subnet_id).await?;
    if subnet.vpc_id != table.vpc_id {
        return Err(different_networks(&table.route_table_id, "subnet", &subnet.subnet_id));
    }
    if store::association_of_subnet(&mut tx, &subnet.subnet_id).await?.is_some() {
        return Err(ec2_err!(
            Resource_AlreadyAssociated,
            "the specified association for route table {} conflicts with an existing association",
            table.route_table_id
        ));
    }
    ctx.check_dry_run()?;
    let association = RouteTableAssociation {
        association_id: new_association_id(),
        route_table_id: table.route_table_id,
        vpc_id: table.vpc_id,
        subnet_id: Some(subnet.subnet_id),
        main: false,
    };
    store::insert_association(&mut tx, &association).await?;
    tx.commit().await?;
    let mut x = Xml::new();
    x.text("associationId", &association.association_id);
    write_association_state(&mut x);
    Ok(x)
}

pub struct DisassociateRouteTableInput {
    pub association_id: String,
}

impl FromParams for DisassociateRouteTableInput {
    fn from_params(p: &Params) -> Result<Self> {
        let association_id = p.required("AssociationId")?;
        check_association_id(association_id)?;
        Ok(DisassociateRouteTableInput { association_id: association_id.to_string() })
    }
}

/// Ends a subnet's explicit association: the subnet falls back to the main table.
pub async fn disassociate_route_table(ctx: &Ctx<'_>, input: DisassociateRouteTableInput) -> Result<Xml> {
    ctx.ensure_default_network().await?;
    let mut tx = ctx.app.store.write().await?;
    let association = owned_association(ctx, &mut tx, &input.association_id).await?;
    if association.main {
        return Err(ec2_err!(
            InvalidParameterValue,
            "cannot disassociate the main route table association {}",
            association.association_id
        ));
    }
    ctx.check_dry_run()?;
    store::delete_association(&mut tx, &association.association_id).await?;
    tx.commit().await?;
    Ok(Xml::return_true())
}

pub struct ReplaceRouteTableAssociationInput {
    pub association_id: String,
    pub route_table_id: String,
}

impl FromParams for ReplaceRouteTableAssociationInput {
    fn from_params(p: &Params) -> Result<Self> {
        let DisassociateRouteTableInput { association_id } = DisassociateRouteTableInput::from_params(p)?;
        Ok(ReplaceRouteTableAssociationInput {
            association_id,
            route_table_id: required_id(p, "RouteTableId", IdKind::RouteTable)?,
        })
    }
}

/// Moves an association (a subnet's, or the VPC's main one) to another table of the
/// same VPC; the association gets a new id.
pub async fn replace_route_table_association(ctx: &Ctx<'_>, input: ReplaceRouteTableAssociationInput) -> Result<Xml> {
    ctx.ensure_default_network().await?;
    let mut tx = ctx.app.store.write().await?;
    let association = owned_association(ctx, &mut tx, &input.association_id).await?;
    let table = owned_table(ctx, &mut tx, &input.route_table_id).await?;
    if table.vpc_id != association.vpc_id {
        return Err(different_networks(&table.route_table_id, "association", &association.association_id));
    }
    ctx.check_dry_run()?;
    let new_id = new_association_id();
    store::replace_association(&mut tx, &association.association_id, &new_id, &table.route_table_id).await?;
    tx.commit().await?;
    let mut x = Xml::new();
    x.text("newAssociationId", &new_id);
    write_association_state(&mut x);
    Ok(x)
}

// Routes.

/// The route table and destination every route action names.
fn route_key(p: &Params) -> Result<(String, Destination)> {
    let route_table_id = required_id(p, "RouteTableId", IdKind::RouteTable)?;
    if p.has("DestinationPrefixListId") {
        return Err(ec2_err!(UnsupportedOperation, "Prefix lists are not implemented by ec2lite."));
    }
    let destination = Destination::parse(p.str("DestinationCidrBlock"), p.str("DestinationIpv6CidrBlock"))?;
    Ok((route_table_id, destination))
}

/// A route to create or replace: table, destination and target (CreateRoute, ReplaceRoute).
pub struct RouteInput {
    pub route_table_id: String,
    pub destination: Destination,
    pub target: RouteTarget,
}

impl FromParams for RouteInput {
    fn from_params(p: &Params) -> Result<Self> {
        let (route_table_id, destination) = route_key(p)?;
        if let Some(member) = UNSUPPORTED_TARGETS.iter().find(|m| p.has(m)) {
            return Err(ec2_err!(
                UnsupportedOperation,
                "Route targets of type {member} are not implemented by ec2lite."
            ));
        }
        let target = RouteTarget::from_members(p.str("GatewayId"), p.str("InstanceId"), p.str("NetworkInterfaceId"))?;
        match &target {
            RouteTarget::Instance(id) => ids::check(IdKind::Instance, id)?,
            RouteTarget::NetworkInterface(id) => ids::check(IdKind::NetworkInterface, id)?,
            RouteTarget::Gateway(_) => {}
        }
        Ok(RouteInput { route_table_id, destination, target })
    }
}

pub type CreateRouteInput = RouteInput;
pub type ReplaceRouteInput = RouteInput;

/// The route `input` asks for, once its target is found in the table's VPC. Gateways
/// cannot take traffic meant for the VPC itself.
async fn resolve_route(ctx: &Ctx<'_>, conn: &mut Conn, table: &RouteTable, input: &RouteInput) -> Result<Route> {
    let (account, region) = (ctx.scope.account, ctx.scope.region);
    let table_id = table.route_table_id.as_str();
    let mut route = Route {
        destination: input.destination.to_string(),
        origin: "CreateRoute".to_string(),
        state: "active".to_string(),
        ..Default::default()
    };
    match &input.target {
        RouteTarget::Gateway(id) => {
            let gateway = match id.starts_with("igw-") {
                true => store::find_gateway(conn, account, region, id).await?,
                false => None,
            };
            let gateway =
                gateway.ok_or_else(|| ec2_err!(InvalidGatewayID_NotFound, "The gateway ID '{id}' does not exist"))?;
            if gateway.vpc_id.as_deref() != Some(table.vpc_id.as_str()) {
                return Err(different_networks(table_id, "network gateway", id));
            }
            let vpc = owned_vpc(ctx, conn, &table.vpc_id).await?;
            if input.destination.inside_vpc(&vpc) {
                return Err(ec2_err!(
                    InvalidParameterValue,
                    "The destination CIDR block {} is equal to or more specific than one of this VPC's CIDR blocks. \
                     This route can target only an interface or an instance.",
                    input.destination
                ));
            }
            route.gateway_id = Some(id.clone());
        }
        RouteTarget::Instance(id) => {
            let instance = store::find_instance_target(conn, account, region, id)
                .await?
                .ok_or_else(|| Ec2Error::instance_not_found(&[id]))?;
            if instance.vpc_id != table.vpc_id {
                return Err(different_networks(table_id, "instance", id));
            }
            if instance.interfaces > 1 {
                return Err(ec2_err!(
                    InvalidInstanceID,
                    "There are multiple interfaces attached to instance '{id}'. Please specify an interface ID for \
                     the operation instead."
                ));
            }
            route.instance_id = Some(id.clone());
        }
        RouteTarget::NetworkInterface(id) => {
            let vpc = store::interface_vpc(conn, account, region, id)
                .await?
                .ok_or_else(|| not_found(IdKind::NetworkInterface, id))?;
            if vpc != table.vpc_id {
                return Err(different_networks(table_id, "interface", id));
            }
            route.network_interface_id = Some(id.clone());
        }
    }
    Ok(route)
}

pub async fn create_route(ctx: &Ctx<'_>, input: CreateRouteInput) -> Result<Xml> {
    ctx.ensure_default_network().await?;
    let mut tx = ctx.app.store.write().await?;
    let table = owned_table(ctx, &mut tx, &input.route_table_id).await?;
    if table.route(&input.destination.to_string()).is_some() {
        return Err(ec2_err!(RouteAlreadyExists, "The route identified by {} already exists.", input.destination));
    }
    let route = resolve_route(ctx, &mut tx, &table, &input).await?;
    if table.is_full() {
        return Err(ec2_err!(RouteLimitExceeded, "The maximum number of routes has been reached."));
    }
    ctx.check_dry_run()?;
    store::insert_route(&mut tx, &table.route_table_id, &route).await?;
    tx.commit().await?;
    Ok(Xml::return_true())
}

/// Points an existing route (not a local one) at another target.
pub async fn replace_route(ctx: &Ctx<'_>, input: ReplaceRouteInput) -> Result<Xml> {
    ctx.ensure_default_network().await?;
    let mut tx = ctx.app.store.write().await?;
    let table = owned_table(ctx, &mut tx, &input.route_table_id).await?;
    let destination = input.destination.to_string();
    let existing = table.route(&destination).ok_or_else(|| {
        ec2_err!(
            InvalidParameterValue,
            "There is no route defined for '{destination}' in the route table. Use CreateRoute instead."
        )
    })?;
    if existing.is_local() {
        return Err(ec2_err!(
            InvalidParameterValue,
            "cannot replace local route {destination} in route table {}",
            table.route_table_id
        ));
    }
    let route = resolve_route(ctx, &mut tx, &table, &input).await?;
    ctx.check_dry_run()?;
    store::replace_route_target(&mut tx, &table.route_table_id, &route).await?;
    tx.commit().await?;
    Ok(Xml::return_true())
}

pub struct DeleteRouteInput {
    pub route_table_id: String,
    pub destination: Destination,
}

impl FromParams for DeleteRouteInput {
    fn from_params(p: &Params) -> Result<Self> {
        let (route_table_id, destination) = route_key(p)?;
        Ok(DeleteRouteInput { route_table_id, destination })
    }
}

pub async fn delete_route(ctx: &Ctx<'_>, input: DeleteRouteInput) -> Result<Xml> {
    ctx.ensure_default_network().await?;
    let mut tx = ctx.app.store.write().await?;
    let table = owned_table(ctx, &mut tx, &input.route_table_id).await?;
    let destination = input.destination.to_string();
    let route = table.route(&destination).ok_or_else(|| {
        ec2_err!(
            InvalidRoute_NotFound,
            "no route with {} {destination} in route table {}",
            input.destination.parameter(),
            table.route_table_id
        )
    })?;
    if route.is_local() {
        return Err(ec2_err!(
            InvalidParameterValue,
            "cannot remove local route {destination} in route table {}",
            table.route_table_id
        ));
    }
    ctx.check_dry_run()?;
    store::delete_route(&mut tx, &table.route_table_id, &destination).await?;
    tx.commit().await?;
    Ok(Xml::return_true())
}

// Network ACLs.

pub struct DescribeNetworkAclsInput(pub DescribeInput);

impl FromParams for DescribeNetworkAclsInput {
    fn from_params(p: &Params) -> Result<Self> {
        DescribeInput::parse(p, "NetworkAclId", IdKind::NetworkAcl, &store::NETWORK_ACL_FILTERS, "networkAclIds", 100)
            .map(DescribeNetworkAclsInput)
    }
}

pub async fn describe_network_acls(
    ctx: &Ctx<'_>,
    DescribeNetworkAclsInput(input): DescribeNetworkAclsInput,
) -> Result<Xml> {
    ctx.ensure_default_network().await?;
    ctx.check_dry_run()?;
    let (acls, next) = store::describe_network_acls(&mut *ctx.app.store.read().await?, &input.query(ctx)).await?;
    input.check_found(IdKind::NetworkAcl, |id| acls.iter().any(|a| a.network_acl_id == id))?;
    let mut x = Xml::new();
    x.list("networkAclSet", &acls, write_network_acl);
    write_next_token(&mut x, next);
    Ok(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params::from_pairs(pairs.iter().copied())
    }

    const TABLE: (&str, &str) = ("RouteTableId", "rtb-0123456789abcdef0");

    #[test]
    fn route_inputs_name_a_destination_and_one_target() {
        let input = RouteInput::from_params(&params(&[
            TABLE,
            ("DestinationCidrBlock", "0.0.0.0/0"),
            ("GatewayId", "igw-0123456789abcdef0"),
        ]))
        .unwrap();
        assert_eq!(input.target, RouteTarget::Gateway("igw-0123456789abcdef0".into()));
        assert_eq!(input.destination.to_string(), "0.0.0.0/0");
        let code = |pairs: &[(&str, &str)]| RouteInput::from_params(&params(pairs)).err().unwrap().code;
        assert_eq!(code(&[TABLE, ("DestinationCidrBlock", "0.0.0.0/0")]), "MissingParameter");
        assert_eq!(code(&[TABLE, ("GatewayId", "igw-0123456789abcdef0")]), "MissingParameter");
        assert_eq!(
            code(&[TABLE, ("DestinationCidrBlock", "0.0.0.0/0"), ("InstanceId", "i-xyz")]),
            "InvalidInstanceID.Malformed"
        );
        assert_eq!(
            code(&[TABLE, ("DestinationCidrBlock", "0.0.0.0/0"), ("NetworkInterfaceId", "eni-?")]),
            "InvalidNetworkInterfaceId.Malformed"
        );
        assert_eq!(
            code(&[TABLE, ("DestinationCidrBlock", "0.0.0.0/0"), ("NatGatewayId", "nat-1")]),
            "UnsupportedOperation"
        );
        assert_eq!(
            code(&[("RouteTableId", "rtb-x"), ("DestinationCidrBlock", "0.0.0.0/0"), ("GatewayId", "igw-1")]),
            "InvalidRouteTableId.Malformed"
        );
    }

    #[test]
    fn delete_route_needs_only_the_destination() {
        let input = DeleteRouteInput::from_params(&params(&[TABLE, ("DestinationIpv6CidrBlock", "::/0")])).unwrap();
        assert_eq!(input.destination.to_string(), "::/0");
        assert_eq!(DeleteRouteInput::from_params(&params(&[TABLE])).err().unwrap().code, "MissingParameter");
    }

    #[test]
    fn describe_inputs_check_ids_filters_and_pages() {
        let p = params(&[
            ("RouteTableId.1", "rtb-0123456789abcdef0"),
            ("Filter.1.Name", "association.main"),
            ("Filter.1.Value.1", "true"),
        ]);
        let DescribeRouteTablesInput(input) = DescribeRouteTablesInput::from_params(&p).unwrap();
        assert_eq!((input.ids.len(), input.filters[0].name.as_str()), (1, "association.main"));
        let p = params(&[("Filter.1.Name", "route.target"), ("Filter.1.Value.1", "x")]);
        assert_eq!(
            DescribeRouteTablesInput::from_params(&p).err().unwrap().message,
            "The filter 'route.target' is invalid"
        );
        let p = params(&[("NetworkAclId.1", "acl-0123456789abcdef0"), ("MaxResults", "10")]);
        assert_eq!(DescribeNetworkAclsInput::from_params(&p).err().unwrap().code, "InvalidParameterCombination");
        let p = params(&[("Filter.1.Name", "default"), ("Filter.1.Value.1", "true"), ("MaxResults", "5")]);
        assert!(DescribeNetworkAclsInput::from_params(&p).is_ok());
        let p = params(&[("InternetGatewayId.1", "vpc-0123456789abcdef0")]);
        assert_eq!(
            DescribeInternetGatewaysInput::from_params(&p).err().unwrap().code,
            "InvalidInternetGatewayId.Malformed"
        );
        let p = params(&[("Filter.1.Name", "attachment.vpc-id"), ("Filter.1.Value.1", "vpc-1"), ("MaxResults", "4")]);
        assert_eq!(DescribeInternetGatewaysInput::from_params(&p).err().unwrap().code, "InvalidParameterValue");
    }

    #[test]
    fn gateway_and_association_inputs() {
        let input = AttachInternetGatewayInput::from_params(&params(&[
            ("InternetGatewayId", "igw-0123456789abcdef0"),
            ("VpcId", "vpc-0123456789abcdef0"),
        ]))
        .unwrap();
        assert_eq!(input.vpc_id, "vpc-0123456789abcdef0");
        let missing =
            DetachInternetGatewayInput::from_params(&params(&[("InternetGatewayId", "igw-0123456789abcdef0")]));
        assert_eq!(missing.err().unwrap().code, "MissingParameter");
        let tags = CreateInternetGatewayInput::from_params(&params(&[
            ("TagSpecification.1.ResourceType", "vpc"),
            ("TagSpecification.1.Tag.1.Key", "k"),
        ]));
        assert_eq!(tags.err().unwrap().code, "InvalidParameterValue");
        let bad = DisassociateRouteTableInput::from_params(&params(&[("AssociationId", "rtb-0123456789abcdef0")]));
        assert_eq!(bad.err().unwrap().code, "InvalidAssociationID.Malformed");
        let no_subnet = AssociateRouteTableInput::from_params(&params(&[TABLE]));
        assert_eq!(no_subnet.err().unwrap().code, "MissingParameter");
        let input = ReplaceRouteTableAssociationInput::from_params(&params(&[
            TABLE,
            ("AssociationId", "rtbassoc-0123456789abcdef0"),
        ]))
        .unwrap();
        assert_eq!(input.route_table_id, "rtb-0123456789abcdef0");
    }
}
