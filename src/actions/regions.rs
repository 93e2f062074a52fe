//! DescribeRegions and DescribeAvailabilityZones, over the static region table.

use super::{Ctx, FromParams};
use crate::domain::filter::{filter_in_memory, Filter};
use crate::domain::regions::{self, Region, Zone, REGIONS};
use crate::ec2_err;
use crate::error::Result;
use crate::wire::params::Params;
use crate::wire::query::{check_filter_names, parse_filters};
use crate::wire::shapes::region::{region_endpoint, write_region, write_zone};
use crate::wire::xml::Xml;

const REGION_FILTERS: &[&str] = &["endpoint", "opt-in-status", "region-name"];

pub struct DescribeRegionsInput {
    /// The regions asked for by name; none: every region the caller lists.
    pub regions: Vec<&'static Region>,
    pub filters: Vec<Filter>,
    /// `AllRegions`: the regions the account has not enabled too.
    pub all_regions: bool,
}

impl FromParams for DescribeRegionsInput {
    fn from_params(p: &Params) -> Result<Self> {
        let names = p.list("RegionName")?;
        let filters = parse_filters(p, "Filter")?;
        let all_regions = p.flag("AllRegions")?;
        let regions = names
            .iter()
            .map(|name| regions::find(name).ok_or_else(|| ec2_err!(InvalidParameterValue, "Invalid region: {name}")))
            .collect::<Result<_>>()?;
        check_filter_names(&filters, REGION_FILTERS)?;
        Ok(DescribeRegionsInput { regions, filters, all_regions })
    }
}

pub async fn describe_regions(ctx: &Ctx<'_>, input: DescribeRegionsInput) -> Result<Xml> {
    let listed = if input.regions.is_empty() {
        REGIONS.iter().filter(|r| input.all_regions || ctx.app.directory.region_enabled(ctx.scope.account, r)).collect()
    } else {
        input.regions
    };
    let regions = filter_in_memory(listed, &input.filters, REGION_FILTERS, |r, name| {
        vec![match name {
            "endpoint" => region_endpoint(r),
            "opt-in-status" => opt_in_status(ctx, r).to_string(),
            _ => r.name.to_string(),
        }]
    })?;
    ctx.check_dry_run()?;
    let mut x = Xml::new();
    x.list("regionInfo", &regions, |x, r| write_region(x, r, opt_in_status(ctx, r)));
    Ok(x)
}

