//! DescribeRegions and DescribeAvailabilityZones, over the static region table.

use super::Ctx;
use crate::domain::filter::filter_in_memory;
use crate::domain::regions::{self, Region, Zone, REGIONS};
use crate::ec2_err;
use crate::error::Result;
use crate::wire::params::Params;
use crate::wire::query::parse_filters;
use crate::wire::xml::Xml;

fn opt_in_status(ctx: &Ctx<'_>, region: &Region) -> &'static str {
    match (region.opt_in, ctx.app.directory.region_enabled(ctx.scope.account, region)) {
        (false, _) => "opt-in-not-required",
        (true, true) => "opted-in",
        (true, false) => "not-opted-in",
    }
}

/// Read by the handler until this action has a typed input.
pub type DescribeRegionsInput = Params;

pub async fn describe_regions(ctx: &Ctx<'_>, p: DescribeRegionsInput) -> Result<Xml> {
    let p = &p;
    let names = p.list("RegionName")?;
    let filters = parse_filters(p, "Filter")?;
    let all = p.flag("AllRegions")?;
    let mut regions: Vec<&Region> = Vec::new();
    for name in &names {
        regions.push(regions::find(name).ok_or_else(|| ec2_err!(InvalidParameterValue, "Invalid region: {name}"))?);
    }
    if names.is_empty() {
        regions = REGIONS.iter().filter(|r| all || ctx.app.directory.region_enabled(ctx.scope.account, r)).collect();
    }
    let regions = filter_in_memory(regions, &filters, &["endpoint", "opt-in-status", "region-name"], |r, name| {
        vec![match name {
            "endpoint" => endpoint(r),
            "opt-in-status" => opt_in_status(ctx, r).to_string(),
            _ => r.name.to_string(),
        }]
    })?;
    ctx.check_dry_run()?;
    let mut x = Xml::new();
    write_regions(&mut x, &regions, |r| opt_in_status(ctx, r));
    Ok(x)
}

fn endpoint(region: &Region) -> String {
    format!("ec2.{}.amazonaws.com", region.name)
}

pub fn write_regions(x: &mut Xml, regions: &[&Region], status: impl Fn(&Region) -> &'static str) {
    x.list("regionInfo", regions, |x, r| {
        x.text("regionName", r.name).text("regionEndpoint", &endpoint(r)).text("optInStatus", status(r));
    });
}

const ZONE_FILTERS: &[&str] = &[
    "group-name",
    "message",
    "network-border-group",
    "opt-in-status",
    "parent-zone-id",
    "parent-zone-name",
    "region-name",
    "state",
    "zone-id",
    "zone-name",
    "zone-type",
];

/// Read by the handler until this action has a typed input.
pub type DescribeAvailabilityZonesInput = Params;

pub async fn describe_availability_zones(ctx: &Ctx<'_>, p: DescribeAvailabilityZonesInput) -> Result<Xml> {
    let p = &p;
    let region = regions::find(ctx.scope.region).expect("the caller's region is known");
    let names = p.list("ZoneName")?;
    let ids = p.list("ZoneId")?;
    let filters = parse_filters(p, "Filter")?;
    let all = p.flag("AllAvailabilityZones")?;
    let mut every_zone = regions::availability_zones(region);
    every_zone.extend(regions::extra_zones(region));
    for wanted in names.iter().chain(&ids) {
        if !every_zone.iter().any(|z| &z.name == wanted || &z.id == wanted) {
            return Err(ec2_err!(InvalidParameterValue, "Invalid availability zone: [{wanted}]"));
        }
    }
    let zones: Vec<Zone> = every_zone
        .into_iter()
        .filter(|z| {
            let named = names.contains(&z.name) || ids.contains(&z.id);
            let listed = all || z.opt_in_status != "not-opted-in";
            if names.is_empty() && ids.is_empty() {
                listed
            } else {
                named
            }
        })
        .collect();
    let zones = filter_in_memory(zones, &filters, ZONE_FILTERS, zone_field)?;
    ctx.check_dry_run()?;
    let mut x = Xml::new();
    write_zones(&mut x, &zones);
    Ok(x)
}

fn zone_field(z: &Zone, name: &str) -> Vec<String> {
    let value = match name {
        "group-name" => z.group_name.clone(),
        "network-border-group" => z.network_border_group.clone(),
        "opt-in-status" => z.opt_in_status.to_string(),
        "parent-zone-id" => z.parent_zone_id.clone().unwrap_or_default(),
        "parent-zone-name" => z.parent_zone_name.clone().unwrap_or_default(),
        "region-name" => z.region.to_string(),
        "state" => "available".to_string(),
        "zone-id" => z.id.clone(),
        "zone-name" => z.name.clone(),
        "zone-type" => z.zone_type.to_string(),
        _ => return Vec::new(),
    };
    vec![value]
}

pub fn write_zones(x: &mut Xml, zones: &[Zone]) {
    x.list("availabilityZoneInfo", zones, |x, z| {
        x.text("optInStatus", z.opt_in_status)
            .text("zoneName", &z.name)
            .text("zoneId", &z.id)
            .text("groupName", &z.group_name)
            .text("networkBorderGroup", &z.network_border_group)
            .text("zoneType", z.zone_type)
            .opt_text("parentZoneName", z.parent_zone_name.as_deref())
            .opt_text("parentZoneId", z.parent_zone_id.as_deref())
            .text("zoneState", "available")
            .text("regionName", z.region)
            .empty("messageSet");
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golden_regions() {
        let mut x = Xml::new();
        let status = |r: &Region| if r.opt_in { "opted-in" } else { "opt-in-not-required" };
        write_regions(&mut x, &[regions::find("us-east-1").unwrap(), regions::find("af-south-1").unwrap()], status);
        assert_eq!(
            x.as_str(),
            "<regionInfo><item><regionName>us-east-1</regionName><regionEndpoint>ec2.us-east-1.amazonaws.com</regionEndpoint><optInStatus>opt-in-not-required</optInStatus></item>\
             <item><regionName>af-south-1</regionName><regionEndpoint>ec2.af-south-1.amazonaws.com</regionEndpoint><optInStatus>opted-in</optInStatus></item></regionInfo>"
        );
    }

    #[test]
    fn golden_zones() {
        let region = regions::find("us-west-1").unwrap();
        let mut x = Xml::new();
        write_zones(&mut x, &regions::availability_zones(region)[..1]);
        assert_eq!(
            x.as_str(),
            "<availabilityZoneInfo><item><optInStatus>opt-in-not-required</optInStatus><zoneName>us-west-1a</zoneName><zoneId>usw1-az1</zoneId><groupName>us-west-1</groupName><networkBorderGroup>us-west-1</networkBorderGroup><zoneType>availability-zone</zoneType><zoneState>available</zoneState><regionName>us-west-1</regionName><messageSet/></item></availabilityZoneInfo>"
        );
    }
}
