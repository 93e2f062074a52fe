//! The `Region` (DescribeRegions) and `AvailabilityZone` (DescribeAvailabilityZones)
//! shapes.

use crate::domain::regions::{Region, Zone};
use crate::wire::xml::Xml;

/// The EC2 endpoint of a region, as DescribeRegions reports and filters it.
pub fn region_endpoint(region: &Region) -> String {
    format!("ec2.{}.amazonaws.com", region.name)
}

/// A region with the account's `opt_in_status` for it.
pub fn write_region(x: &mut Xml, region: &Region, opt_in_status: &str) {
    x.text("regionName", region.name)
        .text("regionEndpoint", &region_endpoint(region))
        .text("optInStatus", opt_in_status);
}

pub fn write_zone(x: &mut Xml, z: &Zone) {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::regions;

    #[test]
    fn golden_regions() {
        let listed = [regions::find("us-east-1").unwrap(), regions::find("af-south-1").unwrap()];
        let mut x = Xml::new();
        x.list("regionInfo", &listed, |x, r| {
            write_region(x, r, if r.opt_in { "opted-in" } else { "opt-in-not-required" })
        });
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
        x.list("availabilityZoneInfo", &regions::availability_zones(region)[..1], write_zone);
        assert_eq!(
            x.as_str(),
            "<availabilityZoneInfo><item><optInStatus>opt-in-not-required</optInStatus><zoneName>us-west-1a</zoneName><zoneId>usw1-az1</zoneId><groupName>us-west-1</groupName><networkBorderGroup>us-west-1</networkBorderGroup><zoneType>availability-zone</zoneType><zoneState>available</zoneState><regionName>us-west-1</regionName><messageSet/></item></availabilityZoneInfo>"
        );
    }

    #[test]
    fn golden_local_zone_names_its_parent() {
        let region = regions::find("us-west-2").unwrap();
        let mut x = Xml::new();
        write_zone(&mut x, &regions::extra_zones(region)[0]);
        assert_eq!(
            x.as_str(),
            "<optInStatus>not-opted-in</optInStatus><zoneName>us-west-2-lax-1a</zoneName><zoneId>lax1-az1</zoneId>\
             <groupName>us-west-2-lax-1</groupName><networkBorderGroup>us-west-2-lax-1</networkBorderGroup><zoneType>local-zone</zoneType>\
             <parentZoneName>us-west-2a</parentZoneName><parentZoneId>usw2-az1</parentZoneId><zoneState>available</zoneState>\
             <regionName>us-west-2</regionName><messageSet/>"
        );
    }
}