fn opt_in_status(ctx: &Ctx<'_>, region: &Region) -> &'static str {
    match (region.opt_in, ctx.app.directory.region_enabled(ctx.scope.account, region)) {
        (false, _) => "opt-in-not-required",
        (true, true) => "opted-in",
        (true, false) => "not-opted-in",
    }
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

pub struct DescribeAvailabilityZonesInput {
    pub zone_names: Vec<String>,
    pub zone_ids: Vec<String>,
    pub filters: Vec<Filter>,
    /// `AllAvailabilityZones`: the local and Wavelength zones not opted in too.
    pub all_zones: bool,
}

impl FromParams for DescribeAvailabilityZonesInput {
    fn from_params(p: &Params) -> Result<Self> {
        let zone_names = p.list("ZoneName")?;
        let zone_ids = p.list("ZoneId")?;
        let filters = parse_filters(p, "Filter")?;
        let all_zones = p.flag("AllAvailabilityZones")?;
        check_filter_names(&filters, ZONE_FILTERS)?;
        Ok(DescribeAvailabilityZonesInput { zone_names, zone_ids, filters, all_zones })
    }
}

pub async fn describe_availability_zones(ctx: &Ctx<'_>, input: DescribeAvailabilityZonesInput) -> Result<Xml> {
    let region = regions::find(ctx.scope.region).expect("the caller's region is known");
    let zones = zones_asked(region, &input)?;
    let zones = filter_in_memory(zones, &input.filters, ZONE_FILTERS, zone_field)?;
    ctx.check_dry_run()?;
    let mut x = Xml::new();
    x.list("availabilityZoneInfo", &zones, write_zone);
    Ok(x)
}

/// The zones of `region` named by the request (each must exist), or else the zones it
/// lists: those opted in, or all with `AllAvailabilityZones`.
fn zones_asked(region: &Region, input: &DescribeAvailabilityZonesInput) -> Result<Vec<Zone>> {
    let mut every_zone = regions::availability_zones(region);
    every_zone.extend(regions::extra_zones(region));
    let named = input.zone_names.iter().chain(&input.zone_ids);
    if let Some(unknown) =
        named.clone().find(|wanted| !every_zone.iter().any(|z| &z.name == *wanted || &z.id == *wanted))
    {
        return Err(ec2_err!(InvalidParameterValue, "Invalid availability zone: [{unknown}]"));
    }
    let any_named = named.count() > 0;
    Ok(every_zone
        .into_iter()
        .filter(|z| {
            if any_named {
                input.zone_names.contains(&z.name) || input.zone_ids.contains(&z.id)
            } else {
                input.all_zones || z.opt_in_status != "not-opted-in"
            }
        })
        .collect())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_names_are_checked_against_the_table() {
        let p = Params::from_pairs([("RegionName.1", "eu-west-1"), ("AllRegions", "true")]);
        let input = DescribeRegionsInput::from_params(&p).unwrap();
        assert_eq!(input.regions.iter().map(|r| r.name).collect::<Vec<_>>(), ["eu-west-1"]);
        assert!(input.all_regions);

        let p = Params::from_pairs([("RegionName.1", "mars-north-1")]);
        let err = DescribeRegionsInput::from_params(&p).err().unwrap();
        assert_eq!(
            (err.code.as_str(), err.message.as_str()),
            ("InvalidParameterValue", "Invalid region: mars-north-1")
        );
    }

    #[test]
    fn unknown_filter_names_are_refused_while_parsing() {
        let p = Params::from_pairs([("Filter.1.Name", "zone-colour"), ("Filter.1.Value.1", "red")]);
        let err = DescribeAvailabilityZonesInput::from_params(&p).err().unwrap();
        assert_eq!(err.message, "The filter 'zone-colour' is invalid");
        let p = Params::from_pairs([("Filter.1.Name", "zone-name"), ("Filter.1.Value.1", "us-east-1a")]);
        assert_eq!(DescribeAvailabilityZonesInput::from_params(&p).unwrap().filters.len(), 1);
        let p = Params::from_pairs([("Filter.1.Name", "zone-name")]);
        assert_eq!(DescribeRegionsInput::from_params(&p).err().unwrap().code, "InvalidParameterValue");
    }

    #[test]
    fn named_zones_must_exist_and_replace_the_listing() {
        let region = regions::find("us-east-1").unwrap();
        let p = Params::from_pairs([("ZoneName.1", "us-east-1b"), ("ZoneId.1", "bos1-az1")]);
        let zones = zones_asked(region, &DescribeAvailabilityZonesInput::from_params(&p).unwrap()).unwrap();
        assert_eq!(zones.iter().map(|z| z.name.as_str()).collect::<Vec<_>>(), ["us-east-1b", "us-east-1-bos-1a"]);

        let p = Params::from_pairs([("ZoneName.1", "us-west-2a")]);
        let err = zones_asked(region, &DescribeAvailabilityZonesInput::from_params(&p).unwrap()).unwrap_err();
        assert_eq!(err.message, "Invalid availability zone: [us-west-2a]");

        let listed = zones_asked(region, &DescribeAvailabilityZonesInput::from_params(&Params::default()).unwrap());
        assert_eq!(listed.unwrap().len(), 6);
        let p = Params::from_pairs([("AllAvailabilityZones", "true")]);
        assert_eq!(zones_asked(region, &DescribeAvailabilityZonesInput::from_params(&p).unwrap()).unwrap().len(), 9);
    }
}
