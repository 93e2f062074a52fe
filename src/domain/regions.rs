//! The commercial AWS regions and their zones, as static data.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    pub name: &'static str,
    /// Regions launched after March 2019 must be enabled by the account ("opt-in").
    pub opt_in: bool,
    /// Letters of the availability zones (`us-east-1a`, ...).
    pub zone_letters: &'static str,
    pub geography: &'static str,
}

const fn region(name: &'static str, opt_in: bool, zone_letters: &'static str, geography: &'static str) -> Region {
    Region { name, opt_in, zone_letters, geography }
}

pub static REGIONS: &[Region] = &[
    region("af-south-1", true, "abc", "South Africa"),
    region("ap-east-1", true, "abc", "Hong Kong"),
    region("ap-east-2", true, "abc", "Taiwan"),
    region("ap-northeast-1", false, "acd", "Japan"),
    region("ap-northeast-2", false, "abcd", "South Korea"),
    region("ap-northeast-3", false, "abc", "Japan"),
    region("ap-south-1", false, "abc", "India"),
    region("ap-south-2", true, "abc", "India"),
    region("ap-southeast-1", false, "abc", "Singapore"),
    region("ap-southeast-2", false, "abc", "Australia"),
    region("ap-southeast-3", true, "abc", "Indonesia"),
    region("ap-southeast-4", true, "abc", "Australia"),
    region("ap-southeast-5", true, "abc", "Malaysia"),
    region("ap-southeast-6", true, "abc", "New Zealand"),
    region("ap-southeast-7", true, "abc", "Thailand"),
    region("ca-central-1", false, "abd", "Canada"),
    region("ca-west-1", true, "abc", "Canada"),
    region("eu-central-1", false, "abc", "Germany"),
    region("eu-central-2", true, "abc", "Switzerland"),
    region("eu-north-1", false, "abc", "Sweden"),
    region("eu-south-1", true, "abc", "Italy"),
    region("eu-south-2", true, "abc", "Spain"),
    region("eu-west-1", false, "abc", "Ireland"),
    region("eu-west-2", false, "abc", "United Kingdom"),
    region("eu-west-3", false, "abc", "France"),
    region("il-central-1", true, "abc", "Israel"),
    region("me-central-1", true, "abc", "United Arab Emirates"),
    region("me-south-1", true, "abc", "Bahrain"),
    region("mx-central-1", true, "abc", "Mexico"),
    region("sa-east-1", false, "abc", "Brazil"),
    region("us-east-1", false, "abcdef", "United States of America"),
    region("us-east-2", false, "abc", "United States of America"),
    region("us-west-1", false, "ac", "United States of America"),
    region("us-west-2", false, "abcd", "United States of America"),
];

pub fn find(name: &str) -> Option<&'static Region> {
    REGIONS.iter().find(|r| r.name == name)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    pub name: String,
    pub id: String,
    pub region: &'static str,
    pub zone_type: &'static str,
    pub group_name: String,
    pub network_border_group: String,
    pub opt_in_status: &'static str,
    pub parent_zone_name: Option<String>,
    pub parent_zone_id: Option<String>,
}

/// `us-east-1` → `use1`, `ap-southeast-2` → `apse2`: the prefix of zone ids.
pub fn short_name(region: &str) -> String {
    let mut parts = region.split('-');
    let geo = parts.next().unwrap_or_default();
    let direction = match parts.next().unwrap_or_default() {
        "east" => "e",
        "west" => "w",
        "north" => "n",
        "south" => "s",
        "central" => "c",
        "northeast" => "ne",
        "northwest" => "nw",
        "southeast" => "se",
        "southwest" => "sw",
        other => other,
    };
    format!("{geo}{direction}{}", parts.next().unwrap_or_default())
}

/// The standard availability zones of a region.
pub fn availability_zones(region: &Region) -> Vec<Zone> {
    let short = short_name(region.name);
    region
        .zone_letters
        .chars()
        .enumerate()
        .map(|(i, letter)| Zone {
            name: format!("{}{letter}", region.name),
            id: format!("{short}-az{}", i + 1),
            region: region.name,
            zone_type: "availability-zone",
            group_name: region.name.to_string(),
            network_border_group: region.name.to_string(),
            opt_in_status: "opt-in-not-required",
            parent_zone_name: None,
            parent_zone_id: None,
        })
        .collect()
}

/// Local and Wavelength zones (not opted in), listed only with `AllAvailabilityZones`.
pub fn extra_zones(region: &Region) -> Vec<Zone> {
    let extras: &[(&str, &str, &str)] = match region.name {
        "us-east-1" => &[
            ("us-east-1-bos-1a", "bos1-az1", "local-zone"),
            ("us-east-1-mia-2a", "mia2-az1", "local-zone"),
            ("us-east-1-wl1-bos-wlz-1", "use1-wl1-bos-wlz1", "wavelength-zone"),
        ],
        "us-west-2" => &[
            ("us-west-2-lax-1a", "lax1-az1", "local-zone"),
            ("us-west-2-wl1-sea-wlz-1", "usw2-wl1-sea-wlz1", "wavelength-zone"),
        ],
        "eu-central-1" => &[
            ("eu-central-1-ham-1a", "ham1-az1", "local-zone"),
            ("eu-central-1-wl1-ber-wlz-1", "euc1-wl1-ber-wlz1", "wavelength-zone"),
        ],
        "ap-northeast-1" => &[("ap-northeast-1-tpe-1a", "tpe1-az1", "local-zone")],
        _ => &[],
    };
    let parent = availability_zones(region).into_iter().next();
    extras
        .iter()
        .map(|(name, id, zone_type)| {
            // A local zone's group drops its last letter (`us-east-1-bos-1a` → `us-east-1-bos-1`).
            let group = if *zone_type == "local-zone" { name[..name.len() - 1].to_string() } else { name.to_string() };
            Zone {
                name: name.to_string(),
                id: id.to_string(),
                region: region.name,
                zone_type,
                group_name: group.clone(),
                network_border_group: group,
                opt_in_status: "not-opted-in",
                parent_zone_name: parent.as_ref().map(|p| p.name.clone()),
                parent_zone_id: parent.as_ref().map(|p| p.id.clone()),
            }
        })
        .collect()
}

pub fn zone_by_name(region: &Region, name: &str) -> Option<Zone> {
    availability_zones(region).into_iter().find(|z| z.name == name)
}

pub fn zone_by_id(region: &Region, id: &str) -> Option<Zone> {
    availability_zones(region).into_iter().find(|z| z.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_ids_follow_the_region_short_name() {
        assert_eq!(short_name("us-east-1"), "use1");
        assert_eq!(short_name("ap-southeast-2"), "apse2");
        let zones = availability_zones(find("us-west-1").unwrap());
        assert_eq!(zones.iter().map(|z| z.name.as_str()).collect::<Vec<_>>(), ["us-west-1a", "us-west-1c"]);
        assert_eq!(zones[1].id, "usw1-az2");
    }

    #[test]
    fn local_zone_groups_drop_the_letter() {
        let zones = extra_zones(find("us-east-1").unwrap());
        assert_eq!(zones[0].group_name, "us-east-1-bos-1");
        assert_eq!(zones[0].parent_zone_name.as_deref(), Some("us-east-1a"));
    }
}
